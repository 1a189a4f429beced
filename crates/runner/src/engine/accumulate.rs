//! Gradient accumulation: one optimizer step over a global batch computed as several
//! micro-batches. Each micro-batch's mean loss is weighted by its share of the rows, so the
//! summed gradients (burn's [`GradientsAccumulator`]) are the gradients of the global batch's
//! mean loss — up to float rounding, and up to layers that look at the whole batch (the CNN's
//! BatchNorm normalises each micro-batch with its own statistics).

use crate::engine::batch::HostBatch;
use anyhow::{Result, bail};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Device;
use strand_model::classifier::{Objective, SequenceModel};

/// Accumulation steps for a global batch of `global` rows in micro-batches of `micro` (`None`:
/// no accumulation).
///
/// # Errors
/// When `micro` is 0 or does not divide `global`.
pub fn steps(global: usize, micro: Option<usize>) -> Result<usize> {
    match micro {
        None => Ok(1),
        Some(0) => bail!("--micro-batch must be positive"),
        Some(m) if m > global || !global.is_multiple_of(m) => bail!(
            "--micro-batch {m} must divide the global --batch-size {global} (accumulation steps \
             = global / micro)"
        ),
        Some(m) => Ok(global / m),
    }
}

/// Rows `start..start + n` of `batch` (same padded length).
pub fn rows(batch: &HostBatch, start: usize, n: usize) -> HostBatch {
    let (a, b) = (start * batch.len, (start + n) * batch.len);
    HostBatch {
        tokens: batch.tokens[a..b].to_vec(),
        mask: batch.mask[a..b].to_vec(),
        rows: n,
        len: batch.len,
        labels: batch.labels[start..start + n].to_vec(),
        cropped: 0,
        order: batch.order.as_ref().map(|o| o[start..start + n].to_vec()),
    }
}

/// The loss of one step and its gradients.
pub enum StepGrads {
    /// Mean loss over the batch and the gradients of it.
    Finite(f64, GradientsParams),
    /// A micro-batch's loss was not finite (its value); no gradients.
    NonFinite(f64),
}

/// Loss and gradients of `batch`'s mean loss, in micro-batches of `micro` rows (`None`: one
/// pass). `poison` makes the loss NaN (the training loop's test hook). `model` and `device` must
/// have autodiff (`loss.backward()` panics otherwise).
pub fn gradients<M: SequenceModel>(
    model: &M,
    objective: Objective,
    batch: &HostBatch,
    micro: Option<usize>,
    poison: bool,
    device: &Device,
) -> Result<StepGrads> {
    let micro = micro.unwrap_or(batch.rows).clamp(1, batch.rows.max(1));
    let mut acc = GradientsAccumulator::<M>::new();
    let mut total = 0.0;
    let mut start = 0;
    while start < batch.rows {
        let n = micro.min(batch.rows - start);
        let part = if n == batch.rows {
            batch.clone()
        } else {
            rows(batch, start, n)
        };
        let (tokens, targets) = part.to_tensors(objective, device)?;
        let mut loss = objective.loss(model.forward(&tokens), &targets);
        if poison {
            loss = loss.mul_scalar(f32::NAN);
        }
        let value = f64::from(loss.clone().into_scalar::<f32>());
        if !value.is_finite() {
            return Ok(StepGrads::NonFinite(value));
        }
        let share = n as f64 / batch.rows as f64;
        total += value * share;
        let loss = if n == batch.rows {
            loss
        } else {
            loss.mul_scalar(share)
        };
        let grads = GradientsParams::from_grads(loss.backward(), model);
        acc.accumulate(model, grads);
        start += n;
    }
    Ok(StepGrads::Finite(total, acc.grads()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::cpu;
    use crate::engine::batch::PadTo;
    use crate::engine::trainer::{StepOutcome, Trainer};
    use burn::module::Module;
    use burn::optim::AdamConfig;
    use strand_data::Label;
    use strand_model::heads::{HeadKind, T5Head, T5HeadConfig};
    use strand_model::t5::T5Config;

    #[test]
    fn steps_must_divide_the_global_batch() {
        assert_eq!(steps(64, None).unwrap(), 1);
        assert_eq!(steps(64, Some(16)).unwrap(), 4);
        for bad in [Some(0), Some(48), Some(128)] {
            assert!(steps(64, bad).is_err(), "{bad:?}");
        }
    }

    /// 64 rows of varied lengths, labels from a fixed rule.
    fn batch() -> HostBatch {
        let mut state = 11u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let seqs: Vec<Vec<u32>> = (0..64)
            .map(|i| (0..20 + i % 9).map(|_| 104 + next() % 4).collect())
            .collect();
        let labels = (0..64).map(|i| Label::Class((i % 3 == 0) as u32)).collect();
        HostBatch::pad(seqs, labels, PadTo::Longest { max: 64 })
    }

    fn weights(m: &T5Head) -> Vec<f32> {
        let T5Head::Pooled(p) = m else {
            panic!("pooled head")
        };
        let mut v = p.head.weight.val().into_data().try_to_vec::<f32>().unwrap();
        v.extend(
            p.encoder
                .shared
                .weight
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
        );
        v
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn two_micro_batches_of_32_make_the_same_step_as_one_batch_of_64() {
        let dev = cpu().autodiff();
        let t5 = T5Config::new(108)
            .with_d_model(32)
            .with_d_kv(8)
            .with_num_heads(2)
            .with_d_ff(64)
            .with_num_layers(1)
            .with_num_decoder_layers(1)
            .with_dropout_rate(0.0);
        let head = T5HeadConfig::for_task(t5, HeadKind::Pooled, Some(2), None).unwrap();
        let model = head.init(&dev);
        // Parameters initialise lazily, per clone: materialise them once so that every trainer
        // starts from the same weights.
        let record = model.clone().into_record();
        let model = model.load_record(record);
        let start = weights(&model);
        let trainer = |micro: Option<usize>| {
            let mut t = Trainer::new(
                model.clone(),
                AdamConfig::new().init(),
                head.objective,
                1e-2,
                0,
                dev.clone(),
            );
            t.micro_batch = micro;
            t
        };
        let b = batch();
        let step = |t: &mut Trainer<T5Head>, b: &HostBatch| match t.step(b, false) {
            Ok(StepOutcome::Trained(loss)) => loss,
            other => panic!("{other:?}"),
        };
        let (mut full, mut acc, mut half) = (trainer(None), trainer(Some(32)), trainer(None));
        let l_full = step(&mut full, &b);
        let l_acc = step(&mut acc, &b);
        let l_half = step(&mut half, &rows(&b, 0, 32));
        assert!((l_full - l_acc).abs() < 1e-5, "{l_full} vs {l_acc}");
        let (w_full, w_acc, w_half) = (
            weights(&full.model),
            weights(&acc.model),
            weights(&half.model),
        );
        assert!(
            max_diff(&start, &w_full) > 1e-3,
            "the step moved the weights"
        );
        let d = max_diff(&w_full, &w_acc);
        println!("1×64 loss {l_full}, 2×32 loss {l_acc}; max |Δw| after one Adam step: {d:e}");
        assert!(d < 1e-5, "2×32 vs 1×64: max |Δw| = {d}");
        // Not vacuous: half of the batch alone gives another update.
        assert!(max_diff(&w_full, &w_half) > 1e-4);
        assert!((l_full - l_half).abs() > 1e-6);
        // A poisoned micro-batch stops the step.
        assert!(matches!(
            acc.step(&b, true).unwrap(),
            StepOutcome::NonFinite(_)
        ));
    }
}
