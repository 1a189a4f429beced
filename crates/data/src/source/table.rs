//! User tables: `csv:PATH` / `tsv:PATH`, a header row, optionally gzip-compressed (detected by
//! the magic bytes), as GUE and many papers ship.
//!
//! Columns, found by name (case-insensitive): `sequence` or `seq` (required), `label` or `y`
//! (required), `id` (optional; default: the 0-based data row number), `split` (optional: `train`,
//! `valid`/`val`/`dev`, `test`, `1per`; without it every row is train and strand derives the other
//! splits). Other columns are ignored.
//!
//! **Label rule** (decided by one streaming pre-pass over the label column, which keeps only the
//! distinct values while they can be classes):
//! - every label an integer → classes; the distinct integers sorted numerically give the class
//!   indices (`{0, 1}` stays `0, 1`; `{1, 2, 5}` becomes `0, 1, 2`, named `"1"`, `"2"`, `"5"`);
//! - every label a number and at least one not an integer → regression ([`Label::Value`]);
//! - every label text → classes named by the labels, in **sorted** order;
//! - numbers mixed with text, or a non-finite number → an error naming the first offending row;
//! - an empty label cell → [`Label::None`] (unlabelled, predicted but not scored).

use super::compressed::{csv_error, open_text};
use crate::card::{LabelKind, LengthRange, TaskCard};
use crate::{DataError, Label, Metric, Record, RecordIter, Result, Source, Split, Suite, seq};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How labels are read (the outcome of the pre-pass).
#[derive(Debug, Clone, PartialEq)]
enum Labels {
    /// Integer labels: value → class index.
    Ints(BTreeMap<i64, u32>),
    /// Text labels: name → class index (sorted names).
    Names(BTreeMap<String, u32>),
    Regression,
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    seq: usize,
    label: usize,
    id: Option<usize>,
    split: Option<usize>,
}

/// A CSV/TSV table task.
#[derive(Debug)]
pub struct Table {
    path: PathBuf,
    delimiter: u8,
    card: TaskCard,
    cols: Columns,
    labels: Labels,
    splits: Vec<Split>,
}

fn reader(path: &Path, delimiter: u8) -> Result<csv::Reader<Box<dyn std::io::BufRead + Send>>> {
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(open_text(path)?))
}

fn find_columns(path: &Path, header: &csv::StringRecord) -> Result<Columns> {
    let col = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let missing = |what: &str| DataError::BadFile {
        path: path.to_path_buf(),
        message: format!(
            "header has no {what} column (got {:?})",
            header.iter().collect::<Vec<_>>()
        ),
    };
    Ok(Columns {
        seq: col(&["sequence", "seq"]).ok_or_else(|| missing("sequence/seq"))?,
        label: col(&["label", "y"]).ok_or_else(|| missing("label/y"))?,
        id: col(&["id"]),
        split: col(&["split"]),
    })
}

impl Table {
    /// Opens `path` with the given delimiter (`b','` or `b'\t'`); `spec` names the task
    /// (`csv:PATH`). Reads the file once to decide the label kind and the splits.
    pub fn open(path: &Path, delimiter: u8, spec: &str) -> Result<Self> {
        let mut rdr = reader(path, delimiter)?;
        let header = rdr.headers().map_err(|e| csv_error(path, 0, e))?.clone();
        let cols = find_columns(path, &header)?;

        let mut ints: BTreeSet<i64> = BTreeSet::new();
        let mut names: BTreeSet<String> = BTreeSet::new();
        let mut float = false;
        let mut first_numeric: Option<u64> = None;
        let mut first_text: Option<u64> = None;
        let mut splits: BTreeSet<Split> = BTreeSet::new();
        let (mut min_len, mut max_len, mut rows) = (usize::MAX, 0usize, 0u64);
        let mut row = csv::StringRecord::new();
        let mut line = 1u64;
        while rdr
            .read_record(&mut row)
            .map_err(|e| csv_error(path, line, e))?
        {
            line += 1;
            rows += 1;
            let bad = |message: String| DataError::BadRecord {
                path: path.to_path_buf(),
                record: format!("line {line}"),
                message,
            };
            let label = row.get(cols.label).unwrap_or("").trim();
            if !label.is_empty() {
                if let Ok(i) = label.parse::<i64>() {
                    first_numeric.get_or_insert(line);
                    if !float {
                        ints.insert(i);
                    }
                } else if let Ok(x) = label.parse::<f64>() {
                    if !x.is_finite() {
                        return Err(bad(format!("label {label:?} is not a finite number")));
                    }
                    first_numeric.get_or_insert(line);
                    float = true;
                    ints.clear();
                } else {
                    first_text.get_or_insert(line);
                    names.insert(label.to_string());
                }
                if let (Some(n), Some(t)) = (first_numeric, first_text) {
                    return Err(bad(format!(
                        "unparsable label {label:?}: the label column mixes numbers (line {n}) \
                         and text (line {t})"
                    )));
                }
            }
            if let Some(k) = cols.split {
                let s = row.get(k).unwrap_or("").trim();
                splits.insert(Split::from_str(s).map_err(|e| bad(e.to_string()))?);
            }
            let n = row.get(cols.seq).unwrap_or("").trim().len();
            if n == 0 {
                return Err(bad("empty sequence".into()));
            }
            min_len = min_len.min(n);
            max_len = max_len.max(n);
        }
        if rows == 0 {
            return Err(DataError::BadFile {
                path: path.to_path_buf(),
                message: "no rows".into(),
            });
        }
        let labels = if float {
            Labels::Regression
        } else if !ints.is_empty() {
            Labels::Ints(ints.into_iter().zip(0u32..).collect())
        } else {
            Labels::Names(names.into_iter().zip(0u32..).collect())
        };
        let (kind, metrics) = match &labels {
            Labels::Regression => (
                LabelKind::Regression,
                vec![Metric::Spearman, Metric::Pearson],
            ),
            Labels::Ints(m) => (
                LabelKind::Classes {
                    names: m.keys().map(|k| k.to_string()).collect(),
                },
                classification_metrics(m.len()),
            ),
            Labels::Names(m) => (
                LabelKind::Classes {
                    names: m.keys().cloned().collect(),
                },
                classification_metrics(m.len()),
            ),
        };
        if let LabelKind::Classes { names } = &kind
            && names.len() < 2
        {
            return Err(DataError::BadFile {
                path: path.to_path_buf(),
                message: format!(
                    "a classification task needs at least two labels, found {names:?}"
                ),
            });
        }
        let splits: Vec<Split> = if splits.is_empty() {
            vec![Split::Train]
        } else {
            splits.into_iter().collect()
        };
        let card = TaskCard {
            name: spec.to_string(),
            suite: Suite::Custom,
            version: "user".into(),
            description: format!("user table {}", path.display()),
            labels: kind,
            length: Some(LengthRange {
                min: min_len,
                max: max_len,
            }),
            metrics,
            splits: splits.clone(),
            eval_split: Split::Test,
            published: vec![],
            records: None,
            caveats: vec![],
        };
        Ok(Table {
            path: path.to_path_buf(),
            delimiter,
            card,
            cols,
            labels,
            splits,
        })
    }
}

fn classification_metrics(n: usize) -> Vec<Metric> {
    if n == 2 {
        vec![Metric::Accuracy, Metric::F1, Metric::Mcc, Metric::Auroc]
    } else {
        vec![Metric::Accuracy, Metric::F1, Metric::Mcc]
    }
}

impl Source for Table {
    fn card(&self) -> &TaskCard {
        &self.card
    }

    fn splits(&self) -> Vec<Split> {
        self.splits.clone()
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        DataError::require_split(&self.card.name, split, &self.splits)?;
        Ok(Box::new(TableRecords {
            path: self.path.clone(),
            reader: reader(&self.path, self.delimiter)?,
            cols: self.cols,
            labels: self.labels.clone(),
            split,
            row: csv::StringRecord::new(),
            line: 1,
            n: 0,
            done: false,
        }))
    }
}

struct TableRecords {
    path: PathBuf,
    reader: csv::Reader<Box<dyn std::io::BufRead + Send>>,
    cols: Columns,
    labels: Labels,
    split: Split,
    row: csv::StringRecord,
    line: u64,
    n: u64,
    done: bool,
}

impl TableRecords {
    fn parse(&self) -> Result<Record> {
        let path = &self.path;
        let line = self.line;
        let bad = |message: String| DataError::BadRecord {
            path: path.clone(),
            record: format!("line {line}"),
            message,
        };
        let get = |k: usize| self.row.get(k).unwrap_or("").trim();
        let id = match self.cols.id {
            Some(k) if !get(k).is_empty() => get(k).to_string(),
            Some(_) => return Err(bad("empty id".into())),
            None => (self.n - 1).to_string(),
        };
        let raw = get(self.cols.label);
        let label = if raw.is_empty() {
            Label::None
        } else {
            match &self.labels {
                Labels::Regression => Label::Value(
                    raw.parse()
                        .map_err(|e| bad(format!("unparsable label {raw:?}: {e}")))?,
                ),
                Labels::Ints(m) => Label::Class(
                    raw.parse::<i64>()
                        .ok()
                        .and_then(|i| m.get(&i).copied())
                        .ok_or_else(|| bad(format!("unparsable label {raw:?}")))?,
                ),
                Labels::Names(m) => Label::Class(
                    *m.get(raw)
                        .ok_or_else(|| bad(format!("unknown label {raw:?}")))?,
                ),
            }
        };
        let mut seq = get(self.cols.seq).as_bytes().to_vec();
        if seq.is_empty() {
            return Err(bad("empty sequence".into()));
        }
        seq::normalize(&mut seq, path, &format!("line {line} (id {id})"))?;
        Ok(Record {
            id,
            seq,
            label,
            split: self.split,
        })
    }
}

impl Iterator for TableRecords {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        while !self.done {
            match self.reader.read_record(&mut self.row) {
                Ok(true) => {
                    self.line += 1;
                    self.n += 1;
                    if let Some(k) = self.cols.split {
                        // Validated by the pre-pass.
                        let s = Split::from_str(self.row.get(k).unwrap_or("").trim());
                        if s.ok() != Some(self.split) {
                            continue;
                        }
                    }
                    let r = self.parse();
                    self.done = r.is_err();
                    return Some(r);
                }
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(csv_error(&self.path, self.line, e)));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::{write, write_gz};

    fn all(src: &dyn Source, split: Split) -> Result<Vec<Record>> {
        src.records(split)?.collect()
    }

    #[test]
    fn text_labels_become_sorted_classes_and_splits_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_gz(
            &dir.path().join("t.csv.gz"),
            b"id,sequence,label,split,extra\na,ACGT,promoter,train,x\nb,acgn,non_promoter,test,y\nc,GGRT,promoter,dev,z\n",
        );
        let t = Table::open(&p, b',', "csv:t").unwrap();
        assert_eq!(
            t.card().labels,
            LabelKind::Classes {
                names: vec!["non_promoter".into(), "promoter".into()]
            }
        );
        assert_eq!(t.splits(), vec![Split::Train, Split::Valid, Split::Test]);
        let test = all(&t, Split::Test).unwrap();
        assert_eq!(test.len(), 1);
        assert_eq!(
            (test[0].id.as_str(), test[0].seq.as_slice(), test[0].label),
            ("b", b"ACGN".as_slice(), Label::Class(0))
        );
        assert_eq!(all(&t, Split::Valid).unwrap()[0].seq, b"GGNT");
    }

    #[test]
    fn integer_labels_are_classes_floats_are_regression() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir.path().join("i.tsv"),
            b"seq\ty\nACGT\t5\nCCCC\t1\nGGGG\t\n",
        );
        let t = Table::open(&p, b'\t', "tsv:i").unwrap();
        assert_eq!(
            t.card().labels,
            LabelKind::Classes {
                names: vec!["1".into(), "5".into()]
            }
        );
        let r = all(&t, Split::Train).unwrap();
        assert_eq!(
            r.iter().map(|r| r.label).collect::<Vec<_>>(),
            [Label::Class(1), Label::Class(0), Label::None]
        );
        assert_eq!(r[0].id, "0");

        let p = write(
            &dir.path().join("f.csv"),
            b"sequence,label\nACGT,1\nCCCC,0.25\n",
        );
        let t = Table::open(&p, b',', "csv:f").unwrap();
        assert_eq!(t.card().labels, LabelKind::Regression);
        assert_eq!(all(&t, Split::Train).unwrap()[1].label, Label::Value(0.25));
    }

    #[test]
    fn bad_tables_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        for (body, want) in [
            ("sequence,label\nACGT,1\nACGT\n", "line 3"),
            (
                "sequence,label\nACGT,1\nACGT,pos\n",
                "unparsable label \"pos\"",
            ),
            ("sequence,label\nACGT,inf\n", "not a finite number"),
            ("seqs,label\nACGT,1\n", "no sequence/seq column"),
            ("sequence,label\n", "no rows"),
            ("sequence,label,split\nACGT,1,holdout\n", "unknown split"),
            ("sequence,label\nACGT,a\nAC,b\n,a\n", "empty sequence"),
        ] {
            let p = write(&dir.path().join("b.csv"), body.as_bytes());
            let e = Table::open(&p, b',', "csv:b").unwrap_err().to_string();
            assert!(e.contains("b.csv") && e.contains(want), "{want}: {e}");
        }
        let p = write(
            &dir.path().join("c.csv"),
            b"sequence,label\nACGT,a\nAC-T,b\n",
        );
        let e = all(&Table::open(&p, b',', "csv:c").unwrap(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("position 2"), "{e}");

        let body = "sequence,label\n".to_string() + &"ACGTACGT,a\nTTTT,b\n".repeat(5000);
        let p = write_gz(&dir.path().join("z.csv.gz"), body.as_bytes());
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 20]).unwrap();
        let e = Table::open(&p, b',', "csv:z").unwrap_err().to_string();
        assert!(e.contains("truncated or corrupt gzip"), "{e}");
    }
}
