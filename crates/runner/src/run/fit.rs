//! The crash-safe training loop of `strand train`: epochs of seeded shuffled batches, a line per
//! step in `metrics.jsonl`, validation and best-weight keeping at each epoch end, checkpoints
//! every `checkpoint_every` steps and after each epoch (see [`crate::run::checkpoint`]),
//! `--resume` from the last one, non-finite losses (stop, or skip with `--skip-nonfinite`) and
//! Ctrl-C (checkpoint, then exit 130).
//!
//! A run killed at any point and resumed gives the same per-step losses and the same final
//! scores as an uninterrupted one (CPU, fixed seed): weights and optimizer state are restored
//! bit for bit, the epoch's shuffle is replayed and fast-forwarded past the consumed batches, and
//! the device is re-seeded from `(seed, step)` before every step.

use crate::config::RunConfig;
use crate::config::model_preset::ModelSpec;
use crate::engine::batch::{HostBatch, batches, rc_augment};
use crate::engine::checkpoint::load_weights;
use crate::engine::interrupt;
use crate::engine::log::{EpochLine, StepLine};
use crate::engine::progress;
use crate::engine::trainer::{StepOutcome, Trainer};
use crate::run::checkpoint::{self as ckpt, Best, CheckpointState};
use crate::run::model::AnyModel;
use crate::run::run_dir::{self, RunDir, Scores};
use crate::run::task_data::{TaskData, TrainScan};
use anyhow::{Context, Result, bail};
use burn::module::Module;
use indicatif::ProgressBar;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strand_data::Split;
use strand_data::stream::{Prefetch, ShuffleBuffer};

/// Mixed into an epoch's shuffle seed for `--rc-augment`'s draws.
const RC_SEED: u64 = 0x5243_5243_5243_5243;

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
    /// Trains `t` (freshly initialised, on an autodiff device) to the end, or from the
    /// checkpoint in `resume`, and scores the best-on-valid weights.
    pub fn fit(&self, mut t: Trainer<AnyModel>) -> Result<Scores> {
        let cfg = self.cfg;
        let st = match &self.resume {
            Some(dir) => self.restore(&mut t, dir)?,
            None => CheckpointState::fresh(
                cfg.seed,
                self.spec.clone(),
                cfg.tokenizer.clone(),
                cfg.task.clone(),
            ),
        };
        let full_epoch = self.scan.records.div_ceil(cfg.batch_size) as u64;
        let steps_per_epoch = cfg.epoch_steps.map_or(full_epoch, |n| n.min(full_epoch));
        t.schedule = cfg
            .lr_schedule
            .map(|s| s.with(cfg.lr, cfg.epochs * steps_per_epoch as usize));
        t.clip_grad_norm = cfg.clip_grad_norm;
        let mut fit = Fit {
            job: self,
            t,
            st,
            steps_per_epoch,
            last_ckpt: self.resume.clone(),
        };
        for epoch in fit.st.epoch + 1..=cfg.epochs {
            let started = Instant::now();
            fit.train_epoch(epoch)?;
            if fit.end_epoch(epoch, started)? == EpochEnd::Stop {
                break;
            }
        }
        fit.finish()
    }

    /// Loads checkpoint `dir` into `t` and cuts `metrics.jsonl` back to it; returns its state.
    fn restore(&self, t: &mut Trainer<AnyModel>, dir: &Path) -> Result<CheckpointState> {
        let cfg = self.cfg;
        let st = ckpt::read_state(dir)?;
        st.check_fits(dir, self.spec, &cfg.tokenizer, &cfg.task)?;
        let (model, optim) = ckpt::load(dir, t.model.clone(), t.optim.clone())?;
        t.model = model;
        t.optim = optim;
        t.state.step = st.step;
        t.state.epoch = st.epoch;
        t.state.best = st
            .best
            .as_ref()
            .map(|b| (b.epoch, f64::from_bits(b.value_bits)));
        ckpt::truncate_metrics(&self.run.path(run_dir::METRICS), st.metrics_bytes)?;
        tracing::info!(
            "resuming from {} (epoch {}, step {}, {} batches into epoch {})",
            dir.display(),
            st.epoch,
            st.step,
            st.batches_in_epoch,
            st.epoch + 1
        );
        Ok(st)
    }
}

/// Whether training goes on after an epoch.
#[derive(Debug, PartialEq)]
enum EpochEnd {
    Continue,
    Stop,
}

/// A run in progress: the job, the trainer and the checkpointed counters.
struct Fit<'a> {
    job: &'a FitJob<'a>,
    t: Trainer<AnyModel>,
    st: CheckpointState,
    steps_per_epoch: u64,
    last_ckpt: Option<PathBuf>,
}

impl Fit<'_> {
    /// Writes a checkpoint of the current state.
    fn save(&mut self) -> Result<PathBuf> {
        self.st.step = self.t.state.step;
        self.st.metrics_bytes = ckpt::synced_len(&self.job.run.path(run_dir::METRICS))?;
        ckpt::save(self.job.run, &self.st, &self.t.model, &self.t.optim)
    }

    /// Saves a checkpoint and returns the error that stops the run with exit code 130.
    fn interrupted(&mut self) -> Result<()> {
        let p = self.save()?;
        Err(interrupt::Interrupted {
            step: self.t.state.step,
            checkpoint: p.display().to_string(),
            resume: interrupt::resume_command(),
        }
        .into())
    }

    /// The training batches of epoch `epoch`: its seeded shuffle, replayed past the batches a
    /// resumed run already consumed.
    fn train_epoch(&mut self, epoch: usize) -> Result<()> {
        let (cfg, data) = (self.job.cfg, self.job.data);
        let records = data.source.records(Split::Train)?;
        let shuffled = ShuffleBuffer::new(
            records,
            cfg.shuffle_buffer,
            self.t.state.shuffle_seed(epoch),
        );
        let skip = self.st.batches_in_epoch as usize * cfg.batch_size;
        // Off, the stream is untouched (a run without --rc-augment is bit-identical).
        let records: Box<dyn Iterator<Item = strand_data::Result<strand_data::Record>> + Send> =
            if cfg.rc_augment {
                Box::new(rc_augment(
                    shuffled,
                    self.t.state.shuffle_seed(epoch) ^ RC_SEED,
                ))
            } else {
                Box::new(shuffled)
            };
        let stream = Prefetch::new(
            batches(
                records.skip(skip),
                data.tokenizer.clone(),
                self.job.spec.input_format(),
                cfg.batch_size,
            ),
            4,
        );
        let bar = progress::bar(
            Some(self.steps_per_epoch),
            format!("epoch {epoch}/{}", cfg.epochs),
        );
        bar.set_position(self.st.batches_in_epoch);
        for batch in stream {
            if self.st.batches_in_epoch >= self.steps_per_epoch {
                break;
            }
            let trained = self.train_batch(epoch, &batch?, &bar)?;
            bar.inc(1);
            if interrupt::requested() {
                bar.finish_and_clear();
                return self.interrupted();
            }
            let every = cfg.checkpoint_every;
            if trained && every > 0 && self.t.state.step.is_multiple_of(every) {
                self.last_ckpt = Some(self.save()?);
            }
        }
        bar.finish_and_clear();
        if self.st.epoch_rows == 0 {
            bail!(
                "epoch {epoch} trained on no batch: every batch had a non-finite loss \
                 ({} skipped)",
                self.st.skipped_in_epoch
            );
        }
        Ok(())
    }

    /// One step on `batch` and its metrics line; whether it trained (a non-finite loss is an
    /// error, or with `--skip-nonfinite` a skipped batch).
    fn train_batch(&mut self, epoch: usize, batch: &HostBatch, bar: &ProgressBar) -> Result<bool> {
        let (cfg, st) = (self.job.cfg, &mut self.st);
        let poison = self.job.poison_batch == Some(st.batches_total + 1);
        self.t
            .device
            .seed(ckpt::step_seed(cfg.seed, self.t.state.step + 1));
        let outcome = self.t.step(batch, poison)?;
        st.batches_in_epoch += 1;
        st.batches_total += 1;
        let line = StepLine {
            step: self.t.state.step,
            epoch: Some(epoch),
            batch: Some(st.batches_in_epoch),
            ..Default::default()
        };
        match outcome {
            StepOutcome::Trained(loss) => {
                let sum = f64::from_bits(st.epoch_loss_sum_bits) + loss * batch.rows as f64;
                st.epoch_loss_sum_bits = sum.to_bits();
                st.epoch_rows += batch.rows as u64;
                self.job.run.append_metrics(&StepLine {
                    loss: Some(loss),
                    lr: self.t.schedule.map(|_| self.t.last_lr),
                    grad_norm: self.t.last_grad_norm,
                    ..line
                })?;
                bar.set_prefix(format!("loss {:.4}", sum / st.epoch_rows.max(1) as f64));
                Ok(true)
            }
            StepOutcome::NonFinite(value) => {
                let at = format!(
                    "step {} (epoch {epoch}, batch {})",
                    self.t.state.step + 1,
                    st.batches_in_epoch
                );
                if !self.job.skip_nonfinite {
                    let kept = match &self.last_ckpt {
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
                self.job.run.append_metrics(&StepLine {
                    loss: None,
                    skipped: Some(true),
                    skipped_total: Some(st.skipped_total),
                    ..line
                })?;
                Ok(false)
            }
        }
    }

    /// Validation, best weights, the epoch line, the epoch's checkpoint and early stopping.
    /// Without a validation split (`[split] valid_frac = 0`) every epoch is "best": the last
    /// epoch's weights are the ones scored.
    fn end_epoch(&mut self, epoch: usize, started: Instant) -> Result<EpochEnd> {
        let (cfg, data) = (self.job.cfg, self.job.data);
        let selection = data.card.official_metric();
        let train_loss = f64::from_bits(self.st.epoch_loss_sum_bits) / self.st.epoch_rows as f64;
        self.t.state.epoch = epoch;
        let valid = if data.has_valid() {
            data.evaluate(
                &self.t.model.valid(),
                Split::Valid,
                self.job.spec.input_format(),
                cfg.batch_size,
                &self.t.device,
            )?
        } else {
            BTreeMap::new()
        };
        // Select on the official metric; fall back to the negated loss where it is missing.
        let value = match valid.get("loss") {
            None => epoch as f64,
            Some(loss) => valid
                .get(selection.as_str())
                .copied()
                .filter(|v| !v.is_nan())
                .unwrap_or(-loss),
        };
        let improved = self.t.state.offer(epoch, value);
        if improved {
            let name = ckpt::best_weights_name(epoch);
            ckpt::save_weights(&self.t.model, &ckpt::dir(self.job.run).join(&name))?;
            self.st.best = Some(Best {
                epoch,
                value_bits: value.to_bits(),
                weights: name,
            });
        }
        let seconds = started.elapsed().as_secs_f64();
        self.job.run.append_metrics(&EpochLine {
            epoch,
            step: self.t.state.step,
            train_loss,
            valid: valid.clone(),
            best: improved,
            skipped: self.st.skipped_in_epoch,
            seconds,
        })?;
        match valid.get("loss") {
            Some(loss) => tracing::info!(
                "epoch {epoch}/{}: train loss {train_loss:.4}, valid loss {loss:.4}, valid {} \
                 {:.4}{} ({seconds:.1} s)",
                cfg.epochs,
                selection.as_str(),
                valid.get(selection.as_str()).copied().unwrap_or(f64::NAN),
                if improved { " *" } else { "" },
            ),
            None => tracing::info!(
                "epoch {epoch}/{}: train loss {train_loss:.4}, no validation split \
                 ({seconds:.1} s)",
                cfg.epochs
            ),
        }
        self.st.epoch = epoch;
        self.st.batches_in_epoch = 0;
        self.st.epoch_loss_sum_bits = 0f64.to_bits();
        self.st.epoch_rows = 0;
        self.st.skipped_in_epoch = 0;
        if interrupt::requested() && epoch < cfg.epochs {
            self.interrupted()?;
        }
        self.last_ckpt = Some(self.save()?);
        Ok(self.early_stop(epoch))
    }

    /// `--patience`: stop once the best epoch is `patience` epochs behind.
    fn early_stop(&self, epoch: usize) -> EpochEnd {
        let cfg = self.job.cfg;
        if let (Some(patience), Some(b)) = (cfg.patience, &self.st.best)
            && epoch < cfg.epochs
            && epoch - b.epoch >= patience
        {
            tracing::info!(
                "early stop after epoch {epoch}: valid {} not better than epoch {}'s for \
                 {patience} epochs",
                self.job.data.card.official_metric().as_str(),
                b.epoch
            );
            return EpochEnd::Stop;
        }
        EpochEnd::Continue
    }

    /// Reloads the best weights, keeps the run's copy for `strand eval`, scores valid and test.
    fn finish(self) -> Result<Scores> {
        let (job, cfg, t) = (self.job, self.job.cfg, &self.t);
        let best = self.st.best.as_ref().context("no epoch was trained")?;
        let best_file = ckpt::dir(job.run).join(&best.weights);
        let model = load_weights(t.model.clone(), &best_file)
            .with_context(|| format!("reloading best weights {}", best_file.display()))?;
        ckpt::save_weights(&model, &job.run.path(run_dir::WEIGHTS))?;
        let model = model.valid();
        let mut splits = BTreeMap::new();
        for split in [Split::Valid, Split::Test] {
            if split == Split::Valid && !job.data.has_valid() {
                continue;
            }
            let ev = job.data.evaluate_full(
                &model,
                split,
                job.spec.input_format(),
                cfg.batch_size,
                &t.device,
            )?;
            if split == job.data.card.eval_split {
                write_outputs(job.data, job.run, split, &ev)?;
            }
            splits.insert(split.as_str().to_string(), ev.metrics);
        }
        let card = &job.data.card;
        Ok(Scores {
            strand_version: env!("CARGO_PKG_VERSION").into(),
            task: card.name.clone(),
            data_version: card.version.clone(),
            model: job.spec.name().into(),
            tokenizer: cfg.tokenizer.clone(),
            seed: cfg.seed,
            split_seed: cfg.split.seed,
            fold: cfg.split.fold,
            global_batch: cfg.batch_size,
            micro_batch: Some(cfg.micro_batch.unwrap_or(cfg.batch_size)),
            accumulation: crate::engine::accumulate::steps(cfg.batch_size, cfg.micro_batch)?,
            epochs: cfg.epochs,
            epochs_trained: Some(self.st.epoch),
            best_epoch: best.epoch,
            selection_metric: if job.data.has_valid() {
                card.official_metric().as_str().into()
            } else {
                "last epoch (no validation split)".into()
            },
            metrics: card
                .metrics
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            eval_split: card.eval_split.as_str().into(),
            config: run_dir::CONFIG.into(),
            splits,
        })
    }
}

/// The per-record outputs of `split` ([`crate::run::outputs`]) into the run, for `strand
/// report --format html`; nothing for a split without any label.
pub fn write_outputs(
    data: &TaskData,
    run: &RunDir,
    split: Split,
    ev: &crate::run::task_data::SplitEvaluation,
) -> Result<()> {
    if ev.truth.iter().all(|l| *l == strand_data::Label::None) {
        return Ok(());
    }
    let ids = data
        .source
        .records(split)?
        .map(|r| r.map(|r| r.id))
        .collect::<strand_data::Result<Vec<String>>>()?;
    crate::run::outputs::write(
        &run.path(&crate::run::outputs::file_name(split)),
        &ids,
        &ev.truth,
        &ev.preds,
        &data.card.labels,
    )
}

/// Whether `dir` holds a run that `--resume` can continue, and from which checkpoint: `Ok(None)`
/// when there is nothing to resume (the run starts from scratch).
pub fn resumable(dir: &Path, cfg: &RunConfig) -> Result<Option<PathBuf>> {
    if !dir.join(run_dir::CONFIG).is_file() {
        return Ok(None);
    }
    check_same_config(dir, cfg)?;
    let run = RunDir::unlocked(dir);
    ckpt::latest(&run)
}

/// Errors unless the run in `dir` was started with `cfg` (device, strand version and checkpoint
/// interval may differ): `--resume` continues a run, it does not change it.
pub fn check_same_config(dir: &Path, cfg: &RunConfig) -> Result<()> {
    let stored = RunConfig::load(&dir.join(run_dir::CONFIG))?;
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
    Ok(())
}
