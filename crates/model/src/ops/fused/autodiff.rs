//! [`FusedOps`] under autodiff (over burn-flex): the forward kernel, and a backward step that
//! runs the matching backward kernel in one pass.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Flex};

use super::FusedOps;
use super::flex::{contiguous, last_dim, new_like, rms_norm_with_inv, values, vector};
use super::kernels;

/// Backward of a one-input fused op. State: the GELU's input, or the softmax's output.
#[derive(Debug)]
enum UnaryBackward {
    Gelu,
    Softmax,
}

impl Backward<Flex, 1> for UnaryBackward {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        if let [Some(parent)] = ops.parents {
            let saved = ops.state;
            let dx = new_like(&saved, |out| match self {
                Self::Gelu => kernels::gelu_backward(values(&saved), values(&grad), out),
                Self::Softmax => {
                    let n = last_dim(&saved);
                    kernels::softmax_backward(values(&saved), values(&grad), out, n)
                }
            });
            grads.register::<Flex>(parent.id, dx);
        }
    }
}

/// Backward of the RMS norm; state: input, weight, each row's `1/rms`.
#[derive(Debug)]
struct RmsNormBackward;

impl Backward<Flex, 2> for RmsNormBackward {
    type State = (FlexTensor, FlexTensor, Vec<f32>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        let (x, weight, inv) = ops.state;
        let [x_parent, w_parent] = ops.parents;
        if x_parent.is_none() && w_parent.is_none() {
            return;
        }
        let mut gw = Vec::new();
        let gx = new_like(&x, |out| {
            gw = kernels::rms_norm_backward(values(&x), values(&weight), &inv, values(&grad), out);
        });
        if let Some(p) = x_parent {
            grads.register::<Flex>(p.id, gx);
        }
        if let Some(p) = w_parent {
            grads.register::<Flex>(p.id, vector(gw));
        }
    }
}

impl<C: CheckpointStrategy> FusedOps for Autodiff<Flex, C> {
    fn fused_gelu_tanh(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let node = x.node();
        let input = contiguous(x.into_primitive());
        let out = Flex::fused_gelu_tanh(input.clone());
        match UnaryBackward::Gelu
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(input, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    fn fused_softmax_last(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let node = x.node();
        let out = Flex::fused_softmax_last(x.into_primitive());
        match UnaryBackward::Softmax
            .prepare::<C>([node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(out.clone(), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    fn fused_rms_norm(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        eps: f64,
    ) -> FloatTensor<Self> {
        let nodes = [x.node(), weight.node()];
        let weight = contiguous(weight.into_primitive());
        let (out, x, inv) = rms_norm_with_inv(x.into_primitive(), weight.clone(), eps);
        match RmsNormBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, weight, inv), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}
