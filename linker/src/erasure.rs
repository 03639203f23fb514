//! Opt-out and erasure (issue 17): a partner (or an administrator) uploads
//! a deletion list — the record references of records to erase from one
//! dataset, made by `pprl-client erase` from the partner's own record ids
//! with the project key — and every later run leaves those records out of
//! linkage and out of every output.
//!
//! Deletion lists are cumulative per dataset and apply until an
//! administrator revokes one (`pprl-linker admin revoke-deletion-list`): a
//! later upload of the dataset that still holds an erased record does not
//! bring it back. The references are kept in the database (as the person
//! ids' are), never in the audit log, the logs or an error: the audit
//! records who, when, how many references and how many records of the
//! dataset's current version they matched.

use std::collections::HashSet;

use pprl_specs::deletion::{DeletionList, DeletionListError};
use pprl_specs::matchkey::Token;
use pprl_tokenfile::TokenFile;
use serde::Serialize;

use crate::auth::Principal;
use crate::project::ProjectConfig;
use crate::service::{Action, Actor, Linker, OpError};
use crate::store::{DeletionListRecord, NewDeletionList, now};

/// Largest deletion list accepted, in bytes (some two million references).
pub const MAX_DELETION_LIST_BYTES: usize = 64 * 1024 * 1024;

/// Why a deletion list was refused. Messages name the line or the
/// setting, never a reference or a record id.
#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error(transparent)]
    Malformed(#[from] DeletionListError),
    #[error(
        "the deletion list is for dataset `{list}`, but it was sent for dataset `{url}`; make it with `pprl-client erase --dataset {url}`"
    )]
    WrongDataset { list: String, url: String },
    #[error(
        "the deletion list was made with key fingerprint {list}, this project expects {project}: make it again with the project's current key file"
    )]
    WrongKey { list: String, project: String },
}

/// What an accepted deletion list did, as the API answers it.
#[derive(Debug, Serialize)]
pub struct ErasureReceipt {
    pub project: String,
    pub dataset: String,
    /// The deletion list's number, to revoke it by.
    pub list: u64,
    /// References in the list (each once).
    pub refs: u64,
    /// Of those, how many no earlier live list of the dataset held.
    pub new_refs: u64,
    /// Records of the dataset's current version that the list erases
    /// (`None` when nothing has been uploaded yet).
    pub matched: Option<u64>,
    /// The current version they were matched against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl Linker {
    /// Checks that `principal` may erase records of `dataset`: the partner
    /// that supplies it, or an administrator.
    pub fn authorise_erasure(
        &self,
        principal: &Principal,
        project: &str,
        dataset: &str,
    ) -> Result<ProjectConfig, OpError> {
        self.authorise_dataset(principal, project, dataset, Action::Erase, true)
    }

    /// Stores a deletion list for `dataset` and audits it (accepted or
    /// refused). Blocking: it reads the dataset's current version to count
    /// the records the list matches.
    pub fn erase(
        &self,
        actor: &Actor<'_>,
        config: &ProjectConfig,
        dataset: &str,
        body: &[u8],
    ) -> Result<ErasureReceipt, OpError> {
        let project = config.name.as_str();
        let result = self.store_deletion_list(actor, config, dataset, body);
        let (outcome, detail) = match &result {
            Ok(r) => (
                "ok",
                format!(
                    "deletion list {}: {} record references ({} new), {}; left out of every run from now on",
                    r.list,
                    r.refs,
                    r.new_refs,
                    match (r.matched, r.version) {
                        (Some(m), Some(v)) => format!("{m} matched records of version {v}"),
                        _ => "no version uploaded yet to match".to_owned(),
                    }
                ),
            ),
            Err(e) => ("refused", e.to_string()),
        };
        self.audit(
            actor,
            "erase",
            Some(project),
            Some(dataset),
            outcome,
            Some(detail),
        );
        result
    }

    fn store_deletion_list(
        &self,
        actor: &Actor<'_>,
        config: &ProjectConfig,
        dataset: &str,
        body: &[u8],
    ) -> Result<ErasureReceipt, OpError> {
        let list = DeletionList::parse(body).map_err(|e| OpError::Erasure(e.into()))?;
        if list.dataset != dataset {
            return Err(OpError::Erasure(ErasureError::WrongDataset {
                list: list.dataset,
                url: dataset.to_owned(),
            }));
        }
        let fingerprint = list.key_fingerprint.to_string();
        if fingerprint != config.fingerprint() {
            return Err(OpError::Erasure(ErasureError::WrongKey {
                list: fingerprint,
                project: config.fingerprint(),
            }));
        }
        let (matched, version) = self.count_matches(&config.name, dataset, &list.refs)?;
        let uploaded_by = match actor {
            Actor::Caller(p) => p.token_id.as_str().to_owned(),
            Actor::Cli => "cli".to_owned(),
            Actor::Anonymous | Actor::System => "system".to_owned(),
        };
        let record = self.meta.add_deletion_list(&NewDeletionList {
            project: &config.name,
            dataset,
            uploaded_at: &now(),
            uploaded_by: &uploaded_by,
            refs: &list.refs,
        })?;
        tracing::info!(
            project = %config.name,
            dataset,
            list = record.id,
            refs = record.refs,
            "deletion list stored"
        );
        Ok(ErasureReceipt {
            project: config.name.clone(),
            dataset: dataset.to_owned(),
            list: record.id,
            refs: record.refs,
            new_refs: record.new_refs,
            matched,
            version,
        })
    }

    /// How many records of the dataset's current version hold one of `refs`.
    fn count_matches(
        &self,
        project: &str,
        dataset: &str,
        refs: &[Token],
    ) -> Result<(Option<u64>, Option<u64>), OpError> {
        let Some(version) = self.meta.versions(project, Some(dataset))?.pop() else {
            return Ok((None, None));
        };
        let unreadable = |reason: String| OpError::DatasetUnreadable {
            dataset: dataset.to_owned(),
            reason,
        };
        let wanted: HashSet<&Token> = refs.iter().collect();
        let blob = self
            .blobs
            .open(&version.checksum)
            .map_err(|e| unreadable(e.to_string()))?;
        let file = TokenFile::open(blob).map_err(|e| unreadable(e.to_string()))?;
        let mut matched = 0u64;
        for batch in file.batches().map_err(|e| unreadable(e.to_string()))? {
            let batch = batch.map_err(|e| unreadable(e.to_string()))?;
            for r in batch.record_ref.iter().flatten() {
                if <Token>::try_from(r).is_ok_and(|r| wanted.contains(&r)) {
                    matched += 1;
                }
            }
        }
        Ok((Some(matched), Some(version.version.0)))
    }

    /// The references erased from a dataset (its live deletion lists), and
    /// after a key rotation the new references that the dataset's re-key
    /// maps pair with erased ones (issue 16): an erased record stays erased
    /// when its partner re-uploads it under the new key.
    pub fn erased_refs(&self, project: &str, dataset: &str) -> Result<HashSet<Token>, OpError> {
        let mut erased: HashSet<Token> = self
            .meta
            .erased_refs(project, dataset)?
            .into_iter()
            .collect();
        if !erased.is_empty() {
            for pair in self.meta.rekey_pairs(project)? {
                if pair.dataset == dataset && erased.contains(&pair.old_ref) {
                    erased.insert(pair.new_ref);
                }
            }
        }
        Ok(erased)
    }

    /// A project's deletion lists (counts only), oldest first.
    pub fn deletion_lists(&self, project: &str) -> Result<Vec<DeletionListRecord>, OpError> {
        self.project_config(project)?;
        Ok(self.meta.deletion_lists(project)?)
    }

    /// Revokes deletion list `id` of `project`: its references are no
    /// longer erased by later runs (unless another live list holds them).
    pub fn revoke_deletion_list(
        &self,
        project: &str,
        id: u64,
        actor: &Actor<'_>,
    ) -> Result<(), OpError> {
        self.project_config(project)?;
        let revoked = self.meta.revoke_deletion_list(project, id, &now())?;
        self.audit(
            actor,
            "revoke_deletion_list",
            Some(project),
            None,
            if revoked { "ok" } else { "refused" },
            Some(format!("deletion list {id}")),
        );
        if revoked {
            Ok(())
        } else {
            Err(OpError::NoLiveDeletionList {
                project: project.to_owned(),
                id,
            })
        }
    }

    /// Whether a deletion list was stored or revoked at or after `since`
    /// (RFC 3339), so that a run since then would publish something else.
    pub fn erasures_since(&self, project: &str, since: &str) -> Result<bool, OpError> {
        Ok(self.meta.deletion_lists(project)?.iter().any(|l| {
            l.uploaded_at.as_str() >= since || l.revoked_at.as_deref().is_some_and(|at| at >= since)
        }))
    }
}
