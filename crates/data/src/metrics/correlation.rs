//! Correlations: Pearson, Spearman (average ranks), and GUANinE's reporting protocol on top of
//! Spearman (NaN fill, ρ × 100 rounded half-to-even, jitter for tied predictions).

use super::classify::check_pairs;
use super::rank::average_ranks;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Whether every value equals the first one exactly (scipy's constant-input test).
fn is_constant(x: &[f64]) -> bool {
    x.iter().all(|&v| v == x[0])
}

/// Pearson's r, as `scipy.stats.pearsonr(x, y).statistic`: the centred cross product over the
/// product of the centred norms, clipped to [-1, 1]. NaN for fewer than two points (scipy raises
/// there), a constant vector, or any NaN.
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    check_pairs("pearson", x.len(), y.len());
    let n = x.len();
    if n < 2 || is_constant(x) || is_constant(y) {
        return f64::NAN;
    }
    if n == 2 {
        // As scipy: two distinct points are perfectly (anti-)correlated.
        return ((x[1] - x[0]).signum() * (y[1] - y[0]).signum()).clamp(-1.0, 1.0);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let product = sxx * syy;
    let denom = if product.is_finite() {
        product.sqrt()
    } else {
        // Huge values: take the roots first rather than overflow.
        sxx.sqrt() * syy.sqrt()
    };
    let r = sxy / denom;
    // `clamp` keeps NaN (from NaN or infinite input) as NaN.
    r.clamp(-1.0, 1.0)
}

/// Spearman's ρ, as `scipy.stats.spearmanr(x, y).statistic`: Pearson's r of the average ranks
/// ([`average_ranks`]). NaN for fewer than two points, a constant vector, or any NaN.
///
/// # Panics
/// If `x` and `y` differ in length.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    check_pairs("spearman", x.len(), y.len());
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Rounds `x` to `decimals` decimal places exactly as `numpy.round(x, decimals)`: scale by
/// 10^decimals, round half to even on the binary value, scale back.
pub fn np_round(x: f64, decimals: i32) -> f64 {
    if decimals >= 0 {
        let f = 10f64.powi(decimals);
        (x * f).round_ties_even() / f
    } else {
        let f = 10f64.powi(-decimals);
        (x / f).round_ties_even() * f
    }
}

/// A copy of `pred` with every NaN replaced by the mean of the non-NaN values (GUANinE scoring,
/// step 4, as `np.nanmean`). All-NaN input is returned unchanged.
pub fn fill_nan_with_mean(pred: &[f64]) -> Vec<f64> {
    let (sum, count) = pred
        .iter()
        .filter(|v| !v.is_nan())
        .fold((0.0, 0usize), |(s, c), &v| (s + v, c + 1));
    if count == 0 || count == pred.len() {
        return pred.to_vec();
    }
    let mean = sum / count as f64;
    pred.iter()
        .map(|&v| if v.is_nan() { mean } else { v })
        .collect()
}

/// GUANinE's reported score: NaN predictions replaced by the mean of the others
/// ([`fill_nan_with_mean`]), then `np.round(100 · spearmanr(pred, y), 4)` (half to even, see
/// [`np_round`]). NaN when ρ is undefined (constant predictions, all NaN, fewer than two rows):
/// GUANinE reports that as NaN, never 0.
///
/// # Panics
/// If `pred` and `y` differ in length.
pub fn guanine_spearman100(pred: &[f64], y: &[f64]) -> f64 {
    check_pairs("guanine_spearman100", pred.len(), y.len());
    np_round(100.0 * spearman(&fill_nan_with_mean(pred), y), 4)
}

/// The mean of Spearman's ρ (not × 100) over `reps` draws of `pred + N(0, eps²)` i.i.d. noise,
/// GUANinE's remedy for tied predictions (docs: ε = 0.01, 30–50 repeats). NaN predictions are first
/// filled with the mean ([`fill_nan_with_mean`]), as GUANinE scores them. The noise comes from a
/// `ChaCha8Rng` seeded with `seed` through the Box–Muller transform, so a seed gives the same
/// value on every platform. NaN when `reps == 0` or ρ is undefined in some draw.
///
/// # Panics
/// If `pred` and `y` differ in length.
pub fn jittered_spearman(pred: &[f64], y: &[f64], eps: f64, reps: usize, seed: u64) -> f64 {
    check_pairs("jittered_spearman", pred.len(), y.len());
    if reps == 0 {
        return f64::NAN;
    }
    let base = fill_nan_with_mean(pred);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normals = StandardNormals::default();
    let mut total = 0.0;
    let mut jittered = vec![0.0; base.len()];
    for _ in 0..reps {
        for (j, &p) in jittered.iter_mut().zip(&base) {
            *j = p + eps * normals.next(&mut rng);
        }
        total += spearman(&jittered, y);
    }
    total / reps as f64
}

/// Standard normal draws by the Box–Muller transform, using both values of each pair.
#[derive(Default)]
struct StandardNormals {
    spare: Option<f64>,
}

impl StandardNormals {
    fn next(&mut self, rng: &mut impl Rng) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1 = 1.0 - rng.random::<f64>();
        let u2 = rng.random::<f64>();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        self.spare = Some(radius * angle.sin());
        radius * angle.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_by_hand_and_nan_cases() {
        // Centred: x [-1, 0, 1], y mean 25/6; Sxy = 4.5, Sxx = 2, Syy = 61/6 → r = 4.5·√(3/61).
        let r = 4.5 * (3.0f64 / 61.0).sqrt();
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5]) - r).abs() < 1e-15);
        assert_eq!(pearson(&[1.0, 2.0], &[2.0, 1.0]), -1.0);
        assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        assert!(pearson(&[1.0], &[1.0]).is_nan());
        assert!(pearson(&[], &[]).is_nan());
        assert!(pearson(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).is_nan());
        assert!(pearson(&[1.0, f64::INFINITY, 3.0], &[1.0, 2.0, 3.0]).is_nan());
    }

    #[test]
    fn pearson_survives_a_large_offset() {
        let x: Vec<f64> = (0..50).map(|i| 1e9 + (i as f64) * 1e-3).collect();
        let y: Vec<f64> = (0..50).map(|i| i as f64).collect();
        assert!((pearson(&x, &y) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn spearman_is_invariant_to_monotone_maps_and_nan_on_constant() {
        let x = [0.3, 1.2, -4.0, 7.5, 0.0, 2.2];
        let y = [1.0, 3.0, 2.0, 5.0, 4.0, 0.0];
        let cubed: Vec<f64> = x.iter().map(|v| v * v * v + 10.0).collect();
        assert_eq!(spearman(&x, &y), spearman(&cubed, &y));
        assert!(spearman(&[2.0; 6], &y).is_nan());
    }

    /// The hand-computed vectors of guanine.md §4 (independent of scipy).
    #[test]
    fn guanine_hand_vectors() {
        let cases: [(&[f64], &[f64], f64, f64); 4] = [
            (
                &[0.1, 0.4, 0.35, 0.8, 0.2],
                &[0.0, 1.0, 1.0, 2.0, 0.0],
                3.0 / 10f64.sqrt(),
                94.8683,
            ),
            (
                &[1.0, 1.0, 2.0, 2.0, 3.0, 3.0],
                &[0.0, 1.0, 1.0, 2.0, 2.0, 4.0],
                0.8616404368553291,
                86.164,
            ),
            (
                &[0.5, 0.5, 0.5, 0.9],
                &[0.0, 1.0, 2.0, 3.0],
                0.7745966692414834,
                77.4597,
            ),
            (&[3.0, 1.0, 2.0], &[1.0, 2.0, 3.0], -0.5, -50.0),
        ];
        for (pred, y, rho, reported) in cases {
            assert!((spearman(pred, y) - rho).abs() < 1e-15, "{pred:?}");
            assert_eq!(guanine_spearman100(pred, y), reported, "{pred:?}");
        }
    }

    #[test]
    fn np_round_is_half_to_even_on_the_binary_value() {
        assert_eq!(np_round(2.5, 0), 2.0);
        assert_eq!(np_round(3.5, 0), 4.0);
        assert_eq!(np_round(-2.5, 0), -2.0);
        assert_eq!(np_round(0.125, 2), 0.12);
        assert_eq!(np_round(0.375, 2), 0.38);
        assert_eq!(np_round(1250.0, -2), 1200.0);
        assert!(np_round(f64::NAN, 4).is_nan());
    }

    #[test]
    fn nan_predictions_are_filled_with_the_mean() {
        let pred = [0.1, f64::NAN, 0.35, 0.8, 0.2];
        let filled = fill_nan_with_mean(&pred);
        assert_eq!(filled[1], (0.1 + 0.35 + 0.8 + 0.2) / 4.0);
        let y = [0.0, 1.0, 1.0, 2.0, 0.0];
        assert_eq!(
            guanine_spearman100(&pred, &y),
            np_round(100.0 * spearman(&filled, &y), 4)
        );
        assert!(guanine_spearman100(&[f64::NAN; 3], &[1.0, 2.0, 3.0]).is_nan());
        assert!(guanine_spearman100(&[0.5; 3], &[1.0, 2.0, 3.0]).is_nan());
    }

    #[test]
    fn jitter_is_seeded_and_vanishes_without_ties() {
        let pred = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.05];
        let y = [0.0, 1.0, 1.0, 2.0, 0.0, 3.0, 1.0];
        // Gaps ≥ 0.05 and ε = 1e-9: no draw can swap two predictions.
        assert_eq!(
            jittered_spearman(&pred, &y, 1e-9, 20, 7),
            spearman(&pred, &y)
        );
        let tied = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0];
        let a = jittered_spearman(&tied, &y, 0.01, 30, 42);
        assert_eq!(a, jittered_spearman(&tied, &y, 0.01, 30, 42));
        assert_ne!(a, jittered_spearman(&tied, &y, 0.01, 30, 43));
        assert!(jittered_spearman(&tied, &y, 0.01, 0, 42).is_nan());
    }

    /// With ε far below the gaps between distinct predictions, jitter only breaks ties at random,
    /// and each jittered rank has the tied group's average rank as its expectation. The covariance
    /// with the ranks of `y` is linear in those ranks, while the spread of untied ranks is the
    /// fixed spread of 1..=n, so E[ρ_jitter] = ρ_average · sd(average ranks) / sd(1..=n).
    #[test]
    fn jitter_mean_matches_its_expectation() {
        let pred: Vec<f64> = (0..40).map(|i| (i / 10) as f64).collect();
        let y: Vec<f64> = (0..40)
            .map(|i| i as f64 + ((i * 7) % 13) as f64 * 0.8)
            .collect();
        let sd = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| (x - m) * (x - m)).sum::<f64>().sqrt()
        };
        let untied: Vec<f64> = (1..=40).map(f64::from).collect();
        let expected = spearman(&pred, &y) * sd(&average_ranks(&pred)) / sd(&untied);
        let got = jittered_spearman(&pred, &y, 1e-6, 4000, 1);
        // Within-group reshuffles move ρ by about 0.01 per draw; 4000 draws → s.e. ≈ 2e-4.
        assert!((got - expected).abs() < 2e-3, "{got} vs {expected}");
        assert!(
            (got - spearman(&pred, &y)).abs() > 1e-2,
            "ties must matter here"
        );
    }

    #[test]
    fn standard_normals_have_unit_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut normals = StandardNormals::default();
        let draws: Vec<f64> = (0..20000).map(|_| normals.next(&mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.04,
            "{mean} {var}"
        );
    }
}
