//! The text-to-text head, as GUANinE's T5 baselines: the full encoder–decoder, one decoder step
//! from the start token `[PAD = 0]`, its LM-head logits read at the label tokens only.
//!
//! # Where the label tokens live
//!
//! The vocabulary is **extended**: a tokenizer of `V` ids (specials 0…103 and its own tokens, see
//! [`crate::tokenize`]) gets `n_labels` extra ids `V … V + n_labels − 1`, label `k` (class index,
//! ordinal level − min, or regression bin) being id `V + k`. No tokenizer ever produces an id
//! `≥ V`, so label tokens cannot collide with sequence tokens, special tokens or the span-corruption
//! sentinels. [`extend_vocab`] appends the rows to the shared embedding and (untied) LM head.

use burn::module::Module;
use burn::tensor::{Bool, Device, Distribution, Int, Tensor};

use crate::classifier::{SequenceModel, TokenBatch};
use crate::t5::T5Model;
use crate::tokenize::PAD;

/// T5 encoder–decoder whose output is the first decoder step's logits at the label tokens.
#[derive(Module, Debug)]
pub struct T5TextToText {
    /// The model, vocabulary already extended by the label tokens.
    pub t5: T5Model,
    /// Id of label token 0 (= the tokenizer's vocabulary size).
    pub first_label: usize,
    /// Number of label tokens.
    pub n_labels: usize,
}

impl T5TextToText {
    /// Ids of the label tokens, `first_label .. first_label + n_labels`.
    pub fn label_ids(&self) -> std::ops::Range<usize> {
        self.first_label..self.first_label + self.n_labels
    }
}

impl T5TextToText {
    /// [`SequenceModel::forward`] of float token weights over the first `k` ids (a one-hot row
    /// per token) instead of ids: the input of gradient saliency. The decoder's start token is
    /// still looked up by id.
    ///
    /// # Shapes
    /// - one_hot: `[batch, len, k]`; mask: `[batch, len]`
    /// - output: `[batch, n_labels]`
    pub fn forward_one_hot(&self, one_hot: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
        let mask = mask.int();
        let enc = self.t5.encode_one_hot(one_hot, mask.clone());
        self.label_logits(enc, mask)
    }

    /// The first decoder step from `[PAD]` over encoder states, at the label ids.
    ///
    /// # Shapes
    /// - enc: `[batch, len, d_model]`; mask: `[batch, len]`
    /// - output: `[batch, n_labels]`
    fn label_logits(&self, enc: Tensor<3>, mask: Tensor<2, Int>) -> Tensor<2> {
        let [b, _, _] = enc.dims();
        let device = enc.device();
        let start = Tensor::<2, Int>::full([b, 1], PAD as i64, &device);
        let logits = self.t5.decode(start, None, enc, mask); // [b, 1, vocab]
        logits
            .narrow(2, self.first_label, self.n_labels)
            .reshape([b, self.n_labels])
    }
}

impl SequenceModel for T5TextToText {
    /// Encoder over the batch, decoder once from `[PAD]`, LM-head logits at the label ids.
    ///
    /// # Shapes
    /// - `batch.tokens`, `batch.mask`: `[batch, len]`
    /// - output: `[batch, n_labels]`
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        let mask = batch.mask.clone().int();
        let enc = self.t5.encode(batch.tokens.clone(), mask.clone());
        self.label_logits(enc, mask)
    }

    fn n_out(&self) -> usize {
        self.n_labels
    }
}

/// Appends `extra` ids to `model`'s vocabulary: new rows of the shared embedding ~ N(0, 1) (T5's
/// embedding initialisation) and, when the LM head is untied, new LM-head rows ~ N(0, 1/d_model),
/// so that the new tokens' first logits have unit scale, as the tied head's do (tied logits are
/// scaled by `d_model^-0.5`). Existing rows are unchanged.
///
/// # Shapes
/// - `shared.weight`: `[V, d]` → `[V + extra, d]`
/// - `lm_head.weight` (burn's `[d_input, d_output]` layout): `[d, V]` → `[d, V + extra]`
pub fn extend_vocab(mut model: T5Model, extra: usize, device: &Device) -> T5Model {
    if extra == 0 {
        return model;
    }
    let d = model.d_model();
    let rows = Tensor::<2>::random([extra, d], Distribution::Normal(0.0, 1.0), device);
    model.shared.weight = model.shared.weight.map(|w| append(w, rows, 0));
    if let Some(mut head) = model.lm_head.take() {
        let std = (d as f64).powf(-0.5);
        let cols = Tensor::<2>::random([d, extra], Distribution::Normal(0.0, std), device);
        head.weight = head.weight.map(|w| append(w, cols, 1));
        model.lm_head = Some(head);
    }
    model
}

/// `cat([w, extra], dim)` as a fresh leaf tensor that requires gradients exactly when `w` did.
fn append(w: Tensor<2>, extra: Tensor<2>, dim: usize) -> Tensor<2> {
    let require_grad = w.is_require_grad();
    Tensor::cat(vec![w.detach(), extra], dim)
        .detach()
        .set_require_grad(require_grad)
}
