//! `strand pretrain --config FILE [--steps N] [--out DIR] [--overwrite | --resume]`: T5 span
//! corruption on a FASTA corpus.
//!
//! The run directory gets `config.toml` (the config as run), `plan.json` (window size, masking,
//! bases per token), `metrics.jsonl` (one JSON object per step: step, loss, lr, grad_norm,
//! tokens, seconds), `checkpoints/step-N/` every `checkpoint_every` steps and at the end (see
//! [`crate::pretrain::checkpoint`]), `loss.svg` (raw and smoothed loss) and `summary.json`.
//!
//! BPE: `tokenizer = "bpe:PATH"`; if PATH does not exist and the config has a `[bpe_training]`
//! table, the tokenizer is trained on the corpus first and written to PATH (later runs reuse
//! it). Relative paths are relative to the working directory (run from the repository root).

pub mod bpe;
pub mod checkpoint;
pub mod examples;
mod train;

#[cfg(test)]
use checkpoint::{checkpoints, latest_checkpoint, prune_checkpoints};

use crate::engine::backend::{self, Precision};
use crate::engine::schedule::Decay;
use crate::pretrain::examples::SpanUnit;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strand_data::lock::DirLock;
use strand_model::t5::T5Preset;
use strand_model::tokenize::{AnyTokenizer, TokenizerChoice};

/// A pretraining config (`configs/pretrain/*.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    pub name: String,
    /// Run directory (overridden by `--out`).
    pub out: PathBuf,
    pub seed: u64,
    /// Optimizer steps (ignored when `bases` is set).
    #[serde(default)]
    pub steps: usize,
    /// Budget in bases of corpus instead of steps: the run takes
    /// `ceil(bases / (batch_size × bases per example))` steps (see
    /// [`examples::ExamplePlan::bases_per_example`]), so tokenizers that pack more bases into a
    /// token see the same sequence in fewer steps (`--bases`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bases: Option<u64>,
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

/// Builds the config's tokenizer, training the BPE file first when it is missing.
pub(crate) fn tokenizer_for(cfg: &PretrainConfig) -> Result<AnyTokenizer> {
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
        crate::pretrain::bpe::train_bpe(
            &cfg.data.corpus,
            path,
            bt.vocab_size,
            bt.chunk,
            bt.max_bases,
        )?;
    }
    Ok(choice.build()?)
}

/// Starts (or with `resume`, continues) the pretraining run `cfg` describes in `cfg.out`;
/// `overwrite` replaces a run already there.
pub fn start(cfg: &PretrainConfig, resume: bool, overwrite: bool) -> Result<()> {
    if resume && overwrite {
        bail!("--resume and --overwrite exclude each other");
    }
    // Everything that can be checked is checked before the run directory is touched.
    cfg.tokenizer.parse::<TokenizerChoice>()?;
    if !cfg.data.corpus.is_file() {
        bail!(
            "corpus not found: {} (the config's [data] corpus)",
            cfg.data.corpus.display()
        );
    }
    if cfg.out.exists() && !cfg.out.is_dir() {
        bail!("--out {} exists and is not a directory", cfg.out.display());
    }
    if cfg.batch_size == 0 || (cfg.steps == 0 && cfg.bases.is_none()) || cfg.bases == Some(0) {
        bail!("batch_size and steps (--steps) or bases (--bases) must be positive");
    }
    let prepared = train::prepare(cfg)?;
    let mut cfg = cfg.clone();
    if let Some(bases) = cfg.bases {
        cfg.steps = prepared.1.steps_for_bases(bases, cfg.batch_size);
        tracing::info!(
            "{} bases at {:.1} bases per example, batch {}: {} steps",
            bases,
            prepared.1.bases_per_example(),
            cfg.batch_size,
            cfg.steps
        );
    }
    let cfg = &cfg;
    let device = backend::train_device("cpu", Precision::F32)?;
    std::fs::create_dir_all(&cfg.out).with_context(|| format!("creating {}", cfg.out.display()))?;
    let _lock = DirLock::acquire(&cfg.out)?;
    let entries = crate::engine::checkpoint::own_entries(&cfg.out)?;
    if !entries.is_empty() {
        if !cfg.out.join("config.toml").is_file() {
            bail!(
                "{} is not empty and is not a strand pretraining run (it holds {}); choose \
                 another --out (--overwrite replaces only pretraining runs)",
                cfg.out.display(),
                entries
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !overwrite && !resume {
            bail!(
                "{} already holds a run; pass --overwrite to replace it or --resume to continue",
                cfg.out.display()
            );
        }
        if overwrite {
            crate::engine::checkpoint::remove_own(&cfg.out, &entries, is_pretrain_file)?;
        }
    }
    crate::engine::checkpoint::write_atomic(
        &cfg.out.join("config.toml"),
        toml::to_string_pretty(cfg)?.as_bytes(),
    )?;
    train::train(cfg, resume, &device, prepared)
}

/// Whether `name` is a file or folder `strand pretrain` writes in its run directory.
fn is_pretrain_file(name: &str) -> bool {
    matches!(
        name,
        "config.toml" | "plan.json" | "metrics.jsonl" | "checkpoints" | "loss.svg" | "summary.json"
    ) || name.starts_with(".tmp")
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
