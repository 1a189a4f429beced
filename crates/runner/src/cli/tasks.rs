//! `strand tasks [--json]`: the built-in task cards.

use crate::cli::args::TasksArgs;
use strand_data::{LabelKind, TaskCard, registry::builtin_cards};

pub fn run(args: TasksArgs) -> anyhow::Result<()> {
    let cards = builtin_cards();
    if args.json {
        println!("{}", serde_json::to_string_pretty(cards)?);
        return Ok(());
    }
    println!(
        "{:<42} {:<8} {:<24} {:<11} {:<14} {:<16} baselines",
        "task", "version", "labels", "length", "metric", "splits"
    );
    for c in cards {
        println!(
            "{:<42} {:<8} {:<24} {:<11} {:<14} {:<16} {}",
            c.name,
            c.version,
            labels(&c.labels),
            length(c),
            format!("{} ({})", c.official_metric().as_str(), c.eval_split),
            c.splits
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
            c.published.len()
        );
    }
    println!(
        "\n{} tasks. Also: fasta:NAME=PATH,NAME=PATH,...  csv:PATH  tsv:PATH  guanine/<task>@<bp> (BED + --reference).",
        cards.len()
    );
    Ok(())
}

fn labels(l: &LabelKind) -> String {
    match l {
        LabelKind::Classes { names } if names.len() <= 2 => names.join("/"),
        LabelKind::Classes { names } => format!("{} classes", names.len()),
        LabelKind::Ordinal { min, max } => format!("ordinal {min}..={max}"),
        LabelKind::Regression => "regression".into(),
    }
}

fn length(c: &TaskCard) -> String {
    match c.length {
        Some(r) if r.min == r.max => format!("{} bp", r.min),
        Some(r) => format!("{}-{}", r.min, r.max),
        None => "-".into(),
    }
}
