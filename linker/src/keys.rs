//! A project's key list (issue 16, spec §2.4): every key the project has
//! used, by key id and fingerprint — never the key, which the linker never
//! holds — with its state (`current`, `retiring`, `retired`) and dates.
//!
//! A project starts with its config's `key_fingerprint` as key 1, current.
//! A rotation ([`Linker::add_key`], `pprl-linker admin add-key`, or an
//! `update-project` whose config names a new fingerprint) adds the next key
//! as current; the key it replaces becomes retiring, and an earlier
//! retiring key retired. Uploads must be made with the current key; re-key
//! maps must lead from the retiring key to the current one; runs wait while
//! any dataset's current version is on another key than the current one.
//! [`Linker::retire_key`] retires the retiring key once no dataset needs it.

use pprl_specs::key::{Fingerprint, KeyId};

use crate::auth::Principal;
use crate::project::ProjectConfig;
use crate::service::{Actor, Linker, OpError};
use crate::store::{KeyRecord, KeyState, now};

/// Why a key operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "`{0}` is not a key fingerprint (16 hexadecimal digits; print it with `pprl-client fingerprint --key-file KEY`)"
    )]
    Fingerprint(String),
    #[error(
        "fingerprint {fingerprint} is already key {key_id} of project `{project}` ({state}); a key is added once, and a rotation adds a new key"
    )]
    Known {
        project: String,
        fingerprint: String,
        key_id: u32,
        state: KeyState,
    },
    #[error(
        "the project config names key fingerprint {config}, which is key {key_id} ({state}) of project `{project}`; its current key is {current_id} ({current}): set `key_fingerprint = \"{current}\"`"
    )]
    StaleConfig {
        project: String,
        config: String,
        key_id: u32,
        state: KeyState,
        current_id: u32,
        current: String,
    },
    #[error(
        "the new key of project `{project}` is key {next}, not {given}; make its key file with `pprl-client keygen --key-id {next}`"
    )]
    NotNextId {
        project: String,
        given: u32,
        next: u32,
    },
    #[error(
        "project `{project}` has no retiring key {key_id}; `pprl-linker admin list-keys --project {project}` lists its keys"
    )]
    NotRetiring { project: String, key_id: u32 },
    #[error(
        "key {key_id} of project `{project}` is still the key of {}: retire it once they have uploaded with the current key",
        datasets.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
    )]
    StillInUse {
        project: String,
        key_id: u32,
        datasets: Vec<String>,
    },
}

impl Linker {
    /// A project's key list, oldest first. A project made before key lists
    /// gets its config's key as key 1, current, dated at its creation.
    pub fn project_keys(&self, project: &str) -> Result<Vec<KeyRecord>, OpError> {
        let keys = self.meta.keys(project)?;
        if !keys.is_empty() {
            return Ok(keys);
        }
        let record = self.meta.project(project)?.ok_or(OpError::NotFound)?;
        let config = ProjectConfig::parse(&record.config_toml)?;
        self.meta
            .seed_key(project, &first_key(&config, &record.created_at))?;
        Ok(self.meta.keys(project)?)
    }

    /// The project's current key.
    pub fn current_key(&self, project: &str) -> Result<KeyRecord, OpError> {
        self.project_keys(project)?
            .into_iter()
            .find(|k| k.state == KeyState::Current)
            .ok_or_else(|| {
                OpError::Store(crate::store::StoreError::Corrupt {
                    what: "key list",
                    value: format!("project `{project}` has no current key"),
                })
            })
    }

    /// The key list for an administrator (the API's `GET …/keys`).
    pub fn list_keys(
        &self,
        principal: &Principal,
        project: &str,
    ) -> Result<Vec<KeyRecord>, OpError> {
        if !principal.may_see(project) {
            return Err(OpError::NotFound);
        }
        if principal.role != crate::auth::Role::Administrator {
            return Err(OpError::RoleCannot {
                role: principal.role,
                action: crate::service::Action::ListKeys,
            });
        }
        self.project_keys(project)
    }

    /// Rotates a project to the key with `fingerprint` (the next key id;
    /// `key_id`, where given, must be it): the new key is current, the old
    /// one retiring. Audited.
    pub fn add_key(
        &self,
        project: &str,
        fingerprint: &str,
        key_id: Option<KeyId>,
        actor: &Actor<'_>,
    ) -> Result<KeyRecord, OpError> {
        let result = self.add_key_unaudited(project, fingerprint, key_id, None);
        self.audit(
            actor,
            "add_key",
            Some(project),
            None,
            if result.is_ok() { "ok" } else { "refused" },
            Some(match &result {
                Ok(k) => format!("key {} ({}) is current", k.key_id, k.fingerprint),
                Err(e) => e.to_string(),
            }),
        );
        result
    }

    /// [`add_key`](Self::add_key) without the audit; `config` is the
    /// config to store (default: the stored one), its fingerprint set to
    /// the new key's.
    pub(crate) fn add_key_unaudited(
        &self,
        project: &str,
        fingerprint: &str,
        key_id: Option<KeyId>,
        config: Option<ProjectConfig>,
    ) -> Result<KeyRecord, OpError> {
        let fingerprint = Fingerprint::parse(fingerprint)
            .map_err(|_| KeyError::Fingerprint(fingerprint.to_owned()))?
            .to_string();
        let keys = self.project_keys(project)?;
        if let Some(known) = keys.iter().find(|k| k.fingerprint == fingerprint) {
            return Err(KeyError::Known {
                project: project.to_owned(),
                fingerprint,
                key_id: known.key_id,
                state: known.state,
            }
            .into());
        }
        let next = keys.iter().map(|k| k.key_id).max().unwrap_or(0) + 1;
        if let Some(given) = key_id
            && given.get() != next
        {
            return Err(KeyError::NotNextId {
                project: project.to_owned(),
                given: given.get(),
                next,
            }
            .into());
        }
        let mut config = match config {
            Some(config) => config,
            None => self.project_config(project)?,
        };
        config.key_fingerprint = fingerprint.clone();
        let at = now();
        let key = KeyRecord {
            key_id: next,
            fingerprint,
            state: KeyState::Current,
            added_at: at.clone(),
            retired_at: None,
        };
        self.meta.add_key(project, &key, &config.to_toml(), &at)?;
        tracing::info!(project, key_id = next, "key rotation: a new current key");
        Ok(key)
    }

    /// Retires the project's retiring key `key_id`, refused while some
    /// dataset's current version is still on it. Audited.
    pub fn retire_key(
        &self,
        project: &str,
        key_id: u32,
        actor: &Actor<'_>,
    ) -> Result<KeyRecord, OpError> {
        let result = self.retire_key_unaudited(project, key_id);
        self.audit(
            actor,
            "retire_key",
            Some(project),
            None,
            if result.is_ok() { "ok" } else { "refused" },
            Some(match &result {
                Ok(k) => format!("key {} ({}) retired", k.key_id, k.fingerprint),
                Err(e) => e.to_string(),
            }),
        );
        result
    }

    fn retire_key_unaudited(&self, project: &str, key_id: u32) -> Result<KeyRecord, OpError> {
        let keys = self.project_keys(project)?;
        let not_retiring = || KeyError::NotRetiring {
            project: project.to_owned(),
            key_id,
        };
        let key = keys
            .iter()
            .find(|k| k.key_id == key_id && k.state == KeyState::Retiring)
            .ok_or_else(not_retiring)?;
        let config = self.project_config(project)?;
        let mut datasets = Vec::new();
        for d in &config.datasets {
            if let Some(v) = self.meta.versions(project, Some(&d.name))?.pop()
                && v.key_fingerprint.eq_ignore_ascii_case(&key.fingerprint)
            {
                datasets.push(d.name.clone());
            }
        }
        if !datasets.is_empty() {
            return Err(KeyError::StillInUse {
                project: project.to_owned(),
                key_id,
                datasets,
            }
            .into());
        }
        if !self.meta.retire_key(project, key_id, &now())? {
            return Err(not_retiring().into());
        }
        self.project_keys(project)?
            .into_iter()
            .find(|k| k.key_id == key_id)
            .ok_or_else(|| not_retiring().into())
    }

    /// For `update-project`: what a config's `key_fingerprint` means
    /// against the key list. The current key's: nothing to do (`None`). A
    /// fingerprint the list has never held: a rotation to it (`Some`). A
    /// retiring or retired key's: refused, naming the current key.
    pub(crate) fn rotation_in(&self, config: &ProjectConfig) -> Result<Option<String>, OpError> {
        let keys = self.project_keys(&config.name)?;
        let wanted = config.fingerprint();
        let current = keys.iter().find(|k| k.state == KeyState::Current).cloned();
        match keys
            .iter()
            .find(|k| k.fingerprint.eq_ignore_ascii_case(&wanted))
        {
            Some(k) if k.state == KeyState::Current => Ok(None),
            Some(k) => {
                let current = current.expect("a key list with keys has a current key");
                Err(KeyError::StaleConfig {
                    project: config.name.clone(),
                    config: wanted,
                    key_id: k.key_id,
                    state: k.state,
                    current_id: current.key_id,
                    current: current.fingerprint,
                }
                .into())
            }
            None => Ok(Some(wanted)),
        }
    }

    /// The key list's entry for `fingerprint`, if it has one.
    pub fn key_by_fingerprint(
        &self,
        project: &str,
        fingerprint: &str,
    ) -> Result<Option<KeyRecord>, OpError> {
        Ok(self
            .project_keys(project)?
            .into_iter()
            .find(|k| k.fingerprint.eq_ignore_ascii_case(fingerprint)))
    }
}

/// A project's first key, as its config names it.
pub(crate) fn first_key(config: &ProjectConfig, created_at: &str) -> KeyRecord {
    KeyRecord {
        key_id: KeyId::FIRST.get(),
        fingerprint: config.fingerprint(),
        state: KeyState::Current,
        added_at: created_at.to_owned(),
        retired_at: None,
    }
}
