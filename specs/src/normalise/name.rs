//! Names (spec §4.2): given names, family name and nickname roots.
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
/// Held as one string, the names separated by single spaces (one allocation
/// a record rather than one a name and one for the list). Wiped when
/// dropped; `Debug` never shows the names.
#[derive(PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct GivenNames(String);

impl GivenNames {
    /// The first given name.
    pub fn first(&self) -> &str {
        // Never empty: `given_names` only builds a value with at least one name.
        self.names().next().unwrap_or("")
    }

    /// Every given name, in the order written.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ')
    }

    /// Every given name, in the order written, collected.
    pub fn all(&self) -> Vec<&str> {
        self.names().collect()
    }

    /// Every given name, separated by single spaces.
    pub fn as_joined(&self) -> &str {
        &self.0
    }

    /// Every given name, separated by single spaces.
    pub fn joined(&self) -> String {
        self.0.clone()
    }
}

impl std::fmt::Debug for GivenNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GivenNames(<redacted>)")
    }
}

/// Normalises a given-names field (spec §4.2.3).
///
/// Trailing suffixes (see [`SUFFIXES`]) and then leading titles (see
/// [`TITLES`]) are dropped; a value that is only titles and suffixes is a
/// placeholder.
pub fn given_names(raw: &str) -> Field<GivenNames> {
    let cleaned = match clean_field(raw) {
        Ok(cleaned) => cleaned,
        Err(state) => return state,
    };
    with_parts(cleaned.as_str(), |parts| {
        let kept = strip_affixes(parts, 0);
        if kept.is_empty() || needs_parts_check(raw, parts, kept) && is_name_placeholder_parts(kept)
        {
            return Field::Placeholder;
        }
        let mut joined = String::with_capacity(kept.iter().map(|p| p.len() + 1).sum());
        for (i, part) in kept.iter().enumerate() {
            if i > 0 {
                joined.push(' ');
            }
            joined.push_str(part);
        }
        Field::Present(GivenNames(joined))
    })
}

/// Normalises a family-name field (spec §4.2.4): every part joined with no separator.
///
/// Trailing suffixes and then leading titles are dropped only while another
/// part remains, so that a family name such as `Lord` survives on its own.
pub fn family_name(raw: &str) -> Field<String> {
    let cleaned = match clean_field(raw) {
        Ok(cleaned) => cleaned,
        Err(state) => return state,
    };
    with_parts(cleaned.as_str(), |parts| {
        let kept = strip_affixes(parts, 1);
        if kept.is_empty() || needs_parts_check(raw, parts, kept) && is_name_placeholder_parts(kept)
        {
            return Field::Placeholder;
        }
        Field::Present(kept.concat())
    })
}

/// Trims and cleans a name field; `Err` holds the state to return when the
/// value is blank, a placeholder before cleaning, or invalid.
fn clean_field<T>(raw: &str) -> Result<Cleaned, Field<T>> {
    let Some(t) = trimmed(raw) else {
        return Err(Field::Missing);
    };
    if is_name_placeholder_text(t) {
        return Err(Field::Placeholder);
    }
    clean_name(t).map_err(Field::Invalid)
}

/// Parts a name usually has at most; a name with more collects them on the heap.
const STACK_PARTS: usize = 8;

/// Calls `f` with the space-separated, non-empty parts of `cleaned`, collected
/// on the stack (a name is on the tokenise hot path twice per row).
fn with_parts<R>(cleaned: &str, f: impl FnOnce(&[&str]) -> R) -> R {
    let mut stack = [""; STACK_PARTS];
    let mut len = 0;
    for part in cleaned.split(' ').filter(|p| !p.is_empty()) {
        if len == STACK_PARTS {
            let parts: Vec<&str> = cleaned.split(' ').filter(|p| !p.is_empty()).collect();
            return f(&parts);
        }
        stack[len] = part;
        len += 1;
    }
    f(&stack[..len])
}

/// Titles dropped from the start of a name (spec §4.2.3), after cleaning.
pub const TITLES: [&str; 12] = [
    "DAME", "DR", "LADY", "LORD", "MISS", "MR", "MRS", "MS", "MX", "PROF", "REV", "SIR",
];

/// Suffixes dropped from the end of a name (spec §4.2.3), after cleaning.
pub const SUFFIXES: [&str; 8] = ["ESQ", "II", "III", "IV", "JNR", "JR", "SNR", "SR"];

/// Whole-name placeholders (spec §4.2.2), compared with every character
/// other than `A`–`Z` and `0`–`9` ignored.
///
/// Besides these, a name is a placeholder when it has no letter or digit at
/// all, when it is only `X`s (`X`, `XX`, …), when it is two or more `Z`s,
/// and when it reads `NA` written with a `/` or `.` (`N/A`, `n.a.`): a plain
/// `Na` is a real family name.
pub const NAME_PLACEHOLDERS: [&str; 29] = [
    "ANON",
    "ANONYMOUS",
    "BABY",
    "BABYBOY",
    "BABYGIRL",
    "FNU",
    "INFANT",
    "LNU",
    "MISSING",
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
    "TBC",
    "TEST",
    "TESTPATIENT",
    "UNK",
    "UNKNOWN",
    "UNNAMED",
    "UNSPECIFIED",
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
    let key = PlaceholderKey::of(t);
    key.is_blank()
        || key.is_letter_run()
        || (key.is("NA") && t.contains(['/', '.']))
        || key.is_any_key(&NAME_PLACEHOLDER_KEYS)
}

/// Whether the placeholder check must run again on the cleaned parts.
///
/// When the raw value is ASCII and no title or suffix was dropped, the
/// cleaned parts hold exactly the raw value's letters, which
/// [`is_name_placeholder_text`] has already checked; skipping the second
/// check saves a quarter of the cost of a name on the tokenise hot path.
fn needs_parts_check(raw: &str, parts: &[&str], kept: &[&str]) -> bool {
    kept.len() != parts.len() || !raw.is_ascii()
}

/// Whether the cleaned parts, read together, are a name placeholder.
fn is_name_placeholder_parts(parts: &[&str]) -> bool {
    let key = PlaceholderKey::new(parts.iter().flat_map(|p| p.chars()));
    key.is_letter_run() || key.is_any_key(&NAME_PLACEHOLDER_KEYS)
}

/// Cleans a name: letters `A`–`Z`, parts separated by single spaces.
fn clean_name(t: &str) -> Result<Cleaned, Invalid> {
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
enum Cleaned {
    Short {
        buf: Zeroizing<[u8; Cleaned::SHORT]>,
        len: usize,
    },
    Long(Zeroizing<String>),
}

impl Cleaned {
    /// Longest raw ASCII name cleaned on the stack.
    const SHORT: usize = 64;

    fn as_str(&self) -> &str {
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

// ---------------------------------------------------------------------------
// Text helpers shared by the normalisers.

/// Placeholder words shared by every normaliser except names (spec §4.1.3),
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
    "TBC",
    "UNK",
    "UNKNOWN",
    "UNSPECIFIED",
    "WITHHELD",
];

/// Whether `t` is a common placeholder: no letter or digit at all, or one of
/// [`COMMON_PLACEHOLDERS`].
pub(crate) fn is_common_placeholder(t: &str) -> bool {
    PlaceholderKey::of(t).is_common_placeholder()
}

/// The letters and digits of a value, ASCII upper case, packed in a wiped
/// 128-bit integer, for matching placeholder words without allocating.
///
/// Every character other than a letter or digit is dropped, so `N/A`,
/// `n.a.` and `Not Known` give `NA`, `NA` and `NOTKNOWN`. A value with any
/// other letter or digit (accented, non-Latin), or longer than the key,
/// matches no word.
///
/// Byte `i` of the key is bits `8i..8i+8` (little-endian), zero past its
/// length, as [`word_keys`] packs words: a word matches with one integer
/// comparison, and the key stays in registers (a byte buffer read back as
/// one integer stalled on every look-up).
pub(crate) struct PlaceholderKey {
    key: Zeroizing<u128>,
    len: usize,
    /// Letters and digits seen, of any script.
    alphanumerics: usize,
    /// Whether the key holds every letter and digit.
    complete: bool,
    /// Whether every letter and digit is the same ASCII character as the first.
    uniform: bool,
}

impl PlaceholderKey {
    /// Longer than every placeholder word.
    const CAPACITY: usize = 16;

    /// Builds the key of a value given as characters.
    pub(crate) fn new(chars: impl Iterator<Item = char>) -> Self {
        let mut key = PlaceholderKey {
            key: Zeroizing::new(0),
            len: 0,
            alphanumerics: 0,
            complete: true,
            uniform: true,
        };
        let mut first = None;
        for c in chars.filter(|c| c.is_alphanumeric()) {
            key.alphanumerics += 1;
            let upper = c.to_ascii_uppercase();
            key.uniform &= c.is_ascii() && *first.get_or_insert(upper) == upper;
            if key.len < Self::CAPACITY && c.is_ascii() {
                *key.key |= u128::from(upper as u8) << (8 * key.len);
                key.len += 1;
            } else {
                key.complete = false;
            }
            if !key.complete && !key.uniform {
                // No word and no letter run can match any more; only the
                // count of letters and digits still matters, and it is > 0.
                break;
            }
        }
        key
    }

    /// [`PlaceholderKey::new`] of a string, reading bytes when it is ASCII
    /// (the common case on the tokenise hot path). The loop keeps its state
    /// in locals: this runs for six or seven fields of every row.
    pub(crate) fn of(t: &str) -> Self {
        if !t.is_ascii() {
            return Self::new(t.chars());
        }
        let mut key = 0u128;
        let (mut len, mut alphanumerics, mut first, mut uniform) = (0, 0, 0u8, true);
        for &b in t.as_bytes() {
            if !b.is_ascii_alphanumeric() {
                continue;
            }
            let upper = b.to_ascii_uppercase();
            if alphanumerics == 0 {
                first = upper;
            }
            alphanumerics += 1;
            uniform &= upper == first;
            if len < Self::CAPACITY {
                key |= u128::from(upper) << (8 * len);
                len += 1;
            } else if !uniform {
                // No word and no letter run can match any more.
                break;
            }
        }
        let key = Zeroizing::new(key);
        PlaceholderKey {
            key,
            len,
            alphanumerics,
            complete: len == alphanumerics,
            uniform,
        }
    }

    /// Whether the value has no letter or digit at all.
    pub(crate) fn is_blank(&self) -> bool {
        self.alphanumerics == 0
    }

    /// Whether the letters and digits read exactly `word` (upper case).
    pub(crate) fn is(&self, word: &str) -> bool {
        self.complete && self.len == word.len() && *self.key == pack_word(word.as_bytes())
    }

    /// Whether the letters and digits read exactly one of `words`.
    pub(crate) fn is_any(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.is(w))
    }

    /// [`PlaceholderKey::is_any`] for words packed by [`word_keys`]: one
    /// 16-byte comparison a word instead of a string comparison.
    pub(crate) fn is_any_key(&self, keys: &[u128]) -> bool {
        // The key is zero past `len`, as the packed words are past their length.
        self.complete && keys.contains(&self.key)
    }

    /// Whether the letters and digits are one or more `c` (upper case), however many.
    pub(crate) fn is_run_of(&self, c: u8) -> bool {
        // The low byte is the first letter or digit (zero when there is none).
        self.uniform && self.alphanumerics > 0 && *self.key as u8 == c
    }

    /// Whether the value is only `X`s, or two or more `Z`s.
    pub(crate) fn is_letter_run(&self) -> bool {
        self.is_run_of(b'X') || (self.is_run_of(b'Z') && self.alphanumerics >= 2)
    }

    /// Whether the value is blank or one of [`COMMON_PLACEHOLDERS`].
    pub(crate) fn is_common_placeholder(&self) -> bool {
        self.is_blank() || self.is_any_key(&COMMON_PLACEHOLDER_KEYS)
    }
}

/// Packs words of at most [`PlaceholderKey::CAPACITY`] bytes as a
/// [`PlaceholderKey`] buffer reads (little-endian, zero-padded), for
/// [`PlaceholderKey::is_any_key`]. Evaluated at compile time.
pub(crate) const fn word_keys<const N: usize>(words: [&str; N]) -> [u128; N] {
    let mut keys = [0u128; N];
    let mut w = 0;
    while w < N {
        assert!(words[w].len() <= PlaceholderKey::CAPACITY);
        keys[w] = pack_word(words[w].as_bytes());
        w += 1;
    }
    keys
}

/// One word packed as [`PlaceholderKey`] holds its letters (bytes past the
/// sixteenth are ignored: such a word matches no key).
const fn pack_word(bytes: &[u8]) -> u128 {
    let mut key = 0u128;
    let mut i = 0;
    while i < bytes.len() && i < PlaceholderKey::CAPACITY {
        key |= (bytes[i] as u128) << (8 * i);
        i += 1;
    }
    key
}

/// [`NAME_PLACEHOLDERS`] packed for [`PlaceholderKey::is_any_key`].
const NAME_PLACEHOLDER_KEYS: [u128; NAME_PLACEHOLDERS.len()] = word_keys(NAME_PLACEHOLDERS);
/// [`COMMON_PLACEHOLDERS`] packed for [`PlaceholderKey::is_any_key`].
const COMMON_PLACEHOLDER_KEYS: [u128; COMMON_PLACEHOLDERS.len()] = word_keys(COMMON_PLACEHOLDERS);

/// The formal root of common English nicknames and spelling variants
/// (spec §4.2.5). Sorted by nickname; wire-stable: changing an entry changes
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

/// The formal root of a canonical given name (spec §4.2.5), or the name itself.
///
/// Looks the name up among the [`NICKNAMES`] with its first letter, a few
/// entries compared by length first: cheaper than a binary search of string
/// comparisons, and this runs once per row.
pub fn nickname_root(name: &str) -> &str {
    let bucket = name
        .as_bytes()
        .first()
        .and_then(|b| b.checked_sub(b'A'))
        .and_then(|letter| NICKNAME_BUCKETS.get(usize::from(letter)));
    let Some(&(start, end)) = bucket else {
        return name;
    };
    NICKNAMES[usize::from(start)..usize::from(end)]
        .iter()
        .find(|(nick, _)| *nick == name)
        .map_or(name, |(_, root)| root)
}

/// For each letter `A`–`Z`, the range of [`NICKNAMES`] (sorted) starting with it.
const NICKNAME_BUCKETS: [(u8, u8); 26] = nickname_buckets();

const fn nickname_buckets() -> [(u8, u8); 26] {
    let mut buckets = [(0u8, 0u8); 26];
    let mut i = 0;
    while i < NICKNAMES.len() {
        let letter = (NICKNAMES[i].0.as_bytes()[0] - b'A') as usize;
        if buckets[letter].1 == 0 {
            buckets[letter].0 = i as u8;
        }
        buckets[letter].1 = i as u8 + 1;
        i += 1;
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn given(raw: &str) -> Vec<String> {
        match given_names(raw) {
            Field::Present(g) => g.names().map(str::to_owned).collect(),
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
    fn placeholder_words_fit_the_key() {
        let lists: [&[&str]; 2] = [&NAME_PLACEHOLDERS, &COMMON_PLACEHOLDERS];
        for word in lists.into_iter().flatten() {
            assert!(word.len() <= PlaceholderKey::CAPACITY, "{word}");
            assert!(
                word.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            );
        }
    }

    #[test]
    fn placeholder_key() {
        let key = |t: &str| PlaceholderKey::of(t);
        assert!(key("n/a").is("NA"));
        assert!(key(" Not-Known ").is("NOTKNOWN"));
        assert!(!key("Nä").is("NA"));
        assert!(key("-?").is_blank());
        assert!(!key("é").is_blank());
        assert!(key("xxxxxxxxxxxxxxxxxxxxxxxx").is_letter_run());
        assert!(key("x-x x").is_letter_run());
        assert!(!key("Z").is_letter_run());
        assert!(key("zz").is_letter_run());
        assert!(!key("XÄ").is_letter_run());
        assert!(key("000 000 0000").is_run_of(b'0'));
        assert!(!key("000 000 0001").is_run_of(b'0'));
        assert!(!key("UNKNOWNUNKNOWNUNKNOWN").is("UNKNOWN"));
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
    fn nickname_table_matches_the_spec() {
        let spec = include_str!("../../spec/04-normalisation.md");
        let mut roots: Vec<&str> = NICKNAMES.iter().map(|(_, root)| *root).collect();
        roots.sort_unstable();
        roots.dedup();
        for root in roots {
            let nicks: Vec<&str> = NICKNAMES
                .iter()
                .filter(|(_, r)| *r == root)
                .map(|(nick, _)| *nick)
                .collect();
            let row = format!("| {root} | {} |", nicks.join(", "));
            assert!(spec.contains(&row), "spec lacks the row {row}");
        }
        let lists: [&[&str]; 4] = [&NAME_PLACEHOLDERS, &COMMON_PLACEHOLDERS, &TITLES, &SUFFIXES];
        for word in lists.into_iter().flatten() {
            assert!(spec.contains(word), "spec lacks {word}");
        }
    }

    #[test]
    fn values_without_parts_are_placeholders() {
        // An alphabetic combining mark: a letter for the key, dropped by cleaning.
        assert_eq!(given_names("\u{345}"), Field::Placeholder);
        assert_eq!(family_name("\u{345}"), Field::Placeholder);
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
        /// Short ASCII names are cleaned on the stack exactly as the general path cleans them.
        #[test]
        fn short_ascii_cleaning_agrees(raw in "[ -~\t\n\x0b\x0c\r]{0,64}") {
            let mut general = String::new();
            let slow = push_cleaned(raw.chars().filter(|&c| !is_apostrophe(c)), &mut general)
                .map(|()| general);
            let fast = clean_short_ascii(raw.as_bytes()).map(|c| c.as_str().to_owned());
            prop_assert_eq!(fast, slow);
        }

        /// The ASCII fast path reads a value exactly as the general path does.
        #[test]
        fn placeholder_key_fast_path_agrees(raw in "[ -~]{0,24}|[A-Za-z./ ]{0,20}|[xXzZ ./-]{0,20}") {
            let (fast, slow) = (PlaceholderKey::of(&raw), PlaceholderKey::new(raw.chars()));
            prop_assert_eq!(fast.is_blank(), slow.is_blank());
            prop_assert_eq!(fast.is_letter_run(), slow.is_letter_run());
            prop_assert_eq!(fast.is_common_placeholder(), slow.is_common_placeholder());
            prop_assert_eq!(fast.is_any(&NAME_PLACEHOLDERS), slow.is_any(&NAME_PLACEHOLDERS));
            prop_assert_eq!(fast.is_any_key(&NAME_PLACEHOLDER_KEYS), fast.is_any(&NAME_PLACEHOLDERS));
            prop_assert_eq!(slow.is_any_key(&COMMON_PLACEHOLDER_KEYS), slow.is_any(&COMMON_PLACEHOLDERS));
            prop_assert_eq!(fast.is("NA"), slow.is("NA"));
        }
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
