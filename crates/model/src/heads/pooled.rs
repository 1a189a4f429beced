//! Encoder-only heads: the T5 encoder's states averaged over the real (non-pad) tokens, then one
//! linear layer. [`T5Pooled`] fine-tunes everything; [`T5Probe`] freezes the encoder.

use burn::module::Module;
use burn::nn::{Embedding, Linear};
use burn::tensor::{Bool, Int, Tensor};

use crate::classifier::{SequenceModel, TokenBatch};
use crate::t5::model::key_padding_mask;
use crate::t5::stack::T5Stack;

/// The token embedding and encoder stack of a T5 (the decoder and LM head are not kept).
/// Field names match [`crate::t5::T5Model`]'s.
#[derive(Module, Debug)]
pub struct T5Encoder {
    /// Token embedding `[vocab, d_model]`.
    pub shared: Embedding,
    /// Bidirectional encoder.
    pub encoder: T5Stack,
}

impl T5Encoder {
    /// Encoder states, exactly as [`crate::t5::T5Model::encode`].
    ///
    /// # Shapes
    /// - tokens, mask: `[batch, len]` (mask true on real tokens)
    /// - output: `[batch, len, d_model]`
    pub fn encode(&self, tokens: Tensor<2, Int>, mask: Tensor<2, Bool>) -> Tensor<3> {
        self.encode_embeds(crate::ops::embed(&self.shared, tokens), mask)
    }

    /// Encoder states of float token weights over the first `k` ids (a one-hot row gives
    /// [`T5Encoder::encode`] of its id; see [`crate::ops::embed_weighted`]).
    ///
    /// # Shapes
    /// - one_hot: `[batch, len, k]`; mask: `[batch, len]`
    /// - output: `[batch, len, d_model]`
    pub fn encode_one_hot(&self, one_hot: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let embeds = crate::ops::embed_weighted(self.shared.weight.val(), one_hot);
        self.encode_embeds(embeds, mask)
    }

    /// Encoder states of embedded tokens.
    fn encode_embeds(&self, embeds: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<3> {
        let padding = key_padding_mask(mask.int());
        self.encoder.forward(embeds, Some(padding), None)
    }

    /// Width of the encoder states.
    pub fn d_model(&self) -> usize {
        self.shared.weight.shape().dims::<2>()[1]
    }

    /// Rows of the embedding.
    pub fn vocab_size(&self) -> usize {
        self.shared.weight.shape().dims::<2>()[0]
    }
}

/// Mean of `states` over the positions where `mask` is true; a row without any real token gives
/// zeros (not NaN).
///
/// # Shapes
/// - states: `[batch, len, d]`
/// - mask: `[batch, len]`
/// - output: `[batch, d]`
pub fn masked_mean(states: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, len, d] = states.dims();
    let weights = mask.float().reshape([batch, len, 1]);
    let count = weights
        .clone()
        .sum_dim(1)
        .clamp_min(1.0)
        .reshape([batch, 1]);
    let total: Tensor<2> = (states * weights).sum_dim(1).reshape([batch, d]);
    total / count
}

/// Encoder → mean over real tokens → linear `d_model → n_out`. Everything trains.
#[derive(Module, Debug)]
pub struct T5Pooled {
    /// Embedding and encoder.
    pub encoder: T5Encoder,
    /// Output layer `d_model → n_out` (with bias).
    pub head: Linear,
}

impl T5Pooled {
    /// Pooled encoder features.
    ///
    /// # Shapes
    /// - batch: `[batch, len]`
    /// - output: `[batch, d_model]`
    pub fn features(&self, batch: &TokenBatch) -> Tensor<2> {
        let states = self
            .encoder
            .encode(batch.tokens.clone(), batch.mask.clone());
        masked_mean(states, batch.mask.clone())
    }
}

impl T5Pooled {
    /// [`SequenceModel::forward`] of float token weights (a one-hot row per token) instead of
    /// ids: the input of gradient saliency.
    ///
    /// # Shapes
    /// - one_hot: `[batch, len, k]`; mask: `[batch, len]`
    /// - output: `[batch, n_out]`
    pub fn forward_one_hot(&self, one_hot: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        let states = self.encoder.encode_one_hot(one_hot, mask.clone());
        self.head.forward(masked_mean(states, mask))
    }
}

impl SequenceModel for T5Pooled {
    /// # Shapes
    /// - `batch.tokens`, `batch.mask`: `[batch, len]`
    /// - output: `[batch, n_out]`
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        self.head.forward(self.features(batch))
    }

    fn n_out(&self) -> usize {
        self.head.weight.shape().dims::<2>()[1]
    }
}

/// Linear probe: a frozen encoder ([`Module::freeze`]: its parameters do not require gradients
/// and its dropout layers are off; its output is detached) → mean over real tokens → linear
/// `d_model → n_out`. Only the linear layer trains.
#[derive(Module, Debug)]
pub struct T5Probe {
    /// Frozen embedding and encoder.
    pub encoder: T5Encoder,
    /// Output layer `d_model → n_out` (with bias), the only trained parameters.
    pub head: Linear,
}

impl T5Probe {
    /// Freezes `encoder` and puts `head` on top.
    pub fn new(encoder: T5Encoder, head: Linear) -> Self {
        T5Probe {
            encoder: encoder.freeze(),
            head,
        }
    }

    /// Pooled features of the frozen encoder, detached from any autodiff graph.
    ///
    /// # Shapes
    /// - batch: `[batch, len]`
    /// - output: `[batch, d_model]`
    pub fn features(&self, batch: &TokenBatch) -> Tensor<2> {
        let states = self
            .encoder
            .encode(batch.tokens.clone(), batch.mask.clone())
            .detach();
        masked_mean(states, batch.mask.clone())
    }
}

impl T5Probe {
    /// [`SequenceModel::forward`] of float token weights (a one-hot row per token), the encoder
    /// states **not** detached, so that gradients reach the input (saliency; the encoder's
    /// parameters stay frozen).
    ///
    /// # Shapes
    /// - one_hot: `[batch, len, k]`; mask: `[batch, len]`
    /// - output: `[batch, n_out]`
    pub fn forward_one_hot(&self, one_hot: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        let states = self.encoder.encode_one_hot(one_hot, mask.clone());
        self.head.forward(masked_mean(states, mask))
    }
}

impl SequenceModel for T5Probe {
    /// # Shapes
    /// - `batch.tokens`, `batch.mask`: `[batch, len]`
    /// - output: `[batch, n_out]`
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        self.head.forward(self.features(batch))
    }

    fn n_out(&self) -> usize {
        self.head.weight.shape().dims::<2>()[1]
    }
}
