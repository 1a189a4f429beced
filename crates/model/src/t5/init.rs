//! Initialisation of T5 weights (Hugging Face `_init_weights`, t5.md §8): every weight is drawn
//! from N(0, std²) with the standard deviations below times `initializer_factor`; RMSNorm
//! weights are 1. The missing 1/√d_kv attention scaling is folded into the `q` std.

use burn::module::Initializer;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::Device;

use super::config::T5Config;

/// Standard deviation of each kind of weight for a configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InitStd {
    /// `shared` embedding and an untied `lm_head`: 1.
    pub embedding: f64,
    /// `wi`, `wi_0`, `wi_1`: `d_model^-0.5`.
    pub wi: f64,
    /// `wo`: `d_ff^-0.5`.
    pub wo: f64,
    /// `q`: `(d_model · d_kv)^-0.5`.
    pub q: f64,
    /// `k` and `v`: `d_model^-0.5`.
    pub kv: f64,
    /// `o`: `(num_heads · d_kv)^-0.5`.
    pub o: f64,
    /// `relative_attention_bias`: `d_model^-0.5`.
    pub relative_bias: f64,
}

impl InitStd {
    /// The standard deviations for `config`.
    pub fn of(config: &T5Config) -> Self {
        let f = config.initializer_factor;
        let d_model = config.d_model as f64;
        Self {
            embedding: f,
            wi: f * d_model.powf(-0.5),
            wo: f * (config.d_ff as f64).powf(-0.5),
            q: f * (d_model * config.d_kv as f64).powf(-0.5),
            kv: f * d_model.powf(-0.5),
            o: f * (config.inner_dim() as f64).powf(-0.5),
            relative_bias: f * d_model.powf(-0.5),
        }
    }
}

/// A bias-free linear layer `d_input → d_output` with N(0, std²) weights.
pub(crate) fn linear(d_input: usize, d_output: usize, std: f64, device: &Device) -> Linear {
    LinearConfig::new(d_input, d_output)
        .with_bias(false)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device)
}

/// An embedding table `[n, d]` with N(0, std²) entries.
pub(crate) fn embedding(n: usize, d: usize, std: f64, device: &Device) -> Embedding {
    EmbeddingConfig::new(n, d)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_1_small_standard_deviations() {
        let c = T5Config::new(32128)
            .with_d_model(512)
            .with_num_heads(6)
            .with_d_ff(1024);
        let s = InitStd::of(&c);
        assert_eq!(s.embedding, 1.0);
        assert!((s.wi - 512f64.powf(-0.5)).abs() < 1e-12);
        assert!((s.wo - 1.0 / 32.0).abs() < 1e-12);
        assert!((s.q - (512.0f64 * 64.0).powf(-0.5)).abs() < 1e-12);
        assert!((s.o - 384f64.powf(-0.5)).abs() < 1e-12);
        assert_eq!(s.kv, s.relative_bias);
    }
}
