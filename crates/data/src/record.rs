//! The one record type every source yields: `Record { id, seq, label, split }`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A record's target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// A class index (categorical) or an ordinal level (GUANinE `y`); the task card says which.
    Class(u32),
    /// A real-valued regression target.
    Value(f64),
    /// No label (GUANinE test rows): predicted, never scored.
    None,
}

impl Label {
    /// The class index, if this is a class label.
    pub fn class(&self) -> Option<u32> {
        match self {
            Label::Class(c) => Some(*c),
            _ => None,
        }
    }

    /// The label as a number (class index or value), if any.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Label::Class(c) => Some(*c as f64),
            Label::Value(v) => Some(*v),
            Label::None => None,
        }
    }
}

/// The split a record belongs to.
///
/// GUANinE calls its validation split `dev`; Genomic Benchmarks has none (strand derives a seeded
/// one from train); `1per` is GUANinE's few-shot training subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Split {
    #[serde(rename = "train")]
    Train,
    #[serde(rename = "valid")]
    Valid,
    #[serde(rename = "test")]
    Test,
    #[serde(rename = "1per")]
    FewShot,
}

impl Split {
    /// All splits, in canonical order.
    pub const ALL: [Split; 4] = [Split::Train, Split::Valid, Split::Test, Split::FewShot];

    /// strand's name for the split (`train`, `valid`, `test`, `1per`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
            Split::FewShot => "1per",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = crate::DataError;

    /// Accepts `train`, `valid` / `val` / `validation` / `dev`, `test`, `1per` / `fewshot`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "train" => Ok(Split::Train),
            "valid" | "val" | "validation" | "dev" => Ok(Split::Valid),
            "test" => Ok(Split::Test),
            "1per" | "fewshot" | "few_shot" => Ok(Split::FewShot),
            other => Err(crate::DataError::Invalid(format!(
                "unknown split {other:?} (expected train, valid/dev, test or 1per)"
            ))),
        }
    }
}

/// One example: an id unique within its task and split, an upper-case `ACGTN` sequence, a label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// Upper-case ASCII over `ACGTN` only (see [`crate::seq::normalize`]).
    pub seq: Vec<u8>,
    pub label: Label,
    pub split: Split,
}
