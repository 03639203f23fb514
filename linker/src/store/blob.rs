//! A stored file opened for reading, whatever the backend keeps it in.
//!
//! A backend implements [`BlobSource`] (a length and reads at an offset);
//! [`Blob`] turns that into what the readers need: Parquet's
//! [`ChunkReader`] for the token-file validator and the record loader, and
//! `Read + Seek` for streaming a download.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;
use parquet::file::reader::{ChunkReader, Length};

/// Bytes a backend can read at any offset (a local file, an object in a bucket).
pub trait BlobSource: Send + Sync + 'static {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Reads up to `buf.len()` bytes at `offset`; `Ok(0)` only at the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

/// A stored file opened for reading. Clones share the source but each has
/// its own position.
#[derive(Clone)]
pub struct Blob {
    source: Arc<dyn BlobSource>,
    position: u64,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob")
            .field("len", &self.len())
            .field("position", &self.position)
            .finish()
    }
}

impl Blob {
    /// Reads from `source`, starting at its beginning.
    pub fn new(source: impl BlobSource) -> Self {
        Blob {
            source: Arc::new(source),
            position: 0,
        }
    }

    /// Reads a local file (its length is taken now: stored files never change).
    pub fn from_file(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Blob::new(LocalFile { file, len }))
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.source.size()
    }

    /// Whether the blob holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads up to `buf.len()` bytes at `offset`, leaving the position alone.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.source.read_at(offset, buf)
    }

    fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.source.read_at(offset, buf) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    offset += n as u64;
                    buf = &mut buf[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Read for Blob {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read_at(self.position, buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Blob {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.position)
    }
}

impl Length for Blob {
    fn len(&self) -> u64 {
        self.source.size()
    }
}

impl ChunkReader for Blob {
    type T = BufReader<Blob>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(BufReader::new(Blob {
            source: self.source.clone(),
            position: start,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let mut buf = vec![0u8; length];
        self.read_exact_at(start, &mut buf)?;
        Ok(buf.into())
    }
}

/// A local file, read with positional reads (no shared cursor).
struct LocalFile {
    file: File,
    len: u64,
}

impl BlobSource for LocalFile {
    fn size(&self) -> u64 {
        self.len
    }

    #[cfg(unix)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&self.file, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_blob_reads_seeks_and_serves_byte_ranges() {
        let mut file = tempfile::tempfile().expect("a temp file");
        file.write_all(b"0123456789").expect("written");
        let mut blob = Blob::from_file(file).expect("opens");
        assert_eq!(blob.len(), 10);
        let mut text = String::new();
        blob.seek(SeekFrom::Start(4)).expect("seeks");
        blob.read_to_string(&mut text).expect("reads");
        assert_eq!(text, "456789");
        assert_eq!(&blob.get_bytes(2, 3).expect("a range")[..], b"234");
        assert!(blob.get_bytes(8, 3).is_err(), "a range past the end");
        let mut from = String::new();
        blob.get_read(7)
            .expect("a reader")
            .read_to_string(&mut from)
            .expect("reads");
        assert_eq!(from, "789");
        assert_eq!(blob.seek(SeekFrom::End(-1)).expect("seeks"), 9);
        assert!(blob.seek(SeekFrom::Current(-20)).is_err());
    }
}
