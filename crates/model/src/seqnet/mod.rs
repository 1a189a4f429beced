//! Sequence networks written as a list of layers (`kind = "layers"` model presets,
//! `models/*.toml`): an input (learned embedding or one-hot bases), then convolutions, norms,
//! activations, pooling, dropout, residual blocks, global pooling or flatten, dense layers and
//! the output layer, checked for shapes before anything is built.
//!
//! ```
//! use strand_model::seqnet::{InputSpec, LayerNetConfig, LayerSpec};
//! let layers: Vec<LayerSpec> = toml::from_str::<toml::Table>(r#"
//! layers = [
//!   { type = "conv1d", filters = 8, kernel = 5 },
//!   { type = "activation", function = "relu" },
//!   { type = "global_max_pool" },
//!   { type = "output" },
//! ]"#).unwrap()["layers"].clone().try_into().unwrap();
//! let config = LayerNetConfig::new(109, 50, 1, InputSpec::OneHot, layers).unwrap();
//! assert_eq!(config.num_params(), 4 * 5 * 8 + 8 + 8 + 1);
//! ```

mod model;
mod shape;
mod spec;
#[cfg(test)]
mod tests;

pub use model::{Fixed, FixedOp, Layer, LayerNet, Residual, one_hot_table};
pub use shape::{Feat, LayerNetConfig, LayerNetError, LayerRow};
pub use spec::{Activation, InputSpec, LayerNetPreset, LayerSpec, Padding};
