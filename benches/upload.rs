//! Upload load benchmark (issue 3): 16 concurrent uploads of a
//! 1,000,000-row token file to a release `pprl-linker` on loopback.
//!
//! Prints the throughput (all bodies' bytes over the batch's wall time), the
//! p50 and p99 request times, and the server's peak resident memory
//! (`VmHWM`). A batch of 100,000-row files runs first on its own server
//! process, so the two peaks compare: bodies are streamed to disk, not
//! buffered, so the peak must not grow with the file size (target: under
//! 256 MB). Run with `cargo bench --bench upload`; `PPRL_BENCH_ROWS` changes
//! the large file's row count (the small batch uses a tenth of it).
//!
//! Each concurrent upload goes to its own dataset, so each stores a distinct
//! blob: the file is tokenised once and restamped per dataset (only the
//! manifest in the Parquet footer changes, as if tokenised again under that
//! dataset's name). Needs about 2 × 16 × the token file's size on disk.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use pprl_client::config::PartnerConfig;
use pprl_client::tokenise;
use pprl_demo::server::Server;
use pprl_generate::simple;
use pprl_keyed::key::ProjectKey;

/// Concurrent uploads per batch.
const CONCURRENCY: usize = 16;
/// The target for the server's peak memory.
const MEMORY_TARGET_MB: f64 = 256.0;

fn main() -> Result<()> {
    let rows: u64 = std::env::var("PPRL_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let linker = pprl_demo::bins::locate("pprl-linker", true);
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    let key = ProjectKey::from_bytes([0x42; 32]);

    // A project with one dataset per concurrent upload, all supplied by one partner.
    let data = root.join("data");
    let datasets: Vec<String> = (0..CONCURRENCY)
        .map(|i| format!("caseload_{i:02}"))
        .collect();
    let mut project = format!(
        "name = \"bench\"\nkey_fingerprint = \"{}\"\n",
        key.fingerprint()
    );
    for d in &datasets {
        project.push_str(&format!(
            "\n[[datasets]]\nname = \"{d}\"\npartner = \"bench\"\n"
        ));
    }
    std::fs::write(root.join("project.toml"), project)?;
    admin(
        &linker,
        &data,
        &[
            "create-project",
            "--config",
            path_str(&root.join("project.toml"))?,
        ],
    )?;
    let token_file = root.join("partner.token");
    admin(
        &linker,
        &data,
        &[
            "issue-token",
            "--role",
            "partner",
            "--project",
            "bench",
            "--partner",
            "bench",
            "--output",
            path_str(&token_file)?,
        ],
    )?;
    let token = std::fs::read_to_string(&token_file)?.trim().to_owned();
    // Uploads are sealed to the linker's key, as `pprl-client upload` sends them.
    let linker_key: age::x25519::Recipient = admin(&linker, &data, &["linker-key"])?
        .lines()
        .find_map(|l| l.strip_prefix("linker key "))
        .context("`admin linker-key` prints the key")?
        .trim()
        .parse()
        .map_err(anyhow::Error::msg)?;

    println!(
        "upload benchmark: {CONCURRENCY} concurrent uploads on loopback, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results = Vec::new();
    for (label, batch_rows) in [("small", (rows / 10).max(1)), ("large", rows)] {
        let files = token_files(&key, &linker_key, root, label, batch_rows, &datasets)?;
        let mut server = start_server(&linker, &data, root)?;
        let idle = peak_rss_mb(server.id())?;
        let batch = run_batch(&server.url, &token, &files)?;
        let peak = peak_rss_mb(server.id())?;
        server.stop()?;
        for f in &files {
            std::fs::remove_file(&f.path)?;
        }
        let size_mb = files[0].bytes as f64 / 1e6;
        println!(
            "{batch_rows:>9} rows ({size_mb:.1} MB per file, {:.0} MB in all): {:.0} MB/s over {:.2} s; \
             request p50 {:.2} s, p99 {:.2} s (fastest {:.2} s); server peak RSS {peak:.1} MB (idle {idle:.1} MB)",
            batch.total_bytes as f64 / 1e6,
            batch.mb_per_s(),
            batch.wall.as_secs_f64(),
            batch.percentile(50.0).as_secs_f64(),
            batch.percentile(99.0).as_secs_f64(),
            batch.times[0].as_secs_f64(),
        );
        results.push((batch_rows, size_mb, peak));
    }
    let (small, large) = (results[0], results[1]);
    println!(
        "peak RSS {:.1} MB with {:.1} MB files, {:.1} MB with {:.1} MB files ({:.0}× the size): \
         {:+.1} MB; target under {MEMORY_TARGET_MB:.0} MB: {}",
        small.2,
        small.1,
        large.2,
        large.1,
        large.1 / small.1,
        large.2 - small.2,
        if large.2 < MEMORY_TARGET_MB && small.2 < MEMORY_TARGET_MB {
            "met"
        } else {
            "MISSED"
        }
    );
    Ok(())
}

/// A token file to upload as a version of `dataset`.
struct Upload {
    path: PathBuf,
    dataset: String,
    checksum: String,
    bytes: u64,
}

/// Tokenises `rows` synthetic rows once, then restamps a copy per dataset.
fn token_files(
    key: &ProjectKey,
    linker_key: &age::x25519::Recipient,
    root: &Path,
    label: &str,
    rows: u64,
    datasets: &[String],
) -> Result<Vec<Upload>> {
    let started = Instant::now();
    let input = root.join(format!("{label}.csv"));
    {
        let mut file = std::io::BufWriter::new(File::create(&input)?);
        simple::write_probation_csv(&mut file, rows, 42)?;
        file.flush()?;
    }
    let base = root.join(format!("{label}.parquet"));
    let config = PartnerConfig::parse(simple::PROBATION_CONFIG).map_err(anyhow::Error::msg)?;
    tokenise::run(&tokenise::Job {
        key,
        config: &config,
        input: &input,
        output: &base,
        rejects: None,
        max_reject_fraction: None,
        now: chrono::Utc::now(),
        progress: None,
    })?;
    std::fs::remove_file(&input)?;
    let mut files = Vec::new();
    for dataset in datasets {
        let path = root.join(format!("{label}-{dataset}.parquet"));
        restamp(&base, &path, dataset)?;
        let sealed = pprl_client::seal::seal(&path, linker_key)?;
        std::fs::remove_file(&path)?;
        let path = root.join(format!("{label}-{dataset}.parquet.age"));
        sealed.file.persist(&path)?;
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(File::open(&path)?)?;
        files.push(Upload {
            bytes: std::fs::metadata(&path)?.len(),
            checksum: hasher.finalize().to_hex().to_string(),
            dataset: dataset.clone(),
            path,
        });
    }
    std::fs::remove_file(&base)?;
    println!(
        "made {} token files of {rows} rows ({} bytes each) in {:.1} s",
        files.len(),
        files[0].bytes,
        started.elapsed().as_secs_f64()
    );
    Ok(files)
}

/// Copies a token file with its manifest naming `dataset`: the data pages are
/// copied as they are and only the Parquet footer is written anew.
fn restamp(src: &Path, dst: &Path, dataset: &str) -> Result<()> {
    use parquet::file::metadata::{
        FileMetaData, ParquetMetaData, ParquetMetaDataReader, ParquetMetaDataWriter,
    };
    let mut input = File::open(src)?;
    let metadata = ParquetMetaDataReader::new().parse_and_finish(&input)?;
    let len = input.metadata()?.len();
    let mut tail = [0u8; 8];
    input.seek(SeekFrom::Start(len - 8))?;
    input.read_exact(&mut tail)?;
    ensure!(
        &tail[4..] == b"PAR1",
        "{} is not a Parquet file",
        src.display()
    );
    let footer = u64::from(u32::from_le_bytes(tail[..4].try_into()?));
    let file_metadata = metadata.file_metadata();
    let mut kv = file_metadata
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    let Some(entry) = kv.iter_mut().find(|e| e.key == "pprl.manifest") else {
        bail!("{} has no pprl manifest", src.display());
    };
    let mut manifest: serde_json::Value =
        serde_json::from_str(entry.value.as_deref().unwrap_or_default())?;
    manifest["dataset"] = dataset.into();
    entry.value = Some(manifest.to_string());
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
    let mut out = std::io::BufWriter::new(File::create(dst)?);
    input.seek(SeekFrom::Start(0))?;
    let pages = len - 8 - footer;
    ensure!(
        std::io::copy(&mut (&mut input).take(pages), &mut out)? == pages,
        "short copy"
    );
    ParquetMetaDataWriter::new(&mut out, &restamped).finish()?;
    out.flush()?;
    Ok(())
}

/// Request times and totals of one batch.
struct Batch {
    /// Sorted, fastest first.
    times: Vec<Duration>,
    wall: Duration,
    total_bytes: u64,
}

impl Batch {
    fn mb_per_s(&self) -> f64 {
        self.total_bytes as f64 / 1e6 / self.wall.as_secs_f64()
    }

    /// Nearest-rank percentile (with 16 requests, p99 is the slowest).
    fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.times.len() as f64).ceil() as usize;
        self.times[rank.clamp(1, self.times.len()) - 1]
    }
}

/// Uploads every file at once, one thread each, streaming from disk.
fn run_batch(url: &str, token: &str, files: &[Upload]) -> Result<Batch> {
    let start = Arc::new(Barrier::new(files.len() + 1));
    let started = std::thread::scope(|s| -> Result<(Instant, Vec<Duration>)> {
        let handles: Vec<_> = files
            .iter()
            .map(|f| {
                let start = Arc::clone(&start);
                s.spawn(move || -> Result<Duration> {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(600)))
                        .build()
                        .into();
                    let body = File::open(&f.path)?;
                    start.wait();
                    let t = Instant::now();
                    let mut response = agent
                        .post(&format!(
                            "{url}/v1/projects/bench/datasets/{}/versions",
                            f.dataset
                        ))
                        .header("Authorization", &format!("Bearer {token}"))
                        .header("x-pprl-blake3", &f.checksum)
                        .send(body)?;
                    let status = response.status().as_u16();
                    let text = response.body_mut().read_to_string()?;
                    let elapsed = t.elapsed();
                    ensure!(
                        status == 201,
                        "upload of {} answered {status}: {text}",
                        f.dataset
                    );
                    Ok(elapsed)
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        let times = handles
            .into_iter()
            .map(|h| h.join().expect("an upload thread does not panic"))
            .collect::<Result<Vec<_>>>()?;
        Ok((t0, times))
    })?;
    let wall = started.0.elapsed();
    let mut times = started.1;
    times.sort();
    Ok(Batch {
        times,
        wall,
        total_bytes: files.iter().map(|f| f.bytes).sum(),
    })
}

/// Starts `pprl-linker serve` on a loopback port, its log in `logs/server.log`.
fn start_server(linker: &Path, data: &Path, logs: &Path) -> Result<Server> {
    let mut command = Command::new(linker);
    command
        .arg("--data-dir")
        .arg(data)
        .stderr(File::create(logs.join("server.log"))?);
    Ok(Server::spawn(command, &[])?)
}

/// A process's peak resident set size so far (`VmHWM`), in MB.
fn peak_rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .context("no VmHWM in /proc/<pid>/status")?
        .parse()?;
    Ok(kb / 1024.0)
}

fn admin(linker: &Path, data: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new(linker)
        .arg("--data-dir")
        .arg(data)
        .arg("admin")
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    ensure!(
        output.status.success(),
        "pprl-linker admin {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().context("a UTF-8 temp path")
}
