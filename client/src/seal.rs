//! Sealing a token file to the linker before it leaves the machine
//! (spec §10): the linker's key, pinned by the partner, and the age
//! encryption of the file to it.
//!
//! The partner pins the linker's key in its configuration, either whole
//! (`linker_key = "age1…"`) or by fingerprint (`linker_key_fingerprint`,
//! 16 hex digits, §10.2), in which case the key is fetched from the linker
//! and checked against it. With neither, nothing is sent: the partner is
//! shown the fingerprint the linker offers and asked to confirm it with the
//! project administrator (no trust on first use).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use pprl_specs::key::Fingerprint;
use pprl_specs::sealing::{Envelope, RECIPIENT_PREFIX, SEALED_PREFIX, linker_key_fingerprint};

/// What the partner pinned about the linker's key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pin {
    /// The whole key, `age1…`.
    pub key: Option<String>,
    /// Its fingerprint.
    pub fingerprint: Option<Fingerprint>,
}

impl Pin {
    /// The pin from the flags, else from the partner config.
    pub fn resolve(
        key_flag: Option<String>,
        fingerprint_flag: Option<String>,
        config: Option<&crate::config::PartnerConfig>,
    ) -> Result<Pin> {
        let key = key_flag.or_else(|| config.and_then(|c| c.linker_key.clone()));
        let fingerprint = fingerprint_flag
            .or_else(|| config.and_then(|c| c.linker_key_fingerprint.clone()))
            .map(|f| {
                Fingerprint::parse(&f).map_err(|_| {
                    anyhow::anyhow!(
                        "linker_key_fingerprint `{f}` is not 16 hexadecimal digits (the administrator prints it with `pprl-linker admin linker-key`)"
                    )
                })
            })
            .transpose()?;
        if let Some(key) = &key {
            recipient(key)?;
            if let Some(fp) = fingerprint
                && linker_key_fingerprint(key) != fp
            {
                bail!(
                    "linker_key {key} has fingerprint {}, but linker_key_fingerprint says {fp}: ask your project administrator which is current",
                    linker_key_fingerprint(key)
                );
            }
        }
        Ok(Pin { key, fingerprint })
    }

    /// The key to seal to: the pinned key, or the offered one if it has the
    /// pinned fingerprint. `offered` fetches the linker's (key, its claimed
    /// fingerprint); it is called only when the key is not pinned.
    pub fn recipient_for(
        &self,
        offered: impl FnOnce() -> Result<String>,
    ) -> Result<age::x25519::Recipient> {
        if let Some(key) = &self.key {
            return recipient(key);
        }
        let key = offered()?;
        let actual = linker_key_fingerprint(&key);
        match self.fingerprint {
            Some(pinned) if pinned == actual => recipient(&key),
            Some(pinned) => bail!(
                "the linker offers a key with fingerprint {actual}, but your partner config pins {pinned}: do not upload; ask your project administrator whether the linker's key changed (it may be the wrong server, or someone in between)"
            ),
            None => bail!(
                "no linker key is pinned, so nothing was sent. The linker offers key {key} with fingerprint {actual}: confirm that fingerprint with your project administrator (not through the linker), then add `linker_key_fingerprint = \"{actual}\"` to your partner config and pass it with --config (or pass --linker-key-fingerprint {actual})"
            ),
        }
    }
}

/// Parses an age X25519 recipient.
fn recipient(key: &str) -> Result<age::x25519::Recipient> {
    let key = key.trim();
    if !key.starts_with(RECIPIENT_PREFIX) {
        bail!("linker_key `{key}` is not a linker key (they start with `{RECIPIENT_PREFIX}`)");
    }
    age::x25519::Recipient::from_str(key)
        .map_err(|e| anyhow::anyhow!("linker_key `{key}` is not a valid linker key: {e}"))
}

/// The file sealed: where it is (a temporary file, deleted on drop), its
/// BLAKE3 checksum and size.
#[derive(Debug)]
pub struct Sealed {
    pub file: tempfile::NamedTempFile,
    pub checksum: String,
    pub bytes: u64,
}

/// Seals `input` to `recipient` into a temporary file beside it. Only the
/// sealed bytes are written; the token file is read once, streaming.
pub fn seal(input: &Path, recipient: &age::x25519::Recipient) -> Result<Sealed> {
    let dir = input
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".pprl-sealed-")
        .suffix(".age")
        .tempfile_in(dir)
        .with_context(|| format!("cannot make a temporary file in {}", dir.display()))?;
    let mut source =
        File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut counted = Counted {
        out: BufWriter::new(temp.as_file().try_clone()?),
        hasher: blake3::Hasher::new(),
        bytes: 0,
    };
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .context("cannot seal to the linker key")?;
    let mut writer = encryptor.wrap_output(&mut counted)?;
    io::copy(&mut source, &mut writer)
        .with_context(|| format!("cannot seal {}", input.display()))?;
    writer.finish()?;
    counted.out.flush()?;
    counted.out.get_ref().sync_all()?;
    Ok(Sealed {
        file: temp,
        checksum: counted.hasher.finalize().to_hex().to_string(),
        bytes: counted.bytes,
    })
}

/// Refuses, clearly, to read a sealed file as a token file.
pub fn refuse_sealed(path: &Path) -> Result<()> {
    let mut head = [0u8; SEALED_PREFIX.len()];
    let n = File::open(path)
        .and_then(|mut f| read_head(&mut f, &mut head))
        .with_context(|| format!("cannot open {}", path.display()))?;
    if Envelope::of(&head[..n]) == Envelope::Sealed {
        bail!(
            "{} is sealed (an age file): only the linker can open it. Inspect and upload the unsealed token file that `pprl-client tokenise` wrote; `upload` seals a copy of it as it sends it",
            path.display()
        );
    }
    Ok(())
}

fn read_head(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

struct Counted<W> {
    out: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    #[test]
    fn a_pinned_fingerprint_accepts_only_its_key() {
        let fp = linker_key_fingerprint(KEY);
        let pin = Pin::resolve(None, Some(fp.to_string()), None).expect("a valid pin");
        pin.recipient_for(|| Ok(KEY.to_owned()))
            .expect("the pinned key");
        let other = age::x25519::Identity::generate().to_public().to_string();
        let e = pin.recipient_for(|| Ok(other)).expect_err("another key");
        assert!(e.to_string().contains("do not upload"), "{e}");
    }

    #[test]
    fn no_pin_sends_nothing_and_names_the_offered_fingerprint() {
        let pin = Pin::default();
        let e = pin
            .recipient_for(|| Ok(KEY.to_owned()))
            .expect_err("no trust on first use");
        let fp = linker_key_fingerprint(KEY).to_string();
        assert!(
            e.to_string()
                .contains(&format!("linker_key_fingerprint = \"{fp}\"")),
            "{e}"
        );
    }

    #[test]
    fn a_pinned_key_is_used_without_asking_and_must_agree_with_a_pinned_fingerprint() {
        let pin = Pin::resolve(Some(KEY.to_owned()), None, None).expect("a valid key");
        pin.recipient_for(|| panic!("a pinned key is not fetched"))
            .expect("the key");
        let e = Pin::resolve(
            Some(KEY.to_owned()),
            Some("0000000000000000".to_owned()),
            None,
        )
        .expect_err("disagreeing pins");
        assert!(e.to_string().contains("which is current"), "{e}");
        assert!(Pin::resolve(Some("age1nope".to_owned()), None, None).is_err());
    }

    #[test]
    fn a_sealed_file_opens_only_with_the_identity_and_holds_none_of_the_plaintext() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("t.parquet");
        let plain: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i * 7919).to_le_bytes())
            .collect();
        std::fs::write(&input, &plain).expect("write");
        let identity = age::x25519::Identity::generate();
        let sealed = seal(&input, &identity.to_public()).expect("sealed");
        let bytes = std::fs::read(sealed.file.path()).expect("read");
        assert!(bytes.starts_with(SEALED_PREFIX));
        assert_eq!(sealed.bytes, bytes.len() as u64);
        assert_eq!(sealed.checksum, blake3::hash(&bytes).to_hex().to_string());
        for window in plain.chunks(16).step_by(97) {
            assert!(
                !bytes.windows(16).any(|w| w == window),
                "plaintext in the sealed file"
            );
        }
        let decrypted = age::decrypt(&identity, &bytes).expect("opens");
        assert_eq!(decrypted, plain);
        let other = age::x25519::Identity::generate();
        assert!(age::decrypt(&other, &bytes).is_err());
        refuse_sealed(sealed.file.path()).expect_err("inspect refuses a sealed file");
        refuse_sealed(&input).expect("an unsealed file is fine");
    }
}
