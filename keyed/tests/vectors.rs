//! The committed test vectors are what the code generates, and they say what
//! the spec says.

use serde_json::Value;

const COMMITTED: &str = include_str!("../../specs/vectors/v2.json");

#[test]
fn committed_vectors_are_up_to_date() {
    let generated = pprl_keyed::vectors::generate();
    assert!(
        generated == COMMITTED,
        "specs/vectors/v2.json is stale: run `cargo run -p pprl-keyed --example gen-vectors` and commit the result"
    );
}

fn doc() -> Value {
    serde_json::from_str(COMMITTED).expect("the vector file is JSON")
}

#[test]
fn vectors_pin_the_same_person_spelled_differently() {
    let doc = doc();
    let records = doc["records"]["records"].as_array().expect("records array");
    let token = |r: usize, name: &str| {
        records[r]["match_keys"]
            .as_array()
            .expect("match keys")
            .iter()
            .find(|k| k["name"] == name)
            .expect("key present")["token"]
            .clone()
    };
    // "John Paul Smith" and "jon smith": different first names, same family and dob.
    assert_ne!(token(0, "first_family_dob"), token(1, "first_family_dob"));
    assert_eq!(
        token(0, "initial_family_dob_sex"),
        token(1, "initial_family_dob_sex")
    );
    // names swapped
    assert_eq!(token(0, "swapped_names_dob"), token(2, "swapped_names_dob"));
    // day and month transposed
    assert_eq!(
        token(0, "first_family_dob_daymonth"),
        token(3, "first_family_dob_daymonth")
    );
    // Bill / William O'Neil
    assert_eq!(
        token(4, "nickname_family_dob"),
        token(5, "nickname_family_dob")
    );
    // a key with a missing component is null
    assert_eq!(token(3, "names_dob_postcode"), Value::Null);
    // the NHS number alone links record 7 to record 0
    assert_eq!(token(0, "nhs_number"), token(7, "nhs_number"));
    assert_eq!(records[7]["bloom"], Value::Null);
    // The keys `pprl/v2` appended: a changed family name and a move keep
    // `first_dob`; a changed first name keeps `family_dob`.
    assert_eq!(token(0, "first_dob"), token(8, "first_dob"));
    assert_ne!(token(0, "first_dob"), Value::Null);
    for name in ["first_family_dob", "family_dob", "nickname_dob_district"] {
        assert_ne!(token(0, name), token(8, name), "{name}");
    }
    assert_eq!(token(0, "family_dob"), token(1, "family_dob"));
}

#[test]
fn each_key_s_message_names_the_version_that_added_it() {
    let doc = doc();
    let keys = doc["records"]["records"][0]["match_keys"]
        .as_array()
        .expect("match keys");
    let names: Vec<&str> = keys
        .iter()
        .map(|k| k["name"].as_str().expect("a name"))
        .collect();
    let v1: Vec<&str> = pprl_specs::matchkey::match_keys(pprl_specs::Version::V1)
        .iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(
        &names[..17],
        &v1[..],
        "pprl/v2 keeps the pprl/v1 keys, in order"
    );
    assert_eq!(&names[17..], &["first_dob", "family_dob"]);
    let mut formed = 0;
    for (i, key) in keys.iter().enumerate() {
        let Some(message) = key["message_hex"].as_str() else {
            continue;
        };
        formed += 1;
        let message = hex::decode(message).expect("hex");
        let prefix: &[u8] = if i < 17 {
            b"pprl/v1|mk|"
        } else {
            b"pprl/v2|mk|"
        };
        assert!(message.starts_with(prefix), "{}", names[i]);
    }
    assert!(formed >= 12, "record 0 forms most keys");
    assert_eq!(
        hex::decode(keys[17]["message_hex"].as_str().unwrap()).unwrap(),
        b"pprl/v2|mk|first_dob\x1eJOHN\x1f19800203"
    );
}

#[test]
fn vectors_include_negative_cases() {
    let doc = doc();
    for group in ["fail_key_file", "fail_attribute_name"] {
        let cases = doc["failures"][group].as_array().expect("failure group");
        assert!(!cases.is_empty());
        for case in cases {
            assert!(
                case["error"].is_string(),
                "{group}: {case} must raise an error"
            );
        }
    }
}

#[test]
fn the_rekey_map_vector_pairs_each_ids_references_under_both_keys() {
    use pprl_keyed::key::ProjectKey;
    use pprl_keyed::matchkey::MatchKeyHasher;
    use pprl_specs::rekeymap::RekeyMap;
    let v = &doc()["rekey_map"];
    let key = |field: &str| {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(v[field].as_str().expect("a key"), &mut bytes).expect("hex");
        ProjectKey::from_bytes(bytes)
    };
    let (old, new) = (key("old_project_key"), key("new_project_key"));
    let map =
        RekeyMap::parse(v["map"].as_str().expect("a map").as_bytes()).expect("the map parses");
    let new_file = ProjectKey::from_key_file(v["new_key_file"].as_str().expect("a key file"))
        .expect("the key file parses");
    assert_eq!(new_file.expose_secret(), new.expose_secret());
    assert_eq!(new_file.id().map(|id| id.get()), Some(2));
    assert_eq!(map.old_key.fingerprint, old.fingerprint());
    assert_eq!(map.new_key.fingerprint, new.fingerprint());
    assert_eq!(map.new_key.key_id, new_file.id());
    let dataset = v["dataset"].as_str().expect("a dataset");
    let (o, n) = (MatchKeyHasher::new(&old), MatchKeyHasher::new(&new));
    let mut want: Vec<_> = v["record_ids"]
        .as_array()
        .expect("record ids")
        .iter()
        .map(|id| {
            let id = id.as_str().expect("an id");
            (o.record_ref(dataset, id), n.record_ref(dataset, id))
        })
        .collect();
    want.sort_unstable();
    assert_eq!(map.pairs, want);
}
