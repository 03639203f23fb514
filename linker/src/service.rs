//! The linker's operations, shared by the HTTP API and the administrator
//! command line: projects, tokens, uploads, recovery after a crash.

use std::sync::Arc;

use crate::auth::{IssuedToken, PresentedToken, Principal, Role, TokenId};
use crate::ids::{DatasetVersion, RunId};
use crate::project::{ProjectConfig, ProjectConfigError};
use crate::secrets::LinkerSecrets;
use crate::settings::Settings;
use crate::store::blobs::FsBlobStore;
use crate::store::publications::FsPublicationStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{
    AddVersion, AuditEvent, BlobStore, MetaStore, ProjectRecord, PublicationStore, StagedBlob,
    StoreError, TokenRecord, VersionRecord, now,
};
use crate::validate::{self, Refusal};
use crate::{rekey, sealed};
use pprl_specs::sealing::Envelope;

/// The linker's state: its stores and settings. Cheap to clone.
#[derive(Clone)]
pub struct Linker {
    pub meta: Arc<dyn MetaStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub publications: Arc<dyn PublicationStore>,
    /// The linker's identity and re-keying secrets (never logged).
    pub secrets: Arc<LinkerSecrets>,
    pub settings: Arc<Settings>,
}

impl std::fmt::Debug for Linker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("data_dir", &self.settings.data_dir)
            .finish_non_exhaustive()
    }
}

/// The linker's public key (spec §10.2): what partners seal to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LinkerKey {
    pub project: String,
    /// The age X25519 recipient, `age1…`.
    pub recipient: String,
    /// Its fingerprint, 16 hex digits, to pin in partner configs.
    pub fingerprint: String,
}

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    /// The administrator command line, run on the server.
    Cli,
    Caller(&'a Principal),
    /// A request whose caller could not be identified.
    Anonymous,
    /// The server itself: its scheduler, and the outcome of runs.
    System,
}

impl Actor<'_> {
    fn fields(&self) -> (Option<String>, Option<String>) {
        match self {
            Actor::Cli => (
                Some("cli".to_owned()),
                Some(Role::Administrator.as_str().to_owned()),
            ),
            Actor::Caller(p) => (
                Some(p.token_id.as_str().to_owned()),
                Some(p.role.as_str().to_owned()),
            ),
            Actor::Anonymous => (None, None),
            Actor::System => (Some("system".to_owned()), None),
        }
    }
}

/// Why an operation did not happen. The API answers each variant with its
/// status code (`api::error`); messages are what callers read.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// No credentials, or credentials that are not valid.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The project does not exist or the caller may not see it: the caller
    /// cannot tell which.
    #[error("no such project or dataset, or this token may not use it")]
    NotFound,
    /// A partner token uploading a dataset another partner supplies.
    #[error("dataset `{dataset}` is supplied by partner `{partner}`, not by this token's partner")]
    NotTheDatasetsPartner { dataset: String, partner: String },
    /// The caller's role may not do this at all.
    #[error("{}", action.refusal(*role))]
    RoleCannot { role: Role, action: Action },
    /// A token's role and scope do not fit together.
    #[error("{}", token_scope_rule(*role))]
    TokenScope { role: Role },
    /// A token for a project that does not exist.
    #[error("project `{project}` does not exist")]
    TokenForUnknownProject { project: String },
    /// A partner token for a partner the project does not name.
    #[error(
        "project `{project}` assigns no dataset to partner `{partner}`; its partners are: {}",
        partners.join(", ")
    )]
    PartnerNotInProject {
        project: String,
        partner: String,
        partners: Vec<String>,
    },
    #[error("no live token with id `{id}`")]
    NoLiveToken { id: TokenId },
    /// Updating a project that was never created.
    #[error("project `{project}` does not exist; create it first")]
    UpdateOfUnknownProject { project: String },
    /// The cohort definitions read attributes the datasets do not declare.
    #[error("project config: {0}")]
    CohortColumns(#[from] pprl_engine::cohort::config::ColumnError),
    #[error("project `{project}` already exists; change it with update-project")]
    ProjectExists { project: String },
    /// Another run of the project is in progress.
    #[error(
        "run {run} of project `{project}` is already running (started {started_at} by {started_by}); two runs of a project never overlap: wait for it to finish"
    )]
    RunInProgress {
        project: String,
        run: RunId,
        started_at: String,
        started_by: String,
    },
    #[error("project `{project}` has no uploaded dataset yet")]
    NoUploads { project: String },
    /// Some datasets' current versions were made with another key than the
    /// project's: a run never links across key spaces.
    #[error(
        "{} still on another key than the project's ({expected}): {}; a run never links records tokenised with different keys, so the partners of {} must tokenise with the current key file and upload again before the project can run",
        if stale.len() == 1 { "dataset is" } else { "datasets are" },
        stale.iter().map(|s| format!("`{}` (version {}, key {})", s.dataset, s.version, s.fingerprint)).collect::<Vec<_>>().join(", "),
        if stale.len() == 1 { "that dataset" } else { "those datasets" }
    )]
    MixedKeys {
        expected: String,
        stale: Vec<StaleDataset>,
    },
    /// Some datasets' stored files were not re-keyed under the project's
    /// current re-keying secret (stored before re-keying existed, or the
    /// secret was replaced): their tokens cannot match the others'.
    #[error(
        "{} not re-keyed under this project's linker secret ({expected}): {}; a run never links files re-keyed differently, so the partners must upload them again",
        if stale.len() == 1 { "dataset is" } else { "datasets are" },
        stale.iter().map(|s| format!("`{}` (version {})", s.dataset, s.version)).collect::<Vec<_>>().join(", ")
    )]
    NotRekeyed {
        expected: String,
        stale: Vec<StaleDataset>,
    },
    /// A dataset's current token file could not be read at run time.
    #[error("cannot load dataset `{dataset}`: {reason}")]
    DatasetUnreadable { dataset: String, reason: String },
    /// Linkage outputs could not be written.
    #[error("cannot write the outputs: {reason}")]
    OutputsUnwritable { reason: String },
    /// The cohort could not be built or written (the error names which).
    #[error(transparent)]
    Cohort(#[from] crate::cohort::PublishError),
    #[error("project `{project}` has no published outputs yet")]
    NothingPublished { project: String },
    /// `links.parquet` asked for in a project that does not write it.
    #[error("project `{project}` does not publish links.parquet: its `[outputs] links` is \"off\"")]
    LinksNotPublished { project: String },
    #[error(transparent)]
    Config(#[from] ProjectConfigError),
    #[error("{}", .0.message)]
    Refused(Refusal),
    /// A deletion list that was not accepted (issue 17).
    #[error(transparent)]
    Erasure(#[from] crate::erasure::ErasureError),
    #[error("project `{project}` has no live deletion list {id}")]
    NoLiveDeletionList { project: String, id: u64 },
    /// A key-list operation that was refused (issue 16).
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// A re-key map that was not accepted (issue 16).
    #[error(transparent)]
    RekeyMap(#[from] crate::rekey_map::RekeyMapError),
    #[error(transparent)]
    Store(StoreError),
}

/// What a role may be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Upload,
    ListVersions,
    Erase,
    LinkerKey,
    ListKeys,
    RekeyMap,
}

impl Action {
    /// Why `role` may not do this, and what may.
    fn refusal(self, role: Role) -> &'static str {
        match (self, role) {
            (Action::Upload, Role::Evaluator) => "evaluator tokens may only read published outputs",
            (Action::Upload, Role::LinkageAnalyst) => {
                "linkage-analyst tokens may only read the linkage-quality outputs"
            }
            (Action::Upload, _) => {
                "uploads come from the partner that supplies the dataset; use a partner token"
            }
            (Action::Erase, _) => {
                "deletion lists come from the partner that supplies the dataset, or an administrator"
            }
            (Action::ListVersions, _) => {
                "evaluator and linkage-analyst tokens read published outputs only, not partners' uploads"
            }
            (Action::LinkerKey, _) => {
                "the linker key is for partners, who seal their uploads to it, and administrators"
            }
            (Action::ListKeys, _) => "the project's key list is for administrators",
            (Action::RekeyMap, _) => {
                "re-key maps come from the partner that supplies the dataset; use a partner token"
            }
        }
    }
}

fn token_scope_rule(role: Role) -> &'static str {
    match role {
        Role::Administrator => "an administrator token belongs to no project or partner",
        Role::Evaluator => "an evaluator token needs --project and no --partner",
        Role::LinkageAnalyst => "a linkage-analyst token needs --project and no --partner",
        Role::Partner => "a partner token needs --project and --partner",
    }
}

impl From<StoreError> for OpError {
    /// A store's refusals become what they mean to a caller; other
    /// failures stay storage failures.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ProjectExists { project } => OpError::ProjectExists { project },
            StoreError::RunInProgress {
                project,
                run,
                started_at,
                started_by,
            } => OpError::RunInProgress {
                project,
                run,
                started_at,
                started_by,
            },
            other => OpError::Store(other),
        }
    }
}

/// A dataset whose current version was tokenised with another key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleDataset {
    pub dataset: String,
    pub version: u64,
    /// The fingerprint the version's manifest names.
    pub fingerprint: String,
}

/// What an accepted upload became.
#[derive(Debug)]
pub struct Accepted {
    pub version: VersionRecord,
    /// False when the same file was already a version: nothing changed.
    pub new: bool,
}

impl Linker {
    /// Opens the embedded stores under the data folder.
    pub fn open(settings: Settings) -> Result<Self, StoreError> {
        let meta = SqliteStore::open(&settings.data_dir)?;
        let blobs = FsBlobStore::open(&settings.data_dir)?;
        let secrets = LinkerSecrets::open(&settings.data_dir)?;
        Ok(Linker {
            meta: Arc::new(meta),
            blobs: Arc::new(blobs),
            publications: Arc::new(FsPublicationStore::open(&settings.data_dir)),
            secrets: Arc::new(secrets),
            settings: Arc::new(settings),
        })
    }

    /// Removes what a crash can leave behind: staged uploads, and blobs that
    /// no version refers to (written but never published). Returns both counts.
    pub fn recover(&self) -> Result<(usize, usize), StoreError> {
        let staged = self.blobs.clear_staging()?;
        let referenced: std::collections::HashSet<String> =
            self.meta.referenced_checksums()?.into_iter().collect();
        let mut orphans = 0;
        for checksum in self.blobs.list()? {
            if !referenced.contains(&checksum) {
                self.blobs.remove(&checksum)?;
                orphans += 1;
            }
        }
        Ok((staged, orphans))
    }

    /// Records an audit event; a failure to record is logged, never hidden.
    pub fn audit(
        &self,
        actor: &Actor<'_>,
        action: &str,
        project: Option<&str>,
        dataset: Option<&str>,
        outcome: &str,
        detail: Option<String>,
    ) {
        let (actor, role) = actor.fields();
        let event = AuditEvent {
            at: now(),
            actor,
            role,
            action: action.to_owned(),
            project: project.map(str::to_owned),
            dataset: dataset.map(str::to_owned),
            outcome: outcome.to_owned(),
            detail,
        };
        if let Err(e) = self.meta.audit(&event) {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }

    /// Creates a project from its config text.
    pub fn create_project(&self, text: &str, actor: &Actor<'_>) -> Result<ProjectConfig, OpError> {
        let config = ProjectConfig::parse(text)?;
        self.check_cohort_columns(&config)?;
        let at = now();
        let record = ProjectRecord {
            name: config.name.clone(),
            key_fingerprint: config.fingerprint(),
            config_toml: config.to_toml(),
            created_at: at.clone(),
            updated_at: at,
        };
        let result = self.meta.create_project(&record).and_then(|()| {
            self.meta.seed_key(
                &config.name,
                &crate::keys::first_key(&config, &record.created_at),
            )
        });
        let outcome = if result.is_ok() { "ok" } else { "refused" };
        self.audit(
            actor,
            "create_project",
            Some(&config.name),
            None,
            outcome,
            None,
        );
        result?;
        Ok(config)
    }

    /// Replaces a project's config (same name).
    ///
    /// A config naming a fingerprint the project's key list has never held
    /// rotates the project to it (as `admin add-key`); one naming a retiring
    /// or retired key is refused.
    pub fn update_project(&self, text: &str, actor: &Actor<'_>) -> Result<ProjectConfig, OpError> {
        let config = ProjectConfig::parse(text)?;
        self.check_cohort_columns(&config)?;
        if self.meta.project(&config.name)?.is_some()
            && let Some(fingerprint) = self.rotation_in(&config)?
        {
            let key =
                self.add_key_unaudited(&config.name, &fingerprint, None, Some(config.clone()))?;
            self.audit(
                actor,
                "add_key",
                Some(&config.name),
                None,
                "ok",
                Some(format!(
                    "key {} ({}) is current (from update_project)",
                    key.key_id, key.fingerprint
                )),
            );
        }
        let record = ProjectRecord {
            name: config.name.clone(),
            key_fingerprint: config.fingerprint(),
            config_toml: config.to_toml(),
            created_at: String::new(),
            updated_at: now(),
        };
        let changed = self.meta.replace_project(&record)?;
        self.audit(
            actor,
            "update_project",
            Some(&config.name),
            None,
            if changed { "ok" } else { "refused" },
            None,
        );
        if !changed {
            return Err(OpError::UpdateOfUnknownProject {
                project: config.name,
            });
        }
        Ok(config)
    }

    /// Checks the cohort definitions against the attributes declared in the
    /// manifests of the datasets' current versions (datasets with no upload
    /// yet are checked at run time).
    pub fn check_cohort_columns(&self, config: &ProjectConfig) -> Result<(), OpError> {
        let Some(settings) = config.cohort_settings() else {
            return Ok(());
        };
        let mut schemas = std::collections::HashMap::new();
        for d in &config.datasets {
            let Some(version) = self.meta.versions(&config.name, Some(&d.name))?.pop() else {
                continue;
            };
            if let Ok(manifest) = pprl_specs::tokenfile::Manifest::from_json(&version.manifest_json)
            {
                let columns: Vec<(String, arrow_schema::DataType)> = manifest
                    .attributes
                    .iter()
                    .map(|a| (a.name.clone(), a.kind.data_type()))
                    .collect();
                schemas.insert(d.name.clone(), columns);
            }
        }
        settings
            .check_columns(|dataset| schemas.get(dataset).cloned())
            .map_err(OpError::CohortColumns)
    }

    /// The config of a project the caller may see.
    pub fn project_config(&self, name: &str) -> Result<ProjectConfig, OpError> {
        let record = self.meta.project(name)?.ok_or(OpError::NotFound)?;
        Ok(ProjectConfig::parse(&record.config_toml)?)
    }

    /// Issues a token; the returned secret is shown once and never stored.
    pub fn issue_token(
        &self,
        role: Role,
        project: Option<&str>,
        partner: Option<&str>,
        label: Option<&str>,
        actor: &Actor<'_>,
    ) -> Result<IssuedToken, OpError> {
        let fits = match role {
            Role::Administrator => project.is_none() && partner.is_none(),
            Role::Evaluator | Role::LinkageAnalyst => project.is_some() && partner.is_none(),
            Role::Partner => project.is_some() && partner.is_some(),
        };
        if !fits {
            return Err(OpError::TokenScope { role });
        }
        if let Some(project) = project {
            let config = self.project_config(project).map_err(|e| match e {
                OpError::NotFound => OpError::TokenForUnknownProject {
                    project: project.to_owned(),
                },
                other => other,
            })?;
            if let Some(partner) = partner
                && !config.datasets.iter().any(|d| d.partner == partner)
            {
                return Err(OpError::PartnerNotInProject {
                    project: project.to_owned(),
                    partner: partner.to_owned(),
                    partners: config.datasets.iter().map(|d| d.partner.clone()).collect(),
                });
            }
        }
        let issued = IssuedToken::generate();
        self.meta.insert_token(&TokenRecord {
            id: issued.id.clone(),
            secret_hash: issued.secret_hash().to_vec(),
            role,
            project: project.map(str::to_owned),
            partner: partner.map(str::to_owned),
            label: label.map(str::to_owned),
            created_at: now(),
            revoked_at: None,
        })?;
        self.audit(
            actor,
            "issue_token",
            project,
            None,
            "ok",
            Some(format!("token {} role {}", issued.id, role.as_str())),
        );
        Ok(issued)
    }

    /// Revokes a token by id.
    pub fn revoke_token(&self, id: &TokenId, actor: &Actor<'_>) -> Result<(), OpError> {
        let revoked = self.meta.revoke_token(id, &now())?;
        self.audit(
            actor,
            "revoke_token",
            None,
            None,
            if revoked { "ok" } else { "refused" },
            Some(format!("token {id}")),
        );
        if revoked {
            Ok(())
        } else {
            Err(OpError::NoLiveToken { id: id.clone() })
        }
    }

    /// Verifies a bearer token.
    pub fn authenticate(&self, presented: &str) -> Result<Principal, OpError> {
        let token = PresentedToken::parse(presented).ok_or(OpError::Unauthenticated)?;
        let record = self.meta.token(&token.id)?;
        let Some(record) = record else {
            // Spend the same work as a real comparison.
            let _ = token.matches(&[0u8; 32]);
            return Err(OpError::Unauthenticated);
        };
        if !token.matches(&record.secret_hash) || record.revoked_at.is_some() {
            return Err(OpError::Unauthenticated);
        }
        Ok(Principal {
            token_id: record.id,
            role: record.role,
            project: record.project,
            partner: record.partner,
        })
    }

    /// Checks that `principal` may upload `dataset` of `project`; returns the project config.
    pub fn authorise_upload(
        &self,
        principal: &Principal,
        project: &str,
        dataset: &str,
    ) -> Result<ProjectConfig, OpError> {
        self.authorise_dataset(principal, project, dataset, Action::Upload, false)
    }

    /// Checks that `principal` is the partner that supplies `dataset` of
    /// `project` (or, where `administrator_may`, an administrator) and so
    /// may do `action` to it; returns the project config.
    pub(crate) fn authorise_dataset(
        &self,
        principal: &Principal,
        project: &str,
        dataset: &str,
        action: Action,
        administrator_may: bool,
    ) -> Result<ProjectConfig, OpError> {
        if !principal.may_see(project) {
            return Err(OpError::NotFound);
        }
        let config = self.project_config(project)?;
        let Some(ds) = config.dataset(dataset) else {
            return Err(OpError::NotFound);
        };
        match principal.role {
            Role::Administrator if administrator_may => Ok(config),
            Role::Partner if principal.partner.as_deref() == Some(ds.partner.as_str()) => {
                Ok(config)
            }
            Role::Partner => Err(OpError::NotTheDatasetsPartner {
                dataset: dataset.to_owned(),
                partner: ds.partner.clone(),
            }),
            role => Err(OpError::RoleCannot { role, action }),
        }
    }

    /// Opens a staged upload (sealed to the linker, spec §10.3; unsealed only
    /// where the project allows it), validates the token file inside, and
    /// publishes it re-keyed (§10.4) as a new version (or finds it already
    /// published). The staged upload is deleted either way; the re-keyed
    /// file is written to a second staged blob, committed (synced, moved
    /// into place, named by its own checksum) before the version is
    /// recorded. The plaintext of a sealed upload is never written.
    pub fn accept_upload(
        &self,
        principal: &Principal,
        config: &ProjectConfig,
        dataset: &str,
        mut staged: Box<dyn StagedBlob>,
    ) -> Result<Accepted, OpError> {
        let contents = staged.contents()?;
        let mut head = [0u8; pprl_specs::sealing::SEALED_PREFIX.len()];
        let n = contents.read_at(0, &mut head).map_err(StoreError::Io)?;
        let secret = self
            .secrets
            .rekey_secret(&config.name)
            .map_err(StoreError::Secrets)?;
        let mut stored = self.blobs.stage()?;
        let (checked, rewritten) = match Envelope::of(&head[..n]) {
            Envelope::Sealed => {
                let plain =
                    sealed::open(contents, self.secrets.identity()).map_err(OpError::Refused)?;
                let checked =
                    validate::check_token_reader(plain.clone(), &config.fingerprint(), dataset)
                        .map_err(OpError::Refused)?;
                (checked, rekey::rewrite(plain, &secret, &mut stored))
            }
            Envelope::Unsealed if !config.allow_unsealed_uploads => {
                return Err(OpError::Refused(validate::unsealed_refusal(
                    self.secrets.identity(),
                )));
            }
            _ => {
                let checked =
                    validate::check_token_file(contents.clone(), &config.fingerprint(), dataset)
                        .map_err(OpError::Refused)?;
                (checked, rekey::rewrite(contents, &secret, &mut stored))
            }
        };
        // A file naming a key id (spec §2.4) must name the current key's.
        if let Some(id) = checked.manifest.key_id {
            let current = self.current_key(&config.name)?;
            if id != current.key_id {
                return Err(OpError::Refused(validate::Refusal::new(
                    "key_id",
                    format!(
                        "the token file names key id {id}, but key {} is key {} of this project",
                        current.fingerprint, current.key_id
                    ),
                    "the key file names the wrong key id: ask your project administrator for the current key file",
                )));
            }
        }
        let rewritten = rewritten.map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        // The upload as received (sealed, or raw where the project allows
        // it) is deleted now; only the re-keyed file is kept.
        drop(staged);
        stored.commit(&rewritten.checksum)?;
        let (checksum, bytes) = (rewritten.checksum.as_str(), rewritten.bytes);
        let record = VersionRecord {
            project: config.name.clone(),
            dataset: dataset.to_owned(),
            version: DatasetVersion(0),
            checksum: checksum.to_owned(),
            bytes,
            rows: checked.rows,
            key_fingerprint: checked.manifest.key_fingerprint.clone(),
            manifest_json: checked.manifest.to_json(),
            uploaded_at: now(),
            uploaded_by: principal.token_id.clone(),
        };
        let accepted = match self.meta.add_version(&record)? {
            AddVersion::Added(version) => Accepted { version, new: true },
            AddVersion::Existing(version) => Accepted {
                version,
                new: false,
            },
        };
        if accepted.new && self.settings.keep_versions > 0 {
            self.prune(&config.name, dataset)?;
        }
        Ok(accepted)
    }

    /// Applies the retention setting to one dataset.
    fn prune(&self, project: &str, dataset: &str) -> Result<(), StoreError> {
        let dropped = self
            .meta
            .prune_versions(project, dataset, self.settings.keep_versions)?;
        if dropped.is_empty() {
            return Ok(());
        }
        let still: std::collections::HashSet<String> =
            self.meta.referenced_checksums()?.into_iter().collect();
        for v in &dropped {
            if !still.contains(&v.checksum) {
                self.blobs.remove(&v.checksum)?;
            }
        }
        tracing::info!(
            project,
            dataset,
            dropped = dropped.len(),
            "retention removed old versions"
        );
        Ok(())
    }

    /// The linker's public key and its fingerprint (spec §10.2), for the
    /// partners of `project` and administrators.
    pub fn linker_key(&self, principal: &Principal, project: &str) -> Result<LinkerKey, OpError> {
        if !principal.may_see(project) {
            return Err(OpError::NotFound);
        }
        if principal.role == Role::Evaluator {
            return Err(OpError::RoleCannot {
                role: principal.role,
                action: Action::LinkerKey,
            });
        }
        self.project_config(project)?;
        Ok(self.public_linker_key(project))
    }

    /// The public linker key as the admin CLI and the API show it.
    pub fn public_linker_key(&self, project: &str) -> LinkerKey {
        let identity = self.secrets.identity();
        LinkerKey {
            project: project.to_owned(),
            recipient: identity.recipient().to_owned(),
            fingerprint: identity.fingerprint().to_string(),
        }
    }

    /// Versions the caller may list: administrators all, partners their own
    /// datasets, evaluators none (they read published outputs only).
    pub fn list_versions(
        &self,
        principal: &Principal,
        project: &str,
    ) -> Result<Vec<VersionRecord>, OpError> {
        if !principal.may_see(project) {
            return Err(OpError::NotFound);
        }
        if matches!(principal.role, Role::Evaluator | Role::LinkageAnalyst) {
            return Err(OpError::RoleCannot {
                role: principal.role,
                action: Action::ListVersions,
            });
        }
        let config = self.project_config(project)?;
        let versions = self.meta.versions(project, None)?;
        Ok(match principal.role {
            Role::Administrator | Role::Evaluator | Role::LinkageAnalyst => versions,
            Role::Partner => versions
                .into_iter()
                .filter(|v| {
                    config
                        .dataset(&v.dataset)
                        .is_some_and(|d| Some(d.partner.as_str()) == principal.partner.as_deref())
                })
                .collect(),
        })
    }
}
