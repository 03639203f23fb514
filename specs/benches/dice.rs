//! The Bloom comparison kernel (issue 4): Dice similarity of balanced
//! 1024-bit encodings (512 bits set, as pprl/v1 makes them), one query
//! against 4,096 others, on one core. Prints comparisons per second for
//! [`dice`] (three population counts per word), for [`dice_weighted`]
//! (weights once per record, one population count per word) and for
//! [`common_ones`] alone (a Dice threshold without a division), and for
//! [`common_ones_many`] (one query against a batch, two candidates a pass).
//! Target: 150 million a second. Run with `cargo bench -p pprl-specs --bench dice`.

use std::hint::black_box;
use std::time::Instant;

use pprl_specs::bloom::{
    BYTES, Encoding, common_ones, common_ones_many, dice, dice_weighted, weight,
};

fn main() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let encodings: Vec<Encoding> = (0..4096)
        .map(|_| {
            let mut bits: Vec<u16> = (0..(BYTES * 8) as u16).collect();
            for i in (1..bits.len()).rev() {
                bits.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            let mut out = [0u8; BYTES];
            for &b in &bits[..BYTES * 4] {
                out[usize::from(b) / 8] |= 1 << (b % 8);
            }
            out
        })
        .collect();
    let weights: Vec<u32> = encodings.iter().map(weight).collect();
    let queries = 8000usize;
    let count = (queries * encodings.len()) as f64;
    for round in 0..2 {
        let started = Instant::now();
        let mut sum = 0.0;
        for q in encodings.iter().cycle().take(queries) {
            for e in &encodings {
                sum += dice(black_box(q), e);
            }
        }
        black_box(sum);
        let plain = count / started.elapsed().as_secs_f64() / 1e6;
        let started = Instant::now();
        let mut sum = 0.0;
        for (q, wq) in encodings.iter().zip(&weights).cycle().take(queries) {
            for (e, we) in encodings.iter().zip(&weights) {
                sum += dice_weighted(black_box(q), e, *wq, *we);
            }
        }
        black_box(sum);
        let weighted = count / started.elapsed().as_secs_f64() / 1e6;
        // Shared ones only: a threshold on Dice is a threshold on them
        // (2·common ≥ t·(|A| + |B|)), with no division per comparison.
        let started = Instant::now();
        let mut total = 0u64;
        for q in encodings.iter().cycle().take(queries) {
            for e in &encodings {
                total += u64::from(common_ones(black_box(q), e));
            }
        }
        black_box(total);
        let common = count / started.elapsed().as_secs_f64() / 1e6;
        // The batch kernel: one query against all candidates per call.
        let started = Instant::now();
        let mut out = vec![0u32; encodings.len()];
        for q in encodings.iter().cycle().take(queries) {
            common_ones_many(black_box(q), &encodings, &mut out);
            black_box(&mut out);
        }
        let many = count / started.elapsed().as_secs_f64() / 1e6;
        println!(
            "round {round}: {count} comparisons on one core: dice {plain:.0} million/s, \
             dice_weighted {weighted:.0} million/s, common_ones {common:.0} million/s, \
             common_ones_many {many:.0} million/s (target 150)"
        );
    }
}
