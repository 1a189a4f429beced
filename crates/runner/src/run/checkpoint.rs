//! Checkpoints of `strand train`, under `<run>/checkpoints/`:
//!
//! ```text
//! ckpt-<batches:012>-<0|1>/   one complete checkpoint (1 = written after the epoch's validation)
//!     model.bpk               weights (burn's burnpack, full precision)
//!     optimizer.bpk           optimizer state (Adam moments and step counts, burnpack)
//!     state.json              CheckpointState: counters, stream position, best, what it fits
//! best-epoch-<e>.bpk          best-on-valid weights so far (named by the state's `best_weights`)
//! ```
//!
//! Checkpoints of a strand built on burn 0.21 (layout version 1, `model.mpk`) cannot be read;
//! resuming one is an error naming the file.
//!
//! A checkpoint is written into `.tmp-<name>/`, each file fsynced, then renamed into place, so a
//! crash at any point leaves either the new checkpoint complete or the previous one untouched.
//! Only after the rename are older checkpoints (and best-weight files no longer referenced)
//! removed: the last good checkpoint always survives.
//!
//! The RNG state is a function of `(seed, step)`: the device is re-seeded before every step
//! (see [`step_seed`]) and epoch `e` is shuffled with a seed derived from `(seed, e)`, so the
//! data-stream position (epoch + batches consumed within it) and the step restore both exactly.

use crate::config::model_preset::ModelSpec;
use crate::engine::checkpoint::{self as engine, fsync};
pub use crate::engine::checkpoint::{save_weights, step_seed};
use crate::run::run_dir::RunDir;
use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The folder of a run that holds its checkpoints.
pub const DIR: &str = "checkpoints";
const STATE: &str = "state.json";
const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
/// Version of the checkpoint layout (`state.json`'s `format`). 2: burnpack `.bpk` weights and
/// optimizer state (burn 0.22); 1 was MessagePack `.mpk` (burn 0.21).
const FORMAT: u32 = 2;

/// `best-epoch-<e>.bpk`: the file under `checkpoints/` holding epoch `e`'s weights.
pub fn best_weights_name(epoch: usize) -> String {
    format!("best-epoch-{epoch}.{}", engine::EXT)
}

/// Everything of a run that is not a tensor. Floats are kept as their bit patterns so that a
/// resumed run continues from exactly the same numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointState {
    pub format: u32,
    /// Optimizer steps taken.
    pub step: u64,
    /// Epochs finished (validated).
    pub epoch: usize,
    /// Batches of epoch `epoch + 1` already consumed (trained or skipped).
    pub batches_in_epoch: u64,
    /// Batches consumed since the start of the run (trained or skipped).
    pub batches_total: u64,
    /// Training seed.
    pub seed: u64,
    /// Best epoch so far on the validation metric, the metric's value (`f64` bits), and the
    /// file under `checkpoints/` holding its weights.
    pub best: Option<Best>,
    /// Sum over the trained records of the current epoch of the loss (`f64` bits), and their
    /// count, for the epoch's mean training loss.
    pub epoch_loss_sum_bits: u64,
    pub epoch_rows: u64,
    /// Batches skipped for a non-finite loss (`--skip-nonfinite`): in the run, in this epoch.
    pub skipped_total: u64,
    pub skipped_in_epoch: u64,
    /// Length of `metrics.jsonl` when the checkpoint was written: a resumed run cuts the file
    /// back to it, so that lines of the lost steps are not repeated.
    pub metrics_bytes: u64,
    /// What the weights fit: checked before they are loaded.
    pub model: ModelSpec,
    pub tokenizer: String,
    pub task: String,
}

/// The best epoch of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Best {
    pub epoch: usize,
    pub value_bits: u64,
    pub weights: String,
}

impl CheckpointState {
    /// The state of a run that has not trained yet.
    pub fn fresh(seed: u64, model: ModelSpec, tokenizer: String, task: String) -> Self {
        CheckpointState {
            format: FORMAT,
            step: 0,
            epoch: 0,
            batches_in_epoch: 0,
            batches_total: 0,
            seed,
            best: None,
            epoch_loss_sum_bits: 0f64.to_bits(),
            epoch_rows: 0,
            skipped_total: 0,
            skipped_in_epoch: 0,
            metrics_bytes: 0,
            model,
            tokenizer,
            task,
        }
    }

    /// Directory name: ordered by batches consumed, the post-validation one last.
    fn dir_name(&self) -> String {
        format!(
            "ckpt-{:012}-{}",
            self.batches_total,
            u8::from(self.batches_in_epoch == 0 && self.epoch > 0)
        )
    }

    /// Errors unless the checkpoint was written for this model, tokenizer and task.
    pub fn check_fits(
        &self,
        dir: &Path,
        model: &ModelSpec,
        tokenizer: &str,
        task: &str,
    ) -> Result<()> {
        if self.tokenizer != tokenizer {
            bail!(
                "checkpoint {} was written with tokenizer {:?}, but this run uses {tokenizer:?}",
                dir.display(),
                self.tokenizer
            );
        }
        if &self.model != model {
            bail!(
                "checkpoint {} holds a different model ({}) than this run builds ({}): it comes \
                 from another model, task or tokenizer",
                dir.display(),
                serde_json::to_string(&self.model)?,
                serde_json::to_string(model)?
            );
        }
        if self.task != task {
            bail!(
                "checkpoint {} was written for task {:?}, but this run trains {task:?}",
                dir.display(),
                self.task
            );
        }
        Ok(())
    }
}

/// `<run>/checkpoints`.
pub fn dir(run: &RunDir) -> PathBuf {
    run.path(DIR)
}

/// Writes a checkpoint of `model`, `optim` and `state` under `<run>/checkpoints/`, then removes
/// the older ones; returns its directory.
pub fn save<M: Module>(
    run: &RunDir,
    state: &CheckpointState,
    model: &M,
    optim: &ModuleOptimizer,
) -> Result<PathBuf> {
    let root = dir(run);
    let target = root.join(state.dir_name());
    engine::save_dir(&target, |tmp| {
        engine::snapshot(model)
            .save_file(tmp.join(MODEL))
            .with_context(|| format!("saving weights into {}", tmp.display()))?;
        engine::save_optimizer(optim, &tmp.join(OPTIMIZER))?;
        engine::write_atomic(
            &tmp.join(STATE),
            serde_json::to_string_pretty(state)?.as_bytes(),
        )
    })?;
    prune(
        &root,
        &target,
        state.best.as_ref().map(|b| b.weights.as_str()),
    )?;
    Ok(target)
}

/// Removes every checkpoint but `keep`, and best-weight files other than `best`.
fn prune(root: &Path, keep: &Path, best: Option<&str>) -> Result<()> {
    let keep = keep
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    for entry in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with("ckpt-") && name != keep {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
        } else if name.starts_with("best-epoch-") && Some(name.as_str()) != best {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        } else if name.starts_with(".tmp-") {
            // Left by a run killed while writing; never trusted, never needed.
            if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            }
            .with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// The newest complete checkpoint of a run, if any.
pub fn latest(run: &RunDir) -> Result<Option<PathBuf>> {
    let root = dir(run);
    if !root.is_dir() {
        return Ok(None);
    }
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .with_context(|| format!("reading {}", root.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ckpt-"))
        .collect();
    names.sort();
    Ok(names.pop().map(|n| root.join(n)))
}

/// Reads a checkpoint's `state.json`. A checkpoint of a strand built on burn 0.21 (its
/// `model.mpk`) is refused by name.
pub fn read_state(ckpt: &Path) -> Result<CheckpointState> {
    engine::refuse_old_format(&ckpt.join(MODEL))
        .with_context(|| format!("cannot resume from checkpoint {}", ckpt.display()))?;
    let path = ckpt.join(STATE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "checkpoint {} is incomplete: reading {}",
            ckpt.display(),
            path.display()
        )
    })?;
    let state: CheckpointState = serde_json::from_str(&text).with_context(|| {
        format!(
            "checkpoint {} is damaged: {} does not parse",
            ckpt.display(),
            path.display()
        )
    })?;
    if state.format != FORMAT {
        bail!(
            "checkpoint {} has layout version {}, this strand reads version {FORMAT}",
            ckpt.display(),
            state.format
        );
    }
    Ok(state)
}

/// Loads a checkpoint's weights and optimizer state into `model` and `optim`.
pub fn load<M: Module>(
    ckpt: &Path,
    model: M,
    optim: ModuleOptimizer,
) -> Result<(M, ModuleOptimizer)> {
    let damaged = |what: &str| {
        format!(
            "checkpoint {} is damaged or truncated: cannot read {what} (delete it to resume from \
             scratch, or train again with --overwrite)",
            ckpt.display()
        )
    };
    let model = model
        .try_load_file(ckpt.join(MODEL))
        .with_context(|| damaged(MODEL))?;
    let optim = optim
        .load(ckpt.join(OPTIMIZER))
        .with_context(|| damaged(OPTIMIZER))?;
    Ok((model, optim))
}

/// Cuts `path` back to `len` bytes (atomically); an error if it is shorter.
pub fn truncate_metrics(path: &Path, len: u64) -> Result<()> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && len == 0 => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if (text.len() as u64) < len {
        bail!(
            "{} is shorter ({} bytes) than when the checkpoint was written ({len} bytes)",
            path.display(),
            text.len()
        );
    }
    engine::write_atomic(path, &text[..len as usize])
}

/// Length of `path` after flushing it to disk (0 if missing).
pub fn synced_len(path: &Path) -> Result<u64> {
    if !path.exists() {
        return Ok(0);
    }
    fsync(path)?;
    Ok(std::fs::metadata(path)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::cpu;
    use burn::optim::AdamConfig;
    use strand_model::classifier::Objective;
    use strand_model::cnn::CnnConfig;

    fn spec(n_out: usize) -> (ModelSpec, CnnConfig) {
        let config = CnnConfig::new(109, 60, n_out);
        (
            ModelSpec::Cnn {
                name: "cnn-gb".into(),
                objective: Objective::BinaryLogit,
                config: config.clone(),
            },
            config,
        )
    }

    #[test]
    fn save_latest_load_prune_and_refuse_a_mismatch() {
        let d = tempfile::tempdir().unwrap();
        let run = RunDir::create(&d.path().join("run"), false).unwrap();
        let dev = cpu().autodiff();
        let (spec1, config) = spec(1);
        let model = config.init(&dev);
        let optim = AdamConfig::new().init();
        let mut state = CheckpointState::fresh(7, spec1.clone(), "nucleotide".into(), "t".into());
        assert!(latest(&run).unwrap().is_none());
        state.batches_total = 3;
        state.batches_in_epoch = 3;
        let a = save(&run, &state, &model, &optim).unwrap();
        state.batches_total = 5;
        state.batches_in_epoch = 0;
        state.epoch = 1;
        state.step = 5;
        let b = save(&run, &state, &model, &optim).unwrap();
        assert!(!a.exists(), "older checkpoint pruned");
        assert_eq!(latest(&run).unwrap().unwrap(), b);
        assert_eq!(read_state(&b).unwrap(), state);
        load(&b, config.init(&dev), optim.clone()).unwrap();
        state.check_fits(&b, &spec1, "nucleotide", "t").unwrap();
        let e = state
            .check_fits(&b, &spec1, "kmer:3", "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tokenizer") && e.contains("kmer:3"), "{e}");
        let (spec3, _) = spec(3);
        let e = state
            .check_fits(&b, &spec3, "nucleotide", "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("different model"), "{e}");

        // A truncated weights file is an error, not a panic.
        let m = b.join(MODEL);
        let bytes = std::fs::read(&m).unwrap();
        std::fs::write(&m, &bytes[..bytes.len() / 2]).unwrap();
        let e = format!("{:#}", load(&b, config.init(&dev), optim).err().unwrap());
        assert!(e.contains("damaged or truncated"), "{e}");

        // A checkpoint of a strand built on burn 0.21 is refused by name.
        let old = old_checkpoint(&d.path().join("old"));
        let e = format!("{:#}", read_state(&old).unwrap_err());
        assert!(
            e.contains("model.mpk") && e.contains("burn 0.21") && e.contains("retrain"),
            "{e}"
        );
    }

    /// A checkpoint directory as a strand on burn 0.21 wrote it (layout version 1, `.mpk`).
    fn old_checkpoint(dir: &Path) -> PathBuf {
        let ckpt = dir.join("ckpt-000000000004-0");
        std::fs::create_dir_all(&ckpt).unwrap();
        for f in ["model.mpk", "optimizer.mpk"] {
            std::fs::write(ckpt.join(f), b"\x82").unwrap();
        }
        std::fs::write(ckpt.join(STATE), "{\"format\": 1}").unwrap();
        ckpt
    }

    #[test]
    fn metrics_are_cut_back_to_the_checkpoint() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.jsonl");
        std::fs::write(&p, "a\nb\nc\n").unwrap();
        truncate_metrics(&p, 4).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\nb\n");
        assert!(truncate_metrics(&p, 10).is_err());
        assert_ne!(step_seed(1, 1), step_seed(1, 2));
    }
}
