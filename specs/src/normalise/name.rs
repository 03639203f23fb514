//! Names (spec §4.2 to §4.4): given names, family name and nickname roots.
//!
//! Both kinds of name go through the same cleaning: compatibility
//! decomposition (NFKD) with combining marks dropped, a fixed folding of the
//! Latin letters that do not decompose (`ß` → `SS`, `Æ` → `AE`, …), ASCII
//! upper case, apostrophes and full stops removed, and hyphens, underscores,
//! commas and white space turned into part separators. Given names keep
//! their parts apart; a family name joins them with nothing between.
//!
//! This module also holds the small text helpers that the other normalisers
//! share for recognising placeholder words.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Field, Invalid, trimmed};

/// A name held something other than Latin letters and separators.
const NOT_LETTERS: Invalid = Invalid("name contains characters other than latin letters");

/// Given names in canonical form: at least one name, each of `A`–`Z` only.
///
/// Wiped when dropped; `Debug` never shows the names.
#[derive(PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct GivenNames(Vec<String>);

impl GivenNames {
    /// The first given name.
    pub fn first(&self) -> &str {
        // Never empty: `given_names` only builds a value with at least one name.
        self.0.first().map_or("", String::as_str)
    }

    /// Every given name, in the order written.
    pub fn all(&self) -> &[String] {
        &self.0
    }

    /// Every given name, separated by single spaces.
    pub fn joined(&self) -> String {
        self.0.join(" ")
    }
}

impl std::fmt::Debug for GivenNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GivenNames(<redacted>)")
    }
}

/// Normalises a given-names field (spec §4.2).
///
/// Trailing suffixes (see [`SUFFIXES`]) and then leading titles (see
/// [`TITLES`]) are dropped; a value that is only titles and suffixes is a
/// placeholder.
pub fn given_names(raw: &str) -> Field<GivenNames> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    if is_name_placeholder_text(t) {
        return Field::Placeholder;
    }
    let cleaned = match clean_name(t) {
        Ok(cleaned) => cleaned,
        Err(reason) => return Field::Invalid(reason),
    };
    let parts: Vec<&str> = cleaned.split(' ').filter(|p| !p.is_empty()).collect();
    let kept = strip_affixes(&parts, 0);
    if kept.is_empty() || is_name_placeholder_parts(kept) {
        return Field::Placeholder;
    }
    Field::Present(GivenNames(kept.iter().map(|p| (*p).to_owned()).collect()))
}

/// Normalises a family-name field (spec §4.3): every part joined with no separator.
///
/// Trailing suffixes and then leading titles are dropped only while another
/// part remains, so that a family name such as `Lord` survives on its own.
pub fn family_name(raw: &str) -> Field<String> {
    let Some(t) = trimmed(raw) else {
        return Field::Missing;
    };
    if is_name_placeholder_text(t) {
        return Field::Placeholder;
    }
    let cleaned = match clean_name(t) {
        Ok(cleaned) => cleaned,
        Err(reason) => return Field::Invalid(reason),
    };
    let parts: Vec<&str> = cleaned.split(' ').filter(|p| !p.is_empty()).collect();
    let kept = strip_affixes(&parts, 1);
    if kept.is_empty() || is_name_placeholder_parts(kept) {
        return Field::Placeholder;
    }
    Field::Present(kept.concat())
}

/// Titles dropped from the start of a name (spec §4.2), after cleaning.
pub const TITLES: [&str; 12] = [
    "DAME", "DR", "LADY", "LORD", "MISS", "MR", "MRS", "MS", "MX", "PROF", "REV", "SIR",
];

/// Suffixes dropped from the end of a name (spec §4.2), after cleaning.
pub const SUFFIXES: [&str; 8] = ["ESQ", "II", "III", "IV", "JNR", "JR", "SNR", "SR"];

/// Whole-name placeholders (spec §4.2), compared with every character
/// other than `A`–`Z` and `0`–`9` ignored.
///
/// Besides these, a name is a placeholder when it has no letter or digit at
/// all, when it is only `X`s (`X`, `XX`, …), when it is two or more `Z`s,
/// and when it reads `NA` written with a `/` or `.` (`N/A`, `n.a.`): a plain
/// `Na` is a real family name.
pub const NAME_PLACEHOLDERS: [&str; 22] = [
    "ANON",
    "ANONYMOUS",
    "BABY",
    "BABYBOY",
    "BABYGIRL",
    "FNU",
    "INFANT",
    "LNU",
    "NK",
    "NONE",
    "NOTGIVEN",
    "NOTKNOWN",
    "NOTRECORDED",
    "NOTSTATED",
    "NULL",
    "REFUSED",
    "TEST",
    "TESTPATIENT",
    "UNK",
    "UNKNOWN",
    "UNNAMED",
    "WITHHELD",
];

/// Drops trailing suffixes, then leading titles, while more than `keep`
/// parts remain.
fn strip_affixes<'p, 'a>(parts: &'p [&'a str], keep: usize) -> &'p [&'a str] {
    let mut rest = parts;
    while rest.len() > keep {
        match rest.split_last() {
            Some((last, init)) if SUFFIXES.contains(last) => rest = init,
            _ => break,
        }
    }
    while rest.len() > keep {
        match rest.split_first() {
            Some((first, tail)) if TITLES.contains(first) => rest = tail,
            _ => break,
        }
    }
    rest
}

/// Whether the raw text is a name placeholder, before any cleaning.
fn is_name_placeholder_text(t: &str) -> bool {
    if !has_alphanumeric(t) || is_letter_run(t) {
        return true;
    }
    if compact_eq(t, "NA") && t.contains(['/', '.']) {
        return true;
    }
    NAME_PLACEHOLDERS.iter().any(|w| compact_eq(t, w))
}

/// Whether the cleaned parts, read together, are a name placeholder.
fn is_name_placeholder_parts(parts: &[&str]) -> bool {
    let mut joined = Zeroizing::new(String::with_capacity(32));
    parts.iter().for_each(|p| joined.push_str(p));
    is_letter_run(&joined) || NAME_PLACEHOLDERS.contains(&joined.as_str())
}

/// Whether the letters and digits of `t` are only `X`s, or two or more `Z`s.
fn is_letter_run(t: &str) -> bool {
    let mut alnum = t.chars().filter(|c| c.is_alphanumeric());
    let first = match alnum.next().map(|c| c.to_ascii_uppercase()) {
        Some(c @ ('X' | 'Z')) => c,
        _ => return false,
    };
    let mut count = 1;
    for c in alnum {
        if c.to_ascii_uppercase() != first {
            return false;
        }
        count += 1;
    }
    first == 'X' || count >= 2
}

/// Cleans a name: letters `A`–`Z`, parts separated by single spaces.
fn clean_name(t: &str) -> Result<Zeroizing<String>, Invalid> {
    let mut out = Zeroizing::new(String::with_capacity(t.len() + 4));
    let chars = t.chars().filter(|&c| !is_apostrophe(c));
    if t.is_ascii() {
        push_cleaned(chars, &mut out)?;
    } else {
        push_cleaned(chars.nfkd(), &mut out)?;
    }
    Ok(out)
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
pub(crate) fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`' | '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' | '\u{02BC}'
    )
}

/// Characters that separate the parts of a name.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '_' | ',' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// The fixed folding of Latin letters that NFKD does not decompose (spec §4.1).
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

// ---------------------------------------------------------------------------
// Text helpers shared by the normalisers.

/// Placeholder words shared by every normaliser except names (spec §4.1),
/// compared with every character other than `A`–`Z` and `0`–`9` ignored:
/// `N/A`, `n.a.` and `Not Known` match `NA`, `NA` and `NOTKNOWN`.
pub const COMMON_PLACEHOLDERS: [&str; 20] = [
    "MISSING",
    "NA",
    "NIL",
    "NK",
    "NONE",
    "NOTAPPLICABLE",
    "NOTAVAILABLE",
    "NOTGIVEN",
    "NOTKNOWN",
    "NOTPROVIDED",
    "NOTRECORDED",
    "NOTSPECIFIED",
    "NOTSTATED",
    "NULL",
    "REFUSED",
    "UNK",
    "UNKNOWN",
    "UNSPECIFIED",
    "WITHHELD",
    "TBC",
];

/// Whether `t` is a common placeholder: no letter or digit at all, or one of
/// [`COMMON_PLACEHOLDERS`].
pub(crate) fn is_common_placeholder(t: &str) -> bool {
    !has_alphanumeric(t) || COMMON_PLACEHOLDERS.iter().any(|w| compact_eq(t, w))
}

/// Whether `t` holds at least one letter or digit.
pub(crate) fn has_alphanumeric(t: &str) -> bool {
    t.chars().any(char::is_alphanumeric)
}

/// Whether `t` reads `word` once everything but ASCII letters and digits is
/// dropped, ignoring case. `word` is upper case. Any other letter or digit
/// (accented, non-Latin) makes the comparison fail. Allocates nothing.
pub(crate) fn compact_eq(t: &str, word: &str) -> bool {
    let mut expected = word.bytes();
    for c in t.chars() {
        if c.is_ascii_alphanumeric() {
            if expected.next() != Some(c.to_ascii_uppercase() as u8) {
                return false;
            }
        } else if c.is_alphanumeric() {
            return false;
        }
    }
    expected.next().is_none()
}

/// The formal root of common English nicknames and spelling variants
/// (spec §4.4). Sorted by nickname; wire-stable: changing an entry changes
/// tokens, so it is part of the protocol version.
///
/// Deliberately conservative: names that are given in their own right as
/// often as they are nicknames (JAMIE, JACK, HARRY, CHARLIE, ALEC, LIAM),
/// or that are shared by several formal names (AL, BERT, FRAN, JO, PAT, TERRY),
/// are absent. No root is itself a nickname, so the map is idempotent.
pub const NICKNAMES: [(&str, &str); 112] = [
    ("ABBIE", "ABIGAIL"),
    ("ABBY", "ABIGAIL"),
    ("ABE", "ABRAHAM"),
    ("ALEX", "ALEXANDER"),
    ("ALF", "ALFRED"),
    ("ALFIE", "ALFRED"),
    ("ANDY", "ANDREW"),
    ("ANTONY", "ANTHONY"),
    ("BECCA", "REBECCA"),
    ("BECKY", "REBECCA"),
    ("BEN", "BENJAMIN"),
    ("BENNY", "BENJAMIN"),
    ("BERNIE", "BERNARD"),
    ("BESS", "ELIZABETH"),
    ("BESSIE", "ELIZABETH"),
    ("BETH", "ELIZABETH"),
    ("BETSY", "ELIZABETH"),
    ("BETTY", "ELIZABETH"),
    ("BILL", "WILLIAM"),
    ("BILLY", "WILLIAM"),
    ("BOB", "ROBERT"),
    ("BOBBY", "ROBERT"),
    ("CATH", "KATHERINE"),
    ("CATHERINE", "KATHERINE"),
    ("CATHY", "KATHERINE"),
    ("CHAS", "CHARLES"),
    ("CHRIS", "CHRISTOPHER"),
    ("CLIFF", "CLIFFORD"),
    ("CONNIE", "CONSTANCE"),
    ("DAN", "DANIEL"),
    ("DANNY", "DANIEL"),
    ("DAVE", "DAVID"),
    ("DAVEY", "DAVID"),
    ("DAVY", "DAVID"),
    ("DEBBIE", "DEBORAH"),
    ("DEBRA", "DEBORAH"),
    ("DES", "DESMOND"),
    ("DICK", "RICHARD"),
    ("DON", "DONALD"),
    ("DONNY", "DONALD"),
    ("DOUG", "DOUGLAS"),
    ("ED", "EDWARD"),
    ("EDDIE", "EDWARD"),
    ("EDDY", "EDWARD"),
    ("FRED", "FREDERICK"),
    ("FREDDIE", "FREDERICK"),
    ("FREDDY", "FREDERICK"),
    ("GEOFF", "GEOFFREY"),
    ("GREG", "GREGORY"),
    ("JEFF", "JEFFREY"),
    ("JEN", "JENNIFER"),
    ("JENNY", "JENNIFER"),
    ("JESS", "JESSICA"),
    ("JIM", "JAMES"),
    ("JIMMIE", "JAMES"),
    ("JIMMY", "JAMES"),
    ("JOE", "JOSEPH"),
    ("JOEY", "JOSEPH"),
    ("JOHNNY", "JOHN"),
    ("JOSH", "JOSHUA"),
    ("JUDY", "JUDITH"),
    ("KATE", "KATHERINE"),
    ("KATHARINE", "KATHERINE"),
    ("KATHRYN", "KATHERINE"),
    ("KATHY", "KATHERINE"),
    ("KATIE", "KATHERINE"),
    ("KEN", "KENNETH"),
    ("KENNY", "KENNETH"),
    ("LARRY", "LAWRENCE"),
    ("LAURENCE", "LAWRENCE"),
    ("LEN", "LEONARD"),
    ("LENNY", "LEONARD"),
    ("LIZ", "ELIZABETH"),
    ("LIZZIE", "ELIZABETH"),
    ("LIZZY", "ELIZABETH"),
    ("MAGGIE", "MARGARET"),
    ("MANDY", "AMANDA"),
    ("MATT", "MATTHEW"),
    ("MEG", "MARGARET"),
    ("MICK", "MICHAEL"),
    ("MICKEY", "MICHAEL"),
    ("MICKY", "MICHAEL"),
    ("MIKE", "MICHAEL"),
    ("NICK", "NICHOLAS"),
    ("PADDY", "PATRICK"),
    ("PAM", "PAMELA"),
    ("PEGGY", "MARGARET"),
    ("PETE", "PETER"),
    ("PHIL", "PHILIP"),
    ("PHILLIP", "PHILIP"),
    ("REG", "REGINALD"),
    ("RICH", "RICHARD"),
    ("RICK", "RICHARD"),
    ("RICKY", "RICHARD"),
    ("ROB", "ROBERT"),
    ("ROBBIE", "ROBERT"),
    ("RON", "RONALD"),
    ("RONNIE", "RONALD"),
    ("SAM", "SAMUEL"),
    ("STEVE", "STEPHEN"),
    ("STEVEN", "STEPHEN"),
    ("STU", "STUART"),
    ("SUE", "SUSAN"),
    ("SUSIE", "SUSAN"),
    ("TED", "EDWARD"),
    ("TIM", "TIMOTHY"),
    ("TOM", "THOMAS"),
    ("TOMMY", "THOMAS"),
    ("TONY", "ANTHONY"),
    ("VICKY", "VICTORIA"),
    ("WILL", "WILLIAM"),
    ("WILLIE", "WILLIAM"),
];

/// The formal root of a canonical given name (spec §4.4), or the name itself.
///
/// Looks the name up in [`NICKNAMES`] by binary search.
pub fn nickname_root<'a>(name: &'a str) -> &'a str {
    NICKNAMES
        .binary_search_by(|(nick, _)| (*nick).cmp(name))
        .map_or(name, |i| NICKNAMES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn given(raw: &str) -> Vec<String> {
        match given_names(raw) {
            Field::Present(g) => g.all().to_vec(),
            other => panic!("expected present given names, got {other:?}"),
        }
    }

    fn family(raw: &str) -> String {
        match family_name(raw) {
            Field::Present(f) => f,
            other => panic!("expected present family name, got {other:?}"),
        }
    }

    #[test]
    fn given_names_split_on_separators() {
        assert_eq!(given("John Paul"), ["JOHN", "PAUL"]);
        assert_eq!(given("Mary-Jane"), ["MARY", "JANE"]);
        assert_eq!(given("mary_jane"), ["MARY", "JANE"]);
        assert_eq!(given("Smith, John"), ["SMITH", "JOHN"]);
        assert_eq!(given("  john \t  paul  "), ["JOHN", "PAUL"]);
        assert_eq!(given("Anne\u{2013}Marie"), ["ANNE", "MARIE"]);
        assert_eq!(given("J. R. R."), ["J", "R", "R"]);
    }

    #[test]
    fn given_names_accessors() {
        let Field::Present(g) = given_names("Mary Ann Jo") else {
            panic!("expected present given names");
        };
        assert_eq!(g.first(), "MARY");
        assert_eq!(g.all(), ["MARY", "ANN", "JO"]);
        assert_eq!(g.joined(), "MARY ANN JO");
        assert_eq!(format!("{g:?}"), "GivenNames(<redacted>)");
    }

    #[test]
    fn accents_and_folded_letters() {
        assert_eq!(given("Zoë"), ["ZOE"]);
        assert_eq!(given("JOSÉ"), ["JOSE"]);
        assert_eq!(given("Se\u{301}bastien"), ["SEBASTIEN"]);
        assert_eq!(family("Müller"), "MULLER");
        assert_eq!(family("Weiß"), "WEISS");
        assert_eq!(family("Ærø"), "AERO");
        assert_eq!(family("Œuvre"), "OEUVRE");
        assert_eq!(family("Søren"), "SOREN");
        assert_eq!(family("Łukasz"), "LUKASZ");
        assert_eq!(family("Đokić"), "DOKIC");
        assert_eq!(family("Þórður"), "THORDUR");
        assert_eq!(family("Guðrún"), "GUDRUN");
        assert_eq!(family("Yıldız"), "YILDIZ");
        assert_eq!(family("ＳＭＩＴＨ"), "SMITH");
    }

    #[test]
    fn apostrophes_and_full_stops_are_removed() {
        for raw in [
            "O'Neil", "O’Neil", "O`Neil", "O‘Neil", "O´Neil", "ONeil", "ONEIL",
        ] {
            assert_eq!(family(raw), "ONEIL", "{raw}");
        }
        assert_eq!(family("O Neil"), "ONEIL");
        assert_eq!(given("D'Arcy"), ["DARCY"]);
        assert_eq!(family("St. John"), "STJOHN");
    }

    #[test]
    fn family_names_join_parts() {
        for raw in ["Smith-Jones", "Smith Jones", "SMITHJONES", "smith_jones"] {
            assert_eq!(family(raw), "SMITHJONES", "{raw}");
        }
        assert_eq!(family("van der Berg"), "VANDERBERG");
        assert_eq!(family("de la Cruz"), "DELACRUZ");
    }

    #[test]
    fn titles_and_suffixes_are_dropped() {
        assert_eq!(given("Mr John"), ["JOHN"]);
        assert_eq!(given("Rev. Dr. John Paul"), ["JOHN", "PAUL"]);
        assert_eq!(given("Mrs Mary Jnr"), ["MARY"]);
        assert_eq!(given("John II"), ["JOHN"]);
        assert_eq!(given("John Paul Jr."), ["JOHN", "PAUL"]);
        assert_eq!(family("Smith Jr"), "SMITH");
        assert_eq!(family("Dr Smith III"), "SMITH");
        // A title in the middle is kept.
        assert_eq!(given("John Sir Paul"), ["JOHN", "SIR", "PAUL"]);
        // A family name that is only a title survives.
        assert_eq!(family("Lord"), "LORD");
        assert_eq!(family("Mr Lord"), "LORD");
        assert_eq!(family("Mr Lord Jr"), "LORD");
        assert_eq!(family("Jr"), "JR");
    }

    #[test]
    fn title_only_given_names_are_placeholders() {
        assert_eq!(given_names("Mr"), Field::Placeholder);
        assert_eq!(given_names("Mrs."), Field::Placeholder);
        assert_eq!(given_names("Jr"), Field::Placeholder);
    }

    #[test]
    fn blank_is_missing() {
        for raw in ["", "   ", "\t\n"] {
            assert_eq!(given_names(raw), Field::Missing);
            assert_eq!(family_name(raw), Field::Missing);
        }
    }

    #[test]
    fn placeholders() {
        for raw in [
            "UNKNOWN",
            "unknown",
            "Unk",
            "NOT KNOWN",
            "not-known",
            "NK",
            "n.k.",
            "N/A",
            "n.a.",
            "NONE",
            "null",
            "TEST",
            "Test Patient",
            "X",
            "XX",
            "XXX",
            "xxxx",
            "ZZ",
            "ZZZ",
            "BABY",
            "Baby Boy",
            "INFANT",
            "ANON",
            "Anonymous",
            "REFUSED",
            "Not Given",
            "unnamed",
            "-",
            "?",
            "...",
            "Mr Unknown",
        ] {
            assert_eq!(given_names(raw), Field::Placeholder, "given {raw}");
            assert_eq!(family_name(raw), Field::Placeholder, "family {raw}");
        }
    }

    #[test]
    fn real_names_that_look_like_placeholders() {
        assert_eq!(family("Na"), "NA");
        assert_eq!(family("NA"), "NA");
        assert_eq!(given("Z"), ["Z"]);
        assert_eq!(given("Nil"), ["NIL"]);
    }

    #[test]
    fn other_characters_are_invalid() {
        for raw in [
            "John2",
            "J0hn",
            "Smith & Sons",
            "Smith/Jones",
            "Иван",
            "王",
            "a@b",
            "Ann(e)",
        ] {
            assert_eq!(given_names(raw), Field::Invalid(NOT_LETTERS), "{raw}");
            assert_eq!(family_name(raw), Field::Invalid(NOT_LETTERS), "{raw}");
        }
    }

    #[test]
    fn invalid_reason_never_holds_the_value() {
        let Field::Invalid(reason) = family_name("Secret9") else {
            panic!("expected invalid");
        };
        assert!(!reason.0.to_ascii_uppercase().contains("SECRET"));
        assert_eq!(
            format!("{:?}", family_name("Secret")),
            "Present(<redacted>)"
        );
    }

    #[test]
    fn nickname_table_is_sorted_unique_and_idempotent() {
        assert!((80..=120).contains(&NICKNAMES.len()));
        for pair in NICKNAMES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (nick, root) in NICKNAMES {
            assert_ne!(nick, root);
            assert_eq!(nickname_root(root), root, "{root} is itself a nickname");
            assert!(
                nick.bytes()
                    .chain(root.bytes())
                    .all(|b| b.is_ascii_uppercase())
            );
        }
    }

    #[test]
    fn nickname_roots() {
        for (nick, root) in [
            ("BILL", "WILLIAM"),
            ("WILL", "WILLIAM"),
            ("BILLY", "WILLIAM"),
            ("WILLIE", "WILLIAM"),
            ("BOB", "ROBERT"),
            ("ROB", "ROBERT"),
            ("BOBBY", "ROBERT"),
            ("ROBBIE", "ROBERT"),
            ("JIM", "JAMES"),
            ("JIMMY", "JAMES"),
            ("MIKE", "MICHAEL"),
            ("MICK", "MICHAEL"),
            ("DAVE", "DAVID"),
            ("TOM", "THOMAS"),
            ("TOMMY", "THOMAS"),
            ("STEVE", "STEPHEN"),
            ("STEVEN", "STEPHEN"),
            ("LIZ", "ELIZABETH"),
            ("BETH", "ELIZABETH"),
            ("BETTY", "ELIZABETH"),
            ("LIZZIE", "ELIZABETH"),
            ("KATE", "KATHERINE"),
            ("KATIE", "KATHERINE"),
            ("KATHY", "KATHERINE"),
            ("CATH", "KATHERINE"),
            ("CATHERINE", "KATHERINE"),
            ("KATHRYN", "KATHERINE"),
            ("SUE", "SUSAN"),
            ("SUSIE", "SUSAN"),
            ("TONY", "ANTHONY"),
            ("DANNY", "DANIEL"),
            ("DAN", "DANIEL"),
            ("CHRIS", "CHRISTOPHER"),
            ("MATT", "MATTHEW"),
            ("NICK", "NICHOLAS"),
            ("SAM", "SAMUEL"),
            ("ALEX", "ALEXANDER"),
            ("BEN", "BENJAMIN"),
            ("JOE", "JOSEPH"),
            ("PETE", "PETER"),
            ("RICK", "RICHARD"),
            ("RICKY", "RICHARD"),
            ("DICK", "RICHARD"),
        ] {
            assert_eq!(nickname_root(nick), root, "{nick}");
        }
        for name in ["JAMIE", "WILLIAM", "JOHN", "", "ZZZZ", "AAAA", "bill"] {
            assert_eq!(nickname_root(name), name);
        }
    }

    /// Accented look-alikes of ASCII letters, each folding back to the letter.
    fn accent_of(c: char, pick: usize) -> char {
        let options: &[char] = match c.to_ascii_lowercase() {
            'a' => &['á', 'à', 'â', 'ä', 'å', 'ã', 'Á', 'Ä'],
            'e' => &['é', 'è', 'ê', 'ë', 'É', 'È'],
            'i' => &['í', 'ì', 'î', 'ï', 'Í'],
            'o' => &['ó', 'ò', 'ô', 'ö', 'õ', 'ø', 'Ö', 'Ø'],
            'u' => &['ú', 'ù', 'û', 'ü', 'Ü'],
            'n' => &['ñ', 'Ñ'],
            'c' => &['ç', 'Ç'],
            'y' => &['ý', 'ÿ'],
            _ => return c,
        };
        options[pick % options.len()]
    }

    /// Re-spells a canonical name part: random case, accents, apostrophes.
    fn respell(part: &str, picks: &[u8]) -> String {
        part.chars()
            .enumerate()
            .map(|(i, c)| {
                let p = picks.get(i % picks.len().max(1)).copied().unwrap_or(0);
                let c = if p & 1 == 1 {
                    c.to_ascii_lowercase()
                } else {
                    c
                };
                let mut s = String::new();
                s.push(if p & 2 == 2 {
                    accent_of(c, usize::from(p >> 3))
                } else {
                    c
                });
                if p & 4 == 4 && i > 0 {
                    s.push('\'');
                }
                s
            })
            .collect()
    }

    fn padding() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["", " ", "  ", "\t", " \u{a0}"]).prop_map(str::to_owned)
    }

    fn name_part() -> impl Strategy<Value = String> {
        "[A-Z]{2,10}".prop_filter("not an affix or placeholder", |p| {
            !TITLES.contains(&p.as_str())
                && !SUFFIXES.contains(&p.as_str())
                && !is_name_placeholder_parts(&[p.as_str()])
        })
    }

    proptest! {
        #[test]
        fn names_never_panic(raw in any::<String>()) {
            let _ = given_names(&raw);
            let _ = family_name(&raw);
            let _ = nickname_root(&raw);
        }

        #[test]
        fn names_never_panic_on_name_like_text(raw in "[ -~À-ɏ\u{300}-\u{36f}’‘]{0,20}") {
            let _ = given_names(&raw);
            let _ = family_name(&raw);
        }

        #[test]
        fn present_given_names_are_canonical_and_idempotent(raw in any::<String>()) {
            if let Field::Present(g) = given_names(&raw) {
                prop_assert!(!g.all().is_empty());
                for name in g.all() {
                    prop_assert!(!name.is_empty());
                    prop_assert!(name.bytes().all(|b| b.is_ascii_uppercase()));
                }
                let again = given_names(&g.joined());
                prop_assert_eq!(again.present().map(GivenNames::all), Some(g.all()));
            }
        }

        #[test]
        fn present_family_names_are_canonical_and_idempotent(raw in "[ -~À-ɏ]{0,20}") {
            if let Field::Present(f) = family_name(&raw) {
                prop_assert!(!f.is_empty());
                prop_assert!(f.bytes().all(|b| b.is_ascii_uppercase()));
                prop_assert_eq!(family_name(&f), Field::Present(f.clone()));
            }
        }

        #[test]
        fn respelled_given_names_agree(
            parts in prop::collection::vec(name_part(), 1..4),
            picks in prop::collection::vec(any::<u8>(), 1..12),
            seps in prop::collection::vec(prop::sample::select(vec![" ", "  ", "-", " - ", "_", ", "]), 3),
            pad in (padding(), padding()),
        ) {
            prop_assume!(!is_name_placeholder_parts(&[parts.concat().as_str()]));
            let mut raw = pad.0.clone();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    raw.push_str(seps[i - 1]);
                }
                raw.push_str(&respell(part, &picks));
            }
            raw.push_str(&pad.1);
            prop_assert_eq!(given(&raw), parts.clone());
            prop_assert_eq!(given(&parts.join(" ")), parts);
        }

        #[test]
        fn respelled_family_names_agree(
            parts in prop::collection::vec(name_part(), 1..4),
            picks in prop::collection::vec(any::<u8>(), 1..12),
            sep in prop::sample::select(vec!["", " ", "-", "  ", " - ", "'"]),
            pad in (padding(), padding()),
        ) {
            prop_assume!(!is_name_placeholder_parts(&[parts.concat().as_str()]));
            let respelled: Vec<String> = parts.iter().map(|p| respell(p, &picks)).collect();
            let raw = format!("{}{}{}", pad.0, respelled.join(sep), pad.1);
            prop_assert_eq!(family(&raw), parts.concat());
        }
    }
}
