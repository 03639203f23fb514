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

use chrono::Datelike;
use zeroize::Zeroizing;

use crate::key::{BLOOM_HASH_CONTEXT, BLOOM_PERMUTATION_CONTEXT, ProjectKey};
use crate::record::NormalisedRecord;

/// Bits in the filter before balancing.
pub const BASE_BITS: usize = 512;
/// Bits in a hardened encoding.
pub const BITS: usize = 2 * BASE_BITS;
/// Bytes in a hardened encoding.
pub const BYTES: usize = BITS / 8;
/// Words in a hardened encoding.
const WORDS: usize = BITS / 64;
const BASE_WORDS: usize = BASE_BITS / 64;

/// A hardened encoding. Bit `i` is bit `i % 8` (least significant first) of byte `i / 8`.
pub type Encoding = [u8; BYTES];

/// A field of the encoding: its label and how many bits each feature sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldParams {
    pub label: &'static str,
    pub bits_per_feature: u32,
}

/// Given names: padded bigrams of each given name.
pub const GIVEN: FieldParams = FieldParams { label: "given", bits_per_feature: 12 };
/// Family name: padded bigrams.
pub const FAMILY: FieldParams = FieldParams { label: "family", bits_per_feature: 15 };
/// Date of birth: day, month and year, each one feature.
pub const DOB: FieldParams = FieldParams { label: "dob", bits_per_feature: 10 };
/// Postcode: padded bigrams of the postcode without its space.
pub const POSTCODE: FieldParams = FieldParams { label: "postcode", bits_per_feature: 4 };
/// Sex code.
pub const SEX: FieldParams = FieldParams { label: "sex", bits_per_feature: 4 };

/// The pad character around names before bigrams are taken.
pub const PAD: u8 = b'_';

/// Name of the hardening in manifests (spec §6.3).
pub const HARDENING: &str = "rule90+balance+keyed-permutation";

/// Encodes records under one project key.
pub struct BloomEncoder {
    hash_key: Zeroizing<[u8; 32]>,
    /// `permutation[i]` is the output position of balanced bit `i`.
    permutation: Box<[u16; BITS]>,
}

impl BloomEncoder {
    /// Derives the hashing key and the permutation from the project key.
    pub fn new(key: &ProjectKey) -> Self {
        let hash_key = Zeroizing::new(*key.derive(BLOOM_HASH_CONTEXT).expose_secret());
        let perm_key = key.derive(BLOOM_PERMUTATION_CONTEXT);
        BloomEncoder { hash_key, permutation: Box::new(permutation(perm_key.expose_secret())) }
    }

    /// The hardened encoding of a record, or `None` when it has neither a
    /// given name nor a family name (nothing worth comparing).
    pub fn encode(&self, record: &NormalisedRecord) -> Option<Encoding> {
        let given = record.given_names.present();
        let family = record.family_name.present();
        if given.is_none() && family.is_none() {
            return None;
        }
        let mut base = [0u64; BASE_WORDS];
        let mut feature = Zeroizing::new(Vec::with_capacity(32));
        if let Some(given) = given {
            for name in given.all() {
                self.add_bigrams(&mut base, &mut feature, GIVEN, name.as_bytes());
            }
        }
        if let Some(family) = family {
            self.add_bigrams(&mut base, &mut feature, FAMILY, family.as_bytes());
        }
        if let Some(dob) = record.date_of_birth.present() {
            let parts = Zeroizing::new(format!("D{:02}M{:02}Y{:04}", dob.day(), dob.month(), dob.year()));
            for part in [&parts[0..3], &parts[3..6], &parts[6..11]] {
                self.add_feature(&mut base, &mut feature, DOB, part.as_bytes());
            }
        }
        if let Some(postcode) = record.postcode.present() {
            let full = Zeroizing::new(postcode.full().replace(' ', ""));
            self.add_bigrams(&mut base, &mut feature, POSTCODE, full.as_bytes());
        }
        if let Some(sex) = record.sex.present() {
            self.add_feature(&mut base, &mut feature, SEX, sex.code().as_bytes());
        }
        Some(self.harden(&base))
    }

    fn add_bigrams(&self, base: &mut [u64; BASE_WORDS], buf: &mut Vec<u8>, field: FieldParams, text: &[u8]) {
        let mut padded = Zeroizing::new(Vec::with_capacity(text.len() + 2));
        padded.push(PAD);
        padded.extend_from_slice(text);
        padded.push(PAD);
        for gram in padded.windows(2) {
            self.add_feature(base, buf, field, gram);
        }
    }

    /// Hashes `label 0x1F feature` and sets `k` bits by double hashing.
    fn add_feature(&self, base: &mut [u64; BASE_WORDS], buf: &mut Vec<u8>, field: FieldParams, feature: &[u8]) {
        buf.clear();
        buf.extend_from_slice(field.label.as_bytes());
        buf.push(0x1f);
        buf.extend_from_slice(feature);
        let hash = blake3::keyed_hash(&self.hash_key, buf);
        let bytes = hash.as_bytes();
        let h1 = u64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"));
        let h2 = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) | 1;
        for i in 0..u64::from(field.bits_per_feature) {
            let pos = (h1.wrapping_add(i.wrapping_mul(h2)) % BASE_BITS as u64) as usize;
            base[pos / 64] |= 1 << (pos % 64);
        }
    }

    fn harden(&self, base: &[u64; BASE_WORDS]) -> Encoding {
        let diffused = rule90(base);
        let mut out = [0u8; BYTES];
        for i in 0..BITS {
            let bit = if i < BASE_BITS {
                diffused[i / 64] >> (i % 64) & 1
            } else {
                !diffused[(i - BASE_BITS) / 64] >> ((i - BASE_BITS) % 64) & 1
            };
            if bit == 1 {
                let p = self.permutation[i] as usize;
                out[p / 8] |= 1 << (p % 8);
            }
        }
        out
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

/// Dice similarity of two encodings: `2|A∩B| / (|A| + |B|)`.
pub fn dice(a: &Encoding, b: &Encoding) -> f64 {
    let (mut both, mut total) = (0u32, 0u32);
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let x = u64::from_le_bytes(x.try_into().expect("8-byte chunk"));
        let y = u64::from_le_bytes(y.try_into().expect("8-byte chunk"));
        both += (x & y).count_ones();
        total += x.count_ones() + y.count_ones();
    }
    if total == 0 { 0.0 } else { 2.0 * f64::from(both) / f64::from(total) }
}

/// Ones in an encoding.
pub fn weight(a: &Encoding) -> u32 {
    a.iter().map(|b| b.count_ones()).sum()
}

const _: () = assert!(WORDS * 64 == BITS);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::DateOrder;
    use crate::record::{NormaliseOptions, RawRecord};
    use chrono::NaiveDate;

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
        };
        enc.encode(&NormalisedRecord::from_raw(&raw, &options))
    }

    #[test]
    fn every_encoding_is_balanced() {
        let enc = BloomEncoder::new(&ProjectKey::from_bytes([3u8; 32]));
        for (g, f) in [("John", "Smith"), ("Mary Ann", "Featherstonehaugh"), ("Al", "Li")] {
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
    fn rule90_matches_bitwise_definition() {
        let mut base = [0u64; BASE_WORDS];
        base[0] = 0b1011;
        base[7] = 1 << 63;
        let out = rule90(&base);
        let bit = |w: &[u64; BASE_WORDS], i: usize| w[i / 64] >> (i % 64) & 1;
        for i in 0..BASE_BITS {
            let expect = bit(&base, (i + BASE_BITS - 1) % BASE_BITS) ^ bit(&base, (i + 1) % BASE_BITS);
            assert_eq!(bit(&out, i), expect, "bit {i}");
        }
    }
}
