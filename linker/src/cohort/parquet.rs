//! `cohort.parquet`: one row per person of the cohort. The schema is stable
//! and documented in ARCHITECTURE.md and the README:
//!
//! | column | type | |
//! |---|---|---|
//! | `person_id` | string | the run-stable pseudonymous identifier |
//! | `group` | string | `participant` or `comparison` |
//! | `index_date` | date32 | at the project's date precision (`month`: the 1st) |
//! | each `cohort.attributes` entry | as declared | dates coarsened, or days since index (int32) |
//! | each indicator `name` | bool (`any_event`, `status_on_day`), int32 (`count`, `time_to_first` days) | null while the window is open |
//! | `<name>_event` | bool | `time_to_first` only: a first event was seen |
//! | `<name>_window_closed` | bool | false: not yet followed up, not counted |
//! | each covariate not among the attributes | as declared | issue 18 |
//! | each `cohort.comparison.prior` name | int32 | linked records in its window before the index date |
//! | `propensity_score`, `propensity_logit` | double | under matching: the fitted score and its logit |
//! | `match_set` | int32 | under matching: the matched set (participants numbered by person id), null when unmatched |
//! | `match_count` | int32 | under matching: comparison people matched to a participant, or participants a comparison person was matched to |
//!
//! Architecture invariant: no token, record reference or exact date (unless
//! the project asks for day precision) is written.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use chrono::Datelike;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::build::{Cohort, Column, Member, date, day_number};
use super::config::{DatePrecision, OutcomeKind};

/// The file name.
pub const COHORT_FILE: &str = "cohort.parquet";

/// Version of the cohort file's layout, in the Parquet key-value metadata.
pub const SCHEMA_VERSION: &str = "pprl-cohort/1";

/// Rows per record batch (and row group).
const BATCH: usize = 65_536;

/// The Arrow schema of `cohort.parquet`.
pub fn schema(cohort: &Cohort, precision: DatePrecision) -> Schema {
    let mut fields = vec![
        Field::new("person_id", DataType::Utf8, false),
        Field::new("group", DataType::Utf8, false),
        Field::new("index_date", DataType::Date32, false),
    ];
    for a in &cohort.attributes {
        let t = match (a.field.data_type(), precision) {
            (DataType::Date32, DatePrecision::DaysSinceIndex) => DataType::Int32,
            (t, _) => t.clone(),
        };
        fields.push(Field::new(a.field.name(), t, true));
    }
    for i in &cohort.indicators {
        let name = &i.config.name;
        match i.config.kind {
            OutcomeKind::AnyEvent | OutcomeKind::StatusOnDay => {
                fields.push(Field::new(name, DataType::Boolean, true));
            }
            OutcomeKind::Count => fields.push(Field::new(name, DataType::Int32, true)),
            OutcomeKind::TimeToFirst => {
                fields.push(Field::new(name, DataType::Int32, true));
                fields.push(Field::new(
                    format!("{name}_event"),
                    DataType::Boolean,
                    false,
                ));
            }
        }
        fields.push(Field::new(
            format!("{name}_window_closed"),
            DataType::Boolean,
            false,
        ));
    }
    for p in &cohort.priors {
        fields.push(Field::new(&p.name, DataType::Int32, false));
    }
    if cohort.comparison.is_some() {
        fields.push(Field::new("propensity_score", DataType::Float64, false));
        fields.push(Field::new("propensity_logit", DataType::Float64, false));
        fields.push(Field::new("match_set", DataType::Int32, true));
        fields.push(Field::new("match_count", DataType::Int32, false));
    }
    Schema::new(fields).with_metadata(
        [("pprl.schema".to_owned(), SCHEMA_VERSION.to_owned())]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>(),
    )
}

/// Writer properties: zstd, the writer's name.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("pprl-linker {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A date at the precision of record-level outputs.
pub fn coarsen(days: i32, precision: DatePrecision) -> i32 {
    match precision {
        DatePrecision::Day => days,
        DatePrecision::Month | DatePrecision::DaysSinceIndex => date(days)
            .and_then(|d| d.with_day(1))
            .map_or(days, |d| day_number(&d)),
    }
}

/// Writes `cohort.parquet` to `out` (the caller publishes it with the run).
pub fn write(
    out: impl std::io::Write + Send,
    cohort: &Cohort,
    precision: DatePrecision,
) -> Result<(), parquet::errors::ParquetError> {
    let schema = Arc::new(schema(cohort, precision));
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(writer_properties()))?;
    let n = cohort.members.len();
    let mut start = 0;
    while start < n || (n == 0 && start == 0) {
        let end = (start + BATCH).min(n);
        let members = &cohort.members[start..end];
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                members.iter().map(|m| m.person_id.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(members.iter().map(|m| {
                if m.participant {
                    "participant"
                } else {
                    "comparison"
                }
            }))),
            Arc::new(Date32Array::from_iter_values(
                members.iter().map(|m| coarsen(m.index_date, precision)),
            )),
        ];
        for a in &cohort.attributes {
            columns.push(attribute(a, members, precision));
        }
        for i in &cohort.indicators {
            let values = &i.values[start..end];
            match i.config.kind {
                OutcomeKind::AnyEvent | OutcomeKind::StatusOnDay => {
                    columns.push(Arc::new(BooleanArray::from_iter(
                        values.iter().map(|v| v.closed.then_some(v.hit)),
                    )));
                }
                OutcomeKind::Count => columns.push(Arc::new(Int32Array::from_iter(
                    values.iter().map(|v| v.closed.then_some(v.count as i32)),
                ))),
                OutcomeKind::TimeToFirst => {
                    columns.push(Arc::new(Int32Array::from_iter(
                        values.iter().map(|v| v.days),
                    )));
                    columns.push(Arc::new(BooleanArray::from_iter(
                        values.iter().map(|v| Some(v.hit)),
                    )));
                }
            }
            columns.push(Arc::new(BooleanArray::from_iter(
                values.iter().map(|v| Some(v.closed)),
            )));
        }
        for p in &cohort.priors {
            columns.push(Arc::new(Int32Array::from_iter_values(
                p.counts[start..end].iter().map(|&c| c as i32),
            )));
        }
        if let Some(c) = &cohort.comparison {
            columns.push(Arc::new(Float64Array::from(c.score[start..end].to_vec())));
            columns.push(Arc::new(Float64Array::from(c.logit[start..end].to_vec())));
            columns.push(Arc::new(Int32Array::from_iter(
                c.match_set[start..end].iter().map(|s| s.map(|s| s as i32)),
            )));
            columns.push(Arc::new(Int32Array::from_iter_values(
                c.match_count[start..end].iter().map(|&k| k as i32),
            )));
        }
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
        if n == 0 {
            break;
        }
        start = end;
    }
    writer.close()?;
    Ok(())
}

/// One declared attribute of the members' index records.
fn attribute(column: &Column, members: &[Member], precision: DatePrecision) -> ArrayRef {
    macro_rules! build {
        ($builder:expr, |$a:ident, $i:ident| $value:expr) => {{
            let mut b = $builder;
            for m in members {
                let ($a, $i) = column.locate(m.index_row);
                if $a.is_valid($i) {
                    b.append_value($value);
                } else {
                    b.append_null();
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    match column.field.data_type() {
        DataType::Utf8 => build!(StringBuilder::new(), |a, i| a.as_string::<i32>().value(i)),
        DataType::Int64 => build!(Int64Builder::new(), |a, i| a
            .as_primitive::<Int64Type>()
            .value(i)),
        DataType::Float64 => build!(Float64Builder::new(), |a, i| a
            .as_primitive::<Float64Type>()
            .value(i)),
        DataType::Boolean => build!(BooleanBuilder::new(), |a, i| a.as_boolean().value(i)),
        DataType::Date32 => match precision {
            DatePrecision::DaysSinceIndex => {
                let mut b = Int32Builder::new();
                for m in members {
                    match column.date(m.index_row) {
                        Some(d) => b.append_value(d - m.index_date),
                        None => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            _ => build!(Date32Builder::new(), |a, i| coarsen(
                a.as_primitive::<Date32Type>().value(i),
                precision
            )),
        },
        other => arrow_array::new_null_array(other, members.len()),
    }
}
