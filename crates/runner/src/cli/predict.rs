//! `strand predict`: a finished run's outputs for new sequences or variants, as a TSV on
//! standard output or in `--out` (written whole or not at all).

use crate::cli::args::PredictArgs;
use crate::infer::inputs::{self, Input};
use crate::infer::loaded::LoadedRun;
use crate::infer::predict::{PredictOptions, predict};
use crate::infer::variants::predict_variants;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;

pub fn run(args: PredictArgs) -> Result<()> {
    if let Some(out) = &args.out
        && out.exists()
        && !args.overwrite
    {
        bail!(
            "{} exists; pass --overwrite to replace it, or choose another --out",
            out.display()
        );
    }
    // --init hf:DIR: the published model as a run in a temporary directory.
    let tmp = tempfile::tempdir()?;
    let run_dir = match args.hf.experiment(None) {
        Some(exp) => {
            crate::run::hf::untrained_run(&exp, tmp.path(), true, false)?;
            tmp.path().to_path_buf()
        }
        None => args.run.clone().context("--run DIR or --init hf:DIR")?,
    };
    let run = LoadedRun::open(&run_dir, args.device.as_deref())?;
    let opts = PredictOptions {
        batch_size: args.batch_size,
        rc_average: args.rc_average,
    };
    let window = args.window.or_else(|| task_length(&run));
    let reference = || {
        args.reference
            .clone()
            .context("--bed and --variants need --reference GENOME")
    };
    let write = |out: &mut dyn Write| -> Result<String> {
        if let Some(vcf) = &args.variants {
            let Some(w) = window else {
                bail!(
                    "--variants needs --window BASES: the task of {} has no fixed sequence length",
                    run_dir.display()
                );
            };
            let s = predict_variants(&run, vcf, &reference()?, w, out, opts)?;
            return Ok(format!(
                "{} variants ({} alleles that are not SNVs skipped) in {:.1} s",
                s.variants, s.skipped, s.seconds
            ));
        }
        let input = match (&args.fasta, &args.csv, &args.tsv, &args.bed) {
            (Some(f), ..) => Input::Fasta(f.clone()),
            (_, Some(c), ..) => Input::Table {
                path: c.clone(),
                delimiter: b',',
            },
            (_, _, Some(t), _) => Input::Table {
                path: t.clone(),
                delimiter: b'\t',
            },
            (.., Some(b)) => Input::Bed {
                path: b.clone(),
                reference: reference()?,
                window,
            },
            _ => Input::Stdin,
        };
        let s = predict(&run, inputs::open(&input)?, out, opts)?;
        let mut msg = format!(
            "{} records in {:.1} s ({:.0} records/s)",
            s.records,
            s.seconds,
            s.rate()
        );
        if s.cropped > 0 {
            msg.push_str(&format!(
                "; {} longer than the model's input were cropped to it ({} tokens)",
                s.cropped,
                run.format().max_len()
            ));
        }
        Ok(msg)
    };
    let msg = match &args.out {
        None => write(&mut std::io::stdout().lock())?,
        Some(path) => write_atomically(path, write)?,
    };
    tracing::info!(
        "{msg}{}",
        if args.rc_average {
            " (mean of both strands)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Runs `fill` on a temporary file beside `path`, renamed to `path` only when it succeeds.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<String>,
) -> Result<String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut w = std::io::BufWriter::new(tmp);
    let msg = fill(&mut w)?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    crate::engine::checkpoint::persist(tmp, path)?;
    Ok(msg)
}

/// The task's fixed sequence length in bases, when its card says all sequences share one.
fn task_length(run: &LoadedRun) -> Option<usize> {
    let card = strand_data::registry::card(&run.cfg.task).ok()?;
    let len = card.length?;
    (len.min == len.max).then_some(len.max)
}
