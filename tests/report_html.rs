//! `strand report --format html` over real small runs (a binary task over two seeds, a
//! three-class task, a regression task, a SYNTHETIC GUANinE-format ordinal task scored on dev): every section is there, the AUROC drawn from the
//! outputs files equals the one in `scores.json`, and, where Chromium is installed, the page
//! passes scripts/check_report_html.sh in a real browser (no console messages, no requests,
//! every chart with a size).

mod common;

use common::run;
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

/// A CSV task of 64-bp sequences with a split column; `label(i, seq)` gives each row's label
/// (and may plant a motif in the sequence).
fn csv_task(path: &Path, label: impl Fn(usize, &mut String) -> String) -> String {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut text = String::from("id,sequence,label,split\n");
    for i in 0..300 {
        let mut seq = bases(&mut x, 64);
        let y = label(i, &mut seq);
        let split = match i % 10 {
            0 | 1 => "test",
            2 => "valid",
            _ => "train",
        };
        text.push_str(&format!("r{i},{seq},{y},{split}\n"));
    }
    std::fs::write(path, text).unwrap();
    format!("csv:{}", path.display())
}

fn train(task: &str, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--task",
        task,
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    ok(&run(&args));
}

/// `(ours, scores.json if shown)` of each entry `seed N X (scores.json: Y)` of the AUROC
/// captions, in page order.
fn auroc_captions(page: &str) -> Vec<(f64, Option<f64>)> {
    page.split("per run: ")
        .skip(1)
        .flat_map(|rest| {
            let list = &rest[..rest.find("</figcaption>").unwrap()];
            list.trim_end_matches('.')
                .split(", seed")
                .map(|entry| {
                    let nums: Vec<f64> = entry
                        .split([' ', '(', ')'])
                        .filter_map(|w| w.parse().ok())
                        .collect();
                    assert!(nums.len() == 2 || nums.len() == 3, "{entry}");
                    (nums[1], nums.get(2).copied())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The one-vs-rest macro AUROC of an outputs file, computed by strand-data's metric.
fn macro_auroc(path: &Path) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let n = lines.next().unwrap().split('\t').count() - 2;
    let (mut probs, mut truth) = (Vec::new(), Vec::new());
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        truth.push(f[1].parse::<u32>().unwrap());
        probs.extend(f[2..].iter().map(|v| v.parse::<f64>().unwrap()));
    }
    strand_data::metrics::auroc_ovr_macro(&probs, n, &truth)
}

/// Chromium on PATH, if any.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| {
            ["chromium", "chromium-browser", "google-chrome"]
                .into_iter()
                .map(move |b| d.join(b))
        })
        .find(|p| p.is_file())
}

#[test]
fn html_report_of_binary_multiclass_and_regression_runs_passes_the_browser_check() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let binary = csv_task(&dir.join("binary.csv"), |i, seq| {
        let y = (i / 3) % 2;
        if y == 1 {
            seq.replace_range(30..36, "TATAAA");
        }
        y.to_string()
    });
    let three = csv_task(&dir.join("three.csv"), |i, seq| {
        let y = i % 3;
        let motif = ["GGGCCC", "TATAAA", "ACGTAC"][y];
        seq.replace_range(20..26, motif);
        ["alpha", "beta", "gamma"][y].to_string()
    });
    // SYNTHETIC GUANinE-format data (random DNA, rule-based labels): an ordinal task scored on
    // dev.
    let synth = strand_data::source::synthetic_guanine::SyntheticGuanine {
        n_train: 240,
        n_dev: 60,
        n_test: 20,
        len: 60,
        seed: 3,
        ..Default::default()
    };
    let guanine = dir.join("guanine");
    synth.write_task(&guanine, "dnase_propensity").unwrap();
    // A regression table with labelled test rows (GUANinE's own test labels are withheld):
    // the GC fraction of each sequence, a non-integer label.
    let regression = csv_task(&dir.join("reg.csv"), |_, seq| {
        let gc = seq.bytes().filter(|b| matches!(b, b'G' | b'C')).count();
        format!("{:.4}", gc as f64 / seq.len() as f64)
    });
    let runs = dir.join("runs");
    train(&binary, &runs.join("binary"), &["--seeds", "2"]);
    train(&three, &runs.join("three"), &[]);
    train(&regression, &runs.join("reg"), &[]);
    train(
        "guanine/dnase_propensity",
        &runs.join("dnase"),
        &["--data-dir", s(&guanine)],
    );
    for r in ["binary/seed-0", "binary/seed-1", "three", "reg"] {
        assert!(
            runs.join(r).join("outputs.test.tsv").is_file(),
            "{r}: strand train writes the test split's outputs"
        );
    }
    assert!(
        runs.join("dnase/outputs.valid.tsv").is_file(),
        "GUANinE is scored on dev: its outputs are the valid split's"
    );

    let page_path = dir.join("report.html");
    let mut args = vec![
        "report",
        s(&runs),
        "--format",
        "html",
        "--out",
        s(&page_path),
    ];
    // GUANinE's published catalogue (test split) when the shared data is beside the repository.
    let catalogue = common::shared_data("report_html catalogue rows")
        .map(|d| d.join("guanine/fullscores_v1.0.8.csv"))
        .filter(|p| p.is_file());
    if let Some(c) = &catalogue {
        args.extend(["--catalogue", s(c)]);
    }
    ok(&run(&args));
    let page = std::fs::read_to_string(&page_path).unwrap();
    for needle in [
        "<!DOCTYPE html>",
        "id=\"scores\"",
        "Loss per epoch",
        "ROC (class 1 positive)",
        "ROC (one-vs-rest)",
        "alpha: AUC",
        "Confusion matrix, seed 1",
        "Predicted vs true: Spearman ρ",
        "expected level Σ p·k",
        "<span class=\"split dev\">dev</span>",
        "<details><summary>seed 0",
        "lr = ",
    ] {
        assert!(page.contains(needle), "missing {needle:?}");
    }
    assert!(!page.contains("<script"));
    if catalogue.is_some() {
        let table = page.split("GUANinE catalogue: spearman100").nth(1).unwrap();
        assert!(
            table.contains("Borzoi")
                && table.contains("large★ T5")
                && table.contains("class=\"ours\""),
            "the catalogue's 31 rows around ours"
        );
    }
    // Binary: two runs, equal to scores.json; three classes (no auroc in scores.json for a
    // CSV task of three classes): the macro mean over classes, equal to strand-data's
    // one-vs-rest macro AUROC of the same file.
    let captions = auroc_captions(&page);
    assert_eq!(captions.len(), 3, "{captions:?}");
    for (ours, stored) in &captions[..2] {
        let stored = stored.expect("binary runs store auroc");
        assert!((ours - stored).abs() < 1e-4, "{ours} vs {stored}");
    }
    let three_macro = macro_auroc(&runs.join("three/outputs.test.tsv"));
    assert!(
        (captions[2].0 - three_macro).abs() < 1e-4,
        "{captions:?} vs {three_macro}"
    );
    // The Markdown report is unchanged by the outputs files.
    let md = ok(&run(&["report", s(&runs)]));
    assert!(md.starts_with("| task |"), "{md}");
    let e = run(&["report", s(&runs), "--catalogue", s(&page_path)]);
    assert!(!e.status.success());

    let Some(browser) = chromium() else {
        eprintln!("SKIP report_html browser check: no chromium on PATH");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check_report_html.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(&page_path)
        .args(["--min-svgs", "14"])
        .env("CHROMIUM", &browser)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("OK:"), "{stdout}");
    eprintln!("{}", stdout.trim());
}
