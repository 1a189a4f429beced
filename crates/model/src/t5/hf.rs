//! Loading Hugging Face T5 weights (`model.safetensors`) into a [`T5Model`] by their checkpoint
//! names (`shared.weight`, `encoder.block.{i}.layer.0.SelfAttention.q.weight`, …).
//!
//! PyTorch `Linear` weights are `[out, in]`; burn's are `[in, out]`: every linear weight is
//! transposed on load. Embedding tables and norm weights keep their layout. f32, f16, bf16 and
//! f64 tensors are accepted (converted to f32 on the host). Every tensor the model needs must be
//! present with the model's shape; extra tensors (`*.embed_tokens.weight` copies, an `lm_head`
//! in a tied checkpoint, a legacy cross-attention bias table) are ignored.

use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::{Embedding, Linear};
use burn::tensor::Device;
use burn::tensor::{Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use super::attention::T5Attention;
use super::block::T5Block;
use super::config::{FeedForwardProj, T5Config};
use super::ff::{T5DenseReluDense, T5FeedForwardIn, T5GatedIn};
use super::model::T5Model;
use super::norm::T5LayerNorm;
use super::stack::T5Stack;
use crate::tokenize::{EOS, PAD};

/// Why a checkpoint could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum HfLoadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The checkpoint.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a safetensors archive.
    #[error("{origin}: not a valid safetensors file: {message}")]
    Format {
        /// File name or description of the bytes.
        origin: String,
        /// What the parser reported.
        message: String,
    },
    /// A tensor the model needs is absent.
    #[error("{origin}: tensor `{name}` is missing")]
    Missing {
        /// File name or description of the bytes.
        origin: String,
        /// Hugging Face parameter name.
        name: String,
    },
    /// A tensor has the wrong shape for this model's configuration.
    #[error("{origin}: tensor `{name}` has shape {found:?}, the model expects {expected:?}")]
    Shape {
        /// File name or description of the bytes.
        origin: String,
        /// Hugging Face parameter name.
        name: String,
        /// Shape in the Hugging Face layout.
        expected: Vec<usize>,
        /// Shape found in the file.
        found: Vec<usize>,
    },
    /// A Hugging Face `config.json` could not be used.
    #[error("{origin}: {message}")]
    Config {
        /// File name or description of the text.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor has a dtype other than f32, f16, bf16 or f64.
    #[error("{origin}: tensor `{name}` has unsupported dtype {dtype}")]
    DType {
        /// File name or description of the bytes.
        origin: String,
        /// Hugging Face parameter name.
        name: String,
        /// The dtype found.
        dtype: String,
    },
}

impl T5Config {
    /// The configuration of a Hugging Face T5 `config.json` (`origin` names it in errors).
    ///
    /// Missing fields take Hugging Face's defaults (`num_decoder_layers` = `num_layers`, 32
    /// buckets, max distance 128, eps 1e-6, dropout 0.1, `feed_forward_proj` "relu", tied).
    /// transformers ≥ 5 writes `tie_word_embeddings: true` for every T5 and records the real
    /// choice as `scale_decoder_outputs`, which wins when present. Only the `gated-gelu` and
    /// `relu` feed-forwards exist here.
    ///
    /// What strand cannot represent is refused, naming the key: a `model_type` other than `t5`,
    /// `architectures` without `T5ForConditionalGeneration`, `is_encoder_decoder: false`, a
    /// `dense_act_fn` / `is_gated_act` that disagrees with `feed_forward_proj` (strand's gated
    /// feed-forward is tanh-GELU, `gelu_new`), and pad / decoder start ids other than 0 or an eos
    /// id other than 1 (strand's batching and decoding use those ids).
    ///
    /// ```
    /// use strand_model::t5::{FeedForwardProj, T5Config};
    /// let json = r#"{"vocab_size": 32128, "d_model": 512, "d_kv": 64, "num_heads": 6,
    ///   "d_ff": 1024, "num_layers": 8, "feed_forward_proj": "gated-gelu",
    ///   "tie_word_embeddings": false}"#;
    /// let c = T5Config::from_hf_json(json, "config.json").unwrap();
    /// assert_eq!((c.num_decoder_layers, c.feed_forward_proj), (8, FeedForwardProj::GatedGelu));
    /// assert!(!c.tie_word_embeddings);
    /// ```
    pub fn from_hf_json(text: &str, origin: &str) -> Result<Self, HfLoadError> {
        let err = |message: String| HfLoadError::Config {
            origin: origin.to_string(),
            message,
        };
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        let size = |key: &str, default: Option<usize>| -> Result<usize, HfLoadError> {
            match json.get(key) {
                Some(v) => v
                    .as_u64()
                    .map(|n| n as usize)
                    .ok_or_else(|| err(format!("`{key}` is not a non-negative integer: {v}"))),
                None => default.ok_or_else(|| err(format!("`{key}` is missing"))),
            }
        };
        let real = |key: &str, default: f64| -> Result<f64, HfLoadError> {
            match json.get(key) {
                Some(v) => v
                    .as_f64()
                    .ok_or_else(|| err(format!("`{key}` is not a number: {v}"))),
                None => Ok(default),
            }
        };
        let flag = |key: &str| -> Result<Option<bool>, HfLoadError> {
            match json.get(key) {
                Some(v) => v
                    .as_bool()
                    .map(Some)
                    .ok_or_else(|| err(format!("`{key}` is not a boolean: {v}"))),
                None => Ok(None),
            }
        };
        let feed_forward_proj = match json.get("feed_forward_proj").and_then(|v| v.as_str()) {
            None | Some("relu") => FeedForwardProj::Relu,
            Some("gated-gelu") => FeedForwardProj::GatedGelu,
            Some(other) => {
                return Err(err(format!(
                    "feed_forward_proj `{other}` is not supported (gated-gelu, relu)"
                )));
            }
        };
        refuse_unrepresentable(&json, feed_forward_proj).map_err(err)?;
        let num_layers = size("num_layers", None)?;
        let tie = match (flag("scale_decoder_outputs")?, flag("tie_word_embeddings")?) {
            // transformers 5 keeps a separate lm_head.weight of the checkpoint and still scales
            // the decoder output by d_model^-0.5: strand's untied head is never scaled.
            (Some(true), Some(false)) => {
                return Err(err(
                    "scale_decoder_outputs is true with tie_word_embeddings false \
                     (a separate LM head on scaled decoder states), which strand cannot \
                     represent"
                        .into(),
                ));
            }
            (Some(scale), _) => scale,
            (None, tie) => tie.unwrap_or(true),
        };
        Ok(T5Config::new(size("vocab_size", None)?)
            .with_d_model(size("d_model", None)?)
            .with_d_kv(size("d_kv", None)?)
            .with_num_heads(size("num_heads", None)?)
            .with_d_ff(size("d_ff", None)?)
            .with_num_layers(num_layers)
            .with_num_decoder_layers(size("num_decoder_layers", Some(num_layers))?)
            .with_relative_attention_num_buckets(size("relative_attention_num_buckets", Some(32))?)
            .with_relative_attention_max_distance(size(
                "relative_attention_max_distance",
                Some(128),
            )?)
            .with_layer_norm_epsilon(real("layer_norm_epsilon", 1e-6)?)
            .with_dropout_rate(real("dropout_rate", 0.1)?)
            .with_initializer_factor(real("initializer_factor", 1.0)?)
            .with_tie_word_embeddings(tie)
            .with_feed_forward_proj(feed_forward_proj))
    }
}

/// `Err(message naming the key)` for a `config.json` value strand's T5 cannot reproduce.
fn refuse_unrepresentable(json: &serde_json::Value, ff: FeedForwardProj) -> Result<(), String> {
    let text = |key: &str| json.get(key).and_then(|v| v.as_str());
    if let Some(t) = text("model_type")
        && t != "t5"
    {
        return Err(format!(
            "model_type `{t}` is not supported (strand reads `t5` configs)"
        ));
    }
    if let Some(list) = json.get("architectures").and_then(|v| v.as_array())
        && !list
            .iter()
            .any(|a| a.as_str() == Some("T5ForConditionalGeneration"))
    {
        return Err(format!(
            "architectures {} has no T5ForConditionalGeneration (strand needs the \
             encoder–decoder with its LM head)",
            serde_json::Value::Array(list.clone())
        ));
    }
    if json.get("is_encoder_decoder").and_then(|v| v.as_bool()) == Some(false) {
        return Err("is_encoder_decoder is false (strand's T5 is an encoder–decoder)".into());
    }
    let (act, gated) = match ff {
        FeedForwardProj::GatedGelu => ("gelu_new", true),
        FeedForwardProj::Relu => ("relu", false),
    };
    if let Some(a) = text("dense_act_fn")
        && a != act
    {
        return Err(format!(
            "dense_act_fn `{a}` with feed_forward_proj {ff:?} is not supported (strand uses \
             `{act}` there)"
        ));
    }
    if let Some(g) = json.get("is_gated_act").and_then(|v| v.as_bool())
        && g != gated
    {
        return Err(format!(
            "is_gated_act {g} disagrees with feed_forward_proj {ff:?}"
        ));
    }
    for (key, want) in [
        ("pad_token_id", PAD),
        ("decoder_start_token_id", PAD),
        ("eos_token_id", EOS),
    ] {
        let Some(v) = json.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let id = v
            .as_u64()
            .or_else(|| match v.as_array().map(Vec::as_slice) {
                Some([one]) => one.as_u64(),
                _ => None,
            });
        if id != Some(u64::from(want)) {
            return Err(format!(
                "{key} is {v}; strand's T5 uses {want} (pad and decoder start 0, eos 1)"
            ));
        }
    }
    Ok(())
}

impl T5Model {
    /// Replaces every weight by the one of the same Hugging Face name in a safetensors file.
    ///
    /// The model must have been built from the checkpoint's configuration (same sizes, tying
    /// and feed-forward kind); a missing or mis-shaped tensor is an error naming it.
    pub fn load_hf_safetensors(self, path: &Path) -> Result<Self, HfLoadError> {
        let bytes = std::fs::read(path).map_err(|source| HfLoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_hf_bytes(&bytes, &path.display().to_string())
    }

    /// [`Self::load_hf_safetensors`] from bytes; `origin` names them in errors.
    pub fn load_hf_bytes(self, bytes: &[u8], origin: &str) -> Result<Self, HfLoadError> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| HfLoadError::Format {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let loader = &Loader {
            st,
            origin: origin.to_string(),
            device: self.shared.weight.lazy_device(),
        };
        Ok(Self {
            shared: embedding(loader, self.shared, "shared.weight")?,
            encoder: stack(loader, self.encoder, "encoder")?,
            decoder: stack(loader, self.decoder, "decoder")?,
            lm_head: match self.lm_head {
                Some(head) => Some(linear(loader, head, "lm_head.weight")?),
                None => None,
            },
        })
    }
}

struct Loader<'a> {
    st: SafeTensors<'a>,
    origin: String,
    device: Device,
}

impl Loader<'_> {
    /// The tensor `name` as f32 values, checked against `expected` (HF layout).
    fn values(&self, name: &str, expected: &[usize]) -> Result<Vec<f32>, HfLoadError> {
        let view = self.st.tensor(name).map_err(|_| HfLoadError::Missing {
            origin: self.origin.clone(),
            name: name.to_string(),
        })?;
        if view.shape() != expected {
            return Err(HfLoadError::Shape {
                origin: self.origin.clone(),
                name: name.to_string(),
                expected: expected.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        let data = view.data();
        let values = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("chunk of 8")) as f32)
                .collect(),
            other => {
                return Err(HfLoadError::DType {
                    origin: self.origin.clone(),
                    name: name.to_string(),
                    dtype: format!("{other:?}"),
                });
            }
        };
        Ok(values)
    }
}

fn linear(ctx: &Loader<'_>, old: Linear, name: &str) -> Result<Linear, HfLoadError> {
    let (loader, device) = (ctx, &ctx.device);
    let [d_in, d_out] = old.weight.lazy_shape().dims();
    let hf = loader.values(name, &[d_out, d_in])?;
    // [out, in] → [in, out]
    let mut t = vec![0f32; hf.len()];
    for o in 0..d_out {
        for i in 0..d_in {
            t[i * d_out + o] = hf[o * d_in + i];
        }
    }
    let weight = Tensor::from_data(TensorData::new(t, [d_in, d_out]), device);
    Ok(Linear {
        weight: Param::from_tensor(weight),
        bias: None,
    })
}

fn embedding(ctx: &Loader<'_>, old: Embedding, name: &str) -> Result<Embedding, HfLoadError> {
    let (loader, device) = (ctx, &ctx.device);
    let [n, d] = old.weight.lazy_shape().dims();
    let values = loader.values(name, &[n, d])?;
    let weight = Tensor::from_data(TensorData::new(values, [n, d]), device);
    Ok(Embedding {
        weight: Param::from_tensor(weight),
    })
}

fn norm(ctx: &Loader<'_>, old: T5LayerNorm, name: &str) -> Result<T5LayerNorm, HfLoadError> {
    let (loader, device) = (ctx, &ctx.device);
    let [d] = old.weight.lazy_shape().dims();
    let values = loader.values(name, &[d])?;
    Ok(T5LayerNorm {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(values, [d]), device)),
        eps: old.eps,
    })
}

fn attention(ctx: &Loader<'_>, old: T5Attention, prefix: &str) -> Result<T5Attention, HfLoadError> {
    Ok(T5Attention {
        q: linear(ctx, old.q, &format!("{prefix}.q.weight"))?,
        k: linear(ctx, old.k, &format!("{prefix}.k.weight"))?,
        v: linear(ctx, old.v, &format!("{prefix}.v.weight"))?,
        o: linear(ctx, old.o, &format!("{prefix}.o.weight"))?,
        relative_attention_bias: match old.relative_attention_bias {
            Some(table) => Some(embedding(
                ctx,
                table,
                &format!("{prefix}.relative_attention_bias.weight"),
            )?),
            None => None,
        },
        ..old
    })
}

fn dense(
    ctx: &Loader<'_>,
    old: T5DenseReluDense,
    prefix: &str,
) -> Result<T5DenseReluDense, HfLoadError> {
    let input = match old.input {
        T5FeedForwardIn::GatedGelu(g) => T5FeedForwardIn::GatedGelu(T5GatedIn {
            wi_0: linear(ctx, g.wi_0, &format!("{prefix}.wi_0.weight"))?,
            wi_1: linear(ctx, g.wi_1, &format!("{prefix}.wi_1.weight"))?,
        }),
        T5FeedForwardIn::Relu(wi) => {
            T5FeedForwardIn::Relu(linear(ctx, wi, &format!("{prefix}.wi.weight"))?)
        }
    };
    Ok(T5DenseReluDense {
        input,
        wo: linear(ctx, old.wo, &format!("{prefix}.wo.weight"))?,
        dropout: old.dropout,
    })
}

fn block(ctx: &Loader<'_>, old: T5Block, prefix: &str) -> Result<T5Block, HfLoadError> {
    let mut sa = old.self_attention;
    sa.attention = attention(
        ctx,
        sa.attention,
        &format!("{prefix}.layer.0.SelfAttention"),
    )?;
    sa.layer_norm = norm(
        ctx,
        sa.layer_norm,
        &format!("{prefix}.layer.0.layer_norm.weight"),
    )?;
    let cross_attention = match old.cross_attention {
        Some(mut ca) => {
            ca.attention = attention(
                ctx,
                ca.attention,
                &format!("{prefix}.layer.1.EncDecAttention"),
            )?;
            ca.layer_norm = norm(
                ctx,
                ca.layer_norm,
                &format!("{prefix}.layer.1.layer_norm.weight"),
            )?;
            Some(ca)
        }
        None => None,
    };
    let ff_index = if cross_attention.is_some() { 2 } else { 1 };
    let mut ff = old.ff;
    ff.dense_relu_dense = dense(
        ctx,
        ff.dense_relu_dense,
        &format!("{prefix}.layer.{ff_index}.DenseReluDense"),
    )?;
    ff.layer_norm = norm(
        ctx,
        ff.layer_norm,
        &format!("{prefix}.layer.{ff_index}.layer_norm.weight"),
    )?;
    Ok(T5Block {
        self_attention: sa,
        cross_attention,
        ff,
    })
}

fn stack(ctx: &Loader<'_>, old: T5Stack, prefix: &str) -> Result<T5Stack, HfLoadError> {
    let blocks = old
        .block
        .into_iter()
        .enumerate()
        .map(|(i, b)| block(ctx, b, &format!("{prefix}.block.{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(T5Stack {
        block: blocks,
        final_layer_norm: norm(
            ctx,
            old.final_layer_norm,
            &format!("{prefix}.final_layer_norm.weight"),
        )?,
        dropout: old.dropout,
        is_decoder: old.is_decoder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""vocab_size": 48, "d_model": 32, "d_kv": 16, "num_heads": 2,
        "d_ff": 64, "num_layers": 2, "feed_forward_proj": "gated-gelu""#;

    #[test]
    fn unrepresentable_configs_are_refused_naming_the_key() {
        for (extra, key) in [
            (r#""model_type": "mt5""#, "model_type"),
            (r#""architectures": ["T5EncoderModel"]"#, "architectures"),
            (r#""is_encoder_decoder": false"#, "is_encoder_decoder"),
            (r#""dense_act_fn": "gelu""#, "dense_act_fn"),
            (r#""is_gated_act": false"#, "is_gated_act"),
            (r#""pad_token_id": 3"#, "pad_token_id"),
            (r#""decoder_start_token_id": 2"#, "decoder_start_token_id"),
            (r#""eos_token_id": [1, 5]"#, "eos_token_id"),
            (
                r#""scale_decoder_outputs": true, "tie_word_embeddings": false"#,
                "scale_decoder_outputs",
            ),
        ] {
            let text = format!("{{{BASE}, {extra}}}");
            let e = T5Config::from_hf_json(&text, "c.json")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("c.json: ") && e.contains(key), "{extra}: {e}");
        }
        let ok = format!(
            r#"{{{BASE}, "model_type": "t5", "dense_act_fn": "gelu_new", "is_gated_act": true,
            "eos_token_id": 1, "pad_token_id": 0, "decoder_start_token_id": 0,
            "architectures": ["T5ForConditionalGeneration"]}}"#
        );
        T5Config::from_hf_json(&ok, "c.json").unwrap();
        let e = T5Config::from_hf_json(
            &format!(r#"{{{BASE}, "feed_forward_proj": "gated-silu"}}"#)
                .replace(r#""feed_forward_proj": "gated-gelu", "#, ""),
            "c.json",
        );
        assert!(e.is_err());
    }
}
