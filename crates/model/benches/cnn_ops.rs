//! Per-layer timing of the Genomic Benchmarks CNN's training step on the CPU backend
//! (burn-flex): forward + backward of each layer in isolation, burn's modules next to the
//! formulations in `strand_model::ops`, then whole training steps (forward, backward, Adam) of
//! both. `cargo bench --release -p strand-model --bench cnn_ops [-- BATCH]`.
//!
//! Plain `std::time` timing (median of repeated runs), no criterion: the point is the table.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::MaxPool1dConfig;
use burn::nn::{BatchNorm, BatchNormConfig, Embedding, EmbeddingConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use std::time::Instant;
use strand_model::classifier::{Objective, Targets};
use strand_model::cnn::CnnConfig;
use strand_model::ops;

/// burn-flex with autodiff: every measurement is a training step's work.
fn device() -> Device {
    Device::flex().autodiff()
}

const VOCAB: usize = 109;
const LEN: usize = 253; // 251 bp + BOS + EOS

/// Median milliseconds of `reps` runs of `f` after one warm-up run.
fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[t.len() / 2]
}

/// Forward + backward of `f` on a random `[B, C, L]` input, until the input gradient is on the
/// host.
fn fwd_bwd(shape: [usize; 3], f: impl Fn(Tensor<3>) -> Tensor<3>) -> f64 {
    let x = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &device());
    median_ms(7, || {
        let xr = x.clone().require_grad();
        let g = f(xr.clone()).sum().backward();
        let _ = xr.grad(&g).expect("input gradient").into_data();
    })
}

fn ids(batch: usize) -> Tensor<2, Int> {
    Tensor::random([batch, LEN], Distribution::Uniform(104.0, 109.0), &device())
}

fn emb_conv_ms(batch: usize, e: &Embedding, c: &Conv1d, folded: bool) -> f64 {
    let x = ids(batch);
    median_ms(7, || {
        let y = if folded {
            ops::embedding_conv1d(e, c, x.clone())
        } else {
            c.forward(e.forward(x.clone()).swap_dims(1, 2))
        };
        let g = y.sum().backward();
        let _ = e.weight.grad(&g).expect("embedding gradient").into_data();
    })
}

fn train_step_ms(batch: usize, fast: bool) -> f64 {
    let dev = device();
    let mut model = Some(CnnConfig::new(VOCAB, LEN, 1).init(&dev));
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let x = ids(batch);
    let y: Vec<i64> = (0..batch as i64).map(|i| i % 2).collect();
    let targets = Targets::Classes(Tensor::from_data(TensorData::new(y, [batch]), &dev));
    median_ms(9, || {
        let m = model.take().expect("model");
        let logits = if fast {
            forward_fast(&m, x.clone())
        } else {
            forward_modules(&m, x.clone())
        };
        let loss = Objective::BinaryLogit.loss(logits, &targets);
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        model = Some(optim.step(1e-3, m, grads));
    })
}

/// The CNN through burn's modules only.
fn forward_modules(m: &strand_model::cnn::Cnn, x: Tensor<2, Int>) -> Tensor<2> {
    let mut h = m.embedding.forward(x).swap_dims(1, 2);
    for b in &m.blocks {
        let y = b.norm.forward(b.conv.forward(h));
        h = b.pool.forward(if b.relu { relu(y) } else { y });
    }
    m.output.forward(m.hidden.forward(h.flatten(1, 2)))
}

/// The CNN with `ops::embedding_conv1d` and `ops::batch_norm`.
fn forward_fast(m: &strand_model::cnn::Cnn, x: Tensor<2, Int>) -> Tensor<2> {
    let mut h = ops::embedding_conv1d(&m.embedding, &m.blocks[0].conv, x);
    for (i, b) in m.blocks.iter().enumerate() {
        if i > 0 {
            h = b.conv.forward(h);
        }
        let y = ops::batch_norm(&b.norm, h);
        h = b.pool.forward(if b.relu { relu(y) } else { y });
    }
    m.output.forward(m.hidden.forward(h.flatten(1, 2)))
}

fn main() {
    let batch: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(64);
    let dev = device();
    let e = EmbeddingConfig::new(VOCAB, 100).init(&dev);
    let c1 = Conv1dConfig::new(100, 16, 8).init(&dev);
    let c2 = Conv1dConfig::new(16, 8, 8).init(&dev);
    let bn: BatchNorm = BatchNormConfig::new(16).init(&dev);
    let pool = MaxPool1dConfig::new(2).init();
    let l1 = LEN - 7;

    println!("GB CNN on burn-flex, batch {batch}, {LEN} tokens: forward + backward, median ms");
    println!("| layer | burn modules | strand_model::ops |");
    println!("|---|---:|---:|");
    println!(
        "| embedding → conv1 (100→16, k8) | {:.2} | {:.2} |",
        emb_conv_ms(batch, &e, &c1, false),
        emb_conv_ms(batch, &e, &c1, true)
    );
    println!(
        "| batch norm (16 ch, {l1}) | {:.2} | {:.2} |",
        fwd_bwd([batch, 16, l1], |x| bn.forward(x)),
        fwd_bwd([batch, 16, l1], |x| ops::batch_norm(&bn, x))
    );
    let relu_ms = fwd_bwd([batch, 16, l1], relu);
    println!("| relu | {relu_ms:.2} | {relu_ms:.2} |");
    let pool_ms = fwd_bwd([batch, 16, l1], |x| pool.forward(x));
    println!("| max-pool 2 | {pool_ms:.2} | {pool_ms:.2} |");
    let c2_ms = fwd_bwd([batch, 16, l1 / 2], |x| c2.forward(x));
    println!("| conv2 (16→8, k8) | {c2_ms:.2} | {c2_ms:.2} |");
    println!(
        "| **training step** (forward, backward, Adam) | {:.1} | {:.1} |",
        train_step_ms(batch, false),
        train_step_ms(batch, true)
    );
}
