//! Using a trained model: [`loaded`] opens a finished run for inference, [`inputs`] reads new
//! sequences (FASTA, CSV/TSV, BED regions of a genome, standard input), [`predict`] streams them
//! through the model to a TSV, [`variants`] scores single-nucleotide variants of a VCF.

pub mod inputs;
pub mod loaded;
pub mod predict;
pub mod variants;
