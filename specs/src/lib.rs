//! `pprl/v2` (and the `pprl/v1` it extends), the protocol core of pprl.
//!
//! This crate is the executable half of the specification in `specs/spec/`
//! that needs no key: normalisation of identifiers, the match-key
//! definitions and their canonical messages, the Bloom-filter parameters and
//! the Dice comparison, the key constants and fingerprint type, and the
//! token-file schema and manifest. It takes values and returns values: it
//! reads no files, opens no sockets and asks no clock. Time and randomness
//! are passed in by the caller.
//!
//! The keyed half — the project key, derivation, the match-key HMAC and the
//! Bloom encoder, and the test vectors — is the crate `pprl-keyed`. Both the
//! client and the linker depend on this crate; only the client depends on
//! `pprl-keyed`, so the linker cannot compute a token.

pub mod bloom;
pub mod deletion;
pub mod key;
mod listfile;
pub mod matchkey;
pub mod normalise;
pub mod record;
pub mod rekeymap;
pub mod sealing;
pub mod tokenfile;

/// A version of the protocol (spec §1.3).
///
/// `pprl/v2` only appends match keys to `pprl/v1` (§5.2): every token,
/// encoding and column of `pprl/v1` is made the same way in both, so a
/// reader of `pprl/v2` reads a `pprl/v1` file as one whose appended keys are
/// all null, and partners move to the new version one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    /// The version this software writes.
    pub const CURRENT: Version = Version::V2;
    /// Every version this software reads, oldest first.
    pub const READABLE: [Version; 2] = [Version::V1, Version::V2];

    /// The version string (`pprl/v1`, `pprl/v2`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "pprl/v1",
            Version::V2 => "pprl/v2",
        }
    }

    /// The version a manifest's `spec_version` names, if this software reads it.
    pub fn parse(text: &str) -> Option<Version> {
        Version::READABLE.into_iter().find(|v| v.as_str() == text)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The version of the protocol this crate writes (spec §1.3).
pub const SPEC_VERSION: &str = Version::CURRENT.as_str();
/// The versions this crate reads, as a reader's error message lists them.
pub const READABLE_SPEC_VERSIONS: &str = "`pprl/v1` or `pprl/v2`";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readable_versions_message_lists_every_readable_version() {
        let listed: Vec<String> = Version::READABLE.iter().map(|v| format!("`{v}`")).collect();
        assert_eq!(READABLE_SPEC_VERSIONS, listed.join(" or "));
        assert!(Version::READABLE.contains(&Version::CURRENT));
        for v in Version::READABLE {
            assert_eq!(Version::parse(v.as_str()), Some(v));
        }
        assert_eq!(Version::parse("pprl/v3"), None);
    }
}
