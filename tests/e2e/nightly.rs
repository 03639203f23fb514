//! Nightly runs end to end (issue 5): a real `pprl-linker serve` with a
//! schedule in seconds runs a project once after an upload, not again until a
//! new version arrives, retries a failed run with back-off and reports it,
//! never overlaps two runs of a project, and a server killed mid-run leaves
//! the previous publication in place and the run marked failed.

use std::path::Path;
use std::time::{Duration, Instant};

use pprl_linker::service::{Actor, Linker};
use pprl_linker::settings::{Overrides, Settings, SettingsFile};
use serde_json::Value;

use crate::support::{
    Project, Server, blob_path, linker_cli, serve, stored_checksum, write_rekeyed,
};

/// Longest wait for something the scheduler should do within seconds.
const PATIENCE: Duration = Duration::from_secs(90);

/// Gives project `pl` a schedule (updating its config in the data folder).
fn schedule(project: &Project, table: &str) {
    let path = project.root().join("project.toml");
    let mut config = std::fs::read_to_string(&path).expect("the project config is readable");
    config.push_str(&format!("\n[schedule]\n{table}\n"));
    std::fs::write(&path, config).expect("the project config writes");
    linker_cli(
        &project.data,
        &[
            "admin",
            "update-project",
            "--config",
            path.to_str().expect("utf-8 path"),
        ],
    )
    .ok();
}

/// A request with the administrator token.
fn admin(server: &Server, project: &Project, method: &str, path: &str) -> (u16, Value) {
    crate::support::admin_request(server, project, method, path)
}

/// The project's runs, newest first, as the API lists them.
fn runs(server: &Server, project: &Project) -> Vec<Value> {
    let (status, view) = admin(server, project, "GET", "/v1/projects/pl/runs");
    assert_eq!(status, 200, "{view}");
    view["runs"].as_array().expect("a list of runs").clone()
}

/// Polls the runs until `done` holds; panics with the last list after [`PATIENCE`].
fn wait_for(
    server: &Server,
    project: &Project,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let list = runs(server, project);
        if done(&list) {
            return list;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "waited {PATIENCE:?} for {what}; runs: {list:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(list: &[Value], status: &str) -> usize {
    list.iter().filter(|r| r["status"] == status).count()
}

/// The newest audit entries' details for one action, newest first.
fn audit(server: &Server, project: &Project, action: &str) -> Vec<String> {
    let (status, log) = admin(server, project, "GET", "/v1/audit?limit=1000");
    assert_eq!(status, 200, "{log}");
    log.as_array()
        .expect("a list of events")
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| format!("{} {}", e["outcome"], e["detail"]))
        .collect()
}

fn upload(project: &Project, server: &Server, file: &Path) {
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            file,
        )
        .ok();
}

/// Uploads `file` with a corrupt blob planted where the linker will keep it,
/// as a disk fault would leave it: the upload is checked and accepted (the
/// check reads the staged copy), but a run cannot load the dataset.
fn upload_with_corrupt_blob(project: &Project, server: &Server, file: &Path) -> String {
    let blob = blob_path(&project.data, &stored_checksum(&project.data, "pl", file).0);
    std::fs::create_dir_all(blob.parent().expect("blobs sit in a folder")).expect("folder");
    std::fs::write(&blob, b"not a parquet file").expect("the corrupt blob writes");
    upload(project, server, file);
    blob.to_str().expect("utf-8 path").to_owned()
}

#[test]
fn a_schedule_runs_on_new_versions_only_and_retries_failed_runs() {
    let project = Project::new();
    schedule(
        &project,
        "cron = \"*/2 * * * * *\"\nmax_attempts = 3\nretry_after_seconds = 3",
    );
    let server = serve(&project.data, &[]);
    let (_, view) = admin(&server, &project, "GET", "/v1/projects/pl/runs");
    assert_eq!(view["schedule"]["cron"], "*/2 * * * * *", "{view}");
    assert!(view["schedule"]["next_due"].is_string(), "{view}");

    // Nothing uploaded: the schedule fires but nothing runs.
    std::thread::sleep(Duration::from_secs(3));
    assert!(runs(&server, &project).is_empty());

    // An upload: one scheduled run, which records the version it used.
    upload(&project, &server, &project.tokenise("v1.parquet", 40, 1));
    let list = wait_for(&server, &project, "the first scheduled run", |l| {
        count(l, "succeeded") == 1
    });
    assert_eq!(list[0]["started_by"], "schedule");
    assert_eq!(list[0]["attempt"], 1);
    assert_eq!(list[0]["inputs"]["probation_caseload"], 1);

    // No new version: the schedule fires at least twice more, nothing runs.
    std::thread::sleep(Duration::from_secs(5));
    let list = runs(&server, &project);
    assert_eq!(list.len(), 1, "{list:#?}");
    let (_, view) = admin(&server, &project, "GET", "/v1/projects/pl/runs");
    assert_eq!(view["new_versions"], false, "{view}");

    // A new version: one more run.
    upload(&project, &server, &project.tokenise("v2.parquet", 40, 2));
    let list = wait_for(&server, &project, "the second scheduled run", |l| {
        count(l, "succeeded") == 2
    });
    assert_eq!(list[0]["inputs"]["probation_caseload"], 2);
    assert_eq!(list.len(), 2, "{list:#?}");

    // A run that fails is retried after the back-off, and succeeds once the
    // fault is repaired.
    let v3 = project.tokenise("v3.parquet", 40, 3);
    let blob = upload_with_corrupt_blob(&project, &server, &v3);
    let list = wait_for(&server, &project, "a failed scheduled run", |l| {
        count(l, "failed") == 1
    });
    let failed = &list[0];
    assert_eq!(failed["attempt"], 1, "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .expect("an error")
            .contains("cannot load dataset `probation_caseload`"),
        "{failed}"
    );
    let repaired = format!("{blob}.repaired");
    write_rekeyed(&project.data, "pl", &v3, Path::new(&repaired));
    std::fs::rename(&repaired, &blob).expect("the blob is repaired");
    let list = wait_for(&server, &project, "the retry", |l| {
        count(l, "succeeded") == 3
    });
    assert_eq!(list[0]["started_by"], "schedule");
    // The second attempt, unless a slow machine repaired the blob too late for it.
    assert!(list[0]["attempt"].as_u64() >= Some(2), "{list:#?}");
    let failed_before = count(&list, "failed");
    assert_eq!(list[0]["inputs"]["probation_caseload"], 3);
    let published = list[0]["id"].as_u64().expect("a run id");
    let reported = audit(&server, &project, "scheduled_run");
    assert!(
        reported.iter().any(|d| d.contains("failed")
            && d.contains("attempt 1 of 3")
            && d.contains("retrying in 3s")),
        "{reported:#?}"
    );

    // A fault that stays: every attempt fails (the retries after 3 s, then
    // 15 s), the scheduler gives up and says so, the last publication stays.
    upload_with_corrupt_blob(&project, &server, &project.tokenise("v4.parquet", 40, 4));
    let list = wait_for(&server, &project, "three failed attempts", |l| {
        count(l, "failed") == failed_before + 3
    });
    let attempts: Vec<u64> = list[..3]
        .iter()
        .map(|r| r["attempt"].as_u64().expect("attempt"))
        .collect();
    assert_eq!(attempts, [3, 2, 1], "{list:#?}");
    let start = Instant::now();
    loop {
        let reported = audit(&server, &project, "scheduled_run");
        if reported
            .iter()
            .any(|d| d.contains("gave up after 3 attempts"))
        {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "{reported:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, outputs) = admin(&server, &project, "GET", "/v1/projects/pl/outputs");
    assert_eq!(status, 200, "{outputs}");
    assert_eq!(
        outputs["run_id"], published,
        "the last good publication stays"
    );
    // The next due time starts a new series of attempts: the fault may have
    // been repaired by then.
    let list = wait_for(
        &server,
        &project,
        "a new series at the next due time",
        |l| count(l, "failed") == failed_before + 4,
    );
    assert_eq!(list[0]["attempt"], 1, "{list:#?}");
}

#[test]
fn runs_never_overlap_across_the_scheduler_the_api_and_the_cli() {
    let project = Project::new();
    schedule(&project, "cron = \"*/2 * * * * *\"");
    // This test process takes the project's run lock, as `pprl-linker run`
    // in another process would while it links.
    let settings = Settings::resolve(
        SettingsFile::default(),
        Overrides {
            data_dir: Some(project.data.clone()),
            ..Default::default()
        },
    )
    .expect("settings");
    let holder = Linker::open(settings).expect("the data folder opens");
    let held = holder
        .runs()
        .begin_run("pl", &Actor::Cli)
        .expect("the lock is free");

    let server = serve(&project.data, &[]);
    upload(&project, &server, &project.tokenise("v1.parquet", 40, 1));

    // The scheduler finds a new version but the project busy: it starts nothing.
    let start = Instant::now();
    loop {
        let refused = audit(&server, &project, "start_run");
        if refused.iter().any(|d| d.starts_with("\"refused\"")) {
            assert!(
                refused[0].contains(&format!("run {held} of project `pl` is already running")),
                "{refused:#?}"
            );
            break;
        }
        assert!(start.elapsed() < PATIENCE, "{refused:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The API and the one-shot CLI are refused with the run in progress named.
    let (status, body) = admin(&server, &project, "POST", "/v1/projects/pl/runs");
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains(&format!("run {held} of project `pl` is already running")),
        "{message}"
    );
    let cli = linker_cli(&project.data, &["run", "--project", "pl"]).fails();
    assert!(
        cli.stderr.contains("is already running") && cli.stderr.contains("never overlap"),
        "{}",
        cli.stderr
    );
    let list = runs(&server, &project);
    assert_eq!(list.len(), 1, "only the held run exists: {list:#?}");
    // The server's start-up recovery does not take a live process's run.
    assert_eq!(list[0]["status"], "running");

    // Once the lock is released the scheduler runs.
    holder
        .meta
        .finish_run(
            held,
            pprl_linker::ids::RunStatus::Failed,
            "2026-01-01T00:00:00Z",
            Some("released"),
            None,
        )
        .expect("the held run finishes");
    let list = wait_for(&server, &project, "the scheduled run", |l| {
        count(l, "succeeded") == 1
    });
    assert_eq!(list[0]["started_by"], "schedule");

    // Nothing new: the API runs anyway by default (forced), not with force=false.
    let (status, body) = admin(
        &server,
        &project,
        "POST",
        "/v1/projects/pl/runs?force=false",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "skipped", "{body}");
    let skipped = linker_cli(&project.data, &["run", "--project", "pl", "--if-new"]).ok();
    assert!(
        skipped.stdout.contains("nothing to do"),
        "{}",
        skipped.stdout
    );
    let (status, body) = admin(&server, &project, "POST", "/v1/projects/pl/runs");
    assert_eq!(status, 202, "{body}");
}

#[test]
fn a_server_killed_mid_run_keeps_the_last_publication_and_marks_the_run_failed() {
    let project = Project::new();
    let mut server = serve(&project.data, &[]);
    upload(&project, &server, &project.tokenise("v1.parquet", 40, 1));
    let (status, body) = admin(&server, &project, "POST", "/v1/projects/pl/runs");
    assert_eq!(status, 202, "{body}");
    wait_for(&server, &project, "the first run", |l| {
        count(l, "succeeded") == 1
    });
    let (_, before) = admin(&server, &project, "GET", "/v1/projects/pl/outputs");

    // A bigger version, a run, and the server killed while it links.
    upload(
        &project,
        &server,
        &project.tokenise("v2.parquet", 20_000, 2),
    );
    let (status, body) = admin(&server, &project, "POST", "/v1/projects/pl/runs");
    assert_eq!(status, 202, "{body}");
    let interrupted = body["run_id"].as_u64().expect("a run id");
    server.kill();
    let listed = linker_cli(&project.data, &["admin", "list-runs", "--project", "pl"])
        .ok()
        .stdout;
    assert!(
        listed.contains(&format!("run {interrupted}\trunning")),
        "the kill came before the run finished (make the data bigger if not):\n{listed}"
    );

    let server = serve(&project.data, &[]);
    let list = runs(&server, &project);
    assert_eq!(list[0]["id"], interrupted);
    assert_eq!(list[0]["status"], "failed", "{list:#?}");
    assert!(
        list[0]["error"]
            .as_str()
            .expect("an error")
            .contains("interrupted"),
        "{list:#?}"
    );
    let (_, after) = admin(&server, &project, "GET", "/v1/projects/pl/outputs");
    assert_eq!(
        before, after,
        "the previous publication is still the latest"
    );
    let folders: Vec<String> = std::fs::read_dir(project.data.join("publications").join("pl"))
        .expect("the publications folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        folders,
        [before["run_id"].to_string()],
        "unpublished outputs are removed"
    );
    // The project is not left locked. (Accepted: 40 to 20,000 people is the
    // sharp move the guard before publishing holds, issue 15.)
    let (status, body) = admin(
        &server,
        &project,
        "POST",
        "/v1/projects/pl/runs?accept=true",
    );
    assert_eq!(status, 202, "{body}");
    wait_for(&server, &project, "a run after the restart", |l| {
        count(l, "succeeded") == 2
    });
}
