//! The perturbation table (p-table) of the cell-key method (issue 17), as
//! ONS used for Census 2021 and ABS for TableBuilder.
//!
//! Every person carries a *record key* in `0..KEY_RANGE` (drawn by the
//! linker from a project secret; see `pprl_linker::cohort::record_keys`).
//! A published item's *cell key* is the sum of its members' record keys
//! modulo [`KEY_RANGE`], so the same people always give the same cell key.
//! The p-table maps (count, cell key) to a perturbation in
//! `-MAX_PERTURBATION..=MAX_PERTURBATION`, added to the count before it is
//! published. The table is fixed: the same people give the same published
//! count every night, and one more or one fewer person moves the cell key
//! to a value that, not knowing the secret, is uniformly random.
//!
//! # Derivation
//!
//! A row says, for each perturbation `d` in `-2..=2`, how many of the 256
//! keys map to it. Far from the threshold every row is [`BASE_ROW`]
//! (`16, 64, 96, 64, 16`: zero mean, variance 1, the count itself published
//! for 96 keys in 256). Nearer, perturbations that would publish a value
//! under `min_cell` are clamped up to the smallest allowed one, and the
//! mean they gain is taken back by moving mass from the positive side to
//! zero, so every row keeps a zero mean. Counts of `min_cell + 2` and more
//! use the base row; `min_cell + 1` uses `0, 80, 104, 64, 8`; `min_cell`
//! itself is published unperturbed (no zero-mean perturbation can stay at
//! or above it). The keys of a row are laid out in order of perturbation
//! (keys 0–15 give −2, 16–79 −1, …), as ONS lays out its intervals.
//!
//! Zero is never perturbed (an empty cell stays 0), and a non-zero count
//! below `min_cell` — only a fixed item can reach publication with one —
//! is published as `min_cell`, as rounding did.

/// Record keys and cell keys lie in `0..KEY_RANGE` (ONS: 256).
pub const KEY_RANGE: usize = 256;

/// The largest perturbation, either way.
pub const MAX_PERTURBATION: u64 = 2;

/// The name of this table in `outcomes.json`: change it if the table
/// changes, since published figures change with it.
pub const PTABLE_NAME: &str = "pprl-ptable/1";

/// Keys per perturbation `-2..=2` for counts far from the threshold.
pub const BASE_ROW: [u16; 5] = [16, 64, 96, 64, 16];

/// A record's or a cell's key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CellKey(pub u8);

impl CellKey {
    /// The key of the union of two disjoint sets of records.
    pub fn plus(self, other: CellKey) -> CellKey {
        CellKey(self.0.wrapping_add(other.0))
    }

    /// The key of `times` copies of one record (a person's events each
    /// carry the person's key).
    pub fn times(self, times: u64) -> CellKey {
        // Modulo 256, only the low byte of the multiplier matters.
        CellKey(self.0.wrapping_mul(times as u8))
    }

    /// The key of a set of records.
    pub fn sum(keys: impl IntoIterator<Item = CellKey>) -> CellKey {
        keys.into_iter().fold(CellKey(0), CellKey::plus)
    }
}

/// The rows for one `min_cell`, laid out over the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PTable {
    min_cell: u64,
    /// Rows for counts `min_cell`, `min_cell + 1` and `min_cell + 2` on.
    rows: [[i8; KEY_RANGE]; 3],
}

impl PTable {
    pub fn new(min_cell: u64) -> PTable {
        let rows = [0, 1, 2].map(|offset| layout(row(offset)));
        PTable { min_cell, rows }
    }

    /// The perturbation for a count with a cell key (see the module docs
    /// for zero and small counts).
    pub fn perturbation(&self, count: u64, key: CellKey) -> i64 {
        if count == 0 {
            return 0;
        }
        if count < self.min_cell {
            return (self.min_cell - count) as i64;
        }
        let offset = (count - self.min_cell).min(2) as usize;
        i64::from(self.rows[offset][usize::from(key.0)])
    }

    /// The published value of a count with a cell key.
    pub fn publish(&self, count: u64, key: CellKey) -> u64 {
        count.saturating_add_signed(self.perturbation(count, key))
    }
}

/// The row for a count `offset` above `min_cell`: keys per perturbation
/// `-2..=2`, summing to [`KEY_RANGE`], with zero mean and no perturbation
/// below `-offset`.
pub fn row(offset: u64) -> [u16; 5] {
    let mut n = BASE_ROW;
    // Clamp: the mass of a perturbation that would go under min_cell moves
    // to the smallest allowed one.
    let lowest = -(offset.min(MAX_PERTURBATION) as i64);
    for d in -2..lowest {
        let i = (d + 2) as usize;
        let to = (lowest + 2) as usize;
        n[to] += n[i];
        n[i] = 0;
    }
    // Rebalance: take the mean the clamping added back, moving keys from
    // the positive perturbations towards zero.
    let mut moment: i64 = (0..5).map(|i| (i as i64 - 2) * i64::from(n[i])).sum();
    while moment > 0 {
        if moment >= 2 && n[4] > 0 {
            n[4] -= 1;
            n[2] += 1;
            moment -= 2;
        } else if n[3] > 0 {
            n[3] -= 1;
            n[2] += 1;
            moment -= 1;
        } else {
            // moment == 1 with only +2 left: +2 to +1.
            n[4] -= 1;
            n[3] += 1;
            moment -= 1;
        }
    }
    n
}

/// Key `k` of a row gets the perturbation at quantile `k / KEY_RANGE`.
fn layout(counts: [u16; 5]) -> [i8; KEY_RANGE] {
    let mut out = [0i8; KEY_RANGE];
    let mut k = 0;
    for (i, &c) in counts.iter().enumerate() {
        for _ in 0..c {
            out[k] = i as i8 - 2;
            k += 1;
        }
    }
    debug_assert_eq!(k, KEY_RANGE, "a row covers every key");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_bounded_zero_mean_and_never_publishes_under_min_cell() {
        for min_cell in 1..=15u64 {
            let table = PTable::new(min_cell);
            for count in min_cell..min_cell + 8 {
                let ds: Vec<i64> = (0..KEY_RANGE)
                    .map(|k| table.perturbation(count, CellKey(k as u8)))
                    .collect();
                assert_eq!(ds.iter().sum::<i64>(), 0, "zero mean for {count}");
                assert!(ds.iter().all(|d| d.unsigned_abs() <= MAX_PERTURBATION));
                assert!(
                    (0..KEY_RANGE).all(|k| table.publish(count, CellKey(k as u8)) >= min_cell),
                    "count {count} published under {min_cell}"
                );
            }
            for k in 0..KEY_RANGE {
                assert_eq!(table.publish(0, CellKey(k as u8)), 0, "zero stays zero");
                assert_eq!(table.publish(min_cell, CellKey(k as u8)), min_cell);
            }
        }
    }

    #[test]
    fn the_rows_are_the_documented_ones() {
        assert_eq!(row(0), [0, 0, 256, 0, 0]);
        assert_eq!(row(1), [0, 80, 104, 64, 8]);
        assert_eq!(row(2), BASE_ROW);
        assert_eq!(row(9), BASE_ROW);
        assert_eq!(BASE_ROW.iter().sum::<u16>() as usize, KEY_RANGE);
    }

    /// The exact distribution of `published_2 - published_1` for one cell
    /// whose count goes from `a` to `b`, when the cell keys of the two
    /// releases are independent and uniform (they differ by the record key
    /// of the one person added or removed, which an evaluator cannot know).
    fn difference(table: &PTable, a: u64, b: u64) -> std::collections::BTreeMap<i64, u32> {
        let mut out = std::collections::BTreeMap::new();
        for k1 in 0..KEY_RANGE {
            for k2 in 0..KEY_RANGE {
                let p1 = table.publish(a, CellKey(k1 as u8)) as i64;
                let p2 = table.publish(b, CellKey(k2 as u8)) as i64;
                *out.entry(p2 - p1).or_insert(0) += 1;
            }
        }
        out
    }

    /// One person more or fewer in a published cell: the published figure
    /// does not move at all for at least a fifth of the keys, moves by the
    /// true ±1 for well under half, and takes at least four values.
    #[test]
    fn a_one_person_difference_does_not_show_through() {
        let all = (KEY_RANGE * KEY_RANGE) as f64;
        for min_cell in [1u64, 3, 10] {
            let table = PTable::new(min_cell);
            for a in min_cell..min_cell + 6 {
                for (from, to) in [(a, a + 1), (a + 1, a)] {
                    let delta = to as i64 - from as i64;
                    let dist = difference(&table, from, to);
                    let p = |v: i64| f64::from(dist.get(&v).copied().unwrap_or(0)) / all;
                    assert!(p(0) >= 0.2, "{from} → {to}: P(0) = {}", p(0));
                    assert!(p(delta) <= 0.45, "{from} → {to}: P(±1) = {}", p(delta));
                    assert!(dist.len() >= 4, "{from} → {to}: {dist:?}");
                }
            }
        }
    }

    #[test]
    fn cell_keys_add_modulo_the_range() {
        assert_eq!(CellKey(200).plus(CellKey(100)), CellKey(44));
        assert_eq!(CellKey(3).times(300), CellKey((900 % 256) as u8));
        assert_eq!(
            CellKey::sum([CellKey(255), CellKey(1), CellKey(7)]),
            CellKey(7)
        );
    }
}
