//! The README's commands are real: every `pprl-client`, `pprl-linker`,
//! `pprl-demo`, `pprl-generate` and `cargo` command it shows (in `sh`
//! blocks and in inline code) parses against the real command line, names
//! packages, binaries and benchmarks that exist, and the two front-door
//! commands are the ones CI runs. The evaluator snippets are run against a
//! real download by the Prison Link example's end-to-end test
//! ([`run_evaluator_snippets`]). What each subcommand does is tested by the
//! other end-to-end tests and by the examples' walkthroughs.

use std::path::Path;
use std::process::Command;

use clap::Parser;

const README: &str = include_str!("../../README.md");
const CI: &str = include_str!("../../.ci/run");

/// A command as shown, with the README line it starts on.
#[derive(Debug)]
struct Shown {
    line: usize,
    text: String,
}

/// Commands in ```sh blocks: continuation lines joined, comments dropped.
fn block_commands() -> Vec<Shown> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending: Option<Shown> = None;
    for (i, raw) in README.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with("```") {
            in_sh = trimmed == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let code = strip_comment(raw).trim().to_owned();
        if code.is_empty() && pending.is_none() {
            continue;
        }
        let (code, continues) = match code.strip_suffix('\\') {
            Some(c) => (c.trim().to_owned(), true),
            None => (code, false),
        };
        let shown = match pending.take() {
            Some(mut p) => {
                p.text.push(' ');
                p.text.push_str(&code);
                p
            }
            None => Shown {
                line: i + 1,
                text: code,
            },
        };
        if continues {
            pending = Some(shown);
        } else {
            out.push(shown);
        }
    }
    out
}

/// A `#` that starts a word begins a shell comment.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// Inline code spans that are commands of ours.
fn inline_commands() -> Vec<Shown> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut text = String::new();
    let mut starts = Vec::new();
    for (i, line) in README.lines().enumerate() {
        if line.trim().starts_with("```") {
            in_block = !in_block;
            text.push('\n');
            continue;
        }
        if !in_block {
            starts.push((text.len(), i + 1));
            text.push_str(line);
            text.push('\n');
        }
    }
    let line_of = |at: usize| {
        starts
            .iter()
            .rev()
            .find(|(start, _)| *start <= at)
            .map_or(1, |(_, l)| *l)
    };
    let mut rest = text.as_str();
    let mut offset = 0;
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else { break };
        let span = after[..close]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if ["pprl-client ", "pprl-linker ", "cargo "]
            .iter()
            .any(|p| span.starts_with(p))
        {
            out.push(Shown {
                line: line_of(offset + open),
                text: span,
            });
        }
        offset += open + 1 + close + 1;
        rest = &after[close + 1..];
    }
    out
}

/// The words of a command from its program on: redirections dropped, the
/// README's placeholders given a value.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for w in text.split_whitespace() {
        if w == ">" || w == "|" {
            break;
        }
        words.push(if w == "<id>" {
            "a1b2c3".to_owned()
        } else {
            w.to_owned()
        });
    }
    let start = words
        .iter()
        .position(|w| w.starts_with("pprl-") || w == "cargo")
        .unwrap_or(0);
    words.split_off(start)
}

/// Checks one command; `Err` says what is wrong with it.
fn check(words: &[String]) -> Result<(), String> {
    let program = words.first().ok_or("an empty command")?;
    match program.as_str() {
        "pprl-client" => pprl_client::cli::Cli::try_parse_from(words)
            .map(drop)
            .map_err(|e| e.to_string()),
        "pprl-linker" => pprl_linker::cli::Cli::try_parse_from(words)
            .map(drop)
            .map_err(|e| e.to_string()),
        "cargo" => check_cargo(words),
        other => Err(format!("`{other}` is not a program of this project")),
    }
}

/// The workspace's packages and their folders, read from the manifests.
fn packages() -> Vec<(String, std::path::PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = |dir: &Path| -> toml::Value {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("a manifest");
        toml::from_str(&text).expect("a manifest is TOML")
    };
    let name = |m: &toml::Value| m["package"]["name"].as_str().expect("a name").to_owned();
    let top = manifest(root);
    let mut out = vec![(name(&top), root.to_path_buf())];
    for member in top["workspace"]["members"].as_array().expect("members") {
        let dir = root.join(member.as_str().expect("a member path"));
        out.push((name(&manifest(&dir)), dir));
    }
    out
}

/// The packages with a binary, each named as its package. The root package
/// (`pprl`, the default from the workspace root) has none, so `cargo run`
/// needs `-p`.
const BINARIES: [&str; 4] = ["pprl-client", "pprl-linker", "pprl-generate", "pprl-demo"];

fn check_cargo(words: &[String]) -> Result<(), String> {
    let sub = words.get(1).ok_or("`cargo` alone")?.as_str();
    if !["run", "build", "test", "bench"].contains(&sub) {
        return Err(format!("unexpected cargo subcommand `{sub}`"));
    }
    let (ours, theirs) = match words.iter().position(|w| w == "--") {
        Some(at) => (&words[..at], &words[at + 1..]),
        None => (words, &words[words.len()..]),
    };
    let value = |flag: &str| {
        ours.iter()
            .position(|w| w == flag)
            .and_then(|at| ours.get(at + 1))
            .map(String::as_str)
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let package = value("-p");
    let packages = packages();
    let package_dir = match package {
        None => root.to_path_buf(),
        Some(p) => match packages.iter().find(|(name, _)| name == p) {
            Some((_, dir)) => dir.clone(),
            None => return Err(format!("no package `{p}` in the workspace")),
        },
    };
    if let Some(bench) = value("--bench") {
        let dir = package_dir.join("benches");
        if !dir.join(format!("{bench}.rs")).is_file() {
            return Err(format!("no benchmark `{bench}` in {}", dir.display()));
        }
    }
    if let Some(example) = value("--example") {
        let dir = &package_dir;
        if !dir.join("examples").join(format!("{example}.rs")).is_file() {
            return Err(format!("no cargo example `{example}` in {}", dir.display()));
        }
    }
    let mut args: Vec<String> = Vec::new();
    let bin = match (value("--bin"), package) {
        (Some(bin), Some(p)) if bin != p => {
            return Err(format!("package `{p}` has no binary `{bin}`"));
        }
        (Some(bin), None) if BINARIES.contains(&bin) => {
            return Err(format!(
                "`--bin {bin}` does not resolve from the workspace root: use `-p {bin}`"
            ));
        }
        (Some(bin), _) => Some(bin),
        (None, Some(p)) if sub == "run" && value("--example").is_none() => Some(p),
        (None, _) => None,
    };
    match bin {
        Some(bin) => {
            args.push(bin.to_owned());
            args.extend(theirs.iter().cloned());
            let parsed = match bin {
                "pprl-demo" => pprl_demo::cli::DemoArgs::try_parse_from(&args).map(drop),
                "pprl-generate" => {
                    pprl_generate::cli::GenerateArgs::try_parse_from(&args).map(drop)
                }
                "pprl-client" => pprl_client::cli::Cli::try_parse_from(&args).map(drop),
                "pprl-linker" => pprl_linker::cli::Cli::try_parse_from(&args).map(drop),
                other => return Err(format!("no binary `{other}`")),
            };
            parsed.map_err(|e| e.to_string())?;
            // Files and examples the command names must exist.
            let named = |flag: &str| {
                theirs
                    .iter()
                    .position(|w| w == flag)
                    .and_then(|at| theirs.get(at + 1))
            };
            if let Some(example) = named("--example")
                && !root
                    .join("examples")
                    .join(example)
                    .join("project.toml")
                    .is_file()
            {
                return Err(format!("no worked example `{example}` in examples/"));
            }
            if let Some(scenario) = named("--scenario")
                && !root.join(scenario).is_file()
            {
                return Err(format!("no scenario file {scenario}"));
            }
            Ok(())
        }
        None if !theirs.is_empty() && sub == "run" => {
            Err("`cargo run` with arguments but no -p".to_owned())
        }
        None => Ok(()),
    }
}

#[test]
fn every_command_in_the_readme_parses_against_the_real_command_line() {
    let blocks = block_commands();
    let inline = inline_commands();
    assert!(
        blocks.len() >= 15,
        "found only {} commands in sh blocks: the extraction is broken",
        blocks.len()
    );
    assert!(
        inline.len() >= 5,
        "found only {} inline commands: the extraction is broken",
        inline.len()
    );
    let mut wrong = Vec::new();
    for shown in blocks.iter().chain(&inline) {
        if let Err(why) = check(&words(&shown.text)) {
            wrong.push(format!(
                "README.md line {}: `{}`\n    {}",
                shown.line,
                shown.text,
                why.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_wrong_command_is_caught() {
    // The checks above can fail: a renamed flag, a missing argument, an
    // unknown binary or benchmark.
    for bad in [
        "pprl-client tokenise --key project.key --config p.toml --input x.csv --output t.parquet",
        "pprl-client upload --server http://x --project p tokens.parquet",
        "pprl-linker admin issue-token --project p",
        "cargo run -p pprl-demo -- --exampel catch22",
        "cargo bench --bench no-such-bench",
        "cargo run -p pprl-nothing",
        "cargo run --bin pprl-nothing",
        "cargo run -p pprl-demo -- --example no-such-programme",
        // The root package has no binary: `--bin` alone does not resolve.
        "cargo run --bin pprl-demo",
        "cargo run -p pprl-demo --bin pprl-generate",
        "curl http://localhost",
    ] {
        assert!(check(&words(bad)).is_err(), "`{bad}` passed the check");
    }
}

/// The two front-door commands are the ones `.ci/run` runs.
#[test]
fn the_readme_front_door_is_what_ci_runs() {
    let lines: Vec<&str> = README.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "## Two commands")
        .expect("a `## Two commands` section")
        + 1;
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.starts_with("## "))
            .unwrap_or(lines.len() - start);
    let blocks = block_commands();
    let front: Vec<&str> = blocks
        .iter()
        .filter(|s| s.line > start && s.line <= end)
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(
        front.len(),
        2,
        "the README should show one demo and one test command: {front:?}"
    );
    let ci: Vec<String> = CI
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cargo "))
        .map(|l| l.replace(" --locked", ""))
        .collect();
    for command in front {
        let plain = command.replace(" --locked", "");
        assert!(
            ci.iter()
                .any(|c| c == &plain || c.starts_with(&format!("{plain} -- "))),
            "the README's `{command}` is not what .ci/run runs: {ci:?}"
        );
    }
}

/// The body of the README's first ```<language> block that contains `needle`.
fn snippet(language: &str, needle: &str) -> String {
    let mut inside = false;
    let mut body = String::new();
    for line in README.lines() {
        if inside {
            if line.trim_start().starts_with("```") {
                if body.contains(needle) {
                    return body;
                }
                inside = false;
                body.clear();
                continue;
            }
            body.push_str(line);
            body.push('\n');
        } else if line.trim() == format!("```{language}") {
            inside = true;
        }
    }
    panic!("no ```{language} block with `{needle}` in the README");
}

/// Runs the README's evaluator snippets in `dir`, which holds `outputs/` as
/// `pprl-client download` left it: the pandas one as written, and the
/// DuckDB query through DuckDB's Python package. (R is not on CI machines;
/// its snippet is not run.) Returns what they printed.
pub fn run_evaluator_snippets(dir: &Path) -> Option<String> {
    let python = crate::support::python_with(&["pyarrow", "pandas", "duckdb"])?;
    let pandas = snippet("python", "read_parquet");
    let sql = snippet("sql", "cohort.parquet");
    let duck = format!(
        "import duckdb\nrows = duckdb.sql({sql:?}).fetchall()\nassert rows, 'no rows'\nprint(rows)\n",
        sql = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let mut printed = String::new();
    for (what, code) in [("pandas", pandas), ("DuckDB", duck)] {
        let run = Command::new(&python)
            .args(["-c", &code])
            .current_dir(dir)
            .output()
            .expect("python runs");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "the README's {what} snippet failed:\n{code}\n{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            stdout.contains("participant") || stdout.contains("comparison"),
            "the README's {what} snippet printed no group: {stdout}"
        );
        printed.push_str(&stdout);
    }
    Some(printed)
}
