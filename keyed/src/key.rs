//! The project key and the keys derived from it (spec §2).
//!
//! The constants (contexts, lengths, the key-file prefix) and the
//! [`Fingerprint`] type are in `pprl_specs::key`, so that the linker can
//! check a fingerprint without being able to hold a key.

use std::fmt;

use pprl_specs::key::{
    FINGERPRINT_CONTEXT, FINGERPRINT_LEN, Fingerprint, KEY_ID_LINE_PREFIX, KEY_LEN,
    KEY_LINE_PREFIX, KeyId,
};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A 256-bit project key shared by the partners of one project.
///
/// It cannot be cloned, printed or serialised; it is wiped when dropped.
/// Read it with [`ProjectKey::expose_secret`] only where it is needed.
/// Its key id (spec §2.4), where its file names one, is not secret.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct ProjectKey([u8; KEY_LEN], #[zeroize(skip)] Option<KeyId>);

impl ProjectKey {
    /// Wraps key bytes (with no key id). The caller should wipe its own copy.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        ProjectKey(bytes, None)
    }

    /// The same key, named by the project's key id `id` (spec §2.4).
    pub fn with_id(mut self, id: KeyId) -> Self {
        self.1 = Some(id);
        self
    }

    /// The key id its file names, if any (spec §2.4).
    pub fn id(&self) -> Option<KeyId> {
        self.1
    }

    /// The raw key bytes. The name is a warning: do not log or store them.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The one-way fingerprint that identifies this key (spec §2.3).
    pub fn fingerprint(&self) -> Fingerprint {
        let full = Zeroizing::new(blake3::derive_key(FINGERPRINT_CONTEXT, &self.0));
        let mut short = [0u8; FINGERPRINT_LEN];
        short.copy_from_slice(&full[..FINGERPRINT_LEN]);
        Fingerprint::from_bytes(short)
    }

    /// The key derived for one purpose (spec §2.2).
    pub fn derive(&self, context: &str) -> DerivedKey {
        DerivedKey(blake3::derive_key(context, &self.0))
    }

    /// Parses the text of a key file (spec §2.1, its key id §2.4).
    pub fn from_key_file(text: &str) -> Result<Self, KeyFileError> {
        let mut found: Option<ProjectKey> = None;
        let mut id: Option<KeyId> = None;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(number) = line.strip_prefix(KEY_ID_LINE_PREFIX) {
                if id.is_some() {
                    return Err(KeyFileError::MoreThanOneKeyId);
                }
                id = Some(KeyId::parse(number).map_err(|_| KeyFileError::BadKeyId)?);
                continue;
            }
            let Some(hex_part) = line.strip_prefix(KEY_LINE_PREFIX) else {
                return Err(KeyFileError::UnexpectedLine);
            };
            if found.is_some() {
                return Err(KeyFileError::MoreThanOneKey);
            }
            let hex_part = hex_part.trim();
            if hex_part.len() != KEY_LEN * 2 {
                return Err(KeyFileError::WrongLength);
            }
            let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
            hex::decode_to_slice(hex_part, &mut bytes[..]).map_err(|_| KeyFileError::NotHex)?;
            found = Some(ProjectKey(*bytes, None));
        }
        let mut key = found.ok_or(KeyFileError::NoKey)?;
        key.1 = id;
        Ok(key)
    }

    /// The text of a key file holding this key (spec §2.1).
    ///
    /// The returned buffer holds the key: it is wiped when dropped.
    pub fn to_key_file(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(256));
        text.push_str("# pprl project key (");
        text.push_str(pprl_specs::SPEC_VERSION);
        text.push_str("). Keep it secret: whoever holds it can link your data.\n");
        text.push_str("# fingerprint: ");
        text.push_str(&self.fingerprint().to_string());
        text.push('\n');
        if let Some(id) = self.1 {
            text.push_str(KEY_ID_LINE_PREFIX);
            text.push_str(&id.to_string());
            text.push('\n');
        }
        text.push_str(KEY_LINE_PREFIX);
        let hex_key = Zeroizing::new(hex::encode(self.0));
        text.push_str(&hex_key);
        text.push('\n');
        text
    }
}

impl fmt::Debug for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProjectKey(<redacted>)")
    }
}

/// A 256-bit key derived from the project key for one purpose.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DerivedKey([u8; KEY_LEN]);

impl DerivedKey {
    /// The raw derived key bytes. Do not log or store them.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKey(<redacted>)")
    }
}

/// Why the text of a key file was refused. Never carries key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("no line starting with `{KEY_LINE_PREFIX}` was found")]
    NoKey,
    #[error("more than one key line was found")]
    MoreThanOneKey,
    #[error(
        "a line is neither a comment, a `{KEY_ID_LINE_PREFIX}` line nor a `{KEY_LINE_PREFIX}` line"
    )]
    UnexpectedLine,
    #[error("the key is not {} hexadecimal digits", KEY_LEN * 2)]
    WrongLength,
    #[error("the key contains characters that are not hexadecimal digits")]
    NotHex,
    #[error("more than one `{KEY_ID_LINE_PREFIX}` line was found")]
    MoreThanOneKeyId,
    #[error("the `{KEY_ID_LINE_PREFIX}` line does not hold a whole number from 1")]
    BadKeyId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pprl_specs::key::{
        BLOOM_HASH_CONTEXT, BLOOM_PERMUTATION_CONTEXT, MATCH_KEY_CONTEXT, RECORD_REF_CONTEXT,
    };

    fn sample() -> ProjectKey {
        ProjectKey::from_bytes([7u8; KEY_LEN])
    }

    #[test]
    fn debug_is_redacted() {
        let key = sample();
        let shown = format!("{key:?} {:?}", key.derive(MATCH_KEY_CONTEXT));
        assert_eq!(shown, "ProjectKey(<redacted>) DerivedKey(<redacted>)");
        assert!(!shown.contains("0707"));
    }

    #[test]
    fn key_file_round_trips() {
        let key = sample();
        let text = key.to_key_file();
        let back = ProjectKey::from_key_file(&text).expect("a written key file parses");
        assert_eq!(back.expose_secret(), key.expose_secret());
        assert!(text.contains(&key.fingerprint().to_string()));
        assert_eq!(back.id(), None);
        let two = KeyId::try_new(2).expect("2 is a key id");
        let text = sample().with_id(two).to_key_file();
        assert!(text.contains("\npprl-key-id:2\n"), "{}", text.as_str());
        let back = ProjectKey::from_key_file(&text).expect("a key file with an id parses");
        assert_eq!(back.id(), Some(two));
        assert_eq!(back.expose_secret(), key.expose_secret());
    }

    #[test]
    fn key_file_errors() {
        assert_eq!(
            ProjectKey::from_key_file("# only a comment\n").unwrap_err(),
            KeyFileError::NoKey
        );
        assert_eq!(
            ProjectKey::from_key_file("hello\n").unwrap_err(),
            KeyFileError::UnexpectedLine
        );
        assert_eq!(
            ProjectKey::from_key_file("pprl-key-v1:abcd\n").unwrap_err(),
            KeyFileError::WrongLength
        );
        let bad_hex = format!("{KEY_LINE_PREFIX}{}", "zz".repeat(KEY_LEN));
        assert_eq!(
            ProjectKey::from_key_file(&bad_hex).unwrap_err(),
            KeyFileError::NotHex
        );
        let one = format!("{KEY_LINE_PREFIX}{}\n", "ab".repeat(KEY_LEN));
        assert_eq!(
            ProjectKey::from_key_file(&format!("{one}{one}")).unwrap_err(),
            KeyFileError::MoreThanOneKey
        );
        let id = format!("{KEY_ID_LINE_PREFIX}2\n");
        assert_eq!(
            ProjectKey::from_key_file(&format!("{id}{id}{one}")).unwrap_err(),
            KeyFileError::MoreThanOneKeyId
        );
        assert_eq!(
            ProjectKey::from_key_file(&format!("{KEY_ID_LINE_PREFIX}0\n{one}")).unwrap_err(),
            KeyFileError::BadKeyId
        );
    }

    #[test]
    fn fingerprint_identifies_key_without_revealing_it() {
        let a = sample().fingerprint();
        let b = ProjectKey::from_bytes([8u8; KEY_LEN]).fingerprint();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 16);
        assert_eq!(Fingerprint::parse(&a.to_string()), Ok(a));
        assert!(Fingerprint::parse("xyz").is_err());
    }

    #[test]
    fn derived_keys_differ_by_context() {
        let key = sample();
        let contexts = [
            FINGERPRINT_CONTEXT,
            MATCH_KEY_CONTEXT,
            RECORD_REF_CONTEXT,
            BLOOM_HASH_CONTEXT,
            BLOOM_PERMUTATION_CONTEXT,
        ];
        for (i, a) in contexts.iter().enumerate() {
            for b in &contexts[i + 1..] {
                assert_ne!(key.derive(a).expose_secret(), key.derive(b).expose_secret());
            }
        }
    }
}
