//! Finding a Genomic Benchmarks dataset on disk and opening it with the right reader.
//!
//! `gb/<dataset>` looks in `--data-dir` (or the cache) for `<dataset>/`, also under `gb/` and
//! `gb_intervals/` (the cache layout of `strand fetch`). A folder whose `train/` holds class
//! folders is the native layout ([`GbNative`]); one with `metadata.yaml` is the interval layout
//! ([`GbIntervals`]), whose sequences are cut from `--reference`.

use super::gb_intervals::{GbIntervals, ReferenceChoice};
use super::gb_native::{GbNative, is_native};
use crate::{DataError, OpenOptions, Result, Source};
use std::path::{Path, PathBuf};

/// Where a dataset was found, and in which layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GbLocation {
    Native(PathBuf),
    Intervals(PathBuf),
}

/// Finds `dataset` under `data_dir` (default: the cache directory). The native layout wins when
/// both exist.
pub fn locate(dataset: &str, data_dir: Option<&Path>) -> Result<GbLocation> {
    let root = data_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(crate::cache::default_cache_dir);
    let candidates = [
        root.join(dataset),
        root.join("gb").join(dataset),
        root.join("gb_intervals").join(dataset),
    ];
    for dir in &candidates {
        if is_native(dir) {
            return Ok(GbLocation::Native(dir.clone()));
        }
    }
    for dir in &candidates {
        if dir.join("metadata.yaml").is_file() {
            return Ok(GbLocation::Intervals(dir.clone()));
        }
    }
    Err(DataError::NotFound {
        what: "Genomic Benchmarks dataset (native <dataset>/train/<class>/, or metadata.yaml + interval files; see `strand fetch`)",
        path: candidates[0].clone(),
    })
}

/// Opens `gb/<dataset>`.
pub fn open(dataset: &str, opts: &OpenOptions) -> Result<Box<dyn Source>> {
    Ok(match locate(dataset, opts.data_dir.as_deref())? {
        GbLocation::Native(dir) => Box::new(GbNative::open(&dir)?),
        GbLocation::Intervals(dir) => {
            let choice = opts
                .reference
                .as_deref()
                .map(ReferenceChoice::parse)
                .transpose()?;
            Box::new(GbIntervals::open(&dir, choice.as_ref())?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::testutil::{bases, fasta_text, shared_dir, write, write_gz};
    use crate::{Label, Split};

    #[test]
    fn open_dispatches_native_intervals_guanine_and_tables() {
        let dir = tempfile::tempdir().unwrap();
        let chr = bases(500, 9);
        let fa = write(&dir.path().join("g.fa"), &fasta_text(&[("1", &chr)], 60));
        let ds = dir.path().join("gb_intervals/mini");
        write(
            &ds.join("metadata.yaml"),
            b"classes:\n  a:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    url: u\n  b:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    url: u\nversion: 0\n",
        );
        for split in ["train", "test"] {
            for class in ["a", "b"] {
                write_gz(
                    &ds.join(format!("{split}/{class}.csv.gz")),
                    b"id,region,start,end,strand\n0,chr1,0,10,-\n",
                );
            }
        }
        let mut opts = OpenOptions {
            data_dir: Some(dir.path().to_path_buf()),
            ..OpenOptions::default()
        };
        assert_eq!(
            locate("mini", opts.data_dir.as_deref()).unwrap(),
            GbLocation::Intervals(ds.clone())
        );
        // Without a reference the task cannot produce sequences (the interval source itself
        // still counts rows, see `GbIntervals::intervals`).
        let e = crate::open("gb/mini", &opts).err().unwrap().to_string();
        assert!(e.contains("--reference"), "{e}");
        opts.reference = Some(fa);
        let src = crate::open("gb/mini", &opts).unwrap();
        let r: Vec<_> = src
            .records(Split::Test)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(r[1].label, Label::Class(1));
        assert_eq!(r[1].seq, crate::seq::reverse_complement(&chr[..10]));

        // Exported, the native layout is preferred.
        let (raw, provenance) =
            crate::export::open_for_export("gb/mini", &opts, crate::export::ExportFormat::Gb)
                .unwrap();
        let to_native = crate::export::ExportOptions {
            format: crate::export::ExportFormat::Gb,
            dataset: "mini".into(),
            overwrite: false,
        };
        crate::export::export(
            raw.as_ref(),
            &provenance,
            &dir.path().join("gb"),
            &to_native,
        )
        .unwrap();
        assert_eq!(
            locate("mini", opts.data_dir.as_deref()).unwrap(),
            GbLocation::Native(dir.path().join("gb/mini"))
        );
        assert!(crate::open("gb/nope", &opts).is_err());

        // GUANinE BED mode needs a reference; a table opens from its spec.
        let e = crate::open("guanine/dnase_propensity@100", &OpenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--reference") || e.contains("not found"), "{e}");
        let t = write(&dir.path().join("t.tsv"), b"seq\tlabel\nACGT\tx\nAAAA\ty\n");
        let src = crate::open(&format!("tsv:{}", t.display()), &OpenOptions::default()).unwrap();
        assert_eq!(src.card().labels.num_classes(), Some(2));
    }

    #[test]
    fn the_real_interval_datasets_open_through_the_task_spec() {
        let Some(shared) = shared_dir() else {
            crate::source::testutil::skip(format_args!(
                "SKIP the_real_interval_datasets_open_through_the_task_spec: ../shared absent"
            ));
            return;
        };
        let opts = OpenOptions {
            data_dir: Some(shared.join("data/genomic_benchmarks")),
            ..OpenOptions::default()
        };
        let GbLocation::Intervals(dir) =
            locate("human_nontata_promoters", opts.data_dir.as_deref()).unwrap()
        else {
            panic!("expected the interval layout")
        };
        let src = GbIntervals::open(&dir, None).unwrap();
        assert_eq!(src.card().name, "gb/human_nontata_promoters");
        let e = crate::open("gb/human_nontata_promoters", &opts)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--reference"), "{e}");
    }
}
