//! Slice kernels of the fused operations: plain `f32` loops that LLVM vectorises (AVX2 + FMA
//! where the CPU has them, chosen at run time), split over rayon's threads for large inputs.
//!
//! burn-flex runs `exp` and `tanh` as scalar libm calls on one thread and every other element-wise
//! operation as its own pass over memory; these do each function in one pass, with an `exp` that
//! vectorises.

use rayon::prelude::*;

/// Elements per rayon task for element-wise kernels; inputs up to this size run on the caller's
/// thread.
const CHUNK: usize = 1 << 15;

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_A: f32 = 0.044_715;

/// `exp(x)`, branch-free so that loops over it vectorise (Cephes' `expf`: `x = n·ln 2 + r`, a
/// degree-6 polynomial for `exp(r)` and the exponent bits for `2ⁿ`). Relative error below
/// 2e-7 on `[-87, 88]`; below -87 it is 0 (where `expf` gives subnormals), above 88 it stays
/// `exp(88)` (no infinity). NaN stays NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer (round-half-even).
    const ROUND: f32 = 12_582_912.0;
    let underflow = x < -87.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = p * r2 + r + 1.0;
    let e = e * f32::from_bits(((n as i32 + 127) << 23) as u32);
    if underflow { 0.0 } else { e }
}

/// The tanh GELU, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, written as `x·σ(2u)`.
#[inline(always)]
fn gelu(x: f32) -> f32 {
    let u2 = 2.0 * SQRT_2_OVER_PI * x * (1.0 + GELU_A * x * x);
    x / (1.0 + exp(-u2))
}

/// Its derivative: `σ(2u) + 2·x·σ(2u)·(1 − σ(2u))·√(2/π)·(1 + 3·0.044715·x²)`.
#[inline(always)]
fn gelu_grad(x: f32) -> f32 {
    let x2 = x * x;
    let u2 = 2.0 * SQRT_2_OVER_PI * x * (1.0 + GELU_A * x2);
    let s = 1.0 / (1.0 + exp(-u2));
    s + 2.0 * SQRT_2_OVER_PI * x * s * (1.0 - s) * (1.0 + 3.0 * GELU_A * x2)
}

/// Lanes of the reductions below: eight independent accumulators, so that a sum vectorises
/// (a single `f32` accumulator is a serial dependency LLVM may not reorder).
const LANES: usize = 8;

/// `Σ a[i]·b[i]`.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ a[i]`.
#[inline(always)]
fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = a.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for x in chunks {
        for i in 0..LANES {
            acc[i] += x[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `max a[i]` (`-∞` for an empty slice).
#[inline(always)]
fn max(a: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = a.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for x in chunks {
        for i in 0..LANES {
            acc[i] = acc[i].max(x[i]);
        }
    }
    acc.iter().fold(tail, |m, &v| m.max(v))
}

/// Runs `body` compiled for AVX2 + FMA when the CPU has them, else for the baseline target.
macro_rules! multiversion {
    ($(#[$m:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$m])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features `avx2` was compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

multiversion! {
    /// `out[i] = gelu(x[i])` on one thread.
    fn gelu_serial(x: &[f32], out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = gelu(v);
        }
    }
}

multiversion! {
    /// `out[i] = grad[i] · gelu'(x[i])` on one thread.
    fn gelu_backward_serial(x: &[f32], grad: &[f32], out: &mut [f32]) {
        for ((o, &v), &g) in out.iter_mut().zip(x).zip(grad) {
            *o = g * gelu_grad(v);
        }
    }
}

/// `out[i] = gelu_tanh(x[i])`.
pub fn gelu_forward(x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len());
    out.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(o, x)| gelu_serial(x, o));
}

/// `out[i] = grad[i] · gelu_tanh'(x[i])`.
pub fn gelu_backward(x: &[f32], grad: &[f32], out: &mut [f32]) {
    assert!(x.len() == out.len() && grad.len() == out.len());
    out.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK).zip(grad.par_chunks(CHUNK)))
        .for_each(|(o, (x, g))| gelu_backward_serial(x, g, o));
}

/// Rows per rayon task for a row length `n`: about [`CHUNK`] elements.
fn rows_per_task(n: usize) -> usize {
    (CHUNK / n.max(1)).max(1)
}

multiversion! {
    /// Softmax of each row of length `n` (max subtracted first), on one thread.
    fn softmax_rows(x: &[f32], out: &mut [f32], n: usize) {
        for (xr, or) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            let max = max(xr);
            for (o, &v) in or.iter_mut().zip(xr) {
                *o = exp(v - max);
            }
            let inv = 1.0 / sum(or);
            for o in or.iter_mut() {
                *o *= inv;
            }
        }
    }
}

multiversion! {
    /// Softmax backward of each row: `dx = y ⊙ (g − Σ g ⊙ y)`, on one thread.
    fn softmax_backward_rows(y: &[f32], grad: &[f32], out: &mut [f32], n: usize) {
        for ((yr, gr), or) in y.chunks_exact(n).zip(grad.chunks_exact(n)).zip(out.chunks_exact_mut(n)) {
            let dot = dot(yr, gr);
            for ((o, &y), &g) in or.iter_mut().zip(yr).zip(gr) {
                *o = y * (g - dot);
            }
        }
    }
}

/// Softmax along rows of length `n` of the row-major `x`.
pub fn softmax_forward(x: &[f32], out: &mut [f32], n: usize) {
    assert!(x.len() == out.len() && x.len().is_multiple_of(n));
    let chunk = rows_per_task(n) * n;
    out.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk))
        .for_each(|(o, x)| softmax_rows(x, o, n));
}

/// Gradient of [`softmax_forward`] from its output `y` and the output's gradient.
pub fn softmax_backward(y: &[f32], grad: &[f32], out: &mut [f32], n: usize) {
    assert!(y.len() == out.len() && grad.len() == out.len() && y.len().is_multiple_of(n));
    let chunk = rows_per_task(n) * n;
    out.par_chunks_mut(chunk)
        .zip(y.par_chunks(chunk).zip(grad.par_chunks(chunk)))
        .for_each(|(o, (y, g))| softmax_backward_rows(y, g, o, n));
}

multiversion! {
    /// RMS norm of rows (see [`rms_norm_forward`]) on one thread; `inv[r]` receives each row's
    /// `1/√(mean(x²) + eps)`.
    fn rms_norm_rows(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32], inv: &mut [f32]) {
        let n = weight.len();
        for ((xr, or), ir) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)).zip(inv.iter_mut()) {
            let ss = dot(xr, xr);
            let r = 1.0 / (ss / n as f32 + eps).sqrt();
            *ir = r;
            for ((o, &v), &w) in or.iter_mut().zip(xr).zip(weight) {
                *o = v * r * w;
            }
        }
    }
}

multiversion! {
    /// RMS norm backward of rows on one thread: the input gradient into `gx`, the weight
    /// gradient of these rows added to `gw`.
    fn rms_norm_backward_rows(
        x: &[f32],
        weight: &[f32],
        inv: &[f32],
        grad: &[f32],
        gx: &mut [f32],
        gw: &mut [f32]
    ) {
        let n = weight.len();
        let rows = x.chunks_exact(n).zip(grad.chunks_exact(n)).zip(gx.chunks_exact_mut(n));
        for (((xr, gr), or), &r) in rows.zip(inv) {
            // Σ g·w·x, accumulated in lanes (see `dot`).
            let mut acc = [0.0f32; LANES];
            for (i, ((&v, &g), &w)) in xr.iter().zip(gr).zip(weight).enumerate() {
                acc[i % LANES] += g * w * v;
            }
            let c = r * r * r * acc.iter().sum::<f32>() / n as f32;
            for (((o, &v), &g), &w) in or.iter_mut().zip(xr).zip(gr).zip(weight) {
                *o = g * w * r - v * c;
            }
            for ((a, &v), &g) in gw.iter_mut().zip(xr).zip(gr) {
                *a += g * v * r;
            }
        }
    }
}

/// T5's RMS norm of each row of `x` (row length `weight.len()`): `y = x · w / √(mean(x²) + eps)`.
/// Returns the per-row factors `1/√(mean(x²) + eps)` for the backward pass.
pub fn rms_norm_forward(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) -> Vec<f32> {
    let n = weight.len();
    assert!(x.len() == out.len() && x.len().is_multiple_of(n));
    let rows = rows_per_task(n);
    let mut inv = vec![0.0f32; x.len() / n];
    out.par_chunks_mut(rows * n)
        .zip(x.par_chunks(rows * n))
        .zip(inv.par_chunks_mut(rows))
        .for_each(|((o, x), i)| rms_norm_rows(x, weight, eps, o, i));
    inv
}

/// Gradients of [`rms_norm_forward`]: the input's into `gx` and the weight's (summed over rows)
/// returned.
pub fn rms_norm_backward(
    x: &[f32],
    weight: &[f32],
    inv: &[f32],
    grad: &[f32],
    gx: &mut [f32],
) -> Vec<f32> {
    let n = weight.len();
    assert!(x.len() == gx.len() && grad.len() == gx.len() && inv.len() * n == x.len());
    let rows = rows_per_task(n);
    // One partial weight gradient per fixed chunk of rows, summed in chunk order: the result
    // does not depend on how rayon schedules the chunks (a fold/reduce tree would).
    let partials: Vec<Vec<f32>> = gx
        .par_chunks_mut(rows * n)
        .zip(x.par_chunks(rows * n).zip(grad.par_chunks(rows * n)))
        .zip(inv.par_chunks(rows))
        .map(|((o, (x, g)), i)| {
            let mut gw = vec![0.0f32; n];
            rms_norm_backward_rows(x, weight, i, g, o, &mut gw);
            gw
        })
        .collect();
    let mut gw = vec![0.0f32; n];
    for p in &partials {
        gw.iter_mut().zip(p).for_each(|(a, b)| *a += b);
    }
    gw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_over_the_range() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            worst = worst.max(((exp(x) as f64 - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 2e-7, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e4), 0.0);
        assert!(exp(-87.0) > 0.0);
        assert!(exp(1e4).is_finite());
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn lane_reductions_cover_chunks_and_tails() {
        for n in [0, 1, 7, 8, 19, 64, 259] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.5).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.3).sin()).collect();
            let d: f64 = a.iter().zip(&b).map(|(x, y)| (x * y) as f64).sum();
            let s: f64 = a.iter().map(|&x| x as f64).sum();
            let m = a.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            assert!((dot(&a, &b) as f64 - d).abs() < 1e-4, "n={n}");
            assert!((sum(&a) as f64 - s).abs() < 1e-4, "n={n}");
            assert_eq!(max(&a), m, "n={n}");
        }
    }

    #[test]
    fn gelu_matches_the_tanh_formula_and_its_derivative() {
        for i in -800..=800 {
            let x = i as f64 / 100.0;
            let u = 0.797_884_560_802_865_4 * (x + 0.044715 * x * x * x);
            let want = 0.5 * x * (1.0 + u.tanh());
            let got = gelu(x as f32) as f64;
            assert!(
                (got - want).abs() < 2e-6 * (1.0 + want.abs()),
                "x={x}: {got} vs {want}"
            );
            let h = 1e-4;
            let g = |x: f64| {
                let u = 0.797_884_560_802_865_4 * (x + 0.044715 * x * x * x);
                0.5 * x * (1.0 + u.tanh())
            };
            let want = (g(x + h) - g(x - h)) / (2.0 * h);
            let got = gelu_grad(x as f32) as f64;
            assert!((got - want).abs() < 1e-5, "x={x}: {got} vs {want}");
        }
        assert!(gelu(-100.0).abs() < 1e-30);
        assert_eq!(gelu(100.0), 100.0);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_backward_matches_finite_differences() {
        let n = 7;
        let x: Vec<f32> = (0..3 * n)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.7)
            .collect();
        let mut y = vec![0.0; x.len()];
        softmax_forward(&x, &mut y, n);
        for r in y.chunks(n) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        let g: Vec<f32> = (0..x.len()).map(|i| (i as f32 * 0.31).sin()).collect();
        let mut dx = vec![0.0; x.len()];
        softmax_backward(&y, &g, &mut dx, n);
        let loss = |x: &[f32]| {
            let mut y = vec![0.0; x.len()];
            softmax_forward(x, &mut y, n);
            y.iter().zip(&g).map(|(a, b)| (a * b) as f64).sum::<f64>()
        };
        for i in 0..x.len() {
            let (mut a, mut b) = (x.clone(), x.clone());
            a[i] += 1e-2;
            b[i] -= 1e-2;
            let fd = (loss(&a) - loss(&b)) / 2e-2;
            assert!((fd - dx[i] as f64).abs() < 1e-3, "{i}: {fd} vs {}", dx[i]);
        }
    }

    #[test]
    fn rms_norm_weight_gradient_is_the_same_on_every_run() {
        let n = 64;
        let rows = 4 * rows_per_task(n) + 3;
        let x: Vec<f32> = (0..rows * n)
            .map(|i| ((i * 31 % 17) as f32 - 8.0) * 0.1)
            .collect();
        let g: Vec<f32> = (0..rows * n).map(|i| (i as f32 * 0.01).sin()).collect();
        let w = vec![1.0f32; n];
        let mut y = vec![0.0; x.len()];
        let inv = rms_norm_forward(&x, &w, 1e-6, &mut y);
        let mut gx = vec![0.0; x.len()];
        let first = rms_norm_backward(&x, &w, &inv, &g, &mut gx);
        for _ in 0..20 {
            let again = rms_norm_backward(&x, &w, &inv, &g, &mut gx);
            assert!(
                first
                    .iter()
                    .zip(&again)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn rms_norm_backward_matches_finite_differences() {
        let n = 5;
        let x: Vec<f32> = (0..4 * n)
            .map(|i| ((i * 13 % 7) as f32 - 3.0) * 0.4)
            .collect();
        let w: Vec<f32> = (0..n).map(|i| 0.5 + i as f32 * 0.3).collect();
        let g: Vec<f32> = (0..x.len()).map(|i| (i as f32 * 0.7).cos()).collect();
        let loss = |x: &[f32], w: &[f32]| {
            let mut y = vec![0.0; x.len()];
            rms_norm_forward(x, w, 1e-6, &mut y);
            y.iter().zip(&g).map(|(a, b)| (a * b) as f64).sum::<f64>()
        };
        let mut y = vec![0.0; x.len()];
        let inv = rms_norm_forward(&x, &w, 1e-6, &mut y);
        let mut gx = vec![0.0; x.len()];
        let gw = rms_norm_backward(&x, &w, &inv, &g, &mut gx);
        for i in 0..x.len() {
            let (mut a, mut b) = (x.clone(), x.clone());
            a[i] += 1e-2;
            b[i] -= 1e-2;
            let fd = (loss(&a, &w) - loss(&b, &w)) / 2e-2;
            assert!((fd - gx[i] as f64).abs() < 2e-3, "x{i}: {fd} vs {}", gx[i]);
        }
        for i in 0..n {
            let (mut a, mut b) = (w.clone(), w.clone());
            a[i] += 1e-2;
            b[i] -= 1e-2;
            let fd = (loss(&x, &a) - loss(&x, &b)) / 2e-2;
            assert!((fd - gw[i] as f64).abs() < 2e-3, "w{i}: {fd} vs {}", gw[i]);
        }
    }
}
