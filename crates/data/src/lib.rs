//! strand-data: benchmark tasks as streams of records.
//!
//! The data path, left to right: source file(s) → [`Record`] → normalise ([`seq`]) → split
//! ([`split`]) → stream / shuffle ([`stream`]) → (tokenizer and batches live in the model and
//! runner crates) → [`metrics`] → scores. This crate knows files, tasks and scoring; nothing about
//! tensors.

pub mod cache;
pub mod card;
pub mod corpus;
pub mod error;
pub mod export;
pub mod fetch;
pub mod lock;
pub mod metrics;
pub mod paths;
pub mod record;
pub mod reference;
pub mod registry;
pub mod seq;
pub mod source;
pub mod split;
pub mod stream;
pub mod task;

pub use card::{LabelKind, Metric, Published, Suite, TaskCard};
pub use error::{DataError, Result};
pub use record::{Label, Record, Split};
pub use source::{RecordIter, Source};
pub use task::{OpenOptions, TaskSpec, open, open_raw};
