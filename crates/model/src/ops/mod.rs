//! Faster formulations of the CNN's layers, written in burn tensor operations (so autodiff and
//! every backend still apply). Each computes exactly the function of the burn module it replaces
//! and is tested against it, outputs and gradients.
//!
//! Why they exist (measured on burn-flex, 2 cores, GB CNN batch 64 × 253 tokens, one training
//! step): burn's `Embedding → swap_dims → Conv1d` and `BatchNorm` spend most of the step in
//! strided copies and broadcasting element-wise kernels rather than arithmetic. See
//! `README.md`, section Performance.

pub mod batch_norm;
pub mod embed_conv;

pub use batch_norm::batch_norm;
pub use embed_conv::embedding_conv1d;
