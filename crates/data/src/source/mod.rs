//! Sources: one module per on-disk format. Each opens into a [`Source`] that yields
//! [`Record`](crate::Record)s lazily, in file order, one split at a time.

pub mod fasta_classes;
pub mod synthetic;
pub mod synthetic_guanine;

use crate::{Record, Result, Split, TaskCard};

/// A lazily read, ordered stream of records.
pub type RecordIter = Box<dyn Iterator<Item = Result<Record>> + Send>;

/// An opened task: its card and its records per split.
pub trait Source: Send + Sync {
    /// The task card (for ad hoc tasks, built when the source was opened).
    fn card(&self) -> &TaskCard;

    /// Splits this source can produce.
    fn splits(&self) -> Vec<Split>;

    /// Records of one split, in a deterministic order. Reading is lazy: nothing is held in
    /// memory beyond the current record (and whatever index the format needs).
    fn records(&self, split: Split) -> Result<RecordIter>;
}

pub mod binned;
pub mod compressed;
pub mod gb;
pub mod gb_intervals;
pub mod gb_native;
pub mod guanine;
pub mod table;
#[cfg(test)]
pub(crate) mod testutil;
