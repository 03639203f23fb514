//! `pprl-generate`: a synthetic population and its partners' extracts.
//!
//! Writes, into `--out-dir`, one CSV extract and one partner config per
//! dataset — the five standard partners, or those of a scenario file
//! (`--scenario examples/prison-link/generate.toml`) — (`<dataset>.csv`, `<dataset>.toml`, ready for `pprl-client
//! tokenise`) and the ground truth of every extract row in `truth.csv`
//! (`dataset,record_id,person_id`), then prints what it wrote and how much
//! it corrupted. The same seed, people count, profile and datasets give
//! byte-identical files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use pprl_generate::cli::GenerateArgs as Args;
use pprl_generate::population::{self, Corruption, DatasetSpec, ExtractStats};
use pprl_generate::scenario::Scenario;

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pprl-generate: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    if let Some(path) = &args.scenario {
        let scenario = Scenario::from_file(path)?;
        let started = Instant::now();
        let all = scenario.generate(&args.out_dir, args.people)?;
        println!(
            "scenario {} ({} people{}, seed {}, profile {}) in {:.2} s",
            scenario.name,
            args.people.unwrap_or(scenario.people),
            scenario
                .region
                .as_deref()
                .map(|r| format!(" in {r}"))
                .unwrap_or_default(),
            scenario.seed,
            scenario.profile,
            started.elapsed().as_secs_f64()
        );
        for stats in &all {
            println!(
                "{:<28} {:>9} rows {:>9} people {:>7} duplicates  {}",
                stats.dataset,
                stats.rows,
                stats.people,
                stats.duplicates,
                args.out_dir
                    .join(format!("{}.csv", stats.dataset))
                    .display()
            );
        }
        println!(
            "partner configs <dataset>.toml and the ground truth truth.csv in {}",
            args.out_dir.display()
        );
        let effects = scenario.datasets.iter().any(|d| {
            d.coverage_model
                .as_ref()
                .is_some_and(|m| m.effect.is_some())
        });
        if effects {
            println!(
                "the built-in effects and the naive comparison (effect.json) and each person's \
                 covariates and participation (persons.csv) in {}",
                args.out_dir.display()
            );
        }
        print_corruptions(&all);
        return Ok(());
    }
    let mut specs = choose(population::standard_datasets(args.profile), &args.datasets)?;
    if args.bench_columns {
        specs = specs.into_iter().map(|s| s.with_bench_columns()).collect();
    }
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;

    let started = Instant::now();
    let people = population::people(args.seed, args.people.unwrap_or(10_000));
    println!(
        "{} people (seed {}, profile {}) in {:.2} s",
        people.len(),
        args.seed,
        args.profile,
        started.elapsed().as_secs_f64()
    );

    let truth_path = args.out_dir.join("truth.csv");
    let mut truth = BufWriter::new(create(&truth_path)?);
    truth.write_all(population::TRUTH_HEADER.as_bytes())?;
    let mut all = Vec::new();
    let extracts_started = Instant::now();
    for spec in &specs {
        let started = Instant::now();
        let csv_path = args.out_dir.join(format!("{}.csv", spec.name));
        let toml_path = args.out_dir.join(format!("{}.toml", spec.name));
        let csv = BufWriter::with_capacity(1 << 20, create(&csv_path)?);
        let stats = population::write_extract(&people, spec, args.seed, csv, &mut truth)
            .with_context(|| format!("cannot write {}", csv_path.display()))?;
        std::fs::write(&toml_path, population::partner_config(spec))
            .with_context(|| format!("cannot write {}", toml_path.display()))?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<22} {:>9} rows {:>9} people {:>7} duplicates  {:.2} s ({:.0} rows/s)  {}",
            spec.name,
            stats.rows,
            stats.people,
            stats.duplicates,
            secs,
            stats.rows as f64 / secs.max(1e-9),
            csv_path.display()
        );
        all.push(stats);
    }
    truth.flush()?;
    let rows: u64 = all.iter().map(|s| s.rows).sum();
    let secs = extracts_started.elapsed().as_secs_f64();
    println!(
        "{rows} rows in {secs:.2} s ({:.0} rows/s); ground truth in {}",
        rows as f64 / secs.max(1e-9),
        truth_path.display()
    );
    print_corruptions(&all);
    Ok(())
}

/// The standard datasets named on the command line, in the order given.
fn choose(standard: Vec<DatasetSpec>, wanted: &[String]) -> Result<Vec<DatasetSpec>> {
    if wanted.is_empty() {
        return Ok(standard);
    }
    let mut chosen: Vec<DatasetSpec> = Vec::new();
    for name in wanted.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let Some(spec) = standard
            .iter()
            .find(|s| s.name == name || s.short_name() == name)
        else {
            let known: Vec<String> = standard
                .iter()
                .map(|s| format!("{} ({})", s.short_name(), s.name))
                .collect();
            bail!(
                "unknown dataset `{name}`; the datasets are: {}",
                known.join(", ")
            );
        };
        if !chosen.iter().any(|c| c.name == spec.name) {
            chosen.push(spec.clone());
        }
    }
    Ok(chosen)
}

fn create(path: &std::path::Path) -> Result<File> {
    File::create(path).with_context(|| format!("cannot create {}", path.display()))
}

/// A table of corruptions applied, per dataset, with the share of opportunities.
fn print_corruptions(all: &[ExtractStats]) {
    if all.is_empty() {
        return;
    }
    print!("\ncorruptions applied {:<3}", "");
    for stats in all {
        print!(" {:>22}", stats.dataset);
    }
    println!();
    for corruption in Corruption::ALL {
        print!("  {:<20}", corruption.label());
        for stats in all {
            let applied = stats.applied(corruption);
            let chances = stats.opportunities(corruption);
            let share = if chances == 0 {
                0.0
            } else {
                100.0 * applied as f64 / chances as f64
            };
            print!(" {:>13} ({:>5.2}%)", applied, share);
        }
        println!();
    }
}
