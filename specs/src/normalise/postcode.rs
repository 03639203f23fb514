//! UK postcodes (spec §4.5).

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::name::{PlaceholderKey, word_keys};
use super::{Field, Invalid, trimmed};

/// A UK postcode in canonical form: outward code and inward code, upper case.
///
/// Held inline (no allocation: a postcode is normalised for every row), wiped
/// when dropped; `Debug` never shows the postcode.
#[derive(PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Postcode {
    /// The outward then the inward code, no space; zero past `len`. ASCII.
    compact: [u8; 7],
    len: u8,
    /// Where the inward code starts.
    split: u8,
}

impl Postcode {
    /// The outward and inward codes with no space between: `SW1A1AA`.
    pub fn compact(&self) -> &[u8] {
        &self.compact[..usize::from(self.len)]
    }

    pub(crate) fn outward_bytes(&self) -> &[u8] {
        &self.compact[..usize::from(self.split)]
    }

    pub(crate) fn inward_bytes(&self) -> &[u8] {
        &self.compact[usize::from(self.split)..usize::from(self.len)]
    }

    /// The full postcode with a single space: `SW1A 1AA`.
    pub fn full(&self) -> String {
        let mut full = String::with_capacity(usize::from(self.len) + 1);
        full.push_str(self.outward());
        full.push(' ');
        full.push_str(self.inward());
        full
    }

    /// The postcode district, which is the outward code: `SW1A`.
    pub fn district(&self) -> &str {
        self.outward()
    }

    /// The postcode sector: the outward code, a space and the inward digit: `SW1A 1`.
    pub fn sector(&self) -> String {
        let mut sector = String::with_capacity(usize::from(self.split) + 2);
        sector.push_str(self.outward());
        sector.push(' ');
        sector.push_str(self.inward().get(..1).unwrap_or(""));
        sector
    }

    /// The outward code: `SW1A`.
    pub fn outward(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(self.outward_bytes()).unwrap_or_default()
    }

    /// The inward code: `1AA`.
    pub fn inward(&self) -> &str {
        std::str::from_utf8(self.inward_bytes()).unwrap_or_default()
    }
}

impl std::fmt::Debug for Postcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Postcode(<redacted>)")
    }
}

/// The value is not a UK postcode.
const FORMAT: Invalid = Invalid("postcode is not a valid uk postcode");

/// Words read as a placeholder, besides the common placeholders (spec §4.5).
pub const POSTCODE_PLACEHOLDERS: [&str; 5] = [
    "NFA",
    "NOFIXEDABODE",
    "NOFIXEDADDRESS",
    "HOMELESS",
    "ABROAD",
];

/// [`POSTCODE_PLACEHOLDERS`] packed for [`PlaceholderKey::is_any_key`].
const POSTCODE_PLACEHOLDER_KEYS: [u128; POSTCODE_PLACEHOLDERS.len()] =
    word_keys(POSTCODE_PLACEHOLDERS);

/// The outward code of the NHS pseudo-postcodes for no fixed abode, unknown
/// and overseas addresses (`ZZ99 3VZ`, `ZZ99 3WZ`, `ZZ99 3CZ`, …).
pub const PSEUDO_OUTWARD: &str = "ZZ99";

/// Letters never used in the two letters of the inward code.
const INWARD_EXCLUDED: &[u8] = b"CIKMOV";

/// Normalises a postcode field (spec §4.5).
pub fn postcode(raw: &str) -> Field<Postcode> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    let key = PlaceholderKey::of(t);
    if key.is_common_placeholder() || key.is_any_key(&POSTCODE_PLACEHOLDER_KEYS) {
        return Field::Placeholder;
    }
    let mut buf = Zeroizing::new([0u8; 7]);
    let mut len = 0;
    for c in t.chars().filter(|c| !c.is_whitespace()) {
        match buf.get_mut(len) {
            Some(slot) if c.is_ascii() => *slot = c.to_ascii_uppercase() as u8,
            _ => return Field::Invalid(FORMAT),
        }
        len += 1;
    }
    let compact = &buf[..len];
    if compact.starts_with(PSEUDO_OUTWARD.as_bytes()) {
        return Field::Placeholder;
    }
    match split_postcode(compact) {
        Some((outward, _)) => Field::Present(Postcode {
            compact: *buf,
            len: len as u8,
            split: outward.len() as u8,
        }),
        None => Field::Invalid(FORMAT),
    }
}

/// Splits a compact upper-case postcode into valid outward and inward codes.
fn split_postcode(compact: &[u8]) -> Option<(&[u8], &[u8])> {
    let split = compact.len().checked_sub(3)?;
    let (outward, inward) = compact.split_at(split);
    if outward == b"GIR" && inward == b"0AA" {
        return Some((outward, inward));
    }
    (valid_outward(outward) && valid_inward(inward)).then_some((outward, inward))
}

/// Whether `outward` is one of A9, A99, A9A, AA9, AA99, AA9A, with the first
/// letter not Q, V or X and a second letter not I, J or Z.
fn valid_outward(outward: &[u8]) -> bool {
    let first = |b: u8| b.is_ascii_uppercase() && !b"QVX".contains(&b);
    let second = |b: u8| b.is_ascii_uppercase() && !b"IJZ".contains(&b);
    let digit = |b: u8| b.is_ascii_digit();
    let digit_or_letter = |b: u8| b.is_ascii_digit() || b.is_ascii_uppercase();
    match *outward {
        [a, n] => first(a) && digit(n),
        [a, n, x] if digit(n) => first(a) && digit_or_letter(x),
        [a, b, n] => first(a) && second(b) && digit(n),
        [a, b, n, x] => first(a) && second(b) && digit(n) && digit_or_letter(x),
        _ => false,
    }
}

/// Whether `inward` is a digit and two letters other than C, I, K, M, O, V.
fn valid_inward(inward: &[u8]) -> bool {
    let letter = |b: u8| b.is_ascii_uppercase() && !INWARD_EXCLUDED.contains(&b);
    matches!(*inward, [n, a, b] if n.is_ascii_digit() && letter(a) && letter(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full(raw: &str) -> String {
        match postcode(raw) {
            Field::Present(p) => p.full(),
            other => panic!("expected present postcode, got {other:?}"),
        }
    }

    #[test]
    fn accessors() {
        let Field::Present(p) = postcode("sw1a1aa") else {
            panic!("expected present postcode");
        };
        assert_eq!(p.full(), "SW1A 1AA");
        assert_eq!(p.district(), "SW1A");
        assert_eq!(p.outward(), "SW1A");
        assert_eq!(p.inward(), "1AA");
        assert_eq!(p.sector(), "SW1A 1");
        assert_eq!(format!("{p:?}"), "Postcode(<redacted>)");
    }

    #[test]
    fn every_outward_shape() {
        for (raw, want) in [
            ("M1 1AE", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("W1A 0AX", "W1A 0AX"),
            ("CR2 6XH", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("EC1A 1BB", "EC1A 1BB"),
            ("GIR 0AA", "GIR 0AA"),
            ("gir0aa", "GIR 0AA"),
        ] {
            assert_eq!(full(raw), want, "{raw}");
        }
    }

    #[test]
    fn spacing_and_case_do_not_matter() {
        for raw in [
            "SW1A 1AA",
            "sw1a 1aa",
            "SW1A1AA",
            " SW1A   1AA ",
            "S W 1 A 1 A A",
            "SW1A\u{a0}1AA",
        ] {
            assert_eq!(full(raw), "SW1A 1AA", "{raw}");
        }
    }

    #[test]
    fn blank_is_missing() {
        assert_eq!(postcode(""), Field::Missing);
        assert_eq!(postcode(" \t "), Field::Missing);
    }

    #[test]
    fn placeholders() {
        for raw in [
            "ZZ99 3VZ",
            "zz99 3wz",
            "ZZ993CZ",
            "ZZ99",
            "NFA",
            "N.F.A.",
            "No Fixed Abode",
            "UNKNOWN",
            "NK",
            "N/A",
            "NONE",
            "-",
            "?",
        ] {
            assert_eq!(postcode(raw), Field::Placeholder, "{raw}");
        }
    }

    #[test]
    fn invalid_formats() {
        for raw in [
            "SW1A 1A",   // inward too short
            "SW1A 1AAA", // too long
            "SW1A-1AA",  // hyphen
            "1W1A 1AA",  // outward starts with a digit
            "QA1 1AA",   // Q first
            "VA1 1AA",   // V first
            "XA1 1AA",   // X first
            "AI1 1AA",   // I second
            "AJ1 1AA",   // J second
            "AZ1 1AA",   // Z second
            "SW1A 1CA",  // C in inward
            "SW1A 1AI",  // I in inward
            "SW1A 1KA",  // K in inward
            "SW1A 1MA",  // M in inward
            "SW1A 1OA",  // O in inward
            "SW1A 1AV",  // V in inward
            "SW1A AAA",  // inward starts with a letter
            "SW 1AA",    // outward has no digit
            "SW1AA 1AA", // outward too long
            "ABC",       // too short
            "SW1Á 1AA",  // non-ASCII
        ] {
            assert_eq!(postcode(raw), Field::Invalid(FORMAT), "{raw}");
        }
    }

    /// Letters allowed in each position, for generating valid postcodes.
    const FIRST: &str = "ABCDEFGHIJKLMNOPRSTUWYZ";
    const SECOND: &str = "ABCDEFGHKLMNOPQRSTUVWXY";
    const INWARD: &str = "ABDEFGHJLNPQRSTUWXYZ";

    fn valid_postcode() -> impl Strategy<Value = (String, String)> {
        let letter = |set: &'static str| prop::sample::select(set.chars().collect::<Vec<_>>());
        let digit = || prop::sample::select(('0'..='9').collect::<Vec<_>>());
        let outward = prop_oneof![
            (letter(FIRST), digit()).prop_map(|(a, n)| format!("{a}{n}")),
            (letter(FIRST), digit(), digit()).prop_map(|(a, n, m)| format!("{a}{n}{m}")),
            (letter(FIRST), digit(), letter(FIRST)).prop_map(|(a, n, x)| format!("{a}{n}{x}")),
            (letter(FIRST), letter(SECOND), digit()).prop_map(|(a, b, n)| format!("{a}{b}{n}")),
            (letter(FIRST), letter(SECOND), digit(), digit())
                .prop_map(|(a, b, n, m)| format!("{a}{b}{n}{m}")),
            (letter(FIRST), letter(SECOND), digit(), letter(FIRST))
                .prop_map(|(a, b, n, x)| format!("{a}{b}{n}{x}")),
        ];
        let inward =
            (digit(), letter(INWARD), letter(INWARD)).prop_map(|(n, a, b)| format!("{n}{a}{b}"));
        (outward, inward).prop_filter("not a pseudo-postcode", |(o, _)| o != PSEUDO_OUTWARD)
    }

    proptest! {
        #[test]
        fn postcode_never_panics(raw in any::<String>()) {
            let _ = postcode(&raw);
        }

        #[test]
        fn valid_postcodes_are_accepted_and_idempotent(
            (outward, inward) in valid_postcode(),
            lower in any::<bool>(),
            spaces in ("[ \t]{0,2}", "[ \t]{0,3}", "[ \t]{0,2}"),
        ) {
            let canonical = format!("{outward} {inward}");
            let written = if lower { canonical.to_lowercase() } else { canonical.clone() };
            let raw = format!("{}{outward_w}{}{inward_w}{}",
                spaces.0, spaces.1, spaces.2,
                outward_w = &written[..outward.len()],
                inward_w = &written[outward.len() + 1..]);
            prop_assert_eq!(full(&raw), canonical.clone());
            prop_assert_eq!(full(&canonical), canonical);
        }

        #[test]
        fn present_postcodes_are_canonical(raw in "[A-Za-z0-9 ]{0,9}") {
            if let Field::Present(p) = postcode(&raw) {
                let full = p.full();
                prop_assert!(full.bytes().all(|b| b == b' ' || b.is_ascii_uppercase() || b.is_ascii_digit()));
                prop_assert_eq!(postcode(&full).present().map(Postcode::full), Some(full.clone()));
            }
        }
    }
}
