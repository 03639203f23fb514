//! Deterministic match keys (spec §5).
//!
//! Each match key is HMAC-SHA-256, under the key derived with
//! [`MATCH_KEY_CONTEXT`](crate::key::MATCH_KEY_CONTEXT), of a canonical byte
//! string built from normalised components; the token is the first
//! [`TOKEN_LEN`] bytes of the tag. A key whose components are not all present
//! is null: it is never the hash of an empty string.

use chrono::Datelike;
use ring::hmac;
use zeroize::Zeroizing;

use crate::key::{MATCH_KEY_CONTEXT, ProjectKey, RECORD_REF_CONTEXT};
use crate::normalise::{nickname_root, soundex};
use crate::record::NormalisedRecord;

/// Length of a token in bytes (HMAC-SHA-256 truncated to 128 bits).
pub const TOKEN_LEN: usize = 16;

/// A keyed token.
pub type Token = [u8; TOKEN_LEN];

/// Prefix of every match-key message (spec §5.1).
pub const MATCH_KEY_PREFIX: &[u8] = b"pprl/v1|mk|";
/// Prefix of every record-reference message (spec §5.3).
pub const RECORD_REF_PREFIX: &[u8] = b"pprl/v1|rr|";
/// Separates the key name from its components (ASCII record separator).
pub const NAME_SEPARATOR: u8 = 0x1e;
/// Separates components (ASCII unit separator).
pub const COMPONENT_SEPARATOR: u8 = 0x1f;

/// One component of a match key (spec §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    /// All given names, space-separated.
    GivenNamesAll,
    /// The first given name.
    FirstGiven,
    /// The first given name mapped through the nickname table.
    FirstGivenRoot,
    /// The first letter of the first given name.
    FirstInitial,
    /// The family name.
    Family,
    /// American Soundex of the family name.
    FamilySoundex,
    /// The first given name and the family name, in byte order (names swapped).
    FirstAndFamilySorted,
    /// Date of birth as `YYYYMMDD`.
    DateOfBirth,
    /// Date of birth as `YYYY` then the smaller then the larger of day and month.
    DateOfBirthDayMonthSorted,
    /// `M`, `F` or `X`.
    Sex,
    /// Full postcode, `SW1A 1AA`.
    Postcode,
    NhsNumber,
    NiNumber,
    PncId,
    CroNumber,
    PrisonNumber,
}

/// A match key: its stable name and components, in order.
#[derive(Debug)]
pub struct MatchKeyDef {
    /// Wire-stable name; the token-file column is `mk_<name>`.
    pub name: &'static str,
    pub components: &'static [Component],
}

use Component as C;

/// The match keys of `pprl/v1`, in cascade order (spec §5.2). Never reorder
/// or reassign: a new key is appended and the spec version raised.
pub const MATCH_KEYS: &[MatchKeyDef] = &[
    MatchKeyDef {
        name: "names_dob_postcode",
        components: &[C::GivenNamesAll, C::Family, C::DateOfBirth, C::Postcode],
    },
    MatchKeyDef { name: "nhs_number", components: &[C::NhsNumber] },
    MatchKeyDef { name: "ni_number", components: &[C::NiNumber] },
    MatchKeyDef { name: "pnc_id", components: &[C::PncId] },
    MatchKeyDef { name: "cro_number", components: &[C::CroNumber] },
    MatchKeyDef { name: "prison_number", components: &[C::PrisonNumber] },
    MatchKeyDef {
        name: "first_family_dob_sex",
        components: &[C::FirstGiven, C::Family, C::DateOfBirth, C::Sex],
    },
    MatchKeyDef {
        name: "first_family_dob",
        components: &[C::FirstGiven, C::Family, C::DateOfBirth],
    },
    MatchKeyDef {
        name: "nickname_family_dob",
        components: &[C::FirstGivenRoot, C::Family, C::DateOfBirth],
    },
    MatchKeyDef {
        name: "swapped_names_dob",
        components: &[C::FirstAndFamilySorted, C::DateOfBirth],
    },
    MatchKeyDef {
        name: "first_family_dob_daymonth",
        components: &[C::FirstGiven, C::Family, C::DateOfBirthDayMonthSorted],
    },
    MatchKeyDef {
        name: "initial_family_dob_sex",
        components: &[C::FirstInitial, C::Family, C::DateOfBirth, C::Sex],
    },
    MatchKeyDef {
        name: "soundex_initial_dob",
        components: &[C::FamilySoundex, C::FirstInitial, C::DateOfBirth],
    },
    MatchKeyDef {
        name: "first_family_postcode",
        components: &[C::FirstGiven, C::Family, C::Postcode],
    },
];

/// Number of match keys in `pprl/v1`.
pub const MATCH_KEY_COUNT: usize = 14;
const _: () = assert!(MATCH_KEYS.len() == MATCH_KEY_COUNT);

/// The token-file column that holds a match key.
pub fn column_name(def: &MatchKeyDef) -> String {
    format!("mk_{}", def.name)
}

/// Appends the canonical bytes of one component; returns `false` if it is missing.
fn push_component(out: &mut Vec<u8>, record: &NormalisedRecord, component: Component) -> bool {
    let given = record.given_names.present();
    let family = record.family_name.present();
    let dob = record.date_of_birth.present();
    match component {
        C::GivenNamesAll => given.map(|g| out.extend_from_slice(g.joined().as_bytes())).is_some(),
        C::FirstGiven => given.map(|g| out.extend_from_slice(g.first().as_bytes())).is_some(),
        C::FirstGivenRoot => given
            .map(|g| out.extend_from_slice(nickname_root(g.first()).as_bytes()))
            .is_some(),
        C::FirstInitial => given.map(|g| out.extend_from_slice(&g.first().as_bytes()[..1])).is_some(),
        C::Family => family.map(|f| out.extend_from_slice(f.as_bytes())).is_some(),
        C::FamilySoundex => family.map(|f| out.extend_from_slice(soundex(f).as_bytes())).is_some(),
        C::FirstAndFamilySorted => match (given, family) {
            (Some(g), Some(f)) => {
                let (a, b) = if g.first() <= f.as_str() { (g.first(), f.as_str()) } else { (f.as_str(), g.first()) };
                out.extend_from_slice(a.as_bytes());
                out.push(COMPONENT_SEPARATOR);
                out.extend_from_slice(b.as_bytes());
                true
            }
            _ => false,
        },
        C::DateOfBirth => dob
            .map(|d| push_date(out, d.year(), d.month(), d.day()))
            .is_some(),
        C::DateOfBirthDayMonthSorted => dob
            .map(|d| push_date(out, d.year(), d.month().min(d.day()), d.month().max(d.day())))
            .is_some(),
        C::Sex => record.sex.present().map(|s| out.extend_from_slice(s.code().as_bytes())).is_some(),
        C::Postcode => record
            .postcode
            .present()
            .map(|p| out.extend_from_slice(p.full().as_bytes()))
            .is_some(),
        C::NhsNumber => push_str(out, record.nhs_number.present()),
        C::NiNumber => push_str(out, record.ni_number.present()),
        C::PncId => push_str(out, record.pnc_id.present()),
        C::CroNumber => push_str(out, record.cro_number.present()),
        C::PrisonNumber => push_str(out, record.prison_number.present()),
    }
}

fn push_str(out: &mut Vec<u8>, value: Option<&String>) -> bool {
    value.map(|v| out.extend_from_slice(v.as_bytes())).is_some()
}

/// Writes `YYYY`, `MM`, `DD` as eight ASCII digits.
fn push_date(out: &mut Vec<u8>, year: i32, a: u32, b: u32) {
    use std::io::Write;
    // Dates of birth are validated to 1890..=as_of, so the year has four digits.
    write!(out, "{year:04}{a:02}{b:02}").expect("writing to a Vec cannot fail");
}

/// The canonical message for one match key, or `None` if a component is missing.
///
/// The message holds plaintext identifiers: it is wiped when dropped.
pub fn canonical_message(def: &MatchKeyDef, record: &NormalisedRecord) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(96));
    out.extend_from_slice(MATCH_KEY_PREFIX);
    out.extend_from_slice(def.name.as_bytes());
    out.push(NAME_SEPARATOR);
    for (i, component) in def.components.iter().enumerate() {
        if i > 0 {
            out.push(COMPONENT_SEPARATOR);
        }
        if !push_component(&mut out, record, *component) {
            return None;
        }
    }
    Some(out)
}

/// Computes match-key tokens and record references under one project key.
///
/// Holds the derived HMAC keys. `ring` keeps its own precomputed HMAC state,
/// which it does not wipe; the derived key bytes themselves are wiped.
pub struct MatchKeyHasher {
    match_key: hmac::Key,
    record_ref: hmac::Key,
}

impl MatchKeyHasher {
    /// Derives the HMAC keys from the project key.
    pub fn new(key: &ProjectKey) -> Self {
        let mk = key.derive(MATCH_KEY_CONTEXT);
        let rr = key.derive(RECORD_REF_CONTEXT);
        MatchKeyHasher {
            match_key: hmac::Key::new(hmac::HMAC_SHA256, mk.expose_secret()),
            record_ref: hmac::Key::new(hmac::HMAC_SHA256, rr.expose_secret()),
        }
    }

    /// Every match-key token of a record, in [`MATCH_KEYS`] order.
    pub fn tokens(&self, record: &NormalisedRecord) -> [Option<Token>; MATCH_KEY_COUNT] {
        std::array::from_fn(|i| {
            canonical_message(&MATCH_KEYS[i], record).map(|msg| truncate(hmac::sign(&self.match_key, &msg)))
        })
    }

    /// The keyed reference of a partner's record number within a dataset (spec §5.3).
    pub fn record_ref(&self, dataset: &str, record_id: &str) -> Token {
        let mut msg = Zeroizing::new(Vec::with_capacity(64));
        msg.extend_from_slice(RECORD_REF_PREFIX);
        msg.extend_from_slice(dataset.as_bytes());
        msg.push(NAME_SEPARATOR);
        msg.extend_from_slice(record_id.trim().as_bytes());
        truncate(hmac::sign(&self.record_ref, &msg))
    }
}

impl std::fmt::Debug for MatchKeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MatchKeyHasher(<redacted>)")
    }
}

fn truncate(tag: hmac::Tag) -> Token {
    let mut token = [0u8; TOKEN_LEN];
    token.copy_from_slice(&tag.as_ref()[..TOKEN_LEN]);
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::DateOrder;
    use crate::record::{NormaliseOptions, RawRecord};
    use chrono::NaiveDate;

    fn options() -> NormaliseOptions {
        NormaliseOptions {
            date_order: DateOrder::DayFirst,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
        }
    }

    fn record(given: &str, family: &str, dob: &str, sex: &str, postcode: &str) -> NormalisedRecord {
        let raw = RawRecord {
            given_names: Some(given),
            family_name: Some(family),
            date_of_birth: Some(dob),
            sex: Some(sex),
            postcode: Some(postcode),
            ..RawRecord::default()
        };
        NormalisedRecord::from_raw(&raw, &options())
    }

    fn hasher() -> MatchKeyHasher {
        MatchKeyHasher::new(&ProjectKey::from_bytes([1u8; 32]))
    }

    fn index(name: &str) -> usize {
        MATCH_KEYS.iter().position(|d| d.name == name).expect("known key name")
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in MATCH_KEYS.iter().enumerate() {
            assert!(MATCH_KEYS[i + 1..].iter().all(|b| b.name != a.name), "{}", a.name);
        }
    }

    #[test]
    fn missing_component_gives_null_not_hash_of_empty() {
        let h = hasher();
        let tokens = h.tokens(&record("John", "Smith", "", "M", "SW1A 1AA"));
        assert!(tokens[index("names_dob_postcode")].is_none());
        assert!(tokens[index("first_family_postcode")].is_some());
        assert!(tokens[index("nhs_number")].is_none());
    }

    #[test]
    fn spelling_variants_share_tokens() {
        let h = hasher();
        let a = h.tokens(&record("Seán", "O'Neil", "03/02/1980", "m", "sw1a1aa"));
        let b = h.tokens(&record("SEAN", "ONEIL", "1980-02-03", "Male", "SW1A 1AA"));
        assert_eq!(a, b);
        assert!(a[index("names_dob_postcode")].is_some());
    }

    #[test]
    fn swapped_names_and_day_month_keys_survive_the_swap() {
        let h = hasher();
        let a = h.tokens(&record("John", "Smith", "03/02/1980", "M", "SW1A 1AA"));
        let swapped = h.tokens(&record("Smith", "John", "03/02/1980", "M", "SW1A 1AA"));
        let dm = h.tokens(&record("John", "Smith", "02/03/1980", "M", "SW1A 1AA"));
        let nick = h.tokens(&record("Jack", "Smith", "03/02/1980", "M", "SW1A 1AA"));
        let sw = index("swapped_names_dob");
        assert_eq!(a[sw], swapped[sw]);
        assert_ne!(a[index("first_family_dob")], swapped[index("first_family_dob")]);
        let d = index("first_family_dob_daymonth");
        assert_eq!(a[d], dm[d]);
        assert_ne!(a[index("first_family_dob")], dm[index("first_family_dob")]);
        assert_ne!(a[index("first_family_dob")], nick[index("first_family_dob")]);
    }

    #[test]
    fn keys_with_equal_components_still_differ() {
        let h = hasher();
        let t = h.tokens(&record("John", "Smith", "03/02/1980", "M", "SW1A 1AA"));
        assert_ne!(t[index("first_family_dob")], t[index("nickname_family_dob")]);
    }

    #[test]
    fn record_refs_are_keyed_per_dataset() {
        let h = hasher();
        assert_eq!(h.record_ref("probation", "A1"), h.record_ref("probation", " A1 "));
        assert_ne!(h.record_ref("probation", "A1"), h.record_ref("police", "A1"));
        let other = MatchKeyHasher::new(&ProjectKey::from_bytes([2u8; 32]));
        assert_ne!(h.record_ref("probation", "A1"), other.record_ref("probation", "A1"));
    }
}
