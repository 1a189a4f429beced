//! `strand data stats|head|export`.

mod stats;

use crate::cli::args::{DataCommand, DataExportArgs, DataHeadArgs, DataLocation};
use anyhow::Context;
use std::str::FromStr;
use strand_data::source::gb_native::export_native;
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

/// Writes a classification task in the Genomic Benchmarks native layout.
fn export(args: DataExportArgs) -> anyhow::Result<()> {
    let source = strand_data::open_raw(&args.task, &options(&args.loc))?;
    let dataset = args
        .task
        .rsplit('/')
        .next()
        .unwrap_or(&args.task)
        .replace([':', '='], "_");
    let summary = export_native(source.as_ref(), &args.to, &dataset)
        .with_context(|| format!("exporting {}", args.task))?;
    for (split, class, n) in &summary.counts {
        println!("{split}\t{class}\t{n}");
    }
    println!("wrote {}", summary.dir.display());
    Ok(())
}
