//! CRO number (spec §4.6.5).

use crate::normalise::{Field, Invalid, trimmed};

use super::{Compact, check_letter, digits_value, is_identifier_placeholder};

const CRO_FORMAT: Invalid = Invalid("cro number format not recognised");
const CRO_CHECK: Invalid = Invalid("cro number check letter does not match");

/// The check letter of a CRO number (spec §4.6.5).
///
/// The two-digit year and the serial zero-padded to six digits are read
/// together as one eight-digit number (year first, although the number is
/// written serial first); the letter is
/// [`CHECK_LETTERS`](super::CHECK_LETTERS) at that number modulo 23. `year2`
/// is taken modulo 100 and `serial` modulo 10⁶.
pub fn cro_check_letter(serial: u32, year2: u32) -> char {
    check_letter(u64::from(year2 % 100) * 1_000_000 + u64::from(serial % 1_000_000))
}

/// The check letter of an `SF` CRO number (spec §4.6.5): the two-digit
/// year followed by the serial exactly as written, `width` digits long
/// (leading zeros count), read as one number, modulo 23.
///
/// `year2` is taken modulo 100, `width` is capped at 6 and `serial` is
/// taken modulo 10^`width`.
pub fn cro_sf_check_letter(year2: u32, serial: u32, width: u32) -> char {
    let scale = 10u64.pow(width.min(6));
    check_letter(u64::from(year2 % 100) * scale + u64::from(serial) % scale)
}

/// Normalises a CRO number (spec §4.6.5).
///
/// The standard form `NNNNNN/YYL` (serial of one to six digits, two-digit
/// year, check letter; the `/` may be left out) becomes `NNNNNN/YYL` with the
/// serial zero-padded to six digits. The `SF` form `SFYY/N…L` keeps its
/// serial exactly as written, because its check letter depends on the
/// written digits: `SFYY/N…L`.
pub fn cro_number(raw: &str) -> Field<String> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    if is_identifier_placeholder(t) {
        return Field::Placeholder;
    }
    let Some(compact) = Compact::<12>::new(t, &[]) else {
        return Field::Invalid(CRO_FORMAT);
    };
    let bytes = compact.bytes();
    match bytes.strip_prefix(b"SF") {
        Some(rest) => sf_cro(rest),
        None => standard_cro(bytes),
    }
}

/// A standard CRO number: serial, `/`, two-digit year, check letter.
fn standard_cro(bytes: &[u8]) -> Field<String> {
    let Some((&check, body)) = bytes.split_last() else {
        return Field::Invalid(CRO_FORMAT);
    };
    if body.len() < 3 {
        return Field::Invalid(CRO_FORMAT);
    }
    let (serial, year) = body.split_at(body.len() - 2);
    let serial = serial.strip_suffix(b"/").unwrap_or(serial);
    let (Some(serial), Some(year2)) = (short_serial(serial, 6), two_digits(year)) else {
        return Field::Invalid(CRO_FORMAT);
    };
    if !check.is_ascii_uppercase() {
        return Field::Invalid(CRO_FORMAT);
    }
    if serial == 0 {
        return Field::Placeholder;
    }
    let check = char::from(check);
    if cro_check_letter(serial, year2) != check {
        return Field::Invalid(CRO_CHECK);
    }
    Field::Present(format!("{serial:06}/{year2:02}{check}"))
}

/// An `SF` CRO number after its `SF`: two-digit year, `/`, serial, check letter.
fn sf_cro(rest: &[u8]) -> Field<String> {
    let Some((&check, body)) = rest.split_last() else {
        return Field::Invalid(CRO_FORMAT);
    };
    if body.len() < 3 || !check.is_ascii_uppercase() {
        return Field::Invalid(CRO_FORMAT);
    }
    let (year, serial) = body.split_at(2);
    let serial = serial.strip_prefix(b"/").unwrap_or(serial);
    let (Some(value), Some(year2)) = (short_serial(serial, 6), two_digits(year)) else {
        return Field::Invalid(CRO_FORMAT);
    };
    if value == 0 {
        return Field::Placeholder;
    }
    let check = char::from(check);
    // The serial is at most six digits, so its length fits in a u32.
    let width = serial.len() as u32;
    if cro_sf_check_letter(year2, value, width) != check {
        return Field::Invalid(CRO_CHECK);
    }
    let mut canonical = format!("SF{year2:02}/");
    canonical.extend(serial.iter().map(|&b| char::from(b)));
    canonical.push(check);
    Field::Present(canonical)
}

/// The value of one to `max` digits.
fn short_serial(digits: &[u8], max: usize) -> Option<u32> {
    (digits.len() <= max).then_some(())?;
    digits_value(digits)
}

/// The value of exactly two digits.
fn two_digits(digits: &[u8]) -> Option<u32> {
    (digits.len() == 2).then_some(())?;
    digits_value(digits)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::national::tests::present;
    use proptest::prelude::*;

    #[test]
    fn cro_check_letter_worked_examples() {
        // 265416/21: year first, 21265416 mod 23 = 7; letter 7 is G.
        assert_eq!(21_265_416 % 23, 7);
        assert_eq!(cro_check_letter(265_416, 21), 'G');
        assert_eq!(cro_check_letter(65_656, 91), 'H');
        // SF form: year and serial as written, 05482703 and 8350058.
        assert_eq!(cro_sf_check_letter(5, 482_703, 6), 'J');
        assert_eq!(cro_sf_check_letter(83, 50_058, 5), 'Z');
        assert_eq!(cro_sf_check_letter(83, 50_058, 6), 'B');
    }

    #[test]
    fn cro_numbers() {
        for raw in ["265416/21G", "265416/21g", "26541621G", " 265416 / 21 G "] {
            assert_eq!(present(cro_number(raw)), "265416/21G", "{raw}");
        }
        for raw in ["65656/91H", "065656/91H", "6565691H"] {
            assert_eq!(present(cro_number(raw)), "065656/91H", "{raw}");
        }
        assert_eq!(present(cro_number("SF05/482703J")), "SF05/482703J");
        assert_eq!(present(cro_number("sf 05 482703 j")), "SF05/482703J");
        assert_eq!(present(cro_number("SF83/50058Z")), "SF83/50058Z");
        assert_eq!(cro_number("SF83/050058Z"), Field::Invalid(CRO_CHECK));
        assert_eq!(cro_number("85227/65G"), Field::Invalid(CRO_CHECK));
        assert_eq!(cro_number("265416/21H"), Field::Invalid(CRO_CHECK));
        for raw in [
            "1234567/21G",
            "265416/2G",
            "265416/211G",
            "/21G",
            "265416/21",
            "265416/21/G",
            "SF/482703J",
            "SF05/1234567J",
            "SF5/482703J",
            "SF05/J",
            "SF",
            "ABCDEF/21G",
            "265416/2ÅG",
        ] {
            assert_eq!(cro_number(raw), Field::Invalid(CRO_FORMAT), "{raw}");
        }
        assert_eq!(cro_number("000000/21X"), Field::Placeholder);
        assert_eq!(cro_number("SF05/000000Z"), Field::Placeholder);
    }

    proptest! {
        #[test]
        fn valid_cro_numbers_round_trip(serial in 1u32..1_000_000, year2 in 0u32..100) {
            let check = cro_check_letter(serial, year2);
            let canonical = format!("{serial:06}/{year2:02}{check}");
            let short = format!("{serial}/{year2:02}{check}");
            prop_assert_eq!(cro_number(&short), Field::Present(canonical.clone()));
            prop_assert_eq!(cro_number(&canonical), Field::Present(canonical.clone()));
        }

        #[test]
        fn valid_sf_cro_numbers_round_trip(serial in "[0-9]{1,6}", year2 in 0u32..100) {
            let value: u32 = serial.parse().unwrap_or(0);
            prop_assume!(value != 0);
            let check = cro_sf_check_letter(year2, value, serial.len() as u32);
            let canonical = format!("SF{year2:02}/{serial}{check}");
            prop_assert_eq!(cro_number(&canonical), Field::Present(canonical.clone()));
            let spaced = format!("sf {year2:02} {serial} {}", check.to_ascii_lowercase());
            prop_assert_eq!(cro_number(&spaced), Field::Present(canonical.clone()));
        }
    }
}
