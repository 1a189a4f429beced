//! Exclusive locks on directories strand writes (a run directory, a sweep, a cache entry), held
//! for the life of the process: a second process gets "in use by pid N" instead of interleaving
//! its writes with the first's. The lock is the OS's advisory file lock on `<dir>/.strand.lock`,
//! so it is released when the process ends, even by SIGKILL.

use crate::{DataError, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside a locked directory.
pub const LOCK_FILE: &str = ".strand.lock";

/// A held lock; released on drop.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Locks `dir` (which must exist) for this process; an error naming the holder's pid when
    /// another process holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| DataError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(DataError::Invalid(format!(
                    "{} is in use by pid {} (another strand process); wait for it to finish or \
                     stop it first",
                    dir.display(),
                    if pid.is_empty() { "?" } else { pid }
                )));
            }
            Err(TryLockError::Error(e)) => return Err(DataError::io(&path, e)),
        }
        file.set_len(0).map_err(|e| DataError::io(&path, e))?;
        file.rewind().map_err(|e| DataError::io(&path, e))?;
        write!(file, "{}", std::process::id()).map_err(|e| DataError::io(&path, e))?;
        file.flush().map_err(|e| DataError::io(&path, e))?;
        Ok(DirLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = DirLock::acquire(dir.path()).unwrap();
        // A second open file description conflicts even within one process (flock semantics).
        let e = DirLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("in use by pid") && e.contains(&std::process::id().to_string()),
            "{e}"
        );
        drop(held);
        DirLock::acquire(dir.path()).unwrap();
    }
}
