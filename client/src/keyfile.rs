//! Key files on disk: creating them safely and reading them from a file or stdin.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use pprl_keyed::key::ProjectKey;
use pprl_specs::key::{KEY_LEN, KeyId};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Makes a new random project key and writes it to `path` with mode 0600.
/// Refuses to overwrite an existing file.
pub fn keygen(path: &Path) -> Result<ProjectKey> {
    keygen_with_id(path, None)
}

/// [`keygen`], the file naming the project's key id `id` (spec §2.4) when
/// given: the id the administrator registers the key under.
pub fn keygen_with_id(path: &Path, id: Option<KeyId>) -> Result<ProjectKey> {
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(&mut bytes[..])
        .map_err(|_| anyhow::anyhow!("the operating system's random number generator failed"))?;
    let mut key = ProjectKey::from_bytes(*bytes);
    if let Some(id) = id {
        key = key.with_id(id);
    }
    let text = key.to_key_file();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; keygen never overwrites a key file (a lost key cannot be recovered). Choose another --output path",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create key file {}", path.display()))
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write key file {}", path.display()))?;
    Ok(key)
}

/// Reads a project key from a key file, or from stdin when `path` is `-`.
pub fn read_key(path: &Path) -> Result<ProjectKey> {
    let mut text = Zeroizing::new(String::new());
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the key from standard input")?;
    } else {
        warn_if_readable_by_others(path);
        let mut file = std::fs::File::open(path)
            .with_context(|| format!("cannot open key file {}", path.display()))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) > 4096 {
            bail!("{} is too large to be a pprl key file", path.display());
        }
        file.read_to_string(&mut text)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
    }
    ProjectKey::from_key_file(&text).with_context(|| {
        format!(
            "{} is not a pprl key file (make one with `pprl-client keygen`)",
            path.display()
        )
    })
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "warning: key file {} can be read by other users; run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}
