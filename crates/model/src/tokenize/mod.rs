//! Tokenizers: one trait, three kinds of strand's own (single nucleotide, k-mer, BPE) with shared
//! special tokens, and Hugging Face `tokenizer.json` files as they are ([`hf`], ids of the file).
//!
//! # Fixed ids
//!
//! Every kind of strand's own reserves the same ids at the start of its vocabulary:
//!
//! | id | token |
//! |---:|---|
//! | 0 | `<pad>` (also T5's decoder start token) |
//! | 1 | `</s>` (eos) |
//! | 2 | `<unk>` |
//! | 3 | `<s>` (bos; used by the Genomic Benchmarks CNN input, never by T5) |
//! | 4 … 103 | `<extra_id_0>` … `<extra_id_99>` (T5 sentinels, ascending: span k uses `4 + k`) |
//! | 104 … | the kind's own tokens |
//!
//! A sequence can never produce a special id: only the kinds' own tokens (and `<unk>`) come out
//! of [`Tokenizer::encode`].

pub mod bpe;
pub mod hf;
pub mod hf_export;
pub mod kmer;
pub mod nucleotide;
pub mod spec;

pub use spec::{AnyTokenizer, TokenizeError, TokenizerChoice, check_compatible};

use serde::{Deserialize, Serialize};

/// `<pad>`; also the T5 decoder start id.
pub const PAD: u32 = 0;
/// `</s>`.
pub const EOS: u32 = 1;
/// `<unk>`.
pub const UNK: u32 = 2;
/// `<s>`.
pub const BOS: u32 = 3;
/// Number of T5 sentinels reserved (`<extra_id_0>` … `<extra_id_99>`).
pub const NUM_SENTINELS: u32 = 100;
/// Id of `<extra_id_0>`.
pub const FIRST_SENTINEL: u32 = 4;
/// First id of a kind's own tokens.
pub const FIRST_REGULAR: u32 = FIRST_SENTINEL + NUM_SENTINELS;

/// Id of the sentinel for span `k` (0-based): `<extra_id_k>`.
///
/// # Panics
/// If `k >= NUM_SENTINELS`.
pub fn sentinel(k: u32) -> u32 {
    assert!(
        k < NUM_SENTINELS,
        "only {NUM_SENTINELS} sentinels are reserved"
    );
    FIRST_SENTINEL + k
}

/// Names of the reserved ids, in id order.
pub fn special_tokens() -> Vec<String> {
    let mut v: Vec<String> = ["<pad>", "</s>", "<unk>", "<s>"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend((0..NUM_SENTINELS).map(|k| format!("<extra_id_{k}>")));
    v
}

/// What a tokenizer is; stored in every checkpoint, compared on load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenizerSpec {
    /// One token per base.
    Nucleotide,
    /// k-mers of `k` bases every `stride` bases.
    Kmer { k: usize, stride: usize },
    /// BPE trained with the `tokenizers` crate; `sha256` of its `tokenizer.json`.
    Bpe { vocab_size: usize, sha256: String },
    /// A Hugging Face `tokenizer.json` (`hf:PATH`); `sha256` of its bytes.
    Hf { vocab_size: usize, sha256: String },
}

/// Turns a normalised `ACGTN` sequence into token ids.
pub trait Tokenizer: Send + Sync {
    /// What this tokenizer is (kind and parameters), for checkpoints.
    fn spec(&self) -> TokenizerSpec;

    /// Number of ids, specials included (ids are `0..vocab_size`).
    fn vocab_size(&self) -> usize;

    /// Token ids of `seq` (upper-case `ACGTN`), without any special token.
    fn encode(&self, seq: &[u8]) -> Vec<u32>;

    /// The string of one id (specials by name), for inspection and round trips.
    fn id_to_token(&self, id: u32) -> Option<String>;
}
