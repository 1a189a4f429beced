//! `strand report`: a table over run directories — task, model, tokenizer, metric, ours (mean ±
//! sd over seeds/folds, n), the published figure from the task card, and the difference. JSON
//! adds every run's config path, seed, split seed, fold, global batch and data version.

use crate::cli::{ReportArgs, ReportFormat};
use crate::run_dir::{self, Scores};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One run's scores and where they are.
#[derive(Debug, Clone)]
pub struct RunScores {
    pub dir: PathBuf,
    pub scores: Scores,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub task: String,
    pub model: String,
    pub tokenizer: String,
    pub split: String,
    pub metric: String,
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for a single run.
    pub sd: Option<f64>,
    pub n: usize,
    /// (published model, value) from the task card.
    pub published: Option<(String, f64)>,
    /// `mean − published`.
    pub delta: Option<f64>,
}

#[derive(Serialize)]
struct RunInfo<'a> {
    dir: &'a Path,
    config: PathBuf,
    task: &'a str,
    model: &'a str,
    tokenizer: &'a str,
    seed: u64,
    split_seed: u64,
    fold: Option<(usize, usize)>,
    global_batch: usize,
    epochs: usize,
    best_epoch: usize,
    data_version: &'a str,
    strand_version: &'a str,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let runs = collect(&args.runs)?;
    let text = match args.format {
        ReportFormat::Md => markdown(&runs)?,
        ReportFormat::Json => json(&runs)?,
    };
    match &args.out {
        Some(p) => crate::run_dir::write_atomic(p, text.as_bytes())?,
        None => println!("{text}"),
    }
    Ok(())
}

/// Every `scores.json` under `dirs` (searched recursively), in path order.
pub fn collect(dirs: &[PathBuf]) -> Result<Vec<RunScores>> {
    let mut found = Vec::new();
    for d in dirs {
        if !d.exists() {
            bail!("{} does not exist", d.display());
        }
        let before = found.len();
        walk(d, &mut found)?;
        if found.len() == before {
            bail!("no finished run (scores.json) under {}", d.display());
        }
    }
    found.sort();
    found.dedup();
    found
        .into_iter()
        .map(|dir| {
            let scores = Scores::read(&dir.join(run_dir::SCORES))?;
            Ok(RunScores { dir, scores })
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if dir.join(run_dir::SCORES).is_file() {
        out.push(dir.to_path_buf());
    }
    if dir.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out)?;
        }
    }
    Ok(())
}

fn mean_sd(v: &[f64]) -> (f64, Option<f64>) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, None);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, Some(var.sqrt()))
}

/// Rows grouped by (task, model, tokenizer) in first-seen order, one per metric of the task's
/// evaluation split.
pub fn rows(runs: &[RunScores]) -> Vec<Row> {
    let mut groups: Vec<((String, String, String), Vec<&Scores>)> = Vec::new();
    for r in runs {
        let s = &r.scores;
        let key = (s.task.clone(), s.model.clone(), s.tokenizer.clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(s),
            None => groups.push((key, vec![s])),
        }
    }
    let mut out = Vec::new();
    for ((task, model, tokenizer), members) in groups {
        let first = members[0];
        let split = first.eval_split.clone();
        let card = strand_data::registry::card(&task).ok();
        for metric in &first.metrics {
            let values: Vec<f64> = members
                .iter()
                .filter_map(|s| s.splits.get(&split)?.get(metric).copied())
                .collect();
            if values.is_empty() {
                continue;
            }
            let (mean, sd) = mean_sd(&values);
            let published = card.and_then(|c| {
                c.published
                    .iter()
                    .find(|p| p.metric.as_str() == metric && p.split.as_str() == split)
                    .map(|p| (p.model.clone(), p.value))
            });
            out.push(Row {
                task: task.clone(),
                model: model.clone(),
                tokenizer: tokenizer.clone(),
                split: split.clone(),
                metric: metric.clone(),
                mean,
                sd,
                n: values.len(),
                delta: published.as_ref().map(|(_, p)| mean - p),
                published,
            });
        }
    }
    out
}

/// The Markdown table, then the task cards' caveats.
pub fn markdown(runs: &[RunScores]) -> Result<String> {
    let rows = rows(runs);
    let mut s = String::from(
        "| task | model | tokenizer | split | metric | ours (mean ± sd, n) | published | Δ |\n\
         |---|---|---|---|---|---:|---:|---:|\n",
    );
    for r in &rows {
        let ours = match r.sd {
            Some(sd) => format!("{:.4} ± {sd:.4} (n={})", r.mean, r.n),
            None => format!("{:.4} (n={})", r.mean, r.n),
        };
        let published = r
            .published
            .as_ref()
            .map_or("—".to_string(), |(m, v)| format!("{v:.2} ({m})"));
        let delta = r.delta.map_or("—".to_string(), |d| format!("{d:+.4}"));
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {ours} | {published} | {delta} |\n",
            r.task, r.model, r.tokenizer, r.split, r.metric
        ));
    }
    let mut notes: Vec<String> = Vec::new();
    for r in runs {
        if let Ok(card) = strand_data::registry::card(&r.scores.task) {
            for c in &card.caveats {
                let line = format!("- {}: {c}", card.name);
                if !notes.contains(&line) {
                    notes.push(line);
                }
            }
        }
    }
    if rows
        .iter()
        .any(|r| ["f1", "sensitivity", "specificity"].contains(&r.metric.as_str()))
    {
        notes.push(
            "- F1, sensitivity and specificity take class index 1 as the positive class.".into(),
        );
    }
    if !notes.is_empty() {
        s.push('\n');
        s.push_str(&notes.join("\n"));
        s.push('\n');
    }
    Ok(s)
}

/// The same rows as JSON, with every run's provenance.
pub fn json(runs: &[RunScores]) -> Result<String> {
    let infos: Vec<RunInfo> = runs
        .iter()
        .map(|r| RunInfo {
            dir: &r.dir,
            config: r.dir.join(&r.scores.config),
            task: &r.scores.task,
            model: &r.scores.model,
            tokenizer: &r.scores.tokenizer,
            seed: r.scores.seed,
            split_seed: r.scores.split_seed,
            fold: r.scores.fold,
            global_batch: r.scores.global_batch,
            epochs: r.scores.epochs,
            best_epoch: r.scores.best_epoch,
            data_version: &r.scores.data_version,
            strand_version: &r.scores.strand_version,
        })
        .collect();
    Ok(serde_json::to_string_pretty(&serde_json::json!({
        "rows": rows(runs),
        "runs": infos,
    }))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn scores(seed: u64, mcc: f64) -> Scores {
        let mut test = BTreeMap::new();
        test.insert("mcc".to_string(), mcc);
        let mut splits = BTreeMap::new();
        splits.insert("test".to_string(), test);
        Scores {
            strand_version: "0".into(),
            task: "cnnprom/ecoli".into(),
            data_version: "b4d2949".into(),
            model: "cnn-gb".into(),
            tokenizer: "nucleotide".into(),
            seed,
            split_seed: 0,
            fold: None,
            global_batch: 64,
            epochs: 10,
            best_epoch: 3,
            selection_metric: "mcc".into(),
            metrics: vec!["mcc".into(), "accuracy".into()],
            eval_split: "test".into(),
            config: "config.resolved.toml".into(),
            splits,
        }
    }

    #[test]
    fn mean_sd_over_seeds_with_published_delta() {
        let runs: Vec<RunScores> = [(0, 0.80), (1, 0.90)]
            .iter()
            .map(|(s, m)| RunScores {
                dir: PathBuf::from(format!("r/seed-{s}")),
                scores: scores(*s, *m),
            })
            .collect();
        let rows = rows(&runs);
        assert_eq!(rows.len(), 1, "accuracy is absent from the scores");
        let r = &rows[0];
        assert!((r.mean - 0.85).abs() < 1e-12);
        assert!((r.sd.unwrap() - 0.0707107).abs() < 1e-6);
        assert_eq!(r.n, 2);
        assert_eq!(r.published, Some(("CNNProm".into(), 0.84)));
        assert!((r.delta.unwrap() - 0.01).abs() < 1e-12);
        let md = markdown(&runs).unwrap();
        assert!(
            md.contains("0.8500 ± 0.0707 (n=2)") && md.contains("0.84 (CNNProm)"),
            "{md}"
        );
        let js: serde_json::Value = serde_json::from_str(&json(&runs).unwrap()).unwrap();
        assert_eq!(js["runs"][1]["seed"], 1);
        assert_eq!(js["runs"][0]["global_batch"], 64);
    }
}
