//! The one place a model is built from its [`ModelSpec`]: initialised (from a pretrained T5
//! checkpoint when given), or with a run's saved weights, as an [`AnyModel`] on a device, with
//! autodiff for training and without for evaluation.

use crate::config::model_preset::ModelSpec;
use crate::engine::checkpoint::load_weights;
use anyhow::Result;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use std::path::Path;
use strand_model::classifier::{SequenceModel, TokenBatch};
use strand_model::cnn::Cnn;
use strand_model::heads::T5Head;

/// Any model strand trains: one type for the training loop, evaluation and the weights files
/// (whose tensor paths start with the variant: `Cnn.…`, `T5.…`).
// One value per run; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AnyModel {
    Cnn(Cnn),
    T5(T5Head),
}

impl SequenceModel for AnyModel {
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        match self {
            AnyModel::Cnn(m) => m.forward(batch),
            AnyModel::T5(m) => m.forward(batch),
        }
    }

    fn n_out(&self) -> usize {
        match self {
            AnyModel::Cnn(m) => m.n_out(),
            AnyModel::T5(m) => m.n_out(),
        }
    }
}

/// Where a model's weights come from.
#[derive(Debug, Clone, Copy)]
pub enum Weights<'a> {
    /// Initialised from the seeded device; a T5 may start from a pretraining checkpoint.
    Init { pretrained: Option<&'a Path> },
    /// A run's saved weights (its `model.bpk`).
    Saved(&'a Path),
}

/// The model of `spec` with `weights` on `device`.
///
/// # Errors
/// A pretraining checkpoint that does not fit, or saved weights that cannot be read (an old
/// `.mpk` file is named as such).
pub fn build(spec: &ModelSpec, weights: Weights<'_>, device: &Device) -> Result<AnyModel> {
    let model = match spec {
        ModelSpec::Cnn { config, .. } => AnyModel::Cnn(config.init(device)),
        ModelSpec::T5 {
            head, tokenizer, ..
        } => {
            let pretrained = match weights {
                Weights::Init { pretrained } => pretrained,
                Weights::Saved(_) => None,
            };
            AnyModel::T5(crate::run::t5::build_head(
                head, pretrained, tokenizer, device,
            )?)
        }
    };
    match weights {
        Weights::Init { .. } => Ok(model),
        Weights::Saved(path) => load_weights(model, path),
    }
}
