//! NHS number (spec §4.6.2).

use crate::normalise::{Field, Invalid, trimmed};

use super::{Compact, ascii_string, is_identifier_placeholder};

const NHS_FORMAT: Invalid = Invalid("nhs number is not 10 digits");
const NHS_CHECK: Invalid = Invalid("nhs number check digit does not match");

/// The check digit of an NHS number from its first nine digits (spec §4.6.2).
///
/// Modulus 11: the digits are weighted 10, 9, …, 2 and summed; the check
/// digit is 11 minus the remainder of the sum divided by 11, with 11 read as
/// 0. `None` when that is 10 (no valid number has these nine digits) or when
/// `first9` is not nine ASCII digits.
pub fn nhs_check_digit(first9: &str) -> Option<char> {
    let digits = first9.as_bytes();
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .zip((2..=10).rev())
        .map(|(&d, weight)| u32::from(d - b'0') * weight)
        .sum();
    match 11 - sum % 11 {
        11 => Some('0'),
        10 => None,
        check => char::from_digit(check, 10),
    }
}

/// Normalises an NHS number (spec §4.6.2): the 10 digits, no separators.
///
/// Spaces and hyphens are ignored, and so is a trailing `.0` left by a
/// spreadsheet that read the number as a decimal.
pub fn nhs_number(raw: &str) -> Field<String> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    if is_identifier_placeholder(t) {
        return Field::Placeholder;
    }
    let t = t.strip_suffix(".0").unwrap_or(t);
    let Some(compact) = Compact::<10>::new(t, &['-']) else {
        return Field::Invalid(NHS_FORMAT);
    };
    let digits = compact.bytes();
    if digits.len() != 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Field::Invalid(NHS_FORMAT);
    }
    if digits.iter().all(|&d| d == digits[0]) {
        return Field::Placeholder;
    }
    let (first9, check) = digits.split_at(9);
    let first9 = std::str::from_utf8(first9).unwrap_or_default();
    match nhs_check_digit(first9) {
        Some(c) if check.first() == Some(&(c as u8)) => Field::Present(ascii_string(digits)),
        _ => Field::Invalid(NHS_CHECK),
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::national::tests::present;
    use proptest::prelude::*;

    #[test]
    fn nhs_check_digit_worked_example() {
        // 9×10 + 4×9 + 3×8 + 4×7 + 7×6 + 6×5 + 5×4 + 9×3 + 1×2 = 299;
        // 299 mod 11 = 2; 11 − 2 = 9.
        assert_eq!(nhs_check_digit("943476591"), Some('9'));
        assert_eq!(nhs_check_digit("401023213"), Some('7'));
        // Remainder 0 gives 11, read as 0.
        assert_eq!(nhs_check_digit("000000000"), Some('0'));
        assert_eq!(nhs_check_digit("000000001"), Some('9'));
        // Remainder 1 gives 10: no valid number.
        assert_eq!(nhs_check_digit("000000006"), None);
        assert_eq!(nhs_check_digit("100000001"), None);
        for bad in [
            "",
            "12345678",
            "1234567890",
            "12345678a",
            "１２３４５６７８９",
        ] {
            assert_eq!(nhs_check_digit(bad), None, "{bad}");
        }
    }

    #[test]
    fn nhs_numbers() {
        for raw in [
            "9434765919",
            "943 476 5919",
            "943-476-5919",
            " 943 476 5919 ",
            "9434765919.0",
        ] {
            assert_eq!(present(nhs_number(raw)), "9434765919", "{raw}");
        }
        assert_eq!(present(nhs_number("4010232137")), "4010232137");
        assert_eq!(nhs_number("9434765918"), Field::Invalid(NHS_CHECK));
        assert_eq!(nhs_number("0000000010"), Field::Invalid(NHS_CHECK));
        for raw in [
            "943476591",
            "94347659190",
            "943476591X",
            "9434765919.5",
            "９４３４７６５９１９",
        ] {
            assert_eq!(nhs_number(raw), Field::Invalid(NHS_FORMAT), "{raw}");
        }
        for raw in ["0000000000", "1111111111", "9999999999", "444 444 4444"] {
            assert_eq!(nhs_number(raw), Field::Placeholder, "{raw}");
        }
    }

    fn valid_nhs() -> impl Strategy<Value = String> {
        "[0-9]{9}".prop_filter_map("check digit 10", |first9| {
            let check = nhs_check_digit(&first9)?;
            let number = format!("{first9}{check}");
            let first = number.as_bytes()[0];
            (!number.bytes().all(|b| b == first)).then_some(number)
        })
    }

    proptest! {
        #[test]
        fn valid_nhs_numbers_round_trip(number in valid_nhs(), spaced in any::<bool>()) {
            let raw = if spaced {
                format!("{} {} {}", &number[..3], &number[3..6], &number[6..])
            } else {
                number.clone()
            };
            prop_assert_eq!(nhs_number(&raw), Field::Present(number.clone()));
            prop_assert_eq!(nhs_number(&number), Field::Present(number.clone()));
        }

        #[test]
        fn one_changed_nhs_digit_is_rejected(number in valid_nhs(), at in 0usize..10, by in 1u8..10) {
            let mut bytes = number.into_bytes();
            bytes[at] = b'0' + (bytes[at] - b'0' + by) % 10;
            let changed = String::from_utf8(bytes).unwrap_or_default();
            prop_assert!(matches!(nhs_number(&changed), Field::Invalid(_) | Field::Placeholder));
        }
    }
}
