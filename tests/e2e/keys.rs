//! Key rotation, end to end (issue 16): after the project's key changes, a
//! run whose datasets are not all on the new key waits and names the
//! datasets still on the old one; it never links across key spaces. Once
//! every partner has re-tokenised with the new key and uploaded, runs go
//! through again.

use std::path::{Path, PathBuf};

use crate::support::{
    POLICE_CONFIG, Project, admin_request, client, keygen, linker_cli, serve, token_text, write,
};

/// Tokenises the extract `csv` (already under the project's root) with the
/// key file and partner config given, to `output`.
fn tokenise(root: &Path, key: &str, config: &str, csv: &str, output: &str) -> PathBuf {
    client(
        root,
        &[
            "tokenise",
            "--key-file",
            key,
            "--config",
            config,
            "--input",
            csv,
            "--output",
            output,
            "--quiet",
        ],
        None,
    )
    .ok();
    root.join(output)
}

#[test]
fn a_run_refuses_datasets_left_on_the_old_key_and_names_them() {
    let project = Project::new();
    let root = project.root().to_path_buf();
    let server = serve(&project.data, &[]);
    let old_fingerprint = project.fingerprint.clone();

    // Both datasets on the project's first key; a run goes through.
    let probation = project.tokenise("probation-1.parquet", 40, 7);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &probation,
        )
        .ok();
    write(&root, "police.toml", POLICE_CONFIG);
    // The police extract: the same people's rows, as `tokenise` wrote them.
    std::fs::copy(
        root.join("probation-1.parquet.csv"),
        root.join("police.csv"),
    )
    .expect("the extract copies");
    let police = tokenise(
        &root,
        "key.txt",
        "police.toml",
        "police.csv",
        "police-1.parquet",
    );
    project
        .upload(
            &server.url,
            "police_offences",
            &project.other_partner_token,
            &police,
        )
        .ok();
    let first = linker_cli(&project.data, &["run", "--project", "pl"]).ok();
    assert!(first.stdout.contains("run 1 published"), "{}", first.all());

    // The administrator rotates the key; probation re-tokenises and uploads.
    std::fs::create_dir_all(root.join("new")).expect("a folder for the new key");
    let new_fingerprint = keygen(&root.join("new"));
    assert_ne!(new_fingerprint, old_fingerprint);
    let config = std::fs::read_to_string(root.join("project.toml"))
        .expect("the project config reads")
        .replace(&old_fingerprint, &new_fingerprint);
    write(&root, "project.toml", &config);
    linker_cli(
        &project.data,
        &[
            "admin",
            "update-project",
            "--config",
            root.join("project.toml").to_str().expect("utf-8 path"),
        ],
    )
    .ok();
    // A file made with the old key is refused at upload now.
    let stale_upload = project
        .upload(
            &server.url,
            "police_offences",
            &project.other_partner_token,
            &police,
        )
        .fails();
    assert!(
        stale_upload.all().contains(&old_fingerprint),
        "{}",
        stale_upload.all()
    );
    // A file whose key file names another key id than the list's is refused.
    let new_key = std::fs::read_to_string(root.join("new/key.txt")).expect("the new key reads");
    write(&root, "new/key-3.txt", format!("pprl-key-id:3\n{new_key}"));
    let wrong_id = tokenise(
        &root,
        "new/key-3.txt",
        "police.toml",
        "police.csv",
        "police-3.parquet",
    );
    let refused = project
        .upload(
            &server.url,
            "police_offences",
            &project.other_partner_token,
            &wrong_id,
        )
        .fails();
    assert!(
        refused.all().contains("names key id 3") && refused.all().contains("is key 2"),
        "{}",
        refused.all()
    );
    // The key list is an administrator's.
    let (status, keys) = admin_request(&server, &project, "GET", "/v1/projects/pl/keys");
    assert_eq!(status, 200, "{keys}");
    let states: Vec<(u64, &str)> = keys
        .as_array()
        .expect("a key list")
        .iter()
        .map(|k| {
            (
                k["key_id"].as_u64().expect("an id"),
                k["state"].as_str().expect("a state"),
            )
        })
        .collect();
    assert_eq!(states, [(1, "retiring"), (2, "current")], "{keys}");
    for token in [&project.partner_token, &project.evaluator_token] {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .get(&format!("{}/v1/projects/pl/keys", server.url))
            .header("Authorization", &format!("Bearer {}", token_text(token)))
            .call()
            .expect("the server answers");
        assert_eq!(response.status().as_u16(), 403);
    }
    let probation = tokenise(
        &root,
        "new/key.txt",
        "partner.toml",
        "probation-1.parquet.csv",
        "probation-2.parquet",
    );
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &probation,
        )
        .ok();

    // police_offences is still on the old key: the run waits, naming it.
    let mixed = linker_cli(&project.data, &["run", "--project", "pl"]).ok();
    let said = mixed.all();
    assert!(
        said.contains("`police_offences` (version 1, key "),
        "{said}"
    );
    assert!(said.contains(&old_fingerprint), "{said}");
    assert!(said.contains(&new_fingerprint), "{said}");
    assert!(
        !said.contains("`probation_caseload`"),
        "only the stale dataset is named: {said}"
    );
    assert!(
        said.contains("never links records tokenised with different keys"),
        "{said}"
    );
    assert!(said.contains("run 2 waiting, nothing linked"), "{said}");
    let runs = linker_cli(&project.data, &["admin", "list-runs", "--project", "pl"]).ok();
    assert!(runs.stdout.contains("\twaiting\t"), "{}", runs.stdout);
    assert!(!runs.stdout.contains("failed"), "{}", runs.stdout);
    // The rotation through update-project is in the key list.
    let keys = linker_cli(&project.data, &["admin", "list-keys", "--project", "pl"]).ok();
    assert!(
        keys.stdout
            .contains(&format!("key 1\t{old_fingerprint}\tretiring\t"))
            && keys
                .stdout
                .contains(&format!("key 2\t{new_fingerprint}\tcurrent\t")),
        "{}",
        keys.stdout
    );

    // Once police has re-tokenised too, the project runs again.
    let police = tokenise(
        &root,
        "new/key.txt",
        "police.toml",
        "police.csv",
        "police-2.parquet",
    );
    project
        .upload(
            &server.url,
            "police_offences",
            &project.other_partner_token,
            &police,
        )
        .ok();
    let last = linker_cli(&project.data, &["run", "--project", "pl"]).ok();
    assert!(last.stdout.contains("run 3 published"), "{}", last.all());
}
