//! Shared helpers: locating the built binaries, running them, reading token files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
pub use pprl_demo::server::Server;

/// Path of a workspace binary, building it if `cargo test` has not.
pub fn bin(name: &str) -> PathBuf {
    pprl_demo::bins::locate(name, false)
}

/// The result of running a binary.
#[derive(Debug)]
pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert!(
            self.status.success(),
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn fails(self) -> Self {
        assert!(
            !self.status.success(),
            "command should have failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `pprl-client` with arguments in `dir`, optionally feeding stdin.
pub fn client(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(bin("pprl-client"));
    cmd.args(args).current_dir(dir).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("pprl-client starts");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input)
            .expect("stdin accepts the input");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("pprl-client finishes");
    Run {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Makes a key file `key.txt` in `dir` and returns its fingerprint.
pub fn keygen(dir: &Path) -> String {
    let run = client(dir, &["keygen", "--output", "key.txt"], None).ok();
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .expect("keygen prints the fingerprint")
        .trim()
        .to_owned()
}

/// Reads every batch of a Parquet file with the arrow reader, and its key-value metadata.
pub fn read_parquet(path: &Path) -> (Vec<RecordBatch>, Vec<(String, String)>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("file opens"))
        .expect("a readable Parquet file");
    let kv = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|e| (e.key.clone(), e.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let batches = builder
        .build()
        .expect("reader builds")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches read");
    (batches, kv)
}

/// The pprl manifest of a token file, as JSON.
pub fn manifest(path: &Path) -> serde_json::Value {
    let (_, kv) = read_parquet(path);
    let text = &kv
        .iter()
        .find(|(k, _)| k == "pprl.manifest")
        .expect("a manifest is present")
        .1;
    serde_json::from_str(text).expect("the manifest is JSON")
}

/// Every value of every column, rendered as text (binary columns as raw bytes, lossily).
pub fn all_values_as_text(batches: &[RecordBatch]) -> String {
    use arrow_array::Array;
    let mut out = String::new();
    for batch in batches {
        for column in batch.columns() {
            if let Some(bin) = column
                .as_any()
                .downcast_ref::<arrow_array::FixedSizeBinaryArray>()
            {
                for i in 0..bin.len() {
                    if bin.is_valid(i) {
                        out.push_str(&String::from_utf8_lossy(bin.value(i)));
                        out.push('\n');
                    }
                }
            } else {
                let formatter = arrow_cast_display(column.as_ref());
                out.push_str(&formatter);
            }
        }
    }
    out
}

fn arrow_cast_display(array: &dyn arrow_array::Array) -> String {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Float64Type, Int64Type};
    use arrow_schema::DataType;
    let mut out = String::new();
    for i in 0..array.len() {
        if array.is_null(i) {
            continue;
        }
        let v = match array.data_type() {
            DataType::Utf8 => array.as_string::<i32>().value(i).to_owned(),
            DataType::Int64 => array.as_primitive::<Int64Type>().value(i).to_string(),
            DataType::Float64 => array.as_primitive::<Float64Type>().value(i).to_string(),
            DataType::Date32 => array.as_primitive::<Date32Type>().value(i).to_string(),
            DataType::Boolean => array.as_boolean().value(i).to_string(),
            other => panic!("unexpected column type {other}"),
        };
        out.push_str(&v);
        out.push('\n');
    }
    out
}

/// Column of a token file by name, as fixed-size binary values (None for null).
pub fn binary_column(batches: &[RecordBatch], name: &str) -> Vec<Option<Vec<u8>>> {
    use arrow_array::Array;
    let mut out = Vec::new();
    for batch in batches {
        let col = batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("column {name} exists"));
        let bin = col
            .as_any()
            .downcast_ref::<arrow_array::FixedSizeBinaryArray>()
            .expect("a binary column");
        for i in 0..bin.len() {
            out.push(bin.is_valid(i).then(|| bin.value(i).to_vec()));
        }
    }
    out
}

/// Writes a file in `dir`.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("test file writes");
    path
}

/// Runs `pprl-linker --data-dir DATA <args>` to completion.
pub fn linker_cli(data: &Path, args: &[&str]) -> Run {
    let output = Command::new(bin("pprl-linker"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("pprl-linker runs");
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The checksum and size under which the linker of `data` stores `file` (a
/// token file of project `project`): the file re-keyed under the project's
/// re-keying secret, as an upload stores it (spec §10.4).
pub fn stored_checksum(data: &Path, project: &str, file: &Path) -> (String, u64) {
    let secrets = pprl_linker::secrets::LinkerSecrets::open(data).expect("the secrets open");
    let secret = secrets.rekey_secret(project).expect("the project's secret");
    let rewritten = pprl_linker::rekey::rewrite(
        std::fs::File::open(file).expect("the token file opens"),
        &secret,
        std::io::sink(),
    )
    .expect("the token file re-keys");
    (rewritten.checksum, rewritten.bytes)
}

/// Writes `file` to `out` as the linker of `data` stores it for project
/// `project`: re-keyed (spec §10.4).
pub fn write_rekeyed(data: &Path, project: &str, file: &Path, out: &Path) {
    let secrets = pprl_linker::secrets::LinkerSecrets::open(data).expect("the secrets open");
    let secret = secrets.rekey_secret(project).expect("the project's secret");
    pprl_linker::rekey::rewrite(
        std::fs::File::open(file).expect("the token file opens"),
        &secret,
        std::fs::File::create(out).expect("the copy is created"),
    )
    .expect("the token file re-keys");
}

/// Seals `file` to the age recipient `key` into `out`, as `pprl-client
/// upload` does; returns the sealed bytes' BLAKE3 checksum.
pub fn seal_file(file: &Path, key: &str, out: &Path) -> String {
    let recipient: age::x25519::Recipient = key.parse().expect("a linker key");
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .expect("an encryptor");
    let mut writer = encryptor
        .wrap_output(std::fs::File::create(out).expect("the sealed file is created"))
        .expect("the age header writes");
    std::io::copy(
        &mut std::fs::File::open(file).expect("the token file opens"),
        &mut writer,
    )
    .expect("the file seals");
    writer.finish().expect("the sealed file closes");
    blake3_file(out)
}

/// The linker's public key (`age1…`), as `admin linker-key` prints it.
pub fn linker_key(data: &Path) -> String {
    linker_cli(data, &["admin", "linker-key"])
        .ok()
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("linker key "))
        .expect("`admin linker-key` prints the key")
        .trim()
        .to_owned()
}

/// Starts `pprl-linker --data-dir DATA serve` on a free loopback port, with
/// `extra` serve flags and its stderr discarded, and waits until it listens.
pub fn serve(data: &Path, extra: &[&str]) -> Server {
    let mut command = Command::new(bin("pprl-linker"));
    command.arg("--data-dir").arg(data).stderr(Stdio::null());
    Server::spawn(command, extra).expect("pprl-linker starts and prints its address")
}

/// A project with a key, a tokenised extract and tokens for every role.
#[derive(Debug)]
pub struct Project {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub fingerprint: String,
    /// Token files, by holder.
    pub partner_token: PathBuf,
    pub other_partner_token: PathBuf,
    pub evaluator_token: PathBuf,
    /// A linkage-analyst token: the project publishes `links.parquet` to it.
    pub analyst_token: PathBuf,
    pub admin_token: PathBuf,
    /// The linker's public key, which uploads are sealed to.
    pub linker_key: String,
}

/// The police partner's config: the same columns as the probation extract.
pub const POLICE_CONFIG: &str = "dataset = \"police_offences\"\n\n[identifiers]\nrecord_id = \"id\"\ngiven_names = \"forename\"\nfamily_name = \"surname\"\ndate_of_birth = \"dob\"\nsex = \"sex\"\npostcode = \"postcode\"\n";

/// A request to the server with the administrator token: the status and
/// the body (JSON when it is).
pub fn admin_request(
    server: &Server,
    project: &Project,
    method: &str,
    path: &str,
) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", server.url);
    let auth = format!("Bearer {}", token_text(&project.admin_token));
    let mut response = match method {
        "POST" => agent.post(&url).header("Authorization", &auth).send_empty(),
        _ => agent.get(&url).header("Authorization", &auth).call(),
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("text");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// Partner config used by [`Project::new`].
pub const PROBATION_CONFIG: &str = "dataset = \"probation_caseload\"\n\n[identifiers]\nrecord_id = \"id\"\ngiven_names = \"forename\"\nfamily_name = \"surname\"\ndate_of_birth = \"dob\"\nsex = \"sex\"\npostcode = \"postcode\"\n";

impl Project {
    /// Makes a key, a project `pl` with datasets `probation_caseload`
    /// (partner `probation`) and `police_offences` (partner `police`) that
    /// publishes `links.parquet` to linkage analysts (with the attribute
    /// `offence_date`), and a token file for each role.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let fingerprint = keygen(root);
        let data = root.join("data");
        write(
            root,
            "project.toml",
            format!(
                "name = \"pl\"\nkey_fingerprint = \"{fingerprint}\"\n\n[[datasets]]\nname = \"probation_caseload\"\npartner = \"probation\"\n\n[[datasets]]\nname = \"police_offences\"\npartner = \"police\"\n\n[outputs]\nlinks = \"linkage-analyst\"\nlinks_attributes = [\"offence_date\"]\n"
            ),
        );
        linker_cli(
            &data,
            &[
                "admin",
                "create-project",
                "--config",
                root.join("project.toml").to_str().expect("utf-8 path"),
            ],
        )
        .ok();
        let token = |name: &str, args: &[&str]| {
            let path = root.join(name);
            let mut all = vec![
                "admin",
                "issue-token",
                "--output",
                path.to_str().expect("utf-8 path"),
            ];
            all.extend_from_slice(args);
            linker_cli(&data, &all).ok();
            path
        };
        let partner_token = token(
            "probation.token",
            &[
                "--role",
                "partner",
                "--project",
                "pl",
                "--partner",
                "probation",
            ],
        );
        let other_partner_token = token(
            "police.token",
            &[
                "--role",
                "partner",
                "--project",
                "pl",
                "--partner",
                "police",
            ],
        );
        let evaluator_token = token(
            "evaluator.token",
            &["--role", "evaluator", "--project", "pl"],
        );
        let analyst_token = token(
            "analyst.token",
            &["--role", "linkage-analyst", "--project", "pl"],
        );
        let admin_token = token("admin.token", &["--role", "administrator"]);
        write(root, "partner.toml", PROBATION_CONFIG);
        let linker_key = linker_key(&data);
        Project {
            linker_key,
            dir,
            data,
            fingerprint,
            partner_token,
            other_partner_token,
            evaluator_token,
            analyst_token,
            admin_token,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes an extract of the first `rows` people of the population of
    /// `seed` and tokenises it to `name`.
    pub fn tokenise(&self, name: &str, rows: u64, seed: u64) -> PathBuf {
        self.tokenise_extract(
            "partner.toml",
            &format!("P{seed}-"),
            seed,
            rows as usize,
            name,
        )
    }

    /// Writes an extract (`name` + `.csv`) of the first `rows` people of the
    /// population of `seed`, record ids `id_prefix` + row, and tokenises it
    /// with the project key and the partner config `config` to `name`.
    pub fn tokenise_extract(
        &self,
        config: &str,
        id_prefix: &str,
        seed: u64,
        rows: usize,
        name: &str,
    ) -> PathBuf {
        let mut csv = String::from("id,forename,surname,dob,sex,postcode\n");
        let people = pprl_generate::population::people(seed, rows);
        for (i, p) in people.iter().enumerate() {
            let sex = if p.sex == pprl_specs::normalise::Sex::Female {
                "F"
            } else {
                "M"
            };
            csv.push_str(&format!(
                "{id_prefix}{i},{},\"{}\",{},{sex},{}\n",
                p.given_names[0],
                p.family_name,
                p.date_of_birth.format("%d/%m/%Y"),
                p.postcode()
            ));
        }
        let extract = format!("{name}.csv");
        write(self.root(), &extract, csv);
        client(
            self.root(),
            &[
                "tokenise",
                "--key-file",
                "key.txt",
                "--config",
                config,
                "--input",
                &extract,
                "--output",
                name,
                "--quiet",
            ],
            None,
        )
        .ok();
        self.root().join(name)
    }

    /// `pprl-client upload` with a token file.
    /// The file is sealed to the linker's key, pinned with `--linker-key`.
    pub fn upload(&self, server: &str, dataset: &str, token: &Path, file: &Path) -> Run {
        client(
            self.root(),
            &[
                "upload",
                "--server",
                server,
                "--project",
                "pl",
                "--dataset",
                dataset,
                "--token-file",
                token.to_str().expect("utf-8 path"),
                "--linker-key",
                &self.linker_key,
                file.to_str().expect("utf-8 path"),
            ],
            None,
        )
    }

    /// Dataset versions as the administrator CLI lists them.
    pub fn versions(&self) -> Vec<String> {
        linker_cli(&self.data, &["admin", "list-versions", "--project", "pl"])
            .ok()
            .stdout
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Reads a token file's text.
pub fn token_text(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("token file readable")
        .trim()
        .to_owned()
}

/// A dataset version as `pprl-linker admin list-versions` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVersion {
    pub dataset: String,
    pub version: u64,
    pub rows: u64,
    pub bytes: u64,
    pub checksum: String,
}

/// Parses `admin list-versions` output, one
/// `dataset\tvN\tR rows\tB bytes\tblake3 CHECKSUM\tTIME` line per version.
pub fn parse_versions(stdout: &str) -> Vec<ListedVersion> {
    stdout
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                fields.len(),
                6,
                "a version line has six tab-separated fields: {line:?}"
            );
            let number = |text: &str, prefix: &str, suffix: &str| -> u64 {
                text.strip_prefix(prefix)
                    .and_then(|t| t.strip_suffix(suffix))
                    .and_then(|t| t.parse().ok())
                    .unwrap_or_else(|| panic!("`{text}` is `{prefix}N{suffix}` in {line:?}"))
            };
            ListedVersion {
                dataset: fields[0].to_owned(),
                version: number(fields[1], "v", ""),
                rows: number(fields[2], "", " rows"),
                bytes: number(fields[3], "", " bytes"),
                checksum: fields[4]
                    .strip_prefix("blake3 ")
                    .unwrap_or_else(|| panic!("the fifth field is `blake3 CHECKSUM` in {line:?}"))
                    .to_owned(),
            }
        })
        .collect()
}

/// Where the linker keeps the blob with `checksum` under its data folder.
pub fn blob_path(data: &Path, checksum: &str) -> PathBuf {
    data.join("blobs")
        .join(&checksum[..2])
        .join(format!("{checksum}.parquet"))
}

/// The BLAKE3 checksum of a file, in hex.
pub fn blake3_file(path: &Path) -> String {
    let file = File::open(path).unwrap_or_else(|e| panic!("{} opens: {e}", path.display()));
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(file)
        .unwrap_or_else(|e| panic!("{} reads: {e}", path.display()));
    hasher.finalize().to_hex().to_string()
}

/// Every file under `dir`, recursively; none if `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.expect("a listed directory entry is readable").path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Copies a token file to `dst` with its manifest changed by `change`.
///
/// Only the Parquet footer is rewritten; every data page is kept byte for
/// byte, as when the same extract is tokenised again with the same key (at
/// another time, or under another dataset name). So a test can make many
/// distinct, valid token files without tokenising again.
pub fn restamp_token_file(src: &Path, dst: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let bytes = std::fs::read(src).expect("the token file to restamp is readable");
    let out = restamp_metadata(&bytes, |kv| {
        let entry = kv
            .iter_mut()
            .find(|e| e.key == "pprl.manifest")
            .expect("a token file has a pprl manifest");
        let mut manifest: serde_json::Value =
            serde_json::from_str(entry.value.as_deref().expect("the manifest has a value"))
                .expect("the manifest is JSON");
        change(&mut manifest);
        entry.value = Some(manifest.to_string());
    });
    std::fs::write(dst, out).expect("the restamped token file writes");
}

/// A Parquet file's bytes with its key-value metadata changed by `change`:
/// only the footer is rewritten, every data page is kept byte for byte.
pub fn restamp_metadata(
    bytes: &[u8],
    change: impl FnOnce(&mut Vec<parquet::file::metadata::KeyValue>),
) -> Vec<u8> {
    use parquet::file::metadata::{
        FileMetaData, ParquetMetaData, ParquetMetaDataReader, ParquetMetaDataWriter,
    };
    let mut file = tempfile::tempfile().expect("a temp file");
    std::io::Write::write_all(&mut file, bytes).expect("the temp file writes");
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .expect("the file has a readable Parquet footer");
    let (body, tail) = bytes.split_at(bytes.len() - 8);
    assert_eq!(
        &tail[4..],
        b"PAR1",
        "a Parquet file ends with its magic bytes"
    );
    let footer = u32::from_le_bytes(tail[..4].try_into().expect("four length bytes")) as usize;
    let pages = &body[..body.len() - footer];
    let file_metadata = metadata.file_metadata();
    let mut kv = file_metadata
        .key_value_metadata()
        .cloned()
        .expect("a token file has key-value metadata");
    change(&mut kv);
    let restamped = ParquetMetaData::new(
        FileMetaData::new(
            file_metadata.version(),
            file_metadata.num_rows(),
            file_metadata.created_by().map(str::to_owned),
            Some(kv),
            file_metadata.schema_descr_ptr(),
            file_metadata.column_orders().cloned(),
        ),
        metadata.row_groups().to_vec(),
    );
    let mut out = pages.to_vec();
    ParquetMetaDataWriter::new(&mut out, &restamped)
        .finish()
        .expect("the new footer serialises");
    out
}

/// A Python interpreter that imports every one of `modules`, or `None` (a
/// notice locally; a failure in CI, where `.ci/run` installs them into
/// `target/pyenv`).
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("PPRL_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python"),
            PathBuf::from("python3"),
        ])
        .collect();
    let imports = format!("import {}", modules.join(", "));
    for p in &candidates {
        let ok = Command::new(p)
            .args(["-c", &imports])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(p.clone());
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have Python with {modules:?} (tried {candidates:?}); .ci/run installs them into target/pyenv"
    );
    eprintln!(
        "NOTICE: no Python with {modules:?} found (tried {candidates:?}); skipping the check that needs it. \
         Install with: python3 -m venv target/pyenv && target/pyenv/bin/pip install {}",
        modules.join(" ")
    );
    None
}

/// Bytes as lowercase hexadecimal.
pub fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
