//! `pprl-demo`: pprl end to end on the Prison Link example, with generated data.
//!
//! Generates the six partners' extracts of `examples/prison-link/`, makes a
//! project key, tokenises each extract with the real `pprl-client`, starts
//! the real `pprl-linker` with embedded storage on a loopback port, creates
//! the project and its API tokens, uploads, runs linkage, downloads the
//! cohort and the outcomes report as the evaluator, and prints the headline
//! indicators — saying what it does at each step. Everything goes in one
//! folder (default `pprl-demo-output`), which it names at the end.
//! `--example NAME` plays another of the worked examples.

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Parser;
use pprl_demo::cli::DemoArgs as Args;
use pprl_demo::walkthrough::{self, Example, Options};

const MARKER: &str = ".pprl-demo";

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pprl-demo: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let names = walkthrough::example_names()?;
    if !names.contains(&args.example) {
        bail!(
            "no example `{}`; the examples are: {}",
            args.example,
            names.join(", ")
        );
    }
    let example = Example::load(&args.example)?;
    prepare(&args.dir)?;
    println!(
        "pprl demo: the {} example ({}), fictitious people only",
        example.project,
        example.dir.display()
    );
    let finished = walkthrough::run(
        &example,
        &args.dir,
        &Options {
            people: args.people,
            verbose: true,
            release: !cfg!(debug_assertions),
        },
    )?;

    println!("\n== 10. Headline indicators (after disclosure control)\n");
    for line in walkthrough::headline(&finished.outcomes) {
        println!("   {line}");
    }
    let dir = &args.dir;
    println!(
        "\nDone in {:.1} s. Everything is in {}/:\n   \
         extracts/ (the partners' extracts and configs; truth.csv is for tests only)\n   \
         tokens/ (what the partners sent), linker-data/ (the linker's database and files)\n   \
         outputs/ (what the evaluator downloaded: cohort.parquet, outcomes.json, outcomes.html, report.json)\n\
         The report page: {}",
        finished.seconds,
        dir.display(),
        finished.outputs.join("outcomes.html").display()
    );
    Ok(())
}

/// Creates the demo folder, or empties one a previous demo made.
fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.join(MARKER).exists() {
            bail!(
                "{} exists and was not made by pprl-demo; pass another folder as the first argument",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(MARKER), "made by pprl-demo\n")?;
    Ok(())
}
