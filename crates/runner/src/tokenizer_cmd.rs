//! `strand tokenizer train | encode`.

use crate::cli::{TokenizerCommand, TokenizerEncodeArgs, TokenizerTrainArgs};
use crate::corpus::FastaRecords;
use anyhow::{Context, Result, bail};
use std::path::Path;
use strand_model::tokenize::TokenizerChoice;
use strand_model::tokenize::bpe::{BpeTokenizer, BpeTrainOptions};
use strand_model::{Tokenizer, TokenizerSpec};

pub fn run(cmd: TokenizerCommand) -> Result<()> {
    match cmd {
        TokenizerCommand::Train(a) => train(a),
        TokenizerCommand::Encode(a) => encode(a),
    }
}

/// Consecutive chunks of `chunk` bases of every record (the last, shorter piece of a record
/// included when it has at least 2 bases), up to `max_bases` in all.
pub fn corpus_chunks(input: &Path, chunk: usize, max_bases: Option<usize>) -> Result<Vec<String>> {
    if chunk == 0 {
        bail!("--chunk must be positive");
    }
    let mut chunks = Vec::new();
    let mut total = 0usize;
    let limit = max_bases.unwrap_or(usize::MAX);
    'records: for rec in FastaRecords::open(input)? {
        let (_, seq) = rec?;
        for piece in seq.chunks(chunk) {
            if total >= limit {
                break 'records;
            }
            let piece = &piece[..piece.len().min(limit - total)];
            if piece.len() < 2 {
                continue;
            }
            total += piece.len();
            chunks.push(String::from_utf8(piece.to_vec()).expect("normalised bases are ASCII"));
        }
    }
    if chunks.is_empty() {
        bail!("{}: no sequence to train on", input.display());
    }
    Ok(chunks)
}

/// Trains a BPE tokenizer of `vocab` ids on `input` and writes it to `output`.
pub fn train_bpe(
    input: &Path,
    output: &Path,
    vocab: usize,
    chunk: usize,
    max_bases: Option<usize>,
) -> Result<BpeTokenizer> {
    let t0 = std::time::Instant::now();
    let chunks = corpus_chunks(input, chunk, max_bases)?;
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

fn train(a: TokenizerTrainArgs) -> Result<()> {
    match a.kind.as_str() {
        "bpe" => {
            let tok = train_bpe(&a.input, &a.output, a.vocab, a.chunk, a.max_bases)?;
            println!("{}", serde_json::to_string(&tok.spec())?);
            Ok(())
        }
        "nucleotide" | "kmer" => {
            bail!(
                "`{}` tokenizers need no training; use `--tokenizer nucleotide` or `kmer:K[:STRIDE]`",
                a.kind
            )
        }
        other => bail!("unknown tokenizer kind `{other}` (only `bpe` is trained)"),
    }
}

fn encode(a: TokenizerEncodeArgs) -> Result<()> {
    let choice: TokenizerChoice = a.tokenizer.parse()?;
    let tok = choice.build()?;
    let mut seq = a.sequence.trim().as_bytes().to_vec();
    strand_data::seq::normalize(&mut seq, Path::new("<command line>"), "sequence")?;
    let (ids, spans) = tok.encode_with_spans(&seq);
    let spec: TokenizerSpec = tok.spec();
    println!("tokenizer: {spec} (vocab {})", tok.vocab_size());
    println!("{} bases → {} tokens", seq.len(), ids.len());
    for (id, (s, e)) in ids.iter().zip(spans) {
        let name = tok.id_to_token(*id).unwrap_or_else(|| "?".into());
        println!("{s:>6}..{e:<6} {id:>6} {name}");
    }
    Ok(())
}
