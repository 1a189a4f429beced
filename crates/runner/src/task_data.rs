//! A task opened for training or evaluation: its source (splits derived), card, tokenizer and
//! objective, plus the streaming passes over it (the first counting pass, scoring a split).

use crate::batch::{InputFormat, batches};
use crate::config::RunConfig;
use crate::progress;
use crate::trainer::predict;
use anyhow::{Context, Result, bail};
use burn::tensor::backend::Backend;
use std::collections::BTreeMap;
use std::sync::Arc;
use strand_data::stream::Prefetch;
use strand_data::{Label, LabelKind, Source, Split, TaskCard};
use strand_model::Tokenizer;
use strand_model::classifier::{Objective, SequenceModel};
use strand_model::tokenize::{AnyTokenizer, TokenizerChoice};

/// An opened task.
pub struct TaskData {
    pub source: Box<dyn Source>,
    pub card: TaskCard,
    pub tokenizer: Arc<AnyTokenizer>,
    pub objective: Objective,
}

/// What the first pass over the training split found.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainScan {
    pub records: usize,
    /// Most tokens of one sequence (no specials).
    pub max_tokens: usize,
    /// Records per class (classification tasks).
    pub per_class: Vec<usize>,
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
        })
    }

    /// Reads the training split once: counts, longest tokenised sequence, class balance. Fails
    /// on bad records (naming file, record and position) and on a classification task whose
    /// training split holds fewer than two classes.
    pub fn scan_train(&self) -> Result<TrainScan> {
        let n_classes = self.card.labels.num_classes().unwrap_or(0);
        let mut scan = TrainScan {
            records: 0,
            max_tokens: 0,
            per_class: vec![0; n_classes],
        };
        for r in self.source.records(Split::Train)? {
            let r = r?;
            scan.records += 1;
            scan.max_tokens = scan.max_tokens.max(self.tokenizer.encode(&r.seq).len());
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
                    "task {}: training record {} has label {l:?}, which does not fit {kind:?}",
                    self.card.name,
                    r.id
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

    /// Scores `model` (inference mode) on `split`: every card metric that applies, plus `loss`
    /// and `n` (records).
    pub fn evaluate<B: Backend, M: SequenceModel<B>>(
        &self,
        model: &M,
        split: Split,
        format: InputFormat,
        batch_size: usize,
        device: &B::Device,
    ) -> Result<BTreeMap<String, f64>> {
        let records = self.source.records(split)?;
        let stream = Prefetch::new(
            batches(records, self.tokenizer.clone(), format, batch_size),
            4,
        );
        let bar = progress::bar(None, format!("eval {split}"));
        let ev = predict(model, self.objective, stream, device, &bar)?;
        bar.finish_and_clear();
        let n = ev.truth.len();
        if n == 0 {
            bail!("task {}: split {split} is empty", self.card.name);
        }
        let metrics = strand_data::metrics::score(
            &self.card.labels,
            &self.card.metrics,
            &ev.preds,
            &ev.truth,
        )
        .with_context(|| format!("scoring {} on {split}", self.card.name))?;
        let mut out: BTreeMap<String, f64> = metrics
            .into_iter()
            .map(|(m, v)| (m.as_str().to_string(), v))
            .collect();
        out.insert("loss".into(), ev.loss);
        out.insert("n".into(), n as f64);
        Ok(out)
    }
}
