//! The corruptions of a field's content: typos, family-name variants, a
//! wrong digit.

use chrono::{Datelike, Days, NaiveDate};

use crate::rng::Rng;

use super::people::RELEASE_YEAR;

pub(super) fn has_two_letters(text: &str) -> bool {
    text.bytes()
        .filter(u8::is_ascii_alphabetic)
        .nth(1)
        .is_some()
}

/// QWERTY neighbours of each letter.
const KEYBOARD: [&str; 26] = [
    "qwsz", "vghn", "xdfv", "erfcxs", "wrsd", "rtgvcd", "tyhbvf", "yujnbg", "ujko", "uikmnh",
    "iolmj", "opk", "njk", "bhjm", "iplk", "ol", "wa", "etfd", "weadzx", "ryhgf", "yihj", "cfgb",
    "qeas", "zsdc", "tuhg", "asx",
];

fn neighbour(c: u8, rng: &mut Rng) -> u8 {
    let lower = c.to_ascii_lowercase();
    if lower.is_ascii_lowercase() {
        *rng.pick(KEYBOARD[(lower - b'a') as usize].as_bytes())
    } else {
        b'a' + rng.below(26) as u8
    }
}

/// `letter` in the case of `like`.
fn case_like(like: char, letter: u8) -> char {
    if like.is_ascii_uppercase() {
        char::from(letter.to_ascii_uppercase())
    } else {
        char::from(letter.to_ascii_lowercase())
    }
}

/// One typo in a name: substitution, insertion, deletion, adjacent
/// transposition or a keyboard neighbour, mostly after the first letter.
pub(super) fn typo(text: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_alphabetic())
        .collect();
    let k = if rng.chance(0.15) {
        0
    } else {
        1 + rng.below(letters.len() as u64 - 1) as usize
    };
    let at = letters[k];
    let c = chars[at];
    let lower = c.to_ascii_lowercase() as u8;
    let substitute = |rng: &mut Rng| {
        let mut x = b'a' + rng.below(26) as u8;
        while x == lower {
            x = b'a' + rng.below(26) as u8;
        }
        x
    };
    let all_upper = letters.iter().all(|&i| chars[i].is_ascii_uppercase());
    match rng.below(5) {
        0 => chars[at] = case_like(c, substitute(rng)),
        1 => {
            let x = if rng.chance(0.5) {
                lower
            } else {
                neighbour(lower, rng)
            };
            let like = if all_upper { 'A' } else { 'a' };
            chars.insert(at + 1, case_like(like, x));
        }
        2 if letters.len() >= 3 => {
            chars.remove(at);
        }
        3 if k + 1 < letters.len()
            && letters[k + 1] == at + 1
            && !chars[at + 1].eq_ignore_ascii_case(&c) =>
        {
            let next = chars[at + 1];
            chars[at] = case_like(c, next as u8);
            chars[at + 1] = case_like(next, c as u8);
        }
        _ => {
            let mut x = neighbour(lower, rng);
            if x == lower {
                x = substitute(rng);
            }
            chars[at] = case_like(c, x);
        }
    }
    chars.into_iter().collect()
}

/// Whether a family name has a variant: double-barrelled, `Mc`/`Mac`, or several words.
pub(super) fn family_can_vary(name: &str) -> bool {
    name.contains(['-', ' ']) || mac_rest(name).is_some()
}

/// For `McDonald` or `MacDonald`: (`Mc` or `Mac`, `Donald`).
fn mac_rest(name: &str) -> Option<(&str, &str)> {
    for prefix in ["Mac", "Mc"] {
        if let Some(rest) = name.strip_prefix(prefix)
            && rest.starts_with(|c: char| c.is_ascii_uppercase())
        {
            return Some((prefix, rest));
        }
    }
    None
}

pub(super) fn family_variant(name: &str, rng: &mut Rng) -> String {
    if let Some((a, b)) = name.split_once('-') {
        return match rng.below(5) {
            0 | 1 => a.to_owned(),
            2 | 3 => b.to_owned(),
            _ => format!("{b}-{a}"),
        };
    }
    if let Some((prefix, rest)) = mac_rest(name) {
        let other = if prefix == "Mc" { "Mac" } else { "Mc" };
        return format!("{other}{rest}");
    }
    name.rsplit(' ').next().unwrap_or(name).to_owned()
}

/// Apostrophes, hyphens and spaces as different systems keep them; all
/// normalise alike (`O'Brien`, `O’Brien`, `OBrien`, `O Brien`).
pub(super) fn family_punctuation(name: &str, rng: &mut Rng) -> String {
    if !name.contains(['\'', '-']) {
        return name.to_owned();
    }
    let apostrophe = match rng.below(100) {
        0..80 => "'",
        80..88 => "\u{2019}",
        88..95 => "",
        _ => " ",
    };
    let hyphen = match rng.below(100) {
        0..85 => "-",
        85..95 => " ",
        _ => " - ",
    };
    name.replace('\'', apostrophe).replace('-', hyphen)
}

/// One digit of a date of birth wrong, giving another real date.
pub(super) fn date_typo(date: NaiveDate, rng: &mut Rng) -> NaiveDate {
    let (y, m, d) = (date.year(), date.month(), date.day());
    for _ in 0..32 {
        let digit = rng.below(10) as u32;
        let candidate = match rng.below(5) {
            0 => NaiveDate::from_ymd_opt(y, m, d / 10 * 10 + digit),
            1 => NaiveDate::from_ymd_opt(y, m, (digit % 4) * 10 + d % 10),
            2 => NaiveDate::from_ymd_opt(y, m / 10 * 10 + digit, d),
            3 => NaiveDate::from_ymd_opt(y / 10 * 10 + digit as i32, m, d),
            _ => NaiveDate::from_ymd_opt(y / 100 * 100 + digit as i32 * 10 + y % 10, m, d),
        };
        if let Some(c) =
            candidate.filter(|c| *c != date && (1920..=RELEASE_YEAR).contains(&c.year()))
        {
            return c;
        }
    }
    date + Days::new(1)
}

/// One character of a postcode wrong: a digit for a digit, a letter for a
/// neighbouring key.
pub(super) fn postcode_typo(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let positions: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != b' ').collect();
    let at = *rng.pick(&positions);
    let b = bytes[at];
    bytes[at] = if b.is_ascii_digit() {
        b'0' + ((b - b'0') as u64 + 1 + rng.below(9)) as u8 % 10
    } else {
        neighbour(b, rng).to_ascii_uppercase()
    };
    String::from_utf8(bytes).expect("postcodes are ASCII")
}

/// One digit of a written number changed.
pub(super) fn number_typo(text: &mut String, rng: &mut Rng) {
    let digits: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    if digits.is_empty() {
        return;
    }
    let at = *rng.pick(&digits);
    let old = text.as_bytes()[at] - b'0';
    let new = (old + 1 + rng.below(9) as u8) % 10;
    text.replace_range(at..=at, &char::from(b'0' + new).to_string());
}
