//! The built-in task cards, embedded in the binary (one TOML file per suite under `cards/`).

use crate::{DataError, Result, TaskCard};
use serde::Deserialize;
use std::sync::OnceLock;

/// The embedded card files, one per suite. Add a suite by adding its file here.
const CARD_FILES: &[(&str, &str)] = &[
    ("cards/cnnprom.toml", include_str!("../cards/cnnprom.toml")),
    ("cards/gb.toml", include_str!("../cards/gb.toml")),
    ("cards/guanine.toml", include_str!("../cards/guanine.toml")),
    (
        "cards/synthetic.toml",
        include_str!("../cards/synthetic.toml"),
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardFile {
    task: Vec<TaskCard>,
}

/// Every built-in card, in file order.
///
/// # Panics
/// If an embedded card file does not parse: a build-time bug caught by this module's tests.
pub fn builtin_cards() -> &'static [TaskCard] {
    static CARDS: OnceLock<Vec<TaskCard>> = OnceLock::new();
    CARDS.get_or_init(|| {
        CARD_FILES
            .iter()
            .flat_map(|(path, text)| {
                toml::from_str::<CardFile>(text)
                    .unwrap_or_else(|e| panic!("embedded {path} does not parse: {e}"))
                    .task
            })
            .collect()
    })
}

/// The built-in card named `name` (e.g. `cnnprom/ecoli`).
pub fn card(name: &str) -> Result<&'static TaskCard> {
    builtin_cards()
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = builtin_cards().iter().map(|c| c.name.as_str()).collect();
            DataError::UnknownTask(format!(
                "unknown task {name:?}; built-in tasks: {}",
                names.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_parse_and_names_are_unique() {
        let cards = builtin_cards();
        assert!(!cards.is_empty());
        let mut names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "duplicate task names");
        for c in cards {
            assert!(!c.metrics.is_empty(), "{} has no metric", c.name);
            assert!(
                c.name.starts_with(c.suite.prefix()),
                "{} vs suite {:?}",
                c.name,
                c.suite
            );
        }
    }

    #[test]
    fn unknown_task_lists_the_known_ones() {
        let e = card("cnnprom/nope").unwrap_err().to_string();
        assert!(e.contains("cnnprom/ecoli"), "{e}");
    }
}

#[cfg(test)]
mod suite_card_tests {
    use super::*;
    use crate::{LabelKind, Metric, Split};

    #[test]
    fn genomic_benchmarks_cards_are_complete_and_sorted() {
        let gb: Vec<&TaskCard> = builtin_cards()
            .iter()
            .filter(|c| c.name.starts_with("gb/"))
            .collect();
        assert_eq!(gb.len(), 9);
        for c in gb {
            let LabelKind::Classes { names } = &c.labels else {
                panic!("{} is not a classification task", c.name)
            };
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(
                &sorted, names,
                "{}: classes must be in sorted order",
                c.name
            );
            assert_eq!(
                c.metrics,
                [Metric::Accuracy, Metric::F1, Metric::Mcc],
                "{}",
                c.name
            );
            let r = c
                .records
                .unwrap_or_else(|| panic!("{}: no record counts", c.name));
            assert!(r.train > r.test && r.test > 0, "{}", c.name);
            assert_eq!(c.splits, vec![Split::Train, Split::Test]);
            assert_eq!(c.eval_split, Split::Test);
            assert_eq!(c.version, "0");
            let acc = c
                .published
                .iter()
                .find(|p| p.metric == Metric::Accuracy)
                .unwrap_or_else(|| panic!("{}: no published accuracy", c.name));
            assert!(
                acc.value > 0.5 && acc.value < 1.0,
                "{}: accuracy is a fraction",
                c.name
            );
        }
        let nontata = card("gb/human_nontata_promoters").unwrap();
        assert_eq!(nontata.published[0].value, 0.845694);
    }

    #[test]
    fn guanine_cards_score_spearman_on_dev() {
        for name in [
            "dnase_propensity",
            "ccre_propensity",
            "cons30",
            "cons100",
            "gpra_c",
            "gpra_d",
        ] {
            let c = card(&format!("guanine/{name}")).unwrap();
            assert_eq!(c.official_metric(), Metric::Spearman100);
            assert_eq!(c.eval_split, Split::Valid);
            assert!(
                c.published.iter().all(|p| p.split == Split::Test),
                "{name}: published numbers are test-set scores"
            );
            assert!(c.published.len() >= 3, "{name}");
        }
        assert_eq!(
            card("guanine/cons30").unwrap().labels,
            LabelKind::Ordinal { min: 0, max: 24 }
        );
        assert!(card("guanine/clinvar_snv").is_ok());
        assert!(card("guanine/cadd_indel").unwrap().splits.is_empty());
    }
}
