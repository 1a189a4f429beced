//! The Genomic Benchmarks native layout, `<split>/<class>/<id>.txt` (one sequence per file, no
//! trailing newline): what [`GbNative`](crate::source::gb_native::GbNative) and the upstream
//! Python package read. A record id `<class>/<stem>` (what the Genomic Benchmarks readers
//! produce) is written as `<stem>.txt`; other ids are written whole, escaped to a plain file name
//! ([`crate::paths::escaped`]). A file is never overwritten: two records that map to one file
//! name are an error naming the record.

use super::SplitWriter;
use super::columns::{Cells, LabelColumns};
use crate::{DataError, LabelKind, Record, Result, TaskCard};
use std::path::{Path, PathBuf};

/// The class names of `card`, each checked to be a plain folder name; an error for a task
/// without classes.
pub(super) fn class_folders(card: &TaskCard) -> Result<&[String]> {
    let LabelKind::Classes { names } = &card.labels else {
        return Err(DataError::Invalid(format!(
            "{}: only classification tasks can be written in the Genomic Benchmarks layout \
             (use --format csv, tsv, fasta or parquet)",
            card.name
        )));
    };
    for name in names {
        crate::paths::component(name, "class name")?;
    }
    Ok(names)
}

/// One split's folder being written.
pub(super) struct Native {
    split_dir: PathBuf,
    labels: LabelColumns,
}

impl Native {
    /// Creates `split_dir/<class>/` for every class of `labels` (which must be classes).
    pub(super) fn create(split_dir: &Path, labels: &LabelColumns) -> Result<Self> {
        if let LabelColumns::Classes(names) = labels {
            for name in names {
                let d = split_dir.join(name);
                std::fs::create_dir_all(&d).map_err(|e| DataError::io(&d, e))?;
            }
        }
        Ok(Native {
            split_dir: split_dir.to_path_buf(),
            labels: labels.clone(),
        })
    }
}

impl SplitWriter for Native {
    fn write(&mut self, record: &Record) -> Result<()> {
        let Cells::Class { name: class, .. } = self.labels.cells(record, &self.split_dir)? else {
            return Err(DataError::BadRecord {
                path: self.split_dir.clone(),
                record: record.id.clone(),
                message: "no class label: the Genomic Benchmarks layout needs one per record"
                    .into(),
            });
        };
        let stem = match record.id.split_once('/') {
            Some((c, stem)) if c == class && !stem.contains('/') => stem,
            _ => record.id.as_str(),
        };
        let path = self
            .split_dir
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
                        message: "another record of this class has the same id (or one that \
                                  maps to the same file name)"
                            .into(),
                    }
                } else {
                    DataError::io(&path, e)
                }
            })?;
        std::io::Write::write_all(&mut f, &record.seq).map_err(|e| DataError::io(&path, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
