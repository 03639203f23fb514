//! Scores: a comparison vector per candidate pair, and a Fellegi–Sunter
//! model whose weights are learnt from the pairs themselves by
//! expectation–maximisation, with a term-frequency adjustment for tokens many
//! records share.
//!
//! The comparison vector has three fields, assumed independent given match
//! status:
//! - **names**: the strongest name-based match key the two records agree on,
//!   in cascade order (spec §5.2), or none;
//! - **numbers**: whether a national number (NHS, NI, PNC, CRO, prison)
//!   agrees, all present ones disagree, or none is present on both sides;
//! - **dice**: the Dice similarity of the Bloom encodings, binned, for pairs
//!   that agree on no match key or only on a key that leaves the name in
//!   doubt ([`DICE_NAME_KEYS`]; "missing", no evidence, for the others: the
//!   encoding repeats what the keys say; see [`compare`]), with m and u per
//!   bin learnt separately for three groups of pairs ([`DICE_GROUPS`]).
//!
//! The pairs a name key joins and the pairs none joins (the Bloom LSH's,
//! and a national number's alone) have a prior each
//! ([`Model::lambda_by_stratum`]), so that how many pairs the LSH proposes
//! does not change what the key-joined pairs' evidence means.
//!
//! The u-probability of a national-number agreement is fixed
//! ([`U_NUMBER_AGREE`]), not learnt; the u of the name keys the cascade
//! links on is capped, more tightly where no national numbers let EM learn
//! it ([`U_FULL_NAME_MAX`]), and where they do loosened as the run grows
//! ([`cap_scale`]); and within a Dice group a higher Dice is never
//! weaker evidence ([`monotone_ratio`]). Without these EM, on data with one
//! informative field per pair (FEBRL), settled on solutions that linked
//! almost nothing.

use pprl_specs::bloom::dice;
use pprl_specs::matchkey::MATCH_KEYS;
use rayon::prelude::*;
use serde::Serialize;

use super::candidates::{Pair, unpack};
use super::records::Records;

/// The name-based match keys, strongest first.
pub const NAME_KEYS: [&str; 14] = [
    "names_dob_postcode",
    "first_family_dob_sex",
    "first_family_dob",
    "nickname_family_dob",
    "swapped_names_dob",
    "first_family_dob_daymonth",
    "initial_family_dob_sex",
    "soundex_initial_dob",
    "first_family_postcode",
    "nickname_dob_district",
    "family_dob_sex",
    "family_dob",
    "first_dob",
    "dob_district",
];
/// Levels of the name keys that leave a name in doubt, for which the Dice
/// similarity counts as evidence too: those with an initial instead of the
/// given names (`initial_family_dob_sex`, `soundex_initial_dob`), where it
/// tells a typo or a nickname from a twin, and the blocking keys, which
/// lack a given name or the family name (`family_dob_sex`, `family_dob`,
/// `first_dob`, `dob_district`), where it tells a record of the same person
/// from a relative's or a stranger's.
pub const DICE_NAME_KEYS: [usize; 6] = [6, 7, 10, 11, 12, 13];
/// Of [`DICE_NAME_KEYS`], the levels of the initial-based name keys.
const INITIAL_NAME_KEYS: [usize; 2] = [6, 7];

/// The national-number match keys.
pub const NUMBER_KEYS: [&str; 5] = [
    "nhs_number",
    "ni_number",
    "pnc_id",
    "cro_number",
    "prison_number",
];
/// Lower edges of the Dice bins, highest first; below the last is the last bin.
pub const DICE_BINS: [f64; 8] = [0.97, 0.93, 0.88, 0.83, 0.78, 0.73, 0.68, 0.6];

/// The pairs whose Dice similarity counts as evidence fall into groups with
/// their own m and u per Dice bin, since what a Dice of 0.7 says depends on
/// what else the pair shares: nothing (a Bloom LSH pair: mostly a stranger),
/// an initial, a family name and a date of birth (most often the same person
/// with a typo or a nickname), or a date of birth and a district with the
/// names in doubt (the same person whose family name changed or went
/// missing, or a relative or a stranger). One shared distribution
/// over-trusted the LSH pairs and under-trusted the blocking keys' pairs.
pub const DICE_GROUPS: [&str; 3] = ["no name key", "initial name key", "blocking key"];

/// Levels of each field. The last level of `numbers` and `dice` is "missing",
/// which carries no evidence.
pub const NAME_LEVELS: usize = NAME_KEYS.len() + 1;
pub const NUMBER_LEVELS: usize = 3;
pub const DICE_LEVELS: usize = DICE_BINS.len() + 2;
const NUMBER_MISSING: usize = 2;
/// u-probability of a national-number agreement: two different people share
/// a valid national number only through a data error. Fixed rather than
/// learnt, so that EM cannot take a block of matches whose only agreement is
/// a number (names too corrupted for any name key) for non-matches.
pub const U_NUMBER_AGREE: f64 = 1e-4;
const DICE_MISSING: usize = DICE_LEVELS - 1;

/// Name levels whose u-probability is capped: the full-name keys with the
/// whole date of birth (levels 0–5, `names_dob_postcode` to
/// `first_family_dob_daymonth`), and the other keys the cascade links on
/// (levels 6–9: an initial, or the postcode instead of the date).
///
/// With one informative field per pair (no national numbers, and the Dice
/// set aside for key-joined pairs), the mixture EM fits is not identified:
/// on FEBRL it found a solution in which a third of the pairs agreeing on
/// `first_family_dob` were non-matches, and linked almost nothing, far
/// below the cascade on the same data. The cap is the prior that keeps it
/// from that. Its size depends on whether the data can speak: where at
/// least [`IDENTIFIED_SHARE`] of a level's pairs have a national number on
/// both sides, EM learns that level's u from the numbers' agreement and
/// the cap is loose ([`U_FULL_NAME_MAX`], [`U_PARTIAL_NAME_MAX`]: relatives
/// of one name and address, twins; times [`cap_scale`] in runs larger
/// than [`CAP_REFERENCE_RECORDS`]); where they do not, nothing in the data
/// tells a coincidence from a match, and the cap is a tenth of that — at
/// most one key-joined candidate pair of different people in ten thousand
/// (u is a share of the name-key stratum, [`Model::lambda_by_stratum`]) agreeing on
/// a full name and date of birth, one in a thousand on an initial, family
/// name and date of birth, or a name and postcode (a common name and birth
/// date among a million records each side: some hundreds of coincidences
/// against millions of candidate non-matches). The frequency adjustment
/// still weighs a token shared by many records down.
const FULL_NAME_LEVELS: std::ops::Range<usize> = 0..6;
const PARTIAL_NAME_LEVELS: std::ops::Range<usize> = 6..10;
pub const U_FULL_NAME_MAX: f64 = 1e-3;
pub const U_PARTIAL_NAME_MAX: f64 = 1e-2;
/// The share of a level's pairs with national numbers on both sides from
/// which EM is trusted to learn its u (see [`U_FULL_NAME_MAX`]).
pub const IDENTIFIED_SHARE: f64 = 0.1;
/// The run size (records, all datasets) at which the loose caps hold as
/// given; above it they grow in proportion to the records ([`cap_scale`]).
///
/// Where national numbers identify a level's u the cap is a safety net
/// against relatives, set on runs of 5,000 records an extract. People who
/// share a full name and a date of birth, or an initial, a family name and
/// a date of birth, by chance are pairs of the population (their number
/// grows as n²) among candidates that grow as n, so their share of a
/// level's non-matches grows with the run, and a fixed net ends by holding
/// u under what the numbers show: at 1,000,000 records an extract without
/// sex, the 1,823 `first_family_dob` pairs whose national numbers disagree
/// (0.3% of them the same person) were all linked at probability 1.000,
/// and precision fell to 0.982 (issue 15, session 12). The caps where
/// nothing identifies u (no numbers) are priors, not nets, and stay fixed:
/// scaled too, EM found a degenerate solution without numbers at 1,000,000.
pub const CAP_REFERENCE_RECORDS: f64 = 10_000.0;

/// The factor on the loose caps for a run of `records` records: 1 up to
/// [`CAP_REFERENCE_RECORDS`], then in proportion.
pub fn cap_scale(records: usize) -> f64 {
    (records as f64 / CAP_REFERENCE_RECORDS).max(1.0)
}
/// The levels of the blocking keys: `family_dob_sex`, `family_dob`,
/// `first_dob` (both `pprl/v2`) and `dob_district`. Where no national
/// numbers identify a level's u it is capped ([`U_BLOCKING_UNIDENTIFIED_MAX`])
/// and held up by the strangers the pairs within datasets say share the key
/// ([`Model::fit_with`]); where numbers identify it, EM learns it freely.
pub const BLOCKING_LEVELS: std::ops::Range<usize> = 10..14;
/// The cap on the u of each of [`BLOCKING_LEVELS`] where no national
/// numbers identify it: one key-joined candidate pair of different people
/// in a hundred sharing a date of birth and a postcode district, a family
/// name and a date of birth, or a first name and a date of birth (in a UK
/// population of a million, some thousands of such coincidences against
/// millions of candidate non-matches; the district of another country's
/// code is the whole code, §4.5.1). Where numbers identify it, EM learns
/// it uncapped; the Dice similarity is evidence at these levels as well.
/// Uncapped, EM put FEBRL 4's `family_dob` pairs (423, 99% true) and
/// `first_dob` pairs (71, 94% true) at probability 0.001 and F1 fell from
/// 0.946 to 0.906 (issue 15, session 14). A cap alone is the right size
/// at 5,000 records a side and far too tight at 100,000, where most pairs
/// sharing only a first name and a date of birth are strangers (12,509
/// `first_dob` pairs, 6.4% true, all accepted: precision 0.836): so the
/// strangers' estimate floors u, and the floor wins over the cap. A cap on
/// `family_dob_sex` alone once linked twins (e2e `guard` tests, whose
/// population has twins at one address); with the floor, which counts the
/// twins within a dataset among the strangers, it does not.
pub const U_BLOCKING_UNIDENTIFIED_MAX: f64 = 1e-2;
/// The cap where the data cannot identify u, as a fraction of the loose one.
const UNIDENTIFIED_CAP_FACTOR: f64 = 0.1;

/// EM iterations at most. An iteration works on the pattern counts (a few
/// hundred cells), not the pairs, so a slow tail costs nothing; with m and u
/// per Dice group the tail is longer than 200 iterations on some data.
const MAX_ITERATIONS: usize = 2000;
/// EM has converged when an iteration moves the prior by less than this.
const CONVERGED: f64 = 1e-8;

/// The Dice group ([`DICE_GROUPS`]) of a name level.
fn dice_group(name: usize) -> usize {
    match name {
        n if n == NAME_KEYS.len() => 0,
        n if INITIAL_NAME_KEYS.contains(&n) => 1,
        _ => 2,
    }
}

/// One pair's comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    pub name: u8,
    pub numbers: u8,
    pub dice: u8,
    /// How many records share the agreeing name token (for the frequency adjustment).
    pub frequency: u32,
    /// The first key in cascade order the pair agrees on, or none (Bloom only).
    pub rule: Option<u8>,
}

fn key_index(name: &str) -> usize {
    MATCH_KEYS
        .iter()
        .position(|d| d.name == name)
        .expect("the spec defines every key named here")
}

/// Compares every candidate pair. `keyed[i]` says whether a match key
/// joins pair i (blocking knows); a pair only the Bloom LSH proposed agrees
/// on no key, so its name keys are not read (each is a random access to
/// two records' tokens, most of the comparison's cost at scale). (A token
/// shared by more records than the block limit joins no pair, and counts as
/// no agreement for an LSH pair: so common a token is no evidence.)
pub fn compare(
    records: &Records,
    frequency: &[Vec<u32>],
    pairs: &[Pair],
    keyed: &[bool],
) -> Vec<Comparison> {
    assert_eq!(pairs.len(), keyed.len(), "one flag per pair");
    let names: Vec<usize> = NAME_KEYS.iter().map(|n| key_index(n)).collect();
    let numbers: Vec<usize> = NUMBER_KEYS.iter().map(|n| key_index(n)).collect();
    pairs
        .par_iter()
        .zip(keyed)
        .map(|(&p, &keyed)| {
            let (a, b) = unpack(p);
            let (a, b) = (a as usize, b as usize);
            let agrees = |k: usize| {
                let key = &records.keys[k];
                key.present[a] && key.present[b] && key.tokens[a] == key.tokens[b]
            };
            let name = if keyed {
                names
                    .iter()
                    .position(|&k| agrees(k))
                    .unwrap_or(NAME_KEYS.len())
            } else {
                NAME_KEYS.len()
            };
            let frequency = names.get(name).map_or(0, |&k| frequency[k][a]);
            let mut numbers_level = NUMBER_MISSING;
            for &k in &numbers {
                let key = &records.keys[k];
                if key.present[a] && key.present[b] {
                    if key.tokens[a] == key.tokens[b] {
                        numbers_level = 0;
                        break;
                    }
                    numbers_level = 1;
                }
            }
            // The encoding is made from the same names, date of birth and
            // postcode as the match keys: for a pair that a key joins, its
            // Dice mostly repeats that evidence (and a middle name or a
            // postcode recorded on one side only lowers it without saying
            // "another person"), which breaks the model's assumption that
            // the fields are independent given match status. So Dice is
            // evidence only for pairs no key joins — the Bloom LSH's pairs —
            // where it is all there is, and for pairs that only a name key
            // with an initial for the given names joins, where it tells a
            // typo or a nickname from a twin. (Not for `first_family_postcode`:
            // a father and son of one name and address have similar
            // encodings too.)
            let dice_level = if !(name == NAME_KEYS.len() || DICE_NAME_KEYS.contains(&name))
                || numbers_level == 0
            {
                DICE_MISSING
            } else if records.has_bloom[a] && records.has_bloom[b] {
                let d = dice(&records.bloom[a], &records.bloom[b]);
                DICE_BINS
                    .iter()
                    .position(|&edge| d >= edge)
                    .unwrap_or(DICE_BINS.len())
            } else {
                DICE_MISSING
            };
            let rule = if keyed {
                (0..MATCH_KEYS.len()).find(|&k| agrees(k)).map(|k| k as u8)
            } else {
                None
            };
            Comparison {
                name: name as u8,
                numbers: numbers_level as u8,
                dice: dice_level as u8,
                frequency,
                rule,
            }
        })
        .collect()
}

/// The two strata of candidate pairs, each with its own prior: pairs a name
/// key joins, and pairs no name key joins (the Bloom LSH's, and a national
/// number's alone). See [`Model::lambda_by_stratum`].
pub const STRATA: [&str; 2] = ["name key", "no name key"];
const NO_NAME_LEVEL: usize = NAME_KEYS.len();

fn stratum(name: usize) -> usize {
    usize::from(name == NO_NAME_LEVEL)
}

/// The fitted model: priors and per-level m and u probabilities.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Share of candidate pairs that are matches (over both strata).
    pub lambda: f64,
    /// Share of candidate pairs that are matches, per [`STRATA`].
    ///
    /// The name field is the stratum: a pair a name key joins is at one of
    /// its levels, a pair no name key joins at none. With one prior over
    /// both, the number of LSH pairs (a few per record at 100k, far fewer at
    /// 5k; it depends on the run's size and the encodings, not on the
    /// people) set the prior of the key-joined pairs, and with it what their
    /// capped u meant: at 100k records without national numbers the
    /// partial levels fell under the threshold although 78–99% of their
    /// pairs were true (`gen-no-national`, session 10). Per stratum, the
    /// name levels' m and u (and their caps) are shares of the key-joined
    /// pairs only, and the LSH pairs are weighed among themselves.
    pub lambda_by_stratum: [f64; 2],
    pub m_name: Vec<f64>,
    pub u_name: Vec<f64>,
    pub m_numbers: Vec<f64>,
    pub u_numbers: Vec<f64>,
    /// m and u per Dice bin, for each of [`DICE_GROUPS`].
    pub m_dice: Vec<Vec<f64>>,
    pub u_dice: Vec<Vec<f64>>,
    /// Mean token frequency among pairs agreeing at each name level.
    pub mean_frequency: Vec<f64>,
    /// The cap on each name level's u (1 where there is none; see
    /// [`U_FULL_NAME_MAX`]).
    pub u_name_cap: Vec<f64>,
    /// Per name level, the pairs of different people the pairs within
    /// datasets say share its key ([`super::coincidence`]), for the
    /// blocking levels whose u no national numbers identify; 0 elsewhere.
    /// Such a level's u is held at least at these strangers' share of the
    /// key-joined non-matches (see `floor_levels`), whatever its cap.
    pub u_name_floor_strangers: Vec<f64>,
    /// Candidate pairs a name key joins (the first stratum).
    pub key_pairs: f64,
    pub iterations: usize,
    pub converged: bool,
}

const CELLS: usize = NAME_LEVELS * NUMBER_LEVELS * DICE_LEVELS;

fn cell(c: &Comparison) -> usize {
    (c.name as usize * NUMBER_LEVELS + c.numbers as usize) * DICE_LEVELS + c.dice as usize
}

impl Model {
    /// Learns the model by EM over the comparison patterns of a run of
    /// `records` records (which sets how loose the caps identified by
    /// national numbers are, [`cap_scale`]).
    pub fn fit(comparisons: &[Comparison], records: usize) -> Model {
        Model::fit_with(comparisons, records, None)
    }

    /// [`fit`](Self::fit), with the strangers expected at each name level
    /// (from the pairs within datasets, [`super::coincidence`]) where there
    /// is an estimate: they hold the u of the blocking levels that national
    /// numbers do not identify from below (see [`BLOCKING_LEVELS`]).
    pub fn fit_with(
        comparisons: &[Comparison],
        records: usize,
        strangers: Option<&[f64]>,
    ) -> Model {
        let scale = cap_scale(records);
        let mut counts = vec![0f64; CELLS];
        let mut freq_sum = [0f64; NAME_LEVELS];
        let mut freq_n = [0f64; NAME_LEVELS];
        let mut with_numbers = [0f64; NAME_LEVELS];
        for c in comparisons {
            counts[cell(c)] += 1.0;
            freq_sum[c.name as usize] += f64::from(c.frequency);
            freq_n[c.name as usize] += 1.0;
            if c.numbers as usize != NUMBER_MISSING {
                with_numbers[c.name as usize] += 1.0;
            }
        }
        // Whether national numbers identify each level's u (see
        // [`U_FULL_NAME_MAX`]): the caps and the floors both turn on it.
        let identified: Vec<bool> = (0..NAME_LEVELS)
            .map(|l| freq_n[l] > 0.0 && with_numbers[l] >= IDENTIFIED_SHARE * freq_n[l])
            .collect();
        let u_name_cap: Vec<f64> = (0..NAME_LEVELS)
            .map(|level| {
                let identified = identified[level];
                let loose = if FULL_NAME_LEVELS.contains(&level) {
                    U_FULL_NAME_MAX
                } else if PARTIAL_NAME_LEVELS.contains(&level) {
                    U_PARTIAL_NAME_MAX
                } else if BLOCKING_LEVELS.contains(&level) {
                    // Capped only where the data cannot speak.
                    if identified {
                        return 1.0;
                    }
                    return U_BLOCKING_UNIDENTIFIED_MAX;
                } else {
                    return 1.0;
                };
                if identified {
                    (loose * scale).min(1.0)
                } else {
                    loose * UNIDENTIFIED_CAP_FACTOR
                }
            })
            .collect();
        let u_name_floor_strangers: Vec<f64> = (0..NAME_LEVELS)
            .map(|level| match strangers {
                Some(s) if BLOCKING_LEVELS.contains(&level) && !identified[level] => {
                    s.get(level).copied().unwrap_or(0.0).max(0.0)
                }
                _ => 0.0,
            })
            .collect();
        let key_pairs: f64 = freq_n[..NO_NAME_LEVEL].iter().sum();
        let decreasing = |n: usize, top: f64| -> Vec<f64> {
            let raw: Vec<f64> = (0..n).map(|i| top.powi(i as i32 + 1)).collect();
            let s: f64 = raw.iter().sum();
            raw.iter().map(|v| v / s).collect()
        };
        let mut model = Model {
            lambda: 0.3,
            lambda_by_stratum: [0.3, 0.3],
            m_name: decreasing(NAME_LEVELS, 0.5),
            u_name: {
                let mut u = vec![0.01; NAME_LEVELS];
                u[NAME_LEVELS - 1] = 1.0;
                normalise(&mut u);
                u
            },
            m_numbers: vec![0.9, 0.1, 1.0],
            u_numbers: vec![0.02, 0.98, 1.0],
            m_dice: vec![decreasing(DICE_LEVELS, 0.5); DICE_GROUPS.len()],
            u_dice: {
                let mut u: Vec<f64> = (0..DICE_LEVELS).map(|i| 0.01 * (i as f64 + 1.0)).collect();
                u[DICE_LEVELS - 2] = 1.0;
                normalise(&mut u);
                vec![u; DICE_GROUPS.len()]
            },
            mean_frequency: freq_sum
                .iter()
                .zip(&freq_n)
                .map(|(s, n)| if *n > 0.0 { s / n } else { 1.0 })
                .collect(),
            u_name_cap,
            u_name_floor_strangers,
            key_pairs,
            iterations: 0,
            converged: false,
        };
        model.fix_missing();
        for iteration in 1..=MAX_ITERATIONS {
            let previous = model.lambda_by_stratum;
            model.step(&counts);
            model.iterations = iteration;
            if (0..STRATA.len())
                .all(|s| (model.lambda_by_stratum[s] - previous[s]).abs() < CONVERGED)
            {
                model.converged = true;
                break;
            }
        }
        model
    }

    /// "Missing" levels carry no evidence: m = u; the u of a number
    /// agreement is [`U_NUMBER_AGREE`]; the u of the name keys is capped
    /// (see [`U_FULL_NAME_MAX`]); and within each Dice group, a higher Dice
    /// is never weaker evidence than a lower one ([`monotone_ratio`]).
    fn fix_missing(&mut self) {
        // The no-name-key level is a stratum of its own: within it the name
        // field says nothing.
        self.m_name[NO_NAME_LEVEL] = 0.0;
        self.u_name[NO_NAME_LEVEL] = 0.0;
        normalise(&mut self.m_name);
        normalise(&mut self.u_name);
        cap_levels(&mut self.u_name, &self.u_name_cap);
        let non_matches = self.key_pairs * (1.0 - self.lambda_by_stratum[0]);
        if non_matches > 0.0 && self.u_name_floor_strangers.iter().any(|&s| s > 0.0) {
            let floors: Vec<f64> = self
                .u_name_floor_strangers
                .iter()
                .map(|&s| (s / non_matches).min(MAX_FLOOR))
                .collect();
            floor_levels(&mut self.u_name, &floors, &self.u_name_cap);
        }
        self.m_name[NO_NAME_LEVEL] = 1.0;
        self.u_name[NO_NAME_LEVEL] = 1.0;
        for (m, u) in self.m_dice.iter_mut().zip(&mut self.u_dice) {
            monotone_ratio(&mut m[..DICE_MISSING], &mut u[..DICE_MISSING]);
        }
        self.u_numbers[0] = U_NUMBER_AGREE;
        self.u_numbers[1] = 1.0 - U_NUMBER_AGREE;
        self.m_numbers[NUMBER_MISSING] = 1.0;
        self.u_numbers[NUMBER_MISSING] = 1.0;
        for (m, u) in self.m_dice.iter_mut().zip(&mut self.u_dice) {
            m[DICE_MISSING] = 1.0;
            u[DICE_MISSING] = 1.0;
        }
    }

    fn cell_likelihoods(&self, name: usize, numbers: usize, dice: usize) -> (f64, f64) {
        (
            self.m_name[name] * self.m_numbers[numbers] * self.m_dice[dice_group(name)][dice],
            self.u_name[name] * self.u_numbers[numbers] * self.u_dice[dice_group(name)][dice],
        )
    }

    /// One EM iteration over the pattern counts.
    fn step(&mut self, counts: &[f64]) {
        let mut m_name = vec![1e-6; NAME_LEVELS];
        let mut u_name = vec![1e-6; NAME_LEVELS];
        let mut m_numbers = vec![1e-6; NUMBER_LEVELS];
        let mut u_numbers = vec![1e-6; NUMBER_LEVELS];
        let mut m_dice = vec![vec![1e-6; DICE_LEVELS]; DICE_GROUPS.len()];
        let mut u_dice = vec![vec![1e-6; DICE_LEVELS]; DICE_GROUPS.len()];
        let (mut matches, mut total) = ([0.0; 2], [0.0; 2]);
        for name in 0..NAME_LEVELS {
            let stratum = stratum(name);
            let lambda = self.lambda_by_stratum[stratum];
            for numbers in 0..NUMBER_LEVELS {
                for d in 0..DICE_LEVELS {
                    let n = counts[(name * NUMBER_LEVELS + numbers) * DICE_LEVELS + d];
                    if n == 0.0 {
                        continue;
                    }
                    let (m, u) = self.cell_likelihoods(name, numbers, d);
                    let w = lambda * m / (lambda * m + (1.0 - lambda) * u);
                    matches[stratum] += n * w;
                    total[stratum] += n;
                    m_name[name] += n * w;
                    u_name[name] += n * (1.0 - w);
                    if numbers != NUMBER_MISSING {
                        m_numbers[numbers] += n * w;
                        u_numbers[numbers] += n * (1.0 - w);
                    }
                    if d != DICE_MISSING {
                        m_dice[dice_group(name)][d] += n * w;
                        u_dice[dice_group(name)][d] += n * (1.0 - w);
                    }
                }
            }
        }
        for s in 0..STRATA.len() {
            self.lambda_by_stratum[s] = (matches[s] / total[s].max(1.0)).clamp(1e-6, 1.0 - 1e-6);
        }
        // The strangers expected at the floored levels are non-matches of
        // the key-joined stratum: its prior leaves room for them, or a
        // floor on u (a share of too few non-matches) would mean nothing.
        let strangers: f64 = self.u_name_floor_strangers.iter().sum();
        if strangers > 0.0 && self.key_pairs > 0.0 {
            let most = (1.0 - strangers / self.key_pairs).max(1e-6);
            self.lambda_by_stratum[0] = self.lambda_by_stratum[0].min(most);
        }
        self.lambda = (self.lambda_by_stratum[0] * total[0] + self.lambda_by_stratum[1] * total[1])
            / (total[0] + total[1]).max(1.0);
        for (v, missing) in [
            (&mut m_name, None),
            (&mut u_name, None),
            (&mut m_numbers, Some(NUMBER_MISSING)),
            (&mut u_numbers, Some(NUMBER_MISSING)),
        ]
        .into_iter()
        .chain(
            m_dice
                .iter_mut()
                .chain(&mut u_dice)
                .map(|v| (v, Some(DICE_MISSING))),
        ) {
            if let Some(i) = missing {
                v[i] = 0.0;
            }
            normalise(v);
        }
        self.m_name = m_name;
        self.u_name = u_name;
        self.m_numbers = m_numbers;
        self.u_numbers = u_numbers;
        self.m_dice = m_dice;
        self.u_dice = u_dice;
        self.fix_missing();
    }

    /// Match probability of a pair, with the frequency adjustment: agreeing on
    /// a token shared by more records than is usual at that level is weaker
    /// evidence, and on a rarer one stronger (factor clipped to 1/20…20).
    pub fn probability(&self, c: &Comparison) -> f64 {
        let (name, numbers, d) = (c.name as usize, c.numbers as usize, c.dice as usize);
        let (m, u) = self.cell_likelihoods(name, numbers, d);
        let mut bayes = m / u.max(f64::MIN_POSITIVE);
        if name < NAME_KEYS.len() && c.frequency > 0 {
            bayes *= (self.mean_frequency[name] / f64::from(c.frequency)).clamp(0.05, 20.0);
        }
        let lambda = self.lambda_by_stratum[stratum(name)];
        let odds = lambda / (1.0 - lambda) * bayes;
        if odds.is_infinite() {
            1.0
        } else {
            odds / (1.0 + odds)
        }
    }
}

/// Caps each level's probability (a cap of 1 or more is none) and gives the
/// mass taken to the uncapped levels, in proportion (the vector still sums
/// to 1).
fn cap_levels(u: &mut [f64], caps: &[f64]) {
    assert_eq!(u.len(), caps.len());
    let capped = |i: usize| caps[i] < 1.0;
    let mut capped_mass = 0.0;
    for i in (0..u.len()).filter(|&i| capped(i)) {
        u[i] = u[i].min(caps[i]);
        capped_mass += u[i];
    }
    let free: f64 = (0..u.len()).filter(|&i| !capped(i)).map(|i| u[i]).sum();
    if free > 0.0 {
        let scale = (1.0 - capped_mass) / free;
        for i in (0..u.len()).filter(|&i| !capped(i)) {
            u[i] *= scale;
        }
    }
}

/// The most a floor may hold one level's u at: the key-joined non-matches
/// are never all at one level.
const MAX_FLOOR: f64 = 0.9;

/// Raises each level's probability to its floor where it is below, taking
/// the mass from the levels that are neither capped nor floored, in
/// proportion (the vector still sums to 1, unless the floors alone exceed
/// it). A floor overrides a cap: the cap is a prior for when nothing else
/// says how often strangers share a key, the floor an estimate of it.
fn floor_levels(u: &mut [f64], floors: &[f64], caps: &[f64]) {
    assert_eq!(u.len(), floors.len());
    let mut raised = false;
    for (v, &f) in u.iter_mut().zip(floors) {
        if f > *v {
            *v = f;
            raised = true;
        }
    }
    if !raised {
        return;
    }
    let fixed = |i: usize| floors[i] > 0.0 || caps[i] < 1.0;
    let fixed_mass: f64 = (0..u.len()).filter(|&i| fixed(i)).map(|i| u[i]).sum();
    let free: f64 = (0..u.len()).filter(|&i| !fixed(i)).map(|i| u[i]).sum();
    if free > 0.0 {
        let scale = ((1.0 - fixed_mass) / free).max(0.0);
        for i in (0..u.len()).filter(|&i| !fixed(i)) {
            u[i] *= scale;
        }
    }
}

/// Makes the likelihood ratio m/u non-increasing from the highest Dice bin
/// (index 0) to the lowest, by pooling adjacent violators: a block of bins
/// whose ratios are out of order gets the block's pooled ratio, its u kept
/// and its m shared in proportion to u (the block's m total is kept, so m
/// still sums to what it did). A higher Dice similarity is never evidence
/// against a match; without this, EM on a single informative field can
/// settle on bins that say the opposite (FEBRL, session 9).
pub fn monotone_ratio(m: &mut [f64], u: &mut [f64]) {
    assert_eq!(m.len(), u.len());
    // Blocks of (start, m sum, u sum), kept in non-increasing ratio order.
    let mut blocks: Vec<(usize, f64, f64)> = Vec::with_capacity(m.len());
    for i in 0..m.len() {
        blocks.push((i, m[i], u[i]));
        while blocks.len() >= 2 {
            let (_, m1, u1) = blocks[blocks.len() - 1];
            let (_, m0, u0) = blocks[blocks.len() - 2];
            // ratio(previous) < ratio(last): a violation; merge.
            if m0 * u1 < m1 * u0 {
                blocks.pop();
                let last = blocks.last_mut().expect("two blocks");
                last.1 += m1;
                last.2 += u1;
            } else {
                break;
            }
        }
    }
    for (b, &(start, msum, usum)) in blocks.iter().enumerate() {
        let end = blocks.get(b + 1).map_or(m.len(), |next| next.0);
        if end - start < 2 {
            continue;
        }
        for i in start..end {
            m[i] = if usum > 0.0 {
                msum * u[i] / usum
            } else {
                msum / (end - start) as f64
            };
        }
    }
}

fn normalise(v: &mut [f64]) {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        for x in v.iter_mut() {
            *x /= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: usize, numbers: usize, dice: usize) -> Comparison {
        Comparison {
            name: name as u8,
            numbers: numbers as u8,
            dice: dice as u8,
            frequency: 2,
            rule: None,
        }
    }

    /// Without national numbers, a blocking level's capped u says its pairs
    /// are matches whatever their number; told that most of them are
    /// strangers (the within-dataset estimate), the model holds its u up
    /// and the pairs fall under the threshold, while the strong levels keep
    /// theirs.
    #[test]
    fn the_strangers_estimate_floors_an_unidentified_blocking_level() {
        let (full, first_dob) = (0, 12);
        assert_eq!(NAME_KEYS[first_dob], "first_dob");
        let mut pairs = Vec::new();
        for i in 0..3000 {
            pairs.push(c(full, 2, DICE_MISSING)); // same person, full name and dob
            pairs.push(c(NAME_KEYS.len(), 2, [6, 7, 8][i % 3])); // LSH strangers
        }
        for i in 0..1000 {
            // first_dob: 100 true (high Dice), 900 strangers (middling Dice)
            pairs.push(c(first_dob, 2, if i < 100 { 1 } else { [3, 4, 5][i % 3] }));
        }
        let capped = Model::fit(&pairs, 10_000);
        assert!(
            capped.probability(&c(first_dob, 2, 4)) > 0.9,
            "the cap alone accepts strangers: {}",
            capped.probability(&c(first_dob, 2, 4))
        );
        let mut strangers = vec![0.0; NAME_LEVELS];
        strangers[first_dob] = 900.0;
        let floored = Model::fit_with(&pairs, 10_000, Some(&strangers));
        assert!(
            floored.probability(&c(first_dob, 2, 4)) < 0.5,
            "{}",
            floored.probability(&c(first_dob, 2, 4))
        );
        assert!(floored.probability(&c(full, 2, DICE_MISSING)) > 0.99);
        assert!(floored.u_name[first_dob] >= 0.8 * 900.0 / floored.key_pairs);
        // Where national numbers identify the level, the estimate is not used.
        let identified: Vec<Comparison> = pairs
            .iter()
            .map(|p| Comparison { numbers: 1, ..*p })
            .collect();
        let model = Model::fit_with(&identified, 10_000, Some(&strangers));
        assert_eq!(model.u_name_floor_strangers[first_dob], 0.0);
    }

    #[test]
    fn floors_raise_a_level_and_take_the_mass_from_the_free_ones() {
        let mut u = vec![0.5, 0.01, 0.49, 0.0];
        floor_levels(&mut u, &[0.0, 0.2, 0.0, 0.0], &[1.0, 0.01, 1.0, 1.0]);
        assert!((u[1] - 0.2).abs() < 1e-12, "the floor wins over the cap");
        assert!((u.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((u[0] / u[2] - 0.5 / 0.49).abs() < 1e-9, "in proportion");
        // A level already above its floor is left alone.
        let mut v = vec![0.5, 0.3, 0.2];
        floor_levels(&mut v, &[0.0, 0.1, 0.0], &[1.0; 3]);
        assert_eq!(v, [0.5, 0.3, 0.2]);
    }

    /// A mixture with known parameters: EM recovers that strong patterns are
    /// matches and weak ones are not.
    #[test]
    fn em_separates_a_known_mixture() {
        let mut pairs = Vec::new();
        for i in 0..3000 {
            // matches: mostly strong name agreement, numbers agree when present, high dice
            pairs.push(c([0, 0, 2, 4][i % 4], [0, 2, 2][i % 3], [0, 0, 1][i % 3]));
        }
        for i in 0..7000 {
            // non-matches: no name key, numbers disagree or missing, low dice
            pairs.push(c(NAME_KEYS.len(), [1, 2][i % 2], [4, 5, 5][i % 3]));
        }
        let model = Model::fit(&pairs, 10_000);
        assert!((model.lambda - 0.3).abs() < 0.02, "lambda {}", model.lambda);
        assert!(model.probability(&c(0, 0, 0)) > 0.999);
        assert!(model.probability(&c(NAME_KEYS.len(), 1, 5)) < 0.001);
        assert!(
            model.converged,
            "{} iterations {:?}",
            model.iterations, model
        );
    }

    /// A Dice similarity of 0.7 means a stranger among the Bloom LSH's pairs
    /// and the same person among a blocking key's pairs (whose strangers sit
    /// lower still): with m and u per Dice group the model tells them apart.
    /// (With one shared distribution both come out near 0.2 and 0.7.)
    #[test]
    fn dice_evidence_is_learnt_per_group() {
        let (bloom, blocking) = (NAME_KEYS.len(), 13);
        assert_eq!(NAME_KEYS[blocking], "dob_district");
        let (high, low, lowest) = (0, 6, DICE_BINS.len());
        let mut pairs = Vec::new();
        for i in 0..1000 {
            pairs.push(c(bloom, [0, 2][i % 2], high)); // LSH: matches
        }
        for i in 0..3000 {
            pairs.push(c(bloom, [1, 2][i % 2], low)); // LSH: strangers
        }
        for i in 0..1500 {
            pairs.push(c(blocking, [0, 2][i % 2], low)); // name changed
        }
        for i in 0..500 {
            pairs.push(c(blocking, [1, 2][i % 2], lowest)); // strangers
        }
        for _ in 0..2000 {
            pairs.push(c(0, 0, DICE_LEVELS - 1));
        }
        let model = Model::fit(&pairs, 10_000);
        let lsh_low = model.probability(&c(bloom, 2, low));
        let blocking_low = model.probability(&c(blocking, 2, low));
        assert!(lsh_low < 0.05, "LSH pair at Dice 0.7: {lsh_low}");
        assert!(
            blocking_low > 0.9,
            "blocking-key pair at Dice 0.7: {blocking_low}"
        );
        assert_eq!(model.m_dice.len(), DICE_GROUPS.len());
    }

    /// FEBRL's shape: no national numbers, so the name level is the only
    /// evidence for key-joined pairs and the Dice for the LSH's. EM used to
    /// call a third of the `first_family_dob` pairs non-matches; with the
    /// caps a pair agreeing on a full name and date of birth stays a match,
    /// and one agreeing on the Soundex and initial with a high Dice too.
    #[test]
    fn without_numbers_full_name_keys_stay_matches() {
        let (bloom, soundex) = (NAME_KEYS.len(), 7);
        assert_eq!(NAME_KEYS[soundex], "soundex_initial_dob");
        let mut pairs = Vec::new();
        for _ in 0..2000 {
            pairs.push(c(2, NUMBER_MISSING, DICE_MISSING)); // first_family_dob
        }
        for i in 0..700 {
            pairs.push(c(soundex, NUMBER_MISSING, [1, 2, 3][i % 3]));
        }
        for i in 0..12000 {
            pairs.push(c(bloom, NUMBER_MISSING, [8, 8, 8, 7, 6, 5, 2][i % 7]));
        }
        let model = Model::fit(&pairs, 10_000);
        assert!(model.u_name[2] <= U_FULL_NAME_MAX * UNIDENTIFIED_CAP_FACTOR + 1e-12);
        let full = model.probability(&c(2, NUMBER_MISSING, DICE_MISSING));
        assert!(full > 0.99, "first_family_dob: {full}");
        let partial = model.probability(&c(soundex, NUMBER_MISSING, 2));
        assert!(partial > 0.9, "soundex_initial_dob at Dice 0.88: {partial}");
    }

    /// The key-joined pairs' probabilities do not depend on how many pairs
    /// the Bloom LSH proposed besides (a few per record at 100k, far fewer
    /// at 5k): the two have priors of their own. With one prior, a
    /// hundredfold more LSH strangers lowered it and took the partial
    /// levels, at their capped u, under the threshold.
    #[test]
    fn lsh_pairs_do_not_move_the_key_joined_pairs() {
        let (bloom, postcode) = (NAME_KEYS.len(), 8);
        assert_eq!(NAME_KEYS[postcode], "first_family_postcode");
        let fit = |strangers: usize| {
            let mut pairs = Vec::new();
            for _ in 0..2000 {
                pairs.push(c(0, NUMBER_MISSING, DICE_MISSING));
            }
            for _ in 0..100 {
                pairs.push(c(postcode, NUMBER_MISSING, DICE_MISSING));
            }
            for i in 0..300 {
                pairs.push(c(11, NUMBER_MISSING, [0, 1, 7, 8][i % 4]));
            }
            for i in 0..strangers {
                pairs.push(c(bloom, NUMBER_MISSING, [8, 8, 8, 7, 6][i % 5]));
            }
            Model::fit(&pairs, 10_000)
        };
        let (few, many) = (fit(1_000), fit(100_000));
        let p = |m: &Model| m.probability(&c(postcode, NUMBER_MISSING, DICE_MISSING));
        assert!(p(&many) > 0.9, "first_family_postcode: {}", p(&many));
        assert!(
            (p(&few) - p(&many)).abs() < 1e-4,
            "{} {}",
            p(&few),
            p(&many)
        );
        assert!(
            many.lambda < few.lambda,
            "the overall prior still counts them"
        );
    }

    /// Where national numbers identify a full-name level, its cap grows with
    /// the run: in a large run the pairs agreeing on a full name and date of
    /// birth whose numbers disagree are mostly strangers, and the model must
    /// be free to say so (at 1,000,000 records an extract the fixed cap
    /// linked them all). Where no numbers identify a level, its cap is a
    /// prior and does not move.
    #[test]
    fn identified_caps_grow_with_the_run_and_unidentified_ones_do_not() {
        let (bloom, full) = (NAME_KEYS.len(), 2);
        assert_eq!(NAME_KEYS[full], "first_family_dob");
        let mut pairs = Vec::new();
        for i in 0..20000 {
            // matches, one in 200 with a number recorded wrongly
            pairs.push(c(0, if i % 200 == 0 { 1 } else { 0 }, DICE_MISSING));
        }
        for i in 0..4000 {
            pairs.push(c(full, if i % 200 == 0 { 1 } else { 0 }, DICE_MISSING));
        }
        for _ in 0..600 {
            pairs.push(c(full, 1, DICE_MISSING)); // namesakes born the same day
        }
        for i in 0..3000 {
            // strangers sharing a date of birth and a district
            pairs.push(c(11, 1, [6, 7, 8][i % 3]));
        }
        for i in 0..20000 {
            pairs.push(c(bloom, [1, 2][i % 2], [8, 7, 6][i % 3]));
        }
        let (small, large) = (Model::fit(&pairs, 10_000), Model::fit(&pairs, 2_000_000));
        assert!((small.u_name_cap[full] - U_FULL_NAME_MAX).abs() < 1e-12);
        assert!((large.u_name_cap[full] - U_FULL_NAME_MAX * 200.0).abs() < 1e-12);
        let disagree = |m: &Model| m.probability(&c(full, 1, DICE_MISSING));
        assert!(
            disagree(&large) < 0.5,
            "first_family_dob, numbers disagree, 2,000,000 records: {}",
            disagree(&large)
        );
        assert!(disagree(&large) < disagree(&small));
        let agree = large.probability(&c(full, 0, DICE_MISSING));
        assert!(agree > 0.99, "numbers agree: {agree}");

        // FEBRL's shape (no numbers): the same caps at any size.
        let febrl: Vec<Comparison> = (0..5000)
            .map(|i| match i % 5 {
                0 | 1 => c(full, NUMBER_MISSING, DICE_MISSING),
                2 => c(11, NUMBER_MISSING, [0, 3, 7][i % 3]),
                _ => c(bloom, NUMBER_MISSING, [8, 7, 6][i % 3]),
            })
            .collect();
        let (small, large) = (Model::fit(&febrl, 10_000), Model::fit(&febrl, 2_000_000));
        assert_eq!(small.u_name_cap, large.u_name_cap);
        assert!(small.u_name_cap[full] < U_FULL_NAME_MAX);
    }

    #[test]
    fn cap_scale_is_one_up_to_the_reference_then_linear() {
        assert_eq!(cap_scale(0), 1.0);
        assert_eq!(cap_scale(10_000), 1.0);
        assert!((cap_scale(200_000) - 20.0).abs() < 1e-12);
    }

    #[test]
    fn caps_keep_a_distribution() {
        let mut u = vec![0.5, 0.3, 0.2];
        cap_levels(&mut u, &[0.1, 1.0, 1.0]);
        assert!((u[0] - 0.1).abs() < 1e-12);
        assert!((u.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(
            (u[1] / u[2] - 1.5).abs() < 1e-12,
            "the rest keep their proportions"
        );
    }

    #[test]
    fn dice_ratios_are_made_monotone() {
        // Bins from the highest Dice down; bins 1 and 2 are out of order.
        let mut m = vec![0.5, 0.1, 0.3, 0.1];
        let mut u = vec![0.05, 0.2, 0.2, 0.55];
        let total: f64 = m.iter().sum();
        monotone_ratio(&mut m, &mut u);
        let ratios: Vec<f64> = m.iter().zip(&u).map(|(m, u)| m / u).collect();
        assert!(
            ratios.windows(2).all(|w| w[0] >= w[1] - 1e-12),
            "{ratios:?}"
        );
        assert!(
            (ratios[1] - 1.0).abs() < 1e-12,
            "pooled: (0.1 + 0.3) / (0.2 + 0.2)"
        );
        assert!((m.iter().sum::<f64>() - total).abs() < 1e-12);
        assert_eq!(u, vec![0.05, 0.2, 0.2, 0.55]);
    }

    #[test]
    fn common_tokens_weigh_less() {
        let mut pairs: Vec<Comparison> = (0..1000)
            .map(|i| c(if i % 2 == 0 { 2 } else { NAME_KEYS.len() }, 2, 3))
            .collect();
        pairs.iter_mut().for_each(|p| p.frequency = 2);
        let model = Model::fit(&pairs, 10_000);
        let rare = model.probability(&Comparison {
            frequency: 2,
            ..c(2, 2, 3)
        });
        let common = model.probability(&Comparison {
            frequency: 40,
            ..c(2, 2, 3)
        });
        assert!(common < rare, "common {common} rare {rare}");
    }
}
