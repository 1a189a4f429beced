//! Numerical parity of strand's T5 with Hugging Face transformers.
//!
//! Fixtures: `tests/fixtures/t5/{untied,tied}/` made by `scripts/t5_reference.py` (random HF
//! `T5ForConditionalGeneration`, d_model 64, 2+2 layers, 4 heads of 16, d_ff 128, vocab 128;
//! encoder length 70 with padding, decoder length 36 with -100 labels). `untied` is the v1.1
//! layout (gated-GELU, separate `lm_head`), `tied` the v1.0 one (ReLU, tied scaled head).
//!
//! Tolerances: logits relative error `max|a − b| / max|b|` ≤ 1e-4; loss `|a − b|` ≤ 1e-5;
//! encoder states relative error ≤ 1e-4.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};
use strand_model::t5::{FeedForwardProj, HfLoadError, T5Config, T5Model, shift_right};

fn fixture(variant: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/t5")
        .join(variant)
}

struct Batch {
    bytes: Vec<u8>,
}

impl Batch {
    fn open(variant: &str) -> Self {
        Self {
            bytes: std::fs::read(fixture(variant).join("batch.safetensors")).unwrap(),
        }
    }

    fn st(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).unwrap()
    }

    fn has(&self, name: &str) -> bool {
        self.st().tensor(name).is_ok()
    }

    fn ints<const D: usize>(&self, name: &str) -> Tensor<D, Int> {
        let st = self.st();
        let view = st.tensor(name).unwrap();
        assert_eq!(view.dtype(), Dtype::I64, "{name}");
        let v: Vec<i64> = view
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        Tensor::from_data(TensorData::new(v, view.shape().to_vec()), &Device::flex())
    }

    fn floats(&self, name: &str) -> (Vec<f64>, Vec<usize>) {
        let st = self.st();
        let view = st.tensor(name).unwrap();
        let v = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
                .collect(),
            Dtype::F64 => view
                .data()
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                .collect(),
            other => panic!("{name}: {other:?}"),
        };
        (v, view.shape().to_vec())
    }
}

fn config(variant: &str) -> T5Config {
    let path = fixture(variant).join("config.json");
    let text = std::fs::read_to_string(&path).unwrap();
    T5Config::from_hf_json(&text, &path.display().to_string()).unwrap()
}

fn load(variant: &str) -> T5Model {
    config(variant)
        .init(&Device::flex())
        .load_hf_safetensors(&fixture(variant).join("weights.safetensors"))
        .unwrap()
}

/// `max|a − b| / max|b|`.
fn rel_err(got: Tensor<3>, want: &[f64]) -> f64 {
    let got = got.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(got.len(), want.len());
    let diff = got
        .iter()
        .zip(want)
        .map(|(a, b)| (*a as f64 - b).abs())
        .fold(0.0, f64::max);
    diff / want.iter().map(|b| b.abs()).fold(0.0, f64::max)
}

fn check(variant: &str) {
    let model = load(variant);
    let batch = Batch::open(variant);
    let input_ids = batch.ints::<2>("input_ids");
    let attention_mask = batch.ints::<2>("attention_mask");
    let labels = batch.ints::<2>("labels");

    // Our shift-right equals HF's.
    let ours = shift_right(labels.clone())
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    let hf = batch
        .ints::<2>("decoder_input_ids")
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    assert_eq!(ours, hf, "{variant}: shift_right");

    let enc = model.encode(input_ids.clone(), attention_mask.clone());
    let (want_enc, shape) = batch.floats("encoder_last_hidden_state");
    assert_eq!(enc.dims().to_vec(), shape);
    let enc_err = rel_err(enc, &want_enc);

    let dec_mask = batch
        .has("decoder_attention_mask")
        .then(|| batch.ints::<2>("decoder_attention_mask"));
    let logits = model.forward(
        input_ids,
        attention_mask,
        shift_right(labels.clone()),
        dec_mask,
    );
    let loss = model.loss(logits.clone(), labels).into_scalar::<f32>() as f64;
    let (want_logits, shape) = batch.floats("logits");
    assert_eq!(logits.dims().to_vec(), shape);
    let (want_logits64, _) = batch.floats("logits_f64");
    let logit_err = rel_err(logits.clone(), &want_logits);
    let logit_err64 = rel_err(logits, &want_logits64);
    let want_loss = batch.floats("loss").0[0];
    let want_loss64 = batch.floats("loss_f64").0[0];
    println!(
        "{variant}: encoder rel {enc_err:.2e}; logits rel {logit_err:.2e} (vs f64 HF {logit_err64:.2e}); \
         loss {loss:.7} vs {want_loss:.7} (|d| {:.2e}; vs f64 HF {:.2e})",
        (loss - want_loss).abs(),
        (loss - want_loss64).abs()
    );
    assert!(
        enc_err <= 1e-4,
        "{variant}: encoder states rel err {enc_err:e}"
    );
    assert!(logit_err <= 1e-4, "{variant}: logits rel err {logit_err:e}");
    assert!(
        (loss - want_loss).abs() <= 1e-5,
        "{variant}: loss {loss} vs {want_loss}"
    );
}

#[test]
fn parity_untied_v1_1() {
    check("untied");
}

/// T5 v1.0 layout: ReLU feed-forward, tied and scaled LM head; explicit decoder mask.
#[test]
fn parity_tied_relu_with_decoder_mask() {
    check("tied");
}

#[test]
fn forward_labels_matches_hf_loss() {
    let model = load("untied");
    let batch = Batch::open("untied");
    let out = model.forward_labels(
        batch.ints("input_ids"),
        batch.ints("attention_mask"),
        batch.ints("labels"),
    );
    let loss = out.loss.into_scalar::<f32>() as f64;
    let want = batch.floats("loss").0[0];
    assert!((loss - want).abs() <= 1e-5, "{loss} vs {want}");
}

#[test]
fn greedy_generation_matches_hf_generate() {
    for variant in ["untied", "tied"] {
        let model = load(variant);
        let batch = Batch::open(variant);
        let want = batch.ints::<2>("generated");
        let got = model.generate_greedy(
            batch.ints("input_ids"),
            batch.ints("attention_mask"),
            want.dims()[1],
        );
        assert_eq!(
            got.into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .unwrap(),
            want.into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .unwrap(),
            "{variant}"
        );
    }
}

#[test]
fn fixture_configs_read_as_hf_configs() {
    let c = config("untied");
    assert_eq!(
        (c.vocab_size, c.d_model, c.d_kv, c.num_heads),
        (128, 64, 16, 4)
    );
    assert_eq!((c.d_ff, c.num_layers, c.num_decoder_layers), (128, 2, 2));
    assert_eq!(c.feed_forward_proj, FeedForwardProj::GatedGelu);
    assert_eq!(c.dropout_rate, 0.0);
    assert!(!c.tie_word_embeddings);
    let tied = config("tied");
    assert!(tied.tie_word_embeddings);
    assert_eq!(tied.feed_forward_proj, FeedForwardProj::Relu);
    let bad = r#"{"vocab_size": 8, "d_model": 4, "d_kv": 2, "num_heads": 2, "d_ff": 8,
        "num_layers": 1, "feed_forward_proj": "gated-silu"}"#;
    let err = T5Config::from_hf_json(bad, "x/config.json").unwrap_err();
    assert!(err.to_string().contains("gated-silu"), "{err}");
    let missing =
        T5Config::from_hf_json(r#"{"vocab_size": 8, "num_layers": 1}"#, "y.json").unwrap_err();
    assert!(
        missing.to_string().contains("`d_model` is missing"),
        "{missing}"
    );
}

#[test]
fn load_errors_name_the_tensor() {
    let dir = fixture("untied");
    let device = Device::flex();
    // A model with a wider feed-forward than the checkpoint.
    let err = config("untied")
        .with_d_ff(96)
        .init(&device)
        .load_hf_safetensors(&dir.join("weights.safetensors"))
        .unwrap_err();
    match &err {
        HfLoadError::Shape {
            name,
            expected,
            found,
            ..
        } => {
            assert_eq!(name, "encoder.block.0.layer.1.DenseReluDense.wi_0.weight");
            assert_eq!(
                (expected.as_slice(), found.as_slice()),
                (&[96, 64][..], &[128, 64][..])
            );
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("wi_0.weight"), "{err}");
    // An untied model cannot load the tied checkpoint: it has no lm_head.
    let err = config("tied")
        .with_tie_word_embeddings(false)
        .init(&device)
        .load_hf_safetensors(&fixture("tied").join("weights.safetensors"))
        .unwrap_err();
    assert!(
        matches!(&err, HfLoadError::Missing { name, .. } if name == "lm_head.weight"),
        "{err}"
    );
    // A gated-GELU model cannot load the ReLU checkpoint.
    let err = config("tied")
        .with_feed_forward_proj(FeedForwardProj::GatedGelu)
        .init(&device)
        .load_hf_safetensors(&fixture("tied").join("weights.safetensors"))
        .unwrap_err();
    assert!(
        matches!(&err, HfLoadError::Missing { name, .. }
            if name == "encoder.block.0.layer.1.DenseReluDense.wi_0.weight"),
        "{err}"
    );
    // A missing file is an I/O error naming it.
    let err = config("untied")
        .init(&device)
        .load_hf_safetensors(&dir.join("nope.safetensors"))
        .unwrap_err();
    assert!(err.to_string().contains("nope.safetensors"), "{err}");
}
