//! Pairwise scoring of a clustering against the truth, shared by the
//! linkage and corpora benches (`#[path]`-included: benches are separate
//! crates).

use std::collections::HashMap;

/// Pairwise link counts of a clustering against the truth.
pub struct Pairwise {
    pub found: u64,
    pub predicted: u64,
    pub truth: u64,
}

impl Pairwise {
    pub fn precision(&self) -> f64 {
        self.found as f64 / self.predicted.max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.found as f64 / self.truth.max(1) as f64
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Counts pairs within clusters, within true persons, and within both,
/// from group sizes (no pair is enumerated).
pub fn pairwise(cluster: &[u32], person: &[u32]) -> Pairwise {
    let pairs = |counts: HashMap<(u32, u32), u64>| -> u64 {
        counts.values().map(|&c| c * c.saturating_sub(1) / 2).sum()
    };
    let mut by_cluster = HashMap::new();
    let mut by_person = HashMap::new();
    let mut by_both = HashMap::new();
    for (&c, &p) in cluster.iter().zip(person) {
        *by_cluster.entry((c, 0)).or_default() += 1;
        *by_person.entry((p, 0)).or_default() += 1;
        *by_both.entry((c, p)).or_default() += 1;
    }
    Pairwise {
        found: pairs(by_both),
        predicted: pairs(by_cluster),
        truth: pairs(by_person),
    }
}
