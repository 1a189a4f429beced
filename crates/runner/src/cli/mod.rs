//! The command line: one module per command, each turning its arguments into a library call and
//! printing the result. No training loop or file format lives here.

pub mod args;
pub mod bench;
pub mod data;
pub mod eval;
pub mod export;
pub mod fetch;
pub mod interpret;
pub mod models;
pub mod predict;
pub mod pretrain;
pub mod quickstart;
pub mod report;
pub mod sweep;
pub mod tasks;
pub mod tokenizer;
pub mod train;

pub use args::{Cli, Command};

/// Runs one parsed command.
pub fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Tasks(a) => tasks::run(a),
        Command::Models(c) => models::run(c),
        Command::Data(c) => data::run(c),
        Command::Fetch(a) => fetch::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Predict(a) => predict::run(a),
        Command::Export(a) => export::run(a),
        Command::Interpret(a) => interpret::run(a),
        Command::Report(a) => report::run(a),
        Command::Pretrain(a) => pretrain::run(a),
        Command::Tokenizer(c) => tokenizer::run(c),
        Command::Sweep(a) => sweep::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Quickstart(a) => quickstart::run(a),
    }
}

/// The one-line message of an error and its causes, `: `-separated, each cause left out when the
/// message so far already says it (errors that print their source, like `path: io error`, and
/// also return it as their source would otherwise say it twice).
pub fn error_message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if out.contains(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = anyhow::Error::new(strand_data::DataError::io("/proc/nope", io))
            .context("opening the fetch cache");
        assert_eq!(
            super::error_message(&e),
            "opening the fetch cache: /proc/nope: No such file or directory"
        );
    }
}
