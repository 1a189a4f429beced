//! `strand tokenizer train | encode`.

use crate::cli::args::{TokenizerCommand, TokenizerEncodeArgs, TokenizerTrainArgs};
use crate::pretrain::bpe::train_bpe;
use anyhow::{Result, bail};
use std::path::Path;
use strand_model::tokenize::TokenizerChoice;
use strand_model::{Tokenizer, TokenizerSpec};

pub fn run(cmd: TokenizerCommand) -> Result<()> {
    match cmd {
        TokenizerCommand::Train(a) => train(a),
        TokenizerCommand::Encode(a) => encode(a),
    }
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
