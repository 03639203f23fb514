//! The committed test vectors are what the code generates, and they say what
//! the spec says.

use serde_json::Value;

const COMMITTED: &str = include_str!("../../specs/vectors/v1.json");

#[test]
fn committed_vectors_are_up_to_date() {
    let generated = pprl_keyed::vectors::generate();
    assert!(
        generated == COMMITTED,
        "specs/vectors/v1.json is stale: run `cargo run -p pprl-keyed --example gen-vectors` and commit the result"
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
