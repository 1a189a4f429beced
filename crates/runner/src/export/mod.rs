//! `strand export --format hf`: a strand T5 as a Hugging Face model directory that transformers
//! loads with `AutoModelForSeq2SeqLM.from_pretrained` (and strand with `--init hf:DIR`).
//!
//! What can be exported: a pretraining checkpoint (`checkpoints/step-N`, or a pretraining run
//! directory: its latest checkpoint) and a fine-tuning run with the text-to-text head (the whole
//! encoder–decoder, label tokens included). Pooled and probe heads are refused: their linear head
//! on the mean encoder state has no place in `T5ForConditionalGeneration`.
//!
//! The directory holds `config.json`, `model.safetensors`, `tokenizer.json` and
//! `tokenizer_config.json` when the tokenizer is expressible
//! ([`strand_model::tokenize::hf_export`]), else `strand_tokenizer.json` (strand's spec), for a
//! text-to-text run `labels/tokenizer.json` (the output vocabulary: label names at their ids,
//! readable by `--label-vocab hf:DIR/labels`), and a `README.md` card with the run's scores.

pub mod card;

use crate::config::model_preset::ModelSpec;
use crate::engine::backend::{self, Precision};
use crate::infer::loaded::RunFiles;
use crate::pretrain::checkpoint::{CheckpointInfo, latest_checkpoint};
use crate::run::model::{self, AnyModel, Weights};
use crate::run::run_dir::{self, RunDir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use strand_data::LabelKind;
use strand_model::heads::{T5Head, T5TextToText};
use strand_model::t5::{T5Config, T5Model};
use strand_model::tokenize::AnyTokenizer;
use strand_model::tokenize::hf::{TOKENIZER_JSON, label_vocab_json};
use strand_model::tokenize::hf_export::to_hf_json;

/// What was exported, for the command's summary.
#[derive(Debug, Clone)]
pub struct Exported {
    pub out: PathBuf,
    /// The T5's vocabulary size and parameter count.
    pub vocab_size: usize,
    pub params: usize,
    /// Whether `tokenizer.json` was written.
    pub tokenizer_json: bool,
    /// Label tokens `(name, id)` of a text-to-text run.
    pub labels: Vec<(String, u32)>,
}

/// The model to export and what the card says about it.
pub(crate) struct Source {
    pub t5: T5Model,
    pub config: T5Config,
    pub tokenizer: AnyTokenizer,
    pub labels: Vec<(String, u32)>,
    /// `scores.json` of a fine-tuning run.
    pub scores: Option<run_dir::Scores>,
    /// One line saying where the model comes from.
    pub origin: String,
}

/// Writes the run or checkpoint in `run` as a Hugging Face directory `out` (created; an existing
/// non-empty directory is refused unless `overwrite`).
pub fn export_hf(run: &Path, out: &Path, overwrite: bool) -> Result<Exported> {
    let src = read_source(run)?;
    if out.exists() {
        let non_empty = std::fs::read_dir(out)
            .with_context(|| format!("--out {}", out.display()))?
            .next()
            .is_some();
        if non_empty && !overwrite {
            bail!(
                "--out {} exists and is not empty; pass --overwrite to replace its files",
                out.display()
            );
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let config = serde_json::to_string_pretty(&src.config.to_hf_json())?;
    std::fs::write(out.join("config.json"), config + "\n")?;
    src.t5.save_hf_safetensors(&out.join("model.safetensors"))?;
    let tokenizer_json = to_hf_json(&src.tokenizer);
    match &tokenizer_json {
        Some(json) => {
            std::fs::write(out.join(TOKENIZER_JSON), json)?;
            std::fs::write(out.join("tokenizer_config.json"), tokenizer_config())?;
        }
        None => {
            use strand_model::Tokenizer;
            std::fs::write(
                out.join("strand_tokenizer.json"),
                src.tokenizer.spec().to_json() + "\n",
            )?;
        }
    }
    if !src.labels.is_empty() {
        std::fs::create_dir_all(out.join("labels"))?;
        std::fs::write(
            out.join("labels").join(TOKENIZER_JSON),
            label_vocab_json(&src.labels)?,
        )?;
        std::fs::write(
            out.join("labels").join("tokenizer_config.json"),
            tokenizer_config(),
        )?;
    }
    std::fs::write(
        out.join("README.md"),
        card::render(&src, tokenizer_json.is_some()),
    )?;
    Ok(Exported {
        out: out.to_path_buf(),
        vocab_size: src.config.vocab_size,
        params: src.config.num_params(),
        tokenizer_json: tokenizer_json.is_some(),
        labels: src.labels,
    })
}

/// transformers' `AutoTokenizer` reads the fast tokenizer with these special tokens.
fn tokenizer_config() -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "pad_token": "<pad>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
    }))
    .expect("JSON")
        + "\n"
}

/// The T5 of a fine-tuning run (text-to-text head) or a pretraining checkpoint.
fn read_source(run: &Path) -> Result<Source> {
    if run.join(run_dir::MODEL_SPEC).is_file() {
        return from_run(run);
    }
    let ckpt = if run.join("model.bpk").is_file() {
        run.to_path_buf()
    } else if let Some(last) = latest_checkpoint(run) {
        last
    } else {
        bail!(
            "--run {}: neither a strand run (no {}) nor a pretraining run or checkpoint",
            run.display(),
            run_dir::MODEL_SPEC
        );
    };
    let info = CheckpointInfo::read(&ckpt)?;
    let device = backend::device("cpu", Precision::F32)?;
    Ok(Source {
        t5: info.load_model(&device)?,
        config: info.config.clone(),
        tokenizer: info.tokenizer()?,
        labels: Vec::new(),
        scores: None,
        origin: format!(
            "strand span-corruption pretraining checkpoint {} (step {}, loss {:.4})",
            ckpt.display(),
            info.meta.step,
            info.meta.loss
        ),
    })
}

fn from_run(run: &Path) -> Result<Source> {
    let files = RunFiles::read(run)?;
    let ModelSpec::T5 { head, .. } = &files.spec else {
        bail!(
            "--run {}: model {} is a CNN; only T5 models export to Hugging Face",
            run.display(),
            files.spec.name()
        );
    };
    let device = backend::device("cpu", Precision::F32)?;
    let AnyModel::T5(T5Head::TextToText(T5TextToText { t5, label_ids })) =
        model::build(&files.spec, Weights::Saved(&files.weights()), &device)?
    else {
        bail!(
            "--run {}: the {} head has no place in T5ForConditionalGeneration (a linear layer on \
             the mean encoder state); only text-to-text runs (--head text) and pretraining \
             checkpoints export",
            run.display(),
            head.kind
        );
    };
    let names = label_names(head, &files.labels);
    let labels = names
        .into_iter()
        .zip(label_ids.iter().map(|&i| i as u32))
        .collect();
    let mut config = head.t5.clone();
    config.vocab_size = t5.vocab_size();
    let scores = RunDir::unlocked(run).read_scores().ok();
    Ok(Source {
        t5,
        config,
        tokenizer: files.tokenizer,
        labels,
        scores,
        origin: format!(
            "strand fine-tuning run {} (task {}, text-to-text head)",
            run.display(),
            files.cfg.task
        ),
    })
}

/// The text of each label token: the label vocabulary's, else the class names, the ordinal
/// levels, or `bin_k` for the bins of a regression target.
fn label_names(head: &strand_model::heads::T5HeadConfig, labels: &LabelKind) -> Vec<String> {
    if let Some(v) = &head.label_vocab {
        return v.names.clone();
    }
    let n = head.n_out();
    match (labels, &head.bins) {
        (_, Some(_)) => (0..n).map(|k| format!("bin_{k}")).collect(),
        (LabelKind::Classes { names }, None) if names.len() == n => names.clone(),
        (LabelKind::Ordinal { min, .. }, None) => {
            (0..n).map(|k| (*min as usize + k).to_string()).collect()
        }
        _ => (0..n).map(|k| format!("class_{k}")).collect(),
    }
}
