//! Shared helpers: locating the built binaries, running them, reading token files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Path of a workspace binary, building it if `cargo test` has not.
pub fn bin(name: &str) -> PathBuf {
    pprl::bins::locate(name, false)
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
