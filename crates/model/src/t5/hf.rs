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
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use super::attention::T5Attention;
use super::block::T5Block;
use super::ff::T5DenseReluDense;
use super::model::T5Model;
use super::norm::T5LayerNorm;
use super::stack::T5Stack;

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

impl<B: Backend> T5Model<B> {
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
        let loader = &Loader::<B> {
            st,
            origin: origin.to_string(),
            device: self.shared.weight.device(),
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

struct Loader<'a, B: Backend> {
    st: SafeTensors<'a>,
    origin: String,
    device: B::Device,
}

impl<B: Backend> Loader<'_, B> {
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

fn linear<B: Backend>(
    ctx: &Loader<'_, B>,
    old: Linear<B>,
    name: &str,
) -> Result<Linear<B>, HfLoadError> {
    let (loader, device) = (ctx, &ctx.device);
    let [d_in, d_out] = old.weight.shape().dims();
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

fn embedding<B: Backend>(
    ctx: &Loader<'_, B>,
    old: Embedding<B>,
    name: &str,
) -> Result<Embedding<B>, HfLoadError> {
    let (loader, device) = (ctx, &ctx.device);
    let [n, d] = old.weight.shape().dims();
    let values = loader.values(name, &[n, d])?;
    let weight = Tensor::from_data(TensorData::new(values, [n, d]), device);
    Ok(Embedding {
        weight: Param::from_tensor(weight),
    })
}

fn norm<B: Backend>(
    ctx: &Loader<'_, B>,
    old: T5LayerNorm<B>,
    name: &str,
) -> Result<T5LayerNorm<B>, HfLoadError> {
    let (loader, device) = (ctx, &ctx.device);
    let [d] = old.weight.shape().dims();
    let values = loader.values(name, &[d])?;
    Ok(T5LayerNorm {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(values, [d]), device)),
        eps: old.eps,
    })
}

fn attention<B: Backend>(
    ctx: &Loader<'_, B>,
    old: T5Attention<B>,
    prefix: &str,
) -> Result<T5Attention<B>, HfLoadError> {
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

fn dense<B: Backend>(
    ctx: &Loader<'_, B>,
    old: T5DenseReluDense<B>,
    prefix: &str,
) -> Result<T5DenseReluDense<B>, HfLoadError> {
    let opt = |l: Option<Linear<B>>, n: &str| -> Result<Option<Linear<B>>, HfLoadError> {
        l.map(|l| linear(ctx, l, &format!("{prefix}.{n}.weight")))
            .transpose()
    };
    Ok(T5DenseReluDense {
        wi: opt(old.wi, "wi")?,
        wi_0: opt(old.wi_0, "wi_0")?,
        wi_1: opt(old.wi_1, "wi_1")?,
        wo: linear(ctx, old.wo, &format!("{prefix}.wo.weight"))?,
        dropout: old.dropout,
    })
}

fn block<B: Backend>(
    ctx: &Loader<'_, B>,
    old: T5Block<B>,
    prefix: &str,
) -> Result<T5Block<B>, HfLoadError> {
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

fn stack<B: Backend>(
    ctx: &Loader<'_, B>,
    old: T5Stack<B>,
    prefix: &str,
) -> Result<T5Stack<B>, HfLoadError> {
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
