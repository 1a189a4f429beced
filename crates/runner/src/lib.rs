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

/// Small models shared by the unit tests of several modules.
#[cfg(test)]
pub(crate) mod test_models {
    use strand_model::t5::T5Config;

    /// A two-layer T5 of width 16 over the nucleotide vocabulary (109 ids): fast enough for any
    /// unit test.
    pub fn tiny_t5(dropout: f64) -> T5Config {
        T5Config::new(109)
            .with_d_model(16)
            .with_d_kv(4)
            .with_num_heads(2)
            .with_d_ff(32)
            .with_num_layers(2)
            .with_num_decoder_layers(1)
            .with_dropout_rate(dropout)
    }
}
