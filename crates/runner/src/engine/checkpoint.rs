//! The one way strand writes training state to disk, for fine-tuning ([`crate::run::checkpoint`])
//! and pretraining ([`crate::pretrain::checkpoint`]) alike:
//!
//! - every file is written to a temporary name, fsynced, then renamed into place
//!   ([`write_atomic`], [`save_weights`]);
//! - a checkpoint is a directory filled under `.tmp-<name>/`, every file and the directory
//!   fsynced, then renamed to `<name>` and the parent fsynced ([`save_dir`]): a crash leaves
//!   either the new checkpoint complete or the previous one untouched;
//! - older checkpoints are removed only after that rename ([`prune`]), so the last good one
//!   always survives;
//! - the randomness of a step is a function of `(seed, step)` ([`step_seed`]), so that a resumed
//!   run draws the same numbers as an uninterrupted one.

use anyhow::{Context, Result};
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Record, Recorder};
use burn::tensor::backend::Backend;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The recorder for weights and optimizer state: burn's named MessagePack, full precision.
pub fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::<FullPrecisionSettings>::new()
}

/// SplitMix64 of `(a, b)`: well-mixed, distinct streams for distinct pairs.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_add(b.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per-step backend seed, so that any randomness inside a step (dropout) is the same whether or
/// not the run was resumed.
pub fn step_seed(seed: u64, step: u64) -> u64 {
    mix(seed ^ 0x5354_5241_4E44_5354, step)
}

/// Flushes `path` (a file or a directory) to disk.
pub fn fsync(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", path.display()))
}

/// Replaces `path` with `contents` atomically (temporary file in the same directory, fsynced,
/// renamed).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Saves `model`'s weights into `path` (a `.mpk` file) atomically.
pub fn save_weights<B: Backend, M: Module<B>>(model: &M, path: &Path) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("weights.mpk");
    let tmp = parent.join(format!(".tmp-{name}"));
    model
        .clone()
        .save_file(tmp.clone(), &recorder())
        .with_context(|| format!("saving weights to {}", tmp.display()))?;
    fsync(&tmp)?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    fsync(parent)
}

/// Writes a record (optimizer state) into `path`; [`save_dir`] makes it durable.
pub fn save_record<B: Backend, R: Record<B>>(record: R, path: &Path) -> Result<()> {
    recorder()
        .record(record, path.to_path_buf())
        .with_context(|| format!("saving {}", path.display()))
}

/// Reads a record written by [`save_record`].
pub fn load_record<B: Backend, R: Record<B>>(path: &Path, device: &B::Device) -> Result<R> {
    recorder()
        .load(path.to_path_buf(), device)
        .with_context(|| format!("loading {}", path.display()))
}

/// Writes the checkpoint directory `dir`: `fill` writes its files into a temporary sibling,
/// every file and the directory are fsynced, and the directory is renamed to `dir` (replacing an
/// older `dir`, which only a run resumed from that very checkpoint writes again).
pub fn save_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = dir.file_name().and_then(|s| s.to_str()).unwrap_or("ckpt");
    let tmp = parent.join(format!(".tmp-{name}"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    std::fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    fill(&tmp)?;
    for entry in std::fs::read_dir(&tmp).with_context(|| format!("reading {}", tmp.display()))? {
        fsync(&entry?.path())?;
    }
    fsync(&tmp)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::rename(&tmp, dir).with_context(|| format!("renaming into {}", dir.display()))?;
    fsync(parent)
}

/// Entries of `root` whose names `key` maps to a sort key, sorted by it (oldest first).
pub fn list<K: Ord>(root: &Path, key: impl Fn(&str) -> Option<K>) -> Vec<(K, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut v: Vec<(K, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((key(e.file_name().to_str()?)?, e.path())))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Removes the given checkpoint directories and files.
pub fn prune<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for p in paths {
        let removed = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
        removed.with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_dir_replaces_atomically_and_leaves_no_temporary() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ckpt-1");
        save_dir(&dir, |d| Ok(std::fs::write(d.join("a"), "1")?)).unwrap();
        save_dir(&dir, |d| Ok(std::fs::write(d.join("b"), "2")?)).unwrap();
        assert!(!dir.join("a").exists() && dir.join("b").is_file());
        assert!(!tmp.path().join(".tmp-ckpt-1").exists());
        let failed = save_dir(&dir, |_| anyhow::bail!("disk full"));
        assert!(failed.is_err());
        assert!(
            dir.join("b").is_file(),
            "a failed write keeps the old checkpoint"
        );
    }

    #[test]
    fn list_sorts_by_key_and_ignores_other_names() {
        let tmp = tempfile::tempdir().unwrap();
        for n in ["step-10", "step-2", "other", "step-x"] {
            std::fs::create_dir(tmp.path().join(n)).unwrap();
        }
        let got = list(tmp.path(), |n| n.strip_prefix("step-")?.parse::<u64>().ok());
        let keys: Vec<u64> = got.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![2, 10]);
    }

    #[test]
    fn step_seeds_differ_by_step_and_seed() {
        assert_ne!(step_seed(0, 1), step_seed(0, 2));
        assert_ne!(step_seed(0, 1), step_seed(1, 1));
        assert_eq!(mix(3, 4), mix(3, 4));
    }
}
