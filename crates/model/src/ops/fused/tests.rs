//! The fused operations against their burn-operation compositions: outputs and gradients, on
//! burn-flex with autodiff, for contiguous and strided inputs.

use super::*;
use burn::module::Param;
use burn::tensor::{Distribution, Tolerance};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Deterministic pseudo-random values in `[-scale, scale)` (the device RNG is shared by tests
/// running in parallel, so seeding it would not make two draws equal).
fn values(dims: [usize; 3], scale: f32, seed: u64) -> Tensor<3> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = dims.iter().product::<usize>();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
    Tensor::<1>::from_floats(v.as_slice(), &dev()).reshape(dims)
}

fn dev() -> Device {
    Device::flex().autodiff()
}

fn tol() -> Tolerance<f32> {
    Tolerance::rel_abs(1e-5, 2e-6)
}

/// Input and its gradient under `f` of a tracked random input (scaled to `scale`), with a random
/// probe so every output element weighs differently; `strided` feeds a transposed view.
fn run(f: impl Fn(Tensor<3>) -> Tensor<3>, scale: f64, strided: bool) -> (Tensor<3>, Tensor<3>) {
    let x = values([3, 9, 16], scale as f32, 7);
    let x = Param::from_tensor(x).val();
    let input = if strided {
        x.clone().swap_dims(1, 2)
    } else {
        x.clone()
    };
    let y = f(input);
    let probe = values(y.dims(), 1.0, 11);
    let grads = (y.clone() * probe).sum().backward();
    (y, x.grad(&grads).expect("input gradient"))
}

#[test]
fn fused_path_is_taken_on_flex_f32_only() {
    let x = Tensor::<1>::zeros([2], &Device::flex());
    assert!(fused(&x));
    assert!(fused(&Tensor::<1>::zeros([2], &dev())));
    assert!(!fused(&x.cast(DType::F64)));
}

/// Outputs and input gradients of `fused` and `composed` agree, for contiguous and strided inputs.
fn assert_same(
    fused: fn(Tensor<3>) -> Tensor<3>,
    composed: fn(Tensor<3>) -> Tensor<3>,
    scale: f64,
) {
    for strided in [false, true] {
        let (y, g) = run(fused, scale, strided);
        let (y0, g0) = run(composed, scale, strided);
        y.into_data()
            .assert_approx_eq::<f32>(&y0.into_data(), tol());
        g.into_data()
            .assert_approx_eq::<f32>(&g0.into_data(), tol());
    }
}

#[test]
fn gelu_tanh_matches_composed_outputs_and_gradients() {
    assert_same(gelu_tanh, gelu_tanh_composed, 3.0);
}

#[test]
fn softmax_last_matches_burn_softmax_outputs_and_gradients() {
    assert_same(softmax_last, |x| burn_softmax(x, 2), 4.0);
}

#[test]
fn softmax_of_masked_rows_is_finite() {
    let x = Tensor::<2>::from_floats([[f32::MIN, f32::MIN], [0.0, f32::MIN]], &Device::flex());
    let y = softmax_last(x).into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(y, vec![0.5, 0.5, 1.0, 0.0]);
}

#[test]
fn rms_norm_matches_composed_outputs_and_both_gradients() {
    let weight = || {
        let w = values([1, 1, 16], 0.5, 3).reshape([16]) + 1.0;
        Param::from_tensor(w)
    };
    let case = |fused: bool| {
        let w = weight();
        let (x, gw) = {
            let w_val = w.val();
            let (y, gx) = run(
                |x| {
                    let x = x.swap_dims(1, 2).swap_dims(1, 2);
                    if fused {
                        rms_norm(x, w_val.clone(), 1e-6)
                    } else {
                        rms_norm_composed(x, w_val.clone(), 1e-6)
                    }
                },
                2.0,
                false,
            );
            (y, gx)
        };
        (x, gw)
    };
    let (y, gx) = case(true);
    let (y0, gx0) = case(false);
    y.into_data()
        .assert_approx_eq::<f32>(&y0.into_data(), tol());
    gx.into_data()
        .assert_approx_eq::<f32>(&gx0.into_data(), tol());

    // The weight's gradient: one tracked weight through both formulations.
    let w = weight();
    let x = values([3, 9, 16], 2.0, 5);
    let probe = values([3, 9, 16], 1.0, 13);
    let g = |y: Tensor<3>| {
        let grads = (y * probe.clone()).sum().backward();
        w.val().grad(&grads).expect("weight gradient")
    };
    let gw = g(rms_norm(x.clone(), w.val(), 1e-6));
    let gw0 = g(rms_norm_composed(x, w.val(), 1e-6));
    gw.into_data()
        .assert_approx_eq::<f32>(&gw0.into_data(), Tolerance::rel_abs(1e-4, 1e-5));
}

#[test]
fn without_autodiff_the_fused_ops_run_on_flex() {
    let x = Tensor::<2>::random([4, 8], Distribution::Normal(0.0, 1.0), &Device::flex());
    let w = Tensor::<1>::ones([8], &Device::flex());
    gelu_tanh(x.clone())
        .into_data()
        .assert_approx_eq::<f32>(&gelu_tanh_composed(x.clone()).into_data(), tol());
    rms_norm(x.clone(), w.clone(), 1e-6)
        .into_data()
        .assert_approx_eq::<f32>(&rms_norm_composed(x, w, 1e-6).into_data(), tol());
}
