//! [`SqliteStore`](super::sqlite::SqliteStore)'s key lists and re-key maps
//! (issue 16): the SQL, over a connection the store has locked.

use rusqlite::{Connection, params};

use super::{KeyRecord, KeyState, NewRekeyMap, RecordRef, RekeyMapRecord, RekeyPair, StoreError};

fn key_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(u32, String, String, String, Option<String>)> {
    Ok((
        row.get::<_, i64>(0)? as u32,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

pub(super) fn keys(conn: &Connection, project: &str) -> Result<Vec<KeyRecord>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT key_id, fingerprint, state, added_at, retired_at FROM project_keys WHERE project = ?1 ORDER BY key_id",
    )?;
    let rows = stmt
        .query_map([project], key_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(key_id, fingerprint, state, added_at, retired_at)| {
            let state = KeyState::parse(&state).ok_or(StoreError::Corrupt {
                what: "key state",
                value: state,
            })?;
            Ok(KeyRecord {
                key_id,
                fingerprint,
                state,
                added_at,
                retired_at,
            })
        })
        .collect()
}

fn insert_key(conn: &Connection, project: &str, key: &KeyRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO project_keys (project, key_id, fingerprint, state, added_at, retired_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            project,
            i64::from(key.key_id),
            key.fingerprint,
            key.state.as_str(),
            key.added_at,
            key.retired_at
        ],
    )?;
    Ok(())
}

pub(super) fn add_key(
    conn: &mut Connection,
    project: &str,
    key: &KeyRecord,
    config_toml: &str,
    at: &str,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE project_keys SET state = 'retired', retired_at = ?2 WHERE project = ?1 AND state = 'retiring'",
        params![project, at],
    )?;
    tx.execute(
        "UPDATE project_keys SET state = 'retiring' WHERE project = ?1 AND state = 'current'",
        params![project],
    )?;
    insert_key(&tx, project, key)?;
    tx.execute(
        "UPDATE projects SET key_fingerprint = ?2, config_toml = ?3, updated_at = ?4 WHERE name = ?1",
        params![project, key.fingerprint, config_toml, at],
    )?;
    tx.commit()?;
    Ok(())
}

pub(super) fn seed_key(
    conn: &Connection,
    project: &str,
    key: &KeyRecord,
) -> Result<(), StoreError> {
    let any: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM project_keys WHERE project = ?1)",
        [project],
        |row| row.get(0),
    )?;
    if !any {
        insert_key(conn, project, key)?;
    }
    Ok(())
}

pub(super) fn retire_key(
    conn: &Connection,
    project: &str,
    key_id: u32,
    at: &str,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE project_keys SET state = 'retired', retired_at = ?3 WHERE project = ?1 AND key_id = ?2 AND state = 'retiring'",
        params![project, i64::from(key_id), at],
    )?;
    Ok(changed == 1)
}

pub(super) fn add_rekey_map(
    conn: &mut Connection,
    map: &NewRekeyMap<'_>,
) -> Result<RekeyMapRecord, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO rekey_maps (project, dataset, old_key_id, new_key_id, pairs, unmatched, uploaded_at, uploaded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            map.project,
            map.dataset,
            i64::from(map.old_key_id),
            i64::from(map.new_key_id),
            map.pairs.len() as i64,
            map.unmatched as i64,
            map.uploaded_at,
            map.uploaded_by
        ],
    )?;
    let id = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare(
            "INSERT OR IGNORE INTO rekey_pairs (map, old_ref, new_ref) VALUES (?1, ?2, ?3)",
        )?;
        for (old, new) in map.pairs {
            insert.execute(params![id, &old[..], &new[..]])?;
        }
    }
    tx.commit()?;
    Ok(RekeyMapRecord {
        id: id as u64,
        project: map.project.to_owned(),
        dataset: map.dataset.to_owned(),
        old_key_id: map.old_key_id,
        new_key_id: map.new_key_id,
        pairs: map.pairs.len() as u64,
        unmatched: map.unmatched,
        uploaded_at: map.uploaded_at.to_owned(),
        uploaded_by: map.uploaded_by.to_owned(),
    })
}

pub(super) fn rekey_maps(
    conn: &Connection,
    project: &str,
) -> Result<Vec<RekeyMapRecord>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, project, dataset, old_key_id, new_key_id, pairs, unmatched, uploaded_at, uploaded_by FROM rekey_maps WHERE project = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([project], |row| {
            Ok(RekeyMapRecord {
                id: row.get::<_, i64>(0)? as u64,
                project: row.get(1)?,
                dataset: row.get(2)?,
                old_key_id: row.get::<_, i64>(3)? as u32,
                new_key_id: row.get::<_, i64>(4)? as u32,
                pairs: row.get::<_, i64>(5)? as u64,
                unmatched: row.get::<_, i64>(6)? as u64,
                uploaded_at: row.get(7)?,
                uploaded_by: row.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn record_ref(bytes: Vec<u8>, column: usize) -> rusqlite::Result<RecordRef> {
    RecordRef::try_from(bytes.as_slice()).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Blob,
            "a stored record reference is not 16 bytes".into(),
        )
    })
}

pub(super) fn rekey_pairs(conn: &Connection, project: &str) -> Result<Vec<RekeyPair>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT m.dataset, p.old_ref, p.new_ref FROM rekey_pairs p JOIN rekey_maps m ON p.map = m.id \
         WHERE m.project = ?1 ORDER BY m.id",
    )?;
    let rows = stmt
        .query_map([project], |row| {
            Ok(RekeyPair {
                dataset: row.get(0)?,
                old_ref: record_ref(row.get(1)?, 1)?,
                new_ref: record_ref(row.get(2)?, 2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
