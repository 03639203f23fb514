//! Validation of an uploaded token file before it is accepted (spec §7).
//!
//! Everything is checked against the file itself, through the one token-file
//! reader (`pprl_tokenfile`): that it is Parquet, that its manifest is there
//! and is `pprl/v1`, that it was made with the project's key, that it is a
//! version of the dataset it is uploaded as, that its schema is the spec's
//! for its declared attributes, and that every row the manifest counts can
//! be read. The last four are the reader's; the key and the dataset are this
//! module's policy, checked first because they are the likeliest mistakes.

use parquet::file::reader::ChunkReader;
use pprl_specs::tokenfile::Manifest;
use pprl_tokenfile::{ReadError, TokenFile};

use crate::store::Blob;

/// Why a token file was refused: what is wrong, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable machine-readable code.
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

impl Refusal {
    pub(crate) fn new(
        code: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
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

/// Checks a token file (as the blob store reads it back) against the
/// project's key fingerprint and the dataset it is uploaded as.
pub fn check_token_file(
    file: Blob,
    expected_fingerprint: &str,
    dataset: &str,
) -> Result<Checked, Refusal> {
    check_token_reader(file, expected_fingerprint, dataset)
}

/// [`check_token_file`] over any reader of the file's bytes.
pub fn check_token_reader<R: ChunkReader + 'static>(
    reader: R,
    expected_fingerprint: &str,
    dataset: &str,
) -> Result<Checked, Refusal> {
    let file = TokenFile::open(reader).map_err(refusal)?;
    let manifest = file.manifest();
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
    file.check_structure().map_err(refusal)?;
    let manifest = file.manifest().clone();
    let rows = file.count_rows().map_err(refusal)?;
    Ok(Checked { manifest, rows })
}

/// The refusal of an unsealed upload to a project that wants it sealed.
pub fn unsealed_refusal(identity: &crate::secrets::LinkerIdentity) -> Refusal {
    Refusal::new(
        "unsealed",
        "the upload is an unsealed token file; this project accepts only token files sealed to its linker's key",
        format!(
            "upload it with a pprl-client that seals (`pprl-client upload` with `linker_key_fingerprint = \"{}\"` in your partner config); never send the unsealed file itself",
            identity.fingerprint()
        ),
    )
}

/// The refusal for a file the reader could not accept.
fn refusal(e: ReadError) -> Refusal {
    match e {
        ReadError::NotParquet(detail) => Refusal::new(
            "not_parquet",
            format!("the upload is not a readable Parquet file ({detail})"),
            format!(
                "upload the token file written by `pprl-client tokenise`, not the extract; if it is one, it was damaged in transit: {REMAKE}"
            ),
        ),
        ReadError::NoManifest => Refusal::new(
            "no_manifest",
            "the file has no pprl manifest: it is not a token file",
            REMAKE,
        ),
        ReadError::BadManifest(e) => Refusal::new(
            "bad_manifest",
            format!("the file's manifest cannot be read: {e}"),
            REMAKE,
        ),
        ReadError::SpecVersion { found, expected } => Refusal::new(
            "spec_version",
            format!("the file was made for spec version `{found}`; this linker accepts {expected}"),
            "tokenise again with a pprl-client that speaks this spec version",
        ),
        ReadError::Structure(e) => Refusal::new(
            "schema",
            format!("the file does not follow the spec version it names: {e}"),
            REMAKE,
        ),
        ReadError::NullRecordRef => {
            Refusal::new("schema", "some rows have no record reference", REMAKE)
        }
        e @ ReadError::RowCount { .. } => Refusal::new("row_count", e.to_string(), REMAKE),
        e @ ReadError::Damaged(_) => Refusal::new("damaged", e.to_string(), REMAKE),
    }
}
