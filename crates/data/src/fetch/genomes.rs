//! Reference genomes by name, stored as bgzip FASTA with a `.fai` and a `.gzi` index.
//!
//! The publishers serve plain gzip (`.fa.gz`). `strand fetch reference/<name>` downloads it
//! (resumable, checksummed like every download), then in one streamed pass decompresses it,
//! re-compresses it as BGZF (`<cache>/reference/<name>/<name>.fa.gz`) and builds the FASTA index
//! (`.fa.gz.fai`, offsets in the uncompressed sequence, as `samtools faidx` writes them); a second
//! pass over the BGZF blocks writes the `.gzi` block index. Any indexed FASTA reader (noodles,
//! samtools, pysam) opens the result with random access. The downloaded gzip is deleted once the
//! converted genome is installed; its checksum stays in `checksums.json`.

use super::layout::{self, Marker};
use super::suites::{Fetched, Fetcher, Status};
use crate::{DataError, Result};
use noodles::bgzf;
use noodles::fasta;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::num::NonZero;
use std::path::{Path, PathBuf};

/// A reference genome strand can fetch by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Genome {
    /// Name used on the command line and in the cache (`reference/<name>`).
    pub name: &'static str,
    /// The publisher's URL of the gzip FASTA.
    pub url: &'static str,
    pub description: &'static str,
}

/// The known genomes. The Ensembl entries are exactly the files Genomic Benchmarks'
/// `metadata.yaml` files name (served over https instead of http/ftp).
pub const GENOMES: &[Genome] = &[
    Genome {
        name: "hg38",
        url: "https://hgdownload.soe.ucsc.edu/goldenPath/hg38/bigZips/hg38.fa.gz",
        description: "UCSC hg38 (chr1, ..., soft-masked); GUANinE's genome",
    },
    Genome {
        name: "dm6",
        url: "https://hgdownload.soe.ucsc.edu/goldenPath/dm6/bigZips/dm6.fa.gz",
        description: "UCSC dm6 (D. melanogaster, chr2L, ...)",
    },
    Genome {
        name: "GRCh38",
        url: concat!(
            "https://ftp.ensembl.org/pub",
            "/release-100/fasta/homo_sapiens/dna/Homo_sapiens.GRCh38.dna.toplevel.fa.gz"
        ),
        description: "Ensembl 100 GRCh38 toplevel (1, ..., MT); Genomic Benchmarks' Ens 100 sets",
    },
    Genome {
        name: "GRCh38.ens97",
        url: concat!(
            "https://ftp.ensembl.org/pub",
            "/release-97/fasta/homo_sapiens/dna/Homo_sapiens.GRCh38.dna.toplevel.fa.gz"
        ),
        description: "Ensembl 97 GRCh38 toplevel; Genomic Benchmarks' Ens 97 sets",
    },
    Genome {
        name: "GRCh38.cdna.ens97",
        url: concat!(
            "https://ftp.ensembl.org/pub",
            "/release-97/fasta/homo_sapiens/cdna/Homo_sapiens.GRCh38.cdna.all.fa.gz"
        ),
        description: "Ensembl 97 GRCh38 cDNA (transcripts); demo_coding_vs_intergenomic_seqs",
    },
    Genome {
        name: "GRCm38",
        url: concat!(
            "https://ftp.ensembl.org/pub",
            "/release-100/fasta/mus_musculus/dna/Mus_musculus.GRCm38.dna.toplevel.fa.gz"
        ),
        description: "Ensembl 100 GRCm38 (mouse) toplevel",
    },
    Genome {
        name: "BDGP6.28",
        url: concat!(
            "https://ftp.ensembl.org/pub",
            "/release-100/fasta/drosophila_melanogaster/dna/",
            "Drosophila_melanogaster.BDGP6.28.dna.toplevel.fa.gz"
        ),
        description: "Ensembl 100 BDGP6.28 (D. melanogaster) toplevel",
    },
    Genome {
        name: "WBcel235",
        url: concat!(
            "https://ftp.ensembl.org/pub",
            "/release-104/fasta/caenorhabditis_elegans/dna/",
            "Caenorhabditis_elegans.WBcel235.dna.toplevel.fa.gz"
        ),
        description: "Ensembl 104 WBcel235 (C. elegans) toplevel",
    },
];

/// The genome called `name` (case-insensitive).
pub fn genome(name: &str) -> Result<&'static Genome> {
    GENOMES
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            DataError::UnknownTask(format!(
                "unknown reference genome {name:?}; known: {}",
                GENOMES
                    .iter()
                    .map(|g| g.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The genome whose URL is `url` up to the scheme (`ftp://`, `http://`, `https://`).
pub fn genome_for_url(url: &str) -> Option<&'static Genome> {
    let want = super::https_url(url);
    GENOMES.iter().find(|g| g.url == want)
}

/// For a Genomic Benchmarks interval dataset (`metadata.yaml` at `metadata`), each class's
/// fetched reference genome in `cache` (`<cache>/reference/<genome>/<genome>.fa.gz`), ready for
/// the interval source's per-class reference choice. Errors name the missing genome and the
/// command that fetches it.
pub fn class_references(
    cache: &Path,
    metadata: &Path,
) -> Result<std::collections::BTreeMap<String, PathBuf>> {
    let meta = super::suites::GbMetadata::read(metadata)?;
    let mut out = std::collections::BTreeMap::new();
    for (class, c) in &meta.classes {
        let g = genome_for_url(&c.url).ok_or_else(|| DataError::BadFile {
            path: metadata.to_path_buf(),
            message: format!("class {class}: no known reference genome for {}", c.url),
        })?;
        let dir = layout::reference_dir(cache, g.name);
        if !layout::is_complete(&dir) {
            return Err(DataError::NotFound {
                what: "reference genome (run `strand fetch reference/<name>` or \
                       `strand fetch gb/<dataset> --reference`)",
                path: layout::reference_fasta(cache, g.name),
            });
        }
        out.insert(class.clone(), layout::reference_fasta(cache, g.name));
    }
    Ok(out)
}

/// The last path segment of a URL, without query.
fn url_file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

impl Fetcher<'_> {
    /// Reference genome `name` into `<cache>/reference/<name>/` as `<name>.fa.gz` (bgzip),
    /// `<name>.fa.gz.fai` and `<name>.fa.gz.gzi`.
    pub fn fetch_genome(&mut self, name: &str) -> Result<Fetched> {
        let g = genome(name)?;
        let target = format!("reference/{}", g.name);
        let cache = self.options().cache_dir.clone();
        let dest = layout::reference_dir(&cache, g.name);
        if layout::is_complete(&dest) {
            return Ok(Fetched {
                target,
                path: dest,
                status: Status::AlreadyPresent,
            });
        }
        let fasta_name = format!("{}.fa.gz", g.name);
        if let Some(dir) = self.in_data_dir(&["reference"], g.name, |d| {
            d.join(&fasta_name).is_file() && d.join(format!("{fasta_name}.fai")).is_file()
        }) {
            return Ok(Fetched {
                target,
                path: dir,
                status: Status::AlreadyPresent,
            });
        }
        layout::check_free(&dest)?;
        let partial = layout::partial_dir(&cache, layout::REFERENCE_DIR);
        let file_name = url_file_name(g.url);
        let download = partial.join(file_name);
        let key = format!("reference/{}/{file_name}", g.name);
        let url = self.url(g.url);
        let file = self.download_verified(&key, &url, &download, None, None)?;

        let staging = partial.join(g.name);
        if staging.exists() {
            // A conversion of an earlier run that stopped half-way: ours, never installed.
            fs::remove_dir_all(&staging).map_err(|e| DataError::io(&staging, e))?;
        }
        fs::create_dir_all(&staging).map_err(|e| DataError::io(&staging, e))?;
        self.progress()
            .note(&format!("{target}: converting to bgzip and indexing"));
        let out = staging.join(&fasta_name);
        let sequences = gzip_fasta_to_indexed_bgzf(&download, &out)?;
        self.progress()
            .note(&format!("{target}: {sequences} sequences indexed"));
        layout::write_marker(&staging, &Marker::new(&target, vec![file.clone()]))?;
        layout::install_dir(&staging, &dest)?;
        self.commit(&[file])?;
        fs::remove_file(&download).map_err(|e| DataError::io(&download, e))?;
        Ok(Fetched {
            target,
            path: dest,
            status: Status::Installed,
        })
    }
}

/// Copies everything read from `inner` into `out`.
struct Tee<'w, R, W> {
    inner: R,
    out: &'w mut W,
}

impl<R: Read, W: Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Converts a gzip (or plain multi-member gzip, or bgzip) FASTA at `src` into BGZF at `dst`,
/// writing `<dst>.fai` and `<dst>.gzi`. Returns the number of sequences. Fails with the path on
/// a malformed FASTA (ragged lines inside a record, no header).
pub fn gzip_fasta_to_indexed_bgzf(src: &Path, dst: &Path) -> Result<usize> {
    let input = File::open(src).map_err(|e| DataError::io(src, e))?;
    let decoder = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, input));
    let output = File::create(dst).map_err(|e| DataError::io(dst, e))?;
    let workers = std::thread::available_parallelism().unwrap_or(NonZero::<usize>::MIN);
    let mut writer =
        bgzf::io::MultithreadedWriter::with_worker_count(workers, BufWriter::new(output));
    let records = {
        let tee = Tee {
            inner: decoder,
            out: &mut writer,
        };
        let mut indexer = fasta::io::Indexer::new(BufReader::with_capacity(1 << 20, tee));
        let mut records = Vec::new();
        loop {
            match indexer.index_record() {
                Ok(Some(r)) => records.push(r),
                Ok(None) => break,
                Err(e) => {
                    return Err(DataError::BadFile {
                        path: src.to_path_buf(),
                        message: format!(
                            "cannot index the FASTA (after {} records): {e}",
                            records.len()
                        ),
                    });
                }
            }
        }
        records
    };
    if records.is_empty() {
        return Err(DataError::BadFile {
            path: src.to_path_buf(),
            message: "no FASTA records".into(),
        });
    }
    let mut inner = writer.finish().map_err(|e| DataError::io(dst, e))?;
    inner
        .flush()
        .and_then(|_| inner.get_ref().sync_all())
        .map_err(|e| DataError::io(dst, e))?;
    drop(inner);
    let n = records.len();
    let fai = with_suffix(dst, ".fai");
    fasta::fai::fs::write(&fai, &fasta::fai::Index::from(records))
        .map_err(|e| DataError::io(&fai, e))?;
    let gzi = with_suffix(dst, ".gzi");
    let index = bgzf_block_index(dst)?;
    bgzf::gzi::fs::write(&gzi, &bgzf::gzi::Index::from(index))
        .map_err(|e| DataError::io(&gzi, e))?;
    Ok(n)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// The (compressed offset, uncompressed offset) of every BGZF block but the first and the empty
/// end-of-file block: the content of a `.gzi` index.
pub fn bgzf_block_index(path: &Path) -> Result<Vec<(u64, u64)>> {
    let bad = |message: String| DataError::BadFile {
        path: path.to_path_buf(),
        message,
    };
    let mut f = BufReader::new(File::open(path).map_err(|e| DataError::io(path, e))?);
    let len = fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    let (mut cpos, mut upos) = (0u64, 0u64);
    let mut out = Vec::new();
    while cpos < len {
        let mut header = [0u8; 12];
        f.seek(SeekFrom::Start(cpos))
            .and_then(|_| f.read_exact(&mut header))
            .map_err(|e| DataError::io(path, e))?;
        if header[0] != 31 || header[1] != 139 || header[2] != 8 || header[3] & 4 == 0 {
            return Err(bad(format!("not a BGZF block at byte {cpos}")));
        }
        let xlen = u16::from_le_bytes([header[10], header[11]]) as usize;
        let mut extra = vec![0u8; xlen];
        f.read_exact(&mut extra)
            .map_err(|e| DataError::io(path, e))?;
        let mut bsize = None;
        let mut i = 0;
        while i + 4 <= xlen {
            let slen = u16::from_le_bytes([extra[i + 2], extra[i + 3]]) as usize;
            if extra[i] == 66 && extra[i + 1] == 67 && slen == 2 && i + 6 <= xlen {
                bsize = Some(u16::from_le_bytes([extra[i + 4], extra[i + 5]]) as u64);
            }
            i += 4 + slen;
        }
        let block_size = bsize.ok_or_else(|| bad(format!("no BSIZE field at byte {cpos}")))? + 1;
        let mut isize = [0u8; 4];
        f.seek(SeekFrom::Start(cpos + block_size - 4))
            .and_then(|_| f.read_exact(&mut isize))
            .map_err(|e| DataError::io(path, e))?;
        let isize = u32::from_le_bytes(isize) as u64;
        if cpos > 0 && isize > 0 {
            out.push((cpos, upos));
        }
        cpos += block_size;
        upos += isize;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};

    #[test]
    fn names_and_urls_resolve() {
        assert_eq!(genome("HG38").unwrap().name, "hg38");
        assert!(genome("hg19").unwrap_err().to_string().contains("GRCh38"));
        let ftp = "ftp://ftp.ensembl.org/pub/release-100/fasta/mus_musculus/dna/\
                   Mus_musculus.GRCm38.dna.toplevel.fa.gz";
        assert_eq!(genome_for_url(ftp).unwrap().name, "GRCm38");
        assert!(genome_for_url("http://example.org/x.fa.gz").is_none());
        assert!(GENOMES.iter().all(|g| g.url.starts_with("https://")));
        assert!(
            GENOMES
                .iter()
                .filter(|g| g.url.starts_with("https://ftp.ensembl.org/pub/"))
                .count()
                >= 6
        );
        assert_eq!(url_file_name("https://h/a/b.fa.gz?x=1"), "b.fa.gz");
    }

    #[test]
    fn gzip_fasta_becomes_indexed_bgzf_readable_at_random() {
        let dir = tempfile::tempdir().unwrap();
        // Large enough for several BGZF blocks (64 KiB each).
        let mut text = String::new();
        let mut expected = Vec::new();
        for (i, len) in [(0, 150_000usize), (1, 7), (2, 90_001)] {
            let seq: String = (0..len).map(|j| b"ACGT"[(j * 7 + i) % 4] as char).collect();
            text.push_str(&format!(">chr{i} description\n"));
            for line in seq.as_bytes().chunks(60) {
                text.push_str(std::str::from_utf8(line).unwrap());
                text.push('\n');
            }
            expected.push(seq);
        }
        let src = dir.path().join("g.fa.gz");
        let mut gz = GzEncoder::new(File::create(&src).unwrap(), Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();

        let dst = dir.path().join("g.bgz.fa.gz");
        assert_eq!(gzip_fasta_to_indexed_bgzf(&src, &dst).unwrap(), 3);
        let gzi = bgzf::gzi::fs::read(with_suffix(&dst, ".gzi")).unwrap();
        assert!(gzi.as_ref().len() >= 3, "expected several blocks");

        let mut reader = fasta::io::indexed_reader::Builder::default()
            .build_from_path(&dst)
            .unwrap();
        for (i, seq) in expected.iter().enumerate() {
            let start = seq.len() / 3 + 1;
            let end = seq.len();
            let region: noodles::core::Region = format!("chr{i}:{start}-{end}").parse().unwrap();
            let rec = reader.query(&region).unwrap();
            assert_eq!(
                rec.sequence().as_ref(),
                &seq.as_bytes()[start - 1..end],
                "chr{i}"
            );
        }
    }

    #[test]
    fn ragged_fasta_is_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("bad.fa.gz");
        let mut gz = GzEncoder::new(File::create(&src).unwrap(), Compression::fast());
        gz.write_all(b">a\nACGT\nAC\nACGT\n").unwrap();
        gz.finish().unwrap();
        let e = gzip_fasta_to_indexed_bgzf(&src, &dir.path().join("o.fa.gz"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.fa.gz") && e.contains("cannot index"), "{e}");
    }
}
