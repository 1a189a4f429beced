//! The training engine shared by fine-tuning ([`crate::run`]) and pretraining
//! ([`crate::pretrain`]): devices, batches, the optimizer step with accumulation, clipping and
//! schedules, atomic checkpoints, Ctrl-C handling and progress bars. Knows nothing of tasks,
//! run directories or the command line.

pub mod accumulate;
pub mod backend;
pub mod batch;
pub mod checkpoint;
pub mod clip;
pub mod interrupt;
pub mod log;
pub mod malloc;
pub mod progress;
pub mod schedule;
pub mod trainer;
