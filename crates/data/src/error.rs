//! One error type for the whole data crate. Every variant names where the problem is: the file,
//! the record (id or line) and, where it applies, the position inside the sequence.

use std::path::PathBuf;

/// Errors raised while locating, reading, checking or fetching benchmark data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or directory that a task needs does not exist.
    #[error("{what} not found: {path}")]
    NotFound { what: &'static str, path: PathBuf },

    /// An I/O error while reading or writing `path`.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A byte outside the DNA alphabet (ACGTN, IUPAC codes, lower case).
    #[error(
        "{path}: record {record}: invalid nucleotide {byte:?} at position {position} (0-based)"
    )]
    InvalidBase {
        path: PathBuf,
        record: String,
        position: usize,
        byte: char,
    },

    /// A malformed record or row: missing field, unparsable label, empty sequence, ...
    #[error("{path}: record {record}: {message}")]
    BadRecord {
        path: PathBuf,
        record: String,
        message: String,
    },

    /// A file whose overall shape is wrong (empty FASTA, missing header, no classes, ...).
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },

    /// A file that could not be written for a reason other than I/O (an encoder's error).
    #[error("{path}: {message}")]
    Write { path: PathBuf, message: String },

    /// An interval that does not fit its reference sequence, or names a missing one.
    #[error("{path}: record {record}: {message}")]
    BadInterval {
        path: PathBuf,
        record: String,
        message: String,
    },

    /// A task spec that does not parse or names an unknown task.
    #[error("{0}")]
    UnknownTask(String),

    /// A split the task does not have.
    #[error("task {task} has no split {split:?} (it has: {available})")]
    MissingSplit {
        task: String,
        split: String,
        available: String,
    },

    /// A download or cache problem.
    #[error("{0}")]
    Fetch(String),

    /// An HTTP download that failed (bad status, transport error) after its retries.
    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },

    /// A downloaded file whose SHA-256 is not the expected one; the file was deleted.
    #[error(
        "checksum mismatch for {url} ({path}): expected sha256 {expected}, got {actual}; \
         the download was deleted, nothing was installed"
    )]
    ChecksumMismatch {
        url: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// An archive entry that would escape the target directory (absolute path, `..`) or that is
    /// a symlink; nothing of the archive was installed.
    #[error("{archive}: refusing entry {entry:?}: {reason}; nothing was extracted")]
    UnsafeArchive {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    /// Anything else the caller asked for that cannot be done, with the reason.
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    /// `task` has no split `split`; `available` lists the ones it has.
    pub fn missing_split(task: &str, split: crate::Split, available: &[crate::Split]) -> Self {
        DataError::MissingSplit {
            task: task.to_string(),
            split: split.to_string(),
            available: available
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// `Ok` when `split` is one of `available`, else [`DataError::missing_split`].
    pub fn require_split(
        task: &str,
        split: crate::Split,
        available: &[crate::Split],
    ) -> Result<(), Self> {
        if available.contains(&split) {
            Ok(())
        } else {
            Err(Self::missing_split(task, split, available))
        }
    }

    /// A single-pool source (no publisher splits) was asked for `split`: only `train`, the pool
    /// that `split::derive` divides, exists.
    pub fn pool_only(task: &str, split: crate::Split) -> Self {
        DataError::MissingSplit {
            task: task.to_string(),
            split: split.to_string(),
            available: "train (the pool; see split::derive)".into(),
        }
    }

    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of the data crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
