//! Validation of an uploaded token file before it is accepted (spec §7).
//!
//! Everything is checked against the file itself: that it is Parquet, that
//! its manifest is there and is `pprl/v1`, that its schema is the spec's for
//! its declared attributes, that it was made with the project's key, that it
//! is a version of the dataset it is uploaded as, and that every row the
//! manifest counts can be read.

use std::fs::File;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pprl_specs::tokenfile::{MANIFEST_METADATA_KEY, Manifest, ManifestError, RECORD_REF_COLUMN};

/// Why a token file was refused: what is wrong, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable machine-readable code.
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// A token file that passed every check.
#[derive(Debug)]
pub struct Checked {
    pub manifest: Manifest,
    pub rows: u64,
}

const REMAKE: &str =
    "make the file again with `pprl-client tokenise` and check it with `pprl-client inspect`";

/// Checks a token file against the project's key fingerprint and the dataset it is uploaded as.
pub fn check_token_file(
    path: &Path,
    expected_fingerprint: &str,
    dataset: &str,
) -> Result<Checked, Refusal> {
    let file = File::open(path)
        .map_err(|e| Refusal::new("io", format!("cannot read the upload: {e}"), "try again"))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
        Refusal::new(
            "not_parquet",
            format!("the upload is not a readable Parquet file ({e})"),
            format!("upload the token file written by `pprl-client tokenise`, not the extract; if it is one, it was damaged in transit: {REMAKE}"),
        )
    })?;
    // The reader only checks the closing magic; the data pages follow the opening one.
    if !starts_with_parquet_magic(path) {
        return Err(Refusal::new(
            "not_parquet",
            "the upload is not a readable Parquet file (it does not start with `PAR1`)",
            format!("it was damaged: {REMAKE}"),
        ));
    }
    let metadata = builder.metadata().clone();
    let manifest_json = metadata
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == MANIFEST_METADATA_KEY))
        .and_then(|e| e.value.clone())
        .ok_or_else(|| {
            Refusal::new(
                "no_manifest",
                "the file has no pprl manifest: it is not a token file",
                REMAKE,
            )
        })?;
    let manifest = Manifest::from_json(&manifest_json).map_err(|e| {
        Refusal::new(
            "bad_manifest",
            format!("the file's manifest cannot be read: {e}"),
            REMAKE,
        )
    })?;
    if manifest.spec_version != pprl_specs::SPEC_VERSION {
        return Err(Refusal::new(
            "spec_version",
            format!(
                "the file was made for spec version `{}`; this linker accepts `{}`",
                manifest.spec_version,
                pprl_specs::SPEC_VERSION
            ),
            "tokenise again with a pprl-client that speaks this spec version",
        ));
    }
    if !manifest
        .key_fingerprint
        .eq_ignore_ascii_case(expected_fingerprint)
    {
        return Err(Refusal::new(
            "key_fingerprint",
            format!(
                "the token file was made with key fingerprint {}, this project expects {}",
                manifest.key_fingerprint, expected_fingerprint
            ),
            "ask your project administrator for the current key file, check it with `pprl-client fingerprint`, and tokenise again",
        ));
    }
    if manifest.dataset != dataset {
        return Err(Refusal::new(
            "dataset",
            format!(
                "the file is a version of dataset `{}`, but was uploaded as `{dataset}`",
                manifest.dataset
            ),
            "upload it as the dataset named in its manifest, or fix `dataset` in your partner config and tokenise again",
        ));
    }
    manifest.check(builder.schema()).map_err(|e| {
        let code = match e {
            ManifestError::SpecVersion { .. } => "spec_version",
            _ => "schema",
        };
        Refusal::new(
            code,
            format!("the file does not follow {}: {e}", pprl_specs::SPEC_VERSION),
            REMAKE,
        )
    })?;
    let footer_rows = metadata.file_metadata().num_rows().max(0) as u64;
    if footer_rows != manifest.row_count {
        return Err(Refusal::new(
            "row_count",
            format!(
                "the manifest counts {} rows but the file holds {footer_rows}",
                manifest.row_count
            ),
            REMAKE,
        ));
    }
    // The parquet reader panics on some damaged pages (a dictionary key out
    // of range): that is a damaged file, not a failure of the server.
    let rows = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_every_row(builder)))
        .unwrap_or_else(|_| {
        Err(Refusal::new(
            "damaged",
            "the file is damaged: a data page cannot be decoded",
            REMAKE,
        ))
    })?;
    if rows != manifest.row_count {
        return Err(Refusal::new(
            "row_count",
            format!(
                "the manifest counts {} rows but {rows} could be read",
                manifest.row_count
            ),
            REMAKE,
        ));
    }
    Ok(Checked { manifest, rows })
}

/// Whether a file starts with the four magic bytes of Parquet.
fn starts_with_parquet_magic(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| &magic == b"PAR1")
}

/// Decodes every page of every column, so a damaged data page is found now
/// rather than at linkage (a file with a damaged match-key page used to be
/// stored); returns the rows read. Batches are small: uploads run at once.
fn read_every_row(builder: ParquetRecordBatchReaderBuilder<File>) -> Result<u64, Refusal> {
    let damaged = |e: String| Refusal::new("damaged", format!("the file is damaged: {e}"), REMAKE);
    let reader = builder
        .with_batch_size(8_192)
        .build()
        .map_err(|e| damaged(e.to_string()))?;
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| damaged(e.to_string()))?;
        let refs = batch
            .column_by_name(RECORD_REF_COLUMN)
            .ok_or_else(|| damaged("no record_ref column".to_owned()))?;
        if refs.null_count() > 0 {
            return Err(Refusal::new(
                "schema",
                "some rows have no record reference",
                REMAKE,
            ));
        }
        rows += batch.num_rows() as u64;
    }
    Ok(rows)
}
