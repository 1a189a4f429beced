//! Which number of a model's outputs an attribution explains (`--target`), computed the same way
//! on host rows (ISM) and on tensors with gradients (saliency).

use anyhow::{Result, bail};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Tensor, TensorData};
use strand_model::classifier::Objective;

/// The attributed score of one sequence, from the model's raw outputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Two classes, one logit: the log-odds of `class`, i.e. the logit for class 1 (the
    /// default) and its negation for class 0.
    Logit { class: usize },
    /// More classes: the log-probability of `Some(class)`, or of each sequence's predicted class
    /// (on its reference sequence: mutants are scored for the same class).
    LogProb(Option<usize>),
    /// Regression: the predicted value.
    Value,
    /// Text-to-text regression: the expected value `Σ p_k · center_k` over the label bins.
    BinnedValue(Vec<f64>),
}

impl Target {
    /// The target of `--target` (`given`: a class index or name; `None`: the default) for a
    /// model trained with `objective`; `bins`: the bin centres of a text-to-text regression
    /// head; `class_names`: the task's class names where known.
    pub fn resolve(
        objective: Objective,
        bins: Option<&[f64]>,
        class_names: Option<&[String]>,
        given: Option<&str>,
    ) -> Result<Self> {
        if let Some(centers) = bins {
            return match given {
                None | Some("value") => Ok(Target::BinnedValue(centers.to_vec())),
                Some(other) => bail!(
                    "--target {other:?}: the model predicts a value (regression); only \
                     --target value is possible"
                ),
            };
        }
        match objective {
            Objective::Regression => match given {
                None | Some("value") => Ok(Target::Value),
                Some(other) => bail!(
                    "--target {other:?}: the model predicts a value (regression); only \
                     --target value is possible"
                ),
            },
            Objective::BinaryLogit => Ok(Target::Logit {
                class: match given {
                    None => 1,
                    Some(g) => class_index(g, 2, class_names)?,
                },
            }),
            Objective::Softmax { classes } => Ok(Target::LogProb(
                given
                    .map(|g| class_index(g, classes, class_names))
                    .transpose()?,
            )),
        }
    }

    /// What the score is, in words (for titles and the command's output).
    pub fn describe(&self, class_names: Option<&[String]>) -> String {
        let class = |c: usize| match class_names.and_then(|n| n.get(c)) {
            Some(name) => format!("class {c} ({name})"),
            None => format!("class {c}"),
        };
        match self {
            Target::Logit { class: c } => format!("log-odds of {}", class(*c)),
            Target::LogProb(Some(c)) => format!("log-probability of {}", class(*c)),
            Target::LogProb(None) => "log-probability of the predicted class".into(),
            Target::Value | Target::BinnedValue(_) => "predicted value".into(),
        }
    }

    /// The class this target follows for a sequence whose reference outputs are `row`.
    pub fn class_for(&self, row: &[f64]) -> usize {
        match self {
            Target::LogProb(None) => argmax(row),
            Target::LogProb(Some(c)) | Target::Logit { class: c } => *c,
            Target::Value | Target::BinnedValue(_) => 0,
        }
    }

    /// The score of one row of raw outputs, for class `class` ([`Target::class_for`]).
    pub fn score_row(&self, row: &[f64], class: usize) -> f64 {
        match self {
            Target::Logit { class: c } => {
                if *c == 1 {
                    row[0]
                } else {
                    -row[0]
                }
            }
            Target::LogProb(_) => {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + row.iter().map(|z| (z - max).exp()).sum::<f64>().ln();
                row[class] - lse
            }
            Target::Value => row[0],
            Target::BinnedValue(centers) => {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = row.iter().map(|z| (z - max).exp()).collect();
                let sum: f64 = e.iter().sum();
                e.iter().zip(centers).map(|(p, m)| p / sum * m).sum()
            }
        }
    }

    /// [`Target::score_row`] of every row of `outputs`, differentiable.
    ///
    /// # Shapes
    /// - `outputs`: `[batch, n_out]`; `classes`: one per row
    /// - output: `[batch]`
    pub fn score_tensor(&self, outputs: Tensor<2>, classes: &[usize]) -> Tensor<1> {
        let [batch, n_out] = outputs.dims();
        let device = outputs.device();
        let weights =
            |w: Vec<f32>| Tensor::<2>::from_data(TensorData::new(w, [batch, n_out]), &device);
        let picked = |classes: &[usize]| {
            let mut w = vec![0f32; batch * n_out];
            for (r, &c) in classes.iter().enumerate() {
                w[r * n_out + c] = 1.0;
            }
            w
        };
        let (values, w) = match self {
            Target::Logit { class } => {
                let sign = if *class == 1 { 1.0 } else { -1.0 };
                (outputs, vec![sign; batch * n_out])
            }
            Target::LogProb(_) => (log_softmax(outputs, 1), picked(classes)),
            Target::Value => (outputs, vec![1.0; batch * n_out]),
            Target::BinnedValue(centers) => {
                let row: Vec<f32> = centers.iter().map(|&m| m as f32).collect();
                (softmax(outputs, 1), row.repeat(batch))
            }
        };
        (values * weights(w)).sum_dim(1).reshape([batch])
    }
}

/// Index of the largest value (the first of ties).
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// A class given on the command line: an index below `n`, or one of `names`.
fn class_index(given: &str, n: usize, names: Option<&[String]>) -> Result<usize> {
    if let Some(i) = names.and_then(|ns| ns.iter().position(|name| name == given)) {
        return Ok(i);
    }
    match given.parse::<usize>() {
        Ok(i) if i < n => Ok(i),
        _ => {
            let known = match names {
                Some(ns) => format!(
                    "a class index 0–{} or a class name ({})",
                    n - 1,
                    ns.join(", ")
                ),
                None => format!("a class index 0–{}", n - 1),
            };
            bail!("--target {given:?} is not a class of this model: expected {known}")
        }
    }
}
