//! Regression targets as label tokens: a [`Source`] wrapper that replaces every real-valued label
//! by its bin ([`LabelBins::bin`], a class index), so that a text-to-text T5 trains with softmax
//! over its label tokens. Scoring reads the original values from the wrapped source (see
//! [`crate::task_data::TaskData::with_bins`]).

use std::sync::Arc;
use strand_data::source::RecordIter;
use strand_data::{Label, Source, Split, TaskCard};
use strand_model::heads::LabelBins;

/// `inner` with `Label::Value(v)` turned into `Label::Class(bins.bin(v))`; other labels pass.
pub struct BinnedSource {
    pub inner: Arc<dyn Source>,
    pub bins: Arc<LabelBins>,
}

impl Source for BinnedSource {
    fn card(&self) -> &TaskCard {
        self.inner.card()
    }

    fn splits(&self) -> Vec<Split> {
        self.inner.splits()
    }

    fn records(&self, split: Split) -> strand_data::Result<RecordIter> {
        let bins = self.bins.clone();
        Ok(Box::new(self.inner.records(split)?.map(move |r| {
            r.map(|mut r| {
                if let Label::Value(v) = r.label {
                    r.label = Label::Class(bins.bin(v) as u32);
                }
                r
            })
        })))
    }
}

/// The real-valued labels of the training split of `source`, for [`LabelBins::quantiles`].
pub fn train_values(source: &dyn Source) -> anyhow::Result<Vec<f64>> {
    let mut v = Vec::new();
    for r in source.records(Split::Train)? {
        let r = r?;
        match r.label {
            Label::Value(x) => v.push(x),
            other => anyhow::bail!(
                "task {}: training record {} has label {other:?}; binning needs real values",
                source.card().name,
                r.id
            ),
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strand_data::source::synthetic_guanine::SyntheticGuanine;

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
        let src: Arc<dyn Source> =
            Arc::from(strand_data::open(&spec, &Default::default()).unwrap());
        let values = train_values(src.as_ref()).unwrap();
        assert_eq!(values.len(), 40);
        let bins = Arc::new(LabelBins::quantiles(&values, 4).unwrap());
        let binned = BinnedSource {
            inner: src.clone(),
            bins: bins.clone(),
        };
        let labels: Vec<Label> = binned
            .records(Split::Train)
            .unwrap()
            .map(|r| r.unwrap().label)
            .collect();
        let expect: Vec<Label> = values
            .iter()
            .map(|&v| Label::Class(bins.bin(v) as u32))
            .collect();
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
