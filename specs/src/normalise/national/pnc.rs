//! PNC ID (spec §4.6.4).

use crate::normalise::{Field, Invalid, trimmed};

use super::{Compact, check_letter, digits_value, is_identifier_placeholder};

const PNC_FORMAT: Invalid = Invalid("pnc id format not recognised");
const PNC_CHECK: Invalid = Invalid("pnc id check letter does not match");

/// The check letter of a PNC ID (spec §4.6.4).
///
/// The two-digit year and the serial zero-padded to seven digits are read
/// together as one nine-digit number; the letter is
/// [`CHECK_LETTERS`](super::CHECK_LETTERS) at that number modulo 23. `year2`
/// is taken modulo 100 and `serial` modulo 10⁷, the ranges a PNC ID can hold.
pub fn pnc_check_letter(year2: u32, serial: u32) -> char {
    check_letter(u64::from(year2 % 100) * 10_000_000 + u64::from(serial % 10_000_000))
}

/// Normalises a PNC ID (spec §4.6.4): `YY/NNNNNNNL`, the two-digit year,
/// the serial zero-padded to seven digits and the check letter.
///
/// Accepts `YY/N…L` and `YYYY/N…L` with a serial of one to seven digits, and
/// the same without the `/` when unambiguous: up to nine digits are a
/// two-digit year and a serial, exactly eleven are a four-digit year and a
/// seven-digit serial. A four-digit year must be 19xx or 20xx.
pub fn pnc_id(raw: &str) -> Field<String> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    if is_identifier_placeholder(t) {
        return Field::Placeholder;
    }
    let Some(compact) = Compact::<13>::new(t, &[]) else {
        return Field::Invalid(PNC_FORMAT);
    };
    let Some((year2, serial, check)) = parse_pnc(compact.bytes()) else {
        return Field::Invalid(PNC_FORMAT);
    };
    if serial == 0 {
        return Field::Placeholder;
    }
    if pnc_check_letter(year2, serial) != check {
        return Field::Invalid(PNC_CHECK);
    }
    Field::Present(pnc_canonical(year2, serial, check))
}

/// `YY/NNNNNNNL`: the year and the serial zero-padded, then the check letter.
/// Written digit by digit: `format!` cost a third of a PNC ID on the hot path.
fn pnc_canonical(year2: u32, serial: u32, check: char) -> String {
    let mut out = String::with_capacity(11);
    push_digits(&mut out, year2, 2);
    out.push('/');
    push_digits(&mut out, serial, 7);
    out.push(check);
    out
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// Reads (two-digit year, serial, check letter) from a compact PNC ID.
fn parse_pnc(bytes: &[u8]) -> Option<(u32, u32, char)> {
    let (&check, body) = bytes.split_last()?;
    if !check.is_ascii_uppercase() {
        return None;
    }
    let (year, serial) = match body.iter().position(|&b| b == b'/') {
        Some(at) => (&body[..at], &body[at + 1..]),
        None if (3..=9).contains(&body.len()) => body.split_at(2),
        None if body.len() == 11 => body.split_at(4),
        None => return None,
    };
    let year2 = match year {
        [a, b] => digits_value(&[*a, *b])?,
        [b'1', b'9', a, b] | [b'2', b'0', a, b] => digits_value(&[*a, *b])?,
        _ => return None,
    };
    if serial.len() > 7 {
        return None;
    }
    Some((year2, digits_value(serial)?, char::from(check)))
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::national::CHECK_LETTERS;
    use crate::normalise::national::tests::present;
    use proptest::prelude::*;

    #[test]
    fn pnc_check_letter_worked_examples() {
        // 79 and 0163001 read as 790163001; 790163001 mod 23 = 2; letter 2 is B.
        assert_eq!(790_163_001 % 23, 2);
        assert_eq!(pnc_check_letter(79, 163_001), 'B');
        assert_eq!(pnc_check_letter(2, 73_319), 'Z');
        assert_eq!(pnc_check_letter(81, 34), 'U');
        assert_eq!(pnc_check_letter(0, 223), 'R');
        assert_eq!(pnc_check_letter(3, 3), 'Y');
        // Long-form examples published with the MoJ person-record service.
        for (year2, serial, check) in [
            (8, 56_560, 'Z'),
            (3, 11_985, 'X'),
            (12, 52_494, 'Q'),
            (23, 583_843, 'L'),
            (1, 171_310, 'W'),
            (11, 275_516, 'Q'),
            (3, 62_845, 'E'),
            (81, 154_257, 'C'),
        ] {
            assert_eq!(pnc_check_letter(year2, serial), check, "{year2}/{serial}");
        }
    }

    #[test]
    fn pnc_ids() {
        for raw in [
            "79/163001B",
            "79/0163001B",
            "1979/0163001B",
            "1979/163001b",
            "79163001B",
            "19790163001B",
            " 79 / 163001 B ",
        ] {
            assert_eq!(present(pnc_id(raw)), "79/0163001B", "{raw}");
        }
        assert_eq!(present(pnc_id("2002/0073319Z")), "02/0073319Z");
        assert_eq!(present(pnc_id("81/34U")), "81/0000034U");
        assert_eq!(present(pnc_id("033Y")), "03/0000003Y");
        assert_eq!(pnc_id("79/163001C"), Field::Invalid(PNC_CHECK));
        assert_eq!(pnc_id("1980/0163001B"), Field::Invalid(PNC_CHECK));
        for raw in [
            "TOTALLYINVALID",
            "1X23/1234567A",
            "1923[1234567A",
            "1923/1Z34567A",
            "1923/1234567AA",
            "79/12345678B",
            "179/1234567A",
            "1879/0163001B",
            "7/163001B",
            "79/B",
            "7901630010B",
            "79/163001",
            "01234567890123",
            "79/163001Ä",
        ] {
            assert_eq!(pnc_id(raw), Field::Invalid(PNC_FORMAT), "{raw}");
        }
        assert_eq!(pnc_id("79/0000000Z"), Field::Placeholder);
        assert_eq!(pnc_id("00/0Z"), Field::Placeholder);
    }

    proptest! {
        #[test]
        fn valid_pnc_ids_round_trip(year2 in 0u32..100, serial in 1u32..10_000_000, long in any::<bool>()) {
            let check = pnc_check_letter(year2, serial);
            let canonical = format!("{year2:02}/{serial:07}{check}");
            let century = if year2 > 30 { 19 } else { 20 };
            let raw = if long {
                format!("{century}{year2:02}/{serial:07}{check}")
            } else {
                format!("{year2:02}/{serial}{}", check.to_ascii_lowercase())
            };
            prop_assert_eq!(pnc_id(&raw), Field::Present(canonical.clone()));
            prop_assert_eq!(pnc_id(&canonical), Field::Present(canonical.clone()));
            let wrong = CHECK_LETTERS.iter().map(|&b| char::from(b)).find(|&c| c != check);
            let wrong = format!("{year2:02}/{serial:07}{}", wrong.unwrap_or('Z'));
            prop_assert_eq!(pnc_id(&wrong), Field::Invalid(PNC_CHECK));
        }
    }
}
