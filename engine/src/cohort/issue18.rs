//! Issue 18, "an evaluation an analyst would trust", over in-memory
//! records: the participation window, look-back windows and baselines,
//! the matched comparison group in the cohort and the report.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use chrono::NaiveDate;

use super::build::{Cohort, build_over, day_number};
use super::config::{CohortConfig, CohortSettings, DisclosureConfig, OutcomeConfig};
use super::evaluation::Role;
use super::ptable::CellKey;
use super::report::{self, Count, Difference};
use crate::linkage::{DatasetInput, Records};

/// One person: release day (days since 1970), age, establishment,
/// referral days relative to release, offence days relative to release.
#[derive(Debug, Clone)]
struct Person {
    release: i32,
    age: Option<i64>,
    establishment: Option<&'static str>,
    referrals: Vec<i32>,
    offences: Vec<i32>,
}

/// Records of three datasets (prison, programme, police) and the
/// clustering that makes each person one cluster.
fn records(people: &[Person]) -> (Records, Vec<u32>, Vec<String>) {
    let mut records = Records::new();
    let mut cluster = Vec::new();
    let date = |name: &str| Field::new(name, DataType::Date32, true);
    let batch = |fields: Vec<Field>, columns: Vec<ArrayRef>| {
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a batch")
    };
    // prison_releases
    let fields = vec![
        date("release_date"),
        Field::new("age", DataType::Int64, true),
        Field::new("establishment", DataType::Utf8, true),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from_iter_values(
            people.iter().map(|p| p.release),
        )),
        Arc::new(Int64Array::from_iter(people.iter().map(|p| p.age))),
        Arc::new(StringArray::from_iter(
            people.iter().map(|p| p.establishment),
        )),
    ];
    let mut inputs = vec![(
        fields.clone(),
        batch(fields, columns),
        (0..people.len()).collect::<Vec<_>>(),
    )];
    for (name, rows) in [
        (
            "referral_date",
            people.iter().map(|p| &p.referrals).collect::<Vec<_>>(),
        ),
        ("offence_date", people.iter().map(|p| &p.offences).collect()),
    ] {
        let mut owner = Vec::new();
        let mut days = Vec::new();
        for (i, (p, r)) in people.iter().zip(rows).enumerate() {
            for d in r {
                owner.push(i);
                days.push(p.release + d);
            }
        }
        let fields = vec![date(name)];
        let b = batch(fields.clone(), vec![Arc::new(Date32Array::from(days))]);
        inputs.push((fields, b, owner));
    }
    for (d, (name, (fields, batch, owner))) in ["prison", "programme", "police"]
        .into_iter()
        .zip(inputs)
        .enumerate()
    {
        records.datasets.push(DatasetInput {
            name: name.to_owned(),
            version: 1,
            one_record_per_person: false,
            attribute_schema: fields,
            attributes: vec![batch],
        });
        for o in owner {
            records.dataset.push(d as u16);
            cluster.push(o as u32);
        }
    }
    let ids = (0..people.len()).map(|i| format!("p_{i:016x}")).collect();
    (records, cluster, ids)
}

fn config(text: &str) -> (CohortConfig, Vec<OutcomeConfig>) {
    let f: ConfigFile = toml::from_str(text).expect("the test config parses");
    CohortSettings {
        cohort: &f.cohort,
        outcomes: &f.outcomes,
        disclosure: &DisclosureConfig::default(),
    }
    .check(&["prison", "programme", "police"])
    .expect("the test config is valid");
    (f.cohort, f.outcomes)
}

const BASE: &str = r#"
[cohort]
index_dataset = "prison"
index_date = "release_date"
participants_dataset = "programme"
attributes = ["age", "establishment"]
as_of = "2030-01-01"
"#;

fn built(people: &[Person], text: &str) -> Cohort {
    let (records, cluster, ids) = records(people);
    let (cohort, outcomes) = config(text);
    build_over(
        &records,
        &cluster,
        &ids,
        &cohort,
        &outcomes,
        &HashMap::new(),
    )
    .expect("builds")
}

fn release() -> i32 {
    day_number(&NaiveDate::from_ymd_opt(2024, 3, 1).expect("valid"))
}

fn person(referrals: Vec<i32>, offences: Vec<i32>) -> Person {
    Person {
        release: release(),
        age: Some(30),
        establishment: Some("HMP A"),
        referrals,
        offences,
    }
}

#[test]
fn the_participation_window_decides_who_is_a_participant() {
    let people = vec![
        person(vec![-100], vec![]),     // referred too early
        person(vec![-90], vec![]),      // the window's first day
        person(vec![28], vec![]),       // its last day
        person(vec![29, -120], vec![]), // neither record in the window
        person(vec![], vec![]),         // never referred
    ];
    let windowed = format!(
        "{BASE}[cohort.participation]\ndate = \"referral_date\"\nwindow = [-90, 28]\n[cohort.comparison]\nmethod = \"all\"\n"
    );
    let c = built(&people, &windowed);
    let flags: Vec<bool> = c.members.iter().map(|m| m.participant).collect();
    assert_eq!(flags, [false, true, true, false, false]);
    let rule = c.participation.as_ref().expect("a rule");
    assert_eq!(rule.rule, "window");
    assert!(
        rule.statement
            .contains("from 90 days before the index date to 28 days after"),
        "{}",
        rule.statement
    );
    let ever = built(
        &people,
        &format!("{BASE}[cohort.comparison]\nmethod = \"all\"\n"),
    );
    let flags: Vec<bool> = ever.members.iter().map(|m| m.participant).collect();
    assert_eq!(flags, [true, true, true, true, false]);
    assert_eq!(
        ever.participation.as_ref().map(|p| p.rule.as_str()),
        Some("ever_linked")
    );
}

#[test]
fn look_back_windows_and_baselines_count_before_the_index_date() {
    let people = vec![
        person(vec![0], vec![-200, 10]),
        person(vec![0], vec![-400]),
        person(vec![], vec![-1, 0]),
        person(vec![], vec![5]),
    ];
    let text = format!(
        r#"{BASE}
[cohort.comparison]
method = "all"

[[outcomes]]
name = "offended_year_before"
kind = "any_event"
dataset = "police"
date = "offence_date"
window = [-365, -1]

[[outcomes]]
name = "offended_6m"
kind = "any_event"
dataset = "police"
date = "offence_date"
window = [1, 182]
baseline = true

[[outcomes]]
name = "offences_6m"
kind = "count"
dataset = "police"
date = "offence_date"
window = [0, 182]
baseline_window = [-400, -1]
"#
    );
    let c = built(&people, &text);
    let hits = |k: usize| -> Vec<bool> { c.indicators[k].values.iter().map(|v| v.hit).collect() };
    assert_eq!(hits(0), [true, false, true, false]);
    assert_eq!(hits(1), [true, false, false, true]);
    let base: Vec<bool> = c.indicators[1]
        .baseline
        .as_ref()
        .expect("a baseline")
        .iter()
        .map(|v| v.hit && v.closed)
        .collect();
    assert_eq!(
        base,
        [false, false, true, false],
        "the baseline is days -182 to -1: -200 is before it, -1 in it"
    );
    assert_eq!(c.indicators[1].config.baseline_days(), Some((-182, -1)));
    let counts: Vec<u32> = c.indicators[2]
        .baseline
        .as_ref()
        .expect("a baseline")
        .iter()
        .map(|v| v.count)
        .collect();
    assert_eq!(counts, [1, 1, 1, 0]);
    assert!(c.indicators[0].baseline.is_none());
}

#[test]
fn bad_values_are_refused_naming_the_key() {
    for (extra, needle) in [
        (
            "[cohort.comparison]\ncaliper = 0.0\n",
            "cohort.comparison.caliper",
        ),
        (
            "[cohort.comparison]\nratio = 0\n",
            "cohort.comparison.ratio",
        ),
        ("[cohort.comparison]\nmethod = \"nearest\"\n", "method"),
        (
            "[cohort.participation]\ndate = \"referral_date\"\nwindow = [28, -90]\n",
            "cohort.participation.window",
        ),
        (
            "[[cohort.comparison.prior]]\nname = \"prior\"\ndataset = \"police\"\ndate = \"offence_date\"\nwindow = [-30, 5]\n",
            "cohort.comparison.prior",
        ),
        (
            "[[outcomes]]\nname = \"t\"\nkind = \"time_to_first\"\ndataset = \"police\"\ndate = \"offence_date\"\nwindow = [-10, 30]\n",
            "day 0",
        ),
        (
            "[[outcomes]]\nname = \"t\"\nkind = \"any_event\"\ndataset = \"police\"\ndate = \"offence_date\"\nwindow = [1, 30]\nbaseline_window = [-10, 3]\n",
            "baseline_window",
        ),
    ] {
        let text = format!("{BASE}{extra}");
        let err = match toml::from_str::<ConfigFile>(&text) {
            Err(e) => e.to_string(),
            Ok(f) => CohortSettings {
                cohort: &f.cohort,
                outcomes: &f.outcomes,
                disclosure: &DisclosureConfig::default(),
            }
            .check(&["prison", "programme", "police"])
            .expect_err(extra)
            .to_string(),
        };
        assert!(err.contains(needle), "{extra}: {err}");
    }
}

#[derive(serde::Deserialize)]
struct ConfigFile {
    cohort: CohortConfig,
    #[serde(default)]
    outcomes: Vec<OutcomeConfig>,
}

/// A cohort where older people and those from HMP B join more often, and
/// participants offend less.
fn confounded(n: usize) -> Vec<Person> {
    confounded_from(n, 0x9e37_79b9_7f4a_7c15)
}

fn confounded_from(n: usize, seed: u64) -> Vec<Person> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let age = 18 + (next() % 50) as i64;
            let b = next() % 3 == 0;
            let chance = 10 + (age - 18) + if b { 25 } else { 0 };
            let participant = (next() % 100) < chance as u64;
            let offends = (next() % 100) < if participant { 25 } else { 40 };
            Person {
                release: release() - (next() % 200) as i32,
                age: (next() % 40 != 0).then_some(age),
                establishment: Some(if b { "HMP B" } else { "HMP A" }),
                referrals: if participant { vec![-5] } else { vec![] },
                offences: if offends {
                    vec![30 + (next() % 100) as i32]
                } else {
                    vec![]
                },
            }
        })
        .collect()
}

#[test]
fn a_matched_comparison_balances_the_covariates() {
    let people = confounded(1_200);
    let text = format!(
        r#"{BASE}
[[outcomes]]
name = "offended_6m"
kind = "any_event"
dataset = "police"
date = "offence_date"
window = [1, 182]
baseline = true

[[outcomes]]
name = "days_to_offence"
kind = "time_to_first"
dataset = "police"
date = "offence_date"
window = [1, 182]
"#
    );
    let c = built(&people, &text);
    let cmp = c.comparison.as_ref().expect("matched by default");
    let names: Vec<&str> = cmp.columns.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["age", "age_missing", "establishment=HMP B"]);
    assert!(cmp.fit.converged);
    assert!(
        cmp.fit.coefficients[1] > 0.0,
        "older people join more: {:?}",
        cmp.fit
    );
    assert_eq!(cmp.missing.len(), 1, "missing ages are counted");
    for &(t, k) in &cmp.matches.pairs {
        assert!((cmp.logit[t] - cmp.logit[k]).abs() <= cmp.caliper_width);
        assert_eq!(cmp.role[t], Role::MatchedParticipant);
        assert_eq!(cmp.role[k], Role::MatchedComparison);
    }
    for b in &cmp.balance {
        let (before, after) = (b.smd_before.expect("smd"), b.smd_after.expect("smd"));
        assert!(after.abs() < 0.1, "{b:?}");
        if b.column == "age" {
            assert!(before > 0.2, "age is imbalanced before matching: {b:?}");
        }
    }
    let keys: Vec<CellKey> = (0..c.members.len())
        .map(|i| CellKey((i * 37 % 256) as u8))
        .collect();
    let r = report::report("p", 1, "now", &c, &DisclosureConfig::default(), &keys);
    let sizes = r.cohort.as_ref().expect("sizes");
    assert!(matches!(sizes.matched_participant, Some(Count::Value(_))));
    let ind = &r.indicators[0];
    let groups: Vec<&str> = ind.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(
        groups,
        [
            "participant",
            "comparison",
            "matched_participant",
            "matched_comparison",
            "all"
        ]
    );
    assert_eq!(ind.compared_with.as_deref(), Some("matched_comparison"));
    assert!(matches!(ind.difference, Some(Difference::Estimate { .. })));
    assert!(matches!(
        ind.secondary_difference,
        Some(Difference::Estimate { .. })
    ));
    let baseline = ind.baseline.as_ref().expect("a baseline");
    assert_eq!(baseline.window, [-182, -1]);
    assert_eq!(baseline.groups.len(), 5);
    let comparison = r.comparison.as_ref().expect("a comparison");
    assert_eq!(comparison.balance.len(), 3);
    let age = &comparison.balance[0];
    assert!(age.mean_participant.is_some(), "a numeric covariate's mean");
    assert!(
        comparison.balance[2].mean_participant.is_none(),
        "never a 0/1 column's mean"
    );
    let curves = &r.indicators[1].survival;
    let names: Vec<&str> = curves.iter().map(|c| c.group.as_str()).collect();
    assert_eq!(
        names,
        [
            "participant",
            "comparison",
            "matched_participant",
            "matched_comparison",
            "all"
        ]
    );
    for curve in curves {
        assert!(curve.steps.len() >= 3, "{curve:?}");
        // Offences fall on days 30 to 129: no one offends in the first interval.
        assert_eq!(curve.steps[0].survival, 1.0, "{curve:?}");
        assert!(
            curve.steps.last().is_some_and(|s| s.survival < 0.9),
            "{curve:?}"
        );
    }
    let json = serde_json::to_string(&r).expect("serialises");
    let back: report::OutcomesReport = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back.indicators[0].groups.len(), 5);
    assert_eq!(back.comparison.map(|c| c.balance.len()), Some(3));
}

/// The README's evaluation example is a valid configuration with the
/// agreed key names (issue 18).
#[test]
fn the_readmes_evaluation_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let start = readme
        .find("```toml\n[cohort.participation]")
        .expect("the README shows the evaluation keys");
    let block = &readme[start + "```toml\n".len()..];
    let block = &block[..block.find("```").expect("the block ends")];
    let f: ConfigFile = toml::from_str(&format!("{BASE}{block}")).expect("the example parses");
    CohortSettings {
        cohort: &f.cohort,
        outcomes: &f.outcomes,
        disclosure: &DisclosureConfig::default(),
    }
    .check(&["prison", "programme", "police_offences"])
    .expect("the example passes the checks");
    let p = f.cohort.participation.expect("participation");
    assert_eq!((p.date.as_str(), p.window), ("referral_date", [-90, 28]));
    let c = &f.cohort.comparison;
    assert_eq!(c.method, super::config::ComparisonMethod::Matched);
    assert_eq!((c.caliper, c.replacement, c.ratio), (0.2, false, 1));
    assert_eq!(c.prior[0].window, [-730, -1]);
    assert_eq!(f.outcomes[0].baseline_days(), Some((-182, -1)));
}

/// Every count a report publishes, wherever it is.
fn all_counts(r: &report::OutcomesReport) -> Vec<Count> {
    let json = serde_json::to_value(r).expect("serialises");
    fn walk(v: &serde_json::Value, out: &mut Vec<Count>) {
        match v {
            serde_json::Value::Object(m) => {
                if let (1, Some(n)) = (m.len(), m.get("value").and_then(|n| n.as_u64())) {
                    out.push(Count::Value(n));
                } else if let (1, Some(why)) =
                    (m.len(), m.get("suppressed").and_then(|s| s.as_str()))
                {
                    out.push(Count::Suppressed(why.to_owned()));
                } else {
                    m.values().for_each(|x| walk(x, out));
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&json, &mut out);
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Matched reports, with baselines and curves, publish no count from 1
    /// to min_cell - 1 anywhere, and every matched pair is within the caliper.
    #[test]
    fn matched_reports_publish_only_safe_counts(
        n in 60usize..400,
        seed in proptest::prelude::any::<u64>(),
        min_cell in 2u64..15,
        replacement in proptest::prelude::any::<bool>(),
        ratio in 1u32..3,
    ) {
        let people = confounded_from(n, seed);
        let text = format!(
            "{BASE}[cohort.comparison]\nreplacement = {replacement}\nratio = {ratio}\n{}",
            r#"
[[outcomes]]
name = "offended_6m"
kind = "any_event"
dataset = "police"
date = "offence_date"
window = [1, 182]
baseline = true

[[outcomes]]
name = "days_to_offence"
kind = "time_to_first"
dataset = "police"
date = "offence_date"
window = [1, 182]
"#
        );
        let c = built(&people, &text);
        let keys: Vec<CellKey> = (0..c.members.len())
            .map(|i| CellKey(((i as u64 * 2_654_435_761) >> 7) as u8))
            .collect();
        let rules = DisclosureConfig {
            min_cell,
            min_cohort: 60.max(min_cell),
            ..DisclosureConfig::default()
        };
        let r = report::report("p", 1, "now", &c, &rules, &keys);
        let counts = all_counts(&r);
        proptest::prop_assert!(counts.len() > 20, "counts found: {}", counts.len());
        for count in counts {
            if let Count::Value(v) = count {
                proptest::prop_assert!(v == 0 || v >= min_cell, "{} under min_cell {}", v, min_cell);
            }
        }
        if let Some(cmp) = &c.comparison {
            for &(t, k) in &cmp.matches.pairs {
                proptest::prop_assert!((cmp.logit[t] - cmp.logit[k]).abs() <= cmp.caliper_width);
            }
        }
    }
}
