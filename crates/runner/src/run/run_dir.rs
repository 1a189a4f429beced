//! The run directory, the unit of record: `config.resolved.toml`, `model.json` (the sized model),
//! `model.bpk` (best-on-valid weights, burn's burnpack format), `metrics.jsonl` (one line per
//! step and per epoch), `scores.json` (per split: every metric, plus what produced them) and
//! `outputs.<split>.tsv` (per-record outputs and labels of the evaluation split, for the HTML
//! report: [`crate::run::outputs`]).
//!
//! Run directories of a strand built on burn 0.21 hold `model.mpk` (MessagePack), which this
//! strand cannot read: `strand eval` on one is an error naming that file.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strand_data::lock::{DirLock, LOCK_FILE};

pub const CONFIG: &str = "config.resolved.toml";
pub const MODEL_SPEC: &str = "model.json";
/// Best-on-valid weights (burnpack; see [`crate::engine::checkpoint::save_weights`]).
pub const WEIGHTS: &str = "model.bpk";
pub const METRICS: &str = "metrics.jsonl";
pub const SCORES: &str = "scores.json";

/// Paths inside one run directory, locked for this process (see [`strand_data::lock`]) when it
/// was opened with [`RunDir::existing`] or [`RunDir::create`].
#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
    lock: Option<Arc<DirLock>>,
}

/// Whether `root` holds a strand run (a config, a model spec or scores).
pub fn is_run(root: &Path) -> bool {
    [CONFIG, MODEL_SPEC, SCORES]
        .iter()
        .any(|f| root.join(f).is_file())
}

/// Whether `name` is a file or folder strand writes in a run directory.
fn is_strand_file(name: &str) -> bool {
    matches!(
        name,
        CONFIG | MODEL_SPEC | METRICS | SCORES | "checkpoints" | "model.mpk" | "model.bpk"
    ) || name.starts_with(".tmp")
        || ((name.starts_with("predictions") || name.starts_with("outputs."))
            && name.ends_with(".tsv"))
        || name == LOCK_FILE
}

impl RunDir {
    /// A run directory to read only (no lock).
    pub fn unlocked(root: &Path) -> Self {
        RunDir {
            root: root.to_path_buf(),
            lock: None,
        }
    }

    /// Opens and locks an existing run directory (it must hold at least a config).
    pub fn existing(root: &Path) -> Result<Self> {
        if !root.join(CONFIG).is_file() {
            bail!(
                "{} is not a strand run directory (no {CONFIG})",
                root.display()
            );
        }
        Ok(RunDir {
            root: root.to_path_buf(),
            lock: Some(Arc::new(DirLock::acquire(root)?)),
        })
    }

    /// Prepares and locks `root` for a new run. A run already there (finished or not) or any
    /// other non-empty directory is refused unless `overwrite`; `overwrite` replaces only a
    /// strand run, and only strand's own files in it (other files are kept, and a directory
    /// that is not a run is refused: `--overwrite` never deletes a user's files).
    pub fn create(root: &Path, overwrite: bool) -> Result<Self> {
        if root.exists() && !root.is_dir() {
            bail!("--out {} exists and is not a directory", root.display());
        }
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create run directory {}", root.display()))?;
        let lock = Arc::new(DirLock::acquire(root)?);
        let entries = crate::engine::checkpoint::own_entries(root)?;
        if !entries.is_empty() {
            let run = is_run(root);
            if !overwrite {
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
            }
            if !run {
                bail!(
                    "{} is not empty and is not a strand run (it holds {}); choose another --out \
                     (--overwrite replaces only strand runs and never deletes other files)",
                    root.display(),
                    entries
                        .iter()
                        .take(3)
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            crate::engine::checkpoint::remove_own(root, &entries, is_strand_file)?;
        }
        Ok(RunDir {
            root: root.to_path_buf(),
            lock: Some(lock),
        })
    }

    /// Whether this process holds the directory's lock.
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
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
    /// split → metric → value (`loss` included; `n` = records scored). A metric that is not
    /// defined on the split (AUROC with one class, ρ of constant labels) is NaN, written as
    /// `null` (JSON has no NaN) and read back as NaN.
    #[serde(with = "nan_as_null")]
    pub splits: BTreeMap<String, BTreeMap<String, f64>>,
}

/// split → metric → value with NaN ↔ `null`.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    type Splits = BTreeMap<String, BTreeMap<String, f64>>;

    pub fn serialize<S: Serializer>(splits: &Splits, s: S) -> Result<S::Ok, S::Error> {
        let out: BTreeMap<&String, BTreeMap<&String, Option<f64>>> = splits
            .iter()
            .map(|(k, m)| {
                let m = m
                    .iter()
                    .map(|(n, v)| (n, Some(*v).filter(|v| !v.is_nan())))
                    .collect();
                (k, m)
            })
            .collect();
        out.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Splits, D::Error> {
        let raw: BTreeMap<String, BTreeMap<String, Option<f64>>> = Deserialize::deserialize(d)?;
        Ok(raw
            .into_iter()
            .map(|(k, m)| {
                (
                    k,
                    m.into_iter()
                        .map(|(n, v)| (n, v.unwrap_or(f64::NAN)))
                        .collect(),
                )
            })
            .collect())
    }
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
        drop(r); // releases the directory's lock
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

    #[test]
    fn overwrite_never_deletes_a_users_files() {
        let d = tempfile::tempdir().unwrap();
        // Not a run: refused even with --overwrite, nothing deleted.
        let mine = d.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("pos.fa"), ">a\nACGT\n").unwrap();
        let e = RunDir::create(&mine, true).unwrap_err().to_string();
        assert!(
            e.contains("not a strand run") && e.contains("pos.fa"),
            "{e}"
        );
        assert!(mine.join("pos.fa").is_file());
        // A run with a user's file in it: strand's files go, the user's file stays.
        let run = d.path().join("run");
        let r = RunDir::create(&run, false).unwrap();
        r.write_atomic(CONFIG, b"").unwrap();
        r.write_atomic(SCORES, b"{}").unwrap();
        std::fs::create_dir(run.join("checkpoints")).unwrap();
        std::fs::write(run.join("notes.txt"), "mine").unwrap();
        drop(r);
        RunDir::create(&run, true).unwrap();
        assert!(!run.join(SCORES).exists() && !run.join("checkpoints").exists());
        assert_eq!(
            std::fs::read_to_string(run.join("notes.txt")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn a_locked_run_directory_is_refused_naming_the_process() {
        let d = tempfile::tempdir().unwrap();
        let held = RunDir::create(d.path(), false).unwrap();
        held.write_atomic(CONFIG, b"").unwrap();
        assert!(held.is_locked());
        let e = RunDir::existing(d.path()).unwrap_err().to_string();
        assert!(e.contains("in use by pid"), "{e}");
        let e = RunDir::create(d.path(), true).unwrap_err().to_string();
        assert!(e.contains("in use by pid"), "{e}");
        assert!(
            d.path().join(CONFIG).is_file(),
            "a refused --overwrite deletes nothing"
        );
        drop(held);
        RunDir::existing(d.path()).unwrap();
    }

    #[test]
    fn nan_metrics_round_trip_through_scores_json() {
        let text = r#"{"strand_version":"0","task":"t","data_version":"1","model":"m",
            "tokenizer":"nucleotide","seed":0,"split_seed":0,"fold":null,"global_batch":8,
            "epochs":1,"best_epoch":1,"selection_metric":"mcc","metrics":["mcc","auroc"],
            "eval_split":"test","config":"config.resolved.toml",
            "splits":{"test":{"auroc":null,"mcc":0.5}}}"#;
        let s: Scores = serde_json::from_str(text).unwrap();
        assert!(s.splits["test"]["auroc"].is_nan());
        let again: Scores = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert!(again.splits["test"]["auroc"].is_nan());
        assert_eq!(again.splits["test"]["mcc"], 0.5);
    }
}
