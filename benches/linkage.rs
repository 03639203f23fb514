//! Linkage speed benchmark (issue 4): two datasets of N records each (half of
//! the second dataset's people are in the first, with typos and moves), linked
//! by the engine. Prints load and per-stage times, candidate pairs, pairwise
//! precision and recall against the known truth, and the process's peak
//! memory; then the Bloom comparison kernel in comparisons per second on one
//! core. Run with `cargo bench --bench linkage`; `PPRL_BENCH_SIZES=100000,1000000`
//! sets the sizes (records per dataset).

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use pprl::synth::{self, Rng};
use pprl_client::config::PartnerConfig;
use pprl_client::tokenise;
use pprl_linker::linkage::{self, DatasetInput, Records};
use pprl_linker::project::LinkageConfig;
use pprl_specs::key::ProjectKey;

const CONFIG: &str = "dataset = \"DATASET\"\n\n[identifiers]\nrecord_id = \"id\"\ngiven_names = \"given\"\nfamily_name = \"family\"\ndate_of_birth = \"dob\"\nsex = \"sex\"\npostcode = \"postcode\"\nnhs_number = \"nhs\"\npnc_id = \"pnc\"\n";

struct Person {
    given: String,
    family: String,
    dob: String,
    sex: &'static str,
    postcode: String,
    nhs: String,
    pnc: String,
}

fn people(n: usize, rng: &mut Rng) -> Vec<Person> {
    (0..n)
        .map(|_| {
            let male = rng.chance(0.85);
            let first = if male {
                *rng.pick(synth::GIVEN_MALE)
            } else {
                *rng.pick(synth::GIVEN_FEMALE)
            };
            let given = if rng.chance(0.4) {
                format!("{first} {}", rng.pick(synth::GIVEN_MALE))
            } else {
                first.to_owned()
            };
            Person {
                given,
                family: (*rng.pick(synth::FAMILY)).to_owned(),
                dob: synth::dob(rng),
                sex: if male { "M" } else { "F" },
                postcode: synth::postcode(rng),
                nhs: if rng.chance(0.6) {
                    synth::nhs_number(rng)
                } else {
                    String::new()
                },
                pnc: if rng.chance(0.5) {
                    synth::pnc_id(rng)
                } else {
                    String::new()
                },
            }
        })
        .collect()
}

/// One typo: a letter replaced.
fn typo(s: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = rng.below(chars.len() as u64) as usize;
    if chars[i].is_ascii_alphabetic() {
        chars[i] = (b'a' + rng.below(26) as u8) as char;
    }
    chars.into_iter().collect()
}

fn write_extract(
    path: &Path,
    rows: &[Person],
    prefix: &str,
    corrupt: bool,
    rng: &mut Rng,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "id,given,family,dob,sex,postcode,nhs,pnc")?;
    for (i, p) in rows.iter().enumerate() {
        let (mut given, mut family, mut postcode) =
            (p.given.clone(), p.family.clone(), p.postcode.clone());
        let (mut nhs, mut pnc) = (p.nhs.as_str(), p.pnc.as_str());
        if corrupt {
            if rng.chance(0.1) {
                given = typo(&given, rng);
            }
            if rng.chance(0.1) {
                family = typo(&family, rng);
            }
            if rng.chance(0.1) {
                postcode = synth::postcode(rng);
            }
            if rng.chance(0.3) {
                nhs = "";
            }
            if rng.chance(0.3) {
                pnc = "";
            }
        }
        writeln!(
            out,
            "{prefix}{i},{given},\"{family}\",{},{},{postcode},{nhs},{pnc}",
            p.dob, p.sex
        )?;
    }
    out.flush()
}

fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("PPRL_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let key = ProjectKey::from_bytes([0x24; 32]);
    for n in sizes {
        run(n, &key)?;
    }
    kernel();
    Ok(())
}

fn run(n: usize, key: &ProjectKey) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut rng = Rng::new(n as u64);
    let population = people(n + n / 2, &mut rng);
    let a: Vec<Person> = population[..n].iter().map(clone).collect();
    // B: the first n/2 people of A (corrupted) and n/2 people A does not have.
    let b: Vec<Person> = population[..n / 2]
        .iter()
        .chain(&population[n..])
        .map(clone)
        .collect();
    write_extract(&dir.path().join("a.csv"), &a, "A", false, &mut rng)?;
    write_extract(&dir.path().join("b.csv"), &b, "B", true, &mut rng)?;
    for name in ["a", "b"] {
        let config =
            PartnerConfig::parse(&CONFIG.replace("DATASET", name)).map_err(anyhow::Error::msg)?;
        tokenise::run(&tokenise::Job {
            key,
            config: &config,
            input: &dir.path().join(format!("{name}.csv")),
            output: &dir.path().join(format!("{name}.parquet")),
            rejects: None,
            max_reject_fraction: Some(0.5),
            now: chrono::Utc::now(),
            progress: None,
        })?;
    }
    let rss_before = peak_rss_mb();
    let started = Instant::now();
    let mut records = Records::new();
    for name in ["a", "b"] {
        let input = DatasetInput {
            name: name.to_owned(),
            version: 1,
            one_record_per_person: false,
            attribute_schema: Vec::new(),
            attributes: Vec::new(),
        };
        records.load(&dir.path().join(format!("{name}.parquet")), input)?;
    }
    let load = started.elapsed().as_secs_f64();
    let previous = vec![None; records.len()];
    let mut counter = 0u64;
    let linkage = linkage::link(&records, &LinkageConfig::default(), &previous, || {
        counter += 1;
        format!("p{counter}")
    });
    let total = started.elapsed().as_secs_f64();
    // Pairwise accuracy: A_i and B_i (i < n/2) are the same person; nobody else is.
    let cluster = &linkage.clustering.cluster;
    let true_links = n / 2;
    let found = (0..n / 2).filter(|&i| cluster[i] == cluster[n + i]).count();
    let mut size = vec![0usize; linkage.clustering.clusters];
    for &c in cluster {
        size[c as usize] += 1;
    }
    let predicted: usize = size.iter().map(|s| s * s.saturating_sub(1) / 2).sum();
    let precision = found as f64 / predicted.max(1) as f64;
    let recall = found as f64 / true_links as f64;
    let t = linkage.timings;
    let s = &linkage.stats;
    println!("== {n} + {n} records");
    println!(
        "linked in {total:.2} s: load {load:.2}, blocking {:.2}, compare {:.2}, model {:.2}, cluster {:.2}, ids {:.2}",
        t.blocking, t.compare, t.model, t.cluster, t.identify
    );
    println!(
        "candidate pairs {} ({} from keys, {} from bloom LSH), links accepted {}, persons {}",
        s.candidate_pairs,
        s.pairs_from_keys,
        s.pairs_from_bloom,
        s.links_accepted,
        linkage.clustering.clusters
    );
    println!(
        "pairwise precision {precision:.4} recall {recall:.4} F1 {:.4} (model estimates: precision {:.4}, recall {:.4})",
        2.0 * precision * recall / (precision + recall),
        s.estimated_precision,
        s.estimated_recall
    );
    println!(
        "peak RSS {:.0} MB (before loading: {:.0} MB, the tokenise runs' peak)",
        peak_rss_mb().unwrap_or(f64::NAN),
        rss_before.unwrap_or(f64::NAN)
    );
    Ok(())
}

fn clone(p: &Person) -> Person {
    Person {
        given: p.given.clone(),
        family: p.family.clone(),
        dob: p.dob.clone(),
        sex: p.sex,
        postcode: p.postcode.clone(),
        nhs: p.nhs.clone(),
        pnc: p.pnc.clone(),
    }
}

/// Dice of one encoding against many, on one core.
fn kernel() {
    let mut rng = Rng::new(7);
    let encodings: Vec<[u8; 128]> = (0..4096)
        .map(|_| std::array::from_fn(|_| rng.next_u64() as u8))
        .collect();
    let started = Instant::now();
    let mut sum = 0.0;
    let mut count = 0u64;
    for q in encodings.iter().take(2000) {
        for e in &encodings {
            sum += pprl_specs::bloom::dice(q, e);
            count += 1;
        }
    }
    black_box(sum);
    println!(
        "bloom kernel: {:.0} million Dice comparisons per second on one core",
        count as f64 / started.elapsed().as_secs_f64() / 1e6
    );
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}
