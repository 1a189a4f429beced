//! The contract between models and the runner's training loop: a model maps a batch of token ids
//! (with a padding mask) to one row of outputs per sequence, and an [`Objective`] turns those
//! outputs into a loss and into scores (probabilities or values).
//!
//! The Genomic Benchmarks CNN ([`crate::cnn::Cnn`]) is the first implementation; T5 heads
//! (pooled, text-to-text, probe) implement the same trait.
//!
//! # Training and evaluation
//!
//! Models, batches and targets have no backend type parameter: the [`Device`] they live on says
//! which backend runs them and whether autodiff records their operations. One model type serves
//! both modes:
//!
//! - training: build the model and the batches on an autodiff device (`Device::flex().autodiff()`,
//!   `Device::cuda(0).autodiff()`); `loss.backward()` returns the gradients, which
//!   `burn::optim::GradientsParams::from_grads(grads, &model)` hands to an optimizer step;
//! - evaluation: [`Module::valid`] returns the same model type without autodiff and with dropout
//!   and batch-norm training behaviour off; feed it batches built on
//!   `device.clone().without_autodiff()`.
//!
//! [`Device`]: burn::tensor::Device

use burn::module::Module;
use burn::nn::loss::{BinaryCrossEntropyLossConfig, CrossEntropyLossConfig};
use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Bool, Int, Tensor};
use serde::{Deserialize, Serialize};

/// A batch of token ids as a model sees it.
#[derive(Debug, Clone)]
pub struct TokenBatch {
    /// Token ids, right-padded with [`crate::tokenize::PAD`]. Shape `[batch, len]`.
    pub tokens: Tensor<2, Int>,
    /// `true` where the token is real, `false` on padding. Shape `[batch, len]`.
    pub mask: Tensor<2, Bool>,
}

/// Targets of a batch.
#[derive(Debug, Clone)]
pub enum Targets {
    /// Class indices (or ordinal levels, 0-based). Shape `[batch]`.
    Classes(Tensor<1, Int>),
    /// Real values. Shape `[batch]`.
    Values(Tensor<1>),
}

/// A model that scores whole sequences: token batch → `[batch, n_out]` raw outputs (logits for
/// classification, the predicted value for regression).
pub trait SequenceModel: Module {
    /// Raw outputs.
    ///
    /// # Shapes
    /// - `batch.tokens`, `batch.mask`: `[batch, len]`
    /// - output: `[batch, n_out]`
    fn forward(&self, batch: &TokenBatch) -> Tensor<2>;

    /// Number of outputs per sequence.
    fn n_out(&self) -> usize;
}

/// What the outputs mean and how they are trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Objective {
    /// Two classes, one logit: BCE-with-logits on it (no double sigmoid).
    BinaryLogit,
    /// `classes` > 2 classes (or ordinal levels): softmax cross-entropy.
    Softmax { classes: usize },
    /// One real value: mean squared error.
    Regression,
}

impl Objective {
    /// The objective for a task with `n_classes` classes (`None`: regression).
    ///
    /// ```
    /// use strand_model::classifier::Objective;
    /// assert_eq!(Objective::for_classes(Some(2)), Objective::BinaryLogit);
    /// assert_eq!(Objective::for_classes(Some(3)).n_out(), 3);
    /// assert_eq!(Objective::for_classes(None).n_out(), 1);
    /// ```
    pub fn for_classes(n_classes: Option<usize>) -> Self {
        match n_classes {
            Some(2) => Objective::BinaryLogit,
            Some(c) => Objective::Softmax { classes: c },
            None => Objective::Regression,
        }
    }

    /// Number of model outputs this objective needs.
    pub fn n_out(&self) -> usize {
        match self {
            Objective::BinaryLogit | Objective::Regression => 1,
            Objective::Softmax { classes } => *classes,
        }
    }

    /// Mean loss over the batch.
    ///
    /// # Shapes
    /// - `outputs`: `[batch, n_out]`
    /// - targets: `[batch]`
    /// - output: `[1]`
    ///
    /// # Panics
    /// If the targets' kind does not match the objective (class targets for regression or the
    /// reverse): a caller bug, not a data error.
    pub fn loss(&self, outputs: Tensor<2>, targets: &Targets) -> Tensor<1> {
        let device = outputs.device();
        match (self, targets) {
            (Objective::BinaryLogit, Targets::Classes(t)) => {
                let logits = outputs.squeeze_dim::<1>(1);
                BinaryCrossEntropyLossConfig::new()
                    .with_logits(true)
                    .init(&device)
                    .forward(logits, t.clone())
            }
            (Objective::Softmax { .. }, Targets::Classes(t)) => CrossEntropyLossConfig::new()
                .init(&device)
                .forward(outputs, t.clone()),
            (Objective::Regression, Targets::Values(v)) => {
                let diff = outputs.squeeze_dim::<1>(1) - v.clone();
                (diff.clone() * diff).mean()
            }
            (o, _) => panic!("targets do not match objective {o:?}"),
        }
    }

    /// Scores to evaluate: class probabilities `[batch, classes]` (two columns `[1 − p, p]` for
    /// [`Objective::BinaryLogit`]) or values `[batch, 1]`.
    ///
    /// # Shapes
    /// - `outputs`: `[batch, n_out]`
    /// - output: `[batch, classes]` or `[batch, 1]`
    pub fn scores(&self, outputs: Tensor<2>) -> Tensor<2> {
        match self {
            Objective::BinaryLogit => {
                let p = sigmoid(outputs);
                Tensor::cat(vec![p.clone().neg() + 1.0, p], 1)
            }
            Objective::Softmax { .. } => softmax(outputs, 1),
            Objective::Regression => outputs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn binary_loss_is_plain_bce_with_logits() {
        let dev = Device::flex();
        let z = Tensor::<2>::from_data(TensorData::from([[0.0f32], [2.0]]), &dev);
        let t = Tensor::<1, Int>::from_data(TensorData::from([1i64, 0]), &dev);
        let loss: f32 = Objective::BinaryLogit
            .loss(z.clone(), &Targets::Classes(t))
            .into_scalar();
        // −ln σ(0) = 0.693147; −ln(1 − σ(2)) = 2.126928; mean 1.410038.
        assert!((loss - 1.410038).abs() < 1e-5, "{loss}");
        let s = Objective::BinaryLogit
            .scores(z)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(
            (s[0] - 0.5).abs() < 1e-6 && (s[3] - 0.880797).abs() < 1e-5,
            "{s:?}"
        );
    }

    #[test]
    fn softmax_loss_and_scores() {
        let dev = Device::flex();
        let z = Tensor::<2>::from_data(TensorData::from([[0.0f32, 0.0, 0.0]]), &dev);
        let t = Tensor::<1, Int>::from_data(TensorData::from([2i64]), &dev);
        let o = Objective::for_classes(Some(3));
        let loss: f32 = o.loss(z.clone(), &Targets::Classes(t)).into_scalar();
        assert!((loss - 3f32.ln()).abs() < 1e-5, "{loss}");
        let s = o.scores(z).into_data().try_to_vec::<f32>().unwrap();
        assert!(s.iter().all(|p| (p - 1.0 / 3.0).abs() < 1e-6));
    }

    #[test]
    fn regression_loss_is_mse() {
        let dev = Device::flex();
        let z = Tensor::<2>::from_data(TensorData::from([[1.0f32], [3.0]]), &dev);
        let v = Tensor::<1>::from_data(TensorData::from([0.0f32, 1.0]), &dev);
        let loss: f32 = Objective::Regression
            .loss(z, &Targets::Values(v))
            .into_scalar();
        assert!((loss - 2.5).abs() < 1e-6);
    }
}
