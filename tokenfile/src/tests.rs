//! The reader against small token files written here with the spec schema
//! (the client's writer is not a dependency of this crate), and against the
//! ways a file can be broken.

use std::collections::BTreeMap;

use arrow_array::{ArrayRef, FixedSizeBinaryArray, Int64Array};
use arrow_schema::DataType;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use pprl_specs::SPEC_VERSION;
use pprl_specs::tokenfile::{AttributeSpec, AttributeType, BloomParams, QualityCounts, schema_of};

use super::*;

fn manifest(rows: u64, attributes: Vec<AttributeSpec>) -> Manifest {
    Manifest {
        spec_version: SPEC_VERSION.to_owned(),
        key_fingerprint: "0011223344556677".to_owned(),
        key_id: None,
        dataset: "probation".to_owned(),
        row_count: rows,
        created_at: "2026-01-01T00:00:00Z".to_owned(),
        client_version: "test".to_owned(),
        match_keys: MATCH_KEYS.iter().map(|d| d.name.to_owned()).collect(),
        bloom: BloomParams::v1(),
        attributes,
        quality: QualityCounts {
            identifiers: BTreeMap::new(),
            ..QualityCounts::default()
        },
    }
}

fn age() -> AttributeSpec {
    AttributeSpec {
        name: "age".to_owned(),
        kind: AttributeType::Integer,
        precision: None,
    }
}

/// A token file of `rows` rows: row `i`'s record reference is `i` in every
/// byte, key `k` is present on even rows only, the encoding on every row.
fn file_with(rows: usize, manifest_json: Option<String>, null_ref: bool) -> Bytes {
    file_of(Version::CURRENT, rows, manifest_json, null_ref)
}

/// [`file_with`] with the columns of `version`.
fn file_of(version: Version, rows: usize, manifest_json: Option<String>, null_ref: bool) -> Bytes {
    let attrs = vec![age()];
    let schema = Arc::new(schema_of(version, &attrs));
    let fixed = |width: usize, present: &dyn Fn(usize) -> bool| -> ArrayRef {
        let values: Vec<Option<Vec<u8>>> = (0..rows)
            .map(|i| present(i).then(|| vec![i as u8; width]))
            .collect();
        std::sync::Arc::new(
            FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                values.iter().map(|v| v.as_deref()),
                width as i32,
            )
            .expect("fixed-size values"),
        )
    };
    let mut columns: Vec<ArrayRef> = vec![fixed(TOKEN_LEN, &|i| !(null_ref && i == 1))];
    for _ in matchkey::match_keys(version) {
        columns.push(fixed(TOKEN_LEN, &|i| i % 2 == 0));
    }
    columns.push(fixed(BLOOM_BYTES, &|_| true));
    columns.push(std::sync::Arc::new(Int64Array::from_iter_values(
        (0..rows).map(|i| 20 + i as i64),
    )));
    // A schema that says record_ref is nullable lets the broken file be written.
    let schema = if null_ref {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[0] = fields[0].clone().with_nullable(true);
        Arc::new(Schema::new(fields))
    } else {
        schema
    };
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("a batch");
    let kv = manifest_json.map(|json| vec![KeyValue::new(MANIFEST_METADATA_KEY.to_owned(), json)]);
    let props = WriterProperties::builder()
        .set_key_value_metadata(kv)
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema, Some(props)).expect("writer");
    writer.write(&batch).expect("rows written");
    writer.close().expect("file closed");
    Bytes::from(out)
}

fn valid(rows: usize) -> Bytes {
    file_with(
        rows,
        Some(manifest(rows as u64, vec![age()]).to_json()),
        false,
    )
}

fn attribute_names(file: &TokenFile<Bytes>) -> Vec<String> {
    file.attribute_fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn a_valid_file_opens_checks_counts_and_reads() {
    let file = TokenFile::open(valid(5)).expect("opens");
    assert_eq!(file.manifest().dataset, "probation");
    assert_eq!(file.footer_rows(), 5);
    file.check_structure().expect("the spec's structure");
    assert_eq!(attribute_names(&file), ["age"]);
    assert_eq!(TokenFile::open(valid(5)).unwrap().count_rows(), Ok(5));
    let batches: Vec<TokenBatch> = TokenFile::open(valid(5))
        .unwrap()
        .batches()
        .unwrap()
        .collect::<Result<_, _>>()
        .expect("every batch reads");
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(b.len(), 5);
    assert_eq!(b.record_ref.value(3), [3u8; TOKEN_LEN]);
    assert_eq!(b.keys.len(), MATCH_KEY_COUNT);
    assert!(b.keys[4].is_valid(2) && !b.keys[4].is_valid(3));
    assert_eq!(b.bloom.value(4).len(), BLOOM_BYTES);
    assert_eq!(b.attributes.num_columns(), 1);
    assert_eq!(b.attributes.schema().field(0).data_type(), &DataType::Int64);
}

#[test]
fn a_v1_file_reads_with_the_keys_v2_appended_all_null() {
    let mut m = manifest(4, vec![age()]);
    m.spec_version = Version::V1.as_str().to_owned();
    m.match_keys = matchkey::match_keys(Version::V1)
        .iter()
        .map(|d| d.name.to_owned())
        .collect();
    let bytes = file_of(Version::V1, 4, Some(m.to_json()), false);
    let file = TokenFile::open(bytes.clone()).expect("a v1 file opens");
    assert_eq!(file.version(), Version::V1);
    file.check_structure().expect("a v1 file follows v1");
    assert_eq!(attribute_names(&file), ["age"]);
    assert_eq!(TokenFile::open(bytes.clone()).unwrap().count_rows(), Ok(4));
    let b = TokenFile::open(bytes)
        .unwrap()
        .batches()
        .unwrap()
        .next()
        .expect("a batch")
        .expect("it reads");
    assert_eq!(b.keys.len(), MATCH_KEY_COUNT);
    let v1 = matchkey::V1_MATCH_KEY_COUNT;
    assert!(b.keys[v1 - 1].is_valid(0), "the v1 keys are read");
    for k in v1..MATCH_KEY_COUNT {
        assert_eq!(b.keys[k].len(), 4);
        assert_eq!(b.keys[k].null_count(), 4, "key {k} is null in a v1 file");
    }
    // A file that names v1 but carries the v2 columns is refused.
    let mut m = manifest(2, vec![age()]);
    m.spec_version = Version::V1.as_str().to_owned();
    let file = TokenFile::open(file_with(2, Some(m.to_json()), false)).unwrap();
    assert_eq!(
        file.check_structure(),
        Err(ReadError::Structure(ManifestError::MatchKeys))
    );
}

#[test]
fn bytes_that_are_not_parquet_are_refused() {
    for bytes in [Bytes::new(), Bytes::from_static(b"record_id,name\n1,Ann\n")] {
        assert!(matches!(
            TokenFile::open(bytes),
            Err(ReadError::NotParquet(_))
        ));
    }
    // A valid file cut short loses its footer.
    let whole = valid(3);
    let cut = whole.slice(..whole.len() - 10);
    assert!(matches!(
        TokenFile::open(cut),
        Err(ReadError::NotParquet(_))
    ));
}

#[test]
fn a_parquet_file_without_a_manifest_is_not_a_token_file() {
    assert_eq!(
        TokenFile::open(file_with(2, None, false)).unwrap_err(),
        ReadError::NoManifest
    );
    assert!(matches!(
        TokenFile::open(file_with(2, Some("{not json".to_owned()), false)).unwrap_err(),
        ReadError::BadManifest(ManifestError::Json(_))
    ));
}

#[test]
fn another_spec_version_is_refused_on_open() {
    let mut m = manifest(2, vec![age()]);
    m.spec_version = "pprl/v0".to_owned();
    let err = TokenFile::open(file_with(2, Some(m.to_json()), false)).unwrap_err();
    assert_eq!(
        err,
        ReadError::SpecVersion {
            found: "pprl/v0".to_owned(),
            expected: READABLE_SPEC_VERSIONS
        }
    );
    assert!(err.to_string().contains("pprl/v0"));
}

#[test]
fn a_schema_the_manifest_does_not_declare_is_refused() {
    // The manifest declares no attribute, the file has `age`.
    let file = TokenFile::open(file_with(2, Some(manifest(2, vec![]).to_json()), false)).unwrap();
    assert_eq!(
        file.check_structure(),
        Err(ReadError::Structure(ManifestError::UndeclaredColumn(
            "age".to_owned()
        )))
    );
    let mut m = manifest(2, vec![age()]);
    m.match_keys.pop();
    let file = TokenFile::open(file_with(2, Some(m.to_json()), false)).unwrap();
    assert_eq!(
        file.check_structure(),
        Err(ReadError::Structure(ManifestError::MatchKeys))
    );
}

#[test]
fn row_counts_must_agree() {
    let file = TokenFile::open(file_with(
        3,
        Some(manifest(4, vec![age()]).to_json()),
        false,
    ))
    .unwrap();
    assert_eq!(
        file.check_structure(),
        Err(ReadError::RowCount {
            manifest: 4,
            file: 3
        })
    );
    assert_eq!(
        file.count_rows(),
        Err(ReadError::RowCount {
            manifest: 4,
            file: 3
        })
    );
}

#[test]
fn a_row_without_a_record_reference_is_refused() {
    let bytes = file_with(3, Some(manifest(3, vec![age()]).to_json()), true);
    assert_eq!(
        TokenFile::open(bytes.clone()).unwrap().count_rows(),
        Err(ReadError::NullRecordRef)
    );
    let first = TokenFile::open(bytes).unwrap().batches().unwrap().next();
    assert!(matches!(first, Some(Err(ReadError::NullRecordRef))));
}

#[test]
fn a_damaged_data_page_is_found_by_count_rows() {
    // Flip bytes in the middle of the first column chunk (the data pages,
    // not the footer): the footer still reads, the pages do not.
    let whole = valid(200);
    let mut bytes = whole.to_vec();
    for b in &mut bytes[8..60] {
        *b ^= 0xa5;
    }
    let file = TokenFile::open(Bytes::from(bytes)).expect("the footer is intact");
    assert!(matches!(file.count_rows(), Err(ReadError::Damaged(_))));
}

#[test]
fn errors_name_the_rule_not_a_value() {
    let shown = ReadError::Structure(ManifestError::MissingColumn("mk_x".to_owned())).to_string();
    assert_eq!(
        shown,
        "the file does not follow the spec version it names: column `mk_x` is missing"
    );
}

#[test]
fn a_file_without_the_opening_magic_is_refused() {
    // The reader checks only the closing magic: the opening one is checked here.
    let mut bytes = valid(2).to_vec();
    bytes[..4].copy_from_slice(b"PAR0");
    assert_eq!(
        TokenFile::open(Bytes::from(bytes)).unwrap_err(),
        ReadError::NotParquet("it does not start with `PAR1`".to_owned())
    );
}

#[test]
fn the_quiet_hook_passes_on_panics_outside_the_decoder() {
    quiet_decoder_panics();
    let caught = std::panic::catch_unwind(|| panic!("an ordinary panic"));
    assert!(caught.is_err());
    assert!(!DECODING.with(std::cell::Cell::get), "not decoding here");
}
