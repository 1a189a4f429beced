//! `strand predict`: its outputs equal `strand eval --predictions` on the same records, BED
//! windows equal windows cut by hand, VCF variants are checked against the genome and move the
//! score the right way, and the reverse-complement average is strand-symmetric.

mod common;

use common::{assert_clean_failure, run, write_fasta};
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(o: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "strand failed:\n{err}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// xorshift bases.
fn bases(state: &mut u64, n: usize) -> String {
    (0..n)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            b"ACGT"[(*state % 4) as usize] as char
        })
        .collect()
}

/// The motif every promoter carries at bases 30..36 of its 64.
const MOTIF_AT: usize = 30;

/// A CSV task of 64-bp sequences (label 1 = `TATAAA` at [`MOTIF_AT`]; row `i` has label
/// `(i / 10) % 2`) with an explicit split column; returns (task spec, the test rows as (id,
/// sequence)).
fn motif_task(dir: &Path) -> (String, Vec<(String, String)>) {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut text = String::from("id,sequence,label,split\n");
    let mut test = Vec::new();
    for i in 0..400 {
        let label = (i / 10) % 2;
        let mut seq = bases(&mut x, 64);
        if label == 1 {
            seq.replace_range(MOTIF_AT..MOTIF_AT + 6, "TATAAA");
        }
        let split = match i % 10 {
            0 => "test",
            1 => "valid",
            _ => "train",
        };
        let id = format!("r{i}");
        if split == "test" {
            test.push((id.clone(), seq.clone()));
        }
        text.push_str(&format!("{id},{seq},{label},{split}\n"));
    }
    let csv = dir.join("motif.csv");
    std::fs::write(&csv, text).unwrap();
    (format!("csv:{}", csv.display()), test)
}

/// A trained cnn-gb run on [`motif_task`].
fn trained(dir: &Path) -> (PathBuf, Vec<(String, String)>) {
    let (task, test) = motif_task(dir);
    let out = dir.join("run");
    ok(&run(&[
        "train",
        "--task",
        &task,
        "--epochs",
        "6",
        "--batch-size",
        "32",
        "--out",
        s(&out),
    ]));
    (out, test)
}

/// `(id, values)` rows of a TSV with a header.
fn rows(tsv: &str) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let mut lines = tsv.lines();
    let header = lines
        .next()
        .unwrap()
        .split('\t')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| {
            let mut f = l.split('\t');
            let id = f.next().unwrap().to_string();
            (id, f.map(|v| v.parse().unwrap()).collect())
        })
        .collect();
    (header, rows)
}

#[test]
fn predict_matches_eval_and_bed_matches_hand_cut_windows_and_rc_average_is_symmetric() {
    let dir = tempfile::tempdir().unwrap();
    let (run_dir, test) = trained(dir.path());

    // 1. The test split's sequences as FASTA, through predict, equal eval --predictions.
    ok(&run(&[
        "eval",
        "--run",
        s(&run_dir),
        "--split",
        "test",
        "--predictions",
    ]));
    let (_, eval_rows) = rows(&std::fs::read_to_string(run_dir.join("predictions.tsv")).unwrap());
    let fasta = dir.path().join("test.fa");
    write_fasta(&fasta, &test);
    let out = ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--fasta",
        s(&fasta),
        "--batch-size",
        "64",
    ]));
    let (header, pred_rows) = rows(&out);
    assert_eq!(header, ["id", "p_0", "p_1"]);
    assert_eq!(pred_rows.len(), test.len());
    for ((id, p), (eid, e)) in pred_rows.iter().zip(&eval_rows) {
        assert_eq!(id, eid);
        assert!((p[0] + p[1] - 1.0).abs() < 1e-6, "{p:?}");
        // Same model, same batches of 64: the same arithmetic (stated tolerance 1e-6).
        assert!(
            (p[1] - e[0]).abs() <= 1e-6,
            "{id}: predict {} vs eval {}",
            p[1],
            e[0]
        );
    }
    // The model learnt the motif: promoters score higher.
    let mean = |promoter: bool| {
        let v: Vec<f64> = pred_rows
            .iter()
            .filter(|(id, _)| ((id[1..].parse::<usize>().unwrap() / 10) % 2 == 1) == promoter)
            .map(|(_, p)| p[1])
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(
        mean(true) > mean(false) + 0.3,
        "{} vs {}",
        mean(true),
        mean(false)
    );

    // Standard input and CSV give the same rows.
    let csv = dir.path().join("test.csv");
    let mut text = String::from("id,sequence\n");
    for (id, seq) in &test {
        text.push_str(&format!("{id},{seq}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let from_csv = ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--csv",
        s(&csv),
        "--batch-size",
        "64",
    ]));
    assert_eq!(from_csv, out);
    let from_stdin = {
        use std::io::Write;
        let mut child = common::strand()
            .args(["predict", "--run", s(&run_dir), "--batch-size", "64"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(&std::fs::read(&fasta).unwrap())
            .unwrap();
        ok(&child.wait_with_output().unwrap())
    };
    assert_eq!(from_stdin, out);

    // 2. BED regions with --window equal the same windows cut by hand.
    let mut x = 7u64;
    let chrom = bases(&mut x, 2000);
    let genome = dir.path().join("genome.fa");
    write_fasta(&genome, &[("chrT".to_string(), chrom.clone())]);
    let bed = dir.path().join("regions.bed");
    let regions = [(100usize, 110usize), (500, 700), (1900, 1950)];
    let mut bed_text = String::from("track name=test\n");
    let mut cut = Vec::new();
    for (i, (a, b)) in regions.iter().enumerate() {
        bed_text.push_str(&format!("chrT\t{a}\t{b}\tregion{i}\n"));
        let start = (a + b) / 2 - 32;
        cut.push((format!("region{i}"), chrom[start..start + 64].to_string()));
    }
    std::fs::write(&bed, bed_text).unwrap();
    let cut_fa = dir.path().join("cut.fa");
    write_fasta(&cut_fa, &cut);
    let from_bed = ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--bed",
        s(&bed),
        "--reference",
        s(&genome),
        "--window",
        "64",
    ]));
    let by_hand = ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--fasta",
        s(&cut_fa),
    ]));
    assert_eq!(from_bed, by_hand);
    // A window off the chromosome's end is an error naming the region.
    std::fs::write(&bed, "chrT\t1990\t1999\tlate\n").unwrap();
    let o = run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--bed",
        s(&bed),
        "--reference",
        s(&genome),
        "--window",
        "64",
    ]);
    assert_clean_failure(&o, &["late", "past the end of chrT"]);

    // 3. --rc-average: a sequence and its reverse complement get exactly the same outputs.
    let rc = |seq: &str| -> String {
        seq.bytes()
            .rev()
            .map(|b| match b {
                b'A' => 'T',
                b'C' => 'G',
                b'G' => 'C',
                _ => 'A',
            })
            .collect()
    };
    let flipped: Vec<(String, String)> = test.iter().map(|(id, q)| (id.clone(), rc(q))).collect();
    let flipped_fa = dir.path().join("flipped.fa");
    write_fasta(&flipped_fa, &flipped);
    let fwd = ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--fasta",
        s(&fasta),
        "--rc-average",
    ]));
    let bwd = ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--fasta",
        s(&flipped_fa),
        "--rc-average",
    ]));
    assert_eq!(fwd, bwd);
    assert_ne!(fwd, out, "averaging changes the outputs");

    // --out is written whole, and never over an existing file without --overwrite.
    let file = dir.path().join("p.tsv");
    ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--fasta",
        s(&fasta),
        "--out",
        s(&file),
    ]));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().lines().count(),
        test.len() + 1
    );
    let o = run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--fasta",
        s(&fasta),
        "--out",
        s(&file),
    ]);
    assert_clean_failure(&o, &["exists", "--overwrite"]);
}

#[test]
fn variants_are_checked_against_the_genome_and_move_the_score_the_right_way() {
    let dir = tempfile::tempdir().unwrap();
    let (run_dir, _) = trained(dir.path());
    // A genome whose [1000, 1064) window carries the motif at MOTIF_AT; a variant at the
    // window's centre (offset 32 = the motif's second T) destroys it.
    let mut x = 99u64;
    let mut chrom = bases(&mut x, 3000);
    chrom.replace_range(1000 + MOTIF_AT..1000 + MOTIF_AT + 6, "TATAAA");
    let genome = dir.path().join("genome.fa");
    write_fasta(&genome, &[("chrV".to_string(), chrom.clone())]);
    let centre = 1000 + 32; // 0-based; the window of 64 centred on it starts at 1000
    assert_eq!(&chrom[centre..centre + 1], "T");
    let vcf = dir.path().join("v.vcf");
    let header = "##fileformat=VCFv4.2\n##contig=<ID=chrV,length=3000>\n\
                  #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    std::fs::write(
        &vcf,
        format!(
            "{header}chrV\t{}\tkill\tT\tC,G\t.\t.\t.\nchrV\t{}\tindel\tT\tTA\t.\t.\t.\n",
            centre + 1,
            centre + 1
        ),
    )
    .unwrap();
    let out = ok(&run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--variants",
        s(&vcf),
        "--reference",
        s(&genome),
        "--window",
        "64",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("id\tchrom\tpos\tref\talt\tp_0_ref\tp_0_alt\tp_0_delta\tp_1_ref"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 3, "two SNVs; the indel is skipped: {out}");
    for line in &lines[1..] {
        let f: Vec<&str> = line.split('\t').collect();
        let (p1_ref, p1_alt, p1_delta): (f64, f64, f64) = (
            f[8].parse().unwrap(),
            f[9].parse().unwrap(),
            f[10].parse().unwrap(),
        );
        assert!((p1_alt - p1_ref - p1_delta).abs() < 1e-12);
        assert!(
            p1_delta < -0.05,
            "breaking the motif lowers p(promoter): {line}"
        );
    }
    // REF that does not match the genome: an error naming the variant.
    std::fs::write(
        &vcf,
        format!("{header}chrV\t{}\twrongref\tG\tA\t.\t.\t.\n", centre + 1),
    )
    .unwrap();
    let o = run(&[
        "predict",
        "--run",
        s(&run_dir),
        "--variants",
        s(&vcf),
        "--reference",
        s(&genome),
        "--window",
        "64",
    ]);
    assert_clean_failure(&o, &["wrongref", "REF is G", "has T"]);
    // Bad input: an unknown run, a sequence with a bad letter.
    let o = run(&[
        "predict",
        "--run",
        s(&dir.path().join("nope")),
        "--fasta",
        s(&vcf),
    ]);
    assert_clean_failure(&o, &["nope"]);
    let bad = dir.path().join("bad.fa");
    std::fs::write(&bad, ">b1\nACGTXACGT\n").unwrap();
    let o = run(&["predict", "--run", s(&run_dir), "--fasta", s(&bad)]);
    assert_clean_failure(&o, &["bad.fa", "b1", "'X'"]);
}
