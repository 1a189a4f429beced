"""Reference values for strand's metrics (crates/data/src/metrics/), from scipy / scikit-learn / numpy.

Writes small JSON fixtures to crates/data/tests/fixtures/metrics/ that
crates/data/tests/metrics_reference.rs checks (cargo test never needs Python). Regenerate from the
repo root with:

    /work/main/.venv/bin/python scripts/metrics_reference.py

Every case is seeded (numpy default_rng), so a rerun with the same library versions writes the
same files. NaN is written as JSON null. The versions used are recorded in each file.

Files:
- classification.json: hard predictions → accuracy, confusion matrix, F1 (binary for each class
  as positive, macro), MCC, sensitivity / specificity (recall with zero_division=nan).
- auroc.json: binary scores → roc_auc_score; probability matrices → roc_auc_score(ovr, macro).
- correlation.json: rankdata('average'), spearmanr, pearsonr.
- guanine.json: the hand-computed vectors of guanine.md §4, a NaN-prediction case, and np.round.
- score.json: whole `score()` calls (binary / 3-class / ordinal with probabilities, regression
  values), with unlabelled rows (null labels) left out as strand does.
"""

import json
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.stats as ss
import sklearn
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    recall_score,
    roc_auc_score,
)

warnings.simplefilter("ignore")  # undefined metrics warn; the NaN / 0 they return is the point

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "data", "tests",
                   "fixtures", "metrics")
VERSIONS = {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}


def num(x):
    """A float for JSON; NaN becomes None (null)."""
    x = float(x)
    return None if np.isnan(x) else x


def nums(xs):
    return [num(x) for x in xs]


def write(name, cases):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump({"generated_by": "scripts/metrics_reference.py", "versions": VERSIONS,
                   "cases": cases}, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {os.path.relpath(path)} ({len(cases)} cases, {os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------------------------------------
# classification


def classification_case(name, pred, truth, n_classes):
    pred = np.asarray(pred, dtype=np.int64)
    truth = np.asarray(truth, dtype=np.int64)
    labels = list(range(n_classes))
    per_class = []
    for c in labels:
        pos_t, pos_p = (truth == c).astype(int), (pred == c).astype(int)
        per_class.append({
            "positive": c,
            # average='binary' needs pos_label among the labels seen; one-vs-rest indicators
            # make the same F1 for any class (0 when it is neither predicted nor present).
            "f1_binary": num(f1_score(pos_t, pos_p, average="binary", pos_label=1,
                                      zero_division=0)),
            "sensitivity": num(recall_score(pos_t, pos_p, pos_label=1, zero_division=np.nan)),
            "specificity": num(recall_score(1 - pos_t, 1 - pos_p, pos_label=1,
                                            zero_division=np.nan)),
        })
    return {
        "name": name,
        "n_classes": n_classes,
        "pred": pred.tolist(),
        "truth": truth.tolist(),
        "accuracy": num(accuracy_score(truth, pred)),
        "confusion_matrix": confusion_matrix(truth, pred, labels=labels).tolist(),
        # sklearn's default label set (classes seen in truth or pred), as strand's f1_macro.
        "f1_macro": num(f1_score(truth, pred, average="macro", zero_division=0)),
        "mcc": num(matthews_corrcoef(truth, pred)),
        "per_class": per_class,
    }


def classification_cases(rng):
    cases = []
    truth = rng.integers(0, 2, 200)
    flip = rng.random(200) < 0.25
    cases.append(classification_case("binary_random", np.where(flip, 1 - truth, truth), truth, 2))
    truth = (rng.random(50) < 0.2).astype(int)
    pred = np.where(rng.random(50) < 0.3, rng.integers(0, 2, 50), truth)
    cases.append(classification_case("binary_imbalanced", pred, truth, 2))
    cases.append(classification_case("binary_constant_prediction", np.zeros(30, int),
                                     rng.integers(0, 2, 30), 2))
    cases.append(classification_case("binary_truth_one_class", rng.integers(0, 2, 20),
                                     np.zeros(20, int), 2))
    truth = rng.integers(0, 3, 300)
    pred = np.where(rng.random(300) < 0.4, rng.integers(0, 3, 300), truth)
    cases.append(classification_case("three_class_random", pred, truth, 3))
    truth = rng.integers(0, 3, 60)
    pred = np.where(rng.random(60) < 0.5, rng.integers(0, 3, 60), truth)
    cases.append(classification_case("four_classes_one_absent", pred, truth, 4))
    truth = rng.integers(0, 5, 120)
    pred = np.clip(truth + rng.integers(-1, 2, 120), 0, 4)
    cases.append(classification_case("five_levels_off_by_one", pred, truth, 5))
    truth = rng.integers(0, 3, 25)
    cases.append(classification_case("three_class_perfect", truth, truth, 3))
    return cases


# ---------------------------------------------------------------------------------------------
# AUROC


def binary_auroc_case(name, scores, positive):
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    return {"name": name, "scores": scores.tolist(), "positive": positive.tolist(),
            "auroc": num(roc_auc_score(positive.astype(int), scores))}


def ovr_case(name, probs, truth, n_classes):
    probs = np.asarray(probs, dtype=np.float64)
    try:
        value = roc_auc_score(truth, probs, multi_class="ovr", average="macro",
                              labels=list(range(n_classes)))
    except ValueError:
        value = np.nan
    return {"name": name, "n_classes": n_classes, "probs": probs.ravel().tolist(),
            "truth": np.asarray(truth).tolist(), "auroc_ovr_macro": num(value)}


def dirichlet_probs(rng, n, c, truth, decimals=6):
    alpha = np.ones((n, c))
    alpha[np.arange(n), truth] += 2.0
    p = np.array([rng.dirichlet(a) for a in alpha])
    if decimals is not None:
        # Coarse probabilities make ties; the last column keeps each row summing to 1.
        p[:, :-1] = np.round(p[:, :-1], decimals)
        p[:, -1] = 1.0 - p[:, :-1].sum(axis=1)
        p = np.clip(p, 0.0, 1.0)
        p[:, -1] = 1.0 - p[:, :-1].sum(axis=1)
    return p


def auroc_cases(rng):
    binary = []
    pos = rng.random(100) < 0.4
    binary.append(binary_auroc_case("continuous", np.round(rng.normal(size=100) + pos, 6), pos))
    pos = rng.random(150) < 0.5
    binary.append(binary_auroc_case("ties", np.round(rng.random(150) * 0.6 + 0.4 * pos, 1), pos))
    binary.append(binary_auroc_case("all_scores_equal", np.full(10, 0.3),
                                    [True, False] * 5))
    binary.append(binary_auroc_case("one_class_only", rng.random(8), np.ones(8, bool)))
    binary.append(binary_auroc_case("separated", [0.1, 0.2, 0.3, 0.7, 0.8], [0, 0, 0, 1, 1]))
    binary.append(binary_auroc_case("reversed", [0.9, 0.8, 0.3, 0.2], [0, 0, 1, 1]))

    ovr = []
    truth = rng.integers(0, 3, 120)
    ovr.append(ovr_case("three_class", dirichlet_probs(rng, 120, 3, truth), truth, 3))
    truth = rng.integers(0, 4, 90)
    ovr.append(ovr_case("four_class_ties", dirichlet_probs(rng, 90, 4, truth, decimals=1),
                        truth, 4))
    truth = rng.integers(0, 2, 40)  # class 2 never occurs: undefined for sklearn → NaN
    ovr.append(ovr_case("class_absent", dirichlet_probs(rng, 40, 3, truth), truth, 3))
    return {"binary": binary, "ovr": ovr}


# ---------------------------------------------------------------------------------------------
# correlations


def correlation_case(name, x, y):
    x = np.round(np.asarray(x, dtype=np.float64), 6)  # short JSON; values are computed from these
    y = np.round(np.asarray(y, dtype=np.float64), 6)
    pear = ss.pearsonr(x, y).statistic if len(x) >= 2 else np.nan
    return {"name": name, "x": nums(x), "y": nums(y),
            "ranks_x": nums(ss.rankdata(x, method="average")),
            "ranks_y": nums(ss.rankdata(y, method="average")),
            "spearman": num(ss.spearmanr(x, y).statistic), "pearson": num(pear)}


def correlation_cases(rng):
    cases = []
    x = rng.normal(size=100)
    cases.append(correlation_case("continuous", x, 0.6 * x + rng.normal(size=100)))
    cases.append(correlation_case("integer_ties_both", rng.integers(0, 5, 80),
                                  rng.integers(0, 4, 80)))
    x = rng.random(60)
    cases.append(correlation_case("negative", x, -x ** 3 + 0.05 * rng.normal(size=60)))
    cases.append(correlation_case("weak", rng.random(200), rng.random(200)))
    cases.append(correlation_case("large_offset", 1e6 + rng.random(50), rng.random(50)))
    cases.append(correlation_case("constant_x", np.full(12, 0.25), rng.random(12)))
    cases.append(correlation_case("two_points", [0.3, 0.1], [1.0, 2.0]))
    cases.append(correlation_case("one_point", [0.3], [1.0]))
    cases.append(correlation_case("nan_in_x", [0.1, np.nan, 0.5, 0.2], [1.0, 2.0, 3.0, 4.0]))
    return cases


# ---------------------------------------------------------------------------------------------
# GUANinE protocol (guanine.md §4)

HAND = [  # predictions, y, rho and reported value computed by hand in guanine.md §4
    ([0.1, 0.4, 0.35, 0.8, 0.2], [0, 1, 1, 2, 0], 3 / np.sqrt(10), 94.8683),
    ([1, 1, 2, 2, 3, 3], [0, 1, 1, 2, 2, 4], 0.8616404368553291, 86.1640),
    ([0.5, 0.5, 0.5, 0.9], [0, 1, 2, 3], 0.7745966692414834, 77.4597),
    ([3, 1, 2], [1, 2, 3], -0.5, -50.0),
]


def guanine_official(pred, y):
    """GUANinE docs/scoring.rst: NaN → mean of the rest, then np.round(spearmanr*100, 4)."""
    pred = np.asarray(pred, dtype=np.float64).copy()
    if np.isnan(pred).any() and not np.isnan(pred).all():
        pred[np.isnan(pred)] = np.nanmean(pred)
    rho = ss.spearmanr(pred, y).statistic
    return rho, np.round(rho * 100.0, 4)


def guanine_cases(rng):
    vectors = []
    for i, (pred, y, rho_hand, reported_hand) in enumerate(HAND):
        rho, reported = guanine_official(pred, y)
        assert abs(rho - rho_hand) < 1e-12 and reported == reported_hand, (i, rho, reported)
        vectors.append({"name": f"guanine_md_{i + 1}", "pred": nums(pred), "y": nums(y),
                        "rho": num(rho), "spearman100": num(reported)})
    pred = np.round(rng.random(40), 6)
    pred[[3, 17, 29]] = np.nan
    y = rng.integers(0, 5, 40)
    rho, reported = guanine_official(pred, y)
    vectors.append({"name": "nan_predictions_filled", "pred": nums(pred), "y": nums(y),
                    "rho": num(rho), "spearman100": num(reported)})
    pred = np.round(rng.normal(size=300), 6)
    y = np.round(rng.integers(0, 5, 300) + 0.3 * pred, 6)
    rho, reported = guanine_official(pred, y)
    vectors.append({"name": "random_300", "pred": nums(pred), "y": nums(y),
                    "rho": num(rho), "spearman100": num(reported)})
    rho, reported = guanine_official(np.full(5, 0.5), [0, 1, 2, 3, 4])
    vectors.append({"name": "constant_predictions", "pred": nums(np.full(5, 0.5)),
                    "y": [0.0, 1.0, 2.0, 3.0, 4.0], "rho": num(rho), "spearman100": num(reported)})

    rounding = []
    for x, d in [(2.5, 0), (3.5, 0), (-2.5, 0), (0.125, 2), (0.375, 2), (1.0005, 3),
                 (94.86832980505138, 4), (-50.00005, 4), (27.464325, 4), (1250.0, -2),
                 (1350.0, -2)]:
        rounding.append({"x": x, "decimals": d, "rounded": num(np.round(x, d))})
    for x in rng.normal(scale=50.0, size=20):
        rounding.append({"x": float(x), "decimals": 4, "rounded": num(np.round(x, 4))})
    # x·1e4 = 625k + 312.5 exactly: a binary tie, rounded to the even neighbour (down for even k).
    for k in [0, 1, 2, 3, 12345, -7]:
        x = (k + 0.5) / 16.0
        rounding.append({"x": x, "decimals": 4, "rounded": num(np.round(x, 4))})
    return {"vectors": vectors, "np_round": rounding}


# ---------------------------------------------------------------------------------------------
# whole score() calls


def classify_expected(probs, truth, n_classes):
    pred = np.argmax(probs, axis=1)  # ties → lowest index, as strand
    out = {"accuracy": num(accuracy_score(truth, pred)),
           "mcc": num(matthews_corrcoef(truth, pred)),
           "f1_macro": num(f1_score(truth, pred, average="macro", zero_division=0))}
    if n_classes == 2:
        out["f1"] = num(f1_score(truth, pred, average="binary", pos_label=1, zero_division=0))
        out["sensitivity"] = num(recall_score(truth, pred, pos_label=1, zero_division=np.nan))
        out["specificity"] = num(recall_score(truth, pred, pos_label=0, zero_division=np.nan))
        out["auroc"] = num(roc_auc_score(truth, probs[:, 1]))
    else:
        out["f1"] = out["f1_macro"]
        out["auroc"] = num(roc_auc_score(truth, probs, multi_class="ovr", average="macro",
                                         labels=list(range(n_classes))))
    return out


def correlations_expected(x, y):
    return {"spearman": num(ss.spearmanr(x, y).statistic),
            "spearman100": num(guanine_official(x, y)[1]),
            "pearson": num(ss.pearsonr(x, y).statistic)}


def with_unlabelled(rng, labels, fraction):
    """Labels as JSON values with some rows unlabelled (null)."""
    keep = rng.random(len(labels)) >= fraction
    return [v if k else None for v, k in zip(labels, keep)], keep


def score_cases(rng):
    cases = []
    for name, n_classes, n in [("binary", 2, 80), ("three_class", 3, 90)]:
        truth = rng.integers(0, n_classes, n)
        probs = dirichlet_probs(rng, n, n_classes, truth, decimals=2 if n_classes == 2 else 6)
        labels, keep = with_unlabelled(rng, truth.tolist(), 0.15)
        metrics = ["accuracy", "f1", "f1_macro", "mcc", "auroc"]
        if n_classes == 2:
            metrics += ["sensitivity", "specificity"]
        cases.append({
            "name": name,
            "kind": {"kind": "classes", "names": [f"c{i}" for i in range(n_classes)]},
            "metrics": metrics,
            "probs": {"n_classes": n_classes, "data": probs.ravel().tolist()},
            "labels": {"class": labels},
            "expected": classify_expected(probs[keep], truth[keep], n_classes),
        })
    # Ordinal levels 1..=5 (class index k = level 1 + k), probabilities → argmax and expectation.
    lo, hi, n = 1, 5, 70
    idx = rng.integers(0, hi - lo + 1, n)
    probs = dirichlet_probs(rng, n, hi - lo + 1, idx)
    labels, keep = with_unlabelled(rng, (idx + lo).tolist(), 0.1)
    pred = np.argmax(probs[keep], axis=1)
    expected_level = probs[keep] @ np.arange(hi - lo + 1)
    expected = {"accuracy": num(accuracy_score(idx[keep], pred)),
                "mcc": num(matthews_corrcoef(idx[keep], pred))}
    expected.update(correlations_expected(expected_level, idx[keep]))
    cases.append({
        "name": "ordinal_probs",
        "kind": {"kind": "ordinal", "min": lo, "max": hi},
        "metrics": ["accuracy", "mcc", "spearman", "spearman100", "pearson"],
        "probs": {"n_classes": hi - lo + 1, "data": probs.ravel().tolist()},
        "labels": {"class": labels},
        "expected": expected,
    })
    # Regression values with one NaN prediction: ρ and r are NaN, Spearman100 fills it.
    n = 60
    y = np.round(rng.normal(size=n), 6)
    x = np.round(0.5 * y + rng.normal(size=n), 6)
    x[7] = np.nan
    labels, keep = with_unlabelled(rng, y.tolist(), 0.1)
    keep[7], labels[7] = True, float(y[7])  # the NaN prediction must be scored
    cases.append({
        "name": "regression_values_with_nan",
        "kind": {"kind": "regression"},
        "metrics": ["spearman", "spearman100", "pearson"],
        "values": nums(x),
        "labels": {"value": labels},
        "expected": correlations_expected(x[keep], y[keep]),
    })
    x = x.copy()
    x[7] = 0.0
    cases.append({
        "name": "regression_values",
        "kind": {"kind": "regression"},
        "metrics": ["spearman", "spearman100", "pearson"],
        "values": nums(x),
        "labels": {"value": labels},
        "expected": correlations_expected(x[keep], y[keep]),
    })
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    write("classification.json", classification_cases(np.random.default_rng(1)))
    write("auroc.json", auroc_cases(np.random.default_rng(2)))
    write("correlation.json", correlation_cases(np.random.default_rng(3)))
    write("guanine.json", guanine_cases(np.random.default_rng(4)))
    write("score.json", score_cases(np.random.default_rng(5)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
