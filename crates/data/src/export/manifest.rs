//! `split.json`, written beside an export: the files, their record counts (per class), which
//! splits strand derived, and the [`SplitPlan`] (seed, fractions) that derived them.

use crate::split::SplitPlan;
use crate::{DataError, Result, Split};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One split of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSummary {
    pub split: Split,
    /// File (or folder, for `gb`) name inside the export folder.
    pub file: String,
    pub records: u64,
    /// Made by strand (see [`Manifest::split_plan`]), not shipped by the publisher.
    pub derived: bool,
    /// Records per class name (classification tasks; empty otherwise).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<String, u64>,
}

/// The contents of `split.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The task spec's card name (`cnnprom/ecoli`, `gb/human_enhancers_ensembl`, …).
    pub task: String,
    /// `gb`, `fasta`, `csv`, `tsv` or `parquet`.
    pub format: String,
    /// Column names of the table formats, in file order (empty for `gb` and `fasta`).
    pub columns: Vec<String>,
    /// The splits the publisher ships.
    pub published_splits: Vec<Split>,
    /// How the derived splits were made (`None`: every split is the publisher's).
    pub split_plan: Option<SplitPlan>,
    pub splits: Vec<SplitSummary>,
    pub strand_version: String,
}

impl Manifest {
    /// Reads `split.json`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| DataError::BadFile {
            path: path.to_path_buf(),
            message: format!("not an export manifest: {e}"),
        })
    }
}

/// Writes `value` as pretty JSON with a trailing newline.
pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| DataError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| DataError::io(path, e))
}
