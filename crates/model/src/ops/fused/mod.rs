//! Fused element-wise and row operations of the T5 training step on the CPU: the tanh GELU,
//! softmax along the last axis and T5's RMS norm, each one pass forward and one pass backward.
//!
//! Why (perf on a t5-tiny training step, burn-flex 0.22.1, 2 cores, batch 8 × 512 → 128):
//! written in burn tensor operations, the GELU is ten element-wise passes forward (its `tanh` a
//! scalar libm call on one thread: 11–13% of the step), softmax under autodiff is decomposed
//! into max/sub/exp/sum/div (its scalar `exp` 8%), and the RMS norm is seven passes; each pass
//! allocates a fresh buffer. Here each is a burn backend extension ([`FusedOps`]) with a
//! hand-written backward for the autodiff backend, running the kernels of [`kernels`]
//! (vectorised, both cores).
//!
//! Only burn-flex with `f32` tensors takes these paths; on any other device or dtype the public
//! functions compute the same function in burn tensor operations (what the T5 modules did
//! before), so CUDA and the other backends are unchanged.

mod autodiff;
mod flex;
pub mod kernels;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::activation::softmax as burn_softmax;
use burn::tensor::{DType, Device, Tensor};

/// The fused operations as a burn backend extension: implemented for burn-flex and for autodiff
/// over burn-flex (with their backward passes).
#[backend_extension(Flex, Autodiff)]
pub trait FusedOps: Backend {
    /// Tanh GELU of every element.
    fn fused_gelu_tanh(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// Softmax along the last axis.
    fn fused_softmax_last(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// T5's RMS norm along the last axis, scaled by `weight` (`[last]`).
    fn fused_rms_norm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self>;
}

/// Whether `x` takes the fused path: an `f32` tensor on burn-flex (with or without autodiff).
fn fused<const D: usize>(x: &Tensor<D>) -> bool {
    x.dtype() == DType::F32 && x.device() == Device::flex()
}

/// The tanh approximation of GELU (`gelu_new`/`gelu_pytorch_tanh` in transformers):
/// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
///
/// # Shapes
/// - `x`: any; output: the same
pub fn gelu_tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if fused(&x) {
        return Tensor::from_dispatch(<Dispatch as FusedOps>::fused_gelu_tanh(x.into_dispatch()));
    }
    gelu_tanh_composed(x)
}

/// [`gelu_tanh`] in burn tensor operations (every backend).
pub fn gelu_tanh_composed<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
    let cube = x.clone() * x.clone() * x.clone();
    let inner = (x.clone() + cube * 0.044715) * SQRT_2_OVER_PI;
    x * (inner.tanh() + 1.0) * 0.5
}

/// Softmax along the last axis.
///
/// # Shapes
/// - `x`: `[..., n]`; output: the same, each row of `n` summing to 1
pub fn softmax_last<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if fused(&x) {
        return Tensor::from_dispatch(<Dispatch as FusedOps>::fused_softmax_last(
            x.into_dispatch(),
        ));
    }
    burn_softmax(x, D - 1)
}

/// T5's layer norm: `x · weight / √(mean(x²) + eps)` along the last axis, no mean subtracted and
/// no bias. Statistics in `f32` whatever `x`'s dtype.
///
/// # Shapes
/// - `x`: `[..., d]`
/// - `weight`: `[d]`
/// - output: `[..., d]`
pub fn rms_norm<const D: usize>(x: Tensor<D>, weight: Tensor<1>, eps: f64) -> Tensor<D> {
    if fused(&x) && weight.dtype() == DType::F32 {
        return Tensor::from_dispatch(<Dispatch as FusedOps>::fused_rms_norm(
            x.into_dispatch(),
            weight.into_dispatch(),
            eps,
        ));
    }
    rms_norm_composed(x, weight, eps)
}

/// [`rms_norm`] in burn tensor operations (every backend).
pub fn rms_norm_composed<const D: usize>(x: Tensor<D>, weight: Tensor<1>, eps: f64) -> Tensor<D> {
    let dtype = x.dtype();
    let variance = x.clone().cast(DType::F32).square().mean_dim(D - 1);
    let inv = (variance + eps).sqrt().recip().cast(dtype);
    x * inv * weight.unsqueeze()
}

#[cfg(test)]
mod tests;
