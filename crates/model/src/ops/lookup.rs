//! Table lookups (embeddings) computed the way the device's backend runs fastest.
//!
//! burn's `embedding` is a row gather whose backward is `select_add` into the table. On the CPU
//! (burn-flex) that is the cheapest formulation. On the cubecl backends (CUDA, and wgpu/HIP alike)
//! the `select_assign` kernel of burn-cubecl (0.21, unchanged in 0.22.1) starts one thread per
//! *column* of the table and
//! loops over every looked-up row in sequence: 16 threads walking 2 M rows for the GB CNN's
//! folded convolution at batch 1024, 8 threads walking `q_len · k_len` rows for T5's relative
//! position bias. That loop is the likely reason the CNN's GPU step grew linearly with the
//! batch (README, Performance; read from the kernel's source, not yet re-measured on a GPU).
//! There, a lookup is a one-hot matrix product instead: the forward and the table's gradient
//! are dense matrix products, which the GPU runs at full width.

use burn::nn::Embedding;
use burn::tensor::Device;
use burn::tensor::{Int, Tensor};

/// How a lookup is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Row gather; the table's gradient is a scatter-add (burn-flex, the CPU backend).
    Gather,
    /// One-hot rows times the table; the table's gradient is a matrix product (cubecl backends).
    OneHot,
}

impl Lookup {
    /// The faster lookup on `device`: [`Lookup::Gather`] on the Flex CPU device
    /// ([`Device::flex`], with or without autodiff: device equality ignores it), else
    /// [`Lookup::OneHot`] (the cubecl GPU and CPU runtimes, and any other backend).
    pub fn for_device(device: &Device) -> Self {
        if *device == Device::flex() {
            Lookup::Gather
        } else {
            Lookup::OneHot
        }
    }
}

/// `embedding.forward(ids)`, with the lookup [`Lookup::for_device`] picks.
///
/// # Shapes
/// - `ids`: `[batch, len]`, every id `< vocab`
/// - output: `[batch, len, d]`
pub fn embed(embedding: &Embedding, ids: Tensor<2, Int>) -> Tensor<3> {
    let lookup = Lookup::for_device(&ids.device());
    embed_with(embedding.weight.val(), ids, lookup)
}

/// Rows of `table` at `ids`, computed with `lookup`.
///
/// # Shapes
/// - `table`: `[vocab, d]`
/// - `ids`: `[batch, len]`, every id `< vocab`
/// - output: `[batch, len, d]`
pub fn embed_with(table: Tensor<2>, ids: Tensor<2, Int>, lookup: Lookup) -> Tensor<3> {
    match lookup {
        Lookup::Gather => burn::tensor::module::embedding(table, ids),
        Lookup::OneHot => {
            let [batch, len] = ids.dims();
            let [vocab, d] = table.dims();
            one_hot(ids, vocab, 2)
                .reshape([batch * len, vocab])
                .matmul(table)
                .reshape([batch, len, d])
        }
    }
}

/// Rows of `table` weighted by the float `weights` over its first `k` ids: a one-hot row gives
/// exactly the row of its id (`embed_with(table, ids, _)` for `weights = one_hot(ids, k, 2)`),
/// and the gradient with respect to `weights` is what saliency maps read (`strand interpret`).
///
/// # Shapes
/// - `table`: `[vocab, d]`
/// - `weights`: `[batch, len, k]`, `k <= vocab`
/// - output: `[batch, len, d]`
pub fn embed_weighted(table: Tensor<2>, weights: Tensor<3>) -> Tensor<3> {
    let [batch, len, k] = weights.dims();
    let [vocab, d] = table.dims();
    assert!(
        k <= vocab,
        "embed_weighted: {k} weights per token for a table of {vocab} rows"
    );
    let table = if k < vocab {
        table.narrow(0, 0, k)
    } else {
        table
    };
    weights
        .reshape([batch * len, k])
        .matmul(table)
        .reshape([batch, len, d])
}

/// One-hot floats of `ids` with the class axis inserted at `axis` (1 or 2), built by one
/// broadcast comparison on the device (burn's `one_hot` reads the ids back to the host).
/// An id outside `0..classes` gives an all-zero row.
///
/// # Shapes
/// - `ids`: `[batch, len]`
/// - output: `[batch, classes, len]` (`axis` 1) or `[batch, len, classes]` (`axis` 2)
pub fn one_hot(ids: Tensor<2, Int>, classes: usize, axis: usize) -> Tensor<3> {
    let [batch, len] = ids.dims();
    let device = ids.device();
    let classes_i = Tensor::<1, Int>::arange(0..classes as i64, &device);
    let (shape, ids, classes_i) = match axis {
        1 => (
            [batch, classes, len],
            ids.unsqueeze_dim::<3>(1),
            classes_i.reshape([1, classes, 1]),
        ),
        2 => (
            [batch, len, classes],
            ids.unsqueeze_dim::<3>(2),
            classes_i.reshape([1, 1, classes]),
        ),
        _ => panic!("one_hot: axis must be 1 or 2, not {axis}"),
    };
    ids.expand(shape).equal(classes_i.expand(shape)).float()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    #[test]
    fn cpu_backends_gather() {
        assert_eq!(
            Lookup::for_device(&Device::flex().autodiff()),
            Lookup::Gather
        );
        assert_eq!(Lookup::for_device(&Device::flex()), Lookup::Gather);
    }

    #[test]
    fn one_hot_marks_each_id_on_either_axis() {
        let dev = Device::flex();
        let ids = Tensor::<2, Int>::from_data(TensorData::from([[2i64, 0, 3]]), &dev);
        let last = one_hot(ids.clone(), 4, 2);
        last.into_data().assert_eq(
            &TensorData::from([[
                [0.0f32, 0.0, 1.0, 0.0],
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ]]),
            false,
        );
        let mid = one_hot(ids, 4, 1);
        mid.into_data().assert_eq(
            &TensorData::from([[
                [0.0f32, 1.0, 0.0],
                [0.0, 0.0, 0.0],
                [1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0],
            ]]),
            false,
        );
    }

    #[test]
    fn weighted_one_hot_rows_are_the_gathered_rows() {
        let dev = Device::flex();
        let table = Tensor::<2>::random([11, 6], Distribution::Normal(0.0, 1.0), &dev);
        let ids = Tensor::<2, Int>::random([3, 17], Distribution::Uniform(0.0, 9.0), &dev);
        let want = embed_with(table.clone(), ids.clone(), Lookup::Gather);
        // Weights over the first 9 ids only: the remaining rows of the table are never read.
        let got = embed_weighted(table, one_hot(ids, 9, 2));
        got.into_data()
            .assert_approx_eq::<f32>(&want.into_data(), Tolerance::default());
    }

    #[test]
    fn one_hot_and_gather_give_the_same_rows_and_table_gradient() {
        let dev = Device::flex().autodiff();
        let table = Tensor::<2>::random([11, 6], Distribution::Normal(0.0, 1.0), &dev);
        let ids = Tensor::<2, Int>::random([3, 17], Distribution::Uniform(0.0, 11.0), &dev);
        let probe = Tensor::<3>::random([3, 17, 6], Distribution::Normal(0.0, 1.0), &dev);

        let mut results = Vec::new();
        for lookup in [Lookup::Gather, Lookup::OneHot] {
            let t = Tensor::<2>::from_data(table.to_data(), &dev).require_grad();
            let out = embed_with(t.clone(), ids.clone(), lookup);
            let grads = (out.clone() * probe.clone()).sum().backward();
            results.push((out.into_data(), t.grad(&grads).unwrap().into_data()));
        }
        let tol = Tolerance::rel_abs(1e-5, 1e-6);
        results[1].0.assert_approx_eq::<f32>(&results[0].0, tol);
        results[1].1.assert_approx_eq::<f32>(&results[0].1, tol);
        // Repeated ids accumulate: the gradient is not just the probe at one position.
        let g: Vec<f32> = results[0].1.try_to_vec().unwrap();
        assert!(g.iter().any(|v| v.abs() > 1e-3));
    }
}
