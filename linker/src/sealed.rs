//! Opening a sealed upload (spec §10.3): an age file sealed to the linker's
//! identity, read as the token file it holds without writing that file
//! anywhere.
//!
//! [`open`] reads the age header with the linker's identity, then decrypts
//! the whole payload once, chunk by chunk, to authenticate every chunk and
//! learn the plaintext's length before anything parses it. The result,
//! [`SealedReader`], is a Parquet [`ChunkReader`] over the *plaintext*:
//! every read decrypts the 64 KiB chunks it covers from the sealed blob
//! (age's seekable `StreamReader`), so the raw token file never exists on
//! disk on the server and never whole in memory.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use age::stream::StreamReader;
use bytes::Bytes;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use crate::secrets::LinkerIdentity;
use crate::store::Blob;
use crate::validate::Refusal;

/// The plaintext of a sealed blob, readable at any offset.
#[derive(Clone)]
pub struct SealedReader {
    inner: Arc<Mutex<StreamReader<Blob>>>,
    len: u64,
}

impl std::fmt::Debug for SealedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedReader")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Opens `sealed` with the linker's identity: the header, then every
/// payload chunk authenticated. Refusals say what to do, never what the
/// file holds.
pub fn open(sealed: Blob, identity: &LinkerIdentity) -> Result<SealedReader, Refusal> {
    let decryptor = age::Decryptor::new(sealed).map_err(header_refusal)?;
    if decryptor.is_scrypt() {
        return Err(Refusal::new(
            "sealed_with_passphrase",
            "the file is sealed with a passphrase, not to this linker's key",
            RESEAL,
        ));
    }
    let mut reader = decryptor
        .decrypt(std::iter::once(
            identity.expose_identity() as &dyn age::Identity
        ))
        .map_err(header_refusal)?;
    // Authenticate every chunk (and find the plaintext's length) first, so
    // that a damaged or truncated payload is refused as such, not as a
    // Parquet error halfway through the checks.
    let len = io::copy(&mut reader, &mut io::sink()).map_err(|_| damaged())?;
    reader.seek(SeekFrom::Start(0)).map_err(|_| damaged())?;
    Ok(SealedReader {
        inner: Arc::new(Mutex::new(reader)),
        len,
    })
}

const RESEAL: &str = "upload the token file with `pprl-client upload`, which seals it to this linker's key (check the key's fingerprint with your project administrator)";

fn damaged() -> Refusal {
    Refusal::new(
        "sealed_damaged",
        "the sealed file is damaged: its contents fail authentication",
        "upload it again with `pprl-client upload`; if it keeps failing, tokenise again",
    )
}

fn header_refusal(e: age::DecryptError) -> Refusal {
    match e {
        age::DecryptError::NoMatchingKeys => Refusal::new(
            "sealed_to_other_key",
            "the file is sealed to another key than this linker's",
            "check `linker_key` (or `linker_key_fingerprint`) in your partner config against `pprl-client linker-key` and your project administrator, then upload again",
        ),
        age::DecryptError::DecryptionFailed
        | age::DecryptError::InvalidMac
        | age::DecryptError::KeyDecryptionFailed => damaged(),
        age::DecryptError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => Refusal::new(
            "sealed_damaged",
            "the sealed file is damaged: it ends inside its header",
            "upload it again with `pprl-client upload`; if it keeps failing, tokenise again",
        ),
        _ => Refusal::new(
            "sealed_damaged",
            "the sealed file's header cannot be read",
            "upload it again with `pprl-client upload`; if it keeps failing, tokenise again",
        ),
    }
}

impl SealedReader {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut reader = self
            .inner
            .lock()
            .map_err(|_| io::Error::other("a reader of this sealed file panicked"))?;
        reader.seek(SeekFrom::Start(offset))?;
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    }
}

impl Length for SealedReader {
    fn len(&self) -> u64 {
        self.len
    }
}

/// A sequential reader over the plaintext from some offset.
#[derive(Debug)]
pub struct SealedRange {
    file: SealedReader,
    pos: u64,
}

impl Read for SealedRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ChunkReader for SealedReader {
    type T = io::BufReader<SealedRange>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(io::BufReader::with_capacity(
            64 * 1024,
            SealedRange {
                file: self.clone(),
                pos: start,
            },
        ))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let mut buf = vec![0u8; length];
        let n = self
            .read_at(start, &mut buf)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        if n < length {
            return Err(ParquetError::EOF(format!(
                "expected {length} bytes at {start}, found {n}"
            )));
        }
        Ok(buf.into())
    }
}
