//! T5 fine-tuning glue for `strand train` / `strand eval`: the head choice (`--head`), label bins
//! for text-to-text regression, and `--init CHECKPOINT` (a `strand pretrain` checkpoint, see
//! [`crate::pretrain::checkpoint`]) with its tokenizer and model-config checks.

use crate::config::RunConfig;
use crate::config::model_preset::{DataFacts, FineTune, ModelPreset, ModelSpec};
use crate::pretrain::checkpoint::CheckpointInfo;
use crate::run::task_data::{TaskData, TrainScan};
use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use std::path::Path;
use strand_model::heads::{HeadKind, LabelBins, T5Head, T5HeadConfig};
use strand_model::t5::T5Config;
use strand_model::{Tokenizer, TokenizerSpec};

/// Bins of a regression target under the text-to-text head (quantiles of the training labels).
pub const LABEL_BINS: usize = 10;

/// `pooled`, `text` / `text_to_text` / `text-to-text`, `probe`.
pub fn parse_head(s: &str) -> Result<HeadKind> {
    if s == "text" {
        return Ok(HeadKind::TextToText);
    }
    s.parse::<HeadKind>()
        .map_err(|e| anyhow::anyhow!("--head: {e} (or `text`)"))
}

/// Sizes the model of `cfg` for the task in `data` and returns it with the data as the model
/// reads it (a text-to-text head trains with softmax over its label tokens; on a regression task
/// the labels are binned). A `--init` checkpoint is checked against the model here, before any
/// run directory is touched.
pub fn build_spec(
    cfg: &RunConfig,
    preset: &ModelPreset,
    data: TaskData,
    scan: &TrainScan,
) -> Result<(ModelSpec, TaskData)> {
    let head = cfg.head.as_deref().map(parse_head).transpose()?;
    let facts = DataFacts {
        vocab_size: data.tokenizer.vocab_size(),
        max_train_tokens: scan.max_tokens,
        variable_length: scan.min_tokens != scan.max_tokens,
    };
    let task_objective = data.objective;
    let text_regression = preset.is_t5()
        && head == Some(HeadKind::TextToText)
        && data.card.labels.num_classes().is_none();
    let (bins, data) = if text_regression {
        let values = strand_data::source::binned::train_values(data.source.as_ref())?;
        let bins = LabelBins::quantiles(&values, LABEL_BINS)
            .with_context(|| format!("task {}", data.card.name))?;
        (Some(bins.clone()), data.with_bins(bins))
    } else {
        (None, data)
    };
    let ft = FineTune {
        head,
        tokenizer: data.tokenizer.spec(),
        bins,
    };
    let mut spec = preset.build_with(facts, task_objective, &ft)?;
    if let Some(vocab) = &cfg.label_vocab {
        let dir = crate::run::hf::hf_dir(vocab).unwrap_or_else(|| vocab.clone());
        match &mut spec {
            ModelSpec::T5 { head, .. } if head.kind == HeadKind::TextToText => {
                let v = crate::run::hf::label_vocab(&dir, &data.card.labels)?;
                *head = head.clone().using_label_vocab(v)?;
            }
            _ => bail!(
                "--label-vocab names the label tokens of a T5 text-to-text head: add --head text"
            ),
        }
    }
    if let Some(dir) = &cfg.init {
        match &spec {
            ModelSpec::T5 {
                head, tokenizer, ..
            } => match crate::run::hf::hf_dir(dir) {
                Some(hf) => {
                    check_hf(&crate::run::hf::HfModel::open(&hf)?, &head.t5, tokenizer)?;
                }
                None => {
                    check_init(dir, &head.t5, tokenizer)?;
                }
            },
            ModelSpec::Cnn { .. } | ModelSpec::Layers { .. } => bail!(
                "--init loads a pretrained T5; model {} is a CNN (train it from scratch)",
                spec.name()
            ),
        }
    }
    let mut data = data;
    data.objective = spec.objective();
    Ok((spec, data))
}

/// Reads the checkpoint in `dir` and checks that it holds the model `t5` with `tokenizer`.
///
/// # Errors
/// When `dir` is not a pretraining checkpoint, its tokenizer differs (both named), or its T5
/// differs in any field but the dropout rate (the fields named).
pub fn check_init(dir: &Path, t5: &T5Config, tokenizer: &TokenizerSpec) -> Result<CheckpointInfo> {
    let info = CheckpointInfo::read(dir).context("--init")?;
    info.check_tokenizer(tokenizer)
        .context("--init: pass the checkpoint's tokenizer with --tokenizer")?;
    let diffs = config_diffs(&info.config, t5);
    if !diffs.is_empty() {
        bail!(
            "--init {}: the checkpoint's T5 differs from the model preset: {}; pass a preset \
             with the checkpoint's shape (its t5_config.json) as --model",
            dir.display(),
            diffs.join(", ")
        );
    }
    Ok(info)
}

/// Checks that the Hugging Face model `hf` is the T5 `t5` (dropout aside) read by `tokenizer`.
///
/// # Errors
/// Its tokenizer or configuration differs (what differs is named).
pub fn check_hf(
    hf: &crate::run::hf::HfModel,
    t5: &T5Config,
    tokenizer: &TokenizerSpec,
) -> Result<()> {
    let own = strand_model::tokenize::TokenizerChoice::Hf {
        path: hf.dir.clone(),
    }
    .build()
    .with_context(|| format!("--init hf:{}", hf.dir.display()))?;
    strand_model::tokenize::check_compatible(&own.spec(), tokenizer)
        .with_context(|| format!("--init hf:{}", hf.dir.display()))?;
    let diffs = config_diffs(&hf.config, t5);
    if !diffs.is_empty() {
        bail!(
            "--init hf:{}: its config.json differs from the run's T5: {}",
            hf.dir.display(),
            diffs.join(", ")
        );
    }
    Ok(())
}

/// `field: checkpoint X, preset Y` for every field that differs (the dropout rate may differ).
fn config_diffs(ckpt: &T5Config, want: &T5Config) -> Vec<String> {
    let a = serde_json::to_value(ckpt).expect("T5Config serialises");
    let b = serde_json::to_value(want).expect("T5Config serialises");
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec!["not comparable".into()];
    };
    a.iter()
        .filter(|(k, _)| k.as_str() != "dropout_rate")
        .filter(|(k, v)| b.get(k.as_str()) != Some(v))
        .map(|(k, v)| {
            let other = b.get(k.as_str()).map_or("—".to_string(), |x| x.to_string());
            format!("{k}: checkpoint {v}, preset {other}")
        })
        .collect()
}

/// The head of `config`: from scratch, or on the T5 weights of the checkpoint in `init`
/// (checked again; its dropout rate is replaced by the preset's).
pub fn build_head(
    config: &T5HeadConfig,
    init: Option<&Path>,
    tokenizer: &TokenizerSpec,
    device: &Device,
) -> Result<T5Head> {
    config.validate()?;
    let Some(dir) = init else {
        return Ok(config.init(device));
    };
    if let Some(hf) = crate::run::hf::hf_dir(dir) {
        let hf = crate::run::hf::HfModel::open(&hf)?;
        check_hf(&hf, &config.t5, tokenizer)?;
        let pretrained = hf.load(&config.t5, device)?;
        tracing::info!("initialised from Hugging Face model {}", hf.dir.display());
        return Ok(config.init_from(pretrained, device)?);
    }
    let mut info = check_init(dir, &config.t5, tokenizer)?;
    info.config.dropout_rate = config.t5.dropout_rate;
    let pretrained = info.load_model(device)?;
    tracing::info!(
        "initialised from {} (pretraining step {}, loss {:.4})",
        dir.display(),
        info.meta.step,
        info.meta.loss
    );
    Ok(config.init_from(pretrained, device)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::cpu;
    use crate::pretrain::checkpoint::{self, Meta};
    use strand_model::classifier::Objective;
    use strand_model::tokenize::TokenizerChoice;

    fn tiny(vocab: usize) -> T5Config {
        T5Config::new(vocab)
            .with_d_model(16)
            .with_d_kv(4)
            .with_num_heads(2)
            .with_d_ff(32)
            .with_num_layers(1)
            .with_num_decoder_layers(1)
    }

    #[test]
    fn heads_parse() {
        assert_eq!(parse_head("text").unwrap(), HeadKind::TextToText);
        assert_eq!(parse_head("probe").unwrap(), HeadKind::Probe);
        let e = parse_head("mlp").unwrap_err().to_string();
        assert!(e.contains("mlp") && e.contains("pooled"), "{e}");
    }

    #[test]
    fn init_loads_pretrained_weights_and_refuses_mismatches() {
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("step-3");
        let tok = TokenizerChoice::Nucleotide.build().unwrap();
        let config = tiny(tok.vocab_size());
        let device = cpu();
        let model = config.init(&device);
        let weights = model.shared.weight.val().into_data();
        let meta = Meta {
            step: 3,
            loss: 1.0,
            run: "t".into(),
        };
        checkpoint::save(&ckpt, &model, &config, &tok, &meta, |_| Ok(())).unwrap();

        // Success: the head's embedding is the checkpoint's, whatever the dropout rate.
        let head = T5HeadConfig::for_task(
            config.clone().with_dropout_rate(0.1),
            HeadKind::Pooled,
            Some(2),
            None,
        )
        .unwrap();
        assert_eq!(head.objective, Objective::BinaryLogit);
        let m = build_head(&head, Some(&ckpt), &tok.spec(), &device).unwrap();
        let T5Head::Pooled(p) = &m else {
            panic!("pooled head")
        };
        assert_eq!(p.encoder.shared.weight.val().into_data(), weights);
        // From scratch: other weights.
        let m = build_head(&head, None, &tok.spec(), &device).unwrap();
        let T5Head::Pooled(p) = &m else {
            panic!("pooled head")
        };
        assert_ne!(p.encoder.shared.weight.val().into_data(), weights);

        // Mismatched tokenizer: both named.
        let kmer = TokenizerSpec::Kmer { k: 3, stride: 1 };
        let e = format!(
            "{:#}",
            build_head(&head, Some(&ckpt), &kmer, &device).unwrap_err()
        );
        assert!(
            e.contains("mismatch") && e.contains("kmer:3:1") && e.contains("nucleotide"),
            "{e}"
        );
        // Mismatched shape: the field named.
        let wide = T5HeadConfig::for_task(
            config.clone().with_d_ff(64),
            HeadKind::Pooled,
            Some(2),
            None,
        )
        .unwrap();
        let e = format!(
            "{:#}",
            build_head(&wide, Some(&ckpt), &tok.spec(), &device).unwrap_err()
        );
        assert!(e.contains("d_ff: checkpoint 32, preset 64"), "{e}");
        // Not a checkpoint.
        let e = format!(
            "{:#}",
            build_head(&head, Some(dir.path()), &tok.spec(), &device).unwrap_err()
        );
        assert!(e.contains("not a strand pretraining checkpoint"), "{e}");
    }
}
