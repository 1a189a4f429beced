//! Deriving the splits a publisher does not ship: a seeded, stratified train/valid/test split
//! (CNNProm, user FASTA/CSV), a seeded validation split carved out of train (Genomic
//! Benchmarks), and k-fold cross-validation.

use crate::source::{RecordIter, Source};
use crate::{DataError, Label, Result, Split, TaskCard};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How to derive missing splits. Recorded in every run's resolved config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitPlan {
    /// Seed of the split (independent of the training seed).
    pub seed: u64,
    /// Fraction of the pool that goes to validation.
    pub valid_frac: f64,
    /// Fraction of the pool that goes to test, when the source has no test split.
    pub test_frac: f64,
    /// `Some((k, i))`: k-fold cross-validation, fold `i` (0-based) is the test split.
    pub fold: Option<(usize, usize)>,
}

impl Default for SplitPlan {
    fn default() -> Self {
        SplitPlan {
            seed: 0,
            valid_frac: 0.1,
            test_frac: 0.1,
            fold: None,
        }
    }
}

impl SplitPlan {
    /// Checks fractions and fold numbers.
    pub fn validate(&self) -> Result<()> {
        let ok = |f: f64| (0.0..1.0).contains(&f);
        if !ok(self.valid_frac) || !ok(self.test_frac) || self.valid_frac + self.test_frac >= 1.0 {
            return Err(DataError::Invalid(format!(
                "split fractions must be in [0, 1) and leave some training data (valid {}, test {})",
                self.valid_frac, self.test_frac
            )));
        }
        if let Some((k, i)) = self.fold
            && (k < 2 || i >= k)
        {
            return Err(DataError::Invalid(format!(
                "fold {i} of {k}: need k ≥ 2 and 0 ≤ i < k"
            )));
        }
        Ok(())
    }
}

/// Wraps `raw` so that it provides train, valid and test.
///
/// - train + valid + test (and no folds): passed through unchanged;
/// - train + test (Genomic Benchmarks): a seeded, stratified `valid_frac` of train becomes valid;
/// - `valid_frac = 0` and no published valid split: no validation split at all (upstream
///   Genomic Benchmarks protocol: train on the whole train split, score the last epoch);
/// - a single pool (CNNProm, user FASTA): seeded, stratified test / valid / train
///   (`test_frac`, `valid_frac`, the rest);
/// - `fold: Some((k, i))`: the pool is cut into k stratified folds, fold i is test, and a
///   seeded, stratified `valid_frac` of the pool is taken from the other folds for validation.
///
/// Streaming: one pass reads the pool's labels (one `u32` per record, no sequences), then each
/// split re-reads the pool and keeps its records (one byte per record says which split).
/// Stratification is per class (regression and unlabelled records form one stratum); each split
/// gets `round(frac × n_class)` records of every class.
pub fn derive(raw: Box<dyn Source>, plan: &SplitPlan) -> Result<Box<dyn Source>> {
    plan.validate()?;
    let have = raw.splits();
    let has = |s: Split| have.contains(&s);
    if plan.fold.is_none() && has(Split::Valid) && has(Split::Test) {
        return Ok(raw);
    }
    if !has(Split::Train) {
        return Err(DataError::MissingSplit {
            task: raw.card().name.clone(),
            split: "train".into(),
            available: names(&have),
        });
    }
    if plan.fold.is_some() && has(Split::Test) {
        return Err(DataError::Invalid(format!(
            "task {} has an official test split: k-fold cross-validation is only for tasks without one",
            raw.card().name
        )));
    }
    let make_test = !has(Split::Test);
    // `valid_frac = 0`: no validation split (train on all of train, keep the last epoch).
    let make_valid = !has(Split::Valid) && plan.valid_frac > 0.0;
    if plan.fold.is_none() && !make_test && !make_valid {
        return Ok(raw);
    }
    let mut strata = Vec::new();
    for r in raw.records(Split::Train)? {
        strata.push(stratum(&r?.label));
    }
    if strata.is_empty() {
        return Err(DataError::Invalid(format!(
            "task {}: the train split has no records",
            raw.card().name
        )));
    }
    let assignment = assign(&strata, plan, make_valid, make_test);
    let mut derived = vec![Split::Train];
    if make_valid {
        derived.push(Split::Valid);
    }
    if make_test {
        derived.push(Split::Test);
    }
    Ok(Box::new(Derived {
        raw,
        assignment: Arc::new(assignment),
        derived,
    }))
}

fn names(splits: &[Split]) -> String {
    let v: Vec<&str> = splits.iter().map(Split::as_str).collect();
    v.join(", ")
}

fn stratum(label: &Label) -> u32 {
    match label {
        Label::Class(c) => *c,
        Label::Value(_) | Label::None => 0,
    }
}

/// The split of every pool record (by index), from the per-record strata.
fn assign(strata: &[u32], plan: &SplitPlan, make_valid: bool, make_test: bool) -> Vec<Split> {
    let n_strata = strata.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_strata];
    for (i, s) in strata.iter().enumerate() {
        members[*s as usize].push(i as u32);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let mut out = vec![Split::Train; strata.len()];
    let take = |frac: f64, n: usize| ((frac * n as f64).round() as usize).min(n);
    let mut offset = 0usize;
    for idx in members.iter_mut() {
        idx.shuffle(&mut rng);
        let n = idx.len();
        let n_valid = if make_valid {
            take(plan.valid_frac, n)
        } else {
            0
        };
        match plan.fold {
            Some((k, fold)) => {
                // Deal the shuffled class round-robin into k folds, continuing where the previous
                // class stopped so that fold sizes differ by at most one overall.
                let mut rest = Vec::with_capacity(n);
                for (j, &i) in idx.iter().enumerate() {
                    if (offset + j) % k == fold {
                        out[i as usize] = Split::Test;
                    } else {
                        rest.push(i);
                    }
                }
                for &i in rest.iter().take(n_valid) {
                    out[i as usize] = Split::Valid;
                }
            }
            None => {
                let n_test = if make_test {
                    take(plan.test_frac, n)
                } else {
                    0
                };
                for (j, &i) in idx.iter().enumerate() {
                    if j < n_test {
                        out[i as usize] = Split::Test;
                    } else if j < n_test + n_valid {
                        out[i as usize] = Split::Valid;
                    }
                }
            }
        }
        offset += n;
    }
    out
}

/// A source whose missing splits are carved out of its train pool.
struct Derived {
    raw: Box<dyn Source>,
    /// Split of each pool record, by position in the pool's stream.
    assignment: Arc<Vec<Split>>,
    /// Splits served from the pool.
    derived: Vec<Split>,
}

impl Source for Derived {
    fn card(&self) -> &TaskCard {
        self.raw.card()
    }

    fn splits(&self) -> Vec<Split> {
        let mut v = self.raw.splits();
        v.extend(self.derived.iter().copied());
        v.sort();
        v.dedup();
        v
    }

    fn records(&self, split: Split) -> Result<RecordIter> {
        if !self.derived.contains(&split) {
            return self.raw.records(split);
        }
        let assignment = Arc::clone(&self.assignment);
        let task = self.raw.card().name.clone();
        let mut pool = self.raw.records(Split::Train)?.enumerate();
        let mut failed = false;
        Ok(Box::new(std::iter::from_fn(move || {
            if failed {
                return None;
            }
            for (i, r) in pool.by_ref() {
                let mut r = match r {
                    Ok(r) => r,
                    Err(e) => {
                        failed = true;
                        return Some(Err(e));
                    }
                };
                match assignment.get(i) {
                    Some(s) if *s == split => {
                        r.split = split;
                        return Some(Ok(r));
                    }
                    Some(_) => {}
                    None => {
                        failed = true;
                        return Some(Err(DataError::Invalid(format!(
                            "task {task}: the data changed while it was being read (more than {} records)",
                            assignment.len()
                        ))));
                    }
                }
            }
            None
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{LabelKind, Suite};
    use crate::{Record, TaskCard};
    use std::collections::{HashMap, HashSet};

    /// A pool of `counts[c]` records of class `c`, plus optional official test records.
    struct Pool {
        card: TaskCard,
        counts: Vec<usize>,
        test: usize,
    }

    impl Pool {
        fn boxed(counts: &[usize], test: usize) -> Box<dyn Source> {
            let mut splits = vec![Split::Train];
            if test > 0 {
                splits.push(Split::Test);
            }
            Box::new(Pool {
                card: TaskCard {
                    name: "pool".into(),
                    suite: Suite::Custom,
                    version: "0".into(),
                    description: String::new(),
                    labels: LabelKind::Classes {
                        names: (0..counts.len()).map(|c| c.to_string()).collect(),
                    },
                    length: None,
                    metrics: vec![crate::Metric::Accuracy],
                    splits,
                    eval_split: Split::Test,
                    published: vec![],
                    records: None,
                    caveats: vec![],
                },
                counts: counts.to_vec(),
                test,
            })
        }
    }

    impl Source for Pool {
        fn card(&self) -> &TaskCard {
            &self.card
        }
        fn splits(&self) -> Vec<Split> {
            self.card.splits.clone()
        }
        fn records(&self, split: Split) -> Result<RecordIter> {
            let mut v = Vec::new();
            if split == Split::Train {
                for (c, n) in self.counts.iter().enumerate() {
                    for j in 0..*n {
                        v.push(Ok(Record {
                            id: format!("c{c}_{j}"),
                            seq: b"ACGT".to_vec(),
                            label: Label::Class(c as u32),
                            split,
                        }));
                    }
                }
            } else if split == Split::Test && self.test > 0 {
                for j in 0..self.test {
                    v.push(Ok(Record {
                        id: format!("t{j}"),
                        seq: b"ACGT".to_vec(),
                        label: Label::Class(0),
                        split,
                    }));
                }
            } else {
                return Err(DataError::Invalid("no such split".into()));
            }
            Ok(Box::new(v.into_iter()))
        }
    }

    fn ids(src: &dyn Source, split: Split) -> Vec<String> {
        src.records(split).unwrap().map(|r| r.unwrap().id).collect()
    }

    fn per_class(src: &dyn Source, split: Split) -> HashMap<u32, usize> {
        let mut m = HashMap::new();
        for r in src.records(split).unwrap() {
            let r = r.unwrap();
            assert_eq!(r.split, split);
            *m.entry(r.label.class().unwrap()).or_default() += 1;
        }
        m
    }

    #[test]
    fn single_pool_is_stratified_80_10_10() {
        let counts = [3000usize, 839];
        let src = derive(Pool::boxed(&counts, 0), &SplitPlan::default()).unwrap();
        assert_eq!(src.splits(), vec![Split::Train, Split::Valid, Split::Test]);
        for (split, frac) in [(Split::Train, 0.8), (Split::Valid, 0.1), (Split::Test, 0.1)] {
            let m = per_class(src.as_ref(), split);
            for (c, n) in counts.iter().enumerate() {
                let got = m[&(c as u32)] as f64;
                assert!(
                    (got - frac * *n as f64).abs() <= 1.0,
                    "{split} class {c}: {got}"
                );
            }
        }
    }

    #[test]
    fn disjoint_complete_and_seed_stable() {
        let counts = [57usize, 43, 10];
        let plan = SplitPlan {
            seed: 5,
            ..SplitPlan::default()
        };
        let a = derive(Pool::boxed(&counts, 0), &plan).unwrap();
        let b = derive(Pool::boxed(&counts, 0), &plan).unwrap();
        let c = derive(Pool::boxed(&counts, 0), &SplitPlan::default()).unwrap();
        let mut all = HashSet::new();
        let mut total = 0;
        for s in [Split::Train, Split::Valid, Split::Test] {
            let v = ids(a.as_ref(), s);
            assert_eq!(v, ids(b.as_ref(), s), "same seed, same {s}");
            total += v.len();
            all.extend(v);
        }
        assert_eq!(total, 110);
        assert_eq!(all.len(), 110, "splits overlap");
        assert_ne!(ids(a.as_ref(), Split::Test), ids(c.as_ref(), Split::Test));
    }

    #[test]
    fn folds_partition_the_pool() {
        let counts = [103usize, 40];
        let k = 5;
        let mut seen = HashMap::new();
        for i in 0..k {
            let plan = SplitPlan {
                fold: Some((k, i)),
                ..SplitPlan::default()
            };
            let src = derive(Pool::boxed(&counts, 0), &plan).unwrap();
            let test = ids(src.as_ref(), Split::Test);
            assert!((28..=29).contains(&test.len()), "fold {i}: {}", test.len());
            let m = per_class(src.as_ref(), Split::Test);
            assert!((m[&0] as f64 - 103.0 / 5.0).abs() <= 1.0 && (m[&1] as f64 - 8.0).abs() <= 1.0);
            let valid: HashSet<String> = ids(src.as_ref(), Split::Valid).into_iter().collect();
            let train: HashSet<String> = ids(src.as_ref(), Split::Train).into_iter().collect();
            assert_eq!(valid.len(), 14);
            assert_eq!(train.len() + valid.len() + test.len(), 143);
            for id in test {
                assert!(!valid.contains(&id) && !train.contains(&id));
                *seen.entry(id).or_insert(0) += 1;
            }
        }
        assert_eq!(seen.len(), 143, "every record is tested once");
        assert!(seen.values().all(|n| *n == 1));
    }

    #[test]
    fn official_test_passes_through_and_valid_is_carved_from_train() {
        let src = derive(Pool::boxed(&[50, 50], 7), &SplitPlan::default()).unwrap();
        assert_eq!(ids(src.as_ref(), Split::Test).len(), 7);
        assert_eq!(ids(src.as_ref(), Split::Valid).len(), 10);
        assert_eq!(ids(src.as_ref(), Split::Train).len(), 90);
        let plan = SplitPlan {
            fold: Some((5, 0)),
            ..SplitPlan::default()
        };
        assert!(derive(Pool::boxed(&[50, 50], 7), &plan).is_err());
    }

    #[test]
    fn valid_frac_zero_means_no_validation_split() {
        let plan = SplitPlan {
            valid_frac: 0.0,
            ..SplitPlan::default()
        };
        // An official test split: train passes through whole, no valid split.
        let src = derive(Pool::boxed(&[50, 50], 7), &plan).unwrap();
        assert_eq!(src.splits(), vec![Split::Train, Split::Test]);
        assert_eq!(ids(src.as_ref(), Split::Train).len(), 100);
        assert!(src.records(Split::Valid).is_err());
        // A single pool: train and a derived test only.
        let src = derive(Pool::boxed(&[50, 50], 0), &plan).unwrap();
        assert_eq!(src.splits(), vec![Split::Train, Split::Test]);
        assert_eq!(ids(src.as_ref(), Split::Test).len(), 10);
        assert_eq!(ids(src.as_ref(), Split::Train).len(), 90);
    }

    #[test]
    fn bad_plans_are_rejected() {
        for plan in [
            SplitPlan {
                valid_frac: 0.6,
                test_frac: 0.5,
                ..SplitPlan::default()
            },
            SplitPlan {
                fold: Some((5, 5)),
                ..SplitPlan::default()
            },
        ] {
            assert!(derive(Pool::boxed(&[5, 5], 0), &plan).is_err());
        }
    }
}
