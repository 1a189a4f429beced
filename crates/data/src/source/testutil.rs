//! Helpers shared by the source tests: generated sequences, FASTA and gzip writers.

use noodles::bgzf;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Prints `SKIP <reason>` on the process's standard error directly: libtest captures `println!`
/// and `eprintln!` of passing tests, and a skipped test must say why in a passing run too.
pub fn skip(reason: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "{reason}");
}

/// A deterministic pseudo-random `ACGT` sequence of `n` bases.
pub fn bases(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            b"ACGT"[(x >> 62) as usize]
        })
        .collect()
}

/// FASTA text with `width`-base lines.
pub fn fasta_text(seqs: &[(&str, &[u8])], width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, s) in seqs {
        writeln!(out, ">{name} generated").unwrap();
        for line in s.chunks(width) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

/// Writes `bytes` to `path` (creating parent folders).
pub fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

/// Writes `bytes` gzip-compressed to `path`.
pub fn write_gz(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w =
        flate2::write::GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
    w.write_all(bytes).unwrap();
    w.finish().unwrap();
    path.to_path_buf()
}

/// Writes `bytes` bgzip-compressed to `path`.
pub fn write_bgzf(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = bgzf::io::Writer::new(File::create(path).unwrap());
    w.write_all(bytes).unwrap();
    w.finish().unwrap();
    path.to_path_buf()
}

/// `<repo>/../shared`, if present (tests that need it print `SKIP` otherwise).
pub fn shared_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.is_dir().then_some(p)
}
