//! Linkage speed benchmark (issue 4): two partner extracts of about N records
//! each from the synthetic population (`pprl_generate::population`, typical profile:
//! the prison service's releases and the probation caseload, 80% of the
//! people in each, with in-file duplicates), tokenised, then linked by the
//! engine in this process.
//!
//! Prints the load and per-stage times, the candidate pairs, pairwise
//! precision and recall against the generator's ground truth (record
//! references are recomputed from the truth with the project key, which only
//! a benchmark holds), and the process's peak memory; then the Bloom
//! comparison kernel in comparisons per second on one core.
//!
//! Run with `cargo bench --bench linkage`. `PPRL_BENCH_SIZES=100000,1000000`
//! sets the sizes (records per dataset; `3000000` for the growth figure),
//! `PPRL_BENCH_KERNEL=0` skips the kernel.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

#[path = "common/pairwise.rs"]
mod pairwise;
#[path = "common/truth.rs"]
mod truth;

use pairwise::pairwise;
use pprl_client::config::PartnerConfig;
use pprl_client::tokenise;
use pprl_generate::Rng;
use pprl_generate::population::{self, Profile};
use pprl_keyed::key::ProjectKey;
use pprl_keyed::matchkey::MatchKeyHasher;
use pprl_linker::linkage::{self, DatasetInput, Records};
use pprl_linker::project::LinkageConfig;

/// The two standard datasets linked, and the share of people in each.
const DATASETS: [&str; 2] = ["prison_releases", "probation_caseload"];
const COVERAGE: f64 = 0.8;

fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("PPRL_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let key = ProjectKey::from_bytes([0x24; 32]);
    println!(
        "{} cores available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for n in sizes {
        run(n, &key)?;
    }
    if std::env::var("PPRL_BENCH_KERNEL").as_deref() != Ok("0") {
        kernel();
    }
    Ok(())
}

fn run(n: usize, key: &ProjectKey) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    // Each dataset holds COVERAGE of the people plus ~2% duplicates.
    let people = population::people(n as u64, (n as f64 / COVERAGE / 1.02) as usize);
    let mut truth = Vec::new();
    let specs: Vec<_> = population::standard_datasets(Profile::Typical)
        .into_iter()
        .filter(|s| DATASETS.contains(&s.name.as_str()))
        .map(|mut s| {
            s.coverage = COVERAGE;
            s
        })
        .collect();
    for spec in &specs {
        let csv = std::io::BufWriter::new(std::fs::File::create(
            dir.path().join(format!("{}.csv", spec.name)),
        )?);
        population::write_extract(&people, spec, n as u64, csv, &mut truth)?;
    }
    drop(people);
    println!(
        "== {n} records per dataset (typical profile): generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    for spec in &specs {
        let config =
            PartnerConfig::parse(&population::partner_config(spec)).map_err(anyhow::Error::msg)?;
        let summary = tokenise::run(&tokenise::Job {
            key,
            config: &config,
            input: &dir.path().join(format!("{}.csv", spec.name)),
            output: &dir.path().join(format!("{}.parquet", spec.name)),
            rejects: None,
            max_reject_fraction: Some(0.5),
            now: chrono::Utc::now(),
            progress: None,
        })?;
        println!(
            "  {}: {} rows tokenised, {} rejected",
            spec.name,
            summary.manifest.quality.rows_written,
            summary.manifest.quality.rows_rejected
        );
    }
    println!("tokenised in {:.1} s", started.elapsed().as_secs_f64());

    let rss_before = peak_rss_mb();
    let started = Instant::now();
    let mut records = Records::new();
    for spec in &specs {
        let input = DatasetInput {
            name: spec.name.clone(),
            version: 1,
            one_record_per_person: false,
            attribute_schema: Vec::new(),
            attributes: Vec::new(),
        };
        pprl_linker::linkage::records::load(
            &mut records,
            &dir.path().join(format!("{}.parquet", spec.name)),
            input,
        )?;
    }
    let load = started.elapsed().as_secs_f64();
    let previous = vec![None; records.len()];
    let mut counter = 0u64;
    let linkage = linkage::link(&records, &LinkageConfig::default(), &previous, || {
        counter += 1;
        format!("p{counter}")
    });
    let total = started.elapsed().as_secs_f64();
    let t = linkage.timings;
    let s = &linkage.stats;
    println!(
        "linked {} records in {total:.2} s: load {load:.2}, blocking {:.2}, compare {:.2}, model {:.2}, cluster {:.2}, ids {:.2}",
        records.len(),
        t.blocking,
        t.compare,
        t.model,
        t.cluster,
        t.identify
    );
    println!(
        "candidate pairs {} ({} from keys, {} from bloom LSH), links accepted {}, persons {}",
        s.candidate_pairs,
        s.pairs_from_keys,
        s.pairs_from_bloom,
        s.links_accepted,
        linkage.clustering.clusters
    );
    let truth = person_of_records(&truth, &records, key)?;
    let score = pairwise(&linkage.clustering.cluster, &truth);
    println!(
        "pairwise precision {:.4} recall {:.4} F1 {:.4} ({} true pairs; model estimates: precision {:.4}, recall {:.4})",
        score.precision(),
        score.recall(),
        score.f1(),
        score.truth,
        s.estimated_precision,
        s.estimated_recall
    );
    println!(
        "peak RSS {:.0} MB (before loading: {:.0} MB, the generator's and tokenise runs' peak)",
        peak_rss_mb().unwrap_or(f64::NAN),
        rss_before.unwrap_or(f64::NAN)
    );
    Ok(())
}

/// The true person of every loaded record, found by recomputing each truth
/// row's record reference.
fn person_of_records(
    truth_csv: &[u8],
    records: &Records,
    key: &ProjectKey,
) -> anyhow::Result<Vec<u32>> {
    let mut person = HashMap::new();
    truth::add_generated(truth_csv, &MatchKeyHasher::new(key), &mut person)?;
    truth::person_of_records(&person, records)
}

/// The Dice kernel on one core over balanced encodings (512 of 1024 bits
/// set, as pprl/v1 makes them): one query against many, as when scoring the
/// candidates of a record. Measures [`dice`] (three population counts per
/// word) and [`dice_weighted`] (the engine's: weights computed once per
/// record, one population count per word).
fn kernel() {
    use pprl_specs::bloom::{dice, dice_weighted, weight};
    let mut rng = Rng::new(7);
    let encodings: Vec<[u8; 128]> = (0..4096).map(|_| balanced(&mut rng)).collect();
    let weights: Vec<u32> = encodings.iter().map(weight).collect();
    let queries = 4000;
    let count = (queries * encodings.len()) as f64;
    let started = Instant::now();
    let mut sum = 0.0;
    for q in encodings.iter().take(queries) {
        for e in &encodings {
            sum += dice(black_box(q), e);
        }
    }
    black_box(sum);
    let plain = count / started.elapsed().as_secs_f64() / 1e6;
    let started = Instant::now();
    let mut sum = 0.0;
    for (q, wq) in encodings.iter().zip(&weights).take(queries) {
        for (e, we) in encodings.iter().zip(&weights) {
            sum += dice_weighted(black_box(q), e, *wq, *we);
        }
    }
    black_box(sum);
    let weighted = count / started.elapsed().as_secs_f64() / 1e6;
    println!(
        "bloom kernel, one core, {count} comparisons: dice {plain:.0} million/s, dice_weighted {weighted:.0} million/s (target 150)"
    );
}

/// A random encoding with exactly half its bits set.
fn balanced(rng: &mut Rng) -> [u8; 128] {
    let mut bits: Vec<u16> = (0..1024).collect();
    for i in (1..bits.len()).rev() {
        bits.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut out = [0u8; 128];
    for &b in &bits[..512] {
        out[usize::from(b) / 8] |= 1 << (b % 8);
    }
    out
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}
