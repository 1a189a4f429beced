//! Gradient × input: the gradient of the target score with respect to a float one-hot input
//! `[batch, len, vocab]` (what multiplies the embedding table), read at each base.
//!
//! The model is loaded on the autodiff device and frozen ([`Module::freeze`]: no parameter
//! gradients, batch norm on its running statistics, no dropout), so its outputs are those of
//! inference; only the input requires a gradient.

use super::ism::{BASES, check_finite};
use super::{Attribution, LoadedRun, Target};
use crate::engine::batch::HostBatch;
use crate::run::model::{self, AnyModel, Weights};
use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::{Bool, Device, Tensor};
use strand_data::Label;
use strand_model::Tokenizer;
use strand_model::classifier::SequenceModel;
use strand_model::ops::lookup::one_hot;
use strand_model::tokenize::AnyTokenizer;

/// Saliency needs one input token per base: an error saying to use ISM otherwise.
pub fn check_supported(run: &LoadedRun) -> Result<()> {
    if !matches!(run.tokenizer, AnyTokenizer::Nucleotide(_)) {
        bail!(
            "--method saliency needs one input token per base (the nucleotide tokenizer), but the \
             run in {} uses the tokenizer {}: use --method ism, which works with every tokenizer",
            run.dir.display(),
            run.cfg.tokenizer
        );
    }
    Ok(())
}

/// Saliency attributions of `records` (see [`super`]), `batch_size` sequences per backward pass.
pub fn attribute(
    run: &LoadedRun,
    records: &[(String, Vec<u8>)],
    target: &Target,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Attribution>> {
    check_supported(run)?;
    let device = device.clone().autodiff();
    let model = model::build(&run.spec, Weights::Saved(&run.weights()), &device)?.freeze();
    let format = run.input_format();
    let vocab = run.tokenizer.vocab_size();
    let offset = usize::from(format.bos);
    let token = |base: u8| run.tokenizer.encode(&[base])[0] as usize;
    let base_tokens: Vec<usize> = BASES.iter().map(|&b| token(b)).collect();
    let bar =
        crate::engine::progress::bar(Some(records.len().div_ceil(batch_size) as u64), "saliency");
    let mut out = Vec::with_capacity(records.len());
    for chunk in records.chunks(batch_size) {
        let ids: Vec<Vec<u32>> = chunk
            .iter()
            .map(|(_, s)| format.encode(&run.tokenizer, s))
            .collect();
        let batch = HostBatch::pad(ids, vec![Label::None; chunk.len()], format.pad_to);
        let g = input_gradients(&model, &batch, vocab, target, &device)?;
        for (r, (id, seq)) in chunk.iter().enumerate() {
            let mut delta = vec![[0.0; 4]; seq.len()];
            let mut importance = vec![0.0; seq.len()];
            for (i, &base) in seq.iter().enumerate() {
                let t = i + offset;
                if t >= batch.len || !batch.mask[r * batch.len + t] {
                    continue; // cropped: the model does not read this base
                }
                let row = &g.grads[(r * batch.len + t) * vocab..][..vocab];
                let at_ref = f64::from(row[token(base)]);
                importance[i] = at_ref;
                for (b, &tok) in base_tokens.iter().enumerate() {
                    delta[i][b] = f64::from(row[tok]) - at_ref;
                }
            }
            out.push(Attribution {
                id: id.clone(),
                seq: seq.clone(),
                score: g.scores[r],
                delta,
                importance,
            });
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// What one backward pass gives.
#[derive(Debug, Clone)]
pub struct InputGradients {
    /// `∂ score / ∂ one_hot`, row-major `[rows, len, vocab]`.
    pub grads: Vec<f32>,
    /// The target score of each row.
    pub scores: Vec<f64>,
}

/// The gradient of each row's target score with respect to its one-hot input (over the first
/// `vocab` ids), for a `model` on the autodiff `device` (frozen: see the module documentation).
/// Rows are independent (the model is in inference mode), so one backward pass of the summed
/// scores gives every row's gradient.
pub fn input_gradients(
    model: &AnyModel,
    batch: &HostBatch,
    vocab: usize,
    target: &Target,
    device: &Device,
) -> Result<InputGradients> {
    let tokens = batch.token_batch(device);
    let x = one_hot(tokens.tokens, vocab, 2).detach().require_grad();
    let outputs = forward_one_hot(model, x.clone(), tokens.mask);
    let n_out = model.n_out();
    let rows = outputs
        .clone()
        .detach()
        .into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .map_err(|e| anyhow::anyhow!("reading model outputs: {e:?}"))?;
    check_finite(&rows)?;
    let classes: Vec<usize> = rows.chunks(n_out).map(|r| target.class_for(r)).collect();
    let scores = rows
        .chunks(n_out)
        .zip(&classes)
        .map(|(r, &c)| target.score_row(r, c))
        .collect();
    let grads = target.score_tensor(outputs, &classes).sum().backward();
    let g = x
        .grad(&grads)
        .context("no gradient reached the model's input (is the device an autodiff one?)")?;
    let grads = g
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("reading input gradients: {e:?}"))?;
    Ok(InputGradients { grads, scores })
}

/// The model's raw outputs from float one-hot inputs.
///
/// # Shapes
/// - `x`: `[batch, len, k]`; `mask`: `[batch, len]`
/// - output: `[batch, n_out]`
pub fn forward_one_hot(model: &AnyModel, x: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<2> {
    match model {
        AnyModel::Cnn(m) => m.forward_one_hot(x),
        AnyModel::Layers(m) => m.forward_one_hot(x),
        AnyModel::T5(m) => m.forward_one_hot(x, mask),
    }
}
