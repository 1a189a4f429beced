//! Random windows from a FASTA / FASTA.gz corpus of any size, streamed.
//!
//! The file is read record by record (memory: one record plus the shuffle buffer), again and
//! again (one pass = one epoch). Every record of at least `window` bases yields
//! `max(1, len / window)` windows at uniformly random offsets, each on a random strand when
//! `both_strands` (reverse complement with probability ½); windows with more than
//! `max_n_fraction` `N`s are skipped. Sequences are normalised with [`crate::seq::normalize`]
//! (soft-masked lower case → upper case, IUPAC → `N`). Windows pass through a seeded
//! [`ShuffleBuffer`] so consecutive windows come from different records. Everything is a
//! deterministic function of `seed`.

use crate::record::Record;
use crate::seq::reverse_complement;
use crate::source::fasta_classes;
use crate::stream::ShuffleBuffer;
use crate::{DataError, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// FASTA records `(name, normalised sequence)` of a plain or gzip (bgzip) file, one at a time:
/// the reader of [`fasta_classes`], without labels.
pub struct FastaRecords(fasta_classes::FastaRecords);

impl FastaRecords {
    pub fn open(path: &Path) -> Result<Self> {
        Ok(FastaRecords(fasta_classes::FastaRecords::open(path, 0)?))
    }

    /// FASTA from `reader` (standard input, say), plain or gzip (detected by its first bytes),
    /// named `name` in errors.
    pub fn from_reader(reader: Box<dyn std::io::BufRead + Send>, name: &Path) -> Result<Self> {
        let reader =
            crate::source::compressed::decompress(reader).map_err(|e| DataError::io(name, e))?;
        Ok(FastaRecords(fasta_classes::FastaRecords::from_reader(
            reader, name, 0,
        )?))
    }
}

impl Iterator for FastaRecords {
    type Item = Result<(String, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.0.next()?.map(|Record { id, seq, .. }| (id, seq)))
    }
}

/// Consecutive chunks of `chunk` bases of every record (the last, shorter piece of a record
/// included when it has at least 2 bases), up to `max_bases` in all: the input of tokenizer
/// training.
pub fn chunks(path: &Path, chunk: usize, max_bases: Option<usize>) -> Result<Vec<String>> {
    if chunk == 0 {
        return Err(DataError::BadFile {
            path: path.to_path_buf(),
            message: "the chunk length must be positive".into(),
        });
    }
    let mut chunks = Vec::new();
    let mut total = 0usize;
    let limit = max_bases.unwrap_or(usize::MAX);
    'records: for rec in FastaRecords::open(path)? {
        let (_, seq) = rec?;
        for piece in seq.chunks(chunk) {
            if total >= limit {
                break 'records;
            }
            let piece = &piece[..piece.len().min(limit - total)];
            if piece.len() < 2 {
                continue;
            }
            total += piece.len();
            chunks.push(String::from_utf8(piece.to_vec()).expect("normalised bases are ASCII"));
        }
    }
    if chunks.is_empty() {
        return Err(DataError::BadFile {
            path: path.to_path_buf(),
            message: "no sequence to train on".into(),
        });
    }
    Ok(chunks)
}

/// Options of [`Windows`].
#[derive(Debug, Clone)]
pub struct WindowOptions {
    pub window: usize,
    pub both_strands: bool,
    pub max_n_fraction: f64,
    pub shuffle_buffer: usize,
    pub seed: u64,
}

/// Cuts random windows out of one pass over the corpus.
struct PassWindows {
    records: FastaRecords,
    opts: WindowOptions,
    rng: ChaCha8Rng,
    queue: Vec<Vec<u8>>,
    status: Arc<Mutex<PassStatus>>,
}

/// What a pass reports back once its iterator has ended.
#[derive(Default)]
struct PassStatus {
    produced: usize,
    error: Option<DataError>,
}

impl Iterator for PassWindows {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(w) = self.queue.pop() {
                self.status.lock().expect("status lock").produced += 1;
                return Some(w);
            }
            let (_, seq) = match self.records.next()? {
                Ok(r) => r,
                Err(e) => {
                    self.status.lock().expect("status lock").error = Some(e);
                    return None;
                }
            };
            let w = self.opts.window;
            if seq.len() < w {
                continue;
            }
            for _ in 0..(seq.len() / w).max(1) {
                let start = self.rng.random_range(0..=seq.len() - w);
                let win = &seq[start..start + w];
                let n = win.iter().filter(|b| **b == b'N').count();
                if n as f64 > self.opts.max_n_fraction * w as f64 {
                    continue;
                }
                let win = if self.opts.both_strands && self.rng.random_bool(0.5) {
                    reverse_complement(win)
                } else {
                    win.to_vec()
                };
                self.queue.push(win);
            }
        }
    }
}

/// An endless, seeded stream of normalised windows of `opts.window` bases.
pub struct Windows {
    path: PathBuf,
    opts: WindowOptions,
    epoch: u64,
    current: ShuffleBuffer<PassWindows>,
    status: Arc<Mutex<PassStatus>>,
}

impl Windows {
    pub fn new(path: &Path, opts: WindowOptions) -> Result<Self> {
        if opts.window == 0 {
            return Err(DataError::BadFile {
                path: path.to_path_buf(),
                message: "the window length must be positive".into(),
            });
        }
        let (current, status) = Self::pass(path, &opts, 0)?;
        Ok(Windows {
            path: path.to_path_buf(),
            opts,
            epoch: 0,
            current,
            status,
        })
    }

    #[allow(clippy::type_complexity)]
    fn pass(
        path: &Path,
        opts: &WindowOptions,
        epoch: u64,
    ) -> Result<(ShuffleBuffer<PassWindows>, Arc<Mutex<PassStatus>>)> {
        let seed = opts
            .seed
            .wrapping_add(epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let status = Arc::new(Mutex::new(PassStatus::default()));
        let inner = PassWindows {
            records: FastaRecords::open(path)?,
            opts: opts.clone(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            queue: Vec::new(),
            status: Arc::clone(&status),
        };
        Ok((
            ShuffleBuffer::new(inner, opts.shuffle_buffer, seed ^ 0x5eed),
            status,
        ))
    }

    /// The next window; starts a new pass at the end of the file.
    pub fn next_window(&mut self) -> Result<Vec<u8>> {
        loop {
            if let Some(w) = self.current.next() {
                return Ok(w);
            }
            let mut status = self.status.lock().expect("status lock");
            if let Some(e) = status.error.take() {
                return Err(e);
            }
            if status.produced == 0 {
                return Err(DataError::BadFile {
                    path: self.path.clone(),
                    message: format!(
                        "no window of {} bases (no record that long, or all above the N limit {})",
                        self.opts.window, self.opts.max_n_fraction
                    ),
                });
            }
            drop(status);
            self.epoch += 1;
            (self.current, self.status) = Self::pass(&self.path, &self.opts, self.epoch)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;

    fn write_fasta(dir: &Path, gz: bool) -> PathBuf {
        let text = ">r1 desc\nacgtACGTac\ngtACGTACGT\n>r2\nNNNNNNNNNNNNNNNNNNNN\n>short\nACG\n>r3\nTTTTTTTTTTGGGGGGGGGG\n";
        let path = dir.join(if gz { "c.fa.gz" } else { "c.fa" });
        let f = File::create(&path).unwrap();
        if gz {
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::default());
            e.write_all(text.as_bytes()).unwrap();
            e.finish().unwrap();
        } else {
            let mut f = f;
            f.write_all(text.as_bytes()).unwrap();
        }
        path
    }

    #[test]
    fn reads_plain_and_gzip_records() {
        let dir = tempfile::tempdir().unwrap();
        for gz in [false, true] {
            let path = write_fasta(dir.path(), gz);
            let recs: Vec<_> = FastaRecords::open(&path)
                .unwrap()
                .collect::<Result<Vec<_>>>()
                .unwrap();
            assert_eq!(recs.len(), 4);
            assert_eq!(recs[0].0, "r1");
            assert_eq!(recs[0].1, b"ACGTACGTACGTACGTACGT");
            assert_eq!(recs[2].1, b"ACG");
        }
    }

    #[test]
    fn windows_are_seeded_sized_and_skip_n_and_short_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_fasta(dir.path(), true);
        let opts = WindowOptions {
            window: 8,
            both_strands: true,
            max_n_fraction: 0.1,
            shuffle_buffer: 4,
            seed: 3,
        };
        let mut a = Windows::new(&path, opts.clone()).unwrap();
        let mut b = Windows::new(&path, opts).unwrap();
        let mut saw_rc = false;
        for _ in 0..50 {
            let w = a.next_window().unwrap();
            assert_eq!(w, b.next_window().unwrap());
            assert_eq!(w.len(), 8);
            assert!(!w.contains(&b'N'));
            // r3 windows contain only T/G forward or A/C reverse-complemented.
            if w.iter().all(|c| *c == b'A' || *c == b'C') && w.contains(&b'A') {
                saw_rc = true;
            }
        }
        assert!(saw_rc, "no reverse-complement window in 50 draws");
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_fasta(dir.path(), false);
        let opts = WindowOptions {
            window: 1000,
            both_strands: false,
            max_n_fraction: 0.0,
            shuffle_buffer: 4,
            seed: 0,
        };
        let e = Windows::new(&path, opts.clone())
            .unwrap()
            .next_window()
            .unwrap_err();
        assert!(e.to_string().contains("c.fa"), "{e}");
        let bad = dir.path().join("bad.fa");
        std::fs::write(&bad, ">x\nACGU\n").unwrap();
        let e = FastaRecords::open(&bad)
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("bad.fa") && msg.contains('x'), "{msg}");
    }
}
