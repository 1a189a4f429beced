//! Byte-pair-encoding tokenizer, trained and stored with the Hugging Face `tokenizers` crate.
//!
//! # Training
//!
//! DNA has no spaces, so the corpus is fed as fixed-length chunks (the caller cuts them, e.g.
//! 1,000 bases); each chunk is one "word" (no normaliser, no pre-tokenizer), so merges never
//! cross a chunk boundary. The trainer gets strand's 104 reserved tokens first (`<pad>`, `</s>`,
//! `<unk>`, `<s>`, `<extra_id_0>` … `<extra_id_99>`), so they take ids 0 … 103 exactly as for the
//! other kinds, then the alphabet `A C G T N` (always present, even if the corpus has no `N`),
//! then the merges in order. `vocab_size` counts everything.
//!
//! # Storage
//!
//! The standard `tokenizer.json`; [`BpeTokenizer::load`] checks that ids 0 … 103 are strand's
//! reserved tokens and records the SHA-256 of the file's bytes in the [`TokenizerSpec`].
//!
//! # Tokens of a sequence of L bases
//!
//! Between 1 and L tokens (0 for L = 0): the concatenation of the tokens' strings is the input
//! itself, each token covers at least one base ([`BpeTokenizer::encode_with_spans`] gives the
//! ranges). A byte outside the trained alphabet (never in normalised `ACGTN` input) is `<unk>`.
//! No special token is added.

use super::spec::TokenizeError;
use super::{FIRST_REGULAR, Tokenizer, TokenizerSpec, UNK, special_tokens};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::{AddedToken, Tokenizer as HfTokenizer};

/// A trained BPE tokenizer and the exact `tokenizer.json` bytes it came from.
#[derive(Clone)]
pub struct BpeTokenizer {
    inner: HfTokenizer,
    json: Vec<u8>,
    sha256: String,
    vocab_size: usize,
}

impl std::fmt::Debug for BpeTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BpeTokenizer")
            .field("vocab_size", &self.vocab_size)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// Options of [`BpeTokenizer::train`].
#[derive(Debug, Clone)]
pub struct BpeTrainOptions {
    /// Vocabulary size, the 104 reserved ids and the 5 bases included.
    pub vocab_size: usize,
    /// Merges seen fewer times are not learnt.
    pub min_frequency: u64,
    /// Longest token in bases (`None`: unlimited).
    pub max_token_length: Option<usize>,
}

impl BpeTrainOptions {
    pub fn new(vocab_size: usize) -> Self {
        BpeTrainOptions {
            vocab_size,
            min_frequency: 2,
            max_token_length: None,
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BpeTokenizer {
    /// Trains on `chunks` (upper-case `ACGTN` strings, one "word" each).
    pub fn train<I>(chunks: I, opts: &BpeTrainOptions) -> Result<Self, TokenizeError>
    where
        I: Iterator<Item = String> + Send,
    {
        let min = FIRST_REGULAR as usize + 5;
        if opts.vocab_size < min {
            return Err(TokenizeError::Invalid(format!(
                "BPE vocabulary size {} is below the {min} reserved ids and bases",
                opts.vocab_size
            )));
        }
        let specials: Vec<AddedToken> = special_tokens()
            .into_iter()
            .map(|s| AddedToken::from(s, true))
            .collect();
        let alphabet: HashSet<char> = "ACGTN".chars().collect();
        let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
            .vocab_size(opts.vocab_size)
            .min_frequency(opts.min_frequency)
            .show_progress(false)
            .special_tokens(specials)
            .initial_alphabet(alphabet)
            .max_token_length(opts.max_token_length)
            .build()
            .into();
        let model = BPE::builder()
            .unk_token("<unk>".to_string())
            .build()
            .map_err(|e| TokenizeError::Training(e.to_string()))?;
        let mut tok = HfTokenizer::new(model);
        tok.train(&mut trainer, chunks)
            .map_err(|e| TokenizeError::Training(e.to_string()))?;
        let json = tok
            .to_string(false)
            .map_err(|e| TokenizeError::Training(e.to_string()))?;
        Self::from_json_bytes(json.into_bytes(), Path::new("<trained>"))
    }

    /// Loads a `tokenizer.json` and checks strand's reserved ids.
    pub fn load(path: &Path) -> Result<Self, TokenizeError> {
        let bytes = std::fs::read(path).map_err(|source| TokenizeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json_bytes(bytes, path)
    }

    /// Parses `tokenizer.json` bytes; `origin` names them in errors.
    pub fn from_json_bytes(json: Vec<u8>, origin: &Path) -> Result<Self, TokenizeError> {
        let bad = |reason: String| TokenizeError::Bpe {
            path: origin.to_path_buf(),
            reason,
        };
        let inner = HfTokenizer::from_bytes(&json).map_err(|e| {
            bad(format!(
                "not a tokenizer.json of the Hugging Face tokenizers library, as `strand \
                 tokenizer train` writes ({e}); pass the tokenizer.json of a `strand tokenizer \
                 train` output or of a strand pretraining run"
            ))
        })?;
        for (id, name) in special_tokens().iter().enumerate() {
            match inner.token_to_id(name) {
                Some(got) if got == id as u32 => {}
                Some(got) => {
                    return Err(bad(format!(
                        "reserved token {name} has id {got}, strand needs {id}"
                    )));
                }
                None => return Err(bad(format!("reserved token {name} (id {id}) is missing"))),
            }
        }
        let vocab_size = inner.get_vocab_size(true);
        let sha256 = sha256_hex(&json);
        Ok(BpeTokenizer {
            inner,
            json,
            sha256,
            vocab_size,
        })
    }

    /// Writes the exact bytes whose SHA-256 is in [`Tokenizer::spec`].
    pub fn save(&self, path: &Path) -> Result<(), TokenizeError> {
        std::fs::write(path, &self.json).map_err(|source| TokenizeError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The `tokenizer.json` bytes.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// SHA-256 (hex) of the `tokenizer.json` bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Token ids and the half-open base range of each token.
    pub fn encode_with_spans(&self, seq: &[u8]) -> (Vec<u32>, Vec<(usize, usize)>) {
        encode_spans(&self.inner, seq)
    }
}

/// Token ids (no special token) and the half-open base range of each token, through a
/// `tokenizers` tokenizer: what [`BpeTokenizer`] and [`super::hf::HfTokenizer`] both do.
pub(super) fn encode_spans(inner: &HfTokenizer, seq: &[u8]) -> (Vec<u32>, Vec<(usize, usize)>) {
    if seq.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let text = String::from_utf8_lossy(seq);
    match inner.encode(text.as_ref(), false) {
        Ok(enc) if text.len() == seq.len() => (enc.get_ids().to_vec(), enc.get_offsets().to_vec()),
        // Only possible for non-ASCII input: one <unk> per byte keeps the lengths honest.
        _ => (
            vec![UNK; seq.len()],
            (0..seq.len()).map(|i| (i, i + 1)).collect(),
        ),
    }
}

impl Tokenizer for BpeTokenizer {
    fn spec(&self) -> TokenizerSpec {
        TokenizerSpec::Bpe {
            vocab_size: self.vocab_size,
            sha256: self.sha256.clone(),
        }
    }

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn encode(&self, seq: &[u8]) -> Vec<u32> {
        self.encode_with_spans(seq).0
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A corpus with structure to learn: repeats of a few motifs with random filler.
    fn corpus(n_chunks: usize, chunk: usize) -> Vec<String> {
        let motifs: [&[u8]; 3] = [b"TATAAAAG", b"GGGCGGGGC", b"CAATCT"];
        let mut x: u64 = 12345;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        (0..n_chunks)
            .map(|_| {
                let mut s = Vec::with_capacity(chunk);
                while s.len() < chunk {
                    if next() % 3 == 0 {
                        s.extend_from_slice(motifs[(next() % 3) as usize]);
                    } else {
                        s.push(b"ACGT"[(next() % 4) as usize]);
                    }
                }
                s.truncate(chunk);
                String::from_utf8(s).unwrap()
            })
            .collect()
    }

    #[test]
    fn train_save_load_round_trip_keeps_reserved_ids() {
        let chunks = corpus(200, 300);
        let t =
            BpeTokenizer::train(chunks.clone().into_iter(), &BpeTrainOptions::new(300)).unwrap();
        assert_eq!(t.vocab_size(), 300);
        for (id, name) in special_tokens().iter().enumerate() {
            assert_eq!(t.id_to_token(id as u32).as_deref(), Some(name.as_str()));
        }
        for (i, b) in ["A", "C", "G", "T", "N"].iter().enumerate() {
            assert!(t.inner.token_to_id(b).unwrap() >= FIRST_REGULAR, "{i}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        t.save(&path).unwrap();
        let back = BpeTokenizer::load(&path).unwrap();
        assert_eq!(back.spec(), t.spec());
        let seq = chunks[3].as_bytes();
        let ids = back.encode(seq);
        assert_eq!(ids, t.encode(seq));
        assert!(ids.iter().all(|&i| i >= FIRST_REGULAR));
        // Learnt merges: fewer tokens than bases on text like the corpus.
        assert!(ids.len() < seq.len() / 2, "{} tokens", ids.len());
        let text: String = ids.iter().map(|&i| back.id_to_token(i).unwrap()).collect();
        assert_eq!(text.as_bytes(), seq);
    }

    #[test]
    fn token_accounting_and_spans() {
        let t =
            BpeTokenizer::train(corpus(100, 200).into_iter(), &BpeTrainOptions::new(200)).unwrap();
        for seq in [
            &b""[..],
            b"A",
            b"NNNNACGT",
            b"TATAAAAGGGGCGGGGCCAATCTACGTTT",
        ] {
            let (ids, spans) = t.encode_with_spans(seq);
            assert_eq!(ids.len(), spans.len());
            assert!(ids.len() <= seq.len() && (seq.is_empty() || !ids.is_empty()));
            let mut pos = 0;
            for (&id, &(s, e)) in ids.iter().zip(&spans) {
                assert_eq!(s, pos);
                assert!(e > s);
                assert_eq!(t.id_to_token(id).unwrap().as_bytes(), &seq[s..e]);
                pos = e;
            }
            assert_eq!(pos, seq.len());
        }
    }

    #[test]
    fn rejects_foreign_tokenizer_json_and_tiny_vocab() {
        assert!(BpeTokenizer::train(corpus(2, 10).into_iter(), &BpeTrainOptions::new(50)).is_err());
        // A BPE tokenizer without strand's reserved tokens.
        let mut tok = HfTokenizer::new(BPE::default());
        tok.add_special_tokens(&[AddedToken::from("<pad>", true)]);
        let json = tok.to_string(false).unwrap().into_bytes();
        let e = BpeTokenizer::from_json_bytes(json, Path::new("x.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.json") && e.contains("</s>"), "{e}");
        for text in ["hello", "{\"a\": 1}"] {
            let e = BpeTokenizer::from_json_bytes(text.into(), Path::new("y.json"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("y.json") && e.contains("not a tokenizer.json"),
                "{e}"
            );
        }
        let e = BpeTokenizer::load(Path::new("/nonexistent/tokenizer.json")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/tokenizer.json"));
    }
}
