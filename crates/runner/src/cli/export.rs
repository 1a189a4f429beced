//! `strand export`: a run or pretraining checkpoint in another framework's format.

use crate::export::export_hf;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A Hugging Face T5 directory (config.json, model.safetensors, tokenizer.json, README.md).
    Hf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A fine-tuning run with the text-to-text head, a pretraining run or one of its checkpoints.
    #[arg(long)]
    pub run: PathBuf,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the files of a non-empty --out.
    #[arg(long)]
    pub overwrite: bool,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let ExportFormat::Hf = args.format;
    let e = export_hf(&args.run, &args.out, args.overwrite)?;
    println!(
        "{}: T5ForConditionalGeneration, vocabulary {}, {} parameters; tokenizer.json {}{}",
        e.out.display(),
        e.vocab_size,
        e.params,
        if e.tokenizer_json {
            "written"
        } else {
            "not expressible (strand_tokenizer.json written)"
        },
        if e.labels.is_empty() {
            String::new()
        } else {
            format!("; {} label tokens in labels/tokenizer.json", e.labels.len())
        }
    );
    Ok(())
}
