//! Span-corruption examples from corpus windows, for any tokenizer, and their padded batches.
//!
//! How a window becomes an example depends on the tokenizer ([`Masking`]):
//!
//! - **token space** (nucleotide, non-overlapping k-mers, BPE): the window is tokenised, cut to
//!   `raw_tokens` tokens (from [`plan_lengths`], so inputs fill the encoder length), and T5's noise
//!   mask is drawn over tokens with a mean span in tokens;
//! - **nucleotide space** (overlapping k-mers): the mask is drawn over the window's bases (mean
//!   span in bases) and [`corrupt_in_nucleotide_space`] hides every k-mer touching a masked base.
//!
//! A mean span given in nucleotides becomes `mean_span / bases_per_token` tokens in token space
//! (1 for nucleotides, k for non-overlapping k-mers, measured on the corpus for BPE); a mean span
//! given in tokens becomes `mean_span · stride` bases in nucleotide space.

use anyhow::{Result, bail};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use strand_data::corpus::Windows;
use strand_model::Tokenizer;
use strand_model::span_corruption::{
    Corrupted, corrupt, corrupt_in_nucleotide_space, plan_lengths, random_spans_noise_mask,
};
use strand_model::t5::IGNORE_INDEX;
use strand_model::tokenize::{AnyTokenizer, PAD};

/// Unit of `mean_span` in configs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanUnit {
    Tokens,
    Nucleotides,
}

/// Where the noise mask is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Masking {
    /// Over tokens; windows are cut to `raw_tokens` tokens.
    Tokens { raw_tokens: usize, mean_span: f64 },
    /// Over bases (overlapping k-mers).
    Nucleotides { mean_span: f64 },
}

impl std::fmt::Display for Masking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Masking::Tokens {
                raw_tokens,
                mean_span,
            } => write!(
                f,
                "spans of mean {mean_span} tokens masked over {raw_tokens} tokens"
            ),
            Masking::Nucleotides { mean_span } => {
                write!(f, "spans of mean {mean_span} bases masked over bases")
            }
        }
    }
}

/// Everything fixed about how windows become examples (recorded in the run directory).
#[derive(Debug, Clone, Serialize)]
pub struct ExamplePlan {
    pub window_bases: usize,
    pub masking: Masking,
    pub noise_density: f64,
    /// Bases per token used for unit conversion and window sizing.
    pub bases_per_token: f64,
    /// Expected decoder length at the plan's counts (token space) or an estimate.
    pub target_length: usize,
}

impl ExamplePlan {
    /// Plans windows for `tokenizer` so that corrupted inputs have about `encoder_length` tokens.
    /// `bpe_bases_per_token` is the measured ratio for BPE (ignored otherwise).
    pub fn new(
        tokenizer: &AnyTokenizer,
        encoder_length: usize,
        noise_density: f64,
        mean_span: f64,
        unit: SpanUnit,
        bpe_bases_per_token: f64,
    ) -> Result<Self> {
        if !(0.0..1.0).contains(&noise_density) || noise_density == 0.0 {
            bail!("noise_density must be in (0, 1), got {noise_density}");
        }
        if mean_span <= 0.0 {
            bail!("mean_span must be positive, got {mean_span}");
        }
        if encoder_length < 4 {
            bail!("encoder_length must be at least 4, got {encoder_length}");
        }
        match tokenizer {
            AnyTokenizer::Kmer(t) if t.overlapping() => {
                let mean_bases = match unit {
                    SpanUnit::Nucleotides => mean_span,
                    SpanUnit::Tokens => mean_span * t.stride() as f64,
                };
                let (raw_tokens, target_tokens) = plan_lengths(
                    encoder_length,
                    noise_density,
                    mean_bases / t.stride() as f64,
                );
                let window_bases = (raw_tokens - 1) * t.stride() + t.k();
                Ok(ExamplePlan {
                    window_bases,
                    masking: Masking::Nucleotides {
                        mean_span: mean_bases,
                    },
                    noise_density,
                    bases_per_token: t.stride() as f64,
                    target_length: target_tokens,
                })
            }
            _ => {
                let bpt = match tokenizer {
                    AnyTokenizer::Nucleotide(_) => 1.0,
                    AnyTokenizer::Kmer(t) => t.k() as f64,
                    AnyTokenizer::Bpe(_) | AnyTokenizer::Hf(_) => bpe_bases_per_token,
                };
                let mean_tokens = match unit {
                    SpanUnit::Tokens => mean_span,
                    SpanUnit::Nucleotides => mean_span / bpt,
                };
                let (raw_tokens, target_length) =
                    plan_lengths(encoder_length, noise_density, mean_tokens);
                let window_bases = match tokenizer {
                    AnyTokenizer::Bpe(_) | AnyTokenizer::Hf(_) => {
                        (raw_tokens as f64 * bpt * 1.3).ceil() as usize + 16
                    }
                    _ => (raw_tokens as f64 * bpt) as usize,
                };
                Ok(ExamplePlan {
                    window_bases,
                    masking: Masking::Tokens {
                        raw_tokens,
                        mean_span: mean_tokens,
                    },
                    noise_density,
                    bases_per_token: bpt,
                    target_length,
                })
            }
        }
    }
}

impl ExamplePlan {
    /// Bases of corpus one example covers before corruption: the whole window for masking in
    /// nucleotide space, else the kept tokens × bases per token (for BPE the corpus mean,
    /// measured at planning).
    pub fn bases_per_example(&self) -> f64 {
        match self.masking {
            Masking::Tokens { raw_tokens, .. } => raw_tokens as f64 * self.bases_per_token,
            Masking::Nucleotides { .. } => self.window_bases as f64,
        }
    }

    /// Steps of `batch_size` examples that cover at least `bases` bases (at least 1).
    pub fn steps_for_bases(&self, bases: u64, batch_size: usize) -> usize {
        let per_step = self.bases_per_example() * batch_size as f64;
        ((bases as f64 / per_step).ceil() as usize).max(1)
    }
}

/// Mean bases per BPE token over `n` windows of `len` bases.
pub fn measure_bases_per_token(
    tokenizer: &AnyTokenizer,
    windows: &mut Windows,
    n: usize,
) -> Result<f64> {
    let (mut bases, mut tokens) = (0usize, 0usize);
    for _ in 0..n {
        let w = windows.next_window()?;
        bases += w.len();
        tokens += tokenizer.encode(&w).len();
    }
    Ok(bases as f64 / tokens.max(1) as f64)
}

/// Turns corpus windows into corrupted examples.
pub struct ExampleMaker {
    plan: ExamplePlan,
    rng: ChaCha8Rng,
    /// Windows that gave fewer than `raw_tokens` tokens (BPE), skipped.
    pub short_windows: usize,
}

impl ExampleMaker {
    pub fn new(plan: ExamplePlan, seed: u64) -> Self {
        ExampleMaker {
            plan,
            rng: ChaCha8Rng::seed_from_u64(seed),
            short_windows: 0,
        }
    }

    /// One example from `window`, or `None` if the window is too short in tokens.
    pub fn make(&mut self, tokenizer: &AnyTokenizer, window: &[u8]) -> Result<Option<Corrupted>> {
        let density = self.plan.noise_density;
        match self.plan.masking {
            Masking::Tokens {
                raw_tokens,
                mean_span,
            } => {
                let mut ids = tokenizer.encode(window);
                if ids.len() < raw_tokens {
                    self.short_windows += 1;
                    return Ok(None);
                }
                ids.truncate(raw_tokens);
                let mask = random_spans_noise_mask(ids.len(), density, mean_span, &mut self.rng);
                Ok(Some(corrupt(&ids, &mask)?))
            }
            Masking::Nucleotides { mean_span } => {
                let AnyTokenizer::Kmer(k) = tokenizer else {
                    bail!("nucleotide-space masking needs a k-mer tokenizer");
                };
                let ids = k.encode(window);
                let spans = k.token_spans(window.len());
                let mask = random_spans_noise_mask(window.len(), density, mean_span, &mut self.rng);
                Ok(Some(corrupt_in_nucleotide_space(
                    &ids,
                    &spans,
                    window,
                    &mask,
                    |b| k.single_id(b),
                )?))
            }
        }
    }

    /// The next `n` examples from `windows`.
    pub fn batch(
        &mut self,
        tokenizer: &AnyTokenizer,
        windows: &mut Windows,
        n: usize,
    ) -> Result<Vec<Corrupted>> {
        let mut out = Vec::with_capacity(n);
        let mut tries = 0usize;
        while out.len() < n {
            tries += 1;
            if tries > 100 * n {
                bail!(
                    "windows of {} bases rarely give enough tokens; raise the window size",
                    self.plan.window_bases
                );
            }
            if let Some(ex) = self.make(tokenizer, &windows.next_window()?)? {
                out.push(ex);
            }
        }
        Ok(out)
    }
}

/// A padded batch: inputs padded with `<pad>` (mask 0), labels padded with −100.
pub struct Batch {
    pub input_ids: Tensor<2, Int>,
    pub attention_mask: Tensor<2, Int>,
    pub labels: Tensor<2, Int>,
    /// Non-padding encoder + decoder tokens.
    pub tokens: usize,
}

/// Pads `examples` into tensors.
///
/// # Shapes
/// - input_ids, attention_mask: `[N, max input length]`
/// - labels: `[N, max target length]`
pub fn to_batch(examples: &[Corrupted], device: &Device) -> Batch {
    let n = examples.len();
    let s = examples.iter().map(|e| e.inputs.len()).max().unwrap_or(1);
    let t = examples.iter().map(|e| e.targets.len()).max().unwrap_or(1);
    let mut ids = vec![PAD as i64; n * s];
    let mut mask = vec![0i64; n * s];
    let mut labels = vec![IGNORE_INDEX; n * t];
    let mut tokens = 0;
    for (i, e) in examples.iter().enumerate() {
        for (j, &id) in e.inputs.iter().enumerate() {
            ids[i * s + j] = id as i64;
            mask[i * s + j] = 1;
        }
        for (j, &id) in e.targets.iter().enumerate() {
            labels[i * t + j] = id as i64;
        }
        tokens += e.inputs.len() + e.targets.len();
    }
    Batch {
        input_ids: Tensor::from_data(TensorData::new(ids, [n, s]), device),
        attention_mask: Tensor::from_data(TensorData::new(mask, [n, s]), device),
        labels: Tensor::from_data(TensorData::new(labels, [n, t]), device),
        tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::cpu;
    use strand_model::tokenize::{EOS, TokenizerChoice};

    fn tok(s: &str) -> AnyTokenizer {
        s.parse::<TokenizerChoice>().unwrap().build().unwrap()
    }

    #[test]
    fn token_space_fills_the_encoder_exactly() {
        // Nucleotides: 141 bases → 128 inputs, 29 targets (T5's table). Non-overlapping 6-mers
        // with a 3-base mean span (0.5 tokens): every noise token is its own span, so 127 raw
        // 6-mers (19 noise) fill 128 inputs and give 19 + 19 + 1 targets.
        for (t, unit, window, targets) in [
            ("nucleotide", SpanUnit::Tokens, 141, 29),
            ("kmer:6", SpanUnit::Nucleotides, 127 * 6, 39),
        ] {
            let t = tok(t);
            let plan = ExamplePlan::new(&t, 128, 0.15, 3.0, unit, 0.0).unwrap();
            assert_eq!(plan.window_bases, window);
            assert_eq!(plan.target_length, targets);
            let mut m = ExampleMaker::new(plan, 0);
            let w: Vec<u8> = (0..window).map(|i| b"ACGT"[(i * 7 + i / 5) % 4]).collect();
            let ex = m.make(&t, &w).unwrap().unwrap();
            assert_eq!(*ex.inputs.last().unwrap(), EOS);
            assert_eq!(ex.inputs.len(), 128);
            assert_eq!(ex.targets.len(), targets);
        }
    }

    #[test]
    fn a_budget_in_bases_gives_steps_from_the_bases_one_example_covers() {
        // Nucleotides: 141 raw tokens of one base each (the table above).
        let n =
            ExamplePlan::new(&tok("nucleotide"), 128, 0.15, 3.0, SpanUnit::Tokens, 0.0).unwrap();
        assert_eq!(n.bases_per_example(), 141.0);
        assert_eq!(n.steps_for_bases(141 * 8 * 10, 8), 10);
        assert_eq!(n.steps_for_bases(141 * 8 * 10 + 1, 8), 11);
        assert_eq!(n.steps_for_bases(1, 8), 1);
        // Non-overlapping 6-mers: 6 bases per kept token.
        let k =
            ExamplePlan::new(&tok("kmer:6"), 128, 0.15, 3.0, SpanUnit::Nucleotides, 0.0).unwrap();
        assert_eq!(k.bases_per_example(), 127.0 * 6.0);
        // Overlapping 6-mers mask in base space: the whole window.
        let o =
            ExamplePlan::new(&tok("kmer:6:1"), 64, 0.15, 3.0, SpanUnit::Nucleotides, 0.0).unwrap();
        assert_eq!(o.bases_per_example(), 75.0);
        // BPE: kept tokens × the measured mean bases per token, not the (longer) cut window.
        let Masking::Tokens { raw_tokens, .. } = n.masking else {
            panic!()
        };
        let b = ExamplePlan::new(&tok("nucleotide"), 128, 0.15, 3.0, SpanUnit::Tokens, 0.0)
            .map(|p| ExamplePlan {
                bases_per_token: 4.5,
                ..p
            })
            .unwrap();
        assert_eq!(b.bases_per_example(), raw_tokens as f64 * 4.5);
        // Same bases, fewer steps for the tokenizer that packs more bases into an example.
        assert!(k.steps_for_bases(1_000_000, 8) * 5 < n.steps_for_bases(1_000_000, 8));
    }

    #[test]
    fn overlapping_kmers_use_nucleotide_space() {
        let t = tok("kmer:6:1");
        let plan = ExamplePlan::new(&t, 64, 0.15, 3.0, SpanUnit::Nucleotides, 0.0).unwrap();
        assert!(matches!(plan.masking, Masking::Nucleotides { mean_span } if mean_span == 3.0));
        assert_eq!(plan.window_bases, 70 + 5);
        let mut m = ExampleMaker::new(plan, 1);
        let w: Vec<u8> = (0..75).map(|i| b"ACGT"[(i * 3 + i / 4) % 4]).collect();
        let ex = m.make(&t, &w).unwrap().unwrap();
        // Targets are single bases: every non-sentinel target id is a single-base id.
        let AnyTokenizer::Kmer(k) = &t else { panic!() };
        let singles: Vec<u32> = b"ACGTN".iter().map(|&b| k.single_id(b)).collect();
        for id in &ex.targets {
            assert!(
                *id == EOS || (4..104).contains(id) || singles.contains(id),
                "{id}"
            );
        }
        assert!(ex.inputs.len() < 70);
    }

    #[test]
    fn batch_padding() {
        let a = Corrupted {
            inputs: vec![104, 4, 1],
            targets: vec![4, 105, 1],
        };
        let b = Corrupted {
            inputs: vec![104, 1],
            targets: vec![4, 1],
        };
        let batch = to_batch(&[a, b], &cpu());
        assert_eq!(batch.input_ids.dims(), [2, 3]);
        assert_eq!(batch.tokens, 10);
        let ids: Vec<i64> = batch
            .input_ids
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(ids, vec![104, 4, 1, 104, 1, 0]);
        let m: Vec<i64> = batch
            .attention_mask
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(m, vec![1, 1, 1, 1, 1, 0]);
        let l: Vec<i64> = batch
            .labels
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        assert_eq!(l, vec![4, 105, 1, 4, 1, -100]);
    }
}
