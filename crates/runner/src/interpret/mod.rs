//! `strand interpret`: what a trained model looks at, base by base.
//!
//! A finished run (its `config.resolved.toml`, `model.json` and `model.bpk`) is reloaded as
//! `strand eval` does ([`crate::run::evaluate`]) and every sequence of a FASTA file is
//! attributed to its bases with one of two methods:
//!
//! - **ISM** (in-silico mutagenesis, [`Method::Ism`]): the reference and all `3L` single-base
//!   substitutions of a sequence of `L` bases are scored in inference mode (batched, no
//!   autodiff). `Δ(i, b) = score(b at i) − score(reference)`, 0 for the reference base; the
//!   **importance** of position `i` is `−mean` of `Δ` over the alternatives (the three other
//!   bases; all four where the reference is `N`): positive where the reference base supports the
//!   target. Works with every tokenizer (mutants are re-tokenised).
//! - **Saliency** (gradient × input, [`Method::Saliency`]): the gradient `g(i, v)` of the target
//!   score with respect to a float one-hot input `[len, vocab]` that multiplies the embedding
//!   table, in inference mode (batch norm on running statistics, no dropout). The importance is
//!   gradient × input, `g(i, ref)`, and `Δ(i, b)` is the gradient's first-order estimate of the
//!   ISM delta, `g(i, b) − g(i, ref)` (0 for the reference base). It needs one token per base:
//!   the nucleotide tokenizer (CNN or T5 with any head).
//!
//! The **target** ([`Target`], `--target`): two classes, the logit (class 1's log-odds; class 0
//! negates it); more classes, the log-probability of the class predicted for the reference
//! sequence (or of a class given by index or name); regression, the predicted value
//! (text-to-text: the expected bin value).
//!
//! Outputs in `--out` ([`output`]): `attributions.tsv` (`id position ref delta_A delta_C
//! delta_G delta_T importance`, positions 1-based, one row per base) and one sequence logo per
//! record, `<id>.svg` ([`svg`]; ids escaped into file names by [`strand_data::paths`]). Positions
//! the model does not read (past its maximum input length) get 0. Everything is read and
//! computed before `--out` is touched; files are written atomically.

pub mod ism;
pub mod output;
pub mod saliency;
pub mod svg;
pub mod target;

#[cfg(test)]
mod tests;

pub use target::Target;

use crate::engine::backend::{self, Precision};
use crate::engine::batch::InputFormat;
use anyhow::{Result, bail};
use burn::tensor::Device;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How attributions are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// In-silico mutagenesis: every single-base substitution scored.
    Ism,
    /// Gradient × input on a one-hot input.
    Saliency,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ism => "ism",
            Method::Saliency => "saliency",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ism" => Ok(Method::Ism),
            "saliency" => Ok(Method::Saliency),
            other => bail!("unknown method {other:?}: expected ism or saliency"),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `strand interpret` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// A finished run directory.
    pub run: PathBuf,
    /// Sequences (FASTA, plain or gzip).
    pub fasta: PathBuf,
    pub method: Method,
    /// Only these records (in file order); each must exist.
    pub ids: Option<Vec<String>>,
    /// Output directory (new, empty, or written by an earlier `strand interpret`).
    pub out: PathBuf,
    /// `--target`: a class index or name, `value`, or `None` for the default.
    pub target: Option<String>,
    /// Model rows per forward pass (ISM: mutants; saliency: sequences).
    pub batch_size: usize,
    /// `cpu`, `cuda`, `cuda:N`.
    pub device: String,
}

/// Per-base attributions of one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub id: String,
    /// The normalised sequence (`ACGTN`).
    pub seq: Vec<u8>,
    /// Target score of the reference sequence.
    pub score: f64,
    /// `Δ(i, b)` for `b` in `A C G T` (see the module documentation), one row per base.
    pub delta: Vec<[f64; 4]>,
    /// Importance of each position (ISM: `−mean Δ` over the alternatives; saliency: gradient ×
    /// input).
    pub importance: Vec<f64>,
}

/// What [`interpret`] wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    pub out: PathBuf,
    pub tsv: PathBuf,
    pub svgs: Vec<PathBuf>,
    pub records: usize,
    pub method: Method,
    /// The target in words.
    pub target: String,
    /// Seconds spent attributing (model passes only).
    pub seconds: f64,
}

/// A finished run reloaded for interpretation: its files, read by [`crate::infer::loaded`]
/// (the weights are loaded by the methods, on the device each needs).
pub use crate::infer::loaded::RunFiles as LoadedRun;

impl LoadedRun {
    /// How the model's input is laid out.
    pub fn input_format(&self) -> InputFormat {
        self.spec.input_format()
    }

    /// The target of `--target` (`None`: the default for the model's objective).
    pub fn target(&self, given: Option<&str>) -> Result<Target> {
        Target::resolve(
            self.spec.objective(),
            self.spec.bins().map(|b| b.centers.as_slice()),
            self.class_names(),
            given,
        )
    }
}

/// The class names of a run's task without reading its data: a built-in card, or the classes
/// of a `fasta:` spec; otherwise the opened task's card, if it opens.
/// The records of `fasta` (normalised), only those in `ids` when given (in file order). Errors:
/// a bad file or letter (named by the reader), no records, an empty sequence, an id of `ids`
/// that is not in the file, an id that occurs twice among the records kept.
pub fn read_records(fasta: &Path, ids: Option<&[String]>) -> Result<Vec<(String, Vec<u8>)>> {
    let wanted: Option<BTreeSet<&str>> = ids.map(|v| v.iter().map(String::as_str).collect());
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for rec in strand_data::corpus::FastaRecords::open(fasta)? {
        let (id, seq) = rec?;
        if wanted.as_ref().is_some_and(|w| !w.contains(id.as_str())) {
            continue;
        }
        if seq.is_empty() {
            bail!("{}: record {id} has no bases", fasta.display());
        }
        if !seen.insert(id.clone()) {
            bail!(
                "{}: the id {id} occurs twice; attributions are written per id",
                fasta.display()
            );
        }
        out.push((id, seq));
    }
    if let Some(w) = wanted {
        let missing: Vec<&str> = w.into_iter().filter(|i| !seen.contains(*i)).collect();
        if !missing.is_empty() {
            bail!(
                "--ids: no record {} in {}",
                missing.join(", "),
                fasta.display()
            );
        }
    }
    if out.is_empty() {
        bail!("{} holds no records", fasta.display());
    }
    Ok(out)
}

/// Attributions of `records` by `method` for `target` on `device` (see the module
/// documentation).
pub fn attribute(
    run: &LoadedRun,
    records: &[(String, Vec<u8>)],
    method: Method,
    target: &Target,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Attribution>> {
    if batch_size == 0 {
        bail!("--batch-size must be positive");
    }
    warn_cropped(run, records);
    match method {
        Method::Ism => ism::attribute(run, records, target, batch_size, device),
        Method::Saliency => saliency::attribute(run, records, target, batch_size, device),
    }
}

/// Warns about sequences longer than the model reads (their tail gets no attribution).
fn warn_cropped(run: &LoadedRun, records: &[(String, Vec<u8>)]) {
    let format = run.input_format();
    for (id, seq) in records {
        if format.encode_cropped(&run.tokenizer, seq).1 {
            tracing::warn!(
                "record {id} ({} bases) is longer than the model's input of {} tokens: bases \
                 past it are not read and get no attribution",
                seq.len(),
                format.max_len()
            );
        }
    }
}

/// `strand interpret`: checks everything (output directory, run, method, target, device,
/// records), attributes, then writes `attributions.tsv` and one logo per record in `opts.out`.
pub fn interpret(opts: &Options) -> Result<Summary> {
    let plan = output::Plan::check(&opts.out)?;
    let run = LoadedRun::read(&opts.run)?;
    if opts.method == Method::Saliency {
        saliency::check_supported(&run)?;
    }
    let target = run.target(opts.target.as_deref())?;
    let device = backend::device(&opts.device, Precision::F32)?;
    let records = read_records(&opts.fasta, opts.ids.as_deref())?;
    let names = output::svg_names(records.iter().map(|(id, _)| id.as_str()))?;
    let describe = target.describe(run.class_names());
    let started = Instant::now();
    let attrs = attribute(
        &run,
        &records,
        opts.method,
        &target,
        opts.batch_size,
        &device,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let svgs: Vec<(String, String)> = attrs
        .iter()
        .zip(names)
        .map(|(a, name)| (name, svg::logo(a, opts.method, &describe)))
        .collect();
    let (tsv, svgs) = plan.write(&output::tsv(&attrs), &svgs)?;
    Ok(Summary {
        out: opts.out.clone(),
        tsv,
        svgs,
        records: attrs.len(),
        method: opts.method,
        target: describe,
        seconds,
    })
}
