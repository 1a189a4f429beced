//! GUANinE ccre_propensity scoring (`guanine.md` §4.5): Spearman ρ separately for each sub-task
//! (records grouped by the sub-task in their id, `<task>:<row>`), and the official score is the
//! **arithmetic mean of the sub-task ρ**, × 100 and rounded to 4 decimals as GUANinE rounds.
//! Each sub-task's own score is reported as `spearman100:<sub-task>`; the ρ over all rows pooled
//! is kept as `spearman100_pooled`.

use crate::Label;
use crate::metrics::{fill_nan_with_mean, guanine_spearman100, np_round, spearman};
use crate::source::guanine::subtask;
use std::collections::BTreeMap;

/// Per-sub-task scores of labelled rows: `spearman100:<sub>` for each sub-task and
/// `spearman100` = round(100 · mean ρ, 4). Empty when no id carries a sub-task.
pub fn scores(ids: &[String], values: &[f64], truth: &[Label]) -> BTreeMap<String, f64> {
    let mut groups: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for ((id, &v), t) in ids.iter().zip(values).zip(truth) {
        let (Some(sub), Some(y)) = (subtask(id), t.as_f64()) else {
            continue;
        };
        let g = groups.entry(sub).or_default();
        g.0.push(v);
        g.1.push(y);
    }
    let mut out = BTreeMap::new();
    if groups.is_empty() {
        return out;
    }
    let mut rhos = Vec::with_capacity(groups.len());
    for (sub, (pred, y)) in &groups {
        out.insert(format!("spearman100:{sub}"), guanine_spearman100(pred, y));
        rhos.push(spearman(&fill_nan_with_mean(pred), y));
    }
    let mean = rhos.iter().sum::<f64>() / rhos.len() as f64;
    out.insert("spearman100".into(), np_round(100.0 * mean, 4));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_of_subtask_rhos() {
        // Sub-task A: the first test vector of guanine.md §4 (ρ = 3/√10); B: ρ = −0.5.
        let mut ids = Vec::new();
        let mut values = Vec::new();
        let mut truth = Vec::new();
        for (i, (p, y)) in [0.1, 0.4, 0.35, 0.8, 0.2]
            .into_iter()
            .zip([0, 1, 1, 2, 0])
            .enumerate()
        {
            ids.push(format!("A:{i}"));
            values.push(p);
            truth.push(Label::Class(y));
        }
        for (i, (p, y)) in [3.0, 1.0, 2.0].into_iter().zip([1, 2, 3]).enumerate() {
            ids.push(format!("B:{}", i + 5));
            values.push(p);
            truth.push(Label::Class(y));
        }
        ids.push("B:9".into());
        values.push(0.0);
        truth.push(Label::None);
        let s = scores(&ids, &values, &truth);
        assert_eq!(s["spearman100:A"], 94.8683);
        assert_eq!(s["spearman100:B"], -50.0);
        let mean = (3.0 / 10f64.sqrt() - 0.5) / 2.0;
        assert_eq!(s["spearman100"], np_round(100.0 * mean, 4));
        assert!(scores(&["1".into()], &[0.0], &[Label::Class(0)]).is_empty());
    }
}
