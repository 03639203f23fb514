//! The default [`BlobStore`]: a folder of files named by their BLAKE3
//! checksum, with a staging folder for uploads in progress.
//!
//! Layout under the data folder: `blobs/<first two hex>/<checksum>.parquet`
//! and `staging/`. A blob appears only by `rename` of a complete, synced file,
//! so a reader never sees a partial one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::blob::Blob;
use super::{BlobStore, StagedBlob, StoreError};

/// Blobs in a local folder.
#[derive(Debug)]
pub struct FsBlobStore {
    blobs: PathBuf,
    staging: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating) the folders under `data`.
    pub fn open(data: &Path) -> Result<Self, StoreError> {
        let blobs = data.join("blobs");
        let staging = data.join("staging");
        fs::create_dir_all(&blobs)?;
        fs::create_dir_all(&staging)?;
        Ok(FsBlobStore { blobs, staging })
    }
}

fn valid_checksum(checksum: &str) -> bool {
    checksum.len() == 64
        && checksum
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where blob `checksum` lives under `blobs`.
fn blob_path(blobs: &Path, checksum: &str) -> PathBuf {
    blobs
        .join(&checksum[..2.min(checksum.len())])
        .join(format!("{checksum}.parquet"))
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A random name, so concurrent uploads never share a staged file.
pub(super) fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut name = vec![0u8; bytes];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut name)
        .map_err(|_| io::Error::other("the random generator failed"))?;
    Ok(hex::encode(name))
}

impl BlobStore for FsBlobStore {
    fn stage(&self) -> Result<Box<dyn StagedBlob>, StoreError> {
        let path = self
            .staging
            .join(format!("upload-{}.part", random_hex(12)?));
        let file = File::create_new(&path)?;
        Ok(Box::new(FsStagedBlob {
            file,
            path,
            blobs: self.blobs.clone(),
            committed: false,
        }))
    }

    fn open(&self, checksum: &str) -> Result<Blob, StoreError> {
        if !valid_checksum(checksum) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such blob").into());
        }
        Ok(Blob::from_file(File::open(blob_path(
            &self.blobs,
            checksum,
        ))?)?)
    }

    fn exists(&self, checksum: &str) -> bool {
        valid_checksum(checksum) && blob_path(&self.blobs, checksum).is_file()
    }

    fn remove(&self, checksum: &str) -> Result<(), StoreError> {
        match fs::remove_file(blob_path(&self.blobs, checksum)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for dir in fs::read_dir(&self.blobs)? {
            let dir = dir?;
            if !dir.file_type()?.is_dir() {
                continue;
            }
            for file in fs::read_dir(dir.path())? {
                let name = file?.file_name();
                if let Some(checksum) = name.to_str().and_then(|n| n.strip_suffix(".parquet"))
                    && valid_checksum(checksum)
                {
                    out.push(checksum.to_owned());
                }
            }
        }
        Ok(out)
    }

    fn clear_staging(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.staging)? {
            fs::remove_file(entry?.path())?;
            removed += 1;
        }
        Ok(removed)
    }
}

/// An upload streaming into `staging/`; removed on drop unless committed.
#[derive(Debug)]
struct FsStagedBlob {
    file: File,
    path: PathBuf,
    blobs: PathBuf,
    committed: bool,
}

impl Write for FsStagedBlob {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl StagedBlob for FsStagedBlob {
    fn contents(&mut self) -> Result<Blob, StoreError> {
        self.file.flush()?;
        Ok(Blob::from_file(File::open(&self.path)?)?)
    }

    fn commit(mut self: Box<Self>, checksum: &str) -> Result<(), StoreError> {
        assert!(
            valid_checksum(checksum),
            "checksums are computed by the server as 64 hex digits"
        );
        let target = blob_path(&self.blobs, checksum);
        if target.exists() {
            // The same bytes are already stored; dropping removes the copy.
            return Ok(());
        }
        let dir = target.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir)?;
        self.file.sync_all()?;
        fs::rename(&self.path, &target)?;
        self.committed = true;
        sync_dir(dir)?;
        Ok(())
    }
}

impl Drop for FsStagedBlob {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_staged_blob_is_invisible_until_committed_and_gone_if_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsBlobStore::open(dir.path()).expect("opens");
        let checksum = blake3::hash(b"token file").to_hex().to_string();

        let mut dropped = store.stage().expect("stages");
        dropped.write_all(b"token").expect("writes");
        drop(dropped);
        assert_eq!(
            fs::read_dir(dir.path().join("staging"))
                .expect("lists")
                .count(),
            0
        );

        let mut staged = store.stage().expect("stages");
        staged.write_all(b"token file").expect("writes");
        let mut seen = String::new();
        staged
            .contents()
            .expect("reads back")
            .read_to_string(&mut seen)
            .expect("reads");
        assert_eq!(seen, "token file");
        assert!(!store.exists(&checksum));
        staged.commit(&checksum).expect("commits");
        assert!(store.exists(&checksum));
        assert_eq!(store.list().expect("lists"), vec![checksum.clone()]);
        assert_eq!(store.open(&checksum).expect("opens").len(), 10);

        let mut again = store.stage().expect("stages");
        again.write_all(b"token file").expect("writes");
        again.commit(&checksum).expect("a repeat is a no-op");
        assert_eq!(store.clear_staging().expect("clears"), 0);
        store.remove(&checksum).expect("removes");
        assert!(!store.exists(&checksum));
    }
}
