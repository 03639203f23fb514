//! Sex (spec §4.4).
//!
//! Values are compared ignoring case and every character other than ASCII
//! letters and digits, so `m`, `Male`, ` MALE ` and `non-binary` /
//! `Non Binary` are read alike. The digit codes follow ISO/IEC 5218
//! (0 not known, 1 male, 2 female, 9 not applicable).

use super::name::PlaceholderKey;
use super::{Field, Invalid, trimmed};

/// A person's recorded sex, in canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
    /// Indeterminate, intersex, non-binary or another stated sex.
    Other,
}

impl Sex {
    /// The canonical one-letter code: `M`, `F` or `X`.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Other => "X",
        }
    }
}

/// The value is not a recognised sex code.
const UNRECOGNISED: Invalid = Invalid("sex code not recognised");

/// Words read as [`Sex::Male`].
pub const MALE_CODES: [&str; 4] = ["1", "M", "MALE", "MAN"];
/// Words read as [`Sex::Female`].
pub const FEMALE_CODES: [&str; 4] = ["2", "F", "FEMALE", "WOMAN"];
/// Words read as [`Sex::Other`].
pub const OTHER_CODES: [&str; 7] = [
    "I",
    "INDETERMINATE",
    "INTERSEX",
    "NB",
    "NONBINARY",
    "OTHER",
    "X",
];
/// Words read as a placeholder, besides the common placeholders.
pub const SEX_PLACEHOLDERS: [&str; 8] = [
    "0",
    "9",
    "U",
    "NOTSPECIFIED",
    "PREFERNOTTOSAY",
    "NOTDISCLOSED",
    "UNDISCLOSED",
    "UNDETERMINED",
];

/// Normalises a sex field (spec §4.4).
pub fn sex(raw: &str) -> Field<Sex> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    let key = PlaceholderKey::of(t);
    if key.is_any(&MALE_CODES) {
        Field::Present(Sex::Male)
    } else if key.is_any(&FEMALE_CODES) {
        Field::Present(Sex::Female)
    } else if key.is_any(&OTHER_CODES) {
        Field::Present(Sex::Other)
    } else if key.is_any(&SEX_PLACEHOLDERS) || key.is_common_placeholder() {
        Field::Placeholder
    } else {
        Field::Invalid(UNRECOGNISED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes() {
        assert_eq!(Sex::Male.code(), "M");
        assert_eq!(Sex::Female.code(), "F");
        assert_eq!(Sex::Other.code(), "X");
    }

    #[test]
    fn recognised_values() {
        for raw in ["M", "m", " Male ", "MALE", "man", "1", "M."] {
            assert_eq!(sex(raw), Field::Present(Sex::Male), "{raw}");
        }
        for raw in ["F", "f", "Female", "WOMAN", "2", " f "] {
            assert_eq!(sex(raw), Field::Present(Sex::Female), "{raw}");
        }
        for raw in [
            "X",
            "I",
            "Indeterminate",
            "OTHER",
            "Non-Binary",
            "non binary",
            "NONBINARY",
            "Intersex",
        ] {
            assert_eq!(sex(raw), Field::Present(Sex::Other), "{raw}");
        }
    }

    #[test]
    fn placeholders() {
        for raw in [
            "U",
            "u",
            "UNKNOWN",
            "NK",
            "0",
            "9",
            "NOT KNOWN",
            "Not Specified",
            "not stated",
            "REFUSED",
            "Prefer not to say",
            "N/A",
            "null",
            "-",
            "?",
        ] {
            assert_eq!(sex(raw), Field::Placeholder, "{raw}");
        }
    }

    #[test]
    fn blank_is_missing() {
        assert_eq!(sex(""), Field::Missing);
        assert_eq!(sex("  "), Field::Missing);
    }

    #[test]
    fn other_values_are_invalid() {
        for raw in ["Q", "MF", "3", "males", "Mâle", "FEMALE2", "boy?"] {
            assert_eq!(sex(raw), Field::Invalid(UNRECOGNISED), "{raw}");
        }
    }

    proptest! {
        #[test]
        fn sex_never_panics(raw in any::<String>()) {
            let _ = sex(&raw);
        }

        #[test]
        fn case_and_spacing_do_not_matter(
            word in prop::sample::select(vec!["male", "female", "other", "non-binary", "unknown", "m", "f", "x"]),
            upper in prop::collection::vec(any::<bool>(), 10),
            pad in ("[ \t]{0,3}", "[ \t]{0,3}"),
        ) {
            let respelled: String = word
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, &u)| if u { c.to_ascii_uppercase() } else { c })
                .collect();
            let raw = format!("{}{}{}", pad.0, respelled, pad.1);
            prop_assert_eq!(sex(&raw), sex(word));
        }

        #[test]
        fn canonical_codes_are_idempotent(raw in any::<String>()) {
            if let Field::Present(s) = sex(&raw) {
                prop_assert_eq!(sex(s.code()), Field::Present(s));
            }
        }
    }
}
