//! Re-key maps (issue 16, spec §10.6): after a key rotation, a partner
//! sends, sealed to the linker, each record's reference under the retiring
//! key paired with its reference under the new key (`pprl-client rekey`).
//! Runs use the pairs to give a record re-uploaded under the new key the
//! person id its old reference had, so person ids survive the rotation
//! (`Runs::previous_ids`), and to keep erased records erased
//! (`Linker::erased_refs`).
//!
//! A map is accepted only from the dataset's partner, sealed to this
//! linker, for the dataset it is sent for, from the project's retiring key
//! to its current key. The pairs are kept in the database with the person
//! ids (never in the audit log, the logs or an error); the audit records
//! who, when, how many pairs, and how many name no record the linker holds.

use std::collections::HashSet;

use pprl_specs::rekeymap::{MapKey, RekeyMap, RekeyMapFormatError};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::auth::Principal;
use crate::project::ProjectConfig;
use crate::service::{Action, Actor, Linker, OpError};
use crate::store::{Blob, BlobSource, KeyRecord, KeyState, NewRekeyMap, RecordRef, now};
use crate::validate::Refusal;

/// Largest sealed re-key map accepted, in bytes (some three million pairs).
pub const MAX_REKEY_MAP_BYTES: usize = 256 * 1024 * 1024;

/// Why a re-key map was refused. Messages name the line, the dataset or the
/// key, never a reference.
#[derive(Debug, thiserror::Error)]
pub enum RekeyMapError {
    /// Not sealed to this linker, or damaged (spec §10.3).
    #[error("{}", .0.message)]
    Sealed(Refusal),
    #[error("the re-key map is not sealed; `pprl-client upload-rekey-map` seals it to the linker")]
    NotSealed,
    #[error(transparent)]
    Malformed(#[from] RekeyMapFormatError),
    #[error(
        "the re-key map is for dataset `{map}`, but it was sent for dataset `{url}`; make it with the partner config of `{url}`"
    )]
    WrongDataset { map: String, url: String },
    #[error(
        "the re-key map leads from key {fingerprint}, which is {}; a map must lead from the project's retiring key{}",
        match state { Some(s) => format!("{s} in project `{project}`"), None => format!("not a key of project `{project}`") },
        match retiring { Some(r) => format!(" ({r})"), None => " (the project has none: no rotation is under way)".to_owned() }
    )]
    OldKeyNotRetiring {
        project: String,
        fingerprint: String,
        state: Option<KeyState>,
        retiring: Option<String>,
    },
    #[error(
        "the re-key map leads to key {fingerprint}, but the project's current key is {current}; make the map with the current key file as --new-key"
    )]
    NewKeyNotCurrent {
        fingerprint: String,
        current: String,
    },
    #[error(
        "the re-key map names key {fingerprint} as key id {map}, but the project lists it as key {listed}"
    )]
    KeyId {
        fingerprint: String,
        map: u32,
        listed: u32,
    },
}

impl RekeyMapError {
    /// A stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            RekeyMapError::Sealed(r) => r.code,
            RekeyMapError::NotSealed => "rekey_map_unsealed",
            RekeyMapError::Malformed(_) => "invalid_rekey_map",
            RekeyMapError::WrongDataset { .. } => "rekey_map_dataset",
            RekeyMapError::OldKeyNotRetiring { .. } => "rekey_map_old_key",
            RekeyMapError::NewKeyNotCurrent { .. } => "rekey_map_new_key",
            RekeyMapError::KeyId { .. } => "rekey_map_key_id",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            RekeyMapError::Sealed(r) => r.hint.clone(),
            RekeyMapError::NotSealed | RekeyMapError::Malformed(_) => {
                "make the map with `pprl-client rekey` and send it with `pprl-client upload-rekey-map`".to_owned()
            }
            RekeyMapError::WrongDataset { .. } => "check --dataset".to_owned(),
            RekeyMapError::OldKeyNotRetiring { .. }
            | RekeyMapError::NewKeyNotCurrent { .. }
            | RekeyMapError::KeyId { .. } => {
                "ask your project administrator which key is current and which is retiring (`pprl-linker admin list-keys`)".to_owned()
            }
        }
    }
}

/// What an accepted re-key map did, as the API answers it.
#[derive(Debug, Serialize)]
pub struct RekeyMapReceipt {
    pub project: String,
    pub dataset: String,
    /// The map's number at the linker.
    pub map: u64,
    pub old_key_id: u32,
    pub new_key_id: u32,
    /// Pairs in the map (each old reference once).
    pub pairs: u64,
    /// Of those, how many old references name no record of the dataset the
    /// linker holds a person id for (records never linked, or not in the
    /// extract the linker last saw); they carry nothing over.
    pub unmatched: u64,
}

/// A sealed body in memory, read by [`crate::sealed::open`].
struct InMemory(axum::body::Bytes);

impl BlobSource for InMemory {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.0.len());
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }
}

impl Linker {
    /// Checks that `principal` may send a re-key map for `dataset`: the
    /// partner that supplies it.
    pub fn authorise_rekey_map(
        &self,
        principal: &Principal,
        project: &str,
        dataset: &str,
    ) -> Result<ProjectConfig, OpError> {
        self.authorise_dataset(principal, project, dataset, Action::RekeyMap, false)
    }

    /// Opens, checks and stores a sealed re-key map for `dataset`; audits it
    /// (accepted or refused).
    pub fn accept_rekey_map(
        &self,
        actor: &Actor<'_>,
        config: &ProjectConfig,
        dataset: &str,
        sealed: axum::body::Bytes,
    ) -> Result<RekeyMapReceipt, OpError> {
        let result = self.store_rekey_map(actor, config, dataset, sealed);
        let (outcome, detail) = match &result {
            Ok(r) => (
                "ok",
                format!(
                    "re-key map {} from key {} to key {}: {} pairs, {} naming no stored record",
                    r.map, r.old_key_id, r.new_key_id, r.pairs, r.unmatched
                ),
            ),
            Err(e) => ("refused", e.to_string()),
        };
        self.audit(
            actor,
            "rekey_map",
            Some(&config.name),
            Some(dataset),
            outcome,
            Some(detail),
        );
        result
    }

    fn store_rekey_map(
        &self,
        actor: &Actor<'_>,
        config: &ProjectConfig,
        dataset: &str,
        sealed: axum::body::Bytes,
    ) -> Result<RekeyMapReceipt, OpError> {
        let project = config.name.as_str();
        let head = &sealed[..sealed.len().min(pprl_specs::sealing::SEALED_PREFIX.len())];
        if pprl_specs::sealing::Envelope::of(head) != pprl_specs::sealing::Envelope::Sealed {
            return Err(RekeyMapError::NotSealed.into());
        }
        let plain = crate::sealed::open(Blob::new(InMemory(sealed)), self.secrets.identity())
            .map_err(RekeyMapError::Sealed)?;
        let mut text = Zeroizing::new(Vec::new());
        {
            use parquet::file::reader::ChunkReader;
            use std::io::Read;
            let mut reader = plain
                .get_read(0)
                .map_err(|e| OpError::Store(std::io::Error::other(e).into()))?;
            reader
                .read_to_end(&mut text)
                .map_err(|e| OpError::Store(e.into()))?;
        }
        let map = RekeyMap::parse(&text).map_err(RekeyMapError::from)?;
        if map.dataset != dataset {
            return Err(RekeyMapError::WrongDataset {
                map: map.dataset,
                url: dataset.to_owned(),
            }
            .into());
        }
        let keys = self.project_keys(project)?;
        let find = |k: &MapKey| {
            keys.iter()
                .find(|r| r.fingerprint == k.fingerprint.to_string())
                .cloned()
        };
        let old = find(&map.old_key);
        let old = match old {
            Some(k) if k.state == KeyState::Retiring => k,
            other => {
                return Err(RekeyMapError::OldKeyNotRetiring {
                    project: project.to_owned(),
                    fingerprint: map.old_key.fingerprint.to_string(),
                    state: other.map(|k| k.state),
                    retiring: keys
                        .iter()
                        .find(|k| k.state == KeyState::Retiring)
                        .map(|k| format!("key {}, {}", k.key_id, k.fingerprint)),
                }
                .into());
            }
        };
        let new = match find(&map.new_key) {
            Some(k) if k.state == KeyState::Current => k,
            _ => {
                return Err(RekeyMapError::NewKeyNotCurrent {
                    fingerprint: map.new_key.fingerprint.to_string(),
                    current: keys
                        .iter()
                        .find(|k| k.state == KeyState::Current)
                        .map(|k| k.fingerprint.clone())
                        .unwrap_or_default(),
                }
                .into());
            }
        };
        check_id(&map.old_key, &old)?;
        check_id(&map.new_key, &new)?;
        let stored: HashSet<RecordRef> = self
            .meta
            .person_ids(project)?
            .into_iter()
            .filter(|r| r.dataset == dataset)
            .map(|r| r.record_ref)
            .collect();
        let unmatched = map
            .pairs
            .iter()
            .filter(|(old, _)| !stored.contains(old))
            .count() as u64;
        let uploaded_by = match actor {
            Actor::Caller(p) => p.token_id.as_str().to_owned(),
            Actor::Cli => "cli".to_owned(),
            Actor::Anonymous | Actor::System => "system".to_owned(),
        };
        let record = self.meta.add_rekey_map(&NewRekeyMap {
            project,
            dataset,
            old_key_id: old.key_id,
            new_key_id: new.key_id,
            unmatched,
            uploaded_at: &now(),
            uploaded_by: &uploaded_by,
            pairs: &map.pairs,
        })?;
        tracing::info!(
            project,
            dataset,
            map = record.id,
            pairs = record.pairs,
            unmatched,
            "re-key map stored"
        );
        Ok(RekeyMapReceipt {
            project: project.to_owned(),
            dataset: dataset.to_owned(),
            map: record.id,
            old_key_id: old.key_id,
            new_key_id: new.key_id,
            pairs: record.pairs,
            unmatched,
        })
    }
}

/// A key id the map names must be the one the project lists.
fn check_id(named: &MapKey, listed: &KeyRecord) -> Result<(), RekeyMapError> {
    match named.key_id {
        Some(id) if id.get() != listed.key_id => Err(RekeyMapError::KeyId {
            fingerprint: listed.fingerprint.clone(),
            map: id.get(),
            listed: listed.key_id,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Overrides, Settings, SettingsFile};
    use crate::store::NewDeletionList;
    use pprl_specs::key::{Fingerprint, KeyId};

    const OLD: &str = "0011223344556677";
    const NEW: &str = "8899aabbccddeeff";

    fn linker(dir: &std::path::Path) -> Linker {
        let settings = Settings::resolve(
            SettingsFile::default(),
            Overrides {
                data_dir: Some(dir.to_owned()),
                ..Default::default()
            },
        )
        .expect("valid settings");
        Linker::open(settings).expect("stores open")
    }

    fn map(dataset: &str, old: &str, new: &str) -> String {
        RekeyMap {
            dataset: dataset.to_owned(),
            old_key: MapKey {
                fingerprint: Fingerprint::parse(old).expect("a fingerprint"),
                key_id: None,
            },
            new_key: MapKey {
                fingerprint: Fingerprint::parse(new).expect("a fingerprint"),
                key_id: None,
            },
            pairs: vec![([1; 16], [2; 16]), ([3; 16], [4; 16])],
        }
        .render()
    }

    fn sealed(linker: &Linker, text: &str) -> axum::body::Bytes {
        let recipient: age::x25519::Recipient = linker
            .secrets
            .identity()
            .recipient()
            .parse()
            .expect("the linker's recipient");
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .expect("an encryptor");
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).expect("the header writes");
        std::io::Write::write_all(&mut writer, text.as_bytes()).expect("the map seals");
        writer.finish().expect("the sealed map closes");
        out.into()
    }

    fn refusal(linker: &Linker, dataset: &str, body: axum::body::Bytes) -> String {
        let config = linker.project_config("p").expect("the project");
        let err = linker
            .accept_rekey_map(&Actor::Cli, &config, dataset, body)
            .expect_err("refused");
        let OpError::RekeyMap(e) = &err else {
            panic!("not a re-key map refusal: {err}");
        };
        assert!(!e.hint().is_empty());
        err.to_string()
    }

    #[test]
    fn issue_16_maps_lead_from_the_retiring_key_to_the_current_one_and_carry_erasures() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let linker = linker(dir.path());
        linker
            .create_project(
                &format!(
                    "name = \"p\"\nkey_fingerprint = \"{OLD}\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n"
                ),
                &Actor::Cli,
            )
            .expect("the project is created");
        let states = |linker: &Linker| -> Vec<(u32, KeyState)> {
            linker
                .project_keys("p")
                .expect("the key list")
                .into_iter()
                .map(|k| (k.key_id, k.state))
                .collect()
        };
        assert_eq!(states(&linker), [(1, KeyState::Current)]);

        // No rotation yet: the old key is current, not retiring.
        let said = refusal(&linker, "d", sealed(&linker, &map("d", OLD, NEW)));
        assert!(said.contains("which is current in project `p`"), "{said}");
        assert!(said.contains("no rotation is under way"), "{said}");

        let wrong_id = linker
            .add_key("p", NEW, KeyId::try_new(3), &Actor::Cli)
            .expect_err("key 2 is next");
        assert!(
            wrong_id.to_string().contains("is key 2, not 3"),
            "{wrong_id}"
        );
        linker
            .add_key("p", NEW, KeyId::try_new(2), &Actor::Cli)
            .expect("the rotation");
        assert_eq!(
            states(&linker),
            [(1, KeyState::Retiring), (2, KeyState::Current)]
        );
        assert_eq!(
            linker
                .project_config("p")
                .expect("the config")
                .fingerprint(),
            NEW
        );
        let again = linker
            .add_key("p", OLD, None, &Actor::Cli)
            .expect_err("a key is added once");
        assert!(again.to_string().contains("is already key 1"), "{again}");

        // Refusals: unsealed, another dataset, backwards.
        let plain = axum::body::Bytes::from(map("d", OLD, NEW));
        assert!(refusal(&linker, "d", plain).contains("not sealed"));
        let said = refusal(&linker, "d", sealed(&linker, &map("e", OLD, NEW)));
        assert!(said.contains("for dataset `e`"), "{said}");
        let said = refusal(&linker, "d", sealed(&linker, &map("d", NEW, OLD)));
        assert!(
            said.contains(&format!("leads from key {NEW}, which is current")),
            "{said}"
        );
        assert!(!said.contains(&hex::encode([1u8; 16])), "{said}");
        assert!(linker.meta.rekey_maps("p").expect("the maps").is_empty());

        // An erased old reference stays erased under its new reference.
        linker
            .meta
            .add_deletion_list(&NewDeletionList {
                project: "p",
                dataset: "d",
                uploaded_at: &now(),
                uploaded_by: "cli",
                refs: &[[1; 16]],
            })
            .expect("the list is stored");
        let config = linker.project_config("p").expect("the project");
        let receipt = linker
            .accept_rekey_map(
                &Actor::Cli,
                &config,
                "d",
                sealed(&linker, &map("d", OLD, NEW)),
            )
            .expect("the map is accepted");
        assert_eq!(
            (
                receipt.old_key_id,
                receipt.new_key_id,
                receipt.pairs,
                receipt.unmatched
            ),
            (1, 2, 2, 2),
            "no person id is stored yet, so no pair matches"
        );
        let erased = linker.erased_refs("p", "d").expect("the erased references");
        assert!(erased.contains(&[1; 16]) && erased.contains(&[2; 16]));
        assert!(!erased.contains(&[4; 16]));

        // Retired, the old key takes no more maps.
        linker.retire_key("p", 1, &Actor::Cli).expect("retired");
        assert_eq!(
            states(&linker),
            [(1, KeyState::Retired), (2, KeyState::Current)]
        );
        let said = refusal(&linker, "d", sealed(&linker, &map("d", OLD, NEW)));
        assert!(said.contains("which is retired"), "{said}");
    }
}
