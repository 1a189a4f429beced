//! CSV and TSV: one file per split, a header row `id,sequence,label[,label_index]`, quoted only
//! where a cell needs it. `csv:PATH` / `tsv:PATH` (strand's table reader) reads it back.

use super::SplitWriter;
use super::columns::LabelColumns;
use crate::{DataError, Record, Result};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A CSV/TSV file being written.
pub(super) struct Delimited {
    writer: csv::Writer<BufWriter<File>>,
    path: PathBuf,
    labels: LabelColumns,
}

fn csv_error(path: &Path, e: csv::Error) -> DataError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        other => DataError::Write {
            path: path.to_path_buf(),
            message: format!("{other:?}"),
        },
    }
}

impl Delimited {
    /// Creates `path` and writes the header.
    pub(super) fn create(path: &Path, delimiter: u8, labels: &LabelColumns) -> Result<Self> {
        let file = File::create(path).map_err(|e| DataError::io(path, e))?;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(BufWriter::new(file));
        writer
            .write_record(labels.names())
            .map_err(|e| csv_error(path, e))?;
        Ok(Delimited {
            writer,
            path: path.to_path_buf(),
            labels: labels.clone(),
        })
    }
}

impl SplitWriter for Delimited {
    fn write(&mut self, record: &Record) -> Result<()> {
        let cells = self.labels.cells(record, &self.path)?;
        let label = cells.label_text();
        let seq = std::str::from_utf8(&record.seq).unwrap_or_default();
        let result = match self.labels {
            LabelColumns::Classes(_) => {
                let index = cells.index().map(|i| i.to_string()).unwrap_or_default();
                self.writer
                    .write_record([record.id.as_str(), seq, &label, &index])
            }
            _ => self.writer.write_record([record.id.as_str(), seq, &label]),
        };
        result.map_err(|e| csv_error(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| DataError::io(&path, e.into_error()))?
            .into_inner()
            .map_err(|e| DataError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| DataError::io(&path, e))
    }
}
