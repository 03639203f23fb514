//! Linkage accuracy benchmark (issue 4): the real pipeline on generated data,
//! scored against the ground truth.
//!
//! For each corruption profile (clean, typical, heavy) it generates a
//! population and the five standard partners' extracts (`pprl_generate::population`,
//! as `pprl-generate --bench-columns` writes them), makes a key with
//! `pprl-client keygen`, tokenises every extract with `pprl-client tokenise`,
//! starts a release `pprl-linker serve` on a loopback port with a temporary
//! data folder, creates one project per linkage method (`probabilistic`, the
//! default, and `cascade`, the deterministic match keys alone) with all five
//! datasets, issues partner and linkage-analyst tokens, uploads with
//! `pprl-client upload`, runs linkage with `pprl-linker run`, downloads with
//! `pprl-client download` and reads `links.parquet` (which the projects
//! publish to linkage analysts, with the two benchmark attributes only).
//!
//! `links.parquet` carries no record reference by design; the extracts carry
//! the benchmark-only column `Synthetic Row` (the row's line in the truth),
//! passed through as the attribute `synthetic_row`, and `Synthetic
//! Corruptions` (what the generator did to the row), so that every published
//! row can be scored. Rows the client rejected cannot be scored: they are
//! counted and reported.
//!
//! Pairwise precision, recall and F1: a pair is two records of one person.
//! True, predicted and correct pairs are counted from cluster sizes and
//! intersection sizes (Σ n(n−1)/2), never by listing pairs. The breakdown of
//! errors lists pairs, within true persons (false negatives) and within
//! predicted persons of at most 200 records (false positives).
//!
//! Run with `cargo bench --bench accuracy`. `PPRL_BENCH_PEOPLE` sets the
//! population (default 20,000), `PPRL_BENCH_PROFILES` the profiles
//! (default `clean,typical,heavy`), `PPRL_BENCH_SEED` the seed (default 1).
//! Targets (issue 4): F1 ≥ 0.98 on the typical profile and ≥ 0.95 on the
//! heavy one, for the probabilistic method.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pprl_demo::server::Server;
use pprl_generate::population::{self, Corruption, DatasetSpec, Profile};

const METHODS: [&str; 2] = ["probabilistic", "cascade"];

fn main() {
    let people: usize = env_or("PPRL_BENCH_PEOPLE", 20_000);
    let seed: u64 = env_or("PPRL_BENCH_SEED", 1);
    let profiles: Vec<Profile> = std::env::var("PPRL_BENCH_PROFILES")
        .unwrap_or_else(|_| "clean,typical,heavy".to_owned())
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.parse()
                .expect("PPRL_BENCH_PROFILES: clean, typical or heavy")
        })
        .collect();
    let tools = Tools {
        client: pprl_demo::bins::locate("pprl-client", true),
        linker: pprl_demo::bins::locate("pprl-linker", true),
    };
    println!(
        "linkage accuracy: {people} people, seed {seed}, profiles {}; {} cores",
        profiles
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut summary = Vec::new();
    for profile in profiles {
        summary.extend(bench_profile(&tools, profile, people, seed));
    }
    println!("\n=== summary (pairwise, over the rows the client accepted) ===");
    println!(
        "{:<8} {:<14} {:>9} {:>9} {:>9} {:>8}  target",
        "profile", "method", "precision", "recall", "F1", "run s"
    );
    for s in &summary {
        let target = match (s.profile, s.method) {
            (Profile::Typical, "probabilistic") => Some(0.98),
            (Profile::Heavy, "probabilistic") => Some(0.95),
            _ => None,
        };
        let verdict = match target {
            Some(t) if s.score.f1() >= t => format!("F1 >= {t}: MET"),
            Some(t) => format!("F1 >= {t}: MISSED"),
            None => "-".to_owned(),
        };
        println!(
            "{:<8} {:<14} {:>9.4} {:>9.4} {:>9.4} {:>8.1}  {verdict}",
            s.profile.name(),
            s.method,
            s.score.precision(),
            s.score.recall(),
            s.score.f1(),
            s.run_secs
        );
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name}: cannot parse {v:?}"))
        })
        .unwrap_or(default)
}

struct Tools {
    client: PathBuf,
    linker: PathBuf,
}

struct Summary {
    profile: Profile,
    method: &'static str,
    score: Score,
    run_secs: f64,
}

/// Pair counts.
#[derive(Debug, Default, Clone, Copy)]
struct Score {
    true_pairs: u64,
    predicted_pairs: u64,
    correct_pairs: u64,
}

impl Score {
    fn precision(&self) -> f64 {
        ratio(self.correct_pairs, self.predicted_pairs)
    }
    fn recall(&self) -> f64 {
        ratio(self.correct_pairs, self.true_pairs)
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Runs a command to completion; panics with its output when it fails.
fn run(cmd: &mut Command) -> String {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{cmd:?} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Starts `pprl-linker serve` on a loopback port over `data`.
fn start_server(linker: &Path, data: &Path) -> Server {
    let mut command = Command::new(linker);
    command.arg("--data-dir").arg(data).stderr(Stdio::null());
    Server::spawn(command, &[]).expect("pprl-linker starts")
}

/// One generated extract: its spec and, per row (line − 1), the true person
/// and the corruptions applied (read back from the published attribute).
struct Extract {
    spec: DatasetSpec,
    person: Vec<u32>,
    rows: usize,
    rejected: u64,
    reject_reasons: BTreeMap<String, u64>,
}

fn bench_profile(tools: &Tools, profile: Profile, n: usize, seed: u64) -> Vec<Summary> {
    println!("\n### profile {profile}");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    let started = Instant::now();
    let people = population::people(seed, n);
    let mut extracts = Vec::new();
    for spec in population::standard_datasets(profile) {
        let spec = spec.with_bench_columns();
        let csv = BufWriter::new(File::create(root.join(format!("{}.csv", spec.name))).unwrap());
        let mut truth = Vec::new();
        population::write_extract(&people, &spec, seed, csv, &mut truth).expect("extract");
        std::fs::write(
            root.join(format!("{}.toml", spec.name)),
            population::partner_config(&spec),
        )
        .expect("config");
        let person: Vec<u32> = String::from_utf8(truth)
            .expect("utf-8")
            .lines()
            .map(|l| {
                l.rsplit(',')
                    .next()
                    .and_then(|p| p.strip_prefix('P'))
                    .and_then(|p| p.parse().ok())
                    .expect("person id P0000042")
            })
            .collect();
        let rows = person.len();
        extracts.push(Extract {
            spec,
            person,
            rows,
            rejected: 0,
            reject_reasons: BTreeMap::new(),
        });
    }
    println!(
        "generated {} rows in {} extracts in {:.1} s",
        extracts.iter().map(|e| e.rows).sum::<usize>(),
        extracts.len(),
        started.elapsed().as_secs_f64()
    );

    // Key and tokens, with the real client.
    let client = |args: &[&str]| run(Command::new(&tools.client).current_dir(root).args(args));
    let keygen = client(&["keygen", "--output", "key.txt"]);
    let fingerprint = keygen
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .expect("keygen prints the fingerprint")
        .trim()
        .to_owned();
    let started = Instant::now();
    for e in &mut extracts {
        let name = &e.spec.name;
        client(&[
            "tokenise",
            "--key-file",
            "key.txt",
            "--config",
            &format!("{name}.toml"),
            "--input",
            &format!("{name}.csv"),
            "--output",
            &format!("{name}.parquet"),
            "--max-reject-fraction",
            "0.5",
            "--quiet",
        ]);
        let rejects = root.join(format!("{name}.parquet.rejects.csv"));
        if let Ok(mut reader) = csv::Reader::from_path(&rejects) {
            let header = reader.headers().expect("a header").clone();
            let column = |n: &str| header.iter().position(|h| h == n);
            let (field, reason) = (column("field"), column("reason"));
            for row in reader.records() {
                let row = row.expect("a rejects row");
                e.rejected += 1;
                let what = format!(
                    "{}: {}",
                    field.and_then(|i| row.get(i)).unwrap_or("?"),
                    reason.and_then(|i| row.get(i)).unwrap_or("?")
                );
                *e.reject_reasons.entry(what).or_default() += 1;
            }
        }
    }
    println!(
        "tokenised in {:.1} s; rows rejected by the client (not scorable): {}",
        started.elapsed().as_secs_f64(),
        extracts
            .iter()
            .map(|e| format!("{} {}/{}", e.spec.short_name(), e.rejected, e.rows))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &extracts {
        for (r, c) in &e.reject_reasons {
            *reasons.entry(r).or_default() += c;
        }
    }
    for (r, c) in &reasons {
        println!("  rejected: {c:>6}  {r}");
    }

    // Projects, tokens and the server.
    let data = root.join("data");
    let linker = |args: &[&str]| {
        run(Command::new(&tools.linker)
            .arg("--data-dir")
            .arg(&data)
            .env("PPRL_LOG", "warn")
            .args(args))
    };
    for method in METHODS {
        let mut config = format!(
            "name = \"acc-{method}\"\nkey_fingerprint = \"{fingerprint}\"\n\n[linkage]\nmethod = \"{method}\"\n\n[outputs]\nlinks = \"linkage-analyst\"\nlinks_attributes = [\"{}\", \"{}\"]\n",
            population::BENCH_ROW_ATTRIBUTE,
            population::BENCH_CORRUPTIONS_ATTRIBUTE
        );
        for e in &extracts {
            config.push_str(&format!(
                "\n[[datasets]]\nname = \"{}\"\npartner = \"{}\"\n",
                e.spec.name,
                e.spec.short_name()
            ));
        }
        let path = root.join(format!("{method}.toml"));
        std::fs::write(&path, config).expect("project config");
        linker(&[
            "admin",
            "create-project",
            "--config",
            path.to_str().expect("utf-8"),
        ]);
        let project = format!("acc-{method}");
        for e in &extracts {
            let out = root.join(format!("{method}-{}.token", e.spec.short_name()));
            linker(&[
                "admin",
                "issue-token",
                "--output",
                out.to_str().expect("utf-8"),
                "--role",
                "partner",
                "--project",
                &project,
                "--partner",
                e.spec.short_name(),
            ]);
        }
        // links.parquet is published to linkage analysts only (issue 17).
        let out = root.join(format!("{method}-analyst.token"));
        linker(&[
            "admin",
            "issue-token",
            "--output",
            out.to_str().expect("utf-8"),
            "--role",
            "linkage-analyst",
            "--project",
            &project,
        ]);
    }
    let server = start_server(&tools.linker, &data);
    let linker_key = linker(&["admin", "linker-key"])
        .lines()
        .find_map(|l| l.strip_prefix("linker key "))
        .expect("`admin linker-key` prints the key")
        .trim()
        .to_owned();

    let mut out = Vec::new();
    for method in METHODS {
        let project = format!("acc-{method}");
        for e in &extracts {
            let token = root.join(format!("{method}-{}.token", e.spec.short_name()));
            client(&[
                "upload",
                "--server",
                &server.url,
                "--project",
                &project,
                "--dataset",
                &e.spec.name,
                "--token-file",
                token.to_str().expect("utf-8"),
                "--linker-key",
                &linker_key,
                &format!("{}.parquet", e.spec.name),
            ]);
        }
        let started = Instant::now();
        // Accepted: the bench measures every run, including those the guard
        // before publishing would hold (it prints why).
        let printed = linker(&["run", "--project", &project, "--accept"]);
        let run_secs = started.elapsed().as_secs_f64();
        let outputs = root.join(format!("out-{method}"));
        let token = root.join(format!("{method}-analyst.token"));
        client(&[
            "download",
            "--server",
            &server.url,
            "--project",
            &project,
            "--output-dir",
            outputs.to_str().expect("utf-8"),
            "--token-file",
            token.to_str().expect("utf-8"),
        ]);
        println!("\n--- {profile} / {method}: {}", printed.trim());
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(outputs.join("report.json")).expect("report.json"),
        )
        .expect("report.json is JSON");
        let s = &report["stats"];
        println!(
            "engine: {} candidate pairs ({} from keys, {} from Bloom), {} above threshold, {} accepted, refused: {} one-per-person, {} weak",
            s["candidate_pairs"],
            s["pairs_from_keys"],
            s["pairs_from_bloom"],
            s["links_above_threshold"],
            s["links_accepted"],
            s["links_refused_one_per_person"],
            s["links_refused_weak"]
        );
        let score = score(&outputs.join("links.parquet"), &extracts);
        if method == "probabilistic" && std::env::var_os("PPRL_BENCH_NO_DIAGNOSIS").is_none() {
            diagnose(root, &extracts);
        }
        out.push(Summary {
            profile,
            method,
            score,
            run_secs,
        });
    }
    drop(server);
    out
}

/// A published row, mapped back to the truth.
struct Row {
    dataset: u16,
    truth: u32,
    predicted: u32,
    corruptions: u32,
}

fn corruption_bits(text: &str) -> u32 {
    text.split(';')
        .filter_map(|l| Corruption::ALL.iter().position(|c| c.label() == l))
        .fold(0, |bits, i| bits | 1 << i)
}

fn score(links: &Path, extracts: &[Extract]) -> Score {
    let file = File::open(links).expect("links.parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a Parquet file")
        .build()
        .expect("a reader");
    let dataset_index: HashMap<&str, u16> = extracts
        .iter()
        .enumerate()
        .map(|(i, e)| (e.spec.name.as_str(), i as u16))
        .collect();
    let mut predicted_ids: HashMap<String, u32> = HashMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for batch in reader {
        let batch = batch.expect("a batch");
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap_or_else(|| panic!("links.parquet has {name}"))
                .as_string::<i32>()
                .clone()
        };
        let (person, dataset) = (text("person_id"), text("dataset"));
        let (row, corruptions) = (
            text(population::BENCH_ROW_ATTRIBUTE),
            text(population::BENCH_CORRUPTIONS_ATTRIBUTE),
        );
        for i in 0..batch.num_rows() {
            let d = dataset_index[dataset.value(i)];
            let line: usize = row.value(i).parse().expect("synthetic_row is a number");
            let next = predicted_ids.len() as u32;
            let predicted = *predicted_ids
                .entry(person.value(i).to_owned())
                .or_insert(next);
            rows.push(Row {
                dataset: d,
                truth: extracts[d as usize].person[line - 1],
                predicted,
                corruptions: if corruptions.is_null(i) {
                    0
                } else {
                    corruption_bits(corruptions.value(i))
                },
            });
        }
    }
    let mut by_truth: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut by_predicted: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut cells: HashMap<(u32, u32), u64> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_truth.entry(r.truth).or_default().push(i);
        by_predicted.entry(r.predicted).or_default().push(i);
        *cells.entry((r.truth, r.predicted)).or_default() += 1;
    }
    let score = Score {
        true_pairs: by_truth.values().map(|v| pairs(v.len() as u64)).sum(),
        predicted_pairs: by_predicted.values().map(|v| pairs(v.len() as u64)).sum(),
        correct_pairs: cells.values().map(|&n| pairs(n)).sum(),
    };
    // Pairs lost with the rejected rows: true pairs over every generated row.
    let mut all_people: HashMap<u32, u64> = HashMap::new();
    for e in extracts {
        for &p in &e.person {
            *all_people.entry(p).or_default() += 1;
        }
    }
    let all_true: u64 = all_people.values().map(|&n| pairs(n)).sum();
    println!(
        "scored {} rows: {} persons published ({} true); pairs: {} true, {} predicted, {} correct",
        rows.len(),
        by_predicted.len(),
        by_truth.len(),
        score.true_pairs,
        score.predicted_pairs,
        score.correct_pairs
    );
    println!(
        "precision {:.4}  recall {:.4}  F1 {:.4}   (recall counting the {} true pairs of rejected rows as missed: {:.4})",
        score.precision(),
        score.recall(),
        score.f1(),
        all_true - score.true_pairs,
        ratio(score.correct_pairs, all_true)
    );
    let largest = by_predicted.values().map(Vec::len).max().unwrap_or(0);
    println!("largest published person: {largest} records");

    // Errors by dataset pair and by corruption.
    let names: Vec<&str> = extracts.iter().map(|e| e.spec.short_name()).collect();
    let pair_name = |a: &Row, b: &Row| {
        let (x, y) = if a.dataset <= b.dataset {
            (a.dataset, b.dataset)
        } else {
            (b.dataset, a.dataset)
        };
        format!("{}-{}", names[x as usize], names[y as usize])
    };
    let mut by_pair: BTreeMap<String, [u64; 3]> = BTreeMap::new(); // true, missed, wrong
    let mut missed_by_corruption = [0u64; Corruption::COUNT];
    let mut true_by_corruption = [0u64; Corruption::COUNT];
    let mut missed_clean = 0u64;
    for members in by_truth.values() {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (a, b) = (&rows[i], &rows[j]);
                let entry = by_pair.entry(pair_name(a, b)).or_default();
                entry[0] += 1;
                let bits = a.corruptions | b.corruptions;
                let missed = a.predicted != b.predicted;
                for (c, _) in Corruption::ALL.iter().enumerate() {
                    if bits & (1 << c) != 0 {
                        true_by_corruption[c] += 1;
                        missed_by_corruption[c] += u64::from(missed);
                    }
                }
                if missed {
                    entry[1] += 1;
                    missed_clean += u64::from(bits == 0);
                }
            }
        }
    }
    let mut wrong_unlisted = 0u64;
    for members in by_predicted.values() {
        if members.len() > 200 {
            wrong_unlisted += pairs(members.len() as u64);
            continue;
        }
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (a, b) = (&rows[i], &rows[j]);
                if a.truth != b.truth {
                    by_pair.entry(pair_name(a, b)).or_default()[2] += 1;
                }
            }
        }
    }
    println!(
        "{:<24} {:>9} {:>9} {:>9}",
        "dataset pair", "true", "missed", "wrong"
    );
    for (pair, [t, m, w]) in &by_pair {
        println!("{pair:<24} {t:>9} {m:>9} {w:>9}");
    }
    if wrong_unlisted > 0 {
        println!("(pairs in persons of more than 200 records not broken down: {wrong_unlisted})");
    }
    println!("missed pairs by corruption of either record (a pair may count under several):");
    println!(
        "  {:<20} {:>9} {:>9} {:>8}",
        "corruption", "true", "missed", "missed%"
    );
    for (c, corruption) in Corruption::ALL.iter().enumerate() {
        if true_by_corruption[c] == 0 {
            continue;
        }
        println!(
            "  {:<20} {:>9} {:>9} {:>7.2}%",
            corruption.label(),
            true_by_corruption[c],
            missed_by_corruption[c],
            100.0 * ratio(missed_by_corruption[c], true_by_corruption[c])
        );
    }
    println!(
        "  {:<20} {:>9} {:>9}",
        "(neither corrupted)", "", missed_clean
    );
    let _ = std::io::stdout().flush();
    score
}

/// Where the missed and the wrong pairs of the probabilistic method come
/// from: the engine run in process on the same token files (the published
/// outputs cannot say), every true pair classified as not proposed by
/// blocking, scored below the threshold, or refused by a clustering guard.
fn diagnose(root: &Path, extracts: &[Extract]) {
    use pprl_linker::linkage::{self, DatasetInput, Records, candidates, score as sc};
    use pprl_linker::project::LinkageConfig;

    let settings = LinkageConfig::default();
    let mut records = Records::new();
    for e in extracts {
        let input = DatasetInput {
            name: e.spec.name.clone(),
            version: 1,
            one_record_per_person: false,
            attribute_schema: Vec::new(),
            attributes: Vec::new(),
        };
        pprl_linker::linkage::records::load(
            &mut records,
            &root.join(format!("{}.parquet", e.spec.name)),
            input,
        )
        .expect("a token file loads");
    }
    let n = records.len();
    let mut truth = vec![0u32; n];
    let mut corruptions = vec![0u32; n];
    let mut at = 0usize;
    for (d, input) in records.datasets.iter().enumerate() {
        for batch in &input.attributes {
            let rows = batch
                .column_by_name(population::BENCH_ROW_ATTRIBUTE)
                .expect("synthetic_row")
                .as_string::<i32>();
            let what = batch
                .column_by_name(population::BENCH_CORRUPTIONS_ATTRIBUTE)
                .expect("synthetic_corruptions")
                .as_string::<i32>();
            for i in 0..batch.num_rows() {
                let line: usize = rows.value(i).parse().expect("a row number");
                truth[at] = extracts[d].person[line - 1];
                corruptions[at] = if what.is_null(i) {
                    0
                } else {
                    corruption_bits(what.value(i))
                };
                at += 1;
            }
        }
    }
    assert_eq!(at, n);
    let scored = linkage::score_pairs(&records, &settings, &|_, _| true, &mut Default::default());
    let (blocking, comparisons, model) = (&scored.blocking, &scored.comparisons, &scored.model);
    println!("diagnosis (engine in process on the same token files, default settings):");
    let mut counter = 0u64;
    let linkage = linkage::link(&records, &settings, &vec![None; n], || {
        counter += 1;
        format!("p{counter}")
    });
    let cluster = &linkage.clustering.cluster;
    // The engine's own score, in process (the published one is above).
    let mut cells: HashMap<(u32, u32), u64> = HashMap::new();
    let (mut t_sizes, mut p_sizes) = (HashMap::<u32, u64>::new(), HashMap::<u32, u64>::new());
    for i in 0..n {
        *cells.entry((truth[i], cluster[i])).or_default() += 1;
        *t_sizes.entry(truth[i]).or_default() += 1;
        *p_sizes.entry(cluster[i]).or_default() += 1;
    }
    let inproc = Score {
        true_pairs: t_sizes.values().map(|&k| pairs(k)).sum(),
        predicted_pairs: p_sizes.values().map(|&k| pairs(k)).sum(),
        correct_pairs: cells.values().map(|&k| pairs(k)).sum(),
    };
    println!(
        "  in process: precision {:.4} recall {:.4} F1 {:.4}; {} candidate pairs ({} keys, {} Bloom)",
        inproc.precision(),
        inproc.recall(),
        inproc.f1(),
        blocking.pairs.len(),
        blocking.key_pairs,
        blocking.bloom_pairs
    );
    let pattern = |c: &sc::Comparison| {
        let name = sc::NAME_KEYS
            .get(c.name as usize)
            .copied()
            .unwrap_or("no-name-key");
        let numbers = ["numbers-agree", "numbers-differ", "no-numbers"][c.numbers as usize];
        let dice = match c.dice as usize {
            d if d < sc::DICE_BINS.len() => format!("dice>={}", sc::DICE_BINS[d]),
            d if d == sc::DICE_BINS.len() => "dice-low".to_owned(),
            _ => "no-bloom".to_owned(),
        };
        format!("{name} {numbers} {dice}")
    };
    let mut by_person: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, &p) in truth.iter().enumerate() {
        by_person.entry(p).or_default().push(i as u32);
    }
    let (mut not_proposed, mut below, mut guarded, mut transitive) = (0u64, 0u64, 0u64, 0u64);
    let mut not_proposed_by: [u64; Corruption::COUNT] = [0; Corruption::COUNT];
    let mut below_patterns: HashMap<String, u64> = HashMap::new();
    for members in by_person.values() {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                let p = candidates::pair(a, b);
                let found = blocking.pairs.binary_search(&p);
                let same = cluster[a as usize] == cluster[b as usize];
                match found {
                    Err(_) if same => transitive += 1,
                    Err(_) => {
                        not_proposed += 1;
                        let bits = corruptions[a as usize] | corruptions[b as usize];
                        for (c, count) in not_proposed_by.iter_mut().enumerate() {
                            *count += u64::from(bits & (1 << c) != 0);
                        }
                    }
                    Ok(k) => {
                        let probability = scored.probabilities[k];
                        if same {
                            continue;
                        }
                        if probability < settings.threshold {
                            below += 1;
                            *below_patterns.entry(pattern(&comparisons[k])).or_default() += 1;
                        } else {
                            guarded += 1;
                        }
                    }
                }
            }
        }
    }
    println!(
        "  true pairs not in one person: {} not proposed by blocking, {} scored below {}, {} above it but kept apart by the guards; {} unproposed pairs joined through others",
        not_proposed, below, settings.threshold, guarded, transitive
    );
    let mut top: Vec<(String, u64)> = below_patterns.into_iter().collect();
    top.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (pattern, count) in top.iter().take(8) {
        println!("    below threshold: {count:>6}  {pattern}");
    }
    let mut np: Vec<(usize, u64)> = not_proposed_by.iter().copied().enumerate().collect();
    np.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (c, count) in np.iter().take(6).filter(|(_, c)| *c > 0) {
        println!(
            "    not proposed, with {:<18} {count:>6}",
            Corruption::ALL[*c].label()
        );
    }
    // Wrong links: accepted candidate pairs of two people, by pattern.
    let mut wrong: HashMap<String, u64> = HashMap::new();
    let mut wrong_total = 0u64;
    for (k, &p) in blocking.pairs.iter().enumerate() {
        let (a, b) = candidates::unpack(p);
        if truth[a as usize] != truth[b as usize]
            && cluster[a as usize] == cluster[b as usize]
            && scored.probabilities[k] >= settings.threshold
        {
            wrong_total += 1;
            *wrong.entry(pattern(&comparisons[k])).or_default() += 1;
        }
    }
    println!("  wrong direct links (two people, above threshold, joined): {wrong_total}");
    let mut top: Vec<(String, u64)> = wrong.into_iter().collect();
    top.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (pattern, count) in top.iter().take(8) {
        println!("    wrong: {count:>6}  {pattern}");
    }
    println!(
        "  model: lambda {:.4}, {} iterations{}",
        model.lambda,
        model.iterations,
        if model.converged {
            ""
        } else {
            " (not converged)"
        }
    );
}
