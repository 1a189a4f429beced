//! From model outputs and labels to the metrics a task card asks for.
//!
//! Which metric applies to which task, and how it is computed:
//!
//! | task kind | predictions | metrics |
//! |---|---|---|
//! | classes, 2 | `Probs` | accuracy, MCC (argmax); F1, sensitivity, specificity with **class index 1 as the positive class**; F1Macro; AUROC from p(class 1) |
//! | classes, > 2 | `Probs` | accuracy, MCC (argmax); F1 = F1Macro = macro F1; AUROC = one-vs-rest macro |
//! | ordinal `min..=max` | `Probs` | accuracy, MCC (argmax level); Spearman, Spearman100, Pearson on the **expected level** Σ_k p_k·k |
//! | ordinal | `Values` | Spearman, Spearman100, Pearson on the values |
//! | regression | `Values` | Spearman, Spearman100, Pearson on the values |
//!
//! The expected level is strand's continuous relaxation of a classifier's output (GUANinE's docs
//! suggest "a continuous relaxation, e.g. `predict_proba`"); it avoids the ties an argmax level
//! would put into Spearman's ρ. It is computed on the class index k (level `min + k`); the
//! correlations do not change under that shift. Reports must name it.
//!
//! A requested metric that does not apply to the task kind or to the kind of predictions (e.g.
//! AUROC on a regression task, accuracy from `Values`) is left out of the result (logged at debug
//! level), so callers can pass one list for many tasks. `Metric::Loss` is an error: the loss comes
//! from the trainer, not from predictions.

use super::{
    accuracy, auroc, auroc_ovr_macro, f1_binary, f1_macro, guanine_spearman100, mcc, pearson,
    sensitivity, spearman, specificity,
};
use crate::{DataError, Label, LabelKind, Metric, Result};
use std::collections::BTreeMap;

/// The positive class of binary tasks: class index 1 (e.g. `promoter` in CNNProm cards).
pub const BINARY_POSITIVE: u32 = 1;

/// How far a probability row may sum away from 1 (softmax in f32 is within ~1e-6).
const PROB_SUM_TOLERANCE: f64 = 1e-4;

/// Model outputs for a split.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// Class probabilities, row-major n × n_classes (classification and ordinal tasks).
    Probs { n_classes: usize, data: Vec<f64> },
    /// One real value per record (regression, or any scalar score).
    Values(Vec<f64>),
}

impl Predictions {
    /// Number of records predicted; an error when the probability matrix is ragged.
    pub fn rows(&self) -> Result<usize> {
        match self {
            Predictions::Values(v) => Ok(v.len()),
            Predictions::Probs { n_classes: 0, .. } => Err(DataError::Invalid(
                "class probabilities with n_classes = 0".into(),
            )),
            Predictions::Probs { n_classes, data } => {
                if data.len() % n_classes != 0 {
                    return Err(DataError::Invalid(format!(
                        "{} class probabilities are not a whole number of rows of {n_classes}",
                        data.len()
                    )));
                }
                Ok(data.len() / n_classes)
            }
        }
    }
}

/// Index of the largest value of each row of `probs` (row-major, `n_classes` wide); ties go to
/// the lowest index.
///
/// # Panics
/// If `n_classes == 0`.
pub fn argmax_rows(probs: &[f64], n_classes: usize) -> Vec<u32> {
    probs
        .chunks_exact(n_classes)
        .map(|row| {
            let mut best = 0;
            for (k, &p) in row.iter().enumerate().skip(1) {
                if p > row[best] {
                    best = k;
                }
            }
            best as u32
        })
        .collect()
}

/// Expected class index Σ_k p_k·k of each row of `probs` (row-major, `n_classes` wide).
///
/// # Panics
/// If `n_classes == 0`.
pub fn expected_index(probs: &[f64], n_classes: usize) -> Vec<f64> {
    probs
        .chunks_exact(n_classes)
        .map(|row| row.iter().enumerate().map(|(k, &p)| k as f64 * p).sum())
        .collect()
}

/// Scores every requested metric that applies (see the module table); keys are
/// [`crate::Metric`]. Records whose label is [`Label::None`] are skipped: `preds` has one row per
/// record of `truth`, and only labelled rows are scored.
///
/// # Errors
/// [`DataError::Invalid`] when `preds` and `truth` differ in length, no record is labelled,
/// probabilities are given for a regression task (or values where a classification task needs
/// probabilities), the probability width differs from the task's classes, a probability row is
/// not a distribution, a label does not fit the task kind, or `Metric::Loss` is requested.
pub fn score(
    kind: &LabelKind,
    metrics: &[Metric],
    preds: &Predictions,
    truth: &[Label],
) -> Result<BTreeMap<Metric, f64>> {
    if metrics.contains(&Metric::Loss) {
        return Err(DataError::Invalid(
            "metric `loss` is not computed from predictions: it comes from the trainer".into(),
        ));
    }
    let rows = preds.rows()?;
    if rows != truth.len() {
        return Err(DataError::Invalid(format!(
            "{rows} predictions for {} records: they must pair up one to one",
            truth.len()
        )));
    }
    let labelled: Vec<usize> = (0..truth.len())
        .filter(|&i| truth[i] != Label::None)
        .collect();
    if labelled.is_empty() {
        return Err(DataError::Invalid(format!(
            "no labelled records to score (all {} labels are None)",
            truth.len()
        )));
    }
    let mut out = BTreeMap::new();
    match kind {
        LabelKind::Classes { names } => {
            let n_classes = names.len();
            if n_classes < 2 {
                return Err(DataError::Invalid(format!(
                    "a classification task needs at least 2 classes, this one has {n_classes}"
                )));
            }
            let probs = labelled_probs(preds, n_classes, &labelled, "a classification task")?;
            let y = class_indices(truth, &labelled, 0, n_classes)?;
            score_classes(metrics, &probs, n_classes, &y, &mut out);
        }
        LabelKind::Ordinal { min, max } => {
            if max < min {
                return Err(DataError::Invalid(format!(
                    "ordinal levels {min}..={max} are empty"
                )));
            }
            let n_classes = (max - min + 1) as usize;
            let y = class_indices(truth, &labelled, *min, n_classes)?;
            let y_f: Vec<f64> = y.iter().map(|&c| c as f64).collect();
            match preds {
                Predictions::Probs { .. } => {
                    let probs = labelled_probs(preds, n_classes, &labelled, "an ordinal task")?;
                    let level = argmax_rows(&probs, n_classes);
                    let expected = expected_index(&probs, n_classes);
                    for &m in metrics {
                        let v = match m {
                            Metric::Accuracy => accuracy(&level, &y),
                            Metric::Mcc => mcc(&level, &y, n_classes),
                            _ => match correlation(m, &expected, &y_f) {
                                Some(v) => v,
                                None => {
                                    skip(m, "an ordinal task with probabilities");
                                    continue;
                                }
                            },
                        };
                        out.insert(m, v);
                    }
                }
                Predictions::Values(values) => {
                    let x: Vec<f64> = labelled.iter().map(|&i| values[i]).collect();
                    score_values(metrics, &x, &y_f, "an ordinal task with values", &mut out);
                }
            }
        }
        LabelKind::Regression => {
            let Predictions::Values(values) = preds else {
                return Err(DataError::Invalid(
                    "class probabilities given for a regression task: it needs one value per record"
                        .into(),
                ));
            };
            let mut x = Vec::with_capacity(labelled.len());
            let mut y = Vec::with_capacity(labelled.len());
            for &i in &labelled {
                let Some(v) = truth[i].as_f64() else {
                    unreachable!("labelled rows have a label")
                };
                x.push(values[i]);
                y.push(v);
            }
            score_values(metrics, &x, &y, "a regression task", &mut out);
        }
    }
    Ok(out)
}

/// The probability rows of the labelled records, checked to be distributions over `n_classes`.
fn labelled_probs(
    preds: &Predictions,
    n_classes: usize,
    labelled: &[usize],
    task: &str,
) -> Result<Vec<f64>> {
    let Predictions::Probs {
        n_classes: width,
        data,
    } = preds
    else {
        return Err(DataError::Invalid(format!(
            "one value per record given for {task}: it needs class probabilities"
        )));
    };
    if *width != n_classes {
        return Err(DataError::Invalid(format!(
            "probabilities over {width} classes given for {task} with {n_classes} classes"
        )));
    }
    let mut out = Vec::with_capacity(labelled.len() * n_classes);
    for &i in labelled {
        let row = &data[i * n_classes..(i + 1) * n_classes];
        let sum: f64 = row.iter().sum();
        if row.iter().any(|p| !p.is_finite() || *p < 0.0) || (sum - 1.0).abs() > PROB_SUM_TOLERANCE
        {
            return Err(DataError::Invalid(format!(
                "prediction row {i}: {row:?} is not a probability distribution \
                 (non-negative, summing to 1; logits must go through softmax first)"
            )));
        }
        out.extend_from_slice(row);
    }
    Ok(out)
}

/// Class indices `level - offset` of the labelled records, checked to lie in `0..n_classes`.
fn class_indices(
    truth: &[Label],
    labelled: &[usize],
    offset: u32,
    n_classes: usize,
) -> Result<Vec<u32>> {
    labelled
        .iter()
        .map(|&i| match truth[i] {
            Label::Class(c) if c >= offset && ((c - offset) as usize) < n_classes => Ok(c - offset),
            Label::Class(c) => Err(DataError::Invalid(format!(
                "record {i}: label {c} is outside the task's classes {offset}..{}",
                offset as usize + n_classes
            ))),
            other => Err(DataError::Invalid(format!(
                "record {i}: label {other:?} where the task needs a class label"
            ))),
        })
        .collect()
}

fn score_classes(
    metrics: &[Metric],
    probs: &[f64],
    n_classes: usize,
    y: &[u32],
    out: &mut BTreeMap<Metric, f64>,
) {
    let pred = argmax_rows(probs, n_classes);
    let binary = n_classes == 2;
    for &m in metrics {
        let v = match m {
            Metric::Accuracy => accuracy(&pred, y),
            Metric::Mcc => mcc(&pred, y, n_classes),
            Metric::F1 if binary => f1_binary(&pred, y, BINARY_POSITIVE),
            Metric::F1 | Metric::F1Macro => f1_macro(&pred, y, n_classes),
            Metric::Sensitivity if binary => sensitivity(&pred, y, BINARY_POSITIVE),
            Metric::Specificity if binary => specificity(&pred, y, BINARY_POSITIVE),
            Metric::Auroc if binary => {
                let p1: Vec<f64> = probs.chunks_exact(2).map(|r| r[1]).collect();
                let positive: Vec<bool> = y.iter().map(|&c| c == BINARY_POSITIVE).collect();
                auroc(&p1, &positive)
            }
            Metric::Auroc => auroc_ovr_macro(probs, n_classes, y),
            _ => {
                skip(m, "a classification task");
                continue;
            }
        };
        out.insert(m, v);
    }
}

fn score_values(
    metrics: &[Metric],
    x: &[f64],
    y: &[f64],
    what: &str,
    out: &mut BTreeMap<Metric, f64>,
) {
    for &m in metrics {
        match correlation(m, x, y) {
            Some(v) => {
                out.insert(m, v);
            }
            None => skip(m, what),
        }
    }
}

/// The correlation metrics; `None` for any other metric.
fn correlation(m: Metric, x: &[f64], y: &[f64]) -> Option<f64> {
    match m {
        Metric::Spearman => Some(spearman(x, y)),
        Metric::Spearman100 => Some(guanine_spearman100(x, y)),
        Metric::Pearson => Some(pearson(x, y)),
        _ => None,
    }
}

fn skip(m: Metric, what: &str) {
    tracing::debug!("metric {} does not apply to {what}; skipped", m.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary() -> LabelKind {
        LabelKind::Classes {
            names: vec!["neg".into(), "pos".into()],
        }
    }

    #[test]
    fn argmax_ties_go_to_the_lowest_index() {
        assert_eq!(argmax_rows(&[0.5, 0.5, 0.2, 0.3, 0.3, 0.4], 3), vec![0, 2]);
        assert_eq!(expected_index(&[0.2, 0.3, 0.5], 3), vec![1.3]);
    }

    #[test]
    fn binary_scores_use_class_one_as_positive_and_skip_unlabelled_rows() {
        let preds = Predictions::Probs {
            n_classes: 2,
            data: vec![0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7, 0.5, 0.5],
        };
        let truth = [
            Label::Class(0),
            Label::Class(1),
            Label::Class(1),
            Label::None,
            Label::Class(0),
        ];
        let all = [
            Metric::Accuracy,
            Metric::F1,
            Metric::Sensitivity,
            Metric::Specificity,
            Metric::Auroc,
            Metric::Spearman,
        ];
        let s = score(&binary(), &all, &preds, &truth).unwrap();
        // Labelled rows: pred [0, 1, 0, 0] (the 0.5/0.5 tie → 0), truth [0, 1, 1, 0].
        assert_eq!(s[&Metric::Accuracy], 0.75);
        assert_eq!(s[&Metric::Sensitivity], 0.5);
        assert_eq!(s[&Metric::Specificity], 1.0);
        assert!((s[&Metric::F1] - 2.0 / 3.0).abs() < 1e-15);
        // p1 [0.1, 0.8, 0.4, 0.5] vs positive [f, t, t, f]: pairs 0.8>0.1, 0.8>0.5, 0.4>0.1 → 3/4.
        assert_eq!(s[&Metric::Auroc], 0.75);
        assert!(
            !s.contains_key(&Metric::Spearman),
            "not a classification metric"
        );
    }

    #[test]
    fn ordinal_uses_argmax_for_accuracy_and_expected_level_for_rho() {
        let kind = LabelKind::Ordinal { min: 1, max: 3 };
        let data = vec![0.6, 0.3, 0.1, 0.1, 0.5, 0.4, 0.0, 0.4, 0.6, 0.2, 0.5, 0.3];
        let preds = Predictions::Probs { n_classes: 3, data };
        let truth = [1, 2, 3, 3].map(Label::Class);
        let metrics = [Metric::Accuracy, Metric::Spearman, Metric::Pearson];
        let s = score(&kind, &metrics, &preds, &truth).unwrap();
        assert_eq!(s[&Metric::Accuracy], 0.75);
        let expected = [0.5, 1.3, 1.6, 1.1];
        let y = [0.0, 1.0, 2.0, 2.0];
        assert_eq!(s[&Metric::Spearman], spearman(&expected, &y));
        assert_eq!(s[&Metric::Pearson], pearson(&expected, &y));
    }

    #[test]
    fn regression_fills_nan_only_for_spearman100() {
        let preds = Predictions::Values(vec![0.1, f64::NAN, 0.35, 0.8, 0.2]);
        let truth = [0.0, 1.0, 1.0, 2.0, 0.0].map(Label::Value);
        let metrics = [Metric::Spearman, Metric::Spearman100];
        let s = score(&LabelKind::Regression, &metrics, &preds, &truth).unwrap();
        assert!(s[&Metric::Spearman].is_nan());
        assert!(s[&Metric::Spearman100].is_finite());
    }

    #[test]
    fn bad_calls_are_invalid_errors_with_a_reason() {
        let probs = Predictions::Probs {
            n_classes: 2,
            data: vec![0.5, 0.5, 0.2, 0.8],
        };
        let two = [Label::Class(0), Label::Class(1)];
        let err = |r: Result<BTreeMap<Metric, f64>>| match r {
            Err(DataError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        };
        let m = err(score(&binary(), &[Metric::Accuracy], &probs, &two[..1]));
        assert!(m.contains("2 predictions for 1 records"), "{m}");
        let m = err(score(
            &LabelKind::Regression,
            &[Metric::Spearman],
            &probs,
            &two,
        ));
        assert!(m.contains("regression"), "{m}");
        let m = err(score(
            &binary(),
            &[Metric::Accuracy, Metric::Loss],
            &probs,
            &two,
        ));
        assert!(m.contains("trainer"), "{m}");
        let m = err(score(
            &binary(),
            &[Metric::Accuracy],
            &probs,
            &[Label::None; 2],
        ));
        assert!(m.contains("no labelled records"), "{m}");
        let m = err(score(
            &binary(),
            &[Metric::Accuracy],
            &probs,
            &[Label::Class(0), Label::Class(2)],
        ));
        assert!(m.contains("record 1") && m.contains("outside"), "{m}");
        let logits = Predictions::Probs {
            n_classes: 2,
            data: vec![2.0, -1.0, 0.2, 0.8],
        };
        let m = err(score(&binary(), &[Metric::Accuracy], &logits, &two));
        assert!(m.contains("prediction row 0"), "{m}");
        let values = Predictions::Values(vec![0.1, 0.9]);
        let m = err(score(&binary(), &[Metric::Accuracy], &values, &two));
        assert!(m.contains("needs class probabilities"), "{m}");
        let ragged = Predictions::Probs {
            n_classes: 2,
            data: vec![0.5, 0.5, 1.0],
        };
        let m = err(score(&binary(), &[Metric::Accuracy], &ragged, &two));
        assert!(m.contains("whole number of rows"), "{m}");
    }
}
