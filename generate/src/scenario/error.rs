//! What can go wrong with a scenario: reading its file ([`ScenarioError`]),
//! what it says ([`InvalidScenario`]: where, and the [`Problem`]), and
//! writing its files ([`GenerateError`]).

use std::io;
use std::path::PathBuf;

use crate::population::{UnknownProfile, UnknownRegion};

use super::{IDENTIFIER_KINDS, VALUE_KINDS};

/// A scenario file that cannot be read or says something wrong.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("in {}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: Box<InvalidScenario>,
    },
}

/// What is wrong in a scenario's text, and where: the TOML error's line and
/// column, or the dataset and column of a setting.
#[derive(Debug, thiserror::Error)]
pub enum InvalidScenario {
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error("{0}")]
    Scenario(Problem),
    #[error("covariate `{covariate}`: {problem}")]
    Covariate { covariate: String, problem: Problem },
    #[error("dataset `{dataset}`: {problem}")]
    Dataset { dataset: String, problem: Problem },
    #[error("dataset `{dataset}`: column `{column}`: {problem}")]
    Column {
        dataset: String,
        column: String,
        problem: Problem,
    },
}

/// One mistake in a scenario; [`InvalidScenario`] says where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("{what} name `{name}` must be 1 to 64 letters, digits, `_` or `-`")]
    BadName { what: &'static str, name: String },
    #[error("`profile`: {0}")]
    Profile(#[from] UnknownProfile),
    #[error("`people` must be at least 1")]
    NoPeople,
    #[error("a scenario needs at least one [[datasets]] entry")]
    NoDatasets,
    #[error("the dataset is described twice")]
    DescribedTwice,
    #[error("`{setting}` must be between 0 and 1, not {value}")]
    NotAShare { setting: &'static str, value: f64 },
    #[error("`style.delimiter` must be one of \",\", \"|\", \";\" or \"\\t\", not {0:?}")]
    Delimiter(String),
    #[error("two columns are headed `{0}`")]
    HeaderTwice(String),
    #[error("`coverage_if_in` names `{0}`, which is not a dataset described before this one")]
    CoverageIfUnknown(String),
    #[error(
        "unknown kind `{0}`; identifier kinds: {ids}; value kinds: {values}",
        ids = IDENTIFIER_KINDS.join(", "),
        values = VALUE_KINDS.join(", ")
    )]
    UnknownKind(String),
    #[error(
        "`{setting}` does not apply to kind `{kind}` (it takes: {takes})",
        takes = if allowed.is_empty() { "nothing".to_owned() } else { allowed.join(", ") }
    )]
    NotApplicable {
        setting: &'static str,
        kind: String,
        allowed: &'static [&'static str],
    },
    #[error("kind `date_after_release` needs `from` and `to` (days after release)")]
    NeedsDays,
    #[error("`from` ({from}) is after `to` ({to})")]
    FromAfterTo { from: i64, to: i64 },
    #[error("kind `{0}` needs a non-empty `values` list")]
    NeedsValues(String),
    #[error("kind `integer` needs `min` and `max`")]
    NeedsBounds,
    #[error("`min` ({min}) is above `max` ({max})")]
    MinAboveMax { min: i64, max: i64 },
    #[error("two columns declare the attribute `{0}`")]
    AttributeTwice(String),
    #[error("two columns are of kind `{0}`")]
    KindTwice(String),
    #[error("no column of kind `record_id` (the partner's own record number)")]
    NoRecordId,
    #[error("no identifier column besides the record number")]
    NoIdentifier,
    #[error("the covariate is declared twice (`age_at_release` is built in)")]
    CovariateTwice(String),
    #[error(
        "unknown covariate kind `{0}`; covariate kinds: normal, integer, count, flag, choice, any"
    )]
    UnknownCovariateKind(String),
    #[error("no covariate `{name}` before this one; declared before it: {}", known.join(", "))]
    UnknownCovariate { name: String, known: Vec<String> },
    #[error("`mean` ({mean}) must be a number and `sd` ({sd}) a number not below 0")]
    BadSpread { mean: f64, sd: f64 },
    #[error("a count needs `mean` ({mean}) not below 0 and `max` ({max}) within 0..=1000")]
    BadCount { mean: f64, max: i64 },
    #[error("`{setting}` must be strictly between 0 and 1, not {value}")]
    NotAProbability { setting: &'static str, value: f64 },
    #[error("kind `any` needs a non-empty `of` list of conditions")]
    NeedsConditions,
    #[error("`{value}` is not one of the values of the choice covariate `{covariate}`")]
    NotAChoice { covariate: String, value: String },
    #[error("give `is` with the choice covariate `{0}` (which of its values counts)")]
    ChoiceNeedsIs(String),
    #[error(
        "`is` applies only to a choice covariate; `{0}` is not one (use `min`/`max`, or nothing for a flag)"
    )]
    IsOnlyForChoices(String),
    #[error("`{0}` must be a finite number")]
    NotFinite(&'static str),
    #[error("`effect.odds_ratio` must be a positive number, not {0}")]
    BadOddsRatio(f64),
    #[error("give exactly one of `coverage` and `coverage_model`")]
    CoverageOrModel,
    #[error(
        "`coverage_if_in` and `coverage_model` cannot both be given (put the effect in `coverage_model.effect`)"
    )]
    CoverageIfAndModel,
    #[error(
        "`coverage_model.effect` names `{0}`, which is not a dataset described before this one"
    )]
    EffectUnknown(String),
    #[error(
        "`{setting}` names the attribute `{attribute}`, which is no `date_after_release` column of this dataset"
    )]
    NoSuchDate {
        setting: &'static str,
        attribute: String,
    },
    #[error(
        "`timing`: the late dates ({from}..={to}) must all come after the column's own range (up to {column_to})"
    )]
    TimingNotLate { from: i64, to: i64, column_to: i64 },
    #[error("`prior.covariate` `{0}` must be a `count` or `integer` covariate")]
    PriorNotCount(String),
    #[error("`cohort.dataset` names `{0}`, which is not a dataset of the scenario")]
    CohortUnknown(String),
    #[error("kind `covariate` needs `covariate`, the name of a scenario covariate")]
    NeedsCovariate,
    #[error("`prior` and `timing` cannot both be given for one dataset")]
    PriorAndTiming,
    #[error(
        "`{setting}` must be a share strictly below 1 (late referrals are a minority), not {value}"
    )]
    LateShare { setting: &'static str, value: f64 },
}

/// Why [`Scenario::generate`](super::Scenario::generate) could not write a scenario's files.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Region(#[from] UnknownRegion),
    #[error("cannot create {}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}
