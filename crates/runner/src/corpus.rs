//! Random windows from a FASTA / FASTA.gz corpus of any size, streamed.
//!
//! The file is read record by record (memory: one record plus the shuffle buffer), again and
//! again (one pass = one epoch). Every record of at least `window` bases yields
//! `max(1, len / window)` windows at uniformly random offsets, each on a random strand when
//! `both_strands` (reverse complement with probability ½); windows with more than
//! `max_n_fraction` `N`s are skipped. Sequences are normalised with [`strand_data::seq::normalize`]
//! (soft-masked lower case → upper case, IUPAC → `N`). Windows pass through a seeded
//! [`ShuffleBuffer`] so consecutive windows come from different records. Everything is a
//! deterministic function of `seed`.

use anyhow::{Context, Result, bail};
use flate2::read::MultiGzDecoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use strand_data::seq::{normalize, reverse_complement};
use strand_data::stream::ShuffleBuffer;

/// Opens a plain or gzip (also bgzip) text file, detected by its magic bytes.
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic)?;
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(f)))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, f))
    })
}

/// FASTA records `(name, normalised sequence)`, one at a time.
pub struct FastaRecords {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    pending_name: Option<String>,
    line_no: u64,
    done: bool,
}

impl FastaRecords {
    pub fn open(path: &Path) -> Result<Self> {
        Ok(FastaRecords {
            path: path.to_path_buf(),
            reader: open_maybe_gz(path)?,
            pending_name: None,
            line_no: 0,
            done: false,
        })
    }

    fn read_record(&mut self) -> Result<Option<(String, Vec<u8>)>> {
        let mut line = Vec::new();
        let mut seq = Vec::new();
        let mut name = self.pending_name.take();
        loop {
            line.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut line)
                .with_context(|| format!("reading {}", self.path.display()))?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line_no += 1;
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            if let Some(header) = line.strip_prefix(b">") {
                let next = String::from_utf8_lossy(header)
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                if name.is_some() {
                    self.pending_name = Some(next);
                    break;
                }
                name = Some(next);
            } else if !line.is_empty() {
                if name.is_none() {
                    bail!(
                        "{}: line {}: sequence before the first `>` header (not FASTA?)",
                        self.path.display(),
                        self.line_no
                    );
                }
                seq.extend_from_slice(&line);
            }
        }
        match name {
            None => Ok(None),
            Some(name) => {
                normalize(&mut seq, &self.path, &name)?;
                Ok(Some((name, seq)))
            }
        }
    }
}

impl Iterator for FastaRecords {
    type Item = Result<(String, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.pending_name.is_none() {
            return None;
        }
        self.read_record().transpose()
    }
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
    error: Option<anyhow::Error>,
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
            bail!("window length must be positive");
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
                bail!(
                    "{}: no window of {} bases (no record that long, or all above the N limit {})",
                    self.path.display(),
                    self.opts.window,
                    self.opts.max_n_fraction
                );
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
