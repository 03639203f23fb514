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
//! The file is rewritten row group by row group and column by column, in
//! the partner's row groups: only the match-key columns are decoded (a page
//! and [`CHECK_BATCH_ROWS`] values at a time); the other column chunks are
//! copied as their encoded bytes. So one upload holds a page or two however
//! large the file.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::column::reader::ColumnReaderImpl;
use parquet::column::writer::{ColumnCloseResult, ColumnWriterImpl};
use parquet::data_type::{FixedLenByteArray, FixedLenByteArrayType};
use parquet::file::metadata::{ColumnChunkMetaData, KeyValue};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::ChunkReader;
use parquet::file::serialized_reader::SerializedPageReader;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use pprl_specs::matchkey::{MATCH_KEYS, TOKEN_LEN, column_name};
use pprl_specs::tokenfile::MANIFEST_METADATA_KEY;
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
///
/// Row group by row group, column by column, in the file's own order: a
/// match-key column is decoded a page at a time, [`CHECK_BATCH_ROWS`] values
/// at a time, re-keyed and written as it is read; every other column chunk
/// (`record_ref`, `bloom`, the attributes) is copied as its encoded bytes,
/// never decoded. So one upload holds a batch and a page or two, however
/// large the file (an upload of 100,000 rows held all its columns' chunks).
pub fn rewrite<R: ChunkReader + 'static, W: Write + Send>(
    file: R,
    secret: &RekeySecret,
    out: W,
) -> Result<Rewritten, RekeyError> {
    let fail = |e: &dyn std::fmt::Display| RekeyError(e.to_string());
    let file = TokenFile::open(file).map_err(|e| fail(&e))?;
    let metadata = Arc::clone(file.metadata());
    let input = file.into_reader();
    let kept = metadata.file_metadata().key_value_metadata();
    if !kept.is_some_and(|kv| kv.iter().any(|e| e.key == MANIFEST_METADATA_KEY)) {
        return Err(RekeyError("the manifest is gone".to_owned()));
    }
    let note = RekeyNote {
        scheme: REKEY_SCHEME.to_owned(),
        secret_id: secret.id().to_owned(),
    };
    // The partner's metadata (the manifest, the Arrow schema) is kept; a
    // re-keying note is only ever the linker's own.
    let mut key_values: Vec<KeyValue> = kept
        .into_iter()
        .flatten()
        .filter(|e| e.key != REKEY_METADATA_KEY)
        .cloned()
        .collect();
    key_values.push(KeyValue::new(
        REKEY_METADATA_KEY.to_owned(),
        serde_json::to_string(&note).expect("the note serialises"),
    ));
    let mut properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_key_value_metadata(Some(key_values));
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
    let schema = metadata.file_metadata().schema_descr();
    let mut writer = SerializedFileWriter::new(
        &mut counted,
        schema.root_schema_ptr(),
        Arc::new(properties.build()),
    )
    .map_err(|e| fail(&e))?;
    let key_columns: Vec<String> = MATCH_KEYS.iter().map(column_name).collect();
    let rekeyed: Vec<bool> = schema
        .columns()
        .iter()
        .map(|c| key_columns.contains(&c.path().string()))
        .collect();
    for group in metadata.row_groups() {
        let rows = usize::try_from(group.num_rows()).map_err(|e| fail(&e))?;
        let mut row_group = writer.next_row_group().map_err(|e| fail(&e))?;
        for (chunk, &rekey) in group.columns().iter().zip(&rekeyed) {
            if rekey {
                let mut column = row_group
                    .next_column()
                    .map_err(|e| fail(&e))?
                    .ok_or_else(|| RekeyError("the schema has fewer columns".to_owned()))?;
                rekey_chunk(&input, chunk, rows, secret, column.typed())?;
                column.close().map_err(|e| fail(&e))?;
            } else {
                row_group
                    .append_column(&*input, copied(chunk))
                    .map_err(|e| fail(&e))?;
            }
        }
        row_group.close().map_err(|e| fail(&e))?;
    }
    writer.close().map_err(|e| fail(&e))?;
    counted.out.flush().map_err(|e| fail(&e))?;
    Ok(Rewritten {
        checksum: counted.hasher.finalize().to_hex().to_string(),
        bytes: counted.bytes,
    })
}

/// A column chunk of the input to copy as it is: its metadata, without the
/// optional indexes (token files are read whole, never filtered).
fn copied(chunk: &ColumnChunkMetaData) -> ColumnCloseResult {
    ColumnCloseResult {
        bytes_written: chunk.compressed_size() as u64,
        rows_written: chunk.num_values() as u64,
        metadata: chunk.clone(),
        bloom_filter: None,
        column_index: None,
        offset_index: None,
    }
}

/// One match-key column chunk of `rows` rows, read a page at a time and
/// written re-keyed; nulls stay null.
fn rekey_chunk<R: ChunkReader + 'static>(
    input: &Arc<R>,
    chunk: &ColumnChunkMetaData,
    rows: usize,
    secret: &RekeySecret,
    out: &mut ColumnWriterImpl<'_, FixedLenByteArrayType>,
) -> Result<(), RekeyError> {
    let fail = |e: &dyn std::fmt::Display| RekeyError(e.to_string());
    let pages =
        SerializedPageReader::new(Arc::clone(input), chunk, rows, None).map_err(|e| fail(&e))?;
    let mut reader =
        ColumnReaderImpl::<FixedLenByteArrayType>::new(chunk.column_descr_ptr(), Box::new(pages));
    let mut levels = Vec::with_capacity(CHECK_BATCH_ROWS);
    let mut values = Vec::with_capacity(CHECK_BATCH_ROWS);
    let mut done = 0;
    while done < rows {
        levels.clear();
        values.clear();
        let (records, _, _) = reader
            .read_records(CHECK_BATCH_ROWS, Some(&mut levels), None, &mut values)
            .map_err(|e| fail(&e))?;
        if records == 0 {
            return Err(RekeyError(format!(
                "a match-key column ends after {done} of {rows} rows"
            )));
        }
        for value in &mut values {
            let token: &[u8] = value.data();
            if token.len() != TOKEN_LEN {
                return Err(RekeyError(
                    "a match-key token has the wrong length".to_owned(),
                ));
            }
            *value = FixedLenByteArray::from(secret.rekey(token).to_vec());
        }
        out.write_batch(&values, Some(&levels), None)
            .map_err(|e| fail(&e))?;
        done += records;
    }
    Ok(())
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
