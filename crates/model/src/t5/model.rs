//! [`T5Model`]: shared embedding, encoder, decoder, LM head; shift-right and the loss.

use burn::module::Module;
use burn::nn::{Embedding, Linear};
use burn::tensor::Device;
use burn::tensor::activation::log_softmax;
use burn::tensor::module::linear;
use burn::tensor::{Bool, DType, Int, Tensor};

use super::block::EncoderContext;
use super::config::T5Config;
use super::init::{InitStd, embedding, linear as init_linear};
use super::stack::T5Stack;
use crate::tokenize::{EOS, PAD};

/// Label value that the loss ignores (Hugging Face / PyTorch `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// The T5 encoder–decoder with an LM head (Hugging Face `T5ForConditionalGeneration`).
///
/// Field names mirror the checkpoint paths (`shared`, `encoder`, `decoder`, `lm_head`).
#[derive(Module, Debug)]
pub struct T5Model {
    /// Token embedding `[vocab, d_model]` of both stacks (`shared.weight`).
    pub shared: Embedding,
    /// Bidirectional encoder.
    pub encoder: T5Stack,
    /// Causal decoder with cross-attention.
    pub decoder: T5Stack,
    /// Untied output projection `d_model → vocab`; `None` when tied to `shared`.
    pub lm_head: Option<Linear>,
}

/// Logits and loss of a forward pass with labels.
#[derive(Debug, Clone)]
pub struct T5Output {
    /// `[B, T, vocab]`.
    pub logits: Tensor<3>,
    /// Mean cross-entropy over the non-ignored labels, `[1]`.
    pub loss: Tensor<1>,
}

impl T5Model {
    /// A randomly initialised model (prefer [`T5Config::init`]).
    pub fn new(config: &T5Config, device: &Device) -> Self {
        let std = InitStd::of(config);
        Self {
            shared: embedding(config.vocab_size, config.d_model, std.embedding, device),
            encoder: T5Stack::new(config, false, device),
            decoder: T5Stack::new(config, true, device),
            lm_head: (!config.tie_word_embeddings)
                .then(|| init_linear(config.d_model, config.vocab_size, std.embedding, device)),
        }
    }

    /// Width of the residual stream.
    pub fn d_model(&self) -> usize {
        self.shared.weight.shape().dims::<2>()[1]
    }

    /// Rows of the embedding (ids are `0..vocab_size`).
    pub fn vocab_size(&self) -> usize {
        self.shared.weight.shape().dims::<2>()[0]
    }

    /// Encoder states, e.g. for pooled classification heads.
    ///
    /// `attention_mask` is 1 for real tokens and 0 for padding.
    ///
    /// # Shapes
    /// - input_ids: `[B, S]`
    /// - attention_mask: `[B, S]`
    /// - output: `[B, S, d_model]`
    pub fn encode(&self, input_ids: Tensor<2, Int>, attention_mask: Tensor<2, Int>) -> Tensor<3> {
        self.encode_embeds(crate::ops::embed(&self.shared, input_ids), attention_mask)
    }

    /// Encoder states of float token weights over the first `k` ids instead of ids (a one-hot
    /// row gives [`T5Model::encode`] of its id; see [`crate::ops::embed_weighted`]).
    ///
    /// # Shapes
    /// - one_hot: `[B, S, k]`; attention_mask: `[B, S]`
    /// - output: `[B, S, d_model]`
    pub fn encode_one_hot(&self, one_hot: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<3> {
        let embeds = crate::ops::embed_weighted(self.shared.weight.val(), one_hot);
        self.encode_embeds(embeds, attention_mask)
    }

    /// Encoder states of embedded tokens.
    fn encode_embeds(&self, embeds: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<3> {
        let mask = key_padding_mask(attention_mask);
        self.encoder.forward(embeds, Some(mask), None)
    }

    /// Decoder logits given encoder states.
    ///
    /// `decoder_attention_mask` (1 = real) hides padded decoder positions as keys; without it
    /// only the causal mask applies (Hugging Face's default when training from labels).
    ///
    /// # Shapes
    /// - decoder_input_ids: `[B, T]`
    /// - decoder_attention_mask: `[B, T]`
    /// - encoder_states: `[B, S, d_model]`
    /// - attention_mask: `[B, S]` (the encoder's)
    /// - output: `[B, T, vocab]`
    pub fn decode(
        &self,
        decoder_input_ids: Tensor<2, Int>,
        decoder_attention_mask: Option<Tensor<2, Int>>,
        encoder_states: Tensor<3>,
        attention_mask: Tensor<2, Int>,
    ) -> Tensor<3> {
        let [batch, len] = decoder_input_ids.dims();
        let device = decoder_input_ids.device();
        // true above the diagonal: key j > query i.
        let causal = Tensor::<2, Bool>::tril_mask([len, len], 0, &device).reshape([1, 1, len, len]);
        let self_mask = match decoder_attention_mask {
            Some(m) => causal
                .expand([batch, 1, len, len])
                .bool_or(key_padding_mask(m).expand([batch, 1, len, len])),
            None => causal,
        };
        let enc_mask = key_padding_mask(attention_mask);
        let dec = self.decoder.forward(
            crate::ops::embed(&self.shared, decoder_input_ids),
            Some(self_mask),
            Some(EncoderContext {
                states: encoder_states,
                mask: Some(enc_mask),
            }),
        );
        self.lm_logits(dec)
    }

    /// Logits of the decoder for the given inputs.
    ///
    /// # Shapes
    /// - input_ids, attention_mask: `[B, S]`
    /// - decoder_input_ids, decoder_attention_mask: `[B, T]`
    /// - output: `[B, T, vocab]`
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Tensor<2, Int>,
        decoder_input_ids: Tensor<2, Int>,
        decoder_attention_mask: Option<Tensor<2, Int>>,
    ) -> Tensor<3> {
        let enc = self.encode(input_ids, attention_mask.clone());
        self.decode(
            decoder_input_ids,
            decoder_attention_mask,
            enc,
            attention_mask,
        )
    }

    /// Training forward pass: decoder inputs are `shift_right(labels)`, labels equal to
    /// [`IGNORE_INDEX`] are left out of the loss. No decoder padding mask is applied (as in
    /// Hugging Face); ignored positions only ever attend to earlier positions.
    ///
    /// # Shapes
    /// - input_ids, attention_mask: `[B, S]`
    /// - labels: `[B, T]`
    /// - output: logits `[B, T, vocab]`, loss `[1]`
    pub fn forward_labels(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Tensor<2, Int>,
        labels: Tensor<2, Int>,
    ) -> T5Output {
        let decoder_input_ids = shift_right(labels.clone());
        let logits = self.forward(input_ids, attention_mask, decoder_input_ids, None);
        let loss = self.loss(logits.clone(), labels);
        T5Output { logits, loss }
    }

    /// Greedy decoding: starting from the start id (pad, 0), appends the most likely token
    /// until every row has produced EOS or `max_len` tokens were generated. Positions after a
    /// row's EOS are `PAD`. No key/value cache: each step re-runs the decoder, which is fine for
    /// the short targets of text-to-text classification.
    ///
    /// # Shapes
    /// - input_ids, attention_mask: `[B, S]`
    /// - output: `[B, L]` generated ids without the start id, `L ≤ max_len`
    pub fn generate_greedy(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Tensor<2, Int>,
        max_len: usize,
    ) -> Tensor<2, Int> {
        let [batch, _] = input_ids.dims();
        let device = input_ids.device();
        let enc = self.encode(input_ids, attention_mask.clone());
        let mut ids: Vec<Vec<i64>> = vec![vec![PAD as i64]; batch];
        let mut finished = vec![false; batch];
        for step in 0..max_len {
            let flat: Vec<i64> = ids.iter().flatten().copied().collect();
            let dec_in = Tensor::<2, Int>::from_data(
                burn::tensor::TensorData::new(flat, [batch, step + 1]),
                &device,
            );
            let logits = self.decode(dec_in, None, enc.clone(), attention_mask.clone());
            let next = logits
                .narrow(1, step, 1)
                .argmax(2)
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .unwrap_or_default();
            for (row, token) in next.into_iter().enumerate() {
                let token = if finished[row] { PAD as i64 } else { token };
                finished[row] |= token == EOS as i64;
                ids[row].push(token);
            }
            if finished.iter().all(|f| *f) {
                break;
            }
        }
        let len = ids.first().map_or(0, |r| r.len() - 1);
        let flat: Vec<i64> = ids
            .into_iter()
            .flat_map(|r| r.into_iter().skip(1))
            .collect();
        Tensor::from_data(burn::tensor::TensorData::new(flat, [batch, len]), &device)
    }

    /// Cross-entropy averaged over labels that are not [`IGNORE_INDEX`] (see [`cross_entropy`]).
    ///
    /// # Shapes
    /// - logits: `[B, T, vocab]`
    /// - labels: `[B, T]`
    /// - output: `[1]`
    pub fn loss(&self, logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
        cross_entropy(logits, labels)
    }

    /// Untied: `dec · lm_headᵀ`; tied: `(dec · d_model^-0.5) · sharedᵀ`.
    ///
    /// # Shapes
    /// - dec: `[B, T, d_model]`
    /// - output: `[B, T, vocab]`
    fn lm_logits(&self, dec: Tensor<3>) -> Tensor<3> {
        match &self.lm_head {
            Some(head) => head.forward(dec),
            None => {
                let scale = (self.d_model() as f64).powf(-0.5);
                linear(dec * scale, self.shared.weight.val().transpose(), None)
            }
        }
    }
}

/// True where a key is padding (`attention_mask == 0`).
///
/// # Shapes
/// - attention_mask: `[B, S]` (1 = real token, 0 = padding)
/// - output: `[B, 1, 1, S]`
pub fn key_padding_mask(attention_mask: Tensor<2, Int>) -> Tensor<4, Bool> {
    let [batch, len] = attention_mask.dims();
    attention_mask.equal_elem(0).reshape([batch, 1, 1, len])
}

/// Decoder inputs from labels: `[PAD] ++ labels[..T-1]`, any [`IGNORE_INDEX`] replaced by `PAD`
/// (the decoder start id is the pad id 0).
///
/// # Shapes
/// - labels: `[B, T]`
/// - output: `[B, T]`
pub fn shift_right(labels: Tensor<2, Int>) -> Tensor<2, Int> {
    let [batch, len] = labels.dims();
    if len == 0 {
        return labels;
    }
    let start = Tensor::<2, Int>::full([batch, 1], PAD as i64, &labels.device());
    let shifted = Tensor::cat(vec![start, labels.narrow(1, 0, len - 1)], 1);
    shifted
        .clone()
        .mask_fill(shifted.equal_elem(IGNORE_INDEX), PAD as i64)
}

/// Token-level cross-entropy over the vocabulary, averaged over the labels that are not
/// [`IGNORE_INDEX`] (0 when every label is ignored). Computed in f32.
///
/// Labels must lie in `0..vocab` or equal [`IGNORE_INDEX`].
///
/// # Shapes
/// - logits: `[B, T, vocab]`
/// - labels: `[B, T]`
/// - output: `[1]`
pub fn cross_entropy(logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
    let [batch, len, vocab] = logits.dims();
    let n = batch * len;
    let log_probs = log_softmax(logits.cast(DType::F32).reshape([n, vocab]), 1);
    let labels = labels.reshape([n]);
    let ignored = labels.clone().equal_elem(IGNORE_INDEX);
    let safe = labels.mask_fill(ignored.clone(), 0);
    let picked: Tensor<1> = log_probs.gather(1, safe.unsqueeze_dim(1)).squeeze_dim(1);
    let keep = ignored.bool_not().float();
    let count = keep.clone().sum().clamp_min(1.0);
    (picked * keep).sum().neg() / count
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::TensorData;

    fn ints<const D: usize>(data: TensorData) -> Tensor<D, Int> {
        Tensor::from_data(data, &Device::flex())
    }

    fn small(vocab: usize) -> T5Config {
        T5Config::new(vocab)
            .with_d_model(16)
            .with_d_kv(4)
            .with_num_heads(2)
            .with_d_ff(32)
            .with_num_layers(2)
            .with_num_decoder_layers(2)
            .with_dropout_rate(0.0)
    }

    #[test]
    fn shift_right_reference_examples() {
        let a = shift_right(ints::<2>(TensorData::from([[5i64, 6, 1]])));
        assert_eq!(
            a.into_data().convert::<i64>().try_to_vec::<i64>().unwrap(),
            vec![0, 5, 6]
        );
        let b = shift_right(ints::<2>(TensorData::from([[5i64, 1, -100, -100]])));
        assert_eq!(
            b.into_data().convert::<i64>().try_to_vec::<i64>().unwrap(),
            vec![0, 5, 1, 0]
        );
    }

    #[test]
    fn cross_entropy_ignores_minus_100_and_averages() {
        let device = Device::flex();
        // Row 0: uniform over 4 → ln 4; row 1: ignored; row 2: logits [ln 3, 0, 0, 0], label 0
        // → -ln(3/6) = ln 2.
        let l3 = 3f32.ln();
        let logits = Tensor::<3>::from_data(
            TensorData::from([[
                [0.0f32, 0.0, 0.0, 0.0],
                [9.0, 0.0, 0.0, 0.0],
                [l3, 0.0, 0.0, 0.0],
            ]]),
            &device,
        );
        let labels = ints::<2>(TensorData::from([[2i64, -100, 0]]));
        let loss: f32 = cross_entropy(logits.clone(), labels).into_scalar();
        let want = (4f32.ln() + 2f32.ln()) / 2.0;
        assert!((loss - want).abs() < 1e-6, "{loss} vs {want}");
        let none = cross_entropy(logits, ints::<2>(TensorData::from([[-100i64, -100, -100]])));
        assert_eq!(none.into_scalar::<f32>(), 0.0);
    }

    #[test]
    fn shapes_untied_and_tied() {
        let device = Device::flex();
        for tied in [false, true] {
            let model = small(30).with_tie_word_embeddings(tied).init(&device);
            assert_eq!(model.lm_head.is_some(), !tied);
            assert_eq!(model.encoder.block.len(), 2);
            assert!(
                model.encoder.block[0]
                    .self_attention
                    .attention
                    .relative_attention_bias
                    .is_some()
            );
            assert!(
                model.encoder.block[1]
                    .self_attention
                    .attention
                    .relative_attention_bias
                    .is_none()
            );
            assert!(model.encoder.block[0].cross_attention.is_none());
            let dec0 = &model.decoder.block[0];
            assert!(
                dec0.cross_attention
                    .as_ref()
                    .unwrap()
                    .attention
                    .relative_attention_bias
                    .is_none()
            );
            let ids = Tensor::<2, Int>::ones([3, 7], &device) * 5;
            let mask = Tensor::<2, Int>::ones([3, 7], &device);
            let enc = model.encode(ids.clone(), mask.clone());
            assert_eq!(enc.dims(), [3, 7, 16]);
            let dec_ids = Tensor::<2, Int>::ones([3, 4], &device);
            assert_eq!(model.forward(ids, mask, dec_ids, None).dims(), [3, 4, 30]);
        }
    }

    #[test]
    fn decoder_is_causal() {
        // Changing a later decoder token leaves earlier logits unchanged.
        let device = Device::flex();
        let model = small(20).init(&device);
        let ids = ints::<2>(TensorData::from([[7i64, 8, 9, 1]]));
        let mask = Tensor::<2, Int>::ones([1, 4], &device);
        let a = model.forward(
            ids.clone(),
            mask.clone(),
            ints(TensorData::from([[0i64, 5, 6]])),
            None,
        );
        let b = model.forward(ids, mask, ints(TensorData::from([[0i64, 5, 11]])), None);
        let head = |t: Tensor<3>| t.narrow(1, 0, 2);
        assert!(
            (head(a.clone()) - head(b.clone()))
                .abs()
                .max()
                .into_scalar::<f32>()
                < 1e-6
        );
        assert!((a - b).abs().max().into_scalar::<f32>() > 1e-4);
    }

    #[test]
    fn padding_does_not_change_real_positions() {
        // Appending padding to the encoder input leaves the logits unchanged.
        let device = Device::flex();
        let model = small(20).init(&device);
        let dec = ints::<2>(TensorData::from([[0i64, 5, 6]]));
        let a = model.forward(
            ints(TensorData::from([[7i64, 8, 9, 1]])),
            Tensor::ones([1, 4], &device),
            dec.clone(),
            None,
        );
        let b = model.forward(
            ints(TensorData::from([[7i64, 8, 9, 1, 0, 0, 0]])),
            ints(TensorData::from([[1i64, 1, 1, 1, 0, 0, 0]])),
            dec,
            None,
        );
        assert!((a - b).abs().max().into_scalar::<f32>() < 1e-5);
    }

    #[test]
    fn fully_padded_row_gives_no_nan() {
        let device = Device::flex();
        let model = small(20).init(&device);
        let ids = ints::<2>(TensorData::from([[7i64, 8, 1], [0, 0, 0]]));
        let mask = ints::<2>(TensorData::from([[1i64, 1, 1], [0, 0, 0]]));
        let labels = ints::<2>(TensorData::from([[5i64, 1], [-100, -100]]));
        let out = model.forward_labels(ids, mask, labels);
        assert!(!out.logits.is_nan().any().into_scalar::<bool>());
        assert!(out.loss.into_scalar::<f32>().is_finite());
    }

    #[test]
    fn greedy_generation_is_consistent_with_teacher_forcing() {
        let device = Device::flex();
        device.seed(3);
        let model = small(12).init(&device);
        let ids = ints::<2>(TensorData::from([[7i64, 8, 9, 1], [5, 6, 1, 0]]));
        let mask = ints::<2>(TensorData::from([[1i64, 1, 1, 1], [1, 1, 1, 0]]));
        let generated = model.generate_greedy(ids.clone(), mask.clone(), 6);
        let [batch, len] = generated.dims();
        assert_eq!(batch, 2);
        assert!((1..=6).contains(&len));
        // Feeding [0] ++ generated[..-1] back reproduces every generated token as the argmax
        // (rows that stopped early are PAD after their EOS).
        let tokens = generated
            .clone()
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        let forced = model.forward(ids, mask, shift_right(generated), None);
        let argmax = forced
            .argmax(2)
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        for row in 0..batch {
            let r = &tokens[row * len..(row + 1) * len];
            let eos = r.iter().position(|t| *t == EOS as i64);
            let end = eos.map_or(len, |e| e + 1);
            assert_eq!(&argmax[row * len..row * len + end], &r[..end], "row {row}");
            assert!(
                r[end..].iter().all(|t| *t == PAD as i64),
                "row {row}: {r:?}"
            );
        }
    }

    #[test]
    fn one_adam_step_lowers_the_loss() {
        let device = Device::flex().autodiff();
        device.seed(7);
        let mut model = small(24).init(&device);
        let ids = Tensor::<2, Int>::from_data(
            TensorData::from([[10i64, 11, 12, 13, 1], [14, 15, 16, 1, 0]]),
            &device,
        );
        let mask = Tensor::<2, Int>::from_data(
            TensorData::from([[1i64, 1, 1, 1, 1], [1, 1, 1, 1, 0]]),
            &device,
        );
        let labels =
            Tensor::<2, Int>::from_data(TensorData::from([[4i64, 12, 1], [5, 1, -100]]), &device);
        let mut optim = AdamConfig::new().init();
        let before = model
            .forward_labels(ids.clone(), mask.clone(), labels.clone())
            .loss;
        let grads = GradientsParams::from_grads(before.backward(), &model);
        model = optim.step(1e-2, model, grads);
        let after = model.forward_labels(ids, mask, labels).loss;
        let (b, a): (f32, f32) = (before.into_scalar(), after.into_scalar());
        assert!(a < b - 0.05, "loss {b} → {a}");
    }
}
