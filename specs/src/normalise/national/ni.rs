//! National Insurance number (spec §4.6.3).

use crate::normalise::{Field, Invalid, trimmed};

use super::{Compact, NI_UNALLOCATED_PREFIXES, ascii_string, is_identifier_placeholder};

const NI_FORMAT: Invalid = Invalid("ni number is not two letters and six digits");
const NI_SUFFIX: Invalid = Invalid("ni number suffix is not a to d");
const NI_PREFIX: Invalid = Invalid("ni number prefix is never allocated");

/// Normalises a National Insurance number (spec §4.6.3): the two prefix
/// letters and six digits, eight characters, without the suffix letter.
///
/// The suffix (A to D) is checked when present but is not part of the
/// canonical form: many systems drop it, and it does not tell people apart.
pub fn ni_number(raw: &str) -> Field<String> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    if is_identifier_placeholder(t) {
        return Field::Placeholder;
    }
    let Some(compact) = Compact::<9>::new(t, &['-']) else {
        return Field::Invalid(NI_FORMAT);
    };
    let bytes = compact.bytes();
    if bytes.len() < 8 {
        return Field::Invalid(NI_FORMAT);
    }
    let (body, suffix) = bytes.split_at(8);
    let (prefix, digits) = body.split_at(2);
    if !prefix.iter().all(u8::is_ascii_uppercase) || !digits.iter().all(u8::is_ascii_digit) {
        return Field::Invalid(NI_FORMAT);
    }
    if !matches!(suffix, [] | [b'A'..=b'D']) {
        return Field::Invalid(NI_SUFFIX);
    }
    if prefix == b"QQ" || digits.iter().all(|&d| d == b'0') {
        return Field::Placeholder;
    }
    if !ni_prefix_allocated(prefix) {
        return Field::Invalid(NI_PREFIX);
    }
    Field::Present(ascii_string(body))
}

/// Whether an NI number prefix can be allocated: first letter not D, F, I,
/// Q, U or V; second letter not D, F, I, O, Q, U or V; and not one of
/// [`NI_UNALLOCATED_PREFIXES`].
fn ni_prefix_allocated(prefix: &[u8]) -> bool {
    let [first, second] = *prefix else {
        return false;
    };
    !b"DFIQUV".contains(&first)
        && !b"DFIOQUV".contains(&second)
        && !NI_UNALLOCATED_PREFIXES.iter().any(|p| p[..] == *prefix)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::national::tests::present;
    use proptest::prelude::*;

    #[test]
    fn ni_numbers() {
        for raw in [
            "AB123456C",
            "ab 12 34 56 c",
            "AB 123456 C",
            "AB123456",
            "AB-12-34-56-A",
            "ab123456d",
        ] {
            assert_eq!(present(ni_number(raw)), "AB123456", "{raw}");
        }
        assert_eq!(present(ni_number("JG103759A")), "JG103759");
        assert_eq!(ni_number("AB123456E"), Field::Invalid(NI_SUFFIX));
        assert_eq!(ni_number("AB1234567"), Field::Invalid(NI_SUFFIX));
        for raw in [
            "AB12345",
            "A1234567C",
            "AB12345CC",
            "123456789",
            "AB123456CD",
            "ÅB123456C",
        ] {
            assert_eq!(ni_number(raw), Field::Invalid(NI_FORMAT), "{raw}");
        }
        for raw in [
            "DA123456A",
            "FA123456A",
            "IA123456A",
            "UA123456A",
            "VA123456A",
            "AD123456A",
            "AF123456A",
            "AI123456A",
            "AO123456A",
            "AQ123456A",
            "AU123456A",
            "AV123456A",
            "BG123456A",
            "GB123456A",
            "KN123456A",
            "NK123456A",
            "NT123456A",
            "TN123456A",
            "ZZ123456A",
        ] {
            assert_eq!(ni_number(raw), Field::Invalid(NI_PREFIX), "{raw}");
        }
        for raw in [
            "QQ123456C",
            "qq 12 34 56 c",
            "QQ123456",
            "AB000000A",
            "AB 00 00 00",
        ] {
            assert_eq!(ni_number(raw), Field::Placeholder, "{raw}");
        }
        // O is allowed first.
        assert_eq!(present(ni_number("OA123456B")), "OA123456");
    }

    fn ni_prefix() -> impl Strategy<Value = String> {
        ("[A-Z]", "[A-Z]").prop_filter_map("allocated prefix", |(a, b)| {
            let prefix = format!("{a}{b}");
            ni_prefix_allocated(prefix.as_bytes()).then_some(prefix)
        })
    }

    proptest! {
        #[test]
        fn valid_ni_numbers_round_trip(
            prefix in ni_prefix(),
            digits in "[0-9]{6}",
            suffix in "[A-D]?",
            lower in any::<bool>(),
        ) {
            prop_assume!(digits != "000000");
            let canonical = format!("{prefix}{digits}");
            let raw = format!("{prefix} {} {} {} {suffix}", &digits[..2], &digits[2..4], &digits[4..]);
            let raw = if lower { raw.to_lowercase() } else { raw };
            prop_assert_eq!(ni_number(&raw), Field::Present(canonical.clone()));
            prop_assert_eq!(ni_number(&canonical), Field::Present(canonical.clone()));
        }
    }
}
