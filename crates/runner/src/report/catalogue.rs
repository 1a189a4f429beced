//! GUANinE's "Full Catalog of Results" (`fullscores.csv`, v1.0.8: one row per published model,
//! one column per task, TEST-split Spearman ρ × 100), read from a file the user points at with
//! `strand report --catalogue` (the table is not strand's to ship: see the data folder's
//! SOURCE.md). Columns map to strand tasks and ccre sub-tasks:
//! `dnase` → `guanine/dnase_propensity`, `ccre` → `guanine/ccre_propensity`, `ccre-<sub>` → its
//! `spearman100:<sub>` (upstream's typo `hdk27ac` read as H3K27ac), `cons30`, `cons100`,
//! `gpra-c` → `guanine/gpra_c`, `gpra-d` → `guanine/gpra_d`.

use anyhow::{Context, Result, bail};
use std::path::Path;

/// One published model's test score on one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub model: String,
    pub value: f64,
}

/// The whole table: column names (without `model`) and each model's cells (`None`: empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<Option<f64>>)>,
}

/// The model names as the table writes them, made readable: upstream's raw LaTeX for the
/// paper's T5 row (`hspace-4.2mm large$star$ T5`) becomes `large★ T5`.
fn clean_model(name: &str) -> String {
    name.trim()
        .trim_start_matches("hspace-4.2mm")
        .replace("$star$", "★")
        .trim()
        .to_string()
}

impl Catalogue {
    /// Reads the CSV at `path`; errors name the file and line.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading GUANinE catalogue {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("GUANinE catalogue {}", path.display()))
    }

    fn parse(text: &str) -> Result<Self> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        if header.first().map(|h| h.trim()) != Some("model") || header.len() < 2 {
            bail!("the header does not start with `model,`: {header:?}");
        }
        let columns: Vec<String> = header[1..].iter().map(|c| c.trim().to_string()).collect();
        let mut rows = Vec::new();
        for (i, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != header.len() {
                bail!(
                    "line {}: {} fields, the header has {}",
                    i + 2,
                    cells.len(),
                    header.len()
                );
            }
            let values = cells[1..]
                .iter()
                .map(|c| match c.trim() {
                    "" => Ok(None),
                    v => v
                        .parse::<f64>()
                        .map(Some)
                        .with_context(|| format!("line {}: {v:?} is not a number", i + 2)),
                })
                .collect::<Result<Vec<_>>>()?;
            rows.push((clean_model(cells[0]), values));
        }
        Ok(Catalogue { columns, rows })
    }

    /// The column holding `task`'s `metric` (`spearman100`, or `spearman100:<sub-task>` for
    /// ccre), if the table has one.
    pub fn column(&self, task: &str, metric: &str) -> Option<usize> {
        let name = task.strip_prefix("guanine/")?;
        let base = match name {
            "dnase_propensity" => "dnase",
            "ccre_propensity" => "ccre",
            "gpra_c" => "gpra-c",
            "gpra_d" => "gpra-d",
            other => other,
        };
        let wanted = match metric.split_once(':') {
            None if metric == "spearman100" => base.to_string(),
            Some(("spearman100", sub)) => format!("{base}-{}", sub.to_lowercase()),
            _ => return None,
        };
        self.columns.iter().position(|c| {
            let c = c.to_lowercase().replace("hdk27ac", "h3k27ac");
            c == wanted
        })
    }

    /// Every model's score for `task`'s `metric`, best first (empty cells left out).
    pub fn entries(&self, task: &str, metric: &str) -> Vec<Entry> {
        let Some(col) = self.column(task, metric) else {
            return Vec::new();
        };
        let mut out: Vec<Entry> = self
            .rows
            .iter()
            .filter_map(|(m, v)| {
                Some(Entry {
                    model: m.clone(),
                    value: v[col]?,
                })
            })
            .collect();
        out.sort_by(|a, b| b.value.total_cmp(&a.value));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "model,dnase,ccre,ccre-dnase,ccre-ctcf,ccre-hdk27ac,ccre-h3k4me3,cons30,cons100,gpra-c,gpra-d\n\
        GC-content,20.5,12.9,13.0,12.6,13.2,13.0,38.1,39.5,52.9,56.9\n\
        hspace-4.2mm large$star$ T5,33.0,27.4,26.8,28.2,27.1,27.4,52.5,44.0,84.6,88.5\n\
        Evo2_7B_base,40.0,30.0,29.0,31.0,30.0,30.0,60.0,50.0,,\n";

    #[test]
    fn columns_map_to_tasks_and_subtasks_best_first() {
        let c = Catalogue::parse(CSV).unwrap();
        let d = c.entries("guanine/dnase_propensity", "spearman100");
        assert_eq!(
            d.iter().map(|e| e.model.as_str()).collect::<Vec<_>>(),
            ["Evo2_7B_base", "large★ T5", "GC-content"]
        );
        assert_eq!(d[1].value, 33.0);
        let k27 = c.entries("guanine/ccre_propensity", "spearman100:H3K27ac");
        assert_eq!(k27[0].value, 30.0);
        assert_eq!(
            c.entries("guanine/ccre_propensity", "spearman100:CTCF")[2].value,
            12.6
        );
        // Empty cells are left out; unknown tasks and metrics have no column.
        assert_eq!(c.entries("guanine/gpra_d", "spearman100").len(), 2);
        assert!(c.entries("cnnprom/ecoli", "mcc").is_empty());
        assert!(c.entries("guanine/cons30", "spearman100_pooled").is_empty());
        let e = Catalogue::parse("model,a\nx,1,2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(Catalogue::parse("name,a\n").is_err());
    }
}
