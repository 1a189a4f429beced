//! `strand fetch TASK|SUITE [--cache DIR] [--mirror URL] [--reference] [--data-dir DIR]`:
//! downloads into the cache with a progress bar; the work is done by `strand_data::fetch`.

use crate::cli::args::FetchArgs;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use strand_data::cache::default_cache_dir;
use strand_data::fetch::{FetchOptions, Fetcher, Progress, Status, Target};

pub fn run(args: FetchArgs) -> anyhow::Result<()> {
    let target = Target::parse(&args.target)?;
    if args.reference && !matches!(target, Target::Gb(_) | Target::GbAll) {
        bail!(
            "--reference applies to Genomic Benchmarks targets (gb, gb/<dataset>); \
             use `strand fetch reference/<genome>` for a genome alone"
        );
    }
    let cache = args.cache.clone().unwrap_or_else(default_cache_dir);
    let mut opts = FetchOptions::new(&cache);
    if let Some(mirror) = &args.mirror {
        opts = opts.with_mirror(mirror)?;
    }
    opts.data_dir = args.data_dir.clone();
    let mut bar = BarProgress::default();
    let fetched = {
        let mut fetcher = Fetcher::new(opts, &mut bar)?;
        fetcher
            .fetch(&target, args.reference)
            .with_context(|| format!("strand fetch {}", args.target))?
    };
    bar.end();
    for f in &fetched {
        let status = match f.status {
            Status::Installed => "installed",
            Status::AlreadyPresent => "present",
        };
        println!("{status:<9}  {:<44}  {}", f.target, f.path.display());
    }
    Ok(())
}

/// Draws one indicatif bar per transfer on standard error (hidden when it is not a terminal).
#[derive(Default)]
struct BarProgress {
    bar: Option<ProgressBar>,
}

impl Progress for BarProgress {
    fn begin(&mut self, label: &str, total: Option<u64>, offset: u64) {
        self.end();
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{msg:32!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("valid progress template")
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg:32!} {bytes} {bytes_per_sec}")
                    .expect("valid progress template"),
            ),
        };
        bar.set_position(offset);
        bar.set_message(label.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn note(&mut self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| tracing::info!("{message}")),
            None => tracing::info!("{message}"),
        }
    }
}
