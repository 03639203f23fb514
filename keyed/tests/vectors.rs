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
