//! `strand predict`: a finished run's outputs for new sequences, streamed in batches to a TSV
//! (`id`, then one probability per class `p_<class>`, or one `prediction` for regression and
//! ordinal tasks — the expected level, as `eval --predictions` writes it). Sequences go through
//! the model's own input rule, as in training: the CNN pads or crops every input to its fixed
//! length, T5 crops at its maximum length; cropped records are counted and reported.

use crate::engine::progress;
use crate::infer::inputs::SeqStream;
use crate::infer::loaded::LoadedRun;
use anyhow::{Result, bail};
use std::io::Write;
use std::time::Instant;

/// How to run the model.
#[derive(Debug, Clone, Copy)]
pub struct PredictOptions {
    pub batch_size: usize,
    /// Score both strands and write the mean of the two outputs.
    pub rc_average: bool,
}

/// What a prediction pass did.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictSummary {
    pub records: usize,
    /// Records cropped to the model's input length.
    pub cropped: usize,
    pub seconds: f64,
}

impl PredictSummary {
    /// Records per second.
    pub fn rate(&self) -> f64 {
        self.records as f64 / self.seconds.max(1e-9)
    }
}

/// Rows of outputs for `seqs`: the model's, or with `rc_average` the mean of the outputs on
/// each sequence and on its reverse complement. Also returns how many were cropped.
pub fn score(
    run: &LoadedRun,
    seqs: &[Vec<u8>],
    rc_average: bool,
) -> Result<(Vec<Vec<f64>>, usize)> {
    let (mut rows, cropped) = run.score(seqs)?;
    if rc_average {
        let rc: Vec<Vec<u8>> = seqs
            .iter()
            .map(|s| strand_data::seq::reverse_complement(s))
            .collect();
        let (back, _) = run.score(&rc)?;
        for (f, r) in rows.iter_mut().zip(back) {
            for (a, b) in f.iter_mut().zip(r) {
                *a = 0.5 * (*a + b);
            }
        }
    }
    Ok((rows, cropped))
}

/// Writes one value in shortest round-trip form.
pub fn push_value(line: &mut String, v: f64) {
    line.push('\t');
    line.push_str(&format!("{v}"));
}

/// Streams `input` through `run` in batches and writes the TSV to `out`.
pub fn predict(
    run: &LoadedRun,
    input: SeqStream,
    out: &mut dyn Write,
    opts: PredictOptions,
) -> Result<PredictSummary> {
    if opts.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let started = Instant::now();
    writeln!(out, "id\t{}", run.columns().join("\t"))?;
    let bar = progress::bar(None, "predict");
    let mut summary = PredictSummary {
        records: 0,
        cropped: 0,
        seconds: 0.0,
    };
    let mut input = input.peekable();
    while input.peek().is_some() {
        let mut ids = Vec::with_capacity(opts.batch_size);
        let mut seqs = Vec::with_capacity(opts.batch_size);
        for r in input.by_ref().take(opts.batch_size) {
            let (id, seq) = r?;
            if id.contains(['\t', '\n', '\r']) {
                bail!("record id {id:?} contains a tab or a line break");
            }
            ids.push(id);
            seqs.push(seq);
        }
        let (rows, cropped) = score(run, &seqs, opts.rc_average)?;
        let mut text = String::new();
        for (id, row) in ids.iter().zip(rows) {
            text.push_str(id);
            for v in row {
                push_value(&mut text, v);
            }
            text.push('\n');
        }
        out.write_all(text.as_bytes())?;
        summary.records += ids.len();
        summary.cropped += cropped;
        bar.inc(1);
    }
    bar.finish_and_clear();
    out.flush()?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
