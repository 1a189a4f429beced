//! The lines of `metrics.jsonl`, typed: one [`StepLine`] per optimizer step (or skipped batch),
//! one [`EpochLine`] per validated epoch. Pretraining and fine-tuning write the same types; a
//! field a training kind does not have is left out of its lines.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// One optimizer step, or a batch skipped for a non-finite loss (`loss` absent, `skipped`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepLine {
    pub step: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<usize>,
    /// Batch within the epoch (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// The batch's mean loss (`null` for a skipped batch).
    pub loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_total: Option<u64>,
    /// Learning rate of the step (written when a schedule is set, and by pretraining).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Global gradient norm before clipping (written when clipping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
    /// Target tokens of the batch (pretraining).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<usize>,
    /// Seconds since the (resumed) run started (pretraining).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// The end of a validated epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLine {
    pub epoch: usize,
    pub step: u64,
    pub train_loss: f64,
    pub valid: BTreeMap<String, f64>,
    /// Whether this epoch is the best so far on the selection metric.
    pub best: bool,
    /// Batches skipped in the epoch.
    pub skipped: u64,
    pub seconds: f64,
}

/// Appends one JSON line to `path`.
pub fn append<T: Serialize>(path: &Path, line: &T) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(f, "{}", serde_json::to_string(line)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The step lines of `path` (epoch lines and blank lines skipped); empty if it does not exist.
pub fn read_steps(path: &Path) -> Result<Vec<StepLine>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut steps = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(l)
            .with_context(|| format!("{}: line {} is not JSON", path.display(), i + 1))?;
        if v.get("train_loss").is_some() {
            continue;
        }
        steps.push(
            serde_json::from_value(v)
                .with_context(|| format!("{}: line {}", path.display(), i + 1))?,
        );
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_leave_out_what_a_kind_lacks() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("metrics.jsonl");
        let step = StepLine {
            step: 3,
            epoch: Some(1),
            batch: Some(3),
            loss: Some(0.5),
            ..Default::default()
        };
        append(&p, &step).unwrap();
        append(
            &p,
            &EpochLine {
                epoch: 1,
                step: 3,
                train_loss: 0.6,
                valid: BTreeMap::from([("loss".to_string(), 0.7)]),
                best: true,
                skipped: 0,
                seconds: 1.0,
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"step":3,"epoch":1,"batch":3,"loss":0.5}"#
        );
        assert_eq!(read_steps(&p).unwrap(), vec![step]);
    }
}
