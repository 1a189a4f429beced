//! strand-model: tokenizers and models (the Genomic Benchmarks CNN, T5). Knows tensors, nothing
//! about files or tasks.

pub mod classifier;
pub mod cnn;
pub mod heads;
pub mod ops;
pub mod seqnet;
pub mod span_corruption;
pub mod t5;
pub mod tokenize;

pub use tokenize::{Tokenizer, TokenizerSpec};
