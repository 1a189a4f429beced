//! ROC and precision-recall curves from per-record scores, for the HTML report.
//!
//! Records are ranked by score, highest first; records with equal scores form one threshold
//! (one point), so the curves and their areas do not depend on the order of ties. The area
//! under the ROC curve is the trapezoid sum, which equals the rank (Mann-Whitney) AUROC that
//! `scores.json` holds, ties counted half. The precision-recall summary is the average
//! precision `Σ (Rₙ − Rₙ₋₁) · Pₙ` over thresholds (scikit-learn's `average_precision_score`, no
//! interpolation). Non-finite scores are left out.

/// A curve and its area.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub points: Vec<(f64, f64)>,
    pub area: f64,
}

/// `(true positives, false positives)` after each distinct score, highest first, and the
/// totals `(P, N)`.
fn cumulative(scores: &[f64], positive: &[bool]) -> (Vec<(u64, u64)>, u64, u64) {
    let mut order: Vec<usize> = (0..scores.len())
        .filter(|&i| scores[i].is_finite())
        .collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut out = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            out.push((tp, fp));
        }
    }
    (out, tp, fp)
}

/// The ROC curve `(false positive rate, true positive rate)` from `(0, 0)` to `(1, 1)`, with
/// its area; `None` when one class is absent.
pub fn roc(scores: &[f64], positive: &[bool]) -> Option<Curve> {
    let (steps, p, n) = cumulative(scores, positive);
    if p == 0 || n == 0 {
        return None;
    }
    let mut points = vec![(0.0, 0.0)];
    points.extend(
        steps
            .iter()
            .map(|&(tp, fp)| (fp as f64 / n as f64, tp as f64 / p as f64)),
    );
    let area = points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum();
    Some(Curve { points, area })
}

/// The precision-recall curve `(recall, precision)`, one point per threshold, starting at
/// recall 0 with the first threshold's precision, with the average precision as its area;
/// `None` without positives.
pub fn precision_recall(scores: &[f64], positive: &[bool]) -> Option<Curve> {
    let (steps, p, _) = cumulative(scores, positive);
    if p == 0 {
        return None;
    }
    let mut points = Vec::with_capacity(steps.len() + 1);
    let mut area = 0.0;
    let mut prev_recall = 0.0;
    for &(tp, fp) in &steps {
        let recall = tp as f64 / p as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        if points.is_empty() {
            points.push((0.0, precision));
        }
        area += (recall - prev_recall) * precision;
        prev_recall = recall;
        points.push((recall, precision));
    }
    Some(Curve { points, area })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_by_hand_with_a_tie_matches_the_rank_auroc() {
        // Scores 0.9(+) 0.8(−) 0.8(+) 0.3(−): thresholds 0.9, 0.8 (a tie of one of each), 0.3.
        let s = [0.9, 0.8, 0.8, 0.3];
        let y = [true, false, true, false];
        let c = roc(&s, &y).unwrap();
        assert_eq!(
            c.points,
            vec![(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]
        );
        // 0.5·(0.5+1)/2 + 0.5·1 = 0.875: (3 pairs won + ½ tie) / 4 pairs.
        assert!((c.area - 0.875).abs() < 1e-12);
        assert_eq!(c.area, strand_data::metrics::auroc(&s, &y));
        // Order of tied records does not matter.
        let c2 = roc(&[0.9, 0.8, 0.8, 0.3], &[true, true, false, false]).unwrap();
        assert_eq!(c2.area, c.area);
        assert!(roc(&s, &[true; 4]).is_none());
    }

    #[test]
    fn average_precision_by_hand() {
        // Ranked: + − + −: precision 1 at recall ½, then ⅔ at recall 1 → AP = ½ + ½·⅔.
        let c = precision_recall(&[0.9, 0.7, 0.6, 0.1], &[true, false, true, false]).unwrap();
        assert!((c.area - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(c.points[0], (0.0, 1.0));
        assert_eq!(c.points[1], (0.5, 1.0));
        assert_eq!(c.points.last().copied(), Some((1.0, 0.5)));
        // A perfect ranking has AP 1; NaN scores are left out.
        let p = precision_recall(&[0.9, f64::NAN, 0.1], &[true, true, false]).unwrap();
        assert_eq!(p.area, 1.0);
        assert!(precision_recall(&[0.1], &[false]).is_none());
    }

    #[test]
    fn area_agrees_with_the_rank_auroc_on_random_scores() {
        let mut x = 12345u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 40) as f64 / (1u64 << 24) as f64
        };
        let s: Vec<f64> = (0..500).map(|_| (next() * 20.0).floor() / 20.0).collect();
        let y: Vec<bool> = s.iter().map(|v| next() < *v).collect();
        let c = roc(&s, &y).unwrap();
        assert!((c.area - strand_data::metrics::auroc(&s, &y)).abs() < 1e-12);
    }
}
