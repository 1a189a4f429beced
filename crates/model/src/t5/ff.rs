//! The feed-forward sublayer (`T5LayerFF`): pre-norm, gated-GELU (v1.1) or ReLU (v1.0) MLP,
//! dropout on the branch, residual add.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;

use super::config::{FeedForwardProj, T5Config};
use super::init::{InitStd, linear};
use super::norm::T5LayerNorm;

/// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`: the tanh GELU (HF `gelu_new`), not the erf one.
///
/// # Shapes
/// - x: any
/// - output: same as `x`
pub fn gelu_tanh<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
    let cube = x.clone() * x.clone() * x.clone();
    let inner = (x.clone() + cube * 0.044715) * SQRT_2_OVER_PI;
    x * (inner.tanh() + 1.0) * 0.5
}

/// The MLP (`DenseReluDense`); field names are the Hugging Face ones.
#[derive(Module, Debug)]
pub struct T5DenseReluDense<B: Backend> {
    /// v1.0 input projection `d_model → d_ff` (ReLU); `None` for gated-GELU.
    pub wi: Option<Linear<B>>,
    /// v1.1 gate projection `d_model → d_ff` (through GELU); `None` for ReLU.
    pub wi_0: Option<Linear<B>>,
    /// v1.1 linear projection `d_model → d_ff`; `None` for ReLU.
    pub wi_1: Option<Linear<B>>,
    /// Output projection `d_ff → d_model`.
    pub wo: Linear<B>,
    /// Dropout after the activation / gating.
    pub dropout: Dropout,
}

impl<B: Backend> T5DenseReluDense<B> {
    /// Randomly initialised MLP.
    pub fn new(config: &T5Config, device: &B::Device) -> Self {
        let std = InitStd::of(config);
        let (d, f) = (config.d_model, config.d_ff);
        let (wi, wi_0, wi_1) = match config.feed_forward_proj {
            FeedForwardProj::GatedGelu => (
                None,
                Some(linear(d, f, std.wi, device)),
                Some(linear(d, f, std.wi, device)),
            ),
            FeedForwardProj::Relu => (Some(linear(d, f, std.wi, device)), None, None),
        };
        Self {
            wi,
            wi_0,
            wi_1,
            wo: linear(f, d, std.wo, device),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
        }
    }

    /// # Shapes
    /// - x: `[B, T, d_model]`
    /// - output: `[B, T, d_model]`
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let h = match (&self.wi, &self.wi_0, &self.wi_1) {
            (_, Some(wi_0), Some(wi_1)) => gelu_tanh(wi_0.forward(x.clone())) * wi_1.forward(x),
            (Some(wi), _, _) => relu(wi.forward(x)),
            _ => unreachable!("T5DenseReluDense is built with either wi or wi_0 and wi_1"),
        };
        self.wo.forward(self.dropout.forward(h))
    }
}

/// `layer.{1|2}` of a block: `x + Dropout(MLP(RMSNorm(x)))`.
#[derive(Module, Debug)]
pub struct T5LayerFF<B: Backend> {
    /// The MLP (`DenseReluDense`).
    pub dense_relu_dense: T5DenseReluDense<B>,
    /// Pre-norm (`layer_norm`).
    pub layer_norm: T5LayerNorm<B>,
    /// Dropout on the branch output.
    pub dropout: Dropout,
}

impl<B: Backend> T5LayerFF<B> {
    /// Randomly initialised sublayer.
    pub fn new(config: &T5Config, device: &B::Device) -> Self {
        Self {
            dense_relu_dense: T5DenseReluDense::new(config, device),
            layer_norm: T5LayerNorm::new(config.d_model, config.layer_norm_epsilon, device),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
        }
    }

    /// # Shapes
    /// - x: `[B, T, d_model]`
    /// - output: `[B, T, d_model]`
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let h = self
            .dense_relu_dense
            .forward(self.layer_norm.forward(x.clone()));
        x + self.dropout.forward(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;
    use burn::tensor::activation::gelu;

    #[test]
    fn gelu_tanh_reference_values() {
        let device = Default::default();
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
        let x = Tensor::<Flex, 1>::from_data(TensorData::from(xs), &device);
        let y = gelu_tanh(x.clone()).into_data().to_vec::<f32>().unwrap();
        for (i, (a, b)) in y.iter().zip(want).enumerate() {
            assert!((*a as f64 - b).abs() < 2e-6, "x={} got {a} want {b}", xs[i]);
        }
        // and it is not the erf GELU (which differs by 4e-4 at x = 3).
        let erf = gelu(x).into_data().to_vec::<f32>().unwrap();
        assert!((erf[7] - y[7]).abs() > 3e-4);
    }

    #[test]
    fn gated_and_relu_shapes() {
        let device = Default::default();
        let x = Tensor::<Flex, 3>::ones([2, 3, 8], &device);
        for proj in [FeedForwardProj::GatedGelu, FeedForwardProj::Relu] {
            let c = T5Config::new(10)
                .with_d_model(8)
                .with_d_ff(16)
                .with_feed_forward_proj(proj);
            let ff = T5LayerFF::<Flex>::new(&c, &device);
            assert_eq!(ff.forward(x.clone()).dims(), [2, 3, 8]);
            let gated = proj == FeedForwardProj::GatedGelu;
            assert_eq!(ff.dense_relu_dense.wi_0.is_some(), gated);
            assert_eq!(ff.dense_relu_dense.wi.is_some(), !gated);
        }
    }
}
