//! What the HTML report reads from a run directory beyond `scores.json`: the epoch lines of
//! `metrics.jsonl` (learning curves), the per-record outputs of the evaluation split
//! ([`crate::run::outputs`]) and the text of `config.resolved.toml`.

use super::RunScores;
use crate::engine::log::EpochLine;
use crate::run::outputs::{self, Outputs};
use crate::run::run_dir;
use anyhow::{Context, Result};
use std::path::PathBuf;
use strand_data::Split;

/// One run's curves, outputs and config.
#[derive(Debug, Clone)]
pub struct RunDetails {
    pub epochs: Vec<EpochLine>,
    /// The outputs file of the run's evaluation split and what it holds; `None` when the run
    /// has none (a run of a strand before outputs files, or an unlabelled split).
    pub outputs: Option<(PathBuf, Outputs)>,
    /// `config.resolved.toml` as written (`None`: missing).
    pub config: Option<String>,
}

impl RunDetails {
    /// Reads the files of `run`; a malformed line or file is an error naming it.
    pub fn load(run: &RunScores) -> Result<Self> {
        let metrics = run.dir.join(run_dir::METRICS);
        let mut epochs = Vec::new();
        if metrics.is_file() {
            let text = std::fs::read_to_string(&metrics)
                .with_context(|| format!("reading {}", metrics.display()))?;
            for (i, line) in text.lines().enumerate() {
                // Step lines have no `train_loss`; only epoch lines are curves here.
                if !line.contains("\"train_loss\"") {
                    continue;
                }
                epochs.push(serde_json::from_str::<EpochLine>(line).with_context(|| {
                    format!("{} line {}: not an epoch line", metrics.display(), i + 1)
                })?);
            }
        }
        let outputs = match run.scores.eval_split.parse::<Split>() {
            Ok(split) => {
                let path = run.dir.join(outputs::file_name(split));
                if path.is_file() {
                    Some((path.clone(), Outputs::read(&path)?))
                } else {
                    None
                }
            }
            Err(_) => None,
        };
        let config = std::fs::read_to_string(run.dir.join(&run.scores.config)).ok();
        Ok(RunDetails {
            epochs,
            outputs,
            config,
        })
    }
}
