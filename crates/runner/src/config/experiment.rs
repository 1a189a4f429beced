//! Experiment configs: `--config FILE` (TOML, same fields as the flags, unknown keys rejected),
//! merged with the command line, expanded into one [`RunConfig`] per seed and fold. A run
//! directory's `config.resolved.toml` is its `RunConfig`.

use crate::engine::schedule::ScheduleSpec;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strand_data::split::SplitPlan;

/// One experiment: what `--config FILE` may contain and, with the same names, the flags of
/// `strand train` (and a sweep's `[train]` table). Every field is optional; flags override the
/// file ([`ExperimentConfig::overlay`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Task spec (`cnnprom/ecoli`, `gb/…`, `guanine/…`, `fasta:NAME=PATH,…`, `csv:PATH`).
    #[arg(long)]
    pub task: Option<String>,
    /// Model preset (`cnn-gb`, `t5-tiny`, `t5-small`, `t5-base`) or a path to a preset TOML.
    #[arg(long)]
    pub model: Option<String>,
    /// Tokenizer (`nucleotide`, `kmer:K[:STRIDE]`, `bpe:PATH`).
    #[arg(long)]
    pub tokenizer: Option<String>,
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Train at most N batches per epoch (a seeded random subset of the shuffled training split;
    /// validation still runs after each epoch). Default: the whole split.
    #[arg(long, value_name = "N")]
    pub epoch_steps: Option<u64>,
    /// Early stopping: end training once the validation score has not improved for N epochs
    /// (the best epoch's weights are kept either way). Default: train every epoch.
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// Training seed (also seeds the derived split unless the config's `[split] seed` is set).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seeds to run, each into `<out>/seed-<n>/` (on the command line: `--seeds`, a count or a
    /// comma-separated list).
    #[arg(skip)]
    pub seeds: Option<Vec<u64>>,
    /// Global batch size (gradient accumulation is derived from it and --micro-batch).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate (Adam).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning-rate schedule: `constant` (default), `linear` or `cosine` (linear warm-up over
    /// --warmup-steps, then decay to --min-lr at the last step).
    #[arg(long)]
    pub lr_schedule: Option<String>,
    /// Warm-up steps of the learning-rate schedule (default 0).
    #[arg(long, value_name = "N")]
    pub warmup_steps: Option<u64>,
    /// Floor of a decaying learning-rate schedule (default 0).
    #[arg(long)]
    pub min_lr: Option<f64>,
    /// Scale gradients down so that their global L2 norm is at most this (default: no clipping).
    #[arg(long, value_name = "NORM")]
    pub clip_grad_norm: Option<f64>,
    /// k-fold cross-validation: run all k folds into `<out>/fold-<i>/`.
    #[arg(long)]
    pub folds: Option<usize>,
    /// `cpu` (default), `cuda` or `cuda:N` (needs the `cuda` feature).
    #[arg(long)]
    pub device: Option<String>,
    /// `f32` (default; the only precision `strand train` offers for now).
    #[arg(long)]
    pub precision: Option<String>,
    /// Directory holding the task's files (flag: `--data-dir`, or `STRAND_DATA_DIR`).
    #[arg(skip)]
    pub data_dir: Option<PathBuf>,
    /// Reference genome for interval-based tasks (flag: `--reference`).
    #[arg(skip)]
    pub reference: Option<PathBuf>,
    /// Run directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Records held by the training shuffle buffer (default 10,000).
    #[arg(long, value_name = "N")]
    pub shuffle_buffer: Option<usize>,
    /// Write a checkpoint every N optimizer steps (default 500; 0: only after each epoch).
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<u64>,
    /// T5 head: `pooled` (default), `text` (text-to-text) or `probe` (frozen encoder).
    #[arg(long)]
    pub head: Option<String>,
    /// Rows per forward/backward pass; must divide --batch-size (the global batch), whose
    /// gradients are accumulated over batch-size / micro-batch passes.
    #[arg(long)]
    pub micro_batch: Option<usize>,
    /// Start from a pretrained checkpoint (`strand pretrain`'s `checkpoints/step-N`), or from a
    /// local snapshot of a Hugging Face T5 model repository (`hf:DIR`: its config.json,
    /// model.safetensors and tokenizer.json; the T5 shape and tokenizer then come from DIR).
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Text-to-text head: read the labels from tokens already in the model's vocabulary, named by
    /// a Hugging Face output vocabulary (`hf:DIR` holding a tokenizer.json, as GUANinE's
    /// `t5_regression_vocab`); label k is the token spelled as class name k or ordinal level k.
    #[arg(long, value_name = "hf:DIR")]
    pub label_vocab: Option<PathBuf>,
    /// Reverse-complement augmentation: each training example is flipped to the other strand
    /// with probability ½ (seeded; for tasks whose label does not depend on the strand).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub rc_augment: Option<bool>,
    /// Score validation and test as the mean of the outputs on both strands.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub rc_average: Option<bool>,
    /// `[split]`: seed and fractions of a derived split (config file only).
    #[arg(skip)]
    pub split: Option<SplitSettings>,
}

/// `[split]` in an experiment config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSettings {
    /// Seed of the derived split (default: the training seed of a single run; the first seed when
    /// several run, so that they share a split).
    pub seed: Option<u64>,
    pub valid_frac: Option<f64>,
    pub test_frac: Option<f64>,
}

/// One training run, fully resolved: written to `config.resolved.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub task: String,
    /// Preset name or path, as given.
    pub model: String,
    pub tokenizer: String,
    pub epochs: usize,
    /// At most this many batches per epoch (`None`: the whole training split).
    #[serde(default)]
    pub epoch_steps: Option<u64>,
    /// Early stopping after this many epochs without a better validation score.
    #[serde(default)]
    pub patience: Option<usize>,
    pub seed: u64,
    /// Global batch size (gradient accumulation: see `micro_batch`).
    pub batch_size: usize,
    pub lr: f64,
    pub device: String,
    /// Absolute path of the data directory, if one was given.
    pub data_dir: Option<PathBuf>,
    /// Absolute path of the reference genome of an interval-based task, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<PathBuf>,
    pub shuffle_buffer: usize,
    /// Checkpoint every this many optimizer steps (0: only after each epoch).
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: u64,
    /// T5 head (`None`: the model's default, pooled for T5; the CNN has none).
    #[serde(default)]
    pub head: Option<String>,
    /// Rows per forward/backward pass (`None`: the global batch; see [`crate::engine::accumulate`]).
    #[serde(default)]
    pub micro_batch: Option<usize>,
    /// Absolute path of the pretrained checkpoint the weights start from (`hf:/abs/dir` for a
    /// Hugging Face model directory).
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// `hf:/abs/dir` of the output vocabulary naming the text-to-text label tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_vocab: Option<PathBuf>,
    /// Learning-rate schedule (absent: `lr` at every step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_schedule: Option<ScheduleSpec>,
    /// Global gradient-norm clipping (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_grad_norm: Option<f64>,
    /// Reverse-complement augmentation in training.
    #[serde(default, skip_serializing_if = "is_false")]
    pub rc_augment: bool,
    /// Evaluation on both strands (mean of the outputs).
    #[serde(default, skip_serializing_if = "is_false")]
    pub rc_average: bool,
    pub strand_version: String,
    pub split: SplitPlan,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_checkpoint_every() -> u64 {
    DEFAULT_CHECKPOINT_EVERY
}

pub const DEFAULT_MODEL: &str = "cnn-gb";
pub const DEFAULT_TOKENIZER: &str = "nucleotide";
pub const DEFAULT_EPOCHS: usize = 10;
pub const DEFAULT_BATCH: usize = 64;
pub const DEFAULT_LR: f64 = 1e-3;
pub const DEFAULT_SHUFFLE: usize = 10_000;
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 500;

impl ExperimentConfig {
    /// Reads a config file; unknown keys and wrong types are errors that name the key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config {} is not valid", path.display()))
    }

    /// `self` (a config file) with every field that `flags` sets taken from `flags`.
    pub fn overlay(mut self, flags: &ExperimentConfig) -> Self {
        macro_rules! over {
            ($($f:ident),*) => { $( if flags.$f.is_some() { self.$f = flags.$f.clone(); } )* };
        }
        over!(
            task,
            model,
            tokenizer,
            epochs,
            epoch_steps,
            patience,
            seed,
            seeds,
            batch_size,
            lr,
            lr_schedule,
            warmup_steps,
            min_lr,
            clip_grad_norm,
            rc_augment,
            rc_average,
            folds,
            device,
            precision,
            data_dir,
            reference,
            out,
            shuffle_buffer,
            checkpoint_every,
            head,
            micro_batch,
            init,
            label_vocab,
            split
        );
        self
    }

    /// One run per (seed, fold), each with its output directory under `out`.
    pub fn expand(&self, out: &Path) -> Result<Vec<(RunConfig, PathBuf)>> {
        let task = self
            .task
            .clone()
            .context("no task: pass --task (e.g. cnnprom/ecoli) or set `task` in --config")?;
        let seeds = self.seeds.clone();
        let base_seed = self.seed.unwrap_or(0);
        let split = self.split.clone().unwrap_or_default();
        let defaults = SplitPlan::default();
        if self.shuffle_buffer == Some(0) {
            bail!(
                "shuffle_buffer must be at least 1 (0 would stream the records in file order, one \
                 class after the other); the default is {DEFAULT_SHUFFLE}"
            );
        }
        if let Some(d) = &self.device {
            crate::engine::backend::DeviceChoice::parse(d)?;
        }
        if self.precision.as_deref().is_some_and(|p| p != "f32") {
            bail!("--precision: only f32 is available");
        }
        let epochs = self.epochs.unwrap_or(DEFAULT_EPOCHS);
        let batch_size = self.batch_size.unwrap_or(DEFAULT_BATCH);
        if epochs == 0 || batch_size == 0 || self.epoch_steps == Some(0) || self.patience == Some(0)
        {
            bail!("epochs, epoch_steps, patience and batch_size must be positive");
        }
        let init = match &self.init {
            Some(d) => Some(crate::run::hf::absolute(d)?),
            None => None,
        };
        let label_vocab = match &self.label_vocab {
            Some(d) => Some(crate::run::hf::absolute_vocab(d)?),
            None => None,
        };
        let hf_init = init.as_deref().and_then(crate::run::hf::hf_dir);
        let (model, tokenizer) = match &hf_init {
            Some(dir) => crate::run::hf::model_and_tokenizer(
                dir,
                self.model.as_deref(),
                self.tokenizer.as_deref(),
            )?,
            None => (
                self.model.clone().unwrap_or(DEFAULT_MODEL.into()),
                self.tokenizer.clone().unwrap_or(DEFAULT_TOKENIZER.into()),
            ),
        };
        crate::engine::accumulate::steps(batch_size, self.micro_batch)?;
        let lr = self.lr.unwrap_or(DEFAULT_LR);
        if !(lr.is_finite() && lr > 0.0) {
            bail!("lr must be a positive number (got {lr})");
        }
        let reference = match &self.reference {
            Some(r) => Some(std::path::absolute(r).with_context(|| format!("{}", r.display()))?),
            None => None,
        };
        let lr_schedule = match (&self.lr_schedule, self.warmup_steps, self.min_lr) {
            (None, None, None) => None,
            (name, warmup, min_lr) => Some(
                ScheduleSpec::parse(
                    name.as_deref().unwrap_or("constant"),
                    warmup.unwrap_or(0) as usize,
                    min_lr.unwrap_or(0.0),
                )
                .map_err(anyhow::Error::msg)?,
            ),
        };
        if let Some(c) = self.clip_grad_norm
            && !(c.is_finite() && c > 0.0)
        {
            bail!("clip_grad_norm must be a positive number (got {c})");
        }
        let data_dir = match &self.data_dir {
            Some(d) => Some(std::path::absolute(d).with_context(|| format!("{}", d.display()))?),
            None => None,
        };
        if let Some(list) = &seeds {
            // The config file's `seeds` gets the checks `--seeds` gets.
            if list.is_empty() {
                bail!("seeds is empty: give at least one seed");
            }
            if let Some(s) = list
                .iter()
                .enumerate()
                .find(|(i, s)| list[..*i].contains(s))
            {
                bail!("seeds: seed {} is repeated", s.1);
            }
        }
        let seed_list = seeds.clone().unwrap_or_else(|| vec![base_seed]);
        let split_seed = split.seed.unwrap_or(seed_list[0]);
        let folds: Vec<Option<(usize, usize)>> = match self.folds {
            None => vec![None],
            Some(k) if k >= 2 => (0..k).map(|i| Some((k, i))).collect(),
            Some(k) => bail!("--folds needs at least 2 folds (got {k})"),
        };
        let mut runs = Vec::new();
        for &seed in &seed_list {
            for &fold in &folds {
                let mut dir = out.to_path_buf();
                if seeds.is_some() {
                    dir = dir.join(format!("seed-{seed}"));
                }
                if let Some((_, i)) = fold {
                    dir = dir.join(format!("fold-{i}"));
                }
                let plan = SplitPlan {
                    seed: split_seed,
                    valid_frac: split.valid_frac.unwrap_or(defaults.valid_frac),
                    test_frac: split.test_frac.unwrap_or(defaults.test_frac),
                    fold,
                };
                plan.validate()?;
                runs.push((
                    RunConfig {
                        task: task.clone(),
                        model: model.clone(),
                        tokenizer: tokenizer.clone(),
                        epochs,
                        epoch_steps: self.epoch_steps,
                        patience: self.patience,
                        seed,
                        batch_size,
                        lr,
                        device: self.device.clone().unwrap_or("cpu".into()),
                        data_dir: data_dir.clone(),
                        reference: reference.clone(),
                        shuffle_buffer: self.shuffle_buffer.unwrap_or(DEFAULT_SHUFFLE),
                        checkpoint_every: self.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY),
                        head: self.head.clone(),
                        micro_batch: self.micro_batch,
                        init: init.clone(),
                        label_vocab: label_vocab.clone(),
                        lr_schedule,
                        clip_grad_norm: self.clip_grad_norm,
                        rc_augment: self.rc_augment.unwrap_or(false),
                        rc_average: self.rc_average.unwrap_or(false),
                        strand_version: env!("CARGO_PKG_VERSION").into(),
                        split: plan,
                    },
                    dir,
                ));
            }
        }
        Ok(runs)
    }
}

/// `--seeds 3` → three seeds from `first`; `--seeds 1,2,3` → that list.
pub fn parse_seeds(s: &str, first: u64) -> Result<Vec<u64>> {
    let bad = || format!("--seeds {s:?}: expected a count (3) or a comma-separated list (1,2,3)");
    let v: Vec<u64> = if s.contains(',') {
        s.split(',')
            .map(|p| p.trim().parse::<u64>())
            .collect::<Result<_, _>>()
            .with_context(bad)?
    } else {
        let n: u64 = s.trim().parse().with_context(bad)?;
        (first..first + n).collect()
    };
    if v.is_empty() {
        bail!(bad());
    }
    let mut d = v.clone();
    d.sort();
    d.dedup();
    if d.len() != v.len() {
        bail!("--seeds {s:?}: a seed is repeated");
    }
    Ok(v)
}

impl RunConfig {
    /// Reads a run directory's `config.resolved.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid run config", path.display()))
    }

    /// TOML text.
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string(self)?)
    }

    /// The options to open the task with.
    pub fn open_options(&self) -> strand_data::OpenOptions {
        strand_data::OpenOptions {
            data_dir: self.data_dir.clone(),
            reference: self.reference.clone(),
            plan: self.split.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_and_wrong_type_name_the_key() {
        let e = toml::from_str::<ExperimentConfig>("task = \"x\"\nepochz = 3\n").unwrap_err();
        assert!(e.to_string().contains("epochz"), "{e}");
        let e = toml::from_str::<ExperimentConfig>("epochs = \"ten\"\n").unwrap_err();
        assert!(e.to_string().contains("epochs"), "{e}");
    }

    #[test]
    fn expands_seeds_and_folds_into_directories() {
        let c = ExperimentConfig {
            task: Some("cnnprom/ecoli".into()),
            seeds: Some(vec![1, 2]),
            folds: Some(3),
            ..Default::default()
        };
        let runs = c.expand(Path::new("out")).unwrap();
        assert_eq!(runs.len(), 6);
        assert_eq!(runs[0].1, Path::new("out/seed-1/fold-0"));
        assert_eq!(runs[5].1, Path::new("out/seed-2/fold-2"));
        assert!(
            runs.iter().all(|(r, _)| r.split.seed == 1),
            "seeds share a split"
        );
        assert_eq!(runs[4].0.split.fold, Some((3, 1)));
        let text = runs[4].0.to_toml().unwrap();
        assert_eq!(toml::from_str::<RunConfig>(&text).unwrap(), runs[4].0);
    }

    #[test]
    fn seeds_parse() {
        assert_eq!(parse_seeds("3", 5).unwrap(), vec![5, 6, 7]);
        assert_eq!(parse_seeds("1,2,9", 0).unwrap(), vec![1, 2, 9]);
        assert!(parse_seeds("x", 0).is_err());
        assert!(parse_seeds("1,1", 0).is_err());
        let zero = ExperimentConfig {
            task: Some("synthetic/promoter".into()),
            shuffle_buffer: Some(0),
            ..Default::default()
        };
        let e = zero.expand(Path::new("out")).unwrap_err().to_string();
        assert!(e.contains("shuffle_buffer"), "{e}");
        // The same checks for a config file's list (it used to panic when empty).
        for bad in [vec![], vec![4, 4]] {
            let exp = ExperimentConfig {
                task: Some("synthetic/promoter".into()),
                seeds: Some(bad),
                ..Default::default()
            };
            let e = exp.expand(Path::new("out")).unwrap_err().to_string();
            assert!(e.contains("seeds"), "{e}");
        }
    }
}
