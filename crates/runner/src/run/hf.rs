//! Hugging Face T5 model directories as a starting point: `--init hf:DIR` (train, eval, predict)
//! and `--label-vocab hf:DIR`.
//!
//! `DIR` is a local snapshot of a model repository (`huggingface-cli download REPO --revision R
//! --local-dir DIR`): `config.json` (read by [`T5Config::from_hf_json`], which refuses what
//! strand's T5 cannot represent), `model.safetensors` and `tokenizer.json` (a strand tokenizer of
//! kind `hf:DIR`). A run initialised from it records `hf:/absolute/DIR` as its `init`, `model` and
//! `tokenizer`, so `strand eval` and `strand predict` rebuild the same model and tokenizer.
//!
//! The output vocabulary (`--label-vocab`) names the label tokens of a text-to-text head inside the
//! model's own vocabulary: label k is the regular token spelled as class name k, or as ordinal
//! level k (`"3"`, or SentencePiece's `"▁3"`).
//!
//! [`untrained_run`] writes the run directory of a published model as it is (text-to-text through
//! its output vocabulary, no training), which `strand eval --init` and `strand predict --init`
//! score like any finished run.

use crate::config::model_preset::ModelSpec;
use crate::config::{ExperimentConfig, RunConfig};
use crate::engine::checkpoint::save_weights;
use crate::run::model::{self, Weights};
use crate::run::run_dir::{self, RunDir, Scores};
use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use strand_data::LabelKind;
use strand_model::Tokenizer;
use strand_model::heads::{HeadKind, LabelVocab, T5HeadConfig};
use strand_model::t5::{T5Config, T5Model};
use strand_model::tokenize::TokenizerChoice;

/// How a Hugging Face directory is written on the command line and in run configs.
pub const PREFIX: &str = "hf:";

/// The directory of an `hf:DIR` path; `None` for any other path (a strand checkpoint).
pub fn hf_dir(p: &Path) -> Option<PathBuf> {
    p.to_str()?.strip_prefix(PREFIX).map(PathBuf::from)
}

/// `hf:DIR` with `DIR` made absolute; other paths made absolute as they are.
pub fn absolute(p: &Path) -> Result<PathBuf> {
    match hf_dir(p) {
        Some(dir) => {
            let abs = std::path::absolute(&dir).with_context(|| format!("{}", dir.display()))?;
            Ok(PathBuf::from(format!("{PREFIX}{}", abs.display())))
        }
        None => std::path::absolute(p).with_context(|| format!("{}", p.display())),
    }
}

/// `--label-vocab` as `hf:/abs/DIR` (the `hf:` prefix may be left out).
pub fn absolute_vocab(p: &Path) -> Result<PathBuf> {
    let dir = hf_dir(p).unwrap_or_else(|| p.to_path_buf());
    absolute(&PathBuf::from(format!("{PREFIX}{}", dir.display())))
}

/// The run's `model` and `tokenizer` under `--init hf:DIR`: both `hf:DIR` (the T5 shape comes
/// from DIR/config.json, the tokenizer from DIR/tokenizer.json). A different `--model` or
/// `--tokenizer` is refused: the weights fix both.
pub fn model_and_tokenizer(
    dir: &Path,
    model: Option<&str>,
    tokenizer: Option<&str>,
) -> Result<(String, String)> {
    let own = format!("{PREFIX}{}", dir.display());
    let same = |given: &str| {
        hf_dir(Path::new(given))
            .is_some_and(|d| std::path::absolute(d).ok().as_deref() == Some(dir))
    };
    if let Some(m) = model.filter(|m| !same(m)) {
        bail!(
            "--init {own} takes the T5 shape from {}/config.json; leave out --model {m}",
            dir.display()
        );
    }
    if let Some(t) = tokenizer.filter(|t| !same(t)) {
        bail!(
            "--init {own} reads its own tokenizer ({}/tokenizer.json; its weights belong to those \
             ids); leave out --tokenizer {t}",
            dir.display()
        );
    }
    Ok((own.clone(), own))
}

/// A Hugging Face T5 model directory, its configuration read.
#[derive(Debug, Clone)]
pub struct HfModel {
    pub dir: PathBuf,
    pub config: T5Config,
}

impl HfModel {
    /// Reads `dir/config.json` and checks that the weights are there as `model.safetensors`.
    ///
    /// # Errors
    /// No such directory or config; an unrepresentable config (the key named); weights only as
    /// `pytorch_model.bin` or sharded (how to convert them is said).
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            bail!("hf:{}: no such directory", dir.display());
        }
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).with_context(|| {
            format!(
                "hf:{} is not a Hugging Face model directory (reading config.json)",
                dir.display()
            )
        })?;
        let config = T5Config::from_hf_json(&text, &config_path.display().to_string())?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            let convert = "convert it with transformers: \
                 AutoModelForSeq2SeqLM.from_pretrained(DIR).save_pretrained(DIR, \
                 safe_serialization=True, max_shard_size=\"100GB\")";
            if dir.join("pytorch_model.bin").is_file() {
                bail!(
                    "hf:{}: the weights are a PyTorch pickle (pytorch_model.bin), which strand \
                     does not read; {convert}",
                    dir.display()
                );
            }
            if dir.join("model.safetensors.index.json").is_file() {
                bail!(
                    "hf:{}: the weights are sharded (model.safetensors.index.json); strand reads \
                     one model.safetensors: {convert}",
                    dir.display()
                );
            }
            bail!("hf:{}: no model.safetensors", dir.display());
        }
        Ok(HfModel {
            dir: dir.to_path_buf(),
            config,
        })
    }

    /// The tokenizer string of the directory (`hf:DIR`).
    pub fn tokenizer(&self) -> String {
        format!("{PREFIX}{}", self.dir.display())
    }

    /// The weights on `device`, as a model of `config` (the directory's, dropout aside).
    pub fn load(&self, config: &T5Config, device: &Device) -> Result<T5Model> {
        Ok(config
            .init(device)
            .load_hf_safetensors(&self.dir.join("model.safetensors"))?)
    }
}

/// The label tokens of the output vocabulary in `dir` for a task's labels: one per class
/// (spelled as the class name) or ordinal level (spelled as the level, `min` … `max`).
///
/// # Errors
/// A regression task (no label tokens to name), or a label without its token (named, with the
/// vocabulary's first tokens).
pub fn label_vocab(dir: &Path, labels: &LabelKind) -> Result<LabelVocab> {
    let tokens = strand_model::tokenize::hf::label_tokens(dir)
        .with_context(|| format!("--label-vocab hf:{}", dir.display()))?;
    let wanted: Vec<String> = match labels {
        LabelKind::Classes { names } => names.clone(),
        LabelKind::Ordinal { min, max } => (*min..=*max).map(|l| l.to_string()).collect(),
        LabelKind::Regression => {
            bail!("--label-vocab names class or ordinal labels; this task's labels are real values")
        }
    };
    let mut vocab = LabelVocab {
        ids: Vec::new(),
        names: Vec::new(),
    };
    for name in wanted {
        let spm = format!("\u{2581}{name}");
        let Some((text, id)) = tokens.iter().find(|(t, _)| *t == name || *t == spm) else {
            let some: Vec<&str> = tokens.iter().take(8).map(|(t, _)| t.as_str()).collect();
            bail!(
                "--label-vocab hf:{}: no token for label {name:?} (its tokens: {}{})",
                dir.display(),
                some.join(", "),
                if tokens.len() > some.len() {
                    ", …"
                } else {
                    ""
                }
            );
        };
        vocab.ids.push(*id);
        vocab.names.push(text.clone());
    }
    Ok(vocab)
}

/// The labels of a task known without reading its data (built-in card, `fasta:NAME=PATH,…`).
fn task_labels(task: &str) -> Result<LabelKind> {
    match strand_data::TaskSpec::parse(task)? {
        strand_data::TaskSpec::FastaClasses { classes } => Ok(LabelKind::Classes {
            names: classes.into_iter().map(|(n, _)| n).collect(),
        }),
        strand_data::TaskSpec::Builtin { .. } => {
            Ok(strand_data::registry::card(task)?.labels.clone())
        }
        _ => bail!(
            "task {task}: --init hf: without training needs a task whose labels are known \
             without its data (a built-in task or fasta:NAME=PATH,…)"
        ),
    }
}

/// Writes into `out` the run of the published model `exp.init` (`hf:DIR`) as it is: a
/// text-to-text head reading the labels of `exp.task` at the tokens of `exp.label_vocab`, the
/// directory's weights as `model.bpk`, no training. With `card`, a `scores.json` without scores
/// is written too (for `strand eval` to fill; the task's card is read by opening it).
///
/// # Errors
/// No `hf:` init or label vocabulary, a head other than text-to-text, a task of real-valued
/// labels, and everything [`HfModel::open`] and [`label_vocab`] refuse.
pub fn untrained_run(
    exp: &ExperimentConfig,
    out: &Path,
    overwrite: bool,
    with_scores: bool,
) -> Result<RunConfig> {
    let cfg = exp
        .expand(out)?
        .into_iter()
        .next()
        .map(|(c, _)| c)
        .context("no run")?;
    let Some(dir) = cfg.init.as_deref().and_then(hf_dir) else {
        bail!("--init hf:DIR names the Hugging Face model to score");
    };
    let head = cfg
        .head
        .as_deref()
        .map(crate::run::t5::parse_head)
        .transpose()?;
    if head.is_some_and(|h| h != HeadKind::TextToText) {
        bail!(
            "--init {PREFIX}{} without training scores the model's own LM head: use --head text",
            dir.display()
        );
    }
    let Some(vocab_dir) = cfg.label_vocab.as_deref().and_then(hf_dir) else {
        bail!(
            "--init {PREFIX}{} without training reads its predictions from the label tokens of \
             its output vocabulary: pass --label-vocab hf:DIR",
            dir.display()
        );
    };
    let hf = HfModel::open(&dir)?;
    let tokenizer = TokenizerChoice::Hf { path: dir.clone() }.build()?;
    let card = if with_scores {
        Some(crate::run::task_data::TaskData::open(&cfg)?.card)
    } else {
        None
    };
    let labels = match &card {
        Some(c) => c.labels.clone(),
        None => task_labels(&cfg.task)?,
    };
    let n = labels.num_classes().context(
        "--init hf: without training needs class or ordinal labels (a real-valued task has no \
         label tokens)",
    )?;
    let head = T5HeadConfig::for_task(hf.config.clone(), HeadKind::TextToText, Some(n), None)?
        .using_label_vocab(label_vocab(&vocab_dir, &labels)?)?;
    let spec = ModelSpec::T5 {
        name: cfg.model.clone(),
        tokenizer: tokenizer.spec(),
        head,
        // T5's relative positions have no length limit: inputs are never cropped.
        max_len: usize::MAX,
    };
    let device = crate::engine::backend::device("cpu", crate::engine::backend::Precision::F32)?;
    let model = model::build(
        &spec,
        Weights::Init {
            pretrained: cfg.init.as_deref(),
        },
        &device,
    )?;
    let run = RunDir::create(out, overwrite)?;
    run.write_atomic(run_dir::CONFIG, cfg.to_toml()?.as_bytes())?;
    run.write_atomic(
        run_dir::MODEL_SPEC,
        serde_json::to_string_pretty(&spec)?.as_bytes(),
    )?;
    save_weights(&model, &run.path(run_dir::WEIGHTS))?;
    if let Some(card) = &card {
        run.write_scores(&Scores {
            strand_version: env!("CARGO_PKG_VERSION").into(),
            task: card.name.clone(),
            data_version: card.version.clone(),
            model: cfg.model.clone(),
            tokenizer: cfg.tokenizer.clone(),
            seed: cfg.seed,
            split_seed: cfg.split.seed,
            fold: cfg.split.fold,
            global_batch: cfg.batch_size,
            micro_batch: None,
            accumulation: 1,
            epochs: 0,
            epochs_trained: Some(0),
            best_epoch: 0,
            selection_metric: "none (published weights, not trained by strand)".into(),
            metrics: card
                .metrics
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            eval_split: card.eval_split.as_str().into(),
            config: run_dir::CONFIG.into(),
            splits: BTreeMap::new(),
        })?;
    }
    Ok(cfg)
}
