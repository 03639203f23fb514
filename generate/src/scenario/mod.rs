//! Generator settings: a population and its partners' extracts, described in
//! TOML, so that each worked example under `examples/` says in a file what
//! its partners' systems export.
//!
//! A scenario names a seed, a number of people (optionally all living in one
//! region), a corruption [`Profile`], and one `[[datasets]]` entry per
//! partner extract: the organisation, the share of people it holds, how its
//! export is formatted and its columns in order. Columns are identifiers
//! (`kind = "family_name"`, `kind = "pnc_id"`, ...) or attributes (`attribute
//! = "release_date"` with a value kind such as `date_after_release` or
//! `choice`); a value kind without `attribute` is a column the partner
//! config does not map. `coverage_if_in` gives the people of another
//! extract (a programme's participants) another coverage, so an example's
//! outcomes differ between groups.
//!
//! Issue 18: `[[covariates]]` give each person values (a latent risk, prior
//! offences, parenthood, ...) that `kind = "covariate"` columns write; a
//! dataset's `coverage_model` makes who appears logistic in them, with an
//! `effect` (an odds ratio) for the true participants of a programme's
//! dataset; `prior` adds rows dated before release (prior offences) and
//! `timing` late referrals; `cohort` says who the project's cohort holds.
//! The truth of the effects goes to `effect.json` ([`EffectTruth`]). See
//! `examples/prison-link/generate.toml` for a commented file, and
//! [`Scenario::generate`] for what is written.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Deserialize;

use crate::Rng;
use crate::population::{
    self, AltDates, AttributeValue, Column, Content, DatasetSpec, DateFormat, ExtractStats,
    NameCase, NationalId, NumberFormat, Profile, SexCodes, Style, TextEncoding, UnknownProfile,
};

mod covariates;
mod error;
mod truth;

pub use covariates::{
    AGE_AT_RELEASE, Condition, Covariate, CovariateKind, Effect, Model, Table, Term,
};
pub use error::{GenerateError, InvalidScenario, Problem, ScenarioError};
pub use truth::{BalanceRow, EffectRow, EffectTruth, EventDates, ParticipantsRow, event_share};

/// A population and its extracts, as a scenario file describes them.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name (the example's folder name).
    pub name: String,
    pub seed: u64,
    pub people: usize,
    pub profile: Profile,
    /// Everyone's current postcode is in this region, when set.
    pub region: Option<String>,
    /// Person-level covariates, `age_at_release` (built in) first.
    pub covariates: Vec<Covariate>,
    /// Who the project's cohort holds, for the truth of the effects.
    pub cohort: Option<TruthCohort>,
    pub datasets: Vec<ScenarioDataset>,
}

/// One partner's extract of a scenario.
#[derive(Debug, Clone)]
pub struct ScenarioDataset {
    pub spec: DatasetSpec,
    /// People in this other dataset appear with this coverage instead.
    pub coverage_if_in: Option<(String, f64)>,
    /// Who appears, by covariates (instead of the flat `spec.coverage`),
    /// with the programme's built-in effect.
    pub coverage_model: Option<Model>,
    /// Rows dated before release, as many per person as a covariate says
    /// (prior offences), whoever the coverage picks.
    pub prior: Option<Prior>,
    /// Late referrals: a share of the people whose rows are dated in
    /// another range, after the column's own (outside the programme's
    /// participation window).
    pub timing: Option<Timing>,
}

/// The people of the project's cohort as the generator can tell them
/// (`cohort = { dataset = "prison_releases", where = [...] }`): those in the
/// index dataset whose covariates meet every condition. Filters on values
/// drawn per record (a borough, a release date) are independent of
/// everything else, so they change no expected figure.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthCohort {
    pub dataset: String,
    pub conditions: Vec<Condition>,
}

/// A dataset's `prior` rows: covariate `covariate` (a count) rows per
/// person, their column `column` dated `from..=to` days after release.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    pub covariate: usize,
    pub column: usize,
    pub attribute: String,
    pub from: i64,
    pub to: i64,
}

/// A participants dataset's `timing`: a share `late` of its people (drawn
/// per person) have column `column` dated `from..=to` days after release
/// instead of in the column's own range.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub column: usize,
    pub attribute: String,
    pub late: f64,
    pub from: i64,
    pub to: i64,
    /// The column's own range: the true participants' dates.
    pub on_time: (i64, i64),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    seed: u64,
    people: usize,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    covariates: Vec<covariates::CovariateFile>,
    #[serde(default)]
    cohort: Option<CohortFile>,
    datasets: Vec<DatasetFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CohortFile {
    dataset: String,
    #[serde(default, rename = "where")]
    conditions: Vec<covariates::ConditionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetFile {
    name: String,
    organisation: String,
    #[serde(default)]
    coverage: Option<f64>,
    #[serde(default)]
    coverage_model: Option<covariates::ModelFile>,
    #[serde(default)]
    prior: Option<PriorFile>,
    #[serde(default)]
    timing: Option<TimingFile>,
    #[serde(default)]
    duplicate_rate: Option<f64>,
    #[serde(default = "yes")]
    middle_names: bool,
    #[serde(default)]
    coverage_if_in: Option<CoverageIf>,
    #[serde(default)]
    style: StyleFile,
    columns: Vec<ColumnFile>,
}

fn yes() -> bool {
    true
}

/// `prior = { covariate = "prior_offences", date = "offence_date", from = -730, to = -1 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriorFile {
    covariate: String,
    date: String,
    from: i64,
    to: i64,
}

/// `timing = { date = "referral_date", late = 0.15, from = 90, to = 400 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimingFile {
    date: String,
    late: f64,
    from: i64,
    to: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverageIf {
    dataset: String,
    coverage: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StyleFile {
    date_format: DateFormat,
    sex_codes: SexCodes,
    name_case: NameCase,
    number_format: NumberFormat,
    delimiter: String,
    encoding: TextEncoding,
    quote_all: bool,
    crlf: bool,
}

impl Default for StyleFile {
    fn default() -> Self {
        StyleFile {
            date_format: DateFormat::DayMonthYear,
            sex_codes: SexCodes::Letter,
            name_case: NameCase::AsEntered,
            number_format: NumberFormat::Compact,
            delimiter: ",".to_owned(),
            encoding: TextEncoding::Utf8,
            quote_all: false,
            crlf: false,
        }
    }
}

/// One column as written in the file: a header, a kind, and the settings
/// of that kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    header: String,
    kind: String,
    /// The attribute's name in the partner config; none: not mapped.
    #[serde(default)]
    attribute: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    digits: Option<usize>,
    #[serde(default)]
    held: Option<f64>,
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
    #[serde(default)]
    blank: Option<f64>,
    #[serde(default)]
    month: Option<bool>,
    #[serde(default)]
    values: Option<Vec<String>>,
    #[serde(default)]
    min: Option<i64>,
    #[serde(default)]
    max: Option<i64>,
    #[serde(default)]
    yes: Option<f64>,
    #[serde(default)]
    covariate: Option<String>,
}

/// Column kinds that are identifiers.
const IDENTIFIER_KINDS: [&str; 11] = [
    "record_id",
    "given_names",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "nhs_number",
    "ni_number",
    "pnc_id",
    "cro_number",
    "prison_number",
];
/// Column kinds that are values (attributes, or unmapped columns).
const VALUE_KINDS: [&str; 9] = [
    "date_after_release",
    "choice",
    "integer",
    "flag",
    "region",
    "age_at_release",
    "gender",
    "text",
    "covariate",
];

impl ColumnFile {
    /// The settings this kind allows, to refuse any other.
    fn settings(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("attribute", self.attribute.is_some()),
            ("prefix", self.prefix.is_some()),
            ("digits", self.digits.is_some()),
            ("held", self.held.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("blank", self.blank.is_some()),
            ("month", self.month.is_some()),
            ("values", self.values.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("yes", self.yes.is_some()),
            ("covariate", self.covariate.is_some()),
        ]
    }

    fn into_column(self, covariates: &[Covariate]) -> Result<Column, Problem> {
        let allowed: &[&str] = match self.kind.as_str() {
            "record_id" => &["prefix", "digits"],
            "nhs_number" | "ni_number" | "pnc_id" | "cro_number" | "prison_number" => &["held"],
            "given_names" | "family_name" | "date_of_birth" | "sex" | "postcode" => &[],
            "date_after_release" => &["attribute", "from", "to", "blank", "month"],
            "choice" => &["attribute", "values"],
            "integer" => &["attribute", "min", "max", "blank"],
            "flag" => &["attribute", "yes"],
            "region" | "age_at_release" | "gender" => &["attribute"],
            "text" => &["attribute", "values"],
            "covariate" => &["attribute", "covariate"],
            other => return Err(Problem::UnknownKind(other.to_owned())),
        };
        if let Some((name, _)) = self
            .settings()
            .into_iter()
            .find(|(name, set)| *set && !allowed.contains(name))
        {
            return Err(Problem::NotApplicable {
                setting: name,
                kind: self.kind,
                allowed,
            });
        }
        let share = |value: Option<f64>, setting: &'static str, default: f64| {
            share(value.unwrap_or(default), setting)
        };
        let national = |id| -> Result<Content, Problem> {
            Ok(Content::National {
                id,
                held: share(self.held, "held", 1.0)?,
            })
        };
        let content = match self.kind.as_str() {
            "record_id" => Content::RecordId {
                prefix: self.prefix.clone().unwrap_or_default(),
                digits: self.digits.unwrap_or(7).clamp(1, 12),
            },
            "given_names" => Content::GivenNames,
            "family_name" => Content::FamilyName,
            "date_of_birth" => Content::DateOfBirth,
            "sex" => Content::Sex,
            "postcode" => Content::Postcode,
            "nhs_number" => national(NationalId::Nhs)?,
            "ni_number" => national(NationalId::Ni)?,
            "pnc_id" => national(NationalId::Pnc)?,
            "cro_number" => national(NationalId::Cro)?,
            "prison_number" => national(NationalId::Prison)?,
            kind => {
                let value = match kind {
                    "date_after_release" => {
                        let (Some(from), Some(to)) = (self.from, self.to) else {
                            return Err(Problem::NeedsDays);
                        };
                        if from > to {
                            return Err(Problem::FromAfterTo { from, to });
                        }
                        AttributeValue::DateAfterRelease {
                            from,
                            to,
                            blank: share(self.blank, "blank", 0.0)?,
                            month: self.month.unwrap_or(false),
                        }
                    }
                    "choice" | "text" => match &self.values {
                        Some(values) if !values.is_empty() => {
                            AttributeValue::Choice(values.clone())
                        }
                        _ => return Err(Problem::NeedsValues(kind.to_owned())),
                    },
                    "integer" => {
                        let (Some(min), Some(max)) = (self.min, self.max) else {
                            return Err(Problem::NeedsBounds);
                        };
                        if min > max {
                            return Err(Problem::MinAboveMax { min, max });
                        }
                        AttributeValue::Integer {
                            min,
                            max,
                            blank: share(self.blank, "blank", 0.0)?,
                        }
                    }
                    "flag" => AttributeValue::Flag {
                        yes: share(self.yes, "yes", 0.5)?,
                    },
                    "covariate" => {
                        let Some(name) = &self.covariate else {
                            return Err(Problem::NeedsCovariate);
                        };
                        let Some(c) = covariates.iter().find(|c| c.name == *name) else {
                            return Err(Problem::UnknownCovariate {
                                name: name.clone(),
                                known: covariates.iter().map(|c| c.name.clone()).collect(),
                            });
                        };
                        AttributeValue::Covariate {
                            name: name.clone(),
                            config_type: c.config_type(),
                            values: Vec::new().into(),
                        }
                    }
                    "region" => AttributeValue::Region,
                    "age_at_release" => AttributeValue::AgeAtRelease,
                    _ => AttributeValue::Gender,
                };
                match self.attribute {
                    Some(name) => {
                        check_name(&name, "attribute")?;
                        Content::Attribute { name, value }
                    }
                    None => Content::Unmapped(value),
                }
            }
        };
        Ok(Column {
            header: self.header,
            content,
        })
    }
}

/// Dataset and attribute names: letters, digits, `_` and `-`, as the
/// partner config and the project config require.
fn check_name(name: &str, what: &'static str) -> Result<(), Problem> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Problem::BadName {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// A share: between 0 and 1.
fn share(value: f64, setting: &'static str) -> Result<f64, Problem> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Problem::NotAShare { setting, value })
    }
}

impl Scenario {
    /// Reads a scenario file; errors name the file and, for TOML errors, the
    /// line and column, for others the dataset and column.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Scenario::parse(&text).map_err(|source| ScenarioError::Invalid {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Parses a scenario from TOML text.
    pub fn parse(text: &str) -> Result<Scenario, InvalidScenario> {
        let file: ScenarioFile = toml::from_str(text)?;
        let _ = file.description;
        check_name(&file.name, "scenario").map_err(InvalidScenario::Scenario)?;
        let profile: Profile = match &file.profile {
            Some(p) => p
                .parse()
                .map_err(|e: UnknownProfile| InvalidScenario::Scenario(e.into()))?,
            None => Profile::Typical,
        };
        if file.people == 0 {
            return Err(InvalidScenario::Scenario(Problem::NoPeople));
        }
        if file.datasets.is_empty() {
            return Err(InvalidScenario::Scenario(Problem::NoDatasets));
        }
        let covariates = covariates::parse(file.covariates)
            .map_err(|(covariate, problem)| InvalidScenario::Covariate { covariate, problem })?;
        let default_duplicates = profile.rates().get(population::Corruption::Duplicate);
        let mut datasets: Vec<ScenarioDataset> = Vec::new();
        for d in file.datasets {
            let name = d.name.clone();
            let dataset = (|| -> Result<ScenarioDataset, InvalidScenario> {
                let problem = |problem: Problem| InvalidScenario::Dataset {
                    dataset: name.clone(),
                    problem,
                };
                check_name(&d.name, "dataset").map_err(problem)?;
                if datasets.iter().any(|x| x.spec.name == d.name) {
                    return Err(problem(Problem::DescribedTwice));
                }
                for (what, v) in [
                    ("coverage", d.coverage),
                    ("duplicate_rate", d.duplicate_rate),
                ] {
                    if let Some(v) = v {
                        share(v, what).map_err(problem)?;
                    }
                }
                let delimiter = match d.style.delimiter.as_str() {
                    "," => b',',
                    "|" => b'|',
                    ";" => b';',
                    "\t" => b'\t',
                    other => return Err(problem(Problem::Delimiter(other.to_owned()))),
                };
                let mut columns = Vec::with_capacity(d.columns.len());
                let mut seen: HashMap<String, ()> = HashMap::new();
                for c in d.columns {
                    let header = c.header.clone();
                    if seen.insert(header.clone(), ()).is_some() {
                        return Err(problem(Problem::HeaderTwice(header)));
                    }
                    columns.push(c.into_column(&covariates).map_err(|problem| {
                        InvalidScenario::Column {
                            dataset: name.clone(),
                            column: header,
                            problem,
                        }
                    })?);
                }
                check_columns(&columns).map_err(problem)?;
                let coverage_if_in = match d.coverage_if_in {
                    Some(c) => {
                        share(c.coverage, "coverage_if_in.coverage").map_err(problem)?;
                        if !datasets.iter().any(|x| x.spec.name == c.dataset) {
                            return Err(problem(Problem::CoverageIfUnknown(c.dataset)));
                        }
                        Some((c.dataset, c.coverage))
                    }
                    None => None,
                };
                let coverage_model = match d.coverage_model {
                    Some(m) => {
                        let model = covariates::model(m, &covariates).map_err(problem)?;
                        if let Some(e) = &model.effect
                            && !datasets.iter().any(|x| x.spec.name == e.dataset)
                        {
                            return Err(problem(Problem::EffectUnknown(e.dataset.clone())));
                        }
                        Some(model)
                    }
                    None => None,
                };
                let coverage = match (d.coverage, &coverage_model) {
                    (Some(c), None) => c,
                    (None, Some(m)) => m.base,
                    _ => return Err(problem(Problem::CoverageOrModel)),
                };
                if coverage_if_in.is_some() && coverage_model.is_some() {
                    return Err(problem(Problem::CoverageIfAndModel));
                }
                if d.prior.is_some() && d.timing.is_some() {
                    return Err(problem(Problem::PriorAndTiming));
                }
                let prior = match d.prior {
                    Some(p) => {
                        let (column, _) =
                            date_column(&columns, "prior.date", &p.date).map_err(problem)?;
                        if p.from > p.to {
                            return Err(problem(Problem::FromAfterTo {
                                from: p.from,
                                to: p.to,
                            }));
                        }
                        let covariate = covariates
                            .iter()
                            .position(|c| c.name == p.covariate)
                            .ok_or_else(|| {
                                problem(Problem::UnknownCovariate {
                                    name: p.covariate.clone(),
                                    known: covariates.iter().map(|c| c.name.clone()).collect(),
                                })
                            })?;
                        if !matches!(
                            covariates[covariate].kind,
                            CovariateKind::Count { .. } | CovariateKind::Integer { .. }
                        ) {
                            return Err(problem(Problem::PriorNotCount(p.covariate)));
                        }
                        Some(Prior {
                            covariate,
                            column,
                            attribute: p.date,
                            from: p.from,
                            to: p.to,
                        })
                    }
                    None => None,
                };
                let timing = match d.timing {
                    Some(t) => {
                        let (column, on_time) =
                            date_column(&columns, "timing.date", &t.date).map_err(problem)?;
                        if !(0.0..1.0).contains(&t.late) {
                            return Err(problem(Problem::LateShare {
                                setting: "timing.late",
                                value: t.late,
                            }));
                        }
                        if t.from > t.to {
                            return Err(problem(Problem::FromAfterTo {
                                from: t.from,
                                to: t.to,
                            }));
                        }
                        if t.from <= on_time.1 {
                            return Err(problem(Problem::TimingNotLate {
                                from: t.from,
                                to: t.to,
                                column_to: on_time.1,
                            }));
                        }
                        Some(Timing {
                            column,
                            attribute: t.date,
                            late: t.late,
                            from: t.from,
                            to: t.to,
                            on_time,
                        })
                    }
                    None => None,
                };
                Ok(ScenarioDataset {
                    spec: DatasetSpec {
                        name: d.name,
                        partner: d.organisation,
                        coverage,
                        profile,
                        duplicate_rate: d.duplicate_rate.unwrap_or(default_duplicates),
                        middle_names: d.middle_names,
                        style: Style {
                            date_format: d.style.date_format,
                            sex_codes: d.style.sex_codes,
                            name_case: d.style.name_case,
                            number_format: d.style.number_format,
                            delimiter,
                            encoding: d.style.encoding,
                            quote_all: d.style.quote_all,
                            crlf: d.style.crlf,
                        },
                        columns,
                    },
                    coverage_if_in,
                    coverage_model,
                    prior,
                    timing,
                })
            })()?;
            datasets.push(dataset);
        }
        let cohort = match file.cohort {
            Some(c) => {
                if !datasets.iter().any(|d| d.spec.name == c.dataset) {
                    return Err(InvalidScenario::Scenario(Problem::CohortUnknown(c.dataset)));
                }
                let conditions = c
                    .conditions
                    .into_iter()
                    .map(|x| covariates::condition(x, &covariates))
                    .collect::<Result<_, _>>()
                    .map_err(InvalidScenario::Scenario)?;
                Some(TruthCohort {
                    dataset: c.dataset,
                    conditions,
                })
            }
            None => None,
        };
        Ok(Scenario {
            name: file.name,
            seed: file.seed,
            people: file.people,
            profile,
            region: file.region,
            covariates,
            cohort,
            datasets,
        })
    }

    /// The dataset called `name`.
    pub fn dataset(&self, name: &str) -> Option<&ScenarioDataset> {
        self.datasets.iter().find(|d| d.spec.name == name)
    }

    /// Writes every extract (`<dataset>.csv`), its partner config
    /// (`<dataset>.toml`) and the ground truth of all rows (`truth.csv`)
    /// into `dir`, for `people` people (the scenario's number when `None`);
    /// when a dataset's `coverage_model` has an `effect`, also the truth of
    /// the effects (`effect.json`, [`EffectTruth`]) and each person's
    /// covariates, participation and chances (`persons.csv`).
    /// The same scenario and number give the same bytes.
    pub fn generate(
        &self,
        dir: &Path,
        people: Option<usize>,
    ) -> Result<Vec<ExtractStats>, GenerateError> {
        let n = people.unwrap_or(self.people);
        let population = population::people_in(self.seed, n, self.region.as_deref())?;
        std::fs::create_dir_all(dir).map_err(|source| GenerateError::Create {
            path: dir.to_owned(),
            source,
        })?;
        let truth_path = dir.join("truth.csv");
        let truth_failed = |source| GenerateError::Write {
            path: truth_path.clone(),
            source,
        };
        let mut truth = BufWriter::new(create(&truth_path)?);
        truth
            .write_all(population::TRUTH_HEADER.as_bytes())
            .map_err(truth_failed)?;
        let table = Table::draw(&self.covariates, &population, self.seed);
        let mut drawn = truth::Drawn::default();
        let mut all = Vec::with_capacity(self.datasets.len());
        for d in &self.datasets {
            let spec = self.with_covariates(&d.spec, &table);
            let plan = self.plan(d, &population, &table, &drawn);
            let draw = plan.draw();
            let csv_path = dir.join(format!("{}.csv", d.spec.name));
            let csv = BufWriter::with_capacity(1 << 20, create(&csv_path)?);
            let stats = population::write_extract_drawn(
                &population,
                &spec,
                self.seed,
                draw,
                csv,
                &mut truth,
            )
            .map_err(|source| GenerateError::Write {
                path: csv_path.clone(),
                source,
            })?;
            let toml_path = dir.join(format!("{}.toml", d.spec.name));
            std::fs::write(&toml_path, population::partner_config(&spec)).map_err(|source| {
                GenerateError::Write {
                    path: toml_path.clone(),
                    source,
                }
            })?;
            let members = population::members(&population, &spec, self.seed, draw);
            drawn.record(d, members, plan);
            all.push(stats);
        }
        truth.flush().map_err(truth_failed)?;
        if let Some(effects) = EffectTruth::of(self, &population, &table, &drawn) {
            truth::write(dir, &effects, &population, &table, &drawn)?;
        }
        Ok(all)
    }

    /// The dataset's spec with its covariate columns' values filled in.
    fn with_covariates(&self, spec: &DatasetSpec, table: &Table) -> DatasetSpec {
        let mut spec = spec.clone();
        for column in &mut spec.columns {
            if let Content::Attribute {
                value: AttributeValue::Covariate { name, values, .. },
                ..
            }
            | Content::Unmapped(AttributeValue::Covariate { name, values, .. }) =
                &mut column.content
            {
                let c = table
                    .position(name)
                    .expect("a covariate column names a covariate: checked when parsed");
                let n = table.values[c].len();
                *values = (0..n).map(|i| table.text(c, i)).collect();
            }
        }
        spec
    }

    /// Who may appear in `d`, and how: each person's coverage, prior rows
    /// and late flag.
    fn plan(
        &self,
        d: &ScenarioDataset,
        people: &[population::Person],
        table: &Table,
        drawn: &truth::Drawn,
    ) -> truth::Plan {
        let mut plan = truth::Plan::default();
        if let Some(model) = &d.coverage_model {
            let (p0, p1) = model.chances(table);
            let treated: Vec<bool> = match &model.effect {
                Some(e) => drawn.participants(&e.dataset),
                None => vec![false; people.len()],
            };
            plan.coverage = (0..people.len())
                .map(|i| if treated[i] { p1[i] } else { p0[i] })
                .collect();
            plan.chances = Some((p0, p1));
        } else if let Some((other, coverage)) = &d.coverage_if_in {
            plan.coverage = drawn
                .members(other)
                .iter()
                .map(|&m| if m { *coverage } else { d.spec.coverage })
                .collect();
        }
        if let Some(prior) = &d.prior {
            plan.extra = table.values[prior.covariate]
                .iter()
                .map(|&v| v.max(0.0) as u32)
                .collect();
            plan.alt = Some(AltDates {
                column: prior.column,
                from: prior.from,
                to: prior.to,
            });
        }
        if let Some(timing) = &d.timing {
            let label = format!("late:{}", d.spec.name);
            plan.late = people
                .iter()
                .map(|p| Rng::for_item(self.seed, &label, u64::from(p.id.0)).chance(timing.late))
                .collect();
            plan.alt = Some(AltDates {
                column: timing.column,
                from: timing.from,
                to: timing.to,
            });
        }
        plan
    }
}

/// The position and range of the `date_after_release` column whose
/// attribute is `attribute`.
fn date_column(
    columns: &[Column],
    setting: &'static str,
    attribute: &str,
) -> Result<(usize, (i64, i64)), Problem> {
    columns
        .iter()
        .enumerate()
        .find_map(|(at, c)| match &c.content {
            Content::Attribute {
                name,
                value: AttributeValue::DateAfterRelease { from, to, .. },
            } if name == attribute => Some((at, (*from, *to))),
            _ => None,
        })
        .ok_or_else(|| Problem::NoSuchDate {
            setting,
            attribute: attribute.to_owned(),
        })
}

/// An extract has one record number and at most one column of each
/// identifier, and some identifier besides the record number.
fn check_columns(columns: &[Column]) -> Result<(), Problem> {
    let mut kinds: Vec<String> = Vec::new();
    let mut attributes: Vec<&str> = Vec::new();
    for c in columns {
        let kind = match &c.content {
            Content::RecordId { .. } => "record_id".to_owned(),
            Content::GivenNames => "given_names".to_owned(),
            Content::FamilyName => "family_name".to_owned(),
            Content::DateOfBirth => "date_of_birth".to_owned(),
            Content::Sex => "sex".to_owned(),
            Content::Postcode => "postcode".to_owned(),
            Content::National { id, .. } => id.kind().name().to_owned(),
            Content::Attribute { name, .. } => {
                if attributes.contains(&name.as_str()) {
                    return Err(Problem::AttributeTwice(name.clone()));
                }
                attributes.push(name);
                continue;
            }
            Content::Unmapped(_) => continue,
        };
        if kinds.contains(&kind) {
            return Err(Problem::KindTwice(kind));
        }
        kinds.push(kind);
    }
    if !kinds.iter().any(|k| k == "record_id") {
        return Err(Problem::NoRecordId);
    }
    if kinds.len() < 2 {
        return Err(Problem::NoIdentifier);
    }
    Ok(())
}

fn create(path: &Path) -> Result<File, GenerateError> {
    File::create(path).map_err(|source| GenerateError::Create {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
name = "small"
seed = 3
people = 300
region = "London"

[[datasets]]
name = "releases"
organisation = "A prison"
coverage = 0.9
columns = [
  { header = "Ref", kind = "record_id", prefix = "R", digits = 6 },
  { header = "Surname", kind = "family_name" },
  { header = "Forenames", kind = "given_names" },
  { header = "DOB", kind = "date_of_birth" },
  { header = "Released", kind = "date_after_release", attribute = "release_date", from = 0, to = 0 },
  { header = "Age", kind = "age_at_release", attribute = "age" },
  { header = "Wing", kind = "choice", values = ["A", "B"] },
]

[[datasets]]
name = "service"
organisation = "A charity"
coverage = 0.3
columns = [
  { header = "Id", kind = "record_id" },
  { header = "Name", kind = "given_names" },
  { header = "Family", kind = "family_name" },
  { header = "Born", kind = "date_of_birth" },
]

[[datasets]]
name = "offences"
organisation = "Police"
coverage = 0.5
coverage_if_in = { dataset = "service", coverage = 0.0 }
style = { date_format = "iso", delimiter = "|" }
columns = [
  { header = "Id", kind = "record_id" },
  { header = "Family", kind = "family_name" },
  { header = "Born", kind = "date_of_birth" },
  { header = "PNC", kind = "pnc_id", held = 0.9 },
]
"#;

    fn truth_people(dir: &Path, dataset: &str) -> Vec<String> {
        std::fs::read_to_string(dir.join("truth.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with(&format!("{dataset},")))
            .map(|l| l.rsplit(',').next().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_scenario_writes_its_extracts_deterministically() {
        let scenario = Scenario::parse(SMALL).expect("valid");
        assert_eq!(scenario.datasets.len(), 3);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (a.path(), b.path());
        let stats = scenario.generate(a, None).expect("writes");
        scenario.generate(b, None).expect("writes");
        for name in [
            "releases.csv",
            "releases.toml",
            "service.csv",
            "offences.csv",
            "truth.csv",
        ] {
            assert_eq!(
                std::fs::read(a.join(name)).unwrap(),
                std::fs::read(b.join(name)).unwrap(),
                "{name} differs between two runs"
            );
        }
        assert!(stats[0].rows > 200, "{stats:?}");
        let config = std::fs::read_to_string(a.join("releases.toml")).unwrap();
        assert!(config.contains("name = \"age\"") && config.contains("type = \"integer\""));
        assert!(
            !config.contains("Wing"),
            "an unmapped column is not in the config"
        );
        let offences = std::fs::read_to_string(a.join("offences.csv")).unwrap();
        assert!(offences.starts_with("Id|Family|Born|PNC"));
        // coverage_if_in: nobody in `service` is in `offences`.
        let service = truth_people(a, "service");
        let offences = truth_people(a, "offences");
        assert!(!service.is_empty() && !offences.is_empty());
        assert!(offences.iter().all(|p| !service.contains(p)));
    }

    #[test]
    fn file_errors_carry_the_file_dataset_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.toml");
        let error = Scenario::from_file(&missing).unwrap_err();
        assert!(matches!(&error, ScenarioError::Read { path, .. } if *path == missing));
        let bad = dir.path().join("generate.toml");
        std::fs::write(
            &bad,
            SMALL.replacen(r#"kind = "family_name" }"#, r#"kind = "surname" }"#, 1),
        )
        .unwrap();
        let error = Scenario::from_file(&bad).unwrap_err();
        let ScenarioError::Invalid { path, source } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(*path, bad);
        assert!(
            matches!(
                &**source,
                InvalidScenario::Column { dataset, column, problem: Problem::UnknownKind(kind) }
                    if dataset == "releases" && column == "Surname" && kind == "surname"
            ),
            "{source:?}"
        );
        let error = Scenario::parse(&SMALL.replace("London", "Atlantis"))
            .unwrap()
            .generate(dir.path(), Some(10))
            .unwrap_err();
        assert!(matches!(error, GenerateError::Region(_)), "{error:?}");
    }

    #[test]
    fn everyone_lives_in_the_region() {
        let people = population::people_in(5, 200, Some("North East")).unwrap();
        assert_eq!(people.len(), 200);
        assert!(people.iter().all(|p| p.postcode().region() == "North East"));
        let error = population::people_in(5, 10, Some("Atlantis"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("Atlantis") && error.contains("London"),
            "{error}"
        );
    }

    #[test]
    fn mistakes_are_refused_naming_where() {
        let cases: [(&str, &str, &str); 7] = [
            (
                r#"kind = "family_name" }"#,
                r#"kind = "surname" }"#,
                "unknown kind `surname`",
            ),
            (
                r#"{ header = "Wing", kind = "choice", values = ["A", "B"] }"#,
                r#"{ header = "Wing", kind = "choice", values = [] }"#,
                "column `Wing`: kind `choice` needs a non-empty `values` list",
            ),
            (
                r#"prefix = "R", digits = 6"#,
                r#"prefix = "R", held = 0.5"#,
                "`held` does not apply to kind `record_id`",
            ),
            (
                r#"from = 0, to = 0"#,
                r#"from = 5, to = 0"#,
                "column `Released`: `from` (5) is after `to` (0)",
            ),
            (
                r#"dataset = "service", coverage = 0.0"#,
                r#"dataset = "nowhere", coverage = 0.0"#,
                "dataset `offences`: `coverage_if_in` names `nowhere`",
            ),
            (
                r#"delimiter = "|""#,
                r#"delimiter = "::""#,
                "`style.delimiter` must be one of",
            ),
            (
                r#"{ header = "Id", kind = "record_id" },
  { header = "Name""#,
                r#"{ header = "Name""#,
                "dataset `service`: no column of kind `record_id`",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(SMALL.contains(from), "{from}");
            let text = SMALL.replacen(from, to, 1);
            let error = format!("{:#}", Scenario::parse(&text).unwrap_err());
            assert!(
                error.contains(expected),
                "expected {expected:?} in {error:?}"
            );
        }
        let error = format!(
            "{:#}",
            Scenario::parse(&SMALL.replace("coverage = 0.9", "coverage = 0.9\ncolour = 1"))
                .unwrap_err()
        );
        assert!(
            error.contains("colour") && error.contains("line"),
            "{error}"
        );
    }

    /// A programme that picks low-risk people, with a built-in effect.
    const SELECTED: &str = r#"
name = "selected"
seed = 11
people = 3000
region = "London"
cohort = { dataset = "releases", where = [{ covariate = "age_at_release", min = 18 }] }

[[covariates]]
name = "risk"
kind = "normal"

[[covariates]]
name = "prior_offences"
kind = "count"
mean = 1.5
by = [{ covariate = "risk", per = 0.8 }]

[[covariates]]
name = "parent"
kind = "flag"
yes = 0.4

[[datasets]]
name = "releases"
organisation = "A prison"
coverage = 0.9
columns = [
  { header = "Ref", kind = "record_id", prefix = "R", digits = 6 },
  { header = "Surname", kind = "family_name" },
  { header = "DOB", kind = "date_of_birth" },
  { header = "Released", kind = "date_after_release", attribute = "release_date", from = 0, to = 0 },
  { header = "Parent", kind = "covariate", covariate = "parent", attribute = "parent" },
]

[[datasets]]
name = "service"
organisation = "A charity"
coverage_model = { base = 0.3, by = [{ covariate = "prior_offences", per = -0.6 }, { covariate = "parent", per = 1.0 }] }
timing = { date = "referral_date", late = 0.2, from = 100, to = 300 }
columns = [
  { header = "Id", kind = "record_id" },
  { header = "Family", kind = "family_name" },
  { header = "Born", kind = "date_of_birth" },
  { header = "Referred", kind = "date_after_release", attribute = "referral_date", from = -60, to = -10 },
]

[[datasets]]
name = "offences"
organisation = "Police"
duplicate_rate = 0.2
coverage_model = { base = 0.45, by = [{ covariate = "risk", per = 1.0 }], effect = { dataset = "service", odds_ratio = 0.5 } }
prior = { covariate = "prior_offences", date = "offence_date", from = -730, to = -1 }
style = { date_format = "iso" }
columns = [
  { header = "Id", kind = "record_id" },
  { header = "Family", kind = "family_name" },
  { header = "Born", kind = "date_of_birth" },
  { header = "Date", kind = "date_after_release", attribute = "offence_date", from = 1, to = 365 },
]
"#;

    /// `(record_id → person)` and each row's fields, of one extract.
    fn rows(dir: &Path, dataset: &str, delimiter: char) -> Vec<(String, Vec<String>)> {
        let people: HashMap<String, String> = std::fs::read_to_string(dir.join("truth.csv"))
            .unwrap()
            .lines()
            .filter_map(|l| {
                let mut f = l.split(',');
                (f.next() == Some(dataset))
                    .then(|| (f.next().unwrap().to_owned(), f.next().unwrap().to_owned()))
            })
            .collect();
        std::fs::read_to_string(dir.join(format!("{dataset}.csv")))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let fields: Vec<String> = l.split(delimiter).map(str::to_owned).collect();
                (people[&fields[0]].clone(), fields)
            })
            .collect()
    }

    #[test]
    fn covariates_select_participants_and_the_truth_says_by_how_much() {
        let scenario = Scenario::parse(SELECTED).expect("valid");
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        scenario.generate(a.path(), None).unwrap();
        scenario.generate(b.path(), None).unwrap();
        for file in ["effect.json", "persons.csv", "offences.csv", "service.csv"] {
            assert_eq!(
                std::fs::read(a.path().join(file)).unwrap(),
                std::fs::read(b.path().join(file)).unwrap(),
                "{file} differs between two runs"
            );
        }
        let dir = a.path();
        let persons = std::fs::read_to_string(dir.join("persons.csv")).unwrap();
        let header: Vec<&str> = persons.lines().next().unwrap().split(',').collect();
        assert_eq!(
            header,
            [
                "person_id",
                "age_at_release",
                "risk",
                "prior_offences",
                "parent",
                "service",
                "offences_p_untreated",
                "offences_p_treated",
                "offences_appears"
            ]
        );
        let by_person: HashMap<String, Vec<String>> = persons
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<String> = l.split(',').map(str::to_owned).collect();
                (f[0].clone(), f)
            })
            .collect();
        // Every person has exactly prior_offences rows dated before release
        // (dates are ISO; the release date is not in the extract, so count
        // rows per person against the covariate instead).
        let offences = rows(dir, "offences", ',');
        let mut count: HashMap<&str, usize> = HashMap::new();
        for (person, _) in &offences {
            *count.entry(person).or_default() += 1;
        }
        for (person, f) in &by_person {
            let prior: usize = f[3].parse().unwrap();
            let rows = count.get(person.as_str()).copied().unwrap_or(0);
            if f[8] == "N" {
                assert_eq!(rows, prior, "{person}: only prior rows");
            } else {
                assert!(rows > prior, "{person}: prior rows and at least one more");
            }
        }
        // The covariate column writes the person's value in every row.
        let mut released: HashMap<String, chrono::NaiveDate> = HashMap::new();
        for (person, f) in rows(dir, "releases", ',') {
            assert_eq!(f[4], by_person[&person][4], "{person}");
            let day = chrono::NaiveDate::parse_from_str(&f[3], "%d/%m/%Y").unwrap();
            released.insert(person, day);
        }
        let offset = |person: &str, date: &str, format: &str| {
            let day = chrono::NaiveDate::parse_from_str(date, format).unwrap();
            released
                .get(person)
                .map(|r| day.signed_duration_since(*r).num_days())
        };
        // Prior rows are dated in the two years before release, the others
        // after it; as many before as the person's prior offences.
        let mut before: HashMap<&str, usize> = HashMap::new();
        let mut dated = 0;
        for (person, f) in &offences {
            let Some(days) = offset(person, &f[3], "%Y-%m-%d") else {
                continue;
            };
            dated += 1;
            if days < 0 {
                assert!(days >= -730, "{person}: {days}");
                *before.entry(person).or_default() += 1;
            } else {
                assert!((1..=365).contains(&days), "{person}: {days}");
            }
        }
        assert!(dated > 1000, "{dated}");
        // event_share is the share of those who appear with an offence in
        // a window, as the extract writer makes them.
        let mut in_window: HashMap<&str, bool> = HashMap::new();
        for (person, f) in &offences {
            if let Some(days) = offset(person, &f[3], "%Y-%m-%d")
                && days >= 0
            {
                *in_window.entry(person).or_default() |= (1..=182).contains(&days);
            }
        }
        let share = in_window.values().filter(|&&x| x).count() as f64 / in_window.len() as f64;
        let dates = EventDates {
            attribute: "offence_date".into(),
            from: 1,
            to: 365,
            blank: 0.0,
        };
        let expected = event_share((1, 182), &dates, 0.2);
        assert!(
            (share - expected).abs() < 0.04,
            "{share} against {expected}"
        );
        for (person, n) in &before {
            assert_eq!(by_person[*person][3], n.to_string(), "{person}");
        }
        // On-time participants are dated in the column's range, late ones
        // in the timing's.
        let mut late_rows = 0;
        for (person, f) in rows(dir, "service", ',') {
            let Some(days) = offset(&person, &f[3], "%d/%m/%Y") else {
                continue;
            };
            match by_person[&person][5].as_str() {
                "on_time" => assert!((-60..=-10).contains(&days), "{person}: {days}"),
                "late" => {
                    assert!((100..=300).contains(&days), "{person}: {days}");
                    late_rows += 1;
                }
                other => panic!("{person} is in the service as {other:?}"),
            }
        }
        assert!(late_rows > 20, "{late_rows}");
        // The truth: participants differ, the naive difference is not the effect.
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("effect.json")).unwrap())
                .unwrap();
        let programme = &truth["participants"][0];
        assert_eq!(programme["dataset"], "service");
        let (on_time, late) = (
            programme["on_time"].as_u64().unwrap(),
            programme["late"].as_u64().unwrap(),
        );
        assert!(on_time > 300 && late > 40, "{programme}");
        let late_share = late as f64 / (on_time + late) as f64;
        assert!((0.14..0.26).contains(&late_share), "{late_share}");
        let smd = |name: &str| {
            truth["balance"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["covariate"] == name)
                .unwrap()["smd"]
                .as_f64()
                .unwrap()
        };
        assert!(smd("prior_offences") < -0.3, "{}", smd("prior_offences"));
        assert!(smd("parent") > 0.3);
        assert!(smd("risk") < -0.15, "the latent risk follows the priors");
        let effect = &truth["effects"][0];
        let f = |k: &str| effect[k].as_f64().unwrap();
        assert!(f("att") < -0.05, "{effect}");
        assert!(
            f("naive_expected") < f("att") - 0.03,
            "selection makes participants look better still: {effect}"
        );
        assert!((f("naive_expected") - f("att") - f("selection_bias")).abs() < 1e-9);
        assert!(
            (f("naive_observed") - f("naive_expected")).abs() < 0.06,
            "{effect}"
        );
        assert_eq!(effect["prior_dates"]["from"], -730);
    }

    #[test]
    fn model_mistakes_are_refused_naming_where() {
        let cases: [(&str, &str, &str); 7] = [
            (
                "coverage_model = { base = 0.3,",
                "coverage = 0.3\ncoverage_model = { base = 0.3,",
                "dataset `service`: give exactly one of `coverage` and `coverage_model`",
            ),
            (
                r#"effect = { dataset = "service""#,
                r#"effect = { dataset = "nobody""#,
                "`coverage_model.effect` names `nobody`",
            ),
            (
                r#"odds_ratio = 0.5"#,
                r#"odds_ratio = 0.0"#,
                "`effect.odds_ratio` must be a positive number, not 0",
            ),
            (
                r#"from = 100, to = 300"#,
                r#"from = -20, to = 300"#,
                "`timing`: the late dates (-20..=300) must all come after the column's own range (up to -10)",
            ),
            (
                r#"prior = { covariate = "prior_offences", date = "offence_date""#,
                r#"prior = { covariate = "parent", date = "offence_date""#,
                "`prior.covariate` `parent` must be a `count` or `integer` covariate",
            ),
            (
                r#"date = "offence_date", from = -730"#,
                r#"date = "offence_day", from = -730"#,
                "`prior.date` names the attribute `offence_day`, which is no `date_after_release` column",
            ),
            (
                r#"covariate = "parent", attribute = "parent""#,
                r#"covariate = "children", attribute = "parent""#,
                "dataset `releases`: column `Parent`: no covariate `children`",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(SELECTED.contains(from), "{from}");
            let error = format!(
                "{:#}",
                Scenario::parse(&SELECTED.replacen(from, to, 1)).unwrap_err()
            );
            assert!(
                error.contains(expected),
                "expected {expected:?} in {error:?}"
            );
        }
        let error = format!(
            "{:#}",
            Scenario::parse(&SELECTED.replace(r#"kind = "count""#, r#"kind = "poisson""#))
                .unwrap_err()
        );
        assert!(
            error.contains("covariate `prior_offences`: unknown covariate kind `poisson`"),
            "{error}"
        );
    }
}
