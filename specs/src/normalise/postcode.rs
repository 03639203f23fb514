//! Postcodes (spec §4.5): UK postcodes, and under
//! [`PostcodeFormat::Any`] the postal codes of other countries as opaque
//! codes.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::name::{PlaceholderKey, word_keys};
use super::{Field, Invalid, trimmed};

/// Which postcodes an extract holds (spec §4.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostcodeFormat {
    /// UK postcodes only; anything else is invalid. The default.
    #[default]
    Uk,
    /// UK postcodes where a value is one, and otherwise any postal code of
    /// 3 to 10 letters and digits with at least one digit (`4014`,
    /// `10115`, `K1A0B1`), kept whole as an opaque code: its district is
    /// the whole code. For extracts from other countries, whose postcodes
    /// the UK rules would all refuse.
    Any,
}

/// Longest postal code kept under [`PostcodeFormat::Any`].
pub const MAX_OTHER_LEN: usize = 10;
/// Shortest postal code kept under [`PostcodeFormat::Any`].
pub const MIN_OTHER_LEN: usize = 3;

/// A postcode in canonical form: a UK postcode's outward code and inward
/// code, upper case; or, under [`PostcodeFormat::Any`], another country's
/// code whole, as its outward code with no inward code.
///
/// Held inline (no allocation: a postcode is normalised for every row), wiped
/// when dropped; `Debug` never shows the postcode.
#[derive(PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Postcode {
    /// The outward then the inward code, no space; zero past `len`. ASCII.
    compact: [u8; MAX_OTHER_LEN],
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

    /// The full postcode with a single space: `SW1A 1AA`; another country's
    /// code as it is (`4014`).
    pub fn full(&self) -> String {
        let mut full = String::with_capacity(usize::from(self.len) + 1);
        full.push_str(self.outward());
        if !self.inward_bytes().is_empty() {
            full.push(' ');
            full.push_str(self.inward());
        }
        full
    }

    /// Whether this is a UK postcode (not another country's opaque code).
    pub fn is_uk(&self) -> bool {
        !self.inward_bytes().is_empty()
    }

    /// The postcode district, which is the outward code: `SW1A` (another
    /// country's code whole).
    pub fn district(&self) -> &str {
        self.outward()
    }

    /// The postcode sector: the outward code, a space and the inward digit:
    /// `SW1A 1` (another country's code whole).
    pub fn sector(&self) -> String {
        if !self.is_uk() {
            return self.outward().to_owned();
        }
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
/// The value is neither a UK postcode nor another country's postal code.
const OTHER_FORMAT: Invalid = Invalid("postcode is not a valid postal code");

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

/// Normalises a UK postcode field (spec §4.5).
pub fn postcode(raw: &str) -> Field<Postcode> {
    postcode_as(raw, PostcodeFormat::Uk)
}

/// Normalises a postcode field of the given format (spec §4.5).
pub fn postcode_as(raw: &str, format: PostcodeFormat) -> Field<Postcode> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    let key = PlaceholderKey::of(t);
    if key.is_common_placeholder() || key.is_any_key(&POSTCODE_PLACEHOLDER_KEYS) {
        return Field::Placeholder;
    }
    // Under `Any`, hyphens go with the spaces (`SW1A-1AA`, `1234-567`).
    let removed = |c: &char| c.is_whitespace() || (format == PostcodeFormat::Any && *c == '-');
    let invalid = match format {
        PostcodeFormat::Uk => FORMAT,
        PostcodeFormat::Any => OTHER_FORMAT,
    };
    let mut buf = Zeroizing::new([0u8; MAX_OTHER_LEN]);
    let mut len = 0;
    for c in t.chars().filter(|c| !removed(c)) {
        match buf.get_mut(len) {
            Some(slot) if c.is_ascii() => *slot = c.to_ascii_uppercase() as u8,
            _ => return Field::Invalid(invalid),
        }
        len += 1;
    }
    let compact = &buf[..len];
    if compact.starts_with(PSEUDO_OUTWARD.as_bytes()) {
        return Field::Placeholder;
    }
    if len <= 7
        && let Some((outward, _)) = split_postcode(compact)
    {
        return Field::Present(Postcode {
            compact: *buf,
            len: len as u8,
            split: outward.len() as u8,
        });
    }
    match format {
        PostcodeFormat::Uk => Field::Invalid(FORMAT),
        PostcodeFormat::Any
            if (MIN_OTHER_LEN..=MAX_OTHER_LEN).contains(&len)
                && compact.iter().all(u8::is_ascii_alphanumeric)
                && compact.iter().any(u8::is_ascii_digit) =>
        {
            Field::Present(Postcode {
                compact: *buf,
                len: len as u8,
                split: len as u8,
            })
        }
        PostcodeFormat::Any => Field::Invalid(OTHER_FORMAT),
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

    #[test]
    fn other_countries_codes_are_kept_whole_under_any() {
        let any = |raw: &str| match postcode_as(raw, PostcodeFormat::Any) {
            Field::Present(p) => (p.full(), p.district().to_owned(), p.is_uk()),
            other => panic!("{raw}: {other:?}"),
        };
        assert_eq!(any("4014"), ("4014".into(), "4014".into(), false));
        assert_eq!(any(" 10115 "), ("10115".into(), "10115".into(), false));
        assert_eq!(any("k1a 0b1"), ("K1A0B1".into(), "K1A0B1".into(), false));
        assert_eq!(any("1234-567"), ("1234567".into(), "1234567".into(), false));
        // A UK postcode is still a UK postcode, whatever the format.
        assert_eq!(any("sw1a1aa"), ("SW1A 1AA".into(), "SW1A".into(), true));
        assert_eq!(any("SW1A-1AA"), ("SW1A 1AA".into(), "SW1A".into(), true));
        for bad in ["AB", "ABCDEF", "12345678901", "40 14é", "12_34"] {
            assert_eq!(
                postcode_as(bad, PostcodeFormat::Any),
                Field::Invalid(OTHER_FORMAT),
                "{bad}"
            );
        }
        assert_eq!(postcode_as("NFA", PostcodeFormat::Any), Field::Placeholder);
        assert_eq!(
            postcode_as("ZZ99 3VZ", PostcodeFormat::Any),
            Field::Placeholder
        );
        // Under the default, another country's code is invalid, as before.
        assert_eq!(postcode("4014"), Field::Invalid(FORMAT));
    }

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
