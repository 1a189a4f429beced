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
use strand_model::seqnet::LayerNet;

/// Any model strand trains: one type for the training loop, evaluation and the weights files
/// (whose tensor paths start with the variant: `Cnn.…`, `T5.…`).
// One value per run; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AnyModel {
    Cnn(Cnn),
    Layers(LayerNet),
    T5(T5Head),
}

impl SequenceModel for AnyModel {
    fn forward(&self, batch: &TokenBatch) -> Tensor<2> {
        match self {
            AnyModel::Cnn(m) => m.forward(batch),
            AnyModel::Layers(m) => m.forward(batch),
            AnyModel::T5(m) => m.forward(batch),
        }
    }

    fn n_out(&self) -> usize {
        match self {
            AnyModel::Cnn(m) => m.n_out(),
            AnyModel::Layers(m) => m.n_out(),
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
        ModelSpec::Layers { config, .. } => AnyModel::Layers(config.init(device)),
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

/// Most parameters of one layer strand builds without being asked to crop: 50 M (200 MB of
/// weights, about 0.8 GB with gradients and Adam's moments). A CNN that flattens its input into
/// a dense layer grows with the longest training sequence.
pub const MAX_DENSE_PARAMS: usize = 50_000_000;

/// Refuses a model the data would make too large to allocate: the GB CNN (and any layer list
/// with `flatten`) sizes its dense layer from the whole sequence, so one very long training
/// record sizes it.
pub fn check_size(spec: &ModelSpec, scan: &crate::run::task_data::TrainScan) -> Result<()> {
    let (name, dense) = match spec {
        ModelSpec::Cnn { config, name, .. } => {
            let last = config
                .channels
                .last()
                .copied()
                .unwrap_or(config.embedding_dim);
            (name, config.final_len().unwrap_or(0) * last * config.hidden)
        }
        ModelSpec::Layers { config, name, .. } => {
            let rows = config
                .rows()
                .map_err(|e| anyhow::anyhow!("model {name}: {e}"))?;
            (name, rows.iter().map(|r| r.params).max().unwrap_or(0))
        }
        ModelSpec::T5 { .. } => return Ok(()),
    };
    if dense > MAX_DENSE_PARAMS {
        anyhow::bail!(
            "the longest training sequence (record {}, {} tokens) makes {name}'s largest layer \
             {dense} parameters (about {:.1} GB to train; strand's limit is {MAX_DENSE_PARAMS}): \
             the CNN flattens the whole input, so crop or split long records to the length \
             the task needs, or use a model that pools over length (dilated-resnet, t5-tiny \
             --head pooled)",
            scan.longest_id,
            scan.max_tokens,
            dense as f64 * 16.0 / 1e9
        );
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
            min_tokens: n,
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
