//! The records of one linkage run, loaded from the current version of each
//! dataset's token file into columns.

use std::fs::File;
use std::path::Path;

use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, RecordBatch};
use arrow_schema::{Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;
use pprl_specs::bloom::{BYTES as BLOOM_BYTES, Encoding};
use pprl_specs::matchkey::{MATCH_KEY_COUNT, MATCH_KEYS, TOKEN_LEN, Token, column_name};
use pprl_specs::tokenfile::{BLOOM_COLUMN, RECORD_REF_COLUMN};

/// One dataset's place in a run.
#[derive(Debug, Clone)]
pub struct DatasetInput {
    pub name: String,
    pub version: u64,
    pub one_record_per_person: bool,
    /// Attribute columns, as declared by the partner (name and type).
    pub attribute_schema: Vec<Field>,
    /// Attribute values, one batch per row group read.
    pub attributes: Vec<RecordBatch>,
}

/// A match-key column: tokens and which rows have one.
#[derive(Debug, Default)]
pub struct KeyColumn {
    pub tokens: Vec<Token>,
    pub present: Vec<bool>,
}

/// Every record of a run, in columns. Record `i` belongs to dataset `dataset[i]`.
#[derive(Debug, Default)]
pub struct Records {
    pub datasets: Vec<DatasetInput>,
    pub dataset: Vec<u16>,
    pub record_ref: Vec<Token>,
    /// One column per match key, in spec order.
    pub keys: Vec<KeyColumn>,
    pub bloom: Vec<Encoding>,
    pub has_bloom: Vec<bool>,
    /// Row of the record within its dataset.
    pub row: Vec<u32>,
}

/// Why the records could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("too many records for one run (more than 4,294,967,295)")]
    TooMany,
}

impl Records {
    /// An empty set with room for the match-key columns.
    pub fn new() -> Self {
        Records {
            keys: (0..MATCH_KEY_COUNT).map(|_| KeyColumn::default()).collect(),
            ..Default::default()
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.dataset.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.dataset.is_empty()
    }

    /// Appends every record of a validated token file as dataset `input`.
    pub fn load(&mut self, path: &Path, input: DatasetInput) -> Result<(), LoadError> {
        let file = File::open(path).map_err(|e| LoadError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        self.load_from(file, &path.display().to_string(), input)
    }

    /// Appends every record of a validated token file, read from `file`
    /// (named `name` in errors), as dataset `input`.
    pub fn load_from<R: ChunkReader + 'static>(
        &mut self,
        file: R,
        name: &str,
        mut input: DatasetInput,
    ) -> Result<(), LoadError> {
        let fail = |message: String| LoadError::Read {
            path: name.to_owned(),
            message,
        };
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| fail(e.to_string()))?;
        let schema = builder.schema().clone();
        let token_columns: Vec<String> = std::iter::once(RECORD_REF_COLUMN.to_owned())
            .chain(MATCH_KEYS.iter().map(column_name))
            .chain(std::iter::once(BLOOM_COLUMN.to_owned()))
            .collect();
        input.attribute_schema = schema
            .fields()
            .iter()
            .filter(|f| !token_columns.contains(f.name()))
            .map(|f| f.as_ref().clone())
            .collect();
        let attribute_schema = std::sync::Arc::new(Schema::new(input.attribute_schema.clone()));
        let reader = builder
            .with_batch_size(65_536)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let index = self.datasets.len() as u16;
        let mut row = 0u32;
        for batch in reader {
            let batch = batch.map_err(|e| fail(e.to_string()))?;
            let binary = |name: &str| -> Result<&FixedSizeBinaryArray, LoadError> {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_any().downcast_ref::<FixedSizeBinaryArray>())
                    .ok_or_else(|| fail(format!("column {name} is missing or not binary")))
            };
            let refs = binary(RECORD_REF_COLUMN)?;
            for i in 0..batch.num_rows() {
                self.dataset.push(index);
                self.record_ref.push(token(refs.value(i)));
                self.row.push(row);
                row = row.checked_add(1).ok_or(LoadError::TooMany)?;
            }
            for (k, def) in MATCH_KEYS.iter().enumerate() {
                let column = binary(&column_name(def))?;
                let key = &mut self.keys[k];
                for i in 0..batch.num_rows() {
                    let present = column.is_valid(i);
                    key.present.push(present);
                    key.tokens.push(if present {
                        token(column.value(i))
                    } else {
                        [0; TOKEN_LEN]
                    });
                }
            }
            let blooms = binary(BLOOM_COLUMN)?;
            for i in 0..batch.num_rows() {
                let present = blooms.is_valid(i);
                self.has_bloom.push(present);
                let mut e = [0u8; BLOOM_BYTES];
                if present {
                    e.copy_from_slice(blooms.value(i));
                }
                self.bloom.push(e);
            }
            let columns: Vec<ArrayRef> = attribute_schema
                .fields()
                .iter()
                .map(|f| {
                    batch
                        .column_by_name(f.name())
                        .cloned()
                        .ok_or_else(|| fail(format!("column {} vanished", f.name())))
                })
                .collect::<Result<_, _>>()?;
            let attrs = RecordBatch::try_new_with_options(
                attribute_schema.clone(),
                columns,
                &arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
            )
            .map_err(|e| fail(e.to_string()))?;
            input.attributes.push(attrs);
        }
        if self.len() > u32::MAX as usize {
            return Err(LoadError::TooMany);
        }
        self.datasets.push(input);
        Ok(())
    }
}

fn token(bytes: &[u8]) -> Token {
    let mut t = [0u8; TOKEN_LEN];
    t.copy_from_slice(bytes);
    t
}
