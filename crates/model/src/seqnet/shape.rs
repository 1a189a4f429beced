//! A layer list sized for a task ([`LayerNetConfig`]): shape inference through every layer,
//! the checks that make a stack buildable, and trainable parameter counts (what PyTorch's
//! `sum(p.numel() for p in model.parameters())` counts: batch-norm running statistics are not
//! parameters).

use super::spec::{InputSpec, LayerSpec, Padding};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What flows between layers (batch dimension left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feat {
    /// `[batch, channels, length]`.
    Seq { channels: usize, len: usize },
    /// `[batch, features]`.
    Flat { features: usize },
}

impl fmt::Display for Feat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Feat::Seq { channels, len } => write!(f, "[{channels} channels × {len}]"),
            Feat::Flat { features } => write!(f, "[{features} features]"),
        }
    }
}

/// A layer list that cannot be built, naming the layer (1-based position, nested positions
/// for residual blocks: `4.2`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {at} ({kind}): {message}")]
pub struct LayerNetError {
    /// Position in the list, `4.2` for the second layer of the residual block at 4; `input`
    /// for the input.
    pub at: String,
    /// The layer's `type` (with its name for a named residual block).
    pub kind: String,
    pub message: String,
}

/// One line of `strand models show`: a layer, its output and its trainable parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    pub at: String,
    /// The layer as one line (`conv1d 16 × k8`).
    pub layer: String,
    pub output: Feat,
    pub params: usize,
}

/// A layer list with the sizes that come from the data: the factory of
/// [`super::LayerNet`], saved in the run's `model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerNetConfig {
    /// Token ids (the tokenizer's vocabulary, specials included).
    pub vocab_size: usize,
    /// Tokens per input (BOS + sequence + EOS, right-padded): every batch has this length.
    pub input_len: usize,
    /// Outputs: 1 for two classes or regression, C for C > 2 classes.
    pub n_out: usize,
    pub input: InputSpec,
    pub layers: Vec<LayerSpec>,
}

impl LayerNetConfig {
    /// A checked configuration.
    ///
    /// # Errors
    /// The first layer that cannot take its input, naming it and the shapes.
    pub fn new(
        vocab_size: usize,
        input_len: usize,
        n_out: usize,
        input: InputSpec,
        layers: Vec<LayerSpec>,
    ) -> Result<Self, LayerNetError> {
        let config = LayerNetConfig {
            vocab_size,
            input_len,
            n_out,
            input,
            layers,
        };
        config.rows()?;
        Ok(config)
    }

    /// Channels the input layer gives the first layer.
    pub fn input_channels(&self) -> usize {
        match self.input {
            InputSpec::Embedding { dim } => dim,
            InputSpec::OneHot => 4,
        }
    }

    /// Trainable parameters of the input (the embedding table; one-hot has none).
    pub fn input_params(&self) -> usize {
        match self.input {
            InputSpec::Embedding { dim } => self.vocab_size * dim,
            InputSpec::OneHot => 0,
        }
    }

    /// Every layer with its output shape and parameters, the input first.
    ///
    /// # Errors
    /// As [`LayerNetConfig::new`].
    pub fn rows(&self) -> Result<Vec<LayerRow>, LayerNetError> {
        let input_err = |message: String| LayerNetError {
            at: "input".into(),
            kind: "input".into(),
            message,
        };
        if self.vocab_size == 0 || self.input_len == 0 || self.n_out == 0 {
            return Err(input_err(format!(
                "vocabulary {}, input length {} and outputs {} must be positive",
                self.vocab_size, self.input_len, self.n_out
            )));
        }
        if self.input_channels() == 0 {
            return Err(input_err("embedding dim must be positive".into()));
        }
        let start = Feat::Seq {
            channels: self.input_channels(),
            len: self.input_len,
        };
        let mut rows = vec![LayerRow {
            at: "input".into(),
            layer: match self.input {
                InputSpec::Embedding { dim } => format!("embedding {} × {dim}", self.vocab_size),
                InputSpec::OneHot => "one-hot A C G T".into(),
            },
            output: start,
            params: self.input_params(),
        }];
        let end = walk(&self.layers, start, "", self.n_out, &mut rows)?;
        let last = self.layers.last();
        if !matches!(last, Some(LayerSpec::Output)) {
            return Err(LayerNetError {
                at: self.layers.len().to_string(),
                kind: last.map_or("none", LayerSpec::type_name).into(),
                message: "the last layer must be `type = \"output\"` (a dense layer to the \
                          task's outputs)"
                    .into(),
            });
        }
        debug_assert_eq!(
            end,
            Feat::Flat {
                features: self.n_out
            }
        );
        Ok(rows)
    }

    /// Trainable parameters in total.
    ///
    /// # Panics
    /// If the configuration does not check (build it with [`LayerNetConfig::new`]).
    pub fn num_params(&self) -> usize {
        // Top-level rows only: a residual block's row already holds its layers' total.
        self.rows()
            .expect("a checked LayerNetConfig")
            .iter()
            .filter(|r| !r.at.contains('.'))
            .map(|r| r.params)
            .sum()
    }
}

/// Output length of a window of `size` every `stride` over `len` positions (no padding).
fn windows(len: usize, size: usize, stride: usize) -> usize {
    if len < size {
        0
    } else {
        (len - size) / stride + 1
    }
}

/// Shape inference through `layers` from `feat`, appending a row per layer (residual blocks:
/// the block, then its layers).
fn walk(
    layers: &[LayerSpec],
    mut feat: Feat,
    prefix: &str,
    n_out: usize,
    rows: &mut Vec<LayerRow>,
) -> Result<Feat, LayerNetError> {
    for (i, layer) in layers.iter().enumerate() {
        let at = format!("{prefix}{}", i + 1);
        let kind = match layer {
            LayerSpec::Residual { name: Some(n), .. } => format!("residual \"{n}\""),
            other => other.type_name().to_string(),
        };
        let err = |message: String| LayerNetError {
            at: at.clone(),
            kind: kind.clone(),
            message,
        };
        let seq = |what: &str| match feat {
            Feat::Seq { channels, len } => Ok((channels, len)),
            Feat::Flat { .. } => Err(err(format!(
                "{what} needs a sequence [channels × length], got {feat}: put it before \
                 flatten / global pooling"
            ))),
        };
        let flat = |what: &str| match feat {
            Feat::Flat { features } => Ok(features),
            Feat::Seq { .. } => Err(err(format!(
                "{what} needs flat features, got {feat}: add `flatten` or a global pooling \
                 layer before it"
            ))),
        };
        if matches!(layer, LayerSpec::Output) && i + 1 != layers.len() {
            return Err(err("`output` must be the last layer".into()));
        }
        if !prefix.is_empty() && matches!(layer, LayerSpec::Output) {
            return Err(err("`output` cannot be inside a residual block".into()));
        }
        let (desc, out, params) = match layer {
            LayerSpec::Conv1d {
                filters,
                kernel,
                stride,
                dilation,
                padding,
                bias,
            } => {
                let (c, len) = seq("conv1d")?;
                if *filters == 0 || *kernel == 0 || *stride == 0 || *dilation == 0 {
                    return Err(err(
                        "filters, kernel, stride and dilation must be positive".into()
                    ));
                }
                let span = dilation * (kernel - 1) + 1;
                let out_len = match padding {
                    Padding::Same if *stride != 1 => {
                        return Err(err(format!(
                            "padding \"same\" needs stride 1, got stride {stride}"
                        )));
                    }
                    Padding::Same => len,
                    Padding::Valid => windows(len, span, *stride),
                };
                if out_len == 0 {
                    return Err(err(format!(
                        "kernel {kernel} (dilation {dilation}, {span} positions) is longer than \
                         its input {feat}"
                    )));
                }
                let mut desc = format!("conv1d {filters} × k{kernel}");
                if *dilation != 1 {
                    desc += &format!(" d{dilation}");
                }
                if *stride != 1 {
                    desc += &format!(" s{stride}");
                }
                if *padding == Padding::Same {
                    desc += " same";
                }
                (
                    desc,
                    Feat::Seq {
                        channels: *filters,
                        len: out_len,
                    },
                    c * kernel * filters + if *bias { *filters } else { 0 },
                )
            }
            LayerSpec::BatchNorm | LayerSpec::LayerNorm => {
                let width = match feat {
                    Feat::Seq { channels, .. } => channels,
                    Feat::Flat { features } => features,
                };
                (layer.type_name().into(), feat, 2 * width)
            }
            LayerSpec::Activation { function } => (function.name().into(), feat, 0),
            LayerSpec::Dropout { rate } => {
                if !(0.0..1.0).contains(rate) {
                    return Err(err(format!("rate must be in [0, 1), got {rate}")));
                }
                (format!("dropout {rate}"), feat, 0)
            }
            LayerSpec::MaxPool { size, stride } | LayerSpec::AvgPool { size, stride } => {
                let (c, len) = seq(layer.type_name())?;
                let stride = stride.unwrap_or(*size);
                if *size == 0 || stride == 0 {
                    return Err(err("size and stride must be positive".into()));
                }
                let out_len = windows(len, *size, stride);
                if out_len == 0 {
                    return Err(err(format!(
                        "pool size {size} is longer than its input {feat}"
                    )));
                }
                (
                    format!("{} {size}/{stride}", layer.type_name()),
                    Feat::Seq {
                        channels: c,
                        len: out_len,
                    },
                    0,
                )
            }
            LayerSpec::Residual { layers: inner, .. } => {
                if inner.is_empty() {
                    return Err(err("a residual block needs at least one layer".into()));
                }
                let row = rows.len();
                rows.push(LayerRow {
                    at: at.clone(),
                    layer: kind.clone(),
                    output: feat,
                    params: 0,
                });
                let out = walk(inner, feat, &format!("{at}."), n_out, rows)?;
                if out != feat {
                    return Err(err(format!(
                        "its layers map {feat} to {out}; a residual block must keep the shape \
                         to be added to its input"
                    )));
                }
                // The block's own row shows its total; its layers follow with theirs.
                rows[row].params = rows[row + 1..]
                    .iter()
                    .filter(|r| r.at.matches('.').count() == at.matches('.').count() + 1)
                    .map(|r| r.params)
                    .sum();
                continue;
            }
            LayerSpec::GlobalMaxPool | LayerSpec::GlobalAvgPool | LayerSpec::Flatten => {
                let (c, len) = seq(layer.type_name())?;
                let features = if matches!(layer, LayerSpec::Flatten) {
                    c * len
                } else {
                    c
                };
                (layer.type_name().into(), Feat::Flat { features }, 0)
            }
            LayerSpec::Dense { units, bias } => {
                let f = flat("dense")?;
                if *units == 0 {
                    return Err(err("units must be positive".into()));
                }
                (
                    format!("dense {units}"),
                    Feat::Flat { features: *units },
                    f * units + if *bias { *units } else { 0 },
                )
            }
            LayerSpec::Output => {
                let f = flat("output")?;
                (
                    format!("output {n_out}"),
                    Feat::Flat { features: n_out },
                    f * n_out + n_out,
                )
            }
        };
        rows.push(LayerRow {
            at,
            layer: desc,
            output: out,
            params,
        });
        feat = out;
    }
    Ok(feat)
}
