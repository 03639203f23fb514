//! Bounded fuzzing of the client's parsers of untrusted input (issue 14):
//! the partner-config parser, the CSV row path and the token-file reader
//! behind `inspect`, fed arbitrary and mutated bytes. Each property: no
//! panic, and every refusal is an error value with a non-empty message
//! (that never repeats a row's values). The case counts keep each harness
//! to a few seconds, so they run with every `cargo test`; the malformed
//! inputs worth keeping go into `tests/corpus/`.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{NaiveDate, TimeZone, Utc};
use pprl_keyed::key::ProjectKey;
use proptest::prelude::*;

use crate::config::{BaseSettings, PartnerConfig, Settings, TEMPLATE};
use crate::input;
use crate::row::RowTokeniser;

/// The columns of the fuzzed extracts, and a config naming all of them.
const HEADER: [&str; 9] = [
    "id", "forename", "surname", "dob", "sex", "postcode", "nhs", "released", "days",
];
const CONFIG: &str = "dataset = \"fuzz\"\n\
    [identifiers]\nrecord_id = \"id\"\ngiven_names = \"forename\"\nfamily_name = \"surname\"\n\
    date_of_birth = \"dob\"\nsex = \"sex\"\npostcode = \"postcode\"\nnhs_number = \"nhs\"\n\
    [[attributes]]\nname = \"released\"\ntype = \"date\"\n\
    [[attributes]]\nname = \"days\"\ntype = \"integer\"\n";

fn key() -> ProjectKey {
    ProjectKey::from_bytes([7; 32])
}

fn config() -> PartnerConfig {
    PartnerConfig::parse(CONFIG).expect("the fuzz config is valid")
}

fn header() -> Vec<String> {
    HEADER.iter().map(|h| (*h).to_owned()).collect()
}

/// A refusal's whole chain, which must say something.
fn message(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    assert!(!text.trim().is_empty(), "an error without a message");
    text
}

/// Byte edits of a valid input: (position, new byte) pairs, a cut, an insert.
fn mutations() -> impl Strategy<Value = (Vec<(usize, u8)>, Option<usize>, Vec<u8>)> {
    (
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        prop::option::of(any::<usize>()),
        prop::collection::vec(any::<u8>(), 0..4),
    )
}

fn mutate(
    valid: &[u8],
    (edits, cut, insert): &(Vec<(usize, u8)>, Option<usize>, Vec<u8>),
) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for &(at, byte) in edits {
        let len = bytes.len();
        if len > 0 {
            bytes[at % len] = byte;
        }
    }
    if let Some(at) = cut {
        bytes.truncate(at % (bytes.len() + 1));
    }
    let at = edits.first().map_or(0, |e| e.0 % (bytes.len() + 1));
    bytes.splice(at..at, insert.iter().copied());
    bytes
}

/// Parses a config text as `tokenise` does: parse, check, resolve.
fn parse_config(text: &str) {
    let Ok(config) = PartnerConfig::parse(text) else {
        let err = PartnerConfig::parse(text).expect_err("refused");
        assert!(
            !err.to_string().trim().is_empty(),
            "a parse error without a message"
        );
        return;
    };
    if let Err(e) = BaseSettings::check(&config) {
        assert!(!e.to_string().trim().is_empty());
        return;
    }
    if let Err(e) = Settings::resolve(&config, &header()) {
        assert!(!e.to_string().trim().is_empty());
    }
}

/// Runs every row of a CSV file through the reader and the row tokeniser;
/// returns the reject reasons.
fn tokenise_rows(csv: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("extract.csv");
    std::fs::write(&path, csv).expect("the extract writes");
    let config = config();
    let base = BaseSettings::check(&config).expect("the fuzz config checks");
    let mut source = match input::open(&path, None, base.delimiter, base.encoding) {
        Ok(source) => source,
        Err(e) => {
            message(&e);
            return Vec::new();
        }
    };
    let settings = match Settings::resolve(&config, source.header()) {
        Ok(settings) => settings,
        Err(e) => {
            assert!(!e.to_string().trim().is_empty());
            return Vec::new();
        }
    };
    source.select(&settings.columns).expect("columns select");
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    let tokeniser = RowTokeniser::new(&key(), &settings, as_of);
    let mut reasons = Vec::new();
    let mut batch = input::RowBatch::default();
    loop {
        if let Err(e) = source.next_batch(&mut batch, 64) {
            message(&e);
            break;
        }
        if batch.is_empty() {
            break;
        }
        for row in 0..batch.len() {
            if let Err(reject) = tokeniser.process(&batch, row).result {
                assert!(
                    !reject.reason.trim().is_empty(),
                    "a reject without a reason"
                );
                assert!(reject.line >= 2, "a reject on line {}", reject.line);
                reasons.push(reject.reason);
            }
        }
    }
    reasons
}

fn csv_of(rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    out.write_record(HEADER).expect("the header writes");
    for row in rows {
        out.write_record(row).expect("a row writes");
    }
    out.into_inner().expect("the writer flushes")
}

/// A valid token file of a few rows, made once by the real pipeline.
fn token_file() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let rows: Vec<Vec<String>> = (0..20)
            .map(|i| {
                [
                    format!("F{i}"),
                    ["Ottoline", "Zebedee", "Araminta"][i % 3].to_owned(),
                    ["Quennell", "Blenkinsop"][i % 2].to_owned(),
                    format!("19{:02}-0{}-1{}", 50 + i, 1 + i % 9, i % 10),
                    ["F", "M"][i % 2].to_owned(),
                    "NE1 4ST".to_owned(),
                    String::new(),
                    "2024-05-08".to_owned(),
                    format!("{}", 30 * i),
                ]
                .to_vec()
            })
            .collect();
        let input = dir.path().join("extract.csv");
        std::fs::write(&input, csv_of(&rows)).expect("the extract writes");
        let output = dir.path().join("tokens.parquet");
        let key = key();
        let config = config();
        let job = crate::tokenise::Job {
            key: &key,
            config: &config,
            input: &input,
            output: &output,
            rejects: None,
            max_reject_fraction: Some(0.0),
            now: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("a time"),
            progress: None,
        };
        crate::tokenise::run(&job).expect("the fuzz extract tokenises");
        std::fs::read(&output).expect("the token file reads")
    })
}

fn inspect_bytes(bytes: &[u8]) {
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    file.write_all(bytes).expect("the file writes");
    if let Err(e) = crate::inspect::inspect(file.path()) {
        message(&e);
    }
}

#[test]
fn the_valid_inputs_are_accepted() {
    parse_config(TEMPLATE);
    assert!(tokenise_rows(&csv_of(&[])).is_empty());
    let mut file = tempfile::NamedTempFile::new().expect("a temp file");
    file.write_all(token_file()).expect("the file writes");
    crate::inspect::inspect(file.path()).expect("the token file inspects");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Arbitrary text as a partner config.
    #[test]
    fn partner_config_arbitrary_text(text in any::<String>()) {
        parse_config(&text);
    }

    /// The commented template and the fuzz config with bytes changed, cut or added.
    #[test]
    fn partner_config_mutated(m in mutations(), which in any::<bool>()) {
        let valid = if which { TEMPLATE } else { CONFIG };
        parse_config(&String::from_utf8_lossy(&mutate(valid.as_bytes(), &m)));
    }

    /// Arbitrary bytes as a partner config file (not UTF-8 included).
    #[test]
    fn partner_config_file_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut file = tempfile::NamedTempFile::new().expect("a temp file");
        file.write_all(&bytes).expect("the file writes");
        if let Err(e) = PartnerConfig::load(file.path()) {
            prop_assert!(!e.to_string().trim().is_empty());
            prop_assert!(e.to_string().contains(&file.path().display().to_string()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Rows of arbitrary text fields (any length of row) through the reader
    /// and the row tokeniser: a reject has a reason that never holds a value.
    #[test]
    fn csv_rows_of_arbitrary_fields(
        rows in prop::collection::vec(prop::collection::vec(any::<String>(), 7..11), 1..6)
    ) {
        let reasons = tokenise_rows(&csv_of(&rows));
        for reason in &reasons {
            for value in rows.iter().flatten().filter(|v| v.trim().chars().count() >= 6) {
                prop_assert!(!reason.contains(value.trim()), "{reason:?} holds {value:?}");
            }
        }
    }

    /// Arbitrary bytes after the header line (quotes, delimiters, bad UTF-8).
    #[test]
    fn csv_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut csv = csv_of(&[]);
        csv.extend_from_slice(&body);
        tokenise_rows(&csv);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Mutations of a valid token file through `inspect`.
    #[test]
    fn token_file_mutated(m in mutations()) {
        inspect_bytes(&mutate(token_file(), &m));
    }

    /// Arbitrary bytes ending in the Parquet magic, so the footer is parsed.
    #[test]
    fn token_file_arbitrary_footer(bytes in prop::collection::vec(any::<u8>(), 0..256), len in any::<u32>()) {
        let mut file = b"PAR1".to_vec();
        file.extend_from_slice(&bytes);
        file.extend_from_slice(&(len % 300).to_le_bytes());
        file.extend_from_slice(b"PAR1");
        inspect_bytes(&file);
    }
}

/// `inspect` of a path that does not exist is an error naming it.
#[test]
fn inspect_of_a_missing_file_names_it() {
    let missing = Path::new("/nonexistent/pprl-fuzz.parquet");
    let e = crate::inspect::inspect(missing).expect_err("refused");
    assert!(message(&e).contains("pprl-fuzz.parquet"));
}
