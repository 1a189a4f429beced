//! Ranks with ties and the rank-based AUROC.

use super::classify::check_pairs;

/// 1-based ranks of `x`; tied values share the average of the ranks they span, as
/// `scipy.stats.rankdata(x, method='average')`. If any value is NaN every rank is NaN (scipy's
/// `nan_policy='propagate'`). `-0.0` and `0.0` are tied.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    if x.iter().any(|v| v.is_nan()) {
        return vec![f64::NAN; x.len()];
    }
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end; their mean is (start+1+end)/2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Area under the ROC curve of `scores` for the `positive` flags, from the Mann–Whitney U
/// statistic with average ranks (ties count one half), which equals
/// `sklearn.metrics.roc_auc_score(positive, scores)`. NaN when only one class is present, the
/// input is empty, or a score is NaN (scikit-learn refuses NaN).
///
/// # Panics
/// If `scores` and `positive` differ in length.
pub fn auroc(scores: &[f64], positive: &[bool]) -> f64 {
    check_pairs("auroc", scores.len(), positive.len());
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return f64::NAN;
    }
    let ranks = average_ranks(scores);
    // Ranks are multiples of 0.5, so this sum is exact for any realistic n.
    let rank_sum: f64 = ranks
        .iter()
        .zip(positive)
        .filter(|(_, p)| **p)
        .map(|(r, _)| r)
        .sum();
    let n_pos = n_pos as f64;
    let u = rank_sum - n_pos * (n_pos + 1.0) / 2.0;
    u / (n_pos * n_neg as f64)
}

/// One-vs-rest macro AUROC: the mean over classes `c` of [`auroc`] of column `c` of `probs`
/// (row-major, `truth.len() × n_classes`) with class `c` as the positive. As
/// `sklearn.metrics.roc_auc_score(truth, probs, multi_class='ovr', average='macro',
/// labels=range(n_classes))`, it is NaN when some class has no positive or no negative row.
///
/// # Panics
/// If `probs.len() != truth.len() * n_classes`.
pub fn auroc_ovr_macro(probs: &[f64], n_classes: usize, truth: &[u32]) -> f64 {
    assert_eq!(
        probs.len(),
        truth.len() * n_classes,
        "auroc_ovr_macro: {} probabilities for {} rows × {n_classes} classes",
        probs.len(),
        truth.len()
    );
    if n_classes == 0 {
        return f64::NAN;
    }
    let mut sum = 0.0;
    for c in 0..n_classes {
        let column: Vec<f64> = probs.chunks_exact(n_classes).map(|row| row[c]).collect();
        let positive: Vec<bool> = truth.iter().map(|&t| t as usize == c).collect();
        sum += auroc(&column, &positive);
    }
    sum / n_classes as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties_and_propagate_nan() {
        assert_eq!(
            average_ranks(&[0.1, 0.4, 0.35, 0.8, 0.2]),
            vec![1.0, 4.0, 3.0, 5.0, 2.0]
        );
        assert_eq!(
            average_ranks(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]),
            vec![1.5, 1.5, 3.5, 3.5, 5.5, 5.5]
        );
        assert_eq!(average_ranks(&[-0.0, 0.0, -1.0]), vec![2.5, 2.5, 1.0]);
        assert_eq!(average_ranks(&[]), Vec::<f64>::new());
        assert!(average_ranks(&[1.0, f64::NAN]).iter().all(|r| r.is_nan()));
    }

    #[test]
    fn auroc_by_hand_with_ties() {
        // Pairs (pos, neg): 0.8>0.1, 0.8>0.4, 0.4=0.4 (½), 0.4>0.1 → 3.5 / 4.
        let a = auroc(&[0.8, 0.4, 0.4, 0.1], &[true, true, false, false]);
        assert_eq!(a, 0.875);
        assert_eq!(auroc(&[0.5; 4], &[true, false, true, false]), 0.5);
        assert_eq!(auroc(&[0.1, 0.9], &[false, true]), 1.0);
        assert_eq!(auroc(&[0.9, 0.1], &[false, true]), 0.0);
    }

    #[test]
    fn auroc_is_nan_for_one_class_empty_or_nan_scores() {
        assert!(auroc(&[0.1, 0.2], &[true, true]).is_nan());
        assert!(auroc(&[], &[]).is_nan());
        assert!(auroc(&[0.1, f64::NAN], &[true, false]).is_nan());
    }

    #[test]
    fn ovr_macro_is_mean_of_columns_and_nan_when_a_class_is_missing() {
        let probs = [0.7, 0.2, 0.1, 0.2, 0.6, 0.2, 0.1, 0.3, 0.6, 0.5, 0.4, 0.1];
        let truth = [0, 1, 2, 0];
        let by_hand: f64 = (0..3)
            .map(|c| {
                let col: Vec<f64> = probs.chunks(3).map(|r| r[c]).collect();
                let pos: Vec<bool> = truth.iter().map(|&t| t == c as u32).collect();
                auroc(&col, &pos)
            })
            .sum::<f64>()
            / 3.0;
        assert_eq!(auroc_ovr_macro(&probs, 3, &truth), by_hand);
        assert!(auroc_ovr_macro(&probs, 3, &[0, 1, 1, 0]).is_nan());
    }
}
