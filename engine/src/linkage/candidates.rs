//! Candidate pairs: records that share a match-key token (the cascade), and,
//! for records no key joins, records whose Bloom encodings collide in a
//! locality-sensitive hash of sampled bits. Both are sort-based, so the work
//! grows as n log n with the number of records, not n².

use pprl_specs::bloom::BITS;
use pprl_specs::matchkey::MATCH_KEYS;
use rayon::prelude::*;

use super::records::Records;

/// Bands of the Bloom LSH, and the range of its bits per band (see
/// [`bloom_pairs`] and [`lsh_bits`]).
pub const LSH_BANDS: usize = 24;
pub const LSH_MIN_BITS: usize = 18;
pub const LSH_MAX_BITS: usize = 28;

/// Bits per LSH band for a run of `records` records: two more than the bits
/// of the record count, within [`LSH_MIN_BITS`]..=[`LSH_MAX_BITS`].
///
/// Two unrelated encodings agree on a band of `b` bits with probability
/// about 2⁻ᵇ, so with a fixed `b` the LSH would propose pairs in proportion
/// to n² (at 2 × 1,000,000 records and 18 bits: 309 million pairs, 10 GB).
/// With `b = ⌈log₂ n⌉ + 2` the unrelated pairs stay near
/// `LSH_BANDS · n · 2^(log₂ n − b) / 2 ≈ 3` per record whatever the size:
/// linear growth. The price is recall at low Dice on large runs (a pair of
/// Dice 0.9 is found in some band with probability ≈ 0.98 at 18 bits, 0.89
/// at 23).
pub fn lsh_bits(records: usize) -> usize {
    let log2 = (usize::BITS - records.max(1).leading_zeros()) as usize;
    (log2 + 2).clamp(LSH_MIN_BITS, LSH_MAX_BITS)
}
/// Buckets of the LSH larger than this are ignored (degenerate encodings).
const LSH_MAX_BUCKET: usize = 50;

/// A pair of records, `a < b`, packed as `a << 32 | b`.
pub type Pair = u64;

/// Packs a pair.
pub fn pair(a: u32, b: u32) -> Pair {
    let (a, b) = if a < b { (a, b) } else { (b, a) };
    (u64::from(a) << 32) | u64::from(b)
}

/// Unpacks a pair.
pub fn unpack(p: Pair) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// What blocking produced.
#[derive(Debug, Default)]
pub struct Blocking {
    /// Distinct candidate pairs, sorted.
    pub pairs: Vec<Pair>,
    /// For each pair, whether a match key joins it (false: the Bloom LSH
    /// alone proposed it, so no key agrees and comparing it reads no name
    /// key).
    pub keyed: Vec<bool>,
    /// Per match key, per record: how many records share its token (0 if it has none).
    pub frequency: Vec<Vec<u32>>,
    /// Records that share some token with another record.
    pub joined: Vec<bool>,
    /// Pairs proposed by the keys, and by the Bloom LSH.
    pub key_pairs: usize,
    pub bloom_pairs: usize,
    /// Token groups skipped for being larger than the block limit.
    pub skipped_blocks: usize,
    /// Pairs of records of one dataset that share a token, whether or not
    /// they may link (sorted, distinct; probabilistic method only): the
    /// reference from which [`super::coincidence`] estimates how often
    /// different people share each key.
    pub within: Vec<Pair>,
}

/// Match keys that only propose candidate pairs: a pair they alone join is
/// left to the model (with the Dice similarity as evidence) and never
/// linked by the cascade, since relatives share them (twins share a family
/// name, date of birth and sex) and strangers do in a large population (a
/// date of birth and a postcode district, or a first name; `pprl/v2`'s
/// `first_dob` and `family_dob`, spec §5.2).
pub const BLOCKING_ONLY_KEYS: [&str; 4] =
    ["family_dob_sex", "dob_district", "first_dob", "family_dob"];

/// Proposes candidate pairs. `allowed(a, b)` rejects pairs that can never
/// link (two records of a one-record-per-person dataset); `use_bloom` adds
/// the Bloom LSH pairs and the [`BLOCKING_ONLY_KEYS`]' pairs (both off for
/// the cascade method).
pub fn block(
    records: &Records,
    max_block: usize,
    use_bloom: bool,
    allowed: &(dyn Fn(u32, u32) -> bool + Sync),
) -> Blocking {
    let n = records.len();
    let mut out = Blocking {
        joined: vec![false; n],
        ..Default::default()
    };
    let mut pairs: Vec<Pair> = Vec::new();
    for (def, key) in MATCH_KEYS.iter().zip(&records.keys) {
        if !use_bloom && BLOCKING_ONLY_KEYS.contains(&def.name) {
            out.frequency.push(vec![0; n]);
            continue;
        }
        // Grouped by the token's first 8 bytes: 16-byte entries sort twice
        // as fast as 32-byte ones holding the whole token. Two different
        // tokens share a 64-bit prefix with probability about n²/2⁶⁵ (10⁻⁶
        // at 6 million records); if they did, the pair would be a candidate
        // that agrees on no key, since comparison reads whole tokens.
        let mut entries: Vec<(u64, u32)> = (0..n as u32)
            .into_par_iter()
            .filter(|&i| key.present[i as usize])
            .map(|i| {
                let t = &key.tokens[i as usize];
                (u64::from_le_bytes(std::array::from_fn(|j| t[j])), i)
            })
            .collect();
        entries.par_sort_unstable();
        let mut frequency = vec![0u32; n];
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            for &(_, i) in group {
                frequency[i as usize] = group.len() as u32;
            }
            if group.len() < 2 {
                continue;
            }
            if group.len() > max_block {
                out.skipped_blocks += 1;
                continue;
            }
            for (x, &(_, a)) in group.iter().enumerate() {
                for &(_, b) in &group[x + 1..] {
                    if allowed(a, b) {
                        pairs.push(pair(a, b));
                        out.joined[a as usize] = true;
                        out.joined[b as usize] = true;
                    }
                    if use_bloom && records.dataset[a as usize] == records.dataset[b as usize] {
                        out.within.push(pair(a, b));
                    }
                }
            }
        }
        out.frequency.push(frequency);
    }
    out.within.par_sort_unstable();
    out.within.dedup();
    pairs.par_sort_unstable();
    pairs.dedup();
    out.key_pairs = pairs.len();
    if !use_bloom {
        out.keyed = vec![true; pairs.len()];
        out.pairs = pairs;
        return out;
    }
    let mut bloom = bloom_pairs(records, &out.joined, allowed);
    bloom.retain(|p| pairs.binary_search(p).is_err());
    out.bloom_pairs = bloom.len();
    (out.pairs, out.keyed) = merge(&pairs, &bloom);
    out
}

/// Merges the sorted key pairs and the sorted Bloom pairs (disjoint) into
/// one sorted list, with a flag for the key pairs.
fn merge(keys: &[Pair], bloom: &[Pair]) -> (Vec<Pair>, Vec<bool>) {
    let mut pairs = Vec::with_capacity(keys.len() + bloom.len());
    let mut keyed = Vec::with_capacity(keys.len() + bloom.len());
    let (mut i, mut j) = (0, 0);
    while i < keys.len() || j < bloom.len() {
        if j == bloom.len() || (i < keys.len() && keys[i] < bloom[j]) {
            pairs.push(keys[i]);
            keyed.push(true);
            i += 1;
        } else {
            pairs.push(bloom[j]);
            keyed.push(false);
            j += 1;
        }
    }
    (pairs, keyed)
}

/// The bit positions each LSH band samples: fixed, so runs are reproducible.
fn band_positions(bits: usize) -> Vec<Vec<u16>> {
    let mut state = 0x005e_ed0f_b100_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (0..LSH_BANDS)
        .map(|_| {
            let all: Vec<u16> = (0..LSH_MAX_BITS)
                .map(|_| (next() % BITS as u64) as u16)
                .collect();
            all[..bits].to_vec()
        })
        .collect()
}

/// Hamming LSH over the encodings: records whose sampled bits all agree in
/// some band become candidates, whether or not a key already joins either
/// of them (a record joined to its own duplicate, or to the wrong person,
/// still needs its true match found). Encodings with Dice 0.9 (about 10% of
/// bits differ) collide in at least one of 24 bands of 18 bits with
/// probability ≈ 0.98, Dice 0.85 ≈ 0.74, Dice 0.8 ≈ 0.35; unrelated ones
/// (half the bits differ) with probability ≈ 9 × 10⁻⁵. Larger runs sample
/// more bits a band ([`lsh_bits`]) so that the pairs grow linearly.
pub fn bloom_pairs(
    records: &Records,
    _joined: &[bool],
    allowed: &(dyn Fn(u32, u32) -> bool + Sync),
) -> Vec<Pair> {
    if records.has_bloom.iter().filter(|b| **b).count() < 2 {
        return Vec::new();
    }
    let bands = band_positions(lsh_bits(records.len()));
    let n = records.len() as u32;
    let mut pairs: Vec<Pair> = bands
        .par_iter()
        .flat_map_iter(|positions| {
            let mut entries: Vec<(u32, u32)> = (0..n)
                .filter(|&i| records.has_bloom[i as usize])
                .map(|i| {
                    let e = &records.bloom[i as usize];
                    let mut key = 0u32;
                    for (b, &p) in positions.iter().enumerate() {
                        let bit = (e[p as usize / 8] >> (p % 8)) & 1;
                        key |= u32::from(bit) << b;
                    }
                    (key, i)
                })
                .collect();
            entries.sort_unstable();
            let mut found = Vec::new();
            for group in entries.chunk_by(|a, b| a.0 == b.0) {
                if group.len() < 2 || group.len() > LSH_MAX_BUCKET {
                    continue;
                }
                for (x, &(_, a)) in group.iter().enumerate() {
                    for &(_, b) in &group[x + 1..] {
                        if allowed(a, b) {
                            found.push(pair(a, b));
                        }
                    }
                }
            }
            found
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_pairs_are_sorted_and_flag_their_source() {
        let (pairs, keyed) = merge(&[1, 4, 9], &[2, 3, 10]);
        assert_eq!(pairs, [1, 2, 3, 4, 9, 10]);
        assert_eq!(keyed, [true, false, false, true, true, false]);
        assert_eq!(merge(&[], &[5]), (vec![5], vec![false]));
        assert_eq!(merge(&[5], &[]), (vec![5], vec![true]));
    }

    #[test]
    fn lsh_bits_grow_with_the_log_of_the_records() {
        assert_eq!(lsh_bits(0), LSH_MIN_BITS);
        assert_eq!(lsh_bits(50_000), 18);
        assert_eq!(lsh_bits(200_000), 20);
        assert_eq!(lsh_bits(2_000_000), 23);
        assert_eq!(lsh_bits(6_000_000), 25);
        assert_eq!(lsh_bits(usize::MAX), LSH_MAX_BITS);
        // Unrelated pairs per record stay bounded: bands · n · 2^-bits / 2.
        for n in [1_000usize, 100_000, 1_000_000, 10_000_000] {
            let per_record = LSH_BANDS as f64 * n as f64 / 2f64.powi(lsh_bits(n) as i32) / 2.0;
            assert!(per_record <= 3.0, "{n}: {per_record}");
        }
    }

    #[test]
    fn bands_keep_their_first_positions_as_they_widen() {
        let narrow = band_positions(LSH_MIN_BITS);
        let wide = band_positions(LSH_MAX_BITS);
        for (n, w) in narrow.iter().zip(&wide) {
            assert_eq!(n[..], w[..LSH_MIN_BITS]);
        }
    }
}
