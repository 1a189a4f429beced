//! Crash-safe training, end to end: a run killed with SIGKILL at arbitrary points (and stopped
//! with Ctrl-C) and resumed finishes with exactly the per-step losses, epoch lines and scores of
//! an uninterrupted run; non-finite losses stop the run (or are skipped) keeping the last good
//! checkpoint.

mod common;

use common::{assert_clean_failure, run_with_nan_at, strand, tiny_task};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// Batches per epoch of the task below: 2 × 600 records, 80% train, batch 16.
const STEPS_PER_EPOCH: u64 = 60;

fn train_args(task: &str, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "train",
        "--task",
        task,
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--seed",
        "3",
        "--checkpoint-every",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn spawn(args: &[String]) -> Child {
    strand()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning strand")
}

fn finish(args: &[String]) -> Output {
    let out = strand().args(args).output().expect("running strand");
    assert!(
        out.status.success(),
        "strand failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Batches consumed by each checkpoint now in `run` (from the directory names).
fn checkpoints(run: &Path) -> Vec<u64> {
    let Ok(rd) = std::fs::read_dir(run.join("checkpoints")) else {
        return vec![];
    };
    rd.filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_prefix("ckpt-")?.split('-').next()?.parse().ok()
        })
        .collect()
}

/// Sends SIGINT (Ctrl-C) to `child` and waits for it to exit.
fn interrupt(child: Child) -> Output {
    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

/// Polls until `done()`, then returns; panics if the run ends first (saying it waited for
/// `what`) or after two minutes.
fn wait_for(child: &mut Child, what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    loop {
        if done() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the run ended ({status}) before {what} appeared:\n{err}");
        }
        assert!(start.elapsed() < Duration::from_secs(120), "timed out");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Polls until a checkpoint past `batches` exists.
fn wait_for_checkpoint_past(child: &mut Child, run: &Path, batches: u64) {
    let what = format!("a checkpoint past {batches}");
    wait_for(child, &what, || {
        checkpoints(run).iter().any(|&b| b > batches)
    });
}

/// A step line: `(step, epoch, batch, loss)`; the loss is `None` for a skipped batch.
type StepLine = (u64, u64, u64, Option<f64>);

/// Every step line, and the epoch lines without wall times.
fn metrics(run: &Path) -> (Vec<StepLine>, Vec<Value>) {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let (mut steps, mut epochs) = (vec![], vec![]);
    for line in text.lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if v.get("batch").is_some() {
            steps.push((
                v["step"].as_u64().unwrap(),
                v["epoch"].as_u64().unwrap(),
                v["batch"].as_u64().unwrap(),
                v["loss"].as_f64(),
            ));
        } else {
            v.as_object_mut().unwrap().remove("seconds");
            epochs.push(v);
        }
    }
    (steps, epochs)
}

fn scores(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("scores.json")).unwrap()).unwrap()
}

fn assert_same_run(a: &Path, b: &Path) {
    let (sa, ea) = metrics(a);
    let (sb, eb) = metrics(b);
    assert_eq!(sa.len() as u64, 2 * STEPS_PER_EPOCH);
    // Exact equality: weights and optimizer state are restored bit for bit.
    assert_eq!(sa, sb, "per-step losses differ");
    assert_eq!(ea, eb, "epoch lines differ");
    assert_eq!(scores(a), scores(b), "scores differ");
}

fn leftovers(run: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect()
}

#[test]
fn killed_and_interrupted_runs_resume_to_the_same_losses_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 600);
    let reference = dir.path().join("reference");
    finish(&train_args(&task, &reference, &[]));

    let run = dir.path().join("run");
    // 1. SIGKILL as soon as the first checkpoint exists (mid-epoch 1, possibly mid-write).
    let mut child = spawn(&train_args(&task, &run, &[]));
    wait_for_checkpoint_past(&mut child, &run, 0);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!run.join("scores.json").exists());

    // 2. Resume, then SIGKILL again once epoch 2 has started.
    let mut child = spawn(&train_args(&task, &run, &["--resume"]));
    wait_for_checkpoint_past(&mut child, &run, STEPS_PER_EPOCH);
    child.kill().unwrap();
    child.wait().unwrap();

    // 3. Resume, then Ctrl-C: a checkpoint at the next step boundary, exit code 130, and a
    //    message saying how to resume.
    let mut child = spawn(&train_args(&task, &run, &["--resume"]));
    let before = checkpoints(&run).into_iter().max().unwrap();
    wait_for_checkpoint_past(&mut child, &run, before);
    let out = interrupt(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted at step") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!run.join("scores.json").exists());
    // 4. Resume to the end from the run directory alone (its config.resolved.toml).
    let bare = ["train", "--resume", "--out", run.to_str().unwrap()].map(String::from);
    finish(&bare);
    assert_same_run(&reference, &run);
    assert!(leftovers(&run).is_empty(), "{:?}", leftovers(&run));

    // Resuming a finished run changes nothing; another configuration is refused.
    let before = std::fs::read(run.join("scores.json")).unwrap();
    let out = finish(&train_args(&task, &run, &["--resume"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to resume"));
    assert_eq!(std::fs::read(run.join("scores.json")).unwrap(), before);
    // A finished run resumed with other flags is refused, as an unfinished one is.
    let out = strand()
        .args(train_args(&task, &run, &["--resume", "--lr", "0.01"]))
        .output()
        .unwrap();
    assert_clean_failure(&out, &["--resume", "another configuration"]);
    assert_eq!(std::fs::read(run.join("scores.json")).unwrap(), before);
    let other = dir.path().join("other");
    let mut child = spawn(&train_args(&task, &other, &[]));
    wait_for_checkpoint_past(&mut child, &other, 0);
    child.kill().unwrap();
    child.wait().unwrap();
    let out = strand()
        .args(train_args(&task, &other, &["--resume", "--lr", "0.01"]))
        .output()
        .unwrap();
    assert_clean_failure(&out, &["--resume", "another configuration"]);
}

#[test]
fn a_non_finite_loss_stops_naming_the_step_and_keeps_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 100);
    let run = dir.path().join("run");
    // Batch 7 gets a NaN loss (test hook); checkpoints every 4 steps.
    let out = run_with_nan_at(train_args(&task, &run, &[]), 7);
    assert_clean_failure(
        &out,
        &[
            "not finite",
            "step 7 (epoch 1, batch 7)",
            "ckpt-000000000004-0",
            "--skip-nonfinite",
        ],
    );
    assert!(!run.join("scores.json").exists());
    assert_eq!(
        checkpoints(&run),
        vec![4],
        "the last good checkpoint is kept"
    );
    let (steps, _) = metrics(&run);
    assert_eq!(steps.len(), 6, "steps 1-6 were logged");

    // Resume, skipping the bad batch: it is counted, and the run finishes.
    let out = run_with_nan_at(
        train_args(&task, &run, &["--resume", "--skip-nonfinite"]),
        7,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (steps, epochs) = metrics(&run);
    let skipped: Vec<_> = steps.iter().filter(|s| s.3.is_none()).collect();
    assert_eq!(
        skipped,
        vec![&(6, 1, 7, None)],
        "one skipped batch at batch 7"
    );
    assert_eq!(epochs[0]["skipped"], 1);
    assert_eq!(epochs[1]["skipped"], 0);
    // Batches per epoch: 2 × 100 × 0.8 / 16 = 10: 20 batches, 19 steps.
    assert_eq!(steps.len(), 20);
    assert_eq!(steps.last().unwrap().0, 19);
    assert!(run.join("scores.json").is_file());
}

#[test]
fn resume_of_a_run_stopped_before_its_first_checkpoint_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 100);
    let run = dir.path().join("run");
    let out = run_with_nan_at(train_args(&task, &run, &[]), 1);
    assert_clean_failure(
        &out,
        &["step 1 (epoch 1, batch 1)", "no checkpoint was written yet"],
    );
    assert!(checkpoints(&run).is_empty());
    // Without --resume the partial directory is refused; with it, the run starts over.
    let out = strand()
        .args(train_args(&task, &run, &[]))
        .output()
        .unwrap();
    assert_clean_failure(&out, &["unfinished run", "--resume", "--overwrite"]);
    finish(&train_args(&task, &run, &["--resume"]));
    let reference = dir.path().join("reference");
    finish(&train_args(&task, &reference, &[]));
    let (a, _) = metrics(&run);
    let (b, _) = metrics(&reference);
    assert_eq!(a, b);
    assert_eq!(scores(&run), scores(&reference));
}

/// A pretraining config for a tiny T5 on a generated FASTA corpus in `dir`; 60 steps, a
/// checkpoint every 4 (all kept).
fn pretrain_config(dir: &Path) -> PathBuf {
    let corpus = dir.join("corpus.fa");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut text = String::new();
    for r in 0..20 {
        text.push_str(&format!(">chr{r}\n"));
        for _ in 0..600 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.push(b"ACGT"[(x % 4) as usize] as char);
        }
        text.push('\n');
    }
    std::fs::write(&corpus, text).unwrap();
    let cfg = dir.join("pretrain.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"name = "tiny"
out = "{out}"
seed = 5
steps = 60
batch_size = 8
checkpoint_every = 4
keep_checkpoints = 0
log_every = 10
tokenizer = "nucleotide"

[data]
corpus = "{corpus}"
both_strands = true
max_n_fraction = 0.05
shuffle_buffer = 64

[objective]
encoder_length = 48
noise_density = 0.15
mean_span = 3.0
span_unit = "nucleotides"

[optim]
lr = 2e-3
weight_decay = 0.01
warmup_steps = 5
decay = "inverse_sqrt"
grad_clip_norm = 1.0

[t5]
d_model = 64
d_kv = 16
num_heads = 4
d_ff = 128
num_layers = 2
num_decoder_layers = 2
dropout_rate = 0.0
"#,
            out = dir.join("unused").display(),
            corpus = corpus.display()
        ),
    )
    .unwrap();
    cfg
}

fn pretrain_args(cfg: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["pretrain", "--config", cfg.to_str().unwrap(), "--out"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.push(out.to_str().unwrap().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Steps of the `checkpoints/step-N` directories of a pretraining run.
fn pretrain_checkpoints(out: &Path) -> Vec<u64> {
    let Ok(rd) = std::fs::read_dir(out.join("checkpoints")) else {
        return vec![];
    };
    rd.filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("step-")?
                .parse()
                .ok()
        })
        .collect()
}

fn wait_for_pretrain_checkpoint_past(child: &mut Child, out: &Path, step: u64) {
    let what = format!("a checkpoint past step {step}");
    wait_for(child, &what, || {
        pretrain_checkpoints(out).iter().any(|&s| s > step)
    });
}

/// `(step, loss, lr)` of every line of a pretraining run's `metrics.jsonl`.
fn pretrain_losses(out: &Path) -> Vec<(u64, f64, f64)> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["step"].as_u64().unwrap(),
                v["loss"].as_f64().unwrap(),
                v["lr"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn killed_and_interrupted_pretraining_resumes_to_the_same_losses() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = pretrain_config(dir.path());
    let reference = dir.path().join("reference");
    finish(&pretrain_args(&cfg, &reference, &[]));
    let want = pretrain_losses(&reference);
    assert_eq!(want.len(), 60);

    let run = dir.path().join("run");
    // SIGKILL once a checkpoint past step 8 exists.
    let mut child = spawn(&pretrain_args(&cfg, &run, &[]));
    wait_for_pretrain_checkpoint_past(&mut child, &run, 8);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!run.join("summary.json").exists());

    // Resume, then Ctrl-C: a checkpoint at the step boundary, exit 130, the resume command.
    let mut child = spawn(&pretrain_args(&cfg, &run, &["--resume"]));
    let before = pretrain_checkpoints(&run).into_iter().max().unwrap();
    wait_for_pretrain_checkpoint_past(&mut child, &run, before);
    let out = interrupt(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted at step")
            && stderr.contains("strand pretrain --config")
            && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!run.join("summary.json").exists());
    finish(&pretrain_args(&cfg, &run, &["--resume"]));
    // Exact equality: weights, AdamW state and the example stream are restored bit for bit.
    assert_eq!(pretrain_losses(&run), want, "per-step losses differ");
}

#[test]
fn a_second_process_on_a_running_run_is_refused_until_the_first_dies() {
    let dir = tempfile::tempdir().unwrap();
    let task = tiny_task(dir.path(), 600);
    let run = dir.path().join("run");
    let mut first = spawn(&train_args(&task, &run, &[]));
    wait_for_checkpoint_past(&mut first, &run, 0);
    let pid = first.id().to_string();
    // Following the advice a second process would get (--resume / --overwrite) is refused
    // while the first runs, naming it, and deletes nothing.
    for flag in ["--resume", "--overwrite"] {
        let out = strand()
            .args(train_args(&task, &run, &[flag]))
            .output()
            .unwrap();
        assert_clean_failure(&out, &["in use by pid", &pid]);
        assert!(
            run.join("config.resolved.toml").is_file(),
            "{flag} deleted the run"
        );
    }
    first.kill().unwrap(); // SIGKILL releases the lock with the process
    first.wait().unwrap();
    finish(&train_args(&task, &run, &["--resume"]));
    assert!(run.join("scores.json").is_file());
}

/// `--bases N`: the run takes the steps that cover N bases at the planned bases per example
/// (kept tokens × bases per token; the window for nucleotide-space masking), and says so in
/// `summary.json`; `--steps` and `--bases` exclude each other.
#[test]
fn a_pretraining_budget_in_bases_sets_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = pretrain_config(dir.path());
    let run = dir.path().join("bases");
    finish(&pretrain_args(&cfg, &run, &["--bases", "3000"]));
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("plan.json")).unwrap()).unwrap();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    // The config masks in nucleotide space with single-base tokens: an example is its window.
    let per_example = plan["window_bases"].as_f64().unwrap();
    assert_eq!(summary["bases_per_example"].as_f64().unwrap(), per_example);
    let steps = (3000.0 / (8.0 * per_example)).ceil() as u64;
    assert!(steps > 1 && steps < 60, "{steps}");
    assert_eq!(summary["steps"].as_u64().unwrap(), steps);
    assert_eq!(pretrain_losses(&run).len() as u64, steps);
    let seen = summary["bases_seen"].as_f64().unwrap();
    assert!(
        (3000.0..3000.0 + 8.0 * per_example).contains(&seen),
        "{seen}"
    );
    let both = strand()
        .args(pretrain_args(
            &cfg,
            &dir.path().join("both"),
            &["--bases", "3000", "--steps", "5"],
        ))
        .output()
        .unwrap();
    assert!(!both.status.success());
    let err = String::from_utf8_lossy(&both.stderr);
    assert!(err.contains("--bases") && err.contains("--steps"), "{err}");
}
