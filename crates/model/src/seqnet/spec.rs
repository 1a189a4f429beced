//! The layer list a user writes in a `kind = "layers"` model preset (`models/*.toml`), as serde
//! types. Sizes that come from the data (vocabulary, input length, outputs) are not part of it:
//! [`super::LayerNetConfig::new`] adds them and checks the whole stack.

use serde::{Deserialize, Serialize};

/// How token ids become the first layer's channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputSpec {
    /// A learned table of `dim` values per token id (the Genomic Benchmarks CNN).
    Embedding { dim: usize },
    /// Four channels A, C, G, T; N is 0.25 in each, every other id (padding, BOS, EOS) all
    /// zeros. Needs the nucleotide tokenizer.
    OneHot,
}

/// Zero padding of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// None: the output is `dilation·(kernel − 1)` shorter than the input.
    #[default]
    Valid,
    /// The output is as long as the input (stride 1 only); an odd total goes right, as
    /// PyTorch's `padding="same"`.
    Same,
}

/// An element-wise activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    /// The exact (erf) GELU, PyTorch's default.
    Gelu,
    /// `exp(x)`, as in the exponential first-layer activations of Koo & Ploenzke.
    Exp,
    Softplus,
    Sigmoid,
    Tanh,
}

impl Activation {
    /// The name as written in a preset.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
            Activation::Exp => "exp",
            Activation::Softplus => "softplus",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
        }
    }
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// One layer of a preset, in order from the input to the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// `Conv1d(c_in → filters, kernel)`, on `[batch, channels, length]`.
    Conv1d {
        filters: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default = "one")]
        dilation: usize,
        #[serde(default)]
        padding: Padding,
        #[serde(default = "yes")]
        bias: bool,
    },
    /// Batch normalisation over channels (sequence) or features (flat); momentum 0.1,
    /// eps 1e-5, as PyTorch.
    BatchNorm,
    /// Layer normalisation over channels at each position (sequence) or over features (flat);
    /// eps 1e-5, learned scale and shift.
    LayerNorm,
    /// An element-wise function.
    Activation { function: Activation },
    /// Max pooling of `size` positions every `stride` (default `size`).
    MaxPool {
        size: usize,
        #[serde(default)]
        stride: Option<usize>,
    },
    /// Average pooling of `size` positions every `stride` (default `size`).
    AvgPool {
        size: usize,
        #[serde(default)]
        stride: Option<usize>,
    },
    /// Dropout with probability `rate` while training.
    Dropout { rate: f64 },
    /// `x + f(x)` for the sub-list `layers`; `f` must keep the shape. `name` labels it in
    /// errors and in `strand models show`.
    Residual {
        #[serde(default)]
        name: Option<String>,
        layers: Vec<LayerSpec>,
    },
    /// Maximum over positions: `[batch, channels, length]` → `[batch, channels]`.
    GlobalMaxPool,
    /// Mean over positions: `[batch, channels, length]` → `[batch, channels]`.
    GlobalAvgPool,
    /// `[batch, channels, length]` → `[batch, channels·length]` (channel-major, as PyTorch).
    Flatten,
    /// `Linear(features → units)`.
    Dense {
        units: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    /// The last layer: `Linear(features → n_out)`, `n_out` from the task.
    Output,
}

impl LayerSpec {
    /// The layer's `type` as written in a preset.
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerSpec::Conv1d { .. } => "conv1d",
            LayerSpec::BatchNorm => "batch_norm",
            LayerSpec::LayerNorm => "layer_norm",
            LayerSpec::Activation { .. } => "activation",
            LayerSpec::MaxPool { .. } => "max_pool",
            LayerSpec::AvgPool { .. } => "avg_pool",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::Residual { .. } => "residual",
            LayerSpec::GlobalMaxPool => "global_max_pool",
            LayerSpec::GlobalAvgPool => "global_avg_pool",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Dense { .. } => "dense",
            LayerSpec::Output => "output",
        }
    }
}

/// A `kind = "layers"` preset as written in `models/<name>.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerNetPreset {
    pub name: String,
    /// What the preset is (shown by `strand models show`).
    #[serde(default)]
    pub description: Option<String>,
    pub input: InputSpec,
    pub layers: Vec<LayerSpec>,
}
