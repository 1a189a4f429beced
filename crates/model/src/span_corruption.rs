//! T5 span corruption ("random spans" denoising), as in the original T5 preprocessors.
//!
//! # Token space (T5)
//!
//! [`random_spans_noise_mask`] draws which of `L` tokens are noise: `num_noise =
//! round(L·density)` clamped to `[1, L−1]`, `num_spans = max(1, round(num_noise / mean_span))`
//! (all rounds half to even, in f64), both counts split uniformly over compositions, spans
//! interleaved starting with non-noise. So the first token is never noise and the last one always
//! is. [`corrupt`] then builds
//!
//! - inputs  = non-noise tokens with each noise span replaced by one sentinel, then EOS
//!   (`num_nonnoise + num_spans + 1` tokens);
//! - targets = `sentinel_1 noise_1 sentinel_2 noise_2 … EOS` (`num_noise + num_spans + 1` tokens),
//!
//! with strand's sentinels: span `k` (0-based, in sequence order) is
//! [`crate::tokenize::sentinel`]`(k)` = id `4 + k`, the same id in inputs and targets.
//! [`plan_lengths`] gives the raw window length that fills an encoder length exactly.
//!
//! # Nucleotide space (overlapping k-mers)
//!
//! With overlapping k-mers, the neighbours of a masked k-mer contain its bases. So
//! [`corrupt_in_nucleotide_space`] takes a mask over **bases** (drawn by the same
//! [`random_spans_noise_mask`] over the window's bases, mean span in bases) and:
//!
//! 1. drops every token whose bases overlap a masked base;
//! 2. calls **hidden** every base that no surviving token covers — the masked bases plus any
//!    unmasked base whose every covering token was dropped (this happens between two masked spans
//!    fewer than `k` bases apart, or within `k` bases of the start of the window); each maximal run
//!    of hidden bases contains at least one masked base and becomes one span;
//! 3. inputs = the surviving tokens in order, one sentinel per hidden run where it was, then EOS;
//! 4. targets = for each hidden run: its sentinel, then the run's bases as **single-base tokens**
//!    (the k-mer vocabulary's `A C G T N` ids), then EOS.
//!
//! The encoder thus sees no base of the targets, the decoder predicts exactly the bases the
//! encoder cannot see, and the loss is a per-base cross-entropy comparable with the nucleotide
//! model's. Input lengths vary from window to window (pad in the batch).

use crate::tokenize::{EOS, NUM_SENTINELS, sentinel};
use rand::Rng;
use rand::seq::SliceRandom;

/// Errors of span corruption.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error(
        "{spans} noise spans need {spans} sentinels but only {NUM_SENTINELS} are reserved; \
         use shorter windows or a longer mean span"
    )]
    TooManySpans { spans: usize },
    #[error("mask has {mask} entries for {tokens} tokens")]
    LengthMismatch { mask: usize, tokens: usize },
}

/// Noise counts for a sequence of `length` tokens (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoiseCounts {
    pub num_noise: usize,
    pub num_spans: usize,
    pub num_nonnoise: usize,
}

/// T5's counts for `length` tokens (`length` < 2 is treated as 2, as T5 does).
///
/// `num_spans` is also capped at `min(num_noise, num_nonnoise)` so that every span is non-empty;
/// T5 does not need this cap at its defaults and it never binds for density ≤ 0.5 and mean span
/// ≥ 1.
pub fn noise_counts(length: usize, noise_density: f64, mean_span: f64) -> NoiseCounts {
    let len = length.max(2);
    let num_noise = ((len as f64 * noise_density).round_ties_even() as usize).clamp(1, len - 1);
    let num_nonnoise = len - num_noise;
    let num_spans = ((num_noise as f64 / mean_span).round_ties_even() as usize)
        .max(1)
        .min(num_noise.min(num_nonnoise));
    NoiseCounts {
        num_noise,
        num_spans,
        num_nonnoise,
    }
}

/// Splits `num_items` into `num_segments` positive lengths, uniformly over all compositions.
fn random_segmentation<R: Rng + ?Sized>(
    num_items: usize,
    num_segments: usize,
    rng: &mut R,
) -> Vec<usize> {
    let mut starts: Vec<bool> = (0..num_items - 1).map(|i| i < num_segments - 1).collect();
    starts.shuffle(rng);
    let mut lengths = vec![1usize];
    for s in starts {
        if s {
            lengths.push(1);
        } else {
            *lengths.last_mut().expect("non-empty") += 1;
        }
    }
    lengths
}

/// The mask `[nonnoise_1 × F, noise_1 × T, nonnoise_2 × F, …]`, truncated to `length`.
pub fn interleave_mask(nonnoise: &[usize], noise: &[usize], length: usize) -> Vec<bool> {
    let mut mask = Vec::with_capacity(length + 1);
    for (&a, &b) in nonnoise.iter().zip(noise) {
        mask.extend(std::iter::repeat_n(false, a));
        mask.extend(std::iter::repeat_n(true, b));
    }
    mask.truncate(length);
    mask
}

/// T5's `random_spans_noise_mask`: `true` = noise. Deterministic given `rng`'s state.
pub fn random_spans_noise_mask<R: Rng + ?Sized>(
    length: usize,
    noise_density: f64,
    mean_span: f64,
    rng: &mut R,
) -> Vec<bool> {
    let c = noise_counts(length, noise_density, mean_span);
    let noise = random_segmentation(c.num_noise, c.num_spans, rng);
    let nonnoise = random_segmentation(c.num_nonnoise, c.num_spans, rng);
    interleave_mask(&nonnoise, &noise, length)
}

/// Encoder inputs and decoder targets of one corrupted example (both end with EOS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupted {
    pub inputs: Vec<u32>,
    pub targets: Vec<u32>,
}

/// Starts of the maximal `true` runs of `mask`, as `(start, end)` pairs.
fn runs(mask: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < mask.len() {
        if mask[i] {
            let s = i;
            while i < mask.len() && mask[i] {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// T5's inputs/targets for `tokens` under `mask` (token space, see the module docs).
pub fn corrupt(tokens: &[u32], mask: &[bool]) -> Result<Corrupted, SpanError> {
    if mask.len() != tokens.len() {
        return Err(SpanError::LengthMismatch {
            mask: mask.len(),
            tokens: tokens.len(),
        });
    }
    let spans = runs(mask);
    if spans.len() > NUM_SENTINELS as usize {
        return Err(SpanError::TooManySpans { spans: spans.len() });
    }
    let mut inputs = Vec::with_capacity(tokens.len() + 1);
    let mut targets = Vec::new();
    let mut pos = 0;
    for (k, &(s, e)) in spans.iter().enumerate() {
        let id = sentinel(k as u32);
        inputs.extend_from_slice(&tokens[pos..s]);
        inputs.push(id);
        targets.push(id);
        targets.extend_from_slice(&tokens[s..e]);
        pos = e;
    }
    inputs.extend_from_slice(&tokens[pos..]);
    inputs.push(EOS);
    targets.push(EOS);
    Ok(Corrupted { inputs, targets })
}

/// Nucleotide-space corruption (see the module docs).
///
/// `tokens[i]` covers bases `spans[i].0 .. spans[i].1` of `bases`; `base_mask` marks the masked
/// bases; `base_id` maps a base to its single-base token id.
pub fn corrupt_in_nucleotide_space(
    tokens: &[u32],
    spans: &[(usize, usize)],
    bases: &[u8],
    base_mask: &[bool],
    base_id: impl Fn(u8) -> u32,
) -> Result<Corrupted, SpanError> {
    if spans.len() != tokens.len() {
        return Err(SpanError::LengthMismatch {
            mask: spans.len(),
            tokens: tokens.len(),
        });
    }
    if base_mask.len() != bases.len() {
        return Err(SpanError::LengthMismatch {
            mask: base_mask.len(),
            tokens: bases.len(),
        });
    }
    // masked_before[i] = number of masked bases in 0..i.
    let mut masked_before = Vec::with_capacity(bases.len() + 1);
    masked_before.push(0usize);
    for &m in base_mask {
        masked_before.push(masked_before.last().unwrap() + m as usize);
    }
    let survives: Vec<bool> = spans
        .iter()
        .map(|&(s, e)| masked_before[e] == masked_before[s])
        .collect();
    // Coverage by surviving tokens (difference array).
    let mut delta = vec![0i64; bases.len() + 1];
    for (&(s, e), _) in spans.iter().zip(&survives).filter(|(_, ok)| **ok) {
        delta[s] += 1;
        delta[e] -= 1;
    }
    let mut depth = 0i64;
    let hidden: Vec<bool> = delta[..bases.len()]
        .iter()
        .map(|d| {
            depth += d;
            depth == 0
        })
        .collect();
    let hidden_runs = runs(&hidden);
    if hidden_runs.len() > NUM_SENTINELS as usize {
        return Err(SpanError::TooManySpans {
            spans: hidden_runs.len(),
        });
    }
    let mut inputs = Vec::with_capacity(tokens.len() + 1);
    let mut next_run = 0;
    for ((&id, &(s, _)), _) in tokens
        .iter()
        .zip(spans)
        .zip(&survives)
        .filter(|(_, ok)| **ok)
    {
        while next_run < hidden_runs.len() && hidden_runs[next_run].1 <= s {
            inputs.push(sentinel(next_run as u32));
            next_run += 1;
        }
        inputs.push(id);
    }
    while next_run < hidden_runs.len() {
        inputs.push(sentinel(next_run as u32));
        next_run += 1;
    }
    inputs.push(EOS);
    let mut targets = Vec::new();
    for (k, &(s, e)) in hidden_runs.iter().enumerate() {
        targets.push(sentinel(k as u32));
        targets.extend(bases[s..e].iter().map(|&b| base_id(b)));
    }
    targets.push(EOS);
    Ok(Corrupted { inputs, targets })
}

/// T5's `random_spans_helper`: the raw window length `T` whose corrupted inputs fill exactly
/// `encoder_len` tokens, and the resulting target length. Counts as in [`noise_counts`] (half to
/// even; its clamps never bind at the defaults, where this reproduces T5's table).
pub fn plan_lengths(encoder_len: usize, noise_density: f64, mean_span: f64) -> (usize, usize) {
    let lengths = |t: usize| {
        let c = noise_counts(t, noise_density, mean_span);
        (
            c.num_nonnoise + c.num_spans + 1,
            c.num_noise + c.num_spans + 1,
        )
    };
    let mut t = encoder_len.saturating_sub(1).max(1);
    while lengths(t + 1).0 <= encoder_len {
        t += 1;
    }
    (t, lengths(t).1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn counts_match_the_reference_table() {
        let table = [
            (1, 1, 1, 1),
            (10, 2, 1, 8),
            (20, 3, 1, 17),
            (30, 4, 1, 26),
            (50, 8, 3, 42),
            (100, 15, 5, 85),
            (128, 19, 6, 109),
            (141, 21, 7, 120),
            (256, 38, 13, 218),
            (284, 43, 14, 241),
            (512, 77, 26, 435),
            (568, 85, 28, 483),
            (1137, 171, 57, 966),
            (2000, 300, 100, 1700),
        ];
        for (l, noise, spans, nonnoise) in table {
            let c = noise_counts(l, 0.15, 3.0);
            assert_eq!(
                (c.num_noise, c.num_spans, c.num_nonnoise),
                (noise, spans, nonnoise),
                "L = {l}"
            );
        }
        // f64 half-to-even at the lengths where T5's f32 disagrees (L = 190: 28 / 9, not 29 / 10).
        let c = noise_counts(190, 0.15, 3.0);
        assert_eq!((c.num_noise, c.num_spans), (28, 9));
        for l in [
            350, 390, 670, 710, 750, 790, 830, 1310, 1350, 1390, 1430, 1470, 1510,
        ] {
            let c = noise_counts(l, 0.15, 3.0);
            assert_eq!(
                c.num_noise,
                (l as f64 * 0.15).round_ties_even() as usize,
                "{l}"
            );
        }
    }

    #[test]
    fn mask_shape_and_invariants() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let m = random_spans_noise_mask(10, 0.15, 3.0, &mut rng);
        let expected: Vec<bool> = "FFFFFFFFTT".chars().map(|c| c == 'T').collect();
        assert_eq!(m, expected);
        assert_eq!(random_spans_noise_mask(1, 0.15, 3.0, &mut rng), vec![false]);
        for l in [2, 17, 50, 141, 512, 2000] {
            for _ in 0..20 {
                let m = random_spans_noise_mask(l, 0.15, 3.0, &mut rng);
                let c = noise_counts(l, 0.15, 3.0);
                assert_eq!(m.len(), l);
                assert!(!m[0], "first token noise at L={l}");
                assert!(m[l - 1], "last token not noise at L={l}");
                assert_eq!(m.iter().filter(|x| **x).count(), c.num_noise);
                assert_eq!(runs(&m).len(), c.num_spans);
            }
        }
    }

    #[test]
    fn segmentation_is_random_and_positive() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let seg = random_segmentation(6, 3, &mut rng);
            assert_eq!(seg.len(), 3);
            assert_eq!(seg.iter().sum::<usize>(), 6);
            assert!(seg.iter().all(|&x| x >= 1));
            seen.insert(seg);
        }
        // C(5, 2) = 10 compositions of 6 into 3 positive parts; all appear.
        assert_eq!(seen.len(), 10);
    }

    #[test]
    fn worked_example_1() {
        let tokens: Vec<u32> = (200..210).collect();
        let mask = interleave_mask(&[8], &[2], 10);
        let c = corrupt(&tokens, &mask).unwrap();
        assert_eq!(
            c.inputs,
            vec![200, 201, 202, 203, 204, 205, 206, 207, sentinel(0), EOS]
        );
        assert_eq!(c.targets, vec![sentinel(0), 208, 209, EOS]);
    }

    #[test]
    fn worked_example_2() {
        let tokens: Vec<u32> = (200..240).collect();
        let c = noise_counts(40, 0.15, 3.0);
        assert_eq!((c.num_noise, c.num_spans, c.num_nonnoise), (6, 2, 34));
        let mask = interleave_mask(&[10, 24], &[2, 4], 40);
        let noise: Vec<usize> = (0..40).filter(|&i| mask[i]).collect();
        assert_eq!(noise, vec![10, 11, 36, 37, 38, 39]);
        let c = corrupt(&tokens, &mask).unwrap();
        let mut inputs: Vec<u32> = (200..210).collect();
        inputs.push(sentinel(0));
        inputs.extend(212..236);
        inputs.extend([sentinel(1), EOS]);
        assert_eq!(c.inputs, inputs);
        assert_eq!(c.inputs.len(), 37);
        assert_eq!(
            c.targets,
            vec![sentinel(0), 210, 211, sentinel(1), 236, 237, 238, 239, EOS]
        );
    }

    #[test]
    fn corrupted_lengths_follow_the_counts() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for l in [30, 141, 568] {
            let tokens: Vec<u32> = (0..l as u32).map(|i| 200 + i).collect();
            let m = random_spans_noise_mask(l, 0.15, 3.0, &mut rng);
            let c = corrupt(&tokens, &m).unwrap();
            let n = noise_counts(l, 0.15, 3.0);
            assert_eq!(c.inputs.len(), n.num_nonnoise + n.num_spans + 1);
            assert_eq!(c.targets.len(), n.num_noise + n.num_spans + 1);
        }
        assert!(matches!(
            corrupt(&[1, 2], &[true]),
            Err(SpanError::LengthMismatch { .. })
        ));
        let many: Vec<bool> = (0..300).map(|i| i % 2 == 1).collect();
        let e = corrupt(&vec![200; 300], &many).unwrap_err();
        assert_eq!(e, SpanError::TooManySpans { spans: 150 });
    }

    #[test]
    fn length_planning_table() {
        for (i, t, targets) in [
            (32, 34, 8),
            (64, 70, 14),
            (128, 141, 29),
            (256, 284, 58),
            (512, 568, 114),
            (1024, 1137, 229),
            (2048, 2274, 456),
        ] {
            assert_eq!(plan_lengths(i, 0.15, 3.0), (t, targets), "I = {i}");
        }
    }

    fn single(b: u8) -> u32 {
        1000 + b"ACGTN".iter().position(|&x| x == b).unwrap() as u32
    }

    #[test]
    fn nucleotide_space_equals_token_space_for_single_bases() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let bases: Vec<u8> = (0..141).map(|i| b"ACGT"[(i * 7 + i / 3) % 4]).collect();
        let tokens: Vec<u32> = bases.iter().map(|&b| single(b)).collect();
        let spans: Vec<(usize, usize)> = (0..141).map(|i| (i, i + 1)).collect();
        for _ in 0..10 {
            let m = random_spans_noise_mask(141, 0.15, 3.0, &mut rng);
            let a = corrupt(&tokens, &m).unwrap();
            let b = corrupt_in_nucleotide_space(&tokens, &spans, &bases, &m, single).unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn overlapping_kmers_do_not_leak_masked_bases() {
        // 3-mers, stride 1, over 12 bases; mask bases 5..7 (two bases).
        let bases = b"ACGTACGTACGT".to_vec();
        let spans: Vec<(usize, usize)> = (0..10).map(|j| (j, j + 3)).collect();
        let tokens: Vec<u32> = (0..10).map(|j| 500 + j).collect();
        let mut mask = vec![false; 12];
        mask[5] = true;
        mask[6] = true;
        mask[11] = true;
        let c = corrupt_in_nucleotide_space(&tokens, &spans, &bases, &mask, single).unwrap();
        // Tokens 3..=6 overlap bases 5 or 6; tokens 9 overlaps base 11 (and 8 does not: 8..11).
        assert_eq!(
            c.inputs,
            vec![500, 501, 502, sentinel(0), 507, 508, sentinel(1), EOS]
        );
        assert_eq!(
            c.targets,
            vec![
                sentinel(0),
                single(b'C'),
                single(b'G'),
                sentinel(1),
                single(b'T'),
                EOS
            ]
        );
        // No surviving token covers a masked base.
        for (id, &(s, e)) in tokens.iter().zip(&spans) {
            if c.inputs.contains(id) {
                assert!(!mask[s..e].iter().any(|m| *m));
            }
        }
    }

    #[test]
    fn close_spans_hide_the_bases_between_them() {
        // 4-mers, stride 1, 10 bases; masked bases 3 and 5: base 4 is covered only by tokens
        // 1..=4, all of which overlap a masked base, so it is hidden and joins one run 3..=5.
        let bases = b"ACGTACGTAC".to_vec();
        let spans: Vec<(usize, usize)> = (0..7).map(|j| (j, j + 4)).collect();
        let tokens: Vec<u32> = (0..7).map(|j| 500 + j).collect();
        let mut mask = vec![false; 10];
        mask[3] = true;
        mask[5] = true;
        mask[9] = true;
        let c = corrupt_in_nucleotide_space(&tokens, &spans, &bases, &mask, single).unwrap();
        // Survivors: none of 0..=5 (each overlaps 3 or 5); 6 covers 6..10 ∋ 9 → dropped too.
        // Base 0..3 are covered by nobody → hidden as well: one run 0..10.
        assert_eq!(c.inputs, vec![sentinel(0), EOS]);
        assert_eq!(c.targets.len(), 1 + 10 + 1);
        let longer = b"ACGTACGTACGTACGTACGT".to_vec();
        let spans: Vec<(usize, usize)> = (0..17).map(|j| (j, j + 4)).collect();
        let tokens: Vec<u32> = (0..17).map(|j| 500 + j).collect();
        let mut mask = vec![false; 20];
        mask[10] = true;
        mask[12] = true;
        mask[19] = true;
        let c = corrupt_in_nucleotide_space(&tokens, &spans, &longer, &mask, single).unwrap();
        // Tokens 7..=12 overlap base 10 or 12, token 16 overlaps base 19: dropped. Tokens
        // 13..=15 survive; hidden runs are 10..13 (base 11 unmasked but hidden) and 19..20.
        let mut expected: Vec<u32> = (500..507).collect();
        expected.push(sentinel(0));
        expected.extend(513..516);
        expected.extend([sentinel(1), EOS]);
        assert_eq!(c.inputs, expected);
        let want_targets: Vec<u32> = std::iter::once(sentinel(0))
            .chain(longer[10..13].iter().map(|&b| single(b)))
            .chain([sentinel(1), single(longer[19]), EOS])
            .collect();
        assert_eq!(c.targets, want_targets);
    }
}
