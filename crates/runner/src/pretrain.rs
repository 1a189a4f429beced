//! `strand pretrain --config FILE [--steps N] [--out DIR] [--overwrite | --resume]`: T5 span
//! corruption on a FASTA corpus.
//!
//! The run directory gets `config.toml` (the config as run), `plan.json` (window size, masking,
//! bases per token), `metrics.jsonl` (one JSON object per step: step, loss, lr, grad_norm,
//! tokens, seconds), `checkpoints/step-N/` every `checkpoint_every` steps and at the end (see
//! [`crate::checkpoint`]), `loss.svg` (raw and smoothed loss) and `summary.json`.
//!
//! BPE: `tokenizer = "bpe:PATH"`; if PATH does not exist and the config has a `[bpe_training]`
//! table, the tokenizer is trained on the corpus first and written to PATH (later runs reuse
//! it). Relative paths are relative to the working directory (run from the repository root).

use crate::backend::CpuTrain;
use crate::checkpoint::{self, CheckpointInfo, Meta};
use crate::cli::PretrainArgs;
use crate::clip::clip_global_norm;
use crate::corpus::{WindowOptions, Windows};
use crate::plot::{Series, line_plot, smooth};
use crate::pretrain_examples::{
    ExampleMaker, ExamplePlan, SpanUnit, measure_bases_per_token, to_batch,
};
use crate::schedule::{Decay, Schedule};
use anyhow::{Context, Result, bail};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::record::Recorder;
use burn::tensor::ElementConversion;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strand_model::Tokenizer;
use strand_model::t5::{T5Config, T5Preset};
use strand_model::tokenize::{AnyTokenizer, TokenizerChoice};

/// A pretraining config (`configs/pretrain/*.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    pub name: String,
    /// Run directory (overridden by `--out`).
    pub out: PathBuf,
    pub seed: u64,
    pub steps: usize,
    pub batch_size: usize,
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Keep only the newest this many checkpoints (0 = keep all).
    #[serde(default = "default_keep")]
    pub keep_checkpoints: usize,
    #[serde(default = "default_log_every")]
    pub log_every: usize,
    /// `nucleotide`, `kmer:K[:STRIDE]` or `bpe:PATH`.
    pub tokenizer: String,
    #[serde(default)]
    pub bpe_training: Option<BpeTraining>,
    pub data: DataConfig,
    pub objective: ObjectiveConfig,
    pub optim: OptimConfig,
    /// The T5 shape (a model preset's `[t5]` table).
    pub t5: T5Preset,
}

fn default_checkpoint_every() -> usize {
    100
}
fn default_keep() -> usize {
    2
}
fn default_log_every() -> usize {
    10
}

/// How to train the BPE tokenizer when its file is missing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BpeTraining {
    pub vocab_size: usize,
    #[serde(default = "default_chunk")]
    pub chunk: usize,
    #[serde(default)]
    pub max_bases: Option<usize>,
}

fn default_chunk() -> usize {
    1000
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// FASTA or FASTA.gz.
    pub corpus: PathBuf,
    #[serde(default = "default_true")]
    pub both_strands: bool,
    #[serde(default = "default_max_n")]
    pub max_n_fraction: f64,
    #[serde(default = "default_shuffle")]
    pub shuffle_buffer: usize,
}

fn default_true() -> bool {
    true
}
fn default_max_n() -> f64 {
    0.05
}
fn default_shuffle() -> usize {
    2048
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveConfig {
    /// Encoder length the corrupted inputs fill (about, for overlapping k-mers).
    pub encoder_length: usize,
    #[serde(default = "default_density")]
    pub noise_density: f64,
    #[serde(default = "default_span")]
    pub mean_span: f64,
    #[serde(default = "default_unit")]
    pub span_unit: SpanUnit,
}

fn default_density() -> f64 {
    0.15
}
fn default_span() -> f64 {
    3.0
}
fn default_unit() -> SpanUnit {
    SpanUnit::Tokens
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimConfig {
    /// Peak learning rate.
    pub lr: f64,
    #[serde(default = "default_wd")]
    pub weight_decay: f64,
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    pub warmup_steps: usize,
    pub decay: Decay,
    #[serde(default)]
    pub min_lr: f64,
    /// Clip the global gradient norm to this (0 = no clipping).
    #[serde(default = "default_clip")]
    pub grad_clip_norm: f64,
}

fn default_wd() -> f64 {
    0.01
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_clip() -> f64 {
    1.0
}

impl PretrainConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: PretrainConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if cfg.batch_size == 0 || cfg.steps == 0 {
            bail!("{}: batch_size and steps must be positive", path.display());
        }
        Ok(cfg)
    }
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepMetrics {
    pub step: usize,
    pub loss: f64,
    pub lr: f64,
    pub grad_norm: f64,
    pub tokens: usize,
    pub seconds: f64,
}

/// Builds the config's tokenizer, training the BPE file first when it is missing.
fn tokenizer_for(cfg: &PretrainConfig) -> Result<AnyTokenizer> {
    let choice: TokenizerChoice = cfg.tokenizer.parse()?;
    if let TokenizerChoice::Bpe { path } = &choice
        && !path.exists()
    {
        let Some(bt) = &cfg.bpe_training else {
            bail!(
                "{} does not exist; create it with `strand tokenizer train --kind bpe --input {} -o {}` \
                 or add a [bpe_training] table to the config",
                path.display(),
                cfg.data.corpus.display(),
                path.display()
            );
        };
        tracing::info!("{} is missing: training it now", path.display());
        crate::tokenizer_cmd::train_bpe(
            &cfg.data.corpus,
            path,
            bt.vocab_size,
            bt.chunk,
            bt.max_bases,
        )?;
    }
    Ok(choice.build()?)
}

pub fn run(args: PretrainArgs) -> Result<()> {
    let mut cfg = PretrainConfig::load(&args.config)?;
    if let Some(steps) = args.steps {
        cfg.steps = steps;
    }
    if let Some(out) = &args.out {
        cfg.out = out.clone();
    }
    match args.device.as_deref() {
        None | Some("cpu") => {}
        Some(other) => bail!("pretrain runs on `cpu` for now (got --device {other})"),
    }
    let metrics_path = cfg.out.join("metrics.jsonl");
    if metrics_path.exists() && !args.overwrite && !args.resume {
        bail!(
            "{} already holds a run; pass --overwrite to replace it or --resume to continue",
            cfg.out.display()
        );
    }
    if args.overwrite && cfg.out.exists() {
        std::fs::remove_dir_all(&cfg.out)
            .with_context(|| format!("removing {}", cfg.out.display()))?;
    }
    std::fs::create_dir_all(&cfg.out).with_context(|| format!("creating {}", cfg.out.display()))?;
    std::fs::write(cfg.out.join("config.toml"), toml::to_string_pretty(&cfg)?)?;
    train::<CpuTrain>(&cfg, args.resume, &Default::default())
}

/// The `checkpoints/step-N` directories of a run, oldest first.
fn checkpoints(out: &Path) -> Vec<(usize, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(out.join("checkpoints")) else {
        return Vec::new();
    };
    let mut v: Vec<(usize, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n: usize = name.strip_prefix("step-")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// The most recent checkpoint of a run.
fn latest_checkpoint(out: &Path) -> Option<PathBuf> {
    checkpoints(out).pop().map(|(_, p)| p)
}

/// Deletes all but the newest `keep` checkpoints (`keep = 0`: none deleted).
fn prune_checkpoints(out: &Path, keep: usize) -> Result<()> {
    let all = checkpoints(out);
    if keep == 0 || all.len() <= keep {
        return Ok(());
    }
    for (_, p) in &all[..all.len() - keep] {
        std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(())
}

fn read_metrics(path: &Path) -> Result<Vec<StepMetrics>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}: line {}", path.display(), i + 1))
        })
        .collect()
}

fn train<B: AutodiffBackend>(cfg: &PretrainConfig, resume: bool, device: &B::Device) -> Result<()> {
    let tokenizer = tokenizer_for(cfg)?;
    let window_opts = |window: usize, seed: u64| WindowOptions {
        window,
        both_strands: cfg.data.both_strands,
        max_n_fraction: cfg.data.max_n_fraction,
        shuffle_buffer: cfg.data.shuffle_buffer,
        seed,
    };
    let bpe_ratio = if matches!(tokenizer, AnyTokenizer::Bpe(_)) {
        let mut probe = Windows::new(&cfg.data.corpus, window_opts(2000, cfg.seed ^ 0xb9e))?;
        measure_bases_per_token(&tokenizer, &mut probe, 64)?
    } else {
        0.0
    };
    let o = &cfg.objective;
    let plan = ExamplePlan::new(
        &tokenizer,
        o.encoder_length,
        o.noise_density,
        o.mean_span,
        o.span_unit,
        bpe_ratio,
    )?;
    std::fs::write(
        cfg.out.join("plan.json"),
        serde_json::to_string_pretty(&plan)? + "\n",
    )?;
    tracing::info!(
        "{}: tokenizer {} (vocab {}), windows of {} bases, {:?}, batch {}",
        cfg.name,
        tokenizer.spec(),
        tokenizer.vocab_size(),
        plan.window_bases,
        plan.masking,
        cfg.batch_size
    );

    let t5_config: T5Config = cfg.t5.config(tokenizer.vocab_size());
    let mut optim = AdamWConfig::new()
        .with_beta_1(cfg.optim.beta1 as f32)
        .with_beta_2(cfg.optim.beta2 as f32)
        .with_weight_decay(cfg.optim.weight_decay as f32)
        .init::<B, strand_model::t5::T5Model<B>>();
    let mut model = t5_config.init::<B>(device);
    let mut start_step = 0usize;
    let metrics_path = cfg.out.join("metrics.jsonl");
    let mut history = Vec::new();
    if resume && let Some(dir) = latest_checkpoint(&cfg.out) {
        let info = CheckpointInfo::read(&dir)?;
        info.check_tokenizer(&tokenizer.spec())?;
        if info.config != t5_config {
            bail!(
                "{}: model config differs from the run's config",
                dir.display()
            );
        }
        model = info.load_model::<B>(device)?;
        let record = checkpoint::recorder()
            .load(dir.join(checkpoint::OPTIMIZER_FILE), device)
            .with_context(|| format!("loading optimizer state from {}", dir.display()))?;
        optim = optim.load_record(record);
        start_step = info.meta.step;
        history = read_metrics(&metrics_path)?;
        history.retain(|m| m.step <= start_step);
        tracing::info!("resuming from {} (step {start_step})", dir.display());
    }
    {
        let mut f = std::fs::File::create(&metrics_path)?;
        for m in &history {
            writeln!(f, "{}", serde_json::to_string(m)?)?;
        }
    }
    let mut metrics = std::fs::OpenOptions::new()
        .append(true)
        .open(&metrics_path)?;

    // A resumed run draws from a stream re-seeded at its start step.
    let stream_seed = cfg.seed.wrapping_add(start_step as u64 * 1_000_003);
    let mut windows = Windows::new(
        &cfg.data.corpus,
        window_opts(plan.window_bases, stream_seed),
    )?;
    let mut maker = ExampleMaker::new(plan.clone(), stream_seed ^ 0xa5a5);
    let schedule = Schedule {
        peak: cfg.optim.lr,
        warmup_steps: cfg.optim.warmup_steps,
        decay: cfg.optim.decay,
        total_steps: cfg.steps,
        min_lr: cfg.optim.min_lr,
    };
    let t0 = Instant::now();
    let mut last_loss = history.last().map(|m| m.loss).unwrap_or(f64::NAN);
    for step in start_step + 1..=cfg.steps {
        let examples = maker.batch(&tokenizer, &mut windows, cfg.batch_size)?;
        let batch = to_batch::<B>(&examples, device);
        let out = model.forward_labels(batch.input_ids, batch.attention_mask, batch.labels);
        let loss: f64 = out.loss.clone().into_scalar().elem();
        if !loss.is_finite() {
            bail!("loss is {loss} at step {step}; lower optim.lr or check the data");
        }
        let mut grads = GradientsParams::from_grads(out.loss.backward(), &model);
        let grad_norm = clip_global_norm::<B, _>(&model, &mut grads, cfg.optim.grad_clip_norm);
        let lr = schedule.lr(step);
        model = optim.step(lr, model, grads);
        let m = StepMetrics {
            step,
            loss,
            lr,
            grad_norm,
            tokens: batch.tokens,
            seconds: t0.elapsed().as_secs_f64(),
        };
        writeln!(metrics, "{}", serde_json::to_string(&m)?)?;
        history.push(m);
        last_loss = loss;
        if step % cfg.log_every.max(1) == 0 || step == cfg.steps {
            let recent = &history[history.len().saturating_sub(cfg.log_every.max(1))..];
            let mean = recent.iter().map(|m| m.loss).sum::<f64>() / recent.len() as f64;
            tracing::info!(
                "step {step}/{}  loss {mean:.4} (mean of last {})  lr {lr:.2e}  |g| {grad_norm:.3}  {:.2} s/step",
                cfg.steps,
                recent.len(),
                t0.elapsed().as_secs_f64() / (step - start_step) as f64
            );
        }
        if step % cfg.checkpoint_every.max(1) == 0 || step == cfg.steps {
            let dir = cfg.out.join("checkpoints").join(format!("step-{step}"));
            let meta = Meta {
                step,
                loss,
                run: cfg.name.clone(),
            };
            let optim_record = optim.to_record();
            checkpoint::save(&dir, &model, &t5_config, &tokenizer, &meta, |p| {
                checkpoint::recorder()
                    .record(optim_record, p.to_path_buf())
                    .with_context(|| format!("saving optimizer state to {}", p.display()))
            })?;
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
    tracing::info!(
        "done: final loss {last_loss:.4}; {}",
        cfg.out.join("loss.svg").display()
    );
    Ok(())
}

/// Mean loss of the first and last `n` steps, `loss.svg` and `summary.json`.
fn write_summary(
    cfg: &PretrainConfig,
    history: &[StepMetrics],
    plan: &ExamplePlan,
    tokenizer: &AnyTokenizer,
) -> Result<()> {
    let n = 10.min(history.len()).max(1);
    let mean = |ms: &[StepMetrics]| ms.iter().map(|m| m.loss).sum::<f64>() / ms.len().max(1) as f64;
    let start = mean(&history[..n.min(history.len())]);
    let end = mean(&history[history.len().saturating_sub(n)..]);
    let points: Vec<(f64, f64)> = history.iter().map(|m| (m.step as f64, m.loss)).collect();
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
    let summary = serde_json::json!({
        "name": cfg.name,
        "tokenizer": tokenizer.spec(),
        "vocab_size": tokenizer.vocab_size(),
        "steps": history.last().map(|m| m.step).unwrap_or(0),
        "batch_size": cfg.batch_size,
        "plan": plan,
        "loss_first_10_mean": start,
        "loss_last_10_mean": end,
        "seconds": history.last().map(|m| m.seconds).unwrap_or(0.0),
    });
    std::fs::write(
        cfg.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)? + "\n",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_configs_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/pretrain");
        for name in ["t5-tiny-nucleotide", "t5-tiny-kmer6", "t5-tiny-bpe4096"] {
            let cfg = PretrainConfig::load(&dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(cfg.name, name);
            cfg.tokenizer.parse::<TokenizerChoice>().unwrap();
        }
    }

    #[test]
    fn pruning_keeps_the_newest_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        for n in [100, 20, 300] {
            std::fs::create_dir_all(dir.path().join(format!("checkpoints/step-{n}"))).unwrap();
        }
        assert_eq!(
            latest_checkpoint(dir.path()).unwrap(),
            dir.path().join("checkpoints/step-300")
        );
        prune_checkpoints(dir.path(), 2).unwrap();
        let left: Vec<usize> = checkpoints(dir.path()).into_iter().map(|c| c.0).collect();
        assert_eq!(left, vec![100, 300]);
        prune_checkpoints(dir.path(), 0).unwrap();
        assert_eq!(checkpoints(dir.path()).len(), 2);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../configs/pretrain/t5-tiny-nucleotide.toml");
        let text = std::fs::read_to_string(src).unwrap();
        std::fs::write(&p, text.replace("batch_size", "batchsize")).unwrap();
        let e = format!("{:#}", PretrainConfig::load(&p).unwrap_err());
        assert!(e.contains("c.toml") && e.contains("batchsize"), "{e}");
    }
}
