//! A worked example end to end, with the real binaries: what the demo shows
//! and what each example's end-to-end test checks.
//!
//! [`Example::load`] reads an example folder (`examples/<name>/`: the
//! project config `project.toml`, the generator settings `generate.toml`
//! and the partner configs `partners/`). [`run`] then plays every part in
//! one work folder: it generates the partners' extracts, makes a project
//! key, tokenises each extract with `pprl-client`, starts `pprl-linker` with
//! embedded storage on a loopback port, creates the project with the key's
//! fingerprint, issues a token to each partner and to an evaluator, uploads
//! every token file with its partner's token, runs linkage, and downloads the
//! published outputs with the evaluator's token. [`headline`] turns the
//! downloaded `outcomes.json` into the lines the demo prints.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use pprl_generate::scenario::Scenario;

use crate::server::Server;

/// The folder holding the worked examples of this checkout.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the demo crate is a folder of the workspace")
        .join("examples")
}

/// The names of the worked examples (their folder names), sorted.
pub fn example_names() -> Result<Vec<String>> {
    let dir = examples_dir();
    let mut names = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
    {
        let entry = entry?;
        if entry.path().join("project.toml").is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// One worked example: its project and its generator settings.
#[derive(Debug, Clone)]
pub struct Example {
    pub dir: PathBuf,
    /// The project config as written, with a placeholder key fingerprint.
    pub project_text: String,
    /// The project's name.
    pub project: String,
    /// `(dataset, partner)` in the project config's order.
    pub datasets: Vec<(String, String)>,
    /// The outcome indicators' names, in order.
    pub outcomes: Vec<String>,
    pub scenario: Scenario,
}

impl Example {
    /// Reads `examples/<name>/`.
    pub fn load(name: &str) -> Result<Example> {
        Example::load_dir(&examples_dir().join(name))
    }

    /// Reads an example folder.
    pub fn load_dir(dir: &Path) -> Result<Example> {
        let path = dir.join("project.toml");
        let project_text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&project_text).with_context(|| format!("in {}", path.display()))?;
        let text = |v: &toml::Value, key: &str| -> Result<String> {
            v.get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
                .with_context(|| format!("{}: an entry lacks `{key}`", path.display()))
        };
        let project = text(&toml::Value::Table(table.clone()), "name")?;
        let list = |key: &str| {
            table
                .get(key)
                .and_then(toml::Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let datasets = list("datasets")
            .iter()
            .map(|d| Ok((text(d, "name")?, text(d, "partner")?)))
            .collect::<Result<Vec<_>>>()?;
        let outcomes = list("outcomes")
            .iter()
            .map(|o| text(o, "name"))
            .collect::<Result<Vec<_>>>()?;
        let scenario = Scenario::from_file(&dir.join("generate.toml"))?;
        for (dataset, _) in &datasets {
            if scenario.dataset(dataset).is_none() {
                bail!(
                    "{}: dataset `{dataset}` has no [[datasets]] entry in generate.toml",
                    path.display()
                );
            }
            let partner = dir.join("partners").join(format!("{dataset}.toml"));
            if !partner.is_file() {
                bail!(
                    "{}: dataset `{dataset}` has no partner config {}",
                    path.display(),
                    partner.display()
                );
            }
        }
        Ok(Example {
            dir: dir.to_path_buf(),
            project_text,
            project,
            datasets,
            outcomes,
            scenario,
        })
    }

    /// The project config with `fingerprint` in place of the placeholder.
    pub fn project_config(&self, fingerprint: &str) -> String {
        let mut out = String::with_capacity(self.project_text.len());
        for line in self.project_text.lines() {
            if line.trim_start().starts_with("key_fingerprint") {
                out.push_str(&format!("key_fingerprint = \"{fingerprint}\""));
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        out
    }

    /// The partner config a partner tokenises `dataset` with:
    /// `partners/<dataset>.toml`.
    pub fn partner_config(&self, dataset: &str) -> PathBuf {
        self.dir.join("partners").join(format!("{dataset}.toml"))
    }

    /// The partners, each once, in the project config's order.
    pub fn partners(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (_, partner) in &self.datasets {
            if !out.contains(&partner.as_str()) {
                out.push(partner);
            }
        }
        out
    }
}

/// How [`run`] runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// People in the generated population (default: the example's).
    pub people: Option<usize>,
    /// Say what is done at each step, and show the tools' output.
    pub verbose: bool,
    /// Use release builds of the binaries.
    pub release: bool,
}

/// What a finished walkthrough left behind.
#[derive(Debug)]
pub struct Finished {
    /// The evaluator's download: report.json, model.json, cohort.parquet,
    /// outcomes.json, outcomes.html (no links.parquet: the examples keep
    /// `[outputs] links` off).
    pub outputs: PathBuf,
    /// `outcomes.json`, parsed.
    pub outcomes: Value,
    /// The standard output of `pprl-linker run`.
    pub run_output: String,
    pub seconds: f64,
}

/// Plays the example end to end in `work` (created; must be empty or absent).
pub fn run(example: &Example, work: &Path, options: &Options) -> Result<Finished> {
    let started = Instant::now();
    let say = |text: &str| {
        if options.verbose {
            println!("\n== {text}");
        }
    };
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    let tools = Tools {
        client: crate::bins::locate("pprl-client", options.release),
        linker: crate::bins::locate("pprl-linker", options.release),
        work: work.to_path_buf(),
        verbose: options.verbose,
    };
    let people = options.people.unwrap_or(example.scenario.people);

    say(&format!(
        "1. Generating the partners' extracts for {} ({} fictitious people{}; settings: {})",
        example.project,
        people,
        example
            .scenario
            .region
            .as_deref()
            .map(|r| format!(" living in {r}"))
            .unwrap_or_default(),
        example.dir.join("generate.toml").display()
    ));
    let stats = example
        .scenario
        .generate(&work.join("extracts"), Some(people))?;
    if options.verbose {
        for s in &stats {
            println!(
                "   extracts/{}.csv: {} rows ({} people)",
                s.dataset, s.rows, s.people
            );
        }
    }

    say("2. Making the project key (partners share it; the linker only ever sees its fingerprint)");
    tools.client(&["keygen", "--output", "project.key"])?;
    let fingerprint = tools
        .client_output(&["fingerprint", "--key-file", "project.key"])?
        .trim()
        .to_owned();

    say(&format!(
        "3. Each partner tokenises its extract on its own machine (configs: {})",
        example.dir.join("partners").display()
    ));
    std::fs::create_dir_all(work.join("tokens"))?;
    for (dataset, _) in &example.datasets {
        let config = example.partner_config(dataset);
        let config = config
            .to_str()
            .with_context(|| format!("{} is not UTF-8", config.display()))?;
        tools.client(&[
            "tokenise",
            "--key-file",
            "project.key",
            "--config",
            config,
            "--input",
            &format!("extracts/{dataset}.csv"),
            "--output",
            &format!("tokens/{dataset}.parquet"),
            "--quiet",
        ])?;
    }
    if let Some((first, _)) = example.datasets.first() {
        say("4. What a partner sends: tokens and declared attributes, no names or dates of birth");
        tools.client(&["inspect", &format!("tokens/{first}.parquet")])?;
    }

    say("5. Starting the linker: embedded SQLite and a data folder, on a loopback port");
    std::fs::write(
        work.join("project.toml"),
        example.project_config(&fingerprint),
    )?;
    let server = Server::start(&tools.linker, work)?;
    if options.verbose {
        println!("   linker listening on {}", server.url);
    }

    say("6. The administrator creates the project and issues API tokens");
    tools.linker(&["admin", "create-project", "--config", "project.toml"])?;
    std::fs::create_dir_all(work.join("api-tokens"))?;
    for partner in example.partners() {
        tools.linker(&[
            "admin",
            "issue-token",
            "--role",
            "partner",
            "--project",
            &example.project,
            "--partner",
            partner,
            "--output",
            &format!("api-tokens/{partner}.token"),
        ])?;
    }
    tools.linker(&[
        "admin",
        "issue-token",
        "--role",
        "evaluator",
        "--project",
        &example.project,
        "--output",
        "api-tokens/evaluator.token",
    ])?;

    say(
        "7. Each partner seals its token file to the linker's key and uploads it (the key's fingerprint comes from the administrator; API tokens from files, never the command line)",
    );
    let linker_key = tools.linker_output(&["admin", "linker-key"])?;
    let fingerprint = linker_key
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .context("`admin linker-key` prints the fingerprint")?
        .trim()
        .to_owned();
    for (dataset, partner) in &example.datasets {
        tools.client(&[
            "upload",
            "--server",
            &server.url,
            "--project",
            &example.project,
            "--dataset",
            dataset,
            "--token-file",
            &format!("api-tokens/{partner}.token"),
            "--linker-key-fingerprint",
            &fingerprint,
            &format!("tokens/{dataset}.parquet"),
        ])?;
    }

    say("8. Linking: records into persons, then the cohort and its outcome indicators");
    let run_output = tools.linker_output(&["run", "--project", &example.project])?;
    if run_output.contains("held by the guard") {
        bail!("the linker held the run instead of publishing it:\n{run_output}");
    }
    if options.verbose {
        for line in run_output.lines() {
            println!("   {line}");
        }
    }

    say("9. The evaluator downloads the published outputs");
    tools.client(&[
        "download",
        "--server",
        &server.url,
        "--project",
        &example.project,
        "--output-dir",
        "outputs",
        "--token-file",
        "api-tokens/evaluator.token",
    ])?;
    drop(server);

    let outputs = work.join("outputs");
    let path = outputs.join("outcomes.json");
    let outcomes: Value = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", path.display()))?;
    Ok(Finished {
        outputs,
        outcomes,
        run_output,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The headline of `outcomes.json`: the cohort and, per indicator, each
/// group's rate with its interval and the difference's test, or why not.
pub fn headline(outcomes: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(reason) = outcomes.get("withheld").and_then(Value::as_str) {
        out.push(format!("No outcomes report: {reason}"));
        return out;
    }
    if let Some(cohort) = outcomes.get("cohort") {
        out.push(format!(
            "Cohort: {} people ({} participants, {} in the comparison group)",
            count(&cohort["persons"]),
            count(&cohort["participant"]),
            count(&cohort["comparison"])
        ));
    }
    if let Some(cohort) = outcomes.get("cohort")
        && cohort.get("matched_participant").is_some()
    {
        out.push(format!(
            "Matched: {} participants to {} comparison people on the propensity score",
            count(&cohort["matched_participant"]),
            count(&cohort["matched_comparison"])
        ));
    }
    if let Some(reason) = outcomes.get("groups_withheld").and_then(Value::as_str) {
        out.push(format!("Groups not compared: {reason}"));
    }
    for indicator in outcomes["indicators"].as_array().into_iter().flatten() {
        out.push(format!(
            "{} ({})",
            indicator["label"].as_str().unwrap_or("?"),
            indicator["name"].as_str().unwrap_or("?")
        ));
        for group in indicator["groups"].as_array().into_iter().flatten() {
            let name = group["group"].as_str().unwrap_or("?");
            let mut line = match group.get("rate") {
                Some(r) if r.is_object() => format!(
                    "   {name:<19} {:5.1}% (95% CI {:.1}–{:.1})  {} of {}",
                    100.0 * r["estimate"].as_f64().unwrap_or(f64::NAN),
                    100.0 * r["low"].as_f64().unwrap_or(f64::NAN),
                    100.0 * r["high"].as_f64().unwrap_or(f64::NAN),
                    count(&group["numerator"]),
                    count(&group["denominator"])
                ),
                _ => {
                    let why = ["numerator", "denominator"]
                        .iter()
                        .find_map(|k| group[*k].get("suppressed").and_then(Value::as_str))
                        .unwrap_or("no one followed up yet");
                    format!("   {name:<19} not published: {why}")
                }
            };
            if let Some(open) = group["not_yet_followed_up"]
                .get("value")
                .and_then(Value::as_u64)
                && open > 0
            {
                line.push_str(&format!(" ({open} not yet followed up)"));
            }
            if let Some(median) = group
                .get("median_days_to_first_event")
                .and_then(Value::as_f64)
            {
                line.push_str(&format!(", median {median:.0} days to the first"));
            }
            if let Some(per) = group.get("events_per_person").and_then(Value::as_f64) {
                line.push_str(&format!(", {per:.2} events a person"));
            }
            out.push(line);
        }
        let against = indicator
            .get("compared_with")
            .and_then(Value::as_str)
            .unwrap_or("comparison");
        match indicator.get("difference") {
            Some(d) if d.get("estimate").is_some() => {
                let e = &d["estimate"];
                let p = e["test"]["p_value"].as_f64().unwrap_or(f64::NAN);
                out.push(format!(
                    "   difference vs {against}  {:+.1} points (95% CI {:+.1} to {:+.1}), {} ({})",
                    100.0 * e["interval"]["estimate"].as_f64().unwrap_or(f64::NAN),
                    100.0 * e["interval"]["low"].as_f64().unwrap_or(f64::NAN),
                    100.0 * e["interval"]["high"].as_f64().unwrap_or(f64::NAN),
                    if p < 0.001 {
                        "p < 0.001".to_owned()
                    } else {
                        format!("p = {p:.3}")
                    },
                    e["test"]["method"]
                        .as_str()
                        .unwrap_or("?")
                        .replace('_', " ")
                ));
            }
            Some(d) if d.get("withheld").is_some() => {
                out.push(format!(
                    "   difference vs {against}  withheld: {}",
                    d["withheld"].as_str().unwrap_or("?")
                ));
            }
            _ => {}
        }
    }
    out
}

/// A published count as text: the number, or `suppressed (why)`.
fn count(value: &Value) -> String {
    if let Some(v) = value.get("value").and_then(Value::as_u64) {
        v.to_string()
    } else if let Some(why) = value.get("suppressed").and_then(Value::as_str) {
        format!("suppressed ({why})")
    } else {
        "?".to_owned()
    }
}

/// The two binaries, run in the work folder.
struct Tools {
    client: PathBuf,
    linker: PathBuf,
    work: PathBuf,
    verbose: bool,
}

impl Tools {
    fn client(&self, args: &[&str]) -> Result<()> {
        self.show("pprl-client", args);
        self.status(Command::new(&self.client).args(args), "pprl-client", args)
    }

    fn client_output(&self, args: &[&str]) -> Result<String> {
        self.show("pprl-client", args);
        self.output(Command::new(&self.client).args(args), "pprl-client", args)
    }

    fn linker(&self, args: &[&str]) -> Result<()> {
        self.show("pprl-linker --data-dir linker-data", args);
        self.status(
            Command::new(&self.linker)
                .args(["--data-dir", "linker-data"])
                .args(args),
            "pprl-linker",
            args,
        )
    }

    fn linker_output(&self, args: &[&str]) -> Result<String> {
        self.show("pprl-linker --data-dir linker-data", args);
        self.output(
            Command::new(&self.linker)
                .args(["--data-dir", "linker-data"])
                .args(args),
            "pprl-linker",
            args,
        )
    }

    fn show(&self, tool: &str, args: &[&str]) {
        if self.verbose {
            println!("   $ {tool} {}", args.join(" "));
        }
    }

    /// Runs to completion; the output is shown when verbose, and kept for
    /// the error otherwise.
    fn status(&self, command: &mut Command, tool: &str, args: &[&str]) -> Result<()> {
        command.current_dir(&self.work).env("PPRL_LOG", "warn");
        if self.verbose {
            let status = command
                .status()
                .with_context(|| format!("cannot start {tool}"))?;
            if !status.success() {
                bail!("{tool} {} failed ({status})", args.join(" "));
            }
            return Ok(());
        }
        self.output(command, tool, args).map(drop)
    }

    fn output(&self, command: &mut Command, tool: &str, args: &[&str]) -> Result<String> {
        let out = command
            .current_dir(&self.work)
            .env("PPRL_LOG", "warn")
            .output()
            .with_context(|| format!("cannot start {tool}"))?;
        if !out.status.success() {
            bail!(
                "{tool} {} failed ({}):\n{}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
