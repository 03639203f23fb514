//! The linkage engine: from the current token files of a project's datasets
//! to persons with stable identifiers.
//!
//! [`link`] is pure computation over loaded [`Records`]: blocking
//! ([`candidates`]), comparison and the Fellegi–Sunter model ([`score`]),
//! clustering ([`cluster`]) and identifier assignment ([`identity`]).
//! Reading token files and writing outputs happen around it ([`records`],
//! [`outputs`]); runs and publication are managed by [`crate::runs`].

pub mod candidates;
pub mod cluster;
pub mod identity;
pub mod outputs;
pub mod records;
pub mod score;

use serde::Serialize;

pub use records::{DatasetInput, Records};

use crate::project::LinkageConfig;
use cluster::{Clustering, Link};
use identity::Changes;
use score::Model;

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
    /// Model-based estimates: mean probability of accepted links, and the
    /// share of the expected matches among candidates that were accepted.
    pub estimated_precision: f64,
    pub estimated_recall: f64,
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
    let blocking = candidates::block(records, settings.max_block_size, &allowed);
    lap(&mut timings.blocking);
    let comparisons = score::compare(records, &blocking.frequency, &blocking.pairs);
    lap(&mut timings.compare);
    let model = Model::fit(&comparisons);
    let probabilities: Vec<f64> = comparisons.iter().map(|c| model.probability(c)).collect();
    lap(&mut timings.model);
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
        estimated_precision: if above > 0 {
            accepted_mass / above as f64
        } else {
            1.0
        },
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
