//! `strand data stats|head|export`.

mod stats;

use crate::cli::args::{DataCommand, DataExportArgs, DataHeadArgs, DataLocation, ExportFormatArg};
use anyhow::Context;
use std::str::FromStr;
use strand_data::export::{self, ExportFormat, ExportOptions};
use strand_data::split::SplitPlan;
use strand_data::{Label, OpenOptions, Split};

pub fn run(cmd: DataCommand) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Stats(a) => stats::run(a),
        DataCommand::Head(a) => head(a),
        DataCommand::Export(a) => export(a),
    }
}

fn options(loc: &DataLocation) -> OpenOptions {
    OpenOptions {
        data_dir: loc.data_dir.clone(),
        reference: loc.reference.clone(),
        ..OpenOptions::default()
    }
}

/// Prints the first `n` records of a split: id, label, length, sequence (tab-separated).
fn head(args: DataHeadArgs) -> anyhow::Result<()> {
    let split = Split::from_str(&args.split)?;
    let opts = options(&args.loc);
    // The publisher's splits as they are; a split strand derives (e.g. GB valid) otherwise.
    let raw = strand_data::open_raw(&args.task, &opts)?;
    let source = if raw.splits().contains(&split) {
        raw
    } else {
        strand_data::open(&args.task, &opts)?
    };
    let names = match &source.card().labels {
        strand_data::LabelKind::Classes { names } => Some(names.clone()),
        _ => None,
    };
    println!("id\tlabel\tlength\tsequence");
    for record in source.records(split)?.take(args.n) {
        let r = record?;
        let label = match (r.label, &names) {
            (Label::Class(c), Some(n)) => n.get(c as usize).cloned().unwrap_or(c.to_string()),
            (Label::Class(c), None) => c.to_string(),
            (Label::Value(v), _) => v.to_string(),
            (Label::None, _) => "-".into(),
        };
        println!(
            "{}\t{}\t{}\t{}",
            r.id,
            label,
            r.seq.len(),
            String::from_utf8_lossy(&r.seq)
        );
    }
    Ok(())
}

/// Writes a task's splits (derived ones included) in the chosen format.
fn export(args: DataExportArgs) -> anyhow::Result<()> {
    let format = match args.format {
        ExportFormatArg::Gb => ExportFormat::Gb,
        ExportFormatArg::Fasta => ExportFormat::Fasta,
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Tsv => ExportFormat::Tsv,
        ExportFormatArg::Parquet => ExportFormat::Parquet,
    };
    let defaults = SplitPlan::default();
    let mut opts = options(&args.loc);
    opts.plan = SplitPlan {
        seed: args.split_seed,
        valid_frac: args.valid_frac.unwrap_or(defaults.valid_frac),
        test_frac: args.test_frac.unwrap_or(defaults.test_frac),
        fold: None,
    };
    let (source, provenance) = export::open_for_export(&args.task, &opts, format)?;
    let export_opts = ExportOptions {
        format,
        dataset: args
            .name
            .unwrap_or_else(|| export::dataset_name(&args.task)),
        overwrite: args.overwrite,
    };
    let summary = export::export(source.as_ref(), &provenance, &args.to, &export_opts)
        .with_context(|| format!("exporting {}", args.task))?;
    for s in &summary.manifest.splits {
        let made = if s.derived { " (derived)" } else { "" };
        println!("{}\t{}\t{} records{made}", s.split, s.file, s.records);
        for (class, n) in &s.classes {
            println!("{}\t{class}\t{n}", s.split);
        }
    }
    if let Some(plan) = &summary.manifest.split_plan {
        println!(
            "derived splits: seed {}, valid {}, test {} (recorded in split.json)",
            plan.seed, plan.valid_frac, plan.test_frac
        );
    }
    println!("wrote {}", summary.dir.display());
    Ok(())
}
