//! Linkage runs end to end: upload two partners' token files, run linkage,
//! download the linkage outputs as a linkage analyst (the project publishes
//! `links.parquet` to that role only), and check persons, stability and
//! that nothing published holds a token or a record reference.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;

use crate::support::{
    Project, Server, binary_column, client, hex_lower, linker_cli, read_parquet, serve, write,
};

const POLICE_CONFIG: &str = "dataset = \"police_offences\"\n\n[identifiers]\nrecord_id = \"ref\"\ngiven_names = \"first\"\nfamily_name = \"last\"\ndate_of_birth = \"born\"\nsex = \"gender\"\npostcode = \"post_code\"\n\n[[attributes]]\nname = \"offence_date\"\ntype = \"date\"\n";

/// People `from..to` as probation rows and as police rows (spelled differently).
fn extracts(from: usize, to: usize) -> (String, String) {
    let mut probation = String::from("id,forename,surname,dob,sex,postcode\n");
    let mut police = String::from("ref,first,last,born,gender,post_code,offence_date\n");
    let given = [
        "John", "Mary", "Seán", "Peter", "Aisha", "Tom", "Zoë", "Liam",
    ];
    let family = [
        "Smith", "O'Neil", "Khan", "Nowak", "Wright", "Brown", "Müller", "Evans",
    ];
    for i in from..to {
        let (g, f) = (
            given[i % given.len()],
            family[(i / given.len()) % family.len()],
        );
        let (day, month, year) = (1 + i % 28, 1 + (i / 28) % 12, 1960 + i % 40);
        let postcode = format!("M{} {}AB", 1 + i % 9, i % 10);
        probation.push_str(&format!(
            "PR{i},{g},{f},{day:02}/{month:02}/{year},M,{postcode}\n"
        ));
        if i % 2 == 0 {
            // half the people also have a police record, spelled differently
            let g = g.to_uppercase();
            let f = f.to_lowercase();
            police.push_str(&format!(
                "PC-{i},{g},{f},{year}-{month:02}-{day:02},male,{},2025-0{}-15\n",
                postcode.replace(' ', ""),
                1 + i % 9
            ));
        }
    }
    (probation, police)
}

struct Setup {
    project: Project,
    server: Server,
}

fn setup(people: usize) -> Setup {
    let project = Project::new();
    let root = project.root();
    write(root, "police.toml", POLICE_CONFIG);
    let (probation, police) = extracts(0, people);
    write(root, "probation.csv", probation);
    write(root, "police.csv", police);
    tokenise(root, "partner.toml", "probation.csv", "probation.parquet");
    tokenise(root, "police.toml", "police.csv", "police.parquet");
    let server = serve(&project.data, &[]);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &root.join("probation.parquet"),
        )
        .ok();
    project
        .upload(
            &server.url,
            "police_offences",
            &project.other_partner_token,
            &root.join("police.parquet"),
        )
        .ok();
    Setup { project, server }
}

fn tokenise(root: &Path, config: &str, input: &str, output: &str) {
    client(
        root,
        &[
            "tokenise",
            "--key-file",
            "key.txt",
            "--config",
            config,
            "--input",
            input,
            "--output",
            output,
            "--quiet",
        ],
        None,
    )
    .ok();
}

fn run(project: &Project) -> String {
    linker_cli(&project.data, &["run", "--project", "pl"])
        .ok()
        .stdout
}

fn download(setup: &Setup, dir: &str) -> PathBuf {
    let out = setup.project.root().join(dir);
    let token = setup.project.analyst_token.to_str().expect("utf-8 path");
    client(
        setup.project.root(),
        &[
            "download",
            "--server",
            &setup.server.url,
            "--project",
            "pl",
            "--output-dir",
            out.to_str().expect("utf-8"),
            "--token-file",
            token,
        ],
        None,
    )
    .ok();
    out
}

/// person id of each (dataset, row) in links.parquet, in file order.
fn persons(links: &Path) -> Vec<(String, String)> {
    let (batches, _) = read_parquet(links);
    let mut out = Vec::new();
    for b in &batches {
        let person = b
            .column_by_name("person_id")
            .expect("person_id")
            .as_string::<i32>();
        let dataset = b
            .column_by_name("dataset")
            .expect("dataset")
            .as_string::<i32>();
        for i in 0..b.num_rows() {
            out.push((dataset.value(i).to_owned(), person.value(i).to_owned()));
        }
    }
    out
}

#[test]
fn a_run_links_partners_and_publishes_nothing_identifying() {
    let setup = setup(60);
    let printed = run(&setup.project);
    assert!(
        printed.contains("run 1 published: 90 records, 60 persons"),
        "{printed}"
    );
    let out = download(&setup, "outputs");
    for name in ["links.parquet", "report.json", "model.json"] {
        assert!(out.join(name).is_file(), "{name} downloaded");
    }
    let rows = persons(&out.join("links.parquet"));
    assert_eq!(rows.len(), 90);
    // Probation row i and police row i/2 are the same person for even i.
    let probation: Vec<&String> = rows
        .iter()
        .filter(|(d, _)| d == "probation_caseload")
        .map(|(_, p)| p)
        .collect();
    let police: Vec<&String> = rows
        .iter()
        .filter(|(d, _)| d == "police_offences")
        .map(|(_, p)| p)
        .collect();
    for (j, p) in police.iter().enumerate() {
        assert_eq!(
            *p,
            probation[2 * j],
            "police row {j} links to probation row {}",
            2 * j
        );
    }
    let distinct: HashSet<&String> = probation.iter().copied().collect();
    assert_eq!(distinct.len(), 60, "no two probation people merged");

    // No token and no record reference appears in any published file.
    let root = setup.project.root();
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for file in ["probation.parquet", "police.parquet"] {
        let (batches, _) = read_parquet(&root.join(file));
        let schema = batches[0].schema();
        for field in schema.fields().iter().filter(|f| {
            f.name() == "record_ref" || f.name().starts_with("mk_") || f.name() == "bloom"
        }) {
            secrets.extend(binary_column(&batches, field.name()).into_iter().flatten());
        }
    }
    assert!(
        secrets.len() >= 90 * 10,
        "every record has a reference, name keys and an encoding"
    );
    for name in ["links.parquet", "report.json", "model.json"] {
        let bytes = std::fs::read(out.join(name)).expect("published file");
        for secret in &secrets {
            let hex = hex_lower(secret);
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
                "a token's bytes are in {name}"
            );
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&hex),
                "a token's hex is in {name}"
            );
        }
        for id in ["PR1", "PC-2", "Smith", "SMITH"] {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&format!("\"{id}\"")),
                "{id} in {name}"
            );
        }
    }
    let (batches, _) = read_parquet(&out.join("links.parquet"));
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
            "offence_date"
        ]
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("json");
    assert_eq!(report["persons"], 60);
    assert_eq!(report["overlaps"][0]["persons"], 30);
    assert!(
        report["stats"]["estimated_precision"]
            .as_f64()
            .expect("a number")
            > 0.9
    );
}

#[test]
fn identifiers_are_stable_across_runs_and_new_records() {
    let setup = setup(40);
    run(&setup.project);
    let first = persons(&download(&setup, "run1").join("links.parquet"));
    run(&setup.project);
    let second = persons(&download(&setup, "run2").join("links.parquet"));
    assert_eq!(first, second, "unchanged inputs give identical identifiers");

    // A month later: the same people plus 20 new ones.
    let root = setup.project.root();
    let (probation, police) = extracts(0, 60);
    write(root, "probation2.csv", probation);
    write(root, "police2.csv", police);
    tokenise(root, "partner.toml", "probation2.csv", "probation2.parquet");
    tokenise(root, "police.toml", "police2.csv", "police2.parquet");
    setup
        .project
        .upload(
            &setup.server.url,
            "probation_caseload",
            &setup.project.partner_token,
            &root.join("probation2.parquet"),
        )
        .ok();
    setup
        .project
        .upload(
            &setup.server.url,
            "police_offences",
            &setup.project.other_partner_token,
            &root.join("police2.parquet"),
        )
        .ok();
    let printed = run(&setup.project);
    assert!(
        printed.contains("20 new persons, 0 merges, 0 splits"),
        "{printed}"
    );
    let third = persons(&download(&setup, "run3").join("links.parquet"));
    let before: HashMap<usize, &String> = first
        .iter()
        .filter(|(d, _)| d == "probation_caseload")
        .map(|(_, p)| p)
        .enumerate()
        .collect();
    let after: Vec<&String> = third
        .iter()
        .filter(|(d, _)| d == "probation_caseload")
        .map(|(_, p)| p)
        .collect();
    for (i, id) in &before {
        assert_eq!(
            after[*i], *id,
            "person of probation row {i} kept its identifier"
        );
    }
}

/// Between two runs the police record PC-0 is corrected: it was filed under
/// person 0 (probation PR0) and now holds person 1's identifiers (PR1, who
/// had no police record). Person 0's identifier splits (PR0 keeps it alone,
/// PC-0 leaves), and PC-0 brings it into person 1's cluster, a merge: both
/// must be recorded in the run's summary and in report.json's `changes`.
#[test]
fn a_merge_and_a_split_between_runs_are_recorded() {
    let setup = setup(40);
    let printed = run(&setup.project);
    assert!(printed.contains("0 merges, 0 splits"), "{printed}");
    let first = persons(&download(&setup, "run1").join("links.parquet"));
    let id = |rows: &[(String, String)], dataset: &str, n: usize| -> String {
        rows.iter()
            .filter(|(d, _)| d == dataset)
            .nth(n)
            .map(|(_, p)| p.clone())
            .expect("a row")
    };
    let (x, y) = (
        id(&first, "probation_caseload", 0),
        id(&first, "probation_caseload", 1),
    );
    assert_eq!(id(&first, "police_offences", 0), x, "PC-0 is person 0");
    assert_ne!(x, y);

    let root = setup.project.root();
    let (_, police) = extracts(0, 40);
    let mut lines: Vec<String> = police.lines().map(str::to_owned).collect();
    assert!(
        lines[1].starts_with("PC-0,JOHN,smith,1960-01-01,"),
        "{}",
        lines[1]
    );
    // Person 1 as the police spell people (see `extracts`): Mary Smith, 2/1/1961, M2 1AB.
    lines[1] = "PC-0,MARY,smith,1961-01-02,male,M21AB,2025-02-15".to_owned();
    write(root, "police2.csv", lines.join("\n") + "\n");
    tokenise(root, "police.toml", "police2.csv", "police2.parquet");
    setup
        .project
        .upload(
            &setup.server.url,
            "police_offences",
            &setup.project.other_partner_token,
            &root.join("police2.parquet"),
        )
        .ok();
    let printed = run(&setup.project);
    assert!(printed.contains("1 merges, 1 splits"), "{printed}");

    let out = download(&setup, "run2");
    let second = persons(&out.join("links.parquet"));
    assert_eq!(
        id(&second, "police_offences", 0),
        id(&second, "probation_caseload", 1),
        "PC-0 is now person 1"
    );
    assert_ne!(
        id(&second, "probation_caseload", 0),
        id(&second, "probation_caseload", 1)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("json");
    let changes = &report["changes"];
    let merges = changes["merges"].as_array().expect("merges");
    assert_eq!(merges.len(), 1, "{changes}");
    let mut merged: Vec<&str> = merges[0]["absorbed"]
        .as_array()
        .expect("absorbed")
        .iter()
        .map(|v| v.as_str().expect("an id"))
        .collect();
    merged.push(merges[0]["kept"].as_str().expect("kept"));
    merged.sort_unstable();
    let mut expected = vec![x.as_str(), y.as_str()];
    expected.sort_unstable();
    assert_eq!(merged, expected, "{changes}");
    let splits = changes["splits"].as_array().expect("splits");
    assert_eq!(splits.len(), 1, "{changes}");
    assert_eq!(splits[0]["kept"], x.as_str(), "{changes}");
    assert_eq!(
        splits[0]["parts"].as_array().map(Vec::len),
        Some(1),
        "{changes}"
    );
    assert_eq!(changes["persons_before"], 40);
    assert_eq!(changes["persons_after"], 40);
}

/// A JSON request with the administrator token.
fn admin_call(setup: &Setup, method: &str, path: &str) -> (u16, serde_json::Value) {
    let token = crate::support::token_text(&setup.project.admin_token);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", setup.server.url);
    let auth = format!("Bearer {token}");
    let mut response = match method {
        "POST" => agent.post(&url).header("Authorization", &auth).send_empty(),
        _ => agent.get(&url).header("Authorization", &auth).call(),
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("text");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

#[test]
fn runs_started_through_the_api_can_be_followed_and_failures_keep_the_last_publication() {
    let setup = setup(20);
    let (status, started) = admin_call(&setup, "POST", "/v1/projects/pl/runs");
    assert_eq!(status, 202, "{started}");
    let run_id = started["run_id"].as_u64().expect("a run id");
    let mut state = serde_json::Value::Null;
    for _ in 0..600 {
        let (status, run) = admin_call(&setup, "GET", &format!("/v1/projects/pl/runs/{run_id}"));
        assert_eq!(status, 200, "{run}");
        state = run;
        if state["status"] != "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(state["status"], "succeeded", "{state}");
    let before = std::fs::read(download(&setup, "ok").join("links.parquet")).expect("links");

    // Break the next run: the stored token file of one dataset disappears.
    for blob in walk(&setup.project.data.join("blobs")) {
        std::fs::remove_file(blob).expect("blob removable");
    }
    let failed = linker_cli(&setup.project.data, &["run", "--project", "pl"]).fails();
    assert!(
        failed.stderr.contains("cannot load dataset"),
        "{}",
        failed.stderr
    );
    let after = std::fs::read(download(&setup, "after").join("links.parquet")).expect("links");
    assert_eq!(
        before, after,
        "the previous publication is still the latest"
    );
    let (_, run) = admin_call(
        &setup,
        "GET",
        &format!("/v1/projects/pl/runs/{}", run_id + 1),
    );
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .expect("an error")
            .contains("cannot load dataset")
    );
    // Partners may not read outputs.
    let token = setup.project.partner_token.to_str().expect("utf-8");
    let out = setup.project.root().join("partner-out");
    let refused = client(
        setup.project.root(),
        &[
            "download",
            "--server",
            &setup.server.url,
            "--project",
            "pl",
            "--output-dir",
            out.to_str().expect("utf-8"),
            "--token-file",
            token,
        ],
        None,
    )
    .fails();
    assert!(
        refused.stderr.contains("403 forbidden"),
        "{}",
        refused.stderr
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
