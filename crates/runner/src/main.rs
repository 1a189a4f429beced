//! The `strand` binary: parses the command line and dispatches. Nothing else lives here.

mod accumulate;
mod backend;
mod batch;
mod bench;
mod binned;
mod checkpoint;
mod cli;
mod clip;
mod config;
mod corpus;
mod data_cmd;
mod eval;
mod fetch_cmd;
#[cfg(test)]
mod finetune_tests;
mod fit;
mod interrupt;
mod model_preset;
mod plot;
mod predictions;
mod pretrain;
mod pretrain_examples;
mod progress;
mod quickstart;
mod report;
mod run_dir;
mod schedule;
mod subtasks;
mod sweep;
mod t5_job;
mod task_data;
mod tasks;
mod tokenizer_cmd;
mod train;
mod train_checkpoint;
mod trainer;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tasks(a) => tasks::run(a),
        Command::Data(c) => data_cmd::run(c),
        Command::Fetch(a) => fetch_cmd::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Report(a) => report::run(a),
        Command::Pretrain(a) => pretrain::run(a),
        Command::Tokenizer(c) => tokenizer_cmd::run(c),
        Command::Sweep(a) => sweep::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Quickstart(a) => quickstart::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<interrupt::Interrupted>().is_some() {
                std::process::ExitCode::from(interrupt::EXIT_CODE)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}

/// Logs go to standard error, filtered by `RUST_LOG` (default `info`).
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
