//! Sealed token files and the linker's public key (spec §10).
//!
//! A token file travels from the partner to the linker *sealed*: encrypted
//! with the age format (<https://age-encryption.org/v1>) to the linker's
//! X25519 recipient. The sealed envelope is transport only: what it holds is
//! an unchanged `pprl/v1` token file (§7). This module names the wire-stable
//! values; the client (sealing) and the linker (opening) use the `age` crate.

use crate::key::{FINGERPRINT_LEN, Fingerprint};

/// The first line of every sealed file: the age v1 header's version line
/// (spec §10.1). A token file starts `PAR1` instead (§7), so the two never
/// look alike.
pub const SEALED_PREFIX: &[u8] = b"age-encryption.org/v1\n";

/// The opening bytes of an unsealed token file (Parquet's magic).
pub const UNSEALED_PREFIX: &[u8] = b"PAR1";

/// The human-readable prefix of a linker recipient (an age X25519 public key).
pub const RECIPIENT_PREFIX: &str = "age1";

/// BLAKE3 `derive_key` context of the linker-key fingerprint (spec §10.2).
pub const LINKER_KEY_FINGERPRINT_CONTEXT: &str = "pprl/v1 linker key fingerprint";

/// Media type of a sealed upload body (spec §10.3).
pub const SEALED_MEDIA_TYPE: &str = "application/vnd.pprl.sealed-token-file";

/// What the first bytes of an upload say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// An age file: a sealed token file (or something sealed to someone).
    Sealed,
    /// A Parquet file: an unsealed token file.
    Unsealed,
    /// Neither.
    Unknown,
}

impl Envelope {
    /// Classifies a file by its first bytes (at least 22 are needed to say
    /// `Sealed`, 4 to say `Unsealed`).
    pub fn of(head: &[u8]) -> Envelope {
        if head.starts_with(SEALED_PREFIX) {
            Envelope::Sealed
        } else if head.starts_with(UNSEALED_PREFIX) {
            Envelope::Unsealed
        } else {
            Envelope::Unknown
        }
    }
}

/// The fingerprint of a linker recipient (spec §10.2): the first 8 bytes of
/// `BLAKE3.derive_key("pprl/v1 linker key fingerprint", recipient)` over the
/// recipient's canonical text (`age1…`, lowercase, no whitespace), shown as
/// 16 lowercase hex digits like a project-key fingerprint (§2.3).
pub fn linker_key_fingerprint(recipient: &str) -> Fingerprint {
    let canonical = recipient.trim().to_ascii_lowercase();
    let derived = blake3::derive_key(LINKER_KEY_FINGERPRINT_CONTEXT, canonical.as_bytes());
    let mut bytes = [0u8; FINGERPRINT_LEN];
    bytes.copy_from_slice(&derived[..FINGERPRINT_LEN]);
    Fingerprint::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_told_apart_by_their_first_bytes() {
        assert_eq!(
            Envelope::of(b"age-encryption.org/v1\n-> X25519 abc"),
            Envelope::Sealed
        );
        assert_eq!(Envelope::of(b"PAR1\x15\x04"), Envelope::Unsealed);
        assert_eq!(Envelope::of(b"age-encryption.org/v2\n"), Envelope::Unknown);
        assert_eq!(Envelope::of(b""), Envelope::Unknown);
    }

    /// A fixed value, so that a second implementation can check its own
    /// (spec §10.2): changing it breaks every pinned `linker_key_fingerprint`.
    #[test]
    fn the_linker_key_fingerprint_is_fixed() {
        let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        let fp = linker_key_fingerprint(recipient);
        assert_eq!(fp, linker_key_fingerprint(&recipient.to_ascii_uppercase()));
        assert_eq!(fp, linker_key_fingerprint(&format!(" {recipient}\n")));
        assert_eq!(fp.to_string().len(), 16);
        assert_eq!(
            fp.to_string(),
            "f74270cefd76486b",
            "the value in spec §10.2"
        );
        let expected = blake3::derive_key(LINKER_KEY_FINGERPRINT_CONTEXT, recipient.as_bytes());
        assert_eq!(fp.to_string(), hex::encode(&expected[..8]));
    }
}
