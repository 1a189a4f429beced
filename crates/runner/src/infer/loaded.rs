//! A finished run opened for inference: its config, sized model, saved weights, tokenizer and
//! labels, on a device without autodiff. Needs only the run directory (not the task's data).

use crate::config::RunConfig;
use crate::config::model_preset::ModelSpec;
use crate::engine::backend::{self, Precision};
use crate::engine::batch::{HostBatch, InputFormat};
use crate::engine::trainer::predict;
use crate::run::model::{self, AnyModel, Weights};
use crate::run::run_dir;
use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strand_data::metrics::Predictions;
use strand_data::{Label, LabelKind};
use strand_model::classifier::Objective;
use strand_model::tokenize::{AnyTokenizer, TokenizerChoice};

/// A run ready to score sequences.
pub struct LoadedRun {
    pub dir: PathBuf,
    pub cfg: RunConfig,
    pub spec: ModelSpec,
    /// Inference mode (`model.valid()`), on `device`.
    pub model: AnyModel,
    pub tokenizer: Arc<AnyTokenizer>,
    /// What the outputs mean: the task's classes (names), ordinal levels or regression.
    pub labels: LabelKind,
    pub device: Device,
}

/// What one record's outputs are written as.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputKind {
    /// One probability per class, columns `p_<class name>`.
    Probs(Vec<String>),
    /// One number per record, column `prediction` (regression value, or the expected level of
    /// an ordinal task).
    Value,
}

/// A finished run's files, read without loading its weights or taking its lock (a run
/// directory may be read-only): the resolved config, the sized model spec and the tokenizer.
pub struct RunFiles {
    pub dir: PathBuf,
    pub cfg: RunConfig,
    pub spec: ModelSpec,
    pub tokenizer: AnyTokenizer,
    /// What the outputs mean (see [`labels_of`]).
    pub labels: LabelKind,
}

impl RunFiles {
    /// Reads the finished run in `dir`. Errors name the directory and what is missing: no such
    /// directory, not a strand run (no config), no trained weights (`model.bpk` is written when
    /// a run finishes), weights of a strand built on burn 0.21, an unreadable model spec or
    /// tokenizer.
    pub fn read(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            bail!("--run {}: no such run directory", dir.display());
        }
        let config = dir.join(run_dir::CONFIG);
        if !config.is_file() {
            bail!(
                "--run {} is not a strand run directory (no {})",
                dir.display(),
                run_dir::CONFIG
            );
        }
        let weights = dir.join(run_dir::WEIGHTS);
        crate::engine::checkpoint::refuse_old_format(&weights)?;
        if !weights.is_file() {
            bail!(
                "--run {} has no trained weights ({}): is the run finished?",
                dir.display(),
                run_dir::WEIGHTS
            );
        }
        let cfg = RunConfig::load(&config)?;
        let spec_path = dir.join(run_dir::MODEL_SPEC);
        let spec: ModelSpec = serde_json::from_str(
            &std::fs::read_to_string(&spec_path)
                .with_context(|| format!("reading {}", spec_path.display()))?,
        )
        .with_context(|| format!("{} is not a valid model spec", spec_path.display()))?;
        let choice: TokenizerChoice = cfg
            .tokenizer
            .parse()
            .with_context(|| format!("tokenizer {:?} of {}", cfg.tokenizer, config.display()))?;
        let tokenizer = choice
            .build()
            .with_context(|| format!("building tokenizer {}", cfg.tokenizer))?;
        let labels = labels_of(&cfg, &spec);
        Ok(RunFiles {
            dir: dir.to_path_buf(),
            cfg,
            spec,
            tokenizer,
            labels,
        })
    }

    /// The run's trained weights.
    pub fn weights(&self) -> PathBuf {
        self.dir.join(run_dir::WEIGHTS)
    }

    /// The task's class names, for a classification task whose names are known.
    pub fn class_names(&self) -> Option<&[String]> {
        match &self.labels {
            LabelKind::Classes { names } => Some(names),
            _ => None,
        }
    }
}

impl LoadedRun {
    /// Opens the finished run in `dir` (see [`RunFiles::read`]) on `device` (default: the run's
    /// own device), with its weights loaded (weights whose shapes do not fit `model.json` are
    /// an error naming the file).
    pub fn open(dir: &Path, device: Option<&str>) -> Result<Self> {
        let files = RunFiles::read(dir)?;
        let device = backend::device(device.unwrap_or(&files.cfg.device), Precision::F32)?;
        let model = model::build(&files.spec, Weights::Saved(&files.weights()), &device)?.valid();
        Ok(LoadedRun {
            dir: files.dir,
            cfg: files.cfg,
            spec: files.spec,
            model,
            tokenizer: Arc::new(files.tokenizer),
            labels: files.labels,
            device,
        })
    }

    /// How sequences become model inputs (BOS/EOS, padding, the crop length).
    pub fn format(&self) -> InputFormat {
        self.spec.input_format()
    }

    /// The columns after `id`.
    pub fn output_kind(&self) -> OutputKind {
        match (&self.labels, self.spec.bins()) {
            (LabelKind::Classes { names }, None) => OutputKind::Probs(names.clone()),
            _ => OutputKind::Value,
        }
    }

    /// Column names after `id`.
    pub fn columns(&self) -> Vec<String> {
        match self.output_kind() {
            OutputKind::Probs(names) => names.iter().map(|n| format!("p_{n}")).collect(),
            OutputKind::Value => vec!["prediction".into()],
        }
    }

    /// The outputs of `seqs` (bases, already normalised), one row of [`LoadedRun::columns`] per
    /// sequence, and how many were cropped to the model's input.
    pub fn score(&self, seqs: &[Vec<u8>]) -> Result<(Vec<Vec<f64>>, usize)> {
        let format = self.format();
        let mut cropped = 0;
        let ids: Vec<Vec<u32>> = seqs
            .iter()
            .map(|s| {
                let (ids, c) = format.encode_cropped(&self.tokenizer, s);
                cropped += usize::from(c);
                ids
            })
            .collect();
        let batch = HostBatch::pad(ids, vec![Label::None; seqs.len()], format.pad_to);
        let bar = indicatif::ProgressBar::hidden();
        let ev = predict(
            &self.model,
            self.spec.objective(),
            std::iter::once(Ok(batch)),
            &self.device,
            &bar,
        )?;
        Ok((self.rows(&ev.preds)?, cropped))
    }

    /// One row per record from the model's predictions (see [`LoadedRun::output_kind`]).
    pub fn rows(&self, preds: &Predictions) -> Result<Vec<Vec<f64>>> {
        if let Some(bins) = self.spec.bins() {
            let Predictions::Probs { data, .. } = preds else {
                bail!("a binned model gave values, not bin probabilities");
            };
            return Ok(bins
                .expected_values(data)?
                .into_iter()
                .map(|v| vec![v])
                .collect());
        }
        Ok(match (preds, &self.labels) {
            (Predictions::Probs { n_classes, data }, LabelKind::Classes { .. }) => {
                data.chunks_exact(*n_classes).map(<[f64]>::to_vec).collect()
            }
            (p, kind) => crate::run::predictions::point_values(p, kind)?
                .into_iter()
                .map(|v| vec![v])
                .collect(),
        })
    }
}

/// The task's labels, without reading its data where possible: the built-in task card, the
/// class names of a `fasta:NAME=PATH,…` spec, a table task's data (when its file is still
/// there), else generic class names from the model's outputs.
pub fn labels_of(cfg: &RunConfig, spec: &ModelSpec) -> LabelKind {
    let found = match strand_data::TaskSpec::parse(&cfg.task) {
        Ok(strand_data::TaskSpec::FastaClasses { classes }) => Some(LabelKind::Classes {
            names: classes.into_iter().map(|(n, _)| n).collect(),
        }),
        Ok(strand_data::TaskSpec::Builtin { .. }) => strand_data::registry::card(&cfg.task)
            .ok()
            .map(|c| c.labels.clone()),
        Ok(strand_data::TaskSpec::Table { .. }) => {
            strand_data::open(&cfg.task, &cfg.open_options())
                .ok()
                .map(|s| s.card().labels.clone())
        }
        Err(_) => None,
    };
    if let Some(l) = found {
        return l;
    }
    match spec.task_objective() {
        Objective::BinaryLogit => LabelKind::Classes {
            names: vec!["class_0".into(), "class_1".into()],
        },
        Objective::Softmax { classes } => LabelKind::Classes {
            names: (0..classes).map(|c| format!("class_{c}")).collect(),
        },
        Objective::Regression => LabelKind::Regression,
    }
}
