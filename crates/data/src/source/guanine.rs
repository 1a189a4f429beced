//! GUANinE v1.0 tasks in the Hugging Face repository layout (`git clone
//! https://huggingface.co/datasets/guanine/<task>`), see `guanine.md` §2:
//!
//! ```text
//! <task>/<split>/<split>.csv            comma-separated: seq, y (other columns ignored)
//! <task>/bed/<split>/<split>.bed        tab-separated, first line = header starting with `#chr`
//! ```
//!
//! Splits: `train`, `dev` (strand's [`Split::Valid`]), `test`, `1per`.
//!
//! - **CSV mode** (`guanine/<task>`): the publisher's own 509–512 bp (gpra: 80 bp) sequences.
//! - **BED mode** (`guanine/<task>@L`, needs a reference, UCSC hg38): a window of exactly `L` bases
//!   around `center`: `[center − L/2, center − L/2 + L)`, 0-based half-open, with integer division.
//!   For even `L` this is the docs' `center ± L/2`; for odd `L` (where the docs' formula gives
//!   `L − 1` bases) the extra base goes to the right — strand's definition. A window that leaves
//!   its chromosome is an error, never a shorter sequence.
//! - BED columns are looked up **by name** (`#chr`, `center`, `y`, `task`; the column order is not
//!   documented). The header line is read as the header, never skipped as a comment.
//! - Labels: `y` is an ordinal level checked against the card's range; a missing `y` column or
//!   an empty cell is [`Label::None`] (GUANinE test labels are private: such rows are predicted,
//!   not scored). Any other value is an error naming file, line and value.
//! - Record ids: the 0-based data row number; when the file has a `task` column (ccre), the id is
//!   `<task>:<row>` so that ccre predictions can be scored per sub-task ([`subtask`]).

use super::compressed::{csv_error, open_text};
use crate::card::{LabelKind, LengthRange, TaskCard};
use crate::reference::Reference;
use crate::{DataError, Label, Record, RecordIter, Result, Source, Split, seq};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The GUANinE folder name of a split.
pub fn split_dir(split: Split) -> &'static str {
    match split {
        Split::Train => "train",
        Split::Valid => "dev",
        Split::Test => "test",
        Split::FewShot => "1per",
    }
}

/// The ccre sub-task of a record id (`<task>:<row>`), `None` for ids without one.
///
/// ```
/// use strand_data::source::guanine::subtask;
/// assert_eq!(subtask("H3K4me3:17"), Some("H3K4me3"));
/// assert_eq!(subtask("17"), None);
/// ```
pub fn subtask(id: &str) -> Option<&str> {
    id.rsplit_once(':').map(|(task, _)| task)
}

/// Where sequences come from.
enum Mode {
    Csv,
    Bed {
        reference: Mutex<Reference>,
        context: u64,
    },
}

/// A GUANinE task folder.
pub struct Guanine {
    dir: PathBuf,
    card: TaskCard,
    splits: Vec<Split>,
    mode: Mode,
}

impl Guanine {
    /// Opens the task folder `dir` for the built-in card `card` in CSV mode.
    pub fn open_csv(dir: &Path, card: &TaskCard) -> Result<Self> {
        Self::open(dir, card, Mode::Csv)
    }

    /// Opens the task folder `dir` in BED mode: `context`-bp windows centred on `center`, cut from
    /// `reference`.
    pub fn open_bed(dir: &Path, card: &TaskCard, reference: &Path, context: u64) -> Result<Self> {
        if context == 0 {
            return Err(DataError::Invalid(
                "GUANinE context size must be at least 1 bp".into(),
            ));
        }
        let reference = Reference::open(reference)?;
        Self::open(
            dir,
            card,
            Mode::Bed {
                reference: Mutex::new(reference),
                context,
            },
        )
    }

    fn open(dir: &Path, card: &TaskCard, mode: Mode) -> Result<Self> {
        if card.splits.is_empty() {
            return Err(DataError::Invalid(format!(
                "{}: the file layout of this task is not published; strand cannot read it",
                card.name
            )));
        }
        if !dir.is_dir() {
            return Err(DataError::NotFound {
                what: "GUANinE task folder (git clone https://huggingface.co/datasets/guanine/<task>)",
                path: dir.to_path_buf(),
            });
        }
        let mut card = card.clone();
        if let Mode::Bed { context, .. } = &mode {
            let l = *context as usize;
            card.length = Some(LengthRange { min: l, max: l });
            card.caveats.push(format!(
                "Sequences: {l} bp windows [center - {l}//2, center - {l}//2 + {l}) cut from the reference, not the publisher's CSV sequences."
            ));
        }
        let this = Guanine {
            dir: dir.to_path_buf(),
            card,
            splits: Vec::new(),
            mode,
        };
        for split in &this.card.splits {
            let f = this.file(*split);
            if !f.is_file() {
                return Err(DataError::BadFile {
                    path: dir.to_path_buf(),
                    message: format!(
                        "task folder is missing split {} ({} not found)",
                        split_dir(*split),
                        f.display()
                    ),
                });
            }
        }
        Ok(Guanine {
            splits: this.card.splits.clone(),
            ..this
        })
    }

    fn file(&self, split: Split) -> PathBuf {
        let s = split_dir(split);
        match self.mode {
            Mode::Csv => self.dir.join(s).join(format!("{s}.csv")),
            Mode::Bed { .. } => self.dir.join("bed").join(s).join(format!("{s}.bed")),
        }
    }
}

/// Column positions of one file.
struct Columns {
    seq: Option<usize>,
    chr: Option<usize>,
    center: Option<usize>,
    y: Option<usize>,
    task: Option<usize>,
}

struct Rows {
    path: PathBuf,
    reader: csv::Reader<Box<dyn std::io::BufRead + Send>>,
    cols: Columns,
    row: csv::StringRecord,
    line: u64,
    n: u64,
    split: Split,
    levels: Option<(u32, u32)>,
    /// BED mode: the reference handle and the context size.
    bed: Option<(Reference, u64)>,
    done: bool,
}

impl Rows {
    fn record(&mut self) -> Result<Record> {
        let line = self.line;
        let path = &self.path;
        let bad = |message: String| DataError::BadRecord {
            path: path.clone(),
            record: format!("line {line}"),
            message,
        };
        let get = |c: Option<usize>| c.and_then(|k| self.row.get(k)).map(str::trim);
        let row_no = self.n - 1;
        let id = match get(self.cols.task) {
            Some(t) if !t.is_empty() => format!("{t}:{row_no}"),
            Some(_) => return Err(bad("empty task".into())),
            None => row_no.to_string(),
        };
        let label = match get(self.cols.y) {
            None | Some("") => Label::None,
            Some(v) => {
                let level = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x <= u32::MAX as f64)
                    .map(|x| x as u32)
                    .ok_or_else(|| bad(format!("label y = {v:?} is not an integer level")))?;
                if let Some((lo, hi)) = self.levels
                    && (level < lo || level > hi)
                {
                    return Err(bad(format!("label y = {level} is outside {lo}..={hi}")));
                }
                Label::Class(level)
            }
        };
        let seq = match &mut self.bed {
            None => {
                let s = get(self.cols.seq).unwrap_or("");
                if s.is_empty() {
                    return Err(bad("empty seq".into()));
                }
                let mut s = s.as_bytes().to_vec();
                seq::normalize(&mut s, path, &format!("line {line}"))?;
                s
            }
            Some((reference, context)) => {
                let chr = get(self.cols.chr).unwrap_or("");
                let center_s = get(self.cols.center).unwrap_or("");
                let center: u64 = center_s
                    .parse()
                    .map_err(|e| bad(format!("center {center_s:?}: {e}")))?;
                let half = *context / 2;
                let start = center.checked_sub(half).ok_or_else(|| {
                    bad(format!(
                        "{}-bp window around {chr}:{center} starts before the chromosome",
                        context
                    ))
                })?;
                reference.fetch(chr, start, start + *context).map_err(|e| {
                    DataError::BadInterval {
                        path: path.clone(),
                        record: format!("line {line}"),
                        message: e.to_string(),
                    }
                })?
            }
        };
        Ok(Record {
            id,
            seq,
            label,
            split: self.split,
        })
    }
}

impl Iterator for Rows {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.done {
            return None;
        }
        let item = match self.reader.read_record(&mut self.row) {
            Ok(true) => {
                self.line += 1;
                self.n += 1;
                self.record()
            }
            Ok(false) if self.n == 0 => Err(DataError::BadFile {
                path: self.path.clone(),
                message: "no rows".into(),
            }),
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(e) => Err(csv_error(&self.path, self.line, e)),
        };
        self.done = item.is_err();
        Some(item)
    }
}

impl Source for Guanine {
    fn card(&self) -> &TaskCard {
        &self.card
    }

    fn splits(&self) -> Vec<Split> {
        self.splits.clone()
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        DataError::require_split(&self.card.name, split, &self.splits)?;
        let path = self.file(split);
        let (delimiter, bed) = match &self.mode {
            Mode::Csv => (b',', None),
            Mode::Bed { reference, context } => (
                b'\t',
                Some((
                    reference.lock().expect("reference lock").reopen()?,
                    *context,
                )),
            ),
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(open_text(&path)?);
        let header = reader
            .headers()
            .map_err(|e| csv_error(&path, 0, e))?
            .clone();
        if bed.is_some() && !header.get(0).is_some_and(|h| h.starts_with("#chr")) {
            return Err(DataError::BadFile {
                path,
                message: format!(
                    "the first line must be the header starting with #chr (got {:?})",
                    header.iter().collect::<Vec<_>>()
                ),
            });
        }
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().trim_start_matches('#') == name)
        };
        let cols = Columns {
            seq: col("seq"),
            chr: col("chr"),
            center: col("center"),
            y: col("y"),
            task: col("task"),
        };
        let required: &[(&str, Option<usize>)] = if bed.is_some() {
            &[("#chr", cols.chr), ("center", cols.center)]
        } else {
            &[("seq", cols.seq)]
        };
        for (name, c) in required {
            if c.is_none() {
                return Err(DataError::BadFile {
                    path,
                    message: format!(
                        "header has no {name:?} column (got {:?})",
                        header.iter().collect::<Vec<_>>()
                    ),
                });
            }
        }
        let levels = match self.card.labels {
            LabelKind::Ordinal { min, max } => Some((min, max)),
            LabelKind::Classes { ref names } => Some((0, names.len() as u32 - 1)),
            LabelKind::Regression => None,
        };
        Ok(Box::new(Rows {
            path,
            reader,
            cols,
            row: csv::StringRecord::new(),
            line: 1,
            n: 0,
            split,
            levels,
            bed,
            done: false,
        }))
    }
}

#[cfg(test)]
#[path = "guanine_tests.rs"]
mod tests;

/// Opens `guanine/<task>` (CSV mode) or `guanine/<task>@L` (BED mode, `L`-bp windows from
/// `opts.reference`) from `<data-dir>/<task>` (default `<cache>/guanine/<task>`).
pub fn open_builtin(name: &str, opts: &crate::OpenOptions) -> Result<Box<dyn Source>> {
    let (task, context) = match name.split_once('@') {
        Some((t, l)) => {
            let l: u64 = l.parse().map_err(|_| {
                DataError::UnknownTask(format!(
                    "guanine/{name}: expected guanine/<task>@<context in bp>, e.g. guanine/{t}@2000"
                ))
            })?;
            (t, Some(l))
        }
        None => (name, None),
    };
    let card = crate::registry::card(&format!("guanine/{task}"))?;
    let dir = match &opts.data_dir {
        Some(d) if d.join(task).is_dir() || !d.join("guanine").join(task).is_dir() => d.join(task),
        Some(d) => d.join("guanine").join(task),
        None => crate::cache::default_cache_dir().join("guanine").join(task),
    };
    Ok(match context {
        None => Box::new(Guanine::open_csv(&dir, card)?),
        Some(l) => {
            let reference = opts.reference.as_deref().ok_or_else(|| {
                DataError::Invalid(format!(
                    "guanine/{name}: BED mode cuts {l}-bp windows from a reference genome; pass \
                     --reference hg38.fa(.gz) (UCSC names), or drop @{l} to use the CSV sequences"
                ))
            })?;
            Box::new(Guanine::open_bed(&dir, card, reference, l)?)
        }
    })
}
