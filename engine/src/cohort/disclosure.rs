//! Disclosure control for published tables: primary suppression of small
//! counts, secondary suppression so that no suppressed count can be worked
//! out from the published ones and the totals, and then perturbation of
//! what is published: the cell-key method by default ([`super::ptable`]),
//! or rounding to a base (the legacy `method = "round"`).
//!
//! A [`Table`] is a list of items: interior cells, then sums over sets of
//! cells (row, column and other totals). Every item is published unless
//! suppressed, including the ones a report does not print (an item that can
//! be derived from printed ones counts as published). Items fixed by an
//! earlier table (group sizes printed once for the whole cohort) may not be
//! suppressed here.
//!
//! The check that nothing suppressed can be recovered is exact linear
//! algebra over the published equations (a suppressed item is recoverable
//! when its unit vector lies in the row space of the equations over the
//! suppressed items); secondary suppression adds items until that check
//! passes. Suppression is decided on the true counts; the check is kept as
//! it is under perturbation too, where the published equations no longer
//! hold exactly (each item, totals included, is perturbed as a cell of its
//! own), so exact recovery is blurred further still.
//!
//! Under the cell-key method every item carries the key of its members
//! (a sum's key is the sum of its member cells' keys, since the cells are
//! disjoint), so an item with the same people is published with the same
//! value in every table and every run, and published totals need not equal
//! the sum of their published parts.

use serde::{Deserialize, Serialize};

use super::ptable::{CellKey, PTable};

/// A table to protect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Values of the interior cells.
    pub cells: Vec<u64>,
    /// Each sum's member cells; the sum's value is their total.
    pub sums: Vec<Vec<usize>>,
    /// Items (cells first, then sums) that must stay published.
    pub fixed: Vec<usize>,
    /// Each interior cell's cell key: the sum of its members' record keys
    /// (used by the cell-key method only; empty means all zero).
    pub keys: Vec<CellKey>,
}

/// Why an item was not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    /// The count is between 1 and the minimum cell count.
    SmallCount,
    /// Withheld so that a small count cannot be worked out from the totals.
    Secondary,
}

impl Suppression {
    pub fn explain(self, min_cell: u64) -> String {
        match self {
            Suppression::SmallCount => format!("fewer than {min_cell} people"),
            Suppression::Secondary => format!(
                "withheld so that a count of fewer than {min_cell} cannot be worked out from the totals"
            ),
        }
    }
}

/// How a count that is not suppressed is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perturbation {
    /// The cell-key method: the count plus the p-table's perturbation for
    /// its cell key ([`super::ptable`]).
    CellKey,
    /// Rounded to the nearest multiple of `base` (halves up), never into
    /// `1..min_cell`; the same for every run, so a one-person difference
    /// that crosses a rounding boundary shows (issue 17).
    Round { base: u64 },
}

/// The rules.
#[derive(Debug, Clone)]
pub struct Rules {
    pub min_cell: u64,
    pub perturbation: Perturbation,
    ptable: PTable,
}

impl Rules {
    pub fn new(min_cell: u64, perturbation: Perturbation) -> Rules {
        Rules {
            min_cell,
            perturbation,
            ptable: PTable::new(min_cell),
        }
    }

    /// The published value of a count that is not suppressed.
    pub fn publish(&self, value: u64, key: CellKey) -> u64 {
        match self.perturbation {
            Perturbation::CellKey => self.ptable.publish(value, key),
            Perturbation::Round { base } => round(value, self.min_cell, base),
        }
    }
}

/// A protected table: per item, the published value or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    pub items: Vec<Result<u64, Suppression>>,
}

impl Table {
    /// Number of items (cells and sums).
    pub fn len(&self) -> usize {
        self.cells.len() + self.sums.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The exact value of every item.
    pub fn values(&self) -> Vec<u64> {
        let mut v = self.cells.clone();
        v.extend(
            self.sums
                .iter()
                .map(|s| s.iter().map(|&c| self.cells[c]).sum::<u64>()),
        );
        v
    }

    /// The cell key of every item.
    pub fn item_keys(&self) -> Vec<CellKey> {
        let cell = |c: usize| self.keys.get(c).copied().unwrap_or_default();
        let mut k: Vec<CellKey> = (0..self.cells.len()).map(cell).collect();
        k.extend(
            self.sums
                .iter()
                .map(|s| CellKey::sum(s.iter().map(|&c| cell(c)))),
        );
        k
    }

    /// Each sum as a line: its members and itself.
    fn lines(&self) -> Vec<Vec<usize>> {
        let k = self.cells.len();
        self.sums
            .iter()
            .enumerate()
            .map(|(j, members)| {
                let mut line = members.clone();
                line.push(k + j);
                line
            })
            .collect()
    }

    /// Which suppressed items the published ones determine.
    pub fn recoverable(&self, suppressed: &[bool]) -> Vec<usize> {
        let unknown: Vec<usize> = (0..self.len()).filter(|&i| suppressed[i]).collect();
        if unknown.is_empty() {
            return Vec::new();
        }
        let column = |item: usize| unknown.iter().position(|&u| u == item);
        let rows: Vec<Vec<f64>> = self
            .lines()
            .iter()
            .map(|line| {
                let mut row = vec![0.0; unknown.len()];
                let (sum, members) = line.split_last().expect("a line has its sum");
                for m in members {
                    if let Some(c) = column(*m) {
                        row[c] += 1.0;
                    }
                }
                if let Some(c) = column(*sum) {
                    row[c] -= 1.0;
                }
                row
            })
            .filter(|r| r.iter().any(|v| *v != 0.0))
            .collect();
        let base = rank(rows.clone());
        unknown
            .iter()
            .enumerate()
            .filter(|(c, _)| {
                let mut with = rows.clone();
                let mut e = vec![0.0; unknown.len()];
                e[*c] = 1.0;
                with.push(e);
                rank(with) == base
            })
            .map(|(_, &item)| item)
            .collect()
    }

    /// Applies primary and secondary suppression, then perturbation.
    pub fn protect(&self, rules: &Rules) -> Protected {
        let state = self.suppression(rules.min_cell);
        self.publish(&state, rules)
    }

    /// Publishes every item not suppressed in `state`, perturbed.
    pub fn publish(&self, state: &[Option<Suppression>], rules: &Rules) -> Protected {
        Protected {
            items: self
                .values()
                .iter()
                .zip(self.item_keys())
                .zip(state)
                .map(|((&v, key), s)| match s {
                    Some(reason) => Err(*reason),
                    None => Ok(rules.publish(v, key)),
                })
                .collect(),
        }
    }

    /// Primary and secondary suppression, decided on the true counts.
    pub fn suppression(&self, min_cell: u64) -> Vec<Option<Suppression>> {
        let values = self.values();
        let n = self.len();
        let fixed = |i: usize| self.fixed.contains(&i);
        let mut state: Vec<Option<Suppression>> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (!fixed(i) && v > 0 && v < min_cell).then_some(Suppression::SmallCount))
            .collect();
        let lines = self.lines();
        // The free, published item of a line to suppress next: the smallest.
        let pick = |state: &[Option<Suppression>], line: &[usize]| {
            line.iter()
                .copied()
                .filter(|&i| state[i].is_none() && !fixed(i))
                .min_by_key(|&i| (values[i], i))
        };
        // Every line with one suppressed item gets a second one…
        loop {
            let mut changed = false;
            for line in &lines {
                if line.iter().filter(|&&i| state[i].is_some()).count() == 1
                    && let Some(i) = pick(&state, line)
                {
                    state[i] = Some(Suppression::Secondary);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // …then, while the equations still give a suppressed item away, the
        // free item whose suppression leaves the fewest recoverable (the
        // smallest on a tie). Suppressing more only removes information,
        // so this ends.
        let suppressed = |state: &[Option<Suppression>]| -> Vec<bool> {
            state.iter().map(Option::is_some).collect()
        };
        while !self.recoverable(&suppressed(&state)).is_empty() {
            let best = (0..n)
                .filter(|&i| state[i].is_none() && !fixed(i))
                .min_by_key(|&i| {
                    let mut trial = suppressed(&state);
                    trial[i] = true;
                    (self.recoverable(&trial).len(), values[i], i)
                });
            match best {
                Some(i) => state[i] = Some(Suppression::Secondary),
                None => {
                    // Only the fixed items give it away: withhold everything.
                    for s in state.iter_mut() {
                        s.get_or_insert(Suppression::Secondary);
                    }
                    break;
                }
            }
        }
        state
    }
}

/// Rounds to the nearest multiple of the base (halves up); a positive count
/// never rounds to a value between 0 and the minimum cell count.
pub fn round(value: u64, min_cell: u64, base: u64) -> u64 {
    let base = base.max(1);
    let mut r = (value + base / 2) / base * base;
    if value > 0 && r < min_cell {
        r = min_cell.div_ceil(base) * base;
    }
    r
}

/// Rank of a small matrix by Gaussian elimination with partial pivoting.
fn rank(mut rows: Vec<Vec<f64>>) -> usize {
    let Some(width) = rows.first().map(Vec::len) else {
        return 0;
    };
    let mut rank = 0;
    for col in 0..width {
        let Some(pivot) = (rank..rows.len())
            .max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))
            .filter(|&p| rows[p][col].abs() > 1e-9)
        else {
            continue;
        };
        rows.swap(rank, pivot);
        for r in 0..rows.len() {
            if r != rank {
                let f = rows[r][col] / rows[rank][col];
                if f != 0.0 {
                    let pivot_row = rows[rank].clone();
                    for (x, p) in rows[r][col..].iter_mut().zip(&pivot_row[col..]) {
                        *x -= f * p;
                    }
                }
            }
        }
        rank += 1;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×2 table with row, column and grand totals.
    fn two_by_two(a: u64, b: u64, c: u64, d: u64) -> Table {
        Table {
            cells: vec![a, b, c, d],
            sums: vec![
                vec![0, 1],
                vec![2, 3],
                vec![0, 2],
                vec![1, 3],
                vec![0, 1, 2, 3],
            ],
            fixed: vec![],
            keys: [17, 90, 201, 5].map(CellKey).to_vec(),
        }
    }

    fn rounding() -> Rules {
        Rules::new(10, Perturbation::Round { base: 5 })
    }

    #[test]
    fn one_small_cell_hides_a_rectangle() {
        for rules in [rounding(), Rules::new(10, Perturbation::CellKey)] {
            let p = two_by_two(3, 40, 50, 60).protect(&rules);
            let hidden: Vec<usize> = (0..9).filter(|&i| p.items[i].is_err()).collect();
            assert_eq!(p.items[0], Err(Suppression::SmallCount));
            assert!(hidden.len() >= 4, "{hidden:?}");
            let t = two_by_two(3, 40, 50, 60);
            let suppressed: Vec<bool> = p.items.iter().map(Result::is_err).collect();
            assert!(t.recoverable(&suppressed).is_empty());
        }
    }

    #[test]
    fn nothing_small_nothing_hidden_and_rounded() {
        let p = two_by_two(12, 40, 53, 60).protect(&rounding());
        assert_eq!(p.items[0], Ok(10));
        assert_eq!(p.items[2], Ok(55));
        assert!(p.items.iter().all(Result::is_ok));
    }

    #[test]
    fn rounding_never_lands_in_the_small_range() {
        assert_eq!(round(10, 10, 3), 12);
        assert_eq!(round(0, 10, 3), 0);
        assert_eq!(round(14, 10, 3), 15);
        assert_eq!(round(7, 10, 5), 10);
    }

    /// Issue 17: each item, totals included, is perturbed by its own cell
    /// key, within the p-table's bound and never under min_cell.
    #[test]
    fn cell_key_perturbs_every_item_by_its_own_key() {
        let rules = Rules::new(10, Perturbation::CellKey);
        let t = two_by_two(12, 40, 53, 60);
        let p = t.protect(&rules);
        let keys = t.item_keys();
        assert_eq!(keys[4], CellKey(17u8.wrapping_add(90)));
        assert_eq!(
            keys[8],
            CellKey(17u8.wrapping_add(90).wrapping_add(201).wrapping_add(5))
        );
        for ((item, v), key) in p.items.iter().zip(t.values()).zip(keys) {
            let published = item.expect("nothing is small");
            assert_eq!(published, rules.ptable.publish(v, key));
            assert!(published.abs_diff(v) <= super::super::ptable::MAX_PERTURBATION);
            assert!(published >= 10);
        }
        // The same people give the same figures.
        assert_eq!(t.protect(&rules), p);
    }
}
