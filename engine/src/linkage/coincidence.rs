//! How often different people share each name key, estimated from outside
//! the model: from the pairs of records within one dataset.
//!
//! Without national numbers nothing in a pair's own evidence tells EM how
//! many of the pairs at a name level are strangers who share the key by
//! chance, and the answer depends on the population: at 5,000 records an
//! extract almost none share a date of birth and a postcode district, at
//! 1,000,000 most of the pairs that share nothing else do (issue 15,
//! session 12: 118,007 `dob_district` pairs, 10.8% of them true, all
//! linked). The pairs of records within one dataset are a second sample of
//! the same chance agreements, with far fewer true pairs among them (a
//! dataset's duplicates against a whole second dataset of the same people).
//! Per name level `L` (the strongest key a pair shares), with `w_L` and
//! `x_L` the pairs at that level per pair within datasets and across them:
//!
//! ```text
//! w_L = c_L + R·t_L        x_L = c_L + t_L
//! ```
//!
//! where `c_L` is the rate of chance agreement (the same within and across:
//! strangers are strangers), `t_L` the rate of true pairs across, and `R`
//! how much rarer true pairs are within than across, taken from the
//! levels of a full name and a whole date of birth ([`REFERENCE_LEVELS`],
//! `names_dob_postcode` to `first_family_dob_daymonth`), which strangers
//! rarely share (`R = w_ref / x_ref`; at a million records a side 1.2% of
//! them are strangers, which makes `R` a little high and the estimate a
//! little low). So `c_L = (w_L − R·x_L) / (1 − R)`. Where `R`
//! is near 1 (one file split in two, FEBRL 1–3: duplicates as common within
//! as across) the two equations say nothing, and no estimate is made.
//! Where a dataset has no duplicates, `R = 0` and `c_L = w_L`: its pairs
//! at a level are all chance agreements (or relatives: non-matches too).
//! Checked on plaintext (2 × ~1M generated records): 54,008 strangers share
//! a `dob_district` token across the datasets, estimated 53,737; 964 a
//! first name, family name and date of birth, estimated 963.
//!
//! The engine uses the estimate twice. As a check from outside the model
//! ([`precision_bound`], `Stats::strangers_precision`), which the guard
//! holds a run on. And inside the fit, as a floor on the u of the blocking
//! levels that no national numbers identify (`score::Model::fit_with`):
//! there nothing else says how many strangers share the key, and with
//! `pprl/v2`'s `first_dob` the answer at 100,000 records a side is most of
//! the pairs (issue 15, session 14). As a floor on every level where the
//! Dice is evidence (initials too) it cost recall at 100,000 and at 5,000
//! (session 12), and is not used there.

use serde::Serialize;

use super::candidates::{Blocking, unpack};
use super::records::Records;
use super::score::{self, Comparison, NAME_KEYS, NAME_LEVELS};

/// The name levels `R` is taken from: a full name and a whole date of
/// birth (with or without the postcode, the sex or the middle names, in
/// either order, day and month either way round). Several, not
/// `names_dob_postcode` alone, so that extracts without a postcode have one.
pub const REFERENCE_LEVELS: std::ops::Range<usize> = 0..6;

/// The within-to-across ratio of true pairs from which the two samples no
/// longer tell chance from duplicates (see the module).
pub const MAX_WITHIN_RATIO: f64 = 0.5;

/// The estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coincidences {
    /// `R`: pairs at the [`REFERENCE_LEVELS`] per pair within datasets,
    /// over the same across them.
    pub within_ratio: f64,
    /// Expected pairs of different people among the linkable pairs, per
    /// name level (strongest key shared; the last, no name key, is 0).
    pub expected: Vec<f64>,
}

/// Estimates the chance agreements at each name level of a run from the
/// pairs of records within a dataset that share a token
/// ([`Blocking::within`]) and the candidate pairs across datasets with
/// their comparisons; `None` where the two samples cannot tell them apart.
pub fn estimate(
    records: &Records,
    blocking: &Blocking,
    comparisons: &[Comparison],
) -> Option<Coincidences> {
    let within = score::compare(
        records,
        &blocking.frequency,
        &blocking.within,
        &vec![true; blocking.within.len()],
    );
    let mut within_levels = vec![0f64; NAME_LEVELS];
    for c in &within {
        within_levels[c.name as usize] += 1.0;
    }
    let mut cross_levels = vec![0f64; NAME_LEVELS];
    for (&p, c) in blocking.pairs.iter().zip(comparisons) {
        let (a, b) = unpack(p);
        if records.dataset[a as usize] != records.dataset[b as usize] {
            cross_levels[c.name as usize] += 1.0;
        }
    }
    let mut sizes = vec![0f64; records.datasets.len()];
    for &d in &records.dataset {
        sizes[d as usize] += 1.0;
    }
    let pairs_of = |n: f64| n * (n - 1.0) / 2.0;
    let within_pairs: f64 = sizes.iter().map(|&n| pairs_of(n)).sum();
    let all: f64 = sizes.iter().sum();
    let cross_pairs = pairs_of(all) - within_pairs;
    let linkable = cross_pairs
        + sizes
            .iter()
            .zip(&records.datasets)
            .filter(|(_, d)| !d.one_record_per_person)
            .map(|(&n, _)| pairs_of(n))
            .sum::<f64>();
    from_counts(
        &within_levels,
        &cross_levels,
        within_pairs,
        cross_pairs,
        linkable,
    )
}

/// The arithmetic of [`estimate`]: pairs per name level within datasets and
/// across them, the numbers of such pairs there are, and the linkable pairs
/// the expected chance agreements are counted among.
pub fn from_counts(
    within_levels: &[f64],
    cross_levels: &[f64],
    within_pairs: f64,
    cross_pairs: f64,
    linkable_pairs: f64,
) -> Option<Coincidences> {
    let reference = |levels: &[f64]| levels[REFERENCE_LEVELS].iter().sum::<f64>();
    if within_pairs <= 0.0 || cross_pairs <= 0.0 || reference(cross_levels) <= 0.0 {
        return None;
    }
    let (w, x) = (
        |l: usize| within_levels[l] / within_pairs,
        |l: usize| cross_levels[l] / cross_pairs,
    );
    let ratio = (reference(within_levels) / within_pairs) / (reference(cross_levels) / cross_pairs);
    if ratio >= MAX_WITHIN_RATIO {
        return None;
    }
    let expected = (0..within_levels.len())
        .map(|l| {
            if l == NAME_KEYS.len() {
                return 0.0;
            }
            ((w(l) - ratio * x(l)) / (1.0 - ratio)).max(0.0) * linkable_pairs
        })
        .collect();
    Some(Coincidences {
        within_ratio: ratio,
        expected,
    })
}

impl Coincidences {
    /// [`precision_bound`] of the links a run accepts: the candidate pairs'
    /// comparisons and probabilities, counted per name level, those at or
    /// above `threshold` as accepted.
    pub fn precision_of(
        &self,
        comparisons: &[Comparison],
        probabilities: &[f64],
        threshold: f64,
    ) -> f64 {
        let (mut pairs, mut accepted) = (vec![0f64; NAME_LEVELS], vec![0f64; NAME_LEVELS]);
        for (c, p) in comparisons.iter().zip(probabilities) {
            pairs[c.name as usize] += 1.0;
            if *p >= threshold {
                accepted[c.name as usize] += 1.0;
            }
        }
        precision_bound(self, &pairs, &accepted)
    }
}

/// The most the precision of a run's accepted links can be: at each name
/// level at most `pairs − expected strangers` of its pairs are true, so of
/// the `accepted` links there at least `accepted − that` are strangers.
/// (Pairs and accepted links per name level; the last level, no name key,
/// counts as all true.)
pub fn precision_bound(c: &Coincidences, pairs: &[f64], accepted: &[f64]) -> f64 {
    let total: f64 = accepted.iter().sum();
    if total <= 0.0 {
        return 1.0;
    }
    let strangers: f64 = (0..pairs.len().min(c.expected.len()))
        .map(|l| (accepted[l] - (pairs[l] - c.expected[l]).max(0.0)).max(0.0))
        .sum();
    1.0 - strangers / total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(first: f64, blocking: f64) -> Vec<f64> {
        let mut v = vec![0.0; NAME_LEVELS];
        v[0] = first;
        v[NAME_KEYS.len() - 1] = blocking;
        v
    }

    /// Two datasets of 1,000 records with no duplicates within: every
    /// within pair at a level is a chance agreement, at the same rate as
    /// across.
    #[test]
    fn without_duplicates_within_pairs_are_the_chance_rate() {
        let (within_pairs, cross_pairs) = (2.0 * 499_500.0, 1_000_000.0);
        // 50 within pairs share dob_district by chance: 5e-5 a pair.
        let c = from_counts(
            &levels(0.0, 50.0),
            &levels(800.0, 300.0),
            within_pairs,
            cross_pairs,
            cross_pairs,
        )
        .expect("identified");
        assert_eq!(c.within_ratio, 0.0);
        let blocking = c.expected[NAME_KEYS.len() - 1];
        assert!((blocking - 50.0 / within_pairs * cross_pairs).abs() < 1e-9);
        assert_eq!(c.expected[0], 0.0);
        assert_eq!(c.expected[NAME_KEYS.len()], 0.0);
    }

    /// Duplicates within at a tenth of the rate across: the true pairs'
    /// share of the within pairs is taken off before the rest is counted
    /// as chance.
    #[test]
    fn duplicates_within_are_taken_off() {
        let (pw, px) = (1e6, 1e6);
        // true pairs: 1,000 across at level 0 and 200 at the blocking
        // level; within: a tenth of that. Chance: 500 at the blocking level
        // in each sample.
        let c = from_counts(
            &levels(100.0, 20.0 + 500.0),
            &levels(1000.0, 200.0 + 500.0),
            pw,
            px,
            px,
        )
        .expect("identified");
        assert!((c.within_ratio - 0.1).abs() < 1e-12);
        assert!((c.expected[NAME_KEYS.len() - 1] - 500.0).abs() < 1e-6);
    }

    /// One file split in two: duplicates as common within as across, so
    /// nothing can be said; and no reference level at all.
    #[test]
    fn unidentified_when_within_is_like_across_or_empty() {
        let c = from_counts(&levels(90.0, 30.0), &levels(100.0, 30.0), 1e6, 1e6, 1e6);
        assert_eq!(c, None);
        assert_eq!(
            from_counts(&levels(0.0, 0.0), &levels(0.0, 5.0), 1e6, 1e6, 1e6),
            None
        );
        assert_eq!(
            from_counts(&levels(0.0, 0.0), &levels(5.0, 5.0), 0.0, 1e6, 1e6),
            None
        );
    }

    /// 1,000,000 records a side without numbers (session 12): a
    /// `dob_district` level whose pairs are nine in ten strangers, all
    /// accepted, caps the precision however confident the model is.
    #[test]
    fn accepted_strangers_bound_the_precision() {
        let blocking = NAME_KEYS.len() - 1;
        let mut expected = vec![0.0; NAME_LEVELS];
        expected[blocking] = 105_000.0;
        let c = Coincidences {
            within_ratio: 0.05,
            expected,
        };
        let (mut pairs, mut accepted) = (vec![0.0; NAME_LEVELS], vec![0.0; NAME_LEVELS]);
        pairs[0] = 700_000.0;
        accepted[0] = 700_000.0;
        pairs[blocking] = 118_000.0;
        accepted[blocking] = 118_000.0;
        let bound = precision_bound(&c, &pairs, &accepted);
        assert!(
            (bound - (1.0 - 105_000.0 / 818_000.0)).abs() < 1e-12,
            "{bound}"
        );
        // Only the true share accepted: nothing bounds it.
        accepted[blocking] = 13_000.0;
        assert_eq!(precision_bound(&c, &pairs, &accepted), 1.0);
        assert_eq!(precision_bound(&c, &pairs, &[0.0; NAME_LEVELS]), 1.0);
    }

    /// From records: two datasets of 2,000, 1,500 people in both (their
    /// records share every key), 100 of them twice in the first (in-file
    /// duplicates), and a date of birth and district drawn from 2,000
    /// values, which strangers share by chance and nothing else. The
    /// estimate of the strangers at the `dob_district` level is close to
    /// the count of such pairs across the datasets.
    #[test]
    fn estimates_the_strangers_of_generated_records() {
        use crate::linkage::candidates;
        use crate::linkage::records::DatasetInput;
        use pprl_specs::matchkey::{MATCH_KEY_COUNT, MATCH_KEYS};

        let token = |key: usize, value: u64| -> [u8; 16] {
            let mut t = [0u8; 16];
            t[..8].copy_from_slice(&value.to_le_bytes());
            t[8] = key as u8 + 1;
            t
        };
        let dd = MATCH_KEYS
            .iter()
            .position(|k| k.name == "dob_district")
            .expect("a v1 key");
        // Person ids per record: dataset 0 holds people 0..2000 and a
        // second record of 0..100; dataset 1 people 0..1500 and 5000..5500.
        let mut people: Vec<(u16, u64)> = (0..2000).map(|p| (0, p)).collect();
        people.extend((0..100).map(|p| (0, p)));
        people.extend((0..1500).map(|p| (1, p)));
        people.extend((5000..5500).map(|p| (1, p)));
        let mut r = Records::new();
        for d in 0..2 {
            r.datasets.push(DatasetInput {
                name: format!("d{d}"),
                version: 1,
                one_record_per_person: false,
                attribute_schema: Vec::new(),
                attributes: Vec::new(),
            });
        }
        let dob_district = |p: u64| p.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 2000;
        for (i, &(d, p)) in people.iter().enumerate() {
            r.dataset.push(d);
            r.record_ref.push(token(99, i as u64));
            r.row.push(i as u32);
            for k in 0..MATCH_KEY_COUNT {
                let value = if k == dd { dob_district(p) } else { p };
                r.keys[k].tokens.push(token(k, value));
                r.keys[k].present.push(true);
            }
            r.bloom.push([0; pprl_specs::bloom::BYTES]);
            r.has_bloom.push(false);
        }
        let blocking = candidates::block(&r, 200, true, &|_, _| true);
        let comparisons = score::compare(&r, &blocking.frequency, &blocking.pairs, &blocking.keyed);
        let level = NAME_KEYS.len() - 1;
        let truth = blocking
            .pairs
            .iter()
            .zip(&comparisons)
            .filter(|(p, c)| {
                let (a, b) = unpack(**p);
                c.name as usize == level
                    && r.dataset[a as usize] != r.dataset[b as usize]
                    && people[a as usize].1 != people[b as usize].1
            })
            .count() as f64;
        assert!(truth > 1000.0, "{truth} strangers across");
        let c = estimate(&r, &blocking, &comparisons).expect("identified");
        assert!(
            c.within_ratio > 0.0 && c.within_ratio < 0.1,
            "{}",
            c.within_ratio
        );
        // Counted among every linkable pair, within datasets too.
        let within_strangers = blocking
            .within
            .iter()
            .filter(|p| {
                let (a, b) = unpack(**p);
                people[a as usize].1 != people[b as usize].1
            })
            .count() as f64;
        let expected = c.expected[level];
        let actual = truth + within_strangers;
        assert!(
            (expected - actual).abs() < 0.15 * actual,
            "estimated {expected}, actual {actual}"
        );
        assert_eq!(c.expected[0], 0.0);
    }

    /// Fewer chance agreements within than the duplicates explain: none,
    /// not a negative count.
    #[test]
    fn estimates_are_never_negative() {
        let c = from_counts(&levels(100.0, 0.0), &levels(1000.0, 500.0), 1e6, 1e6, 1e6)
            .expect("identified");
        assert_eq!(c.expected[NAME_KEYS.len() - 1], 0.0);
    }
}
