//! Exports read back through strand's own readers: the GB native layout, CSV/TSV through the
//! table reader, FASTA headers, Parquet through the parquet crate's reader.

use super::*;
use crate::source::gb_intervals::{GbIntervals, ReferenceChoice};
use crate::source::gb_native::GbNative;
use crate::source::testutil::{bases, fasta_text, write, write_gz};
use crate::{Label, Source};

fn all(src: &dyn Source, split: Split) -> Vec<Record> {
    src.records(split)
        .unwrap()
        .collect::<Result<Vec<_>>>()
        .unwrap()
}

fn opts(format: ExportFormat, dataset: &str) -> ExportOptions {
    ExportOptions {
        format,
        dataset: dataset.into(),
        overwrite: false,
    }
}

/// Two FASTA classes (`neg`: `n` records, `pos`: `p` records) as a `fasta:` spec.
fn fasta_task(dir: &Path, n: usize, p: usize) -> String {
    let seqs = |prefix: &str, k: usize, salt: u64| {
        let mut text = String::new();
        for i in 0..k {
            let s = bases(12 + i % 5, salt + i as u64);
            text.push_str(&format!(
                ">{prefix}{i}\n{}\n",
                String::from_utf8(s).unwrap()
            ));
        }
        text
    };
    let a = write(&dir.join("neg.fa"), seqs("n", n, 1).as_bytes());
    let b = write(&dir.join("pos.fa"), seqs("p", p, 1000).as_bytes());
    format!("fasta:neg={},pos={}", a.display(), b.display())
}

fn plan(seed: u64) -> OpenOptions {
    OpenOptions {
        plan: SplitPlan {
            seed,
            ..SplitPlan::default()
        },
        ..OpenOptions::default()
    }
}

#[test]
fn gb_export_of_an_interval_build_reads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let chr = bases(2_000, 3);
    let reference = write(&dir.path().join("g.fa"), &fasta_text(&[("1", &chr)], 50));
    let root = dir.path().join("intervals/mini");
    write(
        &root.join("metadata.yaml"),
        b"classes:\n  a:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    type: fa.gz\n    url: x\n  b:\n    extra_processing: ENSEMBL_HUMAN_GENOME\n    type: fa.gz\n    url: x\nversion: 0\n",
    );
    for split in ["train", "test"] {
        write_gz(
            &root.join(format!("{split}/a.csv.gz")),
            b"id,region,start,end,strand\n0,chr1,0,100,+\n1,chr1,1900,2000,-\n",
        );
        write_gz(
            &root.join(format!("{split}/b.csv.gz")),
            b"id,region,start,end,strand\nx_7,chr1,10,30,\n",
        );
    }
    let src = GbIntervals::open(&root, Some(&ReferenceChoice::File(reference))).unwrap();
    let prov = Provenance {
        published: src.splits(),
        derived: vec![],
        plan: None,
    };
    let out = dir.path().join("native");
    let summary = export(&src, &prov, &out, &opts(ExportFormat::Gb, "mini")).unwrap();
    let train = &summary.manifest.splits[0];
    assert_eq!(
        (train.split, train.records, train.classes["a"]),
        (Split::Train, 3, 2)
    );
    assert!(summary.manifest.split_plan.is_none());
    assert_eq!(
        std::fs::read(out.join("mini/train/b/x_7.txt")).unwrap(),
        &chr[10..30]
    );
    let back = GbNative::open(&out.join("mini")).unwrap();
    for split in [Split::Train, Split::Test] {
        assert_eq!(all(&back, split), all(&src, split));
    }
    let card: crate::TaskCard =
        serde_json::from_str(&std::fs::read_to_string(out.join("mini/card.json")).unwrap())
            .unwrap();
    assert_eq!(&card, src.card());
    let e = export(&src, &prov, &out, &opts(ExportFormat::Gb, "mini"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("refusing to overwrite") && e.contains("--overwrite"),
        "{e}"
    );
}

#[test]
fn refuses_escaping_names_and_duplicate_ids_naming_the_destination() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.fa"), dir.path().join("b.fa"));
    write(&a, b">r1\nACGT\n>r2\nACGA\n");
    write(&b, b">s1\nTTTT\n");
    let to = dir.path().join("out");
    let spec = format!("fasta:../../../x={},b={}", a.display(), b.display());
    let src = crate::open_raw(&spec, &Default::default()).unwrap();
    let prov = Provenance {
        published: src.splits(),
        derived: vec![],
        plan: None,
    };
    let e = export(src.as_ref(), &prov, &to, &opts(ExportFormat::Gb, "toy"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("class name") && e.contains("../../../x"), "{e}");
    assert!(!dir.path().join("x").exists() && !to.join("toy").exists());
    let e = export(src.as_ref(), &prov, &to, &opts(ExportFormat::Csv, "../up"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("dataset name"), "{e}");

    // Two records with one id: an error naming the user's destination and the id, never the
    // temporary folder, and nothing left behind.
    write(&a, b">r1\nACGT\n>r1\nACGA\n");
    let spec = format!("fasta:a={},b={}", a.display(), b.display());
    let src = crate::open_raw(&spec, &Default::default()).unwrap();
    for format in [ExportFormat::Gb, ExportFormat::Csv] {
        let e = export(src.as_ref(), &prov, &to, &opts(format, "toy"))
            .unwrap_err()
            .to_string();
        let file = to.join("toy").join(format.file_name(Split::Train));
        assert!(
            e.contains(&file.display().to_string()) && e.contains("r1") && e.contains("this id"),
            "{e}"
        );
        assert!(!e.contains(".part-"), "{e}");
        assert_eq!(std::fs::read_dir(&to).unwrap().count(), 0, "{format:?}");
    }
    // Two ids that map to one GB file name: the writer's error, moved from the temporary
    // folder to the destination.
    let t = write(
        &dir.path().join("t.csv"),
        b"id,sequence,label\nx y,ACGT,a\nx_y,ACGA,a\nz,ACGA,b\n",
    );
    let src = crate::open_raw(&format!("csv:{}", t.display()), &Default::default()).unwrap();
    let e = export(src.as_ref(), &prov, &to, &opts(ExportFormat::Gb, "toy"))
        .unwrap_err()
        .to_string();
    let file = to.join("toy/train/a/x_y.txt");
    assert!(
        e.contains(&file.display().to_string())
            && e.contains("record x_y")
            && e.contains("same id"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(&to).unwrap().count(), 0);
}

#[test]
fn csv_and_tsv_read_back_through_the_table_reader() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fasta_task(dir.path(), 30, 20);
    let (src, prov) = open_for_export(&spec, &plan(3), ExportFormat::Csv).unwrap();
    for (format, delimiter) in [(ExportFormat::Csv, ','), (ExportFormat::Tsv, '\t')] {
        let out = dir.path().join(format.as_str());
        let summary = export(src.as_ref(), &prov, &out, &opts(format, "toy")).unwrap();
        assert_eq!(
            summary.manifest.columns,
            ["id", "sequence", "label", "label_index"]
        );
        for s in &summary.manifest.splits {
            let path = out.join("toy").join(&s.file);
            let text = std::fs::read_to_string(&path).unwrap();
            let header = text.lines().next().unwrap();
            assert_eq!(
                header,
                ["id", "sequence", "label", "label_index"].join(&delimiter.to_string())
            );
            let table_spec = format!("{}:{}", format.as_str(), path.display());
            let back = crate::open_raw(&table_spec, &Default::default()).unwrap();
            let LabelKind::Classes { names } = &back.card().labels else {
                panic!("classes expected")
            };
            let theirs = all(src.as_ref(), s.split);
            let ours = all(back.as_ref(), Split::Train);
            assert_eq!(ours.len() as u64, s.records);
            assert_eq!(ours.len(), theirs.len());
            for (o, t) in ours.iter().zip(&theirs) {
                assert_eq!((&o.id, &o.seq), (&t.id, &t.seq));
                let name = |l: &Label, n: &[String]| n[l.class().unwrap() as usize].clone();
                assert_eq!(
                    name(&o.label, names),
                    name(&t.label, &["neg".into(), "pos".into()])
                );
            }
        }
    }
}

#[test]
fn derived_splits_record_their_seed_and_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fasta_task(dir.path(), 40, 30);
    let (src, prov) = open_for_export(&spec, &plan(7), ExportFormat::Csv).unwrap();
    assert_eq!(prov.published, vec![Split::Train]);
    assert_eq!(prov.derived, vec![Split::Train, Split::Valid, Split::Test]);
    let out = dir.path().join("out");
    export(src.as_ref(), &prov, &out, &opts(ExportFormat::Fasta, "toy")).unwrap();
    let m = Manifest::read(&out.join("toy/split.json")).unwrap();
    assert_eq!(m.split_plan.as_ref().map(|p| p.seed), Some(7));
    assert_eq!(m.split_plan.as_ref().map(|p| p.valid_frac), Some(0.1));
    let counts: Vec<(Split, u64, bool)> = m
        .splits
        .iter()
        .map(|s| (s.split, s.records, s.derived))
        .collect();
    assert_eq!(
        counts,
        [
            (Split::Train, 56, true),
            (Split::Valid, 7, true),
            (Split::Test, 7, true)
        ]
    );
    assert_eq!(m.splits[2].classes["neg"] + m.splits[2].classes["pos"], 7);
    // The test file holds exactly the records the same plan derives.
    let fasta = std::fs::read_to_string(out.join("toy/test.fa")).unwrap();
    let ids: Vec<&str> = fasta
        .lines()
        .filter_map(|l| l.strip_prefix('>'))
        .map(|h| h.split(' ').next().unwrap())
        .collect();
    let again = crate::open(&spec, &plan(7)).unwrap();
    let want: Vec<String> = all(again.as_ref(), Split::Test)
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, want);
    assert!(fasta.lines().next().unwrap().contains(" label="));
    assert!(fasta.contains("label_index="));
    // Another seed, another test split.
    let other = crate::open(&spec, &plan(8)).unwrap();
    let other: Vec<String> = all(other.as_ref(), Split::Test)
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_ne!(other, want);

    // The gb format keeps a publisher's train/test; valid_frac 0 does the same for tables.
    let gb_like = write(
        &dir.path().join("gb.csv"),
        b"id,sequence,label,split\na,ACGT,x,train\nb,ACGA,y,train\nc,ACGG,x,test\n",
    );
    let spec = format!("csv:{}", gb_like.display());
    let (_, prov) = open_for_export(&spec, &plan(0), ExportFormat::Gb).unwrap();
    assert!(prov.derived.is_empty() && prov.plan.is_none());
    let mut none = plan(0);
    none.plan.valid_frac = 0.0;
    let (src, prov) = open_for_export(&spec, &none, ExportFormat::Csv).unwrap();
    assert_eq!(src.splits(), vec![Split::Train, Split::Test]);
    assert!(prov.derived.is_empty() && prov.plan.is_none());
}

#[test]
fn overwrite_replaces_and_a_failed_overwrite_keeps_the_old_export() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fasta_task(dir.path(), 10, 10);
    let (src, prov) = open_for_export(&spec, &plan(0), ExportFormat::Csv).unwrap();
    let out = dir.path().join("out");
    export(src.as_ref(), &prov, &out, &opts(ExportFormat::Csv, "toy")).unwrap();
    let mut o = opts(ExportFormat::Tsv, "toy");
    assert!(export(src.as_ref(), &prov, &out, &o).is_err());
    o.overwrite = true;
    export(src.as_ref(), &prov, &out, &o).unwrap();
    assert!(out.join("toy/train.tsv").is_file() && !out.join("toy/train.csv").exists());
    // A failing export (a bad record) leaves the previous one in place.
    write(&dir.path().join("pos.fa"), b">p0\nACGT\n>p0\nACGA\n");
    let src = crate::open_raw(&spec, &OpenOptions::default()).unwrap();
    let prov = Provenance {
        published: src.splits(),
        derived: vec![],
        plan: None,
    };
    let e = export(src.as_ref(), &prov, &out, &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("toy/train.tsv") && e.contains("p0"), "{e}");
    assert!(out.join("toy/train.tsv").is_file());
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["toy"]);
}

#[test]
fn unlabelled_and_numeric_labels_have_the_right_cells() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(
        &dir.path().join("reg.csv"),
        b"id,sequence,label,split\na,ACGT,0.5,train\nb,ACGA,-1.25,train\nc,ACGG,,test\n",
    );
    let spec = format!("csv:{}", table.display());
    let (src, prov) = open_for_export(&spec, &plan(0), ExportFormat::Csv).unwrap();
    let out = dir.path().join("out");
    export(src.as_ref(), &prov, &out, &opts(ExportFormat::Csv, "reg")).unwrap();
    let train = std::fs::read_to_string(out.join("reg/train.csv")).unwrap();
    assert!(train.starts_with("id,sequence,label\n"), "{train}");
    assert!(train.contains("b,ACGA,-1.25\n"), "{train}");
    let test = std::fs::read_to_string(out.join("reg/test.csv")).unwrap();
    assert!(test.ends_with("c,ACGG,\n"), "{test}");
    let back = crate::open_raw(
        &format!("csv:{}", out.join("reg/train.csv").display()),
        &Default::default(),
    )
    .unwrap();
    let labels: Vec<Label> = all(back.as_ref(), Split::Train)
        .into_iter()
        .map(|r| r.label)
        .collect();
    assert_eq!(labels, [Label::Value(0.5), Label::Value(-1.25)]);
    assert!(
        export(src.as_ref(), &prov, &out, &opts(ExportFormat::Gb, "gb"))
            .unwrap_err()
            .to_string()
            .contains("only classification tasks")
    );
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fasta_task(dir.path(), 10, 10);
    let (src, prov) = open_for_export(&spec, &plan(0), ExportFormat::Csv).unwrap();
    let e = export(
        src.as_ref(),
        &prov,
        dir.path(),
        &opts(ExportFormat::Parquet, "toy"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("--features parquet") && e.contains("--format csv"),
        "{e}"
    );
}

#[cfg(feature = "parquet")]
mod parquet_files {
    use super::*;
    use ::parquet::file::reader::{FileReader, SerializedFileReader};
    use ::parquet::record::Field;

    /// Rows of a Parquet file as (column name → field) lists, and its row-group count.
    fn read(path: &Path) -> (Vec<Vec<(String, Field)>>, usize) {
        let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        let groups = reader.metadata().num_row_groups();
        let rows = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| {
                r.unwrap()
                    .get_column_iter()
                    .map(|(n, f)| (n.clone(), f.clone()))
                    .collect()
            })
            .collect();
        (rows, groups)
    }

    #[test]
    fn classes_round_trip_with_names_indices_and_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        // More records than one row group holds.
        let n = super::super::parquet::ROWS_PER_GROUP + 10;
        let mut text = String::with_capacity(n * 16);
        for i in 0..n {
            text.push_str(&format!(">n{i}\nACGT\n"));
        }
        let a = write(&dir.path().join("a.fa"), text.as_bytes());
        let b = write(&dir.path().join("b.fa"), b">p0\nGGCC\n>p1\nTTAA\n");
        let spec = format!("fasta:neg={},pos={}", a.display(), b.display());
        let mut o = plan(1);
        o.plan.valid_frac = 0.0;
        o.plan.test_frac = 0.0;
        let (src, prov) = open_for_export(&spec, &o, ExportFormat::Parquet).unwrap();
        let out = dir.path().join("out");
        let s = export(
            src.as_ref(),
            &prov,
            &out,
            &opts(ExportFormat::Parquet, "toy"),
        )
        .unwrap();
        let train = &s.manifest.splits[0];
        assert_eq!(
            (train.file.as_str(), train.records),
            ("train.parquet", n as u64 + 2)
        );
        let (rows, groups) = read(&out.join("toy/train.parquet"));
        assert_eq!(groups, 2);
        assert_eq!(rows.len(), n + 2);
        let want = all(src.as_ref(), Split::Train);
        for (row, r) in rows.iter().zip(&want) {
            let names: Vec<&str> = row.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["id", "sequence", "label", "label_index"]);
            let c = r.label.class().unwrap();
            assert_eq!(row[0].1, Field::Str(r.id.clone()));
            assert_eq!(
                row[1].1,
                Field::Str(String::from_utf8(r.seq.clone()).unwrap())
            );
            assert_eq!(row[2].1, Field::Str(["neg", "pos"][c as usize].into()));
            assert_eq!(row[3].1, Field::Long(c as i64));
        }
    }

    #[test]
    fn values_levels_and_missing_labels() {
        let dir = tempfile::tempdir().unwrap();
        let table = write(
            &dir.path().join("reg.csv"),
            b"id,sequence,label,split\na,ACGT,0.5,train\nb,ACGA,-1.25,train\nc,ACGG,,test\n",
        );
        let spec = format!("csv:{}", table.display());
        let (src, prov) = open_for_export(&spec, &plan(0), ExportFormat::Parquet).unwrap();
        let out = dir.path().join("out");
        let mut o = opts(ExportFormat::Parquet, "reg");
        export(src.as_ref(), &prov, &out, &o).unwrap();
        let (train, _) = read(&out.join("reg/train.parquet"));
        assert_eq!(train[1][2], ("label".to_string(), Field::Double(-1.25)));
        let (test, _) = read(&out.join("reg/test.parquet"));
        assert_eq!(test[0][2], ("label".to_string(), Field::Null));
        // Ordinal levels (a GUANinE-format task) are integers; its test labels are null.
        let generator = crate::source::synthetic_guanine::SyntheticGuanine {
            n_train: 20,
            n_dev: 5,
            n_test: 5,
            len: 30,
            ..Default::default()
        };
        generator
            .write_task(dir.path(), "dnase_propensity")
            .unwrap();
        let data = OpenOptions {
            data_dir: Some(dir.path().to_path_buf()),
            ..OpenOptions::default()
        };
        let (src, prov) =
            open_for_export("guanine/dnase_propensity", &data, ExportFormat::Parquet).unwrap();
        assert!(prov.derived.is_empty(), "{prov:?}");
        o.dataset = "lv".into();
        let s = export(src.as_ref(), &prov, &out, &o).unwrap();
        let files: Vec<&str> = s.manifest.splits.iter().map(|s| s.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "train.parquet",
                "valid.parquet",
                "test.parquet",
                "1per.parquet"
            ]
        );
        let (rows, _) = read(&out.join("lv/train.parquet"));
        assert_eq!(rows.len(), 20);
        assert!(
            rows.iter().all(|r| matches!(r[2].1, Field::Long(0..=4))),
            "{:?}",
            rows[0]
        );
        let (rows, _) = read(&out.join("lv/test.parquet"));
        assert!(rows.iter().all(|r| r[2].1 == Field::Null));
    }
}
