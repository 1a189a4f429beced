//! A stack of T5 blocks (`T5Stack`): embedding dropout, blocks sharing block 0's relative
//! position bias, final RMSNorm and dropout. The token embedding itself is owned by the model
//! (`shared`), which passes embedded inputs in.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::Device;
use burn::tensor::{Bool, Tensor};

use super::block::{EncoderContext, T5Block};
use super::config::T5Config;
use super::norm::T5LayerNorm;

/// The encoder or the decoder. Field names mirror Hugging Face (`block`, `final_layer_norm`).
#[derive(Module, Debug)]
pub struct T5Stack {
    /// The blocks; only `block[0]` has a relative position bias table.
    pub block: Vec<T5Block>,
    /// RMSNorm after the last block.
    pub final_layer_norm: T5LayerNorm,
    /// Dropout on the embeddings and on the output.
    pub dropout: Dropout,
    /// Causal self-attention and cross-attention blocks.
    pub is_decoder: bool,
}

impl T5Stack {
    /// Randomly initialised encoder (`is_decoder = false`) or decoder.
    pub fn new(config: &T5Config, is_decoder: bool, device: &Device) -> Self {
        let layers = if is_decoder {
            config.num_decoder_layers
        } else {
            config.num_layers
        };
        Self {
            block: (0..layers)
                .map(|i| T5Block::new(config, is_decoder, i, device))
                .collect(),
            final_layer_norm: T5LayerNorm::new(config.d_model, config.layer_norm_epsilon, device),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
            is_decoder,
        }
    }

    /// Runs the blocks over embedded tokens.
    ///
    /// The relative position bias is computed once from block 0's table and reused by every
    /// block.
    ///
    /// # Shapes
    /// - embeds: `[B, T, d_model]`
    /// - self_mask: `[1 or B, 1, 1 or T, T]`, true where a key must be ignored (padding; plus
    ///   the future in the decoder)
    /// - encoder: `[B, S, d_model]` and its key mask `[B, 1, 1, S]` (decoder only)
    /// - output: `[B, T, d_model]`
    pub fn forward(
        &self,
        embeds: Tensor<3>,
        self_mask: Option<Tensor<4, Bool>>,
        encoder: Option<EncoderContext>,
    ) -> Tensor<3> {
        let seq = embeds.dims()[1];
        let device = embeds.device();
        let position_bias = self
            .block
            .first()
            .and_then(|b| b.self_attention.attention.compute_bias(seq, seq, &device));
        let mut h = self.dropout.forward(embeds);
        for block in &self.block {
            h = block.forward(h, position_bias.clone(), self_mask.clone(), encoder.clone());
        }
        self.dropout.forward(self.final_layer_norm.forward(h))
    }
}
