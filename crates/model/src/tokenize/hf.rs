//! A Hugging Face tokenizer (`tokenizer.json` of the `tokenizers` library, e.g. the input
//! tokenizer of a T5 model repository) as a strand tokenizer kind, `hf:PATH`.
//!
//! # Ids
//!
//! The file's ids are used as they are: unlike strand's own kinds, an `hf` tokenizer does not
//! reserve 0 … 103. What strand needs is T5's convention, which [`HfTokenizer::from_json_bytes`]
//! checks: id 0 is the pad (decoder start) token, and the tokenizer's own post-processing appends
//! exactly `</s>` = id 1 to a sequence, as strand's batching does for every T5 input
//! (`tokenizer(seq)` in transformers gives the ids strand feeds the model).
//!
//! # Tokens of a sequence
//!
//! [`Tokenizer::encode`] is the `tokenizers` encoding of the bases without special tokens;
//! [`HfTokenizer::encode_with_spans`] adds the base range of each token (the encoding's offsets).
//! `vocab_size` is the largest id plus one (a sparse vocabulary keeps its ids).

use super::spec::TokenizeError;
use super::{EOS, PAD, Tokenizer, TokenizerSpec};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer as Inner;

/// The file name of a Hugging Face fast tokenizer inside a model directory.
pub const TOKENIZER_JSON: &str = "tokenizer.json";

/// Bases encoded to check the special-token convention on load.
const PROBE: &[u8] = b"ACGTACGTNN";

/// A `tokenizer.json` and the exact bytes it came from.
#[derive(Clone)]
pub struct HfTokenizer {
    inner: Inner,
    json: Vec<u8>,
    sha256: String,
    vocab_size: usize,
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfTokenizer")
            .field("vocab_size", &self.vocab_size)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// `path` itself, or `path/tokenizer.json` for a directory (a model repository's snapshot).
pub fn tokenizer_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(TOKENIZER_JSON)
    } else {
        path.to_path_buf()
    }
}

impl HfTokenizer {
    /// Loads `path` (a `tokenizer.json`, or a directory holding one) and checks the ids strand
    /// relies on (see the module docs).
    ///
    /// # Errors
    /// [`TokenizeError::Io`] when the file is missing (a directory with only a SentencePiece
    /// `spiece.model` is told how to convert it), [`TokenizeError::Hf`] when it does not parse or
    /// breaks T5's id convention.
    pub fn load(path: &Path) -> Result<Self, TokenizeError> {
        let file = tokenizer_file(path);
        if !file.is_file() && path.is_dir() && path.join("spiece.model").is_file() {
            return Err(TokenizeError::Hf {
                path: path.to_path_buf(),
                reason: "has a SentencePiece spiece.model but no tokenizer.json; write one with \
                         transformers: AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)"
                    .into(),
            });
        }
        let bytes = std::fs::read(&file).map_err(|source| TokenizeError::Io {
            path: file.clone(),
            source,
        })?;
        Self::from_json_bytes(bytes, &file)
    }

    /// Parses `tokenizer.json` bytes; `origin` names them in errors.
    pub fn from_json_bytes(json: Vec<u8>, origin: &Path) -> Result<Self, TokenizeError> {
        let bad = |reason: String| TokenizeError::Hf {
            path: origin.to_path_buf(),
            reason,
        };
        let inner = Inner::from_bytes(&json).map_err(|e| {
            bad(format!(
                "not a tokenizer.json of the tokenizers library ({e})"
            ))
        })?;
        if inner.id_to_token(PAD).is_none() {
            return Err(bad(format!(
                "has no token with id {PAD}; strand pads and starts the T5 decoder with id {PAD}"
            )));
        }
        let text = std::str::from_utf8(PROBE).expect("ASCII");
        let ids = |special: bool| -> Result<Vec<u32>, TokenizeError> {
            inner
                .encode(text, special)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| bad(format!("cannot encode {text}: {e}")))
        };
        let (plain, with_specials) = (ids(false)?, ids(true)?);
        let mut expected = plain.clone();
        expected.push(EOS);
        if with_specials != expected {
            return Err(bad(format!(
                "encodes {text} as {plain:?} and, with its special tokens, as {with_specials:?}; \
                 strand appends exactly </s> = id {EOS} to every T5 input (T5's convention), so \
                 the tokenizer's post-processor must do the same"
            )));
        }
        let vocab_size = inner
            .get_vocab(true)
            .values()
            .copied()
            .max()
            .map_or(0, |m| m as usize + 1);
        let sha256 = hex::encode(Sha256::digest(&json));
        Ok(HfTokenizer {
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

    /// Token ids (no special token) and the half-open base range of each token.
    pub fn encode_with_spans(&self, seq: &[u8]) -> (Vec<u32>, Vec<(usize, usize)>) {
        super::bpe::encode_spans(&self.inner, seq)
    }
}

impl Tokenizer for HfTokenizer {
    fn spec(&self) -> TokenizerSpec {
        TokenizerSpec::Hf {
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

/// The regular (non-special) tokens of an output vocabulary (`tokenizer.json`, or a directory
/// holding one, as `guanine/t5_regression_vocab`), in id order: the label strings a text-to-text
/// T5 emits and their ids in the model's vocabulary.
///
/// # Errors
/// An unreadable or unparseable file, or one without regular tokens.
pub fn label_tokens(path: &Path) -> Result<Vec<(String, u32)>, TokenizeError> {
    let file = tokenizer_file(path);
    let bytes = std::fs::read(&file).map_err(|source| TokenizeError::Io {
        path: file.clone(),
        source,
    })?;
    let bad = |reason: String| TokenizeError::Hf {
        path: file.clone(),
        reason,
    };
    let inner = Inner::from_bytes(&bytes).map_err(|e| {
        bad(format!(
            "not a tokenizer.json of the tokenizers library ({e})"
        ))
    })?;
    let special: std::collections::HashSet<u32> = inner
        .get_added_tokens_decoder()
        .into_iter()
        .filter(|(_, t)| t.special)
        .map(|(id, _)| id)
        .collect();
    let mut tokens: Vec<(String, u32)> = inner
        .get_vocab(true)
        .into_iter()
        .filter(|(_, id)| !special.contains(id))
        .collect();
    tokens.sort_by_key(|(_, id)| *id);
    if tokens.is_empty() {
        return Err(bad("has no regular (label) tokens".into()));
    }
    Ok(tokens)
}

/// A `tokenizer.json` (WordLevel) of an output vocabulary: `<pad>`, `</s>`, `<unk>` at ids 0, 1,
/// 2 (special) and each label token at its id; [`label_tokens`] reads it back.
///
/// # Errors
/// A label id below 3 or repeated, or a label text used twice.
pub fn label_vocab_json(labels: &[(String, u32)]) -> Result<String, TokenizeError> {
    let bad = |reason: String| TokenizeError::Hf {
        path: PathBuf::from("labels/tokenizer.json"),
        reason,
    };
    let specials = ["<pad>", "</s>", "<unk>"];
    let mut vocab: std::collections::HashMap<String, u32> = specials
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i as u32))
        .collect();
    let mut ids = std::collections::HashSet::new();
    for (name, id) in labels {
        if (*id as usize) < specials.len() || !ids.insert(*id) {
            return Err(bad(format!("label {name:?} has id {id} (taken)")));
        }
        if vocab.insert(name.clone(), *id).is_some() {
            return Err(bad(format!("label {name:?} appears twice")));
        }
    }
    let model = tokenizers::models::wordlevel::WordLevel::builder()
        .vocab(vocab.into_iter().collect())
        .unk_token("<unk>".into())
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let mut inner = Inner::new(model);
    let added: Vec<tokenizers::AddedToken> = specials
        .iter()
        .map(|s| tokenizers::AddedToken::from(*s, true))
        .collect();
    inner.add_special_tokens(&added);
    inner.to_string(true).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture made by `scripts/hf_t5_fixture.py`.
    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/hf-tiny-t5")
    }

    #[test]
    fn encodes_as_transformers_does() {
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture().join("expected.json")).unwrap(),
        )
        .unwrap();
        let t = HfTokenizer::load(&fixture().join("model")).unwrap();
        assert_eq!(t.vocab_size(), 32);
        let seqs = expected["sequences"].as_array().unwrap();
        let ids = expected["input_ids"].as_array().unwrap();
        for (seq, want) in seqs.iter().zip(ids) {
            let seq = seq.as_str().unwrap().as_bytes();
            let mut got = t.encode(seq);
            got.push(EOS);
            let want: Vec<u32> = serde_json::from_value(want.clone()).unwrap();
            assert_eq!(got, want, "{}", String::from_utf8_lossy(seq));
            let spans = t.encode_with_spans(seq).1;
            assert_eq!(spans.last().unwrap().1, seq.len());
        }
        let spec = t.spec();
        assert!(matches!(spec, TokenizerSpec::Hf { vocab_size: 32, .. }));
    }

    #[test]
    fn a_tokenizer_without_t5_eos_is_refused() {
        // The output vocabulary has no post-processor adding </s>.
        let e = HfTokenizer::load(&fixture().join("labels"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("appends exactly </s>"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("spiece.model"), b"x").unwrap();
        let e = HfTokenizer::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("save_pretrained"), "{e}");
        let e = HfTokenizer::load(&dir.path().join("nope.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.json"), "{e}");
    }

    #[test]
    fn label_tokens_are_the_regular_tokens_in_id_order_and_round_trip() {
        let tokens = label_tokens(&fixture().join("labels")).unwrap();
        let want: Vec<(String, u32)> = [("0", 36), ("1", 37), ("2", 39), ("3", 40), ("4", 42)]
            .iter()
            .map(|(n, i)| (n.to_string(), *i))
            .collect();
        assert_eq!(tokens, want);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tokenizer.json");
        std::fs::write(&file, label_vocab_json(&want).unwrap()).unwrap();
        assert_eq!(label_tokens(dir.path()).unwrap(), want);
        assert!(label_vocab_json(&[("x".into(), 1)]).is_err());
    }
}
