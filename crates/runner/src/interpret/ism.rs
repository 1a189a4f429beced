//! In-silico mutagenesis: the reference and every single-base substitution of each sequence,
//! scored in inference mode, in batches of `batch_size` model rows that may span sequences.

use super::{Attribution, LoadedRun, Target};
use crate::engine::batch::{HostBatch, InputFormat};
use crate::run::model::{self, AnyModel, Weights};
use anyhow::{Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use strand_data::Label;
use strand_model::classifier::SequenceModel;
use strand_model::tokenize::AnyTokenizer;

/// The bases of the `delta` columns, in order.
pub const BASES: [u8; 4] = *b"ACGT";

/// ISM attributions of `records` (see [`super`]).
pub fn attribute(
    run: &LoadedRun,
    records: &[(String, Vec<u8>)],
    target: &Target,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Attribution>> {
    let device = device.clone().without_autodiff();
    let model = model::build(&run.spec, Weights::Saved(&run.weights()), &device)?.valid();
    let scorer = Scorer {
        model: &model,
        tokenizer: &run.tokenizer,
        format: run.input_format(),
        device: &device,
    };
    let n_out = model.n_out();

    // The references: each sequence's outputs fix its class (`--target` default for several
    // classes: the predicted one) and its reference score.
    let seqs: Vec<&[u8]> = records.iter().map(|(_, s)| s.as_slice()).collect();
    let mut rows = Vec::with_capacity(records.len() * n_out);
    for chunk in seqs.chunks(batch_size) {
        rows.extend(scorer.outputs(chunk)?);
    }
    let classes: Vec<usize> = rows.chunks(n_out).map(|r| target.class_for(r)).collect();
    let reference: Vec<f64> = rows
        .chunks(n_out)
        .zip(&classes)
        .map(|(r, &c)| target.score_row(r, c))
        .collect();

    // Every substitution (sequence, position, base), batched.
    let mut delta: Vec<Vec<[f64; 4]>> = records
        .iter()
        .map(|(_, s)| vec![[0.0; 4]; s.len()])
        .collect();
    let jobs = records.iter().enumerate().flat_map(|(r, (_, s))| {
        (0..s.len()).flat_map(move |i| {
            (0..BASES.len())
                .filter(move |&b| BASES[b] != s[i])
                .map(move |b| (r, i, b))
        })
    });
    let total: usize = records
        .iter()
        .map(|(_, s)| {
            s.iter()
                .map(|&c| 4 - usize::from(BASES.contains(&c)))
                .sum::<usize>()
        })
        .sum();
    let bar = crate::engine::progress::bar(Some(total.div_ceil(batch_size) as u64), "ism");
    let mut chunk: Vec<(usize, usize, usize)> = Vec::with_capacity(batch_size);
    let mut run_chunk = |chunk: &mut Vec<(usize, usize, usize)>| -> Result<()> {
        let mutants: Vec<Vec<u8>> = chunk
            .iter()
            .map(|&(r, i, b)| {
                let mut m = records[r].1.clone();
                m[i] = BASES[b];
                m
            })
            .collect();
        let refs: Vec<&[u8]> = mutants.iter().map(Vec::as_slice).collect();
        let out = scorer.outputs(&refs)?;
        for (&(r, i, b), row) in chunk.iter().zip(out.chunks(n_out)) {
            delta[r][i][b] = target.score_row(row, classes[r]) - reference[r];
        }
        chunk.clear();
        bar.inc(1);
        Ok(())
    };
    for job in jobs {
        chunk.push(job);
        if chunk.len() == batch_size {
            run_chunk(&mut chunk)?;
        }
    }
    if !chunk.is_empty() {
        run_chunk(&mut chunk)?;
    }
    bar.finish_and_clear();

    Ok(records
        .iter()
        .zip(delta)
        .zip(reference)
        .map(|(((id, seq), delta), score)| {
            let importance = seq
                .iter()
                .zip(&delta)
                .map(|(&c, d)| {
                    let alts: Vec<f64> = (0..4).filter(|&b| BASES[b] != c).map(|b| d[b]).collect();
                    -alts.iter().sum::<f64>() / alts.len() as f64
                })
                .collect();
            Attribution {
                id: id.clone(),
                seq: seq.clone(),
                score,
                delta,
                importance,
            }
        })
        .collect())
}

/// Runs sequences through a model in inference mode.
pub struct Scorer<'a> {
    pub model: &'a AnyModel,
    pub tokenizer: &'a AnyTokenizer,
    pub format: InputFormat,
    pub device: &'a Device,
}

impl Scorer<'_> {
    /// Raw outputs of `seqs` (one forward pass), row-major `[seqs.len(), n_out]`. A non-finite
    /// output is an error.
    pub fn outputs(&self, seqs: &[&[u8]]) -> Result<Vec<f64>> {
        let ids: Vec<Vec<u32>> = seqs
            .iter()
            .map(|s| self.format.encode(self.tokenizer, s))
            .collect();
        let batch = HostBatch::pad(ids, vec![Label::None; seqs.len()], self.format.pad_to);
        let out = self.model.forward(&batch.token_batch(self.device));
        let rows = out
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .map_err(|e| anyhow::anyhow!("reading model outputs: {e:?}"))?;
        check_finite(&rows)?;
        Ok(rows)
    }
}

/// An error when a model output is not finite (damaged or diverged weights).
pub fn check_finite(rows: &[f64]) -> Result<()> {
    if let Some(v) = rows.iter().find(|v| !v.is_finite()) {
        bail!("the model gave a non-finite output ({v}): its weights have diverged or are damaged");
    }
    Ok(())
}
