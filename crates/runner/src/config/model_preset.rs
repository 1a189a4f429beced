//! Model presets (`models/*.toml`, embedded in the binary): an architecture without the sizes that
//! come from the data (vocabulary, input length, outputs). [`ModelPreset::build`] adds those and
//! gives the [`ModelSpec`] that is saved beside the weights (`model.json`).

use crate::engine::batch::{InputFormat, PadTo};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;
use strand_model::TokenizerSpec;
use strand_model::classifier::Objective;
use strand_model::cnn::{CnnConfig, CnnPreset};
use strand_model::heads::{HeadKind, LabelBins, T5HeadConfig};
use strand_model::seqnet::{InputSpec, LayerNetConfig, LayerNetPreset};
use strand_model::t5::T5Preset;

/// The embedded presets: (name, TOML).
pub const PRESETS: &[(&str, &str)] = &[
    ("cnn-gb", include_str!("../../../../models/cnn-gb.toml")),
    ("cnnprom", include_str!("../../../../models/cnnprom.toml")),
    (
        "basset-style",
        include_str!("../../../../models/basset-style.toml"),
    ),
    (
        "dilated-resnet",
        include_str!("../../../../models/dilated-resnet.toml"),
    ),
    ("t5-tiny", include_str!("../../../../models/t5-tiny.toml")),
    ("t5-small", include_str!("../../../../models/t5-small.toml")),
    ("t5-base", include_str!("../../../../models/t5-base.toml")),
];

/// An architecture preset, as written in `models/<name>.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelPreset {
    /// The Genomic Benchmarks CNN with its sizes as fields (the `kind` of cnn-gb before layer
    /// lists; still read from users' files and old runs).
    Cnn(CnnPreset),
    /// A network written as a list of layers ([`strand_model::seqnet`]).
    Layers(LayerNetPreset),
    /// A T5 encoder–decoder under one of the heads of [`strand_model::heads`].
    T5(T5ModelPreset),
}

/// `kind = "t5"`: see `models/t5-tiny.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct T5ModelPreset {
    pub name: String,
    /// The T5 shape without the vocabulary size (the tokenizer's).
    pub t5: T5Preset,
    /// Rows of the embedding when the weights fix them (a Hugging Face model, whose vocabulary
    /// may be larger than its tokenizer's); `None`: the tokenizer's vocabulary size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocab_size: Option<usize>,
}

/// What a fine-tuning run adds to a preset beyond the data's sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct FineTune {
    /// T5 head (`None`: pooled). A CNN takes none.
    pub head: Option<HeadKind>,
    /// The tokenizer the model reads (recorded in `model.json`).
    pub tokenizer: TokenizerSpec,
    /// Text-to-text on a regression task: the bins of the training labels.
    pub bins: Option<LabelBins>,
}

/// What the data decides about a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFacts {
    /// Tokenizer vocabulary size (specials included).
    pub vocab_size: usize,
    /// Most tokens of any training sequence (without BOS/EOS).
    pub max_train_tokens: usize,
    /// Whether training sequences differ in length: the CNN then pads every input to
    /// `max + 3` tokens (BOS, EOS and at least one pad), as upstream Genomic Benchmarks does;
    /// fixed-length tasks get `max + 2`.
    pub variable_length: bool,
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
    /// A layer list; input laid out as the CNN's (BOS + tokens + EOS, padded to a fixed length).
    Layers {
        name: String,
        objective: Objective,
        config: LayerNetConfig,
    },
    /// A T5 head; its input is `tokens + [EOS]`, padded to the batch's longest row and cropped
    /// at `max_len`.
    T5 {
        name: String,
        /// The tokenizer the weights belong to.
        tokenizer: TokenizerSpec,
        /// Head kind, objective, label bins and the full T5 config.
        head: T5HeadConfig,
        /// Most input tokens (longest training sequence + EOS).
        max_len: usize,
    },
}

impl ModelPreset {
    /// A preset by embedded name (`cnn-gb`), by path to a TOML file, or `hf:DIR` (the T5 of a
    /// Hugging Face model directory's config.json, its vocabulary size included).
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some(dir) = crate::run::hf::hf_dir(Path::new(name_or_path)) {
            let c = crate::run::hf::HfModel::open(&dir)?.config;
            return Ok(ModelPreset::T5(T5ModelPreset {
                name: name_or_path.to_string(),
                vocab_size: Some(c.vocab_size),
                t5: T5Preset {
                    d_model: c.d_model,
                    d_kv: c.d_kv,
                    num_heads: c.num_heads,
                    d_ff: c.d_ff,
                    num_layers: c.num_layers,
                    num_decoder_layers: c.num_decoder_layers,
                    relative_attention_num_buckets: c.relative_attention_num_buckets,
                    relative_attention_max_distance: c.relative_attention_max_distance,
                    layer_norm_epsilon: c.layer_norm_epsilon,
                    dropout_rate: c.dropout_rate,
                    tie_word_embeddings: c.tie_word_embeddings,
                    feed_forward_proj: c.feed_forward_proj,
                    initializer_factor: c.initializer_factor,
                },
            }));
        }
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
            ModelPreset::Layers(p) => &p.name,
            ModelPreset::T5(p) => &p.name,
        }
    }

    /// Whether this is a T5 preset.
    pub fn is_t5(&self) -> bool {
        matches!(self, ModelPreset::T5(_))
    }

    /// Sizes the model for a task (CNN, or a T5 with the pooled head and nucleotide tokens).
    pub fn build(&self, facts: DataFacts, objective: Objective) -> Result<ModelSpec> {
        let ft = FineTune {
            head: None,
            tokenizer: TokenizerSpec::Nucleotide,
            bins: None,
        };
        self.build_with(facts, objective, &ft)
    }

    /// Sizes the model for a task; `objective` is the task's ([`Objective::for_classes`]).
    pub fn build_with(
        &self,
        facts: DataFacts,
        objective: Objective,
        ft: &FineTune,
    ) -> Result<ModelSpec> {
        match self {
            ModelPreset::T5(p) => {
                let n_classes = match objective {
                    Objective::BinaryLogit => Some(2),
                    Objective::Softmax { classes } => Some(classes),
                    Objective::Regression => None,
                };
                let kind = ft.head.unwrap_or(HeadKind::Pooled);
                let vocab_size = match p.vocab_size {
                    Some(v) if v < facts.vocab_size => bail!(
                        "model {}: its embedding has {v} rows, fewer than the tokenizer's {} ids",
                        p.name,
                        facts.vocab_size
                    ),
                    Some(v) => v,
                    None => facts.vocab_size,
                };
                let head = T5HeadConfig::for_task(
                    p.t5.config(vocab_size),
                    kind,
                    n_classes,
                    ft.bins.clone(),
                )
                .map_err(|e| anyhow::anyhow!("model preset {}: {e}", p.name))?;
                Ok(ModelSpec::T5 {
                    name: p.name.clone(),
                    tokenizer: ft.tokenizer.clone(),
                    head,
                    max_len: facts.max_train_tokens + 1,
                })
            }
            ModelPreset::Cnn(_) | ModelPreset::Layers(_) if ft.head.is_some() => bail!(
                "--head chooses a T5 head; model {} is a CNN and takes none",
                self.name()
            ),
            ModelPreset::Layers(p) => {
                if p.input == InputSpec::OneHot && ft.tokenizer != TokenizerSpec::Nucleotide {
                    bail!(
                        "model preset {} reads one-hot bases and needs the nucleotide tokenizer, \
                         not {}",
                        p.name,
                        ft.tokenizer
                    );
                }
                let config = LayerNetConfig::new(
                    facts.vocab_size,
                    cnn_input_len(facts),
                    objective.n_out(),
                    p.input,
                    p.layers.clone(),
                )
                .map_err(|e| anyhow::anyhow!("model preset {}: {e}", p.name))?;
                Ok(ModelSpec::Layers {
                    name: p.name.clone(),
                    objective,
                    config,
                })
            }
            ModelPreset::Cnn(p) => {
                let config = p
                    .config(facts.vocab_size, cnn_input_len(facts), objective.n_out())
                    .map_err(anyhow::Error::msg)?;
                Ok(ModelSpec::Cnn {
                    name: p.name.clone(),
                    objective,
                    config,
                })
            }
        }
    }
}

/// Tokens per input of the CNNs: BOS + the longest training sequence + EOS, and one pad more
/// when lengths vary (as upstream Genomic Benchmarks).
fn cnn_input_len(facts: DataFacts) -> usize {
    facts.max_train_tokens + 2 + usize::from(facts.variable_length)
}

impl ModelSpec {
    /// Preset name.
    pub fn name(&self) -> &str {
        match self {
            ModelSpec::Cnn { name, .. }
            | ModelSpec::Layers { name, .. }
            | ModelSpec::T5 { name, .. } => name,
        }
    }

    /// The objective the model trains with (text-to-text: softmax over its label tokens).
    pub fn objective(&self) -> Objective {
        match self {
            ModelSpec::Cnn { objective, .. } | ModelSpec::Layers { objective, .. } => *objective,
            ModelSpec::T5 { head, .. } => head.objective,
        }
    }

    /// The objective of the task the model was built for ([`Objective::for_classes`]).
    pub fn task_objective(&self) -> Objective {
        match self {
            ModelSpec::T5 { head, .. } if head.kind == HeadKind::TextToText => {
                match (head.objective, &head.bins) {
                    (_, Some(_)) => Objective::Regression,
                    (Objective::Softmax { classes }, None) => Objective::for_classes(Some(classes)),
                    (o, None) => o,
                }
            }
            other => other.objective(),
        }
    }

    /// The head's name (`pooled`, `text_to_text`, `probe`); `None` for the CNN.
    pub fn head_name(&self) -> Option<&'static str> {
        match self {
            ModelSpec::Cnn { .. } | ModelSpec::Layers { .. } => None,
            ModelSpec::T5 { head, .. } => Some(head.kind.name()),
        }
    }

    /// Text-to-text regression bins, if any.
    pub fn bins(&self) -> Option<&LabelBins> {
        match self {
            ModelSpec::T5 { head, .. } => head.bins.as_ref(),
            ModelSpec::Cnn { .. } | ModelSpec::Layers { .. } => None,
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
            ModelSpec::Layers { config, .. } => InputFormat {
                bos: true,
                eos: true,
                pad_to: PadTo::Fixed(config.input_len),
            },
            // T5 inputs end with EOS and carry no BOS (as Hugging Face's T5 tokenizer).
            ModelSpec::T5 { max_len, .. } => InputFormat {
                bos: false,
                eos: true,
                pad_to: PadTo::Longest { max: *max_len },
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
            variable_length: false,
        };
        let spec = p.build(facts, Objective::BinaryLogit).unwrap();
        let ModelSpec::Layers { config, .. } = &spec else {
            panic!("cnn-gb is a layer list")
        };
        assert_eq!(config.input_len, 253);
        assert_eq!(flattened(config), 100);
        assert_eq!(config.n_out, 1);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<ModelSpec>(&json).unwrap(), spec);
        // genomic_benchmarks.md §4.3: human_ensembl_regulatory (variable lengths, longest train
        // sequence 802 bp, 3 classes) → input_len 805, flatten 376.
        let facts = DataFacts {
            vocab_size: 109,
            max_train_tokens: 802,
            variable_length: true,
        };
        let spec = p.build(facts, Objective::Softmax { classes: 3 }).unwrap();
        let ModelSpec::Layers { config, .. } = &spec else {
            panic!("cnn-gb is a layer list")
        };
        assert_eq!(config.input_len, 805);
        assert_eq!(flattened(config), 376);
        assert_eq!(config.n_out, 3);
    }

    /// Features out of the `flatten` layer.
    fn flattened(config: &LayerNetConfig) -> usize {
        let rows = config.rows().unwrap();
        let row = rows.iter().find(|r| r.layer == "flatten").unwrap();
        match row.output {
            strand_model::seqnet::Feat::Flat { features } => features,
            other => panic!("flatten gave {other}"),
        }
    }

    #[test]
    fn one_hot_presets_need_the_nucleotide_tokenizer() {
        let p = ModelPreset::load("cnnprom").unwrap();
        let facts = DataFacts {
            vocab_size: 300,
            max_train_tokens: 79,
            variable_length: false,
        };
        let ft = FineTune {
            head: None,
            tokenizer: TokenizerSpec::Kmer { k: 3, stride: 1 },
            bins: None,
        };
        let e = p
            .build_with(facts, Objective::BinaryLogit, &ft)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cnnprom") && e.contains("nucleotide") && e.contains("kmer"),
            "{e}"
        );
    }

    #[test]
    fn t5_presets_build_every_head_and_round_trip() {
        for name in ["t5-tiny", "t5-small", "t5-base"] {
            assert!(ModelPreset::load(name).unwrap().is_t5(), "{name}");
        }
        let p = ModelPreset::load("t5-tiny").unwrap();
        let facts = DataFacts {
            vocab_size: 109,
            max_train_tokens: 100,
            variable_length: false,
        };
        let ft = |head, bins| FineTune {
            head: Some(head),
            tokenizer: TokenizerSpec::Kmer { k: 3, stride: 1 },
            bins,
        };
        let pooled = p
            .build_with(facts, Objective::BinaryLogit, &ft(HeadKind::Pooled, None))
            .unwrap();
        assert_eq!(pooled.objective(), Objective::BinaryLogit);
        assert_eq!(pooled.head_name(), Some("pooled"));
        assert_eq!(pooled.input_format().pad_to, PadTo::Longest { max: 101 });
        let text = p
            .build_with(
                facts,
                Objective::BinaryLogit,
                &ft(HeadKind::TextToText, None),
            )
            .unwrap();
        assert_eq!(text.objective(), Objective::Softmax { classes: 2 });
        assert_eq!(text.task_objective(), Objective::BinaryLogit);
        let bins = LabelBins::quantiles(&[0.0, 1.0, 2.0, 3.0], 2).unwrap();
        let reg = p
            .build_with(
                facts,
                Objective::Regression,
                &ft(HeadKind::TextToText, Some(bins)),
            )
            .unwrap();
        assert_eq!(reg.task_objective(), Objective::Regression);
        let e = p
            .build_with(
                facts,
                Objective::Regression,
                &ft(HeadKind::TextToText, None),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("bins"), "{e}");
        let json = serde_json::to_string(&reg).unwrap();
        assert!(json.contains("\"kmer\""), "{json}");
        assert_eq!(serde_json::from_str::<ModelSpec>(&json).unwrap(), reg);
        let cnn = ModelPreset::load("cnn-gb").unwrap();
        let e = cnn
            .build_with(facts, Objective::BinaryLogit, &ft(HeadKind::Probe, None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("CNN"), "{e}");
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
            variable_length: false,
        };
        let e = p
            .build(facts, Objective::BinaryLogit)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cnn-gb") && e.contains("longer than its input"),
            "{e}"
        );
    }
}
