//! The command line: one module per command, each turning its arguments into a library call and
//! printing the result. No training loop or file format lives here.

pub mod args;
pub mod bench;
pub mod data;
pub mod eval;
pub mod fetch;
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
        Command::Data(c) => data::run(c),
        Command::Fetch(a) => fetch::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Report(a) => report::run(a),
        Command::Pretrain(a) => pretrain::run(a),
        Command::Tokenizer(c) => tokenizer::run(c),
        Command::Sweep(a) => sweep::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Quickstart(a) => quickstart::run(a),
    }
}
