//! End-to-end tests of T5 fine-tuning through the command line (parsed by the CLI's own parser,
//! run in-process): heads, tokenizers, `--init`, GUANinE-format ordinal and regression tasks,
//! predictions files. A 32-wide, 1+1-layer T5 keeps each run to seconds.

use crate::cli::args::{Cli, Command};
use crate::pretrain::checkpoint::{self, Meta};
use crate::run::predictions;
use anyhow::Result;
use clap::Parser;
use std::path::{Path, PathBuf};
use strand_data::source::synthetic_guanine::SyntheticGuanine;
use strand_model::Tokenizer;
use strand_model::tokenize::TokenizerChoice;

/// A tiny T5 preset file in `dir`.
fn micro_preset(dir: &Path, d_ff: usize) -> PathBuf {
    let p = dir.join(format!("t5-micro-{d_ff}.toml"));
    std::fs::write(
        &p,
        format!(
            "kind = \"t5\"\nname = \"t5-micro\"\n\n[t5]\nd_model = 32\nd_kv = 8\nnum_heads = 2\n\
             d_ff = {d_ff}\nnum_layers = 1\nnum_decoder_layers = 1\ndropout_rate = 0.0\n"
        ),
    )
    .unwrap();
    p
}

/// Two classes of 48-bp sequences, `n` each; class `promoter` carries `TATAAA`.
fn fasta_task(dir: &Path, n: usize) -> String {
    let mut state = 7u64;
    let mut base = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        b"ACGT"[(state >> 62) as usize] as char
    };
    let (mut pos, mut neg) = (String::new(), String::new());
    for i in 0..n {
        let mut p: String = (0..48).map(|_| base()).collect();
        p.replace_range(20..26, "TATAAA");
        pos.push_str(&format!(">p{i}\n{p}\n"));
        let q: String = (0..48).map(|_| base()).collect();
        neg.push_str(&format!(">n{i}\n{q}\n"));
    }
    let (p, b) = (dir.join("promoter.fa"), dir.join("background.fa"));
    std::fs::write(&p, pos).unwrap();
    std::fs::write(&b, neg).unwrap();
    format!("fasta:background={},promoter={}", b.display(), p.display())
}

fn strand(args: &[&str]) -> Result<()> {
    let cli = Cli::try_parse_from(std::iter::once("strand").chain(args.iter().copied()))?;
    match cli.command {
        Command::Train(a) => crate::cli::train::run(a),
        Command::Eval(a) => crate::cli::eval::run(a),
        Command::Report(a) => crate::cli::report::run(a),
        other => panic!("not used here: {other:?}"),
    }
}

/// `strand train --task TASK --model MODEL --out OUT` followed by `flags`.
fn train(task: &str, model: &str, out: &Path, flags: &[&str]) -> Result<()> {
    let mut args = vec!["train", "--task", task, "--model", model, "--out", s(out)];
    args.extend_from_slice(flags);
    strand(&args)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn t5_pooled_text_and_probe_heads_train_and_eval_on_a_tiny_fasta_task() {
    let dir = tempfile::tempdir().unwrap();
    let task = fasta_task(dir.path(), 40);
    let preset = micro_preset(dir.path(), 64);
    for (head, tok) in [
        ("pooled", "nucleotide"),
        ("text", "kmer:3:1"),
        ("probe", "nucleotide"),
    ] {
        let out = dir.path().join(head);
        let micro = if head == "pooled" { "8" } else { "16" };
        train(
            &task,
            s(&preset),
            &out,
            &[
                "--micro-batch",
                micro,
                "--head",
                head,
                "--tokenizer",
                tok,
                "--epochs",
                "1",
                "--batch-size",
                "16",
            ],
        )
        .unwrap();
        let spec = json(&out.join("model.json"));
        assert_eq!(spec["kind"], "t5", "{spec}");
        let want = if head == "text" { "text_to_text" } else { head };
        assert_eq!(spec["head"]["kind"], want, "{spec}");
        assert_eq!(spec["head"]["t5"]["d_model"], 32);
        let tok_kind = if head == "text" { "kmer" } else { "nucleotide" };
        assert_eq!(spec["tokenizer"]["kind"], tok_kind, "{spec}");
        let scores = json(&out.join("scores.json"));
        assert_eq!(scores["global_batch"], 16);
        assert_eq!(scores["micro_batch"], micro.parse::<u64>().unwrap());
        assert_eq!(scores["accumulation"], if head == "pooled" { 2 } else { 1 });
        let acc = scores["splits"]["test"]["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{scores}");
        assert!(
            scores["splits"]["test"]["loss"]
                .as_f64()
                .unwrap()
                .is_finite()
        );
        // eval reloads the weights and reproduces the test scores; --predictions writes P(1).
        strand(&["eval", "--run", s(&out), "--split", "test", "--predictions"]).unwrap();
        let again = json(&out.join("scores.json"));
        let a = again["splits"]["test"]["accuracy"].as_f64().unwrap();
        assert!((a - acc).abs() < 1e-9, "{head}: {a} vs {acc}");
        let rows = predictions::read(&out.join("predictions.tsv")).unwrap();
        assert_eq!(
            rows.len() as f64,
            scores["splits"]["test"]["n"].as_f64().unwrap()
        );
        assert!(rows.iter().all(|(_, p)| (0.0..=1.0).contains(p)));
    }
    let e = train(
        &task,
        "cnn-gb",
        &dir.path().join("cnn"),
        &["--head", "text", "--epochs", "1"],
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("CNN"), "{e:#}");
    let e = train(
        &task,
        "cnn-gb",
        &dir.path().join("bad-micro"),
        &["--batch-size", "16", "--micro-batch", "5", "--epochs", "1"],
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("must divide"), "{e:#}");
}

#[test]
fn init_from_a_pretraining_checkpoint_and_mismatches_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let task = fasta_task(dir.path(), 20);
    let preset = micro_preset(dir.path(), 64);
    // A checkpoint as `strand pretrain` writes it, with the preset's shape.
    let tok = TokenizerChoice::Nucleotide.build().unwrap();
    let p = crate::config::model_preset::ModelPreset::load(s(&preset)).unwrap();
    let crate::config::model_preset::ModelPreset::T5(t5) = &p else {
        panic!("a T5 preset")
    };
    let config = t5.t5.config(tok.vocab_size());
    let device = crate::engine::backend::cpu().autodiff();
    let model = config.init(&device);
    let ckpt = dir.path().join("pre/checkpoints/step-5");
    let meta = Meta {
        step: 5,
        loss: 3.0,
        run: "pre".into(),
    };
    checkpoint::save(&ckpt, &model, &config, &tok, &meta, |_| Ok(())).unwrap();

    let out = dir.path().join("ft");
    train(
        &task,
        s(&preset),
        &out,
        &["--init", s(&ckpt), "--epochs", "1", "--batch-size", "8"],
    )
    .unwrap();
    let cfg = std::fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    assert!(cfg.contains("step-5"), "{cfg}");
    assert!(out.join("scores.json").is_file());
    let md = dir.path().join("report.md");
    strand(&["report", s(&out), "--out", s(&md)]).unwrap();
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("| t5-micro ← pre/step-5 | nucleotide | pooled | test | mcc |"),
        "{md}"
    );

    let e = train(
        &task,
        s(&preset),
        &dir.path().join("bad-tok"),
        &["--init", s(&ckpt), "--tokenizer", "kmer:3", "--epochs", "1"],
    )
    .unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("mismatch") && msg.contains("kmer:3:3"),
        "{msg}"
    );
    assert!(
        !dir.path().join("bad-tok").exists(),
        "checked before the run starts"
    );

    let wide = micro_preset(dir.path(), 96);
    let e = train(
        &task,
        s(&wide),
        &dir.path().join("bad-shape"),
        &["--init", s(&ckpt), "--epochs", "1"],
    )
    .unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("d_ff: checkpoint 64, preset 96"), "{msg}");

    // A truncated checkpoint, and a device this build cannot run: errors before the run
    // directory exists.
    let weights = ckpt.join("model.bpk");
    let good = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &good[..good.len() / 2]).unwrap();
    let cut = dir.path().join("cut");
    let e = train(
        &task,
        s(&preset),
        &cut,
        &["--init", s(&ckpt), "--epochs", "1"],
    )
    .unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains(s(&weights)), "{msg}");
    assert!(!cut.exists(), "checked before the run starts");
    std::fs::write(&weights, good).unwrap();
    #[cfg(not(feature = "cuda"))]
    {
        let gpu = dir.path().join("gpu");
        let e = train(
            &task,
            s(&preset),
            &gpu,
            &["--device", "cuda", "--epochs", "1"],
        )
        .unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("cuda"), "{msg}");
        assert!(!gpu.exists(), "checked before the run starts");
    }
}

/// ρ recomputed from the written predictions, against the labels of the same split.
fn rho_from_file(file: &Path, labels: &[f64]) -> f64 {
    let rows = predictions::read(file).unwrap();
    let preds: Vec<f64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(preds.len(), labels.len());
    strand_data::metrics::spearman(&preds, labels)
}

#[test]
fn ordinal_and_regression_fine_tuning_on_synthetic_guanine_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let synth = SyntheticGuanine {
        n_train: 96,
        n_dev: 40,
        n_test: 24,
        len: 60,
        seed: 3,
        ..SyntheticGuanine::default()
    };
    let data = dir.path().join("guanine");
    synth.write_task(&data, "dnase_propensity").unwrap();
    let table = dir.path().join("reg.csv");
    synth.write_regression_table(&table).unwrap();
    let preset = micro_preset(dir.path(), 64);
    let dev_levels: Vec<f64> = (0..synth.n_dev)
        .map(|i| synth.record(strand_data::Split::Valid, i).level as f64)
        .collect();
    let dev_values: Vec<f64> = (0..synth.n_dev)
        .map(|i| synth.record(strand_data::Split::Valid, i).value)
        .collect();
    let csv_task = format!("csv:{}", table.display());
    let runs: [(&str, &str, &str, &[f64]); 4] = [
        (
            "guanine/dnase_propensity",
            s(&preset),
            "pooled",
            &dev_levels,
        ),
        ("guanine/dnase_propensity", "cnn-gb", "", &dev_levels),
        (&csv_task, s(&preset), "pooled", &dev_values),
        (&csv_task, s(&preset), "text", &dev_values),
    ];
    for (i, (task, model, head, truth)) in runs.iter().enumerate() {
        let out = dir.path().join(format!("run-{i}"));
        let mut args = vec![
            "train",
            "--task",
            task,
            "--model",
            model,
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--data-dir",
            s(&data),
            "--out",
            s(&out),
        ];
        if !head.is_empty() {
            args.extend(["--head", head]);
        }
        strand(&args).unwrap();
        let scores = json(&out.join("scores.json"));
        let dev = &scores["splits"]["valid"];
        let rho = dev["spearman"].as_f64().unwrap();
        assert!(rho.is_finite(), "{i}: {scores}");
        strand(&[
            "eval",
            "--run",
            s(&out),
            "--split",
            "valid",
            "--predictions",
        ])
        .unwrap();
        let again = json(&out.join("scores.json"))["splits"]["valid"]["spearman"]
            .as_f64()
            .unwrap();
        let from_file = rho_from_file(&out.join("predictions.valid.tsv"), truth);
        assert!(
            (from_file - again).abs() < 1e-12,
            "{i}: {from_file} vs {again}"
        );
        assert!(
            (again - rho).abs() < 1e-9,
            "{i}: eval {again} vs train {rho}"
        );
        if task.starts_with("guanine/") {
            assert_eq!(scores["selection_metric"], "spearman100", "{scores}");
            let r100 = dev["spearman100"].as_f64().unwrap();
            assert!((r100 - strand_data::metrics::np_round(100.0 * rho, 4)).abs() < 1e-9);
            // The private test split: no scores, a submission file in the published order.
            assert_eq!(scores["splits"]["test"]["labelled"], 0.0, "{scores}");
            strand(&["eval", "--run", s(&out), "--split", "test"]).unwrap();
            let rows = predictions::read(&out.join("predictions.tsv")).unwrap();
            assert_eq!(rows.len(), synth.n_test);
            assert!(
                rows.iter().all(|(_, p)| (0.0..=4.0).contains(p)),
                "{rows:?}"
            );
        }
    }
}

/// A temporary directory holding [`fasta_task`] with `n` records per class and the 64-wide
/// [`micro_preset`].
struct Fixture {
    dir: tempfile::TempDir,
    task: String,
    preset: PathBuf,
}

impl Fixture {
    fn new(n: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let task = fasta_task(dir.path(), n);
        let preset = micro_preset(dir.path(), 64);
        Fixture { dir, task, preset }
    }

    /// `strand train` of the fixture's task and preset into `<dir>/<name>`.
    fn train(&self, name: &str, flags: &[&str]) -> (PathBuf, Result<()>) {
        let out = self.dir.path().join(name);
        let result = train(&self.task, s(&self.preset), &out, flags);
        (out, result)
    }
}

/// The per-epoch lines (those with validation scores) of a run's `metrics.jsonl`.
fn epoch_lines(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l.get("valid").is_some())
        .collect()
}

#[test]
fn epoch_steps_caps_the_batches_of_every_epoch() {
    // 40 + 40 records, 80% train = 64 records = 8 batches of 8 per full epoch.
    let f = Fixture::new(40);
    let (out, result) = f.train(
        "capped",
        &["--epochs", "2", "--epoch-steps", "3", "--batch-size", "8"],
    );
    result.unwrap();
    let epochs = epoch_lines(&out);
    assert_eq!(epochs.len(), 2, "{epochs:?}");
    assert_eq!(epochs[0]["step"], 3, "{epochs:?}");
    assert_eq!(epochs[1]["step"], 6, "{epochs:?}");
    let resolved = std::fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    assert!(resolved.contains("epoch_steps = 3"), "{resolved}");
    let (_, zero) = f.train("zero", &["--epoch-steps", "0"]);
    assert!(zero.unwrap_err().to_string().contains("epoch_steps"));
}

#[test]
fn patience_stops_training_once_validation_stops_improving() {
    let f = Fixture::new(20);
    // lr 1e-12 leaves every weight as it was, so epoch 1 stays the best and patience 2 ends
    // the run after epoch 3 of 6.
    let flags = [
        "--epochs",
        "6",
        "--patience",
        "2",
        "--lr",
        "1e-12",
        "--batch-size",
        "8",
    ];
    let (out, result) = f.train("patient", &flags);
    result.unwrap();
    let scores = json(&out.join("scores.json"));
    assert_eq!(scores["epochs"], 6, "{scores}");
    assert_eq!(scores["epochs_trained"], 3, "{scores}");
    assert_eq!(scores["best_epoch"], 1, "{scores}");
    assert_eq!(epoch_lines(&out).len(), 3);
    // Without patience every epoch runs.
    let (all, result) = f.train("all", &flags[..2]);
    result.unwrap();
    assert_eq!(json(&all.join("scores.json"))["epochs_trained"], 6);
}

#[test]
fn lr_schedule_and_clipping_are_recorded_and_logged_per_step() {
    // 64 training records = 8 batches of 8 per epoch, 2 epochs = 16 steps.
    let f = Fixture::new(40);
    let flags = [
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--lr",
        "1e-3",
        "--lr-schedule",
        "cosine",
        "--warmup-steps",
        "4",
        "--clip-grad-norm",
        "0.5",
    ];
    let (out, result) = f.train("scheduled", &flags);
    result.unwrap();
    let resolved = std::fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    assert!(resolved.contains("clip_grad_norm = 0.5"), "{resolved}");
    assert!(resolved.contains("decay = \"cosine\""), "{resolved}");
    assert!(resolved.contains("warmup_steps = 4"), "{resolved}");
    let steps: Vec<serde_json::Value> = std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l.get("batch").is_some())
        .collect();
    assert_eq!(steps.len(), 16);
    let lr = |i: usize| steps[i]["lr"].as_f64().unwrap();
    assert!((lr(0) - 2.5e-4).abs() < 1e-15, "warm-up step 1: {}", lr(0));
    assert!((lr(3) - 1e-3).abs() < 1e-15, "peak at step 4: {}", lr(3));
    assert!(lr(15).abs() < 1e-15, "cosine ends at min_lr 0: {}", lr(15));
    assert!(steps.iter().all(|s| s["grad_norm"].as_f64().unwrap() > 0.0));
    // Without the flags the config and the step lines stay as they were.
    let (plain, result) = f.train("plain", &flags[..6]);
    result.unwrap();
    let resolved = std::fs::read_to_string(plain.join("config.resolved.toml")).unwrap();
    assert!(
        !resolved.contains("lr_schedule") && !resolved.contains("clip"),
        "{resolved}"
    );
    let first = std::fs::read_to_string(plain.join("metrics.jsonl")).unwrap();
    assert!(!first.lines().next().unwrap().contains("\"lr\""), "{first}");
    let (_, bad) = f.train("bad", &["--lr-schedule", "cosinus"]);
    assert!(bad.unwrap_err().to_string().contains("cosinus"));
}
