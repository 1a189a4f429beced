//! Metrics on plain numbers (predictions and labels), used by every task.
//!
//! Every function here is pure f64 arithmetic, checked against scipy / scikit-learn / numpy by the
//! fixtures that `scripts/metrics_reference.py` writes to `crates/data/tests/fixtures/metrics/`
//! (test: `crates/data/tests/metrics_reference.rs`).
//!
//! - [`classify`]: accuracy, confusion matrix, F1 (binary, macro), MCC, sensitivity, specificity.
//! - [`rank`]: average ranks (ties get the mean of their ranks), AUROC (binary, one-vs-rest macro).
//! - [`correlation`]: Pearson, Spearman, GUANinE's reported ρ × 100, the jittered Spearman.
//! - [`score`](mod@score): model outputs ([`Predictions`]) + labels → the metrics a task card asks for.
//!
//! # Conventions
//! - Empty input gives NaN (nothing was measured); [`score`] refuses it with an error instead.
//! - "Undefined" follows scikit-learn with `zero_division=0` for F1 and MCC (0), and is NaN for
//!   sensitivity / specificity (no positives / negatives to recall), AUROC (one class only) and the
//!   correlations (a constant vector), as scipy / scikit-learn return NaN there.
//! - Slices that must pair up (predictions and labels) must have equal lengths: the low-level
//!   functions assert it (a caller bug, documented under `# Panics`); [`score`] checks it and
//!   returns [`crate::DataError::Invalid`].

pub mod classify;
pub mod correlation;
pub mod rank;
pub mod score;
pub mod subtask;

pub use classify::{
    accuracy, confusion_matrix, f1_binary, f1_macro, mcc, sensitivity, specificity,
};
pub use correlation::{
    fill_nan_with_mean, guanine_spearman100, jittered_spearman, np_round, pearson, spearman,
};
pub use rank::{auroc, auroc_ovr_macro, average_ranks};
pub use score::{Predictions, argmax_rows, expected_index, score};
