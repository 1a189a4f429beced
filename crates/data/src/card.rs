//! Task cards: what a task is (classes, lengths, metric, splits, published numbers), as data.
//!
//! Built-in cards are TOML files under `crates/data/cards/`, embedded in the binary with
//! `include_str!` so that no network is needed to know what a task is. Ad hoc tasks
//! (`fasta:…`, `csv:…`) get a card built at open time.

use crate::Split;
use serde::{Deserialize, Serialize};

/// The benchmark suite a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suite {
    GenomicBenchmarks,
    Guanine,
    Cnnprom,
    Synthetic,
    Custom,
}

impl Suite {
    /// The prefix used in task specs (`gb/…`, `guanine/…`, `cnnprom/…`).
    pub fn prefix(&self) -> &'static str {
        match self {
            Suite::GenomicBenchmarks => "gb",
            Suite::Guanine => "guanine",
            Suite::Cnnprom => "cnnprom",
            Suite::Synthetic => "synthetic",
            Suite::Custom => "custom",
        }
    }
}

/// What a label means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LabelKind {
    /// Categorical classes; `names[i]` is the name of class index `i`.
    Classes { names: Vec<String> },
    /// Ordinal levels `min..=max` (GUANinE); scored by rank correlation.
    Ordinal { min: u32, max: u32 },
    /// Real-valued targets.
    Regression,
}

impl LabelKind {
    /// Number of model outputs a classifier needs (classes or ordinal levels); `None` for regression.
    pub fn num_classes(&self) -> Option<usize> {
        match self {
            LabelKind::Classes { names } => Some(names.len()),
            LabelKind::Ordinal { min, max } => Some((max - min + 1) as usize),
            LabelKind::Regression => None,
        }
    }
}

/// A metric name as used in cards, scores and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Accuracy,
    /// Binary F1 of the positive class (index 1); macro F1 for more than two classes.
    F1,
    /// Macro-averaged F1 over all classes.
    F1Macro,
    Mcc,
    Auroc,
    Sensitivity,
    Specificity,
    /// Spearman ρ (average ranks for ties).
    Spearman,
    /// Spearman ρ × 100, rounded to 4 decimals, as GUANinE reports it.
    Spearman100,
    Pearson,
    Loss,
}

impl Metric {
    pub fn as_str(&self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::F1 => "f1",
            Metric::F1Macro => "f1_macro",
            Metric::Mcc => "mcc",
            Metric::Auroc => "auroc",
            Metric::Sensitivity => "sensitivity",
            Metric::Specificity => "specificity",
            Metric::Spearman => "spearman",
            Metric::Spearman100 => "spearman100",
            Metric::Pearson => "pearson",
            Metric::Loss => "loss",
        }
    }
}

/// Sequence lengths of a task, in bases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthRange {
    pub min: usize,
    pub max: usize,
}

/// A published number to print beside ours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// Model name as published (e.g. "GB CNN", "CNNProm", "large★ T5").
    pub model: String,
    pub metric: Metric,
    /// The split the number was measured on.
    pub split: Split,
    /// In the metric's own scale (accuracy as a fraction, Spearman100 as ρ × 100).
    pub value: f64,
    /// Where the number comes from (paper, table, commit).
    pub source: String,
}

/// How many records the publisher's data set holds in the splits it ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordCounts {
    pub train: u64,
    pub test: u64,
}

/// Everything strand knows about a task without reading its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCard {
    /// Spec name, e.g. `gb/human_nontata_promoters`, `guanine/dnase_propensity`, `cnnprom/ecoli`.
    pub name: String,
    pub suite: Suite,
    /// Dataset version (Genomic Benchmarks: `0`; GUANinE: `1.0`).
    pub version: String,
    pub description: String,
    pub labels: LabelKind,
    pub length: Option<LengthRange>,
    /// The official metric, first; others that apply follow.
    pub metrics: Vec<Metric>,
    /// Splits the publisher distributes (a missing `valid` is derived from train by strand).
    pub splits: Vec<Split>,
    /// The split the official metric is reported on.
    pub eval_split: Split,
    #[serde(default)]
    pub published: Vec<Published>,
    /// Records of the published data set (where known). A run scored on another number of
    /// test records (a subset, a user's copy) is on other data: `report` shows the published
    /// figure beside it as context, without Δ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<RecordCounts>,
    /// Free-text caveats printed by `report` (leaks, duplicates, known-bad numbers).
    #[serde(default)]
    pub caveats: Vec<String>,
}

impl TaskCard {
    /// The official metric.
    pub fn official_metric(&self) -> Metric {
        self.metrics[0]
    }
}
