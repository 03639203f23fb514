//! Dates of birth (spec §4.3).
//!
//! A small hand-written tokenizer reads the date formats that extracts use
//! (ISO, day- or month-first numeric, English month names, compact
//! `YYYYMMDD`, SAS `DDMONYYYY`) with an optional midnight time that
//! spreadsheet and database exports append. It allocates nothing.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::name::is_common_placeholder;
use super::{Field, Invalid, trimmed};

/// How to read an ambiguous numeric date such as `03/02/1980`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateOrder {
    /// Day, then month (`03/02/1980` is 3 February 1980): the UK default.
    #[default]
    DayFirst,
    /// Month, then day (`03/02/1980` is 2 March 1980).
    MonthFirst,
}

/// The text is not one of the accepted date formats.
const FORMAT: Invalid = Invalid("date format not recognised");
/// A year written with two digits.
const TWO_DIGIT_YEAR: Invalid = Invalid("two-digit year is ambiguous");
/// A well-formed date that is not on the calendar (31/02, month 13, 29/02 of a common year).
const IMPOSSIBLE: Invalid = Invalid("date does not exist");
/// A time other than midnight follows the date.
const NOT_MIDNIGHT: Invalid = Invalid("date has a time of day other than midnight");
/// A date of birth before [`EARLIEST_BIRTH_YEAR`] or after the reference day.
const OUT_OF_RANGE: Invalid = Invalid("date of birth out of range");

/// Dates of birth before 1 January of this year are invalid.
pub const EARLIEST_BIRTH_YEAR: i32 = 1890;

/// Dates that systems write for an unknown date of birth (spec §4.3), as
/// (year, month, day).
pub const PLACEHOLDER_DATES: [(i32, u32, u32); 10] = [
    (1, 1, 1),
    (1111, 11, 11),
    (1753, 1, 1),
    (1800, 1, 1),
    (1899, 12, 30),
    (1899, 12, 31),
    (1900, 1, 1),
    (1901, 1, 1),
    (9999, 1, 1),
    (9999, 12, 31),
];

/// Parses a date in any of the accepted formats (spec §4.3).
///
/// Accepts `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, `DD/MM/YYYY`,
/// `DD-MM-YYYY`, `DD.MM.YYYY` (month first under [`DateOrder::MonthFirst`]),
/// one-digit days and months, `D Mon YYYY`, `DD-Mon-YYYY`, `D Month YYYY`,
/// `Month D, YYYY` and `DDMONYYYY`, with an optional ordinal suffix on the
/// day (`3rd`) and an optional trailing midnight time.
pub fn parse_date(raw: &str, order: DateOrder) -> Result<NaiveDate, Invalid> {
    let t = raw.trim();
    if let Some((year, month, day)) = fixed_numeric(t.as_bytes(), order) {
        return NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(IMPOSSIBLE);
    }
    parse_date_general(t, order)
}

/// [`parse_date`] of trimmed text by the general rules: tokens, then their reading.
fn parse_date_general(t: &str, order: DateOrder) -> Result<NaiveDate, Invalid> {
    let date = strip_midnight(t)?;
    let tokens = tokenize(date)?;
    let (year, month, day) = interpret(tokens.as_slice(), order)?;
    let year = i32::try_from(year).map_err(|_| FORMAT)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(IMPOSSIBLE)
}

/// Normalises a date-of-birth field (spec §4.3).
///
/// Dates before 1 January [`EARLIEST_BIRTH_YEAR`] or after `as_of` are
/// invalid; `as_of` is passed in because the core has no clock.
pub fn date_of_birth(raw: &str, order: DateOrder, as_of: NaiveDate) -> Field<NaiveDate> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    match fixed_numeric(t.as_bytes(), order) {
        // Digits, so no placeholder word; all zero is the zero date.
        Some((0, 0, 0)) => Field::Placeholder,
        Some((year, month, day)) => birth_date(
            NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(IMPOSSIBLE),
            as_of,
        ),
        None => date_of_birth_general(t, order, as_of),
    }
}

/// [`date_of_birth`] of trimmed, non-blank text by the general rules.
fn date_of_birth_general(t: &str, order: DateOrder, as_of: NaiveDate) -> Field<NaiveDate> {
    if is_common_placeholder(t) || is_zero_date(t) {
        return Field::Placeholder;
    }
    birth_date(parse_date_general(t, order), as_of)
}

/// The field for a parsed date of birth: placeholder dates and dates out of range refused.
fn birth_date(parsed: Result<NaiveDate, Invalid>, as_of: NaiveDate) -> Field<NaiveDate> {
    match parsed {
        Err(reason) => Field::Invalid(reason),
        Ok(date) if is_placeholder_date(date) => Field::Placeholder,
        Ok(date) if date.year() < EARLIEST_BIRTH_YEAR || date > as_of => {
            Field::Invalid(OUT_OF_RANGE)
        }
        Ok(date) => Field::Present(date),
    }
}

/// The numbers of a date written `DD/MM/YYYY` (`MM/DD/YYYY` under
/// [`DateOrder::MonthFirst`]) or `YYYY/MM/DD`, with `-`, `/` or `.` as the
/// separators, as (year, month, day); `None` for any other text.
///
/// These shapes are nearly every date in an extract; reading them at fixed
/// positions gives exactly what [`tokenize`] and [`interpret`] give for them
/// (a property test checks), at a fraction of the cost.
fn fixed_numeric(t: &[u8], order: DateOrder) -> Option<(u32, u32, u32)> {
    let [a, b, c, d, e, f, g, h, i, j] = *t else {
        return None;
    };
    let digit = |x: u8| x.is_ascii_digit().then(|| u32::from(x - b'0'));
    let two = |x: u8, y: u8| Some(digit(x)? * 10 + digit(y)?);
    let four = |w: u8, x: u8, y: u8, z: u8| Some(two(w, x)? * 100 + two(y, z)?);
    let sep = |x: u8| matches!(x, b'-' | b'/' | b'.');
    if sep(c) && sep(f) {
        let (first, second, year) = (two(a, b)?, two(d, e)?, four(g, h, i, j)?);
        Some(match order {
            DateOrder::DayFirst => (year, second, first),
            DateOrder::MonthFirst => (year, first, second),
        })
    } else if sep(e) && sep(h) {
        Some((four(a, b, c, d)?, two(f, g)?, two(i, j)?))
    } else {
        None
    }
}

/// Whether a parsed date is one of [`PLACEHOLDER_DATES`].
fn is_placeholder_date(date: NaiveDate) -> bool {
    PLACEHOLDER_DATES.contains(&(date.year(), date.month(), date.day()))
}

/// Whether the text is an all-zero date such as `00/00/0000` or `0000-00-00 00:00`.
fn is_zero_date(t: &str) -> bool {
    t.contains('0')
        && t.chars()
            .all(|c| matches!(c, '0' | '-' | '/' | '.' | ':' | ' ' | 'T'))
}

/// Removes a trailing midnight time, refusing any other time of day.
///
/// The time is the one- or two-digit hour before the first `:`, when a space
/// or `T` precedes it, and everything after; otherwise (SAS
/// `03FEB1980:00:00:00`) everything after the first `:`.
fn strip_midnight(t: &str) -> Result<&str, Invalid> {
    let Some(colon) = t.find(':') else {
        return Ok(t);
    };
    let head = &t[..colon];
    let hour_digits = head.bytes().rev().take_while(u8::is_ascii_digit).count();
    let hour_at = colon - hour_digits;
    let before_hour = hour_at.checked_sub(1).and_then(|i| head.as_bytes().get(i));
    if (1..=2).contains(&hour_digits) && matches!(before_hour, Some(b' ' | b'T' | b't')) {
        check_midnight(&t[hour_at..])?;
        Ok(t[..hour_at - 1].trim_end())
    } else {
        check_midnight(&t[colon + 1..])?;
        Ok(head)
    }
}

/// Checks that `time` is midnight: `H:MM`, `HH:MM`, `HH:MM:SS` or
/// `HH:MM:SS.fff`, all zero, optionally followed by `Z` or a zero offset; or
/// `12:00[:00] AM`.
fn check_midnight(time: &str) -> Result<(), Invalid> {
    let mut t = time.trim();
    let mut twelve_am = false;
    if let Some(rest) = strip_suffix_ci(t, "AM") {
        (t, twelve_am) = (rest.trim_end(), true);
    } else if strip_suffix_ci(t, "PM").is_some() {
        return Err(NOT_MIDNIGHT);
    }
    for zone in ["Z", "z", "+00:00", "+0000", "+00", "-00:00"] {
        if let Some(rest) = t.strip_suffix(zone) {
            t = rest;
            break;
        }
    }
    let (hms, fraction) = t.split_once('.').unwrap_or((t, ""));
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FORMAT);
    }
    let mut fields = [0u32; 3];
    let mut count = 0;
    for part in hms.split(':') {
        let len_ok = if count == 0 {
            (1..=2).contains(&part.len())
        } else {
            part.len() == 2
        };
        let slot = fields.get_mut(count).ok_or(FORMAT)?;
        if !len_ok || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FORMAT);
        }
        *slot = part.parse().map_err(|_| FORMAT)?;
        count += 1;
    }
    if count < 2 {
        return Err(FORMAT);
    }
    let [hour, minute, second] = fields;
    let hour_ok = hour == 0 || (twelve_am && hour == 12);
    let rest_zero = minute == 0 && second == 0 && fraction.bytes().all(|b| b == b'0');
    if hour_ok && rest_zero {
        Ok(())
    } else {
        Err(NOT_MIDNIGHT)
    }
}

/// `t` without `suffix`, compared ignoring ASCII case.
fn strip_suffix_ci<'a>(t: &'a str, suffix: &str) -> Option<&'a str> {
    let split = t.len().checked_sub(suffix.len())?;
    let (head, tail) = (t.get(..split)?, t.get(split..)?);
    tail.eq_ignore_ascii_case(suffix).then_some(head)
}

/// One token of a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    /// A run of digits: its value and how many digits were written.
    Number { value: u32, digits: usize },
    /// A month written as a word, 1 to 12.
    Month(u32),
}

/// Up to three tokens, on the stack.
struct Tokens {
    items: [Token; 3],
    len: usize,
}

impl Tokens {
    fn push(&mut self, token: Token) -> Result<(), Invalid> {
        let slot = self.items.get_mut(self.len).ok_or(FORMAT)?;
        *slot = token;
        self.len += 1;
        Ok(())
    }

    fn as_slice(&self) -> &[Token] {
        &self.items[..self.len]
    }
}

/// Splits a date into numbers and month words; separators are `-`, `/`,
/// `.`, `,` and spaces, and a letter–digit boundary also separates.
fn tokenize(date: &str) -> Result<Tokens, Invalid> {
    let bytes = date.as_bytes();
    let mut tokens = Tokens {
        items: [Token::Month(0); 3],
        len: 0,
    };
    let mut i = 0;
    let mut number_end = None;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        if b.is_ascii_digit() {
            i += run_len(&bytes[i..], u8::is_ascii_digit);
            let digits = i - start;
            if digits > 8 {
                return Err(FORMAT);
            }
            let value = date[start..i].parse().map_err(|_| FORMAT)?;
            tokens.push(Token::Number { value, digits })?;
            number_end = Some(i);
        } else if b.is_ascii_alphabetic() {
            i += run_len(&bytes[i..], u8::is_ascii_alphabetic);
            let word = &date[start..i];
            if number_end == Some(start) && is_ordinal(word) {
                continue;
            }
            tokens.push(Token::Month(month_number(word).ok_or(FORMAT)?))?;
        } else if matches!(b, b'-' | b'/' | b'.' | b',' | b' ') {
            i += 1;
        } else {
            return Err(FORMAT);
        }
    }
    Ok(tokens)
}

/// How many leading bytes satisfy `pred`.
fn run_len(bytes: &[u8], pred: impl Fn(&u8) -> bool) -> usize {
    bytes.iter().take_while(|b| pred(b)).count()
}

/// Whether `word` is an English ordinal suffix (`st`, `nd`, `rd`, `th`).
fn is_ordinal(word: &str) -> bool {
    ["ST", "ND", "RD", "TH"]
        .iter()
        .any(|s| word.eq_ignore_ascii_case(s))
}

/// English month names and abbreviations (spec §4.3), matched ignoring case.
pub const MONTH_NAMES: [(&str, u32); 24] = [
    ("JAN", 1),
    ("JANUARY", 1),
    ("FEB", 2),
    ("FEBRUARY", 2),
    ("MAR", 3),
    ("MARCH", 3),
    ("APR", 4),
    ("APRIL", 4),
    ("MAY", 5),
    ("JUN", 6),
    ("JUNE", 6),
    ("JUL", 7),
    ("JULY", 7),
    ("AUG", 8),
    ("AUGUST", 8),
    ("SEP", 9),
    ("SEPT", 9),
    ("SEPTEMBER", 9),
    ("OCT", 10),
    ("OCTOBER", 10),
    ("NOV", 11),
    ("NOVEMBER", 11),
    ("DEC", 12),
    ("DECEMBER", 12),
];

/// The number of a month written as a word.
fn month_number(word: &str) -> Option<u32> {
    MONTH_NAMES
        .iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|(_, n)| *n)
}

/// Reads (year, month, day) from the tokens.
fn interpret(tokens: &[Token], order: DateOrder) -> Result<(u32, u32, u32), Invalid> {
    use Token::{Month, Number};
    match *tokens {
        [Number { value, digits: 8 }] => Ok((value / 10_000, value / 100 % 100, value % 100)),
        [
            Number {
                value: y,
                digits: 4,
            },
            Number {
                value: m,
                digits: 1..=2,
            },
            Number {
                value: d,
                digits: 1..=2,
            },
        ] => Ok((y, m, d)),
        [
            Number {
                value: a,
                digits: 1..=2,
            },
            Number {
                value: b,
                digits: 1..=2,
            },
            Number { value: y, digits },
        ] => match order {
            DateOrder::DayFirst => year(y, digits).map(|y| (y, b, a)),
            DateOrder::MonthFirst => year(y, digits).map(|y| (y, a, b)),
        },
        [
            Number {
                value: d,
                digits: 1..=2,
            },
            Month(m),
            Number { value: y, digits },
        ]
        | [
            Month(m),
            Number {
                value: d,
                digits: 1..=2,
            },
            Number { value: y, digits },
        ] => year(y, digits).map(|y| (y, m, d)),
        [
            Number {
                value: y,
                digits: 4,
            },
            Month(m),
            Number {
                value: d,
                digits: 1..=2,
            },
        ] => Ok((y, m, d)),
        _ => Err(FORMAT),
    }
}

/// A year token that ends a date: four digits, or the two-digit refusal.
fn year(value: u32, digits: usize) -> Result<u32, Invalid> {
    match digits {
        4 => Ok(value),
        1 | 2 => Err(TWO_DIGIT_YEAR),
        _ => Err(FORMAT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad test date {y}-{m}-{d}"))
    }

    const AS_OF: (i32, u32, u32) = (2025, 6, 30);

    fn dob(raw: &str) -> Field<NaiveDate> {
        date_of_birth(raw, DateOrder::DayFirst, ymd(AS_OF.0, AS_OF.1, AS_OF.2))
    }

    #[test]
    fn accepted_formats() {
        let want = ymd(1980, 2, 3);
        for raw in [
            "1980-02-03",
            "1980/02/03",
            "1980/2/3",
            "19800203",
            "03/02/1980",
            "3/2/1980",
            "03-02-1980",
            "03.02.1980",
            "3 Feb 1980",
            "03-Feb-1980",
            "03-FEB-1980",
            "3 february 1980",
            "3rd February 1980",
            "February 3, 1980",
            "Feb 3rd, 1980",
            "03FEB1980",
            "1980-Feb-03",
            "  1980-02-03  ",
        ] {
            assert_eq!(parse_date(raw, DateOrder::DayFirst), Ok(want), "{raw}");
        }
    }

    #[test]
    fn midnight_times_are_accepted() {
        let want = ymd(1980, 2, 3);
        for raw in [
            "1980-02-03 00:00",
            "1980-02-03 00:00:00",
            "1980-02-03T00:00:00",
            "1980-02-03T00:00:00Z",
            "1980-02-03T00:00:00.000Z",
            "1980-02-03 00:00:00.000",
            "1980-02-03T00:00:00+00:00",
            "03/02/1980 00:00",
            "03/02/1980 0:00:00",
            "02/03/1980 12:00:00 AM",
            "3 Oct 1980 00:00",
            "03FEB1980:00:00:00",
        ] {
            let order = if raw.contains("AM") {
                DateOrder::MonthFirst
            } else {
                DateOrder::DayFirst
            };
            let got = parse_date(raw, order);
            let want = if raw.contains("Oct") {
                ymd(1980, 10, 3)
            } else {
                want
            };
            assert_eq!(got, Ok(want), "{raw}");
        }
    }

    #[test]
    fn other_times_are_refused() {
        for raw in [
            "1980-02-03 12:34",
            "1980-02-02T23:00:00Z",
            "1980-02-03 00:00:01",
            "1980-02-03 00:00:00.001",
            "02/03/1980 12:00:00 PM",
        ] {
            assert_eq!(
                parse_date(raw, DateOrder::DayFirst),
                Err(NOT_MIDNIGHT),
                "{raw}"
            );
        }
        for raw in [
            "1980-02-03 00",
            "1980-02-03 0:0",
            "1980-02-03 00:00+01:00",
            "1980-02-03 :",
        ] {
            assert_eq!(parse_date(raw, DateOrder::DayFirst), Err(FORMAT), "{raw}");
        }
    }

    #[test]
    fn date_order_reads_ambiguous_dates() {
        assert_eq!(
            parse_date("03/02/1980", DateOrder::DayFirst),
            Ok(ymd(1980, 2, 3))
        );
        assert_eq!(
            parse_date("03/02/1980", DateOrder::MonthFirst),
            Ok(ymd(1980, 3, 2))
        );
        assert_eq!(
            parse_date("12/31/1980", DateOrder::MonthFirst),
            Ok(ymd(1980, 12, 31))
        );
        assert_eq!(
            parse_date("12/31/1980", DateOrder::DayFirst),
            Err(IMPOSSIBLE)
        );
        // Unambiguous forms ignore the order.
        assert_eq!(
            parse_date("1980-02-03", DateOrder::MonthFirst),
            Ok(ymd(1980, 2, 3))
        );
        assert_eq!(
            parse_date("3 Feb 1980", DateOrder::MonthFirst),
            Ok(ymd(1980, 2, 3))
        );
    }

    #[test]
    fn two_digit_years_are_refused() {
        for raw in ["03/02/80", "3-Feb-80", "80-02-03", "3/2/8", "Feb 3, 80"] {
            assert_eq!(
                parse_date(raw, DateOrder::DayFirst),
                Err(TWO_DIGIT_YEAR),
                "{raw}"
            );
        }
    }

    #[test]
    fn impossible_dates_are_refused() {
        for raw in [
            "31/02/1980",
            "01/13/1980",
            "29/02/1981",
            "00/01/1980",
            "1980-00-10",
            "19801301",
        ] {
            assert_eq!(
                parse_date(raw, DateOrder::DayFirst),
                Err(IMPOSSIBLE),
                "{raw}"
            );
        }
        assert_eq!(
            parse_date("29/02/1980", DateOrder::DayFirst),
            Ok(ymd(1980, 2, 29))
        );
    }

    #[test]
    fn unrecognised_formats_are_refused() {
        for raw in [
            "",
            "yesterday",
            "1980",
            "1980-02",
            "03021980x",
            "3 Fbr 1980",
            "1980-02-03-04",
            "123-02-1980",
            "198002031",
            "03/02/01980",
            "３/２/1980",
            "1980_02_03",
        ] {
            assert_eq!(parse_date(raw, DateOrder::DayFirst), Err(FORMAT), "{raw}");
        }
    }

    #[test]
    fn date_of_birth_states() {
        assert_eq!(dob("03/02/1980"), Field::Present(ymd(1980, 2, 3)));
        assert_eq!(dob(""), Field::Missing);
        assert_eq!(dob("   "), Field::Missing);
        for raw in [
            "UNKNOWN",
            "n/k",
            "N/A",
            "not known",
            "NULL",
            "-",
            "?",
            "00/00/0000",
            "0000-00-00",
            "00000000",
            "0",
            "0000-00-00 00:00:00",
            "01/01/1900",
            "1900-01-01 00:00:00",
            "01/01/1901",
            "1800-01-01",
            "31/12/1899",
            "30/12/1899",
            "9999-12-31",
            "0001-01-01",
            "11/11/1111",
            "1753-01-01",
            "01/01/9999",
        ] {
            assert_eq!(dob(raw), Field::Placeholder, "{raw}");
        }
        for raw in ["31/12/1889", "01/07/2025", "2030-01-01", "1066-10-14"] {
            assert_eq!(dob(raw), Field::Invalid(OUT_OF_RANGE), "{raw}");
        }
        assert_eq!(dob("01/01/1890"), Field::Present(ymd(1890, 1, 1)));
        assert_eq!(dob("30/06/2025"), Field::Present(ymd(2025, 6, 30)));
        assert_eq!(dob("31/02/1980"), Field::Invalid(IMPOSSIBLE));
        assert_eq!(dob("03/02/80"), Field::Invalid(TWO_DIGIT_YEAR));
    }

    #[test]
    fn date_order_serde_names() {
        assert_eq!(
            serde_json::to_string(&DateOrder::DayFirst).ok().as_deref(),
            Some("\"day-first\"")
        );
        assert_eq!(
            serde_json::from_str::<DateOrder>("\"month-first\"").ok(),
            Some(DateOrder::MonthFirst)
        );
        assert_eq!(DateOrder::default(), DateOrder::DayFirst);
    }

    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const LONG_MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];

    /// Renders a date in one of the supported formats for `order`.
    fn render(date: NaiveDate, style: u8, order: DateOrder) -> String {
        let (y, m, d) = (date.year(), date.month(), date.day());
        let mi = (m - 1) as usize;
        let (a, b) = match order {
            DateOrder::DayFirst => (d, m),
            DateOrder::MonthFirst => (m, d),
        };
        match style % 16 {
            0 => format!("{y:04}-{m:02}-{d:02}"),
            1 => format!("{y:04}/{m}/{d}"),
            2 => format!("{y:04}{m:02}{d:02}"),
            3 => format!("{a:02}/{b:02}/{y:04}"),
            4 => format!("{a}/{b}/{y:04}"),
            5 => format!("{a:02}-{b:02}-{y:04}"),
            6 => format!("{a:02}.{b:02}.{y:04}"),
            7 => format!("{d} {} {y:04}", MONTHS[mi]),
            8 => format!("{d:02}-{}-{y:04}", MONTHS[mi].to_uppercase()),
            9 => format!("{d} {} {y:04}", LONG_MONTHS[mi].to_lowercase()),
            10 => format!("{} {d}, {y:04}", LONG_MONTHS[mi]),
            11 => format!("{d:02}{}{y:04}", MONTHS[mi].to_uppercase()),
            12 => format!("{y:04}-{m:02}-{d:02}T00:00:00Z"),
            13 => format!("{y:04}-{m:02}-{d:02} 00:00:00.000"),
            14 => format!("{a:02}/{b:02}/{y:04} 00:00"),
            _ => format!("  {y:04}-{m:02}-{d:02}T00:00:00 "),
        }
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (1890i32..=2025, 1u32..=12, 1u32..=31)
            .prop_filter_map("real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
    }

    fn any_order() -> impl Strategy<Value = DateOrder> {
        prop_oneof![Just(DateOrder::DayFirst), Just(DateOrder::MonthFirst)]
    }

    proptest! {
        /// The fixed-position reading of numeric dates gives exactly what the general rules give.
        #[test]
        fn fixed_numeric_dates_agree(
            raw in "[0-9]{2}[-/.][0-9]{2}[-/.][0-9]{4}|[0-9]{4}[-/.][0-9]{2}[-/.][0-9]{2}|[0-3][0-9]/[01][0-9]/(19|20)[0-9]{2}|(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]|[0/.-]{10}|[0-9/ -]{10}",
            month_first in any::<bool>(),
        ) {
            let order = if month_first { DateOrder::MonthFirst } else { DateOrder::DayFirst };
            let as_of = ymd(2025, 1, 1);
            prop_assert_eq!(parse_date(&raw, order), parse_date_general(raw.trim(), order));
            let general = match trimmed(&raw) {
                Some(t) => date_of_birth_general(t, order, as_of),
                None => Field::Missing,
            };
            prop_assert_eq!(date_of_birth(&raw, order, as_of), general);
        }

        #[test]
        fn dates_never_panic(raw in any::<String>(), month_first in any::<bool>()) {
            let order = if month_first { DateOrder::MonthFirst } else { DateOrder::DayFirst };
            let _ = parse_date(&raw, order);
            let _ = date_of_birth(&raw, order, ymd(2025, 1, 1));
        }

        #[test]
        fn dates_never_panic_on_date_like_text(raw in "[0-9A-Za-z/.:, T+-]{0,30}") {
            let _ = parse_date(&raw, DateOrder::DayFirst);
            let _ = date_of_birth(&raw, DateOrder::MonthFirst, ymd(2025, 1, 1));
        }

        #[test]
        fn every_rendering_reads_the_same_date(
            date in any_date(),
            s1 in any::<u8>(),
            s2 in any::<u8>(),
            order in any_order(),
        ) {
            prop_assert_eq!(parse_date(&render(date, s1, order), order), Ok(date));
            prop_assert_eq!(parse_date(&render(date, s2, order), order), Ok(date));
        }

        #[test]
        fn canonical_dates_are_idempotent(date in any_date(), order in any_order()) {
            let iso = date.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_date(&iso, order), Ok(date));
        }
    }
}
