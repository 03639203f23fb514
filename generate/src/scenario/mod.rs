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
//! outcomes differ between groups. See `examples/prison-link/generate.toml`
//! for a commented file, and [`Scenario::generate`] for what is written.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Deserialize;

use crate::population::{
    self, Among, AttributeValue, Column, Content, DatasetSpec, DateFormat, ExtractStats, NameCase,
    NationalId, NumberFormat, Profile, SexCodes, Style, TextEncoding, UnknownProfile,
};

mod error;

pub use error::{GenerateError, InvalidScenario, Problem, ScenarioError};

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
    pub datasets: Vec<ScenarioDataset>,
}

/// One partner's extract of a scenario.
#[derive(Debug, Clone)]
pub struct ScenarioDataset {
    pub spec: DatasetSpec,
    /// People in this other dataset appear with this coverage instead.
    pub coverage_if_in: Option<(String, f64)>,
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
    datasets: Vec<DatasetFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetFile {
    name: String,
    organisation: String,
    coverage: f64,
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
const VALUE_KINDS: [&str; 8] = [
    "date_after_release",
    "choice",
    "integer",
    "flag",
    "region",
    "age_at_release",
    "gender",
    "text",
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
        ]
    }

    fn into_column(self) -> Result<Column, Problem> {
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
                    ("coverage", Some(d.coverage)),
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
                    columns.push(c.into_column().map_err(|problem| InvalidScenario::Column {
                        dataset: name.clone(),
                        column: header,
                        problem,
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
                Ok(ScenarioDataset {
                    spec: DatasetSpec {
                        name: d.name,
                        partner: d.organisation,
                        coverage: d.coverage,
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
                })
            })()?;
            datasets.push(dataset);
        }
        Ok(Scenario {
            name: file.name,
            seed: file.seed,
            people: file.people,
            profile,
            region: file.region,
            datasets,
        })
    }

    /// The dataset called `name`.
    pub fn dataset(&self, name: &str) -> Option<&ScenarioDataset> {
        self.datasets.iter().find(|d| d.spec.name == name)
    }

    /// Writes every extract (`<dataset>.csv`), its partner config
    /// (`<dataset>.toml`) and the ground truth of all rows (`truth.csv`)
    /// into `dir`, for `people` people (the scenario's number when `None`).
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
        let mut members: HashMap<&str, Vec<bool>> = HashMap::new();
        let mut all = Vec::with_capacity(self.datasets.len());
        for d in &self.datasets {
            let among = d.coverage_if_in.as_ref().map(|(other, coverage)| Among {
                members: &members[other.as_str()],
                coverage: *coverage,
            });
            let csv_path = dir.join(format!("{}.csv", d.spec.name));
            let csv = BufWriter::with_capacity(1 << 20, create(&csv_path)?);
            let stats = population::write_extract_among(
                &population,
                &d.spec,
                self.seed,
                among,
                csv,
                &mut truth,
            )
            .map_err(|source| GenerateError::Write {
                path: csv_path.clone(),
                source,
            })?;
            let toml_path = dir.join(format!("{}.toml", d.spec.name));
            std::fs::write(&toml_path, population::partner_config(&d.spec)).map_err(|source| {
                GenerateError::Write {
                    path: toml_path.clone(),
                    source,
                }
            })?;
            if self.datasets.iter().any(|x| {
                x.coverage_if_in
                    .as_ref()
                    .is_some_and(|(o, _)| *o == d.spec.name)
            }) {
                let these = population::members(&population, &d.spec, self.seed, among);
                members.insert(d.spec.name.as_str(), these);
            }
            all.push(stats);
        }
        truth.flush().map_err(truth_failed)?;
        Ok(all)
    }
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
}
