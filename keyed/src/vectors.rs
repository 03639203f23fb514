//! The test vectors of `pprl/v2` and the `pprl/v1` it extends (spec §8), generated from this crate.
//!
//! [`generate`] is pure: it returns the JSON text. The example
//! `gen-vectors` writes it to `specs/vectors/v2.json`, and the `vectors` test
//! fails when the committed file is stale.

use chrono::NaiveDate;
use serde_json::{Value, json};

use pprl_specs::bloom::dice;
use pprl_specs::key::KeyId;
use pprl_specs::key::{
    BLOOM_HASH_CONTEXT, BLOOM_PERMUTATION_CONTEXT, KEY_LEN, MATCH_KEY_CONTEXT, RECORD_REF_CONTEXT,
};
use pprl_specs::matchkey::{MATCH_KEYS, canonical_message};
use pprl_specs::normalise::{self, DateOrder, Field};
use pprl_specs::record::{NormaliseOptions, NormalisedRecord, RawRecord};
use pprl_specs::rekeymap::{MapKey, RekeyMap};
use pprl_specs::tokenfile::check_attribute_name;

use crate::bloom::BloomEncoder;
use crate::key::ProjectKey;
use crate::matchkey::MatchKeyHasher;

/// The vectors' key: bytes 0, 1, …, 31. Never use it for real data.
pub fn test_key() -> ProjectKey {
    ProjectKey::from_bytes(std::array::from_fn(|i| i as u8))
}

/// The vectors' second key, key id 2 (spec §2.4, the re-key map of §10.6):
/// bytes 32, 33, …, 63. Never use it for real data.
pub fn test_key_2() -> ProjectKey {
    ProjectKey::from_bytes(std::array::from_fn(|i| (i + 32) as u8))
        .with_id(KeyId::try_new(2).expect("2 is a key id"))
}

/// A re-key map (spec §10.6) from [`test_key`] to [`test_key_2`] for three
/// record ids of one dataset.
fn rekey_map() -> Value {
    let (old, new) = (test_key(), test_key_2());
    let (o, n) = (MatchKeyHasher::new(&old), MatchKeyHasher::new(&new));
    let dataset = "probation_caseload";
    let ids = ["PR-000001", "PR-000002", "A 17/2"];
    let mut pairs: Vec<_> = ids
        .iter()
        .map(|id| (o.record_ref(dataset, id), n.record_ref(dataset, id)))
        .collect();
    pairs.sort_unstable();
    let map = RekeyMap {
        dataset: dataset.to_owned(),
        old_key: MapKey {
            fingerprint: old.fingerprint(),
            key_id: old.id(),
        },
        new_key: MapKey {
            fingerprint: new.fingerprint(),
            key_id: new.id(),
        },
        pairs,
    };
    json!({
        "old_project_key": hex::encode(old.expose_secret()),
        "new_project_key": hex::encode(new.expose_secret()),
        "new_key_file": new.to_key_file().as_str(),
        "dataset": dataset,
        "record_ids": ids,
        "map": map.render(),
    })
}

/// The fixed day that bounds dates of birth in the vectors.
pub fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date")
}

fn state<T>(field: &Field<T>, show: impl Fn(&T) -> Value) -> Value {
    match field {
        Field::Present(v) => json!({"state": "present", "canonical": show(v)}),
        Field::Missing => json!({"state": "missing"}),
        Field::Placeholder => json!({"state": "placeholder"}),
        Field::Invalid(r) => json!({"state": "invalid", "reason": r.0}),
    }
}

fn cases<T>(
    inputs: &[&str],
    f: impl Fn(&str) -> Field<T>,
    show: impl Fn(&T) -> Value + Copy,
) -> Value {
    Value::Array(
        inputs
            .iter()
            .map(|i| json!({"input": i, "expect": state(&f(i), show)}))
            .collect(),
    )
}

#[allow(
    clippy::ptr_arg,
    reason = "used as `Fn(&String)` for `Field<String>` values"
)]
fn text(s: &String) -> Value {
    Value::String(s.clone())
}

fn normalisation() -> Value {
    let dob = |s: &str| normalise::date_of_birth(s, DateOrder::DayFirst, as_of());
    json!({
        "given_names": cases(
            &["John", "  mary-ann  ", "Mr John Paul", "Zoë", "O'Neil", "J0hn", "UNKNOWN", "", "Seán Óg"],
            normalise::given_names,
            |g| json!(g.all()),
        ),
        "family_name": cases(
            &["Smith", "Smith-Jones", "O'Neil", "van der Berg", "MÜLLER", "Smith Jr", "N/A", "Sm1th", "Ødegård"],
            normalise::family_name,
            text,
        ),
        "date_of_birth": cases(
            &["03/02/1980", "1980-02-03", "3 Feb 1980", "19800203", "03-02-1980 00:00:00", "31/02/1980", "01/01/1900", "03/02/80", "2030-01-01", ""],
            dob,
            |d| json!(d.format("%Y-%m-%d").to_string()),
        ),
        "sex": cases(&["m", "Female", "2", "X", "U", "unknown", "Q"], normalise::sex, |s| json!(s.code())),
        "postcode": cases(
            &["sw1a 1aa", "SW1A1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "ZZ99 3VZ", "NFA", "12345", "QA1 1AA"],
            normalise::postcode,
            |p| json!({"full": p.full(), "district": p.district(), "sector": p.sector()}),
        ),
        "postcode_any": cases(
            &["4014", " 10115 ", "k1a 0b1", "1234-567", "SW1A-1AA", "sw1a1aa", "AB", "12345678901", "NFA", "ZZ99 3VZ"],
            |v| normalise::postcode_as(v, normalise::PostcodeFormat::Any),
            |p| json!({"full": p.full(), "district": p.district(), "sector": p.sector()}),
        ),
        "nhs_number": cases(&["943 476 5919", "9434765919", "9434765918", "0000000000", "12345"], normalise::nhs_number, text),
        "ni_number": cases(&["AB 12 34 56 C", "ab123456", "QQ123456C", "DA123456A", "GB123456A", "AB000000A"], normalise::ni_number, text),
        "pnc_id": cases(&[&pnc_example(), "2001/0012345Z", "01/1234567Q", "UNKNOWN"], normalise::pnc_id, text),
        "cro_number": cases(&[&cro_example(), "123456/89Z", "NK"], normalise::cro_number, text),
        "prison_number": cases(&["A1234BC", "a 1234 bc", "A0000AA", "1234ABC"], normalise::prison_number, text),
    })
}

/// A valid PNC ID built with the spec's check letter.
fn pnc_example() -> String {
    format!("01/0012345{}", normalise::pnc_check_letter(1, 12345))
}

/// A valid CRO number built with the spec's check letter.
fn cro_example() -> String {
    format!("012345/89{}", normalise::cro_check_letter(12345, 89))
}

/// The whole-record vectors: raw fields of each record.
const RECORDS: &[[&str; 10]] = &[
    // given, family, dob, sex, postcode, nhs, nino, pnc, cro, prison
    [
        "John Paul",
        "Smith",
        "03/02/1980",
        "M",
        "SW1A 1AA",
        "943 476 5919",
        "AB123456C",
        "",
        "",
        "A1234BC",
    ],
    [
        "jon",
        "smith",
        "1980-02-03",
        "male",
        "sw1a1aa",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "Smith",
        "John",
        "03/02/1980",
        "M",
        "LS1 4AP",
        "",
        "",
        "",
        "",
        "",
    ],
    ["John", "Smith", "02/03/1980", "", "", "", "", "", "", ""],
    [
        "Bill",
        "O'Neil",
        "1975-11-21",
        "M",
        "M1 1AE",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "William",
        "ONEIL",
        "21 Nov 1975",
        "1",
        "B33 8TH",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "Zoë",
        "Ødegård-Brown",
        "29/02/1984",
        "F",
        "CR2 6XH",
        "",
        "",
        "",
        "",
        "",
    ],
    ["", "", "", "", "", "9434765919", "", "", "", ""],
    // Record 0's first name and date of birth under another family name,
    // elsewhere: only `first_dob` (a `pprl/v2` key) joins them.
    [
        "John",
        "Brown",
        "03/02/1980",
        "",
        "E1 6AN",
        "",
        "",
        "",
        "",
        "",
    ],
];

fn raw<'a>(fields: &[&'a str; 10]) -> RawRecord<'a> {
    let f = |i: usize| Some(fields[i]);
    RawRecord {
        given_names: f(0),
        family_name: f(1),
        date_of_birth: f(2),
        sex: f(3),
        postcode: f(4),
        nhs_number: f(5),
        ni_number: f(6),
        pnc_id: f(7),
        cro_number: f(8),
        prison_number: f(9),
    }
}

fn records(key: &ProjectKey) -> Value {
    let options = NormaliseOptions {
        date_order: DateOrder::DayFirst,
        as_of: as_of(),
        postcode_format: Default::default(),
    };
    let hasher = MatchKeyHasher::new(key);
    let encoder = BloomEncoder::new(key);
    let mut encodings = Vec::new();
    let mut out = Vec::new();
    for (i, fields) in RECORDS.iter().enumerate() {
        let record = NormalisedRecord::from_raw(&raw(fields), &options);
        let tokens = hasher.tokens(&record);
        let match_keys: Vec<Value> = MATCH_KEYS
            .iter()
            .zip(&tokens)
            .map(|(def, token)| {
                json!({
                    "name": def.name,
                    "message_hex": canonical_message(def, &record).map(|m| hex::encode(&m[..])),
                    "token": token.map(hex::encode),
                })
            })
            .collect();
        let bloom = encoder.encode(&record);
        encodings.push(bloom);
        out.push(json!({
            "raw": {
                "given_names": fields[0], "family_name": fields[1], "date_of_birth": fields[2],
                "sex": fields[3], "postcode": fields[4], "nhs_number": fields[5], "ni_number": fields[6],
                "pnc_id": fields[7], "cro_number": fields[8], "prison_number": fields[9],
            },
            "record_id": format!("R{i:03}"),
            "record_ref": hex::encode(hasher.record_ref("vectors", &format!("R{i:03}"))),
            "match_keys": match_keys,
            "bloom": bloom.map(hex::encode),
        }));
    }
    let mut pairs = Vec::new();
    for (a, b) in [(0, 1), (0, 2), (0, 3), (4, 5), (0, 6)] {
        if let (Some(x), Some(y)) = (&encodings[a], &encodings[b]) {
            pairs.push(json!({"a": a, "b": b, "dice": format!("{:.6}", dice(x, y))}));
        }
    }
    json!({"dataset": "vectors", "records": out, "dice_pairs": pairs})
}

fn failures() -> Value {
    let key_file = |text: &str| json!({"input": text, "error": ProjectKey::from_key_file(text).err().map(|e| e.to_string())});
    let attr = |name: &str| json!({"input": name, "error": check_attribute_name(name).err().map(|e| e.to_string())});
    json!({
        "fail_key_file": [
            key_file("# comment only\n"),
            key_file("pprl-key-v1:00\n"),
            key_file(&format!("pprl-key-v1:{}\n", "g".repeat(KEY_LEN * 2))),
            key_file(&format!("pprl-key-v1:{0}\npprl-key-v1:{0}\n", "00".repeat(KEY_LEN))),
            key_file("secret\n"),
            key_file(&format!("pprl-key-id:2\npprl-key-id:2\npprl-key-v1:{}\n", "00".repeat(KEY_LEN))),
            key_file(&format!("pprl-key-id:0\npprl-key-v1:{}\n", "00".repeat(KEY_LEN))),
        ],
        "fail_attribute_name": [attr("Name"), attr("mk_first"), attr("record_ref"), attr("bloom"), attr("")],
    })
}

/// The vector file's JSON text.
pub fn generate() -> String {
    let key = test_key();
    let derived = |ctx: &str| hex::encode(key.derive(ctx).expose_secret());
    let doc = json!({
        "spec_version": pprl_specs::SPEC_VERSION,
        "generated_by": "cargo run -p pprl-keyed --example gen-vectors",
        "as_of": as_of().format("%Y-%m-%d").to_string(),
        "key": {
            "project_key": hex::encode(key.expose_secret()),
            "fingerprint": key.fingerprint().to_string(),
            "key_file": key.to_key_file().as_str(),
            "derived": {
                MATCH_KEY_CONTEXT: derived(MATCH_KEY_CONTEXT),
                RECORD_REF_CONTEXT: derived(RECORD_REF_CONTEXT),
                BLOOM_HASH_CONTEXT: derived(BLOOM_HASH_CONTEXT),
                BLOOM_PERMUTATION_CONTEXT: derived(BLOOM_PERMUTATION_CONTEXT),
            },
        },
        "normalisation": normalisation(),
        "records": records(&key),
        "rekey_map": rekey_map(),
        "failures": failures(),
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("vectors serialise");
    text.push('\n');
    text
}
