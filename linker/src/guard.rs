//! The guard before publishing (issue 15): a run whose model did not
//! converge, whose estimated precision or recall is implausible, or whose
//! linkage moves sharply from the last publication is held, not published,
//! until an administrator accepts it.
//!
//! Pure: [`evaluate`] takes this run's [`Figures`] and the last
//! publication's and returns a [`Verdict`]. The figures are stored in each
//! run's summary, so the next run compares against them. The settings are
//! the engine's [`GuardConfig`] (`[linkage.guard]` in the project config).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::linkage::GuardConfig;
use crate::linkage::outputs::Report;

/// What the guard compares, for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub persons: usize,
    pub links_accepted: usize,
    pub estimated_precision: f64,
    pub estimated_recall: f64,
    /// Matches the model expects among the candidate pairs (λ × pairs).
    #[serde(default)]
    pub expected_matches: f64,
    /// Whether the model's EM converged, and in how many iterations; `None`
    /// when the method uses no fitted model (the cascade).
    pub converged: Option<(bool, usize)>,
    /// Per dataset: its records and how many are linked to another record.
    pub datasets: BTreeMap<String, DatasetFigures>,
    /// Persons in both datasets, per pair (`a & b`).
    pub overlaps: BTreeMap<String, usize>,
}

/// One dataset's records and linked records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFigures {
    pub records: usize,
    pub linked: usize,
}

impl DatasetFigures {
    /// Share of the dataset's records linked to any other record.
    pub fn match_rate(self) -> f64 {
        if self.records == 0 {
            0.0
        } else {
            self.linked as f64 / self.records as f64
        }
    }
}

impl Figures {
    /// The figures of a run's quality report and its model's share of
    /// matches `lambda`; `converged` is `None` for a method whose links do
    /// not come from the fitted model.
    pub fn of(report: &Report, lambda: f64, converged: Option<(bool, usize)>) -> Self {
        Figures {
            persons: report.persons,
            links_accepted: report.stats.links_accepted,
            estimated_precision: report.stats.estimated_precision,
            estimated_recall: report.stats.estimated_recall,
            expected_matches: lambda * report.stats.candidate_pairs as f64,
            converged,
            datasets: report
                .datasets
                .iter()
                .map(|d| {
                    let figures = DatasetFigures {
                        records: d.records,
                        linked: d.linked_records,
                    };
                    (d.dataset.clone(), figures)
                })
                .collect(),
            overlaps: report
                .overlaps
                .iter()
                .map(|o| (format!("{} & {}", o.a, o.b), o.persons))
                .collect(),
        }
    }
}

/// The guard's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Publish,
    /// Held, for these reasons (never empty).
    Hold(Vec<Reason>),
}

/// Why a run is held: what is implausible or what moved, from what to
/// what, and the tolerance.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    NotConverged {
        iterations: usize,
    },
    LowPrecision {
        estimated: f64,
        minimum: f64,
    },
    LowRecall {
        estimated: f64,
        minimum: f64,
    },
    /// A dataset of the last publication is not in this run.
    DatasetMissing {
        dataset: String,
    },
    /// A figure moved by more than `max_change` (relative).
    Moved {
        what: String,
        from: String,
        to: String,
        /// Relative change; infinite when it was zero.
        change: f64,
        tolerance: f64,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotConverged { iterations } => write!(
                f,
                "the model did not converge ({iterations} iterations; require_converged)"
            ),
            Reason::LowPrecision { estimated, minimum } => write!(
                f,
                "estimated precision {estimated:.4} is below min_estimated_precision {minimum}"
            ),
            Reason::LowRecall { estimated, minimum } => write!(
                f,
                "estimated recall {:.4} is below min_estimated_recall {minimum}",
                estimated + 0.0
            ),
            Reason::DatasetMissing { dataset } => write!(
                f,
                "dataset {dataset} was in the last publication and is not in this run"
            ),
            Reason::Moved {
                what,
                from,
                to,
                change,
                tolerance,
            } => {
                let change = if change.is_finite() {
                    format!("{:+.0}%", change * 100.0)
                } else {
                    "from zero".to_owned()
                };
                write!(
                    f,
                    "{what} moved from {from} to {to} ({change}; max_change {:.0}%)",
                    tolerance * 100.0
                )
            }
        }
    }
}

/// Below this many expected matches the estimated recall is not checked:
/// a dataset of distinct people has no matches to recall, and the ratio of
/// two near-zero sums means nothing.
pub const MIN_EXPECTED_MATCHES: f64 = 10.0;

/// Decides whether a run may be published: its plausibility, then its
/// changes against `last` (the last publication's figures, if known).
pub fn evaluate(config: &GuardConfig, run: &Figures, last: Option<&Figures>) -> Verdict {
    if !config.enabled {
        return Verdict::Publish;
    }
    let mut reasons = Vec::new();
    if let Some((false, iterations)) = run.converged
        && config.require_converged
    {
        reasons.push(Reason::NotConverged { iterations });
    }
    if run.estimated_precision < config.min_estimated_precision {
        reasons.push(Reason::LowPrecision {
            estimated: run.estimated_precision,
            minimum: config.min_estimated_precision,
        });
    }
    if run.estimated_recall < config.min_estimated_recall
        && run.expected_matches >= MIN_EXPECTED_MATCHES
    {
        reasons.push(Reason::LowRecall {
            estimated: run.estimated_recall,
            minimum: config.min_estimated_recall,
        });
    }
    if let Some(last) = last {
        changes(config, run, last, &mut reasons);
    }
    if reasons.is_empty() {
        Verdict::Publish
    } else {
        Verdict::Hold(reasons)
    }
}

/// The changes beyond `max_change`; counts below `min_count` in both runs
/// are not compared.
fn changes(config: &GuardConfig, run: &Figures, last: &Figures, reasons: &mut Vec<Reason>) {
    let tolerance = config.max_change;
    let relative = |from: f64, to: f64| {
        if from == 0.0 {
            if to == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            (to - from) / from
        }
    };
    let mut count = |what: String, from: usize, to: usize| {
        if from.max(to) < config.min_count {
            return;
        }
        let change = relative(from as f64, to as f64);
        if change.abs() > tolerance {
            reasons.push(Reason::Moved {
                what,
                from: from.to_string(),
                to: to.to_string(),
                change,
                tolerance,
            });
        }
    };
    count("persons".to_owned(), last.persons, run.persons);
    count(
        "links accepted".to_owned(),
        last.links_accepted,
        run.links_accepted,
    );
    for (pair, &from) in &last.overlaps {
        let to = run.overlaps.get(pair).copied().unwrap_or(0);
        count(format!("overlap {pair}"), from, to);
    }
    for (dataset, before) in &last.datasets {
        let Some(now) = run.datasets.get(dataset) else {
            reasons.push(Reason::DatasetMissing {
                dataset: dataset.clone(),
            });
            continue;
        };
        if before.linked.max(now.linked) < config.min_count {
            continue;
        }
        let (from, to) = (before.match_rate(), now.match_rate());
        let change = relative(from, to);
        if change.abs() > tolerance {
            reasons.push(Reason::Moved {
                what: format!("match rate of {dataset}"),
                from: format!("{:.1}%", from * 100.0),
                to: format!("{:.1}%", to * 100.0),
                change,
                tolerance,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(persons: usize, links: usize, linked: [usize; 2], overlap: usize) -> Figures {
        Figures {
            persons,
            links_accepted: links,
            estimated_precision: 0.98,
            estimated_recall: 0.9,
            expected_matches: 550.0,
            converged: Some((true, 40)),
            datasets: [("a", linked[0]), ("b", linked[1])]
                .into_iter()
                .map(|(name, linked)| {
                    let d = DatasetFigures {
                        records: 1000,
                        linked,
                    };
                    (name.to_owned(), d)
                })
                .collect(),
            overlaps: [("a & b".to_owned(), overlap)].into_iter().collect(),
        }
    }

    fn reasons(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Publish => Vec::new(),
            Verdict::Hold(reasons) => reasons.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_plausible_first_run_and_a_steady_next_run_are_published() {
        let config = GuardConfig::default();
        let first = figures(1500, 500, [500, 500], 500);
        assert_eq!(evaluate(&config, &first, None), Verdict::Publish);
        let next = figures(1560, 540, [540, 530], 540);
        assert_eq!(evaluate(&config, &next, Some(&first)), Verdict::Publish);
    }

    /// The FEBRL collapse measured this morning: recall 0.007, precision 0.93.
    #[test]
    fn issue_15_a_collapsed_model_is_held() {
        let config = GuardConfig {
            require_converged: true,
            ..GuardConfig::default()
        };
        let mut run = figures(1990, 7, [7, 7], 7);
        run.estimated_recall = 0.007;
        run.estimated_precision = 0.93;
        run.converged = Some((false, 2000));
        assert_eq!(
            reasons(evaluate(&config, &run, None)),
            [
                "the model did not converge (2000 iterations; require_converged)",
                "estimated recall 0.0070 is below min_estimated_recall 0.5",
            ]
        );
        run.estimated_precision = 0.5;
        assert_eq!(reasons(evaluate(&config, &run, None)).len(), 3);
        let off = GuardConfig {
            enabled: false,
            ..GuardConfig::default()
        };
        assert_eq!(evaluate(&off, &run, None), Verdict::Publish);
        assert_eq!(
            reasons(evaluate(&GuardConfig::default(), &run, None)).len(),
            2,
            "convergence is not required by default"
        );
        let lenient = GuardConfig {
            min_estimated_precision: 0.0,
            min_estimated_recall: 0.0,
            ..GuardConfig::default()
        };
        assert_eq!(evaluate(&lenient, &run, None), Verdict::Publish);
        run.converged = None;
        assert_eq!(
            reasons(evaluate(&config, &run, None)).len(),
            2,
            "the cascade has no model to converge"
        );
        run.expected_matches = 0.3;
        assert_eq!(
            reasons(evaluate(&config, &run, None)),
            ["estimated precision 0.5000 is below min_estimated_precision 0.9"],
            "no recall to estimate among distinct people"
        );
    }

    #[test]
    fn issue_15_a_sharp_move_names_what_moved_from_what_to_what() {
        let config = GuardConfig::default();
        let last = figures(1500, 500, [500, 500], 500);
        let run = figures(1100, 100, [100, 500], 100);
        assert_eq!(
            reasons(evaluate(&config, &run, Some(&last))),
            [
                "persons moved from 1500 to 1100 (-27%; max_change 20%)",
                "links accepted moved from 500 to 100 (-80%; max_change 20%)",
                "overlap a & b moved from 500 to 100 (-80%; max_change 20%)",
                "match rate of a moved from 50.0% to 10.0% (-80%; max_change 20%)",
            ]
        );
        let tolerant = GuardConfig {
            max_change: 0.9,
            ..GuardConfig::default()
        };
        assert_eq!(evaluate(&tolerant, &run, Some(&last)), Verdict::Publish);
    }

    #[test]
    fn small_counts_are_not_compared_and_a_vanished_dataset_is() {
        let config = GuardConfig::default();
        let last = figures(30, 5, [5, 5], 5);
        let run = figures(30, 12, [12, 12], 12);
        assert_eq!(evaluate(&config, &run, Some(&last)), Verdict::Publish);
        let mut run = figures(30, 5, [5, 5], 0);
        run.overlaps.clear();
        run.overlaps.insert("a & c".to_owned(), 40);
        run.datasets.remove("b");
        assert_eq!(
            reasons(evaluate(&config, &run, Some(&last))),
            ["dataset b was in the last publication and is not in this run"]
        );
        let from_zero = figures(300, 0, [0, 0], 0);
        let run = figures(300, 125, [0, 0], 0);
        assert_eq!(
            reasons(evaluate(&config, &run, Some(&from_zero))),
            ["links accepted moved from 0 to 125 (from zero; max_change 20%)"]
        );
    }
}
