//! The keyed permutation of a balanced filter as a Beneš network.
//!
//! A Beneš network on 2ⁿ positions is 2n − 1 stages of 2×2 switches; stage
//! `s` pairs each position `p` with `p + d` for a power-of-two distance `d`
//! (512, 256, …, 2, 1, 2, …, 512 for 1,024 positions), and every
//! permutation can be routed through it (the looping algorithm,
//! [`Benes::route`]). On a bit string held in machine words a stage is a
//! *delta swap*: three shifts, XORs and one AND per word, with a mask of the
//! switches that cross. Permuting 1,024 bits is then 19 passes over 16 words
//! of straight-line, vectorisable code, with 2.4 KB of masks; setting bits
//! one by one at their permuted positions was a data-dependent loop of some
//! 512 read-modify-writes.

use zeroize::Zeroizing;

/// Bits permuted.
const BITS: usize = 1024;
/// Words of 64 bits.
const WORDS: usize = BITS / 64;
/// log₂ of [`BITS`].
const LOG: usize = 10;
/// Stages of the network.
const STAGES: usize = 2 * LOG - 1;

/// The distance stage `s` swaps across.
const fn distance(stage: usize) -> usize {
    if stage < LOG {
        BITS >> (stage + 1)
    } else {
        BITS >> (STAGES - stage)
    }
}

/// A permutation of 1,024 bits compiled to a Beneš network.
pub(super) struct Benes {
    /// For each stage, bit `p` set when the switch of the pair
    /// (`p`, `p + distance`) crosses (`p` is the pair's lower position).
    /// Key-dependent: wiped on drop.
    /// On the heap, so that moving the network (into the encoder, out of
    /// its constructor) leaves no copies of the masks behind.
    masks: Zeroizing<Vec<[u64; WORDS]>>,
}

impl Benes {
    /// The network that moves bit `i` of its input to bit `destination[i]`
    /// of its output.
    ///
    /// # Panics
    /// If `destination` is not a permutation of `0..1024`.
    pub(super) fn new(destination: &[u16; BITS]) -> Self {
        let mut seen = [false; BITS];
        for &d in destination {
            assert!(
                !std::mem::replace(&mut seen[usize::from(d)], true),
                "a permutation"
            );
        }
        let mut masks = Zeroizing::new(vec![[0u64; WORDS]; STAGES]);
        let mut to: Zeroizing<Vec<usize>> =
            Zeroizing::new(destination.iter().map(|&d| usize::from(d)).collect());
        Self::route(&mut masks, &mut to, 0, 0);
        Benes { masks }
    }

    /// Routes the block of `to.len()` positions starting at `base`, at
    /// recursion depth `depth`, where the element at local position `i`
    /// must reach local position `to[i]`. Sets the switches of stages
    /// `depth` and `STAGES - 1 - depth` for the block, then routes its two
    /// halves one level down.
    fn route(masks: &mut [[u64; WORDS]], to: &mut [usize], base: usize, depth: usize) {
        let m = to.len();
        let set = |masks: &mut [[u64; WORDS]], stage: usize, local: usize| {
            let p = base + local;
            masks[stage][p / 64] |= 1 << (p % 64);
        };
        if m == 2 {
            if to[0] == 1 {
                set(masks, depth, 0);
            }
            return;
        }
        let h = m / 2;
        let mut from = Zeroizing::new(vec![0usize; m]);
        for (i, &t) in to.iter().enumerate() {
            from[t] = i;
        }
        // Which half-network each element goes through: the two elements of
        // an input pair (i, i ^ h) take different halves, and so do the two
        // elements bound for an output pair (o, o ^ h). Follow the chain of
        // those constraints from each unplaced element (the looping algorithm).
        let mut lower = Zeroizing::new(vec![None::<bool>; m]);
        for start in 0..h {
            if lower[start].is_some() {
                continue; // on a chain already followed
            }
            let mut i = start;
            loop {
                lower[i] = Some(false);
                lower[i ^ h] = Some(true);
                // i's partner takes the lower half, so whatever is bound for
                // the partner of its destination takes the upper half.
                i = from[to[i ^ h] ^ h];
                if let Some(placed) = lower[i] {
                    debug_assert!(!placed, "the chain closes consistently");
                    break;
                }
            }
        }
        // The block's switch settings: key-dependent, so wiped like the rest.
        let lower: Zeroizing<Vec<bool>> = Zeroizing::new(
            lower
                .iter()
                .map(|l| l.expect("every element placed"))
                .collect(),
        );
        // First stage: position i keeps its element when that element goes
        // through the upper half, and swaps with i + h otherwise.
        for (i, _) in lower[..h].iter().enumerate().filter(|(_, l)| **l) {
            set(masks, depth, i);
        }
        // Last stage: output j takes the upper half's output j unless the
        // element bound for j came through the lower half.
        for j in 0..h {
            if lower[from[j]] {
                set(masks, STAGES - 1 - depth, j);
            }
        }
        // The halves' own permutations, positions taken modulo h.
        let mut upper_to = Zeroizing::new(vec![0usize; h]);
        let mut lower_to = Zeroizing::new(vec![0usize; h]);
        for q in 0..h {
            let (up, down) = if lower[q] { (q + h, q) } else { (q, q + h) };
            upper_to[q] = to[up] % h;
            lower_to[q] = to[down] % h;
        }
        Self::route(masks, &mut upper_to, base, depth + 1);
        Self::route(masks, &mut lower_to, base + h, depth + 1);
    }

    /// Permutes `x` in place.
    pub(super) fn apply(&self, x: &mut [u64; WORDS]) {
        // Each stage with its distance as a constant, so that the shifts are
        // immediate and the loops unrolled and vectorised.
        macro_rules! stages {
            ($($s:literal)*) => {$(
                delta_swap::<{ distance($s) }>(x, &self.masks[$s]);
            )*};
        }
        stages!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18);
    }
}

/// Swaps bit `p` with bit `p + D` wherever `mask` has bit `p` set.
#[inline(always)]
fn delta_swap<const D: usize>(x: &mut [u64; WORDS], mask: &[u64; WORDS]) {
    if D < 64 {
        // The pairs lie within words.
        for (word, &m) in x.iter_mut().zip(mask) {
            let t = ((*word >> D) ^ *word) & m;
            *word ^= t ^ (t << D);
        }
    } else {
        // Whole words pair up, `D / 64` apart.
        let k = D / 64;
        for w in (0..WORDS).filter(|w| (w / k).is_multiple_of(2)) {
            let t = (x[w] ^ x[w + k]) & mask[w];
            x[w] ^= t;
            x[w + k] ^= t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pseudo-random permutation (Fisher–Yates over splitmix64).
    fn shuffled(seed: u64) -> [u16; BITS] {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut p: [u16; BITS] = std::array::from_fn(|i| i as u16);
        for i in (1..BITS).rev() {
            p.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        p
    }

    fn bit(x: &[u64; WORDS], i: usize) -> u64 {
        x[i / 64] >> (i % 64) & 1
    }

    #[test]
    fn distances_halve_then_double() {
        let d: Vec<usize> = (0..STAGES).map(distance).collect();
        assert_eq!(
            d,
            [
                512, 256, 128, 64, 32, 16, 8, 4, 2, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512
            ]
        );
    }

    /// Every input bit lands at its destination, for the identity, a
    /// reversal, a rotation and random permutations, on single bits and
    /// on dense patterns.
    #[test]
    fn routes_every_permutation_tried() {
        let mut permutations = vec![
            std::array::from_fn(|i| i as u16),
            std::array::from_fn(|i| (BITS - 1 - i) as u16),
            std::array::from_fn(|i| ((i + 333) % BITS) as u16),
        ];
        permutations.extend((1..=20).map(shuffled));
        for destination in &permutations {
            let network = Benes::new(destination);
            for i in [0, 1, 63, 64, 511, 512, 1000, 1023] {
                let mut x = [0u64; WORDS];
                x[i / 64] = 1 << (i % 64);
                network.apply(&mut x);
                let at = usize::from(destination[i]);
                assert_eq!(x.iter().map(|w| w.count_ones()).sum::<u32>(), 1);
                assert_eq!(bit(&x, at), 1, "bit {i} reaches {at}");
            }
            // Bit b of each position's index, for b in 0..10: together
            // these ten patterns tell every position apart, so they pin the
            // permutation exactly.
            for b in 0..LOG {
                let pattern: [u64; WORDS] = std::array::from_fn(|w| {
                    (0..64).fold(0u64, |acc, i| acc | ((((w * 64 + i) >> b) & 1) as u64) << i)
                });
                let mut x = pattern;
                network.apply(&mut x);
                for (i, &to) in destination.iter().enumerate() {
                    assert_eq!(
                        bit(&x, usize::from(to)),
                        bit(&pattern, i),
                        "bit {i}, index bit {b}"
                    );
                }
            }
            let pattern: [u64; WORDS] = std::array::from_fn(|w| {
                0x9e37_79b9_7f4a_7c15u64.rotate_left(w as u32 * 11) ^ w as u64
            });
            let mut x = pattern;
            network.apply(&mut x);
            for (i, &to) in destination.iter().enumerate() {
                assert_eq!(bit(&x, usize::from(to)), bit(&pattern, i), "bit {i}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "a permutation")]
    fn refuses_what_is_not_a_permutation() {
        let mut destination: [u16; BITS] = std::array::from_fn(|i| i as u16);
        destination[5] = 6;
        let _ = Benes::new(&destination);
    }
}
