//! Experiment configs: `--config FILE` (TOML, same fields as the flags, unknown keys rejected),
//! merged with the command line, expanded into one [`RunConfig`] per seed and fold. A run
//! directory's `config.resolved.toml` is its `RunConfig`.

use crate::cli::TrainArgs;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strand_data::split::SplitPlan;

/// What `--config FILE` may contain. Every field is optional; flags override the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    pub task: Option<String>,
    pub model: Option<String>,
    pub tokenizer: Option<String>,
    pub epochs: Option<usize>,
    /// At most this many batches per epoch (default: the whole training split).
    pub epoch_steps: Option<u64>,
    /// Stop once the validation score has not improved for this many epochs.
    pub patience: Option<usize>,
    pub seed: Option<u64>,
    /// Seeds to run, each into `<out>/seed-<n>/`.
    pub seeds: Option<Vec<u64>>,
    pub batch_size: Option<usize>,
    pub lr: Option<f64>,
    pub folds: Option<usize>,
    pub device: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub out: Option<PathBuf>,
    /// Records held by the training shuffle buffer.
    pub shuffle_buffer: Option<usize>,
    /// Write a checkpoint every this many optimizer steps (0: only after each epoch).
    pub checkpoint_every: Option<u64>,
    /// T5 head: `pooled` (default), `text_to_text` (or `text`), `probe`.
    pub head: Option<String>,
    /// Rows per forward/backward pass; `batch_size / micro_batch` passes are accumulated into
    /// one optimizer step (default: no accumulation).
    pub micro_batch: Option<usize>,
    /// Pretrained checkpoint directory (`strand pretrain`'s `checkpoints/step-N`).
    pub init: Option<PathBuf>,
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
    pub shuffle_buffer: usize,
    /// Checkpoint every this many optimizer steps (0: only after each epoch).
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: u64,
    /// T5 head (`None`: the model's default, pooled for T5; the CNN has none).
    #[serde(default)]
    pub head: Option<String>,
    /// Rows per forward/backward pass (`None`: the global batch; see [`crate::accumulate`]).
    #[serde(default)]
    pub micro_batch: Option<usize>,
    /// Absolute path of the pretrained checkpoint the weights start from.
    #[serde(default)]
    pub init: Option<PathBuf>,
    pub strand_version: String,
    pub split: SplitPlan,
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

    /// The file (if any) with the flags on top.
    pub fn from_args(args: &TrainArgs) -> Result<Self> {
        let mut c = match &args.config {
            Some(p) => Self::load(p)?,
            None => Self::default(),
        };
        macro_rules! over {
            ($($f:ident),*) => { $( if args.$f.is_some() { c.$f = args.$f.clone(); } )* };
        }
        over!(
            task,
            model,
            tokenizer,
            epochs,
            epoch_steps,
            patience,
            seed,
            batch_size,
            lr,
            folds,
            device,
            out,
            checkpoint_every,
            head,
            init,
            micro_batch
        );
        if let Some(s) = &args.seeds {
            c.seeds = Some(parse_seeds(s, args.seed.or(c.seed).unwrap_or(0))?);
        }
        if args.loc.data_dir.is_some() {
            c.data_dir = args.loc.data_dir.clone();
        }
        Ok(c)
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
        let epochs = self.epochs.unwrap_or(DEFAULT_EPOCHS);
        let batch_size = self.batch_size.unwrap_or(DEFAULT_BATCH);
        if epochs == 0 || batch_size == 0 || self.epoch_steps == Some(0) || self.patience == Some(0)
        {
            bail!("epochs, epoch_steps, patience and batch_size must be positive");
        }
        let init = match &self.init {
            Some(d) => Some(std::path::absolute(d).with_context(|| format!("{}", d.display()))?),
            None => None,
        };
        crate::accumulate::steps(batch_size, self.micro_batch)?;
        let lr = self.lr.unwrap_or(DEFAULT_LR);
        if !(lr.is_finite() && lr > 0.0) {
            bail!("lr must be a positive number (got {lr})");
        }
        let data_dir = match &self.data_dir {
            Some(d) => Some(std::path::absolute(d).with_context(|| format!("{}", d.display()))?),
            None => None,
        };
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
                        model: self.model.clone().unwrap_or(DEFAULT_MODEL.into()),
                        tokenizer: self.tokenizer.clone().unwrap_or(DEFAULT_TOKENIZER.into()),
                        epochs,
                        epoch_steps: self.epoch_steps,
                        patience: self.patience,
                        seed,
                        batch_size,
                        lr,
                        device: self.device.clone().unwrap_or("cpu".into()),
                        data_dir: data_dir.clone(),
                        shuffle_buffer: self.shuffle_buffer.unwrap_or(DEFAULT_SHUFFLE),
                        checkpoint_every: self.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY),
                        head: self.head.clone(),
                        micro_batch: self.micro_batch,
                        init: init.clone(),
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
            plan: self.split.clone(),
            ..Default::default()
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
    }
}
