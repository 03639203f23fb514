//! Issue 16: token files sealed to the linker, and re-keyed by it before
//! they are stored (spec §10). Each test is one invariant, and fails if it
//! breaks.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pprl_demo::server::Server;
use pprl_linker::linkage::{DatasetInput, LinkageConfig, Records};

use crate::support::{
    POLICE_CONFIG, Project, bin, binary_column, blake3_file, blob_path, client, files_under,
    linker_cli, parse_versions, read_parquet, seal_file, serve, token_text, write,
};

/// Every match-key token of a token file (non-null), as raw bytes.
fn match_key_tokens(file: &Path) -> Vec<Vec<u8>> {
    let (batches, _) = read_parquet(file);
    let schema = batches[0].schema();
    let mut out = Vec::new();
    for field in schema.fields() {
        if field.name().starts_with("mk_") {
            out.extend(binary_column(&batches, field.name()).into_iter().flatten());
        }
    }
    assert!(
        out.len() > 1_000,
        "the file has match-key tokens to look for"
    );
    out
}

/// Whether `haystack` holds any of `needles` (all of one length).
fn holds_any(haystack: &[u8], needles: &HashSet<Vec<u8>>) -> Option<Vec<u8>> {
    let len = needles.iter().next().map_or(0, Vec::len);
    haystack
        .windows(len)
        .find(|w| needles.contains(*w))
        .map(<[u8]>::to_vec)
}

/// The current version's checksum of `dataset`, as the administrator lists it.
fn stored_checksum_of(project: &Project, dataset: &str) -> String {
    let listed = linker_cli(
        &project.data,
        &["admin", "list-versions", "--project", "pl"],
    )
    .ok()
    .stdout;
    parse_versions(&listed)
        .into_iter()
        .rev()
        .find(|v| v.dataset == dataset)
        .unwrap_or_else(|| panic!("a version of {dataset}: {listed}"))
        .checksum
}

#[test]
fn issue_16_a_sealed_file_holds_no_token_bytes_of_the_unsealed_one() {
    let project = Project::new();
    let file = project.tokenise("t.parquet", 2_000, 1601);
    let sealed = pprl_client::seal::seal(
        &file,
        &project.linker_key.parse().expect("the linker key parses"),
    )
    .expect("the client seals");
    let sealed_bytes = std::fs::read(sealed.file.path()).expect("the sealed copy reads");
    assert!(sealed_bytes.starts_with(pprl_specs::sealing::SEALED_PREFIX));
    let (batches, _) = read_parquet(&file);
    let mut tokens: HashSet<Vec<u8>> = match_key_tokens(&file).into_iter().collect();
    tokens.extend(binary_column(&batches, "record_ref").into_iter().flatten());
    assert_eq!(
        holds_any(&sealed_bytes, &tokens),
        None,
        "a sealed file holds no token or record reference of the file it seals"
    );
    let blooms: HashSet<Vec<u8>> = binary_column(&batches, "bloom")
        .into_iter()
        .flatten()
        .map(|b| b[..16].to_vec())
        .collect();
    assert_eq!(holds_any(&sealed_bytes, &blooms), None, "nor any encoding");
    assert!(
        !sealed_bytes
            .windows(b"pprl.manifest".len())
            .any(|w| w == b"pprl.manifest"),
        "nor the manifest"
    );
    // inspect refuses the sealed copy, clearly, and still reads the original.
    let copy = project.root().join("t.parquet.age");
    std::fs::copy(sealed.file.path(), &copy).expect("copy");
    let refused = client(project.root(), &["inspect", "t.parquet.age"], None).fails();
    assert!(
        refused.stderr.contains("is sealed")
            && refused.stderr.contains("only the linker can open it"),
        "{}",
        refused.stderr
    );
    client(project.root(), &["inspect", "t.parquet"], None).ok();
}

#[test]
fn issue_16_the_stored_file_holds_none_of_the_raw_tokens_and_no_raw_copy_persists() {
    let project = Project::new();
    let server = serve(&project.data, &[]);
    let file = project.tokenise("t.parquet", 3_000, 1602);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file,
        )
        .ok();
    let checksum = stored_checksum_of(&project, "probation_caseload");
    let stored = blob_path(&project.data, &checksum);
    assert_ne!(
        checksum,
        blake3_file(&file),
        "the stored file is not the uploaded one"
    );
    let raw: HashSet<Vec<u8>> = match_key_tokens(&file).into_iter().collect();
    // No raw token anywhere under the data folder: not in the stored blob,
    // not in a staging file, not in the database.
    assert!(
        files_under(&project.data.join("staging")).is_empty(),
        "nothing is left in staging"
    );
    for path in files_under(&project.data) {
        let bytes = std::fs::read(&path).expect("a data file reads");
        assert_eq!(
            holds_any(&bytes, &raw),
            None,
            "{} holds a raw match-key token",
            path.display()
        );
    }
    // The stored file is a token file of the same shape: same rows, same
    // record references and encodings, the same nulls, and the same
    // equalities between tokens, under other values.
    let (raw_batches, _) = read_parquet(&file);
    let (stored_batches, metadata) = read_parquet(&stored);
    assert!(metadata.iter().any(|(k, _)| k == "pprl.linker.rekey"));
    for name in ["record_ref", "bloom"] {
        assert_eq!(
            binary_column(&raw_batches, name),
            binary_column(&stored_batches, name),
            "{name} is stored as uploaded"
        );
    }
    let schema = raw_batches[0].schema();
    for field in schema
        .fields()
        .iter()
        .filter(|f| f.name().starts_with("mk_"))
    {
        let before = binary_column(&raw_batches, field.name());
        let after = binary_column(&stored_batches, field.name());
        assert_eq!(before.len(), after.len());
        let mut map = std::collections::HashMap::new();
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(
                b.is_some(),
                a.is_some(),
                "{}: nulls stay null",
                field.name()
            );
            if let (Some(b), Some(a)) = (b, a) {
                assert_ne!(a, b, "{}: every token is re-keyed", field.name());
                let seen = map.entry(b.clone()).or_insert_with(|| a.clone());
                assert_eq!(seen, a, "{}: equal tokens stay equal", field.name());
            }
        }
        let distinct_after: HashSet<_> = map.values().collect();
        assert_eq!(
            map.len(),
            distinct_after.len(),
            "{}: distinct stay distinct",
            field.name()
        );
    }
    // The same file again is the same version: re-keying is deterministic.
    let again = project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file,
        )
        .ok();
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
}

#[test]
fn issue_16_the_linker_refuses_unsealed_files_and_files_sealed_to_another_key() {
    let project = Project::new();
    let server = serve(&project.data, &[]);
    let file = project.tokenise("t.parquet", 500, 1603);
    let body = std::fs::read(&file).expect("reads");
    let (status, text) = post(&server, &project.partner_token, &body);
    assert_eq!(status, 422, "{text}");
    assert!(
        text.contains("\"unsealed\"") && text.contains("sealed to its linker's key"),
        "{text}"
    );

    let other = age::x25519::Identity::generate().to_public().to_string();
    let refused = client(
        project.root(),
        &[
            "upload",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--dataset",
            "probation_caseload",
            "--token-file",
            project.partner_token.to_str().expect("utf-8"),
            "--linker-key",
            &other,
            "t.parquet",
        ],
        None,
    )
    .fails();
    assert!(
        refused
            .stderr
            .contains("sealed to another key than this linker's"),
        "{}",
        refused.stderr
    );
    assert!(project.versions().is_empty(), "nothing was stored");
    assert!(files_under(&project.data.join("blobs")).is_empty());
    assert!(files_under(&project.data.join("staging")).is_empty());

    // A project that allows legacy unsealed uploads takes them, re-keyed.
    let config = std::fs::read_to_string(project.root().join("project.toml")).expect("reads");
    write(
        project.root(),
        "project.toml",
        format!("allow_unsealed_uploads = true\n{config}"),
    );
    linker_cli(
        &project.data,
        &[
            "admin",
            "update-project",
            "--config",
            project.root().join("project.toml").to_str().expect("utf-8"),
        ],
    )
    .ok();
    let (status, text) = post(&server, &project.partner_token, &body);
    assert_eq!(status, 201, "{text}");
    let checksum = stored_checksum_of(&project, "probation_caseload");
    assert_ne!(checksum, blake3_file(&file), "stored re-keyed");
}

#[test]
fn issue_16_upload_sends_nothing_without_a_pinned_key_or_with_a_wrong_fingerprint() {
    let project = Project::new();
    let server = serve(&project.data, &[]);
    project.tokenise("t.parquet", 200, 1604);
    let upload = |extra: &[&str]| {
        let mut args = vec![
            "upload",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--dataset",
            "probation_caseload",
            "--token-file",
            project.partner_token.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        args.push("t.parquet");
        client(project.root(), &args, None)
    };
    let fingerprint = pprl_specs::sealing::linker_key_fingerprint(&project.linker_key).to_string();
    let unpinned = upload(&[]).fails();
    assert!(
        unpinned.stderr.contains("no linker key is pinned")
            && unpinned
                .stderr
                .contains(&format!("linker_key_fingerprint = \"{fingerprint}\"")),
        "{}",
        unpinned.stderr
    );
    let wrong = upload(&["--linker-key-fingerprint", "0123456789abcdef"]).fails();
    assert!(wrong.stderr.contains("do not upload"), "{}", wrong.stderr);
    assert!(project.versions().is_empty(), "nothing was sent");
    // The fingerprint in the partner config is enough.
    write(
        project.root(),
        "pinned.toml",
        format!(
            "linker_key_fingerprint = \"{fingerprint}\"\n{}",
            crate::support::PROBATION_CONFIG
        ),
    );
    let pinned = upload(&["--config", "pinned.toml"]).ok();
    assert!(
        pinned
            .stdout
            .contains("sealed as pl/probation_caseload version 1"),
        "{}",
        pinned.stdout
    );
    // What the client shows is what the administrator prints.
    let shown = client(
        project.root(),
        &[
            "linker-key",
            "--server",
            &server.url,
            "--project",
            "pl",
            "--token-file",
            project.partner_token.to_str().expect("utf-8"),
        ],
        None,
    )
    .ok();
    let admin = linker_cli(&project.data, &["admin", "linker-key"]).ok();
    assert!(shown.stdout.contains(&format!("fingerprint {fingerprint}")));
    assert!(admin.stdout.contains(&format!("fingerprint {fingerprint}")));
}

/// Records of the current versions' files, loaded as a run loads them.
fn records_of(files: &[(&str, PathBuf)]) -> Records {
    let mut records = Records::new();
    for (name, path) in files {
        let input = DatasetInput {
            name: (*name).to_owned(),
            version: 1,
            one_record_per_person: false,
            attribute_schema: Vec::new(),
            attributes: Vec::new(),
        };
        pprl_linker::linkage::records::load(&mut records, path, input).expect("the file loads");
    }
    records
}

#[test]
fn issue_16_linkage_is_the_same_on_re_keyed_files() {
    let project = Project::new();
    write(project.root(), "police.toml", POLICE_CONFIG);
    let server = serve(&project.data, &[]);
    let probation = project.tokenise("probation.parquet", 1_500, 1605);
    let police = project.tokenise_extract("police.toml", "Q", 1605, 900, "police.parquet");
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &probation,
        )
        .ok();
    project
        .upload(
            &server.url,
            "police_offences",
            &project.other_partner_token,
            &police,
        )
        .ok();
    let stored = |dataset: &str| blob_path(&project.data, &stored_checksum_of(&project, dataset));
    let raw = records_of(&[
        ("probation_caseload", probation.clone()),
        ("police_offences", police.clone()),
    ]);
    let rekeyed = records_of(&[
        ("probation_caseload", stored("probation_caseload")),
        ("police_offences", stored("police_offences")),
    ]);
    let link = |records: &Records| {
        let previous = vec![None; records.len()];
        let mut n = 0u64;
        pprl_linker::linkage::link(records, &LinkageConfig::default(), &previous, || {
            n += 1;
            format!("p{n}")
        })
    };
    let (a, b) = (link(&raw), link(&rekeyed));
    assert!(a.clustering.accepted > 500, "the two extracts share people");
    assert_eq!(
        a.clustering.cluster, b.clustering.cluster,
        "the same persons"
    );
    assert_eq!(a.clustering.accepted, b.clustering.accepted);
    assert_eq!(a.stats.candidate_pairs, b.stats.candidate_pairs);
    assert_eq!(a.stats.links_accepted, b.stats.links_accepted);
    assert_eq!(
        a.probabilities, b.probabilities,
        "the same match probabilities"
    );
    // And the server's own run over the stored files publishes.
    let run = linker_cli(&project.data, &["run", "--project", "pl", "--accept"]).ok();
    assert!(run.stdout.contains("published"), "{}", run.stdout);
}

/// A raw upload of `body` as `probation_caseload`.
fn post(server: &Server, token: &Path, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!(
            "{}/v1/projects/pl/datasets/probation_caseload/versions",
            server.url
        ))
        .header("Authorization", &format!("Bearer {}", token_text(token)))
        .header("x-pprl-blake3", &blake3::hash(body).to_hex().to_string())
        .send(body)
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("text"))
}

#[test]
fn issue_16_no_private_key_or_re_keying_secret_reaches_logs_or_api_output() {
    let project = Project::new();
    let log_path = project.root().join("server.log");
    let mut command = Command::new(bin("pprl-linker"));
    command
        .arg("--data-dir")
        .arg(&project.data)
        .env("PPRL_LOG", "trace")
        .stderr(Stdio::from(
            std::fs::File::create(&log_path).expect("log file"),
        ));
    let mut server = Server::spawn(command, &[]).expect("the server starts");
    let file = project.tokenise("t.parquet", 800, 1606);
    let mut outputs = Vec::new();
    outputs.push(
        project
            .upload(
                &server.url,
                "probation_caseload",
                &project.partner_token,
                &file,
            )
            .ok()
            .all(),
    );
    // Refusals too: unsealed, and sealed to another key.
    outputs.push(
        post(
            &server,
            &project.partner_token,
            &std::fs::read(&file).expect("reads"),
        )
        .1,
    );
    let other = age::x25519::Identity::generate().to_public().to_string();
    let sealed_other = project.root().join("other.age");
    seal_file(&file, &other, &sealed_other);
    outputs.push(
        post(
            &server,
            &project.partner_token,
            &std::fs::read(&sealed_other).expect("reads"),
        )
        .1,
    );
    for path in [
        "/v1/projects/pl/linker-key",
        "/v1/projects/pl/versions",
        "/v1/audit?limit=1000",
    ] {
        outputs.push(
            crate::support::admin_request(&server, &project, "GET", path)
                .1
                .to_string(),
        );
    }
    for args in [
        &["admin", "linker-key"][..],
        &["admin", "list-versions", "--project", "pl"],
        &["admin", "list-projects"],
        &["admin", "audit", "--limit", "1000"],
        &["run", "--project", "pl", "--accept"],
    ] {
        outputs.push(linker_cli(&project.data, args).all());
    }
    server.stop().expect("the server stops");
    outputs.push(std::fs::read_to_string(&log_path).expect("the log reads"));
    let all = outputs.join("\n");
    assert!(all.contains(&project.linker_key), "the public key is shown");

    let secrets = project.data.join("secrets");
    let identity = std::fs::read_to_string(secrets.join("linker-identity.txt")).expect("identity");
    let identity = identity
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("an identity line");
    let rekey = std::fs::read_to_string(secrets.join("rekey").join("pl.secret")).expect("secret");
    let rekey = rekey
        .lines()
        .find_map(|l| l.strip_prefix("pprl-linker-rekey-v1:"))
        .expect("a secret line");
    let derived = hex_of(&blake3::derive_key(
        pprl_linker::secrets::REKEY_CONTEXT,
        &hex_bytes(rekey),
    ));
    let upper = all.to_ascii_uppercase();
    assert!(
        !upper.contains(&identity[16..]),
        "the linker's private key leaked"
    );
    let lower = all.to_ascii_lowercase();
    assert!(!lower.contains(rekey), "the re-keying secret leaked");
    assert!(!lower.contains(&derived), "the derived re-key key leaked");
    // Nor is either anywhere in the database or the blobs.
    for path in files_under(&project.data) {
        if path.starts_with(&secrets) {
            continue;
        }
        let bytes = std::fs::read(&path).expect("reads");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.to_ascii_uppercase().contains(&identity[16..]),
            "{}",
            path.display()
        );
        assert!(!text.contains(rekey), "{}", path.display());
        assert!(
            !bytes.windows(32).any(|w| w == hex_bytes(rekey)),
            "{} holds the raw secret",
            path.display()
        );
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_bytes(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

#[test]
fn issue_16_a_run_refuses_a_stored_file_that_was_not_re_keyed() {
    let project = Project::new();
    let server = serve(&project.data, &[]);
    let file = project.tokenise("t.parquet", 300, 1607);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &file,
        )
        .ok();
    // As a file stored before re-keying existed would be: the raw file.
    let stored = blob_path(
        &project.data,
        &stored_checksum_of(&project, "probation_caseload"),
    );
    std::fs::copy(&file, &stored).expect("the blob is replaced");
    let refused = linker_cli(&project.data, &["run", "--project", "pl"]).fails();
    assert!(
        refused
            .stderr
            .contains("not re-keyed under this project's linker secret")
            && refused.stderr.contains("`probation_caseload` (version 1)")
            && refused.stderr.contains("upload them again"),
        "{}",
        refused.stderr
    );
    // Uploaded again, the dataset runs.
    std::fs::remove_file(&stored).expect("the legacy blob goes");
    let again = project.tokenise("t2.parquet", 301, 1607);
    project
        .upload(
            &server.url,
            "probation_caseload",
            &project.partner_token,
            &again,
        )
        .ok();
    linker_cli(&project.data, &["run", "--project", "pl", "--accept"]).ok();
}
