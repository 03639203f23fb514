//! The default [`PublicationStore`]: a folder per published run.
//!
//! Layout under the data folder: `publications/<project>/<run>/<file>`. A
//! run's files are written into `publications/<project>/.run-<run>.partial/`,
//! synced, and the folder renamed into place (then its parent synced), so a
//! reader never sees part of a publication.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::blob::Blob;
use super::blobs::sync_dir;
use super::{PublicationStore, PublishedFile, StagedPublication, StoreError, StoredOutputs};
use crate::ids::RunId;

const PARTIAL_PREFIX: &str = ".run-";
const PARTIAL_SUFFIX: &str = ".partial";

/// Publications in a local folder.
#[derive(Debug)]
pub struct FsPublicationStore {
    root: PathBuf,
}

impl FsPublicationStore {
    /// Publications under `data/publications` (created by the first run).
    pub fn open(data: &Path) -> Self {
        FsPublicationStore {
            root: data.join("publications"),
        }
    }
}

/// A file or folder name that stays inside its folder.
fn plain_name(name: &str) -> Result<&str, StoreError> {
    let plain =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if plain {
        Ok(name)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` is not a plain file name"),
        )
        .into())
    }
}

impl PublicationStore for FsPublicationStore {
    fn begin(&self, project: &str, run: RunId) -> Result<Box<dyn StagedPublication>, StoreError> {
        let dir = self.root.join(plain_name(project)?);
        let staging = dir.join(format!("{PARTIAL_PREFIX}{run}{PARTIAL_SUFFIX}"));
        // Left by an earlier attempt at this run that was interrupted.
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging)?;
        Ok(Box::new(FsStagedPublication {
            target: dir.join(run.to_string()),
            dir,
            staging,
            files: Vec::new(),
            committed: false,
        }))
    }

    fn open(&self, project: &str, run: RunId, name: &str) -> Result<Blob, StoreError> {
        let path = self
            .root
            .join(plain_name(project)?)
            .join(run.to_string())
            .join(plain_name(name)?);
        Ok(Blob::from_file(File::open(path)?)?)
    }

    fn list(&self) -> Result<Vec<StoredOutputs>, StoreError> {
        let mut out = Vec::new();
        let projects = match fs::read_dir(&self.root) {
            Ok(projects) => projects,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for project in projects {
            let project = project?;
            if !project.file_type()?.is_dir() {
                continue;
            }
            let project_name = project.file_name().to_string_lossy().into_owned();
            for entry in fs::read_dir(project.path())? {
                let entry = entry?.file_name().to_string_lossy().into_owned();
                let partial = entry
                    .strip_prefix(PARTIAL_PREFIX)
                    .and_then(|rest| rest.strip_suffix(PARTIAL_SUFFIX));
                let run = partial.unwrap_or(&entry).parse::<u64>().ok().map(RunId);
                out.push(StoredOutputs {
                    project: project_name.clone(),
                    run,
                    committed: partial.is_none() && run.is_some(),
                    entry,
                });
            }
        }
        Ok(out)
    }

    fn remove(&self, outputs: &StoredOutputs) -> Result<(), StoreError> {
        let path = self
            .root
            .join(plain_name(&outputs.project)?)
            .join(plain_name(&outputs.entry)?);
        if path.is_dir() {
            fs::remove_dir_all(path)?;
        } else {
            fs::remove_file(path)?;
        }
        Ok(())
    }
}

/// A run's outputs being written; the folder is removed on drop unless committed.
#[derive(Debug)]
struct FsStagedPublication {
    dir: PathBuf,
    staging: PathBuf,
    target: PathBuf,
    files: Vec<String>,
    committed: bool,
}

impl StagedPublication for FsStagedPublication {
    fn create(&mut self, name: &str) -> Result<Box<dyn Write + Send>, StoreError> {
        let file = File::create_new(self.staging.join(plain_name(name)?))?;
        self.files.push(name.to_owned());
        Ok(Box::new(file))
    }

    fn commit(mut self: Box<Self>) -> Result<Vec<PublishedFile>, StoreError> {
        let mut published = Vec::with_capacity(self.files.len());
        for name in &self.files {
            let file = File::open(self.staging.join(name))?;
            file.sync_all()?;
            let mut hasher = blake3::Hasher::new();
            hasher.update_reader(&file)?;
            published.push(PublishedFile {
                name: name.clone(),
                bytes: file.metadata()?.len(),
                blake3: hasher.finalize().to_hex().to_string(),
            });
        }
        sync_dir(&self.staging)?;
        // Left by an attempt that renamed but was not recorded.
        let _ = fs::remove_dir_all(&self.target);
        fs::rename(&self.staging, &self.target)?;
        self.committed = true;
        sync_dir(&self.dir)?;
        Ok(published)
    }
}

impl Drop for FsStagedPublication {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_publication_appears_whole_on_commit_and_not_at_all_if_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsPublicationStore::open(dir.path());
        assert!(store.list().expect("lists").is_empty());

        let mut dropped = store.begin("p", RunId(1)).expect("begins");
        dropped
            .create("a.json")
            .expect("creates")
            .write_all(b"{}")
            .expect("writes");
        assert_eq!(store.list().expect("lists").len(), 1, "the partial folder");
        assert!(!store.list().expect("lists")[0].committed);
        drop(dropped);
        assert!(store.list().expect("lists").is_empty());

        let mut staged = store.begin("p", RunId(2)).expect("begins");
        for (name, text) in [("a.json", "{}"), ("b.html", "<p>")] {
            staged
                .create(name)
                .expect("creates")
                .write_all(text.as_bytes())
                .expect("writes");
        }
        assert!(staged.create("../x").is_err(), "names stay in the folder");
        assert!(store.open("p", RunId(2), "a.json").is_err(), "not yet");
        let files = staged.commit().expect("commits");
        assert_eq!(
            files
                .iter()
                .map(|f| (f.name.as_str(), f.bytes))
                .collect::<Vec<_>>(),
            [("a.json", 2), ("b.html", 3)]
        );
        assert_eq!(files[0].blake3, blake3::hash(b"{}").to_hex().to_string());
        let mut text = String::new();
        store
            .open("p", RunId(2), "b.html")
            .expect("opens")
            .read_to_string(&mut text)
            .expect("reads");
        assert_eq!(text, "<p>");
        let listed = store.list().expect("lists");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (
                listed[0].project.as_str(),
                listed[0].run,
                listed[0].committed
            ),
            ("p", Some(RunId(2)), true)
        );
        store.remove(&listed[0]).expect("removes");
        assert!(store.list().expect("lists").is_empty());
    }
}
