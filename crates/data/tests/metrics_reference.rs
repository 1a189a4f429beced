//! strand's metrics against scipy / scikit-learn / numpy reference values.
//!
//! The fixtures under `tests/fixtures/metrics/` are written by `scripts/metrics_reference.py`
//! (regenerate: `/work/main/.venv/bin/python scripts/metrics_reference.py` from the repo root).
//! JSON `null` stands for NaN. Real numbers must agree to 1e-12 relative (with a 1e-15 absolute
//! floor for values at or next to 0), counts and GUANinE's rounded ρ × 100 exactly, and NaN where
//! the reference is NaN.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use strand_data::metrics::{
    self, Predictions, accuracy, auroc, auroc_ovr_macro, average_ranks, confusion_matrix,
    f1_binary, f1_macro, guanine_spearman100, mcc, np_round, pearson, sensitivity, spearman,
    specificity,
};
use strand_data::{Label, LabelKind, Metric};

#[derive(Deserialize)]
struct Fixture<T> {
    cases: T,
}

fn load<T: DeserializeOwned>(name: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/metrics")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/metrics_reference.py)", path.display()));
    let fixture: Fixture<T> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fixture.cases
}

/// Agreement to 1e-12 relative; `None` (JSON null) means the reference is NaN.
#[track_caller]
fn assert_close(got: f64, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_nan(), "{what}: got {got}, scipy/sklearn give NaN"),
        Some(want) => {
            let tol = 1e-12 * got.abs().max(want.abs()) + 1e-15;
            assert!(
                (got - want).abs() <= tol,
                "{what}: got {got}, reference {want} (diff {:e})",
                (got - want).abs()
            );
        }
    }
}

#[track_caller]
fn assert_all_close(got: &[f64], want: &[Option<f64>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_close(g, w, &format!("{what}[{i}]"));
    }
}

fn nan_to_f64(v: &[Option<f64>]) -> Vec<f64> {
    v.iter().map(|x| x.unwrap_or(f64::NAN)).collect()
}

#[derive(Deserialize)]
struct PerClass {
    positive: u32,
    f1_binary: Option<f64>,
    sensitivity: Option<f64>,
    specificity: Option<f64>,
}

#[derive(Deserialize)]
struct ClassificationCase {
    name: String,
    n_classes: usize,
    pred: Vec<u32>,
    truth: Vec<u32>,
    accuracy: Option<f64>,
    confusion_matrix: Vec<Vec<u64>>,
    f1_macro: Option<f64>,
    mcc: Option<f64>,
    per_class: Vec<PerClass>,
}

#[test]
fn classification_metrics_match_sklearn() {
    let cases: Vec<ClassificationCase> = load("classification.json");
    assert!(cases.len() >= 8);
    for c in &cases {
        let n = &c.name;
        let (p, t) = (&c.pred[..], &c.truth[..]);
        assert_close(accuracy(p, t), c.accuracy, &format!("{n}: accuracy"));
        assert_eq!(
            confusion_matrix(p, t, c.n_classes),
            c.confusion_matrix,
            "{n}: confusion matrix"
        );
        assert_close(
            f1_macro(p, t, c.n_classes),
            c.f1_macro,
            &format!("{n}: f1_macro"),
        );
        assert_close(mcc(p, t, c.n_classes), c.mcc, &format!("{n}: mcc"));
        assert_eq!(c.per_class.len(), c.n_classes, "{n}: one entry per class");
        for pc in &c.per_class {
            let k = pc.positive;
            assert_close(
                f1_binary(p, t, k),
                pc.f1_binary,
                &format!("{n}: f1_binary({k})"),
            );
            assert_close(
                sensitivity(p, t, k),
                pc.sensitivity,
                &format!("{n}: sens({k})"),
            );
            assert_close(
                specificity(p, t, k),
                pc.specificity,
                &format!("{n}: spec({k})"),
            );
        }
    }
}

#[derive(Deserialize)]
struct BinaryAurocCase {
    name: String,
    scores: Vec<f64>,
    positive: Vec<bool>,
    auroc: Option<f64>,
}

#[derive(Deserialize)]
struct OvrCase {
    name: String,
    n_classes: usize,
    probs: Vec<f64>,
    truth: Vec<u32>,
    auroc_ovr_macro: Option<f64>,
}

#[derive(Deserialize)]
struct AurocCases {
    binary: Vec<BinaryAurocCase>,
    ovr: Vec<OvrCase>,
}

#[test]
fn auroc_matches_sklearn_roc_auc_score() {
    let cases: AurocCases = load("auroc.json");
    assert!(cases.binary.len() >= 6 && cases.ovr.len() >= 3);
    for c in &cases.binary {
        assert_close(auroc(&c.scores, &c.positive), c.auroc, &c.name);
    }
    for c in &cases.ovr {
        let got = auroc_ovr_macro(&c.probs, c.n_classes, &c.truth);
        assert_close(got, c.auroc_ovr_macro, &c.name);
    }
}

#[derive(Deserialize)]
struct CorrelationCase {
    name: String,
    x: Vec<Option<f64>>,
    y: Vec<Option<f64>>,
    ranks_x: Vec<Option<f64>>,
    ranks_y: Vec<Option<f64>>,
    spearman: Option<f64>,
    pearson: Option<f64>,
}

#[test]
fn ranks_and_correlations_match_scipy() {
    let cases: Vec<CorrelationCase> = load("correlation.json");
    assert!(cases.len() >= 9);
    for c in &cases {
        let (x, y) = (nan_to_f64(&c.x), nan_to_f64(&c.y));
        let n = &c.name;
        assert_all_close(&average_ranks(&x), &c.ranks_x, &format!("{n}: ranks x"));
        assert_all_close(&average_ranks(&y), &c.ranks_y, &format!("{n}: ranks y"));
        assert_close(spearman(&x, &y), c.spearman, &format!("{n}: spearman"));
        assert_close(pearson(&x, &y), c.pearson, &format!("{n}: pearson"));
    }
}

#[derive(Deserialize)]
struct GuanineVector {
    name: String,
    pred: Vec<Option<f64>>,
    y: Vec<Option<f64>>,
    rho: Option<f64>,
    spearman100: Option<f64>,
}

#[derive(Deserialize)]
struct RoundCase {
    x: f64,
    decimals: i32,
    rounded: Option<f64>,
}

#[derive(Deserialize)]
struct GuanineCases {
    vectors: Vec<GuanineVector>,
    np_round: Vec<RoundCase>,
}

#[test]
fn guanine_spearman100_matches_the_official_protocol() {
    let cases: GuanineCases = load("guanine.json");
    assert!(cases.vectors.len() >= 7);
    for c in &cases.vectors {
        let (pred, y) = (nan_to_f64(&c.pred), nan_to_f64(&c.y));
        let filled = metrics::fill_nan_with_mean(&pred);
        assert_close(spearman(&filled, &y), c.rho, &format!("{}: rho", c.name));
        let got = guanine_spearman100(&pred, &y);
        match c.spearman100 {
            // The reported value is rounded to 4 decimals: it must be the same f64.
            Some(want) => assert_eq!(got, want, "{}: spearman100", c.name),
            None => assert!(got.is_nan(), "{}: spearman100 {got}, want NaN", c.name),
        }
    }
}

#[test]
fn np_round_matches_numpy() {
    let cases: GuanineCases = load("guanine.json");
    assert!(cases.np_round.len() >= 30);
    for c in &cases.np_round {
        let got = np_round(c.x, c.decimals);
        assert_eq!(
            Some(got),
            c.rounded,
            "np.round({:?}, {}) = {:?}, strand {got:?}",
            c.x,
            c.decimals,
            c.rounded
        );
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Labels {
    Class(Vec<Option<u32>>),
    Value(Vec<Option<f64>>),
}

#[derive(Deserialize)]
struct Probs {
    n_classes: usize,
    data: Vec<f64>,
}

#[derive(Deserialize)]
struct ScoreCase {
    name: String,
    kind: LabelKind,
    metrics: Vec<Metric>,
    probs: Option<Probs>,
    values: Option<Vec<Option<f64>>>,
    labels: Labels,
    expected: std::collections::BTreeMap<Metric, Option<f64>>,
}

#[test]
fn score_matches_sklearn_and_scipy_on_whole_tasks() {
    let cases: Vec<ScoreCase> = load("score.json");
    assert!(cases.len() >= 5);
    for c in &cases {
        let preds = match (&c.probs, &c.values) {
            (Some(p), None) => Predictions::Probs {
                n_classes: p.n_classes,
                data: p.data.clone(),
            },
            (None, Some(v)) => Predictions::Values(nan_to_f64(v)),
            _ => panic!("{}: exactly one of probs / values", c.name),
        };
        let truth: Vec<Label> = match &c.labels {
            Labels::Class(v) => v
                .iter()
                .map(|l| l.map_or(Label::None, Label::Class))
                .collect(),
            Labels::Value(v) => v
                .iter()
                .map(|l| l.map_or(Label::None, Label::Value))
                .collect(),
        };
        assert!(
            truth.contains(&Label::None),
            "{}: has unlabelled rows",
            c.name
        );
        let got = metrics::score(&c.kind, &c.metrics, &preds, &truth)
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let got_keys: Vec<_> = got.keys().collect();
        let want_keys: Vec<_> = c.expected.keys().collect();
        assert_eq!(got_keys, want_keys, "{}: metrics scored", c.name);
        for (m, want) in &c.expected {
            let what = format!("{}: {}", c.name, m.as_str());
            if *m == Metric::Spearman100 {
                match want {
                    Some(w) => assert_eq!(got[m], *w, "{what}"),
                    None => assert!(got[m].is_nan(), "{what}"),
                }
            } else {
                assert_close(got[m], *want, &what);
            }
        }
    }
}
