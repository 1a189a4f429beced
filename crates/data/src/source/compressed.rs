//! Opening text files that may be gzip-compressed (detected by the magic bytes, not the name).

use crate::{DataError, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// A buffered reader over `path`, transparently decompressing gzip (and bgzip, which is gzip).
/// A truncated or corrupt gzip stream surfaces as an I/O error from the reader.
pub fn open_text(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    open_text_as(path, "file")
}

/// [`open_text`], naming the file `what` (e.g. "FASTA file") when it does not exist.
pub fn open_text_as(path: &Path, what: &'static str) -> Result<Box<dyn BufRead + Send>> {
    let mut file = File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DataError::NotFound {
                what,
                path: path.to_path_buf(),
            }
        } else {
            DataError::io(path, e)
        }
    })?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(|e| DataError::io(path, e))?;
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(BufReader::new(file)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    })
}

/// `reader`, decompressed when its first two bytes are the gzip magic (peeked, not consumed):
/// for streams that cannot be reopened, such as standard input.
pub fn decompress(mut reader: Box<dyn BufRead + Send>) -> std::io::Result<Box<dyn BufRead + Send>> {
    let head = reader.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        ))
    } else {
        reader
    })
}

/// Error for a CSV reader failure at `line`: an I/O error inside a gzip stream usually means a
/// truncated or corrupt file, so say so.
pub fn csv_error(path: &Path, line: u64, e: csv::Error) -> DataError {
    let gz = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("gz"));
    match e.kind() {
        csv::ErrorKind::Io(_) => DataError::BadFile {
            path: path.to_path_buf(),
            message: format!(
                "read error after line {line}: {e}{}",
                if gz {
                    " (truncated or corrupt gzip file?)"
                } else {
                    ""
                }
            ),
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => DataError::BadRecord {
            path: path.to_path_buf(),
            record: format!("line {}", line + 1),
            message: format!("{len} fields, but the header has {expected_len}"),
        },
        _ => DataError::BadRecord {
            path: path.to_path_buf(),
            record: format!("line {}", line + 1),
            message: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn plain_and_gzip_read_the_same_and_truncation_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = "a,b\n".repeat(10_000);
        let plain = dir.path().join("t.csv");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("t.csv.gz");
        let mut w =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        w.write_all(text.as_bytes()).unwrap();
        w.finish().unwrap();
        for p in [&plain, &gz] {
            let mut s = String::new();
            open_text(p).unwrap().read_to_string(&mut s).unwrap();
            assert_eq!(s, text);
        }
        let bytes = std::fs::read(&gz).unwrap();
        let cut = dir.path().join("cut.csv.gz");
        std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
        let mut s = String::new();
        assert!(open_text(&cut).unwrap().read_to_string(&mut s).is_err());
        assert!(matches!(
            open_text(&dir.path().join("none.csv")),
            Err(DataError::NotFound { .. })
        ));
        // A stream that cannot be reopened (standard input) is peeked, not consumed.
        for p in [&plain, &gz] {
            let bytes = std::fs::read(p).unwrap();
            let reader: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(bytes));
            let mut s = String::new();
            decompress(reader).unwrap().read_to_string(&mut s).unwrap();
            assert_eq!(s, text);
        }
    }
}
