//! k-mer tokenizer: `k` bases per token, a new token every `stride` bases.
//!
//! `stride = 1` gives overlapping k-mers (DNABERT), `stride = k` non-overlapping ones (Nucleotide
//! Transformer); anything in between is allowed (`1 ≤ stride ≤ k`).
//!
//! # Vocabulary
//!
//! | ids | tokens |
//! |---|---|
//! | 0 … 103 | the shared specials (see [`super`]) |
//! | 104 … 104 + 4^k − 1 | every k-mer over `ACGT`, in lexicographic order (`A`=0, `C`=1, `G`=2, `T`=3, first base most significant) |
//! | 104 + 4^k … 104 + 4^k + 4 | the single bases `A C G T N` (tail fallback) |
//!
//! `vocab_size = 104 + 4^k + 5`.
//!
//! # Tokens of a sequence of L bases
//!
//! - `L < k`: `L` single-base tokens (one per base).
//! - `L ≥ k`: `n = ⌊(L − k) / stride⌋ + 1` k-mers starting at bases `0, stride, 2·stride, …`; they
//!   cover bases `0 … (n−1)·stride + k − 1`. The **tail** of `t = L − (n−1)·stride − k` bases that
//!   no k-mer covers falls back to `t` single-base tokens, so every base is covered and the
//!   sequence can be decoded. Total: `n + t` tokens.
//!   - `stride = 1`: `L − k + 1` tokens (never a tail);
//!   - `stride = k`: `⌊L / k⌋ + (L mod k)` tokens.
//!
//! A k-mer containing any byte other than `ACGT` (i.e. `N`) is `<unk>`; a tail base is its own
//! single-base token (`N` included, any other byte → `<unk>`). No special token is ever added:
//! the caller appends EOS (T5) or BOS (CNN).
//!
//! [`KmerTokenizer::token_spans`] gives the bases each token covers; nucleotide-space span
//! corruption uses it to hide every token that overlaps a masked base.

use super::{FIRST_REGULAR, Tokenizer, TokenizerSpec, UNK, special_tokens};
use crate::tokenize::spec::TokenizeError;

/// Largest supported `k` (4^8 = 65,536 k-mers).
pub const MAX_K: usize = 8;

const SINGLES: [u8; 5] = *b"ACGTN";

/// k-mers of `k` bases every `stride` bases, single-base tokens for the tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KmerTokenizer {
    k: usize,
    stride: usize,
}

fn base_code(b: u8) -> Option<u32> {
    match b {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

impl KmerTokenizer {
    /// A k-mer tokenizer; `1 ≤ k ≤ MAX_K` and `1 ≤ stride ≤ k`.
    pub fn new(k: usize, stride: usize) -> Result<Self, TokenizeError> {
        if k == 0 || k > MAX_K {
            return Err(TokenizeError::Invalid(format!(
                "k-mer size k = {k} is out of range 1..={MAX_K}"
            )));
        }
        if stride == 0 || stride > k {
            return Err(TokenizeError::Invalid(format!(
                "k-mer stride {stride} is out of range 1..={k} (a stride above k would skip bases)"
            )));
        }
        Ok(KmerTokenizer { k, stride })
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn stride(&self) -> usize {
        self.stride
    }

    /// True when neighbouring k-mers share bases (`stride < k`).
    pub fn overlapping(&self) -> bool {
        self.stride < self.k
    }

    fn num_kmers(&self) -> u32 {
        4u32.pow(self.k as u32)
    }

    /// Id of the single-base token for `b` (`ACGTN`), `<unk>` for anything else.
    pub fn single_id(&self, b: u8) -> u32 {
        match SINGLES.iter().position(|&s| s == b) {
            Some(i) => FIRST_REGULAR + self.num_kmers() + i as u32,
            None => UNK,
        }
    }

    /// Number of tokens [`Tokenizer::encode`] returns for `len` bases (see the module docs).
    pub fn token_count(&self, len: usize) -> usize {
        if len < self.k {
            return len;
        }
        let n = (len - self.k) / self.stride + 1;
        let tail = len - ((n - 1) * self.stride + self.k);
        n + tail
    }

    /// Half-open base ranges `[start, end)` covered by each token of a `len`-base sequence, in
    /// token order (same length as the encoding).
    pub fn token_spans(&self, len: usize) -> Vec<(usize, usize)> {
        if len < self.k {
            return (0..len).map(|i| (i, i + 1)).collect();
        }
        let n = (len - self.k) / self.stride + 1;
        let covered = (n - 1) * self.stride + self.k;
        (0..n)
            .map(|j| (j * self.stride, j * self.stride + self.k))
            .chain((covered..len).map(|i| (i, i + 1)))
            .collect()
    }

    fn kmer_id(&self, kmer: &[u8]) -> u32 {
        let mut code = 0u32;
        for &b in kmer {
            match base_code(b) {
                Some(c) => code = code * 4 + c,
                None => return UNK,
            }
        }
        FIRST_REGULAR + code
    }

    /// The bases of a k-mer id, or `None` for ids that are not k-mers.
    fn kmer_bases(&self, id: u32) -> Option<Vec<u8>> {
        if id < FIRST_REGULAR || id >= FIRST_REGULAR + self.num_kmers() {
            return None;
        }
        let mut code = id - FIRST_REGULAR;
        let mut out = vec![0u8; self.k];
        for slot in out.iter_mut().rev() {
            *slot = b"ACGT"[(code % 4) as usize];
            code /= 4;
        }
        Some(out)
    }

    /// Rebuilds the sequence from an encoding of a sequence of `len` bases (inverse of
    /// [`Tokenizer::encode`]); `None` if an id is unknown/special or the count does not match
    /// `len`. Bases of `<unk>` k-mers are recovered from overlapping neighbours when possible and
    /// become `N` otherwise.
    pub fn decode(&self, ids: &[u32], len: usize) -> Option<Vec<u8>> {
        let spans = self.token_spans(len);
        if spans.len() != ids.len() {
            return None;
        }
        let mut out = vec![0u8; len];
        for (&id, &(s, e)) in ids.iter().zip(&spans) {
            let bases = if e - s == 1 && id >= FIRST_REGULAR + self.num_kmers() {
                let i = (id - FIRST_REGULAR - self.num_kmers()) as usize;
                vec![*SINGLES.get(i)?]
            } else if id == UNK {
                continue;
            } else {
                self.kmer_bases(id)?
            };
            for (slot, b) in out[s..e].iter_mut().zip(bases) {
                *slot = b;
            }
        }
        for b in out.iter_mut().filter(|b| **b == 0) {
            *b = b'N';
        }
        Some(out)
    }
}

impl Tokenizer for KmerTokenizer {
    fn spec(&self) -> TokenizerSpec {
        TokenizerSpec::Kmer {
            k: self.k,
            stride: self.stride,
        }
    }

    fn vocab_size(&self) -> usize {
        FIRST_REGULAR as usize + self.num_kmers() as usize + SINGLES.len()
    }

    fn encode(&self, seq: &[u8]) -> Vec<u32> {
        self.token_spans(seq.len())
            .into_iter()
            .map(|(s, e)| {
                if self.k > 1 && e - s == 1 {
                    self.single_id(seq[s])
                } else {
                    self.kmer_id(&seq[s..e])
                }
            })
            .collect()
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        if id < FIRST_REGULAR {
            return special_tokens().get(id as usize).cloned();
        }
        if let Some(bases) = self.kmer_bases(id) {
            return Some(String::from_utf8(bases).expect("ACGT is ASCII"));
        }
        let i = (id - FIRST_REGULAR - self.num_kmers()) as usize;
        SINGLES.get(i).map(|b| (*b as char).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg_seq(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                b"ACGT"[(x >> 62) as usize]
            })
            .collect()
    }

    #[test]
    fn vocabulary_layout() {
        let t = KmerTokenizer::new(3, 1).unwrap();
        assert_eq!(t.vocab_size(), 104 + 64 + 5);
        assert_eq!(t.encode(b"AAA"), vec![104]);
        assert_eq!(t.encode(b"AAC"), vec![105]);
        assert_eq!(t.encode(b"TTT"), vec![104 + 63]);
        assert_eq!(t.id_to_token(104 + 6).as_deref(), Some("ACG"));
        assert_eq!(t.id_to_token(104 + 64).as_deref(), Some("A"));
        assert_eq!(t.id_to_token(104 + 68).as_deref(), Some("N"));
        assert_eq!(t.id_to_token(104 + 69), None);
        assert_eq!(t.id_to_token(5).as_deref(), Some("<extra_id_1>"));
        let t6 = KmerTokenizer::new(6, 6).unwrap();
        assert_eq!(t6.vocab_size(), 104 + 4096 + 5);
    }

    #[test]
    fn overlapping_stride_one() {
        let t = KmerTokenizer::new(3, 1).unwrap();
        let ids = t.encode(b"ACGTA");
        let toks: Vec<String> = ids.iter().map(|i| t.id_to_token(*i).unwrap()).collect();
        assert_eq!(toks, ["ACG", "CGT", "GTA"]);
    }

    #[test]
    fn non_overlapping_tail_falls_back_to_single_bases() {
        let t = KmerTokenizer::new(3, 3).unwrap();
        let ids = t.encode(b"ACGTACGN");
        let toks: Vec<String> = ids.iter().map(|i| t.id_to_token(*i).unwrap()).collect();
        assert_eq!(toks, ["ACG", "TAC", "G", "N"]);
    }

    #[test]
    fn stride_between_one_and_k() {
        let t = KmerTokenizer::new(4, 2).unwrap();
        // k-mers at 0, 2, 4 cover 0..8; bases 8 is the tail.
        let ids = t.encode(b"AACCGGTTA");
        let toks: Vec<String> = ids.iter().map(|i| t.id_to_token(*i).unwrap()).collect();
        assert_eq!(toks, ["AACC", "CCGG", "GGTT", "A"]);
        assert_eq!(t.token_spans(9), vec![(0, 4), (2, 6), (4, 8), (8, 9)]);
    }

    #[test]
    fn kmer_with_n_is_unknown() {
        let t = KmerTokenizer::new(3, 1).unwrap();
        assert_eq!(t.encode(b"ACNTA"), vec![UNK, UNK, UNK]);
        let ids = t.encode(b"AACNT");
        assert_eq!(ids[0], t.encode(b"AAC")[0]);
        assert_eq!(&ids[1..], &[UNK, UNK]);
        // N in a non-overlapping tail is its own single-base token, not <unk>.
        let t = KmerTokenizer::new(3, 3).unwrap();
        assert_eq!(
            t.encode(b"ACGN"),
            vec![t.encode(b"ACG")[0], t.single_id(b'N')]
        );
    }

    #[test]
    fn k_longer_than_sequence_gives_single_bases() {
        let t = KmerTokenizer::new(6, 1).unwrap();
        let ids = t.encode(b"ACGTN");
        let toks: Vec<String> = ids.iter().map(|i| t.id_to_token(*i).unwrap()).collect();
        assert_eq!(toks, ["A", "C", "G", "T", "N"]);
        assert!(t.encode(b"").is_empty());
    }

    #[test]
    fn token_count_matches_documented_formula_for_every_length() {
        for (k, stride) in [(1, 1), (3, 1), (3, 2), (3, 3), (6, 1), (6, 3), (6, 6)] {
            let t = KmerTokenizer::new(k, stride).unwrap();
            for len in 0..40 {
                let seq = lcg_seq(len, len as u64);
                let n = t.encode(&seq).len();
                assert_eq!(n, t.token_count(len), "k={k} stride={stride} L={len}");
                let expected = if len < k {
                    len
                } else if stride == 1 {
                    len - k + 1
                } else if stride == k {
                    len / k + len % k
                } else {
                    let kmers = (len - k) / stride + 1;
                    kmers + len - ((kmers - 1) * stride + k)
                };
                assert_eq!(n, expected, "k={k} stride={stride} L={len}");
                assert_eq!(t.token_spans(len).len(), n);
            }
        }
    }

    #[test]
    fn round_trip_all_strides() {
        for (k, stride) in [(1, 1), (3, 1), (4, 2), (6, 1), (6, 6), (5, 3)] {
            let t = KmerTokenizer::new(k, stride).unwrap();
            for len in [0, 1, 4, 5, 6, 7, 13, 100, 101] {
                let seq = lcg_seq(len, 7 + len as u64);
                let ids = t.encode(&seq);
                assert_eq!(
                    t.decode(&ids, len).unwrap(),
                    seq,
                    "k={k} s={stride} L={len}"
                );
            }
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(KmerTokenizer::new(0, 1).is_err());
        assert!(KmerTokenizer::new(9, 1).is_err());
        assert!(KmerTokenizer::new(3, 0).is_err());
        let e = KmerTokenizer::new(3, 4).unwrap_err().to_string();
        assert!(e.contains("stride 4"), "{e}");
    }
}
