//! One FASTA file per class (plain or gzip/bgzip, single- or multi-line records): the CNNProm
//! promoter sets and ad hoc `fasta:NAME=PATH,...` tasks.
//!
//! Every record of class `i`'s file gets `Label::Class(i)` and split `train` (the pool that
//! [`crate::split::derive`] divides). Sequences go through [`crate::seq::normalize`], so errors
//! name the file, the record and the position.

use crate::card::{LabelKind, Metric, Suite, TaskCard};
use crate::source::{RecordIter, Source};
use crate::{DataError, Label, Record, Result, Split};
use noodles::fasta;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The CNNProm file pairs: (task name, non-promoter file, promoter file). Class 0 is
/// `non_promoter`, class 1 `promoter`, as in `cards/cnnprom.toml`.
pub const CNNPROM_FILES: &[(&str, &str, &str)] = &[
    ("cnnprom/ecoli", "Ecoli_non_prom.fa", "Ecoli_prom.fa"),
    ("cnnprom/mouse_tata", "Mouse_nonprom.fa", "Mouse_tata.fa"),
    (
        "cnnprom/arabidopsis_non_tata",
        "Arabidopsis_non_prom.fa",
        "Arabidopsis_non_tata.fa",
    ),
];

/// A classification task made of one FASTA file per class.
#[derive(Debug, Clone)]
pub struct FastaClasses {
    card: TaskCard,
    /// `files[i]` holds the records of class `i`.
    files: Vec<PathBuf>,
}

impl FastaClasses {
    /// An ad hoc task: `classes` in the given order (class `i` = `classes[i]`), its card built
    /// here with `name` (the spec string). Checks that every file exists and holds at least one
    /// record.
    pub fn open(name: &str, classes: &[(String, PathBuf)]) -> Result<Self> {
        if classes.len() < 2 {
            return Err(DataError::Invalid(format!(
                "task {name:?}: a classification task needs at least two classes"
            )));
        }
        for (i, (a, pa)) in classes.iter().enumerate() {
            for (b, pb) in &classes[..i] {
                if a == b {
                    return Err(DataError::Invalid(format!(
                        "task {name:?}: class {a:?} is given twice"
                    )));
                }
                let same = match (pa.canonicalize(), pb.canonicalize()) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => pa == pb,
                };
                if same {
                    return Err(DataError::Invalid(format!(
                        "task {name:?}: classes {b:?} and {a:?} read the same file {}; every \
                         class needs its own FASTA",
                        pa.display()
                    )));
                }
            }
        }
        let names: Vec<String> = classes.iter().map(|(n, _)| n.clone()).collect();
        let metrics = if names.len() == 2 {
            vec![
                Metric::Accuracy,
                Metric::F1,
                Metric::Mcc,
                Metric::Auroc,
                Metric::Sensitivity,
                Metric::Specificity,
            ]
        } else {
            vec![Metric::Accuracy, Metric::F1Macro, Metric::Mcc]
        };
        let card = TaskCard {
            name: name.to_string(),
            suite: Suite::Custom,
            version: "local".to_string(),
            description: format!("FASTA per class: {}", names.join(", ")),
            labels: LabelKind::Classes { names },
            length: None,
            metrics,
            splits: vec![Split::Train],
            eval_split: Split::Test,
            published: vec![],
            records: None,
            caveats: vec![],
        };
        Self::with_card(card, classes.iter().map(|(_, p)| p.clone()).collect())
    }

    /// A built-in CNNProm task (`cnnprom/ecoli`, `cnnprom/mouse_tata`,
    /// `cnnprom/arabidopsis_non_tata`) whose files are in `dir`.
    pub fn cnnprom(name: &str, dir: &Path) -> Result<Self> {
        let (_, neg, pos) = CNNPROM_FILES
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| {
                let known: Vec<&str> = CNNPROM_FILES.iter().map(|(n, _, _)| *n).collect();
                DataError::UnknownTask(format!(
                    "unknown task {name:?}; CNNProm tasks: {}",
                    known.join(", ")
                ))
            })?;
        if !dir.is_dir() {
            return Err(DataError::NotFound {
                what: "CNNProm data directory (pass --data-dir)",
                path: dir.to_path_buf(),
            });
        }
        let card = crate::registry::card(name)?.clone();
        Self::with_card(card, vec![dir.join(neg), dir.join(pos)])
    }

    /// A task from an existing card whose class `i` is in `files[i]`.
    pub fn with_card(card: TaskCard, files: Vec<PathBuf>) -> Result<Self> {
        let n_classes = card.labels.num_classes().unwrap_or(0);
        if n_classes != files.len() {
            return Err(DataError::Invalid(format!(
                "task {}: {} classes but {} FASTA files",
                card.name,
                n_classes,
                files.len()
            )));
        }
        for path in &files {
            let mut it = FastaRecords::open(path, 0)?;
            match it.next() {
                None => {
                    return Err(DataError::BadFile {
                        path: path.clone(),
                        message: "empty FASTA: no records".into(),
                    });
                }
                Some(Err(e)) => return Err(e),
                Some(Ok(_)) => {}
            }
        }
        Ok(FastaClasses { card, files })
    }

    /// The file of each class, in class order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl Source for FastaClasses {
    fn card(&self) -> &TaskCard {
        &self.card
    }

    fn splits(&self) -> Vec<Split> {
        vec![Split::Train]
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        if split != Split::Train {
            return Err(DataError::pool_only(&self.card.name, split));
        }
        let files = self.files.clone();
        let mut class = 0usize;
        let mut current: Option<FastaRecords> = None;
        let mut failed = false;
        Ok(Box::new(std::iter::from_fn(move || {
            loop {
                if failed {
                    return None;
                }
                if current.is_none() {
                    let path = files.get(class)?;
                    match FastaRecords::open(path, class as u32) {
                        Ok(r) => current = Some(r),
                        Err(e) => {
                            failed = true;
                            return Some(Err(e));
                        }
                    }
                }
                match current.as_mut().and_then(Iterator::next) {
                    Some(Err(e)) => {
                        failed = true;
                        return Some(Err(e));
                    }
                    Some(Ok(r)) => return Some(Ok(r)),
                    None => {
                        current = None;
                        class += 1;
                    }
                }
            }
        })))
    }
}

/// The records of one FASTA file, all labelled `class`, lazily.
pub struct FastaRecords {
    reader: fasta::io::Reader<Box<dyn BufRead + Send>>,
    path: PathBuf,
    class: u32,
    /// Number of records read so far.
    index: usize,
    done: bool,
}

impl FastaRecords {
    /// Opens `path` (plain or gzip); every record gets `Label::Class(class)`.
    pub fn open(path: &Path, class: u32) -> Result<Self> {
        Self::from_reader(
            super::compressed::open_text_as(path, "FASTA file")?,
            path,
            class,
        )
    }

    /// Reads FASTA from `reader` (already decompressed), naming it `name` in errors.
    pub fn from_reader(reader: Box<dyn BufRead + Send>, name: &Path, class: u32) -> Result<Self> {
        Ok(FastaRecords {
            reader: fasta::io::Reader::new(reader),
            path: name.to_path_buf(),
            class,
            index: 0,
            done: false,
        })
    }

    /// Reads the next header line (skipping blank lines) and returns the record's name: the
    /// first word after `>`. Headers are parsed here rather than by noodles because real files
    /// (CNNProm's E. coli set) write `> 6400`, with a space before the name, which noodles
    /// rejects; sequence lines are read by noodles.
    fn read_header(&mut self) -> Result<Option<String>> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = self
                .reader
                .get_mut()
                .read_until(b'\n', &mut line)
                .map_err(|e| DataError::io(&self.path, e))?;
            if n == 0 {
                return Ok(None);
            }
            // A UTF-8 byte order mark (some Windows editors write one) is not part of the text.
            let text = line
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(&line)
                .trim_ascii();
            if text.is_empty() {
                continue;
            }
            let Some(definition) = text.strip_prefix(b">") else {
                let message = if self.index == 0 {
                    "not a FASTA file: the first line must start with '>'".to_string()
                } else {
                    "expected a header line starting with '>'".to_string()
                };
                return Err(DataError::BadRecord {
                    path: self.path.clone(),
                    record: format!("#{}", self.index + 1),
                    message,
                });
            };
            let name = definition
                .split(|b| b.is_ascii_whitespace())
                .find(|w| !w.is_empty())
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .unwrap_or_else(|| format!("record_{}", self.index + 1));
            return Ok(Some(name));
        }
    }

    fn read_one(&mut self) -> Result<Option<Record>> {
        let Some(name) = self.read_header()? else {
            return Ok(None);
        };
        self.index += 1;
        let record = format!("{name} (#{})", self.index);
        let mut seq = Vec::new();
        self.reader
            .read_sequence(&mut seq)
            .map_err(|e| DataError::io(&self.path, e))?;
        // Tolerate Windows line endings and blanks at the ends of sequence lines.
        seq.retain(|b| !b.is_ascii_whitespace());
        if seq.is_empty() {
            return Err(DataError::BadRecord {
                path: self.path.clone(),
                record,
                message: "empty sequence".into(),
            });
        }
        crate::seq::normalize(&mut seq, &self.path, &record)?;
        Ok(Some(Record {
            id: name,
            seq,
            label: Label::Class(self.class),
            split: Split::Train,
        }))
    }
}

impl Iterator for FastaRecords {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.done {
            return None;
        }
        match self.read_one() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn classes(a: &Path, b: &Path) -> Vec<(String, PathBuf)> {
        vec![
            ("neg".into(), a.to_path_buf()),
            ("pos".into(), b.to_path_buf()),
        ]
    }

    #[test]
    fn multi_line_plain_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "a.fa",
            b">r1 desc\nACGT\nacgt\n\n> r2\r\nRYAC\r\n",
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b">p1\nTTTT\nGG\n").unwrap();
        let b = write(dir.path(), "b.fa.gz", &gz.finish().unwrap());
        let src = FastaClasses::open("t", &classes(&a, &b)).unwrap();
        let recs: Vec<Record> = src
            .records(Split::Train)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].id, "r1");
        assert_eq!(recs[0].seq, b"ACGTACGT");
        assert_eq!(recs[1].seq, b"NNAC");
        assert_eq!(recs[2].seq, b"TTTTGG");
        assert_eq!(recs[2].label, Label::Class(1));
        assert_eq!(
            src.card().labels,
            LabelKind::Classes {
                names: vec!["neg".into(), "pos".into()]
            }
        );
    }

    #[test]
    fn a_byte_order_mark_and_trailing_blanks_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.fa", b"\xEF\xBB\xBF>r1\nACGT  \nAC\t\n");
        let b = write(dir.path(), "b.fa", b">p\nAAAA \n");
        let src = FastaClasses::open("t", &classes(&a, &b)).unwrap();
        let recs: Vec<Record> = src
            .records(Split::Train)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(recs[0].id, "r1");
        assert_eq!(recs[0].seq, b"ACGTAC");
        assert_eq!(recs[1].seq, b"AAAA");
        // One file for two classes is refused (it would train on identical data).
        let e = FastaClasses::open("t", &classes(&a, &a))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("same file") && e.contains("a.fa"), "{e}");
    }

    #[test]
    fn bad_base_names_file_record_and_position() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.fa", b">ok\nACGT\n>bad_one\nACGTAC\nGX\n");
        let b = write(dir.path(), "b.fa", b">p\nAAAA\n");
        let src = FastaClasses::open("t", &classes(&a, &b)).unwrap();
        let err = src
            .records(Split::Train)
            .unwrap()
            .find_map(|r| r.err())
            .unwrap()
            .to_string();
        assert!(
            err.contains("a.fa") && err.contains("bad_one") && err.contains("position 7"),
            "{err}"
        );
    }

    #[test]
    fn empty_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.fa", b"");
        let b = write(dir.path(), "b.fa", b">p\nAAAA\n");
        let err = FastaClasses::open("t", &classes(&a, &b))
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.fa") && err.contains("empty FASTA"), "{err}");
        let missing = dir.path().join("nope.fa");
        let err = FastaClasses::open("t", &classes(&missing, &b))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not found") && err.contains("nope.fa"),
            "{err}"
        );
        let c = write(dir.path(), "c.fa", b"ACGT\n");
        let err = FastaClasses::open("t", &classes(&c, &b))
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.fa") && err.contains("'>'"), "{err}");
        let d = write(dir.path(), "d.fa", b">empty\n>p\nAC\n");
        let err = FastaClasses::open("t", &classes(&d, &b))
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty") && err.contains("d.fa"), "{err}");
    }

    #[test]
    fn cnnprom_unknown_name_and_missing_dir() {
        let err = FastaClasses::cnnprom("cnnprom/nope", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cnnprom/ecoli"), "{err}");
        let err = FastaClasses::cnnprom("cnnprom/ecoli", Path::new("/no/such/dir"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/no/such/dir"), "{err}");
    }

    #[test]
    fn cnnprom_ecoli_counts_when_shared_data_is_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cnnprom");
        if !dir.is_dir() {
            crate::source::testutil::skip(format_args!(
                "SKIP cnnprom_ecoli_counts_when_shared_data_is_present: {dir:?} absent"
            ));
            return;
        }
        let src = FastaClasses::cnnprom("cnnprom/ecoli", &dir).unwrap();
        let mut counts = [0usize; 2];
        for r in src.records(Split::Train).unwrap() {
            let r = r.unwrap();
            assert_eq!(r.seq.len(), 81, "{}", r.id);
            counts[r.label.class().unwrap() as usize] += 1;
        }
        assert_eq!(counts, [3000, 839]);
    }
}
