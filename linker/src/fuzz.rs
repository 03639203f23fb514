//! Bounded fuzzing of the linker's parsers of untrusted input (issue 14):
//! the project-config parser and the token-file validator that every
//! upload goes through, fed arbitrary and mutated bytes. Each property: no
//! panic, and every refusal is an error value with a non-empty message (and,
//! for uploads, a code and a next step). The case counts keep each harness
//! to a few seconds, so they run with every `cargo test`. Sealed uploads
//! (spec §10) are fuzzed through `sealed::open` and the same validator.

use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, FixedSizeBinaryArray, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use pprl_specs::matchkey::MATCH_KEYS;
use pprl_specs::tokenfile::{
    self, AttributeSpec, AttributeType, BloomParams, MANIFEST_METADATA_KEY, Manifest, QualityCounts,
};
use proptest::prelude::*;

use crate::project::{ProjectConfig, TEMPLATE};
use crate::validate::check_token_reader;

const FINGERPRINT: &str = "0011223344556677";
const DATASET: &str = "releases";
const ROWS: usize = 50;

/// Parses a config as `create-project` does; an accepted one serialises
/// and parses back, as the store keeps it.
fn parse_project(text: &str) {
    match ProjectConfig::parse(text) {
        Ok(config) => {
            let again = ProjectConfig::parse(&config.to_toml());
            assert!(again.is_ok(), "{:?} does not parse back", config.to_toml());
        }
        Err(e) => assert!(
            !e.to_string().trim().is_empty(),
            "an error without a message"
        ),
    }
}

/// A valid token file (random tokens; the linker cannot make real ones).
fn token_file() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let attributes = vec![AttributeSpec {
            name: "area".to_owned(),
            kind: AttributeType::String,
            precision: None,
        }];
        let schema = tokenfile::schema_ref(&attributes);
        let token = |column: usize, row: usize, len: usize| -> Vec<u8> {
            (0..len)
                .map(|i| (column * 131 + row * 31 + i * 7) as u8)
                .collect()
        };
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (c, field) in schema.fields().iter().enumerate() {
            let column: ArrayRef = match field.data_type() {
                arrow_schema::DataType::FixedSizeBinary(len) => {
                    let len = *len as usize;
                    let values: Vec<Option<Vec<u8>>> = (0..ROWS)
                        .map(|r| (c == 0 || r % 3 != 0).then(|| token(c, r, len)))
                        .collect();
                    Arc::new(
                        FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                            values.iter().map(|v| v.as_deref()),
                            len as i32,
                        )
                        .expect("a token column"),
                    )
                }
                _ => Arc::new(StringArray::from_iter_values(
                    (0..ROWS).map(|r| ["north", "south"][r % 2]),
                )),
            };
            columns.push(column);
        }
        let batch = RecordBatch::try_new(schema.clone(), columns).expect("a valid batch");
        let manifest = Manifest {
            spec_version: pprl_specs::SPEC_VERSION.to_owned(),
            key_fingerprint: FINGERPRINT.to_owned(),
            key_id: None,
            dataset: DATASET.to_owned(),
            row_count: ROWS as u64,
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            client_version: "fuzz".to_owned(),
            match_keys: MATCH_KEYS.iter().map(|d| d.name.to_owned()).collect(),
            bloom: BloomParams::v1(),
            attributes,
            quality: QualityCounts::default(),
        };
        let properties = WriterProperties::builder()
            .set_key_value_metadata(Some(vec![KeyValue::new(
                MANIFEST_METADATA_KEY.to_owned(),
                manifest.to_json(),
            )]))
            .build();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, schema, Some(properties)).expect("writer");
        writer.write(&batch).expect("the batch writes");
        writer.close().expect("the file closes");
        out
    })
}

/// Validates bytes as an upload of `releases`.
fn validate(bytes: &[u8]) -> Result<(), crate::validate::Refusal> {
    check_token_reader(bytes::Bytes::copy_from_slice(bytes), FINGERPRINT, DATASET).map(|_| ())
}

fn validate_refusal_is_clear(bytes: &[u8]) {
    if let Err(refusal) = validate(bytes) {
        assert!(!refusal.code.is_empty(), "a refusal without a code");
        assert!(
            !refusal.message.trim().is_empty(),
            "a refusal without a message"
        );
        assert!(
            !refusal.hint.trim().is_empty(),
            "a refusal without a next step"
        );
    }
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

#[test]
fn the_valid_inputs_are_accepted() {
    parse_project(TEMPLATE);
    ProjectConfig::parse(TEMPLATE).expect("the template is valid");
    validate(token_file()).expect("the fuzz token file is valid");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Arbitrary text as a project config.
    #[test]
    fn project_config_arbitrary_text(text in any::<String>()) {
        parse_project(&text);
    }

    /// The commented template with bytes changed, cut or added.
    #[test]
    fn project_config_mutated(m in mutations()) {
        parse_project(&String::from_utf8_lossy(&mutate(TEMPLATE.as_bytes(), &m)));
    }

    /// The template with one line dropped or repeated (sections, keys).
    #[test]
    fn project_config_lines_shuffled(drop in any::<prop::sample::Index>(), repeat in any::<prop::sample::Index>()) {
        let mut lines: Vec<&str> = TEMPLATE.lines().collect();
        let again = lines[repeat.index(lines.len())];
        lines.insert(repeat.index(lines.len()), again);
        lines.remove(drop.index(lines.len()));
        parse_project(&lines.join("\n"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Mutations of a valid token file through the upload validator.
    #[test]
    fn token_file_mutated(m in mutations()) {
        validate_refusal_is_clear(&mutate(token_file(), &m));
    }

    /// Arbitrary bytes framed as Parquet (magic at both ends), so the footer is parsed.
    #[test]
    fn token_file_arbitrary_footer(bytes in prop::collection::vec(any::<u8>(), 0..256), len in any::<u32>()) {
        let mut file = b"PAR1".to_vec();
        file.extend_from_slice(&bytes);
        file.extend_from_slice(&(len % 300).to_le_bytes());
        file.extend_from_slice(b"PAR1");
        validate_refusal_is_clear(&file);
    }
}

/// An upload held in memory, as the blob store would hand it back.
struct Memory(Vec<u8>);

impl crate::store::BlobSource for Memory {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = (offset as usize).min(self.0.len());
        let n = buf.len().min(self.0.len() - start);
        buf[..n].copy_from_slice(&self.0[start..start + n]);
        Ok(n)
    }
}

/// The linker identity the sealed fuzz inputs are sealed to, and the valid
/// token file sealed to it.
fn sealed_fixture() -> &'static (crate::secrets::LinkerIdentity, Vec<u8>) {
    static SEALED: OnceLock<(crate::secrets::LinkerIdentity, Vec<u8>)> = OnceLock::new();
    SEALED.get_or_init(|| {
        let identity = crate::secrets::LinkerIdentity::generate();
        let recipient: age::x25519::Recipient =
            identity.recipient().parse().expect("the recipient parses");
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .expect("an encryptor");
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).expect("the header writes");
        std::io::Write::write_all(&mut writer, token_file()).expect("the payload writes");
        writer.finish().expect("the file closes");
        (identity, out)
    })
}

/// Opens and validates a sealed upload as the linker does.
fn open_sealed(bytes: &[u8]) -> Result<(), crate::validate::Refusal> {
    let (identity, _) = sealed_fixture();
    let blob = crate::store::Blob::new(Memory(bytes.to_vec()));
    let plain = crate::sealed::open(blob, identity)?;
    check_token_reader(plain, FINGERPRINT, DATASET).map(|_| ())
}

#[test]
fn the_valid_sealed_upload_is_accepted() {
    open_sealed(&sealed_fixture().1).expect("the sealed fuzz token file opens and is valid");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Mutations of a sealed token file: refused with a code, a message and
    /// a next step, never a panic; an edit of the header or payload is
    /// never accepted (age authenticates both).
    #[test]
    fn sealed_upload_mutated(m in mutations()) {
        let valid = &sealed_fixture().1;
        let bytes = mutate(valid, &m);
        match open_sealed(&bytes) {
            Ok(()) => prop_assert_eq!(&bytes, valid, "a changed sealed file was accepted"),
            Err(refusal) => {
                prop_assert!(!refusal.code.is_empty());
                prop_assert!(!refusal.message.trim().is_empty());
                prop_assert!(!refusal.hint.trim().is_empty());
            }
        }
    }
}

/// A valid re-key map (issue 16), as `pprl-client rekey` writes one.
fn rekey_map_text() -> String {
    use pprl_specs::key::{Fingerprint, KeyId};
    use pprl_specs::rekeymap::{MapKey, RekeyMap};
    RekeyMap {
        dataset: "probation_caseload".to_owned(),
        old_key: MapKey {
            fingerprint: Fingerprint::parse("0011223344556677").expect("a fingerprint"),
            key_id: Some(KeyId::FIRST),
        },
        new_key: MapKey {
            fingerprint: Fingerprint::parse("8899aabbccddeeff").expect("a fingerprint"),
            key_id: KeyId::try_new(2),
        },
        pairs: (0u8..20).map(|i| ([i; 16], [i ^ 0xff; 16])).collect(),
    }
    .render()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Mutations of a re-key map, and arbitrary bytes: parsed or refused
    /// with a message naming a line or a rule, never a panic, and the
    /// message never echoes the input's references.
    #[test]
    fn rekey_map_mutated(m in mutations()) {
        let valid = rekey_map_text();
        let bytes = mutate(valid.as_bytes(), &m);
        if let Err(e) = pprl_specs::rekeymap::RekeyMap::parse(&bytes) {
            let message = e.to_string();
            prop_assert!(message.starts_with("re-key map: "), "{}", message);
            prop_assert!(!message.contains(&hex::encode([3u8; 16])), "{}", message);
        }
    }

    #[test]
    fn rekey_map_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = pprl_specs::rekeymap::RekeyMap::parse(&bytes);
    }
}

#[test]
fn the_valid_rekey_map_is_accepted() {
    let map = pprl_specs::rekeymap::RekeyMap::parse(rekey_map_text().as_bytes())
        .expect("the fuzz re-key map is valid");
    assert_eq!(map.pairs.len(), 20);
}
