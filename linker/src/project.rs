//! Project configuration: the expected key fingerprint, the datasets and
//! which partner supplies each. Parsed from TOML and checked before it is
//! stored, so a stored project is always valid.

use pprl_specs::key::Fingerprint;
use serde::{Deserialize, Serialize};

use crate::schedule::{ScheduleConfig, ScheduleError};
use pprl_engine::cohort::config::{CohortConfig, CohortSettings, DisclosureConfig, OutcomeConfig};

/// A project configuration as written by an administrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Project name: letters, digits, `-` and `_`.
    pub name: String,
    /// Fingerprint of the project key (`pprl-client fingerprint`).
    pub key_fingerprint: String,
    /// Accept token files that are not sealed to the linker (spec §10.3).
    /// Off by default; only for a migration from clients older than
    /// sealing. Unsealed uploads are re-keyed like sealed ones.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unsealed_uploads: bool,
    /// The datasets partners upload.
    #[serde(default)]
    pub datasets: Vec<DatasetConfig>,
    /// How records are linked into persons.
    #[serde(default)]
    pub linkage: LinkageConfig,
    /// When the server runs linkage by itself (none: only on request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleConfig>,
    /// Who is in the cohort and how they are grouped (no cohort outputs without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<CohortConfig>,
    /// Outcome indicators measured for the cohort.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<OutcomeConfig>,
    /// Disclosure rules for the cohort outputs.
    #[serde(default)]
    pub disclosure: DisclosureConfig,
    /// Which record-level linkage outputs are published, and to whom.
    #[serde(default, skip_serializing_if = "OutputsConfig::is_default")]
    pub outputs: OutputsConfig,
}

/// `[outputs]`: the record-level linkage file (issue 17). `links.parquet`
/// holds one row per record with its person; joined to `cohort.parquet` it
/// would restore what the cohort's disclosure rules take away, so it is a
/// linkage-quality file for a separate role, never an evaluator's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsConfig {
    /// Who may download `links.parquet`.
    #[serde(default)]
    pub links: LinksAudience,
    /// The attributes `links.parquet` carries (by the names the partners
    /// declare them under, in any dataset); by default the cohort's
    /// `attributes`, or none without a cohort. Dates among them are given
    /// at `disclosure.date_precision` (`days_since_index`: to the month).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links_attributes: Option<Vec<String>>,
}

/// Who may download `links.parquet`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinksAudience {
    /// Not written at all (the default).
    #[default]
    #[serde(rename = "off")]
    Off,
    /// Written, and readable only with `linkage-analyst` (and
    /// administrator) tokens.
    #[serde(rename = "linkage-analyst")]
    LinkageAnalyst,
}

impl OutputsConfig {
    fn is_default(&self) -> bool {
        *self == OutputsConfig::default()
    }
}

pub use pprl_engine::linkage::{LinkageConfig, LinkageMethod};

/// One dataset of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// Dataset name, as partners put it in their token files' manifests.
    pub name: String,
    /// The partner that supplies it; partner tokens name a partner.
    pub partner: String,
    /// Whether each person appears at most once (used by linkage).
    #[serde(default)]
    pub one_record_per_person: bool,
    /// What the dataset holds, for people reading the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Why a project configuration was refused; each message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ProjectConfigError {
    /// Not TOML, or not the shape of a project config.
    #[error("project config: {}", .0.to_string().trim_end())]
    Parse(toml::de::Error),
    #[error("project config: {0}")]
    Name(InvalidName),
    #[error(
        "project config: key_fingerprint `{0}` is not 16 hexadecimal digits (print it with `pprl-client fingerprint --key-file KEY`)"
    )]
    Fingerprint(String),
    #[error(
        "project config: linkage.threshold ({threshold}) must be between 0.5 and 1, and linkage.strong_threshold ({strong_threshold}) between it and 1"
    )]
    Thresholds {
        threshold: f64,
        strong_threshold: f64,
    },
    #[error("project config: linkage.max_block_size must be at least 2")]
    MaxBlockSize,
    #[error(
        "project config: linkage.guard.{setting} ({value}) must be between 0 and 1 (max_change: 0 or more)"
    )]
    Guard { setting: &'static str, value: f64 },
    #[error("project config: {0}")]
    Schedule(ScheduleError),
    #[error("project config: a project needs at least one [[datasets]] entry")]
    NoDatasets,
    #[error("project config: dataset `{0}` is declared twice")]
    DuplicateDataset(String),
    #[error("project config: [[outcomes]] need a [cohort] to measure them for")]
    OutcomesWithoutCohort,
    /// The `[cohort]`, `[[outcomes]]` or `[disclosure]` definitions (their
    /// checks, in `cohort::config`, say what is wrong).
    #[error("project config: {0}")]
    Cohort(#[from] pprl_engine::cohort::config::DefinitionError),
}

/// A name that cannot be used in URLs and paths.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{name}` must be 1 to 64 letters, digits, `_` or `-`")]
pub struct InvalidName {
    /// What the name names (`project name`, `dataset name`, ...).
    pub what: &'static str,
    pub name: String,
}

/// Checks a name used in URLs and paths: 1–64 of `A-Za-z0-9_-`.
pub fn check_name(what: &'static str, name: &str) -> Result<(), InvalidName> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(InvalidName {
            what,
            name: name.to_owned(),
        })
    }
}

impl ProjectConfig {
    /// Parses and checks TOML text.
    pub fn parse(text: &str) -> Result<Self, ProjectConfigError> {
        let config: ProjectConfig = toml::from_str(text).map_err(ProjectConfigError::Parse)?;
        config.check()?;
        Ok(config)
    }

    /// Checks names, the fingerprint and dataset uniqueness.
    pub fn check(&self) -> Result<(), ProjectConfigError> {
        use ProjectConfigError as E;
        check_name("project name", &self.name).map_err(E::Name)?;
        if Fingerprint::parse(&self.key_fingerprint).is_err() {
            return Err(E::Fingerprint(self.key_fingerprint.clone()));
        }
        let l = &self.linkage;
        if !(0.5..=1.0).contains(&l.threshold) || !(l.threshold..=1.0).contains(&l.strong_threshold)
        {
            return Err(E::Thresholds {
                threshold: l.threshold,
                strong_threshold: l.strong_threshold,
            });
        }
        if l.max_block_size < 2 {
            return Err(E::MaxBlockSize);
        }
        let g = &l.guard;
        for (setting, value, ok) in [
            (
                "min_estimated_precision",
                g.min_estimated_precision,
                (0.0..=1.0).contains(&g.min_estimated_precision),
            ),
            (
                "min_estimated_recall",
                g.min_estimated_recall,
                (0.0..=1.0).contains(&g.min_estimated_recall),
            ),
            ("max_change", g.max_change, g.max_change >= 0.0),
        ] {
            if !ok {
                return Err(E::Guard { setting, value });
            }
        }
        if let Some(schedule) = &self.schedule {
            schedule.check().map_err(E::Schedule)?;
        }
        if self.datasets.is_empty() {
            return Err(E::NoDatasets);
        }
        for (i, d) in self.datasets.iter().enumerate() {
            check_name("dataset name", &d.name).map_err(E::Name)?;
            check_name("partner name", &d.partner).map_err(E::Name)?;
            if self.datasets[..i].iter().any(|e| e.name == d.name) {
                return Err(E::DuplicateDataset(d.name.clone()));
            }
        }
        if self.cohort.is_none() && !self.outcomes.is_empty() {
            return Err(E::OutcomesWithoutCohort);
        }
        if let Some(settings) = self.cohort_settings() {
            let names: Vec<&str> = self.datasets.iter().map(|d| d.name.as_str()).collect();
            settings.check(&names).map_err(E::Cohort)?;
        }
        Ok(())
    }

    /// The cohort, outcome and disclosure definitions, if a cohort is defined.
    pub fn cohort_settings(&self) -> Option<CohortSettings<'_>> {
        self.cohort.as_ref().map(|cohort| CohortSettings {
            cohort,
            outcomes: &self.outcomes,
            disclosure: &self.disclosure,
        })
    }

    /// Whether runs write `links.parquet`.
    pub fn publishes_links(&self) -> bool {
        self.outputs.links != LinksAudience::Off
    }

    /// The attributes `links.parquet` carries: `[outputs] links_attributes`,
    /// or else the cohort's attributes.
    pub fn links_attributes(&self) -> &[String] {
        match (&self.outputs.links_attributes, &self.cohort) {
            (Some(names), _) => names,
            (None, Some(cohort)) => &cohort.attributes,
            (None, None) => &[],
        }
    }

    /// The canonical fingerprint text (lowercase).
    pub fn fingerprint(&self) -> String {
        self.key_fingerprint.trim().to_ascii_lowercase()
    }

    /// The dataset of this name.
    pub fn dataset(&self, name: &str) -> Option<&DatasetConfig> {
        self.datasets.iter().find(|d| d.name == name)
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a project config always serialises")
    }
}

/// The commented example printed by `pprl-linker project-template`.
pub const TEMPLATE: &str = include_str!("project_template.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_valid() {
        let config = ProjectConfig::parse(TEMPLATE).expect("the template parses");
        assert!(config.dataset("probation_caseload").is_some());
        assert_eq!(
            ProjectConfig::parse(&config.to_toml()).expect("round trip"),
            config
        );
    }

    #[test]
    fn the_linkage_method_defaults_to_probabilistic_and_can_be_cascade() {
        let base = "name = \"p\"\nkey_fingerprint = \"0011223344556677\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n";
        let config = ProjectConfig::parse(base).expect("parses");
        assert_eq!(config.linkage.method, LinkageMethod::Probabilistic);
        let config = ProjectConfig::parse(&format!("{base}[linkage]\nmethod = \"cascade\"\n"))
            .expect("parses");
        assert_eq!(config.linkage.method, LinkageMethod::Cascade);
        assert_eq!(
            ProjectConfig::parse(&config.to_toml()).expect("round trip"),
            config
        );
    }

    #[test]
    fn links_are_off_by_default_and_carry_the_cohorts_attributes() {
        let base = "name = \"p\"\nkey_fingerprint = \"0011223344556677\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n";
        let config = ProjectConfig::parse(base).expect("parses");
        assert!(!config.publishes_links());
        assert!(config.links_attributes().is_empty());
        assert!(
            !config.to_toml().contains("[outputs]"),
            "the default is not written back"
        );
        let config = ProjectConfig::parse(&format!(
            "{base}[outputs]\nlinks = \"linkage-analyst\"\nlinks_attributes = [\"a\"]\n"
        ))
        .expect("parses");
        assert!(config.publishes_links());
        assert_eq!(config.links_attributes(), ["a"]);
        assert_eq!(
            ProjectConfig::parse(&config.to_toml()).expect("round trip"),
            config
        );
        let template = ProjectConfig::parse(TEMPLATE).expect("the template parses");
        let cohort = template.cohort.as_ref().expect("the template has a cohort");
        assert_eq!(template.links_attributes(), cohort.attributes.as_slice());
    }

    #[test]
    fn refusals_name_the_problem() {
        let base = "name = \"p\"\nkey_fingerprint = \"0011223344556677\"\n";
        for (text, needle) in [
            (
                "name = \"p q\"\nkey_fingerprint = \"0011223344556677\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n",
                "project name",
            ),
            (
                "name = \"p\"\nkey_fingerprint = \"xyz\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n",
                "key_fingerprint",
            ),
            (base, "at least one"),
            (
                &format!(
                    "{base}[[datasets]]\nname = \"d\"\npartner = \"x\"\n[[datasets]]\nname = \"d\"\npartner = \"y\"\n"
                ),
                "declared twice",
            ),
            (
                &format!("{base}[[datasets]]\nname = \"d\"\npartner = \"x\"\ncolour = \"red\"\n"),
                "colour",
            ),
            (
                &format!(
                    "{base}schedule = \"0 2 * * 8\"\n[[datasets]]\nname = \"d\"\npartner = \"x\"\n"
                ),
                "schedule.cron `0 2 * * 8`",
            ),
            (
                &format!(
                    "{base}[[datasets]]\nname = \"d\"\npartner = \"x\"\n[linkage]\nmethod = \"exact\"\n"
                ),
                "unknown variant `exact`, expected `probabilistic` or `cascade`",
            ),
            (
                &format!(
                    "{base}[[datasets]]\nname = \"d\"\npartner = \"x\"\n[outputs]\nlinks = \"evaluator\"\n"
                ),
                "unknown variant `evaluator`, expected `off` or `linkage-analyst`",
            ),
            (
                &format!(
                    "{base}[[datasets]]\nname = \"d\"\npartner = \"x\"\n[linkage.guard]\nmin_estimated_recall = 1.5\n"
                ),
                "linkage.guard.min_estimated_recall (1.5) must be between 0 and 1",
            ),
        ] {
            let err = ProjectConfig::parse(text).expect_err("refused").to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
