//! The corpus of malformed inputs (issue 14), run through the real entry
//! points: `pprl-client tokenise` for partner configs and CSV extracts,
//! `pprl-client inspect` and a real `pprl-linker serve` on a loopback port
//! for token files, `pprl-linker admin create-project` for project configs,
//! and raw HTTP requests for uploads.
//!
//! Each case in `tests/corpus/<family>/` has its expected refusal in that
//! family's `expected.toml` (see `tests/corpus/README.md`). For every case
//! the test asserts that the input is refused, that the message contains the
//! expected text (which names where the problem is), that nothing panicked,
//! that no identifier value of the input appears in the message, that
//! nothing was written or stored, and, for CSV extracts, which rows were
//! rejected. Failures are collected, so one run reports every case.
//!
//! This file starts binaries and the server itself, without
//! `tests/e2e/support.rs`, so that it only depends on the command lines and
//! the HTTP API (support.rs is being reworked; the helpers here can be
//! merged into it later).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::{KeyValue, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use serde::Deserialize;

/// Families and the least number of cases each must hold.
const FAMILIES: [(&str, usize); 5] = [
    ("partner-config", 20),
    ("project-config", 20),
    ("csv", 20),
    ("token-file", 20),
    ("upload", 21),
];

/// Environment variable that regenerates the token-file cases (`1`), or
/// the base token file and then the cases (`base`).
const REFRESH: &str = "PPRL_REFRESH_CORPUS";

/// The linker's upload limit in these tests; the base token file is smaller.
const MAX_UPLOAD_BYTES: u64 = 65_536;

#[test]
fn corpus_has_at_least_100_cases_each_with_an_expectation() {
    let mut total = 0;
    for (family, least) in FAMILIES {
        let cases = cases(family);
        let expected = expected_keys(family);
        let names: Vec<&String> = cases.keys().collect();
        let keys: Vec<&String> = expected.iter().collect();
        assert_eq!(
            names, keys,
            "tests/corpus/{family}: every case needs an entry in expected.toml, and every entry a case"
        );
        assert!(
            cases.len() >= least,
            "tests/corpus/{family} has {} cases, fewer than {least}",
            cases.len()
        );
        total += cases.len();
    }
    assert!(total >= 100, "the corpus has {total} cases, fewer than 100");
}

#[test]
fn corpus_partner_configs_are_refused_with_their_location() {
    let family = "partner-config";
    let expected: BTreeMap<String, Expect> = load_expected(family);
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path());
    let extract = corpus().join(family).join("_extract.csv");
    let secrets = csv_values(&fs::read(&extract).expect("the extract reads"));
    let mut failures = Vec::new();
    for (name, path) in cases(family) {
        let e = &expected[&name];
        let output = dir.path().join(format!("{name}.parquet"));
        let run = run(Command::new(bin("pprl-client")).args([
            "tokenise".as_ref(),
            "--key-file".as_ref(),
            key.as_os_str(),
            "--config".as_ref(),
            path.as_os_str(),
            "--input".as_ref(),
            extract.as_os_str(),
            "--output".as_ref(),
            output.as_os_str(),
            "--quiet".as_ref(),
        ]));
        let mut f = Failures::new(&mut failures, family, &name);
        f.refused(&run, &e.contains, &secrets);
        f.check(!output.exists(), "a token file was written");
    }
    report(family, failures);
}

#[test]
fn corpus_csv_extracts_are_refused_and_their_bad_rows_listed() {
    let family = "csv";
    let expected: BTreeMap<String, CsvExpect> = load_expected(family);
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path());
    let mut failures = Vec::new();
    let mut rejected_rows = 0;
    for (name, path) in cases(family) {
        let e = &expected[&name];
        let config = corpus()
            .join(family)
            .join(e.config.as_deref().unwrap_or("_partner.toml"));
        let output = dir.path().join(format!("{name}.parquet"));
        let rejects = dir.path().join(format!("{name}.rejects.csv"));
        // No reject is allowed, so that a rejected row refuses the extract.
        let run = run(Command::new(bin("pprl-client")).args([
            "tokenise".as_ref(),
            "--key-file".as_ref(),
            key.as_os_str(),
            "--config".as_ref(),
            config.as_os_str(),
            "--input".as_ref(),
            path.as_os_str(),
            "--output".as_ref(),
            output.as_os_str(),
            "--rejects".as_ref(),
            rejects.as_os_str(),
            "--max-reject-fraction".as_ref(),
            "0".as_ref(),
            "--quiet".as_ref(),
        ]));
        let secrets = csv_values(&fs::read(&path).expect("the case reads"));
        let mut f = Failures::new(&mut failures, family, &name);
        f.refused(&run, &e.contains, &secrets);
        f.check(!output.exists(), "a token file was written");
        f.check(
            e.rejected.len() == e.rejects.unwrap_or(0),
            "expected.toml: `rejected` must list one line per row counted in `rejects`",
        );
        match (e.rejects, fs::read_to_string(&rejects)) {
            (None, Ok(_)) => f.fail("a rejects file was written for a refused file".to_owned()),
            (None, Err(_)) => {}
            (Some(_), Err(err)) => f.fail(format!("no rejects file: {err}")),
            (Some(count), Ok(text)) => {
                let lines: Vec<&str> = text.lines().skip(1).collect();
                f.check(
                    text.starts_with("line,column,field,reason\n"),
                    "the rejects file starts with its header",
                );
                f.check(
                    lines.len() == count,
                    &format!("{} rows rejected, expected {count}: {lines:?}", lines.len()),
                );
                for (line, want) in lines.iter().zip(&e.rejected) {
                    f.check(
                        line.starts_with(want.as_str()),
                        &format!("reject `{line}` does not start with `{want}`"),
                    );
                }
                f.no_secrets("the rejects file", &text, &secrets);
                rejected_rows += lines.len();
            }
        }
    }
    eprintln!("csv corpus: {rejected_rows} rows rejected in all");
    report(family, failures);
}

#[test]
fn corpus_project_configs_are_refused_and_nothing_is_stored() {
    let family = "project-config";
    let expected: BTreeMap<String, Expect> = load_expected(family);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut failures = Vec::new();
    for (name, path) in cases(family) {
        let e = &expected[&name];
        let run = linker_cli(
            &data,
            &[
                "admin".as_ref(),
                "create-project".as_ref(),
                "--config".as_ref(),
                path.as_os_str(),
            ],
        );
        let mut f = Failures::new(&mut failures, family, &name);
        f.refused(&run, &e.contains, &[]);
        // The path is in the message: the refusal says which file.
        f.check(
            run.text.contains(&path.display().to_string()),
            "the message does not name the config file",
        );
    }
    let projects = linker_cli(&data, &["admin".as_ref(), "list-projects".as_ref()]);
    assert!(projects.ok, "list-projects runs: {}", projects.text);
    assert_eq!(
        projects.text.trim(),
        "",
        "a refused config created a project"
    );
    report(family, failures);
}

#[test]
fn corpus_token_files_are_refused_by_inspect_and_by_the_linker() {
    let family = "token-file";
    let base = corpus().join(family).join("_base.parquet");
    if std::env::var(REFRESH).is_ok_and(|v| v == "base") {
        make_base(&base);
    }
    let generated = token_file_cases(&fs::read(&base).expect("_base.parquet reads"));
    if std::env::var_os(REFRESH).is_some() {
        write_token_file_cases(&generated);
    }
    let stale: Vec<&str> = generated
        .iter()
        .filter(|(name, bytes)| fs::read(case_path(name)).ok().as_ref() != Some(bytes))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        stale.is_empty(),
        "the token-file cases {stale:?} differ from what the generator makes from _base.parquet; \
         refresh them with `{REFRESH}=1 cargo test -p pprl --test e2e corpus_token_files`"
    );
    let expected: BTreeMap<String, TokenExpect> = load_expected(family);
    let secrets = csv_values(&fs::read(corpus().join(family).join("_base.csv")).expect("reads"));
    let server = CorpusServer::start();
    let before = server.stored();
    let mut failures = Vec::new();

    // The base file itself is accepted, so each refusal is the mutation's doing.
    let inspected = run(Command::new(bin("pprl-client")).arg("inspect").arg(&base));
    assert!(
        inspected.ok,
        "the base token file inspects: {}",
        inspected.text
    );

    for (name, path) in cases(family) {
        let e = &expected[&name];
        let mut f = Failures::new(&mut failures, family, &name);
        f.check(
            e.inspect.is_empty() != e.inspect_accepts.is_none(),
            "expected.toml: give either `inspect` or `inspect_accepts` (the reason inspect cannot tell)",
        );
        let inspected = run(Command::new(bin("pprl-client")).arg("inspect").arg(&path));
        if e.inspect_accepts.is_some() {
            f.check(
                inspected.ok,
                &format!("inspect refused it: {}", inspected.text),
            );
            f.no_panic(&inspected.text);
        } else {
            f.refused(&inspected, &e.inspect, &secrets);
        }
        let body = fs::read(&path).expect("the case reads");
        let response = server.upload("releases", &body);
        f.http(&response, e.status, &e.code, &e.upload, &secrets);
        f.check(
            server.stored() == before,
            "the upload changed what was stored",
        );
    }
    // A valid upload still works, and nothing was left half-stored.
    let accepted = server.upload("releases", &fs::read(&base).expect("reads"));
    assert_eq!(
        accepted.status, 201,
        "the base file uploads: {}",
        accepted.body
    );
    server.finish();
    report(family, failures);
}

#[test]
fn corpus_upload_requests_are_refused_and_change_nothing() {
    let family = "upload";
    let expected: BTreeMap<String, UploadExpect> = load_expected(family);
    let secrets = csv_values(&fs::read(corpus().join("token-file/_base.csv")).expect("reads"));
    let server = CorpusServer::start();
    // Something is stored before, so that "nothing changed" means something.
    let base = fs::read(corpus().join("token-file/_base.parquet")).expect("reads");
    let first = server.upload("releases", &base);
    assert_eq!(first.status, 201, "the base file uploads: {}", first.body);
    let before = server.stored();
    let mut failures = Vec::new();
    for (name, path) in cases(family) {
        let e = &expected[&name];
        let template = fs::read_to_string(&path).expect("the case reads");
        let request = server.request(&template);
        let response = server.send(&request);
        let mut f = Failures::new(&mut failures, family, &name);
        f.http(&response, e.status, &e.code, &e.contains, &secrets);
        f.check(
            server.stored() == before,
            "the request changed what was stored",
        );
    }
    server.finish();
    report(family, failures);
}

// ---------------------------------------------------------------------------
// Expectations.

/// A refusal: the substrings its message must contain.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    contains: Vec<String>,
}

/// A CSV case: the refusal, and the rows rejected (none when the whole file
/// is refused before any row is read).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvExpect {
    contains: Vec<String>,
    /// The partner config, in `tests/corpus/csv/` (default `_partner.toml`).
    config: Option<String>,
    /// Rows in the rejects file; absent when no rejects file is written.
    rejects: Option<usize>,
    /// The start of each line of the rejects file: `line,column,field,reason`.
    #[serde(default)]
    rejected: Vec<String>,
}

/// A token-file case: what `inspect` says, and what the linker answers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenExpect {
    /// What the case is (the generator's description).
    #[allow(dead_code, reason = "documentation for readers of expected.toml")]
    about: String,
    /// Substrings of inspect's refusal; empty when inspect accepts the file.
    #[serde(default)]
    inspect: Vec<String>,
    /// Why inspect, which has no project to check against, accepts the file.
    inspect_accepts: Option<String>,
    status: u16,
    code: String,
    /// Substrings of the linker's refusal (message and hint).
    upload: Vec<String>,
}

/// An upload request's refusal: status, error code and message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadExpect {
    status: u16,
    code: String,
    contains: Vec<String>,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The cases of a family by name: its files, except `_*` (shared inputs),
/// `expected.toml` and `README.md`.
fn cases(family: &str) -> BTreeMap<String, PathBuf> {
    let dir = corpus().join(family);
    let mut cases = BTreeMap::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a listed entry").path();
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 names");
        if file.starts_with('_') || file == "expected.toml" || file == "README.md" {
            continue;
        }
        let stem = path.file_stem().and_then(|n| n.to_str()).expect("a stem");
        assert!(
            cases.insert(stem.to_owned(), path.clone()).is_none(),
            "two cases named {stem} in {family}"
        );
    }
    cases
}

fn expected_text(family: &str) -> String {
    let path = corpus().join(family).join("expected.toml");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expected_keys(family: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(&expected_text(family))
        .unwrap_or_else(|e| panic!("tests/corpus/{family}/expected.toml: {e}"));
    table.keys().cloned().collect()
}

fn load_expected<T: serde::de::DeserializeOwned>(family: &str) -> BTreeMap<String, T> {
    let expected: BTreeMap<String, T> = toml::from_str(&expected_text(family))
        .unwrap_or_else(|e| panic!("tests/corpus/{family}/expected.toml: {e}"));
    let names: Vec<String> = cases(family).into_keys().collect();
    let keys: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(
        names, keys,
        "tests/corpus/{family}: cases and expected.toml differ"
    );
    expected
}

/// Every field of every data row of a CSV file (any delimiter, lossily
/// decoded) that is long enough to recognise: none may appear in a message.
fn csv_values(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split([',', ';']).collect();
    let mut values: Vec<String> = lines
        .flat_map(|line| line.split([',', ';']))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .filter(|v| v.chars().count() >= 5 && !header.contains(&v.as_str()))
        .collect();
    values.sort();
    values.dedup();
    values
}

// ---------------------------------------------------------------------------
// Checking outcomes.

/// The failures of one case, collected rather than panicking at the first.
struct Failures<'a> {
    all: &'a mut Vec<String>,
    case: String,
}

impl<'a> Failures<'a> {
    fn new(all: &'a mut Vec<String>, family: &str, case: &str) -> Self {
        Failures {
            all,
            case: format!("{family}/{case}"),
        }
    }

    fn fail(&mut self, what: String) {
        self.all.push(format!("{}: {what}", self.case));
    }

    fn check(&mut self, ok: bool, what: &str) {
        if !ok {
            self.fail(what.to_owned());
        }
    }

    /// A command refused the input: exit status 1, the expected text, no
    /// panic, no value of the input.
    fn refused(&mut self, run: &Run, contains: &[String], secrets: &[String]) {
        let text = &run.text;
        self.check(!run.ok, &format!("it was accepted:\n{text}"));
        self.check(
            run.code == Some(1),
            &format!("exit status {:?}, not 1 (a refusal):\n{text}", run.code),
        );
        self.check(
            text.contains("error: "),
            &format!("no `error:` line:\n{text}"),
        );
        self.expected(text, contains);
        self.no_panic(text);
        self.no_secrets("the message", text, secrets);
    }

    /// The linker answered with the status, code and text expected.
    fn http(
        &mut self,
        response: &Response,
        status: u16,
        code: &str,
        contains: &[String],
        secrets: &[String],
    ) {
        let body = &response.body;
        self.check(
            response.status == status,
            &format!("HTTP {}, expected {status}: {body}", response.status),
        );
        let error: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let found = error
            .as_ref()
            .and_then(|v| v.pointer("/error/code"))
            .and_then(|c| c.as_str());
        self.check(
            found == Some(code),
            &format!("error code {found:?}, expected `{code}`: {body}"),
        );
        let field = |name: &str| {
            error
                .as_ref()
                .and_then(|v| v.pointer(&format!("/error/{name}")))
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let text = format!("{}\n{}", field("message"), field("hint"));
        self.expected(&text, contains);
        self.no_panic(body);
        self.no_secrets("the response", body, secrets);
    }

    fn expected(&mut self, text: &str, contains: &[String]) {
        if contains.is_empty() {
            self.fail("expected.toml gives no text the message must contain".to_owned());
        }
        for want in contains {
            self.check(
                text.contains(want.as_str()),
                &format!("the message lacks `{want}`:\n{text}"),
            );
        }
    }

    fn no_panic(&mut self, text: &str) {
        for sign in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            self.check(!text.contains(sign), &format!("it panicked:\n{text}"));
        }
    }

    fn no_secrets(&mut self, what: &str, text: &str, secrets: &[String]) {
        for secret in secrets {
            self.check(
                !text.contains(secret.as_str()),
                &format!("{what} holds the input value `{secret}`:\n{text}"),
            );
        }
    }
}

fn report(family: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failure(s) in tests/corpus/{family}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------
// Running the binaries.

use crate::support::bin;

/// A finished command: success, exit code, and stdout then stderr.
#[derive(Debug)]
struct Run {
    ok: bool,
    code: Option<i32>,
    text: String,
}

fn run(command: &mut Command) -> Run {
    let output = command
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs");
    Run {
        ok: output.status.success(),
        code: output.status.code(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

fn linker_cli(data: &Path, args: &[&std::ffi::OsStr]) -> Run {
    run(Command::new(bin("pprl-linker"))
        .arg("--data-dir")
        .arg(data)
        .args(args))
}

/// A new key file in `dir`.
fn keygen(dir: &Path) -> PathBuf {
    let key = dir.join("corpus.key");
    let made = run(Command::new(bin("pprl-client"))
        .args(["keygen", "--output"])
        .arg(&key));
    assert!(made.ok, "keygen: {}", made.text);
    key
}

// ---------------------------------------------------------------------------
// A linker on a loopback port with the corpus project.

struct CorpusServer {
    _dir: tempfile::TempDir,
    data: PathBuf,
    child: std::process::Child,
    address: String,
    /// Placeholders of the upload templates: tokens by holder.
    tokens: BTreeMap<&'static str, String>,
    /// The linker's public key, which uploads are sealed to.
    linker_key: String,
}

impl CorpusServer {
    /// A project `corpus` keyed to the base token file, with datasets
    /// `releases` and `releases_copy` (partner `hmpps`) and `offences`
    /// (partner `police`), a token for each role and a revoked one.
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let base = corpus().join("token-file/_base.parquet");
        let manifest = base_manifest(&base);
        let fingerprint = manifest["key_fingerprint"].as_str().expect("a fingerprint");
        let project = dir.path().join("project.toml");
        fs::write(
            &project,
            format!(
                "name = \"corpus\"\nkey_fingerprint = \"{fingerprint}\"\n\n\
                 [[datasets]]\nname = \"releases\"\npartner = \"hmpps\"\n\n\
                 [[datasets]]\nname = \"releases_copy\"\npartner = \"hmpps\"\n\n\
                 [[datasets]]\nname = \"offences\"\npartner = \"police\"\n"
            ),
        )
        .expect("project config writes");
        let created = linker_cli(
            &data,
            &[
                "admin".as_ref(),
                "create-project".as_ref(),
                "--config".as_ref(),
                project.as_os_str(),
            ],
        );
        assert!(created.ok, "create-project: {}", created.text);
        let linker_key = linker_cli(&data, &["admin".as_ref(), "linker-key".as_ref()])
            .text
            .lines()
            .find_map(|l| l.strip_prefix("linker key "))
            .expect("`admin linker-key` prints the key")
            .trim()
            .to_owned();
        let issue = |name: &str, args: &[&str]| -> String {
            let path = dir.path().join(name);
            let mut all: Vec<&std::ffi::OsStr> = vec![
                "admin".as_ref(),
                "issue-token".as_ref(),
                "--output".as_ref(),
                path.as_os_str(),
            ];
            all.extend(args.iter().map(std::ffi::OsStr::new));
            let issued = linker_cli(&data, &all);
            assert!(issued.ok, "issue-token: {}", issued.text);
            fs::read_to_string(&path)
                .expect("token file reads")
                .trim()
                .to_owned()
        };
        let partner = ["--role", "partner", "--project", "corpus", "--partner"];
        let mut tokens = BTreeMap::new();
        tokens.insert(
            "partner",
            issue("hmpps", &[&partner[..], &["hmpps"]].concat()),
        );
        tokens.insert(
            "police",
            issue("police", &[&partner[..], &["police"]].concat()),
        );
        tokens.insert(
            "evaluator",
            issue("evaluator", &["--role", "evaluator", "--project", "corpus"]),
        );
        tokens.insert("admin", issue("admin", &["--role", "administrator"]));
        let revoked = issue("revoked", &[&partner[..], &["hmpps"]].concat());
        let id = revoked
            .split('_')
            .nth(1)
            .expect("pprl_<id>_<secret>")
            .to_owned();
        let revoke = linker_cli(
            &data,
            &["admin".as_ref(), "revoke-token".as_ref(), id.as_ref()],
        );
        assert!(revoke.ok, "revoke-token: {}", revoke.text);
        tokens.insert("revoked", revoked);
        // Well formed, never issued.
        tokens.insert(
            "unknown",
            format!("pprl_0123456789abcdef_{}", "5a".repeat(32)),
        );

        let log = fs::File::create(dir.path().join("server.log")).expect("log file");
        let mut child = Command::new(bin("pprl-linker"))
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--listen", "127.0.0.1:0", "--max-upload-bytes"])
            .arg(MAX_UPLOAD_BYTES.to_string())
            .env("PPRL_LOG", "warn")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("pprl-linker serve starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("the server prints its address");
        let address = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        CorpusServer {
            _dir: dir,
            data,
            child,
            address,
            tokens,
            linker_key,
        }
    }

    /// A token file uploaded as `dataset`, as `pprl-client upload` sends it:
    /// sealed to the linker's key.
    fn upload(&self, dataset: &str, body: &[u8]) -> Response {
        let body = &seal(body, &self.linker_key);
        let template = format!(
            "POST /v1/projects/corpus/datasets/{dataset}/versions HTTP/1.1\n\
             Authorization: Bearer {{partner}}\nx-pprl-blake3: {{blake3}}\n\
             Content-Type: application/octet-stream\nContent-Length: {{length}}\n\n"
        );
        self.send(&[self.head(&template, body), body.to_vec()].concat())
    }

    /// An upload template (see tests/corpus/README.md) made into bytes.
    fn request(&self, template: &str) -> Vec<u8> {
        let (_, body) = template
            .split_once("\n\n")
            .unwrap_or_else(|| panic!("a request template has a blank line before its body"));
        let body = self.body(body.trim_end_matches('\n'));
        let chunked = template
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let encoded = if chunked {
            let mut out = Vec::new();
            for chunk in body.chunks(16 * 1024) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        } else {
            body.clone()
        };
        [self.head(template, &body), encoded].concat()
    }

    /// The request line and headers of a template, placeholders filled in.
    fn head(&self, template: &str, body: &[u8]) -> Vec<u8> {
        let (head, _) = template.split_once("\n\n").expect("a blank line");
        let mut lines = head.lines().filter(|l| !l.starts_with('#'));
        let mut out = String::new();
        let request_line = lines.next().expect("a request line");
        out.push_str(&self.fill(request_line, body));
        out.push_str(&format!(
            "\r\nHost: {}\r\nConnection: close\r\n",
            self.address
        ));
        for line in lines {
            out.push_str(&self.fill(line, body));
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }

    fn fill(&self, line: &str, body: &[u8]) -> String {
        let mut line = line.to_owned();
        for (name, token) in &self.tokens {
            line = line.replace(&format!("{{{name}}}"), token);
        }
        let length = body.len() as i64;
        for (placeholder, value) in [
            ("{blake3}", blake3::hash(body).to_hex().to_string()),
            (
                "{blake3_of_other}",
                blake3::hash(b"other").to_hex().to_string(),
            ),
            ("{length}", length.to_string()),
            ("{length+100}", (length + 100).to_string()),
            ("{length-100}", (length - 100).to_string()),
            ("{over_limit}", (MAX_UPLOAD_BYTES + 1).to_string()),
        ] {
            line = line.replace(placeholder, &value);
        }
        assert!(
            !line.contains('{'),
            "unknown placeholder in request line `{line}`"
        );
        line
    }

    /// A body directive: `{base}`, `{extract}`, `{file:PATH}` (in
    /// tests/corpus), `{zeros:N}`, a sealed file (`{sealed:PATH}` sealed to
    /// the linker, `{sealed_to_other:PATH}` to another key,
    /// `{sealed_cut:PATH}` with its last 100 bytes cut, `{sealed_flip:PATH}`
    /// with one payload byte flipped, `{sealed_header:PATH}` its header
    /// alone, `{sealed_passphrase:PATH}` sealed with a passphrase), or the
    /// text itself.
    fn body(&self, directive: &str) -> Vec<u8> {
        let read = |p: &str| fs::read(corpus().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
        let inner = directive
            .strip_prefix('{')
            .and_then(|d| d.strip_suffix('}'));
        if let Some((kind, path)) = inner.and_then(|d| d.split_once(':'))
            && kind.starts_with("sealed")
        {
            let plain = read(path);
            let other = age::x25519::Identity::generate().to_public().to_string();
            let sealed = seal(&plain, &self.linker_key);
            // The header ends at the line after `---`'s MAC, then the payload.
            let header_end = sealed
                .windows(4)
                .position(|w| w == b"\n---")
                .and_then(|at| {
                    sealed[at + 1..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map(|n| at + 2 + n)
                })
                .expect("an age header");
            return match kind {
                "sealed" => sealed,
                "sealed_to_other" => seal(&plain, &other),
                "sealed_cut" => sealed[..sealed.len() - 100].to_vec(),
                "sealed_flip" => {
                    let mut damaged = sealed.clone();
                    let at = header_end + (sealed.len() - header_end) / 2;
                    damaged[at] ^= 0x01;
                    damaged
                }
                "sealed_header" => sealed[..header_end].to_vec(),
                "sealed_passphrase" => {
                    let encryptor = age::Encryptor::with_user_passphrase(
                        age::secrecy::SecretString::from("corpus passphrase".to_owned()),
                    );
                    let mut out = Vec::new();
                    let mut w = encryptor.wrap_output(&mut out).expect("age header");
                    w.write_all(&plain).expect("payload");
                    w.finish().expect("sealed");
                    out
                }
                _ => panic!("unknown body directive {directive}"),
            };
        }
        match inner {
            Some("base") => read("token-file/_base.parquet"),
            Some("extract") => read("token-file/_base.csv"),
            Some(d) if d.starts_with("file:") => read(&d["file:".len()..]),
            Some(d) if d.starts_with("zeros:") => {
                vec![0; d["zeros:".len()..].parse().expect("a byte count")]
            }
            _ => directive.as_bytes().to_vec(),
        }
    }

    /// Sends raw request bytes and reads the response.
    fn send(&self, request: &[u8]) -> Response {
        let mut stream = TcpStream::connect(&self.address).expect("the server accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout set");
        // The server may answer and close before reading everything (a
        // refusal on the headers alone): a failed write is not an error.
        let _ = stream.write_all(request);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_response(&raw)
    }

    /// What is stored: the versions listed to the administrator and every
    /// file under the blob and staging folders, with its checksum.
    fn stored(&self) -> (String, Vec<(PathBuf, String)>) {
        let request = self.request(
            "GET /v1/projects/corpus/versions HTTP/1.1\nAuthorization: Bearer {admin}\n\n",
        );
        let versions = self.send(&request);
        assert_eq!(versions.status, 200, "versions list: {}", versions.body);
        let mut files = Vec::new();
        for dir in ["blobs", "staging"] {
            collect_files(&self.data.join(dir), &mut files);
        }
        let files = files
            .into_iter()
            .map(|p| {
                let sum = blake3::hash(&fs::read(&p).expect("a stored file reads"));
                (p, sum.to_hex().to_string())
            })
            .collect();
        (versions.body, files)
    }

    /// Checks the server is still up and logged no panic, then stops it.
    fn finish(mut self) {
        let health = self.send(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert_eq!(health.status, 200, "the server still answers");
        assert!(
            self.child.try_wait().expect("status").is_none(),
            "the server is up"
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A panic of the parquet crate's page decoder is caught by the
        // validator (a damaged upload); any other panic is a failure.
        let log = fs::read_to_string(self._dir.path().join("server.log")).unwrap_or_default();
        let panics: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("panicked at") && !l.contains("/parquet-"))
            .collect();
        assert!(panics.is_empty(), "the server panicked:\n{log}");
    }
}

impl Drop for CorpusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("a listed entry").path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
    out.sort();
}

/// An HTTP response: status and body (de-chunked).
#[derive(Debug)]
struct Response {
    status: u16,
    body: String,
}

fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Response {
            status: 0,
            body: format!("no HTTP response: {text:?}"),
        };
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 || tail.len() < size {
                break;
            }
            out.push_str(&tail[..size]);
            rest = tail[size..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_owned()
    };
    Response { status, body }
}

// ---------------------------------------------------------------------------
// The token-file cases, made from the base token file.

/// `plain` sealed to the age recipient `key`, as `pprl-client upload` seals.
fn seal(plain: &[u8], key: &str) -> Vec<u8> {
    let recipient: age::x25519::Recipient = key.parse().expect("a linker key");
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .expect("an encryptor");
    let mut out = Vec::new();
    let mut writer = encryptor
        .wrap_output(&mut out)
        .expect("the age header writes");
    writer.write_all(plain).expect("the payload writes");
    writer.finish().expect("the sealed file closes");
    out
}

fn case_path(name: &str) -> PathBuf {
    corpus().join("token-file").join(format!("{name}.parquet"))
}

fn base_manifest(base: &Path) -> serde_json::Value {
    let file = fs::File::open(base).expect("_base.parquet opens");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("_base.parquet reads");
    let text = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == "pprl.manifest"))
        .and_then(|e| e.value.clone())
        .expect("the base file has a manifest");
    serde_json::from_str(&text).expect("the manifest is JSON")
}

/// Tokenises `_base.csv` with `_partner.toml` and a new key into `_base.parquet`.
fn make_base(base: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path());
    let folder = corpus().join("token-file");
    let made = run(Command::new(bin("pprl-client"))
        .arg("tokenise")
        .arg("--key-file")
        .arg(&key)
        .arg("--config")
        .arg(folder.join("_partner.toml"))
        .arg("--input")
        .arg(folder.join("_base.csv"))
        .arg("--output")
        .arg(base)
        .arg("--rejects")
        .arg(dir.path().join("rejects.csv"))
        .arg("--quiet"));
    assert!(made.ok, "the base token file tokenises: {}", made.text);
}

fn write_token_file_cases(cases: &[(String, Vec<u8>)]) {
    for entry in fs::read_dir(corpus().join("token-file")).expect("the folder lists") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".parquet") && !name.starts_with('_') {
            fs::remove_file(&path).expect("an old case is removed");
        }
    }
    for (name, bytes) in cases {
        fs::write(case_path(name), bytes).expect("a case writes");
    }
}

/// Every token-file case, by name: bytes derived from the base file.
fn token_file_cases(base: &[u8]) -> Vec<(String, Vec<u8>)> {
    let len = base.len();
    let manifest = |change: &dyn Fn(&mut serde_json::Value)| {
        restamp(base, &|kv| {
            let entry = kv
                .iter_mut()
                .find(|e| e.key == "pprl.manifest")
                .expect("a manifest");
            let mut m: serde_json::Value =
                serde_json::from_str(entry.value.as_deref().expect("a value")).expect("JSON");
            change(&mut m);
            entry.value = Some(m.to_string());
        })
    };
    let set = |pointer: &'static str, value: serde_json::Value| {
        manifest(&move |m| *m.pointer_mut(pointer).expect("the field exists") = value.clone())
    };
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated_half", base[..len / 2].to_vec()),
        ("truncated_footer", base[..len - 100].to_vec()),
        ("truncated_magic", base[..len - 2].to_vec()),
        ("magic_tail_wrong", [&base[..len - 4], b"PAR2"].concat()),
        ("magic_head_wrong", [b"PAR2", &base[4..]].concat()),
        (
            "footer_length_too_large",
            with_footer_length(base, u32::MAX - 16),
        ),
        ("footer_length_zero", with_footer_length(base, 0)),
        ("footer_garbage", footer_garbage(base)),
        ("extract_not_token_file", {
            fs::read(corpus().join("token-file/_base.csv")).expect("the extract reads")
        }),
        ("text_file", b"this is not a token file\n".to_vec()),
        (
            "no_manifest",
            restamp(base, &|kv| kv.retain(|e| e.key != "pprl.manifest")),
        ),
        (
            "manifest_empty_value",
            restamp(base, &|kv| {
                for e in kv.iter_mut().filter(|e| e.key == "pprl.manifest") {
                    e.value = None;
                }
            }),
        ),
        (
            "manifest_not_json",
            restamp(base, &|kv| {
                for e in kv.iter_mut().filter(|e| e.key == "pprl.manifest") {
                    e.value = Some("{\"spec_version\": \"pprl/v1\", ".to_owned());
                }
            }),
        ),
        (
            "manifest_missing_field",
            manifest(&|m| {
                m.as_object_mut().expect("an object").remove("row_count");
            }),
        ),
        ("manifest_wrong_type", set("/row_count", "forty".into())),
        ("spec_version_old", set("/spec_version", "pprl/v0".into())),
        (
            "spec_version_future",
            set("/spec_version", "pprl/v3".into()),
        ),
        (
            "fingerprint_other_key",
            set("/key_fingerprint", "00000000deadbeef".into()),
        ),
        ("dataset_other", set("/dataset", "offences".into())),
        ("row_count_more", set("/row_count", 41.into())),
        ("row_count_fewer", set("/row_count", 39.into())),
        ("bloom_bits_wrong", set("/bloom/bits", 512.into())),
        (
            "bloom_hardening_wrong",
            set("/bloom/hardening", "none".into()),
        ),
        (
            "match_keys_missing_one",
            manifest(&|m| {
                m["match_keys"].as_array_mut().expect("an array").pop();
            }),
        ),
        (
            "match_keys_reordered",
            manifest(&|m| {
                m["match_keys"].as_array_mut().expect("an array").swap(0, 1);
            }),
        ),
        (
            "attribute_undeclared",
            manifest(&|m| {
                m["attributes"]
                    .as_array_mut()
                    .expect("an array")
                    .retain(|a| a["name"] != "area");
            }),
        ),
        (
            "attribute_declared_but_absent",
            manifest(&|m| {
                m["attributes"]
                    .as_array_mut()
                    .expect("an array")
                    .push(serde_json::json!({"name": "ethnicity", "type": "string"}));
            }),
        ),
        (
            "attribute_declared_other_type",
            manifest(&|m| {
                for a in m["attributes"].as_array_mut().expect("an array") {
                    if a["name"] == "area" {
                        a["type"] = "integer".into();
                    }
                }
            }),
        ),
        (
            "attribute_name_reserved",
            manifest(&|m| {
                m["attributes"]
                    .as_array_mut()
                    .expect("an array")
                    .push(serde_json::json!({"name": "mk_extra", "type": "string"}));
            }),
        ),
        (
            "column_extra_identifier",
            rewrite(base, &|batch| {
                let surnames: Vec<&str> = (0..batch.num_rows())
                    .map(|i| ["Featherstonehaugh", "Cholmondeley"][i % 2])
                    .collect();
                add_column(batch, "surname", Arc::new(StringArray::from(surnames)))
            }),
        ),
        (
            "column_missing_match_key",
            rewrite(base, &|batch| {
                let last = batch
                    .schema()
                    .fields()
                    .iter()
                    .rposition(|f| f.name().starts_with("mk_"))
                    .expect("a match-key column");
                let mut batch = batch;
                batch.remove_column(last);
                batch
            }),
        ),
        (
            "column_missing_record_ref",
            rewrite(base, &|batch| {
                let mut batch = batch;
                batch.remove_column(0);
                batch
            }),
        ),
        (
            "column_bloom_wrong_width",
            rewrite(base, &|batch| {
                let index = batch.schema().index_of("bloom").expect("a bloom column");
                let bloom = batch.column(index).clone();
                let bloom = bloom
                    .as_any()
                    .downcast_ref::<FixedSizeBinaryArray>()
                    .expect("fixed-size binary");
                let narrow = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                    (0..bloom.len()).map(|i| bloom.is_valid(i).then(|| &bloom.value(i)[..64])),
                    64,
                )
                .expect("a narrower column");
                replace_column(batch, index, "bloom", Arc::new(narrow))
            }),
        ),
        (
            "column_attribute_wrong_type",
            rewrite(base, &|batch| {
                let index = batch.schema().index_of("area").expect("an area column");
                let numbers = Int64Array::from_iter_values(0..batch.num_rows() as i64);
                replace_column(batch, index, "area", Arc::new(numbers))
            }),
        ),
        (
            "record_ref_null",
            rewrite(base, &|batch| {
                let refs = batch.column(0).clone();
                let refs = refs
                    .as_any()
                    .downcast_ref::<FixedSizeBinaryArray>()
                    .expect("fixed-size binary");
                let with_null = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                    (0..refs.len()).map(|i| (i != 3).then(|| refs.value(i))),
                    16,
                )
                .expect("a column with a null");
                replace_column(batch, 0, "record_ref", Arc::new(with_null))
            }),
        ),
        ("record_ref_page_damaged", damage_first_page(base, 0)),
        ("match_key_page_damaged", damage_first_page(base, 1)),
        (
            "record_ref_dictionary_key_out_of_range",
            dictionary_key_out_of_range(base),
        ),
    ];
    cases.sort_by(|a, b| a.0.cmp(b.0));
    cases.into_iter().map(|(n, b)| (n.to_owned(), b)).collect()
}

/// The base file with the footer length (the four bytes before the closing
/// magic) set to `length`.
fn with_footer_length(base: &[u8], length: u32) -> Vec<u8> {
    let mut out = base.to_vec();
    let at = out.len() - 8;
    out[at..at + 4].copy_from_slice(&length.to_le_bytes());
    out
}

/// The base file with the middle of its footer overwritten.
fn footer_garbage(base: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    let footer = u32::from_le_bytes(out[out.len() - 8..out.len() - 4].try_into().expect("4"));
    let start = out.len() - 8 - footer as usize;
    let middle = start + footer as usize / 2;
    for (i, b) in out[middle..middle + 64].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0xA5;
    }
    out
}

/// The base file with the header of a column's first data page overwritten.
fn damage_first_page(base: &[u8], column: usize) -> Vec<u8> {
    let metadata = footer(base);
    let offset = metadata.row_group(0).column(column).data_page_offset() as usize;
    let mut out = base.to_vec();
    for b in &mut out[offset..offset + 24] {
        *b = 0xFF;
    }
    out
}

/// The base file written again with a dictionary-encoded `record_ref`, the
/// last bytes of whose keys are set to all ones: keys past the dictionary's
/// end (the parquet reader panicked on them; the fuzz harness found it).
fn dictionary_key_out_of_range(base: &[u8]) -> Vec<u8> {
    let mut out = rewrite(base, &|batch| batch);
    let metadata = footer(&out);
    let column = metadata.row_group(0).column(0);
    assert!(
        column.dictionary_page_offset().is_some(),
        "the rewritten record_ref is dictionary-encoded"
    );
    let (start, length) = column.byte_range();
    let end = (start + length) as usize;
    for b in &mut out[end - 8..end] {
        *b = 0xFF;
    }
    out
}

/// The Parquet footer of a file's bytes.
fn footer(data: &[u8]) -> ParquetMetaData {
    let mut file = tempfile::tempfile().expect("a temp file");
    file.write_all(data).expect("the temp file writes");
    ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .expect("the base file has a readable footer")
}

/// The base file with its key-value metadata changed by `change`: only the
/// footer is rewritten, every data page is kept byte for byte.
fn restamp(base: &[u8], change: &dyn Fn(&mut Vec<KeyValue>)) -> Vec<u8> {
    crate::support::restamp_metadata(base, change)
}

/// The base file's rows, changed by `change`, written again with the
/// base file's manifest (and the Arrow schema of the changed rows).
fn rewrite(base: &[u8], change: &dyn Fn(RecordBatch) -> RecordBatch) -> Vec<u8> {
    let mut file = tempfile::tempfile().expect("a temp file");
    file.write_all(base).expect("the temp file writes");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("the base file reads");
    let manifest: Vec<KeyValue> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter(|e| e.key == "pprl.manifest")
        .cloned()
        .collect();
    let batches: Vec<RecordBatch> = builder
        .build()
        .expect("the reader builds")
        .map(|b| change(b.expect("a batch reads")))
        .collect();
    let schema = batches.first().expect("the base file has rows").schema();
    let properties = WriterProperties::builder()
        .set_key_value_metadata(Some(manifest))
        .build();
    let mut out = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut out, schema, Some(properties)).expect("the writer starts");
    for batch in &batches {
        writer.write(batch).expect("a batch writes");
    }
    writer.close().expect("the file closes");
    out
}

fn add_column(batch: RecordBatch, name: &str, column: ArrayRef) -> RecordBatch {
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(name, column.data_type().clone(), true));
    let mut columns = batch.columns().to_vec();
    columns.push(column);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a valid batch")
}

fn replace_column(batch: RecordBatch, index: usize, name: &str, column: ArrayRef) -> RecordBatch {
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let nullable: bool = column.null_count() > 0 || fields[index].is_nullable();
    fields[index] = Field::new(name, column.data_type().clone(), nullable);
    let mut columns = batch.columns().to_vec();
    columns[index] = column;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a valid batch")
}
