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
//!
//! A model that already has label tokens (a Hugging Face T5 fine-tuned with an output vocabulary,
//! as GUANinE's `t5_baseline` with `t5_regression_vocab`) keeps its vocabulary: a [`LabelVocab`]
//! names the ids of its label tokens, in label order, anywhere in the vocabulary.

use burn::module::Module;
use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::classifier::{SequenceModel, TokenBatch};
use crate::t5::T5Model;
use crate::tokenize::PAD;

/// T5 encoder–decoder whose output is the first decoder step's logits at the label tokens.
#[derive(Module, Debug)]
pub struct T5TextToText {
    /// The model, its vocabulary holding the label tokens.
    pub t5: T5Model,
    /// Id of label token k, in label order (appended tokens: `V .. V + n_labels`); set by the
    /// head's config, not stored with the weights.
    #[module(skip)]
    pub label_ids: Vec<usize>,
}

impl T5TextToText {
    /// Ids of the label tokens, in label order.
    pub fn label_ids(&self) -> &[usize] {
        &self.label_ids
    }
}

/// Label tokens that are already part of a model's vocabulary: label k is token `ids[k]`, whose
/// text is `names[k]` (e.g. `"3"` for ordinal level 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelVocab {
    /// Vocabulary id of each label, in label order.
    pub ids: Vec<u32>,
    /// Text of each label token.
    pub names: Vec<String>,
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
        let ids: Vec<i64> = self.label_ids().iter().map(|&i| i as i64).collect();
        let n = ids.len();
        let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [n]), &device);
        logits.select(2, ids).reshape([b, n])
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
        self.label_ids().len()
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
