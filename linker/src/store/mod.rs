//! Storage behind three small interfaces, so that a server database and
//! object storage can replace the embedded defaults without touching the
//! handlers or the runs: [`MetaStore`] for metadata (SQLite by default),
//! [`BlobStore`] for uploaded token files (a local folder by default,
//! content-addressed by BLAKE3) and [`PublicationStore`] for each run's
//! published outputs (a folder per run by default). Files go in and out as
//! streams ([`StagedBlob`], [`StagedPublication`], [`Blob`]), never as paths.

pub mod blob;
pub mod blobs;
pub mod publications;
pub mod sqlite;
mod sqlite_keys;

pub use blob::{Blob, BlobSource};

use serde::Serialize;

use crate::auth::Role;
use crate::cohort::record_keys::CellKeySecret;
use crate::ids::{DatasetVersion, RunId, RunStatus, StartedBy, TokenId};

/// A stored project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRecord {
    pub name: String,
    pub key_fingerprint: String,
    /// The project config as TOML.
    pub config_toml: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A stored API token (its secret only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: TokenId,
    #[serde(skip)]
    pub secret_hash: Vec<u8>,
    pub role: Role,
    pub project: Option<String>,
    pub partner: Option<String>,
    pub label: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A published version of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRecord {
    pub project: String,
    pub dataset: String,
    pub version: DatasetVersion,
    /// BLAKE3 of the token file, hex; also its name in the blob store.
    pub checksum: String,
    pub bytes: u64,
    pub rows: u64,
    pub key_fingerprint: String,
    pub manifest_json: String,
    pub uploaded_at: String,
    /// Token id of the uploader.
    pub uploaded_by: TokenId,
}

/// What adding a version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddVersion {
    /// A new version was published.
    Added(VersionRecord),
    /// The same file is already a version of this dataset: nothing changed.
    Existing(VersionRecord),
}

/// One audit-log entry. Never holds tokens or identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub at: String,
    /// Token id of the caller, or `cli` for the administrator command line.
    pub actor: Option<String>,
    pub role: Option<String>,
    /// `upload`, `download`, `create_project`, `issue_token`, ...
    pub action: String,
    pub project: Option<String>,
    pub dataset: Option<String>,
    /// `ok` or `refused`.
    pub outcome: String,
    /// What was done or why it was refused.
    pub detail: Option<String>,
}

/// A linkage run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: RunId,
    pub project: String,
    pub status: RunStatus,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// JSON summary of a finished run.
    pub summary: Option<String>,
    /// What started it: `manual` (API or CLI) or `schedule`.
    pub started_by: StartedBy,
    /// Which attempt of a scheduled run this is (1 for the first).
    pub attempt: u32,
    /// The version of each dataset the run used, once loaded.
    pub inputs: Option<std::collections::BTreeMap<String, DatasetVersion>>,
    /// The process running it (`pid:start-time`), to tell a run in progress
    /// in another process from one a crash interrupted.
    #[serde(skip)]
    pub runner: Option<String>,
    /// The guard's reasons: why a `held` run was held, or, for a run an
    /// administrator accepted, why it would have been. Empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guard: Vec<String>,
}

/// How a run is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    pub started_by: StartedBy,
    pub attempt: u32,
    pub runner: Option<String>,
}

/// A published set of outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicationRecord {
    pub project: String,
    pub run_id: RunId,
    pub published_at: String,
    /// JSON list of `{name, bytes, blake3}`.
    pub files: String,
}

/// A record's person identifier in the latest publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonIdRecord {
    pub dataset: String,
    pub record_ref: [u8; 16],
    pub person_id: String,
}

/// A partner's record reference (spec §5.3): 16 bytes, keyed; never shown.
pub type RecordRef = [u8; 16];

/// A deletion list to store (issue 17, opt-out and erasure).
#[derive(Clone, Copy)]
pub struct NewDeletionList<'a> {
    pub project: &'a str,
    pub dataset: &'a str,
    pub uploaded_at: &'a str,
    /// Token id of the uploader, or `cli`.
    pub uploaded_by: &'a str,
    pub refs: &'a [RecordRef],
}

impl std::fmt::Debug for NewDeletionList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDeletionList")
            .field("project", &self.project)
            .field("dataset", &self.dataset)
            .field("refs", &self.refs.len())
            .finish_non_exhaustive()
    }
}

/// A stored deletion list: what it held, never its references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletionListRecord {
    pub id: u64,
    pub project: String,
    pub dataset: String,
    pub uploaded_at: String,
    pub uploaded_by: String,
    /// References in the list (after removing repeats).
    pub refs: u64,
    /// Of those, how many no live earlier list of the dataset held.
    pub new_refs: u64,
    /// When an administrator revoked it (its references apply again no more).
    pub revoked_at: Option<String>,
}

/// Where a project key is in its life (issue 16, spec §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// The key partners tokenise with now; uploads must be made with it.
    Current,
    /// The key before the current one, during a rotation: datasets still
    /// on it make runs wait, and re-key maps from it to the current key are
    /// accepted.
    Retiring,
    /// No longer used: nothing is accepted that names it.
    Retired,
}

impl KeyState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Current => "current",
            KeyState::Retiring => "retiring",
            KeyState::Retired => "retired",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [KeyState::Current, KeyState::Retiring, KeyState::Retired]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key of a project's key list: named by its id and fingerprint, never
/// held (the linker never sees a project key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub key_id: u32,
    pub fingerprint: String,
    pub state: KeyState,
    pub added_at: String,
    /// When it was retired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
}

/// A re-key map to store (issue 16): a dataset's record references under
/// the retiring key paired with the same records' under the current key.
#[derive(Clone, Copy)]
pub struct NewRekeyMap<'a> {
    pub project: &'a str,
    pub dataset: &'a str,
    pub old_key_id: u32,
    pub new_key_id: u32,
    /// Pairs whose old reference names no record the linker holds.
    pub unmatched: u64,
    pub uploaded_at: &'a str,
    /// Token id of the uploader, or `cli`.
    pub uploaded_by: &'a str,
    /// (old reference, new reference), each old reference once.
    pub pairs: &'a [(RecordRef, RecordRef)],
}

impl std::fmt::Debug for NewRekeyMap<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRekeyMap")
            .field("project", &self.project)
            .field("dataset", &self.dataset)
            .field("pairs", &self.pairs.len())
            .finish_non_exhaustive()
    }
}

/// A stored re-key map: what it held, never its references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RekeyMapRecord {
    pub id: u64,
    pub project: String,
    pub dataset: String,
    pub old_key_id: u32,
    pub new_key_id: u32,
    pub pairs: u64,
    pub unmatched: u64,
    pub uploaded_at: String,
    pub uploaded_by: String,
}

/// One stored pair of a re-key map, with the map's dataset.
#[derive(Clone, PartialEq, Eq)]
pub struct RekeyPair {
    pub dataset: String,
    pub old_ref: RecordRef,
    pub new_ref: RecordRef,
}

impl std::fmt::Debug for RekeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RekeyPair")
            .field("dataset", &self.dataset)
            .finish_non_exhaustive()
    }
}

/// A storage failure. Backend errors are kept as their source, so no
/// backend's types appear here.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The metadata database failed.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The linker's identity or a re-keying secret (`secrets.rs`).
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretsError),
    /// A value read back from storage is not one this linker writes.
    #[error("stored {what} `{value}` is not valid")]
    Corrupt { what: &'static str, value: String },
    /// A project of this name already exists.
    #[error("project `{project}` already exists")]
    ProjectExists { project: String },
    /// Another run of the project is in progress (in this process or another).
    #[error(
        "run {run} of project `{project}` is already running (started {started_at} by {started_by}); two runs of a project never overlap: wait for it to finish"
    )]
    RunInProgress {
        project: String,
        run: RunId,
        started_at: String,
        started_by: String,
    },
}

/// Metadata: projects, tokens, dataset versions and the audit log.
pub trait MetaStore: Send + Sync + 'static {
    fn create_project(&self, project: &ProjectRecord) -> Result<(), StoreError>;
    fn replace_project(&self, project: &ProjectRecord) -> Result<bool, StoreError>;
    fn project(&self, name: &str) -> Result<Option<ProjectRecord>, StoreError>;
    fn projects(&self) -> Result<Vec<ProjectRecord>, StoreError>;

    fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError>;
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Marks a token revoked; `false` if there is no such live token.
    fn revoke_token(&self, id: &TokenId, at: &str) -> Result<bool, StoreError>;

    /// Publishes a version atomically, or finds the same file already published.
    fn add_version(&self, version: &VersionRecord) -> Result<AddVersion, StoreError>;
    /// Versions of a project (of one dataset if given), oldest first.
    fn versions(
        &self,
        project: &str,
        dataset: Option<&str>,
    ) -> Result<Vec<VersionRecord>, StoreError>;
    /// Drops all but the newest `keep` versions of a dataset; returns those dropped.
    fn prune_versions(
        &self,
        project: &str,
        dataset: &str,
        keep: usize,
    ) -> Result<Vec<VersionRecord>, StoreError>;
    /// Every checksum some version refers to.
    fn referenced_checksums(&self) -> Result<Vec<String>, StoreError>;

    /// Starts a run; refused (`RunInProgress`, naming it) while
    /// another run of the project is running, in this process or another.
    fn start_run(&self, project: &str, at: &str, start: &RunStart) -> Result<RunId, StoreError>;
    /// Records which dataset versions a run loaded.
    fn record_run_inputs(&self, id: RunId, inputs: &str) -> Result<(), StoreError>;
    /// Records the guard's reasons for a run (see [`RunRecord::guard`]).
    fn record_run_guard(&self, id: RunId, reasons: &[String]) -> Result<(), StoreError>;
    /// Runs of every project still marked running.
    fn running_runs(&self) -> Result<Vec<RunRecord>, StoreError>;
    /// Marks one run interrupted, if it is still marked running.
    fn fail_interrupted_run(&self, id: RunId, at: &str, error: &str) -> Result<bool, StoreError>;
    fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        at: &str,
        error: Option<&str>,
        summary: Option<&str>,
    ) -> Result<(), StoreError>;
    fn run(&self, id: RunId) -> Result<Option<RunRecord>, StoreError>;
    fn runs(&self, project: &str) -> Result<Vec<RunRecord>, StoreError>;
    /// Publishes a run's outputs and its person identifiers in one transaction,
    /// and marks the run succeeded.
    fn publish(
        &self,
        publication: &PublicationRecord,
        ids: &[PersonIdRecord],
        summary: &str,
    ) -> Result<(), StoreError>;
    fn latest_publication(&self, project: &str) -> Result<Option<PublicationRecord>, StoreError>;
    /// Every publication of every project (to find orphaned output folders).
    fn publications(&self) -> Result<Vec<PublicationRecord>, StoreError>;
    /// Person identifiers of the project's latest publication.
    fn person_ids(&self, project: &str) -> Result<Vec<PersonIdRecord>, StoreError>;

    /// The project's cell-key secret (issue 17): `fresh` is stored the
    /// first time a project asks, atomically, and the stored one is
    /// returned then and ever after (so every run of a project, in any
    /// process, perturbs with the same secret).
    fn cell_key_secret(
        &self,
        project: &str,
        fresh: CellKeySecret,
    ) -> Result<CellKeySecret, StoreError>;
    /// Stores a deletion list (the references deduplicated) in one
    /// transaction; deletion lists are cumulative per dataset.
    fn add_deletion_list(
        &self,
        list: &NewDeletionList<'_>,
    ) -> Result<DeletionListRecord, StoreError>;
    /// A project's deletion lists, oldest first.
    fn deletion_lists(&self, project: &str) -> Result<Vec<DeletionListRecord>, StoreError>;
    /// Revokes a deletion list; `false` if there is no such live list.
    fn revoke_deletion_list(&self, project: &str, id: u64, at: &str) -> Result<bool, StoreError>;
    /// The references erased from a dataset: those of its live deletion lists.
    fn erased_refs(&self, project: &str, dataset: &str) -> Result<Vec<RecordRef>, StoreError>;

    /// A project's key list, oldest first (empty for a project made before
    /// key lists: the caller seeds it).
    fn keys(&self, project: &str) -> Result<Vec<KeyRecord>, StoreError>;
    /// Adds `key` to a project's list as its current key, in one
    /// transaction: the current key becomes retiring, an earlier retiring
    /// one retired, and the project's stored config and fingerprint are
    /// replaced by `config_toml` and the new key's.
    fn add_key(
        &self,
        project: &str,
        key: &KeyRecord,
        config_toml: &str,
        at: &str,
    ) -> Result<(), StoreError>;
    /// Seeds an empty key list with the project's first key; a no-op if
    /// the list has any key.
    fn seed_key(&self, project: &str, key: &KeyRecord) -> Result<(), StoreError>;
    /// Retires a retiring key; `false` if no retiring key has that id.
    fn retire_key(&self, project: &str, key_id: u32, at: &str) -> Result<bool, StoreError>;
    /// Stores a re-key map and its pairs in one transaction.
    fn add_rekey_map(&self, map: &NewRekeyMap<'_>) -> Result<RekeyMapRecord, StoreError>;
    /// A project's re-key maps, oldest first.
    fn rekey_maps(&self, project: &str) -> Result<Vec<RekeyMapRecord>, StoreError>;
    /// Every pair of a project's re-key maps, in the order the maps were
    /// stored (so pairs of a later rotation follow those of an earlier one).
    fn rekey_pairs(&self, project: &str) -> Result<Vec<RekeyPair>, StoreError>;

    fn audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// The newest `limit` audit entries, newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError>;
}

/// Files: token files, named by checksum. Read and written as streams, so
/// a backend need not be a local folder.
pub trait BlobStore: Send + Sync + 'static {
    /// A new empty staged blob to stream an upload into; not visible as a
    /// blob until committed, and deleted if dropped uncommitted.
    fn stage(&self) -> Result<Box<dyn StagedBlob>, StoreError>;
    /// Opens blob `checksum` for reading.
    fn open(&self, checksum: &str) -> Result<Blob, StoreError>;
    fn exists(&self, checksum: &str) -> bool;
    fn remove(&self, checksum: &str) -> Result<(), StoreError>;
    /// Checksums of every stored blob.
    fn list(&self) -> Result<Vec<String>, StoreError>;
    /// Deletes staged files left by a crash; returns how many.
    fn clear_staging(&self) -> Result<usize, StoreError>;
}

/// An upload being written (see [`BlobStore::stage`]). Dropped without
/// [`commit`](StagedBlob::commit), its bytes are deleted.
pub trait StagedBlob: std::io::Write + Send {
    /// The bytes written so far, to check them before they are committed.
    fn contents(&mut self) -> Result<Blob, StoreError>;
    /// Makes the staged bytes the blob `checksum`, durably (synced before
    /// it appears; a no-op if that blob already exists). The staged copy is
    /// gone either way.
    fn commit(self: Box<Self>, checksum: &str) -> Result<(), StoreError>;
}

/// Published outputs: each run's files, visible all together or not at all.
pub trait PublicationStore: Send + Sync + 'static {
    /// Starts writing run `run`'s outputs (discarding what an interrupted
    /// earlier attempt at the same run left).
    fn begin(&self, project: &str, run: RunId) -> Result<Box<dyn StagedPublication>, StoreError>;
    /// Opens file `name` of run `run`'s committed outputs.
    fn open(&self, project: &str, run: RunId, name: &str) -> Result<Blob, StoreError>;
    /// Every set of outputs held, committed or not, to find those that no
    /// publication records (after a crash).
    fn list(&self) -> Result<Vec<StoredOutputs>, StoreError>;
    /// Deletes one set of outputs.
    fn remove(&self, outputs: &StoredOutputs) -> Result<(), StoreError>;
}

/// A run's outputs being written (see [`PublicationStore::begin`]). Dropped
/// without [`commit`](StagedPublication::commit), they are discarded.
pub trait StagedPublication: Send {
    /// A new file of the publication, to write `name` through.
    fn create(&mut self, name: &str) -> Result<Box<dyn std::io::Write + Send>, StoreError>;
    /// Syncs every file and makes them the run's outputs at once, durably;
    /// returns each file's name, size and BLAKE3, in the order created.
    /// Record the publication in the [`MetaStore`] only after this.
    fn commit(self: Box<Self>) -> Result<Vec<PublishedFile>, StoreError>;
}

/// One set of outputs a [`PublicationStore`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutputs {
    pub project: String,
    /// Its name in the store (the folder's name by default).
    pub entry: String,
    /// The run it belongs to, if the entry names one.
    pub run: Option<RunId>,
    /// Committed (or an unfinished or unrecognised entry).
    pub committed: bool,
}

/// One published file.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PublishedFile {
    pub name: String,
    pub bytes: u64,
    pub blake3: String,
}

/// The current time in RFC 3339, UTC, to the second.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
