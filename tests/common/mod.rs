//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `strand` binary built for this test run.
pub fn strand() -> Command {
    Command::new(env!("CARGO_BIN_EXE_strand"))
}

/// Runs `strand` with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    strand().args(args).output().expect("running strand")
}

/// Runs `strand train` with `args` (the first being `train`) through the library, with the loss
/// of each run's `batch`-th batch (1-based) made NaN (`TrainOptions::poison_batch`); returns what
/// the binary would have: a failure's message on standard error and exit status 1.
pub fn run_with_nan_at<I, S>(args: I, batch: u64) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use clap::Parser;
    use std::os::unix::process::ExitStatusExt;
    use strand_runner::cli::{Cli, Command};
    use strand_runner::run::train::{TrainOptions, train};
    let argv = std::iter::once(std::ffi::OsString::from("strand"))
        .chain(args.into_iter().map(|a| a.as_ref().to_os_string()));
    let Command::Train(a) = Cli::try_parse_from(argv).expect("train flags").command else {
        panic!("run_with_nan_at runs `strand train`")
    };
    let result = strand_runner::cli::train::experiment(&a).and_then(|exp| {
        let opts = TrainOptions {
            overwrite: a.overwrite,
            resume: a.resume,
            skip_nonfinite: a.skip_nonfinite,
            poison_batch: Some(batch),
        };
        train(&exp, opts)
    });
    let (code, stderr) = match result {
        Ok(_) => (0, String::new()),
        Err(e) => (1, format!("error: {e:#}\n")),
    };
    Output {
        status: std::process::ExitStatus::from_raw(code << 8),
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    }
}

/// `../shared/data` beside the repository root, if present; otherwise prints why the calling
/// test is skipped and returns `None`.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir.canonicalize().unwrap())
    } else {
        skip(format_args!(
            "SKIP {test}: ../shared/data not found beside the repository"
        ));
        None
    }
}

/// Writes a FASTA file of `(name, sequence)` records, 60 bases per line.
pub fn write_fasta(path: &std::path::Path, records: &[(String, String)]) {
    let mut text = String::new();
    for (name, seq) in records {
        text.push('>');
        text.push_str(name);
        text.push('\n');
        for chunk in seq.as_bytes().chunks(60) {
            text.push_str(std::str::from_utf8(chunk).unwrap());
            text.push('\n');
        }
    }
    std::fs::write(path, text).unwrap();
}

/// A tiny two-class FASTA task in `dir`: `n` records per class of 64 bp; promoters carry
/// `TATAAA`. Some bases are lower case or IUPAC codes (normalised on reading). Returns the task
/// spec `fasta:promoter=...,background=...`.
pub fn tiny_task(dir: &std::path::Path, n: usize) -> String {
    let mut state = 12345u64;
    let mut base = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        b"ACGT"[(state >> 62) as usize] as char
    };
    let mut pos = Vec::new();
    let mut neg = Vec::new();
    for i in 0..n {
        let mut p: String = (0..64).map(|_| base()).collect();
        p.replace_range(20..26, "TATAAA");
        if i % 5 == 0 {
            p.replace_range(0..3, "acR");
        }
        pos.push((format!("pos{i}"), p));
        neg.push((format!("neg{i}"), (0..64).map(|_| base()).collect()));
    }
    let p = dir.join("promoter.fa");
    let b = dir.join("background.fa");
    write_fasta(&p, &pos);
    write_fasta(&b, &neg);
    format!("fasta:background={},promoter={}", b.display(), p.display())
}

/// Asserts a failed run: non-zero exit, no panic, and stderr containing every `needle`.
pub fn assert_clean_failure(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected a failure; stderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "panicked:\n{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}:\n{stderr}");
    }
}

/// Prints a `SKIP …` line on the process's standard error directly (libtest captures
/// `println!` of passing tests; a skipped test must say why in a passing run too).
fn skip(reason: std::fmt::Arguments) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{reason}");
}
