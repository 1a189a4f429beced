//! The run directory, the unit of record: `config.resolved.toml`, `model.json` (the sized model),
//! `model.bpk` (best-on-valid weights, burn's burnpack format), `metrics.jsonl` (one line per
//! step and per epoch) and `scores.json` (per split: every metric, plus what produced them).
//!
//! Run directories of a strand built on burn 0.21 hold `model.mpk` (MessagePack), which this
//! strand cannot read: `strand eval` on one is an error naming that file.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG: &str = "config.resolved.toml";
pub const MODEL_SPEC: &str = "model.json";
/// Best-on-valid weights (burnpack; see [`crate::engine::checkpoint::save_weights`]).
pub const WEIGHTS: &str = "model.bpk";
pub const METRICS: &str = "metrics.jsonl";
pub const SCORES: &str = "scores.json";

/// Paths inside one run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    /// Opens an existing run directory (it must hold a `scores.json` or at least a config).
    pub fn existing(root: &Path) -> Result<Self> {
        if !root.join(CONFIG).is_file() {
            bail!(
                "{} is not a strand run directory (no {CONFIG})",
                root.display()
            );
        }
        Ok(RunDir {
            root: root.to_path_buf(),
        })
    }

    /// Prepares `root` for a new run. A finished run (with `scores.json`) or any other non-empty
    /// directory is refused unless `overwrite`, in which case its strand files are removed.
    pub fn create(root: &Path, overwrite: bool) -> Result<Self> {
        if root.exists() {
            if !root.is_dir() {
                bail!("--out {} exists and is not a directory", root.display());
            }
            let non_empty = std::fs::read_dir(root)
                .with_context(|| format!("reading {}", root.display()))?
                .next()
                .is_some();
            if non_empty && !overwrite {
                if root.join(SCORES).exists() {
                    bail!(
                        "{} holds a finished run; pass --overwrite to replace it",
                        root.display()
                    );
                }
                if root.join(CONFIG).exists() {
                    bail!(
                        "{} holds an unfinished run; pass --resume to continue it from its last \
                         checkpoint, or --overwrite to replace it",
                        root.display()
                    );
                }
                bail!(
                    "{} is not empty; pass --overwrite to replace its contents",
                    root.display()
                );
            }
            if non_empty {
                std::fs::remove_dir_all(root)
                    .with_context(|| format!("removing {}", root.display()))?;
            }
        }
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create run directory {}", root.display()))?;
        Ok(RunDir {
            root: root.to_path_buf(),
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes `name` atomically (temporary file in the same directory, then rename).
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> Result<()> {
        write_atomic(&self.path(name), contents)
    }

    /// Appends one line to `metrics.jsonl`.
    pub fn append_metrics<T: Serialize>(&self, line: &T) -> Result<()> {
        crate::engine::log::append(&self.path(METRICS), line)
    }

    pub fn read_scores(&self) -> Result<Scores> {
        Scores::read(&self.path(SCORES))
    }

    pub fn write_scores(&self, s: &Scores) -> Result<()> {
        self.write_atomic(SCORES, serde_json::to_string_pretty(s)?.as_bytes())
    }
}

pub use crate::engine::checkpoint::write_atomic;

/// `scores.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub strand_version: String,
    pub task: String,
    /// Task data version (card `version`).
    pub data_version: String,
    pub model: String,
    pub tokenizer: String,
    pub seed: u64,
    pub split_seed: u64,
    /// `[k, i]`: fold `i` of `k`.
    pub fold: Option<(usize, usize)>,
    pub global_batch: usize,
    /// Rows per forward/backward pass (`None` in runs older than gradient accumulation).
    #[serde(default)]
    pub micro_batch: Option<usize>,
    /// Micro-batches per optimizer step (`global_batch / micro_batch`).
    #[serde(default = "one")]
    pub accumulation: usize,
    pub epochs: usize,
    /// Epochs trained: `epochs`, or fewer when early stopping (`patience`) ended the run.
    #[serde(default)]
    pub epochs_trained: Option<usize>,
    /// Epoch (1-based) whose weights were kept.
    pub best_epoch: usize,
    /// The metric that chose the best epoch (on valid).
    pub selection_metric: String,
    /// The task's metrics, official first.
    pub metrics: Vec<String>,
    /// The split the official metric is reported on.
    pub eval_split: String,
    /// Run config, relative to the run directory.
    pub config: String,
    /// split → metric → value (`loss` included; `n` = records scored).
    pub splits: BTreeMap<String, BTreeMap<String, f64>>,
}

fn one() -> usize {
    1
}

impl Scores {
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_finished_and_non_empty_dirs_unless_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("run");
        let r = RunDir::create(&root, false).unwrap();
        r.write_atomic(SCORES, b"{}").unwrap();
        let e = RunDir::create(&root, false).unwrap_err().to_string();
        assert!(
            e.contains("finished run") && e.contains("--overwrite"),
            "{e}"
        );
        RunDir::create(&root, true).unwrap();
        assert!(!root.join(SCORES).exists());
        std::fs::write(root.join("x"), b"").unwrap();
        let e = RunDir::create(&root, false).unwrap_err().to_string();
        assert!(e.contains("not empty"), "{e}");
    }

    #[test]
    fn metrics_lines_append() {
        let d = tempfile::tempdir().unwrap();
        let r = RunDir::create(d.path(), false).unwrap();
        r.append_metrics(&serde_json::json!({"epoch": 1})).unwrap();
        r.append_metrics(&serde_json::json!({"epoch": 2})).unwrap();
        let text = std::fs::read_to_string(r.path(METRICS)).unwrap();
        assert_eq!(text.lines().count(), 2);
    }
}
