//! The generator's random numbers: SplitMix64, seeded.
//!
//! Everything generated is deterministic for a seed; this generator never
//! changes with a dependency's version, and no floating-point function that
//! could differ between platforms decides anything but comparisons — except
//! the `exp` and `ln` of the scenarios' covariate models (issue 18), whose
//! last bit may differ between platforms' maths libraries and so, very
//! rarely, flip a draw that falls exactly on a threshold.

/// SplitMix64: a tiny, well-known, seedable generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator of its own for one item (a person) under one label (a
    /// covariate, a dataset's timing): the same draws whatever else is
    /// drawn, and in whatever order the items are visited.
    pub fn for_item(seed: u64, label: &str, item: u64) -> Self {
        let label = label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut mixer = Rng(seed ^ label.rotate_left(29));
        let base = mixer.next_u64();
        let mut rng = Rng(base ^ item.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        rng
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// About standard normal: the sum of twelve uniforms less six (the
    /// Irwin–Hall approximation, within ±6), with no platform-dependent
    /// function in it.
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the tiny modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        // The SplitMix64 reference output for seed 0.
        assert_eq!(Rng::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
        assert!((0..1000).all(|_| a.below(10) < 10));
    }

    #[test]
    fn item_generators_are_independent_of_each_other() {
        let draw = |label, item| Rng::for_item(9, label, item).next_u64();
        assert_eq!(draw("risk", 3), draw("risk", 3));
        assert_ne!(draw("risk", 3), draw("risk", 4));
        assert_ne!(draw("risk", 3), draw("parent", 3));
        let mut rng = Rng::new(1);
        let z: Vec<f64> = (0..20_000).map(|_| rng.normal()).collect();
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / z.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }
}
