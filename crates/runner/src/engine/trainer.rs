//! The training loop, generic over the model: anything that implements
//! [`SequenceModel`] (token batch → `[batch, n_out]`) trains here with an [`Objective`] (loss and
//! scores). The CNN is the first model; T5 heads plug in the same way.
//!
//! All mutable state of a run (model, optimizer, [`LoopState`]) lives in one [`Trainer`], so that
//! checkpointing can save and restore it as a unit.

use crate::engine::batch::HostBatch;
use crate::engine::clip::clip_global_norm;
use crate::engine::schedule::Schedule;
use anyhow::Result;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use strand_data::Label;
use strand_data::metrics::Predictions;
use strand_model::classifier::{Objective, SequenceModel};

/// The fine-tuning optimizer: Adam with PyTorch's defaults (β₁ 0.9, β₂ 0.999, ε 1e-8, no
/// weight decay), what upstream Genomic Benchmarks and `transformers` train with. burn's own
/// default ε is 1e-5, a thousand times larger: with the small gradients of a batch-normalised
/// CNN it shrinks the steps of parameters whose gradients are that small.
pub fn adam() -> burn::optim::AdamConfig {
    burn::optim::AdamConfig::new().with_epsilon(1e-8)
}

/// Counters of a run: where the loop is, and the best epoch so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// Epochs finished.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub step: u64,
    /// Training seed (model init, shuffling: epoch `e` shuffles with [`LoopState::shuffle_seed`]).
    pub seed: u64,
    /// Best epoch (1-based) on the validation metric, and its value.
    pub best: Option<(usize, f64)>,
}

impl LoopState {
    pub fn new(seed: u64) -> Self {
        LoopState {
            epoch: 0,
            step: 0,
            seed,
            best: None,
        }
    }

    /// Seed of the shuffle of epoch `epoch` (1-based).
    pub fn shuffle_seed(&self, epoch: usize) -> u64 {
        // Distinct, well-mixed streams per epoch.
        crate::engine::checkpoint::mix(self.seed, epoch as u64)
    }

    /// Records `value` for `epoch` if it beats the best so far (higher is better); returns
    /// whether it did. A NaN never wins, except over nothing.
    pub fn offer(&mut self, epoch: usize, value: f64) -> bool {
        let better = match self.best {
            None => true,
            Some((_, b)) => value > b || (b.is_nan() && !value.is_nan()),
        };
        if better {
            self.best = Some((epoch, value));
        }
        better
    }
}

/// A model, its optimizer and the loop's counters. The model and `device` have autodiff (see
/// [`crate::engine::backend::train_device`]).
pub struct Trainer<M: SequenceModel> {
    pub model: M,
    pub optim: ModuleOptimizer,
    pub state: LoopState,
    pub objective: Objective,
    pub lr: f64,
    pub device: Device,
    /// Gradient accumulation: rows per forward/backward pass (`None`: the whole batch).
    pub micro_batch: Option<usize>,
    /// Learning rate per step (`None`: `lr` at every step).
    pub schedule: Option<Schedule>,
    /// Clip the global gradient norm to this (`None`: no clipping).
    pub clip_grad_norm: Option<f64>,
    /// The learning rate and the gradient norm (before clipping; only computed when clipping)
    /// of the last step taken.
    pub last_lr: f64,
    pub last_grad_norm: Option<f64>,
}

impl<M: SequenceModel> Trainer<M> {
    pub fn new(
        model: M,
        optim: ModuleOptimizer,
        objective: Objective,
        lr: f64,
        seed: u64,
        device: Device,
    ) -> Self {
        Trainer {
            model,
            optim,
            state: LoopState::new(seed),
            objective,
            lr,
            device,
            micro_batch: None,
            schedule: None,
            clip_grad_norm: None,
            last_lr: lr,
            last_grad_norm: None,
        }
    }

    /// One optimizer step on `batch` (gradients clipped and the learning rate scheduled when the
    /// trainer is configured so). A batch whose loss is not finite changes nothing (no
    /// update, the step counter stays) and comes back as [`StepOutcome::NonFinite`]: the caller
    /// stops or skips it. `poison` makes the loss NaN (the loop's test hook).
    pub fn step(&mut self, batch: &HostBatch, poison: bool) -> Result<StepOutcome> {
        use crate::engine::accumulate::{StepGrads, gradients};
        let (value, mut grads) = match gradients(
            &self.model,
            self.objective,
            batch,
            self.micro_batch,
            poison,
            &self.device,
        )? {
            StepGrads::Finite(value, grads) => (value, grads),
            StepGrads::NonFinite(value) => return Ok(StepOutcome::NonFinite(value)),
        };
        self.last_grad_norm = self
            .clip_grad_norm
            .map(|max| clip_global_norm(&self.model, &mut grads, max));
        self.last_lr = match &self.schedule {
            Some(s) => s.lr(self.state.step as usize + 1),
            None => self.lr,
        };
        self.model = self.optim.step(self.last_lr, self.model.clone(), grads);
        self.state.step += 1;
        Ok(StepOutcome::Trained(value))
    }
}

/// What [`Trainer::step`] did with a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepOutcome {
    /// One optimizer step; the batch's loss.
    Trained(f64),
    /// The loss was not finite (the value); nothing was updated.
    NonFinite(f64),
}

/// Predictions of a model on a stream of batches.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    pub preds: Predictions,
    pub truth: Vec<Label>,
    /// Mean loss per labelled record (`NaN` when no record is labelled).
    pub loss: f64,
    /// Records cropped to the model's input length.
    pub cropped: usize,
}

/// Runs `model` (in inference mode: use `model.valid()`) over `batches`, built on `device`
/// without autodiff (nothing is recorded).
pub fn predict<M, I>(
    model: &M,
    objective: Objective,
    batches: I,
    device: &Device,
    bar: &ProgressBar,
) -> Result<Evaluated>
where
    M: SequenceModel,
    I: Iterator<Item = strand_data::Result<HostBatch>>,
{
    let device = &device.clone().without_autodiff();
    let mut scores: Vec<f64> = Vec::new();
    let mut truth = Vec::new();
    let (mut loss_sum, mut loss_n) = (0.0, 0usize);
    let mut cropped = 0;
    // Stream position of every row, in the order the rows arrive.
    let mut order: Vec<usize> = Vec::new();
    for batch in batches {
        let batch = batch?;
        cropped += batch.cropped;
        match &batch.order {
            Some(o) => order.extend(o),
            None => order.extend(truth.len()..truth.len() + batch.rows),
        }
        let tokens = batch.token_batch(device);
        let outputs = model.forward(&tokens);
        if batch.labels.iter().all(|l| *l != Label::None) {
            let targets = batch.targets(objective, device)?;
            let l = f64::from(
                objective
                    .loss(outputs.clone(), &targets)
                    .into_scalar::<f32>(),
            );
            loss_sum += l * batch.rows as f64;
            loss_n += batch.rows;
        }
        let s = objective.scores(outputs);
        let first = scores.len();
        scores.extend(
            s.into_data()
                .convert::<f64>()
                .try_to_vec::<f64>()
                .map_err(|e| anyhow::anyhow!("reading model outputs: {e:?}"))?,
        );
        if let Some(i) = scores[first..].iter().position(|v| !v.is_finite()) {
            let per_row = (scores.len() - first) / batch.rows.max(1);
            let row = order[truth.len() + i / per_row.max(1)] + 1;
            anyhow::bail!(
                "the model's output for record {row} of the split is not finite ({}): its \
                 weights have diverged or are damaged. Retrain with a lower --lr or with \
                 --clip-grad-norm (metrics.jsonl shows where the loss grew)",
                scores[first + i]
            );
        }
        truth.extend(batch.labels);
        bar.inc(1);
    }
    let (scores, truth) = in_stream_order(scores, truth, &order)?;
    let preds = match objective {
        Objective::Regression => Predictions::Values(scores),
        Objective::BinaryLogit => Predictions::Probs {
            n_classes: 2,
            data: scores,
        },
        Objective::Softmax { classes } => Predictions::Probs {
            n_classes: classes,
            data: scores,
        },
    };
    let loss = if loss_n == 0 {
        f64::NAN
    } else {
        loss_sum / loss_n as f64
    };
    Ok(Evaluated {
        preds,
        truth,
        loss,
        cropped,
    })
}

/// Rows of `scores` (equal-width rows, one per label) and `truth` moved from arrival order to
/// stream order: row `i` arrived holding stream position `order[i]`.
fn in_stream_order(
    scores: Vec<f64>,
    truth: Vec<Label>,
    order: &[usize],
) -> Result<(Vec<f64>, Vec<Label>)> {
    let n = truth.len();
    if order.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok((scores, truth));
    }
    let width = scores.len() / n.max(1);
    let mut seen = vec![false; n];
    for &p in order {
        if p >= n || std::mem::replace(&mut seen[p], true) {
            anyhow::bail!("scoring batches do not cover stream positions 0..{n} once each");
        }
    }
    let mut sorted_scores = vec![0.0; scores.len()];
    let mut sorted_truth = vec![Label::None; n];
    for ((&p, row), label) in order
        .iter()
        .zip(scores.chunks_exact(width.max(1)))
        .zip(truth)
    {
        sorted_scores[p * width..(p + 1) * width].copy_from_slice(row);
        sorted_truth[p] = label;
    }
    Ok((sorted_scores, sorted_truth))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::cpu;
    use crate::engine::batch::PadTo;
    use burn::module::Module;
    use burn::optim::AdamConfig;
    use strand_model::cnn::{Cnn, CnnConfig};

    #[test]
    fn best_epoch_selection() {
        let mut s = LoopState::new(0);
        assert!(s.offer(1, f64::NAN));
        assert!(s.offer(2, 0.5));
        assert!(!s.offer(3, 0.4));
        assert!(!s.offer(4, f64::NAN));
        assert!(s.offer(5, 0.6));
        assert_eq!(s.best, Some((5, 0.6)));
        assert_ne!(s.shuffle_seed(1), s.shuffle_seed(2));
    }

    type CnnTrainer = Trainer<Cnn>;

    /// A fresh CNN trainer (lr 1e-3) and a batch of 8 rows: class 1 = rows full of A, class 0 =
    /// rows full of T.
    fn cnn_and_batch() -> (CnnTrainer, HostBatch) {
        let dev = cpu().autodiff();
        let model = CnnConfig::new(109, 60, 1).init(&dev);
        let t = Trainer::new(
            model,
            AdamConfig::new().init(),
            Objective::BinaryLogit,
            1e-3,
            0,
            dev,
        );
        let seqs: Vec<Vec<u32>> = (0..8)
            .map(|i| vec![if i % 2 == 1 { 104 } else { 107 }; 60])
            .collect();
        let labels: Vec<Label> = (0..8).map(|i| Label::Class(i % 2)).collect();
        (t, HostBatch::pad(seqs, labels, PadTo::Fixed(60)))
    }

    #[test]
    fn non_finite_outputs_are_an_error_that_says_why() {
        let (t, batch) = cnn_and_batch();
        let dev = t.device.clone();
        let mut model = t.model.valid();
        let w = model.output.weight.val();
        model.output.weight = burn::module::Param::from_tensor(w.mul_scalar(f32::NAN));
        let bar = ProgressBar::hidden();
        let e = predict(
            &model,
            Objective::BinaryLogit,
            std::iter::once(Ok(batch)),
            &dev.without_autodiff(),
            &bar,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("record 1 ") && e.contains("not finite") && e.contains("diverged"),
            "{e}"
        );
        assert!(!e.contains("probability distribution"), "{e}");
    }

    #[test]
    fn rows_return_to_stream_order() {
        let scores = vec![0.3, 0.7, 0.9, 0.1, 0.5, 0.5];
        let truth = vec![Label::Class(1), Label::Class(0), Label::Class(1)];
        let (s, t) = in_stream_order(scores.clone(), truth.clone(), &[2, 0, 1]).unwrap();
        assert_eq!(s, [0.9, 0.1, 0.5, 0.5, 0.3, 0.7]);
        assert_eq!(t, [Label::Class(0), Label::Class(1), Label::Class(1)]);
        let (s, t) = in_stream_order(scores.clone(), truth.clone(), &[0, 1, 2]).unwrap();
        assert_eq!((s, t), (scores.clone(), truth.clone()));
        for bad in [&[0, 0, 1][..], &[0, 1, 3]] {
            assert!(in_stream_order(scores.clone(), truth.clone(), bad).is_err());
        }
    }

    /// Scoring in length-sorted batches gives each record the output it gets in stream-order
    /// batches (a T5 pooled head masks its padding), in stream order.
    #[test]
    fn length_sorted_scoring_matches_stream_order_scoring() {
        use crate::engine::batch::{InputFormat, batches, length_sorted_batches};
        use rand::{Rng, SeedableRng};
        use strand_model::heads::{HeadKind, T5HeadConfig};
        use strand_model::tokenize::{AnyTokenizer, TokenizerChoice};

        let dev = cpu();
        let t5 = crate::test_models::tiny_t5(0.0);
        let model = T5HeadConfig::for_task(t5, HeadKind::Pooled, Some(3), None)
            .unwrap()
            .init(&dev);
        let tok: std::sync::Arc<AnyTokenizer> = std::sync::Arc::new(
            "nucleotide"
                .parse::<TokenizerChoice>()
                .unwrap()
                .build()
                .unwrap(),
        );
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let records: Vec<strand_data::Record> = (0..37)
            .map(|i| strand_data::Record {
                id: format!("r{i}"),
                seq: (0..rng.random_range(5..60))
                    .map(|_| b"ACGT"[rng.random_range(0..4)])
                    .collect(),
                label: Label::Class(i % 3),
                split: strand_data::Split::Test,
            })
            .collect();
        let format = InputFormat {
            bos: false,
            eos: true,
            pad_to: PadTo::Longest { max: 50 },
        };
        let score = |sorted: bool| {
            let recs = records.clone().into_iter().map(Ok);
            let bar = ProgressBar::hidden();
            let stream: Box<dyn Iterator<Item = _>> = if sorted {
                Box::new(length_sorted_batches(recs, tok.clone(), format, 4, 16))
            } else {
                Box::new(batches(recs, tok.clone(), format, 4))
            };
            predict(
                &model,
                Objective::Softmax { classes: 3 },
                stream,
                &dev,
                &bar,
            )
            .unwrap()
        };
        let (plain, sorted) = (score(false), score(true));
        assert_eq!(plain.truth, sorted.truth);
        assert_eq!(plain.cropped, sorted.cropped);
        assert!(plain.cropped > 0, "some records are longer than the input");
        let (Predictions::Probs { data: a, .. }, Predictions::Probs { data: b, .. }) =
            (&plain.preds, &sorted.preds)
        else {
            panic!("class probabilities")
        };
        assert_eq!(a.len(), 37 * 3);
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
        assert!((plain.loss - sorted.loss).abs() < 1e-5);
    }

    #[test]
    fn training_steps_fit_a_fixed_batch_and_predict_shapes() {
        let (mut t, batch) = cnn_and_batch();
        let dev = t.device.clone();
        let train = |t: &mut CnnTrainer| match t.step(&batch, false).unwrap() {
            StepOutcome::Trained(loss) => loss,
            other => panic!("{other:?}"),
        };
        let first = train(&mut t);
        let mut last = first;
        for _ in 0..20 {
            last = train(&mut t);
        }
        assert!(last < first * 0.5, "{first} → {last}");
        assert_eq!(t.state.step, 21);
        let poisoned = t.step(&batch, true).unwrap();
        assert!(matches!(poisoned, StepOutcome::NonFinite(v) if v.is_nan()));
        assert_eq!(t.state.step, 21, "a non-finite batch is not a step");
        let bar = ProgressBar::hidden();
        let ev = predict(
            &t.model.valid(),
            Objective::BinaryLogit,
            std::iter::once(Ok(batch)),
            &dev,
            &bar,
        )
        .unwrap();
        let Predictions::Probs { n_classes, data } = &ev.preds else {
            panic!("binary predictions are probabilities")
        };
        assert_eq!((*n_classes, data.len(), ev.truth.len()), (2, 16, 8));
        assert!(ev.loss.is_finite());
    }

    #[test]
    fn the_schedule_sets_each_steps_lr_and_clipping_reports_the_norm() {
        use crate::engine::schedule::ScheduleSpec;
        let (mut t, batch) = cnn_and_batch();
        // Warm-up over 2 steps, then linear decay to 0 at step 10.
        t.schedule = Some(
            ScheduleSpec::parse("linear", 2, 0.0)
                .unwrap()
                .with(1e-3, 10),
        );
        t.clip_grad_norm = Some(1e-6);
        let mut lrs = Vec::new();
        for _ in 0..6 {
            assert!(matches!(
                t.step(&batch, false).unwrap(),
                StepOutcome::Trained(_)
            ));
            lrs.push(t.last_lr);
            let norm = t.last_grad_norm.expect("clipping computes the norm");
            assert!(
                norm > 1e-6,
                "the gradient was larger than the bound: {norm}"
            );
        }
        let want = [5e-4, 1e-3, 8.75e-4, 7.5e-4, 6.25e-4, 5e-4];
        for (got, want) in lrs.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{lrs:?}");
        }
    }
}
