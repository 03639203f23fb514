//! Deterministic match keys (spec §5).
//!
//! Each match key is HMAC-SHA-256, under the key derived with
//! [`MATCH_KEY_CONTEXT`](crate::key::MATCH_KEY_CONTEXT), of a canonical byte
//! string built from normalised components; the token is the first
//! [`TOKEN_LEN`] bytes of the tag. A key whose components are not all present
//! is null: it is never the hash of an empty string.

use chrono::Datelike;
use zeroize::Zeroizing;

use crate::Version;
use crate::normalise::{nickname_root, soundex_code};
use crate::record::NormalisedRecord;

/// Length of a token in bytes (HMAC-SHA-256 truncated to 128 bits).
pub const TOKEN_LEN: usize = 16;

/// A keyed token.
pub type Token = [u8; TOKEN_LEN];

/// Prefix of the message of every match key of `pprl/v1` (spec §5.1).
pub const MATCH_KEY_PREFIX: &[u8] = b"pprl/v1|mk|";
/// Prefix of the message of the match keys `pprl/v2` appended (spec §5.1).
pub const MATCH_KEY_PREFIX_V2: &[u8] = b"pprl/v2|mk|";
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
    /// The postcode district (the outward code), `SW1A`.
    PostcodeDistrict,
}

/// A match key: its stable name and components, in order.
#[derive(Debug)]
pub struct MatchKeyDef {
    /// Wire-stable name; the token-file column is `mk_<name>`.
    pub name: &'static str,
    pub components: &'static [Component],
    /// The version that added the key: its message prefix names it (§5.1).
    pub since: Version,
}

impl MatchKeyDef {
    /// The prefix of this key's messages: that of the version that added it.
    pub fn prefix(&self) -> &'static [u8] {
        match self.since {
            Version::V1 => MATCH_KEY_PREFIX,
            Version::V2 => MATCH_KEY_PREFIX_V2,
        }
    }
}

use Component as C;

/// The match keys of `pprl/v2`, in cascade order (spec §5.2): the 17 of
/// `pprl/v1`, then the two blocking keys `pprl/v2` appended. Never reorder
/// or reassign: a new key is appended and the spec version raised.
pub const MATCH_KEYS: &[MatchKeyDef] = &[
    MatchKeyDef {
        name: "names_dob_postcode",
        components: &[C::GivenNamesAll, C::Family, C::DateOfBirth, C::Postcode],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "nhs_number",
        components: &[C::NhsNumber],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "ni_number",
        components: &[C::NiNumber],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "pnc_id",
        components: &[C::PncId],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "cro_number",
        components: &[C::CroNumber],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "prison_number",
        components: &[C::PrisonNumber],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "first_family_dob_sex",
        components: &[C::FirstGiven, C::Family, C::DateOfBirth, C::Sex],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "first_family_dob",
        components: &[C::FirstGiven, C::Family, C::DateOfBirth],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "nickname_family_dob",
        components: &[C::FirstGivenRoot, C::Family, C::DateOfBirth],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "swapped_names_dob",
        components: &[C::FirstAndFamilySorted, C::DateOfBirth],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "first_family_dob_daymonth",
        components: &[C::FirstGiven, C::Family, C::DateOfBirthDayMonthSorted],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "initial_family_dob_sex",
        components: &[C::FirstInitial, C::Family, C::DateOfBirth, C::Sex],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "soundex_initial_dob",
        components: &[C::FamilySoundex, C::FirstInitial, C::DateOfBirth],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "first_family_postcode",
        components: &[C::FirstGiven, C::Family, C::Postcode],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "nickname_dob_district",
        components: &[C::FirstGivenRoot, C::DateOfBirth, C::PostcodeDistrict],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "family_dob_sex",
        components: &[C::Family, C::DateOfBirth, C::Sex],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "dob_district",
        components: &[C::DateOfBirth, C::PostcodeDistrict],
        since: Version::V1,
    },
    MatchKeyDef {
        name: "first_dob",
        components: &[C::FirstGiven, C::DateOfBirth],
        since: Version::V2,
    },
    MatchKeyDef {
        name: "family_dob",
        components: &[C::Family, C::DateOfBirth],
        since: Version::V2,
    },
];

/// Number of match keys in the current version, `pprl/v2`.
pub const MATCH_KEY_COUNT: usize = 19;
/// Number of match keys in `pprl/v1`: the first of [`MATCH_KEYS`].
pub const V1_MATCH_KEY_COUNT: usize = 17;
const _: () = assert!(MATCH_KEYS.len() == MATCH_KEY_COUNT);

/// The match keys a file of `version` carries, in order: a prefix of
/// [`MATCH_KEYS`].
pub fn match_keys(version: Version) -> &'static [MatchKeyDef] {
    match version {
        Version::V1 => &MATCH_KEYS[..V1_MATCH_KEY_COUNT],
        Version::V2 => MATCH_KEYS,
    }
}

/// The token-file column that holds a match key.
pub fn column_name(def: &MatchKeyDef) -> String {
    format!("mk_{}", def.name)
}

/// Number of [`Component`] variants.
const COMPONENT_COUNT: usize = Component::PostcodeDistrict as usize + 1;

/// The canonical bytes of every component of one record, built once and
/// shared by all the match keys. Wiped when dropped.
pub struct Components {
    buf: Zeroizing<Vec<u8>>,
    spans: [Option<(u16, u16)>; COMPONENT_COUNT],
}

impl std::fmt::Debug for Components {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Components(<redacted>)")
    }
}

impl Components {
    /// The components of `record`.
    pub fn new(record: &NormalisedRecord) -> Self {
        let mut c = Components {
            buf: Zeroizing::new(Vec::with_capacity(256)),
            spans: [None; COMPONENT_COUNT],
        };
        if let Some(g) = record.given_names.present() {
            c.push(C::GivenNamesAll, |b| {
                b.extend_from_slice(g.as_joined().as_bytes())
            });
            let first = g.first().as_bytes();
            if !first.is_empty() {
                c.push(C::FirstGiven, |b| b.extend_from_slice(first));
                c.push(C::FirstGivenRoot, |b| {
                    b.extend_from_slice(nickname_root(g.first()).as_bytes())
                });
                c.push(C::FirstInitial, |b| b.push(first[0]));
            }
        }
        if let Some(f) = record.family_name.present() {
            c.push(C::Family, |b| b.extend_from_slice(f.as_bytes()));
            if let Some(code) = soundex_code(f) {
                c.push(C::FamilySoundex, |b| b.extend_from_slice(&code));
            }
        }
        if let (Some(g), Some(f)) = (record.given_names.present(), record.family_name.present()) {
            let (first, family) = (g.first().as_bytes(), f.as_bytes());
            if !first.is_empty() {
                let (a, z) = if first <= family {
                    (first, family)
                } else {
                    (family, first)
                };
                c.push(C::FirstAndFamilySorted, |b| {
                    b.extend_from_slice(a);
                    b.push(COMPONENT_SEPARATOR);
                    b.extend_from_slice(z);
                });
            }
        }
        if let Some(d) = record.date_of_birth.present() {
            let (m, day) = (d.month(), d.day());
            c.push(C::DateOfBirth, |b| {
                b.extend_from_slice(&date_digits(d.year(), m, day))
            });
            c.push(C::DateOfBirthDayMonthSorted, |b| {
                b.extend_from_slice(&date_digits(d.year(), m.min(day), m.max(day)))
            });
        }
        if let Some(sex) = record.sex.present() {
            c.push(C::Sex, |b| b.extend_from_slice(sex.code().as_bytes()));
        }
        if let Some(p) = record.postcode.present() {
            c.push(C::Postcode, |b| {
                b.extend_from_slice(p.outward_bytes());
                if p.is_uk() {
                    b.push(b' ');
                    b.extend_from_slice(p.inward_bytes());
                }
            });
            c.push(C::PostcodeDistrict, |b| {
                b.extend_from_slice(p.district().as_bytes())
            });
        }
        for (component, field) in [
            (C::NhsNumber, &record.nhs_number),
            (C::NiNumber, &record.ni_number),
            (C::PncId, &record.pnc_id),
            (C::CroNumber, &record.cro_number),
            (C::PrisonNumber, &record.prison_number),
        ] {
            if let Some(v) = field.present() {
                c.push(component, |b| b.extend_from_slice(v.as_bytes()));
            }
        }
        c
    }

    /// Bytes of all the components together: a bound on the components a
    /// message can hold.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when the record has no component at all.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn push(&mut self, component: Component, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.buf.len();
        write(&mut self.buf);
        self.spans[component as usize] = Some((start as u16, self.buf.len() as u16));
    }

    fn get(&self, component: Component) -> Option<&[u8]> {
        self.spans[component as usize].map(|(a, b)| &self.buf[a as usize..b as usize])
    }

    /// Writes the canonical message of `def` into `out`; `false` if a component is missing.
    fn message(&self, def: &MatchKeyDef, out: &mut Vec<u8>) -> bool {
        out.clear();
        out.extend_from_slice(def.prefix());
        out.extend_from_slice(def.name.as_bytes());
        out.push(NAME_SEPARATOR);
        self.append_components(def, out)
    }

    /// Appends the components of `def`, separated; `false` (and `out` left
    /// as it was) if one is missing.
    pub fn append_components(&self, def: &MatchKeyDef, out: &mut Vec<u8>) -> bool {
        if def.components.iter().any(|c| self.get(*c).is_none()) {
            return false;
        }
        for (i, component) in def.components.iter().enumerate() {
            if i > 0 {
                out.push(COMPONENT_SEPARATOR);
            }
            out.extend_from_slice(self.get(*component).unwrap_or_default());
        }
        true
    }
}

/// `YYYYMMDD` as ASCII digits (the year is validated to four digits, spec §4.3).
fn date_digits(year: i32, a: u32, b: u32) -> [u8; 8] {
    let y = year.clamp(0, 9999) as u32;
    let digit = |v: u32| b'0' + (v % 10) as u8;
    [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        digit(a / 10),
        digit(a),
        digit(b / 10),
        digit(b),
    ]
}

/// The canonical message for one match key, or `None` if a component is missing.
///
/// The message holds plaintext identifiers: it is wiped when dropped.
pub fn canonical_message(
    def: &MatchKeyDef,
    record: &NormalisedRecord,
) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(96));
    Components::new(record)
        .message(def, &mut out)
        .then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in MATCH_KEYS.iter().enumerate() {
            assert!(
                MATCH_KEYS[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
    }

    #[test]
    fn a_message_is_prefix_name_and_components_or_nothing() {
        use crate::normalise::DateOrder;
        use crate::record::{NormaliseOptions, RawRecord};
        let options = NormaliseOptions {
            date_order: DateOrder::DayFirst,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
            postcode_format: Default::default(),
        };
        let raw = RawRecord {
            given_names: Some("John"),
            family_name: Some("Smith"),
            date_of_birth: Some("03/02/1980"),
            ..RawRecord::default()
        };
        let rec = NormalisedRecord::from_raw(&raw, &options);
        let def = MATCH_KEYS
            .iter()
            .find(|d| d.name == "first_family_dob")
            .expect("known key");
        let message = canonical_message(def, &rec).expect("all components present");
        assert_eq!(
            &message[..],
            b"pprl/v1|mk|first_family_dob\x1eJOHN\x1fSMITH\x1f19800203"
        );
        let postcode = MATCH_KEYS
            .iter()
            .find(|d| d.name == "names_dob_postcode")
            .expect("known key");
        assert!(canonical_message(postcode, &rec).is_none());
    }
}
