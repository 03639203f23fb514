//! Opt-out and erasure (issue 17), end to end with the real binaries: a
//! partner turns a file of its own record ids into a deletion list
//! (`pprl-client deletion-list`), sends it (`pprl-client erase`), and the
//! next run's outputs no longer hold the person's records — nor do the runs
//! after a re-upload that still contains them — until an administrator
//! revokes the list. The audit log records each erasure by counts, never by
//! reference; malformed lists are refused by line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;

use crate::support::{
    POLICE_CONFIG, Project, Server, client, linker_cli, read_parquet, serve, token_text, write,
};

const SEED: u64 = 5;
const PEOPLE: usize = 30;

/// (dataset, person id) of each row of links.parquet, in file order.
fn rows(links: &Path) -> Vec<(String, String)> {
    let (batches, _) = read_parquet(links);
    let mut out = Vec::new();
    for b in &batches {
        let person = b.column_by_name("person_id").expect("person_id");
        let dataset = b.column_by_name("dataset").expect("dataset");
        let (person, dataset) = (person.as_string::<i32>(), dataset.as_string::<i32>());
        for i in 0..b.num_rows() {
            out.push((dataset.value(i).to_owned(), person.value(i).to_owned()));
        }
    }
    out
}

fn run(project: &Project, args: &[&str]) -> String {
    let mut all = vec!["run", "--project", "pl"];
    all.extend_from_slice(args);
    linker_cli(&project.data, &all).ok().stdout
}

/// The analyst's download of the latest publication.
fn links(project: &Project, server: &Server, dir: &str) -> Vec<(String, String)> {
    let out = project.root().join(dir);
    client(
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
            project.analyst_token.to_str().expect("utf-8"),
        ],
        None,
    )
    .ok();
    rows(&out.join("links.parquet"))
}

/// `pprl-client deletion-list` for the ids in `ids` (written to a file).
fn deletion_list(project: &Project, dataset: &str, ids: &str, name: &str) -> PathBuf {
    let ids_file = write(project.root(), &format!("{name}.ids"), ids);
    let run = client(
        project.root(),
        &[
            "deletion-list",
            "--key-file",
            "key.txt",
            "--dataset",
            dataset,
            "--ids",
            ids_file.to_str().expect("utf-8"),
            "--output",
            name,
        ],
        None,
    )
    .ok();
    assert!(
        run.stdout.contains("no record id is in it"),
        "{}",
        run.stdout
    );
    project.root().join(name)
}

fn erase(project: &Project, server: &Server, dataset: &str, token: &Path, list: &Path) -> String {
    client(
        project.root(),
        &[
            "erase",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--dataset",
            dataset,
            "--token-file",
            token.to_str().expect("utf-8"),
            list.to_str().expect("utf-8"),
        ],
        None,
    )
    .ok()
    .stdout
}

/// A raw POST of a deletion list: the status and the body.
fn post(server: &Server, token: &Path, dataset: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!(
            "{}/v1/projects/pl/datasets/{dataset}/erasures",
            server.url
        ))
        .header("Authorization", &format!("Bearer {}", token_text(token)))
        .send(body)
        .expect("the server answers");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn an_erased_person_leaves_every_later_output_until_the_list_is_revoked() {
    let project = Project::new();
    let root = project.root();
    write(root, "police.toml", POLICE_CONFIG);
    let server = serve(&project.data, &[]);
    // The same people in both datasets: probation ids P5-i, police ids PC-i.
    let probation = project.tokenise("probation.parquet", PEOPLE as u64, SEED);
    let police = project.tokenise_extract("police.toml", "PC-", SEED, PEOPLE, "police.parquet");
    let (probation_dataset, police_dataset) = ("probation_caseload", "police_offences");
    project
        .upload(
            &server.url,
            probation_dataset,
            &project.partner_token,
            &probation,
        )
        .ok();
    project
        .upload(
            &server.url,
            police_dataset,
            &project.other_partner_token,
            &police,
        )
        .ok();
    run(&project, &[]);
    let before = links(&project, &server, "before");
    assert_eq!(before.len(), 2 * PEOPLE);
    // Probation row 3 is the person to erase; the police row of the same
    // person links to it.
    let erased_person = before
        .iter()
        .filter(|(d, _)| d == probation_dataset)
        .nth(3)
        .expect("a fourth probation row")
        .1
        .clone();
    assert_eq!(
        before.iter().filter(|(_, p)| *p == erased_person).count(),
        2,
        "the person has a record in each dataset"
    );

    // The probation partner's deletion list: made from its record id, which
    // is in no argument and not in the list.
    let list = deletion_list(
        &project,
        probation_dataset,
        "P5-3\n\n",
        "probation.deletions",
    );
    let text = std::fs::read_to_string(&list).expect("the list");
    assert!(!text.contains("P5-3"), "{text}");
    let refs: Vec<String> = text.lines().skip(3).map(str::to_owned).collect();
    assert_eq!(refs.len(), 1, "{text}");
    let said = erase(
        &project,
        &server,
        probation_dataset,
        &project.partner_token,
        &list,
    );
    assert!(
        said.contains("1 record references (1 new), 1 matched records of version 1"),
        "{said}"
    );
    // The police record of the same person, erased by an administrator.
    let list = deletion_list(&project, police_dataset, "PC-3\n", "police.deletions");
    let said = erase(
        &project,
        &server,
        police_dataset,
        &project.admin_token,
        &list,
    );
    assert!(said.contains("1 matched records of version 1"), "{said}");

    // Who may not: an evaluator, a linkage analyst, another dataset's partner.
    let body = std::fs::read(&list).expect("the list");
    for (token, dataset) in [
        (&project.evaluator_token, police_dataset),
        (&project.analyst_token, police_dataset),
        (&project.partner_token, police_dataset),
    ] {
        let (status, answer) = post(&server, token, dataset, &body);
        assert_eq!(status, 403, "{answer}");
    }
    // Malformed lists are refused by line, without their text, at the
    // client and at the linker.
    let bad = format!("{}PR-SECRET-9\n", String::from_utf8_lossy(&body));
    let (status, answer) = post(
        &server,
        &project.admin_token,
        police_dataset,
        bad.as_bytes(),
    );
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer.contains("line 5 is not a record reference (32 hexadecimal digits)"),
        "{answer}"
    );
    assert!(!answer.contains("PR-SECRET-9"), "{answer}");
    let bad_file = write(root, "bad.deletions", &bad);
    let refused = client(
        root,
        &[
            "erase",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--dataset",
            police_dataset,
            "--token-file",
            project.admin_token.to_str().expect("utf-8"),
            bad_file.to_str().expect("utf-8"),
        ],
        None,
    )
    .fails();
    assert!(refused.stderr.contains("line 5"), "{}", refused.stderr);
    let (status, answer) = post(&server, &project.partner_token, probation_dataset, &body);
    assert_eq!(status, 422, "a police list sent for probation: {answer}");
    assert!(
        answer.contains("is for dataset `police_offences`"),
        "{answer}"
    );

    // The next run (a deletion list is something new for `--if-new`)
    // leaves both records out of everything it publishes.
    let printed = run(&project, &["--if-new"]);
    assert!(
        printed.contains("2 records erased by deletion lists were left out"),
        "{printed}"
    );
    let after = links(&project, &server, "after");
    assert_eq!(after.len(), 2 * PEOPLE - 2);
    assert!(!after.iter().any(|(_, p)| *p == erased_person));
    let report = std::fs::read_to_string(root.join("after/report.json")).expect("report");
    let report: serde_json::Value = serde_json::from_str(&report).expect("JSON");
    assert_eq!(report["persons"], PEOPLE - 1);
    for name in ["report.json", "model.json"] {
        let text = std::fs::read_to_string(root.join("after").join(name)).expect("a file");
        assert!(
            !text.contains(&erased_person),
            "the erased person is in {name}"
        );
    }

    // A later upload that still holds the erased record does not bring it back.
    let again = project.tokenise("probation2.parquet", PEOPLE as u64 + 1, SEED);
    project
        .upload(
            &server.url,
            probation_dataset,
            &project.partner_token,
            &again,
        )
        .ok();
    run(&project, &[]);
    let reuploaded = links(&project, &server, "reuploaded");
    assert_eq!(
        reuploaded.len(),
        2 * PEOPLE - 1,
        "31 - 1 probation, 30 - 1 police"
    );
    let persons: HashSet<&String> = reuploaded.iter().map(|(_, p)| p).collect();
    assert!(!persons.contains(&erased_person));
    assert_eq!(persons.len(), PEOPLE, "29 kept people and one new one");

    // The audit log: who, what, how many; never a reference or an id.
    let audit = linker_cli(&project.data, &["admin", "audit", "--limit", "200"])
        .ok()
        .stdout;
    assert!(
        audit.contains("erase\tok\tpl/probation_caseload\tdeletion list 1: 1 record references (1 new), 1 matched records of version 1"),
        "{audit}"
    );
    assert!(
        audit.contains("erase\tok\tpl/police_offences\tdeletion list 2"),
        "{audit}"
    );
    assert!(audit.contains("erase\trefused"), "{audit}");
    assert!(
        audit.contains("(2 erased records left out by deletion lists)"),
        "{audit}"
    );
    for secret in refs
        .iter()
        .map(String::as_str)
        .chain(["P5-3", "PC-3", "PR-SECRET-9"])
    {
        assert!(!audit.contains(secret), "{secret} in the audit log");
    }
    let lists = linker_cli(
        &project.data,
        &["admin", "list-deletion-lists", "--project", "pl"],
    )
    .ok()
    .stdout;
    assert!(
        lists.starts_with("list 1\tprobation_caseload\t1 refs (1 new)"),
        "{lists}"
    );
    assert!(!lists.contains(&refs[0]), "{lists}");

    // Revoked, the probation list no longer applies: the record is back.
    linker_cli(
        &project.data,
        &[
            "admin",
            "revoke-deletion-list",
            "--project",
            "pl",
            "--id",
            "1",
        ],
    )
    .ok();
    let printed = run(&project, &["--if-new"]);
    assert!(printed.contains("1 records erased"), "{printed}");
    assert_eq!(links(&project, &server, "revoked").len(), 2 * PEOPLE);
}
