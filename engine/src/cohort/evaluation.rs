//! The matched comparison group (issue 18): the covariates of each member
//! as a design matrix, the propensity model ([`super::propensity`]), the
//! greedy caliper matching ([`super::matching`]) and the balance of the
//! covariates before and after.
//!
//! The design, written down so that `tests/e2e/propensity_check.py`
//! rebuilds it from `cohort.parquet`:
//!
//! - a number or integer attribute is a column as it is; a boolean is 0/1;
//!   a missing value takes the median of the present ones (the mean of the
//!   two middle ones for an even count) and, when any is missing, a column
//!   `<name>_missing` (1 where it was missing) is added after it;
//! - a string attribute is one column per level `<name>=<level>` but the
//!   first in sorted (byte) order, the reference; a missing value is the
//!   level `(missing)`, sorted last;
//! - a prior-history count is a column as it is (never missing);
//! - a column with the same value for everyone is left out, and so is a
//!   0/1 column (a level, a boolean, a `_missing` flag) whose ones are all
//!   participants or all comparison people (it separates the groups).
//!
//! Nobody is dropped for a missing value: the report counts them per
//! covariate.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_schema::DataType;

use super::build::Cohort;
use super::config::{CohortConfig, ComparisonConfig, ComparisonMethod};
use super::matching::{self, Matches};
use super::propensity::{self, Fit};

/// The level a missing string value takes.
pub const MISSING_LEVEL: &str = "(missing)";

/// What each member is in the matched comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    MatchedParticipant,
    UnmatchedParticipant,
    MatchedComparison,
    UnmatchedComparison,
}

impl Role {
    pub fn participant(self) -> bool {
        matches!(self, Role::MatchedParticipant | Role::UnmatchedParticipant)
    }

    pub fn matched(self) -> bool {
        matches!(self, Role::MatchedParticipant | Role::MatchedComparison)
    }
}

/// One column of the design matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignColumn {
    /// `age`, `age_missing`, `establishment=HMP Leeds`, `prior_offences`.
    pub name: String,
    /// The covariate it comes from.
    pub covariate: String,
    /// A 0/1 column (a level, a boolean, a missing-value flag).
    pub indicator: bool,
}

/// A covariate's missing values and what was done about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub covariate: String,
    /// Members with no value.
    pub members: Vec<usize>,
    pub rule: String,
}

/// The propensity model and the matching of a run.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub config: ComparisonConfig,
    /// The covariates, as configured or defaulted.
    pub covariates: Vec<String>,
    pub columns: Vec<DesignColumn>,
    /// Covariates left out (constant, or all missing), with why.
    pub dropped: Vec<(String, String)>,
    pub missing: Vec<Missing>,
    pub fit: Fit,
    /// Per member: the linear predictor and the score.
    pub logit: Vec<f64>,
    pub score: Vec<f64>,
    /// The caliper on the logit scale.
    pub caliper_width: f64,
    pub matches: Matches,
    /// Per member.
    pub role: Vec<Role>,
    /// Per member: the 1-based number of its matched set (a matched
    /// participant's, or the first one a comparison person was matched
    /// into), `None` when unmatched.
    pub match_set: Vec<Option<u32>>,
    /// Per member: participants — comparison people matched to it;
    /// comparison people — participants it was matched to.
    pub match_count: Vec<u32>,
    /// Per member: its weight in the matched sample (participants 1; a
    /// comparison person the sum over its participants of 1 / their count).
    pub weight: Vec<f64>,
    pub balance: Vec<Balance>,
    /// The range of scores both groups have, and who lies outside it.
    pub support: (f64, f64),
    pub outside_support: Vec<usize>,
    /// The design matrix (one row per member).
    pub design: Vec<Vec<f64>>,
}

/// One design column's balance.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    pub column: String,
    pub indicator: bool,
    /// Means: participants, comparison (before); matched participants,
    /// matched comparison (weighted).
    pub mean_participant: f64,
    pub mean_comparison: f64,
    pub mean_matched_participant: f64,
    pub mean_matched_comparison: f64,
    /// Standardised mean differences, on the pooled SD before matching.
    pub smd_before: Option<f64>,
    pub smd_after: Option<f64>,
}

/// The covariates the comparison uses: as configured, or by default the
/// cohort's attributes that are not dates.
pub fn covariate_names(cohort: &Cohort, config: &CohortConfig) -> Vec<String> {
    match &config.comparison.covariates {
        Some(v) => v.clone(),
        None => cohort
            .attributes
            .iter()
            .filter(|c| config.attributes.contains(c.field.name()))
            .filter(|c| {
                matches!(
                    c.field.data_type(),
                    DataType::Int64 | DataType::Float64 | DataType::Boolean | DataType::Utf8
                )
            })
            .map(|c| c.field.name().clone())
            .collect(),
    }
}

/// Fits and matches, when the project compares with a matched group and
/// both groups have people; `None` otherwise.
pub fn evaluate(cohort: &Cohort, config: &CohortConfig) -> Option<Comparison> {
    let cmp = &config.comparison;
    if cmp.method != ComparisonMethod::Matched {
        return None;
    }
    let n = cohort.members.len();
    let participants: Vec<usize> = (0..n).filter(|&i| cohort.members[i].participant).collect();
    let controls: Vec<usize> = (0..n).filter(|&i| !cohort.members[i].participant).collect();
    if participants.is_empty() || controls.is_empty() {
        return None;
    }
    let (columns, design, missing, dropped) = design(cohort, config);
    let y: Vec<bool> = cohort.members.iter().map(|m| m.participant).collect();
    let fit = propensity::fit(&design, &y);
    let logit: Vec<f64> = design.iter().map(|r| fit.logit(r)).collect();
    let score: Vec<f64> = logit.iter().map(|&l| propensity::sigmoid(l)).collect();
    let var = |members: &[usize], v: &dyn Fn(usize) -> f64| variance(members.iter().map(|&i| v(i)));
    let pooled_sd =
        ((var(&participants, &|i| logit[i]) + var(&controls, &|i| logit[i])) / 2.0).sqrt();
    let caliper_width = cmp.caliper * pooled_sd;
    let matches = matching::greedy(
        &logit,
        &participants,
        &controls,
        caliper_width,
        cmp.ratio,
        cmp.replacement,
    );
    let mut match_count = vec![0u32; n];
    let mut match_set: Vec<Option<u32>> = vec![None; n];
    // Sets are numbered by participant in member order.
    let mut set_of = vec![0u32; n];
    let mut next = 0;
    for &t in &participants {
        if matches.pairs.iter().any(|p| p.0 == t) {
            next += 1;
            set_of[t] = next;
            match_set[t] = Some(next);
        }
    }
    for &(t, c) in &matches.pairs {
        match_count[t] += 1;
        match_count[c] += 1;
        let s = set_of[t];
        match_set[c] = Some(match_set[c].map_or(s, |m| m.min(s)));
    }
    let mut weight = vec![0.0; n];
    for &(t, c) in &matches.pairs {
        weight[t] = 1.0;
        weight[c] += 1.0 / f64::from(match_count[t]);
    }
    let role: Vec<Role> = (0..n)
        .map(
            |i| match (cohort.members[i].participant, match_count[i] > 0) {
                (true, true) => Role::MatchedParticipant,
                (true, false) => Role::UnmatchedParticipant,
                (false, true) => Role::MatchedComparison,
                (false, false) => Role::UnmatchedComparison,
            },
        )
        .collect();
    let range = |members: &[usize]| {
        members
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                (lo.min(score[i]), hi.max(score[i]))
            })
    };
    let (t, c) = (range(&participants), range(&controls));
    let support = (t.0.max(c.0), t.1.min(c.1));
    let outside_support = (0..n)
        .filter(|&i| score[i] < support.0 || score[i] > support.1)
        .collect();
    let balance = columns
        .iter()
        .enumerate()
        .map(|(j, col)| {
            let v = |i: usize| design[i][j];
            let plain = |members: &[usize]| mean(members.iter().map(|&i| (v(i), 1.0)));
            let matched = |participant: bool| {
                mean(
                    (0..n)
                        .filter(|&i| role[i].matched() && role[i].participant() == participant)
                        .map(|i| (v(i), weight[i])),
                )
            };
            let sd = ((var(&participants, &v) + var(&controls, &v)) / 2.0).sqrt();
            let (mp, mc, mmp, mmc) = (
                plain(&participants),
                plain(&controls),
                matched(true),
                matched(false),
            );
            let smd = |a: f64, b: f64| {
                if sd > 0.0 {
                    Some((a - b) / sd)
                } else if a == b {
                    Some(0.0)
                } else {
                    None
                }
            };
            Balance {
                column: col.name.clone(),
                indicator: col.indicator,
                mean_participant: mp,
                mean_comparison: mc,
                mean_matched_participant: mmp,
                mean_matched_comparison: mmc,
                smd_before: smd(mp, mc),
                smd_after: if mmp.is_nan() || mmc.is_nan() {
                    None
                } else {
                    smd(mmp, mmc)
                },
            }
        })
        .collect();
    Some(Comparison {
        config: cmp.clone(),
        covariates: covariate_names(cohort, config),
        columns,
        dropped,
        missing,
        fit,
        logit,
        score,
        caliper_width,
        matches,
        role,
        match_set,
        match_count,
        weight,
        balance,
        support,
        outside_support,
        design,
    })
}

/// The sample variance (n − 1); 0 for fewer than two values.
fn variance(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

/// A weighted mean; NaN with no weight.
fn mean(values: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (s, w) = values.fold((0.0, 0.0), |(s, w), (x, wx)| (s + x * wx, w + wx));
    if w > 0.0 { s / w } else { f64::NAN }
}

type Design = (
    Vec<DesignColumn>,
    Vec<Vec<f64>>,
    Vec<Missing>,
    Vec<(String, String)>,
);

/// The design matrix of the module's rules.
fn design(cohort: &Cohort, config: &CohortConfig) -> Design {
    let n = cohort.members.len();
    let mut columns: Vec<(DesignColumn, Vec<f64>)> = Vec::new();
    let mut missing = Vec::new();
    let mut dropped = Vec::new();
    for name in covariate_names(cohort, config) {
        let Some(column) = cohort.attributes.iter().find(|c| c.field.name() == &name) else {
            continue;
        };
        let rows = cohort.members.iter().map(|m| m.index_row);
        let numeric: Option<(Vec<Option<f64>>, bool)> = match column.field.data_type() {
            DataType::Int64 | DataType::Float64 | DataType::Boolean => Some((
                rows.map(|r| {
                    let (a, i) = column.locate(r);
                    a.is_valid(i).then(|| match a.data_type() {
                        DataType::Int64 => a.as_primitive::<Int64Type>().value(i) as f64,
                        DataType::Float64 => a.as_primitive::<Float64Type>().value(i),
                        _ => f64::from(u8::from(a.as_boolean().value(i))),
                    })
                })
                .collect(),
                *column.field.data_type() == DataType::Boolean,
            )),
            _ => None,
        };
        if let Some((values, boolean)) = numeric {
            let absent: Vec<usize> = (0..n).filter(|&i| values[i].is_none()).collect();
            let mut present: Vec<f64> = values.iter().flatten().copied().collect();
            if present.is_empty() {
                dropped.push((name.clone(), "no member has a value".to_owned()));
                continue;
            }
            present.sort_by(f64::total_cmp);
            let k = present.len();
            let median = if k % 2 == 1 {
                present[k / 2]
            } else {
                (present[k / 2 - 1] + present[k / 2]) / 2.0
            };
            columns.push((
                DesignColumn {
                    name: name.clone(),
                    covariate: name.clone(),
                    indicator: boolean,
                },
                values.iter().map(|v| v.unwrap_or(median)).collect(),
            ));
            if !absent.is_empty() {
                columns.push((
                    DesignColumn {
                        name: format!("{name}_missing"),
                        covariate: name.clone(),
                        indicator: true,
                    },
                    values
                        .iter()
                        .map(|v| f64::from(u8::from(v.is_none())))
                        .collect(),
                ));
                missing.push(Missing {
                    covariate: name.clone(),
                    members: absent,
                    rule: format!(
                        "the median ({median}) of the present values, with a column {name}_missing"
                    ),
                });
            }
            continue;
        }
        if *column.field.data_type() != DataType::Utf8 {
            continue;
        }
        let values: Vec<Option<String>> = cohort
            .members
            .iter()
            .map(|m| {
                let (a, i) = column.locate(m.index_row);
                a.is_valid(i)
                    .then(|| a.as_string::<i32>().value(i).to_owned())
            })
            .collect();
        let mut levels: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
        levels.sort_unstable();
        levels.dedup();
        let absent: Vec<usize> = (0..n).filter(|&i| values[i].is_none()).collect();
        if !absent.is_empty() {
            levels.push(MISSING_LEVEL);
            missing.push(Missing {
                covariate: name.clone(),
                members: absent,
                rule: format!("a level of its own, `{MISSING_LEVEL}`"),
            });
        }
        for level in levels.iter().skip(1) {
            columns.push((
                DesignColumn {
                    name: format!("{name}={level}"),
                    covariate: name.clone(),
                    indicator: true,
                },
                values
                    .iter()
                    .map(|v| f64::from(u8::from(v.as_deref().unwrap_or(MISSING_LEVEL) == *level)))
                    .collect(),
            ));
        }
    }
    for p in &cohort.priors {
        columns.push((
            DesignColumn {
                name: p.name.clone(),
                covariate: p.name.clone(),
                indicator: false,
            },
            p.counts.iter().map(|&c| f64::from(c)).collect(),
        ));
    }
    let (kept, constant): (Vec<_>, Vec<_>) = columns
        .into_iter()
        .partition(|(_, v)| v.iter().any(|x| *x != v[0]));
    for (c, _) in constant {
        dropped.push((c.name, "the same for every member".to_owned()));
    }
    // A 0/1 column whose ones are all in one group separates the groups:
    // the model has no finite estimate for it, and its people have no
    // counterpart to match on it. It is left out (the balance table still
    // shows nothing for it; its people are scored on the other columns).
    let participant = |i: usize| cohort.members[i].participant;
    let (kept, separating): (Vec<_>, Vec<_>) = kept.into_iter().partition(|(c, v)| {
        let ones: Vec<usize> = (0..n).filter(|&i| v[i] == 1.0).collect();
        !c.indicator
            || (ones.iter().any(|&i| participant(i)) && ones.iter().any(|&i| !participant(i)))
    });
    for (c, v) in separating {
        let who = if (0..n).any(|i| v[i] == 1.0 && participant(i)) {
            "only participants have it"
        } else {
            "no participant has it"
        };
        dropped.push((c.name, format!("{who}, so it separates the groups")));
    }
    let design = (0..n)
        .map(|i| kept.iter().map(|(_, v)| v[i]).collect())
        .collect();
    (
        kept.into_iter().map(|(c, _)| c).collect(),
        design,
        missing,
        dropped,
    )
}
