//! The cache directory that `strand fetch` fills and every other command reads.

use std::path::PathBuf;

/// `$STRAND_CACHE` if set, else `$XDG_CACHE_HOME/strand`, else `~/.cache/strand`, else
/// `./.strand-cache`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRAND_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("strand");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".cache").join("strand");
    }
    PathBuf::from(".strand-cache")
}
