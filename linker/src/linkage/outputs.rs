//! The outputs of a run: `links.parquet` (one row per record: its person,
//! dataset, the attributes the project selects for it, and how it was
//! linked), `report.json` (the linkage quality report) and `model.json` (the
//! fitted weights).
//!
//! `links.parquet` is written only when the project's `[outputs] links`
//! asks for it, and is read only by linkage analysts (issue 17).
//!
//! Architecture invariant: nothing written here holds a token or a record
//! reference; persons appear under their run-stable random identifiers;
//! `links.parquet` holds no attribute the project did not select for it,
//! and no exact date unless the project's date precision is `day`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Date32Type;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, new_null_array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use pprl_specs::matchkey::MATCH_KEYS;
use pprl_specs::tokenfile::IdentifierCounts;
use serde::Serialize;

use super::identity::Changes;
use super::score::Model;
use super::{Linkage, Records, Stats};
use crate::cohort::config::DatePrecision;
use crate::cohort::parquet::coarsen;

/// File names of a publication.
pub const LINKS_FILE: &str = "links.parquet";
pub const REPORT_FILE: &str = "report.json";
pub const MODEL_FILE: &str = "model.json";

/// Columns every links file starts with.
pub const FIXED_COLUMNS: [&str; 4] = ["person_id", "dataset", "match_probability", "match_rule"];

/// What `links.parquet` may carry besides its fixed columns.
#[derive(Debug, Clone, Copy)]
pub struct LinksSelection<'a> {
    /// Attribute names (as declared), in any dataset; nothing else passes.
    pub attributes: &'a [String],
    /// The precision of date attributes (`days_since_index`: the month,
    /// since a record of `links.parquet` has no index date).
    pub date_precision: DatePrecision,
}

/// The union of the datasets' selected attribute columns, in first-seen
/// order; a name declared with different types by two datasets becomes
/// `<dataset>_<name>` for the later ones.
fn attribute_columns(
    records: &Records,
    selection: &LinksSelection<'_>,
) -> (Vec<Field>, Vec<Vec<(usize, usize)>>) {
    let mut fields: Vec<Field> = Vec::new();
    // For each dataset: (its attribute index, output column index).
    let mut mapping = Vec::new();
    for d in &records.datasets {
        let mut map = Vec::new();
        for (i, f) in d.attribute_schema.iter().enumerate() {
            if !selection.attributes.iter().any(|a| a == f.name()) {
                continue;
            }
            let name = match fields.iter().position(|g| g.name() == f.name()) {
                Some(j) if fields[j].data_type() == f.data_type() => {
                    map.push((i, j));
                    continue;
                }
                Some(_) => format!("{}_{}", d.name, f.name()),
                None => f.name().clone(),
            };
            fields.push(Field::new(name, f.data_type().clone(), true));
            map.push((i, fields.len() - 1));
        }
        mapping.push(map);
    }
    (fields, mapping)
}

/// The Arrow schema of `links.parquet` for these records.
pub fn links_schema(records: &Records, selection: &LinksSelection<'_>) -> Schema {
    let mut fields = vec![
        Field::new("person_id", DataType::Utf8, false),
        Field::new("dataset", DataType::Utf8, false),
        Field::new("match_probability", DataType::Float64, true),
        Field::new("match_rule", DataType::Utf8, true),
    ];
    fields.extend(attribute_columns(records, selection).0);
    Schema::new(fields)
}

/// Writes `links.parquet` to `out`, with the selected attributes only.
pub fn write_links(
    out: impl std::io::Write + Send,
    records: &Records,
    linkage: &Linkage,
    selection: &LinksSelection<'_>,
) -> Result<(), parquet::errors::ParquetError> {
    let (attributes, mapping) = attribute_columns(records, selection);
    let schema = Arc::new(links_schema(records, selection));
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("pprl-linker {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
    let mut record = 0usize;
    for (d, input) in records.datasets.iter().enumerate() {
        for batch in &input.attributes {
            let rows = batch.num_rows();
            let range = record..record + rows;
            record += rows;
            let person: StringArray = range
                .clone()
                .map(|i| Some(linkage.person_ids[linkage.clustering.cluster[i] as usize].as_str()))
                .collect();
            let dataset = StringArray::from(vec![input.name.as_str(); rows]);
            let probability: Float64Array = range
                .clone()
                .map(|i| linkage.clustering.best[i].map(|l| l.probability))
                .collect();
            let rule: StringArray = range
                .map(|i| {
                    linkage.clustering.best[i]
                        .map(|l| l.rule.map_or("bloom", |k| MATCH_KEYS[k as usize].name))
                })
                .collect();
            let mut columns: Vec<ArrayRef> = vec![
                Arc::new(person),
                Arc::new(dataset),
                Arc::new(probability),
                Arc::new(rule),
            ];
            for (j, field) in attributes.iter().enumerate() {
                match mapping[d].iter().find(|(_, out)| *out == j) {
                    Some((i, _)) => {
                        columns.push(at_precision(batch.column(*i), selection.date_precision))
                    }
                    None => columns.push(new_null_array(field.data_type(), rows)),
                }
            }
            writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
        }
    }
    writer.close()?;
    Ok(())
}

/// A date column at the project's precision; other columns as they are.
fn at_precision(column: &ArrayRef, precision: DatePrecision) -> ArrayRef {
    match (column.data_type(), precision) {
        (DataType::Date32, DatePrecision::Month | DatePrecision::DaysSinceIndex) => Arc::new(
            column
                .as_primitive::<Date32Type>()
                .unary::<_, Date32Type>(|d| coarsen(d, DatePrecision::Month)),
        ),
        _ => column.clone(),
    }
}

/// The linkage quality report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub project: String,
    pub run_id: u64,
    pub created_at: String,
    pub spec_version: &'static str,
    pub inputs: Vec<Input>,
    pub datasets: Vec<DatasetSummary>,
    /// Persons with records in both datasets, per pair of datasets.
    pub overlaps: Vec<Overlap>,
    pub persons: usize,
    /// Persons by number of records (the last bin counts 10 or more).
    pub cluster_sizes: BTreeMap<String, usize>,
    /// Candidate pairs by match probability, in tenths.
    pub probability_histogram: Vec<usize>,
    /// Records by the rule of the link that joined them.
    pub records_by_rule: BTreeMap<String, usize>,
    pub stats: Stats,
    pub changes: Changes,
}

#[derive(Debug, Serialize)]
pub struct Input {
    pub dataset: String,
    pub version: u64,
    pub records: usize,
}

#[derive(Debug, Serialize)]
pub struct DatasetSummary {
    pub dataset: String,
    pub records: usize,
    pub persons: usize,
    pub one_record_per_person: bool,
    /// Records linked to at least one other record.
    pub linked_records: usize,
    /// `linked_records / records`.
    pub match_rate: f64,
    /// The identifier kinds the dataset's token file was made from, each
    /// with how many rows had it present, missing, invalid or a
    /// placeholder (the manifest's counts, never a value), so that a change
    /// in linkage quality can be traced to a change in what a partner
    /// supplies. Empty when the manifest is unreadable.
    pub fields: BTreeMap<String, IdentifierCounts>,
}

#[derive(Debug, Serialize)]
pub struct Overlap {
    pub a: String,
    pub b: String,
    pub persons: usize,
}

/// Each dataset's identifier counts, by dataset name (from the manifests).
pub type FieldCounts = BTreeMap<String, BTreeMap<String, IdentifierCounts>>;

/// Builds the report.
pub fn report(
    project: &str,
    run_id: u64,
    created_at: &str,
    records: &Records,
    linkage: &Linkage,
    fields: &FieldCounts,
) -> Report {
    let nd = records.datasets.len();
    let clusters = linkage.clustering.clusters;
    // Which datasets each person has records in.
    let mut present = vec![0u64; clusters];
    let mut per_dataset = vec![0usize; nd];
    let mut size = vec![0usize; clusters];
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..records.len() {
        let c = linkage.clustering.cluster[i] as usize;
        let d = records.dataset[i] as usize;
        present[c] |= 1u64 << (d % 64);
        per_dataset[d] += 1;
        size[c] += 1;
        let rule = match linkage.clustering.best[i] {
            None => "unlinked".to_owned(),
            Some(l) => l
                .rule
                .map_or("bloom", |k| MATCH_KEYS[k as usize].name)
                .to_owned(),
        };
        *by_rule.entry(rule).or_default() += 1;
    }
    let persons_in = |d: usize| present.iter().filter(|m| *m & (1 << (d % 64)) != 0).count();
    let mut linked = vec![0usize; nd];
    for i in 0..records.len() {
        if size[linkage.clustering.cluster[i] as usize] > 1 {
            linked[records.dataset[i] as usize] += 1;
        }
    }
    let datasets = records
        .datasets
        .iter()
        .enumerate()
        .map(|(d, input)| DatasetSummary {
            dataset: input.name.clone(),
            records: per_dataset[d],
            persons: persons_in(d),
            one_record_per_person: input.one_record_per_person,
            linked_records: linked[d],
            match_rate: if per_dataset[d] == 0 {
                0.0
            } else {
                linked[d] as f64 / per_dataset[d] as f64
            },
            fields: fields.get(&input.name).cloned().unwrap_or_default(),
        })
        .collect();
    let mut overlaps = Vec::new();
    for a in 0..nd {
        for b in a + 1..nd {
            let both = (1u64 << (a % 64)) | (1u64 << (b % 64));
            overlaps.push(Overlap {
                a: records.datasets[a].name.clone(),
                b: records.datasets[b].name.clone(),
                persons: present.iter().filter(|m| *m & both == both).count(),
            });
        }
    }
    let mut cluster_sizes: BTreeMap<String, usize> = BTreeMap::new();
    for s in size {
        let key = if s >= 10 {
            "10+".to_owned()
        } else {
            format!("{s:02}")
        };
        *cluster_sizes.entry(key).or_default() += 1;
    }
    let mut histogram = vec![0usize; 10];
    for p in &linkage.probabilities {
        histogram[((p * 10.0) as usize).min(9)] += 1;
    }
    Report {
        project: project.to_owned(),
        run_id,
        created_at: created_at.to_owned(),
        spec_version: pprl_specs::SPEC_VERSION,
        inputs: records
            .datasets
            .iter()
            .enumerate()
            .map(|(d, i)| Input {
                dataset: i.name.clone(),
                version: i.version,
                records: per_dataset[d],
            })
            .collect(),
        datasets,
        overlaps,
        persons: clusters,
        cluster_sizes,
        probability_histogram: histogram,
        records_by_rule: by_rule,
        stats: linkage.stats.clone(),
        changes: linkage.changes.clone(),
    }
}

/// `model.json`: the fitted weights, with the level names.
#[derive(Debug, Serialize)]
pub struct ModelFile<'a> {
    pub fields: ModelFields,
    pub model: &'a Model,
}

#[derive(Debug, Serialize)]
pub struct ModelFields {
    pub name_levels: Vec<String>,
    pub number_levels: [&'static str; 3],
    /// The rows of `m_dice` and `u_dice`: which pairs each learns from.
    pub dice_groups: [&'static str; 3],
    pub dice_levels: Vec<String>,
}

/// The level names that go with the model's vectors.
pub fn model_fields() -> ModelFields {
    use super::score::{DICE_BINS, DICE_GROUPS, NAME_KEYS};
    let mut name_levels: Vec<String> = NAME_KEYS.iter().map(|s| format!("agree on {s}")).collect();
    name_levels.push("no name key agrees".to_owned());
    let mut dice_levels: Vec<String> = DICE_BINS.iter().map(|e| format!("dice >= {e}")).collect();
    dice_levels.push(format!("dice < {}", DICE_BINS[DICE_BINS.len() - 1]));
    dice_levels.push("no encoding".to_owned());
    ModelFields {
        name_levels,
        number_levels: ["a number agrees", "numbers disagree", "no number on both"],
        dice_groups: DICE_GROUPS,
        dice_levels,
    }
}
