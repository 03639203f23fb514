//! Prison (NOMS) number (spec §4.6.6).

use crate::normalise::{Field, Invalid, trimmed};

use super::{Compact, ascii_string, is_identifier_placeholder};

const PRISON_FORMAT: Invalid =
    Invalid("prison number is not a letter, four digits and two letters");

/// Normalises a prison (NOMS) number (spec §4.6.6): one letter, four
/// digits and two letters, upper case, such as `A1234BC`. It has no check
/// character; four zero digits are a placeholder.
pub fn prison_number(raw: &str) -> Field<String> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    if is_identifier_placeholder(t) {
        return Field::Placeholder;
    }
    let Some(compact) = Compact::<7>::new(t, &[]) else {
        return Field::Invalid(PRISON_FORMAT);
    };
    let bytes = compact.bytes();
    let letter = |b: &u8| b.is_ascii_uppercase();
    let digit = |b: &u8| b.is_ascii_digit();
    let [a, d @ .., y, z] = bytes else {
        return Field::Invalid(PRISON_FORMAT);
    };
    if d.len() != 4 || !letter(a) || !d.iter().all(digit) || !letter(y) || !letter(z) {
        return Field::Invalid(PRISON_FORMAT);
    }
    if d == b"0000" {
        return Field::Placeholder;
    }
    Field::Present(ascii_string(bytes))
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::national::tests::present;
    use proptest::prelude::*;

    #[test]
    fn prison_numbers() {
        for raw in ["A1234BC", "a1234bc", "A 1234 BC", " A1234BC "] {
            assert_eq!(present(prison_number(raw)), "A1234BC", "{raw}");
        }
        for raw in [
            "A1234B",
            "A12345BC",
            "11234BC",
            "AB234BC",
            "A1234B1",
            "A1234BCD",
            "Ä1234BC",
            "A-1234-BC",
        ] {
            assert_eq!(prison_number(raw), Field::Invalid(PRISON_FORMAT), "{raw}");
        }
        assert_eq!(prison_number("A0000AA"), Field::Placeholder);
    }

    proptest! {
        #[test]
        fn valid_prison_numbers_round_trip(number in "[A-Z][0-9]{4}[A-Z]{2}") {
            prop_assume!(&number[1..5] != "0000");
            prop_assert_eq!(prison_number(&number.to_lowercase()), Field::Present(number.clone()));
            prop_assert_eq!(prison_number(&number), Field::Present(number.clone()));
        }
    }
}
