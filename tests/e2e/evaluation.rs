//! Issue 18, "an evaluation an analyst would trust", end to end: the cohort
//! test's four partners, a project with a participation window, prior
//! offences as a covariate, a look-back indicator, a baseline and a
//! time-to-event indicator. The published participants must follow the
//! window rule (against the generator's ground truth), and an independent
//! reference (`propensity_check.py`, statsmodels) must refit the propensity
//! model and redo the matching from `cohort.parquet` and agree with
//! `outcomes.json`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use chrono::NaiveDate;

use crate::cohort::{run_and_download, setup_with};
use crate::support::read_parquet;

const SECTIONS: &str = r#"
[cohort]
index_dataset = "prison_releases"
index_date = "release_date"
participants_dataset = "probation_caseload"
participants_flag = "participant"
attributes = ["release_type", "sentence_days", "establishment"]
as_of = "2024-10-31"

[cohort.participation]
date = "supervision_start"
window = [0, 1]

[cohort.comparison]
covariates = ["sentence_days", "establishment", "release_type"]
caliper = 0.2

[[cohort.comparison.prior]]
name = "prior_offences"
dataset = "police_offences"
date = "offence_date"
window = [-730, -1]

[[outcomes]]
name = "reoffended_6m"
label = "Proven offence within six months of release"
kind = "any_event"
dataset = "police_offences"
date = "offence_date"
window = [1, 182]
baseline = true

[[outcomes]]
name = "offended_year_before"
kind = "any_event"
dataset = "police_offences"
date = "offence_date"
window = [-365, -1]

[[outcomes]]
name = "days_to_offence"
kind = "time_to_first"
dataset = "police_offences"
date = "offence_date"
window = [1, 120]

[disclosure]
min_cell = 5
min_cohort = 60
"#;

/// A date of the truth: ISO for `*_date` attributes, else as the
/// probation extract writes it (day/month/year).
fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

#[test]
fn issue_18_matched_evaluation_agrees_with_a_python_reference_and_the_page_renders() {
    let s = setup_with(SECTIONS);
    let out = run_and_download(&s, "outputs");
    // A copy under target/ to look at (and rerun the reference on) after the test.
    let keep = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-evaluation");
    std::fs::create_dir_all(&keep).expect("the kept outputs' folder");
    for name in ["cohort.parquet", "outcomes.json", "outcomes.html"] {
        std::fs::copy(out.join(name), keep.join(name)).expect("a copy of the output");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("outcomes.json")).expect("report"))
            .expect("json");

    // Participants under the window rule, from the ground truth: flagged
    // and supervised from the release day or the day after.
    let mut index: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for (person, row) in &s.truth["prison_releases"] {
        if let Some(d) = date(&row["release_date"]) {
            let e = index.entry(person).or_insert(d);
            *e = (*e).min(d);
        }
    }
    let mut probation: HashMap<&str, Vec<&HashMap<String, String>>> = HashMap::new();
    for (p, r) in &s.truth["probation_caseload"] {
        probation.entry(p.as_str()).or_default().push(r);
    }
    let (mut windowed, mut ever) = (0, 0);
    for (person, t0) in &index {
        let rows = probation.get(person).map(Vec::as_slice).unwrap_or_default();
        let flagged: Vec<_> = rows.iter().filter(|r| r["participant"] == "Y").collect();
        ever += usize::from(!flagged.is_empty());
        windowed += usize::from(flagged.iter().any(|r| {
            date(&r["supervision_start"]).is_some_and(|d| (0..=1).contains(&(d - *t0).num_days()))
        }));
    }
    let (batches, _) = read_parquet(&out.join("cohort.parquet"));
    let participants: usize = batches
        .iter()
        .map(|b| {
            let g = b.column_by_name("group").expect("group").as_string::<i32>();
            (0..g.len())
                .filter(|&i| g.value(i) == "participant")
                .count()
        })
        .sum();
    assert!(
        windowed > 50 && windowed < ever,
        "the window leaves some flagged people out: {windowed} of {ever}"
    );
    // The probation extract links all but a rare record on the clean
    // profile (a borderline pair can fall either side of the threshold).
    assert!(
        participants.abs_diff(windowed) <= 1 + windowed / 100,
        "participants under the window rule: published {participants}, ground truth {windowed} (ever linked: {ever})"
    );
    let rule = &report["participation"];
    assert_eq!(rule["rule"], "window", "{rule}");
    assert_eq!(rule["window"], serde_json::json!([0, 1]), "{rule}");

    // The comparison: matched, with the prior counts as a covariate.
    let comparison = &report["comparison"];
    assert_eq!(comparison["method"], "matched", "{comparison}");
    assert_eq!(comparison["model"]["converged"], true, "{comparison}");
    let terms: Vec<&str> = comparison["model"]["coefficients"]
        .as_array()
        .expect("coefficients")
        .iter()
        .filter_map(|c| c["term"].as_str())
        .collect();
    assert!(
        terms.contains(&"prior_offences") && terms.contains(&"sentence_days"),
        "{terms:?}"
    );
    assert!(
        terms.iter().any(|t| t.starts_with("establishment=")),
        "{terms:?}"
    );
    let ind = &report["indicators"][0];
    assert_eq!(ind["compared_with"], "matched_comparison", "{ind}");
    // Most six-month windows are still open on the as-of date, so that
    // indicator's small counts may be withheld; the look-back one has
    // closed for nearly everyone.
    assert!(
        report["indicators"][1]["difference"]["estimate"]["test"]["p_value"].is_f64(),
        "the matched groups are compared: {}",
        report["indicators"][1]
    );
    let curves = report["indicators"][2]["survival"]
        .as_array()
        .unwrap_or_else(|| panic!("Kaplan–Meier curves: {}", report["indicators"][2]));
    assert!(
        curves.iter().any(|c| c["group"] == "matched_comparison"),
        "{curves:?}"
    );
    assert_eq!(
        ind["baseline"]["window"],
        serde_json::json!([-182, -1]),
        "{ind}"
    );
    let look_back = &report["indicators"][1];
    let rate = look_back["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["group"] == "matched_participant"))
        .and_then(|g| g["rate"]["estimate"].as_f64())
        .unwrap_or_else(|| panic!("a look-back rate: {look_back}"));
    assert!(
        rate > 0.0,
        "offences in the year before release are counted: {look_back}"
    );

    // The independent reference.
    if let Some(python) = crate::support::python_with(&["pyarrow", "pandas", "statsmodels"]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/propensity_check.py");
        let run = Command::new(python)
            .arg(script)
            .arg(out.join("cohort.parquet"))
            .arg(out.join("outcomes.json"))
            .output()
            .expect("python runs");
        assert!(
            run.status.success(),
            "propensity_check.py failed:\n{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        eprintln!("{}", String::from_utf8_lossy(&run.stdout));
    }

    // The page, rendered by headless Chromium: a screenshot, and the text.
    if let Some(chromium) = chromium() {
        let page = out.join("outcomes.html");
        let png = keep.join("outcomes.png");
        let _ = std::fs::remove_file(&png);
        let url = format!("file://{}", page.display());
        let profile = tempfile::tempdir().expect("a profile folder");
        render(
            &chromium,
            profile.path(),
            &[&format!("--screenshot={}", png.display()), &url],
        );
        let bytes = std::fs::read(&png).expect("chromium wrote the screenshot");
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "a real screenshot: {} bytes",
            bytes.len()
        );
        eprintln!("screenshot of outcomes.html: {}", png.display());
        let dom = render(&chromium, profile.path(), &["--dump-dom", &url]);
        for needle in [
            "For every 100 matched participants",
            "statistically significant at the 5% level",
            "Balance of the matched comparison",
            "<td>sentence_days</td>",
            "<td>prior_offences</td>",
            "Kaplan–Meier",
            "Who is a participant.",
            "from the index date to 1 day after the index date",
        ] {
            assert!(
                dom.contains(needle),
                "the rendered page lacks {needle:?}:\n{dom}"
            );
        }
    }
}

/// Headless Chromium, or `None` (with why) outside CI when it is missing.
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have /usr/bin/chromium for the page check; .ci/run installs it (apt-get install -y chromium)"
    );
    eprintln!(
        "NOTICE: /usr/bin/chromium is missing; skipping the rendered-page check. Install with: apt-get install -y chromium"
    );
    None
}

/// Runs headless Chromium with `args` (killed after two minutes) and
/// returns its standard output.
fn render(chromium: &Path, profile: &Path, args: &[&str]) -> String {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).expect("chromium's output");
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait().expect("waiting for chromium") {
            Some(status) => {
                assert!(status.success(), "chromium failed: {status}");
                break;
            }
            None if Instant::now() > deadline => {
                child.kill().expect("chromium killed");
                panic!("chromium did not finish within two minutes");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    reader.join().expect("the reader thread")
}
