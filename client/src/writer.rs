//! Writing token files: Parquet with the spec's schema, the manifest in the
//! file metadata, written to a temporary name and renamed into place.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{ArrayRef, FixedSizeBinaryArray, RecordBatch};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer};
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use pprl_specs::bloom;
use pprl_specs::matchkey::{MATCH_KEYS, TOKEN_LEN, column_name};
use pprl_specs::tokenfile::{
    AttributeSpec, AttributeType, BLOOM_COLUMN, MANIFEST_METADATA_KEY, Manifest, RECORD_REF_COLUMN,
    schema_ref,
};

use crate::row::{AttrValue, TokenRow};

/// Rows per Parquet row group: bounds the writer's memory (about 25 MB a group).
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Writer properties for token files (spec §7.1): token columns are random
/// bytes, so no dictionary, no statistics and no compression; attribute
/// columns are dictionary-encoded and zstd-compressed.
pub fn writer_properties(attributes: &[AttributeSpec]) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("pprl-client {}", env!("CARGO_PKG_VERSION")));
    let token_columns = std::iter::once(RECORD_REF_COLUMN.to_owned())
        .chain(MATCH_KEYS.iter().map(column_name))
        .chain(std::iter::once(BLOOM_COLUMN.to_owned()));
    for name in token_columns {
        let path = ColumnPath::from(name.as_str());
        builder = builder
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_statistics_enabled(path.clone(), EnabledStatistics::None)
            .set_column_compression(path, Compression::UNCOMPRESSED);
    }
    let _ = attributes;
    builder.build()
}

/// A token file being written. Dropped without [`TokenFileWriter::finish`],
/// it leaves nothing behind.
pub struct TokenFileWriter {
    writer: ArrowWriter<File>,
    flusher: Flusher,
    temp: tempfile::TempPath,
    target: PathBuf,
    schema: Arc<Schema>,
    attributes: Vec<AttributeSpec>,
}

impl std::fmt::Debug for TokenFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenFileWriter({})", self.target.display())
    }
}

impl TokenFileWriter {
    /// Opens a temporary file beside `target`.
    pub fn create(target: &Path, attributes: &[AttributeSpec]) -> Result<Self> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".pprl-tokens-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        let (file, temp) = temp.into_parts();
        let flusher = Flusher::spawn(
            file.try_clone()
                .context("cannot open the temporary token file twice")?,
        );
        let schema = schema_ref(attributes);
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(attributes)))
                .context("cannot start the Parquet writer")?;
        Ok(TokenFileWriter {
            writer,
            flusher,
            temp,
            target: target.to_owned(),
            schema,
            attributes: attributes.to_vec(),
        })
    }

    /// Appends rows.
    pub fn write(&mut self, rows: &[&TokenRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch = to_record_batch(&self.schema, &self.attributes, rows)?;
        self.writer
            .write(&batch)
            .with_context(|| format!("cannot write {}", self.target.display()))?;
        self.flusher.written(self.writer.bytes_written());
        Ok(())
    }

    /// Stores the manifest, closes the file and renames it into place.
    pub fn finish(mut self, manifest: &Manifest) -> Result<()> {
        self.writer.append_key_value_metadata(KeyValue::new(
            MANIFEST_METADATA_KEY.to_owned(),
            manifest.to_json(),
        ));
        let file = self
            .writer
            .into_inner()
            .context("cannot finish the Parquet file")?;
        self.flusher
            .finish()
            .context("cannot flush the token file to disk")?;
        file.sync_all()
            .context("cannot flush the token file to disk")?;
        self.temp.persist(&self.target).with_context(|| {
            format!(
                "cannot move the token file into place at {}",
                self.target.display()
            )
        })?;
        Ok(())
    }
}

/// Flushes the token file to disk in the background while it is written.
///
/// The kernel holds written data in memory and, with the usual settings,
/// writes nothing back for 30 seconds; a token file of a million rows is
/// 300 MB, so the final `fsync` would wait for all of it (a second or two
/// with the CPUs idle). A thread of its own instead asks for the data on
/// disk every [`Flusher::EVERY`] bytes, waiting on the disk while the other
/// threads tokenise, and the final `fsync` has only the tail left.
struct Flusher {
    requests: Option<crossbeam_channel::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
    /// Bytes written when a flush was last requested.
    requested_at: usize,
}

impl Flusher {
    /// Bytes written between two flushes: small enough that the final
    /// `fsync`, during which no core has work, waits for little.
    const EVERY: usize = 8 << 20;

    fn spawn(file: File) -> Self {
        // One pending request is enough: a flush writes back everything so far.
        let (requests, pending) = crossbeam_channel::bounded::<()>(1);
        let thread = std::thread::spawn(move || {
            for () in pending {
                file.sync_data()?;
            }
            Ok(())
        });
        Flusher {
            requests: Some(requests),
            thread: Some(thread),
            requested_at: 0,
        }
    }

    /// Notes that `bytes` have been written; requests a flush every [`Flusher::EVERY`].
    fn written(&mut self, bytes: usize) {
        if bytes >= self.requested_at + Self::EVERY
            && let Some(requests) = &self.requests
        {
            // Full: a flush is pending and will cover these bytes too.
            let _ = requests.try_send(());
            self.requested_at = bytes;
        }
    }

    /// Waits for the flushes requested so far; reports the first that failed.
    fn finish(&mut self) -> std::io::Result<()> {
        self.requests = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the flushing thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        // An abandoned file: stop the thread, ignoring what it reports.
        let _ = self.finish();
    }
}

/// Builds one Arrow batch of token rows.
///
/// The token columns are filled in one pass over the rows (row-major reads,
/// one buffer per column), which costs a fraction of a builder per column.
pub fn to_record_batch(
    schema: &Arc<Schema>,
    attributes: &[AttributeSpec],
    rows: &[&TokenRow],
) -> Result<RecordBatch> {
    let n = rows.len();
    let mut refs = Vec::with_capacity(n * TOKEN_LEN);
    let mut keys: Vec<TokenColumn> = (0..MATCH_KEYS.len())
        .map(|_| TokenColumn::new(n, TOKEN_LEN))
        .collect();
    let mut blooms = TokenColumn::new(n, bloom::BYTES);
    for row in rows {
        refs.extend_from_slice(&row.record_ref);
        for (column, token) in keys.iter_mut().zip(&row.tokens) {
            column.push(token.as_ref().map(|t| &t[..]));
        }
        blooms.push(row.bloom.as_ref().map(|b| &b[..]));
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    columns.push(Arc::new(FixedSizeBinaryArray::try_new(
        TOKEN_LEN as i32,
        Buffer::from_vec(refs),
        None,
    )?));
    for column in keys {
        columns.push(column.finish()?);
    }
    columns.push(blooms.finish()?);
    for (i, attr) in attributes.iter().enumerate() {
        columns.push(attribute_array(
            attr.kind,
            rows.iter().map(|r| &r.attributes[i]),
        ));
    }
    RecordBatch::try_new(schema.clone(), columns)
        .context("token rows do not fit the token-file schema")
}

/// The values and validity of one nullable fixed-size binary column.
struct TokenColumn {
    width: usize,
    values: Vec<u8>,
    valid: BooleanBufferBuilder,
}

impl TokenColumn {
    fn new(rows: usize, width: usize) -> Self {
        TokenColumn {
            width,
            values: Vec::with_capacity(rows * width),
            valid: BooleanBufferBuilder::new(rows),
        }
    }

    fn push(&mut self, value: Option<&[u8]>) {
        match value {
            Some(v) => self.values.extend_from_slice(v),
            None => self.values.resize(self.values.len() + self.width, 0),
        }
        self.valid.append(value.is_some());
    }

    fn finish(mut self) -> Result<ArrayRef> {
        let nulls = NullBuffer::new(self.valid.finish());
        let array = FixedSizeBinaryArray::try_new(
            self.width as i32,
            Buffer::from_vec(self.values),
            Some(nulls),
        )?;
        Ok(Arc::new(array))
    }
}

fn attribute_array<'a>(
    kind: AttributeType,
    values: impl ExactSizeIterator<Item = &'a AttrValue>,
) -> ArrayRef {
    macro_rules! build {
        ($builder:expr, $variant:ident) => {{
            let mut b = $builder;
            for v in values {
                match v {
                    AttrValue::$variant(x) => b.append_value(x.clone()),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    let n = values.len();
    match kind {
        AttributeType::String => build!(StringBuilder::with_capacity(n, n * 8), Str),
        AttributeType::Integer => build!(Int64Builder::with_capacity(n), Int),
        AttributeType::Number => build!(Float64Builder::with_capacity(n), Num),
        AttributeType::Boolean => build!(BooleanBuilder::with_capacity(n), Bool),
        AttributeType::Date => build!(Date32Builder::with_capacity(n), Date),
    }
}
