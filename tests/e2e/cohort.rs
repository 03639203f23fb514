//! Cohorts and outcomes end to end (issue 5): a generated population's
//! extracts (clean profile, so linkage is exact), tokenised and uploaded by
//! four partners; a run publishes cohort.parquet, outcomes.json and
//! outcomes.html. The published indicators must equal those computed from
//! the generator's ground truth, the intervals a reference computation, and
//! an independent reader (Python with pyarrow) must read the cohort file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type};
use arrow_array::{Array, RecordBatch};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use pprl_generate::population::{self, Content, DatasetSpec, Profile};

use crate::support::{
    Server, binary_column, client, keygen, linker_cli, read_parquet, serve, write,
};

const SEED: u64 = 11;
const PEOPLE: usize = 1_500;
const AS_OF: &str = "2024-10-31";
/// (dataset name, partner name).
const DATASETS: [(&str, &str); 4] = [
    ("prison_releases", "prison"),
    ("probation_caseload", "probation"),
    ("police_offences", "police"),
    ("employment_outcomes", "employment"),
];

/// How a test project publishes its counts.
#[derive(Debug, Clone, Copy)]
enum Disclosure {
    /// `method = "round"` with `rounding = 1`: exact counts, for comparing
    /// with the ground truth.
    Exact,
    /// The default, `method = "cell_key"`.
    CellKey,
}

impl Disclosure {
    fn lines(self) -> &'static str {
        match self {
            Disclosure::Exact => "method = \"round\"\nrounding = 1",
            Disclosure::CellKey => "method = \"cell_key\"",
        }
    }
}

fn cohort_config(min_cell: u64, disclosure: Disclosure) -> String {
    let disclosure = disclosure.lines();
    format!(
        r#"
[cohort]
index_dataset = "prison_releases"
index_date = "release_date"
participants_dataset = "probation_caseload"
participants_flag = "participant"
attributes = ["release_type", "sentence_days"]
as_of = "{AS_OF}"

[[cohort.filters]]
attribute = "release_type"
in = ["CRD", "HDC", "ARD", "PRD"]

[[outcomes]]
name = "reoffended_6m"
kind = "any_event"
dataset = "police_offences"
date = "offence_date"
window = [1, 182]

[[outcomes]]
name = "offences_90d"
kind = "count"
dataset = "police_offences"
date = "offence_date"
window = [1, 90]

[[outcomes]]
name = "days_to_offence"
kind = "time_to_first"
dataset = "police_offences"
date = "offence_date"
window = [1, 120]

[[outcomes]]
name = "in_work_day_60"
kind = "status_on_day"
dataset = "employment_outcomes"
start = "outcome_date"
day = 60

[[outcomes.filters]]
attribute = "outcome"
in = ["Employed", "Self-employed"]

[disclosure]
min_cell = {min_cell}
{disclosure}
min_cohort = 60
date_precision = "month"

[outputs]
links = "linkage-analyst"
links_attributes = ["release_type", "release_date", "offence_date", "outcome_date"]
"#
    )
}

/// The schema pyarrow must see, as (name, pyarrow type) pairs.
const SCHEMA: &str = r#"[["person_id","string"],["group","string"],["index_date","date32[day]"],["release_type","string"],["sentence_days","int64"],["reoffended_6m","bool"],["reoffended_6m_window_closed","bool"],["offences_90d","int32"],["offences_90d_window_closed","bool"],["days_to_offence","int32"],["days_to_offence_event","bool"],["days_to_offence_window_closed","bool"],["in_work_day_60","bool"],["in_work_day_60_window_closed","bool"],["propensity_score","double"],["propensity_logit","double"],["match_set","int32"],["match_count","int32"]]"#;

/// One extract row's attributes, by name, as text.
pub(crate) type Row = HashMap<String, String>;

/// Writes the extracts and returns each dataset's rows keyed by true person.
fn generate(dir: &Path) -> HashMap<String, Vec<(String, Row)>> {
    let people = population::people(SEED, PEOPLE);
    let specs: Vec<DatasetSpec> = population::standard_datasets(Profile::Clean)
        .into_iter()
        .filter(|s| DATASETS.iter().any(|(d, _)| *d == s.name))
        .collect();
    let mut out = HashMap::new();
    for spec in &specs {
        let (mut csv, mut truth) = (Vec::new(), Vec::new());
        population::write_extract(&people, spec, SEED, &mut csv, &mut truth).expect("extract");
        write(dir, &format!("{}.csv", spec.name), &csv);
        write(
            dir,
            &format!("{}.toml", spec.name),
            population::partner_config(spec),
        );
        let truth: HashMap<String, String> = String::from_utf8(truth)
            .expect("utf-8 truth")
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[1].to_owned(), f[2].to_owned())
            })
            .collect();
        let id_header = spec
            .columns
            .iter()
            .find(|c| matches!(c.content, Content::RecordId { .. }))
            .expect("a record id column")
            .header
            .clone();
        let attributes: Vec<(String, String)> = spec
            .columns
            .iter()
            .filter_map(|c| match &c.content {
                Content::Attribute { name, .. } => Some((c.header.clone(), name.clone())),
                _ => None,
            })
            .collect();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(spec.style.delimiter)
            .from_reader(&csv[..]);
        let headers = reader.headers().expect("header").clone();
        let column = |h: &str| {
            headers
                .iter()
                .position(|x| x.trim_start_matches('\u{feff}') == h)
                .expect("header present")
        };
        let format = spec.style.date_format.strftime();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.expect("csv row");
            let person = truth[&record[column(&id_header)]].clone();
            let mut row = Row::new();
            for (header, name) in &attributes {
                let raw = record[column(header)].to_owned();
                let value = match parse_date(&raw, format) {
                    Some(d) if name.contains("date") => d.to_string(),
                    _ => raw,
                };
                row.insert(name.clone(), value);
            }
            rows.push((person, row));
        }
        out.insert(spec.name.clone(), rows);
    }
    out
}

fn parse_date(text: &str, format: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, format).ok().or_else(|| {
        NaiveDateTime::parse_from_str(text, format)
            .ok()
            .map(|d| d.date())
    })
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// One expected cohort row, comparable with a published one.
type Expected = (
    String,                    // group
    String,                    // index month
    String,                    // release_type
    Option<bool>,              // reoffended_6m
    Option<i32>,               // offences_90d
    (Option<i32>, bool, bool), // days_to_offence, event, closed
    Option<bool>,              // in_work_day_60
);

/// The cohort computed straight from the extracts and the ground truth.
fn expected(data: &HashMap<String, Vec<(String, Row)>>) -> Vec<Expected> {
    let as_of = date(AS_OF).expect("as_of");
    let mut index: BTreeMap<&str, (NaiveDate, &Row)> = BTreeMap::new();
    for (person, row) in &data["prison_releases"] {
        if !["CRD", "HDC", "ARD", "PRD"].contains(&row["release_type"].as_str()) {
            continue;
        }
        let Some(d) = date(&row["release_date"]) else {
            continue;
        };
        let e = index.entry(person).or_insert((d, row));
        if d < e.0 {
            *e = (d, row);
        }
    }
    let by_person = |dataset: &str| {
        let mut m: HashMap<&str, Vec<&Row>> = HashMap::new();
        for (p, r) in &data[dataset] {
            m.entry(p.as_str()).or_default().push(r);
        }
        m
    };
    let probation = by_person("probation_caseload");
    let police = by_person("police_offences");
    let employment = by_person("employment_outcomes");
    let mut out: Vec<Expected> = index
        .iter()
        .map(|(person, (t0, row))| {
            let participant = probation
                .get(person)
                .is_some_and(|rs| rs.iter().any(|r| r["participant"] == "Y"));
            let offset = |d: NaiveDate| (d - *t0).num_days() as i32;
            let offences: Vec<i32> = police
                .get(person)
                .map(|rs| {
                    rs.iter()
                        .filter_map(|r| date(&r["offence_date"]))
                        .filter(|d| *d <= as_of)
                        .map(offset)
                        .collect()
                })
                .unwrap_or_default();
            let closed = |days: i64| *t0 + chrono::Days::new(days as u64) <= as_of;
            let within = |a: i32, b: i32| offences.iter().filter(|&&d| d >= a && d <= b).count();
            let first = offences
                .iter()
                .filter(|&&d| (1..=120).contains(&d))
                .min()
                .copied();
            let working = employment.get(person).is_some_and(|rs| {
                rs.iter().any(|r| {
                    ["Employed", "Self-employed"].contains(&r["outcome"].as_str())
                        && date(&r["outcome_date"]).is_some_and(|d| offset(d) <= 60)
                })
            });
            (
                if participant {
                    "participant"
                } else {
                    "comparison"
                }
                .to_owned(),
                format!("{}-{:02}-01", t0.year(), t0.month()),
                row["release_type"].clone(),
                closed(182).then_some(within(1, 182) > 0),
                closed(90).then_some(within(1, 90) as i32),
                (
                    first.or(closed(120).then_some(120)),
                    first.is_some(),
                    closed(120),
                ),
                closed(60).then_some(working),
            )
        })
        .collect();
    out.sort();
    out
}

/// The published cohort rows, in the same shape.
fn published(batches: &[RecordBatch]) -> Vec<Expected> {
    let mut out = Vec::new();
    for b in batches {
        let s = |n: &str| b.column_by_name(n).expect(n).as_string::<i32>().clone();
        let i32s = |n: &str| {
            b.column_by_name(n)
                .expect(n)
                .as_primitive::<Int32Type>()
                .clone()
        };
        let bools = |n: &str| b.column_by_name(n).expect(n).as_boolean().clone();
        let (group, release_type) = (s("group"), s("release_type"));
        let index = b
            .column_by_name("index_date")
            .expect("index_date")
            .as_primitive::<Date32Type>()
            .clone();
        let (reoffended, offences, days, event, closed, working) = (
            bools("reoffended_6m"),
            i32s("offences_90d"),
            i32s("days_to_offence"),
            bools("days_to_offence_event"),
            bools("days_to_offence_window_closed"),
            bools("in_work_day_60"),
        );
        let opt_b = |a: &arrow_array::BooleanArray, i: usize| a.is_valid(i).then(|| a.value(i));
        let opt_i = |a: &arrow_array::Int32Array, i: usize| a.is_valid(i).then(|| a.value(i));
        for i in 0..b.num_rows() {
            out.push((
                group.value(i).to_owned(),
                index.value_as_date(i).expect("a date").to_string(),
                release_type.value(i).to_owned(),
                opt_b(&reoffended, i),
                opt_i(&offences, i),
                (opt_i(&days, i), event.value(i), closed.value(i)),
                opt_b(&working, i),
            ));
        }
    }
    out.sort();
    out
}

pub(crate) struct Setup {
    pub(crate) dir: tempfile::TempDir,
    data: PathBuf,
    server: Server,
    evaluator: PathBuf,
    analyst: PathBuf,
    pub(crate) truth: HashMap<String, Vec<(String, Row)>>,
}

fn setup(min_cell: u64, disclosure: Disclosure) -> Setup {
    setup_with(&cohort_config(min_cell, disclosure))
}

/// The four partners' extracts uploaded to a project with these cohort,
/// outcome and disclosure sections.
pub(crate) fn setup_with(cohort_sections: &str) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let fingerprint = keygen(root);
    let truth = generate(root);
    let mut project = format!("name = \"pl\"\nkey_fingerprint = \"{fingerprint}\"\n");
    for (d, p) in DATASETS {
        let extra = if d == "prison_releases" {
            "one_record_per_person = false\n"
        } else {
            ""
        };
        project.push_str(&format!(
            "\n[[datasets]]\nname = \"{d}\"\npartner = \"{p}\"\n{extra}"
        ));
    }
    project.push_str(cohort_sections);
    write(root, "project.toml", &project);
    let data = root.join("data");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    linker_cli(
        &data,
        &[
            "admin",
            "create-project",
            "--config",
            &path(&root.join("project.toml")),
        ],
    )
    .ok();
    let server = serve(&data, &[]);
    let linker_key = crate::support::linker_key(&data);
    for (d, p) in DATASETS {
        let token = root.join(format!("{p}.token"));
        linker_cli(
            &data,
            &[
                "admin",
                "issue-token",
                "--role",
                "partner",
                "--project",
                "pl",
                "--partner",
                p,
                "--output",
                &path(&token),
            ],
        )
        .ok();
        client(
            root,
            &[
                "tokenise",
                "--key-file",
                "key.txt",
                "--config",
                &format!("{d}.toml"),
                "--input",
                &format!("{d}.csv"),
                "--output",
                &format!("{d}.parquet"),
                "--quiet",
            ],
            None,
        )
        .ok();
        client(
            root,
            &[
                "upload",
                "--server",
                &server.url,
                "--project",
                "pl",
                "--dataset",
                d,
                "--token-file",
                &path(&token),
                "--linker-key",
                &linker_key,
                &format!("{d}.parquet"),
            ],
            None,
        )
        .ok();
    }
    let evaluator = root.join("evaluator.token");
    linker_cli(
        &data,
        &[
            "admin",
            "issue-token",
            "--role",
            "evaluator",
            "--project",
            "pl",
            "--output",
            &path(&evaluator),
        ],
    )
    .ok();
    let analyst = root.join("analyst.token");
    linker_cli(
        &data,
        &[
            "admin",
            "issue-token",
            "--role",
            "linkage-analyst",
            "--project",
            "pl",
            "--output",
            &path(&analyst),
        ],
    )
    .ok();
    Setup {
        dir,
        data,
        server,
        evaluator,
        analyst,
        truth,
    }
}

pub(crate) fn run_and_download(s: &Setup, out: &str) -> PathBuf {
    linker_cli(&s.data, &["run", "--project", "pl"]).ok();
    download(s, &s.evaluator, out)
}

/// Downloads the latest publication with the token in `token`.
fn download(s: &Setup, token: &Path, out: &str) -> PathBuf {
    let dir = s.dir.path().join(out);
    client(
        s.dir.path(),
        &[
            "download",
            "--server",
            &s.server.url,
            "--project",
            "pl",
            "--output-dir",
            dir.to_str().expect("utf-8"),
            "--token-file",
            token.to_str().expect("utf-8"),
        ],
        None,
    )
    .ok();
    dir
}

#[test]
fn published_indicators_equal_the_ground_truth_and_python_reads_them() {
    let s = setup(1, Disclosure::Exact);
    let out = run_and_download(&s, "outputs");
    for name in [
        "report.json",
        "model.json",
        "cohort.parquet",
        "outcomes.json",
        "outcomes.html",
    ] {
        assert!(out.join(name).is_file(), "{name} downloaded");
    }
    assert!(
        !out.join("links.parquet").exists(),
        "links.parquet is not an evaluator's file (issue 17)"
    );
    no_token_is_published(&s, &out, 5);
    let linkage = download(&s, &s.analyst, "linkage");
    for name in ["links.parquet", "report.json", "model.json"] {
        assert!(linkage.join(name).is_file(), "{name} downloaded");
    }
    no_token_is_published(&s, &linkage, 3);
    let (batches, _) = read_parquet(&out.join("cohort.parquet"));
    let got = published(&batches);
    let want = expected(&s.truth);
    assert!(want.len() > 500, "a sizeable cohort: {}", want.len());
    assert_eq!(got.len(), want.len(), "one row per person of the cohort");
    let closed = want.iter().filter(|w| w.3.is_some()).count();
    assert!(
        closed > 0 && closed < want.len(),
        "some windows open on the as-of date"
    );
    // Linkage of the employment extract (NI number and names only) is far
    // from exact even on the clean profile (about 100 of some 260 expected
    // prison links found at this seed; issue 4's accuracy work): its status
    // indicator can only miss people, never invent them. Everything else is
    // compared row for row.
    let working = |rows: &[Expected]| rows.iter().filter(|r| r.6 == Some(true)).count();
    let (got_working, want_working) = (working(&got), working(&want));
    assert!(
        got_working <= want_working,
        "in work on day 60: published {got_working}, ground truth {want_working}"
    );
    let mask = |rows: Vec<Expected>| -> Vec<Expected> {
        let mut rows: Vec<Expected> = rows
            .into_iter()
            .map(|mut r| {
                r.6 = r.6.map(|_| false);
                r
            })
            .collect();
        rows.sort();
        rows
    };
    let (got, want) = (mask(got), mask(want));
    if got != want {
        let (mut extra, mut missing) = (got.clone(), want.clone());
        for w in &want {
            if let Some(i) = extra.iter().position(|g| g == w) {
                extra.remove(i);
            }
        }
        for g in &got {
            if let Some(i) = missing.iter().position(|w| w == g) {
                missing.remove(i);
            }
        }
        panic!(
            "published cohort rows differ from the ground truth: {} published rows not expected, {} expected rows missing\npublished: {:?}\nexpected: {:?}",
            extra.len(),
            missing.len(),
            &extra[..extra.len().min(8)],
            &missing[..missing.len().min(8)]
        );
    }

    // The report's counts (exact here: min_cell 1, rounded to 1) equal the truth's.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("outcomes.json")).expect("report"))
            .expect("json");
    let ind = &report["indicators"][0];
    assert_eq!(ind["name"], "reoffended_6m");
    for (g, group) in ["participant", "comparison"].iter().enumerate() {
        let rows: Vec<&Expected> = want.iter().filter(|w| w.0 == *group).collect();
        let yes = rows.iter().filter(|w| w.3 == Some(true)).count() as u64;
        let den = rows.iter().filter(|w| w.3.is_some()).count() as u64;
        let published = &ind["groups"][g];
        assert_eq!(published["group"], *group);
        assert_eq!(published["numerator"]["value"], yes);
        assert_eq!(published["denominator"]["value"], den);
        assert_eq!(published["persons"]["value"], rows.len() as u64);
    }
    let page = std::fs::read_to_string(out.join("outcomes.html")).expect("page");
    assert!(page.contains("<svg") && page.contains("reoffended_6m"));

    // The independent reader: schema, rows, and every interval recomputed.
    if let Some(python) = crate::support::python_with(&["pyarrow"]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/cohort_check.py");
        let run = Command::new(python)
            .arg(script)
            .arg(out.join("cohort.parquet"))
            .arg(out.join("outcomes.json"))
            .arg(want.len().to_string())
            .arg(SCHEMA)
            .output()
            .expect("python runs");
        assert!(
            run.status.success(),
            "cohort_check.py failed:\n{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        eprintln!("{}", String::from_utf8_lossy(&run.stdout));
    }
}

/// Every published count of a report, in document order.
fn published_counts(report: &serde_json::Value) -> Vec<u64> {
    fn walk(v: &serde_json::Value, out: &mut Vec<u64>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x.as_u64()) {
                        ("value", Some(n)) => out.push(n),
                        _ => walk(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut values = Vec::new();
    walk(report, &mut values);
    values
}

fn read_report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("outcomes.json")).expect("report"))
        .expect("json")
}

/// Issue 17: the default disclosure method is the cell-key method: counts
/// within 2 of the truth and never small, the method described in
/// `outcomes.json`, and a run repeated on the same uploads republishes
/// every figure identically (the same people, the same record keys).
#[test]
fn default_disclosure_perturbs_consistently_and_a_bad_definition_is_refused_by_name() {
    let s = setup(10, Disclosure::CellKey);
    let out = run_and_download(&s, "outputs");
    let report = read_report(&out);
    let values = published_counts(&report);
    assert!(values.len() > 20, "{values:?}");
    assert!(values.iter().all(|v| *v == 0 || *v >= 10), "{values:?}");
    assert!(
        values.iter().any(|v| v % 5 != 0),
        "counts are no longer rounded to 5: {values:?}"
    );
    let disclosure = &report["disclosure"];
    assert_eq!(disclosure["method"], "cell_key", "{disclosure}");
    assert_eq!(disclosure["key_range"], 256, "{disclosure}");
    assert_eq!(disclosure["max_perturbation"], 2, "{disclosure}");
    assert_eq!(disclosure["totals_additive"], false, "{disclosure}");
    assert!(
        disclosure["statement"]
            .as_str()
            .is_some_and(|t| t.contains("totals need not equal the sum of their parts")),
        "{disclosure}"
    );
    // Within the p-table's bound of the ground truth (reoffending: the
    // police extract links exactly on the clean profile).
    let want = expected(&s.truth);
    let ind = &report["indicators"][0];
    assert_eq!(ind["name"], "reoffended_6m");
    for group in ["participant", "comparison"] {
        let rows: Vec<&Expected> = want.iter().filter(|w| w.0 == group).collect();
        let yes = rows.iter().filter(|w| w.3 == Some(true)).count() as u64;
        let den = rows.iter().filter(|w| w.3.is_some()).count() as u64;
        // Under matching a whole group may be withheld so that the few
        // people the matching left out cannot be worked out (issue 18).
        let Some(published) = ind["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["group"] == group))
        else {
            continue;
        };
        for (field, truth) in [
            ("numerator", yes),
            ("denominator", den),
            ("persons", rows.len() as u64),
        ] {
            if let Some(v) = published[field]["value"].as_u64() {
                assert!(
                    v.abs_diff(truth) <= 2,
                    "{group} {field}: published {v}, truth {truth}"
                );
            }
        }
    }

    // The same uploads again (a manual run is forced): every figure the
    // same, only the run and its time differ.
    let again = read_report(&run_and_download(&s, "again"));
    assert_ne!(
        report["run_id"], again["run_id"],
        "a second run was published"
    );
    let figures = |r: &serde_json::Value| {
        let mut r = r.clone();
        let o = r.as_object_mut().expect("a report is an object");
        o.remove("run_id");
        o.remove("created_at");
        r
    };
    assert_eq!(
        figures(&report),
        figures(&again),
        "an unchanged run republished different figures"
    );

    // Changing the project to name an attribute the partners never declared
    // is refused, naming the dataset and the column.
    let root = s.dir.path();
    let text = std::fs::read_to_string(root.join("project.toml"))
        .expect("config")
        .replace(
            "date = \"offence_date\"\nwindow = [1, 182]",
            "date = \"arrest_date\"\nwindow = [1, 182]",
        );
    write(root, "bad.toml", &text);
    let run = linker_cli(
        &s.data,
        &[
            "admin",
            "update-project",
            "--config",
            root.join("bad.toml").to_str().expect("utf-8"),
        ],
    )
    .fails();
    assert!(
        run.all().contains("`police_offences`") && run.all().contains("`arrest_date`"),
        "{}",
        run.all()
    );
    let bad_method = text.replace("method = \"cell_key\"", "method = \"noise\"");
    write(root, "bad-method.toml", &bad_method);
    let run = linker_cli(
        &s.data,
        &[
            "admin",
            "update-project",
            "--config",
            root.join("bad-method.toml").to_str().expect("utf-8"),
        ],
    )
    .fails();
    assert!(
        run.all().contains("disclosure.method `noise`") && run.all().contains("`cell_key`"),
        "{}",
        run.all()
    );
    let text = text.replace("dataset = \"employment_outcomes\"", "dataset = \"housing\"");
    write(root, "bad2.toml", &text);
    let run = linker_cli(
        &s.data,
        &[
            "admin",
            "create-project",
            "--config",
            root.join("bad2.toml").to_str().expect("utf-8"),
        ],
    )
    .fails();
    assert!(run.all().contains("`housing`"), "{}", run.all());
}

/// A cohort under `min_cohort` gets neither a report nor its record-level
/// file (issue 17): `outcomes.json` says why, and no `cohort.parquet` is
/// published or downloadable.
#[test]
fn a_cohort_under_min_cohort_publishes_no_record_level_file() {
    let s = setup(10, Disclosure::CellKey);
    let root = s.dir.path();
    let text = std::fs::read_to_string(root.join("project.toml"))
        .expect("config")
        .replace("min_cohort = 60", "min_cohort = 100000");
    write(root, "small.toml", &text);
    linker_cli(
        &s.data,
        &[
            "admin",
            "update-project",
            "--config",
            root.join("small.toml").to_str().expect("utf-8"),
        ],
    )
    .ok();
    let out = run_and_download(&s, "small");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("outcomes.json")).expect("report"))
            .expect("json");
    assert!(
        report["withheld"]
            .as_str()
            .is_some_and(|w| w.contains("smaller than the minimum of 100000")),
        "{report}"
    );
    assert!(
        !out.join("cohort.parquet").exists(),
        "no cohort.parquet below min_cohort"
    );
    let linkage = download(&s, &s.analyst, "small-linkage");
    assert!(
        linkage.join("links.parquet").exists(),
        "the linkage outputs are still published"
    );
}

/// Issue 17: no exact date from the partners' files reaches a file an
/// evaluator can download — `cohort.parquet`, `outcomes.json`,
/// `outcomes.html`, `report.json`, `model.json` — and `links.parquet` is
/// not an evaluator's at all; the linkage analyst's `links.parquet` carries
/// its dates to the month. Only a project that asks for day precision gets
/// exact dates (which shows the check would see them).
#[test]
fn no_exact_date_reaches_an_evaluator_unless_the_project_asks() {
    let s = setup(10, Disclosure::CellKey);
    let root = s.dir.path();
    let exact = exact_input_dates(s.dir.path());
    assert!(
        exact.len() > 500,
        "the extracts hold exact dates: {}",
        exact.len()
    );

    let out = run_and_download(&s, "outputs");
    let evaluator_files = files_in(&out);
    let names: Vec<String> = evaluator_files
        .iter()
        .map(|p| {
            p.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "cohort.parquet",
            "model.json",
            "outcomes.html",
            "outcomes.json",
            "report.json"
        ],
        "what an evaluator downloads"
    );
    for file in &evaluator_files {
        let found = exact_dates_in(file, &exact);
        assert!(
            found.is_empty(),
            "{} holds exact input dates: {:?}",
            file.display(),
            &found[..found.len().min(5)]
        );
    }
    // links.parquet asked for directly with the evaluator's token: refused.
    let (status, body) = get(&s, &s.evaluator, "/v1/projects/pl/outputs/links.parquet");
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains(
            "links.parquet is a record-level linkage-quality file for linkage-analyst tokens"
        ),
        "{body}"
    );
    let (status, listing) = get(&s, &s.evaluator, "/v1/projects/pl/outputs");
    assert_eq!(status, 200, "{listing}");
    assert!(!listing.contains("links.parquet"), "{listing}");
    // The linkage analyst's links.parquet: dates to the month, only the
    // selected attributes; and no cohort file for that role.
    let linkage = download(&s, &s.analyst, "linkage");
    let links = linkage.join("links.parquet");
    let found = exact_dates_in(&links, &exact);
    assert!(
        found.is_empty(),
        "links.parquet holds exact dates: {found:?}"
    );
    let (batches, _) = read_parquet(&links);
    let columns: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        columns,
        [
            "person_id",
            "dataset",
            "match_probability",
            "match_rule",
            "release_date",
            "release_type",
            "offence_date",
            "outcome_date"
        ]
    );
    assert!(!linkage.join("cohort.parquet").exists());
    let (status, body) = get(&s, &s.analyst, "/v1/projects/pl/outputs/cohort.parquet");
    assert_eq!(status, 403, "{body}");

    // A project that asks for exact dates gets them (so the check sees them).
    let text = std::fs::read_to_string(root.join("project.toml"))
        .expect("config")
        .replace("date_precision = \"month\"", "date_precision = \"day\"");
    write(root, "exact.toml", &text);
    let path = root.join("exact.toml");
    linker_cli(
        &s.data,
        &[
            "admin",
            "update-project",
            "--config",
            path.to_str().expect("utf-8"),
        ],
    )
    .ok();
    let out = run_and_download(&s, "exact");
    assert!(
        !exact_dates_in(&out.join("cohort.parquet"), &exact).is_empty(),
        "with date_precision = \"day\" the cohort's index dates are exact"
    );
    let linkage = download(&s, &s.analyst, "exact-linkage");
    assert!(!exact_dates_in(&linkage.join("links.parquet"), &exact).is_empty());
}

/// Every date attribute value of the partners' token files that is not the
/// first of a month (those are what coarsening gives), the as-of date or
/// the days of this test's run (the outputs are dated by when they were
/// made), as days since 1970-01-01.
fn exact_input_dates(root: &Path) -> std::collections::HashSet<i32> {
    let as_of = date(AS_OF).expect("as_of");
    let today = chrono::Utc::now().date_naive();
    let run_days = [
        today.pred_opt().expect("a day before"),
        today,
        today.succ_opt().expect("a day after"),
    ];
    let mut out = std::collections::HashSet::new();
    for (d, _) in DATASETS {
        let (batches, _) = read_parquet(&root.join(format!("{d}.parquet")));
        for b in &batches {
            for column in b.columns() {
                if column.data_type() != &arrow_schema::DataType::Date32 {
                    continue;
                }
                let dates = column.as_primitive::<Date32Type>();
                for i in (0..dates.len()).filter(|&i| dates.is_valid(i)) {
                    let day = dates.value_as_date(i).expect("a date");
                    if day.day() != 1 && day != as_of && !run_days.contains(&day) {
                        out.insert(dates.value(i));
                    }
                }
            }
        }
    }
    out
}

/// The exact dates of `exact` that `file` holds: in a Parquet file, as a
/// date value or as text in a string value; in a text file, as text.
fn exact_dates_in(file: &Path, exact: &std::collections::HashSet<i32>) -> Vec<String> {
    let iso = |d: i32| {
        (NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(d.into()))
            .to_string()
    };
    let texts: Vec<String> = exact.iter().map(|&d| iso(d)).collect();
    let mut found = Vec::new();
    let search_text = |text: &str, found: &mut Vec<String>| {
        for t in &texts {
            if text.contains(t.as_str()) {
                found.push(t.clone());
            }
        }
    };
    if file.extension().is_some_and(|e| e == "parquet") {
        let (batches, _) = read_parquet(file);
        for b in &batches {
            for column in b.columns() {
                match column.data_type() {
                    arrow_schema::DataType::Date32 => {
                        let dates = column.as_primitive::<Date32Type>();
                        for i in (0..dates.len()).filter(|&i| dates.is_valid(i)) {
                            if exact.contains(&dates.value(i)) {
                                found.push(iso(dates.value(i)));
                            }
                        }
                    }
                    arrow_schema::DataType::Utf8 => {
                        let strings = column.as_string::<i32>();
                        let all: String = strings.iter().flatten().collect::<Vec<_>>().join("\n");
                        search_text(&all, &mut found);
                    }
                    _ => {}
                }
            }
        }
    } else {
        let text = std::fs::read_to_string(file).expect("a text file");
        search_text(&text, &mut found);
    }
    found.sort();
    found.dedup();
    found
}

/// The files in a folder, sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the folder lists")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    files
}

/// A GET with the token in `token`: the status and the body.
fn get(s: &Setup, token: &Path, path: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token = std::fs::read_to_string(token).expect("a token file");
    let mut response = agent
        .get(&format!("{}{path}", s.server.url))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .call()
        .expect("the server answers");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// No token, record reference or Bloom encoding of the uploaded files
/// appears, as bytes or as hex, in any published file (cohort outputs
/// included).
fn no_token_is_published(s: &Setup, out: &Path, files: usize) {
    let root = s.dir.path();
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for (d, _) in DATASETS {
        let (batches, _) = read_parquet(&root.join(format!("{d}.parquet")));
        let schema = batches[0].schema();
        for field in schema.fields().iter().filter(|f| {
            f.name() == "record_ref" || f.name().starts_with("mk_") || f.name() == "bloom"
        }) {
            secrets.extend(binary_column(&batches, field.name()).into_iter().flatten());
        }
    }
    assert!(secrets.len() > 1_000, "the token files hold tokens");
    let mut published = std::fs::read_dir(out)
        .expect("the download folder lists")
        .map(|e| e.expect("an entry").path())
        .collect::<Vec<_>>();
    published.sort();
    assert!(
        published.len() >= files,
        "every output was downloaded: {published:?}"
    );
    // Every window of a secret's length, as bytes and as lower-case hex,
    // looked up in a set: linear in the published bytes.
    let lengths: std::collections::BTreeSet<usize> = secrets.iter().map(Vec::len).collect();
    let raw: std::collections::HashSet<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    let hex: std::collections::HashSet<Vec<u8>> = secrets
        .iter()
        .map(|t| {
            t.iter()
                .flat_map(|b| format!("{b:02x}").into_bytes())
                .collect()
        })
        .collect();
    // The check finds a planted token, in either form.
    let planted: Vec<u8> = [b"x".as_slice(), &secrets[0], b"y"].concat();
    let planted_hex: Vec<u8> = secrets[7]
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    assert!(planted.windows(secrets[0].len()).any(|w| raw.contains(w)));
    assert!(
        planted_hex
            .windows(2 * secrets[7].len())
            .any(|w| hex.contains(w))
    );
    for path in published {
        let bytes = std::fs::read(&path).expect("a published file reads");
        let name = path.display();
        for &len in &lengths {
            assert!(
                !bytes.windows(len).any(|w| raw.contains(w)),
                "a token's bytes are in {name}"
            );
            assert!(
                !bytes.windows(2 * len).any(|w| hex.contains(w)),
                "a token's hex is in {name}"
            );
        }
    }
}
