//! `strand interpret`: per-base attributions of a trained model on the sequences of a FASTA
//! file (see [`crate::interpret`]).

use crate::interpret::{self, Method, Options};
use anyhow::Result;
use std::path::PathBuf;

/// Attribute a trained model's output to the bases of each sequence (ISM or saliency); writes
/// attributions.tsv and one sequence-logo SVG per record.
#[derive(Debug, clap::Args)]
pub struct InterpretArgs {
    /// A finished run directory (config.resolved.toml, model.json, model.bpk).
    #[arg(long)]
    pub run: PathBuf,
    /// Sequences to interpret (FASTA, plain or .gz).
    #[arg(long)]
    pub fasta: PathBuf,
    /// ism: score every single-base substitution (any tokenizer); saliency: gradient × input
    /// (nucleotide tokenizer only; Δ columns hold the gradient's estimate g(b) − g(ref)).
    #[arg(long, default_value = "ism", value_parser = parse_method)]
    pub method: Method,
    /// Only these records (comma-separated ids); an id not in the file is an error.
    #[arg(long, value_delimiter = ',')]
    pub ids: Option<Vec<String>>,
    /// Output directory: new, empty, or written by an earlier `strand interpret`.
    #[arg(long)]
    pub out: PathBuf,
    /// What to attribute: a class index or name (default: class 1's logit for two classes, the
    /// log-probability of the predicted class for more), or `value` for regression.
    #[arg(long)]
    pub target: Option<String>,
    /// Model rows per forward pass (ISM: mutants; saliency: sequences).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

fn parse_method(s: &str) -> Result<Method, String> {
    s.parse().map_err(|e: anyhow::Error| e.to_string())
}

impl InterpretArgs {
    /// The library's options.
    pub fn options(&self) -> Options {
        Options {
            run: self.run.clone(),
            fasta: self.fasta.clone(),
            method: self.method,
            ids: self.ids.clone(),
            out: self.out.clone(),
            target: self.target.clone(),
            batch_size: self.batch_size,
            device: self.device.clone(),
        }
    }
}

pub fn run(args: InterpretArgs) -> Result<()> {
    let s = interpret::interpret(&args.options())?;
    println!(
        "{} of {} record(s), target: {} ({:.2} s)",
        s.method, s.records, s.target, s.seconds
    );
    println!("attributions: {}", s.tsv.display());
    println!("logos: {} SVG file(s) in {}", s.svgs.len(), s.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: InterpretArgs,
    }

    #[test]
    fn flags_and_defaults() {
        let w = Wrap::try_parse_from([
            "x", "--run", "r", "--fasta", "s.fa", "--out", "o", "--ids", "a,b",
        ])
        .unwrap();
        let o = w.args.options();
        assert_eq!(o.method, Method::Ism);
        assert_eq!(o.ids, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!((o.batch_size, o.device.as_str()), (256, "cpu"));
        assert_eq!(o.target, None);
        let w = Wrap::try_parse_from([
            "x", "--run", "r", "--fasta", "s.fa", "--out", "o", "--method", "saliency", "--target",
            "promoter",
        ])
        .unwrap();
        assert_eq!(w.args.method, Method::Saliency);
        assert_eq!(w.args.target.as_deref(), Some("promoter"));
        let e = Wrap::try_parse_from([
            "x", "--run", "r", "--fasta", "s.fa", "--out", "o", "--method", "shap",
        ])
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("expected ism or saliency"), "{e}");
    }
}
