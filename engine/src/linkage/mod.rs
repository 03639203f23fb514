//! The linkage engine: from the current token files of a project's datasets
//! to persons with stable identifiers.
//!
//! [`link`] is pure computation over loaded [`Records`]: blocking
//! ([`candidates`]), comparison and the Fellegi–Sunter model ([`score`]),
//! clustering ([`cluster`]) and identifier assignment ([`identity`]).
//! The server reads token files into [`Records`] and writes the outputs;
//! nothing here touches a file.

pub mod candidates;
pub mod cluster;
pub mod coincidence;
pub mod identity;
pub mod records;
pub mod score;
pub mod settings;

use serde::Serialize;

pub use records::{DatasetInput, Records};

use cluster::{Clustering, Link};
use identity::Changes;
use score::Model;
pub use settings::{GuardConfig, LinkageConfig, LinkageMethod};

/// Everything a run computed.
#[derive(Debug)]
pub struct Linkage {
    pub clustering: Clustering,
    /// Person identifier of each cluster.
    pub person_ids: Vec<String>,
    pub model: Model,
    pub changes: Changes,
    pub stats: Stats,
    /// Match probability of every candidate pair (for the report's histogram and estimates).
    pub probabilities: Vec<f64>,
    pub timings: Timings,
}

/// Wall time of each stage, in seconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    pub blocking: f64,
    pub compare: f64,
    pub model: f64,
    pub cluster: f64,
    pub identify: f64,
}

/// Counts about the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub records: usize,
    pub candidate_pairs: usize,
    pub pairs_from_keys: usize,
    pub pairs_from_bloom: usize,
    pub skipped_common_tokens: usize,
    pub links_above_threshold: usize,
    pub links_accepted: usize,
    pub links_refused_one_per_person: usize,
    pub links_refused_weak: usize,
    /// Estimates: precision is the mean probability of accepted links, or
    /// [`Stats::strangers_precision`] where that is lower; recall the share
    /// of the expected matches among candidates that were accepted.
    pub estimated_precision: f64,
    /// The most the precision can be, given the strangers that the pairs
    /// within datasets say share each name key ([`coincidence`]): a check
    /// from outside the model, which a model fitted without national
    /// numbers on a large population can fail silently (issue 15, session
    /// 12). `None` where the estimate cannot be made.
    pub strangers_precision: Option<f64>,
    pub estimated_recall: f64,
}

/// Candidate pairs with their comparisons and match probabilities.
#[derive(Debug)]
pub struct Scored {
    pub blocking: candidates::Blocking,
    pub comparisons: Vec<score::Comparison>,
    pub model: Model,
    /// Match probability of each pair of `blocking.pairs`.
    pub probabilities: Vec<f64>,
    /// Strangers expected at each name level, from the pairs within
    /// datasets (probabilistic method, where they can tell).
    pub coincidences: Option<coincidence::Coincidences>,
}

/// Blocking, comparison and the model: the first stages of [`link`], also
/// used by the accuracy benchmark to see where pairs are lost.
pub fn score_pairs(
    records: &Records,
    settings: &LinkageConfig,
    allowed: &(dyn Fn(u32, u32) -> bool + Sync),
    timings: &mut Timings,
) -> Scored {
    let clock = std::time::Instant::now();
    let cascade = settings.method == LinkageMethod::Cascade;
    let blocking = candidates::block(records, settings.max_block_size, !cascade, allowed);
    timings.blocking = clock.elapsed().as_secs_f64();
    let comparisons = score::compare(
        records,
        &blocking.frequency,
        &blocking.pairs,
        &blocking.keyed,
    );
    timings.compare = clock.elapsed().as_secs_f64();
    // The model is fitted either way (model.json describes the pairs); the
    // cascade links every key-joined pair with certainty.
    let coincidences = if cascade {
        None
    } else {
        coincidence::estimate(records, &blocking, &comparisons)
    };
    let model = Model::fit_with(
        &comparisons,
        records.len(),
        coincidences.as_ref().map(|c| c.expected.as_slice()),
    );
    let probabilities: Vec<f64> = if cascade {
        vec![1.0; comparisons.len()]
    } else {
        comparisons.iter().map(|c| model.probability(c)).collect()
    };
    timings.model = clock.elapsed().as_secs_f64();
    Scored {
        blocking,
        comparisons,
        model,
        probabilities,
        coincidences,
    }
}

/// Links the records. `previous[i]` is record i's person identifier in the
/// last publication; `fresh` draws a new random identifier.
pub fn link(
    records: &Records,
    settings: &LinkageConfig,
    previous: &[Option<String>],
    fresh: impl FnMut() -> String,
) -> Linkage {
    let one_per_person: Vec<bool> = records
        .datasets
        .iter()
        .map(|d| d.one_record_per_person)
        .collect();
    let allowed = |a: u32, b: u32| {
        let (da, db) = (records.dataset[a as usize], records.dataset[b as usize]);
        da != db || !one_per_person[da as usize]
    };
    let mut timings = Timings::default();
    let clock = std::time::Instant::now();
    let lap = |t: &mut f64| *t = clock.elapsed().as_secs_f64();
    let Scored {
        blocking,
        comparisons,
        model,
        probabilities,
        coincidences,
    } = score_pairs(records, settings, &allowed, &mut timings);
    let links: Vec<Link> = blocking
        .pairs
        .iter()
        .zip(&comparisons)
        .zip(&probabilities)
        .filter(|&(_, p)| *p >= settings.threshold)
        .map(|((pair, c), p)| {
            let (a, b) = candidates::unpack(*pair);
            Link {
                a,
                b,
                probability: *p,
                rule: c.rule,
            }
        })
        .collect();
    let above = links.len();
    let accepted_mass: f64 = links.iter().map(|l| l.probability).sum();
    let strangers_precision = coincidences
        .as_ref()
        .map(|c| c.precision_of(&comparisons, &probabilities, settings.threshold));
    let expected_matches: f64 = probabilities.iter().sum();
    let clustering = cluster::cluster(
        &records.dataset,
        &one_per_person,
        links,
        settings.strong_threshold,
    );
    lap(&mut timings.cluster);
    let (person_ids, changes) =
        identity::assign(&clustering.cluster, clustering.clusters, previous, fresh);
    lap(&mut timings.identify);
    let stats = Stats {
        records: records.len(),
        candidate_pairs: blocking.pairs.len(),
        pairs_from_keys: blocking.key_pairs,
        pairs_from_bloom: blocking.bloom_pairs,
        skipped_common_tokens: blocking.skipped_blocks,
        links_above_threshold: above,
        links_accepted: clustering.accepted,
        links_refused_one_per_person: clustering.refused_one_per_person,
        links_refused_weak: clustering.refused_weak,
        estimated_precision: {
            let model = if above > 0 {
                accepted_mass / above as f64
            } else {
                1.0
            };
            strangers_precision.map_or(model, |s| s.min(model))
        },
        strangers_precision,
        estimated_recall: if expected_matches > 0.0 {
            accepted_mass / expected_matches
        } else {
            1.0
        },
    };
    // Laps are cumulative; report each stage's own time.
    let t = &mut timings;
    (t.identify, t.cluster, t.model, t.compare) = (
        t.identify - t.cluster,
        t.cluster - t.model,
        t.model - t.compare,
        t.compare - t.blocking,
    );
    Linkage {
        clustering,
        person_ids,
        model,
        changes,
        stats,
        probabilities,
        timings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pprl_specs::matchkey::{MATCH_KEY_COUNT, MATCH_KEYS};

    /// Records of two datasets; `keys[i]` lists record i's (match key, token
    /// byte) pairs and `bloom[i]` the byte its encoding repeats (0: none).
    fn records(
        dataset: &[u16],
        keys: &[&[(usize, u8)]],
        bloom: &[u8],
        one_per_person: [bool; 2],
    ) -> Records {
        let mut r = Records::new();
        for (d, one) in one_per_person.into_iter().enumerate() {
            r.datasets.push(DatasetInput {
                name: format!("d{d}"),
                version: 1,
                one_record_per_person: one,
                attribute_schema: Vec::new(),
                attributes: Vec::new(),
            });
        }
        for (i, &d) in dataset.iter().enumerate() {
            r.dataset.push(d);
            r.record_ref.push([i as u8; 16]);
            r.row.push(i as u32);
            for k in 0..MATCH_KEY_COUNT {
                let token = keys[i].iter().find(|(key, _)| *key == k).map(|(_, t)| *t);
                r.keys[k].tokens.push([token.unwrap_or(0); 16]);
                r.keys[k].present.push(token.is_some());
            }
            // A pseudo-random encoding per value: records with the same
            // value have the same encoding, different values share about
            // half their bits (a repeated byte would make values that differ
            // in only a few bit positions collide in the LSH).
            let mut state = u64::from(bloom[i]).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            r.bloom.push(std::array::from_fn(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            }));
            r.has_bloom.push(bloom[i] != 0);
        }
        r
    }

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("p{n}")
        }
    }

    #[test]
    fn the_cascade_links_key_joined_pairs_only_with_their_first_rule() {
        // 0–1 share key 0 (and key 3); 4–5 share key 5 only; 2–3 have no key
        // but identical encodings; 6 shares key 0 with 0 but its dataset
        // (like 1's) holds one record per person.
        let r = records(
            &[0, 1, 0, 1, 0, 1, 1],
            &[
                &[(0, 1), (3, 9)],
                &[(0, 1), (3, 9)],
                &[],
                &[],
                &[(5, 2)],
                &[(5, 2), (0, 7)],
                &[(0, 1)],
            ],
            &[0x11, 0x11, 0x5a, 0x5a, 0x33, 0x33, 0x11],
            [false, true],
        );
        let settings = LinkageConfig {
            method: LinkageMethod::Cascade,
            ..LinkageConfig::default()
        };
        let linkage = link(&r, &settings, &vec![None; 7], counter());
        let c = &linkage.clustering.cluster;
        assert_eq!(c[0], c[1]);
        assert_eq!(c[4], c[5]);
        assert_ne!(c[2], c[3], "no Bloom pairs in the cascade");
        assert_ne!(c[1], c[6], "one record per person");
        assert_eq!(linkage.stats.pairs_from_bloom, 0);
        assert_eq!(linkage.clustering.refused_one_per_person, 1);
        let best = &linkage.clustering.best;
        assert_eq!(
            best[1].map(|l| (l.rule, l.probability)),
            Some((Some(0), 1.0))
        );
        assert_eq!(
            best[5].map(|l| (l.rule, l.probability)),
            Some((Some(5), 1.0))
        );
        assert!(linkage.probabilities.iter().all(|&p| p == 1.0));

        // The probabilistic method also proposes the Bloom pair 2–3.
        let linkage = link(&r, &LinkageConfig::default(), &vec![None; 7], counter());
        assert_eq!(linkage.stats.pairs_from_bloom, 1);
    }

    /// A pair that only a blocking key joins (`family_dob_sex`,
    /// `dob_district`, and `pprl/v2`'s `first_dob` and `family_dob`) is a
    /// candidate for the model, never a link of the cascade.
    #[test]
    fn blocking_keys_propose_pairs_but_the_cascade_does_not_link_on_them() {
        let blocking: Vec<usize> = candidates::BLOCKING_ONLY_KEYS
            .iter()
            .map(|name| MATCH_KEYS.iter().position(|d| d.name == *name).unwrap())
            .collect();
        assert_eq!(blocking, [15, 16, 17, 18]);
        for key in blocking {
            a_blocking_key_proposes_but_does_not_link(key);
        }
    }

    fn a_blocking_key_proposes_but_does_not_link(key: usize) {
        let r = records(
            &[0, 1],
            &[&[(key, 1)], &[(key, 1)]],
            &[0x21, 0x21],
            [false, false],
        );
        let cascade = LinkageConfig {
            method: LinkageMethod::Cascade,
            ..LinkageConfig::default()
        };
        let linkage = link(&r, &cascade, &[None, None], counter());
        assert_eq!(linkage.stats.pairs_from_keys, 0);
        let c = &linkage.clustering.cluster;
        assert_ne!(c[0], c[1]);
        let blocking = candidates::block(&r, 1000, true, &|_, _| true);
        assert_eq!(blocking.key_pairs, 1, "proposed for the model");
        let frequency = vec![vec![2; r.len()]; MATCH_KEY_COUNT];
        let compared = score::compare(&r, &frequency, &blocking.pairs, &blocking.keyed);
        assert_eq!(compared[0].rule, Some(key as u8));
        assert!(
            score::DICE_NAME_KEYS.contains(&(compared[0].name as usize)),
            "a blocking key's pair is at a Dice level: {:?}",
            compared[0]
        );
        assert_ne!(
            compared[0].dice,
            (score::DICE_LEVELS - 1) as u8,
            "the Dice similarity is evidence for a blocking key's pair"
        );
    }

    /// The Dice similarity is evidence only for pairs that no key joins or
    /// that only an initial-based name key joins.
    #[test]
    fn dice_counts_only_where_the_keys_leave_doubt() {
        // match keys (spec order): 0 names_dob_postcode, 1 nhs_number,
        // 12 soundex_initial_dob, 13 first_family_postcode
        let r = records(
            &[0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
            &[
                &[(0, 1)],
                &[(0, 1)],
                &[],
                &[],
                &[(12, 2)],
                &[(12, 2)],
                &[(13, 3)],
                &[(13, 3)],
                &[(1, 4)],
                &[(1, 4)],
            ],
            &[1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
            [false, false],
        );
        let frequency = vec![vec![2; r.len()]; MATCH_KEY_COUNT];
        let pairs: Vec<candidates::Pair> =
            (0..5).map(|i| candidates::pair(2 * i, 2 * i + 1)).collect();
        let c = score::compare(&r, &frequency, &pairs, &[true; 5]);
        let missing = (score::DICE_LEVELS - 1) as u8;
        let dice: Vec<bool> = c.iter().map(|c| c.dice != missing).collect();
        assert_eq!(dice, [false, true, true, false, false]);
        assert_eq!(c[4].numbers, 0, "the NHS number agrees");
    }
}
