//! `strand eval`: re-score one split of a finished run.

use crate::cli::args::EvalArgs;
use crate::run::evaluate::evaluate_run;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use strand_data::Split;

pub fn run(args: EvalArgs) -> Result<()> {
    let split: Split = args.split.parse()?;
    let dir = match args.hf.experiment(Some(&args.loc)) {
        Some(exp) => {
            let out = args
                .out
                .clone()
                .context("--init needs --out DIR: the run directory to write")?;
            crate::run::hf::untrained_run(&exp, &out, args.overwrite, true)?;
            out
        }
        None => args.run.clone().context("--run DIR or --init hf:DIR")?,
    };
    let metrics = evaluate_run(
        &dir,
        split,
        args.loc.data_dir.as_deref(),
        args.loc.reference.as_deref(),
        args.device,
        args.predictions,
        args.rc_average,
    )?;
    println!("{}", format_metrics(&dir, split, &metrics));
    Ok(())
}

fn format_metrics(dir: &Path, split: Split, m: &BTreeMap<String, f64>) -> String {
    let mut s = format!(
        "{} — {split}\n\n| metric | value |\n|---|---:|\n",
        dir.display()
    );
    for (k, v) in m {
        if v.is_nan() {
            s.push_str(&format!("| {k} | n/a (undefined on this split) |\n"));
        } else if k == "n" {
            s.push_str(&format!("| {k} | {v:.0} |\n"));
        } else {
            s.push_str(&format!("| {k} | {v:.4} |\n"));
        }
    }
    s
}
