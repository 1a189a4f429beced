//! `strand train`: resolve the experiment, then for each (seed, fold) run: open the task, size
//! the model, train with per-epoch validation keeping the best-on-valid weights, score valid and
//! test, write the run directory.

use crate::config::model_preset::{ModelPreset, ModelSpec};
use crate::config::{ExperimentConfig, RunConfig};
use crate::engine::backend::{self, Precision};
use crate::engine::trainer::Trainer;
use crate::run::fit::{self, FitJob};
use crate::run::model::{self, AnyModel, Weights};
use crate::run::run_dir::{self, RunDir, Scores};
use crate::run::task_data::TaskData;
use anyhow::{Result, bail};
use burn::tensor::Device;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Trains the experiment `exp` (every seed and fold) into `exp.out` (default
/// `runs/<task>-<model>`); returns the run directories. `--resume` with no run flags (only the
/// output and data directories) continues every run recorded under the output directory from
/// its own `config.resolved.toml`.
pub fn train(exp: &ExperimentConfig, opts: TrainOptions) -> Result<Vec<PathBuf>> {
    let out = match &exp.out {
        Some(o) => o.clone(),
        None => default_out(exp),
    };
    // `--data-dir` may come from STRAND_DATA_DIR; the recorded config has its own.
    let bare = ExperimentConfig {
        out: exp.out.clone(),
        data_dir: exp.data_dir.clone(),
        ..Default::default()
    };
    if opts.resume && *exp == bare {
        resume_recorded(&out, opts)
    } else {
        train_runs(exp, &out, opts)
    }
}

/// `runs/<task>-<model>` with the spec made file-name safe.
fn default_out(exp: &ExperimentConfig) -> PathBuf {
    use strand_data::paths::escaped;
    let task = exp.task.as_deref().unwrap_or("task");
    let model = exp.model.as_deref().unwrap_or(crate::config::DEFAULT_MODEL);
    let name: String = format!("{}-{}", escaped(task), escaped(model))
        .chars()
        .take(120)
        .collect();
    PathBuf::from("runs").join(name)
}

/// How [`train_runs`] treats existing run directories and non-finite losses.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrainOptions {
    /// Replace finished or non-empty run directories.
    pub overwrite: bool,
    /// Continue each run from its last checkpoint (finished runs are kept as they are; runs
    /// without a checkpoint start from scratch).
    pub resume: bool,
    /// Skip batches with a non-finite loss instead of stopping.
    pub skip_nonfinite: bool,
    /// Fault injection for tests: the loss of this batch of each run (1-based) is made NaN.
    pub poison_batch: Option<u64>,
}

/// Runs every (seed, fold) of `exp` under `out`; returns the run directories.
pub fn train_runs(exp: &ExperimentConfig, out: &Path, opts: TrainOptions) -> Result<Vec<PathBuf>> {
    train_each(exp.expand(out)?, opts)
}

/// [`train_one`] for each `(config, directory)` in order; returns the run directories.
fn train_each(runs: Vec<(RunConfig, PathBuf)>, opts: TrainOptions) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::with_capacity(runs.len());
    for (i, (cfg, dir)) in runs.iter().enumerate() {
        if runs.len() > 1 {
            tracing::info!("run {}/{}: {}", i + 1, runs.len(), dir.display());
        }
        train_one(cfg, dir, opts)?;
        dirs.push(dir.clone());
    }
    Ok(dirs)
}

/// `strand train --resume --out DIR` with no other run flags: every run under `DIR` (`DIR`
/// itself, or its `seed-*/` and `fold-*/` runs, two levels deep) continues from its own
/// `config.resolved.toml`.
fn resume_recorded(out: &Path, opts: TrainOptions) -> Result<Vec<PathBuf>> {
    let runs = recorded_runs(out)?
        .into_iter()
        .map(|dir| Ok((RunConfig::load(&dir.join(run_dir::CONFIG))?, dir)))
        .collect::<Result<Vec<_>>>()?;
    train_each(runs, opts)
}

/// Run directories (holding `config.resolved.toml`) at `out` or up to two levels below, sorted.
fn recorded_runs(out: &Path) -> Result<Vec<PathBuf>> {
    if out.join(run_dir::CONFIG).is_file() {
        return Ok(vec![out.to_path_buf()]);
    }
    let subdirs = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        v
    };
    let mut runs = Vec::new();
    for a in subdirs(out) {
        if a.join(run_dir::CONFIG).is_file() {
            runs.push(a);
        } else {
            runs.extend(
                subdirs(&a)
                    .into_iter()
                    .filter(|b| b.join(run_dir::CONFIG).is_file()),
            );
        }
    }
    if runs.is_empty() {
        bail!(
            "--resume: no run under {} (no {} there or in its seed-*/fold-* directories); give \
             the task and flags that start it",
            out.display(),
            run_dir::CONFIG
        );
    }
    Ok(runs)
}

/// One run into `dir`. Everything that can be checked before training (task, files, model
/// preset, tokenizer, sizes) is checked before `dir` is touched.
pub fn train_one(cfg: &RunConfig, dir: &Path, opts: TrainOptions) -> Result<Scores> {
    let preset = ModelPreset::load(&cfg.model)?;
    let data = TaskData::open(cfg)?;
    let scan = data.scan_train()?;
    let (spec, data) = crate::run::t5::build_spec(cfg, &preset, data, &scan)?;
    crate::run::model::check_size(&spec, &scan)?;
    data.check_eval_splits()?;
    if cfg.patience.is_some() && !data.has_valid() {
        bail!(
            "task {}: --patience needs a validation split, and [split] valid_frac = 0 asks for \
             none (the last epoch is kept)",
            data.card.name
        );
    }
    tracing::info!(
        "task {} (version {}): {} training records {:?}, longest {} tokens; model {}",
        data.card.name,
        data.card.version,
        scan.records,
        scan.per_class,
        scan.max_tokens,
        preset.name()
    );
    // The device and the initial model (with its `--init` weights) before the directory: a
    // `--device cuda` this build cannot run, or a damaged checkpoint, leaves nothing behind.
    let device = backend::train_device(&cfg.device, Precision::F32)?;
    let trainer = trainer(cfg, &spec, device)?;
    let resume = if opts.resume {
        if dir.join(run_dir::SCORES).is_file() {
            fit::check_same_config(dir, cfg)?;
            tracing::info!("{} is finished: nothing to resume", dir.display());
            return RunDir::existing(dir)?.read_scores();
        }
        fit::resumable(dir, cfg)?
    } else {
        None
    };
    let run = match &resume {
        Some(_) => RunDir::existing(dir)?,
        None => {
            // --resume of a run killed before its first checkpoint starts it again.
            let restart = opts.resume && dir.join(run_dir::CONFIG).is_file();
            let run = RunDir::create(dir, opts.overwrite || restart)?;
            run.write_atomic(run_dir::CONFIG, cfg.to_toml()?.as_bytes())?;
            run.write_atomic(
                run_dir::MODEL_SPEC,
                serde_json::to_string_pretty(&spec)?.as_bytes(),
            )?;
            run
        }
    };
    let started = Instant::now();
    let scores = FitJob {
        cfg,
        spec: &spec,
        data: &data,
        scan: &scan,
        run: &run,
        resume,
        skip_nonfinite: opts.skip_nonfinite,
        poison_batch: opts.poison_batch,
    }
    .fit(trainer)?;
    run.write_scores(&scores)?;
    tracing::info!(
        "finished {} in {:.1} s: {}",
        dir.display(),
        started.elapsed().as_secs_f64(),
        summary(&scores)
    );
    Ok(scores)
}

fn summary(s: &Scores) -> String {
    let Some(m) = s.splits.get(&s.eval_split) else {
        return String::new();
    };
    s.metrics
        .iter()
        .filter_map(|k| m.get(k).map(|v| format!("{k} {v:.4}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A freshly built model of `spec` (initialised from the run's seed, or from its `--init`
/// checkpoint) with Adam, on `device` (with autodiff).
fn trainer(cfg: &RunConfig, spec: &ModelSpec, device: Device) -> Result<Trainer<AnyModel>> {
    device.seed(cfg.seed);
    let pretrained = cfg.init.as_deref();
    let model = model::build(spec, Weights::Init { pretrained }, &device)?;
    let mut t = Trainer::new(
        model,
        crate::engine::trainer::adam().init(),
        spec.objective(),
        cfg.lr,
        cfg.seed,
        device,
    );
    t.micro_batch = cfg.micro_batch;
    Ok(t)
}

#[cfg(test)]
mod resume_tests {
    use super::*;

    #[test]
    fn recorded_runs_are_the_directory_or_its_seed_and_fold_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let e = recorded_runs(root).unwrap_err().to_string();
        assert!(e.contains("no run under"), "{e}");
        for d in ["seed-1", "seed-0/fold-1", "seed-0/fold-0", "notes"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for d in ["seed-1", "seed-0/fold-1", "seed-0/fold-0"] {
            std::fs::write(root.join(d).join(run_dir::CONFIG), "").unwrap();
        }
        let want: Vec<PathBuf> = ["seed-0/fold-0", "seed-0/fold-1", "seed-1"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        assert_eq!(recorded_runs(root).unwrap(), want);
        assert_eq!(
            recorded_runs(&root.join("seed-1")).unwrap(),
            [root.join("seed-1")]
        );
    }
}
