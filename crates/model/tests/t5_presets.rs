//! The `models/t5-*.toml` presets parse into [`T5Preset`] and have the documented shapes.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use strand_model::t5::{FeedForwardProj, T5Config, T5Preset};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    kind: String,
    name: String,
    t5: T5Preset,
}

fn preset(name: &str) -> T5Preset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let file: PresetFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert_eq!(file.kind, "t5");
    assert_eq!(file.name, name);
    file.t5
}

#[test]
fn presets_have_the_issue_shapes() {
    // (name, d_model, layers, heads, d_kv, d_ff)
    for (name, d, layers, heads, d_ff) in [
        ("t5-tiny", 256, 4, 4, 1024),
        ("t5-small", 512, 8, 6, 1024),
        ("t5-base", 768, 12, 12, 2048),
    ] {
        let c = preset(name).config(109);
        assert_eq!(c.vocab_size, 109);
        assert_eq!(
            (c.d_model, c.num_heads, c.d_kv, c.d_ff),
            (d, heads, 64, d_ff),
            "{name}"
        );
        assert_eq!(
            (c.num_layers, c.num_decoder_layers),
            (layers, layers),
            "{name}"
        );
        assert_eq!(c.relative_attention_num_buckets, 32);
        assert_eq!(c.relative_attention_max_distance, 128);
        assert_eq!(c.layer_norm_epsilon, 1e-6);
        assert_eq!(c.feed_forward_proj, FeedForwardProj::GatedGelu);
        assert!(!c.tie_word_embeddings);
    }
}

#[test]
fn published_parameter_counts() {
    // google/t5-v1_1-small ≈ 77 M and -base ≈ 248 M with the 32128-row vocabulary.
    let small = preset("t5-small").config(32128).num_params();
    let base = preset("t5-base").config(32128).num_params();
    assert_eq!(small, 76_961_152);
    assert!((247_000_000..249_000_000).contains(&base), "{base}");
}

#[test]
fn num_params_matches_the_built_model() {
    let device = Device::flex();
    for tied in [false, true] {
        for proj in [FeedForwardProj::GatedGelu, FeedForwardProj::Relu] {
            let c = T5Config::new(50)
                .with_d_model(24)
                .with_d_kv(5)
                .with_num_heads(3)
                .with_d_ff(40)
                .with_num_layers(2)
                .with_num_decoder_layers(3)
                .with_tie_word_embeddings(tied)
                .with_feed_forward_proj(proj);
            assert_eq!(c.init(&device).num_params(), c.num_params());
        }
    }
}
