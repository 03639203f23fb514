//! The default [`MetaStore`]: an embedded SQLite database in WAL mode.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};
use zeroize::Zeroizing;

use super::{
    AddVersion, AuditEvent, DeletionListRecord, KeyRecord, MetaStore, NewDeletionList, NewRekeyMap,
    PersonIdRecord, ProjectRecord, PublicationRecord, RecordRef, RekeyMapRecord, RekeyPair,
    RunRecord, RunStart, StoreError, TokenRecord, VersionRecord,
};
use crate::auth::Role;
use crate::cohort::record_keys::CellKeySecret;
use crate::ids::{DatasetVersion, RunId, RunStatus, StartedBy, TokenId};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS projects (
    name            TEXT PRIMARY KEY,
    key_fingerprint TEXT NOT NULL,
    config_toml     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id          TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    role        TEXT NOT NULL,
    project     TEXT,
    partner     TEXT,
    label       TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE IF NOT EXISTS versions (
    project         TEXT NOT NULL,
    dataset         TEXT NOT NULL,
    version         INTEGER NOT NULL,
    checksum        TEXT NOT NULL,
    bytes           INTEGER NOT NULL,
    rows            INTEGER NOT NULL,
    key_fingerprint TEXT NOT NULL,
    manifest_json   TEXT NOT NULL,
    uploaded_at     TEXT NOT NULL,
    uploaded_by     TEXT NOT NULL,
    PRIMARY KEY (project, dataset, version)
);
CREATE INDEX IF NOT EXISTS versions_checksum ON versions (project, dataset, checksum);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project     TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    error       TEXT,
    summary     TEXT
    -- later columns are added by `migrate`
);
CREATE TABLE IF NOT EXISTS publications (
    project      TEXT NOT NULL,
    run_id       INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    files        TEXT NOT NULL,
    PRIMARY KEY (project, run_id)
);
CREATE TABLE IF NOT EXISTS person_ids (
    project    TEXT NOT NULL,
    dataset    TEXT NOT NULL,
    record_ref BLOB NOT NULL,
    person_id  TEXT NOT NULL,
    PRIMARY KEY (project, dataset, record_ref)
) WITHOUT ROWID;
-- The secret behind each project's cell-key record keys (issue 17): never
-- published, logged or sent.
CREATE TABLE IF NOT EXISTS cell_key_secrets (
    project    TEXT PRIMARY KEY,
    secret     BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deletion_lists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project     TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    refs        INTEGER NOT NULL,
    new_refs    INTEGER NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE IF NOT EXISTS erased_refs (
    project    TEXT NOT NULL,
    dataset    TEXT NOT NULL,
    record_ref BLOB NOT NULL,
    list       INTEGER NOT NULL REFERENCES deletion_lists (id),
    PRIMARY KEY (project, dataset, record_ref, list)
) WITHOUT ROWID;
-- Issue 16: each project's keys, by id and fingerprint (never the key).
CREATE TABLE IF NOT EXISTS project_keys (
    project     TEXT NOT NULL,
    key_id      INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    retired_at  TEXT,
    PRIMARY KEY (project, key_id)
);
-- Issue 16: re-key maps (old record reference -> new, both keyed).
CREATE TABLE IF NOT EXISTS rekey_maps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project     TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    old_key_id  INTEGER NOT NULL,
    new_key_id  INTEGER NOT NULL,
    pairs       INTEGER NOT NULL,
    unmatched   INTEGER NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rekey_pairs (
    map     INTEGER NOT NULL REFERENCES rekey_maps (id),
    old_ref BLOB NOT NULL,
    new_ref BLOB NOT NULL,
    PRIMARY KEY (map, old_ref)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT,
    role    TEXT,
    action  TEXT NOT NULL,
    project TEXT,
    dataset TEXT,
    outcome TEXT NOT NULL,
    detail  TEXT
);
";

/// SQLite's errors stay inside this module: callers see [`StoreError`].
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// Metadata in `<data>/pprl.sqlite3`.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating) the database under `data` and brings its schema up to date.
    pub fn open(data: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data)?;
        let conn = Connection::open(data.join("pprl.sqlite3"))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent:
        // every multi-statement change runs in a transaction.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

// The typed ids and statuses at the SQLite boundary: numbers as INTEGER,
// names as TEXT (a stored name this linker does not know is an error).

impl ToSql for RunId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0 as i64))
    }
}

impl FromSql for RunId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(|n| RunId(n as u64))
    }
}

impl ToSql for DatasetVersion {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0 as i64))
    }
}

impl FromSql for DatasetVersion {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(|n| DatasetVersion(n as u64))
    }
}

impl ToSql for TokenId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for TokenId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        String::column_result(value).map(TokenId::new)
    }
}

impl ToSql for RunStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for RunStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

impl ToSql for StartedBy {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for StartedBy {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// Columns added after the first schema, with their definitions.
const RUN_COLUMNS_ADDED: [(&str, &str); 5] = [
    ("started_by", "TEXT NOT NULL DEFAULT 'manual'"),
    ("attempt", "INTEGER NOT NULL DEFAULT 1"),
    ("inputs", "TEXT"),
    ("runner", "TEXT"),
    // The guard's reasons (a JSON list of texts): why a run was held, or
    // why it would have been when an administrator accepted it.
    ("guard", "TEXT"),
];

/// Adds the columns an older database lacks.
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let existing: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('runs')")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for (name, definition) in RUN_COLUMNS_ADDED {
        if !existing.iter().any(|e| e == name) {
            conn.execute_batch(&format!("ALTER TABLE runs ADD COLUMN {name} {definition}"))?;
        }
    }
    Ok(())
}

fn project_row(row: &Row<'_>) -> rusqlite::Result<ProjectRecord> {
    Ok(ProjectRecord {
        name: row.get(0)?,
        key_fingerprint: row.get(1)?,
        config_toml: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

fn token_row(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    let role: String = row.get(2)?;
    Ok(TokenRecord {
        id: row.get(0)?,
        secret_hash: row.get(1)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                "unknown role".into(),
            )
        })?,
        project: row.get(3)?,
        partner: row.get(4)?,
        label: row.get(5)?,
        created_at: row.get(6)?,
        revoked_at: row.get(7)?,
    })
}

const VERSION_COLUMNS: &str = "project, dataset, version, checksum, bytes, rows, key_fingerprint, manifest_json, uploaded_at, uploaded_by";

fn version_row(row: &Row<'_>) -> rusqlite::Result<VersionRecord> {
    Ok(VersionRecord {
        project: row.get(0)?,
        dataset: row.get(1)?,
        version: row.get(2)?,
        checksum: row.get(3)?,
        bytes: row.get::<_, i64>(4)? as u64,
        rows: row.get::<_, i64>(5)? as u64,
        key_fingerprint: row.get(6)?,
        manifest_json: row.get(7)?,
        uploaded_at: row.get(8)?,
        uploaded_by: row.get(9)?,
    })
}

const RUN_COLUMNS: &str = "id, project, status, started_at, finished_at, error, summary, started_by, attempt, inputs, runner, guard";

fn run_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        project: row.get(1)?,
        status: row.get(2)?,
        started_at: row.get(3)?,
        finished_at: row.get(4)?,
        error: row.get(5)?,
        summary: row.get(6)?,
        started_by: row.get(7)?,
        attempt: row.get::<_, i64>(8)? as u32,
        inputs: row
            .get::<_, Option<String>>(9)?
            .and_then(|text| serde_json::from_str(&text).ok()),
        runner: row.get(10)?,
        guard: row
            .get::<_, Option<String>>(11)?
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default(),
    })
}

fn publication_row(row: &Row<'_>) -> rusqlite::Result<PublicationRecord> {
    Ok(PublicationRecord {
        project: row.get(0)?,
        run_id: row.get(1)?,
        published_at: row.get(2)?,
        files: row.get(3)?,
    })
}

impl MetaStore for SqliteStore {
    fn start_run(&self, project: &str, at: &str, start: &RunStart) -> Result<RunId, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let running = tx
            .query_row(
                "SELECT id, started_at, started_by FROM runs WHERE project = ?1 AND status = 'running' ORDER BY id LIMIT 1",
                [project],
                |row| {
                    Ok((
                        row.get::<_, RunId>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        if let Some((id, started_at, started_by)) = running {
            return Err(StoreError::RunInProgress {
                project: project.to_owned(),
                run: id,
                started_at,
                started_by,
            });
        }
        tx.execute(
            "INSERT INTO runs (project, status, started_at, started_by, attempt, runner) VALUES (?1, 'running', ?2, ?3, ?4, ?5)",
            params![project, at, start.started_by, start.attempt, start.runner],
        )?;
        let id = RunId(tx.last_insert_rowid() as u64);
        tx.commit()?;
        Ok(id)
    }

    fn record_run_inputs(&self, id: RunId, inputs: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE runs SET inputs = ?2 WHERE id = ?1",
            params![id, inputs],
        )?;
        Ok(())
    }

    fn record_run_guard(&self, id: RunId, reasons: &[String]) -> Result<(), StoreError> {
        let text = serde_json::to_string(reasons).expect("texts serialise");
        self.conn().execute(
            "UPDATE runs SET guard = ?2 WHERE id = ?1",
            params![id, text],
        )?;
        Ok(())
    }

    fn running_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE status = 'running' ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([], run_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn fail_interrupted_run(&self, id: RunId, at: &str, error: &str) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE runs SET status = 'failed', finished_at = ?2, error = ?3 WHERE id = ?1 AND status = 'running'",
            params![id, at, error],
        )?;
        Ok(changed == 1)
    }

    fn finish_run(
        &self,
        id: RunId,
        status: RunStatus,
        at: &str,
        error: Option<&str>,
        summary: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE runs SET status = ?2, finished_at = ?3, error = ?4, summary = ?5 WHERE id = ?1",
            params![id, status, at, error, summary],
        )?;
        Ok(())
    }

    fn run(&self, id: RunId) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                run_row,
            )
            .optional()?)
    }

    fn runs(&self, project: &str) -> Result<Vec<RunRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE project = ?1 ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([project], run_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn publish(
        &self,
        p: &PublicationRecord,
        ids: &[PersonIdRecord],
        summary: &str,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM person_ids WHERE project = ?1", [&p.project])?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO person_ids (project, dataset, record_ref, person_id) VALUES (?1, ?2, ?3, ?4)",
            )?;
            // In key order: the table is a B-tree on (project, dataset,
            // record_ref) and record references are random, so inserting
            // them as they come touches a random page per row (26 s for
            // 3 million rows against a fraction of that sorted).
            let mut sorted: Vec<&PersonIdRecord> = ids.iter().collect();
            sorted.sort_unstable_by(|a, b| {
                (a.dataset.as_str(), &a.record_ref[..])
                    .cmp(&(b.dataset.as_str(), &b.record_ref[..]))
            });
            for id in sorted {
                insert.execute(params![
                    p.project,
                    id.dataset,
                    &id.record_ref[..],
                    id.person_id
                ])?;
            }
        }
        tx.execute(
            "INSERT INTO publications (project, run_id, published_at, files) VALUES (?1, ?2, ?3, ?4)",
            params![p.project, p.run_id, p.published_at, p.files],
        )?;
        tx.execute(
            "UPDATE runs SET status = 'succeeded', finished_at = ?2, summary = ?3 WHERE id = ?1",
            params![p.run_id, p.published_at, summary],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn latest_publication(&self, project: &str) -> Result<Option<PublicationRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT project, run_id, published_at, files FROM publications WHERE project = ?1 ORDER BY run_id DESC LIMIT 1",
                [project],
                publication_row,
            )
            .optional()?)
    }

    fn publications(&self) -> Result<Vec<PublicationRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT project, run_id, published_at, files FROM publications ORDER BY project, run_id")?;
        let rows = stmt
            .query_map([], publication_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn person_ids(&self, project: &str) -> Result<Vec<PersonIdRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT dataset, record_ref, person_id FROM person_ids WHERE project = ?1")?;
        let rows = stmt
            .query_map([project], |row| {
                let bytes: Vec<u8> = row.get(1)?;
                let mut record_ref = [0u8; 16];
                if bytes.len() == 16 {
                    record_ref.copy_from_slice(&bytes);
                }
                Ok(PersonIdRecord {
                    dataset: row.get(0)?,
                    record_ref,
                    person_id: row.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn create_project(&self, p: &ProjectRecord) -> Result<(), StoreError> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO projects (name, key_fingerprint, config_toml, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![p.name, p.key_fingerprint, p.config_toml, p.created_at, p.updated_at],
        )?;
        if inserted == 0 {
            return Err(StoreError::ProjectExists {
                project: p.name.clone(),
            });
        }
        Ok(())
    }

    fn replace_project(&self, p: &ProjectRecord) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE projects SET key_fingerprint = ?2, config_toml = ?3, updated_at = ?4 WHERE name = ?1",
            params![p.name, p.key_fingerprint, p.config_toml, p.updated_at],
        )?;
        Ok(changed == 1)
    }

    fn project(&self, name: &str) -> Result<Option<ProjectRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name, key_fingerprint, config_toml, created_at, updated_at FROM projects WHERE name = ?1",
                [name],
                project_row,
            )
            .optional()?)
    }

    fn projects(&self) -> Result<Vec<ProjectRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, key_fingerprint, config_toml, created_at, updated_at FROM projects ORDER BY name",
        )?;
        let rows = stmt
            .query_map([], project_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO tokens (id, secret_hash, role, project, partner, label, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![t.id, t.secret_hash, t.role.as_str(), t.project, t.partner, t.label, t.created_at, t.revoked_at],
        )?;
        Ok(())
    }

    fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, secret_hash, role, project, partner, label, created_at, revoked_at FROM tokens WHERE id = ?1",
                [id],
                token_row,
            )
            .optional()?)
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, secret_hash, role, project, partner, label, created_at, revoked_at FROM tokens ORDER BY created_at, id",
        )?;
        let rows = stmt
            .query_map([], token_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn revoke_token(&self, id: &TokenId, at: &str) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, at],
        )?;
        Ok(changed == 1)
    }

    fn add_version(&self, v: &VersionRecord) -> Result<AddVersion, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE project = ?1 AND dataset = ?2 AND checksum = ?3 ORDER BY version DESC LIMIT 1"),
                params![v.project, v.dataset, v.checksum],
                version_row,
            )
            .optional()?;
        if let Some(existing) = existing {
            return Ok(AddVersion::Existing(existing));
        }
        let next: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE project = ?1 AND dataset = ?2",
            params![v.project, v.dataset],
            |row| row.get(0),
        )?;
        tx.execute(
            &format!("INSERT INTO versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                v.project,
                v.dataset,
                next,
                v.checksum,
                v.bytes as i64,
                v.rows as i64,
                v.key_fingerprint,
                v.manifest_json,
                v.uploaded_at,
                v.uploaded_by
            ],
        )?;
        tx.commit()?;
        Ok(AddVersion::Added(VersionRecord {
            version: DatasetVersion(next as u64),
            ..v.clone()
        }))
    }

    fn versions(
        &self,
        project: &str,
        dataset: Option<&str>,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE project = ?1 AND (?2 IS NULL OR dataset = ?2) ORDER BY dataset, version"
        ))?;
        let rows = stmt
            .query_map(params![project, dataset], version_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn prune_versions(
        &self,
        project: &str,
        dataset: &str,
        keep: usize,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let dropped = {
            let mut stmt = tx.prepare(&format!(
                "SELECT {VERSION_COLUMNS} FROM versions WHERE project = ?1 AND dataset = ?2 ORDER BY version DESC LIMIT -1 OFFSET ?3"
            ))?;
            stmt.query_map(params![project, dataset, keep as i64], version_row)?
                .collect::<Result<Vec<_>, _>>()?
        };
        for v in &dropped {
            tx.execute(
                "DELETE FROM versions WHERE project = ?1 AND dataset = ?2 AND version = ?3",
                params![project, dataset, v.version],
            )?;
        }
        tx.commit()?;
        Ok(dropped)
    }

    fn referenced_checksums(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT DISTINCT checksum FROM versions")?;
        let rows = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn cell_key_secret(
        &self,
        project: &str,
        fresh: CellKeySecret,
    ) -> Result<CellKeySecret, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR IGNORE INTO cell_key_secrets (project, secret, created_at) VALUES (?1, ?2, ?3)",
            params![project, &fresh.expose_secret()[..], super::now()],
        )?;
        let stored: Zeroizing<Vec<u8>> = Zeroizing::new(tx.query_row(
            "SELECT secret FROM cell_key_secrets WHERE project = ?1",
            [project],
            |row| row.get(0),
        )?);
        tx.commit()?;
        CellKeySecret::from_slice(&stored).ok_or(StoreError::Corrupt {
            what: "cell-key secret",
            // Its length only: never the value.
            value: format!("{} bytes", stored.len()),
        })
    }

    fn add_deletion_list(
        &self,
        list: &NewDeletionList<'_>,
    ) -> Result<DeletionListRecord, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut new_refs = 0u64;
        {
            let mut live = tx.prepare(
                "SELECT 1 FROM erased_refs e JOIN deletion_lists l ON e.list = l.id \
                 WHERE e.project = ?1 AND e.dataset = ?2 AND e.record_ref = ?3 AND l.revoked_at IS NULL LIMIT 1",
            )?;
            for r in list.refs {
                if !live.exists(params![list.project, list.dataset, &r[..]])? {
                    new_refs += 1;
                }
            }
        }
        tx.execute(
            "INSERT INTO deletion_lists (project, dataset, uploaded_at, uploaded_by, refs, new_refs) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                list.project,
                list.dataset,
                list.uploaded_at,
                list.uploaded_by,
                list.refs.len() as i64,
                new_refs as i64
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut sorted: Vec<&RecordRef> = list.refs.iter().collect();
            sorted.sort_unstable();
            sorted.dedup();
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO erased_refs (project, dataset, record_ref, list) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in sorted {
                insert.execute(params![list.project, list.dataset, &r[..], id])?;
            }
        }
        tx.commit()?;
        Ok(DeletionListRecord {
            id: id as u64,
            project: list.project.to_owned(),
            dataset: list.dataset.to_owned(),
            uploaded_at: list.uploaded_at.to_owned(),
            uploaded_by: list.uploaded_by.to_owned(),
            refs: list.refs.len() as u64,
            new_refs,
            revoked_at: None,
        })
    }

    fn deletion_lists(&self, project: &str) -> Result<Vec<DeletionListRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, project, dataset, uploaded_at, uploaded_by, refs, new_refs, revoked_at FROM deletion_lists WHERE project = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([project], |row| {
                Ok(DeletionListRecord {
                    id: row.get::<_, i64>(0)? as u64,
                    project: row.get(1)?,
                    dataset: row.get(2)?,
                    uploaded_at: row.get(3)?,
                    uploaded_by: row.get(4)?,
                    refs: row.get::<_, i64>(5)? as u64,
                    new_refs: row.get::<_, i64>(6)? as u64,
                    revoked_at: row.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn revoke_deletion_list(&self, project: &str, id: u64, at: &str) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE deletion_lists SET revoked_at = ?3 WHERE project = ?1 AND id = ?2 AND revoked_at IS NULL",
            params![project, id as i64, at],
        )?;
        Ok(changed == 1)
    }

    fn erased_refs(&self, project: &str, dataset: &str) -> Result<Vec<RecordRef>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT DISTINCT e.record_ref FROM erased_refs e JOIN deletion_lists l ON e.list = l.id \
             WHERE e.project = ?1 AND e.dataset = ?2 AND l.revoked_at IS NULL",
        )?;
        let rows = stmt
            .query_map([project, dataset], |row| {
                let bytes: Vec<u8> = row.get(0)?;
                <RecordRef>::try_from(bytes.as_slice()).map_err(|_| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Blob,
                        "a stored record reference is not 16 bytes".into(),
                    )
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn keys(&self, project: &str) -> Result<Vec<KeyRecord>, StoreError> {
        super::sqlite_keys::keys(&self.conn(), project)
    }

    fn add_key(
        &self,
        project: &str,
        key: &KeyRecord,
        config_toml: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        super::sqlite_keys::add_key(&mut self.conn(), project, key, config_toml, at)
    }

    fn seed_key(&self, project: &str, key: &KeyRecord) -> Result<(), StoreError> {
        super::sqlite_keys::seed_key(&self.conn(), project, key)
    }

    fn retire_key(&self, project: &str, key_id: u32, at: &str) -> Result<bool, StoreError> {
        super::sqlite_keys::retire_key(&self.conn(), project, key_id, at)
    }

    fn add_rekey_map(&self, map: &NewRekeyMap<'_>) -> Result<RekeyMapRecord, StoreError> {
        super::sqlite_keys::add_rekey_map(&mut self.conn(), map)
    }

    fn rekey_maps(&self, project: &str) -> Result<Vec<RekeyMapRecord>, StoreError> {
        super::sqlite_keys::rekey_maps(&self.conn(), project)
    }

    fn rekey_pairs(&self, project: &str) -> Result<Vec<RekeyPair>, StoreError> {
        super::sqlite_keys::rekey_pairs(&self.conn(), project)
    }

    fn audit(&self, e: &AuditEvent) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO audit (at, actor, role, action, project, dataset, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![e.at, e.actor, e.role, e.action, e.project, e.dataset, e.outcome, e.detail],
        )?;
        Ok(())
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at, actor, role, action, project, dataset, outcome, detail FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |row| {
                Ok(AuditEvent {
                    at: row.get(0)?,
                    actor: row.get(1)?,
                    role: row.get(2)?,
                    action: row.get(3)?,
                    project: row.get(4)?,
                    dataset: row.get(5)?,
                    outcome: row.get(6)?,
                    detail: row.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(checksum: &str) -> VersionRecord {
        VersionRecord {
            project: "p".into(),
            dataset: "d".into(),
            version: DatasetVersion(0),
            checksum: checksum.into(),
            bytes: 10,
            rows: 2,
            key_fingerprint: "00".into(),
            manifest_json: "{}".into(),
            uploaded_at: "t".into(),
            uploaded_by: TokenId::new("x"),
        }
    }

    #[test]
    fn versions_number_up_and_repeat_uploads_are_no_ops() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("opens");
        let AddVersion::Added(v1) = store.add_version(&version("a")).expect("adds") else {
            panic!("new")
        };
        let AddVersion::Added(v2) = store.add_version(&version("b")).expect("adds") else {
            panic!("new")
        };
        assert_eq!(
            (v1.version, v2.version),
            (DatasetVersion(1), DatasetVersion(2))
        );
        assert_eq!(
            store.add_version(&version("a")).expect("finds"),
            AddVersion::Existing(v1)
        );
        assert_eq!(store.versions("p", Some("d")).expect("lists").len(), 2);
        let dropped = store.prune_versions("p", "d", 1).expect("prunes");
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].checksum, "a");
        assert_eq!(store.versions("p", None).expect("lists"), vec![v2]);
    }

    /// Issue 17: the first secret stored for a project is the one every
    /// later call gets, and projects do not share one.
    #[test]
    fn a_projects_cell_key_secret_is_made_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("opens");
        let first = store
            .cell_key_secret("p", CellKeySecret::generate())
            .expect("stored");
        let again = store
            .cell_key_secret("p", CellKeySecret::generate())
            .expect("read back");
        assert_eq!(first.expose_secret(), again.expose_secret());
        let other = store
            .cell_key_secret("q", CellKeySecret::generate())
            .expect("stored");
        assert_ne!(first.expose_secret(), other.expose_secret());
        drop(store);
        let reopened = SqliteStore::open(dir.path()).expect("reopens");
        let after = reopened
            .cell_key_secret("p", CellKeySecret::generate())
            .expect("kept");
        assert_eq!(first.expose_secret(), after.expose_secret());
    }

    #[test]
    fn projects_are_unique() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("opens");
        let p = ProjectRecord {
            name: "p".into(),
            key_fingerprint: "f".into(),
            config_toml: String::new(),
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        store.create_project(&p).expect("creates");
        assert!(matches!(
            store.create_project(&p),
            Err(StoreError::ProjectExists { .. })
        ));
        assert_eq!(store.project("p").expect("reads"), Some(p));
    }

    #[test]
    fn an_older_database_gains_the_run_columns_and_runs_exclude_each_other() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let conn = Connection::open(dir.path().join("pprl.sqlite3")).expect("opens");
            conn.execute_batch(
                "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, project TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, error TEXT, summary TEXT);
                 INSERT INTO runs (project, status, started_at) VALUES ('p', 'succeeded', 't');",
            )
            .expect("the old schema");
        }
        let store = SqliteStore::open(dir.path()).expect("opens and migrates");
        let old = store.run(RunId(1)).expect("reads").expect("the old run");
        assert_eq!(
            (old.started_by.as_str(), old.attempt, old.inputs),
            ("manual", 1, None)
        );
        assert!(old.guard.is_empty(), "an old run has no guard reasons");
        let start = RunStart {
            started_by: StartedBy::Schedule,
            attempt: 2,
            runner: Some("1:2".into()),
        };
        let id = store.start_run("p", "t2", &start).expect("starts");
        let Err(e @ StoreError::RunInProgress { .. }) = store.start_run("p", "t3", &start) else {
            panic!("a second run of the project is refused")
        };
        let message = e.to_string();
        assert!(
            message.contains(&format!(
                "run {id} of project `p` is already running (started t2 by schedule)"
            )),
            "{message}"
        );
        store
            .start_run("q", "t3", &start)
            .expect("another project may run");
        store.record_run_inputs(id, r#"{"d":3}"#).expect("records");
        assert_eq!(store.running_runs().expect("lists").len(), 2);
        assert!(
            store
                .fail_interrupted_run(id, "t4", "gone")
                .expect("fails it")
        );
        assert!(
            !store
                .fail_interrupted_run(id, "t5", "gone")
                .expect("only once")
        );
        let reasons = vec!["persons moved".to_owned()];
        store.record_run_guard(id, &reasons).expect("records");
        let run = store.run(id).expect("reads").expect("the run");
        assert_eq!(run.guard, reasons);
        assert_eq!((run.status.as_str(), run.attempt), ("failed", 2));
        assert_eq!(run.inputs.expect("inputs")["d"], DatasetVersion(3));
        SqliteStore::open(dir.path()).expect("migrating twice changes nothing");
    }
}
