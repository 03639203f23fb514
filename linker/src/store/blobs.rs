//! The default [`BlobStore`]: a folder of files named by their BLAKE3
//! checksum, with a staging folder for uploads in progress.
//!
//! Layout under the data folder: `blobs/<first two hex>/<checksum>.parquet`
//! and `staging/`. A blob appears only by `rename` of a complete, synced file,
//! so a reader never sees a partial one.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::{BlobStore, StoreError};

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

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl BlobStore for FsBlobStore {
    fn staging_path(&self) -> Result<PathBuf, StoreError> {
        let mut name = [0u8; 12];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut name)
            .map_err(|_| std::io::Error::other("the random generator failed"))?;
        Ok(self
            .staging
            .join(format!("upload-{}.part", hex::encode(name))))
    }

    fn publish(&self, staged: &Path, checksum: &str) -> Result<(), StoreError> {
        assert!(
            valid_checksum(checksum),
            "checksums are computed by the server as 64 hex digits"
        );
        let target = self.path(checksum);
        if target.exists() {
            fs::remove_file(staged)?;
            return Ok(());
        }
        let dir = target.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir)?;
        File::open(staged)?.sync_all()?;
        fs::rename(staged, &target)?;
        sync_dir(dir)?;
        Ok(())
    }

    fn path(&self, checksum: &str) -> PathBuf {
        self.blobs
            .join(&checksum[..2.min(checksum.len())])
            .join(format!("{checksum}.parquet"))
    }

    fn exists(&self, checksum: &str) -> bool {
        valid_checksum(checksum) && self.path(checksum).is_file()
    }

    fn remove(&self, checksum: &str) -> Result<(), StoreError> {
        match fs::remove_file(self.path(checksum)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
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
