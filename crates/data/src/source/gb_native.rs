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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::write;

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
}
