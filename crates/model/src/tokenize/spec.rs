//! Choosing, building and comparing tokenizers.
//!
//! - [`TokenizerChoice`] is what a user writes (`nucleotide`, `kmer:K[:STRIDE]`, `bpe:PATH`,
//!   `hf:PATH` for a Hugging Face `tokenizer.json` or a model directory holding one);
//!   [`TokenizerChoice::build`] turns it into a tokenizer.
//! - [`TokenizerSpec`] (in [`super`]) is what a tokenizer *is* (kind, k, stride, vocabulary size
//!   and SHA-256 of a BPE or Hugging Face `tokenizer.json`); it is stored in every checkpoint (JSON, see
//!   [`TokenizerSpec::to_json`]) and compared on load with [`check_compatible`].

use super::bpe::BpeTokenizer;
use super::hf::HfTokenizer;
use super::kmer::KmerTokenizer;
use super::nucleotide::NucleotideTokenizer;
use super::{Tokenizer, TokenizerSpec};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Errors of the tokenizer module.
#[derive(Debug, thiserror::Error)]
pub enum TokenizeError {
    /// Bad parameters (k, stride, vocabulary size…).
    #[error("{0}")]
    Invalid(String),
    /// A tokenizer string that does not parse.
    #[error(
        "bad tokenizer `{text}`: {reason} (expected `nucleotide`, `kmer:K[:STRIDE]`, `bpe:PATH` or \
         `hf:PATH`)"
    )]
    Parse { text: String, reason: String },
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `tokenizer.json` that cannot be used (not parseable, wrong reserved ids…).
    #[error("BPE tokenizer {path}: {reason}")]
    Bpe { path: PathBuf, reason: String },
    /// A Hugging Face `tokenizer.json` that strand cannot use as a T5 input tokenizer.
    #[error("Hugging Face tokenizer {path}: {reason}")]
    Hf { path: PathBuf, reason: String },
    /// Training a BPE tokenizer failed.
    #[error("BPE training failed: {0}")]
    Training(String),
    /// A checkpoint's tokenizer differs from the one requested.
    #[error(
        "tokenizer mismatch: the checkpoint was trained with {expected} but {found} was given; \
         use the checkpoint's tokenizer (its spec is stored in the checkpoint's tokenizer.json/spec)"
    )]
    Mismatch { expected: String, found: String },
    /// A stored spec that is not valid JSON for [`TokenizerSpec`].
    #[error("bad tokenizer spec: {0}")]
    Spec(#[from] serde_json::Error),
}

/// A tokenizer as written on the command line or in a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerChoice {
    /// `nucleotide`
    Nucleotide,
    /// `kmer:K` (stride K, non-overlapping) or `kmer:K:STRIDE`.
    Kmer { k: usize, stride: usize },
    /// `bpe:PATH` to a `tokenizer.json`.
    Bpe { path: PathBuf },
    /// `hf:PATH` to a Hugging Face `tokenizer.json`, or a directory holding one.
    Hf { path: PathBuf },
}

impl FromStr for TokenizerChoice {
    type Err = TokenizeError;

    fn from_str(text: &str) -> Result<Self, TokenizeError> {
        let err = |reason: &str| TokenizeError::Parse {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (kind, rest) = match text.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        match (kind, rest) {
            ("nucleotide", None) => Ok(TokenizerChoice::Nucleotide),
            ("nucleotide", Some(_)) => Err(err("`nucleotide` takes no parameter")),
            ("kmer", Some(p)) => {
                let mut parts = p.split(':');
                let num = |s: Option<&str>, what: &str| -> Result<Option<usize>, TokenizeError> {
                    match s {
                        None => Ok(None),
                        Some(s) => s
                            .parse::<usize>()
                            .map(Some)
                            .map_err(|_| err(&format!("{what} `{s}` is not a positive integer"))),
                    }
                };
                let k = num(parts.next(), "k")?.ok_or_else(|| err("missing k"))?;
                let stride = num(parts.next(), "stride")?.unwrap_or(k);
                if parts.next().is_some() {
                    return Err(err("too many `:` fields"));
                }
                KmerTokenizer::new(k, stride).map_err(|e| err(&e.to_string()))?;
                Ok(TokenizerChoice::Kmer { k, stride })
            }
            ("kmer", None) => Err(err("`kmer` needs k, as in `kmer:6`")),
            ("bpe", Some(p)) if !p.is_empty() => Ok(TokenizerChoice::Bpe {
                path: PathBuf::from(p),
            }),
            ("bpe", _) => Err(err(
                "`bpe` needs the path of a tokenizer.json, as in `bpe:tokenizer.json`",
            )),
            ("hf", Some(p)) if !p.is_empty() => Ok(TokenizerChoice::Hf {
                path: PathBuf::from(p),
            }),
            ("hf", _) => Err(err(
                "`hf` needs a tokenizer.json or a directory holding one, as in `hf:t5_baseline`",
            )),
            _ => Err(err(&format!("unknown kind `{kind}`"))),
        }
    }
}

impl fmt::Display for TokenizerChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenizerChoice::Nucleotide => write!(f, "nucleotide"),
            TokenizerChoice::Kmer { k, stride } => write!(f, "kmer:{k}:{stride}"),
            TokenizerChoice::Bpe { path } => write!(f, "bpe:{}", path.display()),
            TokenizerChoice::Hf { path } => write!(f, "hf:{}", path.display()),
        }
    }
}

/// Any of the three kinds, behind one concrete type (so callers can also reach kind-specific
/// functions such as [`AnyTokenizer::token_spans`]).
#[derive(Debug, Clone)]
pub enum AnyTokenizer {
    Nucleotide(NucleotideTokenizer),
    Kmer(KmerTokenizer),
    Bpe(Box<BpeTokenizer>),
    Hf(Box<HfTokenizer>),
}

impl AnyTokenizer {
    /// Half-open base ranges covered by each token of `encode(seq)`, in token order.
    pub fn token_spans(&self, seq: &[u8]) -> Vec<(usize, usize)> {
        match self {
            AnyTokenizer::Nucleotide(_) => (0..seq.len()).map(|i| (i, i + 1)).collect(),
            AnyTokenizer::Kmer(t) => t.token_spans(seq.len()),
            AnyTokenizer::Bpe(t) => t.encode_with_spans(seq).1,
            AnyTokenizer::Hf(t) => t.encode_with_spans(seq).1,
        }
    }

    /// Token ids and the base range of each token.
    pub fn encode_with_spans(&self, seq: &[u8]) -> (Vec<u32>, Vec<(usize, usize)>) {
        match self {
            AnyTokenizer::Bpe(t) => t.encode_with_spans(seq),
            AnyTokenizer::Hf(t) => t.encode_with_spans(seq),
            _ => (self.encode(seq), self.token_spans(seq)),
        }
    }

    /// True for k-mer tokenizers whose tokens overlap (`stride < k`).
    pub fn overlapping(&self) -> bool {
        matches!(self, AnyTokenizer::Kmer(t) if t.overlapping())
    }

    fn inner(&self) -> &dyn Tokenizer {
        match self {
            AnyTokenizer::Nucleotide(t) => t,
            AnyTokenizer::Kmer(t) => t,
            AnyTokenizer::Bpe(t) => t.as_ref(),
            AnyTokenizer::Hf(t) => t.as_ref(),
        }
    }
}

impl Tokenizer for AnyTokenizer {
    fn spec(&self) -> TokenizerSpec {
        self.inner().spec()
    }
    fn vocab_size(&self) -> usize {
        self.inner().vocab_size()
    }
    fn encode(&self, seq: &[u8]) -> Vec<u32> {
        self.inner().encode(seq)
    }
    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner().id_to_token(id)
    }
}

impl TokenizerChoice {
    /// Builds the tokenizer (reads the `tokenizer.json` for BPE).
    pub fn build(&self) -> Result<AnyTokenizer, TokenizeError> {
        Ok(match self {
            TokenizerChoice::Nucleotide => AnyTokenizer::Nucleotide(NucleotideTokenizer),
            TokenizerChoice::Kmer { k, stride } => {
                AnyTokenizer::Kmer(KmerTokenizer::new(*k, *stride)?)
            }
            TokenizerChoice::Bpe { path } => AnyTokenizer::Bpe(Box::new(BpeTokenizer::load(path)?)),
            TokenizerChoice::Hf { path } => AnyTokenizer::Hf(Box::new(HfTokenizer::load(path)?)),
        })
    }
}

impl TokenizerSpec {
    /// Rebuilds the tokenizer a spec describes. BPE and Hugging Face tokenizers need their
    /// `tokenizer.json` (`bpe_file`), whose SHA-256 must equal the spec's.
    pub fn build(&self, bpe_file: Option<&Path>) -> Result<AnyTokenizer, TokenizeError> {
        match self {
            TokenizerSpec::Nucleotide => Ok(AnyTokenizer::Nucleotide(NucleotideTokenizer)),
            TokenizerSpec::Kmer { k, stride } => {
                Ok(AnyTokenizer::Kmer(KmerTokenizer::new(*k, *stride)?))
            }
            TokenizerSpec::Bpe { .. } => {
                let path = bpe_file.ok_or_else(|| {
                    TokenizeError::Invalid(
                        "a BPE tokenizer spec needs its tokenizer.json to be rebuilt".into(),
                    )
                })?;
                let t = BpeTokenizer::load(path)?;
                check_compatible(self, &t.spec())?;
                Ok(AnyTokenizer::Bpe(Box::new(t)))
            }
            TokenizerSpec::Hf { .. } => {
                let path = bpe_file.ok_or_else(|| {
                    TokenizeError::Invalid(
                        "a Hugging Face tokenizer spec needs its tokenizer.json to be rebuilt"
                            .into(),
                    )
                })?;
                let t = HfTokenizer::load(path)?;
                check_compatible(self, &t.spec())?;
                Ok(AnyTokenizer::Hf(Box::new(t)))
            }
        }
    }

    /// JSON form stored in checkpoints, e.g. `{"kind":"kmer","k":6,"stride":1}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("TokenizerSpec always serialises")
    }

    /// Parses [`TokenizerSpec::to_json`]'s output.
    pub fn from_json(s: &str) -> Result<Self, TokenizeError> {
        Ok(serde_json::from_str(s)?)
    }
}

impl fmt::Display for TokenizerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenizerSpec::Nucleotide => write!(f, "nucleotide"),
            TokenizerSpec::Kmer { k, stride } => write!(f, "kmer:{k}:{stride}"),
            TokenizerSpec::Bpe { vocab_size, sha256 } => {
                write!(f, "bpe (vocab {vocab_size}, sha256 {sha256})")
            }
            TokenizerSpec::Hf { vocab_size, sha256 } => {
                write!(f, "hf (vocab {vocab_size}, sha256 {sha256})")
            }
        }
    }
}

/// `Ok` when `found` is the tokenizer `expected` (from a checkpoint) describes, else
/// [`TokenizeError::Mismatch`] naming both.
pub fn check_compatible(
    expected: &TokenizerSpec,
    found: &TokenizerSpec,
) -> Result<(), TokenizeError> {
    if expected == found {
        Ok(())
    } else {
        Err(TokenizeError::Mismatch {
            expected: expected.to_string(),
            found: found.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_strings() {
        assert_eq!(
            "nucleotide".parse::<TokenizerChoice>().unwrap(),
            TokenizerChoice::Nucleotide
        );
        assert_eq!(
            "kmer:6".parse::<TokenizerChoice>().unwrap(),
            TokenizerChoice::Kmer { k: 6, stride: 6 }
        );
        assert_eq!(
            "kmer:6:1".parse::<TokenizerChoice>().unwrap(),
            TokenizerChoice::Kmer { k: 6, stride: 1 }
        );
        assert_eq!(
            "bpe:a/tokenizer.json".parse::<TokenizerChoice>().unwrap(),
            TokenizerChoice::Bpe {
                path: "a/tokenizer.json".into()
            }
        );
        for bad in [
            "",
            "kmer",
            "kmer:x",
            "kmer:6:7",
            "kmer:6:1:2",
            "bpe:",
            "hf:",
            "word",
            "nucleotide:3",
        ] {
            let e = bad.parse::<TokenizerChoice>().unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")), "{bad}: {e}");
        }
    }

    #[test]
    fn spec_json_round_trip() {
        for spec in [
            TokenizerSpec::Nucleotide,
            TokenizerSpec::Kmer { k: 6, stride: 1 },
            TokenizerSpec::Bpe {
                vocab_size: 4096,
                sha256: "ab".repeat(32),
            },
        ] {
            assert_eq!(TokenizerSpec::from_json(&spec.to_json()).unwrap(), spec);
        }
        assert_eq!(
            TokenizerSpec::Kmer { k: 6, stride: 1 }.to_json(),
            r#"{"kind":"kmer","k":6,"stride":1}"#
        );
        assert!(TokenizerSpec::from_json(r#"{"kind":"kmer","k":6}"#).is_err());
    }

    #[test]
    fn mismatch_is_an_error_naming_both() {
        let a = TokenizerSpec::Kmer { k: 6, stride: 6 };
        let b = TokenizerSpec::Nucleotide;
        check_compatible(&a, &a).unwrap();
        let e = check_compatible(&a, &b).unwrap_err().to_string();
        assert!(e.contains("kmer:6:6") && e.contains("nucleotide"), "{e}");
        let c = TokenizerSpec::Kmer { k: 6, stride: 1 };
        assert!(check_compatible(&a, &c).is_err());
        let rebuilt = a.build(None).unwrap();
        assert_eq!(rebuilt.spec(), a);
        assert!(
            TokenizerSpec::Bpe {
                vocab_size: 10,
                sha256: String::new()
            }
            .build(None)
            .is_err()
        );
    }

    #[test]
    fn built_tokenizers_report_their_spec() {
        for (text, spec) in [
            ("nucleotide", TokenizerSpec::Nucleotide),
            ("kmer:3:1", TokenizerSpec::Kmer { k: 3, stride: 1 }),
        ] {
            let t = text.parse::<TokenizerChoice>().unwrap().build().unwrap();
            assert_eq!(t.spec(), spec);
            assert_eq!(
                t.encode_with_spans(b"ACGTAC").1.len(),
                t.encode(b"ACGTAC").len()
            );
        }
    }
}
