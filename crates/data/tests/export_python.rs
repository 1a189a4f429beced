//! strand's own export of two real tasks against what pandas and `datasets` read from the
//! binary's export (`scripts/check_export.py` → `fixtures/export/python_read.json`): the same
//! splits, row counts, per-class counts, label vocabulary, first ids and split seed. Skipped (with
//! a printed reason) where `../shared/data` is absent.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use strand_data::export::{self, ExportFormat, ExportOptions, Manifest};
use strand_data::{OpenOptions, Split};

fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP {test}: ../shared/data not found beside the repository");
        None
    }
}

fn fixture() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export/python_read.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// First ids of a CSV export's split (the id column).
fn first_csv_ids(path: &std::path::Path, n: usize) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "sequence", "label", "label_index"]
    );
    r.records()
        .take(n)
        .map(|row| row.unwrap()[0].to_string())
        .collect()
}

#[test]
fn strand_exports_what_pandas_and_datasets_read() {
    let Some(data) = shared_data("strand_exports_what_pandas_and_datasets_read") else {
        return;
    };
    let fixture = fixture();
    let tasks = fixture["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    let folders = BTreeMap::from([
        ("cnnprom/ecoli", "cnnprom"),
        ("gb/human_enhancers_ensembl", "genomic_benchmarks_real"),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    for want in tasks {
        let task = want["task"].as_str().unwrap();
        let opts = OpenOptions {
            data_dir: Some(data.join(folders[task])),
            ..OpenOptions::default()
        };
        let (source, provenance) = export::open_for_export(task, &opts, ExportFormat::Csv).unwrap();
        let dataset = export::dataset_name(task);
        let out = tmp.path().join(&dataset);
        let summary = export::export(
            source.as_ref(),
            &provenance,
            &out,
            &ExportOptions {
                format: ExportFormat::Csv,
                dataset: dataset.clone(),
                overwrite: false,
            },
        )
        .unwrap();
        let m = Manifest::read(&summary.dir.join("split.json")).unwrap();
        assert_eq!(m, summary.manifest);
        assert_eq!(
            serde_json::to_value(&m.split_plan).unwrap(),
            want["split_plan"],
            "{task}: split seed and fractions"
        );
        let card: Value =
            serde_json::from_str(&std::fs::read_to_string(summary.dir.join("card.json")).unwrap())
                .unwrap();
        assert_eq!(card["labels"]["names"], want["classes"], "{task}");
        let want_splits = want["splits"].as_object().unwrap();
        let mut splits: Vec<&str> = m.splits.iter().map(|s| s.split.as_str()).collect();
        splits.sort();
        assert_eq!(
            splits,
            want_splits.keys().map(String::as_str).collect::<Vec<_>>(),
            "{task} (the fixture's keys are sorted)"
        );
        for s in &m.splits {
            let w = &want_splits[s.split.as_str()];
            assert_eq!(s.records, w["rows"].as_u64().unwrap(), "{task} {}", s.split);
            assert_eq!(
                s.derived,
                w["derived"].as_bool().unwrap(),
                "{task} {}",
                s.split
            );
            assert_eq!(
                serde_json::to_value(&s.classes).unwrap(),
                w["per_class"],
                "{task} {}",
                s.split
            );
            let ids: Vec<Value> = first_csv_ids(&summary.dir.join(&s.file), 5)
                .into_iter()
                .map(Value::from)
                .collect();
            assert_eq!(Value::from(ids), w["first_ids"], "{task} {}", s.split);
        }
        // The derived splits: CNNProm's three, GB's valid (and the train it was cut from).
        let derived: Vec<Split> = m
            .splits
            .iter()
            .filter(|s| s.derived)
            .map(|s| s.split)
            .collect();
        if task.starts_with("cnnprom") {
            assert_eq!(derived, [Split::Train, Split::Valid, Split::Test]);
        } else {
            assert_eq!(derived, [Split::Train, Split::Valid]);
        }
        assert_eq!(m.split_plan.as_ref().map(|p| p.seed), Some(0));
    }
}
