//! The key-rotation drill (issue 16): a six-partner project (the Prison
//! Link example, a small population, deterministic linkage) runs and
//! publishes; the administrator rotates its key; the partners move to the
//! new key over three nights, each sending a re-key map and then its file
//! tokenised with the new key. The runs in between wait, naming the
//! datasets still on the old key, and publish nothing. Once every partner
//! has moved, the run publishes the same persons under the same ids and the
//! same outcome figures as before the rotation.

use std::path::{Path, PathBuf};

use pprl_demo::walkthrough::{self, Example, Options};

use crate::support::{Run, client, linker_cli, read_parquet, serve};

/// People in the drill's population: enough for a published cohort, small
/// enough for a debug build.
const PEOPLE: usize = 700;

/// The drill's nights: which datasets (by position in the project) move to
/// the new key on each.
const NIGHTS: [&[usize]; 3] = [&[0, 1], &[2, 3], &[4, 5]];

#[test]
fn issue_16_rotation_drill_keeps_persons_and_outcomes() {
    let mut example = Example::load("prison-link").expect("the Prison Link example loads");
    assert_eq!(example.datasets.len(), 6, "the drill needs six partners");
    // Deterministic linkage, so that the outcomes cannot move with the
    // Bloom encodings, which a new key changes (the tokens' equalities it
    // keeps); the example's own project files are left as they are.
    example.project_text =
        example
            .project_text
            .replacen("method = \"probabilistic\"", "method = \"cascade\"", 1);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let work = dir.path().join("run");
    let options = Options {
        people: Some(PEOPLE),
        ..Options::default()
    };
    let first = walkthrough::run(&example, &work, &options).expect("the example runs");
    let before = Published::read(&first.outputs);
    let data = work.join("linker-data");
    let project = example.project.clone();
    let linker_fingerprint = linker_cli(&data, &["admin", "linker-key"])
        .ok()
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .expect("`admin linker-key` prints the fingerprint")
        .trim()
        .to_owned();
    let old_fingerprint = client(&work, &["fingerprint", "--key-file", "project.key"], None)
        .ok()
        .stdout
        .trim()
        .to_owned();

    // The administrator makes key 2 and rotates the project to it.
    let keys = linker_cli(&data, &["admin", "list-keys", "--project", &project]).ok();
    assert!(
        keys.stdout
            .starts_with(&format!("key 1\t{old_fingerprint}\tcurrent\t")),
        "{}",
        keys.stdout
    );
    let made = client(
        &work,
        &["keygen", "--output", "new.key", "--key-id", "2"],
        None,
    )
    .ok();
    assert!(made.stdout.contains("key id 2"), "{}", made.stdout);
    let new_fingerprint = client(&work, &["fingerprint", "--key-file", "new.key"], None)
        .ok()
        .stdout
        .trim()
        .to_owned();
    let wrong_id = linker_cli(
        &data,
        &[
            "admin",
            "add-key",
            "--project",
            &project,
            "--fingerprint",
            &new_fingerprint,
            "--key-id",
            "3",
        ],
    )
    .fails();
    assert!(
        wrong_id.all().contains("is key 2, not 3"),
        "{}",
        wrong_id.all()
    );
    linker_cli(
        &data,
        &[
            "admin",
            "add-key",
            "--project",
            &project,
            "--fingerprint",
            &new_fingerprint,
            "--key-id",
            "2",
        ],
    )
    .ok();
    let keys = linker_cli(&data, &["admin", "list-keys", "--project", &project]).ok();
    assert!(
        keys.stdout
            .contains(&format!("key 1\t{old_fingerprint}\tretiring\t"))
            && keys
                .stdout
                .contains(&format!("key 2\t{new_fingerprint}\tcurrent\t")),
        "{}",
        keys.stdout
    );

    let server = serve(&data, &[]);
    let partner = |dataset: &str| -> PathBuf {
        let (_, partner) = example
            .datasets
            .iter()
            .find(|(d, _)| d == dataset)
            .expect("a dataset of the project");
        work.join("api-tokens").join(format!("{partner}.token"))
    };
    let send = |command: &str, dataset: &str, file: &str| -> Run {
        let token = partner(dataset);
        client(
            &work,
            &[
                command,
                "--server",
                &server.url,
                "--project",
                &project,
                "--dataset",
                dataset,
                "--token-file",
                token.to_str().expect("a UTF-8 path"),
                "--linker-key-fingerprint",
                &linker_fingerprint,
                file,
            ],
            None,
        )
    };
    let rekey = |dataset: &str, old: &str, new: &str, output: &str| -> Run {
        let config = example.partner_config(dataset);
        client(
            &work,
            &[
                "rekey",
                "--old-key",
                old,
                "--new-key",
                new,
                "--config",
                config.to_str().expect("a UTF-8 path"),
                "--input",
                &format!("extracts/{dataset}.csv"),
                "--output",
                output,
            ],
            None,
        )
    };

    // A map the wrong way round is refused, naming the keys' states.
    let (first_dataset, _) = &example.datasets[0];
    rekey(first_dataset, "new.key", "project.key", "backwards.map").ok();
    let backwards = send("upload-rekey-map", first_dataset, "backwards.map").fails();
    assert!(
        backwards.all().contains(&format!(
            "leads from key {new_fingerprint}, which is current"
        )),
        "{}",
        backwards.all()
    );
    // A file made with the old key is refused now.
    let stale = send(
        "upload",
        first_dataset,
        &format!("tokens/{first_dataset}.parquet"),
    )
    .fails();
    assert!(stale.all().contains(&old_fingerprint), "{}", stale.all());

    std::fs::create_dir_all(work.join("maps")).expect("a folder for the maps");
    std::fs::create_dir_all(work.join("tokens-2")).expect("a folder for the new token files");
    let mut moved: Vec<&str> = Vec::new();
    for (night, positions) in NIGHTS.iter().enumerate() {
        for &i in *positions {
            let (dataset, _) = &example.datasets[i];
            let map = format!("maps/{dataset}.map");
            let wrote = rekey(dataset, "project.key", "new.key", &map).ok();
            assert!(
                wrote.stdout.contains("no record id is in it"),
                "{}",
                wrote.stdout
            );
            let sent = send("upload-rekey-map", dataset, &map).ok();
            assert!(
                sent.stdout.contains("from key 1 to key 2"),
                "{}",
                sent.stdout
            );
            let config = example.partner_config(dataset);
            let token_file = format!("tokens-2/{dataset}.parquet");
            client(
                &work,
                &[
                    "tokenise",
                    "--key-file",
                    "new.key",
                    "--config",
                    config.to_str().expect("a UTF-8 path"),
                    "--input",
                    &format!("extracts/{dataset}.csv"),
                    "--output",
                    &token_file,
                    "--quiet",
                ],
                None,
            )
            .ok();
            let inspected = client(&work, &["inspect", &token_file], None).ok();
            assert!(
                inspected.stdout.contains("key id            2"),
                "{}",
                inspected.stdout
            );
            send("upload", dataset, &token_file).ok();
            moved.push(dataset);
        }
        let run = linker_cli(&data, &["run", "--project", &project]).ok();
        if night + 1 < NIGHTS.len() {
            // Some datasets are still on key 1: the run waits, naming them
            // (and only them), and publishes nothing.
            let said = run.all();
            assert!(said.contains("waiting, nothing linked"), "{said}");
            for (dataset, _) in &example.datasets {
                let named = said.contains(&format!("`{dataset}` (version"));
                assert_eq!(
                    named,
                    !moved.contains(&dataset.as_str()),
                    "night {}: `{dataset}` named wrongly: {said}",
                    night + 1
                );
            }
            assert!(said.contains(&old_fingerprint), "{said}");
            let runs = linker_cli(&data, &["admin", "list-runs", "--project", &project]).ok();
            let last = runs.stdout.lines().last().expect("a run is listed");
            assert!(last.contains("\twaiting\t"), "{}", runs.stdout);
        } else {
            assert!(run.stdout.contains("published"), "{}", run.all());
        }
    }
    let maps = linker_cli(&data, &["admin", "list-rekey-maps", "--project", &project]).ok();
    assert_eq!(maps.stdout.lines().count(), 6, "{}", maps.stdout);

    // The key no dataset uses any more is retired.
    linker_cli(
        &data,
        &[
            "admin",
            "retire-key",
            "--project",
            &project,
            "--key-id",
            "1",
        ],
    )
    .ok();
    let keys = linker_cli(&data, &["admin", "list-keys", "--project", &project]).ok();
    assert!(
        keys.stdout
            .contains(&format!("key 1\t{old_fingerprint}\tretired\t")),
        "{}",
        keys.stdout
    );

    let evaluator = work.join("api-tokens").join("evaluator.token");
    client(
        &work,
        &[
            "download",
            "--server",
            &server.url,
            "--project",
            &project,
            "--output-dir",
            "outputs-2",
            "--token-file",
            evaluator.to_str().expect("a UTF-8 path"),
        ],
        None,
    )
    .ok();
    let after = Published::read(&work.join("outputs-2"));
    assert!(!before.cohort.is_empty(), "the drill's cohort is empty");
    assert_eq!(
        after.cohort, before.cohort,
        "cohort.parquet (person ids and all) changed across the rotation"
    );
    assert_eq!(
        after.outcomes, before.outcomes,
        "the outcome figures changed across the rotation"
    );
}

/// What the drill compares in a publication.
struct Published {
    /// Every row of `cohort.parquet` (person id first), as text, sorted.
    cohort: Vec<String>,
    /// `outcomes.json`'s cohort and indicators (not its run or dates).
    outcomes: serde_json::Value,
}

impl Published {
    fn read(outputs: &Path) -> Self {
        let (batches, _) = read_parquet(&outputs.join("cohort.parquet"));
        let outcomes: serde_json::Value = serde_json::from_slice(
            &std::fs::read(outputs.join("outcomes.json")).expect("outcomes.json reads"),
        )
        .expect("outcomes.json is JSON");
        let mut cohort = Vec::new();
        for batch in &batches {
            for row in 0..batch.num_rows() {
                let values: Vec<String> = batch
                    .schema()
                    .fields()
                    .iter()
                    .zip(batch.columns())
                    .map(|(field, column)| format!("{}={:?}", field.name(), column.slice(row, 1)))
                    .collect();
                cohort.push(values.join(" "));
            }
        }
        cohort.sort_unstable();
        Published {
            cohort,
            outcomes: serde_json::json!({
                "cohort": outcomes["cohort"],
                "indicators": outcomes["indicators"],
            }),
        }
    }
}
