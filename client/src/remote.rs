//! Talking to the linker: the API token, requests, and refusals turned into
//! clear errors. The token comes from `PPRL_TOKEN` or a token file, never a
//! flag, and only ever travels in the `Authorization` header.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::inspect;

/// Environment variable that may hold the API token.
pub const TOKEN_ENV: &str = "PPRL_TOKEN";
/// Header carrying the BLAKE3 checksum of an upload.
pub const CHECKSUM_HEADER: &str = "x-pprl-blake3";

/// Where the API token comes from.
#[derive(Debug, Clone)]
pub enum TokenSource<'a> {
    /// A file holding the token (`-` for standard input).
    File(&'a Path),
    /// The `PPRL_TOKEN` environment variable.
    Env,
}

/// Reads the API token.
pub fn read_token(source: TokenSource<'_>) -> Result<Zeroizing<String>> {
    let text = match source {
        TokenSource::Env => Zeroizing::new(std::env::var(TOKEN_ENV).with_context(|| {
            format!("no API token: set {TOKEN_ENV} or pass --token-file (ask your project administrator for a token)")
        })?),
        TokenSource::File(path) if path == Path::new("-") => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin().read_to_string(&mut text).context("cannot read the API token from standard input")?;
            text
        }
        TokenSource::File(path) => {
            let mut text = Zeroizing::new(String::new());
            File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .with_context(|| format!("cannot read the API token file {}", path.display()))?;
            text
        }
    };
    let token = Zeroizing::new(text.trim().to_owned());
    if !token.starts_with("pprl_") {
        bail!("the API token does not look like a pprl token (it starts with `pprl_`)");
    }
    Ok(token)
}

/// A refusal from the linker.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    hint: Option<String>,
}

/// A request the linker refused, with its status, code, message and hint.
#[derive(Debug, thiserror::Error)]
#[error("the linker refused: {message} ({status} {code}){}", hint.as_ref().map(|h| format!("\n  next step: {h}")).unwrap_or_default())]
pub struct Refused {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

/// Checks a name that goes into a URL path.
fn url_name<'a>(what: &str, name: &'a str) -> Result<&'a str> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bail!("{what} `{name}` must be letters, digits, `_` or `-`");
    }
    Ok(name)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(None)
        .build()
        .into()
}

fn base(server: &str) -> Result<&str> {
    let server = server.trim_end_matches('/');
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        bail!("--server `{server}` must start with http:// or https://");
    }
    if server.contains('?') || server.contains("pprl_") {
        bail!("--server must be the linker's address only; tokens never go in URLs");
    }
    Ok(server)
}

/// Turns a non-success response into a [`Refused`] error.
fn refusal(status: u16, body: &str) -> anyhow::Error {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(b) => Refused {
            status,
            code: b.error.code,
            message: b.error.message,
            hint: b.error.hint,
        }
        .into(),
        Err(_) => anyhow::anyhow!("the linker answered HTTP {status}: {}", body.trim()),
    }
}

/// The linker's answer to an accepted upload.
#[derive(Debug, Deserialize)]
pub struct Uploaded {
    pub project: String,
    pub dataset: String,
    pub version: u64,
    pub rows: u64,
    pub checksum: String,
    /// False when the same file was already a version.
    pub new: bool,
}

/// The linker's public key as it offers it.
#[derive(Debug, Deserialize)]
pub struct OfferedKey {
    pub project: String,
    pub recipient: String,
    pub fingerprint: String,
}

/// `GET /v1/projects/P/linker-key`: the key the linker offers. Not to be
/// trusted alone: [`seal::Pin`](crate::seal::Pin) checks it.
pub fn linker_key(server: &str, project: &str, token: &str) -> Result<OfferedKey> {
    get_json(server, project, "linker-key", token)
}

/// `GET /v1/projects/P/<path>` with the token, its JSON answer read as `T`,
/// or the linker's refusal.
fn get_json<T: serde::de::DeserializeOwned>(
    server: &str,
    project: &str,
    path: &str,
    token: &str,
) -> Result<T> {
    let base = base(server)?;
    let project = url_name("--project", project)?;
    let response = agent()
        .get(&format!("{base}/v1/projects/{project}/{path}"))
        .header("Authorization", &format!("Bearer {}", token))
        .call()
        .with_context(|| format!("cannot reach the linker at {base}"))?;
    answer(response)
}

/// The linker's JSON answer, or its refusal.
fn answer<T: serde::de::DeserializeOwned>(
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<T> {
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .context("cannot read the linker's answer")?;
    if !(200..300).contains(&status) {
        return Err(refusal(status, &text));
    }
    serde_json::from_str(&text).context("the linker's answer is not the expected JSON")
}

/// Checks a token file locally, seals it to the pinned linker key, then
/// streams the sealed copy to the linker (spec §10.3).
pub fn upload(
    server: &str,
    project: &str,
    dataset: &str,
    file: &Path,
    token: &str,
    pin: &crate::seal::Pin,
) -> Result<Uploaded> {
    let base = base(server)?;
    let (project, dataset) = (
        url_name("--project", project)?,
        url_name("--dataset", dataset)?,
    );
    let inspection = inspect::inspect(file)?;
    if inspection.manifest.dataset != dataset {
        bail!(
            "{} is a version of dataset `{}`, not `{dataset}`: check --dataset, or the dataset in your partner config",
            file.display(),
            inspection.manifest.dataset
        );
    }
    let recipient = pin.recipient_for(|| Ok(linker_key(server, project, token)?.recipient))?;
    let sealed = crate::seal::seal(file, &recipient)?;
    let body = sealed
        .file
        .reopen()
        .context("cannot reopen the sealed copy")?;
    let url = format!("{base}/v1/projects/{project}/datasets/{dataset}/versions");
    let response = agent()
        .post(&url)
        .header("Authorization", &format!("Bearer {}", token))
        .header(CHECKSUM_HEADER, &sealed.checksum)
        .header("Content-Type", pprl_specs::sealing::SEALED_MEDIA_TYPE)
        .send(body)
        .with_context(|| format!("cannot reach the linker at {base}"))?;
    answer(response)
}

/// One dataset version as the linker lists it.
#[derive(Debug, Deserialize)]
pub struct Version {
    pub dataset: String,
    pub version: u64,
    pub checksum: String,
    pub bytes: u64,
    pub rows: u64,
    pub key_fingerprint: String,
    pub uploaded_at: String,
}

/// Lists the dataset versions of a project that this token may see.
pub fn versions(server: &str, project: &str, token: &str) -> Result<Vec<Version>> {
    get_json(server, project, "versions", token)
}

/// BLAKE3 of a file, hex.
pub fn checksum(path: &Path) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(
        File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
    )?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// One file of a publication, as the linker lists it.
#[derive(Debug, Deserialize)]
pub struct OutputFile {
    pub name: String,
    pub bytes: u64,
    pub blake3: String,
}

/// The latest publication of a project.
#[derive(Debug, Deserialize)]
pub struct Outputs {
    pub project: String,
    pub run_id: u64,
    pub published_at: String,
    pub files: Vec<OutputFile>,
}

/// Downloads the latest published outputs into `dir`, checking each file's
/// size and BLAKE3 checksum; a file appears under its name only once whole.
pub fn download(server: &str, project: &str, dir: &Path, token: &str) -> Result<Outputs> {
    let outputs: Outputs = get_json(server, project, "outputs", token)?;
    let base = base(server)?;
    let project = url_name("--project", project)?;
    let agent = agent();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in &outputs.files {
        url_name("file name", &file.name.replace('.', "_"))?;
        let mut response = agent
            .get(&format!(
                "{base}/v1/projects/{project}/outputs/{}",
                file.name
            ))
            .header("Authorization", &format!("Bearer {}", token))
            .call()
            .with_context(|| format!("cannot reach the linker at {base}"))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let text = response.body_mut().read_to_string().unwrap_or_default();
            return Err(refusal(status, &text));
        }
        let partial = dir.join(format!(".{}.partial", file.name));
        let mut out = File::create(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        let mut hasher = blake3::Hasher::new();
        let mut reader = response
            .body_mut()
            .with_config()
            .limit(file.bytes + 1)
            .reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut received = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .with_context(|| format!("the download of {} was interrupted", file.name))?;
            if n == 0 {
                break;
            }
            received += n as u64;
            hasher.update(&buf[..n]);
            std::io::Write::write_all(&mut out, &buf[..n])?;
        }
        out.sync_all()?;
        let actual = hasher.finalize().to_hex().to_string();
        if received != file.bytes || actual != file.blake3 {
            let _ = std::fs::remove_file(&partial);
            bail!(
                "{} arrived damaged ({received} bytes, blake3 {actual}; expected {} bytes, {}): download again",
                file.name,
                file.bytes,
                file.blake3
            );
        }
        std::fs::rename(&partial, dir.join(&file.name))?;
    }
    Ok(outputs)
}

/// The linker's answer to an accepted deletion list.
#[derive(Debug, Deserialize)]
pub struct Erased {
    pub project: String,
    pub dataset: String,
    /// The list's number at the linker (an administrator revokes by it).
    pub list: u64,
    pub refs: u64,
    pub new_refs: u64,
    /// Records of the dataset's current version it matched, if any version.
    pub matched: Option<u64>,
    pub version: Option<u64>,
}

/// Reads a list file (a deletion list or a re-key map), checks it parses and
/// is for `dataset`, and returns its bytes and the parsed list.
fn read_list<T, E>(
    file: &Path,
    dataset: &str,
    what: &str,
    parse: impl FnOnce(&[u8]) -> std::result::Result<(T, String), E>,
) -> Result<(Vec<u8>, T)>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (list, named) =
        parse(&bytes).with_context(|| format!("{} is not {what}", file.display()))?;
    if named != dataset {
        bail!(
            "{} is {what} for dataset `{named}`, not `{dataset}`: check --dataset",
            file.display()
        );
    }
    Ok((bytes, list))
}

/// Checks a deletion list locally, then sends it to the linker (issue 17).
pub fn erase(
    server: &str,
    project: &str,
    dataset: &str,
    file: &Path,
    token: &str,
) -> Result<Erased> {
    let base = base(server)?;
    let (project, dataset) = (
        url_name("--project", project)?,
        url_name("--dataset", dataset)?,
    );
    let (body, _) = read_list(file, dataset, "a deletion list", |bytes| {
        pprl_specs::deletion::DeletionList::parse(bytes).map(|l| {
            let name = l.dataset.clone();
            (l, name)
        })
    })?;
    let url = format!("{base}/v1/projects/{project}/datasets/{dataset}/erasures");
    let response = agent()
        .post(&url)
        .header("Authorization", &format!("Bearer {}", token))
        .header("Content-Type", "text/plain; charset=utf-8")
        .send(&body[..])
        .with_context(|| format!("cannot reach the linker at {base}"))?;
    answer(response)
}

/// The linker's answer to an accepted re-key map.
#[derive(Debug, Deserialize)]
pub struct RekeyMapStored {
    pub project: String,
    pub dataset: String,
    pub map: u64,
    pub old_key_id: u32,
    pub new_key_id: u32,
    pub pairs: u64,
    /// Pairs whose old reference names no record the linker holds.
    pub unmatched: u64,
}

/// Checks a re-key map locally, seals it to the pinned linker key and sends
/// it (issue 16, spec §10.6).
pub fn upload_rekey_map(
    server: &str,
    project: &str,
    dataset: &str,
    file: &Path,
    token: &str,
    pin: &crate::seal::Pin,
) -> Result<RekeyMapStored> {
    let base = base(server)?;
    let (project, dataset) = (
        url_name("--project", project)?,
        url_name("--dataset", dataset)?,
    );
    read_list(file, dataset, "a re-key map", |bytes| {
        pprl_specs::rekeymap::RekeyMap::parse(bytes).map(|m| {
            let name = m.dataset.clone();
            (m, name)
        })
    })?;
    let recipient = pin.recipient_for(|| Ok(linker_key(server, project, token)?.recipient))?;
    let sealed = crate::seal::seal(file, &recipient)?;
    let body = sealed
        .file
        .reopen()
        .context("cannot reopen the sealed copy")?;
    let url = format!("{base}/v1/projects/{project}/datasets/{dataset}/rekey-maps");
    let response = agent()
        .post(&url)
        .header("Authorization", &format!("Bearer {}", token))
        .header("Content-Type", pprl_specs::sealing::SEALED_MEDIA_TYPE)
        .send(body)
        .with_context(|| format!("cannot reach the linker at {base}"))?;
    answer(response)
}
