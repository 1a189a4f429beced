//! Bad input at every entry point of `strand train`: each is a clear error, a non-zero exit, no
//! panic and nothing half-written.
//!
//! The data-layer cases are tested in `tests/cli.rs`: a non-ACGTN byte
//! (`non_dna_byte_names_file_record_and_position`), an empty FASTA (`empty_fasta_is_an_error`),
//! a missing file (`missing_file_is_an_error`), an unknown task (`unknown_task_is_an_error`), an
//! unknown preset (`unknown_model_preset_is_an_error`) and an unknown config key
//! (`config_file_is_read_and_unknown_keys_are_rejected`).

mod common;

use common::{assert_clean_failure, run, run_with_nan_at, tiny_task, write_fasta};
use std::path::{Path, PathBuf};
use std::process::Output;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `strand train` of `task` into `out`: one epoch of batches of 16, a checkpoint every 2
/// steps, then `extra`.
fn train_args<'a>(task: &'a str, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--task",
        task,
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--checkpoint-every",
        "2",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    args
}

/// Trains `task` into `out` and stops it with a NaN loss at batch 3 (the test hook of the
/// training loop), leaving the checkpoint of step 2; returns that checkpoint.
fn stopped_run(task: &str, out: &Path, extra: &[&str]) -> PathBuf {
    let o = run_with_nan_at(train_args(task, out, extra), 3);
    assert_clean_failure(&o, &["not finite", "step 3"]);
    let ckpt = out.join("checkpoints/ckpt-000000000002-0");
    assert!(ckpt.join("state.json").is_file(), "{}", ckpt.display());
    ckpt
}

fn resume(task: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = train_args(task, out, &["--resume"]);
    args.extend_from_slice(extra);
    run(&args)
}

/// Replaces `to`'s checkpoints with `from`'s checkpoint.
fn transplant(from: &Path, to_run: &Path) {
    let dst = to_run.join("checkpoints");
    std::fs::remove_dir_all(&dst).unwrap();
    std::fs::create_dir(&dst).unwrap();
    let target = dst.join(from.file_name().unwrap());
    std::fs::create_dir(&target).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), target.join(e.file_name())).unwrap();
    }
}

#[test]
fn config_with_an_unknown_key_or_a_wrong_type_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 10);
    let out = dir.path().join("r");
    for (body, key) in [
        (format!("task = {task:?}\nepochz = 3\n"), "epochz"),
        (format!("task = {task:?}\nepochs = \"ten\"\n"), "epochs"),
        (
            format!("task = {task:?}\n[split]\nvalid_fraction = 0.2\n"),
            "valid_fraction",
        ),
    ] {
        let cfg = dir.path().join("exp.toml");
        std::fs::write(&cfg, body).unwrap();
        let o = run(&["train", "--config", s(&cfg), "--out", s(&out)]);
        assert_clean_failure(&o, &["exp.toml", key]);
        assert!(!out.exists(), "nothing half-written");
    }
}

#[test]
fn a_checkpoint_of_another_tokenizer_or_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 40);
    let nucleotide = stopped_run(&task, &dir.path().join("a"), &[]);

    // Same model preset, another tokenizer.
    let kmer = dir.path().join("b");
    stopped_run(&task, &kmer, &["--tokenizer", "kmer:3:1"]);
    transplant(&nucleotide, &kmer);
    let o = resume(&task, &kmer, &["--tokenizer", "kmer:3:1"]);
    assert_clean_failure(
        &o,
        &["checkpoint", "tokenizer", "\"nucleotide\"", "kmer:3:1"],
    );
    assert!(!kmer.join("scores.json").exists());

    // Same tokenizer, another model.
    let preset = dir.path().join("wide.toml");
    std::fs::write(
        &preset,
        "kind = \"cnn\"\nname = \"cnn-wide\"\nembedding_dim = 100\nchannels = [32, 8, 4]\n\
         kernel_size = 8\npool = 2\nhidden = 512\n",
    )
    .unwrap();
    let wide = dir.path().join("c");
    stopped_run(&task, &wide, &["--model", s(&preset)]);
    transplant(&nucleotide, &wide);
    let o = resume(&task, &wide, &["--model", s(&preset)]);
    assert_clean_failure(&o, &["checkpoint", "different model"]);
    assert!(!wide.join("scores.json").exists());
}

#[test]
fn a_truncated_or_damaged_checkpoint_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 40);
    let out = dir.path().join("r");
    let ckpt = stopped_run(&task, &out, &[]);
    let metrics = std::fs::read(out.join("metrics.jsonl")).unwrap();
    for (file, needle) in [
        ("model.bpk", "damaged or truncated"),
        ("optimizer.bpk", "damaged or truncated"),
        ("state.json", "damaged"),
    ] {
        let path = ckpt.join(file);
        let good = std::fs::read(&path).unwrap();
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        let o = resume(&task, &out, &[]);
        assert_clean_failure(&o, &[needle, file.split('.').next().unwrap()]);
        assert!(!out.join("scores.json").exists());
        assert_eq!(
            std::fs::read(out.join("metrics.jsonl")).unwrap(),
            metrics,
            "nothing rewritten"
        );
        std::fs::write(&path, good).unwrap();
    }
    // Repaired, the run resumes to the end.
    let o = resume(&task, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn an_unwritable_output_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 10);
    // A regular file where a directory should be: unwritable even for root.
    let file = dir.path().join("a_file");
    std::fs::write(&file, "").unwrap();
    let o = run(&[
        "train",
        "--task",
        &task,
        "--epochs",
        "1",
        "--out",
        s(&file.join("run")),
    ]);
    assert_clean_failure(&o, &["cannot create run directory", "a_file"]);
    let o = run(&["train", "--task", &task, "--epochs", "1", "--out", s(&file)]);
    assert_clean_failure(&o, &["exists and is not a directory"]);
    assert_eq!(std::fs::read(&file).unwrap(), b"", "the file is untouched");
}

#[test]
fn a_dataset_with_one_class_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.fa");
    write_fasta(&a, &[("a1".into(), "ACGT".repeat(16))]);
    let out = dir.path().join("r");
    let o = run(&[
        "train",
        "--task",
        &format!("fasta:only={}", a.display()),
        "--out",
        s(&out),
    ]);
    assert_clean_failure(&o, &["needs at least two classes"]);
    assert!(!out.exists());

    // Two classes in the table, but the training split holds one.
    let csv = dir.path().join("t.csv");
    let mut text = String::from("seq,label,split\n");
    for i in 0..20 {
        text.push_str(&format!("{},0,train\n", "ACGT".repeat(10 + i % 3)));
    }
    for split in ["valid", "test"] {
        text.push_str(&format!("{},1,{split}\n", "TTGA".repeat(12)));
    }
    std::fs::write(&csv, text).unwrap();
    let o = run(&[
        "train",
        "--task",
        &format!("csv:{}", csv.display()),
        "--out",
        s(&out),
    ]);
    assert_clean_failure(&o, &["training split holds only one class", "at least two"]);
    assert!(!out.exists());
}

#[test]
fn an_empty_validation_split_is_refused_before_the_run_directory_exists() {
    let dir = tempfile::tempdir().unwrap();
    // 3 + 3 records: a 10% validation fraction of a stratified split leaves it empty.
    let task = tiny_task(dir.path(), 3);
    let out = dir.path().join("run");
    let o = run(&train_args(&task, &out, &[]));
    assert_clean_failure(&o, &["validation split is empty"]);
    assert!(!out.exists(), "a refused run leaves no directory behind");
}

/// Renames `dir/<stem>.bpk` to `dir/<stem>.mpk`, as a strand built on burn 0.21 named it.
fn as_written_by_burn_0_21(dir: &Path, stem: &str) {
    std::fs::rename(
        dir.join(format!("{stem}.bpk")),
        dir.join(format!("{stem}.mpk")),
    )
    .unwrap();
}

#[test]
fn weights_written_by_a_strand_on_burn_0_21_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 40);
    const OLD: [&str; 3] = ["burn 0.21", "cannot read", "retrain"];

    // `strand eval` of a finished run whose weights are `model.mpk`.
    let out = dir.path().join("finished");
    let o = run(&train_args(&task, &out, &[]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    as_written_by_burn_0_21(&out, "model");
    let scores = std::fs::read(out.join("scores.json")).unwrap();
    let o = run(&["eval", "--run", s(&out), "--split", "test"]);
    let model_mpk = out.join("model.mpk");
    assert_clean_failure(&o, &[&[s(&model_mpk)][..], &OLD[..]].concat());
    assert_eq!(
        std::fs::read(out.join("scores.json")).unwrap(),
        scores,
        "scores.json untouched"
    );

    // `--resume` of a run whose checkpoint holds `model.mpk` and `optimizer.mpk`.
    let stopped = dir.path().join("stopped");
    let ckpt = stopped_run(&task, &stopped, &[]);
    as_written_by_burn_0_21(&ckpt, "model");
    as_written_by_burn_0_21(&ckpt, "optimizer");
    let o = resume(&task, &stopped, &[]);
    let ckpt_mpk = ckpt.join("model.mpk");
    assert_clean_failure(&o, &[&[s(&ckpt_mpk)][..], &OLD[..]].concat());
    assert!(!stopped.join("scores.json").exists());

    // `--init` with a pretraining checkpoint whose weights are `model.mpk`, before the run
    // directory is created.
    let pre = dir.path().join("pre/checkpoints/step-5");
    std::fs::create_dir_all(&pre).unwrap();
    for f in ["model.mpk", "optimizer.mpk"] {
        std::fs::write(pre.join(f), b"\x82\xa4item").unwrap();
    }
    std::fs::write(pre.join("tokenizer_spec.json"), "{\"kind\":\"nucleotide\"}").unwrap();
    std::fs::write(
        pre.join("meta.json"),
        "{\"step\":5,\"loss\":3.0,\"run\":\"pre\"}",
    )
    .unwrap();
    let preset = dir.path().join("t5-micro.toml");
    std::fs::write(
        &preset,
        "kind = \"t5\"\nname = \"t5-micro\"\n\n[t5]\nd_model = 32\nd_kv = 8\nnum_heads = 2\n\
         d_ff = 64\nnum_layers = 1\nnum_decoder_layers = 1\ndropout_rate = 0.0\n",
    )
    .unwrap();
    let ft = dir.path().join("ft");
    let o = run(&train_args(
        &task,
        &ft,
        &["--model", s(&preset), "--init", s(&pre)],
    ));
    let pre_mpk = pre.join("model.mpk");
    assert_clean_failure(&o, &[&["--init", s(&pre_mpk)][..], &OLD[..]].concat());
    assert!(!ft.exists(), "checked before the run starts");
}

#[test]
fn weights_of_another_model_in_a_run_are_refused_and_its_scores_kept() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 40);
    let nucleotide = dir.path().join("a");
    let o = run(&train_args(&task, &nucleotide, &[]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The same preset with another tokenizer: another embedding shape.
    let kmer = dir.path().join("b");
    let o = run(&train_args(&task, &kmer, &["--tokenizer", "kmer:3:1"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::copy(kmer.join("model.bpk"), nucleotide.join("model.bpk")).unwrap();
    let scores = std::fs::read(nucleotide.join("scores.json")).unwrap();
    let o = run(&["eval", "--run", s(&nucleotide), "--split", "test"]);
    let weights = nucleotide.join("model.bpk");
    assert_clean_failure(&o, &[s(&weights), "shape"]);
    assert_eq!(
        std::fs::read(nucleotide.join("scores.json")).unwrap(),
        scores,
        "scores.json untouched"
    );
}

#[test]
fn errors_speak_strands_words_not_debug_prints_or_parser_internals() {
    let dir = tempfile::tempdir().unwrap();
    // A CSV whose 6th training row has an empty label.
    let csv = dir.path().join("t.csv");
    let mut text = String::from("sequence,label\n");
    for i in 0..40 {
        let label = if i == 5 {
            String::new()
        } else {
            (i % 2).to_string()
        };
        text.push_str(&format!("{},{label}\n", "ACGTTGCA".repeat(4 + i % 3)));
    }
    std::fs::write(&csv, text).unwrap();
    let task = format!("csv:{}", csv.display());
    let out = dir.path().join("r");
    let o = run(&["train", "--task", &task, "--epochs", "1", "--out", s(&out)]);
    assert_clean_failure(&o, &["no label", "classes (0, 1)"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("None") && !err.contains("Classes {"), "{err}");
    assert!(!out.exists());

    // A JSON file that is not a tokenizer.json.
    let json = dir.path().join("vocab.json");
    std::fs::write(&json, "{\"A\": 1}").unwrap();
    let tiny = tiny_task(dir.path(), 20);
    let o = run(&[
        "train",
        "--task",
        &tiny,
        "--tokenizer",
        &format!("bpe:{}", json.display()),
        "--out",
        s(&out),
    ]);
    assert_clean_failure(&o, &[s(&json), "not a tokenizer.json"]);
    assert!(!out.exists());

    // An unknown device is named before any data is read.
    let o = run(&[
        "train",
        "--task",
        "fasta:a=/nonexistent.fa,b=/nonexistent2.fa",
        "--device",
        "tpu",
        "--out",
        s(&out),
    ]);
    assert_clean_failure(&o, &["unknown device \"tpu\"", "cpu, cuda or cuda:N"]);
    assert!(!out.exists());

    // Early stopping without a validation split.
    let cfg = dir.path().join("novalid.toml");
    std::fs::write(&cfg, "[split]\nvalid_frac = 0.0\n").unwrap();
    let o = run(&[
        "train",
        "--config",
        s(&cfg),
        "--task",
        &tiny,
        "--patience",
        "2",
        "--out",
        s(&out),
    ]);
    assert_clean_failure(&o, &["--patience needs a validation split"]);
    assert!(!out.exists());
}

/// A pretraining config on `corpus` (a tiny T5; the values do not matter to the checks).
fn pretrain_config(dir: &Path, corpus: &Path) -> PathBuf {
    let cfg = dir.join("pretrain.toml");
    std::fs::write(
        &cfg,
        format!(
            "name = \"tiny\"\nout = \"unused\"\nseed = 0\nsteps = 4\nbatch_size = 2\n\
             checkpoint_every = 2\nlog_every = 1\ntokenizer = \"nucleotide\"\n\n[data]\n\
             corpus = \"{}\"\nboth_strands = true\nmax_n_fraction = 0.05\nshuffle_buffer = 8\n\n\
             [objective]\nencoder_length = 48\nnoise_density = 0.15\nmean_span = 3.0\n\
             span_unit = \"nucleotides\"\n\n[optim]\nlr = 2e-3\nweight_decay = 0.01\n\
             warmup_steps = 1\ndecay = \"inverse_sqrt\"\ngrad_clip_norm = 1.0\n\n[t5]\n\
             d_model = 32\nd_kv = 8\nnum_heads = 2\nd_ff = 64\nnum_layers = 1\n\
             num_decoder_layers = 1\ndropout_rate = 0.0\n",
            corpus.display()
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn pretraining_inputs_are_checked_before_the_run_directory_exists() {
    let dir = tempfile::tempdir().unwrap();
    // Records shorter than one window.
    let short = dir.path().join("short.fa");
    write_fasta(&short, &[("a".into(), "ACGT".repeat(5))]);
    let cfg = pretrain_config(dir.path(), &short);
    let out = dir.path().join("pt");
    let o = run(&["pretrain", "--config", s(&cfg), "--out", s(&out)]);
    assert_clean_failure(&o, &[s(&short), "no window of"]);
    assert!(!out.exists(), "a refused pretraining leaves no directory");
    // Zero steps from the command line.
    let long = dir.path().join("long.fa");
    write_fasta(&long, &[("a".into(), "ACGTTGCAAC".repeat(100))]);
    let cfg = pretrain_config(dir.path(), &long);
    let o = run(&[
        "pretrain",
        "--config",
        s(&cfg),
        "--out",
        s(&out),
        "--steps",
        "0",
    ]);
    assert_clean_failure(&o, &["steps", "must be positive"]);
    assert!(!out.exists());
}
