//! Parquet (cargo feature `parquet`): one file per split, columns `id`, `sequence` (UTF-8
//! strings), `label` (UTF-8 class name, INT64 level or DOUBLE value; null when unlabelled) and,
//! for classes, `label_index` (INT64), Snappy-compressed. Rows are buffered and written as a row
//! group every [`ROWS_PER_GROUP`] rows or [`BYTES_PER_GROUP`] bytes of sequence, so memory stays
//! bounded however large the split.

use super::SplitWriter;
use super::columns::{Cells, LabelColumns};
use crate::{DataError, Record, Result};
use parquet::basic::Compression;
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per row group at most.
pub const ROWS_PER_GROUP: usize = 65_536;
/// Bytes of id and sequence buffered before a row group is written.
pub const BYTES_PER_GROUP: usize = 64 << 20;

/// The rows of the row group being filled.
#[derive(Default)]
struct Buffer {
    ids: Vec<ByteArray>,
    seqs: Vec<ByteArray>,
    /// Class names (classes).
    names: Vec<ByteArray>,
    /// Class indices (classes) or levels (ordinal).
    ints: Vec<i64>,
    /// Values (regression).
    values: Vec<f64>,
    /// 1 where the row has a label, 0 where it is null.
    defined: Vec<i16>,
    bytes: usize,
}

/// A Parquet file being written.
pub(super) struct Parquet {
    writer: SerializedFileWriter<BufWriter<File>>,
    path: PathBuf,
    labels: LabelColumns,
    buf: Buffer,
}

fn pq_error(path: &Path, e: parquet::errors::ParquetError) -> DataError {
    DataError::Write {
        path: path.to_path_buf(),
        message: format!("Parquet: {e}"),
    }
}

/// The schema of a task's export.
fn schema(labels: &LabelColumns) -> String {
    let label = match labels {
        LabelColumns::Classes(_) => {
            "optional binary label (UTF8); optional int64 label_index;".to_string()
        }
        LabelColumns::Ordinal { .. } => "optional int64 label;".to_string(),
        LabelColumns::Regression => "optional double label;".to_string(),
    };
    format!(
        "message strand_export {{ required binary id (UTF8); required binary sequence (UTF8); \
         {label} }}"
    )
}

impl Parquet {
    pub(super) fn create(path: &Path, labels: &LabelColumns) -> Result<Self> {
        let schema = parse_message_type(&schema(labels)).map_err(|e| pq_error(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("strand {}", env!("CARGO_PKG_VERSION")))
            .build();
        let file = File::create(path).map_err(|e| DataError::io(path, e))?;
        let writer =
            SerializedFileWriter::new(BufWriter::new(file), Arc::new(schema), Arc::new(props))
                .map_err(|e| pq_error(path, e))?;
        Ok(Parquet {
            writer,
            path: path.to_path_buf(),
            labels: labels.clone(),
            buf: Buffer::default(),
        })
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> Result<()> {
        if self.buf.ids.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let path = self.path.clone();
        let err = |e| pq_error(&path, e);
        let mut group = self.writer.next_row_group().map_err(err)?;
        let mut column = 0usize;
        while let Some(mut col) = group.next_column().map_err(err)? {
            let written = match (column, col.untyped()) {
                (0, ColumnWriter::ByteArrayColumnWriter(w)) => w.write_batch(&buf.ids, None, None),
                (1, ColumnWriter::ByteArrayColumnWriter(w)) => w.write_batch(&buf.seqs, None, None),
                (2, ColumnWriter::ByteArrayColumnWriter(w)) => {
                    w.write_batch(&buf.names, Some(&buf.defined), None)
                }
                (2, ColumnWriter::Int64ColumnWriter(w))
                | (3, ColumnWriter::Int64ColumnWriter(w)) => {
                    w.write_batch(&buf.ints, Some(&buf.defined), None)
                }
                (2, ColumnWriter::DoubleColumnWriter(w)) => {
                    w.write_batch(&buf.values, Some(&buf.defined), None)
                }
                (i, _) => {
                    return Err(DataError::Write {
                        path: path.clone(),
                        message: format!("Parquet: column {i} has an unexpected type"),
                    });
                }
            };
            written.map_err(err)?;
            col.close().map_err(err)?;
            column += 1;
        }
        group.close().map_err(err)?;
        Ok(())
    }
}

impl SplitWriter for Parquet {
    fn write(&mut self, record: &Record) -> Result<()> {
        let cells = self.labels.cells(record, &self.path)?;
        let b = &mut self.buf;
        b.bytes += record.id.len() + record.seq.len();
        b.ids.push(ByteArray::from(record.id.as_bytes().to_vec()));
        b.seqs.push(ByteArray::from(record.seq.clone()));
        match cells {
            Cells::Class { name, index } => {
                b.names.push(ByteArray::from(name.as_bytes().to_vec()));
                b.ints.push(index as i64);
            }
            Cells::Level(l) => b.ints.push(l as i64),
            Cells::Value(v) => b.values.push(v),
            Cells::Empty => {}
        }
        b.defined.push(i16::from(cells != Cells::Empty));
        if b.ids.len() >= ROWS_PER_GROUP || b.bytes >= BYTES_PER_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush()?;
        let path = self.path.clone();
        let out = self.writer.into_inner().map_err(|e| pq_error(&path, e))?;
        let file = out
            .into_inner()
            .map_err(|e| DataError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| DataError::io(&path, e))
    }
}
