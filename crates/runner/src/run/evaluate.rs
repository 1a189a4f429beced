//! `strand eval`: reload a run's config, model and best weights, re-score one split and rewrite
//! that split's entry in `scores.json`.

use crate::config::RunConfig;
use crate::config::model_preset::ModelSpec;
use crate::engine::backend::{self, Precision};
use crate::run::model::{self, Weights};
use crate::run::run_dir::{self, RunDir};
use crate::run::task_data::{SplitEvaluation, TaskData};
use anyhow::{Context, Result, bail};
use burn::module::Module;
use std::collections::BTreeMap;
use std::path::Path;
use strand_data::Split;

/// Re-scores `split` of the run in `dir` (on both strands with `rc_average`, or when the run was
/// trained with it) and stores it in its `scores.json`; writes the predictions file
/// ([`crate::run::predictions`]) when `predictions` is set or the split has no labels.
pub fn evaluate_run(
    dir: &Path,
    split: Split,
    data_dir: Option<&Path>,
    reference: Option<&Path>,
    device: Option<String>,
    predictions: bool,
    rc_average: bool,
) -> Result<BTreeMap<String, f64>> {
    let run = RunDir::existing(dir)?;
    // A run of a strand built on burn 0.21 (its `model.mpk`) fails here, before the data is read.
    crate::engine::checkpoint::refuse_old_format(&run.path(run_dir::WEIGHTS))?;
    let mut scores = run
        .read_scores()
        .with_context(|| format!("{} is not a finished run", dir.display()))?;
    let mut cfg = RunConfig::load(&run.path(run_dir::CONFIG))?;
    if let Some(r) = reference {
        cfg.reference = Some(std::path::absolute(r)?);
    }
    if let Some(d) = data_dir {
        cfg.data_dir = Some(std::path::absolute(d)?);
    }
    if let Some(d) = device {
        cfg.device = d;
    }
    // A run trained with --rc-average is always scored on both strands; scores on both strands
    // of a run that was not are printed, not stored (scores.json describes the run as trained).
    let store = cfg.rc_average || !rc_average;
    cfg.rc_average |= rc_average;
    let spec_path = run.path(run_dir::MODEL_SPEC);
    let spec: ModelSpec = serde_json::from_str(
        &std::fs::read_to_string(&spec_path)
            .with_context(|| format!("reading {}", spec_path.display()))?,
    )
    .with_context(|| format!("{} is not a valid model spec", spec_path.display()))?;
    let mut data = TaskData::open(&cfg)?;
    if data.objective != spec.task_objective() {
        bail!(
            "the model in {} was built for {:?}, but task {} needs {:?}",
            dir.display(),
            spec.task_objective(),
            cfg.task,
            data.objective
        );
    }
    if let Some(bins) = spec.bins() {
        data = data.with_bins(bins.clone());
    }
    data.objective = spec.objective();
    let device = backend::device(&cfg.device, Precision::F32)?;
    let ev = score(&spec, &data, &run, split, cfg.batch_size, &device)?;
    let metrics = ev.metrics.clone();
    let unlabelled = ev.truth.iter().all(|l| *l == strand_data::Label::None);
    if predictions || unlabelled {
        let values = crate::run::predictions::point_values(&ev.preds, &data.card.labels)?;
        let ids = data
            .source
            .records(split)?
            .map(|r| r.map(|r| r.id))
            .collect::<strand_data::Result<Vec<String>>>()?;
        let path = crate::run::predictions::write(
            &run.path(&crate::run::predictions::file_name(split)),
            &ids,
            &values,
        )?;
        eprintln!("predictions: {} ({} records)", path.display(), ids.len());
    }
    if store {
        crate::run::fit::write_outputs(&data, &run, split, &ev)?;
        scores
            .splits
            .insert(split.as_str().to_string(), metrics.clone());
        run.write_scores(&scores)?;
    } else {
        eprintln!(
            "--rc-average: scores on both strands are printed, not stored in scores.json (the \
             run was trained without --rc-average)"
        );
    }
    Ok(metrics)
}

/// Scores the run's saved weights (`model.bpk`) on `split`, on `device` (without autodiff).
fn score(
    spec: &ModelSpec,
    data: &TaskData,
    run: &RunDir,
    split: Split,
    batch_size: usize,
    device: &burn::tensor::Device,
) -> Result<SplitEvaluation> {
    let weights = run.path(run_dir::WEIGHTS);
    let model = model::build(spec, Weights::Saved(&weights), device)?;
    data.evaluate_full(
        &model.valid(),
        split,
        spec.input_format(),
        batch_size,
        device,
    )
}
