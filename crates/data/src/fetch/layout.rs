//! Where fetched data lives in the cache, and how a dataset directory becomes "complete".
//!
//! ```text
//! <cache>/checksums.json                       checksums recorded on first fetch
//! <cache>/gb/<name>/{train,test}/<class>/<id>.txt   Genomic Benchmarks, native layout
//! <cache>/gb_intervals/<name>/metadata.yaml, {train,test}/<class>.csv.gz
//! <cache>/guanine/<task>/...                   GUANinE, the Hugging Face repository layout
//! <cache>/reference/<name>/<name>.fa.gz(.fai,.gzi)   reference genomes, bgzip + indexes
//! <cache>/<suite>/.partial/...                 downloads and staging, never read by other commands
//! ```
//!
//! A dataset directory is built in `.partial/`, gets its [`COMPLETE_MARKER`] written last, and is
//! then renamed into place: a directory at the final path without the marker was not made by
//! `strand fetch` and is never overwritten.

use crate::{DataError, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Name of the marker file written last into a complete dataset directory.
pub const COMPLETE_MARKER: &str = ".complete";

/// Cache sub-directory of each kind of data.
pub const GB_DIR: &str = "gb";
pub const GB_INTERVALS_DIR: &str = "gb_intervals";
pub const GUANINE_DIR: &str = "guanine";
pub const REFERENCE_DIR: &str = "reference";
/// Per-suite directory of downloads in progress and staged datasets.
pub const PARTIAL_DIR: &str = ".partial";

/// `<cache>/gb/<name>`: a Genomic Benchmarks dataset in the native layout.
pub fn gb_dataset_dir(cache: &Path, name: &str) -> PathBuf {
    cache.join(GB_DIR).join(name)
}

/// `<cache>/gb_intervals/<name>`: a Genomic Benchmarks dataset as interval files.
pub fn gb_intervals_dir(cache: &Path, name: &str) -> PathBuf {
    cache.join(GB_INTERVALS_DIR).join(name)
}

/// `<cache>/guanine/<task>`: a GUANinE task in the Hugging Face layout.
pub fn guanine_task_dir(cache: &Path, task: &str) -> PathBuf {
    cache.join(GUANINE_DIR).join(task)
}

/// `<cache>/reference/<name>`: a reference genome.
pub fn reference_dir(cache: &Path, name: &str) -> PathBuf {
    cache.join(REFERENCE_DIR).join(name)
}

/// `<cache>/reference/<name>/<name>.fa.gz`: the bgzip FASTA of a fetched reference genome
/// (with `.fai` and `.gzi` next to it).
pub fn reference_fasta(cache: &Path, name: &str) -> PathBuf {
    reference_dir(cache, name).join(format!("{name}.fa.gz"))
}

/// `<cache>/<suite>/.partial`: downloads in progress and datasets being staged for `suite`.
pub fn partial_dir(cache: &Path, suite: &str) -> PathBuf {
    cache.join(suite).join(PARTIAL_DIR)
}

/// Whether `dir` holds a complete dataset installed by `strand fetch`.
pub fn is_complete(dir: &Path) -> bool {
    dir.join(COMPLETE_MARKER).is_file()
}

/// One source file of an installed dataset, as recorded in its marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkerFile {
    /// Cache key of the download (see [`super::verify`]).
    pub key: String,
    pub url: String,
    pub sha256: String,
    pub size: u64,
}

/// Content of [`COMPLETE_MARKER`] (JSON): what was installed, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// `gb/<name>`, `guanine/<task>`, `reference/<name>`, ...
    pub target: String,
    /// The downloads it was built from.
    pub files: Vec<MarkerFile>,
    /// strand version that installed it.
    pub strand_version: String,
    /// Seconds since the Unix epoch.
    pub installed_unix: u64,
}

impl Marker {
    /// A marker for `target` built from `files`, stamped now.
    pub fn new(target: impl Into<String>, files: Vec<MarkerFile>) -> Self {
        Marker {
            target: target.into(),
            files,
            strand_version: env!("CARGO_PKG_VERSION").to_string(),
            installed_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    /// Reads the marker of a complete directory.
    pub fn read(dir: &Path) -> Result<Marker> {
        let path = dir.join(COMPLETE_MARKER);
        let text = fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| DataError::BadFile {
            path,
            message: format!("completion marker does not parse: {e}"),
        })
    }
}

/// Writes the marker into `staging` (the last write before [`install_dir`]).
pub fn write_marker(staging: &Path, marker: &Marker) -> Result<()> {
    let text = serde_json::to_string_pretty(marker)
        .map_err(|e| DataError::Fetch(format!("cannot serialise the completion marker: {e}")))?;
    super::verify::write_atomic(&staging.join(COMPLETE_MARKER), text.as_bytes())
}

/// Renames the complete directory `staging` to `dest` (same file system). Fails if `dest`
/// exists: a complete one should have been found before fetching, and an incomplete one was not
/// made by `strand fetch` and is left alone.
pub fn install_dir(staging: &Path, dest: &Path) -> Result<()> {
    if !is_complete(staging) {
        return Err(DataError::Fetch(format!(
            "internal error: {} has no completion marker",
            staging.display()
        )));
    }
    check_free(dest)?;
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    }
    fs::rename(staging, dest).map_err(|e| DataError::io(dest, e))?;
    if let Some(parent) = dest.parent() {
        // Make the rename durable where the platform allows it (a no-op error elsewhere).
        if let Ok(d) = fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Errors when `dest` exists but is not a complete fetched dataset.
pub fn check_free(dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(DataError::Fetch(format!(
            "{} exists but was not installed by `strand fetch` (no {COMPLETE_MARKER} marker); \
             move it away, or point --data-dir at its parent to use it as it is",
            dest.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_renames_a_marked_directory_and_refuses_to_overwrite() {
        let cache = tempfile::tempdir().unwrap();
        let staging = partial_dir(cache.path(), GB_DIR).join("x");
        fs::create_dir_all(staging.join("train")).unwrap();
        let dest = gb_dataset_dir(cache.path(), "x");
        // Without the marker nothing moves.
        assert!(install_dir(&staging, &dest).is_err());
        assert!(!dest.exists());
        write_marker(&staging, &Marker::new("gb/x", vec![])).unwrap();
        install_dir(&staging, &dest).unwrap();
        assert!(is_complete(&dest) && !staging.exists());
        assert_eq!(Marker::read(&dest).unwrap().target, "gb/x");

        // A foreign directory at the destination is never replaced.
        let other = partial_dir(cache.path(), GB_DIR).join("y");
        fs::create_dir_all(&other).unwrap();
        write_marker(&other, &Marker::new("gb/y", vec![])).unwrap();
        let foreign = gb_dataset_dir(cache.path(), "y");
        fs::create_dir_all(foreign.join("mine")).unwrap();
        let e = install_dir(&other, &foreign).unwrap_err().to_string();
        assert!(e.contains("not installed by `strand fetch`"), "{e}");
        assert!(foreign.join("mine").exists());
    }
}
