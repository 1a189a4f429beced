//! Ctrl-C (SIGINT) handling for training: the first Ctrl-C sets a flag that the training loop
//! reads at each step boundary (it then saves a checkpoint and stops with exit code 130); a
//! second Ctrl-C exits at once.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, the shell convention).
pub const EXIT_CODE: u8 = 130;

/// Installs the handler (once per process; later calls do nothing). Where no handler can be
/// installed (another one is), Ctrl-C keeps its default effect and a warning says so: the run
/// then resumes from its last periodic checkpoint.
pub fn install() {
    INSTALL.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond interrupt: exiting without a checkpoint");
                std::process::exit(EXIT_CODE as i32);
            }
            eprintln!(
                "\ninterrupt: saving a checkpoint at the end of this step (Ctrl-C again to quit now)"
            );
        });
        if let Err(e) = installed {
            tracing::warn!("Ctrl-C will stop training without a checkpoint: {e}");
        }
    });
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// The error a training loop returns after saving its checkpoint on Ctrl-C; `main` maps it to
/// [`EXIT_CODE`].
#[derive(Debug, thiserror::Error)]
#[error("interrupted at step {step}; checkpoint saved in {checkpoint}. Resume with: {resume}")]
pub struct Interrupted {
    pub step: u64,
    pub checkpoint: String,
    pub resume: String,
}

/// The command line of this process with `--resume` added (and `--overwrite` removed), for the
/// message that says how to resume.
pub fn resume_command() -> String {
    command_with_resume(std::env::args().skip(1))
}

/// `strand ARGS… --resume`, each word quoted for a POSIX shell where it needs it.
fn command_with_resume(args: impl Iterator<Item = String>) -> String {
    let mut words: Vec<String> = std::iter::once("strand".to_string())
        .chain(args.filter(|a| a != "--overwrite"))
        .collect();
    if !words.iter().any(|a| a == "--resume") {
        words.push("--resume".into());
    }
    words
        .iter()
        .map(|w| match shlex::try_quote(w) {
            Ok(q) => q.into_owned(),
            // A NUL byte cannot be passed on a command line at all; show it as it is.
            Err(_) => w.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_adds_resume_once_and_quotes() {
        let c = resume_command();
        assert!(c.starts_with("strand"), "{c}");
        assert_eq!(c.matches("--resume").count(), 1, "{c}");
        assert!(!requested());
    }

    #[test]
    fn shell_metacharacters_in_paths_are_quoted() {
        let args = [
            "train",
            "--out",
            "runs/a;b&c|d*(e)",
            "--overwrite",
            "--data-dir",
            "x y",
        ];
        let c = command_with_resume(args.iter().map(|s| s.to_string()));
        let words = shlex::split(&c).unwrap();
        assert_eq!(
            words,
            [
                "strand",
                "train",
                "--out",
                "runs/a;b&c|d*(e)",
                "--data-dir",
                "x y",
                "--resume"
            ]
        );
    }
}
