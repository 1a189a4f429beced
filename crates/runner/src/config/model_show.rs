//! What `strand models list|show` prints: the presets, and one preset's layers with their output
//! shapes and trainable parameters for a given input length and number of classes.

use crate::config::model_preset::{DataFacts, ModelPreset, ModelSpec, PRESETS};
use anyhow::Result;
use burn::module::Module;
use std::fmt::Write;
use strand_model::Tokenizer;
use strand_model::classifier::Objective;
use strand_model::tokenize::nucleotide::NucleotideTokenizer;

/// The input a preset is shown for: `bases` per sequence (all the same length) and `classes`
/// (`None`: regression).
#[derive(Debug, Clone, Copy)]
pub struct ShowFor {
    pub bases: usize,
    pub classes: Option<usize>,
}

impl ShowFor {
    fn facts(self) -> DataFacts {
        DataFacts {
            vocab_size: NucleotideTokenizer.vocab_size(),
            max_train_tokens: self.bases,
            variable_length: false,
        }
    }
}

/// One line of `strand models list`.
#[derive(Debug, Clone)]
pub struct PresetLine {
    pub name: String,
    pub kind: &'static str,
    /// Trainable parameters for `for_`'s input.
    pub params: usize,
    pub description: String,
}

/// Trainable parameters and a one-line description of `preset`, sized by `for_`.
fn summary(preset: &ModelPreset, for_: ShowFor) -> Result<(usize, String)> {
    let spec = preset.build(for_.facts(), Objective::for_classes(for_.classes))?;
    Ok(match (&spec, preset) {
        (ModelSpec::Layers { config, .. }, ModelPreset::Layers(p)) => (
            config.num_params(),
            p.description.clone().unwrap_or_default(),
        ),
        (ModelSpec::Cnn { config, .. }, _) => {
            // burn counts batch-norm running statistics; PyTorch's parameters() does not.
            let running: usize = 2 * config.channels.iter().sum::<usize>();
            (
                config.init(&crate::engine::backend::cpu()).num_params() - running,
                format!(
                    "GB CNN fields: embedding {}, channels {:?}, kernel {}, pool {}, hidden {}",
                    config.embedding_dim,
                    config.channels,
                    config.kernel_size,
                    config.pool,
                    config.hidden
                ),
            )
        }
        (ModelSpec::T5 { head, .. }, _) => {
            let t = &head.t5;
            (
                // Parameters are created lazily: counting them allocates nothing.
                head.init(&crate::engine::backend::cpu()).num_params(),
                format!(
                    "T5 v1.1 encoder-decoder: d_model {}, {}+{} layers, {} heads, d_ff {} \
                     (pooled head)",
                    t.d_model, t.num_layers, t.num_decoder_layers, t.num_heads, t.d_ff
                ),
            )
        }
        (ModelSpec::Layers { .. }, _) => unreachable!("a layer list comes from a layers preset"),
    })
}

/// Every embedded preset, sized by `for_`.
pub fn list(for_: ShowFor) -> Result<Vec<PresetLine>> {
    PRESETS
        .iter()
        .map(|(name, _)| {
            let preset = ModelPreset::load(name)?;
            let (params, description) = summary(&preset, for_)?;
            Ok(PresetLine {
                name: name.to_string(),
                kind: match preset {
                    ModelPreset::Cnn(_) => "cnn",
                    ModelPreset::Layers(_) => "layers",
                    ModelPreset::T5(_) => "t5",
                },
                params,
                description,
            })
        })
        .collect()
}

/// The table of `strand models show`: the preset (embedded name or TOML path) layer by layer,
/// with output shapes and trainable parameters for `for_`'s input.
///
/// # Errors
/// An unknown preset, a file that does not parse, or a layer list that does not fit the input
/// (naming the layer and the shapes).
pub fn show(name_or_path: &str, for_: ShowFor) -> Result<String> {
    let preset = ModelPreset::load(name_or_path)?;
    let spec = preset.build(for_.facts(), Objective::for_classes(for_.classes))?;
    let (params, description) = summary(&preset, for_)?;
    let mut out = String::new();
    let outputs = Objective::for_classes(for_.classes).n_out();
    writeln!(
        out,
        "{}: {description}\nfor {} bp (+ BOS, EOS), {} → {outputs} output{}",
        preset.name(),
        for_.bases,
        match for_.classes {
            Some(c) => format!("{c} classes"),
            None => "regression".into(),
        },
        if outputs == 1 { "" } else { "s" },
    )?;
    if let ModelSpec::Layers { config, .. } = &spec {
        writeln!(
            out,
            "\n{:<8} {:<34} {:<24} {:>12}",
            "layer", "", "output", "params"
        )?;
        for row in config.rows()? {
            let indent = "  ".repeat(row.at.matches('.').count());
            writeln!(
                out,
                "{:<8} {:<34} {:<24} {:>12}",
                row.at,
                format!("{indent}{}", row.layer),
                row.output.to_string(),
                thousands(row.params)
            )?;
        }
    }
    writeln!(out, "\ntrainable parameters: {}", thousands(params))?;
    Ok(out)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parameter counts of a PyTorch construction of each preset (`scripts/model_params.py`,
    /// torch 2.15): `models/*.toml` read by the script and built layer by layer in `torch.nn`.
    const FIXTURE: &str = include_str!("../../tests/fixtures/model_params.json");

    #[derive(serde::Deserialize)]
    struct Case {
        preset: String,
        bases: usize,
        classes: usize,
        params: usize,
        output_shape: Vec<usize>,
    }

    #[test]
    fn every_preset_has_the_parameter_count_of_its_pytorch_construction() {
        let cases: Vec<Case> = serde_json::from_str(FIXTURE).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for c in &cases {
            let for_ = ShowFor {
                bases: c.bases,
                classes: Some(c.classes),
            };
            let preset = ModelPreset::load(&c.preset).unwrap();
            let (params, _) = summary(&preset, for_).unwrap();
            assert_eq!(params, c.params, "{} at {} bp", c.preset, c.bases);
            let spec = preset
                .build(for_.facts(), Objective::for_classes(for_.classes))
                .unwrap();
            if let ModelSpec::Layers { config, .. } = spec {
                let rows = config.rows().unwrap();
                let out = rows.last().unwrap().output.to_string();
                assert_eq!(
                    out,
                    format!("[{} features]", c.output_shape[1]),
                    "{}",
                    c.preset
                );
            }
            seen.insert(c.preset.clone());
        }
        for (name, text) in PRESETS {
            if text.contains("kind = \"layers\"") {
                assert!(
                    seen.contains(*name),
                    "{name} has no PyTorch count in the fixture"
                );
            }
        }
    }

    #[test]
    fn show_prints_every_layer_and_the_total() {
        let t = show(
            "dilated-resnet",
            ShowFor {
                bases: 1000,
                classes: Some(3),
            },
        )
        .unwrap();
        assert!(t.contains("residual \"dilation 8\""), "{t}");
        assert!(
            t.contains("[64 channels × 250]") && t.contains("[3 features]"),
            "{t}"
        );
        let lines = list(ShowFor {
            bases: 251,
            classes: Some(2),
        })
        .unwrap();
        let gb = lines.iter().find(|l| l.name == "cnn-gb").unwrap();
        // genomic_benchmarks.md §4.3: V 7 gives 67,089; the nucleotide tokenizer has 109 ids,
        // 102 more embedding rows of 100.
        assert_eq!(gb.params, 67_089 + 102 * 100);
        assert!(lines.iter().any(|l| l.name == "t5-tiny" && l.kind == "t5"));
        let e = show(
            "basset-style",
            ShowFor {
                bases: 20,
                classes: Some(2),
            },
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("max_pool"), "{e:#}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
