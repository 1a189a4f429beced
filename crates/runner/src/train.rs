//! `strand train`: resolve the experiment, then for each (seed, fold) run: open the task, size
//! the model, train with per-epoch validation keeping the best-on-valid weights, score valid and
//! test, write the run directory.

use crate::backend::{self, WithBackend};
use crate::batch::batches;
use crate::cli::TrainArgs;
use crate::config::{ExperimentConfig, RunConfig};
use crate::model_preset::{DataFacts, ModelPreset, ModelSpec};
use crate::progress;
use crate::report;
use crate::run_dir::{self, RunDir, Scores};
use crate::task_data::{TaskData, TrainScan};
use crate::trainer::Trainer;
use anyhow::{Context, Result, bail};
use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, Optimizer};
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::backend::AutodiffBackend;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strand_data::Split;
use strand_data::stream::{Prefetch, ShuffleBuffer};
use strand_model::Tokenizer;
use strand_model::classifier::SequenceModel;

/// The recorder for weights: burn's named MessagePack, full precision.
pub fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::<FullPrecisionSettings>::new()
}

pub fn run(args: TrainArgs) -> Result<()> {
    if args.resume {
        bail!("--resume is not available yet: checkpoints arrive with crash-safe training");
    }
    if args.init.is_some() {
        bail!("--init (pretrained checkpoints) is not available for this model yet");
    }
    if args.precision.as_deref().is_some_and(|p| p != "f32") {
        bail!("--precision: only f32 is available");
    }
    let exp = ExperimentConfig::from_args(&args)?;
    let out = match &exp.out {
        Some(o) => o.clone(),
        None => default_out(&exp),
    };
    let runs = train_runs(&exp, &out, args.overwrite)?;
    let table = report::markdown(&report::collect(&runs)?)?;
    println!("{table}");
    Ok(())
}

/// `runs/<task>-<model>` with the spec made file-name safe.
fn default_out(exp: &ExperimentConfig) -> PathBuf {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect()
    };
    let task = exp.task.as_deref().unwrap_or("task");
    let model = exp.model.as_deref().unwrap_or(crate::config::DEFAULT_MODEL);
    PathBuf::from("runs").join(format!("{}-{}", safe(task), safe(model)))
}

/// Runs every (seed, fold) of `exp` under `out`; returns the run directories.
pub fn train_runs(exp: &ExperimentConfig, out: &Path, overwrite: bool) -> Result<Vec<PathBuf>> {
    let runs = exp.expand(out)?;
    let mut dirs = Vec::with_capacity(runs.len());
    for (i, (cfg, dir)) in runs.iter().enumerate() {
        if runs.len() > 1 {
            tracing::info!("run {}/{}: {}", i + 1, runs.len(), dir.display());
        }
        train_one(cfg, dir, overwrite)?;
        dirs.push(dir.clone());
    }
    Ok(dirs)
}

/// One run into `dir`. Everything that can be checked before training (task, files, model
/// preset, tokenizer, sizes) is checked before `dir` is touched.
pub fn train_one(cfg: &RunConfig, dir: &Path, overwrite: bool) -> Result<Scores> {
    let preset = ModelPreset::load(&cfg.model)?;
    let data = TaskData::open(cfg)?;
    let scan = data.scan_train()?;
    let spec = preset.build(
        DataFacts {
            vocab_size: data.tokenizer.vocab_size(),
            max_train_tokens: scan.max_tokens,
        },
        data.objective,
    )?;
    tracing::info!(
        "task {} (version {}): {} training records {:?}, longest {} tokens; model {}",
        data.card.name,
        data.card.version,
        scan.records,
        scan.per_class,
        scan.max_tokens,
        preset.name()
    );
    let run = RunDir::create(dir, overwrite)?;
    run.write_atomic(run_dir::CONFIG, cfg.to_toml()?.as_bytes())?;
    run.write_atomic(
        run_dir::MODEL_SPEC,
        serde_json::to_string_pretty(&spec)?.as_bytes(),
    )?;
    let started = Instant::now();
    let scores = backend::dispatch(
        &cfg.device,
        TrainJob {
            cfg,
            spec: &spec,
            data: &data,
            scan: &scan,
            run: &run,
        },
    )?;
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

struct TrainJob<'a> {
    cfg: &'a RunConfig,
    spec: &'a ModelSpec,
    data: &'a TaskData,
    scan: &'a TrainScan,
    run: &'a RunDir,
}

impl WithBackend for TrainJob<'_> {
    type Output = Scores;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Scores> {
        B::seed(&device, self.cfg.seed);
        match self.spec {
            ModelSpec::Cnn { config, .. } => {
                let model = config.init::<B>(&device);
                let optim = AdamConfig::new().init();
                self.fit(Trainer::new(
                    model,
                    optim,
                    self.spec.objective(),
                    self.cfg.lr,
                    self.cfg.seed,
                    device,
                ))
            }
        }
    }
}

impl TrainJob<'_> {
    /// The epochs, with validation and best-weight keeping, then the final scores.
    fn fit<B, M, O>(&self, mut t: Trainer<B, M, O>) -> Result<Scores>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B> + SequenceModel<B>,
        M::InnerModule: SequenceModel<B::InnerBackend>,
        O: Optimizer<M, B>,
    {
        let cfg = self.cfg;
        let format = self.spec.input_format();
        let selection = self.data.card.official_metric();
        let weights = self.run.path(run_dir::WEIGHTS);
        let steps_per_epoch = self.scan.records.div_ceil(cfg.batch_size) as u64;
        for epoch in 1..=cfg.epochs {
            let started = Instant::now();
            let records = self.data.source.records(Split::Train)?;
            let shuffled =
                ShuffleBuffer::new(records, cfg.shuffle_buffer, t.state.shuffle_seed(epoch));
            let stream = Prefetch::new(
                batches(
                    shuffled,
                    self.data.tokenizer.clone(),
                    format,
                    cfg.batch_size,
                ),
                4,
            );
            let bar = progress::bar(
                Some(steps_per_epoch),
                format!("epoch {epoch}/{}", cfg.epochs),
            );
            let train_loss = t.train_epoch(stream, &bar)?;
            bar.finish_and_clear();
            let valid = self.data.evaluate(
                &t.model.valid(),
                Split::Valid,
                format,
                cfg.batch_size,
                &t.device,
            )?;
            // Select on the official metric; fall back to the negated loss where it is missing.
            let value = valid
                .get(selection.as_str())
                .copied()
                .filter(|v| !v.is_nan())
                .unwrap_or(-valid["loss"]);
            let improved = t.state.offer(epoch, value);
            if improved {
                // The recorder warns when it replaces a file; the old best is simply superseded.
                let _ = std::fs::remove_file(weights.with_extension("mpk"));
                t.model
                    .clone()
                    .save_file(weights.clone(), &recorder())
                    .with_context(|| format!("saving weights to {}", weights.display()))?;
            }
            let seconds = started.elapsed().as_secs_f64();
            self.run.append_metrics(&serde_json::json!({
                "epoch": epoch,
                "step": t.state.step,
                "train_loss": train_loss,
                "valid": valid,
                "best": improved,
                "seconds": seconds,
            }))?;
            tracing::info!(
                "epoch {epoch}/{}: train loss {train_loss:.4}, valid loss {:.4}, valid {} {:.4}{} ({seconds:.1} s)",
                cfg.epochs,
                valid["loss"],
                selection.as_str(),
                valid.get(selection.as_str()).copied().unwrap_or(f64::NAN),
                if improved { " *" } else { "" },
            );
        }
        let (best_epoch, _) = t.state.best.context("no epoch was trained")?;
        let best = t
            .model
            .clone()
            .load_file(weights.clone(), &recorder(), &t.device)
            .with_context(|| format!("reloading best weights {}", weights.display()))?
            .valid();
        let mut splits = BTreeMap::new();
        for split in [Split::Valid, Split::Test] {
            let m = self
                .data
                .evaluate(&best, split, format, cfg.batch_size, &t.device)?;
            splits.insert(split.as_str().to_string(), m);
        }
        Ok(Scores {
            strand_version: env!("CARGO_PKG_VERSION").into(),
            task: self.data.card.name.clone(),
            data_version: self.data.card.version.clone(),
            model: self.spec.name().into(),
            tokenizer: cfg.tokenizer.clone(),
            seed: cfg.seed,
            split_seed: cfg.split.seed,
            fold: cfg.split.fold,
            global_batch: cfg.batch_size,
            epochs: cfg.epochs,
            best_epoch,
            selection_metric: selection.as_str().into(),
            metrics: self
                .data
                .card
                .metrics
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            eval_split: self.data.card.eval_split.as_str().into(),
            config: run_dir::CONFIG.into(),
            splits,
        })
    }
}
