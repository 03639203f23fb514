//! The comparison part of `outcomes.json` (issue 18): how participants are
//! compared, the propensity model, the matching and the balance table.
//!
//! What it publishes, and under which rules: every count (missing values,
//! people outside the common support) goes through the same suppression and
//! perturbation as the indicator tables; the model's coefficients and the
//! standardised mean differences are estimates, not counts, and the SMDs
//! are rounded to three decimals; covariate means are given only for
//! numeric covariates (never for a 0/1 column, whose mean times the group
//! size would be an unperturbed count) and only for groups of at least
//! `min_cohort` people.

use serde::{Deserialize, Serialize};

use super::build::Cohort;
use super::config::{ComparisonMethod, DisclosureConfig};
use super::disclosure::{Rules, Suppression};
use super::evaluation::{Comparison, Role};
use super::propensity;
use super::ptable::CellKey;
use super::report::Count;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    /// `matched` or `all`.
    pub method: ComparisonMethod,
    pub statement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching: Option<MatchingReport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub balance: Vec<BalanceRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingReport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// `logistic regression (IRLS)`.
    pub kind: String,
    /// The covariates as configured (or defaulted).
    pub covariates: Vec<String>,
    /// The prior-history counts among them (`cohort.comparison.prior`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior: Vec<String>,
    pub ridge: f64,
    pub converged: bool,
    pub iterations: u32,
    /// `(intercept)` first, then one per design column.
    pub coefficients: Vec<Coefficient>,
    /// Design columns left out, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Dropped>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    pub term: String,
    pub estimate: f64,
    pub standard_error: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    pub column: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchingReport {
    /// `greedy nearest neighbour on the logit of the score`.
    pub kind: String,
    /// In standard deviations of the logit (pooled over the groups).
    pub caliper_sd: f64,
    /// On the logit scale.
    pub caliper: f64,
    pub replacement: bool,
    pub ratio: u32,
    /// The order participants are matched in.
    pub order: String,
    /// The range of propensity scores both groups have.
    pub common_support: [f64; 2],
    /// Participants with a score outside the common support.
    pub participants_outside_support: Count,
    /// Comparison people with a score outside it.
    pub comparison_outside_support: Count,
    /// Participants with no comparison person within the caliper.
    pub unmatched_participants: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceRow {
    /// A design column: `age_at_release`, `establishment=HMP Leeds`, …
    pub covariate: String,
    /// The standardised mean difference, participants minus comparison, on
    /// the pooled standard deviation before matching; three decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smd_before: Option<f64>,
    /// The same between matched participants and their matched comparison
    /// (weighted when a comparison person is used more than once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smd_after: Option<f64>,
    /// Means of numeric covariates, for groups of at least `min_cohort`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_participant: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_comparison: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_matched_comparison: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingReport {
    pub covariate: String,
    /// Members without a value (none is dropped for it).
    pub missing: Count,
    pub rule: String,
}

impl ComparisonReport {
    /// The report when no matched comparison was made.
    pub fn unmatched(cohort: &Cohort) -> ComparisonReport {
        let statement = match cohort.comparison_method {
            ComparisonMethod::All => {
                "participants are compared with everyone else in the cohort (cohort.comparison.method = \"all\")"
            }
            ComparisonMethod::Matched => {
                "no matched comparison could be made (the cohort has no participants or no one else): participants are compared with everyone else in the cohort"
            }
        };
        ComparisonReport {
            method: ComparisonMethod::All,
            statement: statement.to_owned(),
            model: None,
            matching: None,
            balance: Vec::new(),
            missing: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Three decimals.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A single count, suppressed when small, else perturbed by its people's key.
fn single(
    members: &[usize],
    record_keys: &[CellKey],
    rules: &DisclosureConfig,
    r: &Rules,
) -> Count {
    let n = members.len() as u64;
    if n > 0 && n < rules.min_cell {
        return Count::Suppressed(Suppression::SmallCount.explain(rules.min_cell));
    }
    Count::Value(r.publish(n, CellKey::sum(members.iter().map(|&i| record_keys[i]))))
}

/// The report of a matched comparison.
/// `unmatched_participants` is that group's size as the group-size table
/// published it (or withheld it).
pub fn comparison_report(
    c: &Comparison,
    record_keys: &[CellKey],
    rules: &DisclosureConfig,
    r: &Rules,
    unmatched_participants: Count,
) -> ComparisonReport {
    let n = c.role.len();
    let who = |f: &dyn Fn(usize) -> bool| -> Vec<usize> { (0..n).filter(|&i| f(i)).collect() };
    let participants = who(&|i| c.role[i].participant());
    let big = |k: usize| k as u64 >= rules.min_cohort;
    let matched_controls = who(&|i| c.role[i] == Role::MatchedComparison).len();
    let (show_p, show_c, show_m) = (
        big(participants.len()),
        big(n - participants.len()),
        big(matched_controls),
    );
    let balance = c
        .balance
        .iter()
        .map(|b| {
            let numeric = !b.indicator;
            let mean = |show: bool, v: f64| {
                (numeric && show && v.is_finite()).then(|| (v * 100.0).round() / 100.0)
            };
            BalanceRow {
                covariate: b.column.clone(),
                smd_before: b.smd_before.map(round3),
                smd_after: b.smd_after.map(round3),
                mean_participant: mean(show_p, b.mean_participant),
                mean_comparison: mean(show_c, b.mean_comparison),
                mean_matched_comparison: mean(show_m, b.mean_matched_comparison),
            }
        })
        .collect();
    let mut terms = vec!["(intercept)".to_owned()];
    terms.extend(c.columns.iter().map(|d| d.name.clone()));
    let coefficients = terms
        .into_iter()
        .zip(&c.fit.coefficients)
        .zip(&c.fit.standard_errors)
        .map(|((term, &estimate), &standard_error)| Coefficient {
            term,
            estimate,
            standard_error,
        })
        .collect();
    let mut notes = Vec::new();
    if !c.fit.converged {
        notes.push(format!(
            "the propensity model did not converge in {} iterations: the scores and the matching may be unreliable (look for a covariate that separates the groups)",
            c.fit.iterations
        ));
    }
    if c.config.replacement || c.config.ratio > 1 {
        notes.push(
            "the matched comparison group's counts are of people, each counted once however many participants it was matched to; the balance table weights them"
                .to_owned(),
        );
    }
    let outside = |participant: bool| {
        let m: Vec<usize> = c
            .outside_support
            .iter()
            .copied()
            .filter(|&i| c.role[i].participant() == participant)
            .collect();
        single(&m, record_keys, rules, r)
    };
    ComparisonReport {
        method: ComparisonMethod::Matched,
        statement: format!(
            "participants are compared with a comparison group matched on the propensity score (a logistic regression of participation on {} covariate columns): greedy nearest-neighbour matching on the logit of the score within a caliper of {} standard deviations, {}, {} comparison {} per participant; the whole comparison group is a secondary line",
            c.columns.len(),
            c.config.caliper,
            if c.config.replacement {
                "with replacement"
            } else {
                "without replacement"
            },
            c.config.ratio,
            if c.config.ratio == 1 {
                "person"
            } else {
                "people"
            }
        ),
        model: Some(ModelReport {
            kind: "logistic regression (IRLS)".to_owned(),
            covariates: c.covariates.clone(),
            prior: c.config.prior.iter().map(|p| p.name.clone()).collect(),
            ridge: propensity::RIDGE,
            converged: c.fit.converged,
            iterations: c.fit.iterations,
            coefficients,
            dropped: c
                .dropped
                .iter()
                .map(|(column, reason)| Dropped {
                    column: column.clone(),
                    reason: reason.clone(),
                })
                .collect(),
        }),
        matching: Some(MatchingReport {
            kind: "greedy nearest neighbour on the logit of the propensity score".to_owned(),
            caliper_sd: c.config.caliper,
            caliper: c.caliper_width,
            replacement: c.config.replacement,
            ratio: c.config.ratio,
            order: "participants by person_id, one round per ratio; ties to the lower person_id"
                .to_owned(),
            common_support: [c.support.0, c.support.1],
            participants_outside_support: outside(true),
            comparison_outside_support: outside(false),
            unmatched_participants,
        }),
        balance,
        missing: c
            .missing
            .iter()
            .map(|m| MissingReport {
                covariate: m.covariate.clone(),
                missing: single(&m.members, record_keys, rules, r),
                rule: m.rule.clone(),
            })
            .collect(),
        notes,
    }
}
