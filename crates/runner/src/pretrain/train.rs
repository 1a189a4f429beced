//! The pretraining loop, on the engine's checkpoints, per-step seeds, clipping, schedule, typed
//! metric lines and Ctrl-C handling.
//!
//! Exact resume: the model is initialised from the run's seed, the device is re-seeded from
//! `(seed, step)` before every step, and the example stream (windows of the corpus, span
//! corruption) is a function of the seed alone. A resumed run rebuilds that stream and replays
//! the examples of the steps already taken (cheap next to a training step), then continues with
//! the weights and AdamW state of its checkpoint: its per-step losses equal an uninterrupted
//! run's bit for bit on CPU (`tests/resume.rs`).

use super::checkpoint::{self, CheckpointInfo, Meta, latest_checkpoint, prune_checkpoints};
use super::examples::{ExampleMaker, ExamplePlan, measure_bases_per_token, to_batch};
use super::{PretrainConfig, tokenizer_for};
use crate::engine::checkpoint::{load_optimizer, save_optimizer, step_seed};
use crate::engine::clip::clip_global_norm;
use crate::engine::interrupt::{self, Interrupted};
use crate::engine::log::{self, StepLine};
use crate::engine::schedule::Schedule;
use crate::report::plot::{Series, line_plot, smooth};
use anyhow::{Result, bail};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strand_data::corpus::{WindowOptions, Windows};
use strand_model::Tokenizer;
use strand_model::t5::{T5Config, T5Model};
use strand_model::tokenize::AnyTokenizer;

/// Model, optimizer and position of a pretraining run.
struct State {
    model: T5Model,
    optim: ModuleOptimizer,
    /// Steps taken.
    step: usize,
}

/// The tokenizer and example plan of `cfg`, with the corpus checked to give a window: all of it
/// before the run directory is touched.
pub(super) fn prepare(cfg: &PretrainConfig) -> Result<(AnyTokenizer, ExamplePlan)> {
    let tokenizer = tokenizer_for(cfg)?;
    let plan = plan(cfg, &tokenizer)?;
    Windows::new(
        &cfg.data.corpus,
        window_options(cfg, plan.window_bases, cfg.seed),
    )?
    .next_window()?;
    Ok((tokenizer, plan))
}

/// Trains `cfg` in `cfg.out` (continuing from its last checkpoint with `resume`) on `device`
/// (with autodiff), with the tokenizer and plan of [`prepare`].
pub(super) fn train(
    cfg: &PretrainConfig,
    resume: bool,
    device: &Device,
    (tokenizer, plan): (AnyTokenizer, ExamplePlan),
) -> Result<()> {
    std::fs::write(
        cfg.out.join("plan.json"),
        serde_json::to_string_pretty(&plan)? + "\n",
    )?;
    let t5_config: T5Config = cfg.t5.config(tokenizer.vocab_size());
    device.seed(cfg.seed);
    let mut st = State {
        model: t5_config.init(device),
        optim: AdamWConfig::new()
            .with_beta_1(cfg.optim.beta1 as f32)
            .with_beta_2(cfg.optim.beta2 as f32)
            .with_weight_decay(cfg.optim.weight_decay as f32)
            .init(),
        step: 0,
    };
    if resume && let Some(dir) = latest_checkpoint(&cfg.out) {
        restore(&mut st, &dir, &t5_config, &tokenizer, device)?;
    }
    let metrics_path = cfg.out.join("metrics.jsonl");
    let mut history = history_until(&metrics_path, st.step)?;

    let mut windows = Windows::new(
        &cfg.data.corpus,
        window_options(cfg, plan.window_bases, cfg.seed),
    )?;
    let mut maker = ExampleMaker::new(plan.clone(), cfg.seed ^ 0xa5a5);
    for _ in 0..st.step {
        maker.batch(&tokenizer, &mut windows, cfg.batch_size)?;
    }
    let schedule = Schedule {
        peak: cfg.optim.lr,
        warmup_steps: cfg.optim.warmup_steps,
        decay: cfg.optim.decay,
        total_steps: cfg.steps,
        min_lr: cfg.optim.min_lr,
    };
    let t0 = Instant::now();
    let start = st.step;
    while st.step < cfg.steps {
        let examples = maker.batch(&tokenizer, &mut windows, cfg.batch_size)?;
        device.seed(step_seed(cfg.seed, st.step as u64 + 1));
        let line = step(&mut st, cfg, &schedule, &examples, device, t0)?;
        log::append(&metrics_path, &line)?;
        history.push(line);
        log_progress(cfg, &history, st.step - start, t0);
        let last = st.step == cfg.steps;
        if interrupt::requested() && !last {
            let dir = save(&st, cfg, &t5_config, &tokenizer, &history)?;
            return Err(Interrupted {
                step: st.step as u64,
                checkpoint: dir.display().to_string(),
                resume: interrupt::resume_command(),
            }
            .into());
        }
        if st.step.is_multiple_of(cfg.checkpoint_every.max(1)) || last {
            save(&st, cfg, &t5_config, &tokenizer, &history)?;
            prune_checkpoints(&cfg.out, cfg.keep_checkpoints)?;
        }
    }
    if maker.short_windows > 0 {
        tracing::warn!(
            "{} windows gave too few tokens and were skipped",
            maker.short_windows
        );
    }
    write_summary(cfg, &history, &plan, &tokenizer)?;
    let last_loss = history.last().and_then(|m| m.loss).unwrap_or(f64::NAN);
    tracing::info!(
        "done: final loss {last_loss:.4}; {}",
        cfg.out.join("loss.svg").display()
    );
    Ok(())
}

/// The step lines of `metrics.jsonl` up to `step`; the file is cut back to them (a resumed run
/// writes the later steps again).
fn history_until(metrics_path: &Path, step: usize) -> Result<Vec<StepLine>> {
    let mut history = log::read_steps(metrics_path)?;
    history.retain(|m| m.step as usize <= step);
    let kept: String = history
        .iter()
        .map(|m| serde_json::to_string(m).map(|l| l + "\n"))
        .collect::<serde_json::Result<String>>()?;
    crate::engine::checkpoint::write_atomic(metrics_path, kept.as_bytes())?;
    Ok(history)
}

fn window_options(cfg: &PretrainConfig, window: usize, seed: u64) -> WindowOptions {
    WindowOptions {
        window,
        both_strands: cfg.data.both_strands,
        max_n_fraction: cfg.data.max_n_fraction,
        shuffle_buffer: cfg.data.shuffle_buffer,
        seed,
    }
}

/// The example plan (window size, masking), measured for BPE.
fn plan(cfg: &PretrainConfig, tokenizer: &AnyTokenizer) -> Result<ExamplePlan> {
    let bpe_ratio = if matches!(tokenizer, AnyTokenizer::Bpe(_) | AnyTokenizer::Hf(_)) {
        let mut probe = Windows::new(
            &cfg.data.corpus,
            window_options(cfg, 2000, cfg.seed ^ 0xb9e),
        )?;
        measure_bases_per_token(tokenizer, &mut probe, 64)?
    } else {
        0.0
    };
    let o = &cfg.objective;
    let plan = ExamplePlan::new(
        tokenizer,
        o.encoder_length,
        o.noise_density,
        o.mean_span,
        o.span_unit,
        bpe_ratio,
    )?;
    tracing::info!(
        "{}: tokenizer {} (vocab {}), windows of {} bases, {}, batch {}",
        cfg.name,
        tokenizer.spec(),
        tokenizer.vocab_size(),
        plan.window_bases,
        plan.masking,
        cfg.batch_size
    );
    Ok(plan)
}

/// Loads the weights and optimizer state of checkpoint `dir` into `st`.
fn restore(
    st: &mut State,
    dir: &Path,
    t5_config: &T5Config,
    tokenizer: &AnyTokenizer,
    device: &Device,
) -> Result<()> {
    let info = CheckpointInfo::read(dir)?;
    info.check_tokenizer(&tokenizer.spec())?;
    if &info.config != t5_config {
        bail!(
            "{}: model config differs from the run's config",
            dir.display()
        );
    }
    st.model = info.load_model(device)?;
    st.optim = load_optimizer(st.optim.clone(), &dir.join(checkpoint::OPTIMIZER_FILE))?;
    st.step = info.meta.step;
    tracing::info!("resuming from {} (step {})", dir.display(), st.step);
    Ok(())
}

/// One optimizer step on `examples`: loss, gradients, clipping, scheduled AdamW update.
fn step(
    st: &mut State,
    cfg: &PretrainConfig,
    schedule: &Schedule,
    examples: &[strand_model::span_corruption::Corrupted],
    device: &Device,
    t0: Instant,
) -> Result<StepLine> {
    let step = st.step + 1;
    let batch = to_batch(examples, device);
    let out = st
        .model
        .forward_labels(batch.input_ids, batch.attention_mask, batch.labels);
    let loss = f64::from(out.loss.clone().into_scalar::<f32>());
    if !loss.is_finite() {
        bail!("loss is {loss} at step {step}; lower optim.lr or check the data");
    }
    let mut grads = GradientsParams::from_grads(out.loss.backward(), &st.model);
    let grad_norm = clip_global_norm(&st.model, &mut grads, cfg.optim.grad_clip_norm);
    let lr = schedule.lr(step);
    st.model = st.optim.step(lr, st.model.clone(), grads);
    st.step = step;
    Ok(StepLine {
        step: step as u64,
        loss: Some(loss),
        lr: Some(lr),
        grad_norm: Some(grad_norm),
        tokens: Some(batch.tokens),
        seconds: Some(t0.elapsed().as_secs_f64()),
        ..Default::default()
    })
}

fn log_progress(cfg: &PretrainConfig, history: &[StepLine], taken: usize, t0: Instant) {
    let Some(last) = history.last() else { return };
    let step = last.step as usize;
    let every = cfg.log_every.max(1);
    if !(step.is_multiple_of(every) || step == cfg.steps) {
        return;
    }
    let recent = &history[history.len().saturating_sub(every)..];
    let mean = recent.iter().filter_map(|m| m.loss).sum::<f64>() / recent.len() as f64;
    tracing::info!(
        "step {step}/{}  loss {mean:.4} (mean of last {})  lr {:.2e}  |g| {:.3}  {:.2} s/step",
        cfg.steps,
        recent.len(),
        last.lr.unwrap_or(f64::NAN),
        last.grad_norm.unwrap_or(f64::NAN),
        t0.elapsed().as_secs_f64() / taken.max(1) as f64
    );
}

/// Writes `checkpoints/step-N` for the current step; returns its directory.
fn save(
    st: &State,
    cfg: &PretrainConfig,
    t5_config: &T5Config,
    tokenizer: &AnyTokenizer,
    history: &[StepLine],
) -> Result<PathBuf> {
    let dir = cfg
        .out
        .join("checkpoints")
        .join(format!("step-{}", st.step));
    let meta = Meta {
        step: st.step,
        loss: history.last().and_then(|m| m.loss).unwrap_or(f64::NAN),
        run: cfg.name.clone(),
    };
    checkpoint::save(&dir, &st.model, t5_config, tokenizer, &meta, |p| {
        save_optimizer(&st.optim, p)
    })?;
    Ok(dir)
}

/// Mean loss of the first and last 10 steps, `loss.svg` and `summary.json`.
fn write_summary(
    cfg: &PretrainConfig,
    history: &[StepLine],
    plan: &ExamplePlan,
    tokenizer: &AnyTokenizer,
) -> Result<()> {
    let n = 10.min(history.len()).max(1);
    let mean =
        |ms: &[StepLine]| ms.iter().filter_map(|m| m.loss).sum::<f64>() / ms.len().max(1) as f64;
    let start = mean(&history[..n.min(history.len())]);
    let end = mean(&history[history.len().saturating_sub(n)..]);
    let points: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|m| Some((m.step as f64, m.loss?)))
        .collect();
    let smoothed = smooth(&points, 10);
    let svg = line_plot(
        &format!("{}: span-corruption loss", cfg.name),
        "step",
        "cross-entropy (nats / target token, log scale)",
        true,
        &[
            Series {
                name: "per step",
                points: &points,
            },
            Series {
                name: "mean of 10",
                points: &smoothed,
            },
        ],
    );
    std::fs::write(cfg.out.join("loss.svg"), svg)?;
    let steps = history.last().map(|m| m.step).unwrap_or(0);
    let summary = serde_json::json!({
        "name": cfg.name,
        "tokenizer": tokenizer.spec(),
        "vocab_size": tokenizer.vocab_size(),
        "steps": steps,
        "batch_size": cfg.batch_size,
        "plan": plan,
        "bases_per_example": plan.bases_per_example(),
        // Nominal: for BPE, bases per example is the corpus mean.
        "bases_seen": (steps as f64 * cfg.batch_size as f64 * plan.bases_per_example()).round(),
        "loss_first_10_mean": start,
        "loss_last_10_mean": end,
        "seconds": history.last().and_then(|m| m.seconds).unwrap_or(0.0),
    });
    std::fs::write(
        cfg.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)? + "\n",
    )?;
    Ok(())
}
