//! The generator's ground truth, read back for scoring: shared by the
//! linkage and corpora benches (`#[path]`-included).

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use pprl_keyed::matchkey::MatchKeyHasher;
use pprl_linker::linkage::Records;
use pprl_specs::matchkey::Token;

/// Adds each truth row (`dataset,record,P<person>`) to `person`, keyed by
/// the record reference the row's record gets under the hasher's key.
pub fn add_generated(
    truth_csv: &[u8],
    hasher: &MatchKeyHasher,
    person: &mut HashMap<Token, u32>,
) -> Result<()> {
    for line in std::str::from_utf8(truth_csv)?.lines() {
        let mut fields = line.split(',');
        let (Some(dataset), Some(record), Some(id)) = (fields.next(), fields.next(), fields.next())
        else {
            bail!("a truth row has three fields: {line:?}");
        };
        let id: u32 = id
            .trim_start_matches('P')
            .parse()
            .with_context(|| format!("person id in {line:?}"))?;
        person.insert(hasher.record_ref(dataset, record), id);
    }
    Ok(())
}

/// The true person of every loaded record.
pub fn person_of_records(person: &HashMap<Token, u32>, records: &Records) -> Result<Vec<u32>> {
    records
        .record_ref
        .iter()
        .map(|r| {
            person
                .get(r)
                .copied()
                .context("every loaded record is in the ground truth")
        })
        .collect()
}
