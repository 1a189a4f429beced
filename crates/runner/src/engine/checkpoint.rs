//! The one way strand writes training state to disk, for fine-tuning ([`crate::run::checkpoint`])
//! and pretraining ([`crate::pretrain::checkpoint`]) alike:
//!
//! - weights and optimizer state are burn's burnpack files (`.bpk`; [`save_weights`],
//!   [`save_optimizer`]); the MessagePack `.mpk` files of a strand built on burn 0.21 cannot be
//!   read and are refused by name ([`refuse_old_format`]);
//! - every file is written to a temporary name, fsynced, then renamed into place
//!   ([`write_atomic`], [`save_weights`]);
//! - a checkpoint is a directory filled under `.tmp-<name>/`, every file and the directory
//!   fsynced, then renamed to `<name>` and the parent fsynced ([`save_dir`]): a crash leaves
//!   either the new checkpoint complete or the previous one untouched;
//! - older checkpoints are removed only after that rename ([`prune`]), so the last good one
//!   always survives;
//! - the randomness of a step is a function of `(seed, step)` ([`step_seed`]), so that a resumed
//!   run draws the same numbers as an uninterrupted one.

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Extension of the weights and optimizer files strand writes: burn's burnpack (full
/// precision, tensors named by their module path, parameter ids kept so that optimizer state
/// finds its parameters again).
pub const EXT: &str = "bpk";

/// Extension of the weights and optimizer files of a strand built on burn 0.21 (burn's named
/// MessagePack), which burn 0.22 cannot read.
pub const OLD_EXT: &str = "mpk";

/// Errors when `path` (a `.bpk` file) is missing but its `.mpk` sibling exists: a run or
/// checkpoint written by a strand built on burn 0.21. The error names the old file.
pub fn refuse_old_format(path: &Path) -> Result<()> {
    let old = path.with_extension(OLD_EXT);
    if !path.exists() && old.is_file() {
        bail!(
            "{} was written by a strand built on burn 0.21, whose MessagePack (.mpk) weights this \
             strand (burn 0.22, burnpack .bpk files) cannot read; retrain to get {}",
            old.display(),
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("a .bpk file")
        );
    }
    Ok(())
}

/// SplitMix64 of `(a, b)`: well-mixed, distinct streams for distinct pairs.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_add(b.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per-step device seed, so that any randomness inside a step (dropout) is the same whether or
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
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(contents)?;
    persist(tmp, path)
}

/// Makes the temporary file `tmp` durable and renames it to `path`, readable by others as a
/// file written by `File::create` would be (a temporary file is created owner-only).
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A temporary name beside `path` that keeps its extension: burn appends `.bpk` to a path
/// without one, so the temporary file must be named, not left extensionless.
fn temporary(path: &Path) -> (PathBuf, PathBuf) {
    let parent = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("weights.bpk");
    let tmp = parent.join(format!(".tmp-{name}"));
    (parent, tmp)
}

/// `model` as strand saves it: [`Module::valid`], the same parameters (ids and values) without
/// autodiff and with batch-norm running statistics up to date.
///
/// burn 0.22 keeps the latest update of a running statistic (`RunningState`) pending until the
/// next update or `valid()`, and takes a record (`save_file`) without applying it: saving `model`
/// itself would store the statistics of one step earlier, and a run resumed from that checkpoint
/// would validate with other statistics than an uninterrupted one (`tests/resume.rs`).
/// `valid()` applies the pending update to `model` too, as its next step would.
pub fn snapshot<M: Module>(model: &M) -> M {
    model.valid()
}

/// Saves `model`'s weights ([`snapshot`]) into `path` (a `.bpk` file) atomically: written under
/// a temporary name, fsynced, renamed, the directory fsynced.
pub fn save_weights<M: Module>(model: &M, path: &Path) -> Result<()> {
    debug_assert_eq!(path.extension().and_then(|e| e.to_str()), Some(EXT));
    let (parent, tmp) = temporary(path);
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    snapshot(model)
        .save_file(&tmp)
        .with_context(|| format!("saving weights to {}", tmp.display()))?;
    fsync(&tmp)?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    fsync(&parent)
}

/// Loads the weights in `path` (a `.bpk` file written by [`save_weights`]) into `model`, which
/// must have the same parameters (same paths and shapes). An old `.mpk` file in its place is
/// refused by name ([`refuse_old_format`]).
pub fn load_weights<M: Module>(model: M, path: &Path) -> Result<M> {
    refuse_old_format(path)?;
    model
        .try_load_file(path)
        .with_context(|| format!("loading weights {}", path.display()))
}

/// Writes optimizer state into `path` (a `.bpk` file); [`save_dir`] makes it durable.
pub fn save_optimizer(optim: &ModuleOptimizer, path: &Path) -> Result<()> {
    debug_assert_eq!(path.extension().and_then(|e| e.to_str()), Some(EXT));
    optim
        .save(path)
        .with_context(|| format!("saving {}", path.display()))
}

/// Reads optimizer state written by [`save_optimizer`] into `optim` (an optimizer of the same
/// kind). The state is keyed by parameter id, which [`load_weights`] restores.
///
/// burn 0.22 materialises the state on `Device::default()` and moves it to each parameter's
/// device at the next step (values unchanged). In a build with the `cuda` feature that default is
/// CUDA even for a `--device cpu` run, so resuming needs a usable GPU there unless
/// `BURN_DEVICE=flex` is set.
pub fn load_optimizer(optim: ModuleOptimizer, path: &Path) -> Result<ModuleOptimizer> {
    refuse_old_format(path)?;
    optim
        .load(path)
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

/// The entries of a directory strand writes, other than its lock file, sorted.
pub fn own_entries(dir: &Path) -> Result<Vec<String>> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != strand_data::lock::LOCK_FILE)
        .collect();
    v.sort();
    Ok(v)
}

/// `--overwrite` of a run directory: removes the `entries` of `dir` that `is_own` says strand
/// wrote, keeps (and names) the rest.
pub fn remove_own(dir: &Path, entries: &[String], is_own: impl Fn(&str) -> bool) -> Result<()> {
    let (own, kept): (Vec<&String>, Vec<&String>) = entries.iter().partition(|n| is_own(n));
    let paths: Vec<PathBuf> = own.iter().map(|n| dir.join(n)).collect();
    prune(paths.iter().map(PathBuf::as_path))?;
    if !kept.is_empty() {
        let kept: Vec<&str> = kept.iter().map(|s| s.as_str()).collect();
        tracing::warn!(
            "--overwrite: kept files strand did not write in {}: {}",
            dir.display(),
            kept.join(", ")
        );
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
    fn weights_round_trip_atomically_and_old_files_are_refused_by_name() {
        use crate::engine::backend::cpu;
        use burn::nn::{Linear, LinearConfig};
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("w").join("model.bpk");
        let lin: Linear = LinearConfig::new(3, 2).init(&cpu());
        save_weights(&lin, &path).unwrap();
        let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["model.bpk"],
            "no temporary left, no extension added"
        );
        let fresh: Linear = LinearConfig::new(3, 2).init(&cpu());
        let loaded = load_weights(fresh, &path).unwrap();
        assert_eq!(
            loaded.weight.val().into_data(),
            lin.weight.val().into_data()
        );

        let old = tmp.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("model.mpk"), b"\x82\xa4item").unwrap();
        let e = format!(
            "{:#}",
            load_weights(lin.clone(), &old.join("model.bpk")).unwrap_err()
        );
        assert!(
            e.contains("model.mpk") && e.contains("burn 0.21") && e.contains("retrain"),
            "{e}"
        );
        // A missing file with no old sibling is an ordinary error.
        let e = format!(
            "{:#}",
            load_weights(lin, &tmp.path().join("none.bpk")).unwrap_err()
        );
        assert!(e.contains("none.bpk") && !e.contains("0.21"), "{e}");
    }

    #[test]
    fn saved_weights_hold_the_latest_batch_norm_statistics() {
        use crate::engine::backend::cpu;
        use burn::nn::{BatchNorm, BatchNormConfig};
        use burn::tensor::{Distribution, Tensor};
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("bn.bpk");
        let dev = cpu().autodiff();
        let bn: BatchNorm = BatchNormConfig::new(3).init(&dev);
        for _ in 0..2 {
            let x = Tensor::<3>::random([4, 3, 5], Distribution::Normal(2.0, 1.0), &dev);
            let _ = bn.forward(x);
        }
        save_weights(&bn, &path).unwrap();
        let loaded = load_weights(BatchNormConfig::new(3).init(&cpu()), &path).unwrap();
        // Both training steps are in the file, as in the model's next step or `valid()`.
        let want = bn.valid().running_mean.value().into_data();
        assert_eq!(loaded.running_mean.value().into_data(), want);
        let zeros = Tensor::<1>::zeros([3], &cpu()).into_data();
        assert_ne!(want, zeros, "the statistics moved");
    }

    #[test]
    fn step_seeds_differ_by_step_and_seed() {
        assert_ne!(step_seed(0, 1), step_seed(0, 2));
        assert_ne!(step_seed(0, 1), step_seed(1, 1));
        assert_eq!(mix(3, 4), mix(3, 4));
    }
}
