//! The linkage settings: how pairs are found and scored, and the
//! thresholds. The project configuration embeds them as `[linkage]`.

use serde::{Deserialize, Serialize};

/// Linkage settings of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkageConfig {
    /// How pairs are found and scored: `probabilistic` (the default) or
    /// `cascade` (the deterministic match-key cascade alone).
    pub method: LinkageMethod,
    /// Links whose match probability is at least this are accepted (0.5–1).
    pub threshold: f64,
    /// A link below this probability may not merge two clusters that each
    /// already hold two or more records (the guard against chaining).
    pub strong_threshold: f64,
    /// Tokens shared by more records than this are too common to block on.
    pub max_block_size: usize,
    /// What a run must look like to be published without an administrator's
    /// accept (`[linkage.guard]`).
    pub guard: GuardConfig,
}

impl Default for LinkageConfig {
    fn default() -> Self {
        LinkageConfig {
            method: LinkageMethod::Probabilistic,
            threshold: 0.9,
            strong_threshold: 0.99,
            max_block_size: 200,
            guard: GuardConfig::default(),
        }
    }
}

/// How a project's records are linked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkageMethod {
    /// Candidate pairs from shared match-key tokens and from the Bloom
    /// encodings, scored by the Fellegi–Sunter model learnt by EM; links at
    /// or above `threshold` are accepted.
    #[default]
    Probabilistic,
    /// The deterministic cascade alone: candidate pairs only from shared
    /// match-key tokens (no Bloom encodings), every such pair a link with
    /// probability 1 and, as its rule, the first agreeing key in cascade
    /// order. `threshold` and `strong_threshold` play no part; the
    /// one-record-per-person guard still applies. Useful as a baseline.
    Cascade,
}

impl LinkageMethod {
    /// The name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            LinkageMethod::Probabilistic => "probabilistic",
            LinkageMethod::Cascade => "cascade",
        }
    }
}

/// The guard before publishing: a run that fails any of these checks is
/// held, not published, until an administrator accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// `false` publishes every run that completes, as before the guard.
    pub enabled: bool,
    /// The model's estimated precision must be at least this (0–1).
    pub min_estimated_precision: f64,
    /// The model's estimated recall must be at least this (0–1).
    pub min_estimated_recall: f64,
    /// The probabilistic model's EM must have converged (the cascade fits
    /// no model it uses, so this does not apply to it). Off by default: the
    /// EM's stopping rule (λ moving less than 10⁻⁹) is stricter than
    /// plausibility, and clean synthetic data reach the 2,000-iteration cap
    /// without meeting it; a collapse shows in the estimated recall.
    pub require_converged: bool,
    /// Largest relative change tolerated against the last publication in
    /// persons, links accepted, each dataset's match rate and each overlap
    /// between two datasets (0.2: 20 %).
    pub max_change: f64,
    /// Counts (persons, links, overlaps, a dataset's linked records) below
    /// this in both runs are not compared: with few people, 40 to 60 is
    /// growth or noise, not a collapse.
    pub min_count: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            enabled: true,
            min_estimated_precision: 0.9,
            min_estimated_recall: 0.5,
            require_converged: false,
            max_change: 0.2,
            min_count: 100,
        }
    }
}
