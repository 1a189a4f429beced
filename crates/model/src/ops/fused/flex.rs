//! [`FusedOps`] on burn-flex: the [`kernels`] over contiguous `f32` storage.

use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::{Bytes, DType, Shape};

use super::FusedOps;
use super::kernels;

/// The tensor's elements, row-major (copied first if its layout is strided).
pub(super) fn contiguous(t: FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused ops take f32 tensors");
    if t.layout().contiguous_offsets().is_some() {
        t
    } else {
        t.to_contiguous()
    }
}

/// The elements of a tensor returned by [`contiguous`].
pub(super) fn values(t: &FlexTensor) -> &[f32] {
    let (start, end) = t
        .layout()
        .contiguous_offsets()
        .expect("tensor made contiguous");
    &t.storage::<f32>()[start..end]
}

/// A contiguous `f32` tensor of `shape` holding `v`.
fn tensor(v: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::new(Bytes::from_elems(v), Layout::contiguous(shape), DType::F32)
}

/// A new `f32` tensor of `like`'s shape, filled by `fill`.
pub(super) fn new_like(like: &FlexTensor, fill: impl FnOnce(&mut [f32])) -> FlexTensor {
    let shape = like.shape();
    let mut out = vec![0.0f32; shape.num_elements()];
    fill(&mut out);
    tensor(out, shape)
}

/// A 1-D `f32` tensor holding `v`.
pub(super) fn vector(v: Vec<f32>) -> FlexTensor {
    let n = v.len();
    tensor(v, [n].into())
}

/// Length of the last axis.
pub(super) fn last_dim(t: &FlexTensor) -> usize {
    let shape = t.shape();
    shape[shape.num_dims() - 1]
}

impl FusedOps for Flex {
    fn fused_gelu_tanh(x: FlexTensor) -> FlexTensor {
        let x = contiguous(x);
        new_like(&x, |out| kernels::gelu_forward(values(&x), out))
    }

    fn fused_softmax_last(x: FlexTensor) -> FlexTensor {
        let x = contiguous(x);
        let n = last_dim(&x);
        new_like(&x, |out| kernels::softmax_forward(values(&x), out, n))
    }

    fn fused_rms_norm(x: FlexTensor, weight: FlexTensor, eps: f64) -> FlexTensor {
        rms_norm_with_inv(x, weight, eps).0
    }
}

/// RMS norm forward; also returns the input made contiguous and each row's `1/rms`.
pub(super) fn rms_norm_with_inv(
    x: FlexTensor,
    weight: FlexTensor,
    eps: f64,
) -> (FlexTensor, FlexTensor, Vec<f32>) {
    let x = contiguous(x);
    let weight = contiguous(weight);
    assert_eq!(
        last_dim(&x),
        values(&weight).len(),
        "rms norm: weight length"
    );
    let mut inv = Vec::new();
    let out = new_like(&x, |out| {
        inv = kernels::rms_norm_forward(values(&x), values(&weight), eps as f32, out);
    });
    (out, x, inv)
}
