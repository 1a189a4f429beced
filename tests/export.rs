//! `strand data export` end to end: formats, the split flags, --overwrite, and the default GB
//! layout.

mod common;

use common::{assert_clean_failure, run, tiny_task};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "strand failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("split.json")).unwrap()).unwrap()
}

#[test]
fn csv_export_records_the_split_flags_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let task = tiny_task(tmp.path(), 50);
    let to = tmp.path().join("out");
    let export = |extra: &[&str]| {
        let mut args = vec!["data", "export", &task, "--format", "csv", "--to", s(&to)];
        args.extend_from_slice(extra);
        run(&args)
    };
    let stdout = ok(&export(&[
        "--name",
        "toy",
        "--split-seed",
        "3",
        "--valid-frac",
        "0.2",
    ]));
    assert!(
        stdout.contains("derived splits: seed 3, valid 0.2"),
        "{stdout}"
    );
    let dir = to.join("toy");
    let m = manifest(&dir);
    assert_eq!(m["split_plan"]["seed"], 3);
    assert_eq!(m["split_plan"]["valid_frac"], 0.2);
    let records: Vec<u64> = ["train", "valid", "test"]
        .iter()
        .map(|split| {
            let text = std::fs::read_to_string(dir.join(format!("{split}.csv"))).unwrap();
            assert!(text.starts_with("id,sequence,label,label_index\n"));
            text.lines().count() as u64 - 1
        })
        .collect();
    let total: u64 = records.iter().sum();
    assert_eq!(
        records[1],
        (total as f64 * 0.2).round() as u64,
        "{records:?}"
    );
    assert!(dir.join("card.json").is_file());

    let out = export(&["--name", "toy"]);
    assert_clean_failure(&out, &["refusing to overwrite", "--overwrite"]);
    assert_eq!(manifest(&dir)["split_plan"]["seed"], 3, "left as it was");
    ok(&export(&["--name", "toy", "--overwrite"]));
    assert_eq!(manifest(&dir)["split_plan"]["seed"], 0);
}

#[test]
fn the_default_format_is_the_gb_layout_with_the_publishers_splits() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.csv");
    std::fs::write(
        &table,
        "id,sequence,label,split\na,ACGT,neg,train\nb,ACGA,pos,train\nc,ACGG,neg,test\nd,AAGG,pos,test\n",
    )
    .unwrap();
    let task = format!("csv:{}", table.display());
    let to = tmp.path().join("gb");
    ok(&run(&["data", "export", &task, "--to", s(&to)]));
    let dir = to.join("t.csv");
    assert_eq!(std::fs::read(dir.join("train/pos/b.txt")).unwrap(), b"ACGA");
    assert_eq!(std::fs::read(dir.join("test/neg/c.txt")).unwrap(), b"ACGG");
    assert!(!dir.join("valid").exists());
    assert!(manifest(&dir)["split_plan"].is_null());
    let out = run(&["data", "export", &task, "--to", s(&to), "--format", "nope"]);
    assert_clean_failure(&out, &["nope"]);
}
