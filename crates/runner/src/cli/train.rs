//! `strand train`: merge the config file with the flags, train every run, print the report.

use crate::cli::args::TrainArgs;
use crate::config::{ExperimentConfig, parse_seeds};
use crate::engine::interrupt;
use crate::report;
use crate::run::train::{TrainOptions, train};
use anyhow::{Result, bail};

pub fn run(args: TrainArgs) -> Result<()> {
    if args.resume && args.overwrite {
        bail!("--resume and --overwrite exclude each other");
    }
    let exp = experiment(&args)?;
    let opts = TrainOptions {
        overwrite: args.overwrite,
        resume: args.resume,
        skip_nonfinite: args.skip_nonfinite,
        poison_batch: None,
    };
    interrupt::install();
    let runs = train(&exp, opts)?;
    println!("{}", report::markdown(&report::collect(&runs)?)?);
    Ok(())
}

/// The config file (if any) with the flags on top.
pub fn experiment(args: &TrainArgs) -> Result<ExperimentConfig> {
    let file = match &args.config {
        Some(p) => ExperimentConfig::load(p)?,
        None => ExperimentConfig::default(),
    };
    let mut flags = args.exp.clone();
    if let Some(s) = &args.seeds {
        flags.seeds = Some(parse_seeds(s, args.exp.seed.or(file.seed).unwrap_or(0))?);
    }
    flags.data_dir = args.loc.data_dir.clone();
    Ok(file.overlay(&flags))
}
