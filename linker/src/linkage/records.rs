//! Loading a run's records: the current version of each dataset's token
//! file read, through the one token-file reader, into the engine's
//! in-memory columns.

use std::fs::File;
use std::path::Path;

use arrow_array::Array;
use parquet::file::reader::ChunkReader;
use pprl_engine::linkage::{DatasetInput, Records};
use pprl_specs::bloom::BYTES as BLOOM_BYTES;
use pprl_specs::matchkey::{TOKEN_LEN, Token};
use pprl_tokenfile::{ReadError, TokenFile};

/// Why the records could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: ReadError },
    #[error("too many records for one run (more than 4,294,967,295)")]
    TooMany,
}

/// Appends every record of a validated token file to `records` as dataset `input`.
pub fn load(records: &mut Records, path: &Path, input: DatasetInput) -> Result<(), LoadError> {
    let file = File::open(path).map_err(|source| LoadError::Open {
        path: path.display().to_string(),
        source,
    })?;
    load_from(records, file, input).map_err(|e| match e {
        LoadError::Read { source, .. } => LoadError::Read {
            path: path.display().to_string(),
            source,
        },
        other => other,
    })
}

/// [`load`] over any reader of the file's bytes.
pub fn load_from<R: ChunkReader + 'static>(
    records: &mut Records,
    reader: R,
    mut input: DatasetInput,
) -> Result<(), LoadError> {
    let fail = |source: ReadError| LoadError::Read {
        path: input.name.clone(),
        source,
    };
    let file = TokenFile::open(reader).map_err(fail)?;
    file.check_structure().map_err(fail)?;
    input.attribute_schema = file.attribute_fields();
    let index = u16::try_from(records.datasets.len()).map_err(|_| LoadError::TooMany)?;
    let mut row = 0u32;
    for batch in file.batches().map_err(fail)? {
        let batch = batch.map_err(fail)?;
        let n = batch.len();
        for i in 0..n {
            records.dataset.push(index);
            records.record_ref.push(token(batch.record_ref.value(i)));
            records.row.push(row);
            row = row.checked_add(1).ok_or(LoadError::TooMany)?;
        }
        for (column, key) in batch.keys.iter().zip(&mut records.keys) {
            for i in 0..n {
                let present = column.is_valid(i);
                key.present.push(present);
                key.tokens.push(if present {
                    token(column.value(i))
                } else {
                    [0; TOKEN_LEN]
                });
            }
        }
        for i in 0..n {
            let present = batch.bloom.is_valid(i);
            records.has_bloom.push(present);
            let mut e = [0u8; BLOOM_BYTES];
            if present {
                e.copy_from_slice(batch.bloom.value(i));
            }
            records.bloom.push(e);
        }
        input.attributes.push(batch.attributes);
    }
    if records.len() > u32::MAX as usize {
        return Err(LoadError::TooMany);
    }
    records.datasets.push(input);
    Ok(())
}

fn token(bytes: &[u8]) -> Token {
    let mut t = [0u8; TOKEN_LEN];
    t.copy_from_slice(bytes);
    t
}
