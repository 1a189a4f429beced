//! `strand sweep`: pretrain each tokenizer of the grid that asks for it, run every cell as the
//! `strand train` command line it is ([`crate::sweep::Cell::train_flags`]), then write and print
//! the report. Finished cells and pretraining runs are skipped, started ones resumed.

use crate::cli::args::{PretrainArgs, SweepArgs, TrainArgs};
use crate::report;
use crate::sweep::{SweepConfig, pretrain_finished};
use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;

/// `strand train` flags parsed by the CLI's own parser.
#[derive(Debug, Parser)]
#[command(name = "train")]
struct TrainCommand {
    #[command(flatten)]
    args: TrainArgs,
}

/// `strand pretrain` flags parsed by the CLI's own parser.
#[derive(Debug, Parser)]
#[command(name = "pretrain")]
struct PretrainCommand {
    #[command(flatten)]
    args: PretrainArgs,
}

fn parse_train(flags: &[String]) -> Result<TrainArgs> {
    let argv = std::iter::once("train".to_string()).chain(flags.iter().cloned());
    Ok(TrainCommand::try_parse_from(argv)
        .context("building a sweep cell's `strand train` flags")?
        .args)
}

pub fn run(args: SweepArgs) -> Result<()> {
    let mut config = SweepConfig::load(&args.config)?;
    if let Some(b) = args.budget {
        config.budget *= b;
        config.validate()?;
    }
    let out = args.out.clone().unwrap_or_else(|| config.out.clone());
    let data_dir = args.loc.data_dir.as_deref();
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    // One sweep at a time per directory (its cells lock their own run directories too).
    let _lock = strand_data::lock::DirLock::acquire(&out)?;
    for t in &config.tokenizers {
        let Some(pretrain) = &t.pretrain else {
            continue;
        };
        let dir = config.pretrain_dir(&out, t);
        if pretrain_finished(&dir) {
            tracing::info!("pretraining {} is finished: {}", t.name, dir.display());
            continue;
        }
        let mut flags = vec![
            "pretrain".to_string(),
            "--config".into(),
            pretrain.display().to_string(),
            "--out".into(),
            dir.display().to_string(),
        ];
        flags.extend(config.pretrain_budget_flags(t));
        if dir.join("metrics.jsonl").exists() {
            flags.push("--resume".into());
        }
        tracing::info!("pretraining {}: strand {}", t.name, flags.join(" "));
        let a = PretrainCommand::try_parse_from(flags)
            .context("building the `strand pretrain` flags")?
            .args;
        crate::cli::pretrain::run(a).with_context(|| format!("pretraining {}", t.name))?;
    }
    // Checkpoint paths are resolved after pretraining.
    let cells = config.cells(&out);
    let total = cells.len();
    let train = config.scaled_train();
    for (i, cell) in cells.iter().enumerate() {
        if cell.finished() {
            tracing::info!("[{}/{total}] finished: {}", i + 1, cell.dir.display());
            continue;
        }
        let mut flags = cell.train_flags(&train, data_dir);
        if let Some(r) = &args.loc.reference {
            flags.extend(["--reference".into(), r.display().to_string()]);
        }
        tracing::info!(
            "[{}/{total}] strand train {}{}",
            i + 1,
            flags.join(" "),
            train
                .split
                .as_ref()
                .map(|s| format!(" (config [split]: {s:?})"))
                .unwrap_or_default()
        );
        let mut a = parse_train(&flags)?;
        a.exp.split = train.split.clone();
        crate::cli::train::run(a).with_context(|| format!("sweep cell {}", cell.dir.display()))?;
    }
    let dirs: Vec<PathBuf> = cells.into_iter().map(|c| c.dir).collect();
    let runs = report::collect(&dirs)?;
    let table = report::markdown(&runs)?;
    crate::run::run_dir::write_atomic(&out.join("report.md"), table.as_bytes())?;
    crate::run::run_dir::write_atomic(&out.join("report.json"), report::json(&runs)?.as_bytes())?;
    println!("{table}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::sweep::tests::shipped;

    #[test]
    fn cells_are_plain_strand_train_command_lines() {
        let c = shipped();
        let cell = &c.cells(Path::new("out"))[4];
        let flags = cell.train_flags(&c.train, Some(Path::new("../shared/data/cnnprom")));
        let a = parse_train(&flags).unwrap();
        assert_eq!(a.exp.task.as_deref(), Some("cnnprom/mouse_tata"));
        assert_eq!(a.exp.model.as_deref(), Some("t5-tiny"));
        assert_eq!(a.exp.tokenizer.as_deref(), Some("kmer:6:1"));
        assert_eq!(
            (a.exp.epochs, a.exp.epoch_steps, a.exp.batch_size, a.exp.lr),
            (Some(1), Some(60), Some(16), Some(5e-4))
        );
        assert_eq!(a.exp.seed, Some(0));
        assert_eq!(a.exp.out.as_deref(), Some(cell.dir.as_path()));
        assert_eq!(
            a.exp.init.as_deref(),
            Some(Path::new("out/pretrain/kmer6/checkpoints/latest"))
        );
        assert_eq!(
            a.loc.data_dir.as_deref(),
            Some(Path::new("../shared/data/cnnprom"))
        );
        assert!(!a.resume && !a.overwrite);
    }
}
