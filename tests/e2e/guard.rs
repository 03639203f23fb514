//! The guard before publishing (issue 15), end to end: a run whose linkage
//! moves sharply from the last publication, or whose estimated recall is
//! implausible, is recorded `held` with its reasons and not published (the
//! previous publication stays the one downloaded); `admin list-runs`, the
//! API and the audit log say why; `--accept` (or `accept=true`) publishes it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    POLICE_CONFIG, Project, Server, admin_request, client, linker_cli, serve, write,
};

/// Tokenises people `0..rows` of one population with `config` into `name`.
fn tokenise(project: &Project, config: &str, prefix: &str, rows: usize, name: &str) -> PathBuf {
    project.tokenise_extract(config, prefix, 15, rows, name)
}

/// Probation: 400 people; police: the first `police` of them.
fn upload(project: &Project, server: &Server, police: usize, tag: &str) {
    write(project.root(), "police.toml", POLICE_CONFIG);
    let probation = tokenise(project, "partner.toml", "PR", 400, "probation.parquet");
    let name = format!("police-{tag}.parquet");
    let police = tokenise(project, "police.toml", "PC", police, &name);
    for (dataset, token, file) in [
        ("probation_caseload", &project.partner_token, &probation),
        ("police_offences", &project.other_partner_token, &police),
    ] {
        project.upload(&server.url, dataset, token, file).ok();
    }
}

/// A request with the administrator token.
fn admin(server: &Server, project: &Project, method: &str, path: &str) -> (u16, Value) {
    admin_request(server, project, method, path)
}

/// The runs as the API lists them, newest first.
fn runs(server: &Server, project: &Project) -> Vec<Value> {
    let (status, view) = admin(server, project, "GET", "/v1/projects/pl/runs");
    assert_eq!(status, 200, "{view}");
    view["runs"].as_array().expect("a list of runs").clone()
}

/// Downloads the latest publication as the evaluator; its report.json, or
/// `None` when the download is refused.
fn download(project: &Project, server: &Server, dir: &str) -> Option<Value> {
    let out = project.root().join(dir);
    let run = client(
        project.root(),
        &[
            "download",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--output-dir",
            out.to_str().expect("utf-8"),
            "--token-file",
            project.evaluator_token.to_str().expect("utf-8 path"),
        ],
        None,
    );
    if !run.status.success() {
        return None;
    }
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    Some(serde_json::from_str(&text).expect("report.json is JSON"))
}

/// Declares the probation caseload one record per person. The extracts
/// carry no national number and their population has twins at one address:
/// a pair of twins of one initial agrees on `initial_family_dob_sex` or
/// `soundex_initial_dob`, which the cascade links and the model may
/// (nothing in these extracts tells them from one person). These tests are
/// about the guard, so the caseload's rule keeps twins apart.
fn one_record_per_person(project: &Project) {
    let path = project.root().join("project.toml");
    let config = std::fs::read_to_string(&path).expect("the project config");
    let declared = "name = \"probation_caseload\"\npartner = \"probation\"\n";
    assert!(config.contains(declared), "{config}");
    let config = config.replace(
        declared,
        &format!("{declared}one_record_per_person = true\n"),
    );
    std::fs::write(&path, config).expect("writes");
    cli(
        project,
        &[
            "admin",
            "update-project",
            "--config",
            path.to_str().expect("utf-8"),
        ],
    );
}

fn cli(project: &Project, args: &[&str]) -> String {
    linker_cli(&project.data, args).ok().stdout
}

fn audit(project: &Project) -> String {
    cli(project, &["admin", "audit", "--limit", "200"])
}

#[test]
fn issue_15_a_sharp_move_is_held_until_an_administrator_accepts_it() {
    let project = Project::new();
    one_record_per_person(&project);
    let server = serve(&project.data, &[]);
    upload(&project, &server, 300, "full");
    let first = cli(&project, &["run", "--project", "pl"]);
    assert!(first.contains("run 1 published"), "{first}");
    let report = download(&project, &server, "run1").expect("run 1 is published");
    assert_eq!(report["run_id"], 1);
    assert_eq!(report["overlaps"][0]["persons"], 300, "{report:#}");
    // The field report: each dataset's identifier kinds, counts only.
    let fields = &report["datasets"][0]["fields"];
    assert_eq!(fields["family_name"]["present"], 400, "{report:#}");
    assert_eq!(fields["date_of_birth"]["missing"], 0, "{report:#}");
    assert_eq!(report["datasets"][1]["linked_records"], 300, "{report:#}");

    // The police re-upload most of their rows short: the overlap collapses.
    upload(&project, &server, 60, "short");
    let held = cli(&project, &["run", "--project", "pl"]);
    let reason =
        "overlap probation_caseload & police_offences moved from 300 to 60 (-80%; max_change 20%)";
    assert!(held.contains("run 2 held by the guard"), "{held}");
    assert!(held.contains(reason), "{held}");
    assert!(
        held.contains("match rate of probation_caseload moved from 75.0% to 15.0%"),
        "{held}"
    );
    let report = download(&project, &server, "after-hold").expect("run 1 is still published");
    assert_eq!(
        report["run_id"], 1,
        "the previous publication stays the latest"
    );

    let listed = cli(&project, &["admin", "list-runs", "--project", "pl"]);
    let line = listed
        .lines()
        .find(|l| l.starts_with("run 2\t"))
        .unwrap_or_else(|| panic!("run 2 listed: {listed}"));
    assert!(line.contains("\theld\t"), "{line}");
    assert!(line.contains("held: ") && line.contains(reason), "{line}");
    let api = runs(&server, &project);
    assert_eq!(api[0]["status"], "held", "{api:#?}");
    let reasons = api[0]["guard"].as_array().expect("the reasons");
    assert!(reasons.iter().any(|r| r == reason), "{reasons:?}");
    let log = audit(&project);
    assert!(
        log.lines()
            .any(|l| l.contains("\trun\theld\t") && l.contains(reason)),
        "{log}"
    );

    // Held inputs are not linked again unless asked: the schedule's rule.
    let again = cli(&project, &["run", "--project", "pl", "--if-new"]);
    assert!(again.contains("nothing to do"), "{again}");

    let accepted = cli(&project, &["run", "--project", "pl", "--accept"]);
    assert!(accepted.contains("accepted over the guard"), "{accepted}");
    assert!(accepted.contains("run 3 published"), "{accepted}");
    let report = download(&project, &server, "run3").expect("run 3 is published");
    assert_eq!(report["run_id"], 3);
    assert_eq!(report["overlaps"][0]["persons"], 60);
    let log = audit(&project);
    assert!(
        log.lines()
            .any(|l| l.contains("\tguard_override\tok\t") && l.contains(reason)),
        "{log}"
    );
    let listed = cli(&project, &["admin", "list-runs", "--project", "pl"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("run 3\tsucceeded") && l.contains("accepted over the guard")),
        "{listed}"
    );
}

#[test]
fn issue_15_an_implausible_estimated_recall_is_held_and_the_api_can_accept_it() {
    let project = Project::new();
    one_record_per_person(&project);
    let path = project.root().join("project.toml");
    let mut config = std::fs::read_to_string(&path).expect("the project config");
    config.push_str("\n[linkage.guard]\nmin_estimated_recall = 1.0\n");
    std::fs::write(&path, config).expect("writes");
    cli(
        &project,
        &[
            "admin",
            "update-project",
            "--config",
            path.to_str().expect("utf-8"),
        ],
    );
    let server = serve(&project.data, &[]);
    upload(&project, &server, 300, "full");

    let wait = |id: &Value| -> Value {
        let start = Instant::now();
        loop {
            let run = runs(&server, &project)
                .into_iter()
                .find(|r| &r["id"] == id)
                .expect("the run is listed");
            if run["status"] != "running" {
                return run;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "{run}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let (status, started) = admin(&server, &project, "POST", "/v1/projects/pl/runs");
    assert_eq!(status, 202, "{started}");
    let run = wait(&started["run_id"]);
    assert_eq!(run["status"], "held", "{run:#}");
    let reasons = run["guard"].as_array().expect("the reasons");
    assert!(
        reasons.iter().any(|r| r
            .as_str()
            .is_some_and(|r| r.contains("is below min_estimated_recall 1"))),
        "{reasons:?}"
    );
    assert!(
        download(&project, &server, "none").is_none(),
        "nothing is published"
    );

    let (status, started) = admin(
        &server,
        &project,
        "POST",
        "/v1/projects/pl/runs?accept=true",
    );
    assert_eq!(status, 202, "{started}");
    let run = wait(&started["run_id"]);
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let report = download(&project, &server, "accepted").expect("published on accept");
    assert_eq!(report["run_id"], run["id"]);
    assert!(audit(&project).contains("guard_override"));
}
