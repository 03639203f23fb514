//! The record-level Bloom-filter encoding and its comparison (spec §6).
//!
//! Construction, for one record:
//! 1. every feature (a padded bigram of a name or postcode, a date component,
//!    the sex code) is hashed with keyed BLAKE3 under the key derived with
//!    [`BLOOM_HASH_CONTEXT`]; the field label is part of the hashed bytes, so
//!    equal bigrams in different fields set different bits;
//! 2. each feature sets `k` bits of a [`BASE_BITS`]-bit filter by double
//!    hashing, `k` depending on the field;
//! 3. hardening: the base filter is diffused with Rule 90 (each bit becomes the
//!    XOR of its two neighbours), balanced (the complement is appended, so every
//!    encoding has exactly [`BASE_BITS`] ones) and permuted by a keyed
//!    permutation of all [`BITS`] positions.
//!
//! Rule 90 breaks the direct map from a frequent bigram to fixed bit positions
//! that the pattern-mining attacks exploit; balancing gives every encoding the
//! same Hamming weight, which removes the weight as a frequency signal; the
//! keyed permutation keeps positions meaningless without the key.
//!
//! The parameters and the comparison are in `pprl_specs::bloom`; this module
//! is the keyed half: the encoder.

mod benes;

use chrono::Datelike;
use pprl_specs::bloom::{
    BASE_BITS, BASE_WORDS, BITS, BYTES, DOB, Encoding, FAMILY, FieldParams, GIVEN, PAD, POSTCODE,
    SEX, WORDS,
};
use pprl_specs::key::{BLOOM_HASH_CONTEXT, BLOOM_PERMUTATION_CONTEXT};
use pprl_specs::record::NormalisedRecord;
use zeroize::{Zeroize, Zeroizing};

use benes::Benes;

use crate::key::ProjectKey;

/// The bits one feature sets in the base filter.
type Mask = [u64; BASE_WORDS];

/// Symbols of name bigrams: the pad, then `A`–`Z`.
const NAME_SYMBOLS: usize = 27;
/// Symbols of postcode bigrams: the pad, `A`–`Z`, then `0`–`9`.
const POSTCODE_SYMBOLS: usize = 37;
/// Years of birth whose features are precomputed.
const YEARS: std::ops::RangeInclusive<i32> = 1800..=2199;

/// Encodes records under one project key.
///
/// Every feature a canonical record can produce (each bigram over the name
/// and postcode alphabets, each day, month and year, each sex code) is hashed
/// once, when the encoder is made, into the mask of bits it sets; encoding a
/// record is then table look-ups. The tables are key-dependent and wiped on
/// drop. Features outside the tables are hashed on the spot, to the same bits.
pub struct BloomEncoder {
    hash_key: Zeroizing<[u8; 32]>,
    /// The keyed permutation, compiled to a Beneš network.
    permutation: Benes,
    given: Zeroizing<Vec<Mask>>,
    family: Zeroizing<Vec<Mask>>,
    postcode: Zeroizing<Vec<Mask>>,
    /// Days 1–31, then months 1–12, then [`YEARS`].
    dob: Zeroizing<Vec<Mask>>,
    /// `M`, `F`, `X`.
    sex: Zeroizing<Vec<Mask>>,
}

impl BloomEncoder {
    /// Derives the hashing key and the permutation from the project key, and
    /// precomputes the feature tables (about 3,300 keyed hashes).
    pub fn new(key: &ProjectKey) -> Self {
        let hash_key = Zeroizing::new(*key.derive(BLOOM_HASH_CONTEXT).expose_secret());
        let perm_key = key.derive(BLOOM_PERMUTATION_CONTEXT);
        let mut encoder = BloomEncoder {
            hash_key,
            permutation: Benes::new(&Zeroizing::new(permutation(perm_key.expose_secret()))),
            given: Zeroizing::new(Vec::new()),
            family: Zeroizing::new(Vec::new()),
            postcode: Zeroizing::new(Vec::new()),
            dob: Zeroizing::new(Vec::new()),
            sex: Zeroizing::new(Vec::new()),
        };
        let bigrams = |enc: &BloomEncoder, field: FieldParams, symbols: &[u8]| -> Vec<Mask> {
            let mut out = Vec::with_capacity(symbols.len() * symbols.len());
            for &a in symbols {
                for &b in symbols {
                    out.push(enc.hash_feature(field, &[a, b]));
                }
            }
            out
        };
        let name_symbols: Vec<u8> = std::iter::once(PAD).chain(b'A'..=b'Z').collect();
        let postcode_symbols: Vec<u8> = name_symbols.iter().copied().chain(b'0'..=b'9').collect();
        let given = bigrams(&encoder, GIVEN, &name_symbols);
        let family = bigrams(&encoder, FAMILY, &name_symbols);
        let postcode = bigrams(&encoder, POSTCODE, &postcode_symbols);
        let mut dob = Vec::new();
        for day in 1..=31u32 {
            dob.push(encoder.hash_feature(DOB, format!("D{day:02}").as_bytes()));
        }
        for month in 1..=12u32 {
            dob.push(encoder.hash_feature(DOB, format!("M{month:02}").as_bytes()));
        }
        for year in YEARS {
            dob.push(encoder.hash_feature(DOB, format!("Y{year:04}").as_bytes()));
        }
        let sex = [b"M", b"F", b"X"]
            .iter()
            .map(|c| encoder.hash_feature(SEX, &c[..]))
            .collect();
        *encoder.given = given;
        *encoder.family = family;
        *encoder.postcode = postcode;
        *encoder.dob = dob;
        *encoder.sex = sex;
        encoder
    }

    /// The hardened encoding of a record, or `None` when it has neither a
    /// given name nor a family name (nothing worth comparing).
    pub fn encode(&self, record: &NormalisedRecord) -> Option<Encoding> {
        let given = record.given_names.present();
        let family = record.family_name.present();
        if given.is_none() && family.is_none() {
            return None;
        }
        let mut base: Mask = [0; BASE_WORDS];
        if let Some(given) = given {
            for name in given.names() {
                self.add_bigrams(&mut base, GIVEN, &self.given, name.as_bytes());
            }
        }
        if let Some(family) = family {
            self.add_bigrams(&mut base, FAMILY, &self.family, family.as_bytes());
        }
        if let Some(dob) = record.date_of_birth.present() {
            let (day, month, year) = (dob.day(), dob.month(), dob.year());
            or(&mut base, &self.dob[day as usize - 1]);
            or(&mut base, &self.dob[31 + month as usize - 1]);
            match YEARS.contains(&year) {
                true => or(&mut base, &self.dob[43 + (year - YEARS.start()) as usize]),
                false => or(
                    &mut base,
                    &self.hash_feature(DOB, format!("Y{year:04}").as_bytes()),
                ),
            }
        }
        if let Some(postcode) = record.postcode.present() {
            self.add_bigrams(&mut base, POSTCODE, &self.postcode, postcode.compact());
        }
        if let Some(sex) = record.sex.present() {
            let index = match sex.code() {
                "M" => 0,
                "F" => 1,
                _ => 2,
            };
            or(&mut base, &self.sex[index]);
        }
        let encoding = self.harden(&base);
        base.zeroize();
        Some(encoding)
    }

    /// ORs in the masks of the padded bigrams of `text`.
    fn add_bigrams(&self, base: &mut Mask, field: FieldParams, table: &[Mask], text: &[u8]) {
        let symbols = if table.len() == NAME_SYMBOLS * NAME_SYMBOLS {
            NAME_SYMBOLS
        } else {
            POSTCODE_SYMBOLS
        };
        let mut prev = PAD;
        for &next in text.iter().chain(std::iter::once(&PAD)) {
            match (symbol(prev, symbols), symbol(next, symbols)) {
                (Some(a), Some(b)) => or(base, &table[a * symbols + b]),
                _ => or(base, &self.hash_feature(field, &[prev, next])),
            }
            prev = next;
        }
    }

    /// Hashes `label 0x1F feature` and returns the `k` bits it sets (double hashing).
    fn hash_feature(&self, field: FieldParams, feature: &[u8]) -> Mask {
        let mut hasher = blake3::Hasher::new_keyed(&self.hash_key);
        hasher.update(field.label.as_bytes());
        hasher.update(&[0x1f]);
        hasher.update(feature);
        let hash = hasher.finalize();
        let bytes = hash.as_bytes();
        let h1 = u64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"));
        let h2 = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) | 1;
        let mut mask = [0u64; BASE_WORDS];
        for i in 0..u64::from(field.bits_per_feature) {
            let pos = (h1.wrapping_add(i.wrapping_mul(h2)) % BASE_BITS as u64) as usize;
            mask[pos / 64] |= 1 << (pos % 64);
        }
        mask
    }

    /// Rule 90, balancing and the keyed permutation (spec §6.3).
    fn harden(&self, base: &Mask) -> Encoding {
        let mut diffused = rule90(base);
        // Balanced: the diffused filter, then its complement.
        let mut words = [0u64; WORDS];
        for (w, &d) in diffused.iter().enumerate() {
            words[w] = d;
            words[BASE_WORDS + w] = !d;
        }
        diffused.zeroize();
        self.permutation.apply(&mut words);
        let mut out = [0u8; BYTES];
        for (chunk, word) in out.chunks_exact_mut(8).zip(&words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        words.zeroize();
        out
    }
}

/// Index of a bigram symbol in a table over `symbols` symbols.
fn symbol(byte: u8, symbols: usize) -> Option<usize> {
    match byte {
        PAD => Some(0),
        b'A'..=b'Z' => Some(usize::from(byte - b'A') + 1),
        b'0'..=b'9' if symbols == POSTCODE_SYMBOLS => Some(usize::from(byte - b'0') + 27),
        _ => None,
    }
}

fn or(base: &mut Mask, mask: &Mask) {
    for (b, m) in base.iter_mut().zip(mask) {
        *b |= m;
    }
}

impl std::fmt::Debug for BloomEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BloomEncoder(<redacted>)")
    }
}

/// Rule 90 on a cyclic bit string: bit `i` becomes bit `i-1` XOR bit `i+1`.
fn rule90(base: &[u64; BASE_WORDS]) -> [u64; BASE_WORDS] {
    let mut out = [0u64; BASE_WORDS];
    for (w, word) in out.iter_mut().enumerate() {
        let prev = base[(w + BASE_WORDS - 1) % BASE_WORDS];
        let next = base[(w + 1) % BASE_WORDS];
        // bit i-1 moved up to position i, carrying the top bit of the previous word
        let left = base[w] << 1 | prev >> 63;
        // bit i+1 moved down to position i, carrying the bottom bit of the next word
        let right = base[w] >> 1 | next << 63;
        *word = left ^ right;
    }
    out
}

/// The keyed permutation of the [`BITS`] positions (spec §6.3): a
/// Fisher–Yates shuffle driven by the BLAKE3 XOF of the permutation key,
/// read as little-endian `u32`s, with rejection sampling for uniformity.
fn permutation(key: &[u8; 32]) -> [u16; BITS] {
    let mut hasher = blake3::Hasher::new_keyed(key);
    hasher.update(b"pprl/v1 bloom permutation stream");
    let mut stream = hasher.finalize_xof();
    let mut perm: [u16; BITS] = std::array::from_fn(|i| i as u16);
    let mut word = [0u8; 4];
    for i in (1..BITS).rev() {
        let n = (i + 1) as u64;
        let limit = (1u64 << 32) - (1u64 << 32) % n;
        let j = loop {
            stream.fill(&mut word);
            let x = u64::from(u32::from_le_bytes(word));
            if x < limit {
                break (x % n) as usize;
            }
        };
        perm.swap(i, j);
    }
    perm
}
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use pprl_specs::bloom::{dice, weight};
    use pprl_specs::normalise::DateOrder;
    use pprl_specs::record::{NormaliseOptions, RawRecord};

    fn encode(enc: &BloomEncoder, given: &str, family: &str, dob: &str) -> Option<Encoding> {
        let raw = RawRecord {
            given_names: Some(given),
            family_name: Some(family),
            date_of_birth: Some(dob),
            sex: Some("M"),
            postcode: Some("LS1 4AP"),
            ..RawRecord::default()
        };
        let options = NormaliseOptions {
            date_order: DateOrder::DayFirst,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
            postcode_format: Default::default(),
        };
        enc.encode(&NormalisedRecord::from_raw(&raw, &options))
    }

    #[test]
    fn every_encoding_is_balanced() {
        let enc = BloomEncoder::new(&ProjectKey::from_bytes([3u8; 32]));
        for (g, f) in [
            ("John", "Smith"),
            ("Mary Ann", "Featherstonehaugh"),
            ("Al", "Li"),
        ] {
            let e = encode(&enc, g, f, "1980-02-03").expect("names present");
            assert_eq!(weight(&e) as usize, BASE_BITS);
        }
    }

    #[test]
    fn typo_is_closer_than_another_person() {
        let enc = BloomEncoder::new(&ProjectKey::from_bytes([3u8; 32]));
        let a = encode(&enc, "Jonathan", "Richardson", "1980-02-03").expect("present");
        let typo = encode(&enc, "Jonathon", "Richardsen", "1980-02-03").expect("present");
        let other = encode(&enc, "Peter", "Walker", "1975-11-21").expect("present");
        assert_eq!(dice(&a, &a), 1.0);
        let near = dice(&a, &typo);
        let far = dice(&a, &other);
        assert!(near > 0.8, "typo dice {near}");
        assert!(far < near - 0.1, "other dice {far} vs typo {near}");
    }

    #[test]
    fn no_names_no_encoding() {
        let enc = BloomEncoder::new(&ProjectKey::from_bytes([3u8; 32]));
        assert!(encode(&enc, "", "", "1980-02-03").is_none());
    }

    #[test]
    fn permutation_is_a_bijection_and_keyed() {
        let p = permutation(&[9u8; 32]);
        let mut seen = [false; BITS];
        for &x in &p {
            assert!(!seen[x as usize]);
            seen[x as usize] = true;
        }
        assert_ne!(p, permutation(&[10u8; 32]));
    }

    #[test]
    fn hardening_matches_bitwise_definition() {
        let key = ProjectKey::from_bytes([9u8; 32]);
        let enc = BloomEncoder::new(&key);
        let p = permutation(key.derive(BLOOM_PERMUTATION_CONTEXT).expose_secret());
        let mut patterned = [0u64; BASE_WORDS];
        for (w, word) in patterned.iter_mut().enumerate() {
            *word = 0x9e37_79b9_7f4a_7c15u64.rotate_left(w as u32 * 7) ^ w as u64;
        }
        let mut single = [0u64; BASE_WORDS];
        single[3] = 1 << 17;
        for base in [
            [0u64; BASE_WORDS],
            [u64::MAX; BASE_WORDS],
            patterned,
            single,
        ] {
            let encoding = enc.harden(&base);
            let filter = rule90(&base);
            let bit = |i: usize| filter[i / 64] >> (i % 64) & 1;
            for (j, &at) in p.iter().enumerate() {
                // Bit j of the balanced filter is bit p[j] of the encoding.
                let balanced = if j < BASE_BITS {
                    bit(j)
                } else {
                    1 - bit(j - BASE_BITS)
                };
                let at = usize::from(at);
                assert_eq!(
                    u64::from(encoding[at / 8] >> (at % 8) & 1),
                    balanced,
                    "bit {j}"
                );
            }
        }
    }

    #[test]
    fn rule90_matches_bitwise_definition() {
        let mut base = [0u64; BASE_WORDS];
        base[0] = 0b1011;
        base[7] = 1 << 63;
        let out = rule90(&base);
        let bit = |w: &[u64; BASE_WORDS], i: usize| w[i / 64] >> (i % 64) & 1;
        for i in 0..BASE_BITS {
            let expect =
                bit(&base, (i + BASE_BITS - 1) % BASE_BITS) ^ bit(&base, (i + 1) % BASE_BITS);
            assert_eq!(bit(&out, i), expect, "bit {i}");
        }
    }
}
