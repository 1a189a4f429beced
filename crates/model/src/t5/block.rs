//! One T5 block: pre-norm self-attention, (decoder only) cross-attention, feed-forward, each
//! `x + Dropout(Sublayer(RMSNorm(x)))`.
//!
//! Hugging Face keeps the sublayers in a list (`block.{i}.layer.{0,1,2}`); here they are named
//! fields: `layer.0` = [`T5Block::self_attention`], `layer.1` = [`T5Block::cross_attention`]
//! (decoder), the last `layer` = [`T5Block::ff`].

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::Device;
use burn::tensor::{Bool, Tensor};

use super::attention::T5Attention;
use super::config::T5Config;
use super::ff::T5LayerFF;
use super::norm::T5LayerNorm;

/// Encoder states and their key padding mask, attended to by decoder blocks.
#[derive(Debug, Clone)]
pub struct EncoderContext {
    /// `[B, S, d_model]`.
    pub states: Tensor<3>,
    /// `[B, 1, 1, S]`, true where an encoder position is padding.
    pub mask: Option<Tensor<4, Bool>>,
}

/// `layer.0`: `x + Dropout(SelfAttention(layer_norm(x)))`.
#[derive(Module, Debug)]
pub struct T5LayerSelfAttention {
    /// HF `SelfAttention`.
    pub attention: T5Attention,
    /// HF `layer_norm`.
    pub layer_norm: T5LayerNorm,
    /// Dropout on the branch output.
    pub dropout: Dropout,
}

impl T5LayerSelfAttention {
    fn new(config: &T5Config, is_decoder: bool, has_bias: bool, device: &Device) -> Self {
        Self {
            attention: T5Attention::new(config, is_decoder, has_bias, device),
            layer_norm: T5LayerNorm::new(config.d_model, config.layer_norm_epsilon, device),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
        }
    }

    /// # Shapes
    /// - x: `[B, T, d_model]`; position_bias `[1, H, T, T]`; mask `[1 or B, 1, T, T]`
    /// - output: `[B, T, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        position_bias: Option<Tensor<4>>,
        mask: Option<Tensor<4, Bool>>,
    ) -> Tensor<3> {
        let h = self.layer_norm.forward(x.clone());
        x + self
            .dropout
            .forward(self.attention.forward(h, None, position_bias, mask))
    }
}

/// `layer.1` of a decoder block: `x + Dropout(EncDecAttention(layer_norm(x), enc))`, no position
/// bias.
#[derive(Module, Debug)]
pub struct T5LayerCrossAttention {
    /// HF `EncDecAttention`.
    pub attention: T5Attention,
    /// HF `layer_norm`.
    pub layer_norm: T5LayerNorm,
    /// Dropout on the branch output.
    pub dropout: Dropout,
}

impl T5LayerCrossAttention {
    fn new(config: &T5Config, device: &Device) -> Self {
        Self {
            attention: T5Attention::new(config, true, false, device),
            layer_norm: T5LayerNorm::new(config.d_model, config.layer_norm_epsilon, device),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
        }
    }

    /// # Shapes
    /// - x: `[B, T, d_model]`; encoder: `[B, S, d_model]`; mask `[B, 1, 1, S]`
    /// - output: `[B, T, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        encoder: Tensor<3>,
        mask: Option<Tensor<4, Bool>>,
    ) -> Tensor<3> {
        let h = self.layer_norm.forward(x.clone());
        x + self
            .dropout
            .forward(self.attention.forward(h, Some(encoder), None, mask))
    }
}

/// One encoder or decoder block.
#[derive(Module, Debug)]
pub struct T5Block {
    /// HF `layer.0`.
    pub self_attention: T5LayerSelfAttention,
    /// HF `layer.1` in decoder blocks, `None` in encoder blocks.
    pub cross_attention: Option<T5LayerCrossAttention>,
    /// HF `layer.1` (encoder) or `layer.2` (decoder).
    pub ff: T5LayerFF,
}

impl T5Block {
    /// Randomly initialised block; `index` 0 carries the stack's relative bias table.
    pub fn new(config: &T5Config, is_decoder: bool, index: usize, device: &Device) -> Self {
        Self {
            self_attention: T5LayerSelfAttention::new(config, is_decoder, index == 0, device),
            cross_attention: is_decoder.then(|| T5LayerCrossAttention::new(config, device)),
            ff: T5LayerFF::new(config, device),
        }
    }

    /// # Shapes
    /// - x: `[B, T, d_model]`
    /// - position_bias: `[1, H, T, T]` (block 0's, shared by all blocks)
    /// - self_mask: `[1 or B, 1, 1 or T, T]` (true = ignore the key)
    /// - encoder: `[B, S, d_model]` with its mask `[B, 1, 1, S]` (decoder blocks)
    /// - output: `[B, T, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        position_bias: Option<Tensor<4>>,
        self_mask: Option<Tensor<4, Bool>>,
        encoder: Option<EncoderContext>,
    ) -> Tensor<3> {
        let mut x = self.self_attention.forward(x, position_bias, self_mask);
        if let (Some(cross), Some(enc)) = (&self.cross_attention, encoder) {
            x = cross.forward(x, enc.states, enc.mask);
        }
        self.ff.forward(x)
    }
}
