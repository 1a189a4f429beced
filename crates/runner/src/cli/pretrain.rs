//! `strand pretrain`: span-corruption pretraining of a T5 model on a FASTA corpus.

use crate::cli::args::PretrainArgs;
use crate::pretrain::{self, PretrainConfig};
use anyhow::{Result, bail};

pub fn run(args: PretrainArgs) -> Result<()> {
    let mut cfg = PretrainConfig::load(&args.config)?;
    if let Some(steps) = args.steps {
        cfg.steps = steps;
        cfg.bases = None;
    }
    if let Some(bases) = args.bases {
        cfg.bases = Some(bases);
    }
    if let Some(out) = &args.out {
        cfg.out = out.clone();
    }
    match args.device.as_deref() {
        None | Some("cpu") => {}
        Some(other) => bail!("pretrain runs on `cpu` for now (got --device {other})"),
    }
    crate::engine::interrupt::install();
    pretrain::start(&cfg, args.resume, args.overwrite)
}
