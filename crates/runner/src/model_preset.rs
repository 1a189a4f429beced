//! Model presets (`models/*.toml`, embedded in the binary): an architecture without the sizes that
//! come from the data (vocabulary, input length, outputs). [`ModelPreset::build`] adds those and
//! gives the [`ModelSpec`] that is saved beside the weights (`model.json`).

use crate::batch::{InputFormat, PadTo};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;
use strand_model::classifier::Objective;
use strand_model::cnn::CnnConfig;

/// The embedded presets: (name, TOML).
const PRESETS: &[(&str, &str)] = &[("cnn-gb", include_str!("../../../models/cnn-gb.toml"))];

/// An architecture preset, as written in `models/<name>.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelPreset {
    /// The Genomic Benchmarks CNN.
    Cnn(CnnPreset),
}

/// `kind = "cnn"`: see `models/cnn-gb.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnPreset {
    pub name: String,
    pub embedding_dim: usize,
    pub channels: Vec<usize>,
    pub kernel_size: usize,
    pub pool: usize,
    pub hidden: usize,
}

/// What the data decides about a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFacts {
    /// Tokenizer vocabulary size (specials included).
    pub vocab_size: usize,
    /// Most tokens of any training sequence (without BOS/EOS).
    pub max_train_tokens: usize,
}

/// A fully sized model: what `model.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelSpec {
    Cnn {
        /// Preset name (for reports).
        name: String,
        objective: Objective,
        config: CnnConfig,
    },
}

impl ModelPreset {
    /// A preset by embedded name (`cnn-gb`) or by path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some((_, text)) = PRESETS.iter().find(|(n, _)| *n == name_or_path) {
            return toml::from_str(text)
                .with_context(|| format!("embedded model preset {name_or_path} does not parse"));
        }
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "toml") || path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading model preset {}", path.display()))?;
            return toml::from_str(&text)
                .with_context(|| format!("model preset {} is not valid", path.display()));
        }
        let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        bail!(
            "unknown model preset {name_or_path:?}: built-in presets are {}, or give a path to a \
             preset .toml",
            names.join(", ")
        )
    }

    /// The preset's name.
    pub fn name(&self) -> &str {
        match self {
            ModelPreset::Cnn(p) => &p.name,
        }
    }

    /// Sizes the model for a task.
    pub fn build(&self, facts: DataFacts, objective: Objective) -> Result<ModelSpec> {
        match self {
            ModelPreset::Cnn(p) => {
                let config = CnnConfig::new(
                    facts.vocab_size,
                    facts.max_train_tokens + 2,
                    objective.n_out(),
                )
                .with_embedding_dim(p.embedding_dim)
                .with_channels(p.channels.clone())
                .with_kernel_size(p.kernel_size)
                .with_pool(p.pool)
                .with_hidden(p.hidden);
                config
                    .validate()
                    .map_err(|e| anyhow::anyhow!("model preset {}: {e}", p.name))?;
                Ok(ModelSpec::Cnn {
                    name: p.name.clone(),
                    objective,
                    config,
                })
            }
        }
    }
}

impl ModelSpec {
    /// Preset name.
    pub fn name(&self) -> &str {
        match self {
            ModelSpec::Cnn { name, .. } => name,
        }
    }

    /// The objective the model was built for.
    pub fn objective(&self) -> Objective {
        match self {
            ModelSpec::Cnn { objective, .. } => *objective,
        }
    }

    /// How token ids are laid out for this model.
    pub fn input_format(&self) -> InputFormat {
        match self {
            // genomic_benchmarks.md §4.1: BOS + tokens + EOS, right-padded (or right-cropped) to
            // the longest training sequence + 2.
            ModelSpec::Cnn { config, .. } => InputFormat {
                bos: true,
                eos: true,
                pad_to: PadTo::Fixed(config.input_len),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnn_gb_preset_builds_the_upstream_sizes() {
        let p = ModelPreset::load("cnn-gb").unwrap();
        assert_eq!(p.name(), "cnn-gb");
        let facts = DataFacts {
            vocab_size: 109,
            max_train_tokens: 251,
        };
        let spec = p.build(facts, Objective::BinaryLogit).unwrap();
        let ModelSpec::Cnn { config, .. } = &spec;
        assert_eq!(config.input_len, 253);
        assert_eq!(config.flat_len(), Some(100));
        assert_eq!(config.n_out, 1);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<ModelSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn unknown_preset_and_bad_files_are_errors() {
        let e = ModelPreset::load("cnn-nope").unwrap_err().to_string();
        assert!(e.contains("cnn-nope") && e.contains("cnn-gb"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.toml");
        std::fs::write(&f, "kind = \"cnn\"\nname = \"x\"\nbogus = 1\n").unwrap();
        let e = format!("{:#}", ModelPreset::load(f.to_str().unwrap()).unwrap_err());
        assert!(e.contains("m.toml"), "{e}");
    }

    #[test]
    fn too_short_sequences_are_a_clear_error() {
        let p = ModelPreset::load("cnn-gb").unwrap();
        let facts = DataFacts {
            vocab_size: 109,
            max_train_tokens: 20,
        };
        let e = p
            .build(facts, Objective::BinaryLogit)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too short"), "{e}");
    }
}
