//! The built-in task cards, embedded in the binary (one TOML file per suite under `cards/`).

use crate::{DataError, Result, TaskCard};
use serde::Deserialize;
use std::sync::OnceLock;

/// The embedded card files, one per suite. Add a suite by adding its file here.
const CARD_FILES: &[(&str, &str)] = &[("cards/cnnprom.toml", include_str!("../cards/cnnprom.toml"))];

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
    builtin_cards().iter().find(|c| c.name == name).ok_or_else(|| {
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
            assert!(c.name.starts_with(c.suite.prefix()), "{} vs suite {:?}", c.name, c.suite);
        }
    }

    #[test]
    fn unknown_task_lists_the_known_ones() {
        let e = card("cnnprom/nope").unwrap_err().to_string();
        assert!(e.contains("cnnprom/ecoli"), "{e}");
    }
}
