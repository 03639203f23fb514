//! The one reader of token files (spec §7).
//!
//! A token file is Parquet with the `pprl/v1` schema and a manifest in its
//! key-value metadata. Three places read one: `pprl-client inspect` (before
//! a file leaves the partner's machine), the linker's upload validation, and
//! the linker's loading of a run's records. They all go through
//! [`TokenFile`], so a file one accepts the others read the same way, and a
//! damaged or altered file is refused with the same reason everywhere.
//!
//! What is checked, in order: [`TokenFile::open`] — a readable Parquet
//! footer, a manifest, valid manifest JSON, the spec version;
//! [`TokenFile::check_structure`] — the schema against the manifest
//! (`Manifest::check`: Bloom parameters, match keys, attribute names and
//! types, no undeclared column) and the footer's row count against the
//! manifest's; [`TokenFile::count_rows`] — every page of every column
//! decoded, one column at a time, no `record_ref` null. Policy checks (the project's key fingerprint, the
//! dataset uploaded as) are the caller's: they sit between `open` and the
//! rest, so the most useful reason is given first.
//!
//! The reader takes any [`ChunkReader`] (a `std::fs::File`, bytes in
//! memory, a storage backend's blob), so it does no I/O of its own choosing.

use std::sync::Arc;

use arrow_array::{Array, FixedSizeBinaryArray, RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{ChunkReader, Length};
use pprl_specs::bloom::BYTES as BLOOM_BYTES;
use pprl_specs::matchkey::{self, MATCH_KEY_COUNT, MATCH_KEYS, TOKEN_LEN, column_name};
use pprl_specs::tokenfile::{
    BLOOM_COLUMN, MANIFEST_METADATA_KEY, Manifest, ManifestError, RECORD_REF_COLUMN,
};
use pprl_specs::{READABLE_SPEC_VERSIONS, Version};

/// Rows decoded at a time when reading.
pub const BATCH_ROWS: usize = 65_536;
/// Rows decoded at a time when checking every page ([`TokenFile::count_rows`]).
pub const CHECK_BATCH_ROWS: usize = 8_192;

/// Batches of a Parquet reader with its panics turned into errors: the
/// parquet crate (60.1) panics on some damaged pages (a dictionary key out of
/// range, found by the fuzz harness), and a damaged file is the partner's
/// problem to fix, not a failure of the server.
struct Guarded(ParquetRecordBatchReader);

thread_local! {
    /// Set while this thread decodes pages under [`Guarded`].
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs a panic hook that stays quiet about a panic raised while
/// [`TokenFile`] decodes pages on this thread — it is caught and reported as
/// a damaged file, so the default hook's "thread panicked" line would only
/// alarm the partner or fill the server's log — and passes every other panic
/// to the hook that was there before. The binaries call it at start.
pub fn quiet_decoder_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !DECODING.with(std::cell::Cell::get) {
            previous(info);
        }
    }));
}

impl Iterator for Guarded {
    type Item = Result<RecordBatch, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let reader = &mut self.0;
        DECODING.with(|d| d.set(true));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next()));
        DECODING.with(|d| d.set(false));
        match result {
            Ok(None) => None,
            Ok(Some(Ok(batch))) => Some(Ok(batch)),
            Ok(Some(Err(e))) => Some(Err(ReadError::Damaged(e.to_string()))),
            Err(_) => Some(Err(ReadError::Damaged(
                "a data page cannot be decoded".to_owned(),
            ))),
        }
    }
}

/// Why a token file cannot be read. Messages name the rule broken, never a
/// value from the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not a Parquet file, or its footer is damaged.
    #[error("not a readable Parquet file ({0})")]
    NotParquet(String),
    /// Parquet, but no `pprl.manifest` in its metadata.
    #[error("the file has no pprl manifest: it is not a token file")]
    NoManifest,
    /// The manifest is there but cannot be parsed.
    #[error("the file's manifest cannot be read: {0}")]
    BadManifest(ManifestError),
    /// Made for another spec version.
    #[error("the file was made for spec version `{found}`; this software reads {expected}")]
    SpecVersion {
        found: String,
        expected: &'static str,
    },
    /// The schema or the manifest's parameters are not the spec's.
    #[error("the file does not follow the spec version it names: {0}")]
    Structure(ManifestError),
    /// The manifest and the file disagree on the number of rows.
    #[error("the manifest counts {manifest} rows but the file holds {file}")]
    RowCount { manifest: u64, file: u64 },
    /// A page or column cannot be decoded.
    #[error("the file is damaged: {0}")]
    Damaged(String),
    /// A row has no record reference.
    #[error("some rows have no record reference")]
    NullRecordRef,
}

/// An opened token file: its Parquet metadata and its manifest.
pub struct TokenFile<R: ChunkReader + 'static> {
    input: Shared<R>,
    metadata: ArrowReaderMetadata,
    manifest: Manifest,
    version: Version,
}

/// One reader shared by the several Parquet readers that
/// [`TokenFile::count_rows`] builds over the same file, one per column.
struct Shared<R>(Arc<R>);

impl<R> Clone for Shared<R> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<R: ChunkReader> Length for Shared<R> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<R: ChunkReader> ChunkReader for Shared<R> {
    type T = R::T;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.0.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.0.get_bytes(start, length)
    }
}

impl<R: ChunkReader + 'static> std::fmt::Debug for TokenFile<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenFile")
            .field("dataset", &self.manifest.dataset)
            .field("rows", &self.manifest.row_count)
            .finish_non_exhaustive()
    }
}

impl<R: ChunkReader + 'static> TokenFile<R> {
    /// Reads the footer and the manifest, and checks the spec version.
    pub fn open(reader: R) -> Result<Self, ReadError> {
        // The Parquet reader checks only the closing magic; the data pages
        // follow the opening one, so a file without it is damaged.
        if reader.len() == 0 {
            return Err(ReadError::NotParquet("the file is empty".to_owned()));
        }
        let head = reader.get_bytes(0, 4).ok();
        if head.as_deref() != Some(b"PAR1".as_slice()) {
            return Err(ReadError::NotParquet(
                "it does not start with `PAR1`".to_owned(),
            ));
        }
        let metadata = ArrowReaderMetadata::load(&reader, ArrowReaderOptions::new())
            .map_err(|e| ReadError::NotParquet(e.to_string()))?;
        let manifest_json = metadata
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|e| e.key == MANIFEST_METADATA_KEY))
            .and_then(|e| e.value.clone())
            .ok_or(ReadError::NoManifest)?;
        let manifest = Manifest::from_json(&manifest_json).map_err(ReadError::BadManifest)?;
        let Some(version) = Version::parse(&manifest.spec_version) else {
            return Err(ReadError::SpecVersion {
                found: manifest.spec_version,
                expected: READABLE_SPEC_VERSIONS,
            });
        };
        Ok(TokenFile {
            input: Shared(Arc::new(reader)),
            metadata,
            manifest,
            version,
        })
    }

    /// A Parquet reader builder over the whole file.
    fn builder(&self) -> ParquetRecordBatchReaderBuilder<Shared<R>> {
        ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.input.clone(),
            self.metadata.clone(),
        )
    }

    /// The reader the file was opened on, for callers that read its column
    /// chunks themselves (the linker's re-keying copies most of them whole).
    pub fn into_reader(self) -> Arc<R> {
        self.input.0
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The spec version the file follows (its manifest's `spec_version`).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The Parquet metadata (row groups, column chunks, statistics).
    pub fn metadata(&self) -> &Arc<ParquetMetaData> {
        self.metadata.metadata()
    }

    /// The file's Arrow schema.
    pub fn schema(&self) -> &SchemaRef {
        self.metadata.schema()
    }

    /// Rows according to the Parquet footer.
    pub fn footer_rows(&self) -> u64 {
        self.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Checks the schema against the manifest and the spec, and the footer's
    /// row count against the manifest's.
    pub fn check_structure(&self) -> Result<(), ReadError> {
        self.manifest.check(self.schema()).map_err(|e| match e {
            ManifestError::SpecVersion { found, expected } => {
                ReadError::SpecVersion { found, expected }
            }
            other => ReadError::Structure(other),
        })?;
        let file = self.footer_rows();
        if file != self.manifest.row_count {
            return Err(ReadError::RowCount {
                manifest: self.manifest.row_count,
                file,
            });
        }
        Ok(())
    }

    /// The attribute columns, in file order: every column that is not a token.
    pub fn attribute_fields(&self) -> Vec<Field> {
        let token_columns = token_column_names();
        self.schema()
            .fields()
            .iter()
            .filter(|f| !token_columns.contains(f.name()))
            .map(|f| f.as_ref().clone())
            .collect()
    }

    /// Decodes every page of every column, so that a damaged data page is
    /// found now rather than at linkage (a file with a damaged match-key page
    /// would otherwise be stored); checks that no row lacks a reference and
    /// that the rows read are the manifest's count. One column is decoded at
    /// a time, `record_ref` first, in small batches ([`CHECK_BATCH_ROWS`]):
    /// uploads are checked several at once, and decoding every column
    /// together held one page buffer per column for each of them.
    pub fn count_rows(self) -> Result<u64, ReadError> {
        let expected = self.manifest.row_count;
        let fields = self.schema().fields().len();
        let refs = self.schema().index_of(RECORD_REF_COLUMN).map_err(|_| {
            ReadError::Structure(ManifestError::MissingColumn(RECORD_REF_COLUMN.to_owned()))
        })?;
        let order = std::iter::once(refs).chain((0..fields).filter(|&i| i != refs));
        for column in order {
            let mask = ProjectionMask::roots(self.metadata.parquet_schema(), [column]);
            let reader = self
                .builder()
                .with_projection(mask)
                .with_batch_size(CHECK_BATCH_ROWS)
                .build()
                .map_err(|e| ReadError::Damaged(e.to_string()))?;
            let mut rows = 0u64;
            for batch in Guarded(reader) {
                let batch = batch?;
                if column == refs && batch.column(0).null_count() > 0 {
                    return Err(ReadError::NullRecordRef);
                }
                rows += batch.num_rows() as u64;
            }
            if rows != expected {
                return Err(ReadError::RowCount {
                    manifest: expected,
                    file: rows,
                });
            }
        }
        Ok(expected)
    }

    /// Every row, in batches of [`BATCH_ROWS`]: the token columns and the
    /// attributes. Call [`check_structure`](Self::check_structure) first.
    pub fn batches(self) -> Result<Batches, ReadError> {
        self.batches_of(BATCH_ROWS)
    }

    /// [`batches`](Self::batches) of at most `rows` rows (the linker
    /// re-keys uploads in small batches, several at once).
    pub fn batches_of(self, rows: usize) -> Result<Batches, ReadError> {
        let attributes = Arc::new(Schema::new(self.attribute_fields()));
        let reader = self
            .builder()
            .with_batch_size(rows.max(1))
            .build()
            .map_err(|e| ReadError::Damaged(e.to_string()))?;
        Ok(Batches {
            reader: Guarded(reader),
            attributes,
            version: self.version,
        })
    }
}

/// The names of the token columns of the current version: `record_ref`, the
/// match keys in spec order, `bloom`. A file of an earlier version has a
/// prefix of the match keys.
pub fn token_column_names() -> Vec<String> {
    std::iter::once(RECORD_REF_COLUMN.to_owned())
        .chain(MATCH_KEYS.iter().map(column_name))
        .chain(std::iter::once(BLOOM_COLUMN.to_owned()))
        .collect()
}

/// The rows of a token file, batch by batch.
pub struct Batches {
    reader: Guarded,
    attributes: SchemaRef,
    version: Version,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches").finish_non_exhaustive()
    }
}

impl Batches {
    /// The schema of each batch's attributes.
    pub fn attribute_schema(&self) -> &SchemaRef {
        &self.attributes
    }
}

/// One batch of rows of a token file.
#[derive(Debug)]
pub struct TokenBatch {
    /// `record_ref`, never null.
    pub record_ref: FixedSizeBinaryArray,
    /// One column per match key of the current version, in spec order; null
    /// where the key is, and wholly null for the keys a later version than
    /// the file's appended (spec §1.3).
    pub keys: Vec<FixedSizeBinaryArray>,
    /// The Bloom encodings; null where the record has none.
    pub bloom: FixedSizeBinaryArray,
    /// The declared attributes.
    pub attributes: RecordBatch,
}

impl TokenBatch {
    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.record_ref.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.record_ref.is_empty()
    }
}

impl Iterator for Batches {
    type Item = Result<TokenBatch, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.reader.next()? {
            Ok(batch) => batch,
            Err(e) => return Some(Err(e)),
        };
        Some(split(&batch, &self.attributes, self.version))
    }
}

fn split(
    batch: &RecordBatch,
    attributes: &SchemaRef,
    version: Version,
) -> Result<TokenBatch, ReadError> {
    let binary = |name: &str, width: usize| -> Result<FixedSizeBinaryArray, ReadError> {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<FixedSizeBinaryArray>())
            .filter(|c| c.value_length() as usize == width)
            .cloned()
            .ok_or_else(|| ReadError::Structure(ManifestError::MissingColumn(name.to_owned())))
    };
    let record_ref = binary(RECORD_REF_COLUMN, TOKEN_LEN)?;
    if record_ref.null_count() > 0 {
        return Err(ReadError::NullRecordRef);
    }
    let carried = matchkey::match_keys(version).len();
    let keys = MATCH_KEYS
        .iter()
        .enumerate()
        .map(|(i, def)| {
            if i < carried {
                binary(&column_name(def), TOKEN_LEN)
            } else {
                Ok(FixedSizeBinaryArray::new_null(
                    TOKEN_LEN as i32,
                    batch.num_rows(),
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    debug_assert_eq!(keys.len(), MATCH_KEY_COUNT);
    let bloom = binary(BLOOM_COLUMN, BLOOM_BYTES)?;
    let columns = attributes
        .fields()
        .iter()
        .map(|f| {
            batch
                .column_by_name(f.name())
                .cloned()
                .ok_or_else(|| ReadError::Structure(ManifestError::MissingColumn(f.name().clone())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let attributes = RecordBatch::try_new_with_options(
        attributes.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(|e| ReadError::Damaged(e.to_string()))?;
    Ok(TokenBatch {
        record_ref,
        keys,
        bloom,
        attributes,
    })
}

#[cfg(test)]
mod tests;
