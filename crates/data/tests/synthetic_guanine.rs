//! The SYNTHETIC GUANinE-format task generator, read back through the public `open` API exactly
//! like a cloned GUANinE task, and scored with the task's metrics.

use strand_data::metrics::{Predictions, score};
use strand_data::source::synthetic_guanine::{SyntheticGuanine, gc_oracle, level_of, oracle};
use strand_data::{Label, LabelKind, Metric, OpenOptions, Record, Source, Split, open};

fn small() -> SyntheticGuanine {
    SyntheticGuanine {
        n_train: 600,
        n_dev: 300,
        n_test: 120,
        len: 512,
        seed: 7,
        test_labels: false,
    }
}

fn read(source: &dyn Source, split: Split) -> Vec<Record> {
    source
        .records(split)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn opts(dir: &std::path::Path) -> OpenOptions {
    OpenOptions {
        data_dir: Some(dir.to_path_buf()),
        ..OpenOptions::default()
    }
}

#[test]
fn ordinal_task_reads_back_as_guanine_dnase_propensity() {
    let tmp = tempfile::tempdir().unwrap();
    let g = small();
    let dir = g.write_task(tmp.path(), "dnase_propensity").unwrap();
    for split in ["train", "dev", "test", "1per"] {
        assert!(
            dir.join(split).join(format!("{split}.csv")).is_file(),
            "{split}"
        );
    }
    let header = std::fs::read_to_string(dir.join("dev/dev.csv")).unwrap();
    assert!(header.starts_with("seq,y\n"), "{}", &header[..20]);

    let source = open("guanine/dnase_propensity", &opts(tmp.path())).unwrap();
    assert_eq!(source.card().labels, LabelKind::Ordinal { min: 0, max: 4 });
    for (split, n) in [
        (Split::Train, 600),
        (Split::Valid, 300),
        (Split::Test, 120),
        (Split::FewShot, 6),
    ] {
        let records = read(source.as_ref(), split);
        assert_eq!(records.len(), n, "{split:?}");
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.id, i.to_string());
            assert_eq!(r.seq.len(), 512);
            let want = g.record(split, i);
            assert_eq!(r.seq, want.seq, "{split:?} row {i}");
            match (split, &r.label) {
                (Split::Test, Label::None) => {}
                (Split::Test, l) => panic!("test row {i} has a public label {l:?}"),
                (_, Label::Class(level)) => assert_eq!(*level, want.level),
                (_, l) => panic!("{split:?} row {i}: label {l:?} is not a level"),
            }
        }
    }
    // Every level 0–4 occurs in train.
    let mut seen = [0usize; 5];
    for r in read(source.as_ref(), Split::Train) {
        seen[r.label.class().unwrap() as usize] += 1;
    }
    assert!(seen.iter().all(|&c| c >= 60), "{seen:?}");
}

#[test]
fn regression_table_reads_back_through_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let g = SyntheticGuanine {
        test_labels: true,
        ..small()
    };
    let path = tmp.path().join("synthetic_regression.csv");
    g.write_regression_table(&path).unwrap();
    let source = open(&format!("csv:{}", path.display()), &OpenOptions::default()).unwrap();
    assert_eq!(source.card().labels, LabelKind::Regression);
    for (split, n) in [(Split::Train, 600), (Split::Valid, 300), (Split::Test, 120)] {
        let records = read(source.as_ref(), split);
        assert_eq!(records.len(), n, "{split:?}");
        for (i, r) in records.iter().enumerate() {
            let want = g.record(split, i);
            let Label::Value(v) = r.label else {
                panic!("{split:?} row {i}: {:?}", r.label)
            };
            assert!((v - want.value).abs() <= 5e-7, "{v} vs {}", want.value);
            assert_eq!(level_of(want.value), want.level);
            assert!((-6.0..8.0).contains(&v), "{v}");
        }
    }
}

/// Spearman ρ of `preds` against the dev labels of the ordinal task.
fn dev_rho(records: &[Record], preds: Predictions) -> f64 {
    let kind = LabelKind::Ordinal { min: 0, max: 4 };
    let truth: Vec<Label> = records.iter().map(|r| r.label).collect();
    let s = score(
        &kind,
        &[Metric::Spearman, Metric::Spearman100],
        &preds,
        &truth,
    )
    .unwrap();
    let rho = s[&Metric::Spearman];
    assert!((s[&Metric::Spearman100] - (rho * 100.0 * 1e4).round() / 1e4).abs() < 1e-9);
    rho
}

#[test]
fn oracles_show_the_signal_is_learnable() {
    let tmp = tempfile::tempdir().unwrap();
    small().write_task(tmp.path(), "dnase_propensity").unwrap();
    let source = open("guanine/dnase_propensity", &opts(tmp.path())).unwrap();
    let dev = read(source.as_ref(), Split::Valid);

    let gc = dev_rho(
        &dev,
        Predictions::Values(dev.iter().map(|r| gc_oracle(&r.seq)).collect()),
    );
    let full = dev_rho(
        &dev,
        Predictions::Values(dev.iter().map(|r| oracle(&r.seq)).collect()),
    );
    // Probabilities over the five levels (a soft oracle, softmax of −(z − level-centre)²):
    // scored on the expected level Σ p_k·k, the text-to-text head's path.
    let centres = [-1.0, 0.1, 0.9, 1.7, 2.8];
    let mut probs = Vec::new();
    for r in &dev {
        let z = oracle(&r.seq);
        let w: Vec<f64> = centres.iter().map(|c| (-(z - c) * (z - c)).exp()).collect();
        let sum: f64 = w.iter().sum();
        probs.extend(w.iter().map(|x| x / sum));
    }
    let soft = dev_rho(
        &dev,
        Predictions::Probs {
            n_classes: 5,
            data: probs,
        },
    );
    println!("dev Spearman: GC oracle {gc:.3}, GC+motif oracle {full:.3}, soft oracle {soft:.3}");
    assert!(gc > 0.5, "GC oracle ρ {gc}");
    assert!(full > gc + 0.03, "the motif adds signal: {full} vs {gc}");
    assert!(soft > 0.5, "soft oracle ρ {soft}");
}
