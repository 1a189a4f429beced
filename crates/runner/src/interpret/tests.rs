//! Unit tests of `strand interpret` on tiny random models (the trained quickstart model is
//! tested end to end in `tests/interpret.rs`).

use super::ism::Scorer;
use super::*;
use crate::config::ExperimentConfig;
use crate::config::model_preset::ModelSpec;
use crate::engine::backend::cpu;
use crate::engine::batch::HostBatch;
use crate::engine::checkpoint::save_weights;
use crate::run::model::{AnyModel, Weights};
use crate::run::run_dir;
use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use strand_data::Label;
use strand_model::Tokenizer;
use strand_model::classifier::Objective;
use strand_model::cnn::CnnConfig;
use strand_model::heads::{HeadKind, T5HeadConfig};
use strand_model::tokenize::TokenizerChoice;

/// Tokens per input of the tiny CNN (BOS + 38 bases + EOS).
const INPUT_LEN: usize = 40;

/// A run directory in `dir` holding a tiny random CNN for `objective`, trained (nominally) on
/// `synthetic/promoter` with `tokenizer`.
fn tiny_run(dir: &Path, objective: Objective, tokenizer: &str) -> LoadedRun {
    let exp = ExperimentConfig {
        task: Some("synthetic/promoter".into()),
        tokenizer: Some(tokenizer.into()),
        ..Default::default()
    };
    let (cfg, _) = exp.expand(dir).unwrap().remove(0);
    std::fs::write(dir.join(run_dir::CONFIG), cfg.to_toml().unwrap()).unwrap();
    let vocab = tokenizer
        .parse::<TokenizerChoice>()
        .unwrap()
        .build()
        .unwrap()
        .vocab_size();
    let config = CnnConfig::new(vocab, INPUT_LEN, objective.n_out())
        .with_embedding_dim(8)
        .with_channels(vec![4, 3])
        .with_kernel_size(5)
        .with_hidden(16);
    let device = cpu();
    device.seed(7);
    let model = AnyModel::Cnn(config.init(&device));
    save_weights(&model, &dir.join(run_dir::WEIGHTS)).unwrap();
    let spec = ModelSpec::Cnn {
        name: "tiny".into(),
        objective,
        config,
    };
    std::fs::write(
        dir.join(run_dir::MODEL_SPEC),
        serde_json::to_string(&spec).unwrap(),
    )
    .unwrap();
    LoadedRun::read(dir).unwrap()
}

/// [`tiny_run`] with a tiny random T5 `kind` head (two classes, nucleotides).
fn tiny_t5_run(dir: &Path, kind: HeadKind) -> LoadedRun {
    let exp = ExperimentConfig {
        task: Some("synthetic/promoter".into()),
        model: Some("t5-tiny".into()),
        ..Default::default()
    };
    let (cfg, _) = exp.expand(dir).unwrap().remove(0);
    std::fs::write(dir.join(run_dir::CONFIG), cfg.to_toml().unwrap()).unwrap();
    let t5 = crate::test_models::tiny_t5(0.1);
    let head = T5HeadConfig::for_task(t5, kind, Some(2), None).unwrap();
    let device = cpu();
    device.seed(9);
    let model = AnyModel::T5(head.init(&device));
    save_weights(&model, &dir.join(run_dir::WEIGHTS)).unwrap();
    let spec = ModelSpec::T5 {
        name: "tiny-t5".into(),
        tokenizer: strand_model::TokenizerSpec::Nucleotide,
        head,
        max_len: INPUT_LEN,
    };
    std::fs::write(
        dir.join(run_dir::MODEL_SPEC),
        serde_json::to_string(&spec).unwrap(),
    )
    .unwrap();
    LoadedRun::read(dir).unwrap()
}

fn records() -> Vec<(String, Vec<u8>)> {
    vec![
        ("r1".into(), b"ACGTTATAAAGGGCGGACGTNACGTAAC".to_vec()),
        ("r2".into(), b"TTTTGGGGCCCCAAAATATAAAC".to_vec()),
    ]
}

#[test]
fn ism_deltas_are_mutant_minus_reference_scores_in_any_batching() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path(), Objective::BinaryLogit, "nucleotide");
    let target = run.target(None).unwrap();
    assert_eq!(target, Target::Logit { class: 1 });
    let recs = records();
    let dev = cpu();
    let a = attribute(&run, &recs, Method::Ism, &target, 7, &dev).unwrap();
    let b = attribute(&run, &recs, Method::Ism, &target, 1000, &dev).unwrap();
    assert_eq!(a.len(), 2);

    let model = crate::run::model::build(&run.spec, Weights::Saved(&run.weights()), &dev)
        .unwrap()
        .valid();
    let scorer = Scorer {
        model: &model,
        tokenizer: &run.tokenizer,
        format: run.input_format(),
        device: &dev,
    };
    for (attr, other) in a.iter().zip(&b) {
        assert_eq!(attr.delta.len(), attr.seq.len());
        let reference = scorer.outputs(&[&attr.seq]).unwrap()[0];
        assert!((attr.score - reference).abs() < 1e-5);
        for (i, (d, &base)) in attr.delta.iter().zip(&attr.seq).enumerate() {
            let mut alts = Vec::new();
            for (k, &alt) in ism::BASES.iter().enumerate() {
                if alt == base {
                    assert_eq!(d[k], 0.0, "the reference base has no delta");
                    continue;
                }
                alts.push(d[k]);
                let mut m = attr.seq.clone();
                m[i] = alt;
                let want = scorer.outputs(&[&m]).unwrap()[0] - reference;
                assert!((d[k] - want).abs() < 1e-4, "{i} {k}: {} vs {want}", d[k]);
                assert!((d[k] - other.delta[i][k]).abs() < 1e-4);
            }
            // N has four alternatives, the others three.
            assert_eq!(alts.len(), if base == b'N' { 4 } else { 3 });
            let imp = -alts.iter().sum::<f64>() / alts.len() as f64;
            assert!((attr.importance[i] - imp).abs() < 1e-12);
        }
        assert!(attr.importance.iter().any(|v| v.abs() > 1e-6));
    }
}

/// Saliency of `records()` on `run`, checked against the gradient of the first record's score
/// and that gradient against central finite differences of the score (one-hot entries of the
/// bases at a few positions, bumped by ±ε).
fn check_saliency(run: &LoadedRun, target: &Target) {
    let recs = records();
    let dev = cpu();
    let attrs = attribute(run, &recs, Method::Saliency, target, 2, &dev).unwrap();

    let ad = dev.clone().autodiff();
    let frozen = crate::run::model::build(&run.spec, Weights::Saved(&run.weights()), &ad)
        .unwrap()
        .freeze();
    let format = run.input_format();
    let offset = usize::from(format.bos);
    let vocab = run.tokenizer.vocab_size();
    let ids = format.encode(&run.tokenizer, &recs[0].1);
    let batch = HostBatch::pad(vec![ids], vec![Label::None], format.pad_to);
    let len = batch.len;
    let g = saliency::input_gradients(&frozen, &batch, vocab, target, &ad).unwrap();
    assert_eq!(g.grads.len(), len * vocab);
    assert!((g.scores[0] - attrs[0].score).abs() < 1e-5);

    let plain = frozen.valid();
    let tokens = batch.token_batch(&dev);
    let x = strand_model::ops::lookup::one_hot(tokens.tokens.clone(), vocab, 2);
    let row = |x: Tensor<3>| -> Vec<f64> {
        let out = saliency::forward_one_hot(&plain, x, tokens.mask.clone());
        out.into_data().convert::<f64>().try_into_vec().unwrap()
    };
    let class = target.class_for(&row(x.clone()));
    let score = |x: Tensor<3>| target.score_row(&row(x), class);
    let eps = 1e-2;
    let mut checked = 0;
    for t in [1usize, 5, 12, 20, 26] {
        for v in [104usize, 105, 106, 107] {
            let mut bump = vec![0f32; len * vocab];
            bump[t * vocab + v] = eps as f32;
            let e = Tensor::<3>::from_data(TensorData::new(bump, [1, len, vocab]), &dev);
            let fd = (score(x.clone() + e.clone()) - score(x.clone() - e)) / (2.0 * eps);
            let grad = f64::from(g.grads[t * vocab + v]);
            assert!(
                (fd - grad).abs() <= 2e-3 + 2e-2 * grad.abs(),
                "t {t} v {v}: finite difference {fd} vs gradient {grad}"
            );
            checked += usize::from(grad.abs() > 1e-4);
        }
    }
    assert!(checked > 10, "the gradients checked were mostly zero");

    // Importance = gradient × input (at the reference base); Δ = g(b) − g(ref).
    let a = &attrs[0];
    for (i, &base) in a.seq.iter().enumerate() {
        let row = &g.grads[(i + offset) * vocab..][..vocab];
        let tok = run.tokenizer.encode(&[base])[0] as usize;
        assert!((a.importance[i] - f64::from(row[tok])).abs() < 1e-6);
        for (k, &b) in ism::BASES.iter().enumerate() {
            let want = f64::from(row[104 + k]) - f64::from(row[tok]);
            assert!((a.delta[i][k] - want).abs() < 1e-6, "{i} {}", b as char);
        }
    }
}

#[test]
fn cnn_saliency_is_the_input_gradient_checked_by_finite_differences() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path(), Objective::Softmax { classes: 3 }, "nucleotide");
    let target = run.target(None).unwrap();
    assert_eq!(target, Target::LogProb(None));
    check_saliency(&run, &target);
}

#[test]
fn t5_heads_get_ism_and_saliency_checked_by_finite_differences() {
    for kind in [HeadKind::Pooled, HeadKind::TextToText, HeadKind::Probe] {
        let tmp = tempfile::tempdir().unwrap();
        let run = tiny_t5_run(tmp.path(), kind);
        let target = run.target(None).unwrap();
        check_saliency(&run, &target);
        let a = attribute(&run, &records(), Method::Ism, &target, 16, &cpu()).unwrap();
        assert!(a[1].importance.iter().all(|v| v.is_finite()));
        assert!(a[1].importance.iter().any(|v| v.abs() > 1e-6), "{kind}");
    }
}

#[test]
fn other_tokenizers_get_ism_and_a_clear_saliency_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path(), Objective::BinaryLogit, "kmer:3:1");
    let e = saliency::check_supported(&run).unwrap_err().to_string();
    assert!(e.contains("--method ism") && e.contains("kmer:3:1"), "{e}");
    let target = run.target(None).unwrap();
    let a = attribute(&run, &records(), Method::Ism, &target, 64, &cpu()).unwrap();
    assert!(a[0].importance.iter().all(|v| v.is_finite()));
    assert!(a[0].importance.iter().any(|v| v.abs() > 1e-6));
}

#[test]
fn targets_score_rows_and_tensors_alike() {
    let rows = [[0.3f64, -1.2, 2.0], [1.5, 0.1, -0.4]];
    let dev = cpu();
    let cases: Vec<(Target, usize)> = vec![
        (Target::Logit { class: 1 }, 1),
        (Target::Logit { class: 0 }, 1),
        (Target::LogProb(Some(1)), 3),
        (Target::LogProb(None), 3),
        (Target::Value, 1),
        (Target::BinnedValue(vec![0.5, 1.5, 4.0]), 3),
    ];
    for (target, n_out) in cases {
        let data: Vec<f32> = rows
            .iter()
            .flat_map(|r| r[..n_out].iter().map(|&v| v as f32))
            .collect();
        let out = Tensor::<2>::from_data(TensorData::new(data, [2, n_out]), &dev);
        let classes: Vec<usize> = rows.iter().map(|r| target.class_for(&r[..n_out])).collect();
        let t: Vec<f64> = target
            .score_tensor(out, &classes)
            .into_data()
            .convert::<f64>()
            .try_into_vec()
            .unwrap();
        for (r, row) in rows.iter().enumerate() {
            let h = target.score_row(&row[..n_out], classes[r]);
            assert!((h - t[r]).abs() < 1e-5, "{target:?}: {h} vs {}", t[r]);
        }
    }
    // The predicted class of row 0 is 2: log softmax(0.3, −1.2, 2.0)[2].
    let lp = Target::LogProb(None).score_row(&rows[0], 2);
    let want = 2.0 - (0.3f64.exp() + (-1.2f64).exp() + 2.0f64.exp()).ln();
    assert!((lp - want).abs() < 1e-12);
    assert_eq!(Target::Logit { class: 0 }.score_row(&[0.7], 0), -0.7);
}

#[test]
fn targets_resolve_by_index_or_name_and_refuse_the_rest() {
    let names = vec!["background".to_string(), "promoter".to_string()];
    let bin = Objective::BinaryLogit;
    let r = |o, g| Target::resolve(o, None, Some(&names), g);
    assert_eq!(r(bin, None).unwrap(), Target::Logit { class: 1 });
    assert_eq!(
        r(bin, Some("background")).unwrap(),
        Target::Logit { class: 0 }
    );
    assert_eq!(r(bin, Some("1")).unwrap(), Target::Logit { class: 1 });
    let e = r(bin, Some("enhancer")).unwrap_err().to_string();
    assert!(
        e.contains("background, promoter") && e.contains("0–1"),
        "{e}"
    );
    let soft = Objective::Softmax { classes: 4 };
    assert_eq!(
        Target::resolve(soft, None, None, Some("3")).unwrap(),
        Target::LogProb(Some(3))
    );
    assert!(Target::resolve(soft, None, None, Some("4")).is_err());
    let reg = Objective::Regression;
    assert_eq!(
        Target::resolve(reg, None, None, None).unwrap(),
        Target::Value
    );
    assert!(Target::resolve(reg, None, None, Some("1")).is_err());
    assert_eq!(
        Target::resolve(soft, Some(&[1.0, 2.0]), None, Some("value")).unwrap(),
        Target::BinnedValue(vec![1.0, 2.0])
    );
    assert_eq!(
        Target::Logit { class: 1 }.describe(Some(&names)),
        "log-odds of class 1 (promoter)"
    );
}

fn attribution(id: &str, seq: &[u8]) -> Attribution {
    let n = seq.len();
    Attribution {
        id: id.into(),
        seq: seq.to_vec(),
        score: 1.25,
        delta: (0..n)
            .map(|i| [0.0, -(i as f64) / 8.0, 0.5, 0.25])
            .collect(),
        importance: (0..n).map(|i| (i as f64 - 2.0) / 4.0).collect(),
    }
}

#[test]
fn the_table_has_one_row_per_base_and_the_logo_one_letter_per_position() {
    let a = attribution("seq<1>&", b"ACGTN");
    let text = output::tsv(std::slice::from_ref(&a));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id\tposition\tref\tdelta_A\tdelta_C\tdelta_G\tdelta_T\timportance"
    );
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[1], "seq<1>&\t1\tA\t0\t0\t0.5\t0.25\t-0.5");
    assert_eq!(lines[5], "seq<1>&\t5\tN\t0\t-0.5\t0.5\t0.25\t0.5");

    let svg = svg::logo(&a, Method::Ism, "log-odds of class 1 (promoter)");
    assert_eq!(svg.matches("<use ").count(), 5);
    assert!(svg.contains("seq&lt;1&gt;&amp;"), "the id is escaped");
    assert!(!svg.contains("seq<1>"));
    // Negative importances hang below the baseline, upside down (negative y scale).
    let scales: Vec<f64> = svg
        .match_indices("scale(")
        .map(|(i, _)| {
            let rest = &svg[i + 6..];
            let inner = &rest[..rest.find(')').unwrap()];
            inner.split(' ').nth(1).unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(scales.len(), 5);
    // Importances −0.5, −0.25, 0, 0.25, 0.5: heights proportional, signs kept.
    assert!(scales[0] < 0.0 && scales[4] > 0.0 && scales[2] == 0.0);
    assert!((scales[0] + scales[4]).abs() < 1e-3);
    assert!((scales[3] - scales[4] / 2.0).abs() < 1e-3);
}

#[test]
fn the_output_directory_is_new_empty_or_our_own() {
    let tmp = tempfile::tempdir().unwrap();
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let e = output::Plan::check(&foreign).unwrap_err().to_string();
    assert!(e.contains("not empty") && e.contains("notes.txt"), "{e}");
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(output::Plan::check(&file).is_err());

    let out = tmp.path().join("out");
    let a = attribution("a", b"ACG");
    let b = attribution("b", b"TT");
    let plan = output::Plan::check(&out).unwrap();
    assert!(!out.exists(), "checking creates nothing");
    let svgs = |v: &[&Attribution]| -> Vec<(String, String)> {
        v.iter()
            .map(|a| (format!("{}.svg", a.id), svg::logo(a, Method::Ism, "t")))
            .collect()
    };
    plan.write(&output::tsv(&[a.clone(), b.clone()]), &svgs(&[&a, &b]))
        .unwrap();
    let mut names = crate::engine::checkpoint::own_entries(&out).unwrap();
    names.sort();
    assert_eq!(
        names,
        [output::MARKER, "a.svg", "attributions.tsv", "b.svg"]
    );
    // A second run replaces its own outputs: b.svg, not rewritten, goes.
    let plan = output::Plan::check(&out).unwrap();
    plan.write(&output::tsv(std::slice::from_ref(&a)), &svgs(&[&a]))
        .unwrap();
    let names = crate::engine::checkpoint::own_entries(&out).unwrap();
    assert_eq!(names, [output::MARKER, "a.svg", "attributions.tsv"]);
    assert!(
        std::fs::read_to_string(out.join("attributions.tsv"))
            .unwrap()
            .lines()
            .all(|l| !l.starts_with("b\t"))
    );
}

#[test]
fn logo_file_names_are_escaped_and_never_shared() {
    let names = output::svg_names(["chr1:100-200(+)", "../x", "plain"].into_iter()).unwrap();
    assert_eq!(names, ["chr1_100-200_+_.svg", "_._x.svg", "plain.svg"]);
    let e = output::svg_names(["a/b", "a:b"].into_iter())
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"a/b\"") && e.contains("\"a:b\""), "{e}");
}

#[test]
fn records_are_read_selected_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let fa = tmp.path().join("s.fa");
    std::fs::write(&fa, ">a\nACGTacgtR\n>b desc\nTTTT\n>c\nGG\n").unwrap();
    let all = read_records(&fa, None).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].1, b"ACGTACGTN", "normalised");
    let some = read_records(&fa, Some(&["c".into(), "a".into()])).unwrap();
    assert_eq!(
        some.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["a", "c"],
        "file order"
    );
    let e = read_records(&fa, Some(&["a".into(), "zz".into()]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("zz") && e.contains("--ids"), "{e}");

    let bad = tmp.path().join("bad.fa");
    std::fs::write(&bad, ">ok\nACGT\n>broken\nAC!GT\n").unwrap();
    let e = format!("{:#}", read_records(&bad, None).unwrap_err());
    assert!(e.contains("broken") && e.contains("bad.fa"), "{e}");

    let dup = tmp.path().join("dup.fa");
    std::fs::write(&dup, ">x\nACGT\n>x\nTTTT\n").unwrap();
    let e = read_records(&dup, None).unwrap_err().to_string();
    assert!(e.contains("twice"), "{e}");

    let empty = tmp.path().join("empty.fa");
    std::fs::write(&empty, "").unwrap();
    assert!(read_records(&empty, None).is_err());
}
