//! Cohort benchmark (issue 5): a generated population's five partner
//! extracts (clean profile) are tokenised and accepted by an in-process
//! linker as uploads; then one run is timed from the stored token files to
//! the published links, cohort and outcomes report. Prints the run's wall
//! time, the cohort size and the process's peak memory.
//!
//! `cargo bench --bench cohort`; `PPRL_BENCH_PEOPLE` sets the population
//! (default 1,000,000 people). The five datasets' coverages are scaled up
//! together so that they hold about three records a person (3 million
//! records for a million people, the issue's size).

use std::io::Write;
use std::time::Instant;

use pprl_client::config::PartnerConfig;
use pprl_client::tokenise;
use pprl_generate::population::{self, Profile};
use pprl_keyed::key::ProjectKey;
use pprl_linker::auth::{Principal, Role};
use pprl_linker::service::{Actor, Linker};
use pprl_linker::settings::{Settings, SettingsFile};

const PROJECT: &str = r#"
[cohort]
index_dataset = "prison_releases"
index_date = "release_date"
participants_dataset = "probation_caseload"
participants_flag = "participant"
attributes = ["establishment", "release_type", "sentence_days"]
as_of = "2025-03-31"

[[cohort.filters]]
attribute = "release_date"
from = "2024-01-01"
to = "2024-12-31"

[[outcomes]]
name = "reoffended_6m"
kind = "any_event"
dataset = "police_offences"
date = "offence_date"
window = [1, 182]

[[outcomes]]
name = "offences_12m"
kind = "count"
dataset = "police_offences"
date = "offence_date"
window = [1, 365]

[[outcomes]]
name = "days_to_offence"
kind = "time_to_first"
dataset = "police_offences"
date = "offence_date"
window = [1, 365]

[[outcomes]]
name = "housing_support"
kind = "any_event"
dataset = "council_services"
date = "service_start"
window = [0, 182]

[[outcomes]]
name = "in_work_day_182"
kind = "status_on_day"
dataset = "employment_outcomes"
start = "outcome_date"
day = 182
"#;

/// Records a person, on average, across the five datasets (before the
/// few duplicates of the clean profile).
const RECORDS_PER_PERSON: f64 = 3.0;

fn main() -> anyhow::Result<()> {
    let people: usize = std::env::var("PPRL_BENCH_PEOPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    let key = ProjectKey::from_bytes([0x51; 32]);
    let started = Instant::now();
    let population = population::people(5, people);
    let mut specs = population::standard_datasets(Profile::Clean);
    let scale = RECORDS_PER_PERSON / specs.iter().map(|s| s.coverage).sum::<f64>();
    for spec in &mut specs {
        spec.coverage = (spec.coverage * scale).min(1.0);
    }
    let mut project = format!(
        "name = \"bench\"\nkey_fingerprint = \"{}\"\n",
        key.fingerprint()
    );
    for spec in &specs {
        project.push_str(&format!(
            "\n[[datasets]]\nname = \"{}\"\npartner = \"{}\"\n",
            spec.name,
            spec.short_name()
        ));
        let csv = root.join(format!("{}.csv", spec.name));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        population::write_extract(&population, spec, 5, &mut out, std::io::sink())?;
        out.flush()?;
        drop(out);
        let config =
            PartnerConfig::parse(&population::partner_config(spec)).map_err(anyhow::Error::msg)?;
        tokenise::run(&tokenise::Job {
            key: &key,
            config: &config,
            input: &csv,
            output: &root.join(format!("{}.parquet", spec.name)),
            rejects: None,
            max_reject_fraction: Some(0.5),
            now: chrono::Utc::now(),
            progress: None,
        })?;
        std::fs::remove_file(&csv)?;
    }
    project.push_str(PROJECT);
    drop(population);
    println!(
        "== {people} people: extracts written and tokenised in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let settings = Settings::resolve(
        SettingsFile {
            data_dir: Some(root.join("data")),
            ..SettingsFile::default()
        },
        Default::default(),
    )
    .map_err(anyhow::Error::msg)?;
    let linker = Linker::open(settings)?;
    let config = linker.create_project(&project, &Actor::Cli)?;
    let uploads = Instant::now();
    for spec in &specs {
        let partner = spec.short_name().to_owned();
        let token = linker.issue_token(
            Role::Partner,
            Some("bench"),
            Some(&partner),
            None,
            &Actor::Cli,
        )?;
        let principal = Principal {
            token_id: token.id.clone(),
            role: Role::Partner,
            project: Some("bench".to_owned()),
            partner: Some(partner),
        };
        let file = root.join(format!("{}.parquet", spec.name));
        // Sealed to the linker's key, as `pprl-client upload` sends it.
        let recipient = linker
            .secrets
            .identity()
            .recipient()
            .parse::<age::x25519::Recipient>()
            .map_err(anyhow::Error::msg)?;
        let sealed = pprl_client::seal::seal(&file, &recipient)?;
        let mut staged = linker.blobs.stage()?;
        std::io::copy(&mut sealed.file.reopen()?, &mut staged)?;
        linker.accept_upload(&principal, &config, &spec.name, staged)?;
    }
    println!(
        "uploads checked and stored in {:.1} s",
        uploads.elapsed().as_secs_f64()
    );

    let run = Instant::now();
    let summary = linker.runs().run_once("bench", &Actor::Cli, true)?;
    let secs = run.elapsed().as_secs_f64();
    println!(
        "run {}: {} records, {} persons, cohort {} people, published in {secs:.1} s",
        summary.run_id,
        summary.records,
        summary.persons,
        summary.cohort_persons.unwrap_or(0)
    );
    println!("stages: {}", summary.seconds);
    for f in &summary.files {
        println!("  {:<16} {:>12} bytes", f.name, f.bytes);
    }
    println!(
        "peak RSS {:.0} MB (whole process, tokenising included)",
        peak_rss_mb()
    );
    Ok(())
}

/// Peak resident memory of this process, from /proc (Linux), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
