//! [`T5Config`]: the hyper-parameters of a T5 encoder–decoder, and the factory of [`T5Model`].
//!
//! Field names and meanings follow Hugging Face's `T5Config` (`config.json`), so a released
//! configuration can be transcribed field by field. [`T5Preset`] is the same set of fields
//! without `vocab_size` (which comes from the tokenizer at run time): the `[t5]` table of
//! `models/t5-*.toml`.

use burn::config::Config;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::model::T5Model;

/// Which feed-forward a block uses (`feed_forward_proj` in Hugging Face configs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedForwardProj {
    /// T5 v1.1: `wo(gelu_tanh(wi_0·x) ⊙ wi_1·x)`.
    #[serde(rename = "gated-gelu")]
    GatedGelu,
    /// T5 v1.0: `wo(relu(wi·x))`.
    #[serde(rename = "relu")]
    Relu,
}

/// Hyper-parameters of a T5 (v1.1 by default) encoder–decoder.
///
/// `T5Config::new(vocab_size)` gives the `t5-tiny` shape (d_model 256, 4+4 layers, 4 heads of 64,
/// d_ff 1024, gated-GELU, untied); [`T5Config::init`] builds the model.
#[derive(Config, Debug, PartialEq)]
pub struct T5Config {
    /// Rows of the shared embedding and of the LM head (the tokenizer's vocabulary size).
    pub vocab_size: usize,
    /// Width of the residual stream.
    #[config(default = 256)]
    pub d_model: usize,
    /// Size of one attention head (independent of `d_model / num_heads`).
    #[config(default = 64)]
    pub d_kv: usize,
    /// Number of attention heads.
    #[config(default = 4)]
    pub num_heads: usize,
    /// Inner width of the feed-forward.
    #[config(default = 1024)]
    pub d_ff: usize,
    /// Encoder blocks.
    #[config(default = 4)]
    pub num_layers: usize,
    /// Decoder blocks.
    #[config(default = 4)]
    pub num_decoder_layers: usize,
    /// Relative position buckets.
    #[config(default = 32)]
    pub relative_attention_num_buckets: usize,
    /// Distance from which all relative positions share the last bucket.
    #[config(default = 128)]
    pub relative_attention_max_distance: usize,
    /// RMSNorm epsilon.
    #[config(default = 1e-6)]
    pub layer_norm_epsilon: f64,
    /// Dropout rate (embeddings, attention probabilities, feed-forward, residual branches).
    #[config(default = 0.1)]
    pub dropout_rate: f64,
    /// Share `shared.weight` with the LM head (then logits are scaled by `d_model^-0.5`).
    #[config(default = false)]
    pub tie_word_embeddings: bool,
    /// Feed-forward kind.
    #[config(default = "FeedForwardProj::GatedGelu")]
    pub feed_forward_proj: FeedForwardProj,
    /// Multiplies every initialisation standard deviation (Hugging Face `initializer_factor`).
    #[config(default = 1.0)]
    pub initializer_factor: f64,
}

impl T5Config {
    /// `num_heads · d_kv`, the width of the attention projections.
    pub fn inner_dim(&self) -> usize {
        self.num_heads * self.d_kv
    }

    /// Number of trainable parameters of the model this configuration builds.
    pub fn num_params(&self) -> usize {
        let (d, inner, f) = (self.d_model, self.inner_dim(), self.d_ff);
        let attention = 4 * d * inner;
        let ff = match self.feed_forward_proj {
            FeedForwardProj::GatedGelu => 3 * d * f,
            FeedForwardProj::Relu => 2 * d * f,
        };
        let bias_table = self.relative_attention_num_buckets * self.num_heads;
        let encoder = self.num_layers * (attention + ff + 2 * d) + bias_table + d;
        let decoder = self.num_decoder_layers * (2 * attention + ff + 3 * d) + bias_table + d;
        let embeddings = self.vocab_size * d;
        let head = if self.tie_word_embeddings {
            0
        } else {
            embeddings
        };
        embeddings + encoder + decoder + head
    }

    /// A randomly initialised model (Hugging Face `_init_weights` standard deviations).
    pub fn init(&self, device: &Device) -> T5Model {
        T5Model::new(self, device)
    }
}

/// The `[t5]` table of a model preset: every [`T5Config`] field except `vocab_size`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct T5Preset {
    /// See [`T5Config::d_model`].
    pub d_model: usize,
    /// See [`T5Config::d_kv`].
    pub d_kv: usize,
    /// See [`T5Config::num_heads`].
    pub num_heads: usize,
    /// See [`T5Config::d_ff`].
    pub d_ff: usize,
    /// See [`T5Config::num_layers`].
    pub num_layers: usize,
    /// See [`T5Config::num_decoder_layers`].
    pub num_decoder_layers: usize,
    /// See [`T5Config::relative_attention_num_buckets`].
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
    /// See [`T5Config::relative_attention_max_distance`].
    #[serde(default = "default_max_distance")]
    pub relative_attention_max_distance: usize,
    /// See [`T5Config::layer_norm_epsilon`].
    #[serde(default = "default_eps")]
    pub layer_norm_epsilon: f64,
    /// See [`T5Config::dropout_rate`].
    pub dropout_rate: f64,
    /// See [`T5Config::tie_word_embeddings`].
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// See [`T5Config::feed_forward_proj`].
    #[serde(default = "default_ff")]
    pub feed_forward_proj: FeedForwardProj,
    /// See [`T5Config::initializer_factor`].
    #[serde(default = "default_factor")]
    pub initializer_factor: f64,
}

fn default_buckets() -> usize {
    32
}
fn default_max_distance() -> usize {
    128
}
fn default_eps() -> f64 {
    1e-6
}
fn default_ff() -> FeedForwardProj {
    FeedForwardProj::GatedGelu
}
fn default_factor() -> f64 {
    1.0
}

impl T5Preset {
    /// The full configuration for a tokenizer of `vocab_size` ids.
    pub fn config(&self, vocab_size: usize) -> T5Config {
        T5Config {
            vocab_size,
            d_model: self.d_model,
            d_kv: self.d_kv,
            num_heads: self.num_heads,
            d_ff: self.d_ff,
            num_layers: self.num_layers,
            num_decoder_layers: self.num_decoder_layers,
            relative_attention_num_buckets: self.relative_attention_num_buckets,
            relative_attention_max_distance: self.relative_attention_max_distance,
            layer_norm_epsilon: self.layer_norm_epsilon,
            dropout_rate: self.dropout_rate,
            tie_word_embeddings: self.tie_word_embeddings,
            feed_forward_proj: self.feed_forward_proj,
            initializer_factor: self.initializer_factor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_t5_tiny_v1_1() {
        let c = T5Config::new(109);
        assert_eq!((c.d_model, c.d_kv, c.num_heads, c.d_ff), (256, 64, 4, 1024));
        assert_eq!((c.num_layers, c.num_decoder_layers), (4, 4));
        assert_eq!(c.relative_attention_num_buckets, 32);
        assert_eq!(c.relative_attention_max_distance, 128);
        assert_eq!(c.layer_norm_epsilon, 1e-6);
        assert_eq!(c.feed_forward_proj, FeedForwardProj::GatedGelu);
        assert!(!c.tie_word_embeddings);
        assert_eq!(c.inner_dim(), 256);
    }

    #[test]
    fn serde_round_trip_uses_hf_names() {
        let c = T5Config::new(4096)
            .with_d_model(512)
            .with_num_heads(6)
            .with_tie_word_embeddings(true)
            .with_feed_forward_proj(FeedForwardProj::Relu);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"feed_forward_proj\":\"relu\""), "{json}");
        assert!(
            json.contains("\"relative_attention_num_buckets\":32"),
            "{json}"
        );
        let back: T5Config = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn preset_fills_vocab_and_rejects_unknown_fields() {
        let json = r#"{"d_model":512,"d_kv":64,"num_heads":6,"d_ff":1024,"num_layers":8,
            "num_decoder_layers":8,"dropout_rate":0.0}"#;
        let preset: T5Preset = serde_json::from_str(json).unwrap();
        let c = preset.config(109);
        assert_eq!(c.vocab_size, 109);
        assert_eq!(c.inner_dim(), 384);
        assert_eq!(c.feed_forward_proj, FeedForwardProj::GatedGelu);
        assert_eq!(c.layer_norm_epsilon, 1e-6);
        let bad = json.replace("\"d_ff\"", "\"dff\"");
        assert!(serde_json::from_str::<T5Preset>(&bad).is_err());
    }
}
