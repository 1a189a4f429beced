//! The per-record predictions file of `strand eval --predictions`, submission-ready:
//!
//! ```text
//! id<TAB>prediction
//! <record id><TAB><value>
//! ```
//!
//! One row per record of the split, in the split's file order (for GUANinE: the published order
//! of the CSV/BED rows). The prediction is one number per record: the value for regression (the
//! expectation `Σ p_k·center_k` over label bins for a text-to-text head), the **expected level**
//! `Σ p_k·k` for ordinal tasks (GUANinE; levels counted from the task's lowest level), `P(class
//! 1)` for two classes, and the most probable class index for more classes. Values are written
//! in Rust's shortest round-trip form, so a file read back gives exactly the scored numbers.
//! The test split goes to `predictions.tsv`, any other split to `predictions.<split>.tsv`.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use strand_data::metrics::{Predictions, argmax_rows, expected_index};
use strand_data::{LabelKind, Split};

/// File name for `split` inside a run directory.
pub fn file_name(split: Split) -> String {
    match split {
        Split::Test => "predictions.tsv".into(),
        other => format!("predictions.{}.tsv", other.as_str()),
    }
}

/// One number per record (see the module docs).
pub fn point_values(preds: &Predictions, kind: &LabelKind) -> Result<Vec<f64>> {
    Ok(match (preds, kind) {
        (Predictions::Values(v), _) => v.clone(),
        (Predictions::Probs { n_classes, data }, LabelKind::Ordinal { .. }) => {
            expected_index(data, *n_classes)
        }
        (Predictions::Probs { n_classes: 2, data }, LabelKind::Classes { .. }) => {
            data.chunks_exact(2).map(|r| r[1]).collect()
        }
        (Predictions::Probs { n_classes, data }, LabelKind::Classes { .. }) => {
            argmax_rows(data, *n_classes)
                .into_iter()
                .map(f64::from)
                .collect()
        }
        (Predictions::Probs { .. }, LabelKind::Regression) => {
            bail!("class probabilities for a regression task")
        }
    })
}

/// How many ids occur more than once, and the first one that does.
pub fn duplicate_ids(ids: &[String]) -> Option<(usize, &str)> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let mut first = None;
    let mut n = 0;
    for id in ids {
        if !seen.insert(id.as_str()) {
            n += 1;
            first.get_or_insert(id.as_str());
        }
    }
    first.map(|f| (n, f))
}

/// Writes `ids` and `values` (same length) to `path` (atomically: a reader sees the old file or
/// the whole new one). Duplicate ids are written as they are, with a warning: such a file must
/// be joined by position.
pub fn write(path: &Path, ids: &[String], values: &[f64]) -> Result<PathBuf> {
    if ids.len() != values.len() {
        bail!(
            "{} record ids for {} predictions: they must pair up",
            ids.len(),
            values.len()
        );
    }
    let mut text = String::from("id\tprediction\n");
    for (id, v) in ids.iter().zip(values) {
        if id.contains(['\t', '\n']) {
            bail!("record id {id:?} contains a tab or a newline");
        }
        text.push_str(&format!("{id}\t{v}\n"));
    }
    if let Some((n, first)) = duplicate_ids(ids) {
        tracing::warn!(
            "{n} rows of {} repeat an id that occurs earlier (first: {first:?}): rows follow \
             the split's record order, so join them with the data by position, not by id",
            path.display()
        );
    }
    crate::engine::checkpoint::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Reads a file written by [`write`].
#[cfg(test)]
pub fn read(path: &Path) -> Result<Vec<(String, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    if lines.next() != Some("id\tprediction") {
        bail!("{}: the header is not `id<TAB>prediction`", path.display());
    }
    lines
        .enumerate()
        .map(|(i, l)| {
            let (id, v) = l
                .split_once('\t')
                .with_context(|| format!("{} line {}: no tab", path.display(), i + 2))?;
            let v: f64 = v
                .parse()
                .with_context(|| format!("{} line {}: {v:?}", path.display(), i + 2))?;
            Ok((id.to_string(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_values_per_task_kind_and_round_trip() {
        let ord = LabelKind::Ordinal { min: 0, max: 2 };
        let p = Predictions::Probs {
            n_classes: 3,
            data: vec![0.2, 0.3, 0.5, 1.0, 0.0, 0.0],
        };
        assert_eq!(point_values(&p, &ord).unwrap(), vec![1.3, 0.0]);
        let cls = LabelKind::Classes {
            names: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(point_values(&p, &cls).unwrap(), vec![2.0, 0.0]);
        let bin = LabelKind::Classes {
            names: vec!["a".into(), "b".into()],
        };
        let p2 = Predictions::Probs {
            n_classes: 2,
            data: vec![0.25, 0.75],
        };
        assert_eq!(point_values(&p2, &bin).unwrap(), vec![0.75]);
        assert!(point_values(&p2, &LabelKind::Regression).is_err());

        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(file_name(Split::Test));
        let values = vec![0.1 + 0.2, -1e-300, 7.0];
        let ids = vec!["r1".to_string(), "chr1:5-9".into(), "x".into()];
        write(&f, &ids, &values).unwrap();
        let back = read(&f).unwrap();
        assert_eq!(back.iter().map(|r| r.1).collect::<Vec<_>>(), values);
        assert_eq!(back[1].0, "chr1:5-9");
        assert!(write(&f, &ids[..1], &values).is_err());
        assert!(write(&f, &["a\tb".to_string()], &[1.0]).is_err());
        assert_eq!(file_name(Split::Valid), "predictions.valid.tsv");
    }

    #[test]
    fn duplicate_ids_are_counted_and_the_first_named() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(duplicate_ids(&ids(&["a", "b", "c"])), None);
        assert_eq!(
            duplicate_ids(&ids(&["a", "b", "b", "a", "b"])),
            Some((3, "b"))
        );
        // Written anyway, in order.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.tsv");
        write(&f, &ids(&["a", "a"]), &[1.0, 2.0]).unwrap();
        assert_eq!(
            read(&f).unwrap(),
            vec![("a".into(), 1.0), ("a".into(), 2.0)]
        );
    }
}
