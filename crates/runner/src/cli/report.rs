//! `strand report`: score tables (Markdown, JSON) or an HTML page over run directories.

use crate::cli::args::{ReportArgs, ReportFormat};
use crate::report::catalogue::Catalogue;
use crate::report::{collect, html::html, json, keep_metrics, markdown};
use anyhow::{Result, bail};

pub fn run(args: ReportArgs) -> Result<()> {
    if args.catalogue.is_some() && args.format != ReportFormat::Html {
        bail!("--catalogue is for --format html");
    }
    let mut runs = collect(&args.runs)?;
    if let Some(wanted) = &args.metrics {
        keep_metrics(&mut runs, wanted)?;
    }
    let text = match args.format {
        ReportFormat::Md => markdown(&runs)?,
        ReportFormat::Json => json(&runs)?,
        ReportFormat::Html => {
            let catalogue = args.catalogue.as_deref().map(Catalogue::read).transpose()?;
            html(&runs, catalogue.as_ref())?
        }
    };
    match &args.out {
        Some(p) => crate::run::run_dir::write_atomic(p, text.as_bytes())?,
        None => println!("{text}"),
    }
    Ok(())
}
