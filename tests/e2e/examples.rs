//! The worked examples under `examples/` (issue 6): each one's files agree
//! with each other, and each one runs end to end through the real client and
//! the real linker and publishes every indicator it defines, or says why not.
//!
//! `PPRL_REFRESH_EXAMPLES=1 cargo test --test e2e examples_are_consistent`
//! rewrites each example's `partners/` from its `generate.toml`.

use std::collections::BTreeSet;

use pprl_demo::walkthrough::{self, Example, Options};
use serde_json::Value;

use crate::support::read_parquet;

/// The programmes of `../shared/seeds/`, one example each.
const PROGRAMMES: [&str; 8] = [
    "bounce-back",
    "catch22",
    "cgl-cheshire",
    "cgl-midlands",
    "innovation-unit",
    "nepacs",
    "nfn-antz-junction",
    "prison-link",
];

#[test]
fn there_is_an_example_for_each_programme() {
    let names = walkthrough::example_names().unwrap();
    let missing: Vec<&str> = PROGRAMMES
        .iter()
        .copied()
        .filter(|p| !names.iter().any(|n| n == p))
        .collect();
    assert!(
        missing.is_empty(),
        "no example for {missing:?}; have {names:?}"
    );
    // And each example has its end-to-end test below.
    let this = include_str!("examples.rs");
    for name in &names {
        let called = format!("runs_end_to_end(\"{name}\")");
        let declared = format!(", \"{name}\");");
        assert!(
            this.contains(&called) || this.contains(&declared),
            "examples/{name} has no end-to-end test in tests/e2e/examples.rs"
        );
    }
}

/// Each example loads; its project config passes the linker's own checks;
/// the generator's datasets are the project's; and the committed partner
/// configs are the ones its generator settings describe.
#[test]
fn examples_are_consistent() {
    let refresh = std::env::var_os("PPRL_REFRESH_EXAMPLES").is_some();
    let names = walkthrough::example_names().unwrap();
    assert!(!names.is_empty(), "no examples found");
    for name in &names {
        if refresh {
            refresh_partner_configs(&walkthrough::examples_dir().join(name));
        }
        let example = Example::load(name).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let config = example.project_config("0123456789abcdef");
        let project = pprl_linker::project::ProjectConfig::parse(&config)
            .unwrap_or_else(|e| panic!("{name}/project.toml: {e}"));
        project
            .check()
            .unwrap_or_else(|e| panic!("{name}/project.toml: {e}"));
        assert_eq!(
            example.project, *name,
            "{name}: the project's name is its folder's"
        );
        assert!(
            !example.outcomes.is_empty(),
            "{name}: defines no outcome indicator"
        );

        let in_project: BTreeSet<&str> = example.datasets.iter().map(|(d, _)| d.as_str()).collect();
        let generated: BTreeSet<&str> = example
            .scenario
            .datasets
            .iter()
            .map(|d| d.spec.name.as_str())
            .collect();
        assert_eq!(
            in_project, generated,
            "{name}: generate.toml and project.toml name different datasets"
        );

        let out = tempfile::tempdir().unwrap();
        example.scenario.generate(out.path(), Some(60)).unwrap();
        let partners = example.dir.join("partners");
        for dataset in &in_project {
            let written =
                std::fs::read_to_string(out.path().join(format!("{dataset}.toml"))).unwrap();
            let committed = example.partner_config(dataset);
            let text = std::fs::read_to_string(&committed)
                .unwrap_or_else(|e| panic!("{}: {e}", committed.display()));
            assert_eq!(
                text,
                written,
                "{} is stale: run PPRL_REFRESH_EXAMPLES=1 cargo test --test e2e examples_are_consistent",
                committed.display()
            );
        }
        for entry in std::fs::read_dir(&partners).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                in_project.contains(stem.as_str()),
                "{}: no dataset `{stem}` in the project",
                path.display()
            );
        }
    }
}

/// Rewrites `dir/partners/` from `dir/generate.toml`.
fn refresh_partner_configs(dir: &std::path::Path) {
    let scenario =
        pprl_generate::scenario::Scenario::from_file(&dir.join("generate.toml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    scenario.generate(out.path(), Some(60)).unwrap();
    let partners = dir.join("partners");
    if partners.exists() {
        std::fs::remove_dir_all(&partners).unwrap();
    }
    std::fs::create_dir_all(&partners).unwrap();
    for dataset in &scenario.datasets {
        let file = format!("{}.toml", dataset.spec.name);
        std::fs::copy(out.path().join(&file), partners.join(&file)).unwrap();
    }
}

/// Runs an example end to end and checks what its evaluator downloads;
/// returns the folder the run left its files in (`run/` inside it).
fn runs_end_to_end(name: &str) -> tempfile::TempDir {
    let example = Example::load(name).unwrap();
    let work = tempfile::tempdir().unwrap();
    let finished = walkthrough::run(&example, &work.path().join("run"), &Options::default())
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    let outcomes = &finished.outcomes;
    assert!(
        outcomes.get("withheld").is_none(),
        "{name}: the whole report was withheld: {}",
        outcomes["withheld"]
    );
    let persons = published(&outcomes["cohort"]["persons"])
        .unwrap_or_else(|| panic!("{name}: cohort size not published: {}", outcomes["cohort"]));
    // Under matching (issue 18) the whole participant group's size is
    // withheld when a few participants are left unmatched, so that they
    // cannot be worked out; the matched participants then stand for it.
    let participants = published(&outcomes["cohort"]["participant"])
        .or_else(|| published(&outcomes["cohort"]["matched_participant"]));
    assert!(
        participants.is_some_and(|p| p > 0 && p < persons),
        "{name}: the cohort ({persons}) should hold participants and a comparison group: {}",
        outcomes["cohort"]
    );

    let indicators = outcomes["indicators"]
        .as_array()
        .expect("an indicator list");
    let reported: Vec<&str> = indicators
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        reported, example.outcomes,
        "{name}: the report's indicators are not the ones the project defines"
    );
    for indicator in indicators {
        let what = format!("{name}: indicator {}", indicator["name"]);
        let groups = indicator["groups"].as_array().expect("groups");
        assert!(!groups.is_empty(), "{what}: no groups");
        let mut rates = 0;
        for group in groups {
            for field in ["numerator", "denominator"] {
                let count = &group[field];
                assert!(
                    published(count).is_some() || suppressed(count).is_some(),
                    "{what}: {field} of group {} is neither a value nor suppressed with a reason: {count}",
                    group["group"]
                );
            }
            if group["rate"].get("estimate").is_some() {
                rates += 1;
            } else {
                assert!(
                    suppressed(&group["numerator"])
                        .or(suppressed(&group["denominator"]))
                        .is_some(),
                    "{what}: group {} has no rate and no reason: {group}",
                    group["group"]
                );
            }
        }
        // An example is there to show its indicators: each one must be
        // published for at least one group with the example's data.
        assert!(
            rates > 0,
            "{what}: suppressed in every group; the example shows nothing: {indicator}"
        );
    }

    for file in [
        "report.json",
        "cohort.parquet",
        "outcomes.json",
        "outcomes.html",
    ] {
        assert!(
            finished.outputs.join(file).is_file(),
            "{name}: {file} not downloaded"
        );
    }
    // The examples keep `[outputs] links` off (issue 17): the evaluator
    // gets no record-level linkage file.
    assert!(
        !finished.outputs.join("links.parquet").exists(),
        "{name}: links.parquet reached the evaluator"
    );
    let (batches, _) = read_parquet(&finished.outputs.join("cohort.parquet"));
    let columns: BTreeSet<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for outcome in &example.outcomes {
        assert!(
            columns.iter().any(|c| c.starts_with(outcome.as_str())),
            "{name}: cohort.parquet has no column for {outcome}: {columns:?}"
        );
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert!(rows > 0, "{name}: cohort.parquet is empty");
    work
}

fn published(count: &Value) -> Option<u64> {
    count.get("value").and_then(Value::as_u64)
}

fn suppressed(count: &Value) -> Option<&str> {
    count
        .get("suppressed")
        .and_then(Value::as_str)
        .filter(|why| !why.trim().is_empty())
}

macro_rules! example {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            drop(runs_end_to_end($name));
        }
    };
}

/// The demo's example; its download is also where the README's evaluator
/// snippets are run.
///
/// Issue 18: the published naive comparison (participants against the
/// rest of the cohort) overstates the built-in effect on reoffending, as
/// the generator's truth says it must: the family link workers chose
/// people less likely to reoffend anyway.
#[test]
fn prison_link_runs_end_to_end() {
    let work = runs_end_to_end("prison-link");
    let run = work.path().join("run");
    let outcomes: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("outputs/outcomes.json")).unwrap())
            .unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("extracts/effect.json")).unwrap())
            .unwrap();
    let (naive_truth, att) = reoffending_truth(&truth);
    let rate = |group: &str| {
        outcomes["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "reoffended_6m")
            .and_then(|i| i["groups"].as_array())
            .and_then(|g| g.iter().find(|g| g["group"] == group))
            .and_then(|g| g["rate"]["estimate"].as_f64())
    };
    // With the matched comparison on, the whole groups' rates are withheld
    // when a few participants are left unmatched (their outcome would show
    // by difference): then the matched test below carries the claim, and
    // here the withholding must say why.
    let naive = match (rate("participant"), rate("comparison")) {
        (Some(p), Some(c)) => p - c,
        _ => {
            let indicator = outcomes["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == "reoffended_6m")
                .unwrap();
            assert!(
                indicator["secondary_difference"]["withheld"].is_string(),
                "no published naive rates and no reason given: {indicator}"
            );
            eprintln!("prison-link: the naive comparison is withheld; using the truth's");
            naive_truth
        }
    };
    assert!(
        naive < att - 0.03,
        "the naive difference {naive:+.3} does not overstate the built-in effect {att:+.3} (the truth's naive difference: {naive_truth:+.3})"
    );
    eprintln!(
        "prison-link: reoffending within 6 months, published naive {naive:+.3}, truth's naive {naive_truth:+.3}, built-in {att:+.3}"
    );
    if let Some(printed) = crate::readme::run_evaluator_snippets(&work.path().join("run")) {
        eprintln!("{printed}");
    }
}

example!(catch22_runs_end_to_end, "catch22");
example!(nepacs_runs_end_to_end, "nepacs");
example!(innovation_unit_runs_end_to_end, "innovation-unit");
example!(bounce_back_runs_end_to_end, "bounce-back");
example!(cgl_midlands_runs_end_to_end, "cgl-midlands");
example!(cgl_cheshire_runs_end_to_end, "cgl-cheshire");
example!(nfn_antz_junction_runs_end_to_end, "nfn-antz-junction");

/// The participants' dataset named by an example's project config.
fn participants_dataset(example: &Example) -> String {
    let project: toml::Table = toml::from_str(&example.project_text).unwrap();
    project["cohort"]["participants_dataset"]
        .as_str()
        .expect("every example names its participants")
        .to_owned()
}

/// The `[cohort.participation]` window of an example's project config
/// (issue 18).
fn participation_window(example: &Example) -> [i64; 2] {
    let project: toml::Table = toml::from_str(&example.project_text)
        .unwrap_or_else(|e| panic!("{}: {e}", example.dir.display()));
    let window = project["cohort"]["participation"]["window"]
        .as_array()
        .expect("a participation window");
    [
        window[0].as_integer().unwrap(),
        window[1].as_integer().unwrap(),
    ]
}

/// `effect.json`'s row for the police offences dataset, and the naive and
/// true differences it implies for `reoffended_6m` (any offence on days
/// 1 to 182): participants' chance minus the others', and the built-in
/// effect on the treated, each times the chance that someone in the
/// dataset has an offence in that window.
fn reoffending_truth(truth: &Value) -> (f64, f64) {
    let row = truth["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["dataset"] == "police_offences")
        .expect("every example builds an effect into police_offences");
    let dates: pprl_generate::scenario::EventDates = {
        let d = row["dates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["attribute"] == "offence_date")
            .unwrap();
        pprl_generate::scenario::EventDates {
            attribute: "offence_date".to_owned(),
            from: d["from"].as_i64().unwrap(),
            to: d["to"].as_i64().unwrap(),
            blank: d["blank"].as_f64().unwrap(),
        }
    };
    let share = pprl_generate::scenario::event_share(
        (1, 182),
        &dates,
        row["duplicate_rate"].as_f64().unwrap(),
    );
    (
        row["naive_expected"].as_f64().unwrap() * share,
        row["att"].as_f64().unwrap() * share,
    )
}

/// Issue 18: every programme chose its participants by covariates an
/// evaluator can see, so the naive comparison (participants against
/// everyone else in the cohort) is biased: the generator's truth says the
/// participants differ by at least a quarter of a standard deviation in
/// some observed covariate, and that the naive difference in reoffending
/// within six months is at least 3 percentage points from the built-in
/// effect. The late referrals it makes fall outside the participation
/// window of the project config, and the on-time ones inside it.
#[test]
fn programmes_choose_their_participants() {
    let mut figures = Vec::new();
    for name in PROGRAMMES {
        let example = Example::load(name).unwrap();
        let out = tempfile::tempdir().unwrap();
        example.scenario.generate(out.path(), None).unwrap();
        let text = std::fs::read_to_string(out.path().join("effect.json"))
            .unwrap_or_else(|e| panic!("{name}: no effect.json: {e}"));
        let truth: Value = serde_json::from_str(&text).unwrap();
        let programme = &truth["participants"][0];
        let participants = participants_dataset(&example);
        assert_eq!(
            programme["dataset"], participants,
            "{name}: the built-in effects are not the participants' dataset's"
        );
        let (on_time, late) = (
            programme["on_time"].as_u64().unwrap(),
            programme["late"].as_u64().unwrap(),
        );
        assert!(
            on_time >= 60 && late > 0,
            "{name}: {on_time} participants on time and {late} late in the cohort"
        );

        let observed: Vec<&Value> = truth["balance"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["participants"] == participants.as_str() && b["observed"] == true)
            .collect();
        let largest = observed
            .iter()
            .max_by(|a, b| {
                let smd = |r: &&&Value| r["smd"].as_f64().unwrap().abs();
                smd(a).total_cmp(&smd(b))
            })
            .expect("observed covariates");
        assert!(
            largest["smd"].as_f64().unwrap().abs() >= 0.25,
            "{name}: the participants are not selected on any observed covariate: {observed:?}"
        );

        let (naive, att) = reoffending_truth(&truth);
        assert!(
            (naive - att).abs() >= 0.03,
            "{name}: the naive difference in reoffending ({naive:+.3}) is the built-in effect ({att:+.3}): no selection bias to remove"
        );
        for effect in truth["effects"].as_array().unwrap() {
            let odds = effect["odds_ratio"].as_f64().unwrap();
            let att = effect["att"].as_f64().unwrap();
            assert!(
                odds != 1.0 && att.signum() == odds.ln().signum(),
                "{name}: effect on {} ({att:+.3}) does not go the way its odds ratio ({odds}) says",
                effect["dataset"]
            );
        }

        // The participation window keeps the on-time dates (even coarsened
        // to the month: up to 30 days earlier) and leaves out the late ones.
        let window = participation_window(&example);
        let on_time_dates = &programme["on_time_dates"];
        let late_dates = &programme["late_dates"];
        let day = |v: &Value, i: usize| v[i].as_i64().unwrap();
        assert!(
            window[0] <= day(on_time_dates, 0) - 30 && day(on_time_dates, 1) <= window[1],
            "{name}: the window {window:?} does not hold the participants' dates {on_time_dates}"
        );
        assert!(
            day(late_dates, 0) - 30 > window[1],
            "{name}: the window {window:?} holds late referrals {late_dates}"
        );
        figures.push(format!(
            "{name}: reoffending within 6 months, naive {naive:+.3}, built-in {att:+.3}; largest observed SMD {} {:+.2}",
            largest["covariate"],
            largest["smd"].as_f64().unwrap()
        ));
    }
    eprintln!("{}", figures.join("\n"));
}

/// Issue 18: with each example's `[cohort.participation]` and
/// `[cohort.comparison]`, the matched comparison recovers the
/// built-in effect on reoffending within six months and the naive one does
/// not. In `outcomes.json`: `comparison.method` is `"matched"`; the
/// indicator `reoffended_6m` is `compared_with` `"matched_comparison"`;
/// `difference.estimate.interval` (matched participants minus their
/// matches) holds the built-in effect (from the run's
/// `extracts/effect.json`, see [`reoffending_truth`]) within 0.02, and is
/// nearer to it than `secondary_difference.estimate.interval` (all
/// participants minus the whole comparison group; the truth's naive
/// figure where that line is withheld); after matching every
/// covariate's `smd_after` in `comparison.balance` is within ±0.1.
/// Prison Link's participants look better than they are, Catch22's worse.
#[test]
fn matched_comparison_recovers_the_built_in_effect() {
    for name in ["prison-link", "catch22"] {
        let example = Example::load(name).unwrap();
        let work = tempfile::tempdir().unwrap();
        let run = work.path().join("run");
        let finished = walkthrough::run(&example, &run, &Options::default())
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let outcomes = &finished.outcomes;
        assert_eq!(outcomes["comparison"]["method"], "matched", "{name}");
        let indicator = outcomes["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "reoffended_6m")
            .expect("reoffended_6m");
        assert_eq!(indicator["compared_with"], "matched_comparison", "{name}");
        let interval = |field: &str| {
            let i = &indicator[field]["estimate"]["interval"];
            (
                i["estimate"]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{name}: no {field}: {indicator}")),
                i["low"].as_f64().unwrap(),
                i["high"].as_f64().unwrap(),
            )
        };
        let (matched, low, high) = interval("difference");
        let truth: Value = serde_json::from_str(
            &std::fs::read_to_string(run.join("extracts/effect.json")).unwrap(),
        )
        .unwrap();
        let (naive_truth, att) = reoffending_truth(&truth);
        // The secondary line (all participants against the whole
        // comparison group) is withheld when its counts would let a small
        // cell (the few participants left unmatched) be worked out; the
        // naive comparison is then the truth's.
        let secondary = &indicator["secondary_difference"];
        let naive = if secondary["estimate"].is_null() {
            assert!(
                secondary.is_null() || secondary["withheld"].is_string(),
                "{name}: a secondary line with neither an estimate nor a reason: {secondary}"
            );
            naive_truth
        } else {
            interval("secondary_difference").0
        };
        assert!(
            low - 0.02 <= att && att <= high + 0.02,
            "{name}: the matched difference {matched:+.3} ({low:+.3} to {high:+.3}) misses the built-in effect {att:+.3}"
        );
        assert!(
            (matched - att).abs() < (naive - att).abs(),
            "{name}: matching ({matched:+.3}) is no nearer the built-in effect {att:+.3} than the naive comparison ({naive:+.3})"
        );
        for row in outcomes["comparison"]["balance"].as_array().unwrap() {
            if let Some(smd) = row["smd_after"].as_f64() {
                assert!(smd.abs() <= 0.1, "{name}: unbalanced after matching: {row}");
            }
        }
    }
}
