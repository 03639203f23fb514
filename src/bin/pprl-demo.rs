//! `pprl-demo`: the partner's side of pprl, end to end, on generated data.
//!
//! Generates a synthetic probation extract, makes a project key, tokenises the
//! extract with the real `pprl-client`, and inspects the token file — saying
//! what it does at each step. Everything goes in one folder (default
//! `pprl-demo-output`), which it names at the end. The linker half of the demo
//! arrives with the linker (issues 3–6).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pprl::{bins, synth};

const ROWS: u64 = 50_000;
const MARKER: &str = ".pprl-demo";

fn main() -> Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "pprl-demo-output".to_owned()),
    );
    prepare(&dir)?;
    let started = Instant::now();
    let client = bins::locate("pprl-client", !cfg!(debug_assertions));

    step(&format!(
        "1. Generating a synthetic probation extract of {ROWS} people (seeded, fictitious)"
    ));
    let extract = dir.join("probation_extract.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&extract)?);
    synth::write_probation_csv(&mut out, ROWS, 2026)?;
    drop(out);
    std::fs::write(dir.join("partner.toml"), synth::PROBATION_CONFIG)?;
    println!(
        "   {} and its partner config partner.toml",
        extract.display()
    );

    step("2. Making the project key (the partners share it; the linker never sees it)");
    run(&client, &dir, &["keygen", "--output", "project.key"])?;

    step("3. Tokenising the extract on the partner's machine");
    run(
        &client,
        &dir,
        &[
            "tokenise",
            "--key-file",
            "project.key",
            "--config",
            "partner.toml",
            "--input",
            "probation_extract.csv",
            "--output",
            "probation.tokens.parquet",
            "--quiet",
        ],
    )?;

    step(
        "4. Inspecting what would be sent: no names, dates of birth or record numbers, only tokens",
    );
    run(&client, &dir, &["inspect", "probation.tokens.parquet"])?;

    println!(
        "\nDone in {:.1} s. Everything is in {}/ (token file, rejects file, key, config, extract).",
        started.elapsed().as_secs_f64(),
        dir.display()
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

fn step(text: &str) {
    println!("\n== {text}");
}

fn run(bin: &Path, dir: &Path, args: &[&str]) -> Result<()> {
    println!("   $ pprl-client {}", args.join(" "));
    let status = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .status()
        .context("cannot start pprl-client")?;
    if !status.success() {
        bail!("pprl-client {} failed", args[0]);
    }
    Ok(())
}
