//! The model's raw outputs on the task's evaluation split, with the true labels, written by
//! `strand train` (and rewritten by `strand eval` for the split it scores) so that `strand
//! report --format html` can draw ROC and precision-recall curves, a confusion matrix or a
//! predicted-vs-true scatter without loading the model:
//!
//! ```text
//! id<TAB>label<TAB>p:<class 0><TAB>p:<class 1>…     (classes, ordinal levels)
//! id<TAB>label<TAB>prediction                        (regression)
//! ```
//!
//! `label` is the class index (ordinal: the level minus the task's lowest level, so that label
//! `k` is column `p:<k-th name>`), the real value for regression, empty for an unlabelled
//! record. Values are written in Rust's shortest round-trip form. Unlike
//! [`crate::run::predictions`] (one point value per record, submission-ready) this file keeps
//! every class probability.

use anyhow::{Context, Result, bail};
use std::path::Path;
use strand_data::metrics::Predictions;
use strand_data::{Label, LabelKind, Split};

/// File name for `split` inside a run directory.
pub fn file_name(split: Split) -> String {
    format!("outputs.{}.tsv", split.as_str())
}

/// Column names of the classes of `kind` (`None` for regression).
fn class_names(kind: &LabelKind) -> Option<Vec<String>> {
    match kind {
        LabelKind::Classes { names } => Some(names.clone()),
        LabelKind::Ordinal { min, max } => Some((*min..=*max).map(|l| l.to_string()).collect()),
        LabelKind::Regression => None,
    }
}

/// The label column of one record.
fn label_cell(label: &Label, kind: &LabelKind) -> String {
    match (label, kind) {
        (Label::None, _) => String::new(),
        (Label::Class(c), LabelKind::Ordinal { min, .. }) => (c.saturating_sub(*min)).to_string(),
        (Label::Class(c), _) => c.to_string(),
        (Label::Value(v), _) => v.to_string(),
    }
}

/// The whole file for `ids`, `truth` and `preds` (one row each, same order).
pub fn render(
    ids: &[String],
    truth: &[Label],
    preds: &Predictions,
    kind: &LabelKind,
) -> Result<String> {
    let rows = preds.rows()?;
    if ids.len() != rows || truth.len() != rows {
        bail!(
            "{} ids, {} labels and {rows} predictions: they must pair up",
            ids.len(),
            truth.len()
        );
    }
    let mut text = String::from("id\tlabel");
    match (preds, class_names(kind)) {
        (Predictions::Probs { n_classes, .. }, Some(names)) if names.len() == *n_classes => {
            for n in names {
                text.push_str("\tp:");
                text.push_str(&n.replace(['\t', '\n', '\r'], " "));
            }
        }
        (Predictions::Probs { n_classes, .. }, _) => {
            for k in 0..*n_classes {
                text.push_str(&format!("\tp:{k}"));
            }
        }
        (Predictions::Values(_), _) => text.push_str("\tprediction"),
    }
    text.push('\n');
    for (i, (id, label)) in ids.iter().zip(truth).enumerate() {
        if id.contains(['\t', '\n', '\r']) {
            bail!("record id {id:?} contains a tab or a newline");
        }
        text.push_str(id);
        text.push('\t');
        text.push_str(&label_cell(label, kind));
        match preds {
            Predictions::Probs { n_classes, data } => {
                for p in &data[i * n_classes..(i + 1) * n_classes] {
                    text.push_str(&format!("\t{p}"));
                }
            }
            Predictions::Values(v) => text.push_str(&format!("\t{}", v[i])),
        }
        text.push('\n');
    }
    Ok(text)
}

/// Writes [`render`]'s file to `path` atomically.
pub fn write(
    path: &Path,
    ids: &[String],
    truth: &[Label],
    preds: &Predictions,
    kind: &LabelKind,
) -> Result<()> {
    let text = render(ids, truth, preds, kind)?;
    crate::engine::checkpoint::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// A file written by [`write`], read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    /// Class names (the `p:` columns); empty for a regression file.
    pub classes: Vec<String>,
    /// One per record: the label (`None` when unlabelled).
    pub labels: Vec<Option<f64>>,
    /// One row per record: the class probabilities, or the single prediction.
    pub values: Vec<Vec<f64>>,
}

impl Outputs {
    /// Reads `path`; errors name the file and line.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        if header.len() < 3 || header[0] != "id" || header[1] != "label" {
            bail!("{}: the header is not `id<TAB>label<TAB>…`", path.display());
        }
        let classes: Vec<String> = if header[2..] == ["prediction"] {
            Vec::new()
        } else {
            header[2..]
                .iter()
                .map(|c| {
                    c.strip_prefix("p:").map(str::to_string).with_context(|| {
                        format!(
                            "{}: column {c:?} is neither p:<class> nor prediction",
                            path.display()
                        )
                    })
                })
                .collect::<Result<_>>()?
        };
        let width = header.len() - 2;
        let mut labels = Vec::new();
        let mut values = Vec::new();
        for (i, line) in lines.enumerate() {
            let at = || format!("{} line {}", path.display(), i + 2);
            let cells: Vec<&str> = line.split('\t').collect();
            if cells.len() != width + 2 {
                bail!(
                    "{}: {} fields, the header has {}",
                    at(),
                    cells.len(),
                    width + 2
                );
            }
            labels.push(match cells[1] {
                "" => None,
                l => Some(
                    l.parse()
                        .with_context(|| format!("{}: label {l:?}", at()))?,
                ),
            });
            values.push(
                cells[2..]
                    .iter()
                    .map(|v| v.parse().with_context(|| format!("{}: value {v:?}", at())))
                    .collect::<Result<Vec<f64>>>()?,
            );
        }
        Ok(Outputs {
            classes,
            labels,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_ordinal_and_regression_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(file_name(Split::Test));
        let ids = vec!["a".to_string(), "b".into()];
        let kind = LabelKind::Classes {
            names: vec!["neg".into(), "pos\tx".into()],
        };
        let probs = Predictions::Probs {
            n_classes: 2,
            data: vec![0.1 + 0.2, 0.7, 0.9, 0.1],
        };
        write(&f, &ids, &[Label::Class(1), Label::None], &probs, &kind).unwrap();
        let o = Outputs::read(&f).unwrap();
        assert_eq!(o.classes, ["neg", "pos x"]);
        assert_eq!(o.labels, [Some(1.0), None]);
        assert_eq!(o.values, [vec![0.1 + 0.2, 0.7], vec![0.9, 0.1]]);

        // Ordinal levels 2..=3: label 3 is index 1.
        let ord = LabelKind::Ordinal { min: 2, max: 3 };
        let text = render(&ids[..1], &[Label::Class(3)], &probs_row(), &ord).unwrap();
        assert_eq!(text, "id\tlabel\tp:2\tp:3\na\t1\t0.25\t0.75\n");

        let reg = Predictions::Values(vec![1.5, -2.0]);
        let truth = [Label::Value(1.25), Label::Value(-3.0)];
        write(&f, &ids, &truth, &reg, &LabelKind::Regression).unwrap();
        let o = Outputs::read(&f).unwrap();
        assert!(o.classes.is_empty());
        assert_eq!(o.labels, [Some(1.25), Some(-3.0)]);
        assert_eq!(o.values, [vec![1.5], vec![-2.0]]);

        assert!(render(&ids, &truth[..1], &reg, &LabelKind::Regression).is_err());
        std::fs::write(&f, "id\tlabel\tp:a\nx\t0\n").unwrap();
        let e = Outputs::read(&f).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("2 fields"), "{e}");
        assert_eq!(file_name(Split::Valid), "outputs.valid.tsv");
    }

    fn probs_row() -> Predictions {
        Predictions::Probs {
            n_classes: 2,
            data: vec![0.25, 0.75],
        }
    }
}
