//! The one way a user-controlled name (a class, a task spec, a sweep axis value, a record id)
//! becomes part of a path: never a separator, never `.` or `..`, never a name that another name
//! already turned into.
//!
//! - [`component`] refuses a name that is not already a plain file name (class names in an
//!   export: changing them would change the dataset);
//! - [`escaped`] turns any name into a plain file name (`cnnprom/ecoli` → `cnnprom_ecoli`,
//!   `..` → `__`);
//! - [`Claims`] remembers which name took which escaped form and refuses a second name that
//!   escapes to the same one (two sweep tasks sharing a run directory).

use crate::{DataError, Result};
use std::collections::BTreeMap;

/// Characters kept as they are by [`escaped`]; everything else becomes `_`.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '=' | '@')
}

/// `name` if it is a plain file name: not empty, not `.` or `..`, no path separator, no control
/// character, no leading `-` or `.`; otherwise an error naming `what` (e.g. "class name").
pub fn component<'a>(name: &'a str, what: &str) -> Result<&'a str> {
    let bad = |why: &str| {
        Err(DataError::Invalid(format!(
            "{what} {name:?} cannot be a file name: {why}"
        )))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name == "." || name == ".." {
        return bad("it names a directory itself");
    }
    if name.contains(['/', '\\']) {
        return bad("it contains a path separator");
    }
    if name.chars().any(|c| c.is_control()) {
        return bad("it contains a control character");
    }
    if name.starts_with('.') || name.starts_with('-') {
        return bad("it starts with '.' or '-'");
    }
    if name.len() > 200 {
        return bad("it is longer than 200 bytes");
    }
    Ok(name)
}

/// `name` as a plain file name: every character outside `[A-Za-z0-9._+=@-]` becomes `_`, a
/// leading `.` or `-` becomes `_`, an empty name becomes `_`, and the result is at most 120
/// bytes. Always accepted by [`component`].
pub fn escaped(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .take(120)
        .collect();
    if s.is_empty() {
        s.push('_');
    }
    if s.starts_with(['.', '-']) {
        s.replace_range(0..1, "_");
    }
    s
}

/// Names already turned into path components under one parent.
#[derive(Debug, Default, Clone)]
pub struct Claims {
    taken: BTreeMap<String, String>,
}

impl Claims {
    /// The escaped form of `name` (see [`escaped`]); an error naming both when another name
    /// already took that form. Claiming the same name twice gives the same component.
    pub fn claim(&mut self, name: &str, what: &str) -> Result<String> {
        let e = escaped(name);
        match self.taken.get(&e) {
            Some(other) if other != name => Err(DataError::Invalid(format!(
                "{what} {name:?} and {other:?} would share the directory {e:?}; rename one"
            ))),
            _ => {
                self.taken.insert(e.clone(), name.to_string());
                Ok(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_refuses_escapes() {
        for bad in [
            "",
            ".",
            "..",
            "../../../x",
            "a/b",
            "a\\b",
            ".hidden",
            "-rf",
            "a\nb",
        ] {
            assert!(component(bad, "class name").is_err(), "{bad:?}");
        }
        let e = component("../x", "class name").unwrap_err().to_string();
        assert!(e.contains("class name") && e.contains("../x"), "{e}");
        assert_eq!(component("promoter", "class").unwrap(), "promoter");
    }

    #[test]
    fn escaped_names_are_always_components() {
        for name in [
            "..",
            ".",
            "",
            "cnnprom/ecoli",
            "fasta:a=x.fa,b=../y.fa",
            "-x",
            "é",
        ] {
            let e = escaped(name);
            assert!(component(&e, "escaped").is_ok(), "{name:?} → {e:?}");
        }
        assert_eq!(escaped("cnnprom/ecoli"), "cnnprom_ecoli");
        assert_eq!(escaped(".."), "_.");
    }

    #[test]
    fn claims_refuse_collisions_but_not_repeats() {
        let mut c = Claims::default();
        assert_eq!(c.claim("a/b", "task").unwrap(), "a_b");
        assert_eq!(c.claim("a/b", "task").unwrap(), "a_b");
        let e = c.claim("a:b", "task").unwrap_err().to_string();
        assert!(e.contains("a:b") && e.contains("a/b"), "{e}");
    }
}
