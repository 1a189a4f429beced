//! Regression targets as classes: a [`Source`] wrapper that replaces every real-valued label by
//! its bin (a class index), so that a text-to-text model trains with softmax over its label
//! tokens (strand-model's `LabelBins` computes the bins from [`train_values`]). Scoring reads
//! the original values from the wrapped source.

use crate::source::RecordIter;
use crate::{DataError, Label, Result, Source, Split, TaskCard};
use std::sync::Arc;

/// Maps a real value to its bin.
pub type Binning = Arc<dyn Fn(f64) -> u32 + Send + Sync>;

/// `inner` with `Label::Value(v)` turned into `Label::Class(bin(v))`; other labels pass.
pub struct BinnedSource {
    pub inner: Arc<dyn Source>,
    pub bin: Binning,
}

impl Source for BinnedSource {
    fn card(&self) -> &TaskCard {
        self.inner.card()
    }

    fn splits(&self) -> Vec<Split> {
        self.inner.splits()
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        let bin = self.bin.clone();
        Ok(Box::new(self.inner.records(split)?.map(move |r| {
            r.map(|mut r| {
                if let Label::Value(v) = r.label {
                    r.label = Label::Class(bin(v));
                }
                r
            })
        })))
    }
}

/// The real-valued labels of the training split of `source` (to compute bins from).
pub fn train_values(source: &dyn Source) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    for r in source.records(Split::Train)? {
        let r = r?;
        match r.label {
            Label::Value(x) => v.push(x),
            other => {
                return Err(DataError::BadRecord {
                    path: source.card().name.clone().into(),
                    record: r.id,
                    message: format!(
                        "training label {other:?}: binning needs real values (a regression task)"
                    ),
                });
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::synthetic_guanine::SyntheticGuanine;

    #[test]
    fn values_become_bins_and_other_labels_pass() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("reg.csv");
        let synth = SyntheticGuanine {
            n_train: 40,
            n_dev: 10,
            n_test: 5,
            ..SyntheticGuanine::default()
        };
        synth.write_regression_table(&table).unwrap();
        let spec = format!("csv:{}", table.display());
        let src: Arc<dyn Source> = Arc::from(crate::open(&spec, &Default::default()).unwrap());
        let values = train_values(src.as_ref()).unwrap();
        assert_eq!(values.len(), 40);
        // Four bins at the training quartiles (strand-model's `LabelBins` does the same).
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let cuts: Vec<f64> = (1..4).map(|q| sorted[q * sorted.len() / 4]).collect();
        let bin: Binning = Arc::new(move |v| cuts.iter().filter(|&&c| v >= c).count() as u32);
        let binned = BinnedSource {
            inner: src.clone(),
            bin: bin.clone(),
        };
        let labels: Vec<Label> = binned
            .records(Split::Train)
            .unwrap()
            .map(|r| r.unwrap().label)
            .collect();
        let expect: Vec<Label> = values.iter().map(|&v| Label::Class(bin(v))).collect();
        assert_eq!(labels, expect);
        assert!(labels.contains(&Label::Class(3)));
        // Unlabelled test rows stay unlabelled.
        assert!(
            binned
                .records(Split::Test)
                .unwrap()
                .all(|r| r.unwrap().label == Label::None)
        );
    }
}
