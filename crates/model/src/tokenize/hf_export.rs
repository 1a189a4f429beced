//! A strand tokenizer as a Hugging Face `tokenizer.json`, for `strand export --format hf`.
//!
//! - `hf`: the file it was loaded from, unchanged.
//! - `bpe`: strand's own `tokenizer.json` with a post-processor that appends `</s>`.
//! - `nucleotide`, non-overlapping `kmer:K`: a `WordLevel` model over strand's vocabulary (ids as
//!   strand's, `<unk>` for unknown pieces) after a pre-tokenizer that cuts the sequence into
//!   `K`-base pieces and single-base tail pieces (regex `.{K}|.`), and the same post-processor.
//! - overlapping k-mers: not expressible (a token every `stride < K` bases).
//!
//! Every candidate is accepted only when the `tokenizers` crate, encoding with its special tokens,
//! gives strand's ids plus `</s>` on [`probe_sequences`] (what transformers' `tokenizer(seq)`
//! would feed the model); otherwise [`to_hf_json`] returns `None`.

use std::collections::HashMap;

use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer as Inner};

use super::spec::AnyTokenizer;
use super::{EOS, FIRST_REGULAR, Tokenizer, special_tokens};

/// Sequences every exported tokenizer must encode exactly as strand does: the empty sequence,
/// short ones below any k, and seeded random `ACGT` with `N`s, of lengths 1 … 300.
pub fn probe_sequences() -> Vec<Vec<u8>> {
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut seqs: Vec<Vec<u8>> = vec![Vec::new(), b"A".to_vec(), b"NN".to_vec(), b"ACGTN".to_vec()];
    for len in [1, 2, 3, 5, 7, 11, 64, 127, 300] {
        let s = (0..len)
            .map(|_| match next() % 41 {
                0 => b'N',
                r => b"ACGT"[r % 4],
            })
            .collect();
        seqs.push(s);
    }
    seqs
}

/// The `tokenizer.json` text of `t`, or `None` when it cannot be expressed exactly.
pub fn to_hf_json(t: &AnyTokenizer) -> Option<String> {
    let candidate = match t {
        AnyTokenizer::Hf(h) => return String::from_utf8(h.json().to_vec()).ok(),
        AnyTokenizer::Kmer(_) if t.overlapping() => return None,
        AnyTokenizer::Bpe(b) => {
            let mut inner = Inner::from_bytes(b.json()).ok()?;
            with_eos(&mut inner)?;
            inner
        }
        AnyTokenizer::Nucleotide(_) => word_level(t, 1)?,
        AnyTokenizer::Kmer(k) => word_level(t, k.k())?,
    };
    let agrees = probe_sequences().iter().all(|s| {
        let mut want = t.encode(s);
        want.push(EOS);
        candidate
            .encode(String::from_utf8_lossy(s).as_ref(), true)
            .is_ok_and(|e| e.get_ids() == want)
    });
    agrees.then(|| candidate.to_string(true).ok()).flatten()
}

/// Appends `</s>` (id [`EOS`]) to every single sequence.
fn with_eos(inner: &mut Inner) -> Option<()> {
    let post = TemplateProcessing::builder()
        .try_single("$A </s>")
        .ok()?
        .special_tokens(vec![("</s>", EOS)])
        .build()
        .ok()?;
    inner.with_post_processor(Some(post));
    Some(())
}

/// A WordLevel tokenizer over `t`'s vocabulary, cutting `k`-base pieces (then single bases).
fn word_level(t: &AnyTokenizer, k: usize) -> Option<Inner> {
    let vocab: HashMap<String, u32> = (0..t.vocab_size() as u32)
        .filter_map(|id| t.id_to_token(id).map(|s| (s, id)))
        .collect();
    let model = tokenizers::models::wordlevel::WordLevel::builder()
        .vocab(vocab.into_iter().collect())
        .unk_token("<unk>".into())
        .build()
        .ok()?;
    let mut inner = Inner::new(model);
    let pattern = if k == 1 {
        ".".to_string()
    } else {
        format!(".{{{k}}}|.")
    };
    let split = Split::new(
        SplitPattern::Regex(pattern),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .ok()?;
    inner.with_pre_tokenizer(Some(split));
    let specials: Vec<AddedToken> = special_tokens()
        .into_iter()
        .take(FIRST_REGULAR as usize)
        .map(|s| AddedToken::from(s, true))
        .collect();
    inner.add_special_tokens(&specials);
    with_eos(&mut inner)?;
    Some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::TokenizerChoice;
    use crate::tokenize::hf::HfTokenizer;
    use std::path::Path;

    /// Exported, re-read through the `tokenizers` crate as a strand `hf` tokenizer: the same ids.
    #[test]
    fn nucleotide_and_non_overlapping_kmers_round_trip_overlapping_do_not() {
        for text in ["nucleotide", "kmer:3", "kmer:6"] {
            let t = text.parse::<TokenizerChoice>().unwrap().build().unwrap();
            let json = to_hf_json(&t).unwrap_or_else(|| panic!("{text} is expressible"));
            let back = HfTokenizer::from_json_bytes(json.into_bytes(), Path::new(text)).unwrap();
            assert_eq!(back.vocab_size(), t.vocab_size(), "{text}");
            for s in probe_sequences() {
                assert_eq!(back.encode(&s), t.encode(&s), "{text}");
            }
        }
        let overlapping = "kmer:3:1"
            .parse::<TokenizerChoice>()
            .unwrap()
            .build()
            .unwrap();
        assert!(to_hf_json(&overlapping).is_none());
    }

    #[test]
    fn bpe_gets_an_eos_post_processor() {
        let chunks = (0..50).map(|i| {
            let s: String = (0..200)
                .map(|j| ['A', 'C', 'G', 'T'][(i * 7 + j * j) % 4])
                .collect();
            s
        });
        let bpe = crate::tokenize::bpe::BpeTokenizer::train(
            chunks,
            &crate::tokenize::bpe::BpeTrainOptions::new(140),
        )
        .unwrap();
        let t = AnyTokenizer::Bpe(Box::new(bpe));
        let json = to_hf_json(&t).unwrap();
        let back = HfTokenizer::from_json_bytes(json.into_bytes(), Path::new("bpe")).unwrap();
        for s in probe_sequences() {
            assert_eq!(back.encode(&s), t.encode(&s));
        }
    }
}
