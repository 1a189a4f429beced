//! T5 (v1.1) encoder–decoder, faithful to Hugging Face `modeling_t5.py`: pre-norm blocks, RMS
//! norm without bias (eps 1e-6), bias-free projections, attention without `1/√d_kv` scaling,
//! relative position buckets (32, max distance 128) computed in block 0 of each stack and
//! shared, gated-GELU (tanh) feed-forward, optional tied LM head scaled by `d_model^-0.5`.
//!
//! Numerical parity with transformers is checked by `tests/t5_parity.rs` against fixtures made
//! by `scripts/t5_reference.py`.
//!
//! ```
//! use burn::tensor::{Device, Int, Tensor, TensorData};
//! use strand_model::t5::{T5Config, shift_right};
//!
//! let device = Device::flex(); // `Device::flex().autodiff()` to train
//! let config = T5Config::new(120).with_d_model(16).with_d_kv(4).with_d_ff(32)
//!     .with_num_layers(1).with_num_decoder_layers(1);
//! let model = config.init(&device);
//! let ids = Tensor::<2, Int>::from_data(TensorData::from([[104i64, 105, 1]]), &device);
//! let mask = Tensor::<2, Int>::ones([1, 3], &device);
//! let labels = Tensor::<2, Int>::from_data(TensorData::from([[4i64, 106, 1]]), &device);
//! let logits = model.forward(ids, mask, shift_right(labels.clone()), None);
//! assert_eq!(logits.dims(), [1, 3, 120]);
//! let loss = model.loss(logits, labels);
//! assert!(loss.into_scalar::<f32>() > 0.0);
//! ```

pub mod attention;
pub mod block;
pub mod config;
pub mod ff;
pub mod hf;
pub mod hf_export;
pub mod init;
pub mod model;
pub mod norm;
pub mod position;
pub mod stack;

pub use config::{FeedForwardProj, T5Config, T5Preset};
pub use hf::HfLoadError;
pub use model::{IGNORE_INDEX, T5Model, T5Output, cross_entropy, shift_right};
