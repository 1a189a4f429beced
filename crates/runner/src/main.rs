//! The `strand` binary: parses the command line, sets up logging, dispatches to the library and
//! maps errors to exit codes. Nothing else lives here.

use clap::Parser;
use strand_runner::cli::{self, Cli};
use strand_runner::engine::interrupt;

fn main() -> std::process::ExitCode {
    strand_runner::engine::malloc::keep_freed_memory();
    init_tracing();
    match cli::dispatch(Cli::parse().command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::error_message(&e));
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
