//! T5 heads for sequence-level tasks, each a [`SequenceModel`] that the runner's training loop
//! trains unchanged:
//!
//! | [`HeadKind`] | model | output `[batch, n_out]` | objective |
//! |---|---|---|---|
//! | `pooled` | [`T5Pooled`]: encoder → mean over non-pad tokens → linear | logits or a value | [`Objective::for_classes`] |
//! | `text_to_text` | [`T5TextToText`]: encoder–decoder, one decoder step from `[PAD]`, LM-head logits at the label tokens | label-token logits | [`Objective::Softmax`] over the label tokens |
//! | `probe` | [`T5Probe`]: frozen encoder → mean over non-pad tokens → linear | logits or a value | [`Objective::for_classes`] |
//!
//! Text-to-text label tokens are appended to the vocabulary (see [`text`]); for regression tasks
//! the targets are binned with [`LabelBins`] (quantile edges of the training labels, stored in
//! the config) and the prediction is the expected bin value; for ordinal tasks the scores are the
//! label probabilities, whose expected level `Σ p_k·k` the metrics use for Spearman's ρ
//! (`strand_data::metrics::expected_index`) — never the argmax.
//!
//! Build a head from scratch with [`T5HeadConfig::init`], or from a pretrained [`T5Model`]
//! (`--init CHECKPOINT`) with [`T5HeadConfig::init_from`].

pub mod bins;
pub mod pooled;
pub mod text;

pub use bins::LabelBins;
pub use pooled::{T5Encoder, T5Pooled, T5Probe, masked_mean};
pub use text::{LabelVocab, T5TextToText, extend_vocab};

use burn::config::Config;
use burn::module::Module;
use burn::nn::LinearConfig;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::classifier::{Objective, SequenceModel, TokenBatch};
use crate::t5::{T5Config, T5Model};

/// Errors building a head.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The configuration does not describe a valid head.
    #[error("invalid T5 head configuration: {0}")]
    Config(String),
    /// The pretrained model does not have the configured shape.
    #[error("pretrained T5 does not fit the head configuration: {0}")]
    Pretrained(String),
    /// Regression targets cannot be binned as asked.
    #[error("cannot bin regression labels: {0}")]
    Bins(String),
}

/// Which head sits on the T5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// Encoder, mean over non-pad tokens, linear; everything trains.
    Pooled,
    /// Encoder–decoder emitting one label token (GUANinE's T5 baseline style).
    TextToText,
    /// Frozen encoder, mean over non-pad tokens, linear; only the linear layer trains.
    Probe,
}

impl HeadKind {
    /// Every kind, in documentation order.
    pub const ALL: [HeadKind; 3] = [HeadKind::Pooled, HeadKind::TextToText, HeadKind::Probe];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            HeadKind::Pooled => "pooled",
            HeadKind::TextToText => "text_to_text",
            HeadKind::Probe => "probe",
        }
    }
}

impl std::fmt::Display for HeadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for HeadKind {
    type Err = HeadError;

    /// `pooled`, `text_to_text` (or `text-to-text`), `probe`.
    fn from_str(s: &str) -> Result<Self, HeadError> {
        match s {
            "pooled" => Ok(HeadKind::Pooled),
            "text_to_text" | "text-to-text" => Ok(HeadKind::TextToText),
            "probe" => Ok(HeadKind::Probe),
            other => Err(HeadError::Config(format!(
                "unknown head {other:?}: expected pooled, text_to_text or probe"
            ))),
        }
    }
}

/// Factory of a [`T5Head`]; saved beside the weights.
#[derive(Config, Debug, PartialEq)]
pub struct T5HeadConfig {
    /// The T5; `vocab_size` is the **tokenizer's** (text-to-text adds its label tokens on top).
    pub t5: T5Config,
    /// Which head.
    pub kind: HeadKind,
    /// Loss and scores; its `n_out` is the head's output width.
    pub objective: Objective,
    /// Text-to-text on a regression task: the bins that turn values into label tokens.
    #[config(default = "None")]
    pub bins: Option<LabelBins>,
    /// Text-to-text with label tokens already in the vocabulary (`--label-vocab`): their ids;
    /// `None`: label tokens appended after the tokenizer's ids.
    #[config(default = "None")]
    pub label_vocab: Option<LabelVocab>,
}

impl T5HeadConfig {
    /// The configuration for a task with `n_classes` classes or ordinal levels (`None`:
    /// regression). Pooled and probe heads use [`Objective::for_classes`]; text-to-text uses
    /// [`Objective::Softmax`] over one label token per class, or per bin of `bins` for regression
    /// (required there, refused elsewhere).
    ///
    /// # Errors
    /// [`HeadError::Config`] when `bins` is missing or superfluous, or the configuration is invalid.
    pub fn for_task(
        t5: T5Config,
        kind: HeadKind,
        n_classes: Option<usize>,
        bins: Option<LabelBins>,
    ) -> Result<Self, HeadError> {
        let objective = match (kind, n_classes, &bins) {
            (_, Some(_), Some(_)) => {
                return Err(HeadError::Config(
                    "label bins are only for regression tasks".into(),
                ));
            }
            (HeadKind::TextToText, Some(c), None) => Objective::Softmax { classes: c },
            (HeadKind::TextToText, None, Some(b)) => Objective::Softmax {
                classes: b.n_bins(),
            },
            (HeadKind::TextToText, None, None) => {
                return Err(HeadError::Config(
                    "a text-to-text head on a regression task needs label bins \
                     (LabelBins::quantiles of the training labels)"
                        .into(),
                ));
            }
            (_, _, Some(_)) => {
                return Err(HeadError::Config(format!(
                    "label bins are only used by the text_to_text head, not {kind}"
                )));
            }
            (_, c, None) => Objective::for_classes(c),
        };
        let config = T5HeadConfig {
            t5,
            kind,
            objective,
            bins,
            label_vocab: None,
        };
        config.validate()?;
        Ok(config)
    }

    /// Output width.
    pub fn n_out(&self) -> usize {
        self.objective.n_out()
    }

    /// Checks the combination of kind, objective and bins.
    ///
    /// # Errors
    /// [`HeadError::Config`] naming what is wrong.
    pub fn validate(&self) -> Result<(), HeadError> {
        if self.t5.vocab_size == 0 || self.t5.d_model == 0 {
            return Err(HeadError::Config(
                "vocab_size and d_model must be positive".into(),
            ));
        }
        match (self.kind, self.objective) {
            (HeadKind::TextToText, Objective::Softmax { classes }) => {
                if classes < 2 {
                    return Err(HeadError::Config(format!(
                        "text_to_text needs at least 2 label tokens, got {classes}"
                    )));
                }
                if let Some(b) = &self.bins
                    && (b.n_bins() != classes || b.edges.len() + 1 != classes)
                {
                    return Err(HeadError::Config(format!(
                        "{} label bins for {classes} label tokens",
                        b.n_bins()
                    )));
                }
                Ok(())
            }
            (HeadKind::TextToText, o) => Err(HeadError::Config(format!(
                "text_to_text is trained with softmax over label tokens, not {o:?}"
            ))),
            (k, Objective::Softmax { classes }) if classes < 2 => Err(HeadError::Config(format!(
                "{k} with softmax over {classes} classes"
            ))),
            (k, _) if self.bins.is_some() => Err(HeadError::Config(format!(
                "label bins are only used by the text_to_text head, not {k}"
            ))),
            (k, _) if self.label_vocab.is_some() => Err(HeadError::Config(format!(
                "a label vocabulary is only used by the text_to_text head, not {k}"
            ))),
            _ => Ok(()),
        }?;
        self.validate_label_vocab()
    }

    /// A label vocabulary names one id per label, distinct and inside the vocabulary.
    fn validate_label_vocab(&self) -> Result<(), HeadError> {
        let Some(v) = &self.label_vocab else {
            return Ok(());
        };
        let n = self.n_out();
        if v.ids.len() != n || v.names.len() != n {
            return Err(HeadError::Config(format!(
                "the label vocabulary has {} ids and {} names for {n} labels",
                v.ids.len(),
                v.names.len()
            )));
        }
        if let Some((k, id)) = v
            .ids
            .iter()
            .enumerate()
            .find(|(_, id)| **id as usize >= self.t5.vocab_size)
        {
            return Err(HeadError::Config(format!(
                "label token {:?} has id {id}, outside the model's vocabulary of {}",
                v.names[k], self.t5.vocab_size
            )));
        }
        if let Some(k) = (1..n).find(|&k| v.ids[..k].contains(&v.ids[k])) {
            return Err(HeadError::Config(format!(
                "label tokens {:?} share id {}",
                v.names[k], v.ids[k]
            )));
        }
        Ok(())
    }

    /// This configuration reading its labels from tokens already in the vocabulary.
    ///
    /// # Errors
    /// [`HeadError::Config`] when the head is not text-to-text, the counts differ from the
    /// labels', or an id is outside the vocabulary or repeated.
    pub fn using_label_vocab(mut self, vocab: LabelVocab) -> Result<Self, HeadError> {
        self.label_vocab = Some(vocab);
        self.validate()?;
        Ok(self)
    }

    /// Ids of the text-to-text label tokens, in label order: the label vocabulary's, else
    /// `vocab_size .. vocab_size + n_out` (appended); empty for the other heads.
    pub fn label_ids(&self) -> Vec<usize> {
        match (self.kind, &self.label_vocab) {
            (HeadKind::TextToText, Some(v)) => v.ids.iter().map(|&i| i as usize).collect(),
            (HeadKind::TextToText, None) => {
                (self.t5.vocab_size..self.t5.vocab_size + self.n_out()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// A randomly initialised head (training from scratch): [`T5Config::init`], then as
    /// [`T5HeadConfig::init_from`].
    ///
    /// # Panics
    /// If [`T5HeadConfig::validate`] fails; call it first on user input.
    pub fn init(&self, device: &Device) -> T5Head {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        self.init_from(self.t5.init(device), device)
            .expect("a model built from the config fits it")
    }

    /// The head on top of `pretrained` (e.g. a span-corruption checkpoint): pooled and probe
    /// keep its embedding and encoder (the decoder is dropped); text-to-text keeps everything
    /// and appends the label tokens ([`extend_vocab`]). The linear layers of pooled and probe
    /// heads are new (burn's default initialisation, with bias).
    ///
    /// # Errors
    /// [`HeadError::Pretrained`] when its vocabulary or width differs from `self.t5`,
    /// [`HeadError::Config`] when the configuration is invalid.
    pub fn init_from(&self, pretrained: T5Model, device: &Device) -> Result<T5Head, HeadError> {
        self.validate()?;
        let (vocab, d_model) = (pretrained.vocab_size(), pretrained.d_model());
        if vocab != self.t5.vocab_size || d_model != self.t5.d_model {
            return Err(HeadError::Pretrained(format!(
                "it has vocabulary {vocab} and d_model {d_model}, the head expects vocabulary {} \
                 (the tokenizer's) and d_model {}",
                self.t5.vocab_size, self.t5.d_model
            )));
        }
        if pretrained.encoder.block.len() != self.t5.num_layers
            || pretrained.decoder.block.len() != self.t5.num_decoder_layers
        {
            return Err(HeadError::Pretrained(format!(
                "it has {}+{} layers, the head expects {}+{}",
                pretrained.encoder.block.len(),
                pretrained.decoder.block.len(),
                self.t5.num_layers,
                self.t5.num_decoder_layers
            )));
        }
        let n_out = self.n_out();
        Ok(match self.kind {
            HeadKind::TextToText => {
                let t5 = match self.label_vocab {
                    Some(_) => pretrained,
                    None => extend_vocab(pretrained, n_out, device),
                };
                T5Head::TextToText(T5TextToText {
                    t5,
                    label_ids: self.label_ids(),
                })
            }
            kind => {
                let encoder = T5Encoder {
                    shared: pretrained.shared,
                    encoder: pretrained.encoder,
                };
                let head = LinearConfig::new(d_model, n_out).init(device);
                if kind == HeadKind::Pooled {
                    T5Head::Pooled(T5Pooled { encoder, head })
                } else {
                    T5Head::Probe(T5Probe::new(encoder, head))
                }
            }
        })
    }
}

/// Any of the three heads, so the runner can hold one model type.
// One value per run; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum T5Head {
    /// See [`T5Pooled`].
    Pooled(T5Pooled),
    /// See [`T5TextToText`].
    TextToText(T5TextToText),
    /// See [`T5Probe`].
    Probe(T5Probe),
}

impl T5Head {
    /// Which head this is.
    pub fn kind(&self) -> HeadKind {
        match self {
            T5Head::Pooled(_) => HeadKind::Pooled,
            T5Head::TextToText(_) => HeadKind::TextToText,
            T5Head::Probe(_) => HeadKind::Probe,
        }
    }
}

impl T5Head {
    /// [`SequenceModel::forward`] of float token weights over the first `k` token ids (a
    /// one-hot row per token) instead of ids, for gradient saliency; see
    /// [`T5Pooled::forward_one_hot`], [`T5TextToText::forward_one_hot`],
    /// [`T5Probe::forward_one_hot`].
    ///
    /// # Shapes
    /// - one_hot: `[batch, len, k]`; mask: `[batch, len]`
    /// - output: `[batch, n_out]`
    pub fn forward_one_hot(
        &self,
        one_hot: Tensor<3>,
        mask: burn::tensor::Tensor<2, burn::tensor::Bool>,
    ) -> Tensor<2> {
        match self {
            T5Head::Pooled(m) => m.forward_one_hot(one_hot, mask),
            T5Head::TextToText(m) => m.forward_one_hot(one_hot, mask),
            T5Head::Probe(m) => m.forward_one_hot(one_hot, mask),
        }
    }
}

impl SequenceModel for T5Head {
    /// # Shapes
    /// - `batch.tokens`, `batch.mask`: `[batch, len]`
    /// - output: `[batch, n_out]`
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        match self {
            T5Head::Pooled(m) => m.forward(batch),
            T5Head::TextToText(m) => m.forward(batch),
            T5Head::Probe(m) => m.forward(batch),
        }
    }

    fn n_out(&self) -> usize {
        match self {
            T5Head::Pooled(m) => m.n_out(),
            T5Head::TextToText(m) => m.n_out(),
            T5Head::Probe(m) => m.n_out(),
        }
    }
}

#[cfg(test)]
mod tests;
