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

/// Most parameters of the CNN's dense layer strand builds without being asked to crop: 50 M
/// (200 MB of weights, about 0.8 GB with gradients and Adam's moments).
pub const MAX_DENSE_PARAMS: usize = 50_000_000;

/// Refuses a model the data would make too large to allocate: the GB CNN flattens the whole
/// sequence into its dense layer, so one very long training record sizes it.
pub fn check_size(spec: &ModelSpec, scan: &crate::run::task_data::TrainScan) -> Result<()> {
    if let ModelSpec::Cnn { config, name, .. } = spec {
        let last = config
            .channels
            .last()
            .copied()
            .unwrap_or(config.embedding_dim);
        let dense = config.final_len().unwrap_or(0) * last * config.hidden;
        if dense > MAX_DENSE_PARAMS {
            anyhow::bail!(
                "the longest training sequence (record {}, {} tokens) makes {name}'s dense layer \
                 {dense} parameters (about {:.1} GB to train; strand's limit is {MAX_DENSE_PARAMS}): \
                 the CNN flattens the whole input, so crop or split long records to the length \
                 the task needs, or use a model that pools over length (t5-tiny, --head pooled)",
                scan.longest_id,
                scan.max_tokens,
                dense as f64 * 16.0 / 1e9
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strand_model::classifier::Objective;
    use strand_model::cnn::CnnConfig;

    #[test]
    fn a_cnn_sized_by_a_huge_record_is_refused_naming_it() {
        let scan = |n: usize| crate::run::task_data::TrainScan {
            records: 2,
            max_tokens: n,
            per_class: vec![1, 1],
            longest_id: "chr1_big".into(),
        };
        let spec = |n: usize| ModelSpec::Cnn {
            name: "cnn-gb".into(),
            objective: Objective::BinaryLogit,
            config: CnnConfig::new(9, n + 2, 1),
        };
        check_size(&spec(251), &scan(251)).unwrap();
        let e = check_size(&spec(5_000_000), &scan(5_000_000))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("chr1_big") && e.contains("5000000 tokens"),
            "{e}"
        );
    }
}
