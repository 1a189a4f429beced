//! The one place a model is built from its [`ModelSpec`]: initialised (from a pretrained T5
//! checkpoint when given), or with a run's saved weights, then handed to a [`WithModel`] job —
//! training, evaluation — that is generic over the model type.

use crate::config::model_preset::ModelSpec;
use crate::engine::checkpoint::recorder;
use anyhow::{Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::AutodiffBackend;
use std::path::Path;
use strand_model::classifier::SequenceModel;

/// Something to do with a freshly built model.
pub trait WithModel<B: AutodiffBackend> {
    type Output;
    fn run<M>(self, model: M) -> Result<Self::Output>
    where
        M: AutodiffModule<B> + SequenceModel<B>,
        M::InnerModule: SequenceModel<B::InnerBackend>;
}

/// Where a model's weights come from.
#[derive(Debug, Clone, Copy)]
pub enum Weights<'a> {
    /// Initialised from the seeded backend; a T5 may start from a pretraining checkpoint.
    Init { pretrained: Option<&'a Path> },
    /// A run's saved weights (`model.mpk`, given without the extension).
    Saved(&'a Path),
}

/// Builds the model of `spec` with `weights` on `device` and runs `job` with it.
pub fn with_model<B, J>(
    spec: &ModelSpec,
    weights: Weights<'_>,
    device: &B::Device,
    job: J,
) -> Result<J::Output>
where
    B: AutodiffBackend,
    J: WithModel<B>,
{
    let loading = |path: &Path| format!("loading weights {}.mpk", path.display());
    match spec {
        ModelSpec::Cnn { config, .. } => {
            let model = config.init::<B>(device);
            match weights {
                Weights::Init { .. } => job.run(model),
                Weights::Saved(path) => job.run(
                    model
                        .load_file(path.to_path_buf(), &recorder(), device)
                        .with_context(|| loading(path))?,
                ),
            }
        }
        ModelSpec::T5 {
            head, tokenizer, ..
        } => match weights {
            Weights::Init { pretrained } => job.run(crate::run::t5::build_head::<B>(
                head, pretrained, tokenizer, device,
            )?),
            Weights::Saved(path) => job.run(
                crate::run::t5::build_head::<B>(head, None, tokenizer, device)?
                    .load_file(path.to_path_buf(), &recorder(), device)
                    .with_context(|| loading(path))?,
            ),
        },
    }
}
