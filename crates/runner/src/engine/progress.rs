//! Progress bars (indicatif) on standard error; hidden when it is not a terminal (tests, logs).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A bar of `len` batches labelled `msg` (a counter when the length is unknown).
pub fn bar(len: Option<u64>, msg: impl Into<String>) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(len, target);
    let template = if len.is_some() {
        "{msg:>14} [{bar:30}] {pos}/{len} batches {elapsed}<{eta} {per_sec} {prefix}"
    } else {
        "{msg:>14} {pos} batches {elapsed} {per_sec} {prefix}"
    };
    pb.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(msg.into());
    pb
}
