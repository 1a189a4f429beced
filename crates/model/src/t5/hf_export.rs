//! Writing a [`T5Model`] as a Hugging Face `T5ForConditionalGeneration`: its `config.json`
//! ([`T5Config::to_hf_json`]) and `model.safetensors` ([`T5Model::to_hf_safetensors`]), the exact
//! inverse of [`super::hf`] (the same tensor names; linear weights transposed back to PyTorch's
//! `[out, in]`; f32).

use std::collections::HashMap;
use std::path::Path;

use burn::nn::{Embedding, Linear};
use burn::tensor::Tensor;
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde_json::json;

use super::attention::T5Attention;
use super::block::T5Block;
use super::config::{FeedForwardProj, T5Config};
use super::ff::{T5DenseReluDense, T5FeedForwardIn};
use super::hf::HfLoadError;
use super::model::T5Model;
use super::norm::T5LayerNorm;
use super::stack::T5Stack;
use crate::tokenize::{EOS, PAD};

impl T5Config {
    /// The Hugging Face `config.json` of this configuration (`model_type` "t5",
    /// `T5ForConditionalGeneration`, pad and decoder start id 0, eos id 1).
    ///
    /// transformers ≥ 5 ties every T5's LM head to `shared` unless the checkpoint holds a
    /// different `lm_head.weight`, and scales the decoder output only when `scale_decoder_outputs`
    /// is true; both keys are written so that transformers 4 and 5 read the same model.
    ///
    /// ```
    /// use strand_model::t5::T5Config;
    /// let c = T5Config::new(109).with_tie_word_embeddings(true);
    /// let back = T5Config::from_hf_json(&c.to_hf_json().to_string(), "config.json").unwrap();
    /// assert_eq!(back, c);
    /// ```
    pub fn to_hf_json(&self) -> serde_json::Value {
        let (ff, act, gated) = match self.feed_forward_proj {
            FeedForwardProj::GatedGelu => ("gated-gelu", "gelu_new", true),
            FeedForwardProj::Relu => ("relu", "relu", false),
        };
        json!({
            "architectures": ["T5ForConditionalGeneration"],
            "model_type": "t5",
            "is_encoder_decoder": true,
            "vocab_size": self.vocab_size,
            "d_model": self.d_model,
            "d_kv": self.d_kv,
            "d_ff": self.d_ff,
            "num_heads": self.num_heads,
            "num_layers": self.num_layers,
            "num_decoder_layers": self.num_decoder_layers,
            "relative_attention_num_buckets": self.relative_attention_num_buckets,
            "relative_attention_max_distance": self.relative_attention_max_distance,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "dropout_rate": self.dropout_rate,
            "initializer_factor": self.initializer_factor,
            "feed_forward_proj": ff,
            "dense_act_fn": act,
            "is_gated_act": gated,
            "tie_word_embeddings": self.tie_word_embeddings,
            "scale_decoder_outputs": self.tie_word_embeddings,
            "pad_token_id": PAD,
            "eos_token_id": EOS,
            "decoder_start_token_id": PAD,
            "use_cache": true,
            "dtype": "float32",
        })
    }
}

impl T5Model {
    /// The weights as a safetensors archive with Hugging Face names (f32; no `lm_head.weight`
    /// when the head is tied, as transformers writes).
    ///
    /// # Errors
    /// [`HfLoadError::Format`] if safetensors refuses the tensors (never for a valid model).
    pub fn to_hf_safetensors(&self) -> Result<Vec<u8>, HfLoadError> {
        let mut out = Writer::default();
        out.embedding("shared.weight", &self.shared);
        out.stack("encoder", &self.encoder);
        out.stack("decoder", &self.decoder);
        if let Some(head) = &self.lm_head {
            out.linear("lm_head.weight", head);
        }
        let views = out
            .tensors
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name.clone(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format_error(e.to_string()))?;
        let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
        safetensors::tensor::serialize(views, Some(meta)).map_err(|e| format_error(e.to_string()))
    }

    /// [`Self::to_hf_safetensors`] written to `path`.
    pub fn save_hf_safetensors(&self, path: &Path) -> Result<(), HfLoadError> {
        let bytes = self.to_hf_safetensors()?;
        std::fs::write(path, bytes).map_err(|source| HfLoadError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn format_error(message: String) -> HfLoadError {
    HfLoadError::Format {
        origin: "model.safetensors being written".into(),
        message,
    }
}

/// Tensors collected in Hugging Face layout: (name, shape, little-endian f32 bytes).
#[derive(Default)]
struct Writer {
    tensors: Vec<(String, Vec<usize>, Vec<u8>)>,
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 after convert")
}

impl Writer {
    fn push(&mut self, name: &str, shape: Vec<usize>, v: &[f32]) {
        let bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.tensors.push((name.to_string(), shape, bytes));
    }

    fn linear(&mut self, name: &str, l: &Linear) {
        let w = l.weight.val();
        let [d_in, d_out] = w.dims();
        let v = values(w);
        // burn [in, out] → PyTorch [out, in]
        let mut t = vec![0f32; v.len()];
        for i in 0..d_in {
            for o in 0..d_out {
                t[o * d_in + i] = v[i * d_out + o];
            }
        }
        self.push(name, vec![d_out, d_in], &t);
    }

    fn embedding(&mut self, name: &str, e: &Embedding) {
        let w = e.weight.val();
        let shape = w.dims().to_vec();
        self.push(name, shape, &values(w));
    }

    fn norm(&mut self, name: &str, n: &T5LayerNorm) {
        let w = n.weight.val();
        let shape = w.dims().to_vec();
        self.push(name, shape, &values(w));
    }

    fn attention(&mut self, prefix: &str, a: &T5Attention) {
        for (p, l) in [("q", &a.q), ("k", &a.k), ("v", &a.v), ("o", &a.o)] {
            self.linear(&format!("{prefix}.{p}.weight"), l);
        }
        if let Some(table) = &a.relative_attention_bias {
            self.embedding(&format!("{prefix}.relative_attention_bias.weight"), table);
        }
    }

    fn dense(&mut self, prefix: &str, d: &T5DenseReluDense) {
        match &d.input {
            T5FeedForwardIn::GatedGelu(g) => {
                self.linear(&format!("{prefix}.wi_0.weight"), &g.wi_0);
                self.linear(&format!("{prefix}.wi_1.weight"), &g.wi_1);
            }
            T5FeedForwardIn::Relu(wi) => self.linear(&format!("{prefix}.wi.weight"), wi),
        }
        self.linear(&format!("{prefix}.wo.weight"), &d.wo);
    }

    fn block(&mut self, prefix: &str, b: &T5Block) {
        let sa = &b.self_attention;
        self.attention(&format!("{prefix}.layer.0.SelfAttention"), &sa.attention);
        self.norm(
            &format!("{prefix}.layer.0.layer_norm.weight"),
            &sa.layer_norm,
        );
        if let Some(ca) = &b.cross_attention {
            self.attention(&format!("{prefix}.layer.1.EncDecAttention"), &ca.attention);
            self.norm(
                &format!("{prefix}.layer.1.layer_norm.weight"),
                &ca.layer_norm,
            );
        }
        let ff_index = if b.cross_attention.is_some() { 2 } else { 1 };
        self.dense(
            &format!("{prefix}.layer.{ff_index}.DenseReluDense"),
            &b.ff.dense_relu_dense,
        );
        self.norm(
            &format!("{prefix}.layer.{ff_index}.layer_norm.weight"),
            &b.ff.layer_norm,
        );
    }

    fn stack(&mut self, prefix: &str, s: &T5Stack) {
        for (i, b) in s.block.iter().enumerate() {
            self.block(&format!("{prefix}.block.{i}"), b);
        }
        self.norm(
            &format!("{prefix}.final_layer_norm.weight"),
            &s.final_layer_norm,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Int, TensorData};

    fn tiny(tied: bool, ff: FeedForwardProj) -> T5Config {
        T5Config::new(40)
            .with_d_model(16)
            .with_d_kv(4)
            .with_num_heads(2)
            .with_d_ff(24)
            .with_num_layers(2)
            .with_num_decoder_layers(1)
            .with_dropout_rate(0.0)
            .with_tie_word_embeddings(tied)
            .with_feed_forward_proj(ff)
    }

    #[test]
    fn export_then_import_gives_identical_logits_and_config() {
        let device = Device::flex();
        for (tied, ff) in [
            (false, FeedForwardProj::GatedGelu),
            (true, FeedForwardProj::Relu),
        ] {
            let config = tiny(tied, ff);
            let back =
                T5Config::from_hf_json(&config.to_hf_json().to_string(), "config.json").unwrap();
            assert_eq!(back, config);
            let model = config.init(&device);
            let bytes = model.to_hf_safetensors().unwrap();
            let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            assert_eq!(st.tensor("lm_head.weight").is_ok(), !tied);
            assert_eq!(
                st.tensor("encoder.block.0.layer.0.SelfAttention.q.weight")
                    .unwrap()
                    .shape(),
                &[8, 16]
            );
            // A fresh model (other random weights) loaded from the bytes computes the same logits.
            let reloaded = back.init(&device).load_hf_bytes(&bytes, "export").unwrap();
            let ids = Tensor::<2, Int>::from_data(TensorData::from([[5i64, 9, 13, 1]]), &device);
            let mask = Tensor::<2, Int>::ones([1, 4], &device);
            let dec = Tensor::<2, Int>::from_data(TensorData::from([[0i64, 7]]), &device);
            let a = model.forward(ids.clone(), mask.clone(), dec.clone(), None);
            let b = reloaded.forward(ids, mask, dec, None);
            assert_eq!(a.into_data(), b.into_data(), "tied {tied}");
        }
    }
}
