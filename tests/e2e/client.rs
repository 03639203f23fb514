//! `pprl-client`: keygen, fingerprint, tokenise, inspect, config-template.

use std::path::Path;

use crate::support::{
    all_values_as_text, binary_column, client, hex_lower, keygen, manifest, read_parquet, write,
};

/// A partner config over the columns of [`EXTRACT`].
const CONFIG: &str = r#"dataset = "probation"

[identifiers]
record_id = "id"
given_names = "forename"
family_name = "surname"
date_of_birth = "dob"
sex = "sex"
postcode = "postcode"
nhs_number = "nhs"

[[attributes]]
name = "release_date"
column = "released"
type = "date"
precision = "month"

[[attributes]]
name = "risk"
type = "integer"
"#;

/// Distinctive identifier values planted in the extract; none may reach a token file.
const PLANTED: &[&str] = &[
    "Zebediah",
    "ZEBEDIAH",
    "Quillfeather",
    "QUILLFEATHER",
    "Xanthippe",
    "XANTHIPPE",
    "Wolstenholme",
    "WOLSTENHOLME",
    "1967-08-14",
    "14/08/1967",
    "19670814",
    "ZE1 7QX",
    "ZE17QX",
    "9434765919",
    "943 476 5919",
    "PRB-77123",
    "PRB-77124",
];

const EXTRACT: &str = "\
id,forename,surname,dob,sex,postcode,nhs,released,risk,notes
PRB-77123,Zebediah,Quillfeather,14/08/1967,M,ZE1 7QX,943 476 5919,2025-03-17,3,not passed on
PRB-77124,Xanthippe,Wolstenholme,1967-08-14,F,ze17qx,,17/03/2025,2,secret note
PRB-1,Seán,O'Neil,03/02/1980,m,SW1A 1AA,,2025-01-05,1,
PRB-2,john paul,SMITH-JONES,1975-11-21,Male,LS1 4AP,,2025-02-01,,
";

fn setup(dir: &Path) {
    keygen(dir);
    write(dir, "partner.toml", CONFIG);
    write(dir, "extract.csv", EXTRACT);
}

fn tokenise(dir: &Path, input: &str, output: &str) -> crate::support::Run {
    client(
        dir,
        &[
            "tokenise",
            "--key-file",
            "key.txt",
            "--config",
            "partner.toml",
            "--input",
            input,
            "--output",
            output,
        ],
        None,
    )
}

#[test]
fn keygen_writes_0600_refuses_overwrite_and_fingerprints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fp = keygen(dir.path());
    assert_eq!(fp.len(), 16);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("key.txt"))
            .expect("key exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(dir.path().join("key.txt")).expect("key readable");
    let again = client(dir.path(), &["keygen", "--output", "key.txt"], None).fails();
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(
        std::fs::read(dir.path().join("key.txt")).expect("key readable"),
        before,
        "key file untouched"
    );

    let printed = client(dir.path(), &["fingerprint", "--key-file", "key.txt"], None).ok();
    assert_eq!(printed.stdout.trim(), fp);
    let from_stdin = client(
        dir.path(),
        &["fingerprint", "--key-file", "-"],
        Some(&before),
    )
    .ok();
    assert_eq!(from_stdin.stdout.trim(), fp);
}

#[test]
fn no_identifier_or_key_reaches_the_token_file_or_the_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    let run = tokenise(dir.path(), "extract.csv", "tokens.parquet").ok();
    let key_text = std::fs::read_to_string(dir.path().join("key.txt")).expect("key readable");
    let key_hex = key_text
        .lines()
        .find_map(|l| l.strip_prefix("pprl-key-v1:"))
        .expect("key line")
        .trim();

    let bytes = std::fs::read(dir.path().join("tokens.parquet")).expect("token file written");
    let (batches, kv) = read_parquet(&dir.path().join("tokens.parquet"));
    let decoded = all_values_as_text(&batches);
    let metadata: String = kv.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let inspect = client(dir.path(), &["inspect", "tokens.parquet"], None).ok();
    let rejects = std::fs::read_to_string(dir.path().join("tokens.parquet.rejects.csv"))
        .expect("rejects file");
    for value in PLANTED
        .iter()
        .copied()
        .chain([key_hex, "not passed on", "secret note"])
    {
        let needle = value.as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "`{value}` is in the token file's bytes"
        );
        assert!(!decoded.contains(value), "`{value}` is in a decoded column");
        assert!(
            !metadata.contains(value),
            "`{value}` is in the file metadata"
        );
        assert!(
            !run.all().contains(value),
            "`{value}` is in tokenise's output"
        );
        assert!(
            !inspect.all().contains(value),
            "`{value}` is in inspect's output"
        );
        assert!(!rejects.contains(value), "`{value}` is in the rejects file");
    }
    // The file holds only token columns and the two declared attributes.
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert!(
        names.iter().all(|n| *n == "record_ref"
            || *n == "bloom"
            || n.starts_with("mk_")
            || *n == "release_date"
            || *n == "risk"),
        "{names:?}"
    );
    assert!(names.contains(&"release_date") && names.contains(&"risk"));
    assert!(!names.contains(&"notes"));
}

#[test]
fn same_person_spelled_differently_gets_the_same_match_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    write(
        dir.path(),
        "other.csv",
        "id,forename,surname,dob,sex,postcode,nhs,released,risk,notes\n\
         A,ZEBEDIAH,quill-feather,1967-08-14,male,ZE1  7QX,9434765919,,,\n\
         B,Sean,ONEIL,3 Feb 1980,M,sw1a1aa,,,,\n",
    );
    tokenise(dir.path(), "extract.csv", "a.parquet").ok();
    tokenise(dir.path(), "other.csv", "b.parquet").ok();
    let (a, _) = read_parquet(&dir.path().join("a.parquet"));
    let (b, _) = read_parquet(&dir.path().join("b.parquet"));
    for key in [
        "mk_names_dob_postcode",
        "mk_first_family_dob_sex",
        "mk_nhs_number",
    ] {
        let (ta, tb) = (binary_column(&a, key), binary_column(&b, key));
        assert!(ta[0].is_some(), "{key} formed");
        assert_eq!(
            ta[0], tb[0],
            "{key}: Zebediah Quillfeather matches across spellings"
        );
    }
    for key in ["mk_names_dob_postcode", "mk_first_family_dob"] {
        let (ta, tb) = (binary_column(&a, key), binary_column(&b, key));
        assert_eq!(ta[2], tb[1], "{key}: Seán O'Neil matches Sean ONEIL");
    }
    // Record references differ from match keys and are stable across runs.
    tokenise(dir.path(), "extract.csv", "a2.parquet").ok();
    let (a2, _) = read_parquet(&dir.path().join("a2.parquet"));
    assert_eq!(
        binary_column(&a, "record_ref"),
        binary_column(&a2, "record_ref")
    );
}

#[test]
fn malformed_rows_go_to_the_rejects_file_with_line_and_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    let mut extract = String::from(EXTRACT);
    extract.push_str("PRB-3,Ann,Lee,01/01/1990,F,M1 1AE,,2025-01-01,1\n"); // line 6: one field short
    extract.push_str("PRB-4,Ann,Lee,01/01/1990,F,M1 1AE,,31/02/2025,1,\n"); // line 7: impossible date
    extract.push_str(",Ann,Lee,01/01/1990,F,M1 1AE,,2025-01-01,1,\n"); // line 8: no record id
    extract.push_str("PRB-1,Ann,Lee,01/01/1990,F,M1 1AE,,2025-01-01,1,\n"); // line 9: repeats line 4's id
    extract.push_str("PRB-5,UNKNOWN,,,,,,2025-01-01,1,\n"); // line 10: nothing usable
    extract.push_str("PRB-6,Ann,Lee,01/01/1990,F,M1 1AE,,2025-01-01,high,\n"); // line 11: not an integer
    write(dir.path(), "extract.csv", extract);
    let run = client(
        dir.path(),
        &[
            "tokenise",
            "--key-file",
            "key.txt",
            "--config",
            "partner.toml",
            "--input",
            "extract.csv",
            "--output",
            "t.parquet",
            "--max-reject-fraction",
            "0.9",
        ],
        None,
    )
    .ok();
    assert!(run.stdout.contains("rejected 6"), "{}", run.stdout);
    let rejects =
        std::fs::read_to_string(dir.path().join("t.parquet.rejects.csv")).expect("rejects file");
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "line,column,field,reason");
    let expect = [
        ("6,,,row has 9 fields, the header has 10", ""),
        ("7,released,release_date,", "not a date"),
        ("8,id,record_id,record id is empty", ""),
        ("9,,record_id,record id repeats the record on line 4", ""),
        ("10,,identifiers,", "no usable identifiers"),
        ("11,risk,risk,not a whole number", ""),
    ];
    for (line, (prefix, contains)) in lines[1..].iter().zip(expect) {
        let line = line.replace('"', "");
        assert!(
            line.starts_with(prefix) && line.contains(contains),
            "{line} should start with {prefix}"
        );
    }
    assert_eq!(lines.len(), 7);
    let m = manifest(&dir.path().join("t.parquet"));
    assert_eq!(m["quality"]["rows_read"], 10);
    assert_eq!(m["quality"]["rows_written"], 4);
    assert_eq!(m["quality"]["rows_rejected"], 6);
    assert_eq!(m["quality"]["duplicate_record_ids"], 1);
    assert_eq!(m["row_count"], 4);
    assert_eq!(m["quality"]["identifiers"]["given_names"]["placeholder"], 1);
}

#[test]
fn too_many_rejects_fail_and_write_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    write(
        dir.path(),
        "bad.csv",
        "id,forename,surname,dob,sex,postcode,nhs,released,risk,notes\n,a\n,b\nX,,,,,,,,,\n",
    );
    let run = tokenise(dir.path(), "bad.csv", "t.parquet").fails();
    assert!(
        run.stderr
            .contains("no usable rows: all 3 rows were rejected"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("t.parquet.rejects.csv"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("t.parquet").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir lists")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let mut extract = String::from(EXTRACT);
    extract.push_str("PRB-9,a\n");
    write(dir.path(), "some.csv", extract);
    let run = client(
        dir.path(),
        &[
            "tokenise",
            "--key-file",
            "key.txt",
            "--config",
            "partner.toml",
            "--input",
            "some.csv",
            "--output",
            "t.parquet",
            "--max-reject-fraction",
            "0.1",
        ],
        None,
    )
    .fails();
    assert!(
        run.stderr
            .contains("1 of 5 rows were rejected (20.0%), more than the allowed 10.0%"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("t.parquet").exists());
}

#[test]
fn unknown_column_in_config_is_named_with_the_columns_that_exist() {
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    write(
        dir.path(),
        "partner.toml",
        CONFIG.replace("\"surname\"", "\"last_name\""),
    );
    let run = tokenise(dir.path(), "extract.csv", "t.parquet").fails();
    assert!(
        run.stderr
            .contains("identifiers.family_name names column `last_name`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`id`, `forename`, `surname`, `dob`"),
        "{}",
        run.stderr
    );
}

#[test]
fn wrong_key_file_and_bad_config_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    write(dir.path(), "notakey.txt", "hello\n");
    let run = client(
        dir.path(),
        &[
            "tokenise",
            "--key-file",
            "notakey.txt",
            "--config",
            "partner.toml",
            "--input",
            "extract.csv",
            "--output",
            "t.parquet",
        ],
        None,
    )
    .fails();
    assert!(
        run.stderr.contains("notakey.txt is not a pprl key file"),
        "{}",
        run.stderr
    );
    write(
        dir.path(),
        "partner.toml",
        "dataset = \"d\"\n[identifiers]\nrecord_id = \"id\"\nsurname = \"surname\"\n",
    );
    let run = tokenise(dir.path(), "extract.csv", "t.parquet").fails();
    assert!(
        run.stderr.contains("partner.toml") && run.stderr.contains("line 4"),
        "{}",
        run.stderr
    );
}

#[test]
fn inspect_shows_manifest_counts_and_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fp = {
        setup(dir.path());
        client(dir.path(), &["fingerprint", "--key-file", "key.txt"], None)
            .ok()
            .stdout
            .trim()
            .to_owned()
    };
    tokenise(dir.path(), "extract.csv", "t.parquet").ok();
    let out = client(dir.path(), &["inspect", "t.parquet"], None)
        .ok()
        .stdout;
    for needle in [
        fp.as_str(),
        "pprl/v2",
        "probation",
        "mk_names_dob_postcode",
        "release_date",
        "rows read 4, written 4, rejected 0",
    ] {
        assert!(
            out.contains(needle),
            "inspect output lacks {needle}:\n{out}"
        );
    }
    let json = client(dir.path(), &["inspect", "--json", "t.parquet"], None)
        .ok()
        .stdout;
    let value: serde_json::Value = serde_json::from_str(&json).expect("inspect --json is JSON");
    assert_eq!(value["manifest"]["key_fingerprint"], fp.as_str());
    assert_eq!(value["file_rows"], 4);

    write(dir.path(), "junk.parquet", "not parquet at all");
    let run = client(dir.path(), &["inspect", "junk.parquet"], None).fails();
    assert!(
        run.stderr.contains("not a readable Parquet file"),
        "{}",
        run.stderr
    );
}

#[test]
fn windows_1252_and_tab_delimited_extracts_give_the_same_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    let utf8 = "id\tforename\tsurname\tdob\tsex\tpostcode\tnhs\treleased\trisk\tnotes\nZ1\tZoë\tMüller\t01/02/1990\tF\tB33 8TH\t\t\t\t\n";
    let (latin, _, unmappable) = encoding_rs::WINDOWS_1252.encode(utf8);
    assert!(!unmappable);
    write(dir.path(), "latin.tsv", &latin[..]);
    write(dir.path(), "utf8.tsv", utf8);
    let tab_config = CONFIG.replace(
        "[identifiers]",
        "[input]\ndelimiter = \"\\t\"\nencoding = \"windows-1252\"\n\n[identifiers]",
    );
    write(dir.path(), "latin.toml", &tab_config);
    write(
        dir.path(),
        "utf8.toml",
        tab_config.replace("windows-1252", "utf-8"),
    );
    for name in ["latin", "utf8"] {
        client(
            dir.path(),
            &[
                "tokenise",
                "--key-file",
                "key.txt",
                "--config",
                &format!("{name}.toml"),
                "--input",
                &format!("{name}.tsv"),
                "--output",
                &format!("{name}.parquet"),
            ],
            None,
        )
        .ok();
    }
    let (a, _) = read_parquet(&dir.path().join("latin.parquet"));
    let (b, _) = read_parquet(&dir.path().join("utf8.parquet"));
    assert_eq!(
        binary_column(&a, "mk_first_family_dob"),
        binary_column(&b, "mk_first_family_dob")
    );
    assert_eq!(binary_column(&a, "bloom"), binary_column(&b, "bloom"));
    assert!(binary_column(&a, "mk_first_family_dob")[0].is_some());
}

#[test]
fn parquet_extract_gives_the_same_tokens_as_csv() {
    use arrow_array::{ArrayRef, Date32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let dir = tempfile::tempdir().expect("temp dir");
    setup(dir.path());
    let text = |v: &[&str]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
    // Dates of birth as a real Date32 column: 1980-02-03 is day 3685 since 1970-01-01.
    let batch = RecordBatch::try_from_iter([
        ("id", text(&["PRB-1"])),
        ("forename", text(&["Seán"])),
        ("surname", text(&["O'Neil"])),
        ("dob", Arc::new(Date32Array::from(vec![3685])) as ArrayRef),
        ("sex", text(&["m"])),
        ("postcode", text(&["SW1A 1AA"])),
        ("nhs", text(&[""])),
        ("released", text(&["2025-01-05"])),
        ("risk", text(&["1"])),
    ])
    .expect("batch builds");
    let file = std::fs::File::create(dir.path().join("extract.parquet")).expect("file creates");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    tokenise(dir.path(), "extract.parquet", "p.parquet").ok();
    tokenise(dir.path(), "extract.csv", "c.parquet").ok();
    let (p, _) = read_parquet(&dir.path().join("p.parquet"));
    let (c, _) = read_parquet(&dir.path().join("c.parquet"));
    for key in [
        "record_ref",
        "mk_names_dob_postcode",
        "mk_first_family_dob",
        "bloom",
    ] {
        assert_eq!(
            binary_column(&p, key)[0],
            binary_column(&c, key)[2],
            "{key}"
        );
    }
}

#[test]
fn config_template_is_a_valid_starting_point() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = client(dir.path(), &["config-template"], None).ok().stdout;
    assert!(out.contains("[identifiers]") && out.contains("record_id"));
    write(dir.path(), "partner.toml", &out);
    keygen(dir.path());
    write(
        dir.path(),
        "extract.csv",
        "CRN,Forenames,Surname,DOB,Gender,Postcode,PNC,NHS,Release Date,Area\nX1,Ann,Lee,01/01/1990,F,M1 1AE,,,2025-01-01,North West\n",
    );
    tokenise(dir.path(), "extract.csv", "t.parquet").ok();
}

/// Readers other than ours read token files as we do: pyarrow (Arrow C++)
/// and DuckDB find the same rows, the same nulls in every column and the
/// same bytes in every token column of a realistic extract's token file
/// (several pages per Bloom column chunk, match keys missing at many rates).
#[test]
fn pyarrow_and_duckdb_read_token_files_as_we_do() {
    use sha2::{Digest, Sha256};
    let Some(python) = crate::support::python_with(&["pyarrow", "duckdb"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    keygen(dir.path());
    write(
        dir.path(),
        "partner.toml",
        pprl_generate::simple::PROBATION_CONFIG,
    );
    let mut extract = Vec::new();
    pprl_generate::simple::write_probation_csv(&mut extract, 20_000, 7).expect("extract written");
    write(dir.path(), "extract.csv", extract);
    let path = dir.path().join("tokens.parquet");
    tokenise(dir.path(), "extract.csv", "tokens.parquet").ok();

    // Ours: per column, the values present and, for token columns, the
    // SHA-256 of the present values one after another.
    let (batches, _) = read_parquet(&path);
    let schema = batches[0].schema();
    let mut ours = serde_json::Map::new();
    for (i, field) in schema.fields().iter().enumerate() {
        let present: usize = batches
            .iter()
            .map(|b| b.column(i).len() - b.column(i).null_count())
            .sum();
        let digest = match field.data_type() {
            arrow_schema::DataType::FixedSizeBinary(_) => {
                let mut hash = Sha256::new();
                for value in binary_column(&batches, field.name()).into_iter().flatten() {
                    hash.update(&value);
                }
                hex_lower(&hash.finalize())
            }
            _ => String::new(),
        };
        ours.insert(field.name().clone(), serde_json::json!([present, digest]));
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 20_000);
    let nulls = ours
        .values()
        .filter(|v| v[0].as_u64() < Some(rows as u64))
        .count();
    assert!(
        nulls >= 5,
        "the file has columns with nulls to compare: {ours:?}"
    );

    let script = r#"
import hashlib, json, sys
import duckdb, pyarrow.parquet as pq
path = sys.argv[1]
table = pq.read_table(path)
con = duckdb.connect()
out = {"rows": table.num_rows, "columns": {}}
for name in table.column_names:
    column = table.column(name)
    present = len(column) - column.null_count
    digest = ""
    if name == "record_ref" or name == "bloom" or name.startswith("mk_"):
        h = hashlib.sha256()
        for value in column.to_pylist():
            if value is not None:
                h.update(value)
        digest = h.hexdigest()
    counted = con.execute(f'select count("{name}") from read_parquet(?)', [path]).fetchone()[0]
    if counted != present:
        sys.exit(f"duckdb counts {counted} values in {name}, pyarrow {present}")
    out["columns"][name] = [present, digest]
print(json.dumps(out))
"#;
    let run = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python runs");
    assert!(
        run.status.success(),
        "the pyarrow/duckdb reader failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("the script prints JSON");
    assert_eq!(theirs["rows"], rows);
    assert_eq!(theirs["columns"], serde_json::Value::Object(ours));
}
