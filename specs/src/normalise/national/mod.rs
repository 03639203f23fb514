//! National identifiers (spec §4.6): NHS number, National
//! Insurance number, PNC ID, CRO number and prison number, one module each.
//!
//! Each normaliser copies the significant characters of the value, upper
//! case, into a small wiped buffer on the stack, checks the format and any
//! check character, and returns the canonical form.

use zeroize::Zeroizing;

use super::name::PlaceholderKey;

mod cro;
mod nhs;
mod ni;
mod pnc;
mod prison;

pub use cro::{cro_check_letter, cro_number, cro_sf_check_letter};
pub use nhs::{nhs_check_digit, nhs_number};
pub use ni::ni_number;
pub use pnc::{pnc_check_letter, pnc_id};
pub use prison::prison_number;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::Field;
    use proptest::prelude::*;

    /// The canonical form of a value that must be present.
    pub(super) fn present(field: Field<String>) -> String {
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
    #[test]
    fn reasons_never_hold_the_value() {
        for f in all_normalisers() {
            if let Field::Invalid(reason) = f("Z9Q8W7") {
                assert!(!reason.0.contains("Z9Q8W7"));
            }
        }
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
    }
}
