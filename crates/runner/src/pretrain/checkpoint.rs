//! Pretraining checkpoints: one directory holding everything needed to rebuild the model and its
//! tokenizer, and to refuse a mismatched tokenizer.
//!
//! ```text
//! <dir>/model.bpk          T5 weights (burn's burnpack, full precision)
//! <dir>/optimizer.bpk      AdamW state (burnpack; for --resume)
//! <dir>/t5_config.json     the T5Config (vocab_size included)
//! <dir>/tokenizer_spec.json  TokenizerSpec, e.g. {"kind":"kmer","k":6,"stride":1}
//! <dir>/tokenizer.json     BPE only: the exact tokenizer file (its SHA-256 is in the spec)
//! <dir>/meta.json          {"step": N, "loss": x, "run": name}
//! ```
//!
//! A checkpoint of a strand built on burn 0.21 holds `model.mpk` (MessagePack), which this strand
//! cannot read: `--init` and `--resume` refuse it by name.

use crate::engine::checkpoint::{self as engine, load_weights};
use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strand_model::t5::{T5Config, T5Model};
use strand_model::tokenize::{AnyTokenizer, check_compatible};
use strand_model::{Tokenizer, TokenizerSpec};

pub const MODEL_FILE: &str = "model.bpk";
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
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
/// `optimizer.bpk` into the temporary directory.
pub fn save(
    dir: &Path,
    model: &T5Model,
    config: &T5Config,
    tokenizer: &AnyTokenizer,
    meta: &Meta,
    save_optimizer: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    engine::save_dir(dir, |tmp| {
        engine::snapshot(model)
            .save_file(tmp.join(MODEL_FILE))
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
    /// Reads the checkpoint in `dir`.
    ///
    /// # Errors
    /// When `dir` holds no `model.bpk`: not a checkpoint, or one written by a strand built on
    /// burn 0.21 (its `model.mpk` is named).
    pub fn read(dir: &Path) -> Result<Self> {
        engine::refuse_old_format(&dir.join(MODEL_FILE))
            .with_context(|| format!("pretraining checkpoint {}", dir.display()))?;
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

    /// The model with the checkpoint's weights, on `device`.
    pub fn load_model(&self, device: &Device) -> Result<T5Model> {
        load_weights(self.config.init(device), &self.dir.join(MODEL_FILE))
            .with_context(|| format!("loading weights from {}", self.dir.display()))
    }
}

/// Loads a checkpoint for fine-tuning: its model, config and tokenizer, after checking that the
/// tokenizer the user asked for (if any) is the checkpoint's.
#[cfg_attr(not(test), allow(dead_code))] // for `strand train --init` (fine-tuning issue)
pub fn load_for_finetuning(
    dir: &Path,
    requested: Option<&TokenizerSpec>,
    device: &Device,
) -> Result<(T5Model, T5Config, AnyTokenizer)> {
    let info = CheckpointInfo::read(dir)?;
    if let Some(req) = requested {
        info.check_tokenizer(req)?;
    }
    let tokenizer = info.tokenizer()?;
    let model = info.load_model(device)?;
    Ok((model, info.config, tokenizer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::cpu;
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
        let device = cpu();
        let model = config.init(&device);
        // Parameters are lazy: read them before saving so the saved values are these.
        let a = model.shared.weight.val().into_data();
        let meta = Meta {
            step: 1,
            loss: 2.5,
            run: "t".into(),
        };
        save(&ckpt, &model, &config, &tok, &meta, |_| Ok(())).unwrap();
        let (loaded, cfg, t) = load_for_finetuning(&ckpt, Some(&tok.spec()), &device).unwrap();
        assert_eq!(cfg, config);
        assert_eq!(t.spec(), tok.spec());
        let b = loaded.shared.weight.val().into_data();
        assert_eq!(a, b);
        let e = load_for_finetuning(&ckpt, Some(&TokenizerSpec::Nucleotide), &device)
            .err()
            .unwrap();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("mismatch") && msg.contains("kmer:3:1") && msg.contains("nucleotide"),
            "{msg}"
        );
        assert!(CheckpointInfo::read(dir.path()).is_err());

        // A checkpoint of a strand built on burn 0.21 is refused by name.
        let old = dir.path().join("old");
        std::fs::create_dir(&old).unwrap();
        for f in [CONFIG_FILE, SPEC_FILE, META_FILE] {
            std::fs::copy(ckpt.join(f), old.join(f)).unwrap();
        }
        std::fs::write(old.join("model.mpk"), b"\x82").unwrap();
        let e = format!("{:#}", CheckpointInfo::read(&old).unwrap_err());
        assert!(
            e.contains("model.mpk") && e.contains("burn 0.21") && e.contains("retrain"),
            "{e}"
        );
    }
}
