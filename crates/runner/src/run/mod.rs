//! Supervised runs: a task's data, the epoch loop with validation and early stopping, scoring,
//! predictions files and the run directory that records it all.

pub mod checkpoint;
pub mod evaluate;
#[cfg(test)]
mod finetune_tests;
pub mod fit;
pub mod hf;
pub mod model;
pub mod outputs;
pub mod predictions;
pub mod run_dir;
pub mod t5;
pub mod task_data;
pub mod train;
