//! National identifiers (spec §4.6): NHS number, National
//! Insurance number, PNC ID, CRO number and prison number.
//!
//! Each normaliser copies the significant characters of the value, upper
//! case, into a small wiped buffer on the stack, checks the format and any
//! check character, and returns the canonical form.

use zeroize::Zeroizing;

use super::name::PlaceholderKey;
use super::{Field, Invalid, trimmed};

const NHS_FORMAT: Invalid = Invalid("nhs number is not 10 digits");
const NHS_CHECK: Invalid = Invalid("nhs number check digit does not match");
const NI_FORMAT: Invalid = Invalid("ni number is not two letters and six digits");
const NI_SUFFIX: Invalid = Invalid("ni number suffix is not a to d");
const NI_PREFIX: Invalid = Invalid("ni number prefix is never allocated");
const PNC_FORMAT: Invalid = Invalid("pnc id format not recognised");
const PNC_CHECK: Invalid = Invalid("pnc id check letter does not match");
const CRO_FORMAT: Invalid = Invalid("cro number format not recognised");
const CRO_CHECK: Invalid = Invalid("cro number check letter does not match");
const PRISON_FORMAT: Invalid =
    Invalid("prison number is not a letter, four digits and two letters");

/// The check letters of PNC IDs and CRO numbers, indexed by a remainder
/// modulo 23 (remainder 0 is `Z`; I, O and S are never used).
pub const CHECK_LETTERS: &[u8; 23] = b"ZABCDEFGHJKLMNPQRTUVWXY";

/// NI number prefixes that are never allocated (spec §4.6.3).
pub const NI_UNALLOCATED_PREFIXES: [&[u8; 2]; 7] =
    [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];

// ---------------------------------------------------------------------------
// Shared helpers.

/// The significant characters of a value, upper case, in a wiped stack buffer.
struct Compact<const N: usize> {
    buf: Zeroizing<[u8; N]>,
    len: usize,
}

impl<const N: usize> Compact<N> {
    /// Copies `t` upper case, skipping white space and the characters in
    /// `skip`; `None` when it holds a non-ASCII character or more than `N`.
    fn new(t: &str, skip: &[char]) -> Option<Self> {
        let mut buf = Zeroizing::new([0u8; N]);
        let mut len = 0;
        for c in t.chars() {
            if c.is_whitespace() || skip.contains(&c) {
                continue;
            }
            if !c.is_ascii() {
                return None;
            }
            *buf.get_mut(len)? = c.to_ascii_uppercase() as u8;
            len += 1;
        }
        Some(Compact { buf, len })
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Whether `t` is a placeholder for any national identifier: a common
/// placeholder word, or letters and digits that are all `0` or all `X`.
fn is_identifier_placeholder(t: &str) -> bool {
    let key = PlaceholderKey::of(t);
    key.is_common_placeholder() || key.is_run_of(b'0') || key.is_run_of(b'X')
}

/// The value of a run of ASCII digits; `None` when empty, too long or not digits.
fn digits_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
}

/// `CHECK_LETTERS[n mod 23]`.
fn check_letter(n: u64) -> char {
    // The remainder is below 23, the length of the table.
    char::from(CHECK_LETTERS[(n % 23) as usize])
}

/// A `String` from bytes already checked to be ASCII.
fn ascii_string(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// NHS number.

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

// ---------------------------------------------------------------------------
// National Insurance number.

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

// ---------------------------------------------------------------------------
// PNC ID.

/// The check letter of a PNC ID (spec §4.6.4).
///
/// The two-digit year and the serial zero-padded to seven digits are read
/// together as one nine-digit number; the letter is [`CHECK_LETTERS`] at
/// that number modulo 23. `year2` is taken modulo 100 and `serial` modulo
/// 10⁷, the ranges a PNC ID can hold.
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

// ---------------------------------------------------------------------------
// CRO number.

/// The check letter of a CRO number (spec §4.6.5).
///
/// The two-digit year and the serial zero-padded to six digits are read
/// together as one eight-digit number (year first, although the number is
/// written serial first); the letter is [`CHECK_LETTERS`] at that number
/// modulo 23. `year2` is taken modulo 100 and `serial` modulo 10⁶.
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

// ---------------------------------------------------------------------------
// Prison number.

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
    use proptest::prelude::*;

    fn present(field: Field<String>) -> String {
        match field {
            Field::Present(v) => v,
            other => panic!("expected present, got {other:?}"),
        }
    }

    /// Generic textual placeholders every national identifier accepts.
    const TEXT_PLACEHOLDERS: [&str; 12] = [
        "UNKNOWN",
        "unknown",
        "NK",
        "N/A",
        "NONE",
        "NULL",
        "0",
        "-",
        "--",
        "?",
        "not known",
        "XXXXXXXXXX",
    ];

    fn all_normalisers() -> [fn(&str) -> Field<String>; 5] {
        [nhs_number, ni_number, pnc_id, cro_number, prison_number]
    }

    #[test]
    fn blank_and_textual_placeholders() {
        for f in all_normalisers() {
            assert_eq!(f(""), Field::Missing);
            assert_eq!(f("   "), Field::Missing);
            for raw in TEXT_PLACEHOLDERS {
                assert_eq!(f(raw), Field::Placeholder, "{raw}");
            }
        }
    }

    // NHS number.

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

    // National Insurance number.

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

    // PNC ID.

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

    // CRO number.

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

    // Prison number.

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

    #[test]
    fn reasons_never_hold_the_value() {
        for f in all_normalisers() {
            if let Field::Invalid(reason) = f("Z9Q8W7") {
                assert!(!reason.0.contains("Z9Q8W7"));
            }
        }
    }

    // Property tests.

    fn valid_nhs() -> impl Strategy<Value = String> {
        "[0-9]{9}".prop_filter_map("check digit 10", |first9| {
            let check = nhs_check_digit(&first9)?;
            let number = format!("{first9}{check}");
            let first = number.as_bytes()[0];
            (!number.bytes().all(|b| b == first)).then_some(number)
        })
    }

    fn ni_prefix() -> impl Strategy<Value = String> {
        ("[A-Z]", "[A-Z]").prop_filter_map("allocated prefix", |(a, b)| {
            let prefix = format!("{a}{b}");
            ni_prefix_allocated(prefix.as_bytes()).then_some(prefix)
        })
    }

    proptest! {
        #[test]
        fn national_never_panic(raw in any::<String>()) {
            for f in all_normalisers() {
                let _ = f(&raw);
            }
            let _ = nhs_check_digit(&raw);
        }

        #[test]
        fn national_never_panic_on_id_like_text(raw in "[0-9A-Za-z/ .-]{0,16}") {
            for f in all_normalisers() {
                let _ = f(&raw);
            }
        }

        #[test]
        fn check_functions_never_panic(a in any::<u32>(), b in any::<u32>(), w in any::<u32>()) {
            let letters: Vec<char> = CHECK_LETTERS.iter().map(|&b| char::from(b)).collect();
            prop_assert!(letters.contains(&pnc_check_letter(a, b)));
            prop_assert!(letters.contains(&cro_check_letter(a, b)));
            prop_assert!(letters.contains(&cro_sf_check_letter(a, b, w)));
        }

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

        #[test]
        fn valid_prison_numbers_round_trip(number in "[A-Z][0-9]{4}[A-Z]{2}") {
            prop_assume!(&number[1..5] != "0000");
            prop_assert_eq!(prison_number(&number.to_lowercase()), Field::Present(number.clone()));
            prop_assert_eq!(prison_number(&number), Field::Present(number.clone()));
        }
    }
}
