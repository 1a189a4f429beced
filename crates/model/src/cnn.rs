//! The Genomic Benchmarks baseline CNN (`genomic_benchmarks.models.torch.CNN`), exactly:
//!
//! Embedding(V, 100) → 3 × [Conv1d(k 8) → BatchNorm → (ReLU after the first only) → MaxPool(2)]
//! with 16, 8, 4 channels → flatten → Linear(512) → Linear(n_out). No dropout, no activation
//! between the two linear layers. Two classes use one logit trained with BCE-with-logits (the
//! upstream code applies the sigmoid twice; strand does not), more classes use `n_out = C` logits
//! (see [`crate::classifier::Objective`]).

use crate::classifier::{SequenceModel, TokenBatch};
use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};

/// Factory of [`Cnn`]; saved beside the weights.
#[derive(Config, Debug, PartialEq)]
pub struct CnnConfig {
    /// Number of token ids (the tokenizer's vocabulary, specials included).
    pub vocab_size: usize,
    /// Tokens per input (BOS + sequence + EOS, right-padded): every batch has this length.
    pub input_len: usize,
    /// Outputs: 1 for two classes, C for C > 2.
    pub n_out: usize,
    /// Embedding dimension.
    #[config(default = 100)]
    pub embedding_dim: usize,
    /// Output channels of the convolution blocks.
    #[config(default = "vec![16, 8, 4]")]
    pub channels: Vec<usize>,
    /// Convolution kernel size (no padding, stride 1).
    #[config(default = 8)]
    pub kernel_size: usize,
    /// Max-pooling size and stride after each block.
    #[config(default = 2)]
    pub pool: usize,
    /// Width of the hidden linear layer.
    #[config(default = 512)]
    pub hidden: usize,
}

/// A `kind = "cnn"` model preset (`models/cnn-gb.toml`): the [`CnnConfig`] fields that do not
/// come from the data (vocabulary, input length, outputs).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnPreset {
    pub name: String,
    pub embedding_dim: usize,
    pub channels: Vec<usize>,
    pub kernel_size: usize,
    pub pool: usize,
    pub hidden: usize,
}

impl CnnPreset {
    /// The full config for a vocabulary, an input length (tokens, BOS and EOS included) and a
    /// number of outputs; an error names the preset when the input is too short for the stack.
    pub fn config(
        &self,
        vocab_size: usize,
        input_len: usize,
        n_out: usize,
    ) -> Result<CnnConfig, String> {
        let config = CnnConfig::new(vocab_size, input_len, n_out)
            .with_embedding_dim(self.embedding_dim)
            .with_channels(self.channels.clone())
            .with_kernel_size(self.kernel_size)
            .with_pool(self.pool)
            .with_hidden(self.hidden);
        config
            .validate()
            .map_err(|e| format!("model preset {}: {e}", self.name))?;
        Ok(config)
    }
}

impl CnnConfig {
    /// Length of the feature map after the last block, or `None` if `input_len` is too short
    /// for the stack (each block maps `n` to `(n − kernel + 1) / pool`).
    pub fn final_len(&self) -> Option<usize> {
        let mut n = self.input_len;
        for _ in &self.channels {
            if n < self.kernel_size {
                return None;
            }
            n = (n - self.kernel_size + 1) / self.pool;
            if n == 0 {
                return None;
            }
        }
        Some(n)
    }

    /// Size of the flattened features feeding the first linear layer.
    pub fn flat_len(&self) -> Option<usize> {
        Some(self.final_len()? * self.channels.last().copied().unwrap_or(self.embedding_dim))
    }

    /// Checks the configuration; the error says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.vocab_size == 0 || self.n_out == 0 || self.embedding_dim == 0 || self.hidden == 0 {
            return Err("vocab_size, n_out, embedding_dim and hidden must be positive".into());
        }
        if self.channels.is_empty() || self.channels.contains(&0) {
            return Err("channels must be a non-empty list of positive numbers".into());
        }
        if self.kernel_size == 0 || self.pool == 0 {
            return Err("kernel_size and pool must be positive".into());
        }
        if self.final_len().is_none() {
            return Err(format!(
                "input length {} tokens is too short for {} blocks of kernel {} and pool {}",
                self.input_len,
                self.channels.len(),
                self.kernel_size,
                self.pool
            ));
        }
        Ok(())
    }

    /// Builds the model with PyTorch-like default initialisation.
    ///
    /// # Panics
    /// If [`CnnConfig::validate`] fails; call it first on user input.
    pub fn init(&self, device: &Device) -> Cnn {
        if let Err(e) = self.validate() {
            panic!("invalid CnnConfig: {e}");
        }
        let mut blocks = Vec::with_capacity(self.channels.len());
        let mut c_in = self.embedding_dim;
        for (i, &c_out) in self.channels.iter().enumerate() {
            blocks.push(ConvBlock {
                conv: Conv1dConfig::new(c_in, c_out, self.kernel_size).init(device),
                norm: BatchNormConfig::new(c_out).init(device),
                pool: MaxPool1dConfig::new(self.pool).init(),
                relu: i == 0,
            });
            c_in = c_out;
        }
        let flat = self.flat_len().expect("validated");
        Cnn {
            embedding: EmbeddingConfig::new(self.vocab_size, self.embedding_dim).init(device),
            blocks,
            hidden: LinearConfig::new(flat, self.hidden).init(device),
            output: LinearConfig::new(self.hidden, self.n_out).init(device),
            input_len: self.input_len,
            n_out: self.n_out,
        }
    }
}

/// Conv1d → BatchNorm → (ReLU) → MaxPool.
#[derive(Module, Debug)]
pub struct ConvBlock {
    pub conv: Conv1d,
    pub norm: BatchNorm,
    pub pool: MaxPool1d,
    pub relu: bool,
}

impl ConvBlock {
    /// # Shapes
    /// - input: `[batch, c_in, n]`
    /// - output: `[batch, c_out, (n − kernel + 1) / pool]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.after_conv(self.conv.forward(x))
    }

    /// BatchNorm → (ReLU) → MaxPool on the convolution's output ([`crate::ops::batch_norm`]
    /// computes `self.norm.forward` without burn's strided copies).
    ///
    /// # Shapes
    /// - input: `[batch, c_out, n]`
    /// - output: `[batch, c_out, n / pool]`
    pub fn after_conv(&self, x: Tensor<3>) -> Tensor<3> {
        let x = crate::ops::batch_norm(&self.norm, x);
        let x = if self.relu { relu(x) } else { x };
        self.pool.forward(x)
    }
}

/// The Genomic Benchmarks CNN; build it with [`CnnConfig::init`].
#[derive(Module, Debug)]
pub struct Cnn {
    pub embedding: Embedding,
    pub blocks: Vec<ConvBlock>,
    pub hidden: Linear,
    pub output: Linear,
    pub input_len: usize,
    pub n_out: usize,
}

impl Cnn {
    /// The first convolution block and the rest, for inputs of `len` tokens.
    ///
    /// # Panics
    /// If `len` is not the input length the CNN was built for.
    fn blocks_for(&self, len: usize) -> (&ConvBlock, &[ConvBlock]) {
        assert_eq!(
            len, self.input_len,
            "the CNN was built for {} tokens per input, got {len}",
            self.input_len
        );
        self.blocks
            .split_first()
            .expect("validated: at least one block")
    }

    /// Raw outputs (logits) of a token batch; padding is an ordinary learned token, as upstream.
    ///
    /// # Shapes
    /// - `tokens`: `[batch, input_len]`
    /// - output: `[batch, n_out]`
    pub fn forward_tokens(&self, tokens: Tensor<2, Int>) -> Tensor<2> {
        let [_, len] = tokens.dims();
        let (first, rest) = self.blocks_for(len);
        // Embedding → first convolution with the embedding folded into the convolution
        // (`crate::ops::embedding_conv1d`: the same function, ~4× less work on the CPU).
        let x = first.after_conv(crate::ops::embedding_conv1d(
            &self.embedding,
            &first.conv,
            tokens,
        ));
        self.after_first_block(x, rest)
    }

    /// Raw outputs of float token weights instead of ids: a one-hot `[batch, input_len, k]`
    /// over the first `k` token ids gives exactly [`Cnn::forward_tokens`] of those ids, and the
    /// gradient of the outputs with respect to it is the model's saliency on its input
    /// (`strand interpret --method saliency`). Embedding rows beyond `k` are never read.
    ///
    /// # Shapes
    /// - `one_hot`: `[batch, input_len, k]`, `k <= vocab_size`
    /// - output: `[batch, n_out]`
    pub fn forward_one_hot(&self, one_hot: Tensor<3>) -> Tensor<2> {
        let [_, len, _] = one_hot.dims();
        let (first, rest) = self.blocks_for(len);
        let x = crate::ops::embed_weighted(self.embedding.weight.val(), one_hot);
        self.after_first_block(first.forward(x.swap_dims(1, 2)), rest)
    }

    /// The blocks after the first, flatten, the two linear layers.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels[0], n]` (the first block's output)
    /// - output: `[batch, n_out]`
    fn after_first_block(&self, mut x: Tensor<3>, rest: &[ConvBlock]) -> Tensor<2> {
        for block in rest {
            x = block.forward(x);
        }
        let x: Tensor<2> = x.flatten(1, 2);
        self.output.forward(self.hidden.forward(x))
    }
}

impl SequenceModel for Cnn {
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        self.forward_tokens(batch.tokens.clone())
    }

    fn n_out(&self) -> usize {
        self.n_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::{Objective, Targets};
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::TensorData;
    use rand::{Rng, SeedableRng};

    fn tokens(batch: usize, len: usize, seed: u64, dev: &Device) -> Tensor<2, Int> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let ids: Vec<i64> = (0..batch * len)
            .map(|_| rng.random_range(104..109))
            .collect();
        Tensor::from_data(TensorData::new(ids, [batch, len]), dev)
    }

    #[test]
    fn parameter_count_matches_upstream() {
        // genomic_benchmarks.md §4.3: human_nontata_promoters, V 7, input_len 253 → 67,089.
        let dev = Device::flex();
        let m = CnnConfig::new(7, 253, 1).init(&dev);
        assert_eq!(CnnConfig::new(7, 253, 1).flat_len(), Some(100));
        // BatchNorm running statistics are not trainable parameters: 2 × (16 + 8 + 4).
        assert_eq!(m.num_params() - 2 * (16 + 8 + 4), 67_089);
        // demo_coding_vs_intergenomic_seqs: V 7, input_len 202 → flatten 76, 54,801 params.
        let m = CnnConfig::new(7, 202, 1).init(&dev);
        assert_eq!(m.num_params() - 56, 54_801);
    }

    #[test]
    fn output_shapes_binary_and_multiclass() {
        let dev = Device::flex();
        for n_out in [1usize, 3] {
            let m = CnnConfig::new(109, 83, n_out).init(&dev);
            let y = m.forward_tokens(tokens(5, 83, 1, &dev));
            assert_eq!(y.dims(), [5, n_out]);
        }
    }

    #[test]
    fn one_hot_inputs_give_the_token_outputs() {
        let dev = Device::flex();
        let m = CnnConfig::new(109, 60, 3).init(&dev).valid();
        let x = tokens(4, 60, 2, &dev);
        let want = m.forward_tokens(x.clone());
        let got = m.forward_one_hot(crate::ops::lookup::one_hot(x, 109, 2));
        got.into_data().assert_approx_eq::<f32>(
            &want.into_data(),
            burn::tensor::Tolerance::rel_abs(1e-4, 1e-5),
        );
    }

    #[test]
    fn too_short_input_is_rejected() {
        // 57 → 25 → 9 → 1 is the shortest input the default stack accepts.
        let c = CnnConfig::new(109, 56, 1);
        assert!(c.validate().unwrap_err().contains("too short"));
        assert_eq!(CnnConfig::new(109, 57, 1).final_len(), Some(1));
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = CnnConfig::new(109, 83, 3).with_hidden(64);
        let s = serde_json::to_string(&c).unwrap();
        let back: CnnConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(c, back);
    }

    #[test]
    fn one_adam_step_lowers_the_loss_on_a_fixed_batch() {
        let dev = Device::flex().autodiff();
        for (n_out, labels) in [
            (1usize, vec![0i64, 1, 0, 1, 1, 0, 1, 0]),
            (3, vec![0, 1, 2, 0, 1, 2, 0, 1]),
        ] {
            let objective = Objective::for_classes(Some(n_out.max(2)));
            let mut model = CnnConfig::new(109, 60, n_out).init(&dev);
            let mut optim = AdamConfig::new().init();
            let x = tokens(8, 60, 3, &dev);
            let batch = TokenBatch {
                mask: x.clone().greater_equal_elem(0),
                tokens: x,
            };
            let t = Targets::Classes(Tensor::from_data(TensorData::new(labels, [8]), &dev));
            let before: f32 = objective.loss(model.forward(&batch), &t).into_scalar();
            let loss = objective.loss(model.forward(&batch), &t);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3, model, grads);
            let after: f32 = objective.loss(model.forward(&batch), &t).into_scalar();
            assert!(after < before, "n_out {n_out}: loss {before} → {after}");
        }
    }
}
