//! From records to batches: tokenise, add BOS/EOS, pad or crop, group. Batches are plain vectors
//! (built on a background thread by [`strand_data::stream::Prefetch`]); tensors are made on the
//! training thread by [`HostBatch::to_tensors`].

use anyhow::{Result, bail};
use burn::tensor::{Device, Int, Tensor, TensorData};
use std::sync::Arc;
use strand_data::{Label, Record};
use strand_model::Tokenizer;
use strand_model::classifier::{Objective, Targets, TokenBatch};
use strand_model::tokenize::{AnyTokenizer, BOS, EOS, PAD};

/// How long a batch's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadTo {
    /// Every row has exactly this many tokens: shorter ones are right-padded, longer ones
    /// right-cropped (the Genomic Benchmarks CNN).
    Fixed(usize),
    /// Rows are padded to the longest row of the batch, cropped at `max` (T5 inputs; the CNN
    /// uses `Fixed`).
    #[allow(dead_code)]
    Longest { max: usize },
}

/// Token layout of a model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputFormat {
    pub bos: bool,
    pub eos: bool,
    pub pad_to: PadTo,
}

impl InputFormat {
    /// The ids of one sequence: `[BOS] tokens [EOS]`, cropped to the maximum length.
    pub fn encode(&self, tok: &AnyTokenizer, seq: &[u8]) -> Vec<u32> {
        self.encode_cropped(tok, seq).0
    }

    /// [`InputFormat::encode`], and whether the sequence was cropped.
    pub fn encode_cropped(&self, tok: &AnyTokenizer, seq: &[u8]) -> (Vec<u32>, bool) {
        let mut ids = Vec::with_capacity(seq.len() + 2);
        if self.bos {
            ids.push(BOS);
        }
        ids.extend(tok.encode(seq));
        if self.eos {
            ids.push(EOS);
        }
        let max = self.max_len();
        let cropped = ids.len() > max;
        ids.truncate(max);
        (ids, cropped)
    }

    /// The most tokens a row holds.
    pub fn max_len(&self) -> usize {
        match self.pad_to {
            PadTo::Fixed(n) | PadTo::Longest { max: n } => n,
        }
    }
}

/// A batch on the host: row-major token ids with their mask, and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct HostBatch {
    /// `rows × len` ids.
    pub tokens: Vec<i64>,
    /// `rows × len`, `true` on real tokens.
    pub mask: Vec<bool>,
    pub rows: usize,
    pub len: usize,
    pub labels: Vec<Label>,
    /// Rows whose sequence was longer than the input format allows and was cropped.
    pub cropped: usize,
    /// Position of each row in the record stream, when the rows are not in stream order
    /// ([`length_sorted_batches`]); `None`: consecutive records.
    pub order: Option<Vec<usize>>,
}

impl HostBatch {
    /// Pads `seqs` (already encoded) into one batch.
    pub fn pad(seqs: Vec<Vec<u32>>, labels: Vec<Label>, pad_to: PadTo) -> Self {
        let len = match pad_to {
            PadTo::Fixed(n) => n,
            PadTo::Longest { max } => seqs.iter().map(Vec::len).max().unwrap_or(1).clamp(1, max),
        };
        let rows = seqs.len();
        let mut tokens = Vec::with_capacity(rows * len);
        let mut mask = Vec::with_capacity(rows * len);
        for s in &seqs {
            let n = s.len().min(len);
            tokens.extend(s[..n].iter().map(|&t| t as i64));
            tokens.extend(std::iter::repeat_n(PAD as i64, len - n));
            mask.extend(std::iter::repeat_n(true, n));
            mask.extend(std::iter::repeat_n(false, len - n));
        }
        HostBatch {
            tokens,
            mask,
            rows,
            len,
            labels,
            cropped: 0,
            order: None,
        }
    }

    /// The token ids and mask as tensors on `device`.
    ///
    /// # Shapes
    /// - tokens, mask: `[rows, len]`
    pub fn token_batch(&self, device: &Device) -> TokenBatch {
        let shape = [self.rows, self.len];
        TokenBatch {
            tokens: Tensor::<2, Int>::from_data(
                TensorData::new(self.tokens.clone(), shape),
                device,
            ),
            mask: Tensor::from_data(TensorData::new(self.mask.clone(), shape), device),
        }
    }

    /// The targets the objective trains on; an error if a label does not fit it.
    ///
    /// # Shapes
    /// - output: `[rows]`
    pub fn targets(&self, objective: Objective, device: &Device) -> Result<Targets> {
        Ok(match objective {
            Objective::BinaryLogit | Objective::Softmax { .. } => {
                let mut v = Vec::with_capacity(self.rows);
                for l in &self.labels {
                    match l {
                        Label::Class(c) => v.push(*c as i64),
                        other => bail!("a classification task got the label {other:?}"),
                    }
                }
                Targets::Classes(Tensor::from_data(TensorData::new(v, [self.rows]), device))
            }
            Objective::Regression => {
                let mut v = Vec::with_capacity(self.rows);
                for l in &self.labels {
                    match l.as_f64() {
                        Some(x) => v.push(x as f32),
                        None => bail!("a regression task got a record without a label"),
                    }
                }
                Targets::Values(Tensor::from_data(TensorData::new(v, [self.rows]), device))
            }
        })
    }

    /// Both [`HostBatch::token_batch`] and [`HostBatch::targets`].
    pub fn to_tensors(
        &self,
        objective: Objective,
        device: &Device,
    ) -> Result<(TokenBatch, Targets)> {
        Ok((self.token_batch(device), self.targets(objective, device)?))
    }
}

/// Reverse-complement augmentation: each record is replaced by its reverse complement with
/// probability ½, one draw per record (errors included) from a ChaCha8 stream seeded with
/// `seed`, so a replayed stream flips the same records.
pub fn rc_augment<I>(
    records: I,
    seed: u64,
) -> impl Iterator<Item = strand_data::Result<Record>> + Send
where
    I: Iterator<Item = strand_data::Result<Record>> + Send,
{
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    records.map(move |r| {
        let flip = rng.random_bool(0.5);
        r.map(|mut r| {
            if flip {
                r.seq = strand_data::seq::reverse_complement(&r.seq);
            }
            r
        })
    })
}

/// Groups a record stream into batches of `batch_size` (the last may be smaller). Stops at the
/// first error, which it yields.
pub fn batches<I>(
    records: I,
    tok: Arc<AnyTokenizer>,
    format: InputFormat,
    batch_size: usize,
) -> impl Iterator<Item = strand_data::Result<HostBatch>> + Send
where
    I: Iterator<Item = strand_data::Result<Record>> + Send,
{
    let mut records = records.fuse();
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let mut seqs = Vec::with_capacity(batch_size);
        let mut labels = Vec::with_capacity(batch_size);
        let mut cropped = 0;
        for r in records.by_ref() {
            match r {
                Ok(r) => {
                    let (ids, crop) = format.encode_cropped(&tok, &r.seq);
                    cropped += usize::from(crop);
                    seqs.push(ids);
                    labels.push(r.label);
                    if seqs.len() == batch_size {
                        break;
                    }
                }
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            }
        }
        if seqs.is_empty() {
            None
        } else {
            let mut batch = HostBatch::pad(seqs, labels, format.pad_to);
            batch.cropped = cropped;
            Some(Ok(batch))
        }
    })
}

/// [`batches`] for scoring: the stream is read `window` records at a time, each window sorted
/// by token count (stable), so that rows of similar length share a batch and
/// [`PadTo::Longest`] pads little (on the Genomic Benchmarks' 70–800-bp records this halves
/// T5's scoring time). Each batch records its rows' stream positions in
/// [`HostBatch::order`]; [`crate::engine::trainer::predict`] returns outputs in stream order.
/// Memory: one window of encoded records. Stops at the first error, which it yields.
pub fn length_sorted_batches<I>(
    records: I,
    tok: Arc<AnyTokenizer>,
    format: InputFormat,
    batch_size: usize,
    window: usize,
) -> impl Iterator<Item = strand_data::Result<HostBatch>> + Send
where
    I: Iterator<Item = strand_data::Result<Record>> + Send,
{
    let batch_size = batch_size.max(1);
    let window = window.max(batch_size);
    let mut records = records.fuse();
    let mut position = 0usize;
    let mut ready = std::collections::VecDeque::new();
    let mut failed = false;
    std::iter::from_fn(move || {
        if ready.is_empty() && !failed {
            // (stream position, ids, label, cropped)
            let mut rows: Vec<(usize, Vec<u32>, Label, bool)> = Vec::with_capacity(window);
            for r in records.by_ref() {
                match r {
                    Ok(r) => {
                        let (ids, crop) = format.encode_cropped(&tok, &r.seq);
                        rows.push((position, ids, r.label, crop));
                        position += 1;
                        if rows.len() == window {
                            break;
                        }
                    }
                    Err(e) => {
                        failed = true;
                        return Some(Err(e));
                    }
                }
            }
            rows.sort_by_key(|r| r.1.len());
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let chunk: Vec<_> = rows.by_ref().take(batch_size).collect();
                let cropped = chunk.iter().filter(|r| r.3).count();
                let order = chunk.iter().map(|r| r.0).collect();
                let (seqs, labels) = chunk.into_iter().map(|r| (r.1, r.2)).unzip();
                let mut batch = HostBatch::pad(seqs, labels, format.pad_to);
                batch.cropped = cropped;
                batch.order = Some(order);
                ready.push_back(batch);
            }
        }
        ready.pop_front().map(Ok)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strand_data::Split;
    use strand_model::tokenize::nucleotide::NucleotideTokenizer;

    fn rec(seq: &[u8], c: u32) -> strand_data::Result<Record> {
        Ok(Record {
            id: String::new(),
            seq: seq.to_vec(),
            label: Label::Class(c),
            split: Split::Train,
        })
    }

    #[test]
    fn length_sorted_batches_cover_the_stream_once_sorted_within_windows() {
        let tok: Arc<AnyTokenizer> = Arc::new(AnyTokenizer::Nucleotide(NucleotideTokenizer));
        let fmt = InputFormat {
            bos: false,
            eos: false,
            pad_to: PadTo::Longest { max: 8 },
        };
        // Lengths 9, 1, 7, 3, 5 | 2, 8, 4, 6 | 10 (windows of 5 records; 9 and 10 are cropped).
        let lens = [9usize, 1, 7, 3, 5, 2, 8, 4, 6, 10];
        let recs: Vec<_> = lens
            .iter()
            .enumerate()
            .map(|(i, &n)| rec(&vec![b'A'; n], i as u32))
            .collect();
        let out: Vec<HostBatch> = length_sorted_batches(recs.into_iter(), tok, fmt, 2, 5)
            .map(|b| b.unwrap())
            .collect();
        let orders: Vec<Vec<usize>> = out.iter().map(|b| b.order.clone().unwrap()).collect();
        assert_eq!(
            orders,
            [
                vec![1, 3],
                vec![4, 2],
                vec![0],
                vec![5, 7],
                vec![8, 6],
                vec![9]
            ]
        );
        for b in &out {
            let o = b.order.as_ref().unwrap();
            // Labels travel with their rows; each batch pads only to its own longest row.
            assert_eq!(
                b.labels,
                o.iter()
                    .map(|&p| Label::Class(p as u32))
                    .collect::<Vec<_>>()
            );
            assert_eq!(b.len, o.iter().map(|&p| lens[p].min(8)).max().unwrap());
            assert_eq!(b.cropped, o.iter().filter(|&&p| lens[p] > 8).count());
        }
        // An error is yielded where it occurs, and ends the stream.
        let recs = vec![
            rec(b"ACG", 0),
            Err(strand_data::DataError::Invalid("broken record".into())),
            rec(b"A", 1),
        ];
        let tok: Arc<AnyTokenizer> = Arc::new(AnyTokenizer::Nucleotide(NucleotideTokenizer));
        let out: Vec<_> = length_sorted_batches(recs.into_iter(), tok, fmt, 2, 4).collect();
        assert_eq!(out.len(), 1);
        assert!(
            out[0]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("broken record")
        );
    }

    #[test]
    fn bos_eos_pad_and_crop() {
        let tok = Arc::new(AnyTokenizer::Nucleotide(NucleotideTokenizer));
        let fmt = InputFormat {
            bos: true,
            eos: true,
            pad_to: PadTo::Fixed(5),
        };
        let recs = vec![rec(b"AC", 0), rec(b"ACGTA", 1), rec(b"G", 1)];
        let b: Vec<HostBatch> = batches(recs.into_iter(), tok, fmt, 2)
            .map(|b| b.unwrap())
            .collect();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].rows, 2);
        assert_eq!(b[0].tokens, vec![3, 104, 105, 1, 0, 3, 104, 105, 106, 107]);
        assert_eq!(b[0].mask[..5], [true, true, true, true, false]);
        assert_eq!(b[1].tokens, vec![3, 106, 1, 0, 0]);
        assert_eq!(b[1].labels, vec![Label::Class(1)]);
        // ACGTA + BOS/EOS is 7 tokens: cropped to 5, and counted.
        assert_eq!((b[0].cropped, b[1].cropped), (1, 0));
    }

    #[test]
    fn rc_augment_flips_about_half_the_records_the_same_way_each_time() {
        let recs = || (0..400).map(|_| rec(b"AACG", 0));
        let flipped = |seed| -> Vec<bool> {
            rc_augment(recs(), seed)
                .map(|r| r.unwrap().seq == b"CGTT")
                .collect()
        };
        let a = flipped(7);
        assert_eq!(a, flipped(7));
        assert_ne!(a, flipped(8));
        let n = a.iter().filter(|f| **f).count();
        assert!((160..=240).contains(&n), "{n} of 400 flipped");
    }

    #[test]
    fn longest_pads_to_the_batch() {
        let b = HostBatch::pad(
            vec![vec![5, 6, 7], vec![8]],
            vec![],
            PadTo::Longest { max: 10 },
        );
        assert_eq!((b.rows, b.len), (2, 3));
        assert_eq!(b.tokens, vec![5, 6, 7, 8, 0, 0]);
    }

    #[test]
    fn errors_stop_the_stream() {
        let tok = Arc::new(AnyTokenizer::Nucleotide(NucleotideTokenizer));
        let fmt = InputFormat {
            bos: false,
            eos: false,
            pad_to: PadTo::Fixed(4),
        };
        let recs = vec![
            rec(b"AC", 0),
            Err(strand_data::DataError::Invalid("boom".into())),
            rec(b"AC", 0),
        ];
        let out: Vec<_> = batches(recs.into_iter(), tok, fmt, 8).collect();
        assert_eq!(out.len(), 1);
        assert!(out[0].is_err());
    }
}
