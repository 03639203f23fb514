//! Re-keying an accepted token file before it is stored (spec §10.4).
//!
//! Every match-key token is replaced by keyed BLAKE3 of it under the
//! project's re-keying secret ([`RekeySecret::rekey`]), so that the stored
//! file's tokens cannot be recomputed from identities even with the project
//! key. Equal tokens stay equal and null tokens stay null, so linkage is
//! unchanged. `record_ref`, the Bloom encodings, the attributes and the
//! partner's manifest are copied as they are. The stored file is a
//! `pprl/v1` token file with one more metadata entry,
//! [`REKEY_METADATA_KEY`], naming the secret's id; runs refuse a stored file
//! that lacks it or names another secret.
//!
//! The file is read and written in batches of
//! [`CHECK_BATCH_ROWS`] rows, in row groups
//! of the same size, so one upload holds a few megabytes however large the
//! file.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, FixedSizeBinaryArray, RecordBatch};
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::ChunkReader;
use parquet::schema::types::ColumnPath;
use pprl_specs::matchkey::{MATCH_KEYS, TOKEN_LEN, column_name};
use pprl_specs::tokenfile::{BLOOM_COLUMN, MANIFEST_METADATA_KEY, RECORD_REF_COLUMN};
use pprl_tokenfile::{CHECK_BATCH_ROWS, ReadError, TokenFile, token_column_names};
use serde::{Deserialize, Serialize};

use crate::secrets::RekeySecret;

/// Metadata key of the re-keying note in a stored token file (spec §10.4).
pub const REKEY_METADATA_KEY: &str = "pprl.linker.rekey";
/// The re-keying scheme the note names.
pub const REKEY_SCHEME: &str = "pprl-linker/v1 keyed-blake3";

/// The note a stored file carries: which scheme and which secret re-keyed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekeyNote {
    pub scheme: String,
    pub secret_id: String,
}

/// What the re-keyed file is: its BLAKE3 checksum and its size.
#[derive(Debug)]
pub struct Rewritten {
    pub checksum: String,
    pub bytes: u64,
}

/// Why a file could not be re-keyed: it passed validation, so this is a
/// failure of storage or of the reader, never the partner's.
#[derive(Debug, thiserror::Error)]
#[error("cannot re-key the token file: {0}")]
pub struct RekeyError(String);

/// Writes `file` (a validated token file) re-keyed under `secret` to `out`.
pub fn rewrite<R: ChunkReader + 'static, W: Write + Send>(
    file: R,
    secret: &RekeySecret,
    out: W,
) -> Result<Rewritten, RekeyError> {
    let fail = |e: &dyn std::fmt::Display| RekeyError(e.to_string());
    let file = TokenFile::open(file).map_err(|e| fail(&e))?;
    let manifest_json = file
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == MANIFEST_METADATA_KEY))
        .and_then(|e| e.value.clone())
        .ok_or_else(|| RekeyError("the manifest is gone".to_owned()))?;
    let schema = Arc::new(Schema::new(file.schema().fields().clone()));
    let note = RekeyNote {
        scheme: REKEY_SCHEME.to_owned(),
        secret_id: secret.id().to_owned(),
    };
    let mut properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(CHECK_BATCH_ROWS))
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(MANIFEST_METADATA_KEY.to_owned(), manifest_json),
            KeyValue::new(
                REKEY_METADATA_KEY.to_owned(),
                serde_json::to_string(&note).expect("the note serialises"),
            ),
        ]));
    // Spec §7.1: random bytes gain nothing from dictionaries, statistics
    // or compression.
    for name in token_column_names() {
        let path = ColumnPath::from(name);
        properties = properties
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_statistics_enabled(path.clone(), EnabledStatistics::None)
            .set_column_compression(path, Compression::UNCOMPRESSED);
    }
    let mut counted = Counted {
        out,
        hasher: blake3::Hasher::new(),
        bytes: 0,
    };
    let mut writer = ArrowWriter::try_new(&mut counted, schema.clone(), Some(properties.build()))
        .map_err(|e| fail(&e))?;
    let key_columns: Vec<String> = MATCH_KEYS.iter().map(column_name).collect();
    for batch in file.batches_of(CHECK_BATCH_ROWS).map_err(|e| fail(&e))? {
        let batch = batch.map_err(|e| fail(&e))?;
        let keys: Vec<ArrayRef> = batch
            .keys
            .iter()
            .map(|column| rekey_column(column, secret).map(|c| Arc::new(c) as ArrayRef))
            .collect::<Result<_, _>>()?;
        let columns = schema
            .fields()
            .iter()
            .map(|field| {
                let name = field.name().as_str();
                if name == RECORD_REF_COLUMN {
                    Ok(Arc::new(batch.record_ref.clone()) as ArrayRef)
                } else if name == BLOOM_COLUMN {
                    Ok(Arc::new(batch.bloom.clone()) as ArrayRef)
                } else if let Some(i) = key_columns.iter().position(|k| k == name) {
                    Ok(keys[i].clone())
                } else {
                    batch
                        .attributes
                        .column_by_name(name)
                        .cloned()
                        .ok_or_else(|| RekeyError(format!("column `{name}` is gone")))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = RecordBatch::try_new(schema.clone(), columns).map_err(|e| fail(&e))?;
        writer.write(&out).map_err(|e| fail(&e))?;
    }
    writer.close().map_err(|e| fail(&e))?;
    counted.out.flush().map_err(|e| fail(&e))?;
    Ok(Rewritten {
        checksum: counted.hasher.finalize().to_hex().to_string(),
        bytes: counted.bytes,
    })
}

/// One match-key column re-keyed; nulls stay null.
fn rekey_column(
    column: &FixedSizeBinaryArray,
    secret: &RekeySecret,
) -> Result<FixedSizeBinaryArray, RekeyError> {
    FixedSizeBinaryArray::try_from_sparse_iter_with_size(
        column.iter().map(|t| t.map(|t| secret.rekey(t))),
        TOKEN_LEN as i32,
    )
    .map_err(|e| RekeyError(e.to_string()))
}

/// The note of a stored token file, if it has one (`Ok(None)` if not);
/// `Err` if the file cannot be read as a token file at all.
pub fn note<R: ChunkReader + 'static>(file: R) -> Result<Option<RekeyNote>, ReadError> {
    let file = TokenFile::open(file)?;
    Ok(file
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == REKEY_METADATA_KEY))
        .and_then(|e| e.value.as_deref())
        .and_then(|json| serde_json::from_str(json).ok()))
}

/// A writer that hashes and counts what passes through it.
struct Counted<W> {
    out: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
