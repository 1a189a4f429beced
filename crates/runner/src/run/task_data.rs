//! A task opened for training or evaluation: its source (splits derived), card, tokenizer and
//! objective, plus the streaming passes over it (the first counting pass, scoring a split).

use crate::config::RunConfig;
use crate::engine::batch::{InputFormat, length_sorted_batches};
use crate::engine::progress;
use crate::engine::trainer::{Evaluated, predict};
use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use std::collections::BTreeMap;
use std::sync::Arc;
use strand_data::metrics::Predictions;
use strand_data::stream::Prefetch;
use strand_data::{Label, LabelKind, Source, Split, TaskCard};
use strand_model::Tokenizer;
use strand_model::classifier::{Objective, SequenceModel};
use strand_model::heads::LabelBins;
use strand_model::tokenize::{AnyTokenizer, TokenizerChoice};

/// Scoring reads this many batches' worth of records at a time and sorts them by length
/// ([`length_sorted_batches`]).
const SCORING_WINDOW: usize = 64;

/// An opened task.
pub struct TaskData {
    pub source: Box<dyn Source>,
    pub card: TaskCard,
    pub tokenizer: Arc<AnyTokenizer>,
    /// What the model trains with (a text-to-text head: softmax over its label tokens).
    pub objective: Objective,
    /// Regression as label tokens: the bins, and the source with the real values.
    binned: Option<(Arc<LabelBins>, Arc<dyn Source>)>,
    /// Score on both strands: the mean of the outputs on each record and on its reverse
    /// complement (`--rc-average`).
    pub rc_average: bool,
}

/// Scores of a split and the predictions they came from.
#[derive(Debug, Clone)]
pub struct SplitEvaluation {
    /// Metric name → value (`loss` and `n` included).
    pub metrics: BTreeMap<String, f64>,
    /// One row per record, in file order.
    pub preds: Predictions,
    pub truth: Vec<Label>,
}

/// What the first pass over the training split found.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainScan {
    pub records: usize,
    /// Most tokens of one sequence (no specials).
    pub max_tokens: usize,
    /// Fewest tokens of one sequence (no specials): below `max_tokens`, the task has variable
    /// lengths and the CNN pads as upstream does (see [`crate::config::model_preset`]).
    pub min_tokens: usize,
    /// Records per class (classification tasks).
    pub per_class: Vec<usize>,
    /// Id of the (first) longest record.
    pub longest_id: String,
}

/// The mean of the outputs on both strands (probabilities or values, record by record) and of
/// the two losses.
fn average_strands(fwd: Evaluated, rc: Evaluated) -> Result<Evaluated> {
    let preds = match (fwd.preds, rc.preds) {
        (Predictions::Probs { n_classes, data }, Predictions::Probs { data: back, .. }) => {
            Predictions::Probs {
                n_classes,
                data: data.iter().zip(&back).map(|(a, b)| 0.5 * (a + b)).collect(),
            }
        }
        (Predictions::Values(v), Predictions::Values(back)) => {
            Predictions::Values(v.iter().zip(&back).map(|(a, b)| 0.5 * (a + b)).collect())
        }
        _ => bail!("the two strands gave different kinds of outputs"),
    };
    Ok(Evaluated {
        preds,
        truth: fwd.truth,
        loss: 0.5 * (fwd.loss + rc.loss),
        cropped: fwd.cropped,
    })
}

/// A record's label in words, for errors.
fn describe_label(l: &Label) -> String {
    match l {
        Label::None => "no label (an empty label field?)".into(),
        Label::Class(c) => format!("class index {c}"),
        Label::Value(v) => format!("the numeric label {v}"),
    }
}

/// A task's kind of label in words, for errors.
fn describe_kind(kind: &LabelKind) -> String {
    match kind {
        LabelKind::Classes { names } => format!("classes ({})", names.join(", ")),
        LabelKind::Ordinal { min, max } => format!("ordinal levels {min} to {max}"),
        LabelKind::Regression => "numbers (regression)".into(),
    }
}

impl TaskData {
    /// Opens the task of `cfg` (splits derived by its plan) and builds its tokenizer.
    pub fn open(cfg: &RunConfig) -> Result<Self> {
        let choice: TokenizerChoice = cfg
            .tokenizer
            .parse()
            .with_context(|| format!("tokenizer {:?}", cfg.tokenizer))?;
        let tokenizer = Arc::new(
            choice
                .build()
                .with_context(|| format!("building tokenizer {}", cfg.tokenizer))?,
        );
        let source = strand_data::open(&cfg.task, &cfg.open_options())?;
        let card = source.card().clone();
        let objective = Objective::for_classes(card.labels.num_classes());
        Ok(TaskData {
            source,
            card,
            tokenizer,
            objective,
            binned: None,
            rc_average: cfg.rc_average,
        })
    }

    /// A regression task read through `bins`: records carry bin indices (see
    /// [`strand_data::source::binned`]), the model trains with softmax over the bins, and [`TaskData::evaluate`]
    /// scores the expected value `Σ p_k·center_k` against the real labels.
    pub fn with_bins(self, bins: LabelBins) -> Self {
        let inner: Arc<dyn Source> = Arc::from(self.source);
        let bins = Arc::new(bins);
        TaskData {
            source: Box::new(strand_data::source::binned::BinnedSource {
                inner: inner.clone(),
                bin: {
                    let bins = bins.clone();
                    Arc::new(move |v| bins.bin(v) as u32)
                },
            }),
            card: self.card,
            tokenizer: self.tokenizer,
            objective: Objective::Softmax {
                classes: bins.n_bins(),
            },
            binned: Some((bins, inner)),
            rc_average: self.rc_average,
        }
    }

    /// Whether the task has a validation split (`[split] valid_frac = 0` derives none).
    pub fn has_valid(&self) -> bool {
        self.source.splits().contains(&Split::Valid)
    }

    /// The predictions and labels to score: with bins, expected values against the real labels.
    fn unbin(&self, split: Split, ev: Evaluated) -> Result<(Predictions, Vec<Label>)> {
        let Some((bins, raw)) = &self.binned else {
            return Ok((ev.preds, ev.truth));
        };
        let Predictions::Probs { data, .. } = &ev.preds else {
            bail!("a binned regression model gave values, not bin probabilities");
        };
        let values = bins.expected_values(data)?;
        let truth = raw
            .records(split)?
            .map(|r| r.map(|r| r.label))
            .collect::<strand_data::Result<Vec<Label>>>()?;
        Ok((Predictions::Values(values), truth))
    }

    /// Reads the training split once: counts, longest tokenised sequence, class balance. Fails
    /// on bad records (naming file, record and position) and on a classification task whose
    /// training split holds fewer than two classes.
    /// Reads the validation and test splits once before anything is written: a bad record there
    /// (a non-DNA byte, a malformed row) or an empty validation split is an error now, not after
    /// training.
    pub fn check_eval_splits(&self) -> Result<()> {
        for split in [Split::Valid, Split::Test] {
            if !self.source.splits().contains(&split) {
                continue;
            }
            let mut n = 0usize;
            for r in self.source.records(split)? {
                r?;
                n += 1;
            }
            if n == 0 && split == Split::Valid {
                bail!(
                    "task {}: the validation split is empty (too few records for the split \
                     fractions, or more --folds than records): add data or lower the number of \
                     folds",
                    self.card.name
                );
            }
        }
        Ok(())
    }

    pub fn scan_train(&self) -> Result<TrainScan> {
        let n_classes = self.card.labels.num_classes().unwrap_or(0);
        let mut scan = TrainScan {
            records: 0,
            max_tokens: 0,
            min_tokens: 0,
            per_class: vec![0; n_classes],
            longest_id: String::new(),
        };
        for r in self.source.records(Split::Train)? {
            let r = r?;
            scan.records += 1;
            let tokens = self.tokenizer.encode(&r.seq).len();
            if tokens < scan.min_tokens || scan.records == 1 {
                scan.min_tokens = tokens;
            }
            if tokens > scan.max_tokens || scan.records == 1 {
                scan.max_tokens = tokens.max(scan.max_tokens);
                scan.longest_id = r.id.clone();
            }
            match (r.label, &self.card.labels) {
                (Label::Class(c), LabelKind::Classes { .. } | LabelKind::Ordinal { .. }) => {
                    match scan.per_class.get_mut(c as usize) {
                        Some(n) => *n += 1,
                        None => bail!(
                            "task {}: record {} has class {c}, but the task has {n_classes} classes",
                            self.card.name,
                            r.id
                        ),
                    }
                }
                (Label::Value(_), LabelKind::Regression) => {}
                (l, kind) => bail!(
                    "task {}: training record {} has {}, but the task's labels are {}: give \
                     every training record a label of that kind",
                    self.card.name,
                    r.id,
                    describe_label(&l),
                    describe_kind(kind)
                ),
            }
        }
        if scan.records == 0 {
            bail!("task {}: the training split is empty", self.card.name);
        }
        if n_classes > 0 && scan.per_class.iter().filter(|n| **n > 0).count() < 2 {
            bail!(
                "task {}: the training split holds only one class ({:?} records per class); a \
                 classifier needs at least two",
                self.card.name,
                scan.per_class
            );
        }
        Ok(scan)
    }

    /// ccre: `spearman100` becomes the mean over sub-tasks (the ρ of all rows pooled stays as
    /// `spearman100_pooled`), plus one `spearman100:<sub-task>` each; see [`crate::run::subtasks`].
    fn score_subtasks(
        &self,
        split: Split,
        preds: &Predictions,
        truth: &[Label],
        out: &mut BTreeMap<String, f64>,
    ) -> Result<()> {
        let ids = self
            .source
            .records(split)?
            .map(|r| r.map(|r| r.id))
            .collect::<strand_data::Result<Vec<String>>>()?;
        let values = crate::run::predictions::point_values(preds, &self.card.labels)?;
        let sub = strand_data::metrics::subtask::scores(&ids, &values, truth);
        if sub.is_empty() {
            return Ok(());
        }
        if let Some(pooled) = out.remove("spearman100") {
            out.insert("spearman100_pooled".into(), pooled);
        }
        out.extend(sub);
        Ok(())
    }

    /// Scores `model` (inference mode: `model.valid()`) on `split`, with batches on `device`
    /// without autodiff: every card metric that applies, plus `loss` and `n` (records). A split
    /// without any label (GUANinE's private test set) gets `n` and `labelled = 0` only.
    pub fn evaluate<M: SequenceModel>(
        &self,
        model: &M,
        split: Split,
        format: InputFormat,
        batch_size: usize,
        device: &Device,
    ) -> Result<BTreeMap<String, f64>> {
        Ok(self
            .evaluate_full(model, split, format, batch_size, device)?
            .metrics)
    }

    /// [`TaskData::evaluate`], also returning the per-record predictions (one row per record of
    /// `split`, in file order; binned regression: expected values) and labels.
    pub fn evaluate_full<M: SequenceModel>(
        &self,
        model: &M,
        split: Split,
        format: InputFormat,
        batch_size: usize,
        device: &Device,
    ) -> Result<SplitEvaluation> {
        let pass = |rc: bool| -> Result<Evaluated> {
            let records = self.source.records(split)?;
            let records: Box<dyn Iterator<Item = strand_data::Result<strand_data::Record>> + Send> =
                if rc {
                    Box::new(records.map(|r| {
                        r.map(|mut r| {
                            r.seq = strand_data::seq::reverse_complement(&r.seq);
                            r
                        })
                    }))
                } else {
                    records
                };
            // Order does not matter to the metrics: rows of similar length share a batch.
            let stream = Prefetch::new(
                length_sorted_batches(
                    records,
                    self.tokenizer.clone(),
                    format,
                    batch_size,
                    SCORING_WINDOW * batch_size,
                ),
                4,
            );
            let label = if rc {
                "eval {split} (rc)"
            } else {
                "eval {split}"
            };
            let bar = progress::bar(None, label.replace("{split}", split.as_str()));
            let ev = predict(model, self.objective, stream, device, &bar)?;
            bar.finish_and_clear();
            Ok(ev)
        };
        let mut ev = pass(false)?;
        if self.rc_average {
            ev = average_strands(ev, pass(true)?)?;
        }
        let n = ev.truth.len();
        if n == 0 {
            bail!("task {}: split {split} is empty", self.card.name);
        }
        if ev.cropped > 0 {
            tracing::warn!(
                "{} of {n} {split} records of {} are longer than the model's input ({} tokens, \
                 set by the longest training sequence) and were cropped to it",
                ev.cropped,
                self.card.name,
                format.max_len()
            );
        }
        let loss = ev.loss;
        let (preds, truth) = self.unbin(split, ev)?;
        let labelled = truth.iter().filter(|l| **l != Label::None).count();
        if labelled == 0 {
            let mut metrics = BTreeMap::new();
            metrics.insert("n".to_string(), n as f64);
            metrics.insert("labelled".to_string(), 0.0);
            return Ok(SplitEvaluation {
                metrics,
                preds,
                truth,
            });
        }
        let metrics =
            strand_data::metrics::score(&self.card.labels, &self.card.metrics, &preds, &truth)
                .with_context(|| format!("scoring {} on {split}", self.card.name))?;
        let mut out: BTreeMap<String, f64> = metrics
            .into_iter()
            .map(|(m, v)| (m.as_str().to_string(), v))
            .collect();
        out.insert("loss".into(), loss);
        out.insert("n".into(), n as f64);
        if self.card.name.starts_with("guanine/ccre") {
            self.score_subtasks(split, &preds, &truth, &mut out)?;
        }
        Ok(SplitEvaluation {
            metrics: out,
            preds,
            truth,
        })
    }
}
