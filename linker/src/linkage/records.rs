//! Loading a run's records: the current version of each dataset's token
//! file read into the engine's in-memory columns.

use std::fs::File;
use std::path::Path;

use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, RecordBatch};
use arrow_schema::Schema;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pprl_engine::linkage::{DatasetInput, Records};
use pprl_specs::bloom::BYTES as BLOOM_BYTES;
use pprl_specs::matchkey::{MATCH_KEYS, TOKEN_LEN, Token, column_name};
use pprl_specs::tokenfile::{BLOOM_COLUMN, RECORD_REF_COLUMN};

/// Why the records could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("too many records for one run (more than 4,294,967,295)")]
    TooMany,
}

/// Appends every record of a validated token file to `records` as dataset `input`.
pub fn load(records: &mut Records, path: &Path, mut input: DatasetInput) -> Result<(), LoadError> {
    let this = records;
    let fail = |message: String| LoadError::Read {
        path: path.display().to_string(),
        message,
    };
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
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
    let index = this.datasets.len() as u16;
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
            this.dataset.push(index);
            this.record_ref.push(token(refs.value(i)));
            this.row.push(row);
            row = row.checked_add(1).ok_or(LoadError::TooMany)?;
        }
        for (k, def) in MATCH_KEYS.iter().enumerate() {
            let column = binary(&column_name(def))?;
            let key = &mut this.keys[k];
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
            this.has_bloom.push(present);
            let mut e = [0u8; BLOOM_BYTES];
            if present {
                e.copy_from_slice(blooms.value(i));
            }
            this.bloom.push(e);
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
    if this.len() > u32::MAX as usize {
        return Err(LoadError::TooMany);
    }
    this.datasets.push(input);
    Ok(())
}

fn token(bytes: &[u8]) -> Token {
    let mut t = [0u8; TOKEN_LEN];
    t.copy_from_slice(bytes);
    t
}
