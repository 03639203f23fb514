//! Placeholder words (spec §4.1.3, §4.2.2): the text helpers that every
//! normaliser shares for recognising them without allocating.

use zeroize::Zeroizing;

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
/// [`COMMON_PLACEHOLDERS`] packed for [`PlaceholderKey::is_any_key`].
const COMMON_PLACEHOLDER_KEYS: [u128; COMMON_PLACEHOLDERS.len()] = word_keys(COMMON_PLACEHOLDERS);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::name::{NAME_PLACEHOLDER_KEYS, NAME_PLACEHOLDERS};
    use proptest::prelude::*;

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

    proptest! {
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
}
