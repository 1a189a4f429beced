//! `strand report`: a table over run directories — task, model, tokenizer, head (T5), split,
//! metric, ours (mean ± sd over seeds/folds, n), the published figure from the task card, and the
//! difference. JSON adds every run's config path, seed, split seed, fold, global batch, micro
//! batch, accumulation and data version.
//!
//! A published figure measured on another split than ours (GUANinE: we score dev, the
//! leaderboard is test) is shown with its split and gets no Δ: the two numbers are not
//! comparable. Per-sub-task scores in `scores.json` (`spearman100:<sub-task>`, ccre) get a row
//! each after the task's own metrics.

pub mod catalogue;
pub mod curves;
pub mod details;
pub mod html;
pub mod plot;

use crate::run::run_dir::{self, Scores};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One run's scores and where they are.
#[derive(Debug, Clone)]
pub struct RunScores {
    pub dir: PathBuf,
    pub scores: Scores,
    /// T5 head from the run's `model.json` (`None`: a CNN, or no `model.json`).
    pub head: Option<String>,
    /// The pretrained checkpoint the run started from (`--init`), as a short label.
    pub init: Option<String>,
    /// Reverse-complement use recorded in the run's config: `rc-aug`, `rc-avg` or both.
    pub strands: Option<String>,
}

/// `<run>/step-N` for `<run>/checkpoints/step-N` (a `strand pretrain` checkpoint), else the
/// directory's name: the `--init` of a run, read from its `config.resolved.toml`.
fn init_of(dir: &Path) -> Option<String> {
    let cfg = crate::config::RunConfig::load(&dir.join(run_dir::CONFIG)).ok()?;
    let init = cfg.init?;
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let step = name(&init)?;
    let parent = init.parent()?;
    Some(
        match (name(parent).as_deref(), parent.parent().and_then(name)) {
            (Some("checkpoints"), Some(run)) => format!("{run}/{step}"),
            _ => step,
        },
    )
}

/// `--rc-augment` / `--rc-average` of the run in `dir`, as a short label.
fn strands_of(dir: &Path) -> Option<String> {
    let cfg = crate::config::RunConfig::load(&dir.join(run_dir::CONFIG)).ok()?;
    match (cfg.rc_augment, cfg.rc_average) {
        (false, false) => None,
        (true, false) => Some("rc-aug".into()),
        (false, true) => Some("rc-avg".into()),
        (true, true) => Some("rc-aug, rc-avg".into()),
    }
}

/// The T5 head recorded in `dir/model.json`, if any.
fn head_of(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(run_dir::MODEL_SPEC)).ok()?;
    let spec: crate::config::model_preset::ModelSpec = serde_json::from_str(&text).ok()?;
    spec.head_name().map(str::to_string)
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub task: String,
    pub model: String,
    pub tokenizer: String,
    /// T5 head, `—` for the CNN.
    pub head: String,
    pub split: String,
    pub metric: String,
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for a single run.
    pub sd: Option<f64>,
    pub n: usize,
    /// (published model, value) from the task card.
    pub published: Option<(String, f64)>,
    /// The split of the published figure.
    pub published_split: Option<String>,
    /// `mean − published`, only when both are on the same split and the same data.
    pub delta: Option<f64>,
    /// Test records of the published data set, when ours differ in number (a subset, a user's
    /// copy): the published figure is then context, not a baseline (no Δ).
    pub published_records: Option<(u64, u64)>,
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
    micro_batch: Option<usize>,
    accumulation: usize,
    head: Option<&'a str>,
    epochs: usize,
    best_epoch: usize,
    data_version: &'a str,
    strand_version: &'a str,
}

/// Keeps only the `wanted` metrics (and their per-sub-task `metric:sub` entries) of every run;
/// a name that no run reports is an error naming the ones they do.
pub fn keep_metrics(runs: &mut [RunScores], wanted: &[String]) -> Result<()> {
    let keep = |k: &str| {
        wanted.iter().any(|w| {
            k == w
                || k.strip_prefix(w.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
        })
    };
    let known: std::collections::BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.scores.metrics.iter().map(String::as_str))
        .collect();
    if let Some(w) = wanted.iter().find(|w| !known.contains(w.as_str())) {
        anyhow::bail!(
            "--metrics: no run reports {w:?}; they report {}",
            known.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    for r in runs {
        r.scores.metrics.retain(|m| keep(m));
        for m in r.scores.splits.values_mut() {
            m.retain(|k, _| !k.contains(':') || keep(k));
        }
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
            let head = head_of(&dir);
            let init = init_of(&dir);
            let strands = strands_of(&dir);
            Ok(RunScores {
                dir,
                scores,
                head,
                init,
                strands,
            })
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

/// What runs are grouped by: task, model (with its `--init`), tokenizer, head.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupKey {
    pub task: String,
    /// The preset name, then ` ← <checkpoint>` for a run started from a pretrained checkpoint.
    pub model: String,
    pub tokenizer: String,
    pub head: String,
}

impl GroupKey {
    /// The group `r` belongs to.
    pub fn of(r: &RunScores) -> Self {
        let s = &r.scores;
        GroupKey {
            task: s.task.clone(),
            model: {
                let model = match &r.init {
                    Some(i) => format!("{} ← {i}", s.model),
                    None => s.model.clone(),
                };
                match &r.strands {
                    Some(rc) => format!("{model} ({rc})"),
                    None => model,
                }
            },
            tokenizer: s.tokenizer.clone(),
            head: r.head.clone().unwrap_or_else(|| "—".into()),
        }
    }
}

/// Runs grouped by [`GroupKey`] in first-seen order, as indices into `runs`.
pub fn groups(runs: &[RunScores]) -> Vec<(GroupKey, Vec<usize>)> {
    let mut groups: Vec<(GroupKey, Vec<usize>)> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let key = GroupKey::of(r);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
}

/// Rows grouped by (task, model, tokenizer, head) in first-seen order, one per metric of the
/// task's evaluation split, then one per sub-task score.
pub fn rows(runs: &[RunScores]) -> Vec<Row> {
    let groups: Vec<(GroupKey, Vec<&Scores>)> = groups(runs)
        .into_iter()
        .map(|(k, idx)| (k, idx.iter().map(|&i| &runs[i].scores).collect()))
        .collect();
    let mut out = Vec::new();
    for (key, members) in groups {
        let GroupKey {
            task,
            model,
            tokenizer,
            head,
        } = key;
        let first = members[0];
        let split = first.eval_split.clone();
        let card = strand_data::registry::card(&task).ok();
        let mut metrics = first.metrics.clone();
        if let Some(m) = first.splits.get(&split) {
            metrics.extend(m.keys().filter(|k| k.contains(':')).cloned());
        }
        for metric in &metrics {
            let values: Vec<f64> = members
                .iter()
                .filter_map(|s| s.splits.get(&split)?.get(metric).copied())
                .collect();
            if values.is_empty() {
                continue;
            }
            let (mean, sd) = mean_sd(&values);
            // The same split first; otherwise a figure on another split, shown without Δ.
            let published = card.and_then(|c| {
                let of_metric = || c.published.iter().filter(|p| p.metric.as_str() == metric);
                of_metric()
                    .find(|p| p.split.as_str() == split)
                    .or_else(|| of_metric().next())
            });
            let same_split = published.is_some_and(|p| p.split.as_str() == split);
            let other_data = other_data(card, &members, &split);
            out.push(Row {
                task: task.clone(),
                model: model.clone(),
                tokenizer: tokenizer.clone(),
                head: head.clone(),
                split: split.clone(),
                metric: metric.clone(),
                mean,
                sd,
                n: values.len(),
                delta: published
                    .filter(|_| same_split && other_data.is_none())
                    .map(|p| mean - p.value),
                published_records: published.and(other_data),
                published_split: published.map(|p| p.split.as_str().to_string()),
                published: published.map(|p| (p.model.clone(), p.value)),
            });
        }
    }
    out
}

/// `(published test records, ours)` when the runs scored another number of records on the
/// test split than the task card's published data set holds.
fn other_data(
    card: Option<&strand_data::TaskCard>,
    members: &[&Scores],
    split: &str,
) -> Option<(u64, u64)> {
    let published = card?.records?.test;
    if split != "test" {
        return None;
    }
    let ours = members
        .iter()
        .filter_map(|s| s.splits.get(split)?.get("n").copied())
        .map(|n| n as u64)
        .find(|n| *n != published)?;
    Some((published, ours))
}

/// The Markdown table, then the task cards' caveats.
pub fn markdown(runs: &[RunScores]) -> Result<String> {
    let rows = rows(runs);
    let mut s = String::from(
        "| task | model | tokenizer | head | split | metric | ours (mean ± sd, n) | published | Δ |\n\
         |---|---|---|---|---|---|---:|---:|---:|\n",
    );
    for r in &rows {
        let ours = match r.sd {
            _ if r.mean.is_nan() => format!("n/a (n={})", r.n),
            Some(sd) => format!("{:.4} ± {sd:.4} (n={})", r.mean, r.n),
            None => format!("{:.4} (n={})", r.mean, r.n),
        };
        let published = match (&r.published, &r.published_split) {
            (Some((m, v)), _) if r.published_records.is_some() => {
                let (theirs, ours) = r.published_records.unwrap_or_default();
                format!("{v:.2} ({m}; full data set: {theirs} test records, ours {ours})")
            }
            (Some((m, v)), Some(ps)) if *ps != r.split => format!("{v:.2} ({m}; {ps} split)"),
            (Some((m, v)), _) => format!("{v:.2} ({m})"),
            (None, _) => "—".to_string(),
        };
        let delta = r.delta.map_or("—".to_string(), |d| format!("{d:+.4}"));
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {ours} | {published} | {delta} |\n",
            r.task, r.model, r.tokenizer, r.head, r.split, r.metric
        ));
    }
    let notes = notes(runs, &rows);
    if !notes.is_empty() {
        s.push('\n');
        s.push_str(&notes.join("\n"));
        s.push('\n');
    }
    Ok(s)
}

/// The task cards' caveats and what the table's marks mean, one Markdown list item each.
pub fn notes(runs: &[RunScores], rows: &[Row]) -> Vec<String> {
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
        .any(|r| r.published_split.as_ref().is_some_and(|ps| *ps != r.split))
    {
        notes.push(
            "- A published figure on another split than ours (GUANinE: leaderboard = test, \
             private labels; strand scores dev) is shown for orientation only, without Δ."
                .into(),
        );
    }
    if rows.iter().any(|r| r.published_records.is_some()) {
        notes.push(
            "- A published figure on another data set than ours (the publisher's full set, where \
             these runs scored a different number of test records: a subset or a user's copy) \
             is context only, not comparable, and gets no Δ: compare with another \
             implementation trained on the same records."
                .into(),
        );
    }
    if runs
        .iter()
        .any(|r| r.head.as_deref() == Some("text_to_text"))
    {
        notes.push(
            "- text_to_text heads are scored on the expectation over the label tokens' \
             probabilities (ordinal: expected level; regression: Σ p·bin mean), not the argmax \
             label: strand's choice, not GUANinE's protocol."
                .into(),
        );
    }
    if rows.iter().any(|r| r.mean.is_nan()) {
        notes.push(
            "- n/a: the metric is undefined on that split in at least one run (AUROC or MCC with \
             one class present, a correlation of constant values); scores.json stores it as null."
                .into(),
        );
    }
    if rows
        .iter()
        .any(|r| ["f1", "sensitivity", "specificity"].contains(&r.metric.as_str()))
    {
        notes.push(
            "- F1, sensitivity and specificity take class index 1 as the positive class.".into(),
        );
    }
    notes
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
            micro_batch: r.scores.micro_batch,
            accumulation: r.scores.accumulation,
            head: r.head.as_deref(),
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
            micro_batch: Some(64),
            accumulation: 1,
            epochs: 10,
            epochs_trained: Some(10),
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
                head: None,
                init: None,
                strands: None,
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

    #[test]
    fn a_subset_of_a_published_data_set_gets_the_figure_as_context_without_delta() {
        let run = |n: f64| {
            let mut s = scores(0, 0.0);
            s.task = "gb/human_enhancers_ensembl".into();
            s.metrics = vec!["accuracy".into()];
            let test = s.splits.get_mut("test").unwrap();
            test.insert("accuracy".into(), 0.70);
            test.insert("n".into(), n);
            vec![RunScores {
                dir: PathBuf::from("r"),
                scores: s,
                head: None,
                init: None,
                strands: None,
            }]
        };
        // GB's real records on three chromosomes: 1,524 of the 30,970 published test records.
        let subset = run(1524.0);
        let r = &rows(&subset)[0];
        assert_eq!(r.published_records, Some((30970, 1524)));
        assert_eq!(r.delta, None);
        let md = markdown(&subset).unwrap();
        assert!(
            md.contains("0.69 (GB CNN; full data set: 30970 test records, ours 1524)")
                && md.contains("another data set than ours"),
            "{md}"
        );
        // The whole published test split: a baseline, with Δ.
        let full = run(30970.0);
        let r = &rows(&full)[0];
        assert_eq!(r.published_records, None);
        assert!((r.delta.unwrap() - (0.70 - 0.688828)).abs() < 1e-9);
    }

    #[test]
    fn guanine_dev_scores_show_test_figures_without_delta_and_subtask_rows() {
        let mut s = scores(0, 0.0);
        s.task = "guanine/ccre_propensity".into();
        s.metrics = vec!["spearman100".into()];
        s.eval_split = "valid".into();
        let mut dev = BTreeMap::new();
        dev.insert("spearman100".to_string(), 27.5);
        dev.insert("spearman100:CTCF".to_string(), 30.0);
        s.splits = BTreeMap::from([("valid".to_string(), dev)]);
        let runs = vec![RunScores {
            dir: PathBuf::from("g"),
            scores: s,
            head: Some("text_to_text".into()),
            init: None,
            strands: None,
        }];
        let rows = rows(&runs);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].published_split.as_deref(), Some("test"));
        assert!(rows[0].published.is_some() && rows[0].delta.is_none());
        assert_eq!(rows[1].metric, "spearman100:CTCF");
        let md = markdown(&runs).unwrap();
        assert!(
            md.contains("| guanine/ccre_propensity | cnn-gb | nucleotide | text_to_text | valid | spearman100 | 27.5000 (n=1) |"),
            "{md}"
        );
        assert!(md.contains("test split) | — |"), "{md}");
        assert!(md.contains("expectation"), "{md}");
    }

    #[test]
    fn keep_metrics_filters_rows_and_keeps_subtask_rows_of_kept_metrics() {
        let mut s = scores(0, 0.5);
        s.metrics = vec!["mcc".into(), "accuracy".into(), "spearman100".into()];
        let test = s.splits.get_mut("test").unwrap();
        test.insert("accuracy".into(), 0.9);
        test.insert("spearman100".into(), 20.0);
        test.insert("spearman100:CTCF".into(), 21.0);
        let run = |s: Scores| RunScores {
            dir: PathBuf::from("k"),
            scores: s,
            head: None,
            init: None,
            strands: None,
        };
        let metrics = |runs: &[RunScores]| -> Vec<String> {
            rows(runs).into_iter().map(|r| r.metric).collect()
        };
        let mut runs = vec![run(s.clone())];
        assert_eq!(metrics(&runs).len(), 4);
        keep_metrics(&mut runs, &["accuracy".into()]).unwrap();
        assert_eq!(metrics(&runs), ["accuracy"]);
        let mut runs = vec![run(s.clone())];
        keep_metrics(&mut runs, &["spearman100".into(), "mcc".into()]).unwrap();
        assert_eq!(metrics(&runs), ["mcc", "spearman100", "spearman100:CTCF"]);
        let e = keep_metrics(&mut [run(s)], &["auprc".into()]).unwrap_err();
        assert!(
            e.to_string().contains("auprc") && e.to_string().contains("mcc"),
            "{e}"
        );
    }
}
