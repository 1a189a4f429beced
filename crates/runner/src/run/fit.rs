//! The crash-safe training loop of `strand train`: epochs of seeded shuffled batches, a line per
//! step in `metrics.jsonl`, validation and best-weight keeping at each epoch end, checkpoints
//! every `checkpoint_every` steps and after each epoch (see [`crate::run::checkpoint`]),
//! `--resume` from the last one, non-finite losses (stop, or skip with `--skip-nonfinite`) and
//! Ctrl-C (checkpoint, then exit 130).
//!
//! A run killed at any point and resumed gives the same per-step losses and the same final
//! scores as an uninterrupted one (CPU, fixed seed): weights and optimizer state are restored
//! bit for bit, the epoch's shuffle is replayed and fast-forwarded past the consumed batches, and
//! the backend is re-seeded from `(seed, step)` before every step.

use crate::config::RunConfig;
use crate::config::model_preset::ModelSpec;
use crate::engine::batch::batches;
use crate::engine::checkpoint::recorder;
use crate::engine::interrupt;
use crate::engine::log::{EpochLine, StepLine};
use crate::engine::progress;
use crate::engine::trainer::{StepOutcome, Trainer};
use crate::run::checkpoint::{self as ckpt, Best, CheckpointState};
use crate::run::run_dir::{self, RunDir, Scores};
use crate::run::task_data::{TaskData, TrainScan};
use anyhow::{Context, Result, bail};
use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use burn::tensor::backend::AutodiffBackend;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strand_data::Split;
use strand_data::stream::{Prefetch, ShuffleBuffer};
use strand_model::classifier::SequenceModel;

/// One run's training.
pub struct FitJob<'a> {
    pub cfg: &'a RunConfig,
    pub spec: &'a ModelSpec,
    pub data: &'a TaskData,
    pub scan: &'a TrainScan,
    pub run: &'a RunDir,
    /// The checkpoint to continue from.
    pub resume: Option<PathBuf>,
    pub skip_nonfinite: bool,
    /// Fault injection for tests: the loss of this batch of the run (1-based, counting skipped
    /// batches) is made NaN.
    pub poison_batch: Option<u64>,
}

impl FitJob<'_> {
    /// Trains `t` (freshly initialised) to the end, or from the checkpoint in `resume`, and
    /// scores the best-on-valid weights.
    pub fn fit<B, M, O>(&self, mut t: Trainer<B, M, O>) -> Result<Scores>
    where
        B: AutodiffBackend,
        M: AutodiffModule<B> + SequenceModel<B>,
        M::InnerModule: SequenceModel<B::InnerBackend>,
        O: Optimizer<M, B>,
    {
        let cfg = self.cfg;
        let format = self.spec.input_format();
        let selection = self.data.card.official_metric();
        let metrics_path = self.run.path(run_dir::METRICS);
        let ckpt_root = ckpt::dir(self.run);
        let mut st = match &self.resume {
            Some(dir) => {
                let st = ckpt::read_state(dir)?;
                st.check_fits(dir, self.spec, &cfg.tokenizer, &cfg.task)?;
                let (model, optim) = ckpt::load(dir, t.model, t.optim, &t.device)?;
                t.model = model;
                t.optim = optim;
                t.state.step = st.step;
                t.state.epoch = st.epoch;
                t.state.best = st
                    .best
                    .as_ref()
                    .map(|b| (b.epoch, f64::from_bits(b.value_bits)));
                ckpt::truncate_metrics(&metrics_path, st.metrics_bytes)?;
                tracing::info!(
                    "resuming from {} (epoch {}, step {}, {} batches into epoch {})",
                    dir.display(),
                    st.epoch,
                    st.step,
                    st.batches_in_epoch,
                    st.epoch + 1
                );
                st
            }
            None => CheckpointState::fresh(
                cfg.seed,
                self.spec.clone(),
                cfg.tokenizer.clone(),
                cfg.task.clone(),
            ),
        };
        let every = cfg.checkpoint_every;
        let full_epoch = self.scan.records.div_ceil(cfg.batch_size) as u64;
        let steps_per_epoch = cfg.epoch_steps.map_or(full_epoch, |n| n.min(full_epoch));
        t.schedule = cfg
            .lr_schedule
            .map(|s| s.with(cfg.lr, cfg.epochs * steps_per_epoch as usize));
        t.clip_grad_norm = cfg.clip_grad_norm;
        let save = |t: &Trainer<B, M, O>, st: &mut CheckpointState| -> Result<PathBuf> {
            st.step = t.state.step;
            st.metrics_bytes = ckpt::synced_len(&metrics_path)?;
            ckpt::save(self.run, st, &t.model, &t.optim)
        };
        let mut last_ckpt: Option<PathBuf> = self.resume.clone();
        for epoch in st.epoch + 1..=cfg.epochs {
            let started = Instant::now();
            let records = self.data.source.records(Split::Train)?;
            let shuffled =
                ShuffleBuffer::new(records, cfg.shuffle_buffer, t.state.shuffle_seed(epoch));
            // Replay the epoch's shuffle and skip the batches a resumed run already consumed.
            let skip = st.batches_in_epoch as usize * cfg.batch_size;
            let stream = Prefetch::new(
                batches(
                    shuffled.skip(skip),
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
            bar.set_position(st.batches_in_epoch);
            for batch in stream {
                if st.batches_in_epoch >= steps_per_epoch {
                    break;
                }
                let batch = batch?;
                let poison = self.poison_batch == Some(st.batches_total + 1);
                B::seed(&t.device, ckpt::step_seed(cfg.seed, t.state.step + 1));
                let outcome = t.step(&batch, poison)?;
                st.batches_in_epoch += 1;
                st.batches_total += 1;
                let trained = match outcome {
                    StepOutcome::Trained(loss) => {
                        let sum = f64::from_bits(st.epoch_loss_sum_bits) + loss * batch.rows as f64;
                        st.epoch_loss_sum_bits = sum.to_bits();
                        st.epoch_rows += batch.rows as u64;
                        self.run.append_metrics(&StepLine {
                            step: t.state.step,
                            epoch: Some(epoch),
                            batch: Some(st.batches_in_epoch),
                            loss: Some(loss),
                            lr: t.schedule.map(|_| t.last_lr),
                            grad_norm: t.last_grad_norm,
                            ..Default::default()
                        })?;
                        bar.set_prefix(format!("loss {:.4}", sum / st.epoch_rows.max(1) as f64));
                        true
                    }
                    StepOutcome::NonFinite(value) => {
                        let at = format!(
                            "step {} (epoch {epoch}, batch {})",
                            t.state.step + 1,
                            st.batches_in_epoch
                        );
                        if !self.skip_nonfinite {
                            let kept = match &last_ckpt {
                                Some(p) => format!("the last good checkpoint is {}", p.display()),
                                None => "no checkpoint was written yet".into(),
                            };
                            bail!(
                                "the loss is not finite ({value}) at {at}; training stopped and \
                                 {kept}. Lower --lr, check the data, or pass --skip-nonfinite \
                                 to skip such batches"
                            );
                        }
                        st.skipped_total += 1;
                        st.skipped_in_epoch += 1;
                        tracing::warn!("skipped a batch with a non-finite loss ({value}) at {at}");
                        self.run.append_metrics(&StepLine {
                            step: t.state.step,
                            epoch: Some(epoch),
                            batch: Some(st.batches_in_epoch),
                            loss: None,
                            skipped: Some(true),
                            skipped_total: Some(st.skipped_total),
                            ..Default::default()
                        })?;
                        false
                    }
                };
                bar.inc(1);
                if interrupt::requested() {
                    bar.finish_and_clear();
                    let p = save(&t, &mut st)?;
                    return Err(interrupt::Interrupted {
                        step: t.state.step,
                        checkpoint: p.display().to_string(),
                        resume: interrupt::resume_command(),
                    }
                    .into());
                }
                if trained && every > 0 && t.state.step.is_multiple_of(every) {
                    last_ckpt = Some(save(&t, &mut st)?);
                }
            }
            bar.finish_and_clear();
            if st.epoch_rows == 0 {
                bail!(
                    "epoch {epoch} trained on no batch: every batch had a non-finite loss \
                     ({} skipped)",
                    st.skipped_in_epoch
                );
            }
            let train_loss = f64::from_bits(st.epoch_loss_sum_bits) / st.epoch_rows as f64;
            t.state.epoch = epoch;
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
                let name = format!("best-epoch-{epoch}.mpk");
                ckpt::save_weights(&t.model, &ckpt_root.join(&name))?;
                st.best = Some(Best {
                    epoch,
                    value_bits: value.to_bits(),
                    weights: name,
                });
            }
            let seconds = started.elapsed().as_secs_f64();
            self.run.append_metrics(&EpochLine {
                epoch,
                step: t.state.step,
                train_loss,
                valid: valid.clone(),
                best: improved,
                skipped: st.skipped_in_epoch,
                seconds,
            })?;
            tracing::info!(
                "epoch {epoch}/{}: train loss {train_loss:.4}, valid loss {:.4}, valid {} {:.4}{} ({seconds:.1} s)",
                cfg.epochs,
                valid["loss"],
                selection.as_str(),
                valid.get(selection.as_str()).copied().unwrap_or(f64::NAN),
                if improved { " *" } else { "" },
            );
            st.epoch = epoch;
            st.batches_in_epoch = 0;
            st.epoch_loss_sum_bits = 0f64.to_bits();
            st.epoch_rows = 0;
            st.skipped_in_epoch = 0;
            let p = save(&t, &mut st)?;
            if interrupt::requested() && epoch < cfg.epochs {
                return Err(interrupt::Interrupted {
                    step: t.state.step,
                    checkpoint: p.display().to_string(),
                    resume: interrupt::resume_command(),
                }
                .into());
            }
            last_ckpt = Some(p);
            if let (Some(patience), Some(b)) = (cfg.patience, &st.best)
                && epoch < cfg.epochs
                && epoch - b.epoch >= patience
            {
                tracing::info!(
                    "early stop after epoch {epoch}: valid {} not better than epoch {}'s for \
                     {patience} epochs",
                    selection.as_str(),
                    b.epoch
                );
                break;
            }
        }
        let best = st.best.as_ref().context("no epoch was trained")?;
        let best_file = ckpt_root.join(&best.weights);
        let model = t
            .model
            .clone()
            .load_file(best_file.clone(), &recorder(), &t.device)
            .with_context(|| format!("reloading best weights {}", best_file.display()))?;
        // The run's own copy of the best weights, for `strand eval`.
        ckpt::save_weights(
            &model,
            &self.run.path(run_dir::WEIGHTS).with_extension("mpk"),
        )?;
        let model = model.valid();
        let mut splits = BTreeMap::new();
        for split in [Split::Valid, Split::Test] {
            let m = self
                .data
                .evaluate(&model, split, format, cfg.batch_size, &t.device)?;
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
            micro_batch: Some(cfg.micro_batch.unwrap_or(cfg.batch_size)),
            accumulation: crate::engine::accumulate::steps(cfg.batch_size, cfg.micro_batch)?,
            epochs: cfg.epochs,
            epochs_trained: Some(st.epoch),
            best_epoch: best.epoch,
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

/// Whether `dir` holds a run that `--resume` can continue, and from which checkpoint: `Ok(None)`
/// when there is nothing to resume (the run starts from scratch).
pub fn resumable(dir: &Path, cfg: &RunConfig) -> Result<Option<PathBuf>> {
    let cfg_path = dir.join(run_dir::CONFIG);
    if !cfg_path.is_file() {
        return Ok(None);
    }
    let stored = RunConfig::load(&cfg_path)?;
    let comparable = |c: &RunConfig| {
        let mut c = c.clone();
        c.device = String::new();
        c.strand_version = String::new();
        c.checkpoint_every = 0;
        c
    };
    if comparable(&stored) != comparable(cfg) {
        bail!(
            "--resume: {} was started with another configuration; rerun the command that \
             started it with --resume.\n  stored:    {}\n  requested: {}",
            dir.display(),
            stored.to_toml()?.replace('\n', " "),
            cfg.to_toml()?.replace('\n', " ")
        );
    }
    let run = RunDir {
        root: dir.to_path_buf(),
    };
    ckpt::latest(&run)
}
