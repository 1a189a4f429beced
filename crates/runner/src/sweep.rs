//! `strand sweep --config configs/sweeps/<name>.toml`: a grid of tokenizer × model × task × seed
//! runs, each optionally fine-tuned from a span-corruption pretraining run of its tokenizer,
//! executed one after the other and summarised by the report.
//!
//! Every cell is exactly one `strand train` command line (its flags are built by
//! [`Cell::train_flags`] and parsed with the CLI's own parser), every pretraining step exactly one
//! `strand pretrain` command line. The sweep is **resumable**: a cell whose run directory holds
//! `scores.json` is skipped, one with a started directory is continued with `--resume`; a
//! pretraining run whose directory holds `summary.json` is not repeated.
//!
//! Layout under `out`: `pretrain/<tokenizer>/` and `<tokenizer>/<model>/<task>/seed-<n>/`, then
//! `report.md` and `report.json`.

use crate::config::ExperimentConfig;
use crate::run::run_dir::SCORES;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use strand_data::paths::{Claims, component, escaped};

/// A sweep config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    pub name: String,
    /// Root of the sweep's runs (overridden by `--out`).
    pub out: PathBuf,
    pub tokenizers: Vec<TokenizerEntry>,
    /// Model presets (`t5-tiny`, `cnn-gb`, …).
    pub models: Vec<String>,
    /// Task specs.
    pub tasks: Vec<String>,
    pub seeds: Vec<u64>,
    /// Training settings shared by every cell.
    #[serde(default)]
    pub train: ExperimentConfig,
    /// Pretraining budget in bases of corpus, the same for every tokenizer (a tokenizer's
    /// `pretrain_steps` takes precedence); scaled by `budget`.
    #[serde(default)]
    pub pretrain_bases: Option<u64>,
    /// The one compute knob: multiplies every pretraining budget (`pretrain_bases`,
    /// `pretrain_steps`) and the fine-tuning steps of every cell (`epochs × epoch_steps`, or
    /// `epochs` when `epoch_steps` is unset; see [`SweepConfig::scaled_train`]). 1 = the sizing
    /// written in the file.
    #[serde(default = "default_budget")]
    pub budget: f64,
}

fn default_budget() -> f64 {
    1.0
}

/// `x × budget`, rounded, at least 1.
fn scaled(x: u64, budget: f64) -> u64 {
    ((x as f64 * budget).round() as u64).max(1)
}

/// One tokenizer of the grid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerEntry {
    /// Short name, used in directory names.
    pub name: String,
    /// Tokenizer spec as `strand train --tokenizer` takes it.
    pub tokenizer: String,
    /// Pretraining config (`configs/pretrain/*.toml`) run first; its last checkpoint is every
    /// cell's `--init`.
    #[serde(default)]
    pub pretrain: Option<PathBuf>,
    /// Override of the pretraining config's `steps`.
    #[serde(default)]
    pub pretrain_steps: Option<usize>,
}

/// One fine-tuning run of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub tokenizer: TokenizerEntry,
    pub model: String,
    pub task: String,
    pub seed: u64,
    /// Run directory.
    pub dir: PathBuf,
    /// `--init` checkpoint (the tokenizer's pretraining), if any.
    pub init: Option<PathBuf>,
}

impl SweepConfig {
    /// Reads a sweep file; unknown keys are errors naming the key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading sweep config {}", path.display()))?;
        let c: SweepConfig = toml::from_str(&text)
            .with_context(|| format!("sweep config {} is not valid", path.display()))?;
        c.validate()
            .with_context(|| format!("sweep config {}", path.display()))?;
        Ok(c)
    }

    /// Non-empty axes and unique tokenizer names.
    pub fn validate(&self) -> Result<()> {
        if !(self.budget.is_finite() && self.budget > 0.0) {
            bail!("budget must be a positive number, got {}", self.budget);
        }
        for (axis, n) in [
            ("tokenizers", self.tokenizers.len()),
            ("models", self.models.len()),
            ("tasks", self.tasks.len()),
            ("seeds", self.seeds.len()),
        ] {
            if n == 0 {
                bail!("`{axis}` is empty: the grid has no cell");
            }
        }
        let t = &self.train;
        for (key, set) in [
            ("task", t.task.is_some()),
            ("model", t.model.is_some()),
            ("tokenizer", t.tokenizer.is_some()),
            ("seed", t.seed.is_some()),
            ("seeds", t.seeds.is_some()),
            ("folds", t.folds.is_some()),
            ("out", t.out.is_some()),
            ("init", t.init.is_some()),
            ("data_dir", t.data_dir.is_some()),
        ] {
            if set {
                bail!("[train] {key}: the grid sets it for every cell; remove it from [train]");
            }
        }
        // Every axis value becomes a directory: no two may share one (or escape `out`).
        for (axis, values) in [("model", &self.models), ("task", &self.tasks)] {
            let mut claims = Claims::default();
            for (i, v) in values.iter().enumerate() {
                if values[..i].contains(v) {
                    bail!("{axis} {v:?} is listed twice");
                }
                claims.claim(v, axis)?;
            }
        }
        for (i, s) in self.seeds.iter().enumerate() {
            if self.seeds[..i].contains(s) {
                bail!("seed {s} is listed twice");
            }
        }
        for (i, t) in self.tokenizers.iter().enumerate() {
            if component(&t.name, "tokenizer name").is_err() || escaped(&t.name) != t.name {
                bail!(
                    "tokenizer name {:?} must be a plain directory name ([A-Za-z0-9.-])",
                    t.name
                );
            }
            if self.tokenizers[..i].iter().any(|o| o.name == t.name) {
                bail!("tokenizer name {:?} is used twice", t.name);
            }
        }
        Ok(())
    }

    /// The training settings of every cell, with the budget applied to its optimizer steps.
    ///
    /// With `epoch_steps` set, the total `epochs × epoch_steps` is scaled by growing the epochs
    /// (`⌈epochs × budget⌉`, at least 1) and setting the steps per epoch so the product is the
    /// scaled total: the steps per epoch never exceed the file's, so a large budget is never
    /// swallowed by the trainer's cap of one pass over the training split per epoch, and every
    /// epoch draws a fresh seeded subset of it. A budget below `1 / epochs` shortens the one
    /// epoch instead. Without `epoch_steps` (full passes) the epochs scale (default 10), never
    /// below one.
    pub fn scaled_train(&self) -> ExperimentConfig {
        let mut t = self.train.clone();
        let epochs = t
            .epochs
            .unwrap_or(crate::config::experiment::DEFAULT_EPOCHS) as u64;
        match t.epoch_steps {
            Some(steps) => {
                let scaled_epochs = epochs as f64 * self.budget;
                let new_epochs = (scaled_epochs.ceil() as u64).max(1);
                let total = scaled_epochs * steps as f64;
                t.epochs = Some(new_epochs as usize);
                t.epoch_steps = Some(((total / new_epochs as f64).round() as u64).max(1));
            }
            None => t.epochs = Some(scaled(epochs, self.budget) as usize),
        }
        t
    }

    /// The budget flags of a tokenizer's `strand pretrain`: `--steps` (its `pretrain_steps`)
    /// or `--bases` (the sweep's `pretrain_bases`), scaled by the budget; none when neither is
    /// set (the pretraining config's own `steps`/`bases`, unscaled).
    pub fn pretrain_budget_flags(&self, t: &TokenizerEntry) -> Vec<String> {
        if let Some(steps) = t.pretrain_steps {
            vec![
                "--steps".into(),
                scaled(steps as u64, self.budget).to_string(),
            ]
        } else if let Some(bases) = self.pretrain_bases {
            vec!["--bases".into(), scaled(bases, self.budget).to_string()]
        } else {
            Vec::new()
        }
    }

    /// Directory of a tokenizer's pretraining run.
    pub fn pretrain_dir(&self, out: &Path, t: &TokenizerEntry) -> PathBuf {
        out.join("pretrain").join(&t.name)
    }

    /// Every cell, tokenizer-major (so one pretraining feeds consecutive cells), then model,
    /// task, seed.
    pub fn cells(&self, out: &Path) -> Vec<Cell> {
        let mut cells = Vec::new();
        for t in &self.tokenizers {
            let init = t
                .pretrain
                .as_ref()
                .map(|_| final_checkpoint(&self.pretrain_dir(out, t)));
            for model in &self.models {
                for task in &self.tasks {
                    for &seed in &self.seeds {
                        cells.push(Cell {
                            tokenizer: t.clone(),
                            model: model.clone(),
                            task: task.clone(),
                            seed,
                            dir: out
                                .join(&t.name)
                                .join(escaped(model))
                                .join(escaped(task))
                                .join(format!("seed-{seed}")),
                            init: init.clone(),
                        });
                    }
                }
            }
        }
        cells
    }
}

/// Where a pretraining run's last checkpoint is: `checkpoints/step-N` with the largest N, or
/// `checkpoints/latest` when none exists yet (the run has not happened; it is resolved again
/// after pretraining).
pub fn final_checkpoint(pretrain_dir: &Path) -> PathBuf {
    crate::pretrain::checkpoint::latest_checkpoint(pretrain_dir)
        .unwrap_or_else(|| pretrain_dir.join("checkpoints").join("latest"))
}

/// A pretraining run is finished when it wrote `summary.json`.
pub fn pretrain_finished(dir: &Path) -> bool {
    dir.join("summary.json").is_file()
}

impl Cell {
    /// A cell is finished when its run directory holds `scores.json`.
    pub fn finished(&self) -> bool {
        self.dir.join(SCORES).is_file()
    }

    /// The `strand train` flags of this cell (`--resume` when its directory was started).
    pub fn train_flags(&self, train: &ExperimentConfig, data_dir: Option<&Path>) -> Vec<String> {
        let mut f: Vec<String> = vec![
            "--task".into(),
            self.task.clone(),
            "--model".into(),
            self.model.clone(),
            "--tokenizer".into(),
            self.tokenizer.tokenizer.clone(),
            "--seed".into(),
            self.seed.to_string(),
            "--out".into(),
            self.dir.display().to_string(),
        ];
        // Every `[train]` key is the flag of the same name (validated to exclude the grid's).
        // `[train.split]` has no flag (config files only): the sweep hands it to the parsed
        // arguments as it is (see `cli::sweep`).
        if let Ok(serde_json::Value::Object(keys)) = serde_json::to_value(train) {
            for (key, value) in keys {
                if key == "split" {
                    continue;
                }
                let value = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                f.push(format!("--{}", key.replace('_', "-")));
                f.push(value);
            }
        }
        if let Some(init) = &self.init {
            f.extend(["--init".into(), init.display().to_string()]);
        }
        if let Some(d) = data_dir {
            f.extend(["--data-dir".into(), d.display().to_string()]);
        }
        if self.dir.join(crate::run::run_dir::CONFIG).is_file() {
            f.push("--resume".into());
        }
        f
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../configs/sweeps/tokenization-cnnprom.toml");

    /// The shipped tokenization sweep, parsed and validated.
    pub(crate) fn shipped() -> SweepConfig {
        let c: SweepConfig = toml::from_str(SHIPPED).unwrap();
        c.validate().unwrap();
        c
    }

    #[test]
    fn shipped_config_expands_to_the_full_grid() {
        let c = shipped();
        let cells = c.cells(Path::new("/sweep"));
        assert_eq!(cells.len(), 3 * 3);
        let mut dirs: Vec<_> = cells.iter().map(|c| c.dir.clone()).collect();
        dirs.sort();
        dirs.dedup();
        assert_eq!(dirs.len(), 9, "run directories must be unique");
        assert_eq!(
            cells[0].dir,
            Path::new("/sweep/nucleotide/t5-tiny/cnnprom_ecoli/seed-0")
        );
        assert_eq!(
            cells[0].init.as_deref(),
            Some(Path::new("/sweep/pretrain/nucleotide/checkpoints/latest"))
        );
        let names: Vec<_> = cells.iter().map(|c| c.tokenizer.name.as_str()).collect();
        assert_eq!(
            names[..4],
            ["nucleotide", "nucleotide", "nucleotide", "kmer6"]
        );
        for t in &c.tokenizers {
            assert!(t.pretrain.as_ref().unwrap().starts_with("configs/pretrain"));
        }
    }

    #[test]
    fn unknown_keys_and_empty_axes_are_rejected() {
        let bad = SHIPPED.replace("seeds = [0]", "seeds = [0]\nsedes = [1]");
        let e = toml::from_str::<SweepConfig>(&bad).unwrap_err().to_string();
        assert!(e.contains("sedes"), "{e}");
        let bad = SHIPPED.replace("epochs = 1", "epochs = 1\nwarmup = 2");
        assert!(toml::from_str::<SweepConfig>(&bad).is_err());
        let empty: SweepConfig =
            toml::from_str(&SHIPPED.replace("seeds = [0]", "seeds = []")).unwrap();
        assert!(empty.validate().unwrap_err().to_string().contains("seeds"));
        let twice: SweepConfig =
            toml::from_str(&SHIPPED.replace("name = \"kmer6\"", "name = \"nucleotide\"")).unwrap();
        assert!(twice.validate().is_err());
    }

    #[test]
    fn finished_cells_and_pretraining_are_skipped_and_started_ones_resume() {
        let tmp = tempfile::tempdir().unwrap();
        let c = shipped();
        let pre = c.pretrain_dir(tmp.path(), &c.tokenizers[1]);
        assert!(!pretrain_finished(&pre));
        for step in [100, 300, 200] {
            std::fs::create_dir_all(pre.join("checkpoints").join(format!("step-{step}"))).unwrap();
        }
        std::fs::write(pre.join("summary.json"), "{}").unwrap();
        assert!(pretrain_finished(&pre));
        assert_eq!(final_checkpoint(&pre), pre.join("checkpoints/step-300"));

        let cells = c.cells(tmp.path());
        assert_eq!(
            cells[3].init.as_deref(),
            Some(pre.join("checkpoints/step-300").as_path())
        );
        assert!(cells.iter().all(|c| !c.finished()));
        std::fs::create_dir_all(&cells[0].dir).unwrap();
        std::fs::write(cells[0].dir.join(SCORES), "{}").unwrap();
        std::fs::create_dir_all(&cells[1].dir).unwrap();
        std::fs::write(cells[1].dir.join(crate::run::run_dir::CONFIG), "").unwrap();
        let cells = c.cells(tmp.path());
        let pending: Vec<usize> = (0..cells.len()).filter(|&i| !cells[i].finished()).collect();
        assert_eq!(pending, (1..9).collect::<Vec<_>>());
        let resume = |i: usize| {
            cells[i]
                .train_flags(&c.train, None)
                .contains(&"--resume".to_string())
        };
        assert!(resume(1));
        assert!(!resume(2));
    }

    const HUMAN: &str = include_str!("../../../configs/sweeps/tokenization-human.toml");

    #[test]
    fn human_sweep_pairs_every_pretrained_tokenizer_with_its_scratch_run() {
        let c: SweepConfig = toml::from_str(HUMAN).unwrap();
        c.validate().unwrap();
        assert_eq!(c.cells(Path::new("/s")).len(), 10 * 2 * 3);
        let pretrained: Vec<_> = c
            .tokenizers
            .iter()
            .filter(|t| t.pretrain.is_some())
            .collect();
        assert_eq!(pretrained.len(), 5);
        for t in pretrained {
            let scratch = c
                .tokenizers
                .iter()
                .find(|s| s.name == format!("{}-scratch", t.name))
                .unwrap_or_else(|| panic!("no scratch run for {}", t.name));
            assert_eq!(scratch.tokenizer, t.tokenizer);
            assert!(scratch.pretrain.is_none());
            // Every pretraining config exists, names the same tokenizer and uses human DNA.
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let p = crate::pretrain::PretrainConfig::load(&dir.join(t.pretrain.as_ref().unwrap()))
                .unwrap();
            assert_eq!(p.tokenizer, t.tokenizer);
            assert!(p.data.corpus.ends_with("GRCh37_chr20.fa.gz"));
            assert_eq!(p.objective.encoder_length, 128);
            // No tokenizer overrides the shared budget in bases.
            assert_eq!(t.pretrain_steps, None);
            assert_eq!(c.pretrain_budget_flags(t), ["--bases", "500000"]);
        }
    }

    #[test]
    fn the_budget_scales_pretraining_and_fine_tuning_steps() {
        let mut c: SweepConfig = toml::from_str(HUMAN).unwrap();
        assert_eq!(c.budget, 1.0);
        assert_eq!(c.scaled_train(), c.train);
        c.budget = 2.5;
        c.validate().unwrap();
        // 1 epoch × 60 steps × 2.5 = 150 steps: 3 epochs of 50 (never more per epoch than
        // the file's 60, which the trainer would cap at one pass over the split).
        assert_eq!(c.scaled_train().epochs, Some(3));
        assert_eq!(c.scaled_train().epoch_steps, Some(50));
        // The GPU scale of the README: 200 × (1 × 60) = 200 epochs of 60 steps.
        c.budget = 200.0;
        assert_eq!(c.scaled_train().epochs, Some(200));
        assert_eq!(c.scaled_train().epoch_steps, Some(60));
        // Below one epoch's worth, the one epoch gets shorter.
        c.budget = 0.5;
        assert_eq!(c.scaled_train().epochs, Some(1));
        assert_eq!(c.scaled_train().epoch_steps, Some(30));
        // Several epochs in the file: 4 × 60 × 1.5 = 360 = 6 epochs of 60.
        c.train.epochs = Some(4);
        c.budget = 1.5;
        assert_eq!(c.scaled_train().epochs, Some(6));
        assert_eq!(c.scaled_train().epoch_steps, Some(60));
        c.train.epochs = Some(1);
        c.budget = 2.5;
        assert_eq!(
            c.pretrain_budget_flags(&c.tokenizers[0]),
            ["--bases", "1250000"]
        );
        // Without epoch_steps the epochs scale (default 10); never below one.
        c.train.epoch_steps = None;
        c.train.epochs = None;
        assert_eq!(c.scaled_train().epochs, Some(25));
        c.budget = 0.001;
        assert_eq!(c.scaled_train().epochs, Some(1));
        // A tokenizer's own pretrain_steps wins over the bases, and scales too.
        let mut s = shipped();
        s.budget = 2.0;
        assert_eq!(
            s.pretrain_budget_flags(&s.tokenizers[0]),
            ["--steps", "300"]
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            s.budget = bad;
            assert!(
                s.validate().unwrap_err().to_string().contains("budget"),
                "{bad}"
            );
        }
    }

    #[test]
    fn axis_values_never_leave_out_nor_share_a_directory() {
        let mut c = shipped();
        c.models = vec!["..".into(), "../../etc".into()];
        c.validate().unwrap();
        for cell in c.cells(Path::new("/sweep")) {
            let rel = cell.dir.strip_prefix("/sweep").unwrap();
            assert!(
                rel.components()
                    .all(|p| matches!(p, std::path::Component::Normal(_))),
                "{}",
                cell.dir.display()
            );
        }
        let mut c = shipped();
        c.tasks = vec!["cnnprom/ecoli".into(), "cnnprom:ecoli".into()];
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("cnnprom/ecoli") && e.contains("cnnprom:ecoli"),
            "{e}"
        );
        let mut c = shipped();
        c.seeds = vec![1, 1];
        assert!(c.validate().unwrap_err().to_string().contains("twice"));
    }
}
