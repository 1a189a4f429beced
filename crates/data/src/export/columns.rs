//! How a record's label becomes table cells: the columns every exported file shares.
//!
//! | task labels | columns after `id`, `sequence` |
//! |---|---|
//! | classes | `label` (class name, text), `label_index` (integer, the card's class order) |
//! | ordinal levels | `label` (integer level, as the publisher writes it) |
//! | regression | `label` (real value) |
//!
//! An unlabelled record (GUANinE's test rows) has empty label cells (null in Parquet).

use crate::{DataError, Label, LabelKind, Record, Result};
use std::path::Path;

/// The label columns of a task.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelColumns {
    /// Class names, in index order.
    Classes(Vec<String>),
    /// Ordinal levels `min..=max`.
    Ordinal {
        min: u32,
        max: u32,
    },
    Regression,
}

/// One record's label cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cells<'a> {
    Class {
        name: &'a str,
        index: u32,
    },
    Level(u32),
    Value(f64),
    /// No label.
    Empty,
}

impl LabelColumns {
    /// The columns of a task whose labels are `kind`.
    pub fn of(kind: &LabelKind) -> Self {
        match kind {
            LabelKind::Classes { names } => LabelColumns::Classes(names.clone()),
            LabelKind::Ordinal { min, max } => LabelColumns::Ordinal {
                min: *min,
                max: *max,
            },
            LabelKind::Regression => LabelColumns::Regression,
        }
    }

    /// Column names, in file order.
    ///
    /// ```
    /// use strand_data::export::LabelColumns;
    /// let c = LabelColumns::Classes(vec!["neg".into(), "pos".into()]);
    /// assert_eq!(c.names(), ["id", "sequence", "label", "label_index"]);
    /// assert_eq!(LabelColumns::Regression.names(), ["id", "sequence", "label"]);
    /// ```
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            LabelColumns::Classes(_) => vec!["id", "sequence", "label", "label_index"],
            _ => vec!["id", "sequence", "label"],
        }
    }

    /// The cells of `record`; an error naming `path` (the file being written) and the record when
    /// its label does not fit the task's labels.
    pub fn cells<'a>(&'a self, record: &Record, path: &Path) -> Result<Cells<'a>> {
        let bad = |message: String| DataError::BadRecord {
            path: path.to_path_buf(),
            record: record.id.clone(),
            message,
        };
        match (&record.label, self) {
            (Label::None, _) => Ok(Cells::Empty),
            (Label::Class(c), LabelColumns::Classes(names)) => match names.get(*c as usize) {
                Some(name) => Ok(Cells::Class { name, index: *c }),
                None => Err(bad(format!(
                    "class index {c}, but the task has {} classes",
                    names.len()
                ))),
            },
            (Label::Class(l), LabelColumns::Ordinal { min, max }) if (*min..=*max).contains(l) => {
                Ok(Cells::Level(*l))
            }
            (Label::Value(v), LabelColumns::Regression) => Ok(Cells::Value(*v)),
            (label, columns) => Err(bad(format!(
                "label {label:?} does not fit the task's labels ({columns:?})"
            ))),
        }
    }
}

impl Cells<'_> {
    /// The `label` cell as text (empty when unlabelled); the shortest text that reads back as the
    /// same number for values.
    pub fn label_text(&self) -> String {
        match self {
            Cells::Class { name, .. } => (*name).to_string(),
            Cells::Level(l) => l.to_string(),
            Cells::Value(v) => v.to_string(),
            Cells::Empty => String::new(),
        }
    }

    /// The class index, for classification tasks.
    pub fn index(&self) -> Option<u32> {
        match self {
            Cells::Class { index, .. } => Some(*index),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Split;

    fn rec(label: Label) -> Record {
        Record {
            id: "r7".into(),
            seq: b"ACGT".to_vec(),
            label,
            split: Split::Train,
        }
    }

    #[test]
    fn cells_follow_the_label_kind_and_reject_misfits() {
        let p = Path::new("out/train.csv");
        let classes = LabelColumns::Classes(vec!["neg".into(), "pos".into()]);
        let c = classes.cells(&rec(Label::Class(1)), p).unwrap();
        assert_eq!((c.label_text().as_str(), c.index()), ("pos", Some(1)));
        assert_eq!(classes.cells(&rec(Label::None), p).unwrap(), Cells::Empty);
        let e = classes
            .cells(&rec(Label::Class(2)), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("out/train.csv") && e.contains("r7") && e.contains("2 classes"));
        let ord = LabelColumns::Ordinal { min: 0, max: 24 };
        assert_eq!(
            ord.cells(&rec(Label::Class(24)), p).unwrap(),
            Cells::Level(24)
        );
        assert!(ord.cells(&rec(Label::Class(25)), p).is_err());
        let reg = LabelColumns::Regression;
        assert_eq!(
            reg.cells(&rec(Label::Value(0.1)), p).unwrap().label_text(),
            "0.1"
        );
        assert!(reg.cells(&rec(Label::Class(0)), p).is_err());
    }
}
