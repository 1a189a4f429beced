//! Loader throughput: records per second (and MB/s of sequence) for 251-bp records read from
//! disk, shuffled through the seeded shuffle buffer, prefetched on a background thread and
//! tokenised one token per base — the path training takes before batching.
//!
//! Sources: a gzip CSV table (`csv:`), and Genomic Benchmarks intervals cut from a reference (the
//! `gb/…` path with `--reference`), bgzip and plain. A bgzip reference inflates one 64-KiB block per
//! randomly placed interval, so it is the slow path: for training, export the dataset once
//! (`strand data export`) or use an uncompressed reference. Run with
//! `cargo bench -p strand-runner --bench loader`; MB/s = records/s × 251 / 10⁶.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::io::Write;
use std::path::Path;
use strand_data::stream::{Prefetch, ShuffleBuffer};
use strand_data::{OpenOptions, Split};
use strand_model::tokenize::Tokenizer;
use strand_model::tokenize::nucleotide::NucleotideTokenizer;

const RECORDS: usize = 20_000;
const LEN: usize = 251;

fn bases(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"ACGT"[(x & 3) as usize]
        })
        .collect()
}

fn gz(path: &Path, text: &[u8]) {
    let mut w = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    w.write_all(text).unwrap();
    w.finish().unwrap();
}

/// A gzip CSV table of `RECORDS` 251-bp sequences with two labels.
fn table(dir: &Path) -> String {
    let mut text = String::from("sequence,label\n");
    for i in 0..RECORDS {
        text.push_str(std::str::from_utf8(&bases(LEN, i as u64 + 1)).unwrap());
        text.push_str(if i % 2 == 0 { ",a\n" } else { ",b\n" });
    }
    let p = dir.join("t.csv.gz");
    gz(&p, text.as_bytes());
    format!("csv:{}", p.display())
}

/// A GB interval dataset of `RECORDS` 251-bp intervals (half on the minus strand) in a 5-Mb
/// bgzip reference.
fn intervals(dir: &Path) -> (OpenOptions, String) {
    let chr = bases(5_000_000, 7);
    let mut fa = b">1\n".to_vec();
    for line in chr.chunks(60) {
        fa.extend_from_slice(line);
        fa.push(b'\n');
    }
    let reference = dir.join("ref.fa.gz");
    let mut w = noodles::bgzf::io::Writer::new(std::fs::File::create(&reference).unwrap());
    w.write_all(&fa).unwrap();
    w.finish().unwrap();
    std::fs::write(dir.join("ref.fa"), &fa).unwrap();
    let ds = dir.join("bench_gb");
    std::fs::create_dir_all(ds.join("train")).unwrap();
    std::fs::create_dir_all(ds.join("test")).unwrap();
    std::fs::write(
        ds.join("metadata.yaml"),
        "classes:\n  negative:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    url: x\n  positive:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    url: x\nversion: 0\n",
    )
    .unwrap();
    for (k, class) in ["negative", "positive"].iter().enumerate() {
        let mut text = String::from("id,region,start,end,strand\n");
        for i in 0..RECORDS / 2 {
            let start = ((i * 2 + k) * 2_473) % (chr.len() - LEN);
            let strand = if i % 2 == 0 { "+" } else { "-" };
            text.push_str(&format!("{i},chr1,{start},{},{strand}\n", start + LEN));
        }
        for split in ["train", "test"] {
            gz(&ds.join(format!("{split}/{class}.csv.gz")), text.as_bytes());
        }
    }
    let opts = OpenOptions {
        data_dir: Some(dir.to_path_buf()),
        reference: Some(reference),
        ..OpenOptions::default()
    };
    (opts, "gb/bench_gb".into())
}

/// Reads the whole train split: records → shuffle buffer → prefetch thread (tokenises) → sink.
fn load(spec: &str, opts: &OpenOptions) -> usize {
    let source = strand_data::open_raw(spec, opts).unwrap();
    let records = source.records(Split::Train).unwrap().map(|r| r.unwrap());
    let tok = NucleotideTokenizer;
    let tokens = ShuffleBuffer::new(records, 10_000, 1).map(move |r| (tok.encode(&r.seq), r.label));
    let mut n = 0;
    for (ids, _label) in Prefetch::new(tokens, 256) {
        assert_eq!(ids.len(), LEN);
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let csv = table(dir.path());
    let (gb_opts, gb) = intervals(dir.path());
    let mut group = c.benchmark_group("loader_251bp");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("csv_gz_shuffle_tokenize", |b| {
        b.iter(|| assert_eq!(load(&csv, &OpenOptions::default()), RECORDS))
    });
    group.bench_function("gb_intervals_bgzip_reference_shuffle_tokenize", |b| {
        b.iter(|| assert_eq!(load(&gb, &gb_opts), RECORDS))
    });
    let plain = OpenOptions {
        reference: Some(dir.path().join("ref.fa")),
        ..gb_opts.clone()
    };
    group.bench_function("gb_intervals_plain_reference_shuffle_tokenize", |b| {
        b.iter(|| assert_eq!(load(&gb, &plain), RECORDS))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
