//! **SYNTHETIC** GUANinE-format tasks, written to disk for end-to-end tests of ordinal and
//! regression fine-tuning. Nothing here is GUANinE data: the sequences are random DNA and the
//! labels follow the rule below.
//!
//! # Label rule
//!
//! Record `i` of a split draws a target GC fraction `g ~ U(0.30, 0.70)` and bases with
//! `P(G) = P(C) = g/2`, `P(A) = P(T) = (1 − g)/2`; then `m ~ U{0, 1, 2, 3}` copies of the motif
//! [`MOTIF`] (`CACGTG`, an E-box) are written at random positions, one per third of the sequence.
//! With `gc` the GC fraction and `n` the motif count of the **final** sequence (chance
//! occurrences included),
//!
//! ```text
//! z = 10·(gc − 0.5) + 0.6·n + ε,   ε ~ N(0, 0.5²)
//! ```
//!
//! is the regression label, and the ordinal level 0–4 (`dnase_propensity`-shaped) is the number
//! of [`LEVEL_EDGES`] below `z` (≈ 20% of records per level). GC content explains most of the
//! variance, so [`gc_oracle`] alone reaches Spearman ρ ≈ 0.79 on the ordinal levels and
//! [`oracle`] (GC + motif) ρ ≈ 0.91 (`tests/synthetic_guanine.rs`, seed 7): the signal is learnable, and a model must read the motif to beat the GC baseline.
//!
//! # Files
//!
//! - [`SyntheticGuanine::write_task`]: `<root>/<task>/{train,dev,test,1per}/<split>.csv`, columns
//!   `seq,y`, exactly the published Hugging Face layout that [`super::guanine`] reads; the test
//!   rows have an **empty** `y` (GUANinE's test labels are private) unless
//!   [`SyntheticGuanine::test_labels`] is set; `1per` holds the first 1% of the train rows (at
//!   least one).
//! - [`SyntheticGuanine::write_regression_table`]: one CSV `seq,y,split` with the float labels
//!   `z`, read by `csv:PATH` ([`super::table`]) as a regression task with train/valid/test splits.
//!
//! Record `i` of a split depends only on the seed, the split and `i`.

use crate::{DataError, Result, Split};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// The motif whose count raises the label.
pub const MOTIF: &[u8] = b"CACGTG";

/// Ordinal level edges on `z`: level = number of edges below `z`.
pub const LEVEL_EDGES: [f64; 4] = [-0.3, 0.55, 1.25, 2.1];

/// Weight of `(gc − 0.5)` in `z`.
pub const GC_WEIGHT: f64 = 10.0;
/// Weight of the motif count in `z`.
pub const MOTIF_WEIGHT: f64 = 0.6;
/// Standard deviation of the label noise.
pub const NOISE_SD: f64 = 0.5;

/// Generator of a synthetic GUANinE-format task.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticGuanine {
    /// Rows of the train split.
    pub n_train: usize,
    /// Rows of the dev split (strand's valid).
    pub n_dev: usize,
    /// Rows of the test split.
    pub n_test: usize,
    /// Sequence length in bases.
    pub len: usize,
    /// Generator seed.
    pub seed: u64,
    /// Write test labels (default: empty `y`, as GUANinE's private test set).
    pub test_labels: bool,
}

impl Default for SyntheticGuanine {
    /// 2,000 / 500 / 500 rows of 512 bp (the `dnase_propensity` CSV length), seed 0.
    fn default() -> Self {
        SyntheticGuanine {
            n_train: 2000,
            n_dev: 500,
            n_test: 500,
            len: 512,
            seed: 0,
            test_labels: false,
        }
    }
}

/// One generated record.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticRow {
    /// Upper-case `ACGT` sequence.
    pub seq: Vec<u8>,
    /// The regression label `z`.
    pub value: f64,
    /// The ordinal level 0–4 of `z`.
    pub level: u32,
}

/// GC fraction of a sequence (0 for an empty one).
pub fn gc_fraction(seq: &[u8]) -> f64 {
    if seq.is_empty() {
        return 0.0;
    }
    seq.iter().filter(|b| matches!(b, b'G' | b'C')).count() as f64 / seq.len() as f64
}

/// Occurrences of [`MOTIF`] (overlapping ones counted; `CACGTG` cannot overlap itself).
pub fn motif_count(seq: &[u8]) -> usize {
    seq.windows(MOTIF.len()).filter(|w| *w == MOTIF).count()
}

/// The GC-only predictor: `gc − 0.5`.
pub fn gc_oracle(seq: &[u8]) -> f64 {
    gc_fraction(seq) - 0.5
}

/// The noiseless label: `10·(gc − 0.5) + 0.6·n`.
pub fn oracle(seq: &[u8]) -> f64 {
    GC_WEIGHT * (gc_fraction(seq) - 0.5) + MOTIF_WEIGHT * motif_count(seq) as f64
}

/// The ordinal level of a label value: the number of [`LEVEL_EDGES`] below it.
pub fn level_of(z: f64) -> u32 {
    LEVEL_EDGES.iter().filter(|&&e| e < z).count() as u32
}

fn split_stream(split: Split) -> u64 {
    match split {
        Split::Train | Split::FewShot => 0,
        Split::Valid => 1,
        Split::Test => 2,
    }
}

impl SyntheticGuanine {
    /// Rows of a split (`1per`: 1% of train, at least one).
    pub fn rows(&self, split: Split) -> usize {
        match split {
            Split::Train => self.n_train,
            Split::Valid => self.n_dev,
            Split::Test => self.n_test,
            Split::FewShot => (self.n_train / 100).max(1).min(self.n_train),
        }
    }

    /// Record `i` of `split` (`1per` row `i` is train row `i`).
    ///
    /// # Panics
    /// If `len < 3 · MOTIF.len()` (no room for three motifs): a caller bug.
    pub fn record(&self, split: Split, i: usize) -> SyntheticRow {
        let slot = self.len / 3;
        assert!(
            slot >= MOTIF.len(),
            "synthetic GUANinE sequences need at least {} bases",
            3 * MOTIF.len()
        );
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream((split_stream(split) << 40) | i as u64);
        let g: f64 = rng.random_range(0.30..0.70);
        let mut seq: Vec<u8> = (0..self.len)
            .map(|_| {
                let u: f64 = rng.random();
                if u < g / 2.0 {
                    b'G'
                } else if u < g {
                    b'C'
                } else if u < g + (1.0 - g) / 2.0 {
                    b'A'
                } else {
                    b'T'
                }
            })
            .collect();
        let m = rng.random_range(0..=3usize);
        for j in 0..m {
            let start = j * slot + rng.random_range(0..=slot - MOTIF.len());
            seq[start..start + MOTIF.len()].copy_from_slice(MOTIF);
        }
        // Box–Muller for the label noise.
        let (u1, u2): (f64, f64) = (rng.random(), rng.random());
        let eps = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let value = oracle(&seq) + NOISE_SD * eps;
        SyntheticRow {
            level: level_of(value),
            seq,
            value,
        }
    }

    fn labelled(&self, split: Split) -> bool {
        split != Split::Test || self.test_labels
    }

    /// Writes `<root>/<task>/{train,dev,test,1per}/<split>.csv` (columns `seq,y`, ordinal levels;
    /// empty test `y` unless [`SyntheticGuanine::test_labels`]) and returns the task folder.
    ///
    /// # Errors
    /// [`DataError::Io`] when a folder or file cannot be written.
    pub fn write_task(&self, root: &Path, task: &str) -> Result<PathBuf> {
        let dir = root.join(task);
        for split in [Split::Train, Split::Valid, Split::Test, Split::FewShot] {
            let name = super::guanine::split_dir(split);
            let folder = dir.join(name);
            std::fs::create_dir_all(&folder).map_err(|source| DataError::Io {
                path: folder.clone(),
                source,
            })?;
            let path = folder.join(format!("{name}.csv"));
            let labelled = self.labelled(split);
            write_csv(
                &path,
                &["seq", "y"],
                (0..self.rows(split)).map(|i| {
                    let r = self.record(split, i);
                    let y = if labelled {
                        r.level.to_string()
                    } else {
                        String::new()
                    };
                    vec![String::from_utf8(r.seq).expect("ACGT"), y]
                }),
            )?;
        }
        Ok(dir)
    }

    /// Writes one CSV `seq,y,split` with the real-valued labels `z` (6 decimals; empty for test
    /// rows unless [`SyntheticGuanine::test_labels`]), for `csv:PATH`.
    ///
    /// # Errors
    /// [`DataError::Io`] when the file cannot be written.
    pub fn write_regression_table(&self, path: &Path) -> Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| DataError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let rows = [Split::Train, Split::Valid, Split::Test]
            .into_iter()
            .flat_map(|split| (0..self.rows(split)).map(move |i| (split, i)))
            .map(|(split, i)| {
                let r = self.record(split, i);
                let y = if self.labelled(split) {
                    format!("{:.6}", r.value)
                } else {
                    String::new()
                };
                let s = super::guanine::split_dir(split).to_string();
                vec![String::from_utf8(r.seq).expect("ACGT"), y, s]
            });
        write_csv(path, &["seq", "y", "split"], rows)
    }
}

fn write_csv(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let io = |e: csv::Error| DataError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    };
    let mut w = csv::Writer::from_path(path).map_err(io)?;
    w.write_record(header).map_err(io)?;
    for row in rows {
        w.write_record(&row).map_err(io)?;
    }
    w.flush().map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_reproducible_and_follow_the_rule() {
        let g = SyntheticGuanine::default();
        let a = g.record(Split::Train, 17);
        assert_eq!(a, g.record(Split::Train, 17));
        assert_ne!(a.seq, g.record(Split::Valid, 17).seq);
        assert_eq!(a.seq.len(), 512);
        assert!(a.seq.iter().all(|b| b"ACGT".contains(b)));
        assert_eq!(a.level, level_of(a.value));
        // The noise is the only gap between the label and the oracle.
        let resid: Vec<f64> = (0..400)
            .map(|i| {
                let r = g.record(Split::Train, i);
                r.value - oracle(&r.seq)
            })
            .collect();
        let mean = resid.iter().sum::<f64>() / 400.0;
        let sd = (resid.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        assert!(
            mean.abs() < 0.1 && (sd - NOISE_SD).abs() < 0.07,
            "{mean} {sd}"
        );
    }

    #[test]
    fn levels_are_roughly_balanced_and_motifs_appear() {
        let g = SyntheticGuanine::default();
        let mut counts = [0usize; 5];
        let mut motifs = [0usize; 4];
        for i in 0..1000 {
            let r = g.record(Split::Train, i);
            counts[r.level as usize] += 1;
            motifs[motif_count(&r.seq).min(3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (100..=330).contains(&c)),
            "{counts:?}"
        );
        assert!(motifs.iter().all(|&c| c > 150), "{motifs:?}");
    }

    #[test]
    fn level_edges() {
        assert_eq!(level_of(-5.0), 0);
        assert_eq!(level_of(-0.3), 0);
        assert_eq!(level_of(0.0), 1);
        assert_eq!(level_of(5.0), 4);
    }
}
