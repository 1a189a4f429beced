//! Writing a task's splits for other tools (`strand data export`): the Genomic Benchmarks native
//! layout, FASTA, CSV, TSV or Parquet, one module per format.
//!
//! ```text
//! <to>/<dataset>/train.<ext>, valid.<ext>, test.<ext>   one file per split (gb: one folder)
//! <to>/<dataset>/card.json                              the task card, as strand has it
//! <to>/<dataset>/split.json                             files, counts, and how splits were made
//! ```
//!
//! Every table has the columns `id`, `sequence`, `label` (+ `label_index` for classes; see
//! [`columns`]). The splits are the ones strand trains and scores on: the publisher's, plus
//! those strand derives ([`crate::split::derive`]); `split.json` records which were derived and
//! the [`SplitPlan`] (seed, fractions) that made them. The `gb` format keeps the publisher's
//! splits (the layout upstream's package reads) unless the publisher ships no test split.
//!
//! Writing is safe: everything goes to a temporary folder beside the destination, renamed into
//! place at the end; a failure leaves nothing behind, and a non-empty destination is only
//! replaced when asked to. Records are streamed: memory holds one Parquet row group at most, and
//! 16 bytes per record id (to refuse duplicate ids).

pub mod columns;
mod delimited;
mod fasta;
mod gb;
pub mod manifest;
#[cfg(feature = "parquet")]
mod parquet;

pub use columns::{Cells, LabelColumns};
pub use manifest::{Manifest, SplitSummary};

use crate::split::SplitPlan;
use crate::{DataError, LabelKind, OpenOptions, Record, Result, Source, Split};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The file formats `strand data export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Genomic Benchmarks native layout: `<split>/<class>/<id>.txt`.
    Gb,
    Fasta,
    Csv,
    Tsv,
    /// Apache Parquet (needs the `parquet` cargo feature).
    Parquet,
}

impl ExportFormat {
    /// Whether this build can write Parquet (cargo feature `parquet`).
    pub const PARQUET_BUILT: bool = cfg!(feature = "parquet");

    pub fn as_str(&self) -> &'static str {
        match self {
            ExportFormat::Gb => "gb",
            ExportFormat::Fasta => "fasta",
            ExportFormat::Csv => "csv",
            ExportFormat::Tsv => "tsv",
            ExportFormat::Parquet => "parquet",
        }
    }

    /// The file (or, for `gb`, the folder) a split is written to.
    ///
    /// ```
    /// use strand_data::{Split, export::ExportFormat};
    /// assert_eq!(ExportFormat::Parquet.file_name(Split::Valid), "valid.parquet");
    /// assert_eq!(ExportFormat::Gb.file_name(Split::Test), "test");
    /// ```
    pub fn file_name(&self, split: Split) -> String {
        match self {
            ExportFormat::Gb => split.as_str().to_string(),
            ExportFormat::Fasta => format!("{split}.fa"),
            other => format!("{split}.{}", other.as_str()),
        }
    }
}

impl FromStr for ExportFormat {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "gb" => Ok(ExportFormat::Gb),
            "fasta" | "fa" => Ok(ExportFormat::Fasta),
            "csv" => Ok(ExportFormat::Csv),
            "tsv" => Ok(ExportFormat::Tsv),
            "parquet" => Ok(ExportFormat::Parquet),
            other => Err(DataError::Invalid(format!(
                "unknown export format {other:?} (expected gb, fasta, csv, tsv or parquet)"
            ))),
        }
    }
}

/// What to write and where.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// Folder name under the output root (a plain file name).
    pub dataset: String,
    /// Replace a non-empty destination folder.
    pub overwrite: bool,
}

/// Which splits of a source were published and which strand derived, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// The splits the publisher ships.
    pub published: Vec<Split>,
    /// The splits strand made (a derived train is a subset of the publisher's train or pool).
    pub derived: Vec<Split>,
    /// The plan that derived them; `None` when nothing was derived.
    pub plan: Option<SplitPlan>,
}

/// Opens `spec` for export in `format`: the publisher's splits plus those strand derives by
/// `opts.plan` (the `gb` format: the publisher's splits only, when they include a test split).
pub fn open_for_export(
    spec: &str,
    opts: &OpenOptions,
    format: ExportFormat,
) -> Result<(Box<dyn Source>, Provenance)> {
    let raw = crate::open_raw(spec, opts)?;
    let published = raw.splits();
    if format == ExportFormat::Gb && published.contains(&Split::Test) {
        let provenance = Provenance {
            published,
            derived: vec![],
            plan: None,
        };
        return Ok((raw, provenance));
    }
    let source = crate::split::derive(raw, &opts.plan)?;
    let now = source.splits();
    // `derive` returns the source unchanged when it has nothing to make; otherwise train is
    // re-cut too.
    let derived: Vec<Split> = if now == published {
        vec![]
    } else {
        now.iter()
            .copied()
            .filter(|s| *s == Split::Train || !published.contains(s))
            .collect()
    };
    let plan = (!derived.is_empty()).then(|| opts.plan.clone());
    Ok((
        source,
        Provenance {
            published,
            derived,
            plan,
        },
    ))
}

/// The default folder name of a task spec's export: its last path component, `:` and `=`
/// replaced by `_`.
///
/// ```
/// use strand_data::export::dataset_name;
/// assert_eq!(dataset_name("gb/human_nontata_promoters"), "human_nontata_promoters");
/// assert_eq!(dataset_name("csv:data/my.csv"), "my.csv");
/// ```
pub fn dataset_name(spec: &str) -> String {
    spec.rsplit('/')
        .next()
        .unwrap_or(spec)
        .replace([':', '='], "_")
}

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// The dataset folder, `<to>/<dataset>`.
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// One split being written.
pub(crate) trait SplitWriter {
    fn write(&mut self, record: &Record) -> Result<()>;
    /// Flushes and closes the file(s).
    fn finish(self: Box<Self>) -> Result<()>;
}

fn open_writer(
    format: ExportFormat,
    path: &Path,
    labels: &LabelColumns,
) -> Result<Box<dyn SplitWriter>> {
    Ok(match format {
        ExportFormat::Gb => Box::new(gb::Native::create(path, labels)?),
        ExportFormat::Fasta => Box::new(fasta::Fasta::create(path, labels)?),
        ExportFormat::Csv => Box::new(delimited::Delimited::create(path, b',', labels)?),
        ExportFormat::Tsv => Box::new(delimited::Delimited::create(path, b'\t', labels)?),
        #[cfg(feature = "parquet")]
        ExportFormat::Parquet => Box::new(parquet::Parquet::create(path, labels)?),
        #[cfg(not(feature = "parquet"))]
        ExportFormat::Parquet => return Err(parquet_missing()),
    })
}

/// The error of a build without the `parquet` feature.
#[cfg(not(feature = "parquet"))]
fn parquet_missing() -> DataError {
    DataError::Invalid(
        "this strand was built without Parquet support: rebuild with the `parquet` cargo \
         feature (it is in the default build: `cargo build --release`; with \
         --no-default-features add `--features parquet`), or export with --format csv"
            .into(),
    )
}

/// Writes every split of `source` to `<to>/<dataset>/` in `opts.format`, with `card.json` and
/// `split.json` beside the files. Refuses a non-empty destination unless `opts.overwrite`; a
/// failure (a bad or duplicate record, a full disk) leaves the destination as it was. Errors name
/// the destination's files, never the temporary folder.
pub fn export(
    source: &dyn Source,
    provenance: &Provenance,
    to: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary> {
    #[cfg(not(feature = "parquet"))]
    if opts.format == ExportFormat::Parquet {
        return Err(parquet_missing());
    }
    let card = source.card();
    if opts.format == ExportFormat::Gb {
        gb::class_folders(card)?;
    }
    let dataset = crate::paths::component(&opts.dataset, "dataset name")?;
    let dest = to.join(dataset);
    check_destination(&dest, opts.overwrite)?;
    std::fs::create_dir_all(to).map_err(|e| DataError::io(to, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{dataset}.part-"))
        .tempdir_in(to)
        .map_err(|e| DataError::io(to, e))?;
    // On error `tmp` is dropped, which removes it: nothing half-written stays behind.
    let manifest = write_dataset(source, provenance, tmp.path(), &dest, opts.format)
        .map_err(|e| relocate(e, tmp.path(), &dest))?;
    install(tmp, &dest)?;
    Ok(ExportSummary {
        dir: dest,
        manifest,
    })
}

/// Refuses a destination that is a file, or a non-empty folder without `overwrite`.
fn check_destination(dest: &Path, overwrite: bool) -> Result<()> {
    if !dest.exists() {
        return Ok(());
    }
    if !dest.is_dir() {
        return Err(DataError::Invalid(format!(
            "{} exists and is not a folder; refusing to overwrite",
            dest.display()
        )));
    }
    let non_empty = std::fs::read_dir(dest)
        .map_err(|e| DataError::io(dest, e))?
        .next()
        .is_some();
    if non_empty && !overwrite {
        return Err(DataError::Invalid(format!(
            "{} exists and is not empty; refusing to overwrite (pass --overwrite to replace it, \
             or choose another --to)",
            dest.display()
        )));
    }
    Ok(())
}

/// Renames the finished `tmp` to `dest`, replacing what is there (moved aside first, removed
/// after; put back if the rename fails).
fn install(tmp: tempfile::TempDir, dest: &Path) -> Result<()> {
    let staged = tmp.keep();
    let old = if dest.exists() {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = dest.with_file_name(format!(".{name}.old-{}", std::process::id()));
        std::fs::rename(dest, &old).map_err(|e| DataError::io(dest, e))?;
        Some(old)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&staged, dest) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, dest);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(DataError::io(dest, e));
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(&old).map_err(|e| DataError::io(&old, e))?;
    }
    Ok(())
}

/// `e` with paths inside the temporary folder `tmp` replaced by the same paths under `dest`.
fn relocate(e: DataError, tmp: &Path, dest: &Path) -> DataError {
    let fix = |p: PathBuf| match p.strip_prefix(tmp) {
        Ok(rest) if rest.as_os_str().is_empty() => dest.to_path_buf(),
        Ok(rest) => dest.join(rest),
        Err(_) => p,
    };
    match e {
        DataError::Io { path, source } => DataError::Io {
            path: fix(path),
            source,
        },
        DataError::BadRecord {
            path,
            record,
            message,
        } => DataError::BadRecord {
            path: fix(path),
            record,
            message,
        },
        DataError::BadFile { path, message } => DataError::BadFile {
            path: fix(path),
            message,
        },
        DataError::Write { path, message } => DataError::Write {
            path: fix(path),
            message,
        },
        other => other,
    }
}

/// A 128-bit digest of a record id (two SipHash passes): what the duplicate check keeps.
fn id_key(id: &str) -> u128 {
    let mut a = DefaultHasher::new();
    id.hash(&mut a);
    let mut b = DefaultHasher::new();
    (0x5eed_u32, id).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// Writes the splits, `card.json` and `split.json` into `dir` (the temporary folder of `dest`).
fn write_dataset(
    source: &dyn Source,
    provenance: &Provenance,
    dir: &Path,
    dest: &Path,
    format: ExportFormat,
) -> Result<Manifest> {
    let card = source.card();
    let labels = LabelColumns::of(&card.labels);
    let class_names = match &card.labels {
        LabelKind::Classes { names } => names.as_slice(),
        _ => &[],
    };
    let mut splits = Vec::new();
    for split in source.splits() {
        let file = format.file_name(split);
        let mut writer = open_writer(format, &dir.join(&file), &labels)?;
        let mut seen: HashSet<u128> = HashSet::new();
        let mut per_class = vec![0u64; class_names.len()];
        let mut records = 0u64;
        for record in source.records(split)? {
            let record = record?;
            if !seen.insert(id_key(&record.id)) {
                return Err(DataError::BadRecord {
                    path: dest.join(&file),
                    record: record.id,
                    message: format!(
                        "a second record with this id in split {split} (ids must be unique \
                         within a split)"
                    ),
                });
            }
            writer.write(&record)?;
            records += 1;
            if let Some(n) = record
                .label
                .class()
                .and_then(|c| per_class.get_mut(c as usize))
                && !class_names.is_empty()
            {
                *n += 1;
            }
        }
        writer.finish()?;
        splits.push(SplitSummary {
            split,
            file,
            records,
            derived: provenance.derived.contains(&split),
            classes: class_names.iter().cloned().zip(per_class).collect(),
        });
    }
    let manifest = Manifest {
        task: card.name.clone(),
        format: format.as_str().to_string(),
        columns: match format {
            ExportFormat::Gb | ExportFormat::Fasta => vec![],
            _ => labels.names().iter().map(|s| s.to_string()).collect(),
        },
        published_splits: provenance.published.clone(),
        split_plan: provenance.plan.clone(),
        splits,
        strand_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    manifest::write_json(&dir.join("card.json"), card)?;
    manifest::write_json(&dir.join("split.json"), &manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests;
