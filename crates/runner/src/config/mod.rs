//! What a run is: the experiment config (one struct for the TOML file and the flags), its
//! expansion into one [`RunConfig`] per seed and fold, and model presets.

pub mod experiment;
pub mod model_preset;
pub mod model_show;

pub use experiment::*;
