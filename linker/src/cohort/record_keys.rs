//! Record keys for the cell-key method (issue 17): each person's key in
//! `0..256`, stable from run to run and unknowable to an evaluator.
//!
//! A person's record key is the first byte of keyed BLAKE3 of their
//! published person id, under a key derived (BLAKE3 `derive_key`, context
//! [`RECORD_KEY_CONTEXT`]) from a per-project secret. The secret is 32
//! random bytes from the operating system (`ring`'s `SystemRandom`), made
//! the first time a project's cohort is published and kept in the linker's
//! metadata store ([`crate::store::MetaStore::cell_key_secret`]); it never
//! leaves the linker, is never logged, and is wiped from memory after use.
//! Person ids are stable across nightly runs (`pprl_engine::linkage::identity`),
//! so record keys are too; and without the secret a published person id
//! says nothing about its key, so an evaluator cannot compute cell keys.

use std::fmt;

use pprl_engine::cohort::ptable::CellKey;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// BLAKE3 `derive_key` context of the record-key hashing key. Wire-stable:
/// changing it changes every published figure.
pub const RECORD_KEY_CONTEXT: &str = "pprl-linker/v1 cell-key record key";

/// Bytes of a project's cell-key secret.
pub const SECRET_LEN: usize = 32;

/// A project's cell-key secret. No `Clone`, `Display` or `Serialize`; a
/// redacted `Debug`; wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct CellKeySecret([u8; SECRET_LEN]);

impl CellKeySecret {
    /// A fresh secret from the operating system's random generator.
    pub fn generate() -> CellKeySecret {
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .expect("the operating system's random generator works");
        CellKeySecret(*bytes)
    }

    /// A secret read back from storage; `None` unless it is [`SECRET_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<CellKeySecret> {
        let bytes: [u8; SECRET_LEN] = bytes.try_into().ok()?;
        Some(CellKeySecret(bytes))
    }

    /// The raw bytes, to store them.
    pub fn expose_secret(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// The record-key function of this secret.
    pub fn record_keys(&self) -> RecordKeys {
        RecordKeys(blake3::derive_key(RECORD_KEY_CONTEXT, &self.0))
    }
}

impl fmt::Debug for CellKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CellKeySecret(<redacted>)")
    }
}

/// The keyed function from person ids to record keys. Wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RecordKeys([u8; 32]);

impl RecordKeys {
    /// The record key of a person.
    pub fn key(&self, person_id: &str) -> CellKey {
        CellKey(blake3::keyed_hash(&self.0, person_id.as_bytes()).as_bytes()[0])
    }
}

impl fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordKeys(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = CellKeySecret::from_slice(&[0xab; SECRET_LEN]).expect("32 bytes");
        let keys = secret.record_keys();
        for text in [format!("{secret:?}"), format!("{keys:?}")] {
            assert!(text.contains("<redacted>"), "{text}");
            assert!(
                !text.to_lowercase().contains("ab, ") && !text.contains("171"),
                "{text}"
            );
        }
    }

    #[test]
    fn keys_are_stable_per_person_and_differ_between_secrets() {
        let a = CellKeySecret::from_slice(&[1; SECRET_LEN]).expect("32 bytes");
        let b = CellKeySecret::from_slice(&[2; SECRET_LEN]).expect("32 bytes");
        let ids: Vec<String> = (0..512).map(|i| format!("p_{i:016x}")).collect();
        let ka: Vec<CellKey> = ids.iter().map(|p| a.record_keys().key(p)).collect();
        let again: Vec<CellKey> = ids.iter().map(|p| a.record_keys().key(p)).collect();
        let kb: Vec<CellKey> = ids.iter().map(|p| b.record_keys().key(p)).collect();
        assert_eq!(ka, again, "the same secret gives the same keys");
        let same = ka.iter().zip(&kb).filter(|(x, y)| x == y).count();
        assert!(
            same < 16,
            "another secret gives other keys ({same} of 512 equal)"
        );
        // Spread over the range: every quarter of it is used.
        for q in 0..4u8 {
            assert!(ka.iter().any(|k| k.0 / 64 == q), "quarter {q} unused");
        }
    }

    #[test]
    fn the_secret_must_be_32_bytes_and_fresh_ones_differ() {
        assert!(CellKeySecret::from_slice(&[0; 31]).is_none());
        assert!(CellKeySecret::from_slice(&[0; 33]).is_none());
        assert_ne!(
            CellKeySecret::generate().expose_secret(),
            CellKeySecret::generate().expose_secret()
        );
    }
}
