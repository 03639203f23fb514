//! Key constants and the key fingerprint (spec §2).
//!
//! The project key itself, and everything derived from it, lives in
//! `pprl_keyed::key`: this crate never holds key material, so a crate that
//! depends on it alone (the linker) cannot compute a token.

use std::fmt;

/// Length of a project key in bytes (256 bits).
pub const KEY_LEN: usize = 32;

/// The line prefix that marks the key in a key file (spec §2.1).
pub const KEY_LINE_PREFIX: &str = "pprl-key-v1:";

/// The line prefix of a key file's optional key id (spec §2.4): the
/// project's number for this key, 1 for its first, one more at each
/// rotation.
pub const KEY_ID_LINE_PREFIX: &str = "pprl-key-id:";

/// BLAKE3 `derive_key` context for the key fingerprint (spec §2.3).
pub const FINGERPRINT_CONTEXT: &str = "pprl/v1 key fingerprint";
/// BLAKE3 `derive_key` context for the match-key HMAC key (spec §2.2).
pub const MATCH_KEY_CONTEXT: &str = "pprl/v1 match-key token";
/// BLAKE3 `derive_key` context for the record-reference HMAC key (spec §2.2).
pub const RECORD_REF_CONTEXT: &str = "pprl/v1 record reference";
/// BLAKE3 `derive_key` context for the Bloom n-gram hashing key (spec §2.2).
pub const BLOOM_HASH_CONTEXT: &str = "pprl/v1 bloom n-gram hash";
/// BLAKE3 `derive_key` context for the Bloom permutation key (spec §2.2).
pub const BLOOM_PERMUTATION_CONTEXT: &str = "pprl/v1 bloom permutation";

/// Length of a fingerprint in bytes; shown as 16 lowercase hex digits.
pub const FINGERPRINT_LEN: usize = 8;

/// A short one-way check value that identifies a project key (spec §2.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; FINGERPRINT_LEN]);

impl Fingerprint {
    /// Parses 16 hex digits.
    pub fn parse(text: &str) -> Result<Self, FingerprintError> {
        let text = text.trim();
        if text.len() != FINGERPRINT_LEN * 2 {
            return Err(FingerprintError);
        }
        let mut bytes = [0u8; FINGERPRINT_LEN];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| FingerprintError)?;
        Ok(Fingerprint(bytes))
    }

    /// Wraps the bytes of a fingerprint computed from a key (spec §2.3).
    pub fn from_bytes(bytes: [u8; FINGERPRINT_LEN]) -> Self {
        Fingerprint(bytes)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A project's number for one of its keys (spec §2.4): 1 for the first,
/// one more at each rotation. Not secret; named beside the fingerprint in
/// key files, manifests and the project's key list.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct KeyId(u32);

impl KeyId {
    /// The first key of a project.
    pub const FIRST: KeyId = KeyId(1);

    /// A key id from its number; `None` for 0 (ids start at 1).
    pub fn try_new(n: u32) -> Option<Self> {
        (n > 0).then_some(KeyId(n))
    }

    /// Parses a decimal number from 1 to 2³²−1.
    pub fn parse(text: &str) -> Result<Self, KeyIdError> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KeyIdError);
        }
        text.parse::<u32>()
            .ok()
            .and_then(Self::try_new)
            .ok_or(KeyIdError)
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The id of the key that follows this one.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(KeyId)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A key id that is not a whole number from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a key id is a whole number from 1")]
pub struct KeyIdError;

/// A fingerprint that is not 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a key fingerprint is 16 hexadecimal digits")]
pub struct FingerprintError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_whole_numbers_from_one() {
        assert_eq!(KeyId::parse(" 2\n").map(KeyId::get), Ok(2));
        assert_eq!(KeyId::FIRST.next(), KeyId::try_new(2));
        for bad in ["", "0", "-1", "+1", "1.0", "x", "4294967296"] {
            assert_eq!(KeyId::parse(bad), Err(KeyIdError), "{bad}");
        }
    }

    #[test]
    fn fingerprint_parses_and_prints_as_hex() {
        let f = Fingerprint::from_bytes([0xab, 0, 1, 2, 3, 4, 5, 0xff]);
        assert_eq!(f.to_string(), "ab000102030405ff");
        assert_eq!(Fingerprint::parse(" ab000102030405ff\n"), Ok(f));
        assert_eq!(format!("{f:?}"), "Fingerprint(ab000102030405ff)");
        for bad in [
            "xyz",
            "ab000102030405f",
            "ab000102030405ffa",
            "zz000102030405ff",
        ] {
            assert_eq!(Fingerprint::parse(bad), Err(FingerprintError), "{bad}");
        }
    }
}
