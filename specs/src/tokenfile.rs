//! The token file: its Arrow schema and its manifest (spec §7).
//!
//! A token file is a Parquet file whose Arrow schema is [`schema`] and whose
//! key-value metadata holds the [`Manifest`] as JSON under
//! [`MANIFEST_METADATA_KEY`]. Writing and reading Parquet is the caller's
//! business; this module only says what must be there.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::Version;
use crate::bloom;
use crate::matchkey::{self, TOKEN_LEN};

/// Parquet key-value metadata key that holds the manifest.
pub const MANIFEST_METADATA_KEY: &str = "pprl.manifest";
/// Column of keyed record references.
pub const RECORD_REF_COLUMN: &str = "record_ref";
/// Column of hardened Bloom encodings.
pub const BLOOM_COLUMN: &str = "bloom";
/// Prefix of match-key columns.
pub const MATCH_KEY_COLUMN_PREFIX: &str = "mk_";

/// The type of an attribute column a partner passes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
}

impl AttributeType {
    /// The Arrow type of the column.
    pub fn data_type(self) -> DataType {
        match self {
            AttributeType::String => DataType::Utf8,
            AttributeType::Integer => DataType::Int64,
            AttributeType::Number => DataType::Float64,
            AttributeType::Boolean => DataType::Boolean,
            AttributeType::Date => DataType::Date32,
        }
    }
}

/// Precision of a date attribute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    /// The date as given.
    #[default]
    Day,
    /// Coarsened to the first day of its month.
    Month,
}

/// One declared attribute column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeSpec {
    /// Column name in the token file.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// For dates only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<DatePrecision>,
}

/// Why an attribute name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeNameError {
    #[error(
        "attribute name `{0}` must be 1 to 64 characters of a-z, 0-9 and _, starting with a letter"
    )]
    BadCharacters(String),
    #[error("attribute name `{0}` is reserved for token columns")]
    Reserved(String),
}

/// Checks an attribute column name (spec §7.2).
pub fn check_attribute_name(name: &str) -> Result<(), AttributeNameError> {
    let ok_chars = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_chars {
        return Err(AttributeNameError::BadCharacters(name.to_owned()));
    }
    if name == RECORD_REF_COLUMN
        || name == BLOOM_COLUMN
        || name.starts_with(MATCH_KEY_COLUMN_PREFIX)
    {
        return Err(AttributeNameError::Reserved(name.to_owned()));
    }
    Ok(())
}

/// The Arrow schema of a token file of the current version with the given
/// attribute columns (spec §7.1).
pub fn schema(attributes: &[AttributeSpec]) -> Schema {
    schema_of(Version::CURRENT, attributes)
}

/// The Arrow schema of a token file of `version` with the given attribute
/// columns (spec §7.1): its match-key columns are that version's.
pub fn schema_of(version: Version, attributes: &[AttributeSpec]) -> Schema {
    let keys = matchkey::match_keys(version);
    let mut fields = Vec::with_capacity(2 + keys.len() + attributes.len());
    fields.push(Field::new(
        RECORD_REF_COLUMN,
        DataType::FixedSizeBinary(TOKEN_LEN as i32),
        false,
    ));
    for def in keys {
        fields.push(Field::new(
            matchkey::column_name(def),
            DataType::FixedSizeBinary(TOKEN_LEN as i32),
            true,
        ));
    }
    fields.push(Field::new(
        BLOOM_COLUMN,
        DataType::FixedSizeBinary(bloom::BYTES as i32),
        true,
    ));
    for attr in attributes {
        fields.push(Field::new(&attr.name, attr.kind.data_type(), true));
    }
    Schema::new(fields)
}

/// Arc'd [`schema`], as Arrow writers want it.
pub fn schema_ref(attributes: &[AttributeSpec]) -> Arc<Schema> {
    Arc::new(schema(attributes))
}

/// Parameters of the Bloom encoding, recorded so a linker can refuse a mismatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BloomParams {
    pub bits: usize,
    pub hardening: String,
}

impl BloomParams {
    /// The parameters of `pprl/v1`.
    pub fn v1() -> Self {
        BloomParams {
            bits: bloom::BITS,
            hardening: bloom::HARDENING.to_owned(),
        }
    }
}

/// Counts of one identifier's states over a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierCounts {
    pub present: u64,
    pub missing: u64,
    pub invalid: u64,
    pub placeholder: u64,
}

/// What the client saw while making a token file (spec §7.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityCounts {
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_rejected: u64,
    /// Rows whose record id had been seen earlier in the file (rejected).
    pub duplicate_record_ids: u64,
    /// Written rows whose full-identity match key equals an earlier row's.
    pub duplicate_identities: u64,
    /// Per identifier kind, by configuration name.
    pub identifiers: BTreeMap<String, IdentifierCounts>,
    /// Written rows with a token for each match key, by key name.
    pub match_keys_formed: BTreeMap<String, u64>,
}

/// The manifest stored in a token file's metadata (spec §7.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub spec_version: String,
    pub key_fingerprint: String,
    /// The project's id for the key (spec §2.4, §7.3), where the key file
    /// names one; absent in files made before key ids, and from key files
    /// without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<u32>,
    pub dataset: String,
    pub row_count: u64,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub client_version: String,
    pub match_keys: Vec<String>,
    pub bloom: BloomParams,
    pub attributes: Vec<AttributeSpec>,
    pub quality: QualityCounts,
}

impl Manifest {
    /// Serialises to the JSON stored in the file.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a manifest always serialises")
    }

    /// Parses the JSON stored in a file.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        serde_json::from_str(text).map_err(|e| ManifestError::Json(e.to_string()))
    }

    /// The spec version the manifest names, if this software reads it.
    pub fn version(&self) -> Result<Version, ManifestError> {
        Version::parse(&self.spec_version).ok_or_else(|| ManifestError::SpecVersion {
            found: self.spec_version.clone(),
            expected: crate::READABLE_SPEC_VERSIONS,
        })
    }

    /// Checks the manifest against the spec version it names and against
    /// the file's schema.
    pub fn check(&self, file_schema: &Schema) -> Result<(), ManifestError> {
        let version = self.version()?;
        if self.bloom != BloomParams::v1() {
            return Err(ManifestError::BloomParams);
        }
        let expected_keys: Vec<&str> = matchkey::match_keys(version)
            .iter()
            .map(|d| d.name)
            .collect();
        if self.match_keys != expected_keys {
            return Err(ManifestError::MatchKeys);
        }
        for attr in &self.attributes {
            check_attribute_name(&attr.name)
                .map_err(|e| ManifestError::Attribute(e.to_string()))?;
        }
        let expected = schema_of(version, &self.attributes);
        for field in expected.fields() {
            match file_schema.field_with_name(field.name()) {
                Ok(found) if found.data_type() == field.data_type() => {}
                Ok(found) => {
                    return Err(ManifestError::ColumnType {
                        column: field.name().clone(),
                        found: found.data_type().to_string(),
                        expected: field.data_type().to_string(),
                    });
                }
                Err(_) => return Err(ManifestError::MissingColumn(field.name().clone())),
            }
        }
        if let Some(extra) = file_schema
            .fields()
            .iter()
            .find(|f| expected.field_with_name(f.name()).is_err())
        {
            return Err(ManifestError::UndeclaredColumn(extra.name().clone()));
        }
        Ok(())
    }
}

/// Why a manifest does not describe a valid `pprl/v1` token file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON: {0}")]
    Json(String),
    #[error("the file was made for spec version `{found}`, this software reads {expected}")]
    SpecVersion {
        found: String,
        expected: &'static str,
    },
    #[error("the file's Bloom-encoding parameters are not those of this spec version")]
    BloomParams,
    #[error("the file's match keys are not those of the spec version it names")]
    MatchKeys,
    #[error("{0}")]
    Attribute(String),
    #[error("column `{0}` is missing")]
    MissingColumn(String),
    #[error("column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        column: String,
        found: String,
        expected: String,
    },
    #[error("column `{0}` is not declared in the manifest")]
    UndeclaredColumn(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matchkey::MATCH_KEYS;

    fn manifest(attributes: Vec<AttributeSpec>) -> Manifest {
        Manifest {
            spec_version: crate::SPEC_VERSION.to_owned(),
            key_fingerprint: "0011223344556677".to_owned(),
            key_id: None,
            dataset: "releases".to_owned(),
            row_count: 0,
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            client_version: "test".to_owned(),
            match_keys: MATCH_KEYS.iter().map(|d| d.name.to_owned()).collect(),
            bloom: BloomParams::v1(),
            attributes,
            quality: QualityCounts::default(),
        }
    }

    #[test]
    fn schema_has_tokens_then_declared_attributes_only() {
        let attrs = vec![AttributeSpec {
            name: "release_date".into(),
            kind: AttributeType::Date,
            precision: Some(DatePrecision::Month),
        }];
        let s = schema(&attrs);
        assert_eq!(s.field(0).name(), RECORD_REF_COLUMN);
        assert_eq!(s.fields().len(), 1 + MATCH_KEYS.len() + 1 + 1);
        assert_eq!(s.field(s.fields().len() - 1).name(), "release_date");
        assert!(s.fields().iter().all(|f| f.name() == "release_date"
            || f.name() == RECORD_REF_COLUMN
            || f.name() == BLOOM_COLUMN
            || f.name().starts_with(MATCH_KEY_COLUMN_PREFIX)));
    }

    #[test]
    fn manifest_round_trips_and_checks() {
        let m = manifest(vec![AttributeSpec {
            name: "area".into(),
            kind: AttributeType::String,
            precision: None,
        }]);
        let back = Manifest::from_json(&m.to_json()).expect("round trip");
        assert_eq!(back, m);
        assert_eq!(m.check(&schema(&m.attributes)), Ok(()));
    }

    #[test]
    fn manifest_check_refusals() {
        let m = manifest(vec![]);
        let mut wrong_version = m.clone();
        wrong_version.spec_version = "pprl/v0".into();
        assert!(matches!(
            wrong_version.check(&schema(&[])),
            Err(ManifestError::SpecVersion { .. })
        ));
        let extra = schema(&[AttributeSpec {
            name: "name".into(),
            kind: AttributeType::String,
            precision: None,
        }]);
        assert_eq!(
            m.check(&extra),
            Err(ManifestError::UndeclaredColumn("name".into()))
        );
        let short = Schema::new(schema(&[]).fields()[1..].to_vec());
        assert_eq!(
            m.check(&short),
            Err(ManifestError::MissingColumn(RECORD_REF_COLUMN.into()))
        );
    }

    #[test]
    fn a_v1_manifest_checks_against_the_v1_schema_only() {
        let mut m = manifest(vec![]);
        m.spec_version = Version::V1.as_str().to_owned();
        m.match_keys = matchkey::match_keys(Version::V1)
            .iter()
            .map(|d| d.name.to_owned())
            .collect();
        let v1 = schema_of(Version::V1, &[]);
        assert_eq!(v1.fields().len(), 1 + 17 + 1);
        assert_eq!(m.check(&v1), Ok(()));
        assert_eq!(
            m.check(&schema(&[])),
            Err(ManifestError::UndeclaredColumn("mk_first_dob".into()))
        );
        // A v1 manifest listing the v2 keys is refused.
        m.match_keys = MATCH_KEYS.iter().map(|d| d.name.to_owned()).collect();
        assert_eq!(m.check(&schema(&[])), Err(ManifestError::MatchKeys));
        // A v2 manifest in a file without the v2 columns is refused.
        let v2 = manifest(vec![]);
        assert_eq!(
            v2.check(&v1),
            Err(ManifestError::MissingColumn("mk_first_dob".into()))
        );
    }

    #[test]
    fn attribute_names() {
        assert!(check_attribute_name("release_date").is_ok());
        assert!(check_attribute_name("Release").is_err());
        assert!(check_attribute_name("mk_x").is_err());
        assert!(check_attribute_name("bloom").is_err());
        assert!(check_attribute_name("").is_err());
    }
}
