//! Tests of the interval reader: an end-to-end build from a generated reference (both strands,
//! plain and bgzip), the renaming quirks, every bad-input case, and the real interval files.

use super::*;
use crate::seq::reverse_complement;
use crate::source::testutil::{bases, fasta_text, shared_dir, write, write_bgzf, write_gz};

const HUMAN_URL: &str = "http://example.invalid/Homo_sapiens.GRCh38.dna.toplevel.fa.gz";

fn metadata(classes: &[(&str, &str, Option<&str>)]) -> String {
    let mut s = String::from("classes:\n");
    for (name, url, extra) in classes {
        s.push_str(&format!("  {name}:\n"));
        if let Some(e) = extra {
            s.push_str(&format!("    extra_processing: {e}\n"));
        }
        s.push_str(&format!("    type: fa.gz\n    url: {url}\n"));
    }
    s.push_str("version: 0\n");
    s
}

fn csv(rows: &[(&str, &str, u64, u64, &str)]) -> Vec<u8> {
    let mut s = String::from("id,region,start,end,strand\n");
    for (id, region, start, end, strand) in rows {
        s.push_str(&format!("{id},{region},{start},{end},{strand}\n"));
    }
    s.into_bytes()
}

struct Genome {
    chr1: Vec<u8>,
    chr2: Vec<u8>,
    mt: Vec<u8>,
}

/// A small Ensembl-named genome (`1`, `2`, `MT`) as plain and bgzip FASTA.
fn genome(dir: &Path) -> (Genome, PathBuf, PathBuf) {
    let g = Genome {
        chr1: bases(100_000, 11),
        chr2: bases(5_000, 12),
        mt: bases(300, 13),
    };
    let text = fasta_text(&[("1", &g.chr1), ("2", &g.chr2), ("MT", &g.mt)], 60);
    let plain = write(&dir.join("ref/genome.fa"), &text);
    let gz = write_bgzf(&dir.join("ref/genome.fa.gz"), &text);
    (g, plain, gz)
}

/// A two-class human dataset pointing into the generated genome.
fn dataset(dir: &Path) -> PathBuf {
    let root = dir.join("toy_promoters");
    write(
        &root.join("metadata.yaml"),
        metadata(&[
            ("positive", HUMAN_URL, Some("ENSEMBL_HUMAN_GENOME")),
            ("negative", HUMAN_URL, Some("ENSEMBL_HUMAN_GENOME")),
        ])
        .as_bytes(),
    );
    write_gz(
        &root.join("train/positive.csv.gz"),
        &csv(&[
            ("0", "chr1", 0, 251, "+"),
            ("1", "chr1", 99_749, 100_000, "-"),
            ("2", "chr2", 10, 20, ""),
        ]),
    );
    write_gz(
        &root.join("train/negative.csv.gz"),
        &csv(&[("0", "chrMT", 5, 55, "-"), ("1", "chr2", 4_990, 5_000, "+")]),
    );
    write_gz(
        &root.join("test/positive.csv.gz"),
        &csv(&[("7", "chr1", 60, 121, "-")]),
    );
    write_gz(
        &root.join("test/negative.csv.gz"),
        &csv(&[("8", "chr2", 0, 1, "+")]),
    );
    root
}

fn collect(src: &dyn Source, split: Split) -> Vec<Record> {
    src.records(split)
        .unwrap()
        .collect::<Result<Vec<_>>>()
        .unwrap()
}

#[test]
fn builds_sequences_from_a_generated_reference_both_strands_plain_and_bgzip() {
    let dir = tempfile::tempdir().unwrap();
    let (g, plain, gz) = genome(dir.path());
    let root = dataset(dir.path());
    for reference in [&plain, &gz] {
        let src =
            GbIntervals::open(&root, Some(&ReferenceChoice::File(reference.clone()))).unwrap();
        assert_eq!(src.splits(), vec![Split::Train, Split::Test]);
        assert_eq!(
            src.card().labels,
            LabelKind::Classes {
                names: vec!["negative".into(), "positive".into()]
            }
        );
        let train = collect(&src, Split::Train);
        let expect: Vec<(&str, Vec<u8>, u32)> = vec![
            ("negative/0", reverse_complement(&g.mt[5..55]), 0),
            ("negative/1", g.chr2[4_990..5_000].to_vec(), 0),
            ("positive/0", g.chr1[..251].to_vec(), 1),
            ("positive/1", reverse_complement(&g.chr1[99_749..]), 1),
            ("positive/2", g.chr2[10..20].to_vec(), 1),
        ];
        assert_eq!(train.len(), expect.len());
        for (r, (id, seq, label)) in train.iter().zip(&expect) {
            assert_eq!(&r.id, id);
            assert_eq!(&r.seq, seq, "{id}");
            assert_eq!(r.label, Label::Class(*label));
            assert_eq!(r.split, Split::Train);
        }
        let test = collect(&src, Split::Test);
        assert_eq!(test[0].seq, g.chr2[..1].to_vec());
        assert_eq!(test[1].seq, reverse_complement(&g.chr1[60..121]));
    }
}

#[test]
fn counts_without_a_reference_and_explains_why_no_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let root = dataset(dir.path());
    let src = GbIntervals::open(&root, None).unwrap();
    let rows: Vec<IntervalRow> = src
        .intervals(Split::Train)
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows.iter().filter(|r| r.class == 1).count(), 3);
    assert_eq!(rows[0].end - rows[0].start, 50);
    assert!(rows[0].reverse);
    let e = src.records(Split::Train).err().unwrap().to_string();
    assert!(e.contains("--reference"), "{e}");
}

#[test]
fn drosophila_renaming_applies_to_both_classes_and_transcripts_lose_their_version() {
    let dir = tempfile::tempdir().unwrap();
    let fly_url = "http://example.invalid/Drosophila_melanogaster.BDGP6.28.dna.toplevel.fa.gz";
    let arm = bases(1000, 5);
    let mito = bases(100, 6);
    let cdna = bases(400, 7);
    let fly = write(
        &dir.path()
            .join("fasta/Drosophila_melanogaster.BDGP6.28.dna.toplevel.fa"),
        &fasta_text(&[("2L", &arm), ("mitochondrion_genome", &mito)], 70),
    );
    let root = dir.path().join("fly");
    write(
        &root.join("metadata.yaml"),
        metadata(&[
            ("negative", fly_url, None),
            ("positive", fly_url, Some("ENSEMBL_DROSOPHILA_GENOME")),
        ])
        .as_bytes(),
    );
    for split in ["train", "test"] {
        write_gz(
            &root.join(format!("{split}/negative.csv.gz")),
            &csv(&[("0", "chr2L", 0, 10, "+"), ("1", "chrM", 0, 10, "+")]),
        );
        write_gz(
            &root.join(format!("{split}/positive.csv.gz")),
            &csv(&[("0", "chr2L", 10, 20, "-")]),
        );
    }
    // A directory reference: files named as in the metadata URL (decompressed, without .gz).
    let src =
        GbIntervals::open(&root, Some(&ReferenceChoice::Dir(dir.path().join("fasta")))).unwrap();
    assert!(
        src.classes()
            .iter()
            .all(|c| c.renaming == Renaming::Drosophila)
    );
    let recs = collect(&src, Split::Train);
    assert_eq!(recs[0].seq, arm[..10].to_vec());
    assert_eq!(recs[1].seq, mito[..10].to_vec());
    assert_eq!(recs[2].seq, reverse_complement(&arm[10..20]));
    assert_eq!(fly.extension().unwrap(), "fa");

    // Transcriptome: unversioned ids in the CSV, versioned FASTA names; per-class references.
    let tx = write(
        &dir.path().join("cdna.fa"),
        &fasta_text(&[("ENST00000000001.7", &cdna)], 60),
    );
    let (g, plain, _) = genome(dir.path());
    let root = dir.path().join("coding");
    write(
        &root.join("metadata.yaml"),
        metadata(&[
            (
                "coding_seqs",
                "http://x/cdna.fa.gz",
                Some("ENSEMBL_HUMAN_TRANSCRIPTOME"),
            ),
            ("intergenomic_seqs", HUMAN_URL, Some("ENSEMBL_HUMAN_GENOME")),
        ])
        .as_bytes(),
    );
    for split in ["train", "test"] {
        write_gz(
            &root.join(format!("{split}/coding_seqs.csv.gz")),
            &csv(&[("0", "ENST00000000001", 0, 200, "+")]),
        );
        write_gz(
            &root.join(format!("{split}/intergenomic_seqs.csv.gz")),
            &csv(&[("0", "chr1", 100, 300, "+")]),
        );
    }
    let spec = format!(
        "coding_seqs={},intergenomic_seqs={}",
        tx.display(),
        plain.display()
    );
    let choice = ReferenceChoice::parse(Path::new(&spec)).unwrap();
    let src = GbIntervals::open(&root, Some(&choice)).unwrap();
    let recs = collect(&src, Split::Test);
    assert_eq!(recs[0].seq, cdna[..200].to_vec());
    assert_eq!(recs[1].seq, g.chr1[100..300].to_vec());
}

/// Opens `root` with the generated genome and returns the first error of the train split.
fn first_error(root: &Path, reference: &Path) -> String {
    let src = match GbIntervals::open(root, Some(&ReferenceChoice::File(reference.to_path_buf()))) {
        Ok(s) => s,
        Err(e) => return e.to_string(),
    };
    let mut n = 0;
    for r in src.records(Split::Train).unwrap() {
        match r {
            Ok(_) => n += 1,
            Err(e) => return e.to_string(),
        }
    }
    panic!("no error after {n} records")
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_, plain, _) = genome(dir.path());
    let fresh = |name: &str| {
        let root = dataset(&dir.path().join(name));
        let target = dir.path().join(name).join("toy_promoters");
        assert_eq!(root, target);
        root
    };

    // Interval past the end of its chromosome.
    let root = fresh("past_end");
    write_gz(
        &root.join("train/negative.csv.gz"),
        &csv(&[("9", "chr2", 4_990, 5_001, "+")]),
    );
    let e = first_error(&root, &plain);
    assert!(
        e.contains("negative.csv.gz") && e.contains("id 9") && e.contains("past the end"),
        "{e}"
    );

    // Chromosome missing from the reference.
    let root = fresh("missing_chr");
    write_gz(
        &root.join("train/negative.csv.gz"),
        &csv(&[("3", "chr7", 0, 10, "+")]),
    );
    let e = first_error(&root, &plain);
    assert!(
        e.contains("\"chr7\"") && e.contains("not in the reference") && e.contains("id 3"),
        "{e}"
    );

    // An empty class.
    let root = fresh("empty_class");
    write_gz(&root.join("train/negative.csv.gz"), &csv(&[]));
    let e = first_error(&root, &plain);
    assert!(
        e.contains("\"negative\" has no records in split train"),
        "{e}"
    );

    // A task folder missing a split.
    let root = fresh("missing_split");
    std::fs::remove_dir_all(root.join("test")).unwrap();
    let e = first_error(&root, &plain);
    assert!(e.contains("missing split test"), "{e}");

    // A class file missing from a split.
    let root = fresh("missing_class_file");
    std::fs::remove_file(root.join("test/positive.csv.gz")).unwrap();
    let e = first_error(&root, &plain);
    assert!(
        e.contains("not found") && e.contains("positive.csv.gz"),
        "{e}"
    );

    // A row with a missing field.
    let root = fresh("short_row");
    write_gz(
        &root.join("train/negative.csv.gz"),
        b"id,region,start,end,strand\n0,chr1,0,10,+\n1,chr1,5\n",
    );
    let e = first_error(&root, &plain);
    assert!(e.contains("line 3") && e.contains("3 fields"), "{e}");

    // An unparsable coordinate, an unknown strand, an empty interval.
    for (row, want) in [
        ("0,chr1,x5,10,+", "start \"x5\""),
        ("0,chr1,5,10,*", "strand \"*\""),
        ("0,chr1,10,10,+", "empty interval"),
    ] {
        let root = fresh(&format!("bad_row_{}", want.len()));
        write_gz(
            &root.join("train/negative.csv.gz"),
            format!("id,region,start,end,strand\n{row}\n").as_bytes(),
        );
        let e = first_error(&root, &plain);
        assert!(e.contains("line 2") && e.contains(want), "{e}");
    }

    // A truncated gzip file.
    let root = fresh("truncated");
    let rows: Vec<(String, u64)> = (0..20_000).map(|i| (i.to_string(), i)).collect();
    let body: Vec<(&str, &str, u64, u64, &str)> = rows
        .iter()
        .map(|(id, i)| (id.as_str(), "chr1", *i, i + 10, "+"))
        .collect();
    let path = write_gz(&root.join("train/negative.csv.gz"), &csv(&body));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = first_error(&root, &plain);
    assert!(e.contains("truncated or corrupt gzip"), "{e}");

    // An unknown renaming.
    let root = fresh("bad_meta");
    write(
        &root.join("metadata.yaml"),
        metadata(&[
            ("negative", HUMAN_URL, Some("SOMETHING")),
            ("positive", HUMAN_URL, None),
        ])
        .as_bytes(),
    );
    let e = first_error(&root, &plain);
    assert!(
        e.contains("metadata.yaml") && e.contains("SOMETHING"),
        "{e}"
    );
}

/// Published train / test counts per class (sorted class order), genomic_benchmarks.md §1.
pub(crate) const GB_COUNTS: [(&str, &[(u64, u64)]); 9] = [
    (
        "demo_coding_vs_intergenomic_seqs",
        &[(37_500, 12_500), (37_500, 12_500)],
    ),
    ("demo_human_or_worm", &[(37_500, 12_500), (37_500, 12_500)]),
    ("drosophila_enhancers_stark", &[(2_592, 865), (2_592, 865)]),
    ("dummy_mouse_enhancers_ensembl", &[(484, 121), (484, 121)]),
    ("human_enhancers_cohn", &[(10_422, 3_474), (10_421, 3_474)]),
    (
        "human_enhancers_ensembl",
        &[(61_936, 15_485), (61_936, 15_485)],
    ),
    (
        "human_ensembl_regulatory",
        &[(85_512, 21_378), (69_902, 17_476), (75_934, 18_859)],
    ),
    (
        "human_nontata_promoters",
        &[(12_355, 4_119), (14_742, 4_915)],
    ),
    ("human_ocr_ensembl", &[(69_902, 17_476), (69_902, 17_476)]),
];

#[test]
fn real_interval_files_have_the_published_counts() {
    let Some(shared) = shared_dir() else {
        crate::source::testutil::skip(format_args!(
            "SKIP real_interval_files_have_the_published_counts: ../shared not found"
        ));
        return;
    };
    let root = shared.join("data/genomic_benchmarks");
    if !root.is_dir() {
        crate::source::testutil::skip(format_args!(
            "SKIP real_interval_files_have_the_published_counts: {} absent",
            root.display()
        ));
        return;
    }
    for (name, counts) in GB_COUNTS {
        let src = GbIntervals::open(&root.join(name), None).unwrap();
        assert_eq!(src.card().name, format!("gb/{name}"));
        for (k, split) in [Split::Train, Split::Test].into_iter().enumerate() {
            let mut per_class = vec![0u64; counts.len()];
            let (mut min, mut max) = (u64::MAX, 0);
            for row in src.intervals(split).unwrap() {
                let row = row.unwrap();
                per_class[row.class as usize] += 1;
                min = min.min(row.end - row.start);
                max = max.max(row.end - row.start);
            }
            let want: Vec<u64> = counts
                .iter()
                .map(|c| if k == 0 { c.0 } else { c.1 })
                .collect();
            assert_eq!(per_class, want, "{name} {split}");
            let card_len = src.card().length.unwrap();
            assert!(
                card_len.min as u64 <= min && max <= card_len.max as u64,
                "{name} {split}: {min}..{max}"
            );
        }
    }
}
