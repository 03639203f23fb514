//! Crash test for the linker's upload path (issue 3).
//!
//! The server is killed with SIGKILL at chosen points of the uploads in
//! flight — before the request is read, while the body streams into staging,
//! once the body is complete (validation and sync), just after the blob is
//! published, after the version is committed — and restarted, at least
//! [`KILLS`] times. Where each upload was when the server died is read from
//! the traces it left (a partial or complete staging file, a blob with no
//! version, a version, an answer), so the spread of the kills is counted and
//! asserted rather than hoped for.
//!
//! After every restart: the database opens; every listed version is a file
//! the test sent, complete, its blob verifying against the listed checksum
//! and size; the staging folder is empty and every blob is referenced (no
//! partial or orphan file is visible); versions are numbered 1..n per
//! dataset; no version once listed disappears; no answered upload is lost.
//!
//! The choices (file, dataset, kill point, delay) come from a seeded
//! generator: the seed is printed, and `PPRL_CRASH_SEED` replays it. The
//! delays are not synchronisation — they place the kill; what the kill hit is
//! then read back from disk.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pprl_generate::Rng;

use crate::support::{
    ListedVersion, Project, Server, blake3_file, blob_path, files_under, linker_cli,
    parse_versions, restamp_token_file, seal_file, serve, stored_checksum, token_text,
};

/// How many times the server is killed.
const KILLS: usize = 60;
/// Rows of the tokenised extracts every uploaded file is made from.
const BASE_ROWS: [u64; 3] = [2_000, 6_000, 15_000];
/// The project's datasets; the test holds a partner token for each.
const DATASETS: [&str; 2] = ["probation_caseload", "police_offences"];
const DEFAULT_SEED: u64 = 20_251_123;
/// Longest wait for an upload in flight to reach a kill point or finish.
const PATIENCE: Duration = Duration::from_secs(60);

/// A token file the test uploads.
#[derive(Debug)]
struct TokenFile {
    /// The file as sent: sealed to the linker's key.
    path: PathBuf,
    /// The token file itself, unsealed, as the real client takes it.
    plain: PathBuf,
    base: usize,
    dataset: &'static str,
    /// The checksum of the stored (re-keyed) file, which versions list.
    checksum: String,
    /// The sealed body's checksum, for the upload's header.
    body_checksum: String,
    /// The sealed body's size.
    bytes: u64,
    /// The stored file's size.
    stored_bytes: u64,
    rows: u64,
}

/// Where an upload was when the server died, as its traces show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// No trace: the server had not yet opened a staging file for it.
    NotStarted,
    /// A staging file holding part of the body.
    Receiving,
    /// A staging file holding the whole body: validation and sync.
    Received,
    /// Its blob published but no version recorded (left for recovery).
    Published,
    /// Its version committed, but no answer reached the client.
    Committed,
    /// The client had the server's answer before the kill.
    Answered,
}

/// When to kill the server, relative to the uploads just started.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    /// After a delay: a few milliseconds, or drawn over the whole expected
    /// upload time and beyond.
    Timer(Duration),
    /// Once a staging file holds this fraction of the first upload's body.
    BodyFraction(f64),
    /// This long after the first upload's body is complete in staging.
    BodyComplete(Duration),
    /// This long after the first upload's blob is published.
    BlobPublished(Duration),
}

/// The server's answer to an upload (status, body), or why none came.
type Answer = Result<(u16, String), String>;

/// An upload running in a thread.
struct InFlight {
    file: usize,
    recorded_before: bool,
    answer: JoinHandle<Answer>,
}

/// The files made so far, and which is which by checksum.
#[derive(Debug, Default)]
struct Files {
    list: Vec<TokenFile>,
    by_checksum: HashMap<String, usize>,
}

impl Files {
    fn add(&mut self, file: TokenFile) -> usize {
        let i = self.list.len();
        let previous = self.by_checksum.insert(file.checksum.clone(), i);
        assert!(
            previous.is_none(),
            "every restamped file has its own checksum"
        );
        self.list.push(file);
        i
    }
}

impl std::ops::Index<usize> for Files {
    type Output = TokenFile;

    fn index(&self, i: usize) -> &TokenFile {
        &self.list[i]
    }
}

/// What is known of a verified blob, to skip hashing it again while unchanged.
type BlobStamp = (u64, i64, i64, u64);

#[test]
fn uploads_survive_the_server_being_killed_at_any_point() {
    let started = Instant::now();
    let seed = std::env::var("PPRL_CRASH_SEED")
        .ok()
        .map(|s| s.parse().expect("PPRL_CRASH_SEED is an unsigned integer"))
        .unwrap_or(DEFAULT_SEED);
    println!("crash test: seed {seed} (set PPRL_CRASH_SEED to replay)");
    let mut rng = Rng::new(seed);

    let project = Project::new();
    let tokens = [
        token_text(&project.partner_token),
        token_text(&project.other_partner_token),
    ];
    let admin = token_text(&project.admin_token);
    let bases: Vec<PathBuf> = std::thread::scope(|s| {
        let handles: Vec<_> = BASE_ROWS
            .iter()
            .enumerate()
            .map(|(i, &rows)| {
                let project = &project;
                s.spawn(move || project.tokenise(&format!("base{i}.parquet"), rows, 100 + i as u64))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("tokenising a base file does not panic"))
            .collect()
    });
    fs::create_dir(project.root().join("variants")).expect("the variants folder is new");
    let mut files = Files::default();
    let fresh = |base: usize, dataset: &'static str, files: &mut Files| -> usize {
        files.add(restamped(
            &project,
            &bases[base],
            base,
            dataset,
            files.list.len(),
        ))
    };

    let mut server = serve(&project.data, &[]);
    let mut verified: HashMap<String, BlobStamp> = HashMap::new();

    // Calibration: one timed upload of each size, so kill delays span the upload.
    let mut total_secs = 0.0;
    let mut total_bytes = 0u64;
    for base in 0..BASE_ROWS.len() {
        let i = fresh(base, DATASETS[0], &mut files);
        let t = Instant::now();
        let (status, body) = post(&server.url, &tokens[0], &files[i])
            .expect("a calibration upload to a live server is answered");
        assert_eq!(status, 201, "a fresh valid token file is stored: {body}");
        let secs = t.elapsed().as_secs_f64();
        println!(
            "calibration: {} rows, {} bytes uploaded in {:.0} ms",
            files[i].rows,
            files[i].bytes,
            secs * 1e3
        );
        total_secs += secs;
        total_bytes += files[i].bytes;
    }
    let secs_per_byte = total_secs / total_bytes as f64;
    let mut listed = check_restarted(&server, &project.data, &admin, &files, &mut verified);

    let mut kills_by_phase: BTreeMap<Phase, usize> = BTreeMap::new();
    let mut uploads_by_phase: BTreeMap<Phase, usize> = BTreeMap::new();
    let (mut lost, mut kept) = (0usize, 0usize);
    for kill in 0..KILLS {
        // One fresh file first (the one the trigger watches), then up to two
        // more: fresh, or a retry of an earlier file, stored or not.
        let mut order = [0usize, 1, 2];
        for k in (1..order.len()).rev() {
            order.swap(k, rng.below(k as u64 + 1) as usize);
        }
        let count = 1 + rng.below(3) as usize;
        let mut chosen = Vec::new();
        for (j, &base) in order.iter().take(count).enumerate() {
            let retries: Vec<usize> = (0..files.list.len())
                .filter(|&f| files[f].base == base)
                .collect();
            let i = if j > 0 && rng.chance(0.3) {
                *rng.pick(&retries)
            } else {
                fresh(base, DATASETS[rng.below(2) as usize], &mut files)
            };
            chosen.push(i);
        }
        let primary = &files[chosen[0]];
        let expected = secs_per_byte * chosen.iter().map(|&i| files[i].bytes).sum::<u64>() as f64;
        let trigger = match rng.below(100) {
            // Within the first few milliseconds: before the body arrives.
            0..7 => Trigger::Timer(Duration::from_micros(rng.below(3_000))),
            7..40 => Trigger::Timer(Duration::from_secs_f64(expected * 1.4 * uniform(&mut rng))),
            40..65 => Trigger::BodyFraction(uniform(&mut rng)),
            65..80 => Trigger::BodyComplete(Duration::from_secs_f64(
                secs_per_byte * primary.bytes as f64 * 0.5 * uniform(&mut rng),
            )),
            _ => Trigger::BlobPublished(Duration::from_micros(rng.below(4_000))),
        };

        let in_flight: Vec<InFlight> = chosen
            .iter()
            .map(|&i| {
                let file = &files[i];
                let token = tokens[DATASETS
                    .iter()
                    .position(|&d| d == file.dataset)
                    .expect("a known dataset")]
                .clone();
                let url = server.url.clone();
                let (path, dataset, checksum) =
                    (file.path.clone(), file.dataset, file.body_checksum.clone());
                InFlight {
                    file: i,
                    recorded_before: listed.iter().any(|v| v.checksum == file.checksum),
                    answer: std::thread::spawn(move || {
                        post_file(&url, &token, dataset, &path, &checksum)
                    }),
                }
            })
            .collect();
        let t0 = Instant::now();
        let all_done = || in_flight.iter().all(|u| u.answer.is_finished());
        let staging = project.data.join("staging");
        match trigger {
            Trigger::Timer(delay) => std::thread::sleep(delay),
            Trigger::BodyFraction(fraction) => {
                let target = (primary.bytes as f64 * fraction) as u64;
                poll(
                    || staged_sizes(&staging).iter().any(|&n| n >= target),
                    all_done,
                );
            }
            Trigger::BodyComplete(delay) => {
                if poll(|| staged_sizes(&staging).contains(&primary.bytes), all_done) {
                    std::thread::sleep(delay);
                }
            }
            Trigger::BlobPublished(delay) => {
                let blob = blob_path(&project.data, &primary.checksum);
                if poll(|| blob.exists(), all_done) {
                    std::thread::sleep(delay);
                }
            }
        }
        let at = t0.elapsed();
        server.kill();
        let answers: Vec<(usize, bool, Answer)> = in_flight
            .into_iter()
            .map(|u| {
                let answer = u.answer.join().expect("an upload thread does not panic");
                (u.file, u.recorded_before, answer)
            })
            .collect();

        // Post-mortem, before recovery: the database opens after the crash,
        // and what it lists was complete before it was recorded.
        let dead = parse_versions(
            &linker_cli(
                &project.data,
                &["admin", "list-versions", "--project", "pl"],
            )
            .ok()
            .stdout,
        );
        for v in &dead {
            let blob = blob_path(&project.data, &v.checksum);
            let len = fs::metadata(&blob)
                .unwrap_or_else(|e| panic!("a version is recorded only once its blob is in place (kill {kill}): {v:?}: {e}"))
                .len();
            assert_eq!(
                len, v.bytes,
                "a recorded blob is whole even before recovery: {v:?}"
            );
        }
        let parts: Vec<Vec<u8>> = files_under(&staging)
            .iter()
            .map(|p| fs::read(p).expect("a staging file left by the kill is readable"))
            .collect();
        let mut phases = Vec::new();
        for (i, recorded_before, answer) in &answers {
            let file = &files[*i];
            let phase = match answer {
                Ok((status, body)) => {
                    assert!(
                        *status == 201 || (*status == 200 && *recorded_before),
                        "a valid upload is stored (201), or reported unchanged (200) when it already was: {status} {body}"
                    );
                    Phase::Answered
                }
                Err(_) if !recorded_before && dead.iter().any(|v| v.checksum == file.checksum) => {
                    Phase::Committed
                }
                Err(_) if !recorded_before && blob_path(&project.data, &file.checksum).exists() => {
                    Phase::Published
                }
                Err(_) => {
                    let content = fs::read(&file.path).expect("the test's token file is readable");
                    if parts.contains(&content) {
                        Phase::Received
                    } else if parts.iter().any(|p| content.starts_with(p)) {
                        Phase::Receiving
                    } else {
                        Phase::NotStarted
                    }
                }
            };
            *uploads_by_phase.entry(phase).or_default() += 1;
            phases.push(phase);
        }
        *kills_by_phase.entry(phases[0]).or_default() += 1;

        // Recovery.
        server = serve(&project.data, &[]);
        let now = check_restarted(&server, &project.data, &admin, &files, &mut verified);
        for v in &listed {
            assert!(
                now.contains(v),
                "a listed version never disappears, yet {v:?} did after kill {kill}"
            );
        }
        for ((i, recorded_before, answer), phase) in answers.iter().zip(&phases) {
            let file = &files[*i];
            let stored = now.iter().find(|v| v.checksum == file.checksum);
            if let Ok((_, body)) = answer {
                let reply: serde_json::Value =
                    serde_json::from_str(body).expect("an upload's answer is JSON");
                let v = stored
                    .unwrap_or_else(|| panic!("an answered upload survives the kill: {body}"));
                assert_eq!(
                    (
                        reply["version"].as_u64(),
                        reply["checksum"].as_str(),
                        reply["dataset"].as_str()
                    ),
                    (
                        Some(v.version),
                        Some(v.checksum.as_str()),
                        Some(v.dataset.as_str())
                    ),
                    "the answer names the version that is stored"
                );
            }
            if *phase == Phase::Committed {
                assert!(
                    stored.is_some(),
                    "a committed version survives recovery: {}",
                    file.checksum
                );
            }
            if *phase == Phase::Published {
                assert!(
                    stored.is_none(),
                    "an unrecorded blob does not become a version: {}",
                    file.checksum
                );
            }
            if !recorded_before {
                if stored.is_some() {
                    kept += 1;
                } else {
                    lost += 1;
                }
            }
        }
        println!(
            "kill {kill:2} {trigger:?} at {:.0} ms: {}",
            at.as_secs_f64() * 1e3,
            answers
                .iter()
                .zip(&phases)
                .map(|((i, before, _), phase)| format!(
                    "{}{} {}:{:?}",
                    files[*i].rows,
                    if *before { " (stored before)" } else { "" },
                    files[*i].dataset,
                    phase
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        listed = now;
    }

    println!("kills by the phase of the watched upload: {kills_by_phase:?}");
    println!("all uploads by phase: {uploads_by_phase:?}");
    println!("uploads of new content: {kept} stored, {lost} lost to a kill");
    let kills: usize = kills_by_phase.values().sum();
    assert!(kills >= 50, "at least 50 kills: {kills}");
    let count = |p: Phase| uploads_by_phase.get(&p).copied().unwrap_or(0);
    for (phase, least) in [
        (Phase::NotStarted, 1),
        (Phase::Receiving, 8),
        (Phase::Received, 3),
        (Phase::Answered, 5),
    ] {
        assert!(
            count(phase) >= least,
            "kills are spread over the upload path: at least {least} uploads cut at {phase:?}, got {uploads_by_phase:?}"
        );
    }
    assert!(
        count(Phase::Published) + count(Phase::Committed) >= 2,
        "some kills land around publish: {uploads_by_phase:?}"
    );
    assert!(
        lost >= 10 && kept >= 10,
        "kills both lost and spared uploads: {lost} lost, {kept} kept"
    );

    // Every file, sent once more with the real client after the last
    // restart, is stored now or reported unchanged (two clients at a time).
    let final_started = Instant::now();
    std::thread::scope(|s| {
        for half in files.list.chunks(files.list.len().div_ceil(2)) {
            let (project, server, listed) = (&project, &server, &listed);
            s.spawn(move || {
                for file in half {
                    let token = if file.dataset == DATASETS[0] {
                        &project.partner_token
                    } else {
                        &project.other_partner_token
                    };
                    let run = project
                        .upload(&server.url, file.dataset, token, &file.plain)
                        .ok();
                    let was = listed.iter().any(|v| v.checksum == file.checksum);
                    let expected = if was { "unchanged: " } else { "uploaded " };
                    assert!(
                        run.stdout.starts_with(expected),
                        "{} was stored: {was}; the client said {}",
                        file.plain.display(),
                        run.stdout
                    );
                }
            });
        }
    });
    let end = check_restarted(&server, &project.data, &admin, &files, &mut verified);
    for file in &files.list {
        assert_eq!(
            end.iter().filter(|v| v.checksum == file.checksum).count(),
            1,
            "after the final uploads every file is exactly one version: {}",
            file.path.display()
        );
    }
    println!(
        "final uploads of {} files in {:.1} s; {} versions; crash test took {:.1} s",
        files.list.len(),
        final_started.elapsed().as_secs_f64(),
        end.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Uniform in [0, 1).
fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A copy of a base token file as a version of `dataset`, made distinct by its creation time.
fn restamped(
    project: &Project,
    src: &Path,
    base: usize,
    dataset: &'static str,
    serial: usize,
) -> TokenFile {
    let path = project
        .root()
        .join("variants")
        .join(format!("{serial:03}-{dataset}-{}.parquet", BASE_ROWS[base]));
    restamp_token_file(src, &path, |m| {
        m["dataset"] = dataset.into();
        m["created_at"] = format!(
            "2026-01-01T{:02}:{:02}:{:02}Z",
            serial / 3600 % 24,
            serial / 60 % 60,
            serial % 60
        )
        .into();
    });
    let (checksum, stored_bytes) = stored_checksum(&project.data, "pl", &path);
    let sealed = path.with_extension("parquet.age");
    let body_checksum = seal_file(&path, &project.linker_key, &sealed);
    TokenFile {
        checksum,
        body_checksum,
        bytes: fs::metadata(&sealed).expect("the sealed file exists").len(),
        stored_bytes,
        rows: BASE_ROWS[base],
        plain: path,
        path: sealed,
        base,
        dataset,
    }
}

fn post(url: &str, token: &str, file: &TokenFile) -> Answer {
    post_file(url, token, file.dataset, &file.path, &file.body_checksum)
}

/// Streams a token file to the upload endpoint; `Err` when no answer arrives.
fn post_file(url: &str, token: &str, dataset: &str, path: &Path, checksum: &str) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(PATIENCE))
        .build()
        .into();
    let body = fs::File::open(path).expect("the test's token file opens");
    let mut response = agent
        .post(&format!("{url}/v1/projects/pl/datasets/{dataset}/versions"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("x-pprl-blake3", checksum)
        .send(body)
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, text))
}

/// Sizes of the files in the staging folder.
fn staged_sizes(staging: &Path) -> Vec<u64> {
    let Ok(entries) = fs::read_dir(staging) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .collect()
}

/// Polls `reached` until it holds (true) or every upload has finished (false).
fn poll(mut reached: impl FnMut() -> bool, finished: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if reached() {
            return true;
        }
        if finished() {
            return false;
        }
        assert!(
            Instant::now() < deadline,
            "uploads in flight progress or finish within {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Checks the stored state of a restarted server on `data`; returns its versions.
fn check_restarted(
    server: &Server,
    data: &Path,
    admin: &str,
    files: &Files,
    verified: &mut HashMap<String, BlobStamp>,
) -> Vec<ListedVersion> {
    let listed = parse_versions(
        &linker_cli(data, &["admin", "list-versions", "--project", "pl"])
            .ok()
            .stdout,
    );

    let mut numbers: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for v in &listed {
        numbers
            .entry(v.dataset.as_str())
            .or_default()
            .push(v.version);
    }
    for (dataset, mut numbers) in numbers {
        numbers.sort_unstable();
        let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
        assert_eq!(
            numbers, expected,
            "versions of {dataset} are numbered 1..n without gaps"
        );
    }
    let mut seen = HashSet::new();
    for v in &listed {
        assert!(
            seen.insert((v.dataset.as_str(), v.checksum.as_str())),
            "a file is one version of a dataset, not two: {v:?}"
        );
        let file = &files[*files
            .by_checksum
            .get(&v.checksum)
            .unwrap_or_else(|| panic!("every version is a file the test sent: {v:?}"))];
        assert_eq!(
            (v.dataset.as_str(), v.rows, v.bytes),
            (file.dataset, file.rows, file.stored_bytes),
            "a version lists the dataset, rows and size of the file sent, as stored re-keyed"
        );
        let blob = blob_path(data, &v.checksum);
        let meta = fs::metadata(&blob)
            .unwrap_or_else(|e| panic!("a listed version's blob exists: {}: {e}", blob.display()));
        assert_eq!(
            meta.len(),
            v.bytes,
            "a listed version's blob is whole: {}",
            blob.display()
        );
        let stamp = (meta.len(), meta.mtime(), meta.mtime_nsec(), meta.ino());
        if verified.get(&v.checksum) != Some(&stamp) {
            assert_eq!(
                blake3_file(&blob),
                v.checksum,
                "a listed version's blob verifies against its checksum"
            );
            verified.insert(v.checksum.clone(), stamp);
        }
    }

    let staged = files_under(&data.join("staging"));
    assert!(
        staged.is_empty(),
        "after a restart no staging file is left: {staged:?}"
    );
    let referenced: HashSet<&str> = listed.iter().map(|v| v.checksum.as_str()).collect();
    for path in files_under(&data.join("blobs")) {
        let checksum = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".parquet"))
            .unwrap_or_default();
        assert!(
            referenced.contains(checksum) && path == blob_path(data, checksum),
            "after a restart every file under blobs/ is a listed version's blob, none partial or orphaned: {}",
            path.display()
        );
    }
    for entry in fs::read_dir(data).expect("the data folder is readable") {
        let name = entry.expect("a data folder entry is readable").file_name();
        assert!(
            [
                "blobs",
                "staging",
                "secrets",
                "pprl.sqlite3",
                "pprl.sqlite3-wal",
                "pprl.sqlite3-shm"
            ]
            .contains(&name.to_str().unwrap_or_default()),
            "the data folder holds the database, blobs/, staging/ and secrets/ only: {name:?}"
        );
    }

    // The restarted server serves the same versions.
    let served = ureq::get(&format!("{}/v1/projects/pl/versions", server.url))
        .header("Authorization", &format!("Bearer {admin}"))
        .call()
        .expect("the restarted server lists versions")
        .body_mut()
        .read_to_string()
        .expect("the version list is text");
    let served: Vec<serde_json::Value> =
        serde_json::from_str(&served).expect("the version list is JSON");
    let served: HashSet<(String, u64, String)> = served
        .iter()
        .map(|v| {
            (
                v["dataset"].as_str().unwrap_or_default().to_owned(),
                v["version"].as_u64().unwrap_or_default(),
                v["checksum"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let cli: HashSet<(String, u64, String)> = listed
        .iter()
        .map(|v| (v.dataset.clone(), v.version, v.checksum.clone()))
        .collect();
    assert_eq!(
        served, cli,
        "the server and the administrator command line list the same versions"
    );
    listed
}
