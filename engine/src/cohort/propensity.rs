//! The propensity model (issue 18): logistic regression of participation
//! on the covariates, fitted by iteratively reweighted least squares
//! (Newton's method on the log-likelihood), with a tiny ridge penalty so
//! that separated data still converge to finite estimates.
//!
//! The columns are centred and scaled before fitting and the coefficients
//! transformed back, so the ridge is the same for every covariate whatever
//! its unit; [`RIDGE`] is small enough that, on data without separation,
//! the estimates agree with an unpenalised fit (statsmodels' `Logit`, in
//! `tests/e2e/propensity_check.py`) to about 1e-8.

/// The ridge penalty on the standardised coefficients (not the intercept):
/// the log-likelihood minus `RIDGE / 2 · |β|²`.
pub const RIDGE: f64 = 1e-6;

/// Newton steps before giving up.
pub const MAX_ITERATIONS: u32 = 100;

/// Converged when no standardised coefficient moves by more than this.
const TOLERANCE: f64 = 1e-10;

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// The intercept, then one per column, on the columns' own scale.
    pub coefficients: Vec<f64>,
    /// Standard errors from the inverse of the information matrix (same order).
    pub standard_errors: Vec<f64>,
    pub iterations: u32,
    pub converged: bool,
}

impl Fit {
    /// The linear predictor (the logit of the score) of one row.
    pub fn logit(&self, row: &[f64]) -> f64 {
        self.coefficients[0]
            + row
                .iter()
                .zip(&self.coefficients[1..])
                .map(|(x, b)| x * b)
                .sum::<f64>()
    }
}

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Fits `y ~ 1 + x` by IRLS. `x` holds one row per person (all of the
/// same width). An intercept-only model when the rows are empty of columns.
#[allow(
    clippy::needless_range_loop,
    reason = "dense matrix arithmetic reads clearest by index"
)]
pub fn fit(x: &[Vec<f64>], y: &[bool]) -> Fit {
    assert_eq!(x.len(), y.len(), "one outcome per row");
    let n = x.len();
    let p = x.first().map_or(0, Vec::len);
    // Centre and scale each column (a constant column keeps scale 1).
    let mut centre = vec![0.0; p];
    let mut scale = vec![1.0; p];
    for j in 0..p {
        let mean = x.iter().map(|r| r[j]).sum::<f64>() / n.max(1) as f64;
        let var = x.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n.max(1) as f64;
        centre[j] = mean;
        if var > 0.0 {
            scale[j] = var.sqrt();
        }
    }
    let z = |i: usize, j: usize| -> f64 {
        if j == 0 {
            1.0
        } else {
            (x[i][j - 1] - centre[j - 1]) / scale[j - 1]
        }
    };
    let k = p + 1;
    let mut beta = vec![0.0; k];
    let mut iterations = 0;
    let mut converged = false;
    let mut information = vec![vec![0.0; k]; k];
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        // Gradient and information (X'WX) of the penalised log-likelihood.
        let mut gradient = vec![0.0; k];
        for row in information.iter_mut() {
            row.iter_mut().for_each(|v| *v = 0.0);
        }
        for i in 0..n {
            let eta: f64 = (0..k).map(|j| z(i, j) * beta[j]).sum();
            let mu = sigmoid(eta);
            let w = mu * (1.0 - mu);
            let r = f64::from(u8::from(y[i])) - mu;
            for a in 0..k {
                let za = z(i, a);
                gradient[a] += za * r;
                for b in 0..=a {
                    information[a][b] += za * z(i, b) * w;
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                information[b][a] = information[a][b];
            }
            if a > 0 {
                gradient[a] -= RIDGE * beta[a];
                information[a][a] += RIDGE;
            }
        }
        let Some(step) = solve(&information, &gradient) else {
            break;
        };
        let largest = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
        }
        if !largest.is_finite() {
            break;
        }
        if largest < TOLERANCE {
            converged = true;
            break;
        }
    }
    // Standard errors: the diagonal of the inverse information, on the
    // standardised scale, then back.
    let inverse_diag: Vec<f64> = (0..k)
        .map(|j| {
            let mut e = vec![0.0; k];
            e[j] = 1.0;
            solve(&information, &e).map_or(f64::NAN, |v| v[j])
        })
        .collect();
    let mut coefficients = vec![0.0; k];
    let mut standard_errors = vec![0.0; k];
    coefficients[0] = beta[0];
    for j in 1..k {
        coefficients[j] = beta[j] / scale[j - 1];
        coefficients[0] -= coefficients[j] * centre[j - 1];
        standard_errors[j] = inverse_diag[j].sqrt() / scale[j - 1];
    }
    // The intercept's variance on the original scale: c' Σ c with
    // c = (1, -centre/scale), Σ the standardised covariance.
    let c: Vec<f64> = (0..k)
        .map(|j| {
            if j == 0 {
                1.0
            } else {
                -centre[j - 1] / scale[j - 1]
            }
        })
        .collect();
    let sigma_c: Option<Vec<f64>> = {
        // Σ c = information⁻¹ c.
        solve(&information, &c)
    };
    standard_errors[0] = sigma_c.map_or(f64::NAN, |s| {
        c.iter().zip(&s).map(|(a, b)| a * b).sum::<f64>().sqrt()
    });
    Fit {
        coefficients,
        standard_errors,
        iterations,
        converged,
    }
}

/// Solves `a · x = b` for a symmetric positive definite `a` by Cholesky;
/// `None` when `a` is not (numerically) positive definite.
#[allow(
    clippy::needless_range_loop,
    reason = "dense matrix arithmetic reads clearest by index"
)]
fn solve(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let k = b.len();
    let mut l = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (0..j).map(|m| l[i][m] * l[j][m]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d.is_nan() || d <= 0.0 {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    let mut y = vec![0.0; k];
    for i in 0..k {
        let s: f64 = (0..i).map(|m| l[i][m] * y[m]).sum();
        y[i] = (b[i] - s) / l[i][i];
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let s: f64 = (i + 1..k).map(|m| l[m][i] * x[m]).sum();
        x[i] = (y[i] - s) / l[i][i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs().max(1.0), "{a} vs {b}");
    }

    /// Grouped data with a closed-form maximum: one binary covariate, the
    /// fitted probabilities equal the group shares, so the intercept is
    /// logit(3/10) and the slope logit(6/10) − logit(3/10); the standard
    /// error of the slope is √(1/3 + 1/7 + 1/6 + 1/4).
    #[test]
    fn a_binary_covariate_gives_the_log_odds_ratio() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for (group, yes, no) in [(0.0, 3, 7), (1.0, 6, 4)] {
            for i in 0..yes + no {
                x.push(vec![group]);
                y.push(i < yes);
            }
        }
        let f = fit(&x, &y);
        assert!(f.converged, "{f:?}");
        let logit = |p: f64| (p / (1.0 - p)).ln();
        close(f.coefficients[0], logit(0.3), 1e-6);
        close(f.coefficients[1], logit(0.6) - logit(0.3), 1e-6);
        close(
            f.standard_errors[1],
            (1.0 / 3.0 + 1.0 / 7.0 + 1.0 / 6.0 + 1.0 / 4.0_f64).sqrt(),
            1e-6,
        );
        close(
            f.standard_errors[0],
            (1.0 / 3.0 + 1.0 / 7.0_f64).sqrt(),
            1e-6,
        );
    }

    /// At the maximum the score equations hold whatever the data (up to
    /// the tiny ridge): Σ (y − μ) = 0 and Σ x (y − μ) = 0.
    #[test]
    fn the_score_equations_hold_at_the_fit() {
        let x: Vec<Vec<f64>> = (0..200)
            .map(|i| {
                let a = f64::from(i % 37) * 1.7 + 20.0;
                let b = f64::from((i * 7) % 11);
                vec![a, b, f64::from(u8::from(i % 3 == 0))]
            })
            .collect();
        let y: Vec<bool> = (0..200)
            .map(|i| (i * 31 + (i % 37) * 5) % 100 < 30 + (i % 11) * 3)
            .collect();
        let f = fit(&x, &y);
        assert!(f.converged && f.iterations < 20, "{f:?}");
        for j in 0..4 {
            let s: f64 = x
                .iter()
                .zip(&y)
                .map(|(r, &yy)| {
                    let xj = if j == 0 { 1.0 } else { r[j - 1] };
                    xj * (f64::from(u8::from(yy)) - sigmoid(f.logit(r)))
                })
                .sum();
            assert!(s.abs() < 1e-4, "score equation {j}: {s}");
        }
    }

    /// Complete separation: the ridge keeps the estimates finite and the
    /// fit says it converged (or not) rather than looping.
    #[test]
    fn separated_data_stay_finite() {
        let x: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(i)]).collect();
        let y: Vec<bool> = (0..40).map(|i| i >= 20).collect();
        let f = fit(&x, &y);
        assert!(f.coefficients.iter().all(|c| c.is_finite()), "{f:?}");
        assert!(f.iterations <= MAX_ITERATIONS);
        assert!(sigmoid(f.logit(&[39.0])) > 0.99 && sigmoid(f.logit(&[0.0])) < 0.01);
    }

    #[test]
    fn an_intercept_only_model_gives_the_share() {
        let x: Vec<Vec<f64>> = vec![vec![]; 10];
        let y: Vec<bool> = (0..10).map(|i| i < 2).collect();
        let f = fit(&x, &y);
        close(sigmoid(f.coefficients[0]), 0.2, 1e-9);
        assert!(f.converged);
    }
}
