//! Re-key maps after a key rotation (issue 16, spec §10.6): each record of
//! the partner's extract, its reference under the retiring key (§5.3)
//! paired with its reference under the new key, so that the linker keeps
//! the person's identifier when the partner re-uploads under the new key.
//!
//! Only the record id column of the extract is read, with the partner
//! config `tokenise` uses (the same dataset, the same record ids, so the
//! same references). Both references are keyed: no record id is written.
//! The map is sent sealed to the linker (`remote::upload_rekey_map`).

use std::path::Path;

use anyhow::{Context, Result, bail};
use pprl_keyed::key::ProjectKey;
use pprl_keyed::matchkey::MatchKeyHasher;
use pprl_specs::record::IdentifierKind;
use pprl_specs::rekeymap::{MapKey, RekeyMap};

use crate::config::{BaseSettings, ColumnRole, PartnerConfig, Settings};
use crate::input::{self, RowBatch};

/// Rows read at a time.
const BATCH_ROWS: usize = 8_192;

/// What making a map found.
#[derive(Debug)]
pub struct Made {
    pub map: RekeyMap,
    /// Rows read from the extract.
    pub rows: u64,
    /// Rows left out: unreadable, or with an empty record id (tokenise
    /// rejects them too, so the linker holds no record for them).
    pub skipped: u64,
}

/// Makes the re-key map of the extract `input` (read with `config`) from
/// `old` to `new`.
pub fn make(
    old: &ProjectKey,
    new: &ProjectKey,
    config: &PartnerConfig,
    input: &Path,
) -> Result<Made> {
    if old.fingerprint() == new.fingerprint() {
        bail!(
            "--old-key and --new-key hold the same key (fingerprint {}): give the retiring key file as --old-key and the new one as --new-key",
            old.fingerprint()
        );
    }
    let base = BaseSettings::check(config)?;
    let mut source = input::open(input, config.input.format, base.delimiter, base.encoding)?;
    let settings = Settings::resolve(config, source.header())?;
    let id_column: Vec<_> = settings
        .columns
        .iter()
        .filter(|c| c.role == ColumnRole::Identifier(IdentifierKind::RecordId))
        .cloned()
        .collect();
    if id_column.len() != 1 {
        bail!("the partner config must map exactly one column to record_id");
    }
    source.select(&id_column)?;
    let (old_hasher, new_hasher) = (MatchKeyHasher::new(old), MatchKeyHasher::new(new));
    let mut pairs = Vec::new();
    let (mut rows, mut skipped) = (0u64, 0u64);
    let mut batch = RowBatch::default();
    loop {
        source
            .next_batch(&mut batch, BATCH_ROWS)
            .with_context(|| format!("cannot read {}", input.display()))?;
        if batch.is_empty() {
            break;
        }
        for row in 0..batch.len() {
            rows += 1;
            let id = batch.field(row, 0).trim();
            if batch.error(row).is_some() || id.is_empty() {
                skipped += 1;
                continue;
            }
            pairs.push((
                old_hasher.record_ref(&settings.dataset, id),
                new_hasher.record_ref(&settings.dataset, id),
            ));
        }
    }
    if pairs.is_empty() {
        bail!(
            "{} has no row with a record id: there is nothing to map",
            input.display()
        );
    }
    // Each record id once: tokenise refuses repeated ids, so a repeat is the
    // same record and the same pair.
    pairs.sort_unstable();
    pairs.dedup();
    Ok(Made {
        map: RekeyMap {
            dataset: settings.dataset.clone(),
            old_key: MapKey {
                fingerprint: old.fingerprint(),
                key_id: old.id(),
            },
            new_key: MapKey {
                fingerprint: new.fingerprint(),
                key_id: new.id(),
            },
            pairs,
        },
        rows,
        skipped,
    })
}

/// Writes `map` to `output`, which must not exist (mode 0600: it pairs the
/// references of two keys).
pub fn write(map: &RekeyMap, output: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options
        .open(output)
        .with_context(|| format!("cannot create {} (it must not exist yet)", output.display()))?;
    std::io::Write::write_all(&mut out, map.render().as_bytes())
        .and_then(|()| out.sync_all())
        .with_context(|| format!("cannot write {}", output.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_pairs_each_records_references_under_both_keys_and_holds_no_id() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let csv = dir.path().join("extract.csv");
        std::fs::write(
            &csv,
            "id,first,last,dob\nPR-1,Ann,Smith,1980-01-02\nPR-2,Bob,Jones,1990-03-04\n,Cy,Nobody,1970-01-01\n",
        )
        .expect("the extract writes");
        let config = PartnerConfig::parse(
            "dataset = \"probation_caseload\"\n[identifiers]\nrecord_id = \"id\"\ngiven_names = \"first\"\nfamily_name = \"last\"\ndate_of_birth = \"dob\"\n",
        )
        .expect("a partner config");
        let old = ProjectKey::from_bytes([1; 32]);
        let new = ProjectKey::from_bytes([2; 32])
            .with_id(pprl_specs::key::KeyId::try_new(2).expect("a key id"));
        let made = make(&old, &new, &config, &csv).expect("a map");
        assert_eq!((made.rows, made.skipped), (3, 1));
        let (o, n) = (MatchKeyHasher::new(&old), MatchKeyHasher::new(&new));
        let mut want = vec![
            (
                o.record_ref("probation_caseload", "PR-1"),
                n.record_ref("probation_caseload", "PR-1"),
            ),
            (
                o.record_ref("probation_caseload", "PR-2"),
                n.record_ref("probation_caseload", "PR-2"),
            ),
        ];
        want.sort_unstable();
        assert_eq!(made.map.pairs, want);
        assert_eq!(made.map.new_key.key_id.map(|k| k.get()), Some(2));
        let text = made.map.render();
        assert!(!text.contains("PR-"), "{text}");
        assert_eq!(RekeyMap::parse(text.as_bytes()), Ok(made.map));
        let same = make(&old, &ProjectKey::from_bytes([1; 32]), &config, &csv)
            .expect_err("the same key twice is refused");
        assert!(same.to_string().contains("the same key"), "{same}");
    }
}
