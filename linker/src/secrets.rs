//! The linker's own secrets (spec §10): its age identity, which opens the
//! token files partners seal to it, and one re-keying secret per project,
//! under which it re-keys every match-key token before storing it.
//!
//! Both live in `<data_dir>/secrets/` (mode 0700), one file each (mode
//! 0600), apart from the database and the blob store, so that a copy of
//! those two — a backup, a stolen disk image of the store — holds no key
//! that opens or re-keys anything. Each is made on first use (the identity
//! when the linker first opens its data folder; a project's secret at its
//! first upload), written under a temporary name and linked into place, so
//! two processes starting at once agree on one. Neither is ever logged,
//! printed or returned by the API: the types below have no `Display`,
//! `Clone` or `Serialize`, print `<redacted>` in `Debug`, and are wiped on
//! drop.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use pprl_specs::key::Fingerprint;
use pprl_specs::sealing::linker_key_fingerprint;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// File name of the linker's age identity under `secrets/`.
const IDENTITY_FILE: &str = "linker-identity.txt";
/// Folder of the per-project re-keying secrets under `secrets/`.
const REKEY_DIR: &str = "rekey";
/// Line prefix of an age X25519 identity.
const IDENTITY_PREFIX: &str = "AGE-SECRET-KEY-1";
/// Line prefix of a re-keying secret in its file.
const REKEY_LINE_PREFIX: &str = "pprl-linker-rekey-v1:";

/// BLAKE3 `derive_key` context of the key that re-keys match-key tokens
/// (spec §10.4).
pub const REKEY_CONTEXT: &str = "pprl-linker/v1 match-key re-key";
/// BLAKE3 `derive_key` context of a re-keying secret's public id (spec §10.4).
pub const REKEY_ID_CONTEXT: &str = "pprl-linker/v1 re-key secret id";

/// Why a secret could not be read or made. Messages name the file, never
/// its contents.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot use the linker's secrets at {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path} does not hold a valid {what}; restore it from your backup (a new one would not open files sealed to the old key, nor match stored tokens)"
    )]
    Invalid { path: PathBuf, what: &'static str },
}

/// The linker's secrets folder.
#[derive(Debug)]
pub struct LinkerSecrets {
    dir: PathBuf,
    identity: LinkerIdentity,
}

impl LinkerSecrets {
    /// Opens `<data>/secrets/`, making the folder and the linker's identity
    /// if they do not exist yet.
    pub fn open(data: &Path) -> Result<Self, SecretsError> {
        let dir = data.join("secrets");
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SecretsError::Io { path, source }
        };
        fs::create_dir_all(dir.join(REKEY_DIR)).map_err(io_err(&dir))?;
        for d in [dir.clone(), dir.join(REKEY_DIR)] {
            fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).map_err(io_err(&d))?;
        }
        let path = dir.join(IDENTITY_FILE);
        let text = read_or_create(&dir, &path, || {
            let identity = age::x25519::Identity::generate();
            let recipient = identity.to_public().to_string();
            Zeroizing::new(format!(
                "# pprl linker identity: opens the token files partners seal to this linker.\n# Keep it secret and back it up apart from the database; never share it.\n# public key: {recipient}\n# fingerprint: {}\n{}\n",
                linker_key_fingerprint(&recipient),
                identity.to_string().expose_secret()
            ))
        })?;
        let identity = LinkerIdentity::parse(&text).ok_or_else(|| SecretsError::Invalid {
            path: path.clone(),
            what: "linker identity",
        })?;
        Ok(LinkerSecrets { dir, identity })
    }

    /// The identity that opens sealed uploads.
    pub fn identity(&self) -> &LinkerIdentity {
        &self.identity
    }

    /// Project `project`'s re-keying secret, made at first use. `project`
    /// is a checked project name (`project::check_name`).
    pub fn rekey_secret(&self, project: &str) -> Result<RekeySecret, SecretsError> {
        let path = self.dir.join(REKEY_DIR).join(format!("{project}.secret"));
        let text = read_or_create(&self.dir, &path, || {
            let mut bytes = Zeroizing::new([0u8; 32]);
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes.as_mut())
                .expect("the system random generator works");
            Zeroizing::new(format!(
                "# pprl linker re-keying secret of project `{project}`: keep it with the linker identity.\n{REKEY_LINE_PREFIX}{}\n",
                hex::encode(bytes.as_ref())
            ))
        })?;
        RekeySecret::parse(&text).ok_or(SecretsError::Invalid {
            path,
            what: "re-keying secret",
        })
    }
}

/// Reads `path`, or writes what `make` returns there first (mode 0600,
/// synced, linked into place so that a concurrent maker's file wins whole).
fn read_or_create(
    dir: &Path,
    path: &Path,
    make: impl FnOnce() -> Zeroizing<String>,
) -> Result<Zeroizing<String>, SecretsError> {
    let io_err = |source| SecretsError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.exists() {
        let mut name = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut name)
            .expect("the system random generator works");
        let temp = dir.join(format!(".new-{}", hex::encode(name)));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(make().as_bytes())?;
            file.sync_all()?;
            match fs::hard_link(&temp, path) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
                _ => Ok(()),
            }
        })();
        let _ = fs::remove_file(&temp);
        written.map_err(io_err)?;
        if let Some(parent) = path.parent() {
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(io_err)?;
        }
    }
    let mut text = Zeroizing::new(String::new());
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(io_err)?;
    Ok(text)
}

/// The linker's age X25519 identity (its private key) and its recipient.
pub struct LinkerIdentity {
    identity: age::x25519::Identity,
    recipient: String,
}

impl std::fmt::Debug for LinkerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkerIdentity")
            .field("recipient", &self.recipient)
            .field("identity", &"<redacted>")
            .finish()
    }
}

impl LinkerIdentity {
    /// Reads the one identity line of an identity file (comments skipped).
    fn parse(text: &str) -> Option<Self> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let line = lines.next()?;
        if lines.next().is_some() || !line.starts_with(IDENTITY_PREFIX) {
            return None;
        }
        let identity = age::x25519::Identity::from_str(line).ok()?;
        let recipient = identity.to_public().to_string();
        Some(LinkerIdentity {
            identity,
            recipient,
        })
    }

    /// A fresh identity that is stored nowhere (tests).
    #[cfg(test)]
    pub(crate) fn generate() -> Self {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        LinkerIdentity {
            identity,
            recipient,
        }
    }

    /// The public key partners seal to (`age1…`).
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The recipient's fingerprint (spec §10.2).
    pub fn fingerprint(&self) -> Fingerprint {
        linker_key_fingerprint(&self.recipient)
    }

    /// The identity, to open a sealed file with; the name warns.
    pub fn expose_identity(&self) -> &age::x25519::Identity {
        &self.identity
    }
}

/// A project's re-keying secret: 32 random bytes, with the two keys derived
/// from it (spec §10.4).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RekeySecret {
    key: [u8; 32],
    #[zeroize(skip)]
    id: String,
}

impl std::fmt::Debug for RekeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RekeySecret")
            .field("id", &self.id)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl RekeySecret {
    fn parse(text: &str) -> Option<Self> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?;
        let digits = line.strip_prefix(REKEY_LINE_PREFIX)?;
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(digits, secret.as_mut()).ok()?;
        Some(RekeySecret::from_bytes(&secret))
    }

    /// The secret from its 32 bytes (tests and the spec's worked example).
    pub fn from_bytes(secret: &[u8; 32]) -> Self {
        let key = blake3::derive_key(REKEY_CONTEXT, secret);
        let id = hex::encode(&blake3::derive_key(REKEY_ID_CONTEXT, secret)[..8]);
        RekeySecret { key, id }
    }

    /// A public name for the secret (16 hex digits): stored files carry it,
    /// so that a run never mixes files re-keyed under different secrets.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Re-keys one match-key token: the first 16 bytes of keyed BLAKE3 of
    /// the token under the derived re-key key. Equal tokens stay equal.
    pub fn rekey(&self, token: &[u8]) -> [u8; 16] {
        let hash = blake3::keyed_hash(&self.key, token);
        let mut out = [0u8; 16];
        out.copy_from_slice(&hash.as_bytes()[..16]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_made_once_with_private_modes_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = LinkerSecrets::open(dir.path()).expect("secrets open");
        let again = LinkerSecrets::open(dir.path()).expect("secrets reopen");
        assert_eq!(first.identity().recipient(), again.identity().recipient());
        assert!(first.identity().recipient().starts_with("age1"));
        let a = first.rekey_secret("pl").expect("secret made");
        let b = again.rekey_secret("pl").expect("secret read");
        assert_eq!(a.id(), b.id());
        assert_eq!(a.rekey(&[7; 16]), b.rekey(&[7; 16]));
        let other = first
            .rekey_secret("other")
            .expect("another project's secret");
        assert_ne!(a.id(), other.id(), "each project has its own secret");
        assert_ne!(a.rekey(&[7; 16]), other.rekey(&[7; 16]));
        let mode = |p: &Path| fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("secrets")), 0o700);
        assert_eq!(mode(&dir.path().join("secrets").join(IDENTITY_FILE)), 0o600);
        assert_eq!(
            mode(&dir.path().join("secrets").join(REKEY_DIR).join("pl.secret")),
            0o600
        );
    }

    #[test]
    fn debug_output_redacts_the_secrets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = LinkerSecrets::open(dir.path()).expect("secrets open");
        let identity_text =
            fs::read_to_string(dir.path().join("secrets").join(IDENTITY_FILE)).expect("file");
        let secret_line = identity_text
            .lines()
            .find(|l| l.starts_with(IDENTITY_PREFIX))
            .expect("an identity line");
        let debug = format!("{secrets:?}");
        assert!(debug.contains("<redacted>"));
        assert!(!debug.contains(secret_line));
        assert!(!debug.to_ascii_uppercase().contains(&secret_line[16..]));
        let secret = RekeySecret::from_bytes(&[9; 32]);
        let debug = format!("{secret:?}");
        assert!(debug.contains("<redacted>") && !debug.contains(&hex::encode([9u8; 32])));
    }

    /// Fixed values of spec §10.4, so another linker implementation (or a
    /// migration tool) can check its re-keying.
    #[test]
    fn rekeying_is_keyed_blake3_under_the_derived_key() {
        let secret = RekeySecret::from_bytes(&[0x42; 32]);
        let key = blake3::derive_key(REKEY_CONTEXT, &[0x42; 32]);
        let token = [0x11u8; 16];
        assert_eq!(
            secret.rekey(&token).as_slice(),
            &blake3::keyed_hash(&key, &token).as_bytes()[..16]
        );
        assert_eq!(secret.id().len(), 16);
        assert_ne!(secret.rekey(&token), token);
        assert_eq!(secret.rekey(&token), secret.rekey(&[0x11u8; 16]));
        assert_ne!(secret.rekey(&token), secret.rekey(&[0x12u8; 16]));
        // The worked example of spec §10.4.
        assert_eq!(secret.id(), "3f7bcdd389c09319");
        assert_eq!(
            hex::encode(secret.rekey(&token)),
            "9007bf498be2e4c5135e2a8a5310a4e4"
        );
    }

    #[test]
    fn a_damaged_secret_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        LinkerSecrets::open(dir.path()).expect("secrets open");
        let path = dir.path().join("secrets").join(IDENTITY_FILE);
        fs::write(&path, "AGE-SECRET-KEY-1NOTAKEY\n").expect("write");
        let e = LinkerSecrets::open(dir.path()).expect_err("refused");
        assert!(e.to_string().contains("restore it from your backup"), "{e}");
        assert!(!e.to_string().contains("NOTAKEY"));
    }
}
