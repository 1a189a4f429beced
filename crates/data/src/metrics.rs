//! Metrics on plain numbers (predictions and labels), used by every task.
