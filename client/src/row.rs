//! Turning one extract row into a token row, or a reason to reject it.

use chrono::{Datelike, NaiveDate};
use pprl_keyed::bloom::BloomEncoder;
use pprl_keyed::key::ProjectKey;
use pprl_keyed::matchkey::MatchKeyHasher;
use pprl_specs::bloom::Encoding;
use pprl_specs::matchkey::{MATCH_KEY_COUNT, Token};
use pprl_specs::normalise::{self, FieldState};
use pprl_specs::record::{IdentifierKind, NormaliseOptions, NormalisedRecord, RawRecord};
use pprl_specs::tokenfile::{AttributeSpec, AttributeType, DatePrecision};

use crate::config::{ColumnRole, Settings};
use crate::input::RowBatch;

/// One attribute value, parsed to its declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Null,
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i32),
}

/// Per identifier kind (excluding the record id), its state in this row.
pub type States = [(IdentifierKind, FieldState); 10];

/// A row ready for the token file.
#[derive(Debug)]
pub struct TokenRow {
    pub line: u64,
    pub record_ref: Token,
    pub tokens: [Option<Token>; MATCH_KEY_COUNT],
    pub bloom: Option<Encoding>,
    pub attributes: Vec<AttrValue>,
}

/// A row that cannot be used.
#[derive(Debug, Clone)]
pub struct Reject {
    pub line: u64,
    /// The extract's column at fault, if one is.
    pub column: Option<String>,
    /// What the column is read as (an identifier kind or an attribute name).
    pub field: Option<String>,
    pub reason: String,
}

/// The outcome of one row, with the identifier states when the row got that far.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<TokenRow, Reject>,
    pub states: Option<States>,
}

/// Everything needed to turn rows into token rows; shared by worker threads.
#[derive(Debug)]
pub struct RowTokeniser {
    hasher: MatchKeyHasher,
    bloom: BloomEncoder,
    options: NormaliseOptions,
    dataset: String,
    attributes: Vec<AttributeSpec>,
    /// Position of each identifier kind's column in the batch, by kind.
    identifier_columns: Vec<(IdentifierKind, usize, String)>,
    /// Position of each attribute's column in the batch, in attribute order.
    attribute_columns: Vec<(usize, String)>,
}

impl RowTokeniser {
    /// Prepares keys and column positions. `as_of` bounds dates of birth.
    pub fn new(key: &ProjectKey, settings: &Settings, as_of: NaiveDate) -> Self {
        let mut identifier_columns = Vec::new();
        let mut attribute_columns = vec![(0, String::new()); settings.attributes.len()];
        for (position, column) in settings.columns.iter().enumerate() {
            match column.role {
                ColumnRole::Identifier(kind) => {
                    identifier_columns.push((kind, position, column.name.clone()))
                }
                ColumnRole::Attribute(i) => attribute_columns[i] = (position, column.name.clone()),
            }
        }
        RowTokeniser {
            hasher: MatchKeyHasher::new(key),
            bloom: BloomEncoder::new(key),
            options: NormaliseOptions {
                date_order: settings.date_order,
                as_of,
                postcode_format: settings.postcode_format,
            },
            dataset: settings.dataset.clone(),
            attributes: settings.attributes.clone(),
            identifier_columns,
            attribute_columns,
        }
    }

    /// Processes row `row` of a batch.
    pub fn process(&self, batch: &RowBatch, row: usize) -> Outcome {
        let line = batch.line(row);
        if let Some(error) = batch.error(row) {
            let reject = Reject {
                line,
                column: error.column.clone(),
                field: None,
                reason: error.reason.clone(),
            };
            return Outcome {
                result: Err(reject),
                states: None,
            };
        }
        let mut raw = RawRecord::default();
        let mut record_id = None;
        for (kind, position, column) in &self.identifier_columns {
            let text = batch.field(row, *position);
            let value = Some(text);
            match kind {
                IdentifierKind::RecordId => record_id = Some((text, column)),
                IdentifierKind::GivenNames => raw.given_names = value,
                IdentifierKind::FamilyName => raw.family_name = value,
                IdentifierKind::DateOfBirth => raw.date_of_birth = value,
                IdentifierKind::Sex => raw.sex = value,
                IdentifierKind::Postcode => raw.postcode = value,
                IdentifierKind::NhsNumber => raw.nhs_number = value,
                IdentifierKind::NiNumber => raw.ni_number = value,
                IdentifierKind::PncId => raw.pnc_id = value,
                IdentifierKind::CroNumber => raw.cro_number = value,
                IdentifierKind::PrisonNumber => raw.prison_number = value,
            }
        }
        let record = NormalisedRecord::from_raw(&raw, &self.options);
        let states = record.states();
        let reject = |column: Option<&String>, field: &str, reason: String| Outcome {
            result: Err(Reject {
                line,
                column: column.cloned(),
                field: Some(field.to_owned()),
                reason,
            }),
            states: Some(states),
        };
        let (record_id, id_column) = record_id.expect("settings always map record_id");
        if record_id.trim().is_empty() {
            return reject(
                Some(id_column),
                "record_id",
                "record id is empty".to_owned(),
            );
        }
        let mut attributes = Vec::with_capacity(self.attributes.len());
        for (spec, (position, column)) in self.attributes.iter().zip(&self.attribute_columns) {
            match parse_attribute(batch.field(row, *position), spec, self.options.date_order) {
                Ok(value) => attributes.push(value),
                Err(reason) => return reject(Some(column), &spec.name, reason.to_string()),
            }
        }
        let tokens = self.hasher.tokens(&record);
        let bloom = self.bloom.encode(&record);
        if bloom.is_none() && tokens.iter().all(Option::is_none) {
            return reject(
                None,
                "identifiers",
                "no usable identifiers: every match key needs a field that is missing, a placeholder or invalid, and there is no name to encode".to_owned(),
            );
        }
        let record_ref = self.hasher.record_ref(&self.dataset, record_id);
        Outcome {
            result: Ok(TokenRow {
                line,
                record_ref,
                tokens,
                bloom,
                attributes,
            }),
            states: Some(states),
        }
    }
}

/// Why an attribute value was refused. Names the rule, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("not a whole number")]
    NotInteger,
    #[error("not a number")]
    NotNumber,
    #[error("not a boolean (true/false, yes/no, 1/0)")]
    NotBoolean,
    /// The date normaliser's reason.
    #[error("not a date: {0}")]
    NotDate(&'static str),
}

/// Parses an attribute value; blank is null.
pub fn parse_attribute(
    text: &str,
    spec: &AttributeSpec,
    order: normalise::DateOrder,
) -> Result<AttrValue, AttributeError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(AttrValue::Null);
    }
    match spec.kind {
        AttributeType::String => Ok(AttrValue::Str(text.to_owned())),
        AttributeType::Integer => text
            .parse()
            .map(AttrValue::Int)
            .map_err(|_| AttributeError::NotInteger),
        AttributeType::Number => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(AttrValue::Num)
            .ok_or(AttributeError::NotNumber),
        AttributeType::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Ok(AttrValue::Bool(true)),
            "false" | "f" | "no" | "n" | "0" => Ok(AttrValue::Bool(false)),
            _ => Err(AttributeError::NotBoolean),
        },
        AttributeType::Date => {
            let date = normalise::date::parse_date(text, order)
                .map_err(|e| AttributeError::NotDate(e.0))?;
            let date = match spec.precision.unwrap_or_default() {
                DatePrecision::Day => date,
                DatePrecision::Month => date.with_day(1).expect("day 1 exists in every month"),
            };
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
            Ok(AttrValue::Date((date - epoch).num_days() as i32))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: AttributeType, precision: Option<DatePrecision>) -> AttributeSpec {
        AttributeSpec {
            name: "a".into(),
            kind,
            precision,
        }
    }

    #[test]
    fn attributes_parse_to_their_types() {
        let order = normalise::DateOrder::DayFirst;
        assert_eq!(
            parse_attribute(" 42 ", &spec(AttributeType::Integer, None), order),
            Ok(AttrValue::Int(42))
        );
        assert_eq!(
            parse_attribute("", &spec(AttributeType::Integer, None), order),
            Ok(AttrValue::Null)
        );
        assert!(parse_attribute("4x", &spec(AttributeType::Integer, None), order).is_err());
        assert!(parse_attribute("NaN", &spec(AttributeType::Number, None), order).is_err());
        assert_eq!(
            parse_attribute("Yes", &spec(AttributeType::Boolean, None), order),
            Ok(AttrValue::Bool(true))
        );
        let month = parse_attribute(
            "17/03/2024",
            &spec(AttributeType::Date, Some(DatePrecision::Month)),
            order,
        );
        let first = parse_attribute("2024-03-01", &spec(AttributeType::Date, None), order);
        assert_eq!(month, first);
        assert!(parse_attribute("31/02/2024", &spec(AttributeType::Date, None), order).is_err());
    }
}
