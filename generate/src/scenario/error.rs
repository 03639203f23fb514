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
