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
}

impl Default for LinkageConfig {
    fn default() -> Self {
        LinkageConfig {
            method: LinkageMethod::Probabilistic,
            threshold: 0.9,
            strong_threshold: 0.99,
            max_block_size: 200,
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
