//! GUANinE reader tests on the SYNTHETIC fixtures in `tests/fixtures/guanine_synthetic/` (copied
//! to a temporary folder first, so indexes and edits never touch the repository).

use super::*;
use crate::registry;
use std::collections::HashMap;

fn fixtures() -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/guanine_synthetic");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&src, dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// The fixture genome, read directly (not through the code under test).
fn genome(path: &Path) -> HashMap<String, Vec<u8>> {
    let mut g: HashMap<String, Vec<u8>> = HashMap::new();
    let mut name = String::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        if let Some(h) = line.strip_prefix('>') {
            name = h.split_whitespace().next().unwrap().to_string();
        } else {
            g.entry(name.clone())
                .or_default()
                .extend(line.trim().to_ascii_uppercase().bytes());
        }
    }
    g
}

fn card(name: &str) -> &'static TaskCard {
    registry::card(&format!("guanine/{name}")).unwrap()
}

fn all(src: &dyn Source, split: Split) -> Result<Vec<Record>> {
    src.records(split)?.collect()
}

#[test]
fn csv_layout_reads_every_split_and_leaves_test_unlabelled() {
    let dir = fixtures();
    let src = Guanine::open_csv(
        &dir.path().join("dnase_propensity"),
        card("dnase_propensity"),
    )
    .unwrap();
    assert_eq!(
        src.splits(),
        vec![Split::Train, Split::Valid, Split::Test, Split::FewShot]
    );
    let sizes: Vec<usize> = src
        .splits()
        .into_iter()
        .map(|s| all(&src, s).unwrap().len())
        .collect();
    assert_eq!(sizes, [6, 4, 3, 2]);
    let dev = all(&src, Split::Valid).unwrap();
    assert_eq!(dev[0].id, "0");
    assert_eq!(dev[0].split, Split::Valid);
    assert_eq!(dev[0].seq.len(), 512);
    assert!(matches!(dev[0].label, Label::Class(y) if y <= 4));
    let test = all(&src, Split::Test).unwrap();
    assert!(test.iter().all(|r| r.label == Label::None));

    // ccre: the `task` column is kept in the id; empty y cells are unlabelled.
    let src =
        Guanine::open_csv(&dir.path().join("ccre_propensity"), card("ccre_propensity")).unwrap();
    let train = all(&src, Split::Train).unwrap();
    assert_eq!(train[0].id, "H3K4me3:0");
    assert_eq!(train[1].id, "CTCF:1");
    assert_eq!(subtask(&train[1].id), Some("CTCF"));
    assert!(
        all(&src, Split::Test)
            .unwrap()
            .iter()
            .all(|r| r.label == Label::None)
    );
}

#[test]
fn bed_layout_cuts_centred_windows_of_any_size() {
    let dir = fixtures();
    let reference = dir.path().join("hg38_synthetic.fa");
    let g = genome(&reference);
    let task = dir.path().join("ccre_propensity");
    let csv = all(
        &Guanine::open_csv(&task, card("ccre_propensity")).unwrap(),
        Split::Train,
    )
    .unwrap();
    // The fixture's CSV sequences are the 512-bp windows: BED mode at 512 must agree.
    let bed512 = Guanine::open_bed(&task, card("ccre_propensity"), &reference, 512).unwrap();
    assert_eq!(bed512.card().length.unwrap().min, 512);
    let b = all(&bed512, Split::Train).unwrap();
    assert_eq!(b, csv);

    // Odd and small contexts: [center - L/2, center - L/2 + L).
    let bed_text = std::fs::read_to_string(task.join("bed/train/train.bed")).unwrap();
    let first: Vec<&str> = bed_text.lines().nth(1).unwrap().split('\t').collect();
    let (chr, center) = (first[0], first[3].parse::<usize>().unwrap());
    for l in [1usize, 2, 7, 101, 599] {
        let src = Guanine::open_bed(&task, card("ccre_propensity"), &reference, l as u64).unwrap();
        let r = &all(&src, Split::Train).unwrap()[0];
        let start = center - l / 2;
        assert_eq!(r.seq.len(), l);
        assert_eq!(r.seq, g[chr][start..start + l], "L = {l}");
        assert_eq!(r.id, "H3K4me3:0");
    }
}

#[test]
fn bad_guanine_inputs_are_clear_errors() {
    let dir = fixtures();
    let reference = dir.path().join("hg38_synthetic.fa");
    let task = dir.path().join("dnase_propensity");
    let c = card("dnase_propensity");

    // A window that leaves its chromosome (chr2 is 1,500 bp).
    let e = all(
        &Guanine::open_bed(&task, c, &reference, 3_001).unwrap(),
        Split::Train,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("train.bed")
            && e.contains("line 2")
            && (e.contains("before the chromosome") || e.contains("past the end")),
        "{e}"
    );

    // A chromosome missing from the reference.
    std::fs::write(
        task.join("bed/dev/dev.bed"),
        "#chr\tstart\tend\tcenter\ty\nchr9\t0\t10\t500\t1\n",
    )
    .unwrap();
    let e = all(
        &Guanine::open_bed(&task, c, &reference, 10).unwrap(),
        Split::Valid,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("\"chr9\"") && e.contains("line 2"), "{e}");

    // A BED file whose header is not first (or was stripped as a comment).
    std::fs::write(task.join("bed/dev/dev.bed"), "chr1\t0\t10\t500\t1\n").unwrap();
    let e = Guanine::open_bed(&task, c, &reference, 10)
        .unwrap()
        .records(Split::Valid)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("#chr"), "{e}");

    // Labels: not an integer, out of range; a row with a missing field; a bad base.
    for (body, want) in [
        ("seq,y\nACGT,x\n", "\"x\" is not an integer"),
        ("seq,y\nACGT,5\n", "outside 0..=4"),
        ("seq,y\nACGT,1\nACGT\n", "1 fields"),
        ("seq,y\nACGT,1\nACxT,1\n", "position 2"),
        ("seq,y\n", "no rows"),
    ] {
        std::fs::write(task.join("dev/dev.csv"), body).unwrap();
        let e = all(&Guanine::open_csv(&task, c).unwrap(), Split::Valid)
            .unwrap_err()
            .to_string();
        assert!(e.contains("dev.csv") && e.contains(want), "{want}: {e}");
    }

    // A task folder missing a split; a task whose layout is unpublished.
    std::fs::remove_dir_all(task.join("1per")).unwrap();
    let e = Guanine::open_csv(&task, c).err().unwrap().to_string();
    assert!(e.contains("missing split 1per"), "{e}");
    let e = Guanine::open_csv(&task, card("cadd_snv"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not published"), "{e}");
}
