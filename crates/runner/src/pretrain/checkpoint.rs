//! Pretraining checkpoints: one directory holding everything needed to rebuild the model and its
//! tokenizer, and to refuse a mismatched tokenizer.
//!
//! ```text
//! <dir>/model.mpk          T5 weights (burn NamedMpk, full precision)
//! <dir>/optimizer.mpk      AdamW state (for --resume)
//! <dir>/t5_config.json     the T5Config (vocab_size included)
//! <dir>/tokenizer_spec.json  TokenizerSpec, e.g. {"kind":"kmer","k":6,"stride":1}
//! <dir>/tokenizer.json     BPE only: the exact tokenizer file (its SHA-256 is in the spec)
//! <dir>/meta.json          {"step": N, "loss": x, "run": name}
//! ```

use crate::engine::checkpoint::{self as engine, recorder};
use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strand_model::t5::{T5Config, T5Model};
use strand_model::tokenize::{AnyTokenizer, check_compatible};
use strand_model::{Tokenizer, TokenizerSpec};

pub const MODEL_FILE: &str = "model.mpk";
pub const OPTIMIZER_FILE: &str = "optimizer.mpk";
pub const CONFIG_FILE: &str = "t5_config.json";
pub const SPEC_FILE: &str = "tokenizer_spec.json";
pub const BPE_FILE: &str = "tokenizer.json";
pub const META_FILE: &str = "meta.json";

/// `meta.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub step: usize,
    pub loss: f64,
    pub run: String,
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Writes a checkpoint into `dir` atomically and durably ([`engine::save_dir`]). `save_optimizer` writes
/// `optimizer.mpk` into the temporary directory.
pub fn save<B: Backend>(
    dir: &Path,
    model: &T5Model<B>,
    config: &T5Config,
    tokenizer: &AnyTokenizer,
    meta: &Meta,
    save_optimizer: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    engine::save_dir(dir, |tmp| {
        model
            .clone()
            .save_file(tmp.join(MODEL_FILE), &recorder())
            .with_context(|| format!("saving weights into {}", tmp.display()))?;
        save_optimizer(&tmp.join(OPTIMIZER_FILE))?;
        write_json(&tmp.join(CONFIG_FILE), config)?;
        write_json(&tmp.join(SPEC_FILE), &tokenizer.spec())?;
        if let AnyTokenizer::Bpe(t) = tokenizer {
            t.save(&tmp.join(BPE_FILE))?;
        }
        write_json(&tmp.join(META_FILE), meta)
    })
}

/// The `checkpoints/step-N` directories of the run in `out`, oldest first.
pub fn checkpoints(out: &Path) -> Vec<(usize, PathBuf)> {
    engine::list(&out.join("checkpoints"), |name| {
        name.strip_prefix("step-")?.parse().ok()
    })
}

/// The most recent checkpoint of the run in `out`.
pub fn latest_checkpoint(out: &Path) -> Option<PathBuf> {
    checkpoints(out).pop().map(|(_, p)| p)
}

/// Deletes all but the newest `keep` checkpoints (`keep = 0`: none deleted).
pub fn prune_checkpoints(out: &Path, keep: usize) -> Result<()> {
    let all = checkpoints(out);
    if keep == 0 || all.len() <= keep {
        return Ok(());
    }
    engine::prune(all[..all.len() - keep].iter().map(|(_, p)| p.as_path()))
}

/// A checkpoint's description, read without loading weights.
#[derive(Debug, Clone)]
pub struct CheckpointInfo {
    pub dir: PathBuf,
    pub config: T5Config,
    pub tokenizer: TokenizerSpec,
    pub meta: Meta,
}

impl CheckpointInfo {
    pub fn read(dir: &Path) -> Result<Self> {
        if !dir.join(MODEL_FILE).exists() {
            bail!(
                "{} is not a strand pretraining checkpoint (no {MODEL_FILE})",
                dir.display()
            );
        }
        Ok(CheckpointInfo {
            dir: dir.to_path_buf(),
            config: read_json(&dir.join(CONFIG_FILE))?,
            tokenizer: read_json(&dir.join(SPEC_FILE))?,
            meta: read_json(&dir.join(META_FILE))?,
        })
    }

    /// The checkpoint's own tokenizer (BPE from its stored `tokenizer.json`).
    #[cfg_attr(not(test), allow(dead_code))] // for `strand train --init` (fine-tuning issue)
    pub fn tokenizer(&self) -> Result<AnyTokenizer> {
        let bpe = self.dir.join(BPE_FILE);
        Ok(self.tokenizer.build(Some(&bpe))?)
    }

    /// Errors unless `requested` is the checkpoint's tokenizer.
    pub fn check_tokenizer(&self, requested: &TokenizerSpec) -> Result<()> {
        check_compatible(&self.tokenizer, requested)
            .with_context(|| format!("loading checkpoint {}", self.dir.display()))
    }

    /// The model with the checkpoint's weights.
    pub fn load_model<B: Backend>(&self, device: &B::Device) -> Result<T5Model<B>> {
        self.config
            .init::<B>(device)
            .load_file(self.dir.join(MODEL_FILE), &recorder(), device)
            .with_context(|| format!("loading weights from {}", self.dir.display()))
    }
}

/// Loads a checkpoint for fine-tuning: its model, config and tokenizer, after checking that the
/// tokenizer the user asked for (if any) is the checkpoint's.
#[cfg_attr(not(test), allow(dead_code))] // for `strand train --init` (fine-tuning issue)
pub fn load_for_finetuning<B: Backend>(
    dir: &Path,
    requested: Option<&TokenizerSpec>,
    device: &B::Device,
) -> Result<(T5Model<B>, T5Config, AnyTokenizer)> {
    let info = CheckpointInfo::read(dir)?;
    if let Some(req) = requested {
        info.check_tokenizer(req)?;
    }
    let tokenizer = info.tokenizer()?;
    let model = info.load_model::<B>(device)?;
    Ok((model, info.config, tokenizer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use strand_model::tokenize::TokenizerChoice;

    #[test]
    fn save_load_and_reject_a_mismatched_tokenizer() {
        let dir = tempfile::tempdir().unwrap();
        let ckpt = dir.path().join("step-1");
        let tok = TokenizerChoice::Kmer { k: 3, stride: 1 }.build().unwrap();
        let config = T5Config::new(tok.vocab_size())
            .with_d_model(16)
            .with_d_kv(4)
            .with_num_heads(2)
            .with_d_ff(32)
            .with_num_layers(1)
            .with_num_decoder_layers(1);
        let device = Default::default();
        let model = config.init::<Flex>(&device);
        // Parameters are lazy: read them before saving so the saved values are these.
        let a = model.shared.weight.val().into_data();
        let meta = Meta {
            step: 1,
            loss: 2.5,
            run: "t".into(),
        };
        save(&ckpt, &model, &config, &tok, &meta, |_| Ok(())).unwrap();
        let (loaded, cfg, t) =
            load_for_finetuning::<Flex>(&ckpt, Some(&tok.spec()), &device).unwrap();
        assert_eq!(cfg, config);
        assert_eq!(t.spec(), tok.spec());
        let b = loaded.shared.weight.val().into_data();
        assert_eq!(a, b);
        let e = load_for_finetuning::<Flex>(&ckpt, Some(&TokenizerSpec::Nucleotide), &device)
            .err()
            .unwrap();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("mismatch") && msg.contains("kmer:3:1") && msg.contains("nucleotide"),
            "{msg}"
        );
        assert!(CheckpointInfo::read(dir.path()).is_err());
    }
}
