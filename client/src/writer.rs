//! Writing token files: Parquet with the spec's schema, the manifest in the
//! file metadata, written to a temporary name and renamed into place.
//!
//! The token columns (record reference, match keys, Bloom encoding) are
//! encoded by hand (`writer/chunk.rs`); the attribute columns go through Arrow's
//! column writers. Both are spliced into each row group by the `parquet`
//! crate's file writer, which also writes the footer and the Arrow schema.

mod chunk;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::ArrayRef;
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_schema::Schema;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowSchemaConverter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use pprl_specs::matchkey::MATCH_KEYS;
use pprl_specs::tokenfile::{
    AttributeSpec, AttributeType, MANIFEST_METADATA_KEY, Manifest, schema_ref,
};

use crate::row::{AttrValue, TokenRow};
use chunk::TokenColumnChunk;

/// Rows per Parquet row group: bounds the writer's memory (about 25 MB a group).
pub const ROW_GROUP_ROWS: usize = 65_536;

/// Bytes of values per data page of a token column: 1 MB, the Parquet
/// writers' usual page size (8,192 Bloom encodings, 65,536 match-key tokens).
const TOKEN_PAGE_BYTES: usize = 1 << 20;

/// The token columns, which lead every token file: the record reference,
/// the match keys and the Bloom encoding (spec §7.1).
const TOKEN_COLUMNS: usize = MATCH_KEYS.len() + 2;

/// Bytes buffered between the Parquet writer and the file, so that the
/// column chunks it splices in 8 KB pieces reach the kernel in large writes.
const FILE_BUFFER_BYTES: usize = 1 << 20;

/// Writer properties for token files (spec §7.1). They govern the attribute
/// columns, which are dictionary-encoded, zstd-compressed and have
/// statistics per column chunk; the token columns, random bytes, are written
/// by hand without dictionary, statistics or compression (`writer/chunk.rs`). No
/// column has a page index (the token columns would gain nothing from one).
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_offset_index_disabled(true)
        .set_created_by(format!("pprl-client {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A token file being written. Dropped without [`TokenFileWriter::finish`],
/// it leaves nothing behind.
pub struct TokenFileWriter {
    writer: SerializedFileWriter<BufWriter<File>>,
    factory: ArrowRowGroupWriterFactory,
    /// The record reference, the match keys and the Bloom encoding.
    tokens: Vec<TokenColumnChunk>,
    /// The attribute columns' writers for the row group being filled.
    attribute_writers: Vec<ArrowColumnWriter>,
    rows_in_group: usize,
    row_groups: usize,
    /// Set when a write failed part-way: the columns may disagree, so the
    /// writer refuses to go on (the caller abandons the file anyway).
    failed: bool,
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
        Self::create_with_pages(target, attributes, TOKEN_PAGE_BYTES)
    }

    /// [`TokenFileWriter::create`] with token-column pages of about
    /// `page_bytes` (the tests use small pages to cross many page ends).
    fn create_with_pages(
        target: &Path,
        attributes: &[AttributeSpec],
        page_bytes: usize,
    ) -> Result<Self> {
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
        let parquet_schema = ArrowSchemaConverter::new()
            .convert(&schema)
            .context("the token-file schema has no Parquet form")?;
        let mut properties = writer_properties();
        add_encoded_arrow_schema_to_metadata(&schema, &mut properties);
        let writer = SerializedFileWriter::new(
            BufWriter::with_capacity(FILE_BUFFER_BYTES, file),
            parquet_schema.root_schema_ptr(),
            Arc::new(properties),
        )
        .context("cannot start the Parquet writer")?;
        let factory = ArrowRowGroupWriterFactory::new(&writer, schema.clone());
        let tokens = writer.schema_descr().columns()[..TOKEN_COLUMNS]
            .iter()
            .map(|descr| TokenColumnChunk::new(descr.clone(), page_bytes))
            .collect();
        let mut file = TokenFileWriter {
            writer,
            factory,
            tokens,
            attribute_writers: Vec::new(),
            rows_in_group: 0,
            row_groups: 0,
            failed: false,
            flusher,
            temp,
            target: target.to_owned(),
            schema,
            attributes: attributes.to_vec(),
        };
        file.attribute_writers = file.new_attribute_writers()?;
        Ok(file)
    }

    /// Column writers for the attribute columns of the next row group.
    fn new_attribute_writers(&self) -> Result<Vec<ArrowColumnWriter>> {
        if self.attributes.is_empty() {
            return Ok(Vec::new());
        }
        let mut writers = self
            .factory
            .create_column_writers(self.row_groups)
            .context("cannot start a Parquet row group")?;
        Ok(writers.split_off(TOKEN_COLUMNS))
    }

    /// Appends rows.
    pub fn write(&mut self, rows: &[&TokenRow]) -> Result<()> {
        self.refuse_after_failure()?;
        let written = self.write_rows(rows);
        self.failed = written.is_err();
        written
    }

    /// After a failed write the columns may hold different numbers of rows:
    /// nothing more is written.
    fn refuse_after_failure(&self) -> Result<()> {
        anyhow::ensure!(
            !self.failed,
            "an earlier write to {} failed; the token file is abandoned",
            self.target.display()
        );
        Ok(())
    }

    fn write_rows(&mut self, rows: &[&TokenRow]) -> Result<()> {
        let mut rest = rows;
        while !rest.is_empty() {
            let (now, later) = rest.split_at(rest.len().min(ROW_GROUP_ROWS - self.rows_in_group));
            self.append(now)
                .with_context(|| format!("cannot write {}", self.target.display()))?;
            if self.rows_in_group == ROW_GROUP_ROWS {
                self.close_row_group()?;
            }
            rest = later;
        }
        self.flusher.written(self.writer.bytes_written());
        Ok(())
    }

    /// Appends rows to the row group being filled, which has room for them.
    fn append(&mut self, rows: &[&TokenRow]) -> Result<()> {
        let [record_ref, rest @ ..] = &mut self.tokens[..] else {
            unreachable!("a token file has token columns")
        };
        let (keys, bloom) = rest.split_at_mut(MATCH_KEYS.len());
        for row in rows {
            record_ref.push(Some(&row.record_ref))?;
            for (column, token) in keys.iter_mut().zip(&row.tokens) {
                column.push(token.as_ref().map(|t| &t[..]))?;
            }
            bloom[0].push(row.bloom.as_ref().map(|b| &b[..]))?;
        }
        let fields = &self.schema.fields()[TOKEN_COLUMNS..];
        for (i, ((attr, field), writer)) in self
            .attributes
            .iter()
            .zip(fields)
            .zip(&mut self.attribute_writers)
            .enumerate()
        {
            let array = attribute_array(attr.kind, rows.iter().map(|r| &r.attributes[i]));
            for leaf in compute_leaves(field, &array)? {
                writer.write(&leaf)?;
            }
        }
        self.rows_in_group += rows.len();
        Ok(())
    }

    /// Writes the row group being filled, if it has rows.
    fn close_row_group(&mut self) -> Result<()> {
        if self.rows_in_group == 0 {
            return Ok(());
        }
        let attribute_writers = std::mem::take(&mut self.attribute_writers);
        let write = |file: &mut Self| -> parquet::errors::Result<()> {
            let mut group = file.writer.next_row_group()?;
            for column in &mut file.tokens {
                let (pages, close) = column.close()?;
                group.append_column(&pages, close)?;
                column.recycle(pages);
            }
            for writer in attribute_writers {
                writer.close()?.append_to_row_group(&mut group)?;
            }
            group.close()?;
            Ok(())
        };
        write(self).with_context(|| format!("cannot write {}", self.target.display()))?;
        self.rows_in_group = 0;
        self.row_groups += 1;
        self.attribute_writers = self.new_attribute_writers()?;
        Ok(())
    }

    /// Stores the manifest, closes the file and renames it into place.
    pub fn finish(mut self, manifest: &Manifest) -> Result<()> {
        self.refuse_after_failure()?;
        self.close_row_group()?;
        self.writer.append_key_value_metadata(KeyValue::new(
            MANIFEST_METADATA_KEY.to_owned(),
            manifest.to_json(),
        ));
        let file = self
            .writer
            .into_inner()
            .context("cannot finish the Parquet file")?
            .into_inner()
            .map_err(|e| e.into_error())
            .context("cannot write the token file")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Float64Type, Int64Type};
    use arrow_array::{Array, RecordBatch};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use pprl_specs::bloom;
    use pprl_specs::matchkey::TOKEN_LEN;
    use pprl_specs::tokenfile::{BloomParams, DatePrecision, QualityCounts};

    fn attributes() -> Vec<AttributeSpec> {
        let spec = |name: &str, kind| AttributeSpec {
            name: name.to_owned(),
            kind,
            precision: (kind == AttributeType::Date).then_some(DatePrecision::Day),
        };
        vec![
            spec("region", AttributeType::String),
            spec("age", AttributeType::Integer),
            spec("score", AttributeType::Number),
            spec("flag", AttributeType::Boolean),
            spec("released", AttributeType::Date),
        ]
    }

    /// A deterministic byte pattern for row `row`, column `column` (splitmix64).
    fn bytes<const N: usize>(row: u64, column: usize) -> [u8; N] {
        let mut state = row.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (column as u64) << 40;
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        out
    }

    /// Whether column `column` of row `row` is null: every pattern the level
    /// encoding has runs for (all present, all null, long stretches of each,
    /// alternating, and scattered).
    fn is_null(row: u64, column: usize) -> bool {
        match column {
            0 => false,
            1 => true,
            2 => (row / 5_000) % 2 == 1,
            3 => row.is_multiple_of(2),
            4 => (row / 504).is_multiple_of(3),
            _ => bytes::<1>(row, column + 100)[0] < 64,
        }
    }

    fn row(line: u64) -> TokenRow {
        let mut tokens = [None; MATCH_KEYS.len()];
        for (k, token) in tokens.iter_mut().enumerate() {
            *token = (!is_null(line, k)).then(|| bytes::<TOKEN_LEN>(line, k));
        }
        let none = |column| is_null(line, column);
        TokenRow {
            line,
            record_ref: bytes(line, 1_000),
            tokens,
            bloom: (!none(MATCH_KEYS.len())).then(|| bytes::<{ bloom::BYTES }>(line, 2_000)),
            attributes: vec![
                if none(20) {
                    AttrValue::Null
                } else {
                    AttrValue::Str(format!("r{}", line % 7))
                },
                if none(21) {
                    AttrValue::Null
                } else {
                    AttrValue::Int(line as i64 - 50)
                },
                if none(22) {
                    AttrValue::Null
                } else {
                    AttrValue::Num(line as f64 / 3.0)
                },
                if none(23) {
                    AttrValue::Null
                } else {
                    AttrValue::Bool(line.is_multiple_of(3))
                },
                if none(24) {
                    AttrValue::Null
                } else {
                    AttrValue::Date(line as i32 % 20_000)
                },
            ],
        }
    }

    fn manifest(rows: u64, attributes: Vec<AttributeSpec>) -> Manifest {
        Manifest {
            spec_version: pprl_specs::SPEC_VERSION.to_owned(),
            key_fingerprint: "test".to_owned(),
            key_id: None,
            dataset: "test".to_owned(),
            row_count: rows,
            created_at: "2026-11-23T00:00:00Z".to_owned(),
            client_version: "test".to_owned(),
            match_keys: MATCH_KEYS.iter().map(|d| d.name.to_owned()).collect(),
            bloom: BloomParams::v1(),
            attributes,
            quality: QualityCounts::default(),
        }
    }

    fn check_token_column(
        batch: &RecordBatch,
        column: usize,
        first: u64,
        bytes_of: impl Fn(u64) -> Option<Vec<u8>>,
    ) {
        let array = batch.column(column).as_fixed_size_binary();
        for i in 0..batch.num_rows() {
            let line = first + i as u64;
            match bytes_of(line) {
                Some(expected) => {
                    assert!(array.is_valid(i), "column {column}, row {line} is present");
                    assert_eq!(array.value(i), &expected[..], "column {column}, row {line}");
                }
                None => assert!(array.is_null(i), "column {column}, row {line} is null"),
            }
        }
    }

    /// Writes `rows` rows in uneven batches with token pages of about
    /// `page_bytes`, reads them back with the parquet crate's reader and
    /// checks every value, null, row group and the chunk metadata that
    /// stricter readers rely on; returns the row groups' sizes.
    fn round_trip(rows: u64, page_bytes: usize) -> Vec<i64> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.parquet");
        let attributes = attributes();
        let mut writer =
            TokenFileWriter::create_with_pages(&path, &attributes, page_bytes).unwrap();
        let all: Vec<TokenRow> = (0..rows).map(row).collect();
        let mut start = 0usize;
        for size in [1usize, 4_096, 3_001, 70_000, 7, 40_000].iter().cycle() {
            if start == all.len() {
                break;
            }
            let end = (start + size).min(all.len());
            let batch: Vec<&TokenRow> = all[start..end].iter().collect();
            writer.write(&batch).unwrap();
            start = end;
        }
        writer.finish(&manifest(rows, attributes.clone())).unwrap();

        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        assert_eq!(builder.schema().fields(), schema_ref(&attributes).fields());
        let metadata = builder.metadata().clone();
        let groups: Vec<i64> = metadata.row_groups().iter().map(|g| g.num_rows()).collect();
        // What Arrow C++ and parquet-mr read from a column chunk's metadata
        // (the parquet crate's reader does not check it).
        let file_len = std::fs::metadata(&path).unwrap().len() as i64;
        for group in metadata.row_groups() {
            for column in &group.columns()[..TOKEN_COLUMNS] {
                let name = column.column_path().string();
                assert_eq!(column.num_values(), group.num_rows(), "{name}");
                assert_eq!(column.compression(), Compression::UNCOMPRESSED, "{name}");
                assert!(column.statistics().is_none(), "{name}");
                assert!(column.dictionary_page_offset().is_none(), "{name}");
                assert_eq!(
                    column.compressed_size(),
                    column.uncompressed_size(),
                    "{name}"
                );
                let (offset, size) = column.byte_range();
                assert!(offset >= 4 && (offset + size) as i64 <= file_len, "{name}");
            }
        }
        let stored = metadata
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|kv| kv.key == MANIFEST_METADATA_KEY))
            .and_then(|kv| kv.value.clone())
            .expect("the manifest is stored");
        assert_eq!(Manifest::from_json(&stored).unwrap().row_count, rows);

        let mut first = 0u64;
        for batch in builder.with_batch_size(10_000).build().unwrap() {
            let batch = batch.unwrap();
            check_token_column(&batch, 0, first, |line| {
                Some(bytes::<TOKEN_LEN>(line, 1_000).to_vec())
            });
            for k in 0..MATCH_KEYS.len() {
                check_token_column(&batch, 1 + k, first, |line| {
                    (!is_null(line, k)).then(|| bytes::<TOKEN_LEN>(line, k).to_vec())
                });
            }
            check_token_column(&batch, TOKEN_COLUMNS - 1, first, |line| {
                (!is_null(line, MATCH_KEYS.len()))
                    .then(|| bytes::<{ bloom::BYTES }>(line, 2_000).to_vec())
            });
            for i in 0..batch.num_rows() {
                let line = first + i as u64;
                let expected = row(line).attributes;
                let at = |a: usize| batch.column(TOKEN_COLUMNS + a);
                let got = [
                    at(0)
                        .is_valid(i)
                        .then(|| AttrValue::Str(at(0).as_string::<i32>().value(i).to_owned())),
                    at(1)
                        .is_valid(i)
                        .then(|| AttrValue::Int(at(1).as_primitive::<Int64Type>().value(i))),
                    at(2)
                        .is_valid(i)
                        .then(|| AttrValue::Num(at(2).as_primitive::<Float64Type>().value(i))),
                    at(3)
                        .is_valid(i)
                        .then(|| AttrValue::Bool(at(3).as_boolean().value(i))),
                    at(4)
                        .is_valid(i)
                        .then(|| AttrValue::Date(at(4).as_primitive::<Date32Type>().value(i))),
                ];
                let got: Vec<AttrValue> = got
                    .into_iter()
                    .map(|v| v.unwrap_or(AttrValue::Null))
                    .collect();
                assert_eq!(got, expected, "attributes of row {line}");
            }
            first += batch.num_rows() as u64;
        }
        assert_eq!(first, rows);
        groups
    }

    /// Rows written in uneven batches come back exactly, nulls included,
    /// in row groups of 65,536, with the spec's Arrow schema and the manifest.
    #[test]
    fn token_files_read_back_exactly() {
        assert_eq!(
            round_trip(150_001, TOKEN_PAGE_BYTES),
            [65_536, 65_536, 18_929]
        );
    }

    /// With pages of a few hundred rows every null pattern crosses page
    /// ends (partial level bytes, RLE runs cut by a page, reused buffers).
    #[test]
    fn small_pages_read_back_exactly() {
        assert_eq!(round_trip(70_001, 4_096), [65_536, 4_465]);
    }

    /// Row groups end exactly at the last row, and a file of no rows is a
    /// valid file with none.
    #[test]
    fn whole_row_groups_and_no_rows() {
        assert_eq!(round_trip(131_072, 64 << 10), [65_536, 65_536]);
        assert!(round_trip(0, TOKEN_PAGE_BYTES).is_empty());
    }

    /// A writer dropped before it finishes leaves no file behind.
    #[test]
    fn an_unfinished_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.parquet");
        let mut writer = TokenFileWriter::create(&path, &attributes()).unwrap();
        // More than a row group: some of the file is on disk when it is dropped.
        let rows: Vec<TokenRow> = (0..70_000).map(row).collect();
        writer.write(&rows.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(writer.row_groups, 1);
        let temp: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(temp.len(), 1, "the temporary file, before the drop");
        assert!(temp[0].as_ref().unwrap().metadata().unwrap().len() > 1 << 20);
        drop(writer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
