//! strand-runner: the library behind the `strand` binary. The binary (`main.rs`) only parses the
//! command line and maps errors to exit codes; everything else lives here, so that end-to-end
//! tests and benches use the same code.
//!
//! Layers, top to bottom (a module only uses modules below it):
//!
//! - [`cli`]: one file per command: arguments → a library call → printing.
//! - [`sweep`], [`bench`], [`report`]: grids of runs, step timing, score tables.
//! - [`export`]: a strand T5 as a Hugging Face model directory.
//! - [`infer`], [`interpret`]: using a finished run: predictions for new sequences, regions and
//!   variants; per-base attributions and sequence logos.
//! - [`run`]: supervised runs (task data, the epoch loop, evaluation, run directories) and
//!   [`pretrain`]: span-corruption pretraining. Both train on the [`engine`].
//! - [`config`]: the experiment config (TOML + flags) and its expansion into run configs;
//!   model presets.
//! - [`engine`]: devices and precision, batching, the optimizer step (accumulation, clipping,
//!   schedule), training state and RNG, atomic checkpoints, typed metric lines, Ctrl-C.

pub mod bench;
pub mod cli;
pub mod config;
pub mod engine;
pub mod export;
pub mod infer;
pub mod interpret;
pub mod pretrain;
pub mod report;
pub mod run;
pub mod sweep;
