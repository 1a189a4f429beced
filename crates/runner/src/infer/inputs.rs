//! Where `strand predict` reads sequences from, each as a stream of `(id, bases)` (normalised
//! to ACGTN; a bad letter is an error naming file, record and position): FASTA (plain or gzip),
//! a CSV/TSV table with a `sequence` column and an optional `id` column, regions of a BED file
//! cut from a reference genome, or FASTA on standard input. Nothing is read ahead beyond one
//! record: memory stays flat in the input's size.

use anyhow::{Context, Result, bail};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use strand_data::reference::Reference;

/// `(id, bases)` records, one at a time.
pub type SeqStream = Box<dyn Iterator<Item = Result<(String, Vec<u8>)>> + Send>;

/// An input of `strand predict`.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Fasta(PathBuf),
    /// CSV (`,`) or TSV (`\t`).
    Table {
        path: PathBuf,
        delimiter: u8,
    },
    /// BED regions cut from `reference`: `window` bases centred on each region, or the region
    /// itself when `None`.
    Bed {
        path: PathBuf,
        reference: PathBuf,
        window: Option<usize>,
    },
    /// FASTA (plain or gzip) on standard input.
    Stdin,
}

/// Opens `input` as a stream of records.
pub fn open(input: &Input) -> Result<SeqStream> {
    Ok(match input {
        Input::Fasta(path) => {
            Box::new(strand_data::corpus::FastaRecords::open(path)?.map(|r| r.map_err(Into::into)))
        }
        Input::Stdin => {
            let stdin: Box<dyn BufRead + Send> =
                Box::new(std::io::BufReader::new(std::io::stdin()));
            Box::new(
                strand_data::corpus::FastaRecords::from_reader(stdin, Path::new("<stdin>"))?
                    .map(|r| r.map_err(Into::into)),
            )
        }
        Input::Table { path, delimiter } => table(path, *delimiter)?,
        Input::Bed {
            path,
            reference,
            window,
        } => bed(path, reference, *window)?,
    })
}

/// Rows of a CSV/TSV file with a header: `sequence` (or `seq`) and an optional `id` column;
/// without `id`, records are named `row<N>` (1-based data rows).
fn table(path: &Path, delimiter: u8) -> Result<SeqStream> {
    let reader = strand_data::source::compressed::open_text_as(path, "table")?;
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(reader);
    let header = csv
        .headers()
        .with_context(|| format!("{}: reading the header", path.display()))?
        .clone();
    let find = |names: &[&str]| {
        header.iter().position(|h| {
            let h = h.trim_start_matches('\u{feff}').trim();
            names.iter().any(|n| h.eq_ignore_ascii_case(n))
        })
    };
    let Some(seq_col) = find(&["sequence", "seq"]) else {
        bail!(
            "{}: the header has no `sequence` column (got {:?})",
            path.display(),
            header.iter().collect::<Vec<_>>()
        );
    };
    let id_col = find(&["id", "name"]);
    let path = path.to_path_buf();
    let mut row = 0usize;
    let mut records = csv.into_byte_records();
    Ok(Box::new(std::iter::from_fn(move || {
        let rec = records.next()?;
        row += 1;
        Some((|| {
            let rec = rec.with_context(|| format!("{}: data row {row}", path.display()))?;
            let id = match id_col.and_then(|c| rec.get(c)) {
                Some(id) if !id.is_empty() => String::from_utf8_lossy(id).into_owned(),
                _ => format!("row{row}"),
            };
            let Some(seq) = rec.get(seq_col) else {
                bail!("{}: data row {row} has no sequence field", path.display());
            };
            let mut seq = seq.trim_ascii().to_vec();
            if seq.is_empty() {
                bail!(
                    "{}: record {id} (data row {row}) has an empty sequence",
                    path.display()
                );
            }
            strand_data::seq::normalize(&mut seq, &path, &id)?;
            Ok((id, seq))
        })())
    })))
}

/// The window of `window` bases centred on `[start, end)` (0-based, half-open): it starts at
/// `mid − window/2` with `mid = (start + end) / 2`; `None` when it would start before 0.
pub fn centred(start: u64, end: u64, window: u64) -> Option<(u64, u64)> {
    let mid = (start + end) / 2;
    let s = mid.checked_sub(window / 2)?;
    Some((s, s + window))
}

/// Regions of a BED file (columns chrom, start, end, optional name; `#`, `track` and `browser`
/// lines skipped), cut from `reference`. Records are named by the BED name, else
/// `chrom:start-end` (BED coordinates).
fn bed(path: &Path, reference: &Path, window: Option<usize>) -> Result<SeqStream> {
    let mut genome = Reference::open(reference)?;
    let mut lines = strand_data::source::compressed::open_text_as(path, "BED file")?.lines();
    let path = path.to_path_buf();
    let mut line_no = 0usize;
    Ok(Box::new(std::iter::from_fn(move || {
        loop {
            let line = lines.next()?;
            line_no += 1;
            let line = match line {
                Ok(l) => l,
                Err(e) => return Some(Err(anyhow::anyhow!("{}: {e}", path.display()))),
            };
            let t = line.trim_end();
            if t.is_empty()
                || t.starts_with('#')
                || t.starts_with("track")
                || t.starts_with("browser")
            {
                continue;
            }
            return Some(bed_region(&path, line_no, t, &mut genome, window));
        }
    })))
}

fn bed_region(
    path: &Path,
    line_no: usize,
    line: &str,
    genome: &mut Reference,
    window: Option<usize>,
) -> Result<(String, Vec<u8>)> {
    let at = || format!("{} line {line_no}", path.display());
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() < 3 {
        bail!(
            "{}: a BED line needs chrom, start and end (tab-separated): {line:?}",
            at()
        );
    }
    let parse = |s: &str, what: &str| {
        s.trim()
            .parse::<u64>()
            .with_context(|| format!("{}: {what} {s:?} is not a number", at()))
    };
    let (chrom, start, end) = (f[0], parse(f[1], "start")?, parse(f[2], "end")?);
    if end <= start {
        bail!("{}: the region {chrom}:{start}-{end} is empty", at());
    }
    let id = match f.get(3).map(|s| s.trim()) {
        Some(name) if !name.is_empty() && name != "." => name.to_string(),
        _ => format!("{chrom}:{start}-{end}"),
    };
    let (s, e) = match window {
        None => (start, end),
        Some(w) => centred(start, end, w as u64).with_context(|| {
            format!(
                "{}: the {w}-base window centred on {id} starts before the start of {chrom}",
                at()
            )
        })?,
    };
    let seq = genome
        .fetch(chrom, s, e)
        .with_context(|| format!("{}: region {id}", at()))?;
    Ok((id, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_centred_and_refused_before_the_start() {
        assert_eq!(centred(100, 110, 4), Some((103, 107)));
        assert_eq!(centred(100, 101, 5), Some((98, 103)));
        assert_eq!(centred(0, 2, 10), None);
    }

    #[test]
    fn tables_with_and_without_ids_and_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("s.csv");
        std::fs::write(&csv, "\u{feff}ID,Sequence\na,acgt\nb,NNRY\n").unwrap();
        let got: Vec<_> = open(&Input::Table {
            path: csv,
            delimiter: b',',
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
        assert_eq!(
            got,
            vec![
                ("a".into(), b"ACGT".to_vec()),
                ("b".into(), b"NNNN".to_vec())
            ]
        );
        let tsv = dir.path().join("s.tsv");
        std::fs::write(&tsv, "sequence\tscore\nACGT\t1\nACXT\t2\n").unwrap();
        let mut it = open(&Input::Table {
            path: tsv.clone(),
            delimiter: b'\t',
        })
        .unwrap();
        assert_eq!(it.next().unwrap().unwrap().0, "row1");
        let e = format!("{:#}", it.next().unwrap().unwrap_err());
        assert!(
            e.contains("s.tsv") && e.contains("row2") && e.contains("'X'"),
            "{e}"
        );
        std::fs::write(&tsv, "id\tseq_x\n").unwrap();
        let e = format!(
            "{:#}",
            open(&Input::Table {
                path: tsv,
                delimiter: b'\t'
            })
            .err()
            .unwrap()
        );
        assert!(e.contains("no `sequence` column"), "{e}");
    }
}
