//! Deletion lists (spec §5.5): the record references of a partner's records
//! that must be erased from a dataset, as the client writes them and the
//! linker reads them.
//!
//! ```text
//! pprl-deletion-list/1
//! dataset probation_caseload
//! key_fingerprint 3f9a0c11d2e4b577
//! 5b0c…(32 hexadecimal digits, one record reference a line)
//! ```
//!
//! The references are those of spec §5.3, made with the project key from the
//! partner's own record ids; a list never holds a record id. Errors name the
//! line and the rule broken, never the line's text (it might be a record id
//! pasted by mistake).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::key::Fingerprint;
use crate::listfile;
use crate::matchkey::{TOKEN_LEN, Token};

/// The first line of every deletion list of this version.
pub const DELETION_LIST_HEADER: &str = "pprl-deletion-list/1";
const DATASET_FIELD: &str = "dataset";
const FINGERPRINT_FIELD: &str = "key_fingerprint";

/// A parsed deletion list: its references sorted, each once.
#[derive(Clone, PartialEq, Eq)]
pub struct DeletionList {
    pub dataset: String,
    pub key_fingerprint: Fingerprint,
    pub refs: Vec<Token>,
}

impl std::fmt::Debug for DeletionList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeletionList")
            .field("dataset", &self.dataset)
            .field("key_fingerprint", &self.key_fingerprint)
            .field("refs", &format_args!("<{} references>", self.refs.len()))
            .finish()
    }
}

/// Why a deletion list was refused: the line and the rule, never the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeletionListError {
    #[error("deletion list: line {line} is not UTF-8 text")]
    NotText { line: usize },
    #[error(
        "deletion list: line 1 must be `{DELETION_LIST_HEADER}` (make the list with `pprl-client erase`)"
    )]
    Header,
    #[error("deletion list: line 2 must be `{DATASET_FIELD} NAME`")]
    Dataset,
    #[error(
        "deletion list: line 3 must be `{FINGERPRINT_FIELD} FINGERPRINT` (16 hexadecimal digits)"
    )]
    Fingerprint,
    #[error(
        "deletion list: line {line} is not a record reference (32 hexadecimal digits); a deletion list holds the references `pprl-client erase` makes, never record ids"
    )]
    Reference { line: usize },
    #[error("deletion list: it holds no record reference")]
    Empty,
}

impl DeletionList {
    /// Parses a deletion list; blank lines after the header are skipped and
    /// repeated references kept once.
    pub fn parse(bytes: &[u8]) -> Result<Self, DeletionListError> {
        use DeletionListError as E;
        let mut lines = listfile::lines(bytes).map_err(|line| E::NotText { line })?;
        if lines.next().map(str::trim) != Some(DELETION_LIST_HEADER) {
            return Err(E::Header);
        }
        let field = listfile::field;
        let dataset = field(lines.next(), DATASET_FIELD).ok_or(E::Dataset)?;
        let key_fingerprint = field(lines.next(), FINGERPRINT_FIELD)
            .and_then(|f| Fingerprint::parse(&f).ok())
            .ok_or(E::Fingerprint)?;
        let mut refs = BTreeSet::new();
        for (i, line) in lines.enumerate() {
            let line_number = i + 4;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut token = [0u8; TOKEN_LEN];
            if line.len() != 2 * TOKEN_LEN || hex::decode_to_slice(line, &mut token).is_err() {
                return Err(E::Reference { line: line_number });
            }
            refs.insert(token);
        }
        if refs.is_empty() {
            return Err(E::Empty);
        }
        Ok(DeletionList {
            dataset,
            key_fingerprint,
            refs: refs.into_iter().collect(),
        })
    }

    /// The list as text, in the format [`parse`](Self::parse) reads.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(80 + self.refs.len() * (2 * TOKEN_LEN + 1));
        out.push_str(DELETION_LIST_HEADER);
        out.push('\n');
        let _ = writeln!(out, "{DATASET_FIELD} {}", self.dataset);
        let _ = writeln!(out, "{FINGERPRINT_FIELD} {}", self.key_fingerprint);
        for r in &self.refs {
            out.push_str(&hex::encode(r));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> DeletionList {
        DeletionList {
            dataset: "probation_caseload".to_owned(),
            key_fingerprint: Fingerprint::parse("0011223344556677").expect("a fingerprint"),
            refs: vec![[1; TOKEN_LEN], [0xab; TOKEN_LEN]],
        }
    }

    #[test]
    fn a_rendered_list_parses_back() {
        let text = list().render();
        assert!(text.starts_with("pprl-deletion-list/1\ndataset probation_caseload\n"));
        assert_eq!(DeletionList::parse(text.as_bytes()), Ok(list()));
        // Repeats are kept once, blank lines and CRLF are accepted.
        let doubled = format!(
            "{}\r\n{}\n",
            text.replace('\n', "\r\n"),
            hex::encode([1; 16])
        );
        assert_eq!(DeletionList::parse(doubled.as_bytes()), Ok(list()));
    }

    #[test]
    fn malformed_lists_are_refused_by_line_without_their_text() {
        let good = list().render();
        let with_line = |n: usize, text: &str| {
            let mut lines: Vec<&str> = good.lines().collect();
            lines[n - 1] = text;
            lines.join("\n")
        };
        for (text, want) in [
            (String::new(), DeletionListError::Header),
            (
                with_line(1, "pprl-deletion-list/2"),
                DeletionListError::Header,
            ),
            (with_line(2, "dataset"), DeletionListError::Dataset),
            (with_line(2, "datasetx y"), DeletionListError::Dataset),
            (
                with_line(3, "key_fingerprint 00112233"),
                DeletionListError::Fingerprint,
            ),
            (
                with_line(5, "PR-000123"),
                DeletionListError::Reference { line: 5 },
            ),
            (
                format!("{good}{}\n", "g".repeat(32)),
                DeletionListError::Reference { line: 6 },
            ),
            (
                good.lines().take(3).collect::<Vec<_>>().join("\n"),
                DeletionListError::Empty,
            ),
        ] {
            let err = DeletionList::parse(text.as_bytes()).expect_err("refused");
            assert_eq!(err, want);
            assert!(!err.to_string().contains("PR-000123"), "{err}");
        }
        let mut bytes = good.into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        assert_eq!(
            DeletionList::parse(&bytes),
            Err(DeletionListError::NotText { line: 6 })
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_are_refused_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = DeletionList::parse(&bytes);
            let mut text = b"pprl-deletion-list/1\ndataset d\nkey_fingerprint 0011223344556677\n".to_vec();
            text.extend_from_slice(&bytes);
            let _ = DeletionList::parse(&text);
        }

        #[test]
        fn any_list_round_trips(
            dataset in "[A-Za-z0-9_-]{1,20}",
            refs in proptest::collection::btree_set(proptest::array::uniform16(proptest::num::u8::ANY), 1..20),
        ) {
            let list = DeletionList {
                dataset,
                key_fingerprint: Fingerprint::parse("a1b2c3d4e5f60718").expect("a fingerprint"),
                refs: refs.into_iter().collect(),
            };
            proptest::prop_assert_eq!(DeletionList::parse(list.render().as_bytes()), Ok(list));
        }
    }

    #[test]
    fn debug_shows_no_reference() {
        let shown = format!("{:?}", list());
        assert!(!shown.contains(&hex::encode([0xab; 16])), "{shown}");
        assert!(shown.contains("<2 references>"), "{shown}");
    }
}
