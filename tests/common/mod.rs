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

/// `../shared/data` beside the repository root, if present; otherwise prints why the calling
/// test is skipped and returns `None`.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir.canonicalize().unwrap())
    } else {
        println!("SKIP {test}: ../shared/data not found beside the repository");
        None
    }
}
