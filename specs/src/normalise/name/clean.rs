//! Name cleaning (spec §4.2.1): NFKD with combining marks dropped, the
//! fixed folding of Latin letters that do not decompose, ASCII upper case,
//! apostrophes and full stops removed, separators turned into spaces.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use zeroize::Zeroizing;

use super::{Invalid, NOT_LETTERS};

/// Cleans a name: letters `A`–`Z`, parts separated by single spaces.
pub(super) fn clean_name(t: &str) -> Result<Cleaned, Invalid> {
    if t.is_ascii() && t.len() <= Cleaned::SHORT {
        return clean_short_ascii(t.as_bytes());
    }
    let mut out = Zeroizing::new(String::with_capacity(t.len() + 4));
    let chars = t.chars().filter(|&c| !is_apostrophe(c));
    if t.is_ascii() {
        push_cleaned(chars, &mut out)?;
    } else {
        push_cleaned(chars.nfkd(), &mut out)?;
    }
    Ok(Cleaned::Long(out))
}

/// [`clean_name`] of a short ASCII name, byte by byte into a stack buffer.
///
/// For ASCII the rules of [`push_cleaned`] reduce to: letters upper case;
/// white space, `-`, `_` and `,` to a space; `'`, `` ` `` and `.` dropped;
/// anything else refused. Cleaning never lengthens ASCII text.
fn clean_short_ascii(bytes: &[u8]) -> Result<Cleaned, Invalid> {
    let mut buf = Zeroizing::new([0u8; Cleaned::SHORT]);
    let mut len = 0;
    for &b in bytes {
        let out = match b {
            b'A'..=b'Z' => b,
            b'a'..=b'z' => b.to_ascii_uppercase(),
            b'\'' | b'`' | b'.' => continue,
            b'-' | b'_' | b',' => b' ',
            _ if char::from(b).is_whitespace() => b' ',
            _ => return Err(NOT_LETTERS),
        };
        buf[len] = out;
        len += 1;
    }
    Ok(Cleaned::Short { buf, len })
}

/// A cleaned name, wiped when dropped: on the stack when the raw name was
/// short ASCII (nearly every name), else on the heap.
pub(super) enum Cleaned {
    Short {
        buf: Zeroizing<[u8; Cleaned::SHORT]>,
        len: usize,
    },
    Long(Zeroizing<String>),
}

impl Cleaned {
    /// Longest raw ASCII name cleaned on the stack.
    const SHORT: usize = 64;

    pub(super) fn as_str(&self) -> &str {
        match self {
            // Only ASCII bytes are ever written to the buffer.
            Cleaned::Short { buf, len } => std::str::from_utf8(&buf[..*len]).unwrap_or_default(),
            Cleaned::Long(s) => s,
        }
    }
}

/// Appends the cleaned form of `chars` to `out`.
fn push_cleaned(chars: impl Iterator<Item = char>, out: &mut String) -> Result<(), Invalid> {
    for c in chars {
        if c.is_ascii_alphabetic() {
            out.push(c.to_ascii_uppercase());
        } else if is_separator(c) {
            out.push(' ');
        } else if let Some(folded) = fold_letter(c) {
            out.push_str(folded);
        } else if !(c == '.' || is_apostrophe(c) || is_combining_mark(c)) {
            return Err(NOT_LETTERS);
        }
    }
    Ok(())
}

/// Characters removed from names: apostrophes and their look-alikes.
///
/// Removed before decomposition, because NFKD turns `´` into a space and a mark.
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`' | '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' | '\u{02BC}'
    )
}

/// Characters that separate the parts of a name.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '_' | ',' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// The fixed folding of Latin letters that NFKD does not decompose (spec §4.2.1).
pub const LETTER_FOLDS: [(char, &str); 20] = [
    ('ß', "SS"),
    ('ẞ', "SS"),
    ('Æ', "AE"),
    ('æ', "AE"),
    ('Œ', "OE"),
    ('œ', "OE"),
    ('Ø', "O"),
    ('ø', "O"),
    ('Ł', "L"),
    ('ł', "L"),
    ('Đ', "D"),
    ('đ', "D"),
    ('Ð', "D"),
    ('ð', "D"),
    ('Þ', "TH"),
    ('þ', "TH"),
    ('ı', "I"),
    ('Ħ', "H"),
    ('ħ', "H"),
    ('ĸ', "K"),
];

/// The folded form of a letter that NFKD does not decompose.
fn fold_letter(c: char) -> Option<&'static str> {
    LETTER_FOLDS
        .iter()
        .find(|(from, _)| *from == c)
        .map(|(_, to)| *to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Short ASCII names are cleaned on the stack exactly as the general path cleans them.
        #[test]
        fn short_ascii_cleaning_agrees(raw in "[ -~\t\n\x0b\x0c\r]{0,64}") {
            let mut general = String::new();
            let slow = push_cleaned(raw.chars().filter(|&c| !is_apostrophe(c)), &mut general)
                .map(|()| general);
            let fast = clean_short_ascii(raw.as_bytes()).map(|c| c.as_str().to_owned());
            prop_assert_eq!(fast, slow);
        }
    }
}
