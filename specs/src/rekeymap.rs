//! Re-key maps (spec §10.6, issue 16): for a dataset, each record's
//! reference under the retiring project key paired with its reference under
//! the new key, so that the linker carries a person's identifier across a
//! rotation without learning a record id.
//!
//! ```text
//! pprl-rekey-map/1
//! dataset probation_caseload
//! old_key 3f9a0c11d2e4b577 1
//! new_key 81c2d0e4a9b3f605 2
//! 5b0c…(32 hex digits) 9e41…(32 hex digits)
//! ```
//!
//! `old_key` and `new_key` give each key's fingerprint (§2.3) and key id
//! (§2.4; `-` where the key file names none). Both references are those of
//! §5.3, keyed; a map never holds a record id. It leaves the partner only
//! sealed to the linker (§10.1). Errors name the line and the rule broken,
//! never the line's text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::key::{Fingerprint, KeyId};
use crate::listfile;
use crate::matchkey::{TOKEN_LEN, Token};

/// The first line of every re-key map of this version.
pub const REKEY_MAP_HEADER: &str = "pprl-rekey-map/1";
const DATASET_FIELD: &str = "dataset";
const OLD_KEY_FIELD: &str = "old_key";
const NEW_KEY_FIELD: &str = "new_key";

/// One key a map names: its fingerprint and, where known, its key id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapKey {
    pub fingerprint: Fingerprint,
    pub key_id: Option<KeyId>,
}

/// A parsed re-key map: pairs sorted by old reference, each old reference once.
#[derive(Clone, PartialEq, Eq)]
pub struct RekeyMap {
    pub dataset: String,
    pub old_key: MapKey,
    pub new_key: MapKey,
    /// (reference under the old key, reference under the new key).
    pub pairs: Vec<(Token, Token)>,
}

impl std::fmt::Debug for RekeyMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RekeyMap")
            .field("dataset", &self.dataset)
            .field("old_key", &self.old_key)
            .field("new_key", &self.new_key)
            .field("pairs", &format_args!("<{} pairs>", self.pairs.len()))
            .finish()
    }
}

/// Why a re-key map was refused: the line and the rule, never the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RekeyMapFormatError {
    #[error("re-key map: line {line} is not UTF-8 text")]
    NotText { line: usize },
    #[error(
        "re-key map: line 1 must be `{REKEY_MAP_HEADER}` (make the map with `pprl-client rekey`)"
    )]
    Header,
    #[error("re-key map: line 2 must be `{DATASET_FIELD} NAME`")]
    Dataset,
    #[error(
        "re-key map: line {line} must be `{field} FINGERPRINT KEY_ID` (16 hexadecimal digits, then a key id or `-`)"
    )]
    Key { line: usize, field: &'static str },
    #[error("re-key map: the old and the new key are the same key")]
    SameKey,
    #[error(
        "re-key map: line {line} is not two record references (32 hexadecimal digits each, separated by a space)"
    )]
    Pair { line: usize },
    #[error(
        "re-key map: line {line} maps an old record reference that an earlier line maps to another"
    )]
    Conflict { line: usize },
    #[error("re-key map: it holds no pair")]
    Empty,
}

fn parse_ref(text: &str) -> Option<Token> {
    let mut token = [0u8; TOKEN_LEN];
    (text.len() == 2 * TOKEN_LEN && hex::decode_to_slice(text, &mut token).is_ok()).then_some(token)
}

impl RekeyMap {
    /// Parses a re-key map; blank lines after the header are skipped and a
    /// repeated pair is kept once.
    pub fn parse(bytes: &[u8]) -> Result<Self, RekeyMapFormatError> {
        use RekeyMapFormatError as E;
        let mut lines = listfile::lines(bytes).map_err(|line| E::NotText { line })?;
        if lines.next().map(str::trim) != Some(REKEY_MAP_HEADER) {
            return Err(E::Header);
        }
        let field = listfile::field;
        let dataset = field(lines.next(), DATASET_FIELD).ok_or(E::Dataset)?;
        let key = |line: Option<&str>, number: usize, name: &'static str| {
            let bad = E::Key {
                line: number,
                field: name,
            };
            let value = field(line, name).ok_or(bad.clone())?;
            let mut parts = value.split_whitespace();
            let fingerprint = parts
                .next()
                .and_then(|f| Fingerprint::parse(f).ok())
                .ok_or(bad.clone())?;
            let key_id = match parts.next() {
                Some("-") => None,
                Some(id) => Some(KeyId::parse(id).map_err(|_| bad.clone())?),
                None => return Err(bad),
            };
            if parts.next().is_some() {
                return Err(bad);
            }
            Ok(MapKey {
                fingerprint,
                key_id,
            })
        };
        let old_key = key(lines.next(), 3, OLD_KEY_FIELD)?;
        let new_key = key(lines.next(), 4, NEW_KEY_FIELD)?;
        if old_key.fingerprint == new_key.fingerprint {
            return Err(E::SameKey);
        }
        let mut pairs = BTreeMap::new();
        for (i, line) in lines.enumerate() {
            let number = i + 5;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(old), Some(new), None) = (
                parts.next().and_then(parse_ref),
                parts.next().and_then(parse_ref),
                parts.next(),
            ) else {
                return Err(E::Pair { line: number });
            };
            if pairs.insert(old, new).is_some_and(|before| before != new) {
                return Err(E::Conflict { line: number });
            }
        }
        if pairs.is_empty() {
            return Err(E::Empty);
        }
        Ok(RekeyMap {
            dataset,
            old_key,
            new_key,
            pairs: pairs.into_iter().collect(),
        })
    }

    /// The map as text, in the format [`parse`](Self::parse) reads.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(120 + self.pairs.len() * (4 * TOKEN_LEN + 2));
        out.push_str(REKEY_MAP_HEADER);
        out.push('\n');
        let _ = writeln!(out, "{DATASET_FIELD} {}", self.dataset);
        for (name, key) in [
            (OLD_KEY_FIELD, &self.old_key),
            (NEW_KEY_FIELD, &self.new_key),
        ] {
            let id = key
                .key_id
                .map_or_else(|| "-".to_owned(), |id| id.to_string());
            let _ = writeln!(out, "{name} {} {id}", key.fingerprint);
        }
        for (old, new) in &self.pairs {
            out.push_str(&hex::encode(old));
            out.push(' ');
            out.push_str(&hex::encode(new));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> RekeyMap {
        RekeyMap {
            dataset: "probation_caseload".to_owned(),
            old_key: MapKey {
                fingerprint: Fingerprint::parse("0011223344556677").expect("a fingerprint"),
                key_id: None,
            },
            new_key: MapKey {
                fingerprint: Fingerprint::parse("8899aabbccddeeff").expect("a fingerprint"),
                key_id: KeyId::try_new(2),
            },
            pairs: vec![
                ([1; TOKEN_LEN], [2; TOKEN_LEN]),
                ([3; TOKEN_LEN], [4; TOKEN_LEN]),
            ],
        }
    }

    #[test]
    fn a_rendered_map_parses_back() {
        let text = map().render();
        assert!(text.starts_with(
            "pprl-rekey-map/1\ndataset probation_caseload\nold_key 0011223344556677 -\nnew_key 8899aabbccddeeff 2\n"
        ));
        assert_eq!(RekeyMap::parse(text.as_bytes()), Ok(map()));
        let doubled = format!(
            "{}\r\n\n{} {}\n",
            text.replace('\n', "\r\n"),
            hex::encode([1; 16]),
            hex::encode([2; 16])
        );
        assert_eq!(RekeyMap::parse(doubled.as_bytes()), Ok(map()));
        assert!(!format!("{:?}", map()).contains("0101"));
    }

    #[test]
    fn malformed_maps_are_refused_by_line_without_their_text() {
        use RekeyMapFormatError as E;
        let good = map().render();
        let with_line = |n: usize, text: &str| {
            let mut lines: Vec<&str> = good.lines().collect();
            lines[n - 1] = text;
            lines.join("\n")
        };
        let pair =
            |old: u8, new: u8| format!("{} {}", hex::encode([old; 16]), hex::encode([new; 16]));
        for (text, want) in [
            (String::new(), E::Header),
            (with_line(1, "pprl-rekey-map/2"), E::Header),
            (with_line(2, "dataset"), E::Dataset),
            (
                with_line(3, "old_key 0011"),
                E::Key {
                    line: 3,
                    field: "old_key",
                },
            ),
            (
                with_line(3, "old_key 0011223344556677"),
                E::Key {
                    line: 3,
                    field: "old_key",
                },
            ),
            (
                with_line(4, "new_key 8899aabbccddeeff 0"),
                E::Key {
                    line: 4,
                    field: "new_key",
                },
            ),
            (with_line(4, "new_key 0011223344556677 2"), E::SameKey),
            (with_line(5, "PR-000123 PR-000124"), E::Pair { line: 5 }),
            (with_line(5, &hex::encode([1; 16])), E::Pair { line: 5 }),
            (format!("{good}{}\n", pair(1, 9)), E::Conflict { line: 7 }),
            (
                good.lines().take(4).collect::<Vec<_>>().join("\n"),
                E::Empty,
            ),
        ] {
            let err = RekeyMap::parse(text.as_bytes()).expect_err("refused");
            assert_eq!(err, want);
            assert!(!err.to_string().contains("PR-000123"), "{err}");
        }
    }
}
