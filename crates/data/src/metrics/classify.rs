//! Metrics on hard class predictions: accuracy, confusion matrix, F1, MCC, sensitivity,
//! specificity. Classes are `u32` indices `0..n_classes`.

/// Panics with a clear message when the two slices do not pair up.
pub(crate) fn check_pairs(what: &str, a: usize, b: usize) {
    assert_eq!(
        a, b,
        "{what}: predictions ({a}) and labels ({b}) differ in length"
    );
}

/// Fraction of predictions equal to the label; NaN for empty input.
///
/// # Panics
/// If `pred` and `truth` differ in length.
pub fn accuracy(pred: &[u32], truth: &[u32]) -> f64 {
    check_pairs("accuracy", pred.len(), truth.len());
    if pred.is_empty() {
        return f64::NAN;
    }
    let correct = pred.iter().zip(truth).filter(|(p, t)| p == t).count();
    correct as f64 / pred.len() as f64
}

/// Counts `m[truth][pred]` (rows: true class, columns: predicted class), as
/// `sklearn.metrics.confusion_matrix(truth, pred, labels=range(n_classes))`.
///
/// # Panics
/// If the slices differ in length or a class index is `>= n_classes`.
pub fn confusion_matrix(pred: &[u32], truth: &[u32], n_classes: usize) -> Vec<Vec<u64>> {
    check_pairs("confusion_matrix", pred.len(), truth.len());
    let mut m = vec![vec![0u64; n_classes]; n_classes];
    for (i, (&p, &t)) in pred.iter().zip(truth).enumerate() {
        assert!(
            (p as usize) < n_classes && (t as usize) < n_classes,
            "confusion_matrix: row {i}: class index (pred {p}, truth {t}) out of range 0..{n_classes}"
        );
        m[t as usize][p as usize] += 1;
    }
    m
}

/// True positives, false positives, false negatives and true negatives of class `positive`
/// against all other classes.
fn one_vs_rest(pred: &[u32], truth: &[u32], positive: u32) -> (u64, u64, u64, u64) {
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for (&p, &t) in pred.iter().zip(truth) {
        match (p == positive, t == positive) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    (tp, fp, fn_, tn)
}

/// F1 = 2·TP / (2·TP + FP + FN), 0 when the denominator is 0 (scikit-learn's `zero_division=0`).
fn f1_from_counts(tp: u64, fp: u64, fn_: u64) -> f64 {
    let denom = 2 * tp + fp + fn_;
    if denom == 0 {
        0.0
    } else {
        (2 * tp) as f64 / denom as f64
    }
}

/// F1 of class `positive` against all others: `sklearn.metrics.f1_score(truth, pred,
/// average='binary', pos_label=positive, zero_division=0)`. 0 when `positive` is neither predicted
/// nor present; NaN for empty input.
///
/// # Panics
/// If `pred` and `truth` differ in length.
pub fn f1_binary(pred: &[u32], truth: &[u32], positive: u32) -> f64 {
    check_pairs("f1_binary", pred.len(), truth.len());
    if pred.is_empty() {
        return f64::NAN;
    }
    let (tp, fp, fn_, _) = one_vs_rest(pred, truth, positive);
    f1_from_counts(tp, fp, fn_)
}

/// Unweighted mean of the per-class F1 over the classes that occur in `truth` or `pred`, as
/// `sklearn.metrics.f1_score(truth, pred, average='macro', zero_division=0)` (scikit-learn's
/// default label set; a class in `0..n_classes` absent from both is not averaged). NaN for empty
/// input.
///
/// # Panics
/// If the slices differ in length or a class index is `>= n_classes`.
pub fn f1_macro(pred: &[u32], truth: &[u32], n_classes: usize) -> f64 {
    let m = confusion_matrix(pred, truth, n_classes);
    let (mut sum, mut count) = (0.0, 0usize);
    for c in 0..n_classes {
        let tp = m[c][c];
        let true_c: u64 = m[c].iter().sum();
        let pred_c: u64 = m.iter().map(|row| row[c]).sum();
        if true_c + pred_c == 0 {
            continue;
        }
        sum += f1_from_counts(tp, pred_c - tp, true_c - tp);
        count += 1;
    }
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

/// Matthews correlation coefficient, multiclass form (Gorodkin's R_K; equal to Matthews' for two
/// classes), computed exactly as `sklearn.metrics.matthews_corrcoef`: 0 when undefined (all
/// predictions or all labels in one class), NaN for empty input.
///
/// # Panics
/// If the slices differ in length or a class index is `>= n_classes`.
pub fn mcc(pred: &[u32], truth: &[u32], n_classes: usize) -> f64 {
    let m = confusion_matrix(pred, truth, n_classes);
    if pred.is_empty() {
        return f64::NAN;
    }
    let t_sum: Vec<f64> = m.iter().map(|row| row.iter().sum::<u64>() as f64).collect();
    let p_sum: Vec<f64> = (0..n_classes)
        .map(|c| m.iter().map(|row| row[c]).sum::<u64>() as f64)
        .collect();
    let n_correct: f64 = (0..n_classes).map(|c| m[c][c] as f64).sum();
    let n: f64 = p_sum.iter().sum();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let cov_ytyp = n_correct * n - dot(&t_sum, &p_sum);
    let cov_ypyp = n * n - dot(&p_sum, &p_sum);
    let cov_ytyt = n * n - dot(&t_sum, &t_sum);
    let denom = cov_ypyp * cov_ytyt;
    if denom == 0.0 {
        0.0
    } else {
        cov_ytyp / denom.sqrt()
    }
}

/// Recall of class `positive`: TP / (TP + FN). NaN when `truth` has no `positive` (as
/// `recall_score(..., zero_division=np.nan)`) or is empty.
///
/// # Panics
/// If `pred` and `truth` differ in length.
pub fn sensitivity(pred: &[u32], truth: &[u32], positive: u32) -> f64 {
    check_pairs("sensitivity", pred.len(), truth.len());
    let (tp, _, fn_, _) = one_vs_rest(pred, truth, positive);
    if tp + fn_ == 0 {
        f64::NAN
    } else {
        tp as f64 / (tp + fn_) as f64
    }
}

/// Recall of the negatives (every class other than `positive`): TN / (TN + FP). NaN when every
/// label is `positive` or the input is empty.
///
/// # Panics
/// If `pred` and `truth` differ in length.
pub fn specificity(pred: &[u32], truth: &[u32], positive: u32) -> f64 {
    check_pairs("specificity", pred.len(), truth.len());
    let (_, fp, _, tn) = one_vs_rest(pred, truth, positive);
    if tn + fp == 0 {
        f64::NAN
    } else {
        tn as f64 / (tn + fp) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_matches_and_is_nan_when_empty() {
        assert_eq!(accuracy(&[0, 1, 1, 0], &[0, 1, 0, 0]), 0.75);
        assert!(accuracy(&[], &[]).is_nan());
    }

    #[test]
    #[should_panic(expected = "differ in length")]
    fn length_mismatch_panics_with_message() {
        accuracy(&[0, 1], &[0]);
    }

    #[test]
    fn confusion_matrix_is_truth_by_pred() {
        let m = confusion_matrix(&[1, 1, 0, 2], &[0, 1, 0, 2], 3);
        assert_eq!(m, vec![vec![1, 1, 0], vec![0, 1, 0], vec![0, 0, 1]]);
    }

    #[test]
    fn f1_binary_by_hand_and_zero_when_undefined() {
        // tp = 2, fp = 1, fn = 1 → 4 / 6.
        let f = f1_binary(&[1, 1, 1, 0, 0], &[1, 1, 0, 1, 0], 1);
        assert!((f - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(f1_binary(&[0, 0], &[0, 0], 1), 0.0);
        // Positive class 0 counts the other way round: tp = 1, fp = 1, fn = 1.
        assert!((f1_binary(&[1, 1, 1, 0, 0], &[1, 1, 0, 1, 0], 0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn f1_macro_skips_classes_absent_from_both() {
        let pred = [0, 1, 1, 0];
        let truth = [0, 1, 0, 0];
        let two = f1_macro(&pred, &truth, 2);
        assert_eq!(f1_macro(&pred, &truth, 5), two);
        // class 0: tp 2, fp 0, fn 1 → 0.8; class 1: tp 1, fp 1, fn 0 → 2/3.
        assert!((two - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn mcc_binary_matches_matthews_formula() {
        let pred = [1, 1, 1, 0, 0, 0, 1, 0];
        let truth = [1, 1, 0, 0, 0, 1, 1, 0];
        // tp 3, tn 3, fp 1, fn 1 → (9 - 1) / sqrt(4·4·4·4) = 0.5.
        assert!((mcc(&pred, &truth, 2) - 0.5).abs() < 1e-15);
        assert_eq!(mcc(&[0, 0, 0], &[0, 1, 0], 2), 0.0);
        assert_eq!(mcc(&[0, 1, 2], &[0, 1, 2], 3), 1.0);
        assert!(mcc(&[], &[], 2).is_nan());
    }

    #[test]
    fn sensitivity_and_specificity_and_their_undefined_cases() {
        let pred = [1, 0, 1, 0, 0];
        let truth = [1, 1, 0, 0, 0];
        assert_eq!(sensitivity(&pred, &truth, 1), 0.5);
        assert!((specificity(&pred, &truth, 1) - 2.0 / 3.0).abs() < 1e-15);
        assert!(sensitivity(&[0, 1], &[0, 0], 1).is_nan());
        assert!(specificity(&[0, 1], &[1, 1], 1).is_nan());
    }
}
