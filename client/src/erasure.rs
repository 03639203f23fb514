//! Deletion lists (issue 17, opt-out and erasure): a partner's own record
//! ids, read from a file, turned into the record references that tokenise
//! gives the same records (spec §5.3, keyed with the project key), so the
//! linker can erase them without learning a record id.
//!
//! The ids come from a file (one a line), never from the command line; each
//! line's buffer is wiped once hashed, and errors name the line, never its
//! text.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use pprl_keyed::key::ProjectKey;
use pprl_keyed::matchkey::MatchKeyHasher;
use pprl_specs::deletion::DeletionList;
use zeroize::Zeroizing;

/// Why a deletion list could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error("cannot read the record ids from {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: not UTF-8 text (one record id a line is expected)")]
    NotText { path: String, line: usize },
    #[error("{path} holds no record id (one record id a line; blank lines are skipped)")]
    Empty { path: String },
}

/// Makes the deletion list for `dataset` from the record ids in `ids`
/// (one a line, as in the extract's record id column; surrounding white
/// space and blank lines are ignored, as tokenise ignores them).
pub fn make(key: &ProjectKey, dataset: &str, ids: &Path) -> Result<DeletionList, MakeError> {
    let path = ids.display().to_string();
    let file = std::fs::File::open(ids).map_err(|source| MakeError::Read {
        path: path.clone(),
        source,
    })?;
    let list = from_reader(key, dataset, file, &path)?;
    Ok(list)
}

/// [`make`] over any reader; `name` names it in errors.
pub fn from_reader(
    key: &ProjectKey,
    dataset: &str,
    reader: impl Read,
    name: &str,
) -> Result<DeletionList, MakeError> {
    let hasher = MatchKeyHasher::new(key);
    let mut reader = BufReader::new(reader);
    let mut refs = Vec::new();
    let mut line = Zeroizing::new(Vec::new());
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| MakeError::Read {
                path: name.to_owned(),
                source,
            })?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = std::str::from_utf8(&line).map_err(|_| MakeError::NotText {
            path: name.to_owned(),
            line: number,
        })?;
        let id = text.trim_start_matches('\u{feff}').trim();
        if id.is_empty() {
            continue;
        }
        refs.push(hasher.record_ref(dataset, id));
    }
    if refs.is_empty() {
        return Err(MakeError::Empty {
            path: name.to_owned(),
        });
    }
    refs.sort_unstable();
    refs.dedup();
    Ok(DeletionList {
        dataset: dataset.to_owned(),
        key_fingerprint: key.fingerprint(),
        refs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ProjectKey {
        ProjectKey::from_bytes([7; 32])
    }

    #[test]
    fn references_are_those_tokenise_gives_and_no_id_is_kept() {
        let key = key();
        let list = from_reader(
            &key,
            "probation_caseload",
            &b"PR-1\r\n\n  PR-2 \nPR-1\n"[..],
            "ids.txt",
        )
        .expect("a list");
        let hasher = MatchKeyHasher::new(&key);
        let mut want = vec![
            hasher.record_ref("probation_caseload", "PR-1"),
            hasher.record_ref("probation_caseload", "PR-2"),
        ];
        want.sort_unstable();
        assert_eq!(list.refs, want);
        assert_eq!(list.key_fingerprint, key.fingerprint());
        let text = list.render();
        assert!(!text.contains("PR-"), "{text}");
        assert_eq!(DeletionList::parse(text.as_bytes()), Ok(list));
    }

    #[test]
    fn bad_input_is_refused_by_line_without_its_text() {
        let key = key();
        let err = from_reader(&key, "d", &b"PR-1\nPR-\xff2\n"[..], "ids.txt").expect_err("refused");
        assert_eq!(
            err.to_string(),
            "ids.txt, line 2: not UTF-8 text (one record id a line is expected)"
        );
        let err = from_reader(&key, "d", &b"\n \n"[..], "ids.txt").expect_err("refused");
        assert!(err.to_string().contains("holds no record id"), "{err}");
    }
}
