//! Training a BPE tokenizer on a FASTA corpus (`strand tokenizer train --kind bpe`, and
//! pretraining configs whose tokenizer file is missing).

use anyhow::{Context, Result};
use std::path::Path;
use strand_model::Tokenizer;
use strand_model::tokenize::bpe::{BpeTokenizer, BpeTrainOptions};

/// Trains a BPE tokenizer of `vocab` ids on `input` and writes it to `output`.
pub fn train_bpe(
    input: &Path,
    output: &Path,
    vocab: usize,
    chunk: usize,
    max_bases: Option<usize>,
) -> Result<BpeTokenizer> {
    let t0 = std::time::Instant::now();
    let chunks = strand_data::corpus::chunks(input, chunk, max_bases)?;
    let bases: usize = chunks.iter().map(|c| c.len()).sum();
    tracing::info!(
        "training BPE (vocab {vocab}) on {bases} bases in {} chunks of ≤ {chunk} from {}",
        chunks.len(),
        input.display()
    );
    let tok = BpeTokenizer::train(chunks.into_iter(), &BpeTrainOptions::new(vocab))?;
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    tok.save(output)?;
    tracing::info!(
        "wrote {} ({} ids, sha256 {}) in {:.1} s",
        output.display(),
        tok.vocab_size(),
        tok.sha256(),
        t0.elapsed().as_secs_f64()
    );
    Ok(tok)
}
