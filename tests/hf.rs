//! Hugging Face interop end to end, on the tiny T5 of `scripts/hf_t5_fixture.py`
//! (tests/fixtures/hf-tiny-t5: a T5 with its BPE tokenizer in `model/`, an output vocabulary
//! whose tokens "0" … "4" sit at ids 36, 37, 39, 40, 42 in `labels/`, and transformers' outputs in
//! `expected.json`).
//!
//! - `strand predict --init hf:` gives transformers' label probabilities (tolerance 1e-5 on the
//!   expected level Σ p_k·k, which is what an ordinal task's `prediction` column holds);
//! - `train --init hf: --label-vocab` fine-tunes, `eval --init hf:` scores the published model;
//! - `export --format hf` of the fine-tuned run, re-imported with `predict --init hf:`, gives the
//!   run's own predictions (1e-6).

mod common;

use common::{run, write_fasta};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/hf-tiny-t5")
}

fn hf(p: &Path) -> String {
    format!("hf:{}", p.display())
}

fn ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "strand failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `(header, rows of (id, values))` of a predictions TSV.
fn tsv(path: &Path) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split('\t')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| {
            let mut f = l.split('\t');
            let id = f.next().unwrap().to_string();
            (id, f.map(|v| v.parse().unwrap()).collect())
        })
        .collect();
    (header, rows)
}

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
        .unwrap()
}

#[test]
fn predict_through_hf_equals_transformers() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = expected();
    let seqs: Vec<(String, String)> = exp["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("s{i}"), s.as_str().unwrap().to_string()))
        .collect();
    let fasta = tmp.path().join("seqs.fa");
    write_fasta(&fasta, &seqs);
    let out = tmp.path().join("pred.tsv");
    ok(&run(&[
        "predict",
        "--init",
        &hf(&fixture().join("model")),
        "--label-vocab",
        &hf(&fixture().join("labels")),
        "--task",
        "guanine/dnase_propensity",
        "--fasta",
        fasta.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    let (header, rows) = tsv(&out);
    assert_eq!(header, ["id", "prediction"]);
    let probs = exp["label_probs"].as_array().unwrap();
    let mut worst = 0f64;
    for ((id, got), p) in rows.iter().zip(probs) {
        let want: f64 = p
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(k, v)| k as f64 * v.as_f64().unwrap())
            .sum();
        worst = worst.max((got[0] - want).abs());
        assert!((got[0] - want).abs() <= 1e-5, "{id}: {} vs {want}", got[0]);
    }
    println!("expected level vs transformers: max |diff| {worst:.2e}");

    // Refusals: no label vocabulary; a pooled head (untrained); a --model beside hf: init.
    let e = run(&[
        "predict",
        "--init",
        &hf(&fixture().join("model")),
        "--task",
        "guanine/dnase_propensity",
        "--fasta",
        fasta.to_str().unwrap(),
    ]);
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(
        !e.status.success() && msg.contains("--label-vocab"),
        "{msg}"
    );
    let e = run(&[
        "predict",
        "--init",
        &hf(&fixture().join("model")),
        "--head",
        "pooled",
        "--label-vocab",
        &hf(&fixture().join("labels")),
        "--task",
        "guanine/dnase_propensity",
        "--fasta",
        fasta.to_str().unwrap(),
    ]);
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(!e.status.success() && msg.contains("--head text"), "{msg}");
}

#[test]
fn a_pytorch_pickle_is_refused_with_the_conversion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixture().join("model/config.json"), dir.join("config.json")).unwrap();
    std::fs::write(dir.join("pytorch_model.bin"), b"pickle").unwrap();
    let e = run(&[
        "predict",
        "--init",
        &hf(&dir),
        "--label-vocab",
        &hf(&fixture().join("labels")),
        "--task",
        "guanine/dnase_propensity",
    ]);
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(
        !e.status.success() && msg.contains("pytorch_model.bin") && msg.contains("save_pretrained"),
        "{msg}"
    );
}

/// Classes "0" and "1" (spelled as two of the output vocabulary's tokens): 40 random sequences
/// each, class 1 with `TATAAA` in the middle.
fn two_class_task(dir: &Path) -> (String, Vec<(String, String)>) {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut classes = Vec::new();
    let mut probe = Vec::new();
    for class in ["0", "1"] {
        let recs: Vec<(String, String)> = (0..40)
            .map(|i| {
                let mut s: String = (0..30)
                    .map(|_| b"ACGT"[(next() % 4) as usize] as char)
                    .collect();
                if class == "1" {
                    s.replace_range(12..18, "TATAAA");
                }
                (format!("c{class}_{i}"), s)
            })
            .collect();
        probe.extend(recs.iter().take(3).cloned());
        let path = dir.join(format!("class{class}.fa"));
        write_fasta(&path, &recs);
        classes.push(format!("{class}={}", path.display()));
    }
    (format!("fasta:{}", classes.join(",")), probe)
}

#[test]
fn fine_tune_eval_and_export_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (task, probe) = two_class_task(t);
    let model = hf(&fixture().join("model"));
    let labels = hf(&fixture().join("labels"));
    let tuned = t.join("tuned");
    ok(&run(&[
        "train",
        "--task",
        &task,
        "--init",
        &model,
        "--head",
        "text",
        "--label-vocab",
        &labels,
        "--epochs",
        "1",
        "--epoch-steps",
        "2",
        "--batch-size",
        "8",
        "--out",
        tuned.to_str().unwrap(),
    ]));
    let config = std::fs::read_to_string(tuned.join("config.resolved.toml")).unwrap();
    assert!(
        config.contains("tokenizer = \"hf:/") && config.contains("label_vocab"),
        "{config}"
    );

    // eval --init: the published model's test scores in a new run directory.
    let published = t.join("published");
    let out = ok(&run(&[
        "eval",
        "--init",
        &model,
        "--task",
        &task,
        "--label-vocab",
        &labels,
        "--out",
        published.to_str().unwrap(),
        "--split",
        "test",
    ]));
    assert!(
        out.contains("| auroc |") || out.contains("| mcc |"),
        "{out}"
    );
    assert!(published.join("scores.json").is_file());

    // A --model beside hf: init is refused.
    let e = run(&[
        "train",
        "--task",
        &task,
        "--init",
        &model,
        "--model",
        "t5-tiny",
        "--out",
        t.join("x").to_str().unwrap(),
    ]);
    let msg = String::from_utf8_lossy(&e.stderr);
    assert!(!e.status.success() && msg.contains("config.json"), "{msg}");

    // Export, then predict with the run and with the re-imported directory.
    let exported = t.join("exported");
    ok(&run(&[
        "export",
        "--run",
        tuned.to_str().unwrap(),
        "--format",
        "hf",
        "--out",
        exported.to_str().unwrap(),
    ]));
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "labels/tokenizer.json",
    ] {
        assert!(exported.join(f).is_file(), "{f}");
    }
    let card = std::fs::read_to_string(exported.join("README.md")).unwrap();
    assert!(
        card.contains("## Scores") && card.contains("| test |"),
        "{card}"
    );
    let fasta = t.join("probe.fa");
    write_fasta(&fasta, &probe);
    let a = t.join("run.tsv");
    let b = t.join("reimported.tsv");
    ok(&run(&[
        "predict",
        "--run",
        tuned.to_str().unwrap(),
        "--fasta",
        fasta.to_str().unwrap(),
        "--out",
        a.to_str().unwrap(),
    ]));
    ok(&run(&[
        "predict",
        "--init",
        &hf(&exported),
        "--label-vocab",
        &hf(&exported.join("labels")),
        "--task",
        &task,
        "--fasta",
        fasta.to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
    ]));
    let (ha, ra) = tsv(&a);
    let (hb, rb) = tsv(&b);
    assert_eq!(ha, ["id", "p_0", "p_1"]);
    assert_eq!(ha, hb);
    for ((ia, va), (ib, vb)) in ra.iter().zip(&rb) {
        assert_eq!(ia, ib);
        for (x, y) in va.iter().zip(vb) {
            assert!((x - y).abs() <= 1e-6, "{ia}: {va:?} vs {vb:?}");
        }
    }
    // The exported weights differ from the published ones (the run trained).
    let before = std::fs::read(fixture().join("model/model.safetensors")).unwrap();
    let after = std::fs::read(exported.join("model.safetensors")).unwrap();
    assert_ne!(before.len(), 0);
    assert_ne!(before, after);
}
