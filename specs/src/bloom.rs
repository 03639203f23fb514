//! The record-level Bloom-filter encoding and its comparison (spec §6).
//!
//! Construction, for one record:
//! 1. every feature (a padded bigram of a name or postcode, a date component,
//!    the sex code) is hashed with keyed BLAKE3 under the key derived with
//!    [`BLOOM_HASH_CONTEXT`](crate::key::BLOOM_HASH_CONTEXT); the field label is part of the hashed bytes, so
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
//! This module holds what needs no key: the parameters, the encoding type
//! and the comparison (Dice). The encoder, which holds the derived keys, is
//! `pprl_keyed::bloom::BloomEncoder`: the linker compares encodings but can
//! never make one.

/// Bits in the filter before balancing.
pub const BASE_BITS: usize = 512;
/// Bits in a hardened encoding.
pub const BITS: usize = 2 * BASE_BITS;
/// Bytes in a hardened encoding.
pub const BYTES: usize = BITS / 8;
/// Words in a hardened encoding.
pub const WORDS: usize = BITS / 64;
/// Words in a base filter.
pub const BASE_WORDS: usize = BASE_BITS / 64;

/// A hardened encoding. Bit `i` is bit `i % 8` (least significant first) of byte `i / 8`.
pub type Encoding = [u8; BYTES];

/// A field of the encoding: its label and how many bits each feature sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldParams {
    pub label: &'static str,
    pub bits_per_feature: u32,
}

/// Given names: padded bigrams of each given name.
pub const GIVEN: FieldParams = FieldParams {
    label: "given",
    bits_per_feature: 12,
};
/// Family name: padded bigrams.
pub const FAMILY: FieldParams = FieldParams {
    label: "family",
    bits_per_feature: 15,
};
/// Date of birth: day, month and year, each one feature.
pub const DOB: FieldParams = FieldParams {
    label: "dob",
    bits_per_feature: 10,
};
/// Postcode: padded bigrams of the postcode without its space.
pub const POSTCODE: FieldParams = FieldParams {
    label: "postcode",
    bits_per_feature: 4,
};
/// Sex code.
pub const SEX: FieldParams = FieldParams {
    label: "sex",
    bits_per_feature: 4,
};

/// The pad character around names before bigrams are taken.
pub const PAD: u8 = b'_';

/// Name of the hardening in manifests (spec §6.3).
pub const HARDENING: &str = "rule90+balance+keyed-permutation";

/// Dice similarity of two encodings: `2|A∩B| / (|A| + |B|)`.
pub fn dice(a: &Encoding, b: &Encoding) -> f64 {
    let (mut both, mut total) = (0u32, 0u32);
    for i in 0..WORDS {
        let (x, y) = (word(a, i), word(b, i));
        both += (x & y).count_ones();
        total += x.count_ones() + y.count_ones();
    }
    if total == 0 {
        0.0
    } else {
        2.0 * f64::from(both) / f64::from(total)
    }
}

/// Dice similarity from the ones two encodings share, given their weights
/// ([`weight`], computed once per record): the comparison kernel of
/// linkage, one AND and one population count per 64-bit word.
pub fn dice_weighted(a: &Encoding, b: &Encoding, weight_a: u32, weight_b: u32) -> f64 {
    let total = weight_a + weight_b;
    if total == 0 {
        0.0
    } else {
        2.0 * f64::from(common_ones(a, b)) / f64::from(total)
    }
}

/// Ones that two encodings share, `|A∩B|`.
pub fn common_ones(a: &Encoding, b: &Encoding) -> u32 {
    (0..WORDS)
        .map(|i| (word(a, i) & word(b, i)).count_ones())
        .sum()
}

/// Ones that one query encoding shares with each of many candidates:
/// `out[i] = |query ∩ candidates[i]|`. The batch form of [`common_ones`]
/// (the same counts): the query's words are read once, and two candidates
/// go through each pass, so a comparison costs the 16 words of the
/// candidate, not 32 loads (on the project's 2 GHz machine the scalar
/// kernel is bound by its loads; see benches/RESULTS.md, "Bloom kernel").
///
/// # Panics
/// If `out` is shorter than `candidates`.
pub fn common_ones_many(query: &Encoding, candidates: &[Encoding], out: &mut [u32]) {
    assert!(out.len() >= candidates.len(), "one output per candidate");
    let q: [u64; WORDS] = std::array::from_fn(|i| word(query, i));
    let mut pairs = candidates.chunks_exact(2);
    let mut outs = out[..candidates.len()].chunks_exact_mut(2);
    for (c, o) in (&mut pairs).zip(&mut outs) {
        let (mut first, mut second) = (0u32, 0u32);
        for (i, &w) in q.iter().enumerate() {
            first += (w & word(&c[0], i)).count_ones();
            second += (w & word(&c[1], i)).count_ones();
        }
        o[0] = first;
        o[1] = second;
    }
    for (c, o) in pairs.remainder().iter().zip(outs.into_remainder()) {
        *o = q
            .iter()
            .enumerate()
            .map(|(i, &w)| (w & word(c, i)).count_ones())
            .sum();
    }
}

/// Word `i` of an encoding, little-endian.
#[inline(always)]
fn word(e: &Encoding, i: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&e[i * 8..i * 8 + 8]);
    u64::from_le_bytes(bytes)
}

/// Ones in an encoding.
pub fn weight(a: &Encoding) -> u32 {
    (0..WORDS).map(|i| word(a, i).count_ones()).sum()
}

const _: () = assert!(WORDS * 64 == BITS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_dice_equals_dice() {
        let mut state = 0x1234_5678_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        };
        for _ in 0..50 {
            let a: Encoding = std::array::from_fn(|_| next());
            let b: Encoding = std::array::from_fn(|_| next() & next());
            let d = dice_weighted(&a, &b, weight(&a), weight(&b));
            assert!((d - dice(&a, &b)).abs() < 1e-12);
            let bits = |e: &Encoding| e.iter().map(|x| x.count_ones()).sum::<u32>();
            assert_eq!(weight(&a), bits(&a));
        }
        let zero = [0u8; BYTES];
        assert_eq!(dice_weighted(&zero, &zero, 0, 0), 0.0);
        assert_eq!(dice(&zero, &zero), 0.0);
    }

    #[test]
    fn batch_kernel_equals_pairwise() {
        let mut state = 0x9876_5432_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        };
        let query: Encoding = std::array::from_fn(|_| next());
        // Odd and even lengths: the last candidate of an odd batch takes
        // the single-candidate path.
        for n in [0, 1, 2, 7, 64] {
            let candidates: Vec<Encoding> = (0..n)
                .map(|_| std::array::from_fn(|_| next() & next()))
                .collect();
            let mut out = vec![u32::MAX; n + 1];
            common_ones_many(&query, &candidates, &mut out);
            for (c, got) in candidates.iter().zip(&out) {
                assert_eq!(*got, common_ones(&query, c));
            }
            assert_eq!(out[n], u32::MAX, "nothing written past the candidates");
        }
    }
}
