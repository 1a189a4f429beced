//! `synthetic/promoter`: the quickstart's embedded promoter-like task, generated from a seed (no
//! file, no download).
//!
//! Every record is random DNA (GC 45%). Positives (class 1, `promoter`) carry a TATA box
//! (`TATAAA`) at a jittered position around base 30 and, in 70% of them, a GC box (`GGGCGG`)
//! around base 65; negatives (class 0, `background`) carry neither on purpose. Then 2% of the
//! labels are flipped. Record `i` depends only on the generator seed and `i`, so the stream is
//! lazy, reproducible and independent of the order it is read in.

use crate::source::{RecordIter, Source};
use crate::{DataError, Label, Record, Result, Split, TaskCard};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Generator parameters of `synthetic/promoter`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticPromoter {
    /// Number of records (half of them positives, before label noise).
    pub n: usize,
    /// Sequence length in bases.
    pub len: usize,
    /// Generator seed (part of the task's identity, not the training seed).
    pub seed: u64,
    /// Fraction of labels flipped.
    pub label_noise: f64,
}

impl Default for SyntheticPromoter {
    /// The quickstart task: 4,000 × 100 bp, seed 0, 2% label noise.
    fn default() -> Self {
        SyntheticPromoter {
            n: 4000,
            len: 100,
            seed: 0,
            label_noise: 0.02,
        }
    }
}

const TATA: &[u8] = b"TATAAA";
const GC_BOX: &[u8] = b"GGGCGG";

impl SyntheticPromoter {
    /// Record `i` (`i < n`).
    pub fn record(&self, i: usize) -> Record {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(i as u64);
        let positive = i % 2 == 1;
        let mut seq: Vec<u8> = (0..self.len)
            .map(|_| {
                let u: f64 = rng.random();
                match u {
                    u if u < 0.275 => b'A',
                    u if u < 0.5 => b'C',
                    u if u < 0.725 => b'G',
                    _ => b'T',
                }
            })
            .collect();
        if positive {
            plant(&mut seq, TATA, self.len * 3 / 10, 6, &mut rng);
            if rng.random_bool(0.7) {
                plant(&mut seq, GC_BOX, self.len * 65 / 100, 6, &mut rng);
            }
        }
        let flip = rng.random_bool(self.label_noise);
        let class = u32::from(positive != flip);
        Record {
            id: format!("synthetic_{i}"),
            seq,
            label: Label::Class(class),
            split: Split::Train,
        }
    }
}

/// Writes `motif` at `center ± jitter` (clamped to the sequence).
fn plant(seq: &mut [u8], motif: &[u8], center: usize, jitter: usize, rng: &mut ChaCha8Rng) {
    if seq.len() < motif.len() {
        return;
    }
    let lo = center.saturating_sub(jitter);
    let start = rng
        .random_range(lo..=center + jitter)
        .min(seq.len() - motif.len());
    seq[start..start + motif.len()].copy_from_slice(motif);
}

/// The synthetic task as a [`Source`]: one pool (`train`) that [`crate::split::derive`] divides.
#[derive(Debug, Clone)]
pub struct Synthetic {
    card: TaskCard,
    params: SyntheticPromoter,
}

impl Synthetic {
    /// A built-in synthetic task by name (`synthetic/promoter`), card from the registry.
    pub fn open(name: &str) -> Result<Self> {
        let card = crate::registry::card(name)?.clone();
        match name {
            "synthetic/promoter" => Ok(Synthetic {
                card,
                params: SyntheticPromoter::default(),
            }),
            other => Err(DataError::UnknownTask(format!(
                "unknown synthetic task {other:?} (known: synthetic/promoter)"
            ))),
        }
    }

    /// The generator parameters.
    pub fn params(&self) -> &SyntheticPromoter {
        &self.params
    }
}

impl Source for Synthetic {
    fn card(&self) -> &TaskCard {
        &self.card
    }

    fn splits(&self) -> Vec<Split> {
        vec![Split::Train]
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        if split != Split::Train {
            return Err(DataError::pool_only(&self.card.name, split));
        }
        let p = self.params.clone();
        Ok(Box::new((0..p.n).map(move |i| Ok(p.record(i)))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_balanced_and_motif_bearing() {
        let src = Synthetic::open("synthetic/promoter").unwrap();
        let a: Vec<Record> = src
            .records(Split::Train)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let b: Vec<Record> = src
            .records(Split::Train)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 4000);
        let pos = a.iter().filter(|r| r.label == Label::Class(1)).count();
        assert!((1900..2100).contains(&pos), "{pos} positives");
        let has_tata = |r: &Record| r.seq.windows(6).any(|w| w == TATA);
        let tata_pos = a
            .iter()
            .filter(|r| r.label == Label::Class(1) && has_tata(r))
            .count();
        let tata_neg = a
            .iter()
            .filter(|r| r.label == Label::Class(0) && has_tata(r))
            .count();
        assert!(tata_pos as f64 > 0.9 * pos as f64, "{tata_pos}/{pos}");
        assert!((tata_neg as f64) < 0.1 * (4000 - pos) as f64, "{tata_neg}");
        assert!(a.iter().all(|r| r.seq.len() == 100));
    }

    #[test]
    fn only_the_pool_exists() {
        let src = Synthetic::open("synthetic/promoter").unwrap();
        assert!(src.records(Split::Test).is_err());
        assert!(Synthetic::open("synthetic/nope").is_err());
    }
}
