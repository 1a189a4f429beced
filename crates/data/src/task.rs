//! Task specs (`cnnprom/ecoli`, `gb/human_nontata_promoters`, `fasta:pos=a.fa,neg=b.fa`, …) and
//! opening them into a [`Source`] with every split strand needs.

use crate::source::{self, Source};
use crate::split::SplitPlan;
use crate::{DataError, Result};
use std::path::PathBuf;

/// A parsed task spec.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskSpec {
    /// A built-in task by name: `cnnprom/ecoli`, `gb/<dataset>`, `guanine/<task>`,
    /// `synthetic/promoter`.
    Builtin { suite: String, name: String },
    /// `fasta:NAME=PATH,NAME=PATH,...`: one FASTA per class, classes in the order given.
    FastaClasses { classes: Vec<(String, PathBuf)> },
    /// `csv:PATH` / `tsv:PATH`: a table with a header and `sequence,label` columns (optionally
    /// `split`, `id`).
    Table { path: PathBuf, delimiter: u8 },
}

impl TaskSpec {
    /// Parses a spec string.
    ///
    /// ```
    /// use strand_data::TaskSpec;
    /// let s = TaskSpec::parse("fasta:promoter=p.fa,non_promoter=n.fa").unwrap();
    /// assert!(matches!(s, TaskSpec::FastaClasses { ref classes } if classes.len() == 2));
    /// assert!(TaskSpec::parse("cnnprom/ecoli").is_ok());
    /// assert!(TaskSpec::parse("nonsense").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<Self> {
        if let Some(rest) = spec.strip_prefix("fasta:") {
            let mut classes = Vec::new();
            for part in rest.split(',').filter(|p| !p.is_empty()) {
                let (name, path) = part.split_once('=').ok_or_else(|| {
                    DataError::UnknownTask(format!(
                        "bad task spec {spec:?}: expected fasta:NAME=PATH,NAME=PATH (got {part:?})"
                    ))
                })?;
                if name.is_empty() || path.is_empty() {
                    return Err(DataError::UnknownTask(format!(
                        "bad task spec {spec:?}: empty class name or path in {part:?}"
                    )));
                }
                if classes.iter().any(|(n, _)| n == name) {
                    return Err(DataError::UnknownTask(format!(
                        "bad task spec {spec:?}: class {name:?} given twice"
                    )));
                }
                classes.push((name.to_string(), PathBuf::from(path)));
            }
            if classes.len() < 2 {
                return Err(DataError::UnknownTask(format!(
                    "bad task spec {spec:?}: a classification task needs at least two classes"
                )));
            }
            return Ok(TaskSpec::FastaClasses { classes });
        }
        if let Some(path) = spec.strip_prefix("csv:") {
            return Ok(TaskSpec::Table {
                path: PathBuf::from(path),
                delimiter: b',',
            });
        }
        if let Some(path) = spec.strip_prefix("tsv:") {
            return Ok(TaskSpec::Table {
                path: PathBuf::from(path),
                delimiter: b'\t',
            });
        }
        if let Some((suite, name)) = spec.split_once('/')
            && !name.is_empty()
            && !name.contains('/')
        {
            let suite = match suite {
                "genomic_benchmarks" => "gb",
                s => s,
            };
            if ["gb", "guanine", "cnnprom", "synthetic"].contains(&suite) {
                return Ok(TaskSpec::Builtin {
                    suite: suite.to_string(),
                    name: name.to_string(),
                });
            }
        }
        Err(DataError::UnknownTask(format!(
            "unknown task {spec:?}: expected a built-in task (see `strand tasks`), \
             fasta:NAME=PATH,..., csv:PATH or tsv:PATH"
        )))
    }
}

/// Where to find data and how to derive missing splits.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Directory holding the suite's files (`--data-dir`); `None` means the cache directory.
    pub data_dir: Option<PathBuf>,
    /// Reference genome (FASTA, plain or bgzip, indexed on demand) for interval-based tasks.
    pub reference: Option<PathBuf>,
    /// How to derive splits the publisher does not provide.
    pub plan: SplitPlan,
}

/// Opens a task spec into a source that provides train, valid and test splits (derived by
/// `opts.plan` where the publisher has none).
pub fn open(spec: &str, opts: &OpenOptions) -> Result<Box<dyn Source>> {
    crate::split::derive(open_raw(spec, opts)?, &opts.plan)
}

/// Opens a task spec with only the splits its publisher ships (nothing derived): what
/// `strand data stats` counts and `strand data export --format gb` writes.
pub fn open_raw(spec: &str, opts: &OpenOptions) -> Result<Box<dyn Source>> {
    let parsed = TaskSpec::parse(spec)?;
    let raw: Box<dyn Source> = match &parsed {
        TaskSpec::FastaClasses { classes } => {
            Box::new(source::fasta_classes::FastaClasses::open(spec, classes)?)
        }
        TaskSpec::Builtin { suite, name } if suite == "cnnprom" => {
            let dir = opts
                .data_dir
                .clone()
                .unwrap_or_else(|| crate::cache::default_cache_dir().join("cnnprom"));
            Box::new(source::fasta_classes::FastaClasses::cnnprom(
                &format!("cnnprom/{name}"),
                &dir,
            )?)
        }
        TaskSpec::Builtin { suite, name } if suite == "synthetic" => Box::new(
            source::synthetic::Synthetic::open(&format!("synthetic/{name}"))?,
        ),
        TaskSpec::Builtin { suite, name } if suite == "gb" => source::gb::open(name, opts)?,
        TaskSpec::Builtin { suite, name } if suite == "guanine" => {
            source::guanine::open_builtin(name, opts)?
        }
        TaskSpec::Table { path, delimiter } => {
            Box::new(source::table::Table::open(path, *delimiter, spec)?)
        }
        TaskSpec::Builtin { suite, .. } => {
            // `TaskSpec::parse` only yields the suites above; kept as an error, not a panic.
            return Err(DataError::UnknownTask(format!(
                "task {spec:?}: unknown suite {suite:?} (expected gb, guanine, cnnprom or synthetic)"
            )));
        }
    };
    Ok(raw)
}
