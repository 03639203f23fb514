//! Persons: accepted links clustered with union–find, strongest first, with
//! two guards against chaining unrelated people together:
//! - a dataset declared one-record-per-person never contributes two records
//!   to one person;
//! - a link weaker than the strong threshold may not merge two clusters that
//!   each already hold two or more records.

/// An accepted link between two records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub a: u32,
    pub b: u32,
    pub probability: f64,
    /// The first match key in cascade order the pair agrees on; `None` for a
    /// link found by the Bloom encoding alone.
    pub rule: Option<u8>,
}

/// The result of clustering.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// Cluster number of each record, `0..clusters`, in order of first record.
    pub cluster: Vec<u32>,
    pub clusters: usize,
    /// Per record: the strongest link that joined it, if any.
    pub best: Vec<Option<Link>>,
    pub accepted: usize,
    pub refused_one_per_person: usize,
    pub refused_weak: usize,
}

struct Sets {
    parent: Vec<u32>,
    size: Vec<u32>,
    /// Bit `d` set when the set holds a record of one-record-per-person dataset `d`.
    exclusive: Vec<u64>,
}

impl Sets {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let up = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = up;
            x = up;
        }
        x
    }
}

/// Clusters `n` records. `dataset[i]` is record i's dataset; `one_per_person[d]`
/// says whether dataset `d` holds at most one record per person (at most 64
/// datasets may say so).
pub fn cluster(
    dataset: &[u16],
    one_per_person: &[bool],
    mut links: Vec<Link>,
    strong: f64,
) -> Clustering {
    let n = dataset.len();
    let mut sets = Sets {
        parent: (0..n as u32).collect(),
        size: vec![1; n],
        exclusive: dataset
            .iter()
            .map(|&d| {
                if one_per_person[d as usize] {
                    1u64 << (d % 64)
                } else {
                    0
                }
            })
            .collect(),
    };
    // Strongest first; among equally probable links (all of them, for the
    // cascade) the earlier rule in cascade order first, Bloom-only last.
    let rank = |l: &Link| l.rule.unwrap_or(u8::MAX);
    links.sort_by(|x, y| {
        y.probability
            .total_cmp(&x.probability)
            .then(rank(x).cmp(&rank(y)))
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    let mut out = Clustering {
        cluster: Vec::new(),
        clusters: 0,
        best: vec![None; n],
        accepted: 0,
        refused_one_per_person: 0,
        refused_weak: 0,
    };
    for link in links {
        let (ra, rb) = (sets.find(link.a), sets.find(link.b));
        if ra == rb {
            continue;
        }
        if sets.exclusive[ra as usize] & sets.exclusive[rb as usize] != 0 {
            out.refused_one_per_person += 1;
            continue;
        }
        if link.probability < strong && sets.size[ra as usize] >= 2 && sets.size[rb as usize] >= 2 {
            out.refused_weak += 1;
            continue;
        }
        let (big, small) = if sets.size[ra as usize] >= sets.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        sets.parent[small as usize] = big;
        sets.size[big as usize] += sets.size[small as usize];
        sets.exclusive[big as usize] |= sets.exclusive[small as usize];
        out.accepted += 1;
        for r in [link.a, link.b] {
            if out.best[r as usize].is_none() {
                out.best[r as usize] = Some(link);
            }
        }
    }
    let mut number = vec![u32::MAX; n];
    out.cluster = (0..n as u32)
        .map(|i| {
            let root = sets.find(i) as usize;
            if number[root] == u32::MAX {
                number[root] = out.clusters as u32;
                out.clusters += 1;
            }
            number[root]
        })
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: u32, b: u32, probability: f64) -> Link {
        Link {
            a,
            b,
            probability,
            rule: Some(0),
        }
    }

    #[test]
    fn links_join_records_across_datasets() {
        let c = cluster(
            &[0, 1, 2, 0],
            &[false; 3],
            vec![link(0, 1, 0.99), link(1, 2, 0.95)],
            0.99,
        );
        assert_eq!(c.cluster, vec![0, 0, 0, 1]);
        assert_eq!(c.clusters, 2);
        assert_eq!(c.best[2].map(|l| l.probability), Some(0.95));
    }

    #[test]
    fn one_record_per_person_datasets_never_contribute_two() {
        // records 0 and 2 are both from dataset 0, declared one-per-person
        let c = cluster(
            &[0, 1, 0],
            &[true, false],
            vec![link(0, 1, 0.999), link(1, 2, 0.998)],
            0.99,
        );
        assert_ne!(c.cluster[0], c.cluster[2]);
        assert_eq!(c.refused_one_per_person, 1);
    }

    #[test]
    fn weak_links_do_not_merge_two_strong_clusters() {
        let links = vec![
            link(0, 1, 0.999),
            link(2, 3, 0.999),
            link(1, 2, 0.95),
            link(3, 4, 0.95),
        ];
        let c = cluster(&[0, 1, 0, 1, 2], &[false; 3], links, 0.99);
        assert_ne!(
            c.cluster[0], c.cluster[2],
            "the weak 1-2 link would chain two people"
        );
        assert_eq!(
            c.cluster[3], c.cluster[4],
            "a weak link may still attach a single record"
        );
        assert_eq!(c.refused_weak, 1);
    }
}
