//! Genomic Benchmarks in the layout the official Python package builds:
//!
//! ```text
//! <root>/<dataset>/<split>/<class>/<id>.txt     one sequence per file, no trailing newline
//! ```
//!
//! **Class order is the sorted order of the class folder names.** Upstream's
//! `GenomicClfDataset` labels classes in `Path.iterdir()` order, i.e. file-system order, which
//! differs between machines (and so does which class its binary F1 calls positive); sorting makes
//! labels and F1 reproducible and agrees with the interval reader and the built-in cards.
//!
//! Files inside a class are read in id order: numerically when every stem is an integer (upstream
//! ids are `0.txt`, `1.txt`, …), else by name. A trailing newline is tolerated; an empty file, an
//! empty class folder, a split folder missing, or class folders that differ between splits are
//! errors.

use super::gb_intervals::{gb_card, gb_split_dir};
use crate::{DataError, Label, Record, RecordIter, Result, Source, Split, TaskCard, seq};
use std::path::{Path, PathBuf};

/// A dataset in the native one-file-per-sequence layout.
#[derive(Debug)]
pub struct GbNative {
    root: PathBuf,
    card: TaskCard,
    classes: Vec<String>,
    splits: Vec<Split>,
}

/// Whether `dir` looks like the native layout (`train/` holds class folders).
pub fn is_native(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("train"))
        .map(|entries| entries.flatten().any(|e| e.path().is_dir()))
        .unwrap_or(false)
}

fn sorted_subdirs(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        if entry.path().is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The `*.txt` files of a class folder, in id order (numeric if all stems are integers).
fn sorted_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let path = entry.map_err(|e| DataError::io(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "txt") && path.is_file() {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((stem, path));
        }
    }
    if files.iter().all(|(s, _)| s.parse::<u64>().is_ok()) {
        files.sort_by_key(|(s, _)| s.parse::<u64>().unwrap_or(u64::MAX));
    } else {
        files.sort();
    }
    Ok(files)
}

impl GbNative {
    /// Opens `<dir>` = `<root>/<dataset>`; checks that train and test exist with the same,
    /// non-empty class folders.
    pub fn open(dir: &Path) -> Result<Self> {
        let dataset = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut splits = Vec::new();
        let mut classes: Option<Vec<String>> = None;
        for split in [Split::Train, Split::Valid, Split::Test] {
            let folder = dir.join(gb_split_dir(split));
            if !folder.is_dir() {
                if split != Split::Valid {
                    return Err(DataError::BadFile {
                        path: dir.to_path_buf(),
                        message: format!(
                            "task folder is missing split {split} (expected {}/<class>/<id>.txt)",
                            folder.display()
                        ),
                    });
                }
                continue;
            }
            let names = sorted_subdirs(&folder)?;
            match &classes {
                None => classes = Some(names.clone()),
                Some(c) if *c != names => {
                    return Err(DataError::BadFile {
                        path: folder,
                        message: format!("class folders {names:?} differ from train's {c:?}"),
                    });
                }
                Some(_) => {}
            }
            for class in &names {
                let class_dir = folder.join(class);
                let any = std::fs::read_dir(&class_dir)
                    .map_err(|e| DataError::io(&class_dir, e))?
                    .flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "txt"));
                if !any {
                    return Err(DataError::BadFile {
                        path: class_dir,
                        message: format!("class {class:?} has no <id>.txt files in split {split}"),
                    });
                }
            }
            splits.push(split);
        }
        let classes = classes.unwrap_or_default();
        if classes.len() < 2 {
            return Err(DataError::BadFile {
                path: dir.join("train"),
                message: format!(
                    "a classification task needs at least two class folders, found {classes:?}"
                ),
            });
        }
        let card = gb_card(&dataset, &classes, &splits, "0".into(), dir)?;
        Ok(GbNative {
            root: dir.to_path_buf(),
            card,
            classes,
            splits,
        })
    }
}

impl Source for GbNative {
    fn card(&self) -> &TaskCard {
        &self.card
    }

    fn splits(&self) -> Vec<Split> {
        self.splits.clone()
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        DataError::require_split(&self.card.name, split, &self.splits)?;
        Ok(Box::new(NativeRecords {
            folder: self.root.join(gb_split_dir(split)),
            classes: self.classes.clone(),
            next_class: 0,
            files: Vec::new().into_iter(),
            split,
            done: false,
        }))
    }
}

/// Lazily reads one file at a time; only the current class's file names are held.
struct NativeRecords {
    folder: PathBuf,
    classes: Vec<String>,
    next_class: usize,
    files: std::vec::IntoIter<(String, PathBuf)>,
    split: Split,
    done: bool,
}

impl Iterator for NativeRecords {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.done {
            return None;
        }
        loop {
            if let Some((stem, path)) = self.files.next() {
                let ci = self.next_class - 1;
                let r = read_one(&path, &self.classes[ci], &stem, ci as u32, self.split);
                self.done = r.is_err();
                return Some(r);
            }
            if self.next_class >= self.classes.len() {
                self.done = true;
                return None;
            }
            let class_dir = self.folder.join(&self.classes[self.next_class]);
            self.next_class += 1;
            match sorted_files(&class_dir) {
                Ok(files) if files.is_empty() => {
                    self.done = true;
                    return Some(Err(DataError::BadFile {
                        path: class_dir,
                        message: "empty class folder".into(),
                    }));
                }
                Ok(files) => self.files = files.into_iter(),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

fn read_one(path: &Path, class: &str, stem: &str, label: u32, split: Split) -> Result<Record> {
    let mut seq = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    while seq.last().is_some_and(|b| b.is_ascii_whitespace()) {
        seq.pop();
    }
    let id = format!("{class}/{stem}");
    if seq.is_empty() {
        return Err(DataError::BadRecord {
            path: path.to_path_buf(),
            record: id,
            message: "empty sequence".into(),
        });
    }
    seq::normalize(&mut seq, path, &id)?;
    Ok(Record {
        id,
        seq,
        label: Label::Class(label),
        split,
    })
}

/// What [`export_native`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub dir: PathBuf,
    /// `(split, class, files)` in write order.
    pub counts: Vec<(Split, String, u64)>,
}

/// Writes every split of `source` to `<to>/<dataset>/<split>/<class>/<id>.txt` (one sequence, no
/// trailing newline), the layout [`GbNative`] and the upstream package read. A record id
/// `<class>/<stem>` (what the Genomic Benchmarks readers produce) is written as `<stem>.txt`;
/// other ids are written whole, with `/` replaced by `_`. Refuses to write into an existing,
/// non-empty dataset folder and never overwrites a file (two records with one id is an error).
pub fn export_native(source: &dyn Source, to: &Path, dataset: &str) -> Result<ExportSummary> {
    let crate::LabelKind::Classes { names } = &source.card().labels else {
        return Err(DataError::Invalid(format!(
            "{}: only classification tasks can be written in the Genomic Benchmarks layout",
            source.card().name
        )));
    };
    let dataset = crate::paths::component(dataset, "dataset name")?;
    for name in names {
        crate::paths::component(name, "class name")?;
    }
    let dir = to.join(dataset);
    if std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(DataError::Invalid(format!(
            "{} exists and is not empty; refusing to overwrite",
            dir.display()
        )));
    }
    // Written under a temporary name and renamed at the end: a failure (a duplicate id, a bad
    // record) leaves no half-written dataset behind.
    let tmp = to.join(format!(".tmp-{dataset}"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| DataError::io(&tmp, e))?;
    }
    let counts = match write_native(source, &tmp, names) {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if dir.exists() {
        std::fs::remove_dir(&dir).map_err(|e| DataError::io(&dir, e))?;
    }
    std::fs::rename(&tmp, &dir).map_err(|e| DataError::io(&dir, e))?;
    Ok(ExportSummary { dir, counts })
}

/// Writes every split of `source` into `dir` in the native layout; the counts per split and
/// class.
fn write_native(
    source: &dyn Source,
    dir: &Path,
    names: &[String],
) -> Result<Vec<(Split, String, u64)>> {
    let mut counts: Vec<(Split, String, u64)> = Vec::new();
    for split in source.splits() {
        let split_dir = dir.join(gb_split_dir(split));
        for name in names {
            let d = split_dir.join(name);
            std::fs::create_dir_all(&d).map_err(|e| DataError::io(&d, e))?;
        }
        let mut per_class = vec![0u64; names.len()];
        for record in source.records(split)? {
            let record = record?;
            let class = record
                .label
                .class()
                .and_then(|c| names.get(c as usize))
                .ok_or_else(|| DataError::BadRecord {
                    path: dir.to_path_buf(),
                    record: record.id.clone(),
                    message: format!("label {:?} is not one of the classes", record.label),
                })?;
            let stem = match record.id.split_once('/') {
                Some((c, stem)) if c == class && !stem.contains('/') => stem,
                _ => record.id.as_str(),
            };
            let path = split_dir
                .join(class)
                .join(format!("{}.txt", crate::paths::escaped(stem)));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        DataError::BadRecord {
                            path: path.clone(),
                            record: record.id.clone(),
                            message: "another record of this class has the same id (or one \
                                      that maps to the same file name)"
                                .into(),
                        }
                    } else {
                        DataError::io(&path, e)
                    }
                })?;
            std::io::Write::write_all(&mut f, &record.seq).map_err(|e| DataError::io(&path, e))?;
            per_class[record.label.class().unwrap_or_default() as usize] += 1;
        }
        for (name, n) in names.iter().zip(per_class) {
            counts.push((split, name.clone(), n));
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::gb_intervals::{GbIntervals, ReferenceChoice};
    use crate::source::testutil::{bases, fasta_text, write, write_gz};

    fn native(dir: &Path) -> PathBuf {
        let root = dir.join("toy");
        for split in ["train", "test"] {
            write(&root.join(format!("{split}/positive/0.txt")), b"ACGTacgtRY");
            write(&root.join(format!("{split}/positive/10.txt")), b"GGGG\n");
            write(&root.join(format!("{split}/positive/2.txt")), b"TTTT");
            write(&root.join(format!("{split}/negative/0.txt")), b"CCCC");
        }
        root
    }

    fn all(src: &dyn Source, split: Split) -> Result<Vec<Record>> {
        src.records(split)?.collect()
    }

    #[test]
    fn reads_sorted_classes_in_id_order_and_normalises() {
        let dir = tempfile::tempdir().unwrap();
        let root = native(dir.path());
        assert!(is_native(&root));
        let src = GbNative::open(&root).unwrap();
        assert_eq!(src.splits(), vec![Split::Train, Split::Test]);
        let recs = all(&src, Split::Train).unwrap();
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["negative/0", "positive/0", "positive/2", "positive/10"]
        );
        assert_eq!(recs[0].label, Label::Class(0));
        assert_eq!(recs[1].label, Label::Class(1));
        assert_eq!(recs[1].seq, b"ACGTACGTNN");
        assert_eq!(recs[3].seq, b"GGGG");
    }

    #[test]
    fn bad_native_inputs_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = native(dir.path());
        write(&root.join("train/positive/3.txt"), b"ACGU");
        let e = all(&GbNative::open(&root).unwrap(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("3.txt") && e.contains("positive/3") && e.contains("position 3"),
            "{e}"
        );

        write(&root.join("train/positive/3.txt"), b"");
        let e = all(&GbNative::open(&root).unwrap(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty sequence"), "{e}");
        std::fs::remove_file(root.join("train/positive/3.txt")).unwrap();

        std::fs::create_dir_all(root.join("test/other")).unwrap();
        let e = GbNative::open(&root).unwrap_err().to_string();
        assert!(e.contains("differ from train"), "{e}");
        std::fs::create_dir_all(root.join("train/other")).unwrap();
        let e = GbNative::open(&root).unwrap_err().to_string();
        assert!(e.contains("\"other\" has no <id>.txt files"), "{e}");
        std::fs::remove_dir_all(root.join("train/other")).unwrap();
        std::fs::remove_dir_all(root.join("test")).unwrap();
        let e = GbNative::open(&root).unwrap_err().to_string();
        assert!(e.contains("missing split test"), "{e}");
    }

    #[test]
    fn export_of_an_interval_build_reads_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let chr = bases(2_000, 3);
        let reference = write(&dir.path().join("g.fa"), &fasta_text(&[("1", &chr)], 50));
        let root = dir.path().join("intervals/mini");
        write(
            &root.join("metadata.yaml"),
            b"classes:\n  a:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    type: fa.gz\n    url: x\n  b:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    type: fa.gz\n    url: x\nversion: 0\n",
        );
        for split in ["train", "test"] {
            write_gz(
                &root.join(format!("{split}/a.csv.gz")),
                b"id,region,start,end,strand\n0,chr1,0,100,+\n1,chr1,1900,2000,-\n",
            );
            write_gz(
                &root.join(format!("{split}/b.csv.gz")),
                b"id,region,start,end,strand\nx_7,chr1,10,30,\n",
            );
        }
        let src = GbIntervals::open(&root, Some(&ReferenceChoice::File(reference))).unwrap();
        let out = dir.path().join("native");
        let summary = export_native(&src, &out, "mini").unwrap();
        assert_eq!(summary.counts[0], (Split::Train, "a".to_string(), 2));
        assert_eq!(
            std::fs::read(out.join("mini/train/b/x_7.txt")).unwrap(),
            &chr[10..30]
        );
        let back = GbNative::open(&out.join("mini")).unwrap();
        for split in [Split::Train, Split::Test] {
            assert_eq!(all(&back, split).unwrap(), all(&src, split).unwrap());
        }
        let e = export_native(&src, &out, "mini").unwrap_err().to_string();
        assert!(e.contains("refusing to overwrite"), "{e}");
    }

    #[test]
    fn export_refuses_escaping_names_and_leaves_nothing_half_written() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.fa"), dir.path().join("b.fa"));
        write(&a, b">r1\nACGT\n>r2\nACGA\n");
        write(&b, b">s1\nTTTT\n");
        let to = dir.path().join("out");
        let spec = format!("fasta:../../../x={},b={}", a.display(), b.display());
        let src = crate::open(&spec, &Default::default()).unwrap();
        let e = export_native(src.as_ref(), &to, "toy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("class name") && e.contains("../../../x"), "{e}");
        assert!(!dir.path().join("x").exists() && !to.join("toy").exists());

        // Two records with one id: an error naming it, and no dataset directory left behind.
        write(&a, b">r1\nACGT\n>r1\nACGA\n");
        let spec = format!("fasta:a={},b={}", a.display(), b.display());
        let src = crate::open(&spec, &Default::default()).unwrap();
        let e = export_native(src.as_ref(), &to, "toy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("r1") && e.contains("same id"), "{e}");
        let left: Vec<_> = std::fs::read_dir(&to)
            .map(|d| d.count())
            .into_iter()
            .collect();
        assert!(left.iter().all(|&n| n == 0), "{left:?}");
    }
}
