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
#[test]
fn prison_link_runs_end_to_end() {
    let work = runs_end_to_end("prison-link");
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
