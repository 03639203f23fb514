//! Stable person identifiers across runs.
//!
//! A new cluster takes the previous identifier most of its records carried,
//! greedily by overlap, so that unchanged inputs keep every identifier and
//! new records join existing persons under their old identifiers. A cluster
//! with no previous identifier gets a new random one. When clusters merge,
//! the identifier with the largest overlap survives and the others are
//! recorded as absorbed; when a person splits, the largest part keeps the
//! identifier and the split is recorded. Identifiers are random: they are not
//! derived from tokens and mean nothing outside the project.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

/// A record's identity across runs: dataset name and keyed record reference.
pub type RecordKey = (String, [u8; 16]);

/// What changed since the previous run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Changes {
    pub persons_before: usize,
    pub persons_after: usize,
    pub new_persons: usize,
    pub kept: usize,
    /// Surviving identifier and the identifiers it absorbed.
    pub merges: Vec<Merge>,
    /// Identifier that split and the new identifiers of its other parts.
    pub splits: Vec<Split>,
    /// Previous identifiers no longer in use (absorbed, or all records gone).
    pub retired: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Merge {
    pub kept: String,
    pub absorbed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Split {
    pub kept: String,
    pub parts: Vec<String>,
}

/// Assigns an identifier to each cluster. `previous[i]` is record i's
/// identifier in the last publication, if it was in it; `fresh` draws a new
/// random identifier.
pub fn assign(
    cluster: &[u32],
    clusters: usize,
    previous: &[Option<String>],
    mut fresh: impl FnMut() -> String,
) -> (Vec<String>, Changes) {
    // Overlaps between new clusters and previous identifiers.
    let mut overlap: HashMap<(u32, &str), usize> = HashMap::new();
    for (c, p) in cluster.iter().zip(previous) {
        if let Some(p) = p {
            *overlap.entry((*c, p.as_str())).or_default() += 1;
        }
    }
    let mut candidates: Vec<((u32, &str), usize)> = overlap.into_iter().collect();
    candidates.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.1.cmp(y.0.1)).then(x.0.0.cmp(&y.0.0)));
    let mut ids: Vec<Option<String>> = vec![None; clusters];
    let mut used: HashSet<&str> = HashSet::new();
    for ((c, p), _) in &candidates {
        if ids[*c as usize].is_none() && used.insert(p) {
            ids[*c as usize] = Some((*p).to_owned());
        }
    }
    let previous_ids: HashSet<&str> = previous.iter().flatten().map(String::as_str).collect();
    let mut changes = Changes {
        persons_before: previous_ids.len(),
        persons_after: clusters,
        ..Default::default()
    };
    let mut taken: HashSet<String> = previous_ids.iter().map(|s| (*s).to_owned()).collect();
    let ids: Vec<String> = ids
        .into_iter()
        .map(|id| match id {
            Some(id) => {
                changes.kept += 1;
                id
            }
            None => {
                changes.new_persons += 1;
                loop {
                    let id = fresh();
                    if taken.insert(id.clone()) {
                        break id;
                    }
                }
            }
        })
        .collect();
    // Merges: a cluster whose records carried several previous identifiers.
    let mut carried: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    // Splits: a previous identifier whose records are now in several clusters.
    let mut parts: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for ((c, p), _) in &candidates {
        carried.entry(*c).or_default().push(p);
        parts.entry(p).or_default().push(*c);
    }
    for (c, mut olds) in carried {
        olds.sort_unstable();
        olds.dedup();
        let kept = &ids[c as usize];
        let absorbed: Vec<String> = olds
            .iter()
            .filter(|o| **o != kept.as_str())
            .map(|o| (*o).to_owned())
            .collect();
        if !absorbed.is_empty() && olds.contains(&kept.as_str()) {
            changes.merges.push(Merge {
                kept: kept.clone(),
                absorbed,
            });
        }
    }
    for (old, mut cs) in parts {
        cs.sort_unstable();
        cs.dedup();
        if cs.len() > 1 {
            let others: Vec<String> = cs
                .iter()
                .map(|c| ids[*c as usize].clone())
                .filter(|id| id != old)
                .collect();
            changes.splits.push(Split {
                kept: old.to_owned(),
                parts: others,
            });
        }
    }
    changes.retired = previous_ids.iter().filter(|p| !used.contains(*p)).count();
    (ids, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("new{n}")
        }
    }

    fn some(ids: &[&str]) -> Vec<Option<String>> {
        ids.iter()
            .map(|s| {
                if s.is_empty() {
                    None
                } else {
                    Some((*s).to_owned())
                }
            })
            .collect()
    }

    #[test]
    fn unchanged_clusters_keep_their_identifiers() {
        let (ids, changes) = assign(&[0, 0, 1], 2, &some(&["a", "a", "b"]), counter());
        assert_eq!(ids, vec!["a", "b"]);
        assert_eq!(
            (changes.kept, changes.new_persons, changes.retired),
            (2, 0, 0)
        );
    }

    #[test]
    fn new_records_join_old_persons_and_new_persons_get_new_ids() {
        let (ids, changes) = assign(&[0, 0, 1, 2], 3, &some(&["a", "", "b", ""]), counter());
        assert_eq!(ids, vec!["a", "b", "new1"]);
        assert_eq!(changes.new_persons, 1);
    }

    #[test]
    fn merges_and_splits_are_recorded() {
        // a and b merge into one cluster; c splits into two.
        let (ids, changes) = assign(
            &[0, 0, 0, 1, 2],
            3,
            &some(&["a", "a", "b", "c", "c"]),
            counter(),
        );
        assert_eq!(ids[0], "a");
        assert_eq!(
            changes.merges,
            vec![Merge {
                kept: "a".into(),
                absorbed: vec!["b".into()]
            }]
        );
        assert_eq!(changes.splits.len(), 1);
        assert_eq!(changes.splits[0].kept, "c");
        assert_eq!(changes.retired, 1);
    }
}
