//! Cohort, outcome and disclosure definitions: the `[cohort]`,
//! `[[outcomes]]` and `[disclosure]` sections of a project config.
//!
//! Two checks: [`CohortSettings::check`] runs when the project config is
//! parsed (dataset names, well-formed filters, windows, indicator names);
//! [`CohortSettings::check_columns`] runs against the attribute schemas the
//! partners actually declared (when a project is changed after uploads, and
//! at the start of every run) and names any missing column or wrong type.

use arrow_schema::DataType;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::disclosure::{Perturbation, Rules};

/// Who is in the cohort and how they are grouped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortConfig {
    /// The dataset whose records are the index events (releases from custody).
    pub index_dataset: String,
    /// The date attribute of the index dataset that dates the index event.
    pub index_date: String,
    /// People linked to a record of this dataset are participants; the rest
    /// of the cohort is the comparison group.
    pub participants_dataset: String,
    /// Optional boolean attribute of the participants dataset: only records
    /// where it is true mark a participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants_flag: Option<String>,
    /// Attributes of the index record copied into `cohort.parquet`.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Follow-up ends on this date (`YYYY-MM-DD`); by default, on the upload
    /// date of each outcome dataset's current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Conditions on the index record; all must hold.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// When a participants record makes a participant (issue 18); absent:
    /// any linked (flagged) record, whenever dated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participation: Option<ParticipationConfig>,
    /// How participants are compared (issue 18): a propensity-matched
    /// comparison group by default.
    #[serde(default)]
    pub comparison: ComparisonConfig,
}

/// `[cohort.participation]`: a person is a participant only when the
/// participants dataset has a (flagged) record for them dated within the
/// window around the index date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipationConfig {
    /// The date attribute of the participants dataset (a referral or start).
    pub date: String,
    /// `[first, last]` day relative to the index date, inclusive: `[-90, 28]`
    /// is from 90 days before release to 28 days after.
    pub window: [i64; 2],
}

/// `[cohort.comparison] method`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonMethod {
    /// Participants against a propensity-score-matched comparison group,
    /// with everyone else as a secondary line.
    #[default]
    Matched,
    /// Participants against everyone else in the cohort.
    All,
}

impl ComparisonMethod {
    pub fn name(self) -> &'static str {
        match self {
            ComparisonMethod::Matched => "matched",
            ComparisonMethod::All => "all",
        }
    }
}

/// `[cohort.comparison]`: the propensity model and the matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComparisonConfig {
    pub method: ComparisonMethod,
    /// Attributes of the index record in the propensity model: numbers and
    /// booleans as they are, strings one-hot against their first level in
    /// sorted order. Absent: the cohort's `attributes` that are not dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariates: Option<Vec<String>>,
    /// Counts of linked records in a window before the index date, as
    /// covariates (and columns of `cohort.parquet`).
    pub prior: Vec<PriorConfig>,
    /// The caliper, in standard deviations of the logit of the propensity
    /// score (pooled over the two groups): 0.2, Austin's rule.
    pub caliper: f64,
    /// Whether a comparison person may be matched to more than one participant.
    pub replacement: bool,
    /// Comparison people matched to each participant.
    pub ratio: u32,
}

impl Default for ComparisonConfig {
    fn default() -> Self {
        ComparisonConfig {
            method: ComparisonMethod::Matched,
            covariates: None,
            prior: Vec::new(),
            caliper: 0.2,
            replacement: false,
            ratio: 1,
        }
    }
}

/// One prior-history covariate: the number of linked records of `dataset`
/// dated within `window` days of the index date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorConfig {
    /// Column name in `cohort.parquet` and in the balance table.
    pub name: String,
    pub dataset: String,
    /// The date attribute of the dataset.
    pub date: String,
    /// `[first, last]` day relative to the index date, inclusive; must end
    /// before the index date (`[-730, -1]`).
    pub window: [i64; 2],
}

/// A condition on one attribute of a record. Exactly one kind of condition:
/// `from`/`to` (dates), `min`/`max` (numbers), `equals` or `in` (text),
/// `is` (booleans) or `age_at_index` (a date of birth attribute).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub attribute: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is: Option<bool>,
    /// `[min, max]` whole years of age on the index date, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_at_index: Option<[u32; 2]>,
}

/// A filter as checked: what it tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    DateRange {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    NumberRange {
        min: Option<f64>,
        max: Option<f64>,
    },
    OneOf(Vec<String>),
    Is(bool),
    Age {
        min: u32,
        max: u32,
    },
}

/// A date in the definitions that is not `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` in {what} is not a date written YYYY-MM-DD")]
pub struct DateError {
    pub text: String,
    /// Where it was written (the setting or filter).
    pub what: String,
}

/// Why a filter is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(
        "the filter on `{attribute}` must state exactly one condition: from/to, min/max, equals, in, is or age_at_index"
    )]
    NotOneCondition { attribute: String },
    #[error(transparent)]
    Date(#[from] DateError),
    #[error("the filter on `{attribute}` has `from` after `to`")]
    FromAfterTo { attribute: String },
    #[error("the filter on `{attribute}` has `min` above `max`")]
    MinAboveMax { attribute: String },
    #[error("the filter on `{attribute}` has an empty `in` list")]
    EmptyIn { attribute: String },
    #[error("the filter on `{attribute}` has an age_at_index range upside down")]
    AgeUpsideDown { attribute: String },
}

/// Why the cohort, outcome or disclosure definitions are refused (what can
/// be checked without the data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("{field} `{name}` is not a dataset of this project (datasets: {datasets})")]
    UnknownDataset {
        field: String,
        name: String,
        /// The project's datasets, comma-separated.
        datasets: String,
    },
    #[error(transparent)]
    Date(#[from] DateError),
    #[error("cohort: {0}")]
    CohortFilter(FilterError),
    #[error(
        "column `{name}` of cohort.parquet would be written twice; rename the attribute or indicator"
    )]
    ColumnTwice { name: String },
    #[error("outcome name: {0}")]
    OutcomeName(#[from] pprl_specs::tokenfile::AttributeNameError),
    #[error("outcome `{outcome}` ({kind}) needs `{field}`")]
    Needs {
        outcome: String,
        kind: &'static str,
        field: &'static str,
    },
    #[error("outcome `{outcome}` ({kind}) does not take `{field}`")]
    DoesNotTake {
        outcome: String,
        kind: &'static str,
        field: &'static str,
    },
    #[error(
        "outcome `{outcome}`: the window [{from}, {to}] must run forwards and within 100 years"
    )]
    Window { outcome: String, from: i64, to: i64 },
    #[error("outcome `{outcome}`: {source}")]
    OutcomeFilter {
        outcome: String,
        source: FilterError,
    },
    #[error(
        "outcome `{outcome}` (time_to_first): the window must start on or after the index date (day 0), not day {from}"
    )]
    TimeBeforeIndex { outcome: String, from: i64 },
    #[error(
        "outcome `{outcome}`: baseline_window [{from}, {to}] must run forwards and end before the index date (day -1 at the latest)"
    )]
    BaselineWindow { outcome: String, from: i64, to: i64 },
    #[error("cohort.participation.window [{from}, {to}] must run forwards and within 100 years")]
    ParticipationWindow { from: i64, to: i64 },
    #[error("cohort.comparison.{key}: {problem}")]
    Comparison { key: String, problem: String },
    #[error(
        "disclosure: min_cell ({min_cell}) and rounding ({rounding}) must be at least 1 and min_cohort ({min_cohort}) at least min_cell"
    )]
    Disclosure {
        min_cell: u64,
        rounding: u64,
        min_cohort: u64,
    },
}

/// An attribute the definitions read that a dataset does not declare, or
/// declares with another type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnError {
    #[error(
        "dataset `{dataset}` has no attribute `{column}` (its attributes: {attributes}); declare it in the partner's config or change the project"
    )]
    Missing {
        dataset: String,
        column: String,
        /// The dataset's attributes, comma-separated, or `none`.
        attributes: String,
    },
    #[error("attribute `{column}` of dataset `{dataset}` is {found}, but a {wants} is needed")]
    WrongType {
        dataset: String,
        column: String,
        found: &'static str,
        wants: String,
    },
    #[error(transparent)]
    Filter(#[from] FilterError),
}

impl Filter {
    /// The rule this filter states, or why it is malformed.
    pub fn rule(&self) -> Result<Rule, FilterError> {
        let a = &self.attribute;
        let dates = self.from.is_some() || self.to.is_some();
        let numbers = self.min.is_some() || self.max.is_some();
        let text = self.equals.is_some() || self.one_of.is_some();
        let kinds = [
            dates,
            numbers,
            text,
            self.is.is_some(),
            self.age_at_index.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1
            || (self.equals.is_some() && self.one_of.is_some())
        {
            return Err(FilterError::NotOneCondition {
                attribute: a.clone(),
            });
        }
        if dates {
            let parse = |s: &Option<String>| s.as_deref().map(|s| parse_date(s, a)).transpose();
            let (from, to) = (parse(&self.from)?, parse(&self.to)?);
            if let (Some(f), Some(t)) = (from, to)
                && f > t
            {
                return Err(FilterError::FromAfterTo {
                    attribute: a.clone(),
                });
            }
            return Ok(Rule::DateRange { from, to });
        }
        if numbers {
            if let (Some(lo), Some(hi)) = (self.min, self.max)
                && lo > hi
            {
                return Err(FilterError::MinAboveMax {
                    attribute: a.clone(),
                });
            }
            return Ok(Rule::NumberRange {
                min: self.min,
                max: self.max,
            });
        }
        if let Some(v) = &self.equals {
            return Ok(Rule::OneOf(vec![v.clone()]));
        }
        if let Some(values) = &self.one_of {
            if values.is_empty() {
                return Err(FilterError::EmptyIn {
                    attribute: a.clone(),
                });
            }
            return Ok(Rule::OneOf(values.clone()));
        }
        if let Some(b) = self.is {
            return Ok(Rule::Is(b));
        }
        let [min, max] = self.age_at_index.expect("one kind is set");
        if min > max {
            return Err(FilterError::AgeUpsideDown {
                attribute: a.clone(),
            });
        }
        Ok(Rule::Age { min, max })
    }
}

impl Rule {
    /// Whether an attribute of this Arrow type can be tested by the rule.
    fn accepts(&self, data_type: &DataType) -> bool {
        match self {
            Rule::DateRange { .. } | Rule::Age { .. } => *data_type == DataType::Date32,
            Rule::NumberRange { .. } => {
                matches!(data_type, DataType::Int64 | DataType::Float64)
            }
            Rule::OneOf(_) => *data_type == DataType::Utf8,
            Rule::Is(_) => *data_type == DataType::Boolean,
        }
    }

    fn wants(&self) -> &'static str {
        match self {
            Rule::DateRange { .. } | Rule::Age { .. } => "date",
            Rule::NumberRange { .. } => "integer or number",
            Rule::OneOf(_) => "string",
            Rule::Is(_) => "boolean",
        }
    }
}

/// What an outcome indicator measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// At least one event dated within the window.
    AnyEvent,
    /// A spell (start to end, open if no end) covering the day.
    StatusOnDay,
    /// The number of events within the window.
    Count,
    /// Days from the index date to the first event within the window,
    /// censored at the end of the window.
    TimeToFirst,
}

impl OutcomeKind {
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::AnyEvent => "any_event",
            OutcomeKind::StatusOnDay => "status_on_day",
            OutcomeKind::Count => "count",
            OutcomeKind::TimeToFirst => "time_to_first",
        }
    }
}

/// One outcome indicator over the linked records of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeConfig {
    /// Column name in `cohort.parquet` (a-z, 0-9, `_`).
    pub name: String,
    /// What people reading the report see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub kind: OutcomeKind,
    /// The dataset whose linked records are the events or spells.
    pub dataset: String,
    /// Event date attribute (`any_event`, `count`, `time_to_first`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `[first, last]` day after the index date, inclusive (events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<[i64; 2]>,
    /// Spell start attribute (`status_on_day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Spell end attribute (`status_on_day`); a missing end is an open spell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// The day after the index date the status is read on (`status_on_day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<i64>,
    /// Conditions on the outcome record; all must hold.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Also report each group's own rate over a window before the index
    /// date (issue 18): `baseline_window`, or by default the window of the
    /// same length ending the day before the index date.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baseline: bool,
    /// `[first, last]` days of the baseline; implies `baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_window: Option<[i64; 2]>,
}

impl OutcomeConfig {
    /// The baseline window, when the indicator has one: the configured one,
    /// or the window's length ending on day -1 (a status day `d` reads on
    /// day `-d`).
    pub fn baseline_days(&self) -> Option<(i64, i64)> {
        if let Some([a, b]) = self.baseline_window {
            return Some((a, b));
        }
        if !self.baseline {
            return None;
        }
        let (a, b) = self.days();
        Some(match self.kind {
            OutcomeKind::StatusOnDay => (-a.abs().max(1), -a.abs().max(1)),
            _ => (a - b - 1, -1),
        })
    }

    /// This indicator measured over its baseline window instead.
    pub fn as_baseline(&self) -> Option<OutcomeConfig> {
        let (a, b) = self.baseline_days()?;
        let mut c = self.clone();
        match c.kind {
            OutcomeKind::StatusOnDay => c.day = Some(a),
            _ => c.window = Some([a, b]),
        }
        c.baseline = false;
        c.baseline_window = None;
        Some(c)
    }

    /// `[first, last]` days of the window: the event window, or the one day.
    pub fn days(&self) -> (i64, i64) {
        match (self.kind, self.window, self.day) {
            (OutcomeKind::StatusOnDay, _, Some(d)) => (d, d),
            (_, Some([a, b]), _) => (a, b),
            _ => (1, 182),
        }
    }

    /// The label, or the name.
    pub fn title(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }

    /// The date attributes the indicator reads.
    fn date_columns(&self) -> Vec<&str> {
        [&self.date, &self.start, &self.end]
            .into_iter()
            .filter_map(|c| c.as_deref())
            .collect()
    }
}

/// How record-level outputs show dates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    Day,
    /// The first day of the month.
    #[default]
    Month,
    /// Dates other than the index date become days since the index date;
    /// the index date itself is given to the month.
    DaysSinceIndex,
}

/// How published counts are perturbed (`disclosure.method`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum DisclosureMethod {
    /// The cell-key method (issue 17): every count, totals included, plus a
    /// perturbation of at most ±2 from a fixed table, chosen by the sum of
    /// its people's secret record keys. The same people give the same
    /// figure in every run; totals need not add up.
    #[default]
    CellKey,
    /// The legacy method: counts rounded to the nearest multiple of
    /// `rounding`, totals rounded independently.
    Round,
}

impl DisclosureMethod {
    /// The name used in the configuration and in `outcomes.json`.
    pub fn name(self) -> &'static str {
        match self {
            DisclosureMethod::CellKey => "cell_key",
            DisclosureMethod::Round => "round",
        }
    }
}

impl TryFrom<String> for DisclosureMethod {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        [DisclosureMethod::CellKey, DisclosureMethod::Round]
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                format!(
                    "disclosure.method `{name}` is not a disclosure method: use `cell_key` (the default) or `round`"
                )
            })
    }
}

/// Disclosure rules for everything a run publishes about the cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisclosureConfig {
    /// Counts from 1 to `min_cell - 1` are suppressed (with secondary
    /// suppression, so they cannot be recovered from totals).
    pub min_cell: u64,
    /// How published counts are perturbed.
    pub method: DisclosureMethod,
    /// `method = "round"` only: published counts are rounded to the
    /// nearest multiple of this.
    pub rounding: u64,
    /// No outcomes report for a cohort smaller than this.
    pub min_cohort: u64,
    /// Dates in `cohort.parquet`.
    pub date_precision: DatePrecision,
}

impl Default for DisclosureConfig {
    fn default() -> Self {
        DisclosureConfig {
            min_cell: 10,
            method: DisclosureMethod::CellKey,
            rounding: 5,
            min_cohort: 60,
            date_precision: DatePrecision::Month,
        }
    }
}

impl DisclosureConfig {
    /// The rules the tables are protected under.
    pub fn rules(&self) -> Rules {
        let perturbation = match self.method {
            DisclosureMethod::CellKey => Perturbation::CellKey,
            DisclosureMethod::Round => Perturbation::Round {
                base: self.rounding,
            },
        };
        Rules::new(self.min_cell, perturbation)
    }
}

/// The cohort part of a project config, borrowed for checking.
#[derive(Debug, Clone, Copy)]
pub struct CohortSettings<'a> {
    pub cohort: &'a CohortConfig,
    pub outcomes: &'a [OutcomeConfig],
    pub disclosure: &'a DisclosureConfig,
}

/// Column names of `cohort.parquet` that indicators and attributes may not take.
pub const FIXED_COLUMNS: [&str; 7] = [
    "person_id",
    "group",
    "index_date",
    "propensity_score",
    "propensity_logit",
    "match_set",
    "match_count",
];

/// The most comparison people a participant may be matched to.
pub const MAX_RATIO: u32 = 10;

impl CohortSettings<'_> {
    /// Checks what can be checked without the data: datasets exist, filters
    /// and windows are well formed, column names are unique.
    pub fn check(&self, datasets: &[&str]) -> Result<(), DefinitionError> {
        let c = self.cohort;
        let known = |what: &str, name: &str| {
            if datasets.contains(&name) {
                Ok(())
            } else {
                Err(DefinitionError::UnknownDataset {
                    field: what.to_owned(),
                    name: name.to_owned(),
                    datasets: datasets.join(", "),
                })
            }
        };
        known("cohort.index_dataset", &c.index_dataset)?;
        known("cohort.participants_dataset", &c.participants_dataset)?;
        if let Some(a) = &c.as_of {
            parse_date(a, "cohort.as_of")?;
        }
        for f in &c.filters {
            f.rule().map_err(DefinitionError::CohortFilter)?;
        }
        let mut columns: Vec<String> = FIXED_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
        let mut add = |name: String| {
            if columns.contains(&name) {
                Err(DefinitionError::ColumnTwice { name })
            } else {
                columns.push(name);
                Ok(())
            }
        };
        for a in &c.attributes {
            add(a.clone())?;
        }
        if let Some(p) = &c.participation {
            let [a, b] = p.window;
            if a > b || a < -36_600 || b > 36_600 {
                return Err(DefinitionError::ParticipationWindow { from: a, to: b });
            }
        }
        let cmp = &c.comparison;
        let bad = |key: &str, problem: String| DefinitionError::Comparison {
            key: key.to_owned(),
            problem,
        };
        if !(cmp.caliper.is_finite() && cmp.caliper > 0.0) {
            return Err(bad(
                "caliper",
                format!(
                    "{} is not a positive number of standard deviations (0.2 is usual)",
                    cmp.caliper
                ),
            ));
        }
        if cmp.ratio < 1 || cmp.ratio > MAX_RATIO {
            return Err(bad(
                "ratio",
                format!("{} is not between 1 and {MAX_RATIO}", cmp.ratio),
            ));
        }
        for v in cmp.covariates.iter().flatten() {
            if !c.attributes.contains(v) {
                add(v.clone())?;
            }
        }
        for p in &cmp.prior {
            pprl_specs::tokenfile::check_attribute_name(&p.name)
                .map_err(|e| bad("prior", e.to_string()))?;
            known(
                &format!("cohort.comparison.prior `{}`: dataset", p.name),
                &p.dataset,
            )?;
            add(p.name.clone())?;
            let [a, b] = p.window;
            if a > b || b > -1 || a < -36_600 {
                return Err(bad(
                    "prior",
                    format!(
                        "`{}`: the window [{a}, {b}] must run forwards and end before the index date (day -1 at the latest)",
                        p.name
                    ),
                ));
            }
        }
        for o in self.outcomes {
            pprl_specs::tokenfile::check_attribute_name(&o.name)?;
            known(&format!("outcome `{}`: dataset", o.name), &o.dataset)?;
            add(o.name.clone())?;
            add(format!("{}_window_closed", o.name))?;
            if o.kind == OutcomeKind::TimeToFirst {
                add(format!("{}_event", o.name))?;
            }
            let need = |field: &'static str, v: bool| {
                if v {
                    Ok(())
                } else {
                    Err(DefinitionError::Needs {
                        outcome: o.name.clone(),
                        kind: o.kind.name(),
                        field,
                    })
                }
            };
            let refuse = |field: &'static str, v: bool| {
                if v {
                    Err(DefinitionError::DoesNotTake {
                        outcome: o.name.clone(),
                        kind: o.kind.name(),
                        field,
                    })
                } else {
                    Ok(())
                }
            };
            if o.kind == OutcomeKind::StatusOnDay {
                need("start", o.start.is_some())?;
                need("day", o.day.is_some())?;
                refuse("date", o.date.is_some())?;
                refuse("window", o.window.is_some())?;
            } else {
                need("date", o.date.is_some())?;
                need("window", o.window.is_some())?;
                refuse("start", o.start.is_some())?;
                refuse("end", o.end.is_some())?;
                refuse("day", o.day.is_some())?;
            }
            let (a, b) = o.days();
            if a > b || b > 36_600 || a < -36_600 {
                return Err(DefinitionError::Window {
                    outcome: o.name.clone(),
                    from: a,
                    to: b,
                });
            }
            if o.kind == OutcomeKind::TimeToFirst && a < 0 {
                return Err(DefinitionError::TimeBeforeIndex {
                    outcome: o.name.clone(),
                    from: a,
                });
            }
            if let Some((a, b)) = o.baseline_days()
                && (a > b || b > -1 || a < -36_600)
            {
                return Err(DefinitionError::BaselineWindow {
                    outcome: o.name.clone(),
                    from: a,
                    to: b,
                });
            }
            for f in &o.filters {
                f.rule().map_err(|source| DefinitionError::OutcomeFilter {
                    outcome: o.name.clone(),
                    source,
                })?;
            }
        }
        let d = self.disclosure;
        if d.min_cell < 1 || d.rounding < 1 || d.min_cohort < d.min_cell {
            return Err(DefinitionError::Disclosure {
                min_cell: d.min_cell,
                rounding: d.rounding,
                min_cohort: d.min_cohort,
            });
        }
        Ok(())
    }

    /// Checks every attribute the definitions read against the datasets'
    /// declared attribute columns. `schema(dataset)` gives a dataset's
    /// columns, or `None` when nothing has been uploaded for it yet (then
    /// its columns are checked at run time).
    pub fn check_columns(
        &self,
        schema: impl Fn(&str) -> Option<Vec<(String, DataType)>>,
    ) -> Result<(), ColumnError> {
        let check = |dataset: &str, column: &str, want: &dyn Fn(&DataType) -> bool, wants: &str| {
            let Some(columns) = schema(dataset) else {
                return Ok(());
            };
            match columns.iter().find(|(n, _)| n == column) {
                None => Err(ColumnError::Missing {
                    dataset: dataset.to_owned(),
                    column: column.to_owned(),
                    attributes: if columns.is_empty() {
                        "none".to_owned()
                    } else {
                        columns
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                }),
                Some((_, t)) if !want(t) => Err(ColumnError::WrongType {
                    dataset: dataset.to_owned(),
                    column: column.to_owned(),
                    found: type_name(t),
                    wants: wants.to_owned(),
                }),
                Some(_) => Ok(()),
            }
        };
        let date = |t: &DataType| *t == DataType::Date32;
        let any = |_: &DataType| true;
        let c = self.cohort;
        check(&c.index_dataset, &c.index_date, &date, "date")?;
        if let Some(flag) = &c.participants_flag {
            check(
                &c.participants_dataset,
                flag,
                &|t| *t == DataType::Boolean,
                "boolean",
            )?;
        }
        for a in &c.attributes {
            check(&c.index_dataset, a, &any, "column")?;
        }
        if let Some(p) = &c.participation {
            check(&c.participants_dataset, &p.date, &date, "date")?;
        }
        let covariate = |t: &DataType| {
            matches!(
                t,
                DataType::Int64 | DataType::Float64 | DataType::Boolean | DataType::Utf8
            )
        };
        for v in c.comparison.covariates.iter().flatten() {
            check(
                &c.index_dataset,
                v,
                &covariate,
                "number, integer, boolean or string (a covariate)",
            )?;
        }
        for p in &c.comparison.prior {
            check(&p.dataset, &p.date, &date, "date")?;
        }
        let filter = |dataset: &str, f: &Filter| {
            let rule = f.rule()?;
            check(dataset, &f.attribute, &|t| rule.accepts(t), rule.wants())
        };
        for f in &c.filters {
            filter(&c.index_dataset, f)?;
        }
        for o in self.outcomes {
            for column in o.date_columns() {
                check(&o.dataset, column, &date, "date")?;
            }
            for f in &o.filters {
                filter(&o.dataset, f)?;
            }
        }
        Ok(())
    }
}

/// The name of an attribute type in partner configs.
pub fn type_name(t: &DataType) -> &'static str {
    match t {
        DataType::Utf8 => "a string",
        DataType::Int64 => "an integer",
        DataType::Float64 => "a number",
        DataType::Boolean => "a boolean",
        DataType::Date32 => "a date",
        _ => "of another type",
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str, what: &str) -> Result<NaiveDate, DateError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| DateError {
        text: text.to_owned(),
        what: what.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(text: &str) -> Filter {
        toml::from_str(text).expect("filter parses")
    }

    #[test]
    fn filters_state_one_condition() {
        assert_eq!(
            filter("attribute = \"d\"\nfrom = \"2024-01-01\"").rule(),
            Ok(Rule::DateRange {
                from: NaiveDate::from_ymd_opt(2024, 1, 1),
                to: None
            })
        );
        assert_eq!(
            filter("attribute = \"r\"\nin = [\"a\", \"b\"]").rule(),
            Ok(Rule::OneOf(vec!["a".into(), "b".into()]))
        );
        for (text, needle) in [
            ("attribute = \"d\"", "exactly one"),
            (
                "attribute = \"d\"\nfrom = \"2024-01-01\"\nis = true",
                "exactly one",
            ),
            ("attribute = \"d\"\nfrom = \"01/02/2024\"", "YYYY-MM-DD"),
            ("attribute = \"d\"\nmin = 3.0\nmax = 1.0", "above"),
            ("attribute = \"d\"\nin = []", "empty"),
        ] {
            let err = filter(text).rule().expect_err(text).to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn columns_are_checked_against_declared_attributes() {
        let cohort: CohortConfig = toml::from_str(
            "index_dataset = \"prison\"\nindex_date = \"release_date\"\nparticipants_dataset = \"probation\"\nparticipants_flag = \"participant\"\n[[filters]]\nattribute = \"release_type\"\nequals = \"CRD\"\n",
        )
        .expect("parses");
        let settings = CohortSettings {
            cohort: &cohort,
            outcomes: &[],
            disclosure: &DisclosureConfig::default(),
        };
        settings.check(&["prison", "probation"]).expect("valid");
        fn schema(
            types: Vec<(&'static str, DataType)>,
        ) -> impl Fn(&str) -> Option<Vec<(String, DataType)>> {
            move |d: &str| {
                (d == "prison").then(|| {
                    types
                        .iter()
                        .map(|(n, t)| ((*n).to_owned(), t.clone()))
                        .collect()
                })
            }
        }
        let err = settings
            .check_columns(schema(vec![("release_type", DataType::Utf8)]))
            .expect_err("no release_date")
            .to_string();
        assert!(
            err.contains("`release_date`") && err.contains("`prison`"),
            "{err}"
        );
        let err = settings
            .check_columns(schema(vec![
                ("release_date", DataType::Date32),
                ("release_type", DataType::Int64),
            ]))
            .expect_err("wrong type")
            .to_string();
        assert!(
            err.contains("an integer") && err.contains("string"),
            "{err}"
        );
        settings
            .check_columns(schema(vec![
                ("release_date", DataType::Date32),
                ("release_type", DataType::Utf8),
            ]))
            .expect("probation not uploaded yet: checked at run time");
        let err = settings
            .check(&["prison"])
            .expect_err("unknown dataset")
            .to_string();
        assert!(err.contains("`probation`"), "{err}");
    }

    #[test]
    fn the_disclosure_method_defaults_to_cell_key_and_a_bad_one_is_named() {
        let d: DisclosureConfig = toml::from_str("min_cell = 10\n").expect("parses");
        assert_eq!(d.method, DisclosureMethod::CellKey);
        assert_eq!(d.rules().perturbation, Perturbation::CellKey);
        let d: DisclosureConfig =
            toml::from_str("method = \"round\"\nrounding = 3\n").expect("parses");
        assert_eq!(d.rules().perturbation, Perturbation::Round { base: 3 });
        let err = toml::from_str::<DisclosureConfig>("method = \"noise\"\n")
            .expect_err("unknown method")
            .to_string();
        assert!(
            err.contains("disclosure.method `noise`") && err.contains("`cell_key`"),
            "{err}"
        );
        assert_eq!(
            toml::to_string(&DisclosureConfig::default())
                .expect("serialises")
                .lines()
                .find(|l| l.starts_with("method")),
            Some("method = \"cell_key\"")
        );
    }
}
