//! `strand quickstart`: the CNN on the embedded synthetic promoter task, on CPU, then the report.
//! No download and no `../shared`.

use crate::cli::args::QuickstartArgs;
use crate::config::ExperimentConfig;
use crate::report;
use crate::run::train;
use anyhow::{Result, bail};
use std::time::Instant;

/// The accuracy the quickstart promises on its test split.
pub const TARGET_ACCURACY: f64 = 0.90;

pub fn run(args: QuickstartArgs) -> Result<()> {
    let started = Instant::now();
    let tmp = tempfile::tempdir()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| tmp.path().join("quickstart"));
    let exp = ExperimentConfig {
        task: Some("synthetic/promoter".into()),
        model: Some("cnn-gb".into()),
        tokenizer: Some("nucleotide".into()),
        seed: Some(args.seed),
        device: Some("cpu".into()),
        ..Default::default()
    };
    let dirs = train::train_runs(&exp, &out, train::TrainOptions::default())?;
    let runs = report::collect(&dirs)?;
    println!("{}", report::markdown(&runs)?);
    let accuracy = runs
        .first()
        .and_then(|r| r.scores.splits.get("test"))
        .and_then(|m| m.get("accuracy"))
        .copied()
        .unwrap_or(f64::NAN);
    let seconds = started.elapsed().as_secs_f64();
    if args.out.is_some() {
        println!("Run directory: {}", out.display());
    }
    println!("Quickstart: test accuracy {accuracy:.4} in {seconds:.0} s (CPU).");
    // A NaN accuracy (no test scores) fails too.
    if accuracy.is_nan() || accuracy < TARGET_ACCURACY {
        bail!("the quickstart reached test accuracy {accuracy:.4}, below {TARGET_ACCURACY}");
    }
    Ok(())
}
