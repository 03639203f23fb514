//! `pprl-demo`: pprl end to end, on generated data.
//!
//! Generates a synthetic probation extract, makes a project key, tokenises the
//! extract with the real `pprl-client`, inspects the token file, starts the
//! real `pprl-linker` with embedded storage on a loopback port, creates the
//! project and a partner token, uploads, and lists the dataset versions —
//! saying what it does at each step. Everything goes in one folder (default
//! `pprl-demo-output`), which it names at the end. Linkage, cohorts and the
//! report arrive with issues 4–6.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

    step("5. Starting the linker: embedded SQLite and a data folder, on a loopback port");
    let linker = bins::locate("pprl-linker", !cfg!(debug_assertions));
    let fingerprint = output(&client, &dir, &["fingerprint", "--key-file", "project.key"])?;
    std::fs::write(
        dir.join("project.toml"),
        format!(
            "name = \"prison-link\"\nkey_fingerprint = \"{}\"\n\n[[datasets]]\nname = \"probation_caseload\"\npartner = \"probation\"\n",
            fingerprint.trim()
        ),
    )?;
    let server = Server::start(&linker, &dir)?;
    println!("   linker listening on {}", server.url);

    step("6. The administrator creates the project and hands the partner an API token");
    run_linker(
        &linker,
        &dir,
        &["admin", "create-project", "--config", "project.toml"],
    )?;
    run_linker(
        &linker,
        &dir,
        &[
            "admin",
            "issue-token",
            "--role",
            "partner",
            "--project",
            "prison-link",
            "--partner",
            "probation",
            "--output",
            "probation.token",
        ],
    )?;

    step(
        "7. The partner uploads the token file (the API token comes from a file, never the command line)",
    );
    let upload = [
        "upload",
        "--server",
        &server.url,
        "--project",
        "prison-link",
        "--dataset",
        "probation_caseload",
        "--token-file",
        "probation.token",
        "probation.tokens.parquet",
    ];
    run(&client, &dir, &upload)?;

    step("8. The upload is now a dataset version on the linker");
    let versions = [
        "versions",
        "--server",
        &server.url,
        "--project",
        "prison-link",
        "--token-file",
        "probation.token",
    ];
    run(&client, &dir, &versions)?;
    drop(server);

    println!(
        "\nDone in {:.1} s. Everything is in {}/ (extract, key, configs, token file, rejects file, linker-data/).",
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

/// The linker, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &Path, dir: &Path) -> Result<Self> {
        let mut child = Command::new(bin)
            .args([
                "--data-dir",
                "linker-data",
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .current_dir(dir)
            .env("PPRL_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start pprl-linker")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout is piped")?).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .context("pprl-linker did not start")?
            .to_owned();
        Ok(Server { child, url })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_linker(bin: &Path, dir: &Path, args: &[&str]) -> Result<()> {
    println!("   $ pprl-linker --data-dir linker-data {}", args.join(" "));
    let status = Command::new(bin)
        .args(["--data-dir", "linker-data"])
        .args(args)
        .current_dir(dir)
        .status()
        .context("cannot start pprl-linker")?;
    if !status.success() {
        bail!("pprl-linker {} failed", args.join(" "));
    }
    Ok(())
}

fn output(bin: &Path, dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .context("cannot start pprl-client")?;
    if !out.status.success() {
        bail!(
            "pprl-client {} failed: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
