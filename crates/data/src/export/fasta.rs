//! FASTA: one file per split, one line per sequence, the label in the header:
//! `>ID label=NAME label_index=I` (classes), `>ID label=VALUE` (levels, values), `>ID` when
//! unlabelled. Ids must not hold white space (the header's separator).

use super::SplitWriter;
use super::columns::{Cells, LabelColumns};
use crate::{DataError, Record, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A FASTA file being written.
pub(super) struct Fasta {
    out: BufWriter<File>,
    path: PathBuf,
    labels: LabelColumns,
}

impl Fasta {
    pub(super) fn create(path: &Path, labels: &LabelColumns) -> Result<Self> {
        let file = File::create(path).map_err(|e| DataError::io(path, e))?;
        Ok(Fasta {
            out: BufWriter::new(file),
            path: path.to_path_buf(),
            labels: labels.clone(),
        })
    }
}

impl SplitWriter for Fasta {
    fn write(&mut self, record: &Record) -> Result<()> {
        if record.id.is_empty() || record.id.contains(char::is_whitespace) {
            return Err(DataError::BadRecord {
                path: self.path.clone(),
                record: record.id.clone(),
                message: "an id with white space (or an empty one) cannot be a FASTA header; \
                          export as csv, tsv or parquet"
                    .into(),
            });
        }
        let header = match self.labels.cells(record, &self.path)? {
            Cells::Empty => format!(">{}\n", record.id),
            Cells::Class { name, index } => {
                format!(">{} label={name} label_index={index}\n", record.id)
            }
            cells => format!(">{} label={}\n", record.id, cells.label_text()),
        };
        let io = |e| DataError::io(&self.path, e);
        self.out.write_all(header.as_bytes()).map_err(io)?;
        self.out.write_all(&record.seq).map_err(io)?;
        self.out.write_all(b"\n").map_err(io)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let path = self.path;
        let file = self
            .out
            .into_inner()
            .map_err(|e| DataError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| DataError::io(&path, e))
    }
}
