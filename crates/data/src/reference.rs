//! Indexed reference genomes (FASTA, plain or bgzip) read with noodles.
//!
//! Coordinates: strand speaks **0-based, half-open** `[start, end)` everywhere (Genomic Benchmarks
//! and GUANinE both do; it is Python slicing). noodles speaks **1-based, closed** `Position`s and
//! `Region`s. The conversion happens exactly once, in [`to_noodles_interval`].
//!
//! Indexes: a `.fai` (and, for bgzip, a `.gzi`) next to the FASTA is used when present. When
//! missing it is built and written next to the FASTA; when that directory is read-only it goes to
//! `<cache>/reference-index/<key>/` instead, where `<key>` hashes the FASTA's absolute path, size
//! and modification time (so an edited FASTA never meets a stale index there). A gzip file that
//! is not bgzip cannot be read at random: it is refused with a message saying how to fix it.
//!
//! Fetching never truncates silently: a missing sequence name, an empty interval or an interval
//! past the end of its sequence is an error.

use crate::{DataError, Result, seq};
use noodles::bgzf;
use noodles::core::Position;
use noodles::core::region::Interval;
use noodles::fasta;
use noodles::fasta::fai;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Converts a 0-based half-open interval `[start0, end0)` into noodles' 1-based closed interval
/// `[start0 + 1, end0]`. The only place in strand where the two conventions meet.
///
/// Errors if the interval is empty (`end0 <= start0`).
///
/// ```
/// use strand_data::reference::to_noodles_interval;
/// let i = to_noodles_interval(0, 10).unwrap();
/// assert_eq!(usize::from(i.start().unwrap()), 1);
/// assert_eq!(usize::from(i.end().unwrap()), 10);
/// assert!(to_noodles_interval(5, 5).is_err());
/// ```
pub fn to_noodles_interval(start0: u64, end0: u64) -> Result<Interval> {
    if end0 <= start0 {
        return Err(DataError::Invalid(format!(
            "empty interval [{start0}, {end0}) (0-based, half-open)"
        )));
    }
    let to_pos = |n: u64| {
        usize::try_from(n)
            .ok()
            .and_then(Position::new)
            .ok_or_else(|| DataError::Invalid(format!("coordinate {n} out of range")))
    };
    let start = to_pos(start0 + 1)?;
    let end = to_pos(end0)?;
    Ok(Interval::from(start..=end))
}

/// The index of one FASTA, shared by every open handle.
#[derive(Debug)]
struct RefIndex {
    records: Vec<fai::Record>,
    by_name: HashMap<String, usize>,
    /// `Some` for bgzip FASTA files.
    gzi: Option<bgzf::gzi::Index>,
}

/// An open, indexed reference FASTA. Each handle owns its file; [`Reference::reopen`] gives
/// another handle (for another thread) that shares the index.
pub struct Reference {
    path: PathBuf,
    index: Arc<RefIndex>,
    reader: fasta::io::BufReader<File>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference")
            .field("path", &self.path)
            .field("sequences", &self.index.records.len())
            .finish()
    }
}

impl Reference {
    /// Opens `path` (plain or bgzip FASTA), creating missing indexes next to it, or in the cache
    /// when its directory is read-only.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_inner(path.as_ref(), None)
    }

    /// Like [`Reference::open`], but missing indexes are written to `index_dir` (an index already
    /// next to the FASTA is still used).
    pub fn open_with_index_dir(path: impl AsRef<Path>, index_dir: &Path) -> Result<Self> {
        Self::open_inner(path.as_ref(), Some(index_dir))
    }

    fn open_inner(path: &Path, index_dir: Option<&Path>) -> Result<Self> {
        if !path.is_file() {
            return Err(DataError::NotFound {
                what: "reference FASTA",
                path: path.to_path_buf(),
            });
        }
        let bgzip = match detect_compression(path)? {
            Compression::Plain => false,
            Compression::Bgzf => true,
            Compression::Gzip => {
                return Err(DataError::BadFile {
                    path: path.to_path_buf(),
                    message: "gzip-compressed but not bgzip, so it cannot be read at random; \
                              recompress it with `bgzip` (htslib) or decompress it"
                        .into(),
                });
            }
        };
        let gzi = if bgzip {
            Some(load_or_build(
                path,
                "gzi",
                index_dir,
                build_gzi,
                |p| bgzf::gzi::fs::read(p),
                |p, i| bgzf::gzi::fs::write(p, i),
            )?)
        } else {
            None
        };
        let records: Vec<fai::Record> = load_or_build(
            path,
            "fai",
            index_dir,
            |p| build_fai(p, bgzip),
            |p| fai::fs::read(p),
            |p, i| fai::fs::write(p, i),
        )?
        .into();
        let mut by_name = HashMap::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            by_name.insert(String::from_utf8_lossy(r.name()).into_owned(), i);
        }
        let index = Arc::new(RefIndex {
            records,
            by_name,
            gzi,
        });
        let reader = open_reader(path, &index)?;
        Ok(Reference {
            path: path.to_path_buf(),
            index,
            reader,
            buf: Vec::new(),
        })
    }

    /// Another handle on the same file, sharing the index.
    pub fn reopen(&self) -> Result<Self> {
        Ok(Reference {
            path: self.path.clone(),
            index: Arc::clone(&self.index),
            reader: open_reader(&self.path, &self.index)?,
            buf: Vec::new(),
        })
    }

    /// The FASTA file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sequence names in file order.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.index
            .records
            .iter()
            .map(|r| String::from_utf8_lossy(r.name()).into_owned())
    }

    /// Length of sequence `name`, if present.
    pub fn length(&self, name: &str) -> Option<u64> {
        self.index
            .by_name
            .get(name)
            .map(|&i| self.index.records[i].length())
    }

    /// Bases `[start0, end0)` (0-based, half-open) of sequence `name`, normalised (upper case,
    /// IUPAC codes → `N`).
    ///
    /// Errors name the reference file and `name:start0-end0`: unknown sequence, empty interval,
    /// interval past the end of the sequence, a byte that is not a nucleotide code, or a file that
    /// does not match its index.
    pub fn fetch(&mut self, name: &str, start0: u64, end0: u64) -> Result<Vec<u8>> {
        let what = format!("{name}:{start0}-{end0}");
        let bad = |message: String| DataError::BadInterval {
            path: self.path.clone(),
            record: what.clone(),
            message,
        };
        let Some(&i) = self.index.by_name.get(name) else {
            return Err(bad(format!(
                "sequence {name:?} is not in the reference ({} sequences, e.g. {})",
                self.index.records.len(),
                self.names().take(5).collect::<Vec<_>>().join(", ")
            )));
        };
        let record = &self.index.records[i];
        let length = record.length();
        if end0 > length {
            return Err(bad(format!(
                "interval ends at {end0}, past the end of {name} (length {length})"
            )));
        }
        let interval = to_noodles_interval(start0, end0).map_err(|e| bad(e.to_string()))?;
        let first = record
            .query(interval)
            .map_err(|e| bad(format!("index query: {e}")))?;
        let last_base = to_noodles_interval(end0 - 1, end0).map_err(|e| bad(e.to_string()))?;
        let last = record
            .query(last_base)
            .map_err(|e| bad(format!("index query: {e}")))?;
        let span = (last - first + 1) as usize;
        self.buf.resize(span, 0);
        self.reader
            .seek(SeekFrom::Start(first))
            .and_then(|_| self.reader.read_exact(&mut self.buf))
            .map_err(|e| {
                bad(format!(
                    "reading the reference failed ({e}); is the index stale?"
                ))
            })?;
        let mut out: Vec<u8> = self
            .buf
            .iter()
            .copied()
            .filter(|b| *b != b'\n' && *b != b'\r')
            .collect();
        let want = (end0 - start0) as usize;
        if out.len() != want {
            return Err(bad(format!(
                "read {} bases instead of {want}: the .fai index does not match the file",
                out.len()
            )));
        }
        seq::normalize(&mut out, &self.path, &what)?;
        Ok(out)
    }
}

fn open_reader(path: &Path, index: &RefIndex) -> Result<fasta::io::BufReader<File>> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    Ok(match &index.gzi {
        Some(gzi) => fasta::io::BufReader::Bgzf(
            bgzf::io::indexed_reader::Builder::default()
                .set_index(gzi.clone())
                .build_from_reader(file)
                .map_err(|e| DataError::io(path, e))?,
        ),
        None => fasta::io::BufReader::Uncompressed(BufReader::new(file)),
    })
}

enum Compression {
    Plain,
    Gzip,
    Bgzf,
}

/// Looks at the first block header: gzip magic, then the `BC` extra subfield that marks BGZF.
fn detect_compression(path: &Path) -> Result<Compression> {
    let mut head = [0u8; 18];
    let mut f = File::open(path).map_err(|e| DataError::io(path, e))?;
    let n = read_up_to(&mut f, &mut head).map_err(|e| DataError::io(path, e))?;
    if n < 2 || head[0] != 0x1f || head[1] != 0x8b {
        return Ok(Compression::Plain);
    }
    let bgzf = n == 18
        && head[3] & 0x04 != 0
        && u16::from_le_bytes([head[10], head[11]]) >= 6
        && head[12] == b'B'
        && head[13] == b'C';
    Ok(if bgzf {
        Compression::Bgzf
    } else {
        Compression::Gzip
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads `<fasta>.<ext>` next to the file, else from `index_dir` / the cache; builds and writes it
/// when absent everywhere.
fn load_or_build<T>(
    fasta: &Path,
    ext: &str,
    index_dir: Option<&Path>,
    build: impl FnOnce(&Path) -> Result<T>,
    read: impl Fn(&Path) -> io::Result<T>,
    write: impl Fn(&Path, &T) -> io::Result<()>,
) -> Result<T> {
    let beside = fasta.with_added_extension(ext);
    if beside.is_file() {
        return read(&beside).map_err(|e| bad_index(&beside, e));
    }
    let elsewhere = match index_dir {
        Some(dir) => dir.join(file_name(fasta, ext)),
        None => cache_location(fasta, ext)?,
    };
    if elsewhere.is_file() {
        return read(&elsewhere).map_err(|e| bad_index(&elsewhere, e));
    }
    let index = build(fasta)?;
    let targets: Vec<PathBuf> = if index_dir.is_some() {
        vec![elsewhere]
    } else {
        vec![beside, elsewhere]
    };
    let mut errors = Vec::new();
    for target in targets {
        if let Some(parent) = target.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            errors.push(format!("{}: {e}", parent.display()));
            continue;
        }
        match write(&target, &index) {
            Ok(()) => {
                tracing::info!("wrote {}", target.display());
                return Ok(index);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&target);
                errors.push(format!("{}: {e}", target.display()));
            }
        }
    }
    tracing::warn!(
        "could not store the .{ext} index of {} ({}); it will be rebuilt next time",
        fasta.display(),
        errors.join("; ")
    );
    Ok(index)
}

fn bad_index(path: &Path, e: io::Error) -> DataError {
    DataError::BadFile {
        path: path.to_path_buf(),
        message: format!("unreadable index ({e}); delete it to have it rebuilt"),
    }
}

fn file_name(fasta: &Path, ext: &str) -> String {
    let base = fasta
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "reference".into());
    format!("{base}.{ext}")
}

/// `<cache>/reference-index/<sha256(abs path, size, mtime)[..16]>/<file>.<ext>`.
fn cache_location(fasta: &Path, ext: &str) -> Result<PathBuf> {
    let abs = std::fs::canonicalize(fasta).map_err(|e| DataError::io(fasta, e))?;
    let meta = std::fs::metadata(&abs).map_err(|e| DataError::io(fasta, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(abs.to_string_lossy().as_bytes());
    h.update(meta.len().to_le_bytes());
    h.update(mtime.to_le_bytes());
    let key = hex::encode(&h.finalize()[..8]);
    Ok(crate::cache::default_cache_dir()
        .join("reference-index")
        .join(key)
        .join(file_name(fasta, ext)))
}

fn build_fai(path: &Path, bgzip: bool) -> Result<fai::Index> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let records = if bgzip {
        index_records(fasta::io::Indexer::new(bgzf::io::Reader::new(file)))
    } else {
        index_records(fasta::io::Indexer::new(BufReader::new(file)))
    }
    .map_err(|e| DataError::BadFile {
        path: path.to_path_buf(),
        message: format!("cannot index this FASTA: {e}"),
    })?;
    if records.is_empty() {
        return Err(DataError::BadFile {
            path: path.to_path_buf(),
            message: "no FASTA record in the file".into(),
        });
    }
    Ok(fai::Index::from(records))
}

fn index_records<R: io::BufRead>(
    mut indexer: fasta::io::Indexer<R>,
) -> io::Result<Vec<fai::Record>> {
    let mut records = Vec::new();
    while let Some(r) = indexer.index_record().map_err(io::Error::from)? {
        records.push(r);
    }
    Ok(records)
}

/// Builds a GZI index by walking the BGZF block headers: one `(compressed, uncompressed)` offset
/// pair per block start after the first.
fn build_gzi(path: &Path) -> Result<bgzf::gzi::Index> {
    let bad = |message: String| DataError::BadFile {
        path: path.to_path_buf(),
        message,
    };
    let mut f = BufReader::new(File::open(path).map_err(|e| DataError::io(path, e))?);
    let file_len = f
        .get_ref()
        .metadata()
        .map_err(|e| DataError::io(path, e))?
        .len();
    let mut pairs = Vec::new();
    let (mut compressed, mut uncompressed) = (0u64, 0u64);
    let mut header = [0u8; 18];
    while compressed < file_len {
        f.read_exact(&mut header).map_err(|e| {
            bad(format!(
                "truncated BGZF block header at byte {compressed}: {e}"
            ))
        })?;
        if header[0] != 0x1f || header[1] != 0x8b || header[12] != b'B' || header[13] != b'C' {
            return Err(bad(format!(
                "not a BGZF block at byte {compressed} (is the file bgzip-compressed throughout?)"
            )));
        }
        let block_size = u64::from(u16::from_le_bytes([header[16], header[17]])) + 1;
        if compressed + block_size > file_len || block_size < 26 {
            return Err(bad(format!(
                "truncated BGZF block at byte {compressed} (size {block_size}, file {file_len})"
            )));
        }
        f.seek_relative((block_size - 18 - 4) as i64)
            .map_err(|e| DataError::io(path, e))?;
        let mut isize = [0u8; 4];
        f.read_exact(&mut isize)
            .map_err(|e| bad(format!("truncated BGZF block at byte {compressed}: {e}")))?;
        compressed += block_size;
        uncompressed += u64::from(u32::from_le_bytes(isize));
        if compressed < file_len {
            pairs.push((compressed, uncompressed));
        }
    }
    Ok(bgzf::gzi::Index::from(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // Generated sequences and FASTA text come from the shared test helpers.
    use crate::source::testutil::{bases, fasta_text};

    fn write_plain(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        crate::source::testutil::write(&dir.join(name), text)
    }

    fn write_bgzf(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        crate::source::testutil::write_bgzf(&dir.join(name), text)
    }

    #[test]
    fn conversion_at_sequence_start_and_end() {
        // First base of a sequence: [0, 1) → [1, 1].
        let i = to_noodles_interval(0, 1).unwrap();
        assert_eq!(
            (
                usize::from(i.start().unwrap()),
                usize::from(i.end().unwrap())
            ),
            (1, 1)
        );
        // Last base of a 100-bp sequence: [99, 100) → [100, 100].
        let i = to_noodles_interval(99, 100).unwrap();
        assert_eq!(
            (
                usize::from(i.start().unwrap()),
                usize::from(i.end().unwrap())
            ),
            (100, 100)
        );
        // Whole sequence: [0, 100) → [1, 100].
        let i = to_noodles_interval(0, 100).unwrap();
        assert_eq!(
            (
                usize::from(i.start().unwrap()),
                usize::from(i.end().unwrap())
            ),
            (1, 100)
        );
        assert!(to_noodles_interval(10, 9).is_err());
    }

    fn check_fetches(path: &Path, chr1: &[u8], chr2: &[u8], index_dir: &Path) {
        let mut r = Reference::open_with_index_dir(path, index_dir).unwrap();
        assert_eq!(r.length("chr1"), Some(chr1.len() as u64));
        assert_eq!(r.length("chr2"), Some(chr2.len() as u64));
        let n1 = chr1.len() as u64;
        // Start, end, line boundaries, whole sequence, across many bgzf blocks.
        for (s, e) in [
            (0, 1),
            (0, 60),
            (59, 61),
            (n1 - 1, n1),
            (n1 - 251, n1),
            (0, n1),
            (12345, 12345 + 512),
        ] {
            assert_eq!(
                r.fetch("chr1", s, e).unwrap(),
                &chr1[s as usize..e as usize],
                "[{s}, {e})"
            );
        }
        assert_eq!(r.fetch("chr2", 3, 10).unwrap(), &chr2[3..10]);
        let mut again = r.reopen().unwrap();
        assert_eq!(again.fetch("chr2", 0, 5).unwrap(), &chr2[..5]);

        let past = r.fetch("chr1", n1 - 10, n1 + 1).unwrap_err().to_string();
        assert!(
            past.contains("past the end") && past.contains("chr1"),
            "{past}"
        );
        let missing = r.fetch("chr3", 0, 5).unwrap_err().to_string();
        assert!(
            missing.contains("\"chr3\"") && missing.contains("not in the reference"),
            "{missing}"
        );
        assert!(r.fetch("chr1", 5, 5).is_err());
    }

    #[test]
    fn plain_and_bgzip_fetch_exact_bases_and_build_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let chr1 = bases(150_000, 1);
        let chr2 = bases(777, 2);
        let text = fasta_text(&[("chr1", &chr1), ("chr2", &chr2)], 60);

        let plain = write_plain(dir.path(), "ref.fa", &text);
        let idx = dir.path().join("idx");
        check_fetches(&plain, &chr1, &chr2, &idx);
        assert!(idx.join("ref.fa.fai").is_file());

        let gz = write_bgzf(dir.path(), "ref.fa.gz", &text);
        check_fetches(&gz, &chr1, &chr2, &idx);
        assert!(idx.join("ref.fa.gz.fai").is_file() && idx.join("ref.fa.gz.gzi").is_file());
        // Second open reads the stored indexes.
        check_fetches(&gz, &chr1, &chr2, &idx);

        // Default open writes the indexes next to the file.
        let r = Reference::open(&plain).unwrap();
        assert!(plain.with_added_extension("fai").is_file());
        assert_eq!(r.names().collect::<Vec<_>>(), ["chr1", "chr2"]);
        Reference::open(&gz).unwrap();
        assert!(gz.with_added_extension("gzi").is_file());
    }

    #[test]
    fn soft_masking_and_iupac_are_normalised_other_bytes_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let text = b">s\nACGTacgtRYNn\nAC*T\n";
        let p = write_plain(dir.path(), "m.fa", text);
        let mut r = Reference::open(&p).unwrap();
        assert_eq!(r.fetch("s", 0, 12).unwrap(), b"ACGTACGTNNNN");
        let e = r.fetch("s", 12, 16).unwrap_err().to_string();
        assert!(e.contains("s:12-16") && e.contains("position 2"), "{e}");
    }

    #[test]
    fn plain_gzip_and_missing_files_are_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.fa.gz");
        let mut w = flate2::write::GzEncoder::new(
            File::create(&p).unwrap(),
            flate2::Compression::default(),
        );
        w.write_all(b">s\nACGT\n").unwrap();
        w.finish().unwrap();
        let e = Reference::open(&p).unwrap_err().to_string();
        assert!(e.contains("not bgzip"), "{e}");
        let e = Reference::open(dir.path().join("nope.fa"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not found"), "{e}");
        let empty = write_plain(dir.path(), "empty.fa", b"");
        assert!(Reference::open(&empty).is_err());
    }

    #[test]
    fn truncated_bgzip_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = fasta_text(&[("chr1", &bases(200_000, 3))], 70);
        let gz = write_bgzf(dir.path(), "t.fa.gz", &text);
        let bytes = std::fs::read(&gz).unwrap();
        let cut = write_plain(dir.path(), "cut.fa.gz", &bytes[..bytes.len() / 2]);
        let e = Reference::open_with_index_dir(&cut, &dir.path().join("i"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated"), "{e}");
    }
}
