//! `pprl-linker` with `pprl-client`: uploads, refusals, access control,
//! shutdown. Every refusal leaves the stored state as it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::{Project, client, keygen, linker_cli, read_parquet, serve, token_text, write};

/// What a client can observe of the stored state, plus the files on disk.
fn stored_state(project: &Project) -> (Vec<String>, Vec<PathBuf>, usize) {
    let mut blobs: Vec<PathBuf> = walk(&project.data.join("blobs"));
    blobs.sort();
    let staged = std::fs::read_dir(project.data.join("staging"))
        .map(|d| d.count())
        .unwrap_or(0);
    (project.versions(), blobs, staged)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// `plain` sealed to the project's linker key, as `pprl-client upload` sends it.
fn sealed(project: &Project, plain: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plain");
    std::fs::write(&path, plain).expect("write");
    let out = dir.path().join("sealed");
    crate::support::seal_file(&path, &project.linker_key, &out);
    std::fs::read(out).expect("sealed")
}

/// A raw upload request, for refusals the client would not send.
fn raw_upload(
    url: &str,
    dataset: &str,
    token: Option<&str>,
    checksum: &str,
    body: &[u8],
    query: &str,
) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent
        .post(&format!(
            "{url}/v1/projects/pl/datasets/{dataset}/versions{query}"
        ))
        .header("x-pprl-blake3", checksum);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send(body).expect("the server answers");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().expect("a text body"),
    )
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[test]
fn keygen_tokenise_upload_and_the_version_is_listed() {
    let project = Project::new();
    let server = serve(&project.data, &[]);
    let file = project.tokenise("v1.parquet", 200, 1);
    let run = project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file,
        )
        .ok();
    assert!(run.stdout.contains("version 1 (200 rows"), "{}", run.stdout);
    let again = project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file,
        )
        .ok();
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    let file2 = project.tokenise("v2.parquet", 150, 2);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file2,
        )
        .ok();

    let token = project.partner_token.to_str().expect("utf-8");
    let listed = client(
        project.root(),
        &[
            "versions",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--token-file",
            token,
        ],
        None,
    )
    .ok();
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", listed.stdout);
    assert!(
        lines[0].starts_with("probation_caseload\tv1\t200 rows"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("probation_caseload\tv2\t150 rows"),
        "{}",
        lines[1]
    );
    assert!(listed.stdout.contains(&project.fingerprint));
    assert_eq!(project.versions().len(), 2);

    // The stored blob is the uploaded file re-keyed (spec §10.4), under its
    // own checksum, with the partner's manifest unchanged.
    let bytes = std::fs::read(&file).expect("token file");
    let (checksum, size) = crate::support::stored_checksum(&project.data, "pl", &file);
    let stored = project
        .data
        .join("blobs")
        .join(&checksum[..2])
        .join(format!("{checksum}.parquet"));
    let stored_bytes = std::fs::read(&stored).expect("blob stored");
    assert_eq!(stored_bytes.len() as u64, size);
    assert_eq!(blake3_hex(&stored_bytes), checksum);
    assert_ne!(stored_bytes, bytes, "the raw file is not what is stored");
    assert_eq!(
        crate::support::manifest(&stored),
        crate::support::manifest(&file)
    );

    // The audit log records the uploads and never a token secret.
    let audit = linker_cli(&project.data, &["admin", "audit"]).ok().stdout;
    assert!(
        audit.contains("upload\tok\tpl/probation_caseload\tversion 1"),
        "{audit}"
    );
    assert!(
        audit.contains("unchanged: same file as version 1"),
        "{audit}"
    );
    for token in [
        &project.partner_token,
        &project.admin_token,
        &project.evaluator_token,
    ] {
        let text = token_text(token);
        let secret = text.rsplit('_').next().expect("secret part");
        assert!(!audit.contains(secret));
        let tokens = linker_cli(&project.data, &["admin", "list-tokens"])
            .ok()
            .stdout;
        assert!(!tokens.contains(secret));
    }
}

#[test]
fn refusals_leave_the_stored_state_unchanged() {
    let project = Project::new();
    let server = serve(&project.data, &["--max-upload-bytes", "400000"]);
    let good = project.tokenise("good.parquet", 100, 3);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &good,
        )
        .ok();
    let before = stored_state(&project);
    assert_eq!(before.0.len(), 1);
    let partner = token_text(&project.partner_token);
    let check = |what: &str, status: u16, code: &str, result: (u16, String)| {
        assert_eq!(result.0, status, "{what}: {}", result.1);
        assert!(
            result.1.contains(&format!("\"code\":\"{code}\"")),
            "{what}: {}",
            result.1
        );
        assert_eq!(
            stored_state(&project),
            before,
            "{what} changed the stored state"
        );
    };

    // A file made with another key: refused, naming both fingerprints.
    let other = tempfile::tempdir().expect("temp dir");
    let other_fp = keygen(other.path());
    std::fs::copy(
        project.root().join("partner.toml"),
        other.path().join("partner.toml"),
    )
    .expect("copy config");
    std::fs::copy(
        project.root().join("good.parquet.csv"),
        other.path().join("x.csv"),
    )
    .expect("copy extract");
    client(
        other.path(),
        &[
            "tokenise",
            "--key-file",
            "key.txt",
            "--config",
            "partner.toml",
            "--input",
            "x.csv",
            "--output",
            "x.parquet",
        ],
        None,
    )
    .ok();
    let run = project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &other.path().join("x.parquet"),
        )
        .fails();
    assert!(
        run.stderr.contains(&format!(
            "made with key fingerprint {other_fp}, this project expects {}",
            project.fingerprint
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("next step: ask your project administrator for the current key file"),
        "{}",
        run.stderr
    );
    assert_eq!(stored_state(&project), before);

    let bytes = std::fs::read(&good).expect("token file");
    // Another spec version: the manifest rewritten to pprl/v0 (sealed, as
    // the client sends it, so the linker reaches the token file's checks).
    let v0 = sealed(
        &project,
        &rewrite_manifest(&good, |m| m["spec_version"] = "pprl/v0".into()),
    );
    check(
        "spec version",
        422,
        "spec_version",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&partner),
            &blake3_hex(&v0),
            &v0,
            "",
        ),
    );
    // A truncated file, sealed.
    let half = &sealed(&project, &bytes[..bytes.len() / 2]);
    check(
        "truncated",
        422,
        "not_parquet",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&partner),
            &blake3_hex(half),
            half,
            "",
        ),
    );
    // Not Parquet at all.
    let csv = b"id,forename\n1,John\n";
    check(
        "not parquet",
        422,
        "not_parquet",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&partner),
            &blake3_hex(csv),
            csv,
            "",
        ),
    );
    // A checksum that does not match the body.
    check(
        "checksum",
        400,
        "checksum_mismatch",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&partner),
            &blake3_hex(b"other"),
            &bytes,
            "",
        ),
    );
    // A body over the size cap.
    let big = project.tokenise("big.parquet", 3000, 4);
    let big_bytes = std::fs::read(&big).expect("big file");
    assert!(
        big_bytes.len() > 400_000,
        "the big file must exceed the cap: {}",
        big_bytes.len()
    );
    check(
        "size cap",
        413,
        "too_large",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&partner),
            &blake3_hex(&big_bytes),
            &big_bytes,
            "",
        ),
    );
    // A partner uploading another partner's dataset.
    let police = token_text(&project.other_partner_token);
    check(
        "other partner",
        403,
        "forbidden",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&police),
            &blake3_hex(&bytes),
            &bytes,
            "",
        ),
    );
    // A file uploaded as the wrong dataset, by its rightful partner.
    let run = project
        .upload(
            &server.url,
            "police_offences",
            &project.other_partner_token,
            &good,
        )
        .fails();
    assert!(
        run.stderr
            .contains("is a version of dataset `probation_caseload`"),
        "{}",
        run.stderr
    );
    // An evaluator uploading.
    let evaluator = token_text(&project.evaluator_token);
    check(
        "evaluator",
        403,
        "forbidden",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&evaluator),
            &blake3_hex(&bytes),
            &bytes,
            "",
        ),
    );
    // No token, a malformed token, a token in the URL.
    check(
        "no token",
        401,
        "unauthenticated",
        raw_upload(
            &server.url,
            "probation_caseload",
            None,
            &blake3_hex(&bytes),
            &bytes,
            "",
        ),
    );
    check(
        "bad token",
        401,
        "unauthenticated",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some("pprl_x"),
            &blake3_hex(&bytes),
            &bytes,
            "",
        ),
    );
    check(
        "token in url",
        400,
        "token_in_url",
        raw_upload(
            &server.url,
            "probation_caseload",
            None,
            &blake3_hex(&bytes),
            &bytes,
            &format!("?token={partner}"),
        ),
    );
    // A revoked token.
    let id = partner.split('_').nth(1).expect("token id");
    linker_cli(&project.data, &["admin", "revoke-token", id]).ok();
    check(
        "revoked",
        401,
        "unauthenticated",
        raw_upload(
            &server.url,
            "probation_caseload",
            Some(&partner),
            &blake3_hex(&bytes),
            &bytes,
            "",
        ),
    );

    // Every refusal is in the audit log.
    let audit = linker_cli(&project.data, &["admin", "audit", "--limit", "100"])
        .ok()
        .stdout;
    for code in [
        "spec_version",
        "not_parquet",
        "checksum_mismatch",
        "too_large",
        "forbidden",
    ] {
        let logged = audit
            .lines()
            .any(|l| l.contains("\tupload\trefused\tpl/probation_caseload\t") && l.contains(code));
        assert!(
            logged,
            "{code} refusal missing from the audit log:\n{audit}"
        );
    }
    let path = "POST /v1/projects/pl/datasets/probation_caseload/versions";
    for detail in [
        format!("401 unauthenticated: no bearer token on {path}"),
        format!("401 unauthenticated: a malformed token on {path}"),
        format!("401 unauthenticated: token {id} (unknown or revoked) on {path}"),
        format!("400 token_in_url: {path}"),
    ] {
        let logged = audit
            .lines()
            .any(|l| l.contains("\trefused\t") && l.ends_with(&detail));
        assert!(logged, "{detail} missing:\n{audit}");
    }
    let secret = partner
        .rsplit('_')
        .next()
        .expect("a token ends with its secret");
    assert!(
        !audit.contains(secret),
        "a token secret reached the audit log"
    );
}

#[test]
fn a_missing_project_and_a_forbidden_one_look_the_same() {
    let project = Project::new();
    let fp = &project.fingerprint;
    write(
        project.root(),
        "other.toml",
        format!(
            "name = \"other\"\nkey_fingerprint = \"{fp}\"\n[[datasets]]\nname = \"probation_caseload\"\npartner = \"probation\"\n"
        ),
    );
    linker_cli(
        &project.data,
        &[
            "admin",
            "create-project",
            "--config",
            project.root().join("other.toml").to_str().expect("utf-8"),
        ],
    )
    .ok();
    let server = serve(&project.data, &[]);
    let file = project.tokenise("f.parquet", 20, 5);
    let bytes = std::fs::read(&file).expect("file");
    let partner = token_text(&project.partner_token);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let answer = |project: &str| {
        let mut r = agent
            .post(&format!(
                "{}/v1/projects/{project}/datasets/probation_caseload/versions",
                server.url
            ))
            .header("Authorization", &format!("Bearer {partner}"))
            .header("x-pprl-blake3", &blake3_hex(&bytes))
            .send(&bytes[..])
            .expect("answers");
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().expect("text"),
        )
    };
    let forbidden = answer("other");
    let missing = answer("no-such-project");
    assert_eq!(forbidden.0, 404);
    assert_eq!(forbidden, missing);
}

#[test]
fn sigterm_stops_the_server_cleanly_and_data_survives_a_restart() {
    let project = Project::new();
    let mut server = serve(&project.data, &[]);
    let file = project.tokenise("f.parquet", 50, 6);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file,
        )
        .ok();
    let status = server.terminate().expect("the server exits");
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let server = serve(&project.data, &[]);
    let again = project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file,
        )
        .ok();
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    let health = ureq::get(&format!("{}/healthz", server.url))
        .call()
        .expect("healthz answers")
        .body_mut()
        .read_to_string()
        .expect("text");
    assert_eq!(health.trim(), "ok");
}

/// Copies a token file with its manifest changed by `change`.
fn rewrite_manifest(path: &Path, change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (batches, kv) = read_parquet(path);
    let mut manifest: serde_json::Value = serde_json::from_str(
        &kv.iter()
            .find(|(k, _)| k == "pprl.manifest")
            .expect("manifest")
            .1,
    )
    .expect("json");
    change(&mut manifest);
    let mut out = Vec::new();
    let schema = Arc::clone(&batches[0].schema());
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).expect("writer");
    for batch in &batches {
        writer.write(batch).expect("write");
    }
    writer.append_key_value_metadata(parquet::file::metadata::KeyValue::new(
        "pprl.manifest".to_owned(),
        manifest.to_string(),
    ));
    writer.close().expect("close");
    out
}

#[test]
fn retention_keeps_the_newest_versions_and_evaluators_cannot_list_uploads() {
    let project = Project::new();
    let server = serve(&project.data, &["--keep-versions", "2"]);
    let files: Vec<PathBuf> = (0..3)
        .map(|i| project.tokenise(&format!("v{i}.parquet"), 30 + i, 10 + i))
        .collect();
    for file in &files {
        project
            .upload(
                &server.url,
                "probation_caseload",
                &project.partner_token,
                file,
            )
            .ok();
    }
    let versions = project.versions();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(
        versions[0].starts_with("probation_caseload\tv2\t31 rows"),
        "{versions:?}"
    );
    assert!(
        versions[1].starts_with("probation_caseload\tv3\t32 rows"),
        "{versions:?}"
    );
    let first = blake3_hex(&std::fs::read(&files[0]).expect("file"));
    let blobs = walk(&project.data.join("blobs"));
    assert_eq!(
        blobs.len(),
        2,
        "the dropped version's file is deleted: {blobs:?}"
    );
    assert!(!blobs.iter().any(|b| b.to_string_lossy().contains(&first)));

    let token = project.evaluator_token.to_str().expect("utf-8");
    let run = client(
        project.root(),
        &[
            "versions",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--token-file",
            token,
        ],
        None,
    )
    .fails();
    assert!(run.stderr.contains("403 forbidden"), "{}", run.stderr);
}
