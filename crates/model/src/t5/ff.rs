//! The feed-forward sublayer (`T5LayerFF`): pre-norm, gated-GELU (v1.1) or ReLU (v1.0) MLP,
//! dropout on the branch, residual add.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::Device;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use super::config::{FeedForwardProj, T5Config};
use super::init::{InitStd, linear};
use super::norm::T5LayerNorm;

/// The tanh GELU (HF `gelu_new`), not the erf one; one fused pass on the CPU.
pub use crate::ops::fused::gelu_tanh;

/// The gated input of a v1.1 MLP: `gelu_tanh(wi_0·x) ⊙ wi_1·x`.
#[derive(Module, Debug)]
pub struct T5GatedIn {
    /// Gate projection `d_model → d_ff` (through GELU).
    pub wi_0: Linear,
    /// Linear projection `d_model → d_ff`.
    pub wi_1: Linear,
}

/// The input projection(s) of the MLP, by feed-forward kind.
// One value per block; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum T5FeedForwardIn {
    /// v1.1 gated-GELU: HF `wi_0`, `wi_1`.
    GatedGelu(T5GatedIn),
    /// v1.0 ReLU: HF `wi`.
    Relu(Linear),
}

/// The MLP (`DenseReluDense`); parameter names map to Hugging Face's `wi` / `wi_0`, `wi_1`, `wo`.
#[derive(Module, Debug)]
pub struct T5DenseReluDense {
    /// Input projection(s) `d_model → d_ff` and activation.
    pub input: T5FeedForwardIn,
    /// Output projection `d_ff → d_model`.
    pub wo: Linear,
    /// Dropout after the activation / gating.
    pub dropout: Dropout,
}

impl T5DenseReluDense {
    /// Randomly initialised MLP.
    pub fn new(config: &T5Config, device: &Device) -> Self {
        let std = InitStd::of(config);
        let (d, f) = (config.d_model, config.d_ff);
        let input = match config.feed_forward_proj {
            FeedForwardProj::GatedGelu => T5FeedForwardIn::GatedGelu(T5GatedIn {
                wi_0: linear(d, f, std.wi, device),
                wi_1: linear(d, f, std.wi, device),
            }),
            FeedForwardProj::Relu => T5FeedForwardIn::Relu(linear(d, f, std.wi, device)),
        };
        Self {
            input,
            wo: linear(f, d, std.wo, device),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
        }
    }

    /// # Shapes
    /// - x: `[B, T, d_model]`
    /// - output: `[B, T, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = match &self.input {
            T5FeedForwardIn::GatedGelu(g) => {
                gelu_tanh(g.wi_0.forward(x.clone())) * g.wi_1.forward(x)
            }
            T5FeedForwardIn::Relu(wi) => relu(wi.forward(x)),
        };
        self.wo.forward(self.dropout.forward(h))
    }
}

/// `layer.{1|2}` of a block: `x + Dropout(MLP(RMSNorm(x)))`.
#[derive(Module, Debug)]
pub struct T5LayerFF {
    /// The MLP (`DenseReluDense`).
    pub dense_relu_dense: T5DenseReluDense,
    /// Pre-norm (`layer_norm`).
    pub layer_norm: T5LayerNorm,
    /// Dropout on the branch output.
    pub dropout: Dropout,
}

impl T5LayerFF {
    /// Randomly initialised sublayer.
    pub fn new(config: &T5Config, device: &Device) -> Self {
        Self {
            dense_relu_dense: T5DenseReluDense::new(config, device),
            layer_norm: T5LayerNorm::new(config.d_model, config.layer_norm_epsilon, device),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
        }
    }

    /// # Shapes
    /// - x: `[B, T, d_model]`
    /// - output: `[B, T, d_model]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self
            .dense_relu_dense
            .forward(self.layer_norm.forward(x.clone()));
        x + self.dropout.forward(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use burn::tensor::activation::gelu;

    #[test]
    fn gelu_tanh_reference_values() {
        let device = Device::flex();
        let xs = [-3.0f32, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0];
        let want = [
            -0.0036374f64,
            -0.1588080,
            -0.1542860,
            0.0,
            0.3457140,
            0.8411920,
            1.9545977,
            2.9963626,
        ];
        let x = Tensor::<1>::from_data(TensorData::from(xs), &device);
        let y = gelu_tanh(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (i, (a, b)) in y.iter().zip(want).enumerate() {
            assert!((*a as f64 - b).abs() < 2e-6, "x={} got {a} want {b}", xs[i]);
        }
        // and it is not the erf GELU (which differs by 4e-4 at x = 3).
        let erf = gelu(x).into_data().try_to_vec::<f32>().unwrap();
        assert!((erf[7] - y[7]).abs() > 3e-4);
    }

    #[test]
    fn gated_and_relu_shapes() {
        let device = Device::flex();
        let x = Tensor::<3>::ones([2, 3, 8], &device);
        for proj in [FeedForwardProj::GatedGelu, FeedForwardProj::Relu] {
            let c = T5Config::new(10)
                .with_d_model(8)
                .with_d_ff(16)
                .with_feed_forward_proj(proj);
            let ff = T5LayerFF::new(&c, &device);
            assert_eq!(ff.forward(x.clone()).dims(), [2, 3, 8]);
            let gated = matches!(ff.dense_relu_dense.input, T5FeedForwardIn::GatedGelu(_));
            assert_eq!(gated, proj == FeedForwardProj::GatedGelu);
        }
    }
}
