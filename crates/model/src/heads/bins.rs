//! Binning of regression targets for the text-to-text head, which can only emit one of a few
//! label tokens.
//!
//! # Bin edges
//!
//! [`LabelBins::quantiles`] sorts the training labels `s[0] ≤ … ≤ s[n−1]` and, for each
//! `k = 1 … n_bins − 1`, puts an edge at the midpoint `(s[i−1] + s[i]) / 2` with
//! `i = ⌊k·n / n_bins⌋` — between the two training values around the `k/n_bins` quantile. When
//! `s[i−1] = s[i]` (the quantile falls inside a run of tied values) the edge moves to the nearer
//! end of that run (the upper one on a tie), and edges that coincide are kept once, so heavily
//! tied labels give fewer bins than asked for; every bin holds at least one training label.
//! A value `v` falls in bin `#{edges e : e < v}` (bin k covers `(e_{k−1}, e_k]`).
//!
//! # Predictions
//!
//! Each bin's representative value is the mean of the training labels in it; the prediction of a
//! probability row over the bins is the expectation `Σ_k p_k · center_k` (a continuous relaxation,
//! not the argmax bin, so ties do not break Spearman's ρ).

use serde::{Deserialize, Serialize};

use super::HeadError;

/// Bin edges and bin values of a binned regression target; stored in the head's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelBins {
    /// Inner edges, strictly ascending; `n_bins − 1` of them.
    pub edges: Vec<f64>,
    /// Representative value (mean training label) of each bin; `n_bins` of them.
    pub centers: Vec<f64>,
}

impl LabelBins {
    /// Quantile bins of the training labels (see the module docs for the exact edges).
    ///
    /// ```
    /// use strand_model::heads::LabelBins;
    /// let b = LabelBins::quantiles(&[0.0, 1.0, 2.0, 3.0], 2).unwrap();
    /// assert_eq!(b.edges, vec![1.5]);
    /// assert_eq!(b.centers, vec![0.5, 2.5]);
    /// assert_eq!((b.bin(1.5), b.bin(1.6)), (0, 1));
    /// ```
    ///
    /// # Errors
    /// [`HeadError::Bins`] when `n_bins < 2`, a label is not finite, or the labels have fewer than
    /// two distinct values.
    pub fn quantiles(train_labels: &[f64], n_bins: usize) -> Result<Self, HeadError> {
        if n_bins < 2 {
            return Err(HeadError::Bins(format!(
                "need at least 2 bins, asked for {n_bins}"
            )));
        }
        if let Some(i) = train_labels.iter().position(|v| !v.is_finite()) {
            return Err(HeadError::Bins(format!(
                "training label {i} is {} (labels must be finite)",
                train_labels[i]
            )));
        }
        let mut s = train_labels.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let mut edges: Vec<f64> = Vec::with_capacity(n_bins - 1);
        for k in 1..n_bins {
            let Some(i) = tie_boundary(&s, k * n / n_bins) else {
                continue;
            };
            let e = s[i - 1] + (s[i] - s[i - 1]) / 2.0;
            if edges.last().is_none_or(|&last| e > last) {
                edges.push(e);
            }
        }
        if edges.is_empty() {
            return Err(HeadError::Bins(format!(
                "{n} training labels have fewer than two distinct values around their quantiles: \
                 nothing to bin"
            )));
        }
        let mut sums = vec![0.0; edges.len() + 1];
        let mut counts = vec![0usize; edges.len() + 1];
        for &v in &s {
            let b = edges.partition_point(|&e| e < v);
            sums[b] += v;
            counts[b] += 1;
        }
        let centers = sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| s / c as f64)
            .collect();
        Ok(LabelBins { edges, centers })
    }

    /// Number of bins (label tokens).
    pub fn n_bins(&self) -> usize {
        self.centers.len()
    }

    /// The bin of a value: `#{edges e : e < v}`. NaN goes to bin 0.
    pub fn bin(&self, v: f64) -> usize {
        self.edges.partition_point(|&e| e < v)
    }

    /// Bins of many values (class targets for training).
    pub fn bin_all(&self, values: &[f64]) -> Vec<u32> {
        values.iter().map(|&v| self.bin(v) as u32).collect()
    }

    /// Expected value `Σ_k p_k · center_k` of each row of `probs` (row-major, `n_bins` wide).
    ///
    /// # Errors
    /// [`HeadError::Bins`] when `probs.len()` is not a multiple of [`LabelBins::n_bins`].
    pub fn expected_values(&self, probs: &[f64]) -> Result<Vec<f64>, HeadError> {
        let k = self.n_bins();
        if !probs.len().is_multiple_of(k) {
            return Err(HeadError::Bins(format!(
                "{} probabilities are not a whole number of rows of {k} bins",
                probs.len()
            )));
        }
        Ok(probs
            .chunks_exact(k)
            .map(|row| row.iter().zip(&self.centers).map(|(p, c)| p * c).sum())
            .collect())
    }
}

/// The split index nearest to `i` at which the sorted values change (`s[j − 1] < s[j]`, with
/// `0 < j < n`); ties between a step down and a step up go up. `None` when all values are equal.
fn tie_boundary(s: &[f64], i: usize) -> Option<usize> {
    let n = s.len();
    if n < 2 {
        return None;
    }
    let i = i.clamp(1, n - 1);
    if s[i - 1] < s[i] {
        return Some(i);
    }
    let up = (i + 1..n).find(|&j| s[j - 1] < s[j]);
    let down = (1..i).rev().find(|&j| s[j - 1] < s[j]);
    match (down, up) {
        (Some(d), Some(u)) => Some(if i - d < u - i { d } else { u }),
        (d, u) => u.or(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartile_bins_of_uniform_labels() {
        let v: Vec<f64> = (0..100).map(f64::from).collect();
        let b = LabelBins::quantiles(&v, 4).unwrap();
        assert_eq!(b.edges, vec![24.5, 49.5, 74.5]);
        assert_eq!(b.centers, vec![12.0, 37.0, 62.0, 87.0]);
        let counts = b.bin_all(&v).iter().fold([0; 4], |mut c, &k| {
            c[k as usize] += 1;
            c
        });
        assert_eq!(counts, [25; 4]);
        assert_eq!(b.bin(-1e9), 0);
        assert_eq!(b.bin(1e9), 3);
    }

    #[test]
    fn ties_drop_edges_and_no_bin_is_empty() {
        // 70% zeros: the 1/4 and 2/4 quantiles fall inside the run of zeros; both move to its
        // end (0.5) and are kept once.
        let mut v = vec![0.0; 70];
        v.extend((1..=30).map(f64::from));
        let b = LabelBins::quantiles(&v, 4).unwrap();
        assert_eq!(b.edges, vec![0.5, 5.5]);
        assert_eq!(b.centers, vec![0.0, 3.0, 18.0]);
        // The same with the tie at the top moves the edges down to the start of the run.
        let w: Vec<f64> = v.iter().map(|x| -x).collect();
        let b = LabelBins::quantiles(&w, 4).unwrap();
        assert_eq!(b.edges, vec![-5.5, -0.5], "{b:?}");
        assert_eq!(b.n_bins(), 3);
    }

    #[test]
    fn expected_value_is_the_probability_weighted_center() {
        let b = LabelBins::quantiles(&[0.0, 1.0, 2.0, 3.0], 2).unwrap();
        let e = b.expected_values(&[1.0, 0.0, 0.25, 0.75]).unwrap();
        assert_eq!(e, vec![0.5, 0.25 * 0.5 + 0.75 * 2.5]);
        assert!(b.expected_values(&[1.0, 0.0, 0.5]).is_err());
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(LabelBins::quantiles(&[1.0, 2.0], 1).is_err());
        assert!(LabelBins::quantiles(&[1.0, f64::NAN], 2).is_err());
        let e = LabelBins::quantiles(&[3.0; 10], 4).unwrap_err().to_string();
        assert!(e.contains("distinct"), "{e}");
        assert!(LabelBins::quantiles(&[], 4).is_err());
    }
}
