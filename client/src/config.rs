//! The partner configuration (`partner.toml`): what the user typed, and the
//! checked settings it turns into once the extract's columns are known.

use std::collections::BTreeMap;
use std::path::Path;

use pprl_specs::normalise::{DateOrder, PostcodeFormat};
use pprl_specs::record::IdentifierKind;
use pprl_specs::tokenfile::{AttributeSpec, AttributeType, DatePrecision, check_attribute_name};
use serde::Deserialize;

/// The configuration file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerConfig {
    /// The dataset this extract is a version of, as named in the project config.
    pub dataset: String,
    /// The linker's public key (`age1…`), pinned: uploads are sealed to it
    /// (spec §10).
    #[serde(default)]
    pub linker_key: Option<String>,
    /// Or its fingerprint (16 hex digits): the key is fetched from the
    /// linker and used only if it has this fingerprint.
    #[serde(default)]
    pub linker_key_fingerprint: Option<String>,
    #[serde(default)]
    pub input: InputConfig,
    /// Identifier kind → column name in the extract.
    pub identifiers: BTreeMap<IdentifierKind, String>,
    /// Columns passed through, one by one. Nothing else leaves the machine.
    #[serde(default)]
    pub attributes: Vec<AttributeConfig>,
    #[serde(default)]
    pub rejects: RejectsConfig,
}

/// How to read the extract.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// `csv` or `parquet`; by default taken from the file extension.
    pub format: Option<InputFormat>,
    /// CSV field delimiter, one ASCII character (default `,`).
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// CSV text encoding label, e.g. `utf-8`, `windows-1252`, `iso-8859-1` (default `utf-8`).
    #[serde(default = "default_encoding")]
    pub encoding: String,
    /// How to read ambiguous numeric dates (default `day-first`).
    #[serde(default)]
    pub date_order: DateOrder,
    /// Which postcodes the extract holds: `uk` (the default) or `any` (UK
    /// postcodes, and other countries' postal codes kept whole).
    #[serde(default)]
    pub postcode_format: PostcodeFormat,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            format: None,
            delimiter: default_delimiter(),
            encoding: default_encoding(),
            date_order: DateOrder::default(),
            postcode_format: PostcodeFormat::default(),
        }
    }
}

fn default_delimiter() -> String {
    ",".to_owned()
}

fn default_encoding() -> String {
    "utf-8".to_owned()
}

/// The format of an extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    Csv,
    Parquet,
}

/// One declared attribute column.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeConfig {
    /// Name in the token file.
    pub name: String,
    /// Column in the extract (default: the same as `name`).
    pub column: Option<String>,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// For dates: `day` (default) or `month`.
    pub precision: Option<DatePrecision>,
}

/// When rejected rows make the whole run fail.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectsConfig {
    /// Largest share of rows that may be rejected, 0.0 to 1.0 (default 0.05).
    #[serde(default = "default_max_fraction")]
    pub max_fraction: f64,
}

impl Default for RejectsConfig {
    fn default() -> Self {
        RejectsConfig {
            max_fraction: default_max_fraction(),
        }
    }
}

fn default_max_fraction() -> f64 {
    0.05
}

/// A configuration error, naming what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config: {0}")]
    Invalid(String),
    #[error(
        "config: {what} names column `{column}`, which the extract does not have; its columns are: {available}"
    )]
    UnknownColumn {
        what: String,
        column: String,
        available: String,
    },
}

impl PartnerConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let parse_error = |message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = valid.rsplit(|&b| b == b'\n').next().map_or(0, <[u8]>::len) + 1;
            parse_error(format!(
                "line {line}, byte {column}: not valid UTF-8 text (save the config as UTF-8)"
            ))
        })?;
        let config =
            Self::parse(&text).map_err(|e| parse_error(e.to_string().trim_end().to_owned()))?;
        // Name the file in what can be checked without the extract, too.
        if let Err(ConfigError::Invalid(message)) = BaseSettings::check(&config) {
            return Err(parse_error(message));
        }
        Ok(config)
    }

    /// Parses config text; the error gives line and column.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

/// A column of the extract that the run reads, and what it is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    Identifier(IdentifierKind),
    /// Index into [`Settings::attributes`].
    Attribute(usize),
}

/// The checked settings for one run, resolved against the extract's header.
#[derive(Debug)]
pub struct Settings {
    pub dataset: String,
    pub delimiter: u8,
    pub encoding: &'static encoding_rs::Encoding,
    pub date_order: DateOrder,
    pub postcode_format: PostcodeFormat,
    pub max_reject_fraction: f64,
    pub attributes: Vec<AttributeSpec>,
    /// Columns read, in the order the pipeline stores them.
    pub columns: Vec<SelectedColumn>,
}

/// One column the run reads.
#[derive(Debug, Clone)]
pub struct SelectedColumn {
    /// Name in the extract.
    pub name: String,
    /// Position in the extract.
    pub index: usize,
    pub role: ColumnRole,
}

impl Settings {
    /// Checks the config and resolves its column names against `header`.
    pub fn resolve(config: &PartnerConfig, header: &[String]) -> Result<Self, ConfigError> {
        let base = BaseSettings::check(config)?;
        // When no configured column is in the header, the first line is
        // probably data (no header line, or the wrong delimiter): never list it.
        let named = config.identifiers.values().map(String::as_str).chain(
            config
                .attributes
                .iter()
                .map(|a| a.column.as_deref().unwrap_or(&a.name)),
        );
        let header_listed = named.into_iter().any(|c| header.iter().any(|h| h == c));
        let find = |what: String, column: &str| -> Result<usize, ConfigError> {
            let mut at = header.iter().enumerate().filter(|(_, h)| *h == column);
            match (at.next(), at.next()) {
                (Some((index, _)), None) => Ok(index),
                (Some((first, _)), Some((second, _))) => Err(ConfigError::Invalid(format!(
                    "{what} names column `{column}`, which the extract's header has more than once (columns {} and {}); rename one of them",
                    first + 1,
                    second + 1
                ))),
                (None, _) if !header_listed => Err(ConfigError::Invalid(format!(
                    "{what} names column `{column}`, but none of the columns the config names is in the extract's first line ({} fields): is the header line missing, or input.delimiter or input.encoding wrong?",
                    header.len()
                ))),
                (None, _) => Err(ConfigError::UnknownColumn {
                    what,
                    column: column.to_owned(),
                    available: header
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            }
        };
        let mut columns = Vec::new();
        for (kind, column) in &config.identifiers {
            let index = find(format!("identifiers.{}", kind.name()), column)?;
            columns.push(SelectedColumn {
                name: column.clone(),
                index,
                role: ColumnRole::Identifier(*kind),
            });
        }
        for (i, attr) in config.attributes.iter().enumerate() {
            let column = attr.column.as_deref().unwrap_or(&attr.name);
            if let Some(id) = columns.iter().find(|c| c.name == column) {
                return Err(ConfigError::Invalid(format!(
                    "attribute `{}` reads column `{column}`, which is already mapped to {}; identifiers never pass through as attributes",
                    attr.name,
                    match id.role {
                        ColumnRole::Identifier(kind) => kind.name().to_owned(),
                        ColumnRole::Attribute(j) =>
                            format!("attribute `{}`", config.attributes[j].name),
                    }
                )));
            }
            let index = find(format!("attribute `{}`", attr.name), column)?;
            columns.push(SelectedColumn {
                name: column.to_owned(),
                index,
                role: ColumnRole::Attribute(i),
            });
        }
        Ok(Settings {
            dataset: config.dataset.clone(),
            delimiter: base.delimiter,
            encoding: base.encoding,
            date_order: config.input.date_order,
            postcode_format: config.input.postcode_format,
            max_reject_fraction: config.rejects.max_fraction,
            attributes: base.attributes,
            columns,
        })
    }
}

/// The parts of the settings that do not depend on the extract.
#[derive(Debug)]
pub struct BaseSettings {
    pub delimiter: u8,
    pub encoding: &'static encoding_rs::Encoding,
    pub attributes: Vec<AttributeSpec>,
}

impl BaseSettings {
    /// Checks everything in the config that can be checked without the extract.
    pub fn check(config: &PartnerConfig) -> Result<Self, ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if config.dataset.trim().is_empty()
            || !config
                .dataset
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return invalid(format!(
                "dataset `{}` must be letters, digits, `_` and `-` only",
                config.dataset
            ));
        }
        if !config.identifiers.contains_key(&IdentifierKind::RecordId) {
            return invalid(
                "identifiers.record_id is required: the column holding your own record number"
                    .to_owned(),
            );
        }
        if config.identifiers.len() < 2 {
            return invalid("map at least one identifier besides record_id".to_owned());
        }
        let delimiter = match config.input.delimiter.as_bytes() {
            [b] if b.is_ascii() => *b,
            _ if config.input.delimiter == "\\t" => b'\t',
            _ => {
                return invalid(format!(
                    "input.delimiter `{}` must be one ASCII character",
                    config.input.delimiter
                ));
            }
        };
        let Some(encoding) = encoding_rs::Encoding::for_label(config.input.encoding.as_bytes())
        else {
            return invalid(format!(
                "input.encoding `{}` is not a known encoding label (try utf-8, windows-1252, iso-8859-1)",
                config.input.encoding
            ));
        };
        if !(0.0..=1.0).contains(&config.rejects.max_fraction) {
            return invalid(format!(
                "rejects.max_fraction {} must be between 0 and 1",
                config.rejects.max_fraction
            ));
        }
        let mut attributes = Vec::with_capacity(config.attributes.len());
        for attr in &config.attributes {
            check_attribute_name(&attr.name).map_err(|e| ConfigError::Invalid(e.to_string()))?;
            if attributes
                .iter()
                .any(|a: &AttributeSpec| a.name == attr.name)
            {
                return invalid(format!("attribute `{}` is declared twice", attr.name));
            }
            let precision = match (attr.kind, attr.precision) {
                (AttributeType::Date, p) => Some(p.unwrap_or_default()),
                (_, None) => None,
                (_, Some(_)) => {
                    return invalid(format!(
                        "attribute `{}`: precision applies to dates only",
                        attr.name
                    ));
                }
            };
            attributes.push(AttributeSpec {
                name: attr.name.clone(),
                kind: attr.kind,
                precision,
            });
        }
        Ok(BaseSettings {
            delimiter,
            encoding,
            attributes,
        })
    }
}

/// The commented example printed by `pprl-client config-template`.
pub const TEMPLATE: &str = include_str!("config_template.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn template_parses_and_resolves() {
        let config = PartnerConfig::parse(TEMPLATE).expect("the template is valid");
        let h = header(&[
            "CRN",
            "Forenames",
            "Surname",
            "DOB",
            "Gender",
            "Postcode",
            "PNC",
            "NHS",
            "Release Date",
            "Area",
        ]);
        let settings =
            Settings::resolve(&config, &h).expect("the template resolves against its own columns");
        assert_eq!(settings.attributes.len(), 2);
    }

    #[test]
    fn unknown_column_names_it_and_lists_columns() {
        let config = PartnerConfig::parse(
            "dataset = \"d\"\n[identifiers]\nrecord_id = \"ID\"\nfamily_name = \"Surnme\"\n",
        )
        .expect("valid toml");
        let err = Settings::resolve(&config, &header(&["ID", "Surname"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`Surnme`"), "{err}");
        assert!(err.contains("`ID`, `Surname`"), "{err}");
        assert!(err.contains("identifiers.family_name"), "{err}");
    }

    #[test]
    fn identifier_cannot_pass_as_attribute() {
        let config = PartnerConfig::parse(
            "dataset = \"d\"\n[identifiers]\nrecord_id = \"ID\"\ndate_of_birth = \"DOB\"\n[[attributes]]\nname = \"dob\"\ncolumn = \"DOB\"\ntype = \"date\"\n",
        )
        .expect("valid toml");
        let err = Settings::resolve(&config, &header(&["ID", "DOB"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("date_of_birth"), "{err}");
    }

    #[test]
    fn typos_in_keys_are_refused_with_position() {
        let err = PartnerConfig::parse(
            "dataset = \"d\"\n[identifiers]\nrecord_id = \"ID\"\nsurname = \"S\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("surname"), "{err}");
    }

    #[test]
    fn bad_settings_are_refused() {
        for (text, needle) in [
            (
                "dataset = \"a b\"\n[identifiers]\nrecord_id = \"ID\"\nsex = \"S\"\n",
                "dataset",
            ),
            ("dataset = \"d\"\n[identifiers]\nsex = \"S\"\n", "record_id"),
            (
                "dataset = \"d\"\n[input]\nencoding = \"klingon\"\n[identifiers]\nrecord_id = \"ID\"\nsex = \"S\"\n",
                "encoding",
            ),
            (
                "dataset = \"d\"\n[input]\ndelimiter = \";;\"\n[identifiers]\nrecord_id = \"ID\"\nsex = \"S\"\n",
                "delimiter",
            ),
            (
                "dataset = \"d\"\n[rejects]\nmax_fraction = 2.0\n[identifiers]\nrecord_id = \"ID\"\nsex = \"S\"\n",
                "max_fraction",
            ),
        ] {
            let config = PartnerConfig::parse(text).expect("valid toml");
            let err = BaseSettings::check(&config)
                .expect_err("refused")
                .to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
