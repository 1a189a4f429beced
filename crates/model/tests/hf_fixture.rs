//! A Hugging Face model directory read the way `--init hf:DIR` reads it: `config.json`,
//! `model.safetensors` and `tokenizer.json` of the tiny T5 made by `scripts/hf_t5_fixture.py`
//! (tests/fixtures/hf-tiny-t5), compared with transformers' outputs on the same sequences.
//!
//! Tolerance: logits relative error `max|a − b| / max|b|` ≤ 1e-5 (f32 on both sides; measured
//! values are printed); input ids equal.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use strand_model::Tokenizer;
use strand_model::t5::{T5Config, T5Model};
use strand_model::tokenize::EOS;
use strand_model::tokenize::hf::HfTokenizer;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/hf-tiny-t5")
}

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
        .unwrap()
}

fn load(device: &Device) -> T5Model {
    let dir = fixture().join("model");
    let path = dir.join("config.json");
    let config =
        T5Config::from_hf_json(&std::fs::read_to_string(&path).unwrap(), "config.json").unwrap();
    config
        .init(device)
        .load_hf_safetensors(&dir.join("model.safetensors"))
        .unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    let mut out = Vec::new();
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| out.extend(floats(x))),
        x => out.push(x.as_f64().unwrap()),
    }
    out
}

fn rel_err(got: Tensor<3>, want: &[f64]) -> f64 {
    let got = got
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(got.len(), want.len());
    let diff = got
        .iter()
        .zip(want)
        .map(|(a, b)| (*a as f64 - b).abs())
        .fold(0.0, f64::max);
    diff / want.iter().map(|b| b.abs()).fold(0.0, f64::max)
}

#[test]
fn hf_directory_gives_transformers_ids_and_logits() {
    let device = Device::flex();
    let model = load(&device);
    let exp = expected();
    let tok = HfTokenizer::load(&fixture().join("model")).unwrap();
    let seqs: Vec<&str> = exp["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let rows: Vec<Vec<u32>> = seqs
        .iter()
        .map(|s| {
            let mut ids = tok.encode(s.as_bytes());
            ids.push(EOS);
            ids
        })
        .collect();
    let want_ids: Vec<Vec<u32>> = serde_json::from_value(exp["input_ids"].clone()).unwrap();
    assert_eq!(rows, want_ids);

    let len = rows.iter().map(Vec::len).max().unwrap();
    let (mut ids, mut mask) = (Vec::new(), Vec::new());
    for r in &rows {
        ids.extend(r.iter().map(|&i| i as i64));
        ids.extend(std::iter::repeat_n(0i64, len - r.len()));
        mask.extend(std::iter::repeat_n(1i64, r.len()));
        mask.extend(std::iter::repeat_n(0i64, len - r.len()));
    }
    let n = rows.len();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [n, len]), &device);
    let mask = Tensor::<2, Int>::from_data(TensorData::new(mask, [n, len]), &device);
    let start = Tensor::<2, Int>::zeros([n, 1], &device);
    let logits = model.forward(ids.clone(), mask.clone(), start, None);
    let err = rel_err(logits, &floats(&exp["first_step_logits"]));

    let multi = &exp["multi_step"];
    let dec: Vec<i64> = serde_json::from_value(multi["decoder_input_ids"].clone()).unwrap();
    let one = rows[0].iter().map(|&i| i as i64).collect::<Vec<_>>();
    let l0 = one.len();
    let logits = model.forward(
        Tensor::from_data(TensorData::new(one, [1, l0]), &device),
        Tensor::ones([1, l0], &device),
        Tensor::from_data(TensorData::new(dec.clone(), [1, dec.len()]), &device),
        None,
    );
    let err_multi = rel_err(logits, &floats(&multi["logits"]));
    println!("first step logits rel err {err:.2e}; three-step logits rel err {err_multi:.2e}");
    assert!(err <= 1e-5, "first step logits rel err {err:e}");
    assert!(err_multi <= 1e-5, "three-step logits rel err {err_multi:e}");
}
