//! Faster formulations of the CNN's layers, written in burn tensor operations (so autodiff and
//! every backend still apply). Each computes exactly the function of the burn module it replaces
//! and is tested against it, outputs and gradients.
//!
//! Why they exist (measured on burn-flex, 2 cores, GB CNN batch 64 × 253 tokens, one training
//! step): burn's `Embedding → swap_dims → Conv1d` and `BatchNorm` spend most of the step in
//! strided copies and broadcasting element-wise kernels rather than arithmetic. See
//! `README.md`, section Performance (measured on burn 0.21; `benches/cnn_ops.rs` prints the
//! table for the current burn). [`lookup`] picks the formulation of a table lookup per device
//! (gather on burn-flex, one-hot matrix product on the cubecl backends). [`fused`] is the
//! exception to "burn tensor operations": T5's GELU, softmax and RMS norm as burn backend
//! extensions with their own CPU kernels and backward passes (burn-flex only; other backends run
//! the composition).

pub mod batch_norm;
pub mod embed_conv;
pub mod fused;
pub mod lookup;

pub use batch_norm::batch_norm;
pub use embed_conv::{embedding_conv1d, embedding_conv1d_with, table_conv1d_with};
pub use lookup::{Lookup, embed, embed_weighted, embed_with};

#[cfg(test)]
mod tests {
    use crate::cnn::{Cnn, CnnConfig};
    use burn::module::{Module, ModuleVisitor, Param, ParamId};
    use burn::tensor::activation::relu;
    use burn::tensor::{Device, Distribution, Gradients, Int, Tensor, TensorData, Tolerance};

    /// The CNN through burn's modules only (what `Cnn::forward_tokens` computed before it used
    /// this module's operations).
    fn forward_modules(m: &Cnn, x: Tensor<2, Int>) -> Tensor<2> {
        let mut h = m.embedding.forward(x).swap_dims(1, 2);
        for b in &m.blocks {
            let y = b.norm.forward(b.conv.forward(h));
            h = b.pool.forward(if b.relu { relu(y) } else { y });
        }
        m.output.forward(m.hidden.forward(h.flatten(1, 2)))
    }

    /// Every parameter gradient, in visiting order.
    struct Grads<'a>(&'a Gradients, Vec<(ParamId, TensorData)>);
    impl ModuleVisitor for Grads<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = param.grad(self.0) {
                self.1.push((param.id, g.into_data()));
            }
        }
    }

    #[test]
    fn cnn_forward_tokens_matches_burn_modules_outputs_and_every_gradient() {
        let dev = Device::flex().autodiff();
        let model = CnnConfig::new(109, 83, 3).init(&dev);
        let x = Tensor::<2, Int>::random([6, 83], Distribution::Uniform(0.0, 109.0), &dev);
        // Parameters are initialised lazily: materialise them before cloning, or the clone
        // would draw its own.
        let _ = forward_modules(&model, x.clone());
        let reference = model.clone();
        let want = forward_modules(&reference, x.clone());
        let got = model.forward_tokens(x);
        let tol = Tolerance::rel_abs(1e-4, 1e-5);
        got.to_data().assert_approx_eq::<f32>(&want.to_data(), tol);

        let probe = Tensor::<2>::random([6, 3], Distribution::Normal(0.0, 1.0), &dev);
        let g_want = (want * probe.clone()).sum().backward();
        let g_got = (got * probe).sum().backward();
        let mut a = Grads(&g_got, Vec::new());
        model.visit(&mut a);
        let mut b = Grads(&g_want, Vec::new());
        reference.visit(&mut b);
        assert_eq!(
            a.1.len(),
            1 + 3 * 4 + 2 * 2,
            "embedding, 3 × (conv w, b, γ, β), 2 × linear (w, b)"
        );
        assert_eq!(a.1.len(), b.1.len());
        for ((_, ga), (_, gb)) in a.1.iter().zip(&b.1) {
            ga.assert_approx_eq::<f32>(gb, Tolerance::rel_abs(1e-3, 1e-4));
        }
    }
}
