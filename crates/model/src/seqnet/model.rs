//! The burn module of a layer list ([`LayerNet`]) and its forward pass.
//!
//! The input and a first convolution go through [`crate::ops::table_conv1d_with`] (the
//! embedding or one-hot table folded into the convolution, the CNN's fast path on every
//! backend); batch norm through [`crate::ops::batch_norm`]. A list written like the Genomic
//! Benchmarks CNN therefore runs exactly the operations of [`crate::cnn::Cnn`], in the same
//! order, and draws its initial weights in the same order (burn initialises parameters lazily,
//! on first use): same seed, same numbers (the quickstart and the README's cnn-gb results
//! reproduce).

use super::shape::{Feat, LayerNetConfig, LayerRow};
use super::spec::{Activation, InputSpec, LayerSpec, Padding};
use crate::classifier::{SequenceModel, TokenBatch};
use crate::ops::lookup::{Lookup, embed_weighted, embed_with};
use crate::tokenize::FIRST_REGULAR;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{AvgPool1d, AvgPool1dConfig, MaxPool1d, MaxPool1dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm,
    LayerNormConfig, Linear, LinearConfig, PaddingConfig1d,
};
use burn::tensor::activation::{gelu, relu, sigmoid, softplus, tanh};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// A layer without parameters or state, applied by a fixed function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedOp {
    Activation(Activation),
    GlobalMaxPool,
    GlobalAvgPool,
    Flatten,
}

/// Holder of a [`FixedOp`] (no parameters).
#[derive(Module, Debug)]
pub struct Fixed {
    #[module(skip)]
    pub op: FixedOp,
}

/// `x + f(x)`.
#[derive(Module, Debug)]
pub struct Residual {
    pub layers: Vec<Layer>,
}

/// One built layer; tensor paths in the weights file follow the list (`layers.3.Conv.weight`).
#[derive(Module, Debug)]
pub enum Layer {
    Conv(Conv1d),
    BatchNorm(BatchNorm),
    LayerNorm(LayerNorm),
    MaxPool(MaxPool1d),
    AvgPool(AvgPool1d),
    Dropout(Dropout),
    Residual(Residual),
    Dense(Linear),
    Fixed(Fixed),
}

/// What flows between layers.
#[derive(Debug, Clone)]
enum X {
    /// `[batch, channels, length]`
    Seq(Tensor<3>),
    /// `[batch, features]`
    Flat(Tensor<2>),
}

/// A network built from a layer list; build it with [`LayerNetConfig::init`].
#[derive(Module, Debug)]
pub struct LayerNet {
    /// The learned input table (`None` for one-hot input).
    pub embedding: Option<Embedding>,
    pub layers: Vec<Layer>,
    pub vocab_size: usize,
    pub input_len: usize,
    pub n_out: usize,
}

/// The constant one-hot table of [`InputSpec::OneHot`]: the nucleotide tokenizer's A, C, G, T
/// ids map to unit rows, N to 0.25 in each channel, every other id to zeros.
///
/// # Shapes
/// - output: `[vocab, 4]`
pub fn one_hot_table(vocab: usize, device: &Device) -> Tensor<2> {
    let mut data = vec![0f32; vocab * 4];
    for base in 0..4 {
        let id = FIRST_REGULAR as usize + base;
        if id < vocab {
            data[id * 4 + base] = 1.0;
        }
    }
    let n = FIRST_REGULAR as usize + 4;
    if n < vocab {
        data[n * 4..n * 4 + 4].fill(0.25);
    }
    Tensor::from_data(TensorData::new(data, [vocab, 4]), device)
}

impl LayerNetConfig {
    /// Builds the network with PyTorch-like default initialisation.
    ///
    /// # Panics
    /// If the configuration does not check (build it with [`LayerNetConfig::new`]).
    pub fn init(&self, device: &Device) -> LayerNet {
        if let Err(e) = self.rows() {
            panic!("invalid LayerNetConfig: {e}");
        }
        let embedding = match self.input {
            InputSpec::Embedding { dim } => {
                Some(EmbeddingConfig::new(self.vocab_size, dim).init(device))
            }
            InputSpec::OneHot => None,
        };
        let rows = self.rows().expect("checked above");
        let mut rows = rows[1..].iter();
        let mut width = self.input_channels();
        LayerNet {
            embedding,
            layers: build(&self.layers, &mut rows, &mut width, self.n_out, device),
            vocab_size: self.vocab_size,
            input_len: self.input_len,
            n_out: self.n_out,
        }
    }
}

/// Builds `layers` from an input of `width` channels (or features), leaving the output's;
/// `rows` are the checked shapes of [`LayerNetConfig::rows`] in the same order (a residual
/// block's row, then its layers').
fn build<'a>(
    layers: &[LayerSpec],
    rows: &mut impl Iterator<Item = &'a LayerRow>,
    width: &mut usize,
    n_out: usize,
    device: &Device,
) -> Vec<Layer> {
    let mut built = Vec::with_capacity(layers.len());
    for spec in layers {
        let row = rows.next().expect("one checked row per layer");
        let layer = match spec {
            LayerSpec::Conv1d {
                filters,
                kernel,
                stride,
                dilation,
                padding,
                bias,
            } => {
                let padding = match padding {
                    Padding::Valid => PaddingConfig1d::Valid,
                    Padding::Same => {
                        let total = dilation * (kernel - 1);
                        PaddingConfig1d::Explicit(total / 2, total - total / 2)
                    }
                };
                let conv = Conv1dConfig::new(*width, *filters, *kernel)
                    .with_stride(*stride)
                    .with_dilation(*dilation)
                    .with_padding(padding)
                    .with_bias(*bias)
                    .init(device);
                Layer::Conv(conv)
            }
            LayerSpec::BatchNorm => Layer::BatchNorm(BatchNormConfig::new(*width).init(device)),
            LayerSpec::LayerNorm => {
                Layer::LayerNorm(LayerNormConfig::new(*width).with_epsilon(1e-5).init(device))
            }
            LayerSpec::Activation { function } => Layer::Fixed(Fixed {
                op: FixedOp::Activation(*function),
            }),
            LayerSpec::MaxPool { size, stride } => Layer::MaxPool(
                MaxPool1dConfig::new(*size)
                    .with_stride(stride.unwrap_or(*size))
                    .init(),
            ),
            LayerSpec::AvgPool { size, stride } => Layer::AvgPool(
                AvgPool1dConfig::new(*size)
                    .with_stride(stride.unwrap_or(*size))
                    .init(),
            ),
            LayerSpec::Dropout { rate } => Layer::Dropout(DropoutConfig::new(*rate).init()),
            LayerSpec::Residual { layers, .. } => {
                let mut inner = *width;
                Layer::Residual(Residual {
                    layers: build(layers, rows, &mut inner, n_out, device),
                })
            }
            LayerSpec::GlobalMaxPool => Layer::Fixed(Fixed {
                op: FixedOp::GlobalMaxPool,
            }),
            LayerSpec::GlobalAvgPool => Layer::Fixed(Fixed {
                op: FixedOp::GlobalAvgPool,
            }),
            LayerSpec::Flatten => Layer::Fixed(Fixed {
                op: FixedOp::Flatten,
            }),
            LayerSpec::Dense { units, bias } => {
                let dense = LinearConfig::new(*width, *units)
                    .with_bias(*bias)
                    .init(device);
                Layer::Dense(dense)
            }
            LayerSpec::Output => Layer::Dense(LinearConfig::new(*width, n_out).init(device)),
        };
        *width = match row.output {
            Feat::Seq { channels, .. } => channels,
            Feat::Flat { features } => features,
        };
        built.push(layer);
    }
    built
}

impl LayerNet {
    /// The input table on `device`: the embedding, or the constant one-hot table.
    fn table(&self, device: &Device) -> Tensor<2> {
        match &self.embedding {
            Some(e) => e.weight.val(),
            None => one_hot_table(self.vocab_size, device),
        }
    }

    fn check_len(&self, len: usize) {
        assert_eq!(
            len, self.input_len,
            "the network was built for {} tokens per input, got {len}",
            self.input_len
        );
    }

    /// Raw outputs (logits) of a token batch.
    ///
    /// # Shapes
    /// - `tokens`: `[batch, input_len]`
    /// - output: `[batch, n_out]`
    pub fn forward_tokens(&self, tokens: Tensor<2, Int>) -> Tensor<2> {
        let [_, len] = tokens.dims();
        self.check_len(len);
        let device = tokens.device();
        let lookup = Lookup::for_device(&device);
        let table = self.table(&device);
        let (x, rest) = match self.layers.split_first() {
            Some((Layer::Conv(conv), rest)) => (
                crate::ops::table_conv1d_with(table, conv, tokens, lookup),
                rest,
            ),
            _ => (
                embed_with(table, tokens, lookup).swap_dims(1, 2),
                &self.layers[..],
            ),
        };
        flat(run(rest, X::Seq(x)))
    }

    /// Raw outputs of float token weights: a one-hot `[batch, input_len, k]` over the first `k`
    /// token ids gives exactly [`LayerNet::forward_tokens`] of those ids; its gradient is the
    /// saliency (`strand interpret --method saliency`).
    ///
    /// # Shapes
    /// - `one_hot`: `[batch, input_len, k]`, `k <= vocab_size`
    /// - output: `[batch, n_out]`
    pub fn forward_one_hot(&self, one_hot: Tensor<3>) -> Tensor<2> {
        let [_, len, _] = one_hot.dims();
        self.check_len(len);
        let x = embed_weighted(self.table(&one_hot.device()), one_hot);
        flat(run(&self.layers, X::Seq(x.swap_dims(1, 2))))
    }
}

/// The checked list ends with the output layer: flat features.
fn flat(x: X) -> Tensor<2> {
    match x {
        X::Flat(t) => t,
        X::Seq(_) => unreachable!("a checked layer list ends with a dense output layer"),
    }
}

fn run(layers: &[Layer], mut x: X) -> X {
    for layer in layers {
        x = layer.forward(x);
    }
    x
}

fn activate<const D: usize>(f: Activation, x: Tensor<D>) -> Tensor<D> {
    match f {
        Activation::Relu => relu(x),
        Activation::Gelu => gelu(x),
        Activation::Exp => x.exp(),
        Activation::Softplus => softplus(x, 1.0),
        Activation::Sigmoid => sigmoid(x),
        Activation::Tanh => tanh(x),
    }
}

impl Layer {
    /// # Shapes
    /// As checked by [`LayerNetConfig::rows`]: `[batch, channels, length]` or
    /// `[batch, features]` in, the layer's output shape out.
    fn forward(&self, x: X) -> X {
        match (self, x) {
            (Layer::Conv(c), X::Seq(t)) => X::Seq(c.forward(t)),
            (Layer::BatchNorm(bn), X::Seq(t)) => X::Seq(crate::ops::batch_norm(bn, t)),
            (Layer::BatchNorm(bn), X::Flat(t)) => {
                X::Flat(crate::ops::batch_norm(bn, t.unsqueeze_dim(2)).squeeze_dim(2))
            }
            (Layer::LayerNorm(ln), X::Seq(t)) => {
                X::Seq(ln.forward(t.swap_dims(1, 2)).swap_dims(1, 2))
            }
            (Layer::LayerNorm(ln), X::Flat(t)) => X::Flat(ln.forward(t)),
            (Layer::MaxPool(p), X::Seq(t)) => X::Seq(p.forward(t)),
            (Layer::AvgPool(p), X::Seq(t)) => X::Seq(p.forward(t)),
            (Layer::Dropout(d), X::Seq(t)) => X::Seq(d.forward(t)),
            (Layer::Dropout(d), X::Flat(t)) => X::Flat(d.forward(t)),
            (Layer::Residual(r), x) => match (x.clone(), run(&r.layers, x)) {
                (X::Seq(a), X::Seq(b)) => X::Seq(a + b),
                (X::Flat(a), X::Flat(b)) => X::Flat(a + b),
                _ => unreachable!("a checked residual block keeps its shape"),
            },
            (Layer::Dense(l), X::Flat(t)) => X::Flat(l.forward(t)),
            (Layer::Fixed(f), x) => match (f.op, x) {
                (FixedOp::Activation(a), X::Seq(t)) => X::Seq(activate(a, t)),
                (FixedOp::Activation(a), X::Flat(t)) => X::Flat(activate(a, t)),
                (FixedOp::GlobalMaxPool, X::Seq(t)) => X::Flat(t.max_dim(2).squeeze_dim(2)),
                (FixedOp::GlobalAvgPool, X::Seq(t)) => X::Flat(t.mean_dim(2).squeeze_dim(2)),
                (FixedOp::Flatten, X::Seq(t)) => X::Flat(t.flatten(1, 2)),
                (op, _) => unreachable!("{op:?} on flat features passed the shape check"),
            },
            (layer, _) => unreachable!("a checked layer list: {layer:?} got the wrong input"),
        }
    }
}

impl SequenceModel for LayerNet {
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        self.forward_tokens(batch.tokens.clone())
    }

    fn n_out(&self) -> usize {
        self.n_out
    }
}
