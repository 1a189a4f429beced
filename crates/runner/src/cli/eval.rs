//! `strand eval`: re-score one split of a finished run.

use crate::cli::args::EvalArgs;
use crate::run::evaluate::evaluate_run;
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;
use strand_data::Split;

pub fn run(args: EvalArgs) -> Result<()> {
    let split: Split = args.split.parse()?;
    let metrics = evaluate_run(
        &args.run,
        split,
        args.loc.data_dir.as_deref(),
        args.loc.reference.as_deref(),
        args.device,
        args.predictions,
        args.rc_average,
    )?;
    println!("{}", format_metrics(&args.run, split, &metrics));
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
