//! Interval estimates and tests for proportions: Wilson score intervals,
//! Newcombe's hybrid score interval for a difference (method 10 of
//! Newcombe 1998), the pooled two-proportion z test, and Fisher's exact test
//! when expected counts are small.

use serde::{Deserialize, Serialize};

/// The normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

/// The Wilson score interval for `x` successes in `n` trials (`n > 0`).
pub fn wilson(x: u64, n: u64) -> Interval {
    debug_assert!(n > 0 && x <= n, "wilson needs 0 <= x <= n, n > 0");
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval {
        estimate: p,
        // Exactly 0 or 1 at the ends, despite rounding in the arithmetic.
        low: (centre - half).clamp(0.0, p),
        high: (centre + half).clamp(p, 1.0),
    }
}

/// Newcombe's hybrid score interval for `p1 - p2` from the two Wilson intervals.
pub fn newcombe(a: Interval, b: Interval) -> Interval {
    let d = a.estimate - b.estimate;
    let low = d - ((a.estimate - a.low).powi(2) + (b.high - b.estimate).powi(2)).sqrt();
    let high = d + ((a.high - a.estimate).powi(2) + (b.estimate - b.low).powi(2)).sqrt();
    Interval {
        estimate: d,
        low,
        high,
    }
}

/// A significance test of the difference between two proportions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Test {
    /// `two_proportion_z` or `fisher_exact`.
    pub method: String,
    /// The z statistic (the z test only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<f64>,
    /// Two-sided.
    pub p_value: f64,
}

/// Tests `x1/n1` against `x2/n2`: the pooled z test, or Fisher's exact test
/// when an expected cell count is under 5.
pub fn test(x1: u64, n1: u64, x2: u64, n2: u64) -> Test {
    let (n, x) = (n1 + n2, x1 + x2);
    let expected_min = [
        x as f64 * n1 as f64,
        x as f64 * n2 as f64,
        (n - x) as f64 * n1 as f64,
        (n - x) as f64 * n2 as f64,
    ]
    .into_iter()
    .fold(f64::INFINITY, f64::min)
        / n as f64;
    if expected_min < 5.0 {
        return Test {
            method: "fisher_exact".to_owned(),
            statistic: None,
            p_value: fisher(x1, n1, x2, n2),
        };
    }
    let p = x as f64 / n as f64;
    let se = (p * (1.0 - p) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    let z = if se > 0.0 {
        (x1 as f64 / n1 as f64 - x2 as f64 / n2 as f64) / se
    } else {
        0.0
    };
    Test {
        method: "two_proportion_z".to_owned(),
        statistic: Some(z),
        p_value: erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0),
    }
}

/// Two-sided Fisher exact p-value: the probability of tables with the same
/// margins no more likely than the one observed.
pub fn fisher(x1: u64, n1: u64, x2: u64, n2: u64) -> f64 {
    let x = x1 + x2;
    let lo = x.saturating_sub(n2);
    let hi = x.min(n1);
    let log_p = |k: u64| ln_choose(n1, k) + ln_choose(n2, x - k) - ln_choose(n1 + n2, x);
    let observed = log_p(x1);
    let total: f64 = (lo..=hi)
        .map(log_p)
        .filter(|lp| *lp <= observed + 1e-7)
        .map(f64::exp)
        .sum();
    total.min(1.0)
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |s, (i, g)| s + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The complementary error function: the Chebyshev fit of Numerical
/// Recipes (3rd ed., §6.2.2, `erfccheb`), relative error about 1e-16.
pub fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    #[allow(
        clippy::excessive_precision,
        reason = "the published coefficients, digit for digit"
    )]
    const COF: [f64; 28] = [
        -1.302_653_719_781_709_4,
        6.419_697_923_564_902_6e-1,
        1.947_647_320_418_583_6e-2,
        -9.561_514_786_808_631e-3,
        -9.465_953_444_820_36e-4,
        3.668_394_978_527_61e-4,
        4.252_332_480_690_7e-5,
        -2.027_857_811_253_4e-5,
        -1.624_290_004_647e-6,
        1.303_655_835_580e-6,
        1.562_644_172_2e-8,
        -8.523_809_591_5e-8,
        6.529_054_439e-9,
        5.059_343_495e-9,
        -9.913_641_56e-10,
        -2.273_651_22e-10,
        9.646_791_1e-11,
        2.394_038e-12,
        -6.886_027e-12,
        8.944_87e-13,
        3.130_92e-13,
        -1.127_08e-13,
        3.81e-16,
        7.106e-15,
        -1.523e-15,
        -9.4e-17,
        1.21e-16,
        -2.8e-17,
    ];
    let t = 2.0 / (2.0 + x);
    let ty = 4.0 * t - 2.0;
    let (mut d, mut dd) = (0.0, 0.0);
    for c in COF[1..].iter().rev() {
        let tmp = d;
        d = ty * d - dd + c;
        dd = tmp;
    }
    t * (-x * x + 0.5 * (COF[0] + ty * d) - dd).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn wilson_matches_published_examples() {
        // Newcombe (1998), table I: 81/263 → 0.2553–0.3662.
        let i = wilson(81, 263);
        close(i.low, 0.2553, 5e-5);
        close(i.high, 0.3662, 5e-5);
        // 0/10 → 0–0.2775.
        let i = wilson(0, 10);
        close(i.low, 0.0, 1e-12);
        close(i.high, 0.2775, 5e-5);
    }

    #[test]
    fn newcombe_matches_the_paper() {
        // Newcombe (1998), table II example (a): 56/70 − 48/80 → 0.0524 to 0.3339.
        let d = newcombe(wilson(56, 70), wilson(48, 80));
        close(d.estimate, 0.2, 1e-12);
        close(d.low, 0.0524, 5e-5);
        close(d.high, 0.3339, 5e-5);
    }

    #[test]
    fn tests_match_reference_values() {
        close(erfc(0.0), 1.0, 1e-15);
        close(erfc(1.0), 0.157_299_207_050_285_13, 1e-15);
        close(erfc(3.0), 2.209_049_699_858_544e-5, 1e-19);
        // Fisher's tea-tasting table 3/4 vs 1/4: p = 0.4857.
        close(fisher(3, 4, 1, 4), 0.485_714_285_714_285_7, 1e-9);
        let t = test(300, 1000, 250, 1000);
        assert_eq!(t.method, "two_proportion_z");
        close(t.statistic.expect("z"), 2.503_915_429_180_671, 1e-12);
        close(t.p_value, 0.012_282_738_972_377_413, 1e-12);
        assert_eq!(test(1, 20, 5, 20).method, "fisher_exact");
    }
}
