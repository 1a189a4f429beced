//! The output directory of `strand interpret`: refused when it holds files another program
//! wrote, written atomically file by file, with a marker (`.strand-interpret`, the list of
//! files written) that lets a later `strand interpret` replace its own outputs.

use super::Attribution;
use super::ism::BASES;
use crate::engine::checkpoint::write_atomic;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use strand_data::paths::escaped;

/// The marker file: one file name a line, the files the last `strand interpret` wrote here.
pub const MARKER: &str = ".strand-interpret";
/// The attributions table.
pub const TSV: &str = "attributions.tsv";

/// An output directory checked before any work: new, empty, or written by `strand interpret`.
#[derive(Debug, Clone)]
pub struct Plan {
    dir: PathBuf,
    /// Files of the previous `strand interpret` in `dir`.
    previous: Vec<String>,
}

impl Plan {
    /// Checks `dir`: it may be missing (created when writing), empty, or hold a
    /// [`MARKER`]; anything else is refused, naming it.
    pub fn check(dir: &Path) -> Result<Self> {
        let plan = |previous| {
            Ok(Plan {
                dir: dir.to_path_buf(),
                previous,
            })
        };
        if !dir.exists() {
            return plan(Vec::new());
        }
        if !dir.is_dir() {
            bail!("--out {} exists and is not a directory", dir.display());
        }
        let marker = dir.join(MARKER);
        if marker.is_file() {
            let text = std::fs::read_to_string(&marker)
                .with_context(|| format!("reading {}", marker.display()))?;
            return plan(text.lines().map(str::to_string).collect());
        }
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("reading --out {}", dir.display()))?;
        if let Some(e) = entries.next() {
            let name = e?.file_name();
            bail!(
                "--out {} is not empty (it holds {}) and was not written by strand interpret: \
                 give a new or empty directory",
                dir.display(),
                name.to_string_lossy()
            );
        }
        plan(Vec::new())
    }

    /// Writes `tsv` and the `(file name, contents)` logos into the directory; returns their
    /// paths. The marker lists the union of old and new files while writing, then only the new
    /// ones; files of the previous run that this one did not rewrite are removed last.
    pub fn write(&self, tsv: &str, svgs: &[(String, String)]) -> Result<(PathBuf, Vec<PathBuf>)> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating --out {}", self.dir.display()))?;
        let mut names: Vec<String> = vec![TSV.to_string()];
        names.extend(svgs.iter().map(|(n, _)| n.clone()));
        let mut all = self.previous.clone();
        all.extend(names.iter().cloned());
        all.sort();
        all.dedup();
        let marker = self.dir.join(MARKER);
        write_atomic(&marker, (all.join("\n") + "\n").as_bytes())?;
        let tsv_path = self.dir.join(TSV);
        write_atomic(&tsv_path, tsv.as_bytes())?;
        let mut paths = Vec::with_capacity(svgs.len());
        for (name, text) in svgs {
            let p = self.dir.join(name);
            write_atomic(&p, text.as_bytes())?;
            paths.push(p);
        }
        write_atomic(&marker, (names.join("\n") + "\n").as_bytes())?;
        for old in &self.previous {
            // Only plain names this module writes: never a path out of the directory.
            let own = old == TSV || old.ends_with(".svg");
            if own && !names.contains(old) && strand_data::paths::component(old, "file").is_ok() {
                let p = self.dir.join(old);
                if p.is_file() {
                    std::fs::remove_file(&p)
                        .with_context(|| format!("removing {}", p.display()))?;
                }
            }
        }
        Ok((tsv_path, paths))
    }
}

/// The logo file name of each id, `<escaped id>.svg` ([`strand_data::paths::escaped`]); two
/// ids that escape to the same name are an error naming both.
pub fn svg_names<'a>(ids: impl Iterator<Item = &'a str>) -> Result<Vec<String>> {
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    ids.map(|id| {
        let name = format!("{}.svg", escaped(id));
        match taken.insert(name.clone(), id) {
            Some(other) if other != id => bail!(
                "the record ids {other:?} and {id:?} would both be drawn into {name}: rename one"
            ),
            _ => Ok(name),
        }
    })
    .collect()
}

/// `attributions.tsv`: a header, then one row per base of every record (positions 1-based).
pub fn tsv(attrs: &[Attribution]) -> String {
    let mut s = String::from("id\tposition\tref");
    for b in BASES {
        let _ = write!(s, "\tdelta_{}", b as char);
    }
    s.push_str("\timportance\n");
    for a in attrs {
        for (i, (&base, (d, imp))) in a
            .seq
            .iter()
            .zip(a.delta.iter().zip(&a.importance))
            .enumerate()
        {
            let _ = write!(s, "{}\t{}\t{}", a.id, i + 1, base as char);
            for v in d {
                let _ = write!(s, "\t{}", number(*v));
            }
            let _ = writeln!(s, "\t{}", number(*imp));
        }
    }
    s
}

/// A value as the shortest text that reads back as the same `f32` (the model computes in f32;
/// more digits would be noise).
fn number(v: f64) -> String {
    let f = v as f32;
    if f == 0.0 { "0".into() } else { format!("{f}") }
}
