//! Names (spec §4.2): given names, family name and nickname roots.
//!
//! Both kinds of name go through the same cleaning: compatibility
//! decomposition (NFKD) with combining marks dropped, a fixed folding of the
//! Latin letters that do not decompose (`ß` → `SS`, `Æ` → `AE`, …), ASCII
//! upper case, apostrophes and full stops removed, and hyphens, underscores,
//! commas and white space turned into part separators. Given names keep
//! their parts apart; a family name joins them with nothing between.
//!
//! The submodules: `clean` (the character rules), `placeholder` (the small
//! text helpers that the other normalisers share for recognising placeholder
//! words) and `nicknames` (the nickname table, spec §4.2.5).

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Field, Invalid, trimmed};

mod clean;
mod nicknames;
mod placeholder;

pub use clean::LETTER_FOLDS;
use clean::{Cleaned, clean_name};
pub use nicknames::{NICKNAMES, nickname_root};
pub use placeholder::COMMON_PLACEHOLDERS;
pub(crate) use placeholder::{PlaceholderKey, is_common_placeholder, word_keys};

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

/// [`NAME_PLACEHOLDERS`] packed for [`PlaceholderKey::is_any_key`].
const NAME_PLACEHOLDER_KEYS: [u128; NAME_PLACEHOLDERS.len()] = word_keys(NAME_PLACEHOLDERS);

#[cfg(test)]
mod tests;
