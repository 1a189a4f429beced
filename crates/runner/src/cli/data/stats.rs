//! `strand data stats`: counts per split and class, length min/median/max, N fraction.
//!
//! Genomic Benchmarks interval datasets are counted from the interval files alone when no
//! reference is given (lengths are `end - start`; the N fraction is then unknown). Everything else
//! streams the records, keeping only a length histogram and counters.

use crate::cli::args::DataStatsArgs;
use serde::Serialize;
use std::collections::BTreeMap;
use strand_data::source::gb::{GbLocation, locate};
use strand_data::source::gb_intervals::GbIntervals;
use strand_data::{Label, LabelKind, Source, Split, TaskSpec};

/// Statistics of one split.
#[derive(Debug, Default, Serialize)]
pub struct SplitStats {
    pub split: String,
    pub records: u64,
    /// Records per class name (classes), level (ordinal), or `unlabelled`.
    pub classes: BTreeMap<String, u64>,
    pub length: Option<Lengths>,
    /// Fraction of `N` bases; `None` when sequences were not read.
    pub n_fraction: Option<f64>,
    #[serde(skip)]
    hist: BTreeMap<u64, u64>,
    #[serde(skip)]
    n_bases: u64,
    #[serde(skip)]
    bases: u64,
}

#[derive(Debug, Serialize)]
pub struct Lengths {
    pub min: u64,
    pub median: f64,
    pub max: u64,
}

#[derive(Debug, Serialize)]
struct TaskStats {
    task: String,
    /// `sequences` (records read) or `intervals` (interval files only).
    from: &'static str,
    classes: Vec<String>,
    splits: Vec<SplitStats>,
}

impl SplitStats {
    fn new(split: Split, class_names: &[String]) -> Self {
        SplitStats {
            split: split.to_string(),
            classes: class_names.iter().map(|c| (c.clone(), 0)).collect(),
            ..SplitStats::default()
        }
    }

    fn add(&mut self, class: String, len: u64, seq: Option<&[u8]>) {
        self.records += 1;
        *self.classes.entry(class).or_default() += 1;
        *self.hist.entry(len).or_default() += 1;
        if let Some(s) = seq {
            self.bases += s.len() as u64;
            self.n_bases += s.iter().filter(|b| **b == b'N').count() as u64;
        }
    }

    fn finish(&mut self, read_sequences: bool) {
        if self.records > 0 {
            let min = *self.hist.keys().next().expect("non-empty");
            let max = *self.hist.keys().next_back().expect("non-empty");
            self.length = Some(Lengths {
                min,
                median: median(&self.hist, self.records),
                max,
            });
        }
        self.n_fraction =
            (read_sequences && self.bases > 0).then(|| self.n_bases as f64 / self.bases as f64);
    }
}

/// Median of a histogram of `total` values (mean of the two middle values when `total` is even).
fn median(hist: &BTreeMap<u64, u64>, total: u64) -> f64 {
    let nth = |k: u64| {
        let mut seen = 0;
        for (v, c) in hist {
            seen += c;
            if seen > k {
                return *v as f64;
            }
        }
        0.0
    };
    if total % 2 == 1 {
        nth(total / 2)
    } else {
        (nth(total / 2 - 1) + nth(total / 2)) / 2.0
    }
}

fn class_names(labels: &LabelKind) -> Vec<String> {
    match labels {
        LabelKind::Classes { names } => names.clone(),
        LabelKind::Ordinal { min, max } => (*min..=*max).map(|l| l.to_string()).collect(),
        LabelKind::Regression => vec![],
    }
}

fn label_name(label: Label, labels: &LabelKind) -> String {
    match (label, labels) {
        (Label::Class(c), LabelKind::Classes { names }) => {
            names.get(c as usize).cloned().unwrap_or(c.to_string())
        }
        (Label::Class(c), _) => c.to_string(),
        (Label::Value(_), _) => "value".into(),
        (Label::None, _) => "unlabelled".into(),
    }
}

/// Counts a GB interval dataset from its interval files.
fn from_intervals(src: &GbIntervals) -> anyhow::Result<Vec<SplitStats>> {
    let names: Vec<String> = src.classes().iter().map(|c| c.name.clone()).collect();
    let mut out = Vec::new();
    for split in src.splits() {
        let mut s = SplitStats::new(split, &names);
        for row in src.intervals(split)? {
            let row = row?;
            s.add(names[row.class as usize].clone(), row.end - row.start, None);
        }
        s.finish(false);
        out.push(s);
    }
    Ok(out)
}

fn from_records(src: &dyn Source) -> anyhow::Result<Vec<SplitStats>> {
    let labels = &src.card().labels;
    let names = class_names(labels);
    let mut out = Vec::new();
    for split in src.splits() {
        let mut s = SplitStats::new(split, &names);
        for r in src.records(split)? {
            let r = r?;
            s.add(
                label_name(r.label, labels),
                r.seq.len() as u64,
                Some(&r.seq),
            );
        }
        s.finish(true);
        out.push(s);
    }
    Ok(out)
}

pub fn run(args: DataStatsArgs) -> anyhow::Result<()> {
    let stats = collect(&args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(());
    }
    print_text(&stats);
    Ok(())
}

/// Streams the task once and returns its statistics.
fn collect(args: &DataStatsArgs) -> anyhow::Result<TaskStats> {
    let opts = super::options(&args.loc);
    let interval_only = match TaskSpec::parse(&args.task)? {
        TaskSpec::Builtin { suite, name } if suite == "gb" && opts.reference.is_none() => {
            match locate(&name, opts.data_dir.as_deref())? {
                GbLocation::Intervals(dir) => Some(GbIntervals::open(&dir, None)?),
                GbLocation::Native(_) => None,
            }
        }
        _ => None,
    };
    let stats = match &interval_only {
        Some(src) => TaskStats {
            task: src.card().name.clone(),
            from: "intervals",
            classes: src.classes().iter().map(|c| c.name.clone()).collect(),
            splits: from_intervals(src)?,
        },
        None => {
            let src = strand_data::open_raw(&args.task, &opts)?;
            TaskStats {
                task: src.card().name.clone(),
                from: "sequences",
                classes: class_names(&src.card().labels),
                splits: from_records(src.as_ref())?,
            }
        }
    };
    Ok(stats)
}

fn print_text(stats: &TaskStats) {
    println!("{} (from {})", stats.task, stats.from);
    for s in &stats.splits {
        let len = s
            .length
            .as_ref()
            .map(|l| format!("length {}/{}/{} (min/median/max)", l.min, l.median, l.max))
            .unwrap_or_default();
        let nf = s
            .n_fraction
            .map(|f| format!(", N fraction {f:.5}"))
            .unwrap_or_else(|| ", N fraction unknown (no sequences read)".into());
        println!("  {:<6} {:>9} records, {len}{nf}", s.split, s.records);
        for (class, n) in &s.classes {
            println!("    {class:<24} {n:>9}");
        }
    }
}

#[cfg(test)]
mod tests {
    /// Prints a `SKIP …` line on the process's standard error directly (libtest captures
    /// `println!` of passing tests; a skipped test must say why in a passing run too).
    fn skip(reason: std::fmt::Arguments) {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "{reason}");
    }

    use super::*;
    use crate::cli::args::DataLocation;
    use std::path::Path;

    /// Published train / test counts per class (sorted class order), genomic_benchmarks.md §1.
    const GB_COUNTS: [(&str, &[(u64, u64)]); 9] = [
        (
            "demo_coding_vs_intergenomic_seqs",
            &[(37_500, 12_500), (37_500, 12_500)],
        ),
        ("demo_human_or_worm", &[(37_500, 12_500), (37_500, 12_500)]),
        ("drosophila_enhancers_stark", &[(2_592, 865), (2_592, 865)]),
        ("dummy_mouse_enhancers_ensembl", &[(484, 121), (484, 121)]),
        ("human_enhancers_cohn", &[(10_422, 3_474), (10_421, 3_474)]),
        (
            "human_enhancers_ensembl",
            &[(61_936, 15_485), (61_936, 15_485)],
        ),
        (
            "human_ensembl_regulatory",
            &[(85_512, 21_378), (69_902, 17_476), (75_934, 18_859)],
        ),
        (
            "human_nontata_promoters",
            &[(12_355, 4_119), (14_742, 4_915)],
        ),
        ("human_ocr_ensembl", &[(69_902, 17_476), (69_902, 17_476)]),
    ];

    #[test]
    fn stats_of_the_nine_interval_datasets_are_the_published_counts() {
        let data =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/genomic_benchmarks");
        if !data.is_dir() {
            skip(format_args!(
                "SKIP stats_of_the_nine_interval_datasets_are_the_published_counts: {} absent",
                data.display()
            ));
            return;
        }
        for (name, counts) in GB_COUNTS {
            let args = DataStatsArgs {
                task: format!("gb/{name}"),
                loc: DataLocation {
                    data_dir: Some(data.clone()),
                    reference: None,
                },
                json: true,
            };
            let stats = collect(&args).unwrap();
            assert_eq!(stats.from, "intervals");
            let json = serde_json::to_value(&stats).unwrap();
            for (k, split) in ["train", "test"].into_iter().enumerate() {
                let s = json["splits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["split"] == split)
                    .unwrap();
                let got: Vec<u64> = stats
                    .classes
                    .iter()
                    .map(|c| s["classes"][c].as_u64().unwrap())
                    .collect();
                let want: Vec<u64> = counts
                    .iter()
                    .map(|c| if k == 0 { c.0 } else { c.1 })
                    .collect();
                assert_eq!(got, want, "{name} {split}");
                assert_eq!(s["records"].as_u64().unwrap(), want.iter().sum::<u64>());
            }
        }
    }

    #[test]
    fn median_of_a_histogram() {
        let h: BTreeMap<u64, u64> = [(1, 1), (5, 2), (9, 1)].into_iter().collect();
        assert_eq!(median(&h, 4), 5.0);
        let h: BTreeMap<u64, u64> = [(1, 1), (4, 1)].into_iter().collect();
        assert_eq!(median(&h, 2), 2.5);
        let h: BTreeMap<u64, u64> = [(7, 3)].into_iter().collect();
        assert_eq!(median(&h, 3), 7.0);
    }
}
