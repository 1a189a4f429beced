//! Multi-head attention as in T5 (`T5Attention`): bias-free `q k v o`, no `1/√d_kv` scaling,
//! an optional learned relative position bias (block 0 of each stack only), and boolean masks
//! applied by filling masked scores with the most negative finite f32 before the softmax.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, Linear};
use burn::tensor::{Bool, DType, Device, Tensor};

use super::config::T5Config;
use super::init::{InitStd, embedding, linear};
use super::position::bucket_tensor;

/// Value given to masked scores: finite, so a fully masked row gives a uniform row, not NaN.
const MASKED: f32 = f32::MIN;

/// One T5 attention module; field names mirror Hugging Face (`SelfAttention` / `EncDecAttention`).
#[derive(Module, Debug)]
pub struct T5Attention {
    /// `d_model → H·d_kv`.
    pub q: Linear,
    /// `d_model → H·d_kv`.
    pub k: Linear,
    /// `d_model → H·d_kv`.
    pub v: Linear,
    /// `H·d_kv → d_model`.
    pub o: Linear,
    /// `[num_buckets, H]` bias table; only in block 0's self-attention of each stack.
    pub relative_attention_bias: Option<Embedding>,
    /// Dropout on the attention probabilities.
    pub dropout: Dropout,
    /// Number of heads `H`.
    pub n_heads: usize,
    /// Size of one head.
    pub d_kv: usize,
    /// Decoder self-attention uses causal (unidirectional) buckets.
    pub is_decoder: bool,
    /// Number of relative position buckets.
    pub num_buckets: usize,
    /// Distance from which relative positions share the last bucket.
    pub max_distance: usize,
}

impl T5Attention {
    /// Randomly initialised attention; `has_relative_bias` only for block 0's self-attention.
    pub fn new(
        config: &T5Config,
        is_decoder: bool,
        has_relative_bias: bool,
        device: &Device,
    ) -> Self {
        let std = InitStd::of(config);
        let (d, inner) = (config.d_model, config.inner_dim());
        Self {
            q: linear(d, inner, std.q, device),
            k: linear(d, inner, std.kv, device),
            v: linear(d, inner, std.kv, device),
            o: linear(inner, d, std.o, device),
            relative_attention_bias: has_relative_bias.then(|| {
                embedding(
                    config.relative_attention_num_buckets,
                    config.num_heads,
                    std.relative_bias,
                    device,
                )
            }),
            dropout: DropoutConfig::new(config.dropout_rate).init(),
            n_heads: config.num_heads,
            d_kv: config.d_kv,
            is_decoder,
            num_buckets: config.relative_attention_num_buckets,
            max_distance: config.relative_attention_max_distance,
        }
    }

    /// The relative position bias of this module's table, `None` without a table.
    ///
    /// Bidirectional buckets in the encoder, causal buckets in the decoder.
    ///
    /// # Shapes
    /// - output: `[1, H, q_len, k_len]`
    pub fn compute_bias(&self, q_len: usize, k_len: usize, device: &Device) -> Option<Tensor<4>> {
        let table = self.relative_attention_bias.as_ref()?;
        let buckets = bucket_tensor(
            q_len,
            k_len,
            !self.is_decoder,
            self.num_buckets,
            self.max_distance,
            device,
        );
        // [q, k, H] → [H, q, k] → [1, H, q, k]
        let bias = crate::ops::embed(table, buckets);
        Some(bias.permute([2, 0, 1]).unsqueeze_dim(0))
    }

    /// Attention of `x` over itself (`kv = None`) or over `kv` (cross-attention).
    ///
    /// `position_bias` is added to the raw scores; `mask` is true where a key must be ignored.
    ///
    /// # Shapes
    /// - x: `[B, Tq, d_model]`
    /// - kv: `[B, Tk, d_model]` (`Tk = Tq` when `None`)
    /// - position_bias: `[1 or B, H, Tq, Tk]`
    /// - mask: `[1 or B, 1 or H, 1 or Tq, Tk]`, broadcast to `[B, H, Tq, Tk]`
    /// - output: `[B, Tq, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        kv: Option<Tensor<3>>,
        position_bias: Option<Tensor<4>>,
        mask: Option<Tensor<4, Bool>>,
    ) -> Tensor<3> {
        let [batch, q_len, _] = x.dims();
        let source = kv.unwrap_or_else(|| x.clone());
        let k_len = source.dims()[1];
        let heads = |t: Tensor<3>, len: usize| {
            t.reshape([batch, len, self.n_heads, self.d_kv])
                .swap_dims(1, 2)
        };
        let q = heads(self.q.forward(x), q_len);
        let k = heads(self.k.forward(source.clone()), k_len);
        let v = heads(self.v.forward(source), k_len);

        // No 1/√d_kv: T5 folds it into the initialisation of q.
        let mut scores = q.matmul(k.swap_dims(2, 3));
        if let Some(bias) = position_bias {
            scores = scores + bias;
        }
        let dtype = scores.dtype();
        let mut scores = scores.cast(DType::F32);
        if let Some(mask) = mask {
            scores = scores.mask_fill(mask.expand([batch, self.n_heads, q_len, k_len]), MASKED);
        }
        let probs = self
            .dropout
            .forward(crate::ops::fused::softmax_last(scores).cast(dtype));
        let out = probs
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, q_len, self.n_heads * self.d_kv]);
        self.o.forward(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Distribution, TensorData};

    fn config() -> T5Config {
        T5Config::new(16)
            .with_d_model(8)
            .with_d_kv(3)
            .with_num_heads(2)
            .with_dropout_rate(0.0)
    }

    #[test]
    fn shapes_self_and_cross() {
        let device = Device::flex();
        let attn = T5Attention::new(&config(), false, true, &device);
        let x = Tensor::<3>::random([2, 5, 8], Distribution::Default, &device);
        let enc = Tensor::<3>::random([2, 7, 8], Distribution::Default, &device);
        let bias = attn.compute_bias(5, 5, &device).unwrap();
        assert_eq!(bias.dims(), [1, 2, 5, 5]);
        assert_eq!(
            attn.forward(x.clone(), None, Some(bias), None).dims(),
            [2, 5, 8]
        );
        assert_eq!(attn.forward(x, Some(enc), None, None).dims(), [2, 5, 8]);
    }

    #[test]
    fn scores_are_not_scaled() {
        // One head of size 4, identity projections: the output for two keys is
        // softmax(q·k) over the values, which differs from softmax(q·k/2).
        let device = Device::flex();
        let c = T5Config::new(4)
            .with_d_model(4)
            .with_d_kv(4)
            .with_num_heads(1)
            .with_dropout_rate(0.0);
        let mut attn = T5Attention::new(&c, false, false, &device);
        let eye = || Param::from_tensor(Tensor::<2>::eye(4, &device));
        attn.q.weight = eye();
        attn.k.weight = eye();
        attn.v.weight = eye();
        attn.o.weight = eye();
        let x = Tensor::<3>::from_data(
            TensorData::from([[[1.0f32, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0]]]),
            &device,
        );
        let y = attn
            .forward(x, None, None, None)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // query 0: scores [1, 0] → weights [e/(e+1), 1/(e+1)].
        let w0 = std::f32::consts::E / (std::f32::consts::E + 1.0);
        assert!((y[0] - w0).abs() < 1e-6, "{y:?}");
        assert!((y[1] - 2.0 * (1.0 - w0)).abs() < 1e-6, "{y:?}");
    }

    #[test]
    fn masked_keys_are_ignored_and_full_mask_is_finite() {
        let device = Device::flex();
        let attn = T5Attention::new(&config(), false, false, &device);
        let x = Tensor::<3>::random([1, 4, 8], Distribution::Default, &device);
        // Masking key 3 equals dropping it from the keys.
        let mask = Tensor::<4, Bool>::from_data(
            TensorData::from([[[[false, false, false, true]]]]),
            &device,
        );
        let masked = attn.forward(x.clone(), Some(x.clone()), None, Some(mask));
        let short = attn.forward(x.clone(), Some(x.clone().narrow(1, 0, 3)), None, None);
        let d: f32 = (masked - short).abs().max().into_scalar();
        assert!(d < 1e-5, "{d}");
        // A fully masked row stays finite.
        let all = Tensor::<4, Bool>::from_data(TensorData::from([[[[true; 4]]]]), &device);
        let y = attn.forward(x.clone(), Some(x), None, Some(all));
        assert!(!y.is_nan().any().into_scalar::<bool>());
    }
}
