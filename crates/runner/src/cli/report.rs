//! `strand report`: score tables over run directories.

use crate::cli::args::{ReportArgs, ReportFormat};
use crate::report::{collect, json, keep_metrics, markdown};
use anyhow::Result;

pub fn run(args: ReportArgs) -> Result<()> {
    let mut runs = collect(&args.runs)?;
    if let Some(wanted) = &args.metrics {
        keep_metrics(&mut runs, wanted)?;
    }
    let text = match args.format {
        ReportFormat::Md => markdown(&runs)?,
        ReportFormat::Json => json(&runs)?,
    };
    match &args.out {
        Some(p) => crate::run::run_dir::write_atomic(p, text.as_bytes())?,
        None => println!("{text}"),
    }
    Ok(())
}
