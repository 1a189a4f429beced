//! `Conv1d(Embedding(ids)ᵀ)` with the embedding folded into the convolution.
//!
//! For a token sequence `x`, an embedding table `E` `[V, C]` and a convolution weight `W`
//! `[O, C, K]` (stride 1, no padding, no dilation, one group):
//!
//! `out[b, o, t] = bias[o] + Σ_k Σ_c W[o, c, k] · E[x[b, t + k], c]
//!              = bias[o] + Σ_k M[x[b, t + k]·K + k, o]`, with `M = E · W'` `[V·K, O]`.
//!
//! `M` costs `2·V·C·K·O` FLOPs (14k entries for the GB CNN) instead of `2·B·T·C·K·O` for the
//! convolution (403 MFLOP at batch 64), and the output comes from a gather of `M`'s rows plus
//! one matrix product that sums the `K` gathered rows. Gradients reach `E` and `W` through `M`
//! by ordinary autodiff.
//!
//! On cubecl (GPU) backends the gather's backward is slow (see [`super::lookup`]); there the
//! same function is a convolution of the one-hot input with the folded weight
//! `W'[o, v, k] = Σ_c W[o, c, k] · E[v, c]`, whose forward and backward are dense kernels.

use super::lookup::{Lookup, one_hot};
use burn::nn::conv::Conv1d;
use burn::nn::{Embedding, PaddingConfig1d};
use burn::tensor::{Int, Tensor};

/// `conv.forward(embedding.forward(ids).swap_dims(1, 2))`, computed with the embedding folded
/// into the convolution when the convolution allows it (stride 1, dilation 1, one group, no
/// padding) and folding pays (fewer output channels than the table has columns); otherwise
/// exactly that expression.
///
/// # Shapes
/// - `ids`: `[batch, len]`
/// - output: `[batch, c_out, len − kernel + 1]`
pub fn embedding_conv1d(embedding: &Embedding, conv: &Conv1d, ids: Tensor<2, Int>) -> Tensor<3> {
    let lookup = Lookup::for_device(&ids.device());
    embedding_conv1d_with(embedding, conv, ids, lookup)
}

/// [`embedding_conv1d`] with the lookup given instead of picked for the device.
///
/// # Shapes
/// - `ids`: `[batch, len]`
/// - output: `[batch, c_out, len − kernel + 1]`
pub fn embedding_conv1d_with(
    embedding: &Embedding,
    conv: &Conv1d,
    ids: Tensor<2, Int>,
    lookup: Lookup,
) -> Tensor<3> {
    table_conv1d_with(embedding.weight.val(), conv, ids, lookup)
}

/// [`embedding_conv1d_with`] for any lookup table, trained or constant (a one-hot encoding of
/// the bases is a constant `[vocab, 4]` table).
///
/// # Shapes
/// - `table`: `[vocab, c_in]`
/// - `ids`: `[batch, len]`, every id `< vocab`
/// - output: `[batch, c_out, len_out]` (the convolution's output length)
pub fn table_conv1d_with(
    table: Tensor<2>,
    conv: &Conv1d,
    ids: Tensor<2, Int>,
    lookup: Lookup,
) -> Tensor<3> {
    let [_, len] = ids.dims();
    // Folding trades the convolution's `B·T·K·C·O` multiply-adds for a gather and a sum over
    // the K gathered rows done as a matrix product (`B·T·K·O·O`): worth it only when the
    // convolution has fewer output channels than the table has columns (the GB CNN: 16 < 100).
    // A one-hot input (4 columns) into CNNProm's 200 filters costs 50× more folded (measured:
    // ~100 s per CNNProm E. coli epoch on the loaded 2-core machine).
    let [_, c_table] = table.dims();
    let foldable = conv.weight.dims()[0] < c_table
        && conv.stride == 1
        && conv.dilation == 1
        && conv.groups == 1
        && matches!(
            conv.padding,
            PaddingConfig1d::Valid | PaddingConfig1d::Explicit(0, 0)
        )
        && len >= conv.kernel_size;
    if !foldable {
        let x = super::lookup::embed_with(table, ids, lookup);
        return conv.forward(x.swap_dims(1, 2));
    }
    fold(
        ids,
        table,
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        lookup,
    )
}

/// The folded computation on raw tensors, with the lookup of `lookup`.
///
/// # Shapes
/// - `ids`: `[batch, len]`, every id `< vocab`
/// - `table`: `[vocab, c_in]`
/// - `weight`: `[c_out, c_in, kernel]`
/// - `bias`: `[c_out]`
/// - output: `[batch, c_out, len − kernel + 1]`
fn fold(
    ids: Tensor<2, Int>,
    table: Tensor<2>,
    weight: Tensor<3>,
    bias: Option<Tensor<1>>,
    lookup: Lookup,
) -> Tensor<3> {
    let [vocab, c_in] = table.dims();
    let [c_out, w_in, kernel] = weight.dims();
    assert_eq!(
        c_in, w_in,
        "embedding width {c_in} does not match the convolution's input channels {w_in}"
    );
    if lookup == Lookup::OneHot {
        // W'[o, v, k] = Σ_c E[v, c] · W[o, c, k]: [V, C]·[C, O·K] → [V, O, K] → [O, V, K]
        let w = weight.swap_dims(0, 1).reshape([c_in, c_out * kernel]);
        let folded = table
            .matmul(w)
            .reshape([vocab, c_out, kernel])
            .swap_dims(0, 1);
        let x = one_hot(ids, vocab, 1);
        return burn::tensor::module::conv1d(
            x,
            folded,
            bias,
            burn::tensor::ops::ConvOptions::new([1], [0], [1], 1),
        );
    }
    let [batch, len] = ids.dims();
    let t = len - kernel + 1;
    let device = table.device();

    // M[v·K + k, o] = Σ_c E[v, c] · W[o, c, k]
    let w = weight.permute([1, 2, 0]).reshape([c_in, kernel * c_out]);
    let m = table.matmul(w).reshape([vocab * kernel, c_out]);

    // idx[b, t, k] = ids[b, t + k]·K + k
    let k_i64 = kernel as i64;
    let columns = (0..kernel)
        .map(|k| {
            ids.clone()
                .slice([0..batch, k..k + t])
                .mul_scalar(k_i64)
                .add_scalar(k as i64)
                .unsqueeze_dim::<3>(2)
        })
        .collect();
    let idx = Tensor::cat(columns, 2).reshape([batch, t * kernel]);

    // Gather [B, T·K, O] → [B·T, K·O]; sum the K rows of each position with one matrix product
    // against K stacked identities (its backward is a matrix product too, where a `sum_dim`
    // over the middle axis would broadcast in the backward pass).
    let gathered = burn::tensor::module::embedding(m, idx).reshape([batch * t, kernel * c_out]);
    let sum_k = Tensor::<2>::eye(c_out, &device).repeat_dim(0, kernel);
    let out = gathered.matmul(sum_k).reshape([batch, t, c_out]);
    let out = match bias {
        Some(b) => out + b.reshape([1, 1, c_out]),
        None => out,
    };
    out.swap_dims(1, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::EmbeddingConfig;
    use burn::nn::conv::Conv1dConfig;
    use burn::tensor::{Device, Distribution, Tolerance};

    fn ids(batch: usize, len: usize, vocab: usize) -> Tensor<2, Int> {
        Tensor::random(
            [batch, len],
            Distribution::Uniform(0.0, vocab as f64),
            &Device::flex().autodiff(),
        )
    }

    fn reference(e: &Embedding, c: &Conv1d, x: Tensor<2, Int>) -> Tensor<3> {
        c.forward(e.forward(x).swap_dims(1, 2))
    }

    #[test]
    fn matches_embedding_then_conv1d_outputs_and_gradients_with_either_lookup() {
        let dev = Device::flex().autodiff();
        for (vocab, c_in, c_out, kernel, bias, lookup) in [
            (109, 100, 16, 8, true, Lookup::Gather),
            (7, 5, 3, 1, false, Lookup::Gather),
            (12, 4, 6, 3, true, Lookup::Gather),
            (109, 100, 16, 8, true, Lookup::OneHot),
            (7, 5, 3, 1, false, Lookup::OneHot),
            (12, 4, 6, 3, true, Lookup::OneHot),
        ] {
            let e = EmbeddingConfig::new(vocab, c_in).init(&dev);
            let c = Conv1dConfig::new(c_in, c_out, kernel)
                .with_bias(bias)
                .init(&dev);
            let x = ids(3, 29, vocab);
            let probe = Tensor::<3>::random(
                [3, c_out, 29 - kernel + 1],
                Distribution::Normal(0.0, 1.0),
                &dev,
            );

            let want = reference(&e, &c, x.clone());
            let got = embedding_conv1d_with(&e, &c, x, lookup);
            got.to_data()
                .assert_approx_eq::<f32>(&want.to_data(), Tolerance::rel_abs(1e-4, 1e-5));

            let g_want = (want * probe.clone()).sum().backward();
            let g_got = (got * probe).sum().backward();
            let tol = Tolerance::rel_abs(1e-4, 1e-4);
            let grad_e = |g| e.weight.grad(g).unwrap().into_data();
            grad_e(&g_got).assert_approx_eq::<f32>(&grad_e(&g_want), tol);
            let grad_w = |g| c.weight.grad(g).unwrap().into_data();
            grad_w(&g_got).assert_approx_eq::<f32>(&grad_w(&g_want), tol);
            if let Some(b) = &c.bias {
                let grad_b = |g| b.grad(g).unwrap().into_data();
                grad_b(&g_got).assert_approx_eq::<f32>(&grad_b(&g_want), tol);
            }
        }
    }

    #[test]
    fn unfoldable_convolutions_take_the_plain_path() {
        let dev = Device::flex().autodiff();
        let e = EmbeddingConfig::new(9, 6).init(&dev);
        let c = Conv1dConfig::new(6, 4, 3)
            .with_stride(2)
            .with_padding(PaddingConfig1d::Explicit(1, 1))
            .init(&dev);
        let x = ids(2, 17, 9);
        let want = reference(&e, &c, x.clone());
        let got = embedding_conv1d(&e, &c, x);
        assert_eq!(got.dims(), want.dims());
        got.to_data()
            .assert_approx_eq::<f32>(&want.to_data(), Tolerance::rel_abs(1e-6, 1e-7));
    }
}
