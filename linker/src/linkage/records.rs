//! Loading a run's records: the current version of each dataset's token
//! file read, through the one token-file reader, into the engine's
//! in-memory columns, leaving out the records erased by deletion lists.

use std::collections::HashSet;
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
    input: DatasetInput,
) -> Result<(), LoadError> {
    load_from_except(records, reader, input, &HashSet::new()).map(|_| ())
}

/// [`load_from`], leaving out every record whose reference is in `erased`
/// (issue 17: the dataset's deletion lists); returns how many were left out.
/// The rows kept are numbered from 0 in file order, and their attributes
/// are the kept rows' only.
pub fn load_from_except<R: ChunkReader + 'static>(
    records: &mut Records,
    reader: R,
    mut input: DatasetInput,
    erased: &HashSet<Token>,
) -> Result<usize, LoadError> {
    let fail = |source: ReadError| LoadError::Read {
        path: input.name.clone(),
        source,
    };
    let file = TokenFile::open(reader).map_err(fail)?;
    file.check_structure().map_err(fail)?;
    input.attribute_schema = file.attribute_fields();
    let index = u16::try_from(records.datasets.len()).map_err(|_| LoadError::TooMany)?;
    let mut row = 0u32;
    let mut left_out = 0usize;
    for batch in file.batches().map_err(fail)? {
        let batch = batch.map_err(fail)?;
        let n = batch.len();
        let keep: Vec<bool> = (0..n)
            .map(|i| erased.is_empty() || !erased.contains(&token(batch.record_ref.value(i))))
            .collect();
        let kept = keep.iter().filter(|k| **k).count();
        left_out += n - kept;
        for i in (0..n).filter(|&i| keep[i]) {
            records.dataset.push(index);
            records.record_ref.push(token(batch.record_ref.value(i)));
            records.row.push(row);
            row = row.checked_add(1).ok_or(LoadError::TooMany)?;
        }
        for (column, key) in batch.keys.iter().zip(&mut records.keys) {
            for i in (0..n).filter(|&i| keep[i]) {
                let present = column.is_valid(i);
                key.present.push(present);
                key.tokens.push(if present {
                    token(column.value(i))
                } else {
                    [0; TOKEN_LEN]
                });
            }
        }
        for i in (0..n).filter(|&i| keep[i]) {
            let present = batch.bloom.is_valid(i);
            records.has_bloom.push(present);
            let mut e = [0u8; BLOOM_BYTES];
            if present {
                e.copy_from_slice(batch.bloom.value(i));
            }
            records.bloom.push(e);
        }
        if kept == n {
            input.attributes.push(batch.attributes);
        } else {
            // The kept rows' attributes, as slices of each run of kept rows.
            let mut i = 0;
            while i < n {
                if !keep[i] {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < n && keep[i] {
                    i += 1;
                }
                input
                    .attributes
                    .push(batch.attributes.slice(start, i - start));
            }
        }
    }
    if records.len() > u32::MAX as usize {
        return Err(LoadError::TooMany);
    }
    records.datasets.push(input);
    Ok(left_out)
}

fn token(bytes: &[u8]) -> Token {
    let mut t = [0u8; TOKEN_LEN];
    t.copy_from_slice(bytes);
    t
}
