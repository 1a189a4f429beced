//! Safe zip extraction.
//!
//! Every entry name is checked before anything is written: absolute paths, Windows drive or UNC
//! prefixes, `..` components (zip slip) and symlink entries refuse the whole archive. The entries
//! are then extracted into a fresh temporary directory next to the target; the caller renames the
//! result into place, so a failed extraction leaves nothing a later command would read.

use crate::{DataError, Result};
use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

/// Checks one entry name (as stored in the archive, or a path of a file listing) and returns it
/// as a relative path with only normal components. Backslashes count as separators.
pub fn safe_relative_path(name: &str) -> std::result::Result<PathBuf, String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name.contains('\0') {
        return Err("NUL byte in the name".into());
    }
    let unified = name.replace('\\', "/");
    if unified.starts_with('/') {
        return Err("absolute path".into());
    }
    let bytes = unified.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err("drive-letter path".into());
    }
    let mut out = PathBuf::new();
    for part in unified.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("`..` component (would escape the target directory)".into()),
            p => {
                // A component that the platform would read as something else than a plain name.
                let mut comps = Path::new(p).components();
                match (comps.next(), comps.next()) {
                    (Some(Component::Normal(_)), None) => out.push(p),
                    _ => return Err(format!("unusual path component {p:?}")),
                }
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err("name without a file component".into());
    }
    Ok(out)
}

/// What one zip entry is.
enum EntryKind {
    Dir,
    File,
}

/// Checks every entry of the zip at `archive` and returns them (relative path, kind) in archive
/// order. Fails on the first unsafe entry with [`DataError::UnsafeArchive`].
fn plan(zip: &mut zip::ZipArchive<File>, archive: &Path) -> Result<Vec<(PathBuf, EntryKind)>> {
    let mut entries = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| bad_zip(archive, e))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let refuse = |reason: String| DataError::UnsafeArchive {
            archive: archive.to_path_buf(),
            entry: name.clone(),
            reason,
        };
        if entry.is_symlink() {
            return Err(refuse("symbolic link entries are not extracted".into()));
        }
        let rel = safe_relative_path(&name).map_err(refuse)?;
        let kind = if entry.is_dir() {
            EntryKind::Dir
        } else {
            EntryKind::File
        };
        entries.push((rel, kind));
    }
    Ok(entries)
}

/// Extracts the zip at `archive` into a new temporary directory created inside `parent` (which
/// must be on the same file system as the final location). Nothing is written unless every entry
/// is safe. Dropping the returned directory deletes it: rename what you keep out of it first.
pub fn extract_zip(archive: &Path, parent: &Path) -> Result<tempfile::TempDir> {
    let file = File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad_zip(archive, e))?;
    let entries = plan(&mut zip, archive)?;
    fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".extract-")
        .tempdir_in(parent)
        .map_err(|e| DataError::io(parent, e))?;
    for (i, (rel, kind)) in entries.iter().enumerate() {
        let out = tmp.path().join(rel);
        match kind {
            EntryKind::Dir => fs::create_dir_all(&out).map_err(|e| DataError::io(&out, e))?,
            EntryKind::File => {
                if let Some(dir) = out.parent() {
                    fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
                }
                let mut entry = zip.by_index(i).map_err(|e| bad_zip(archive, e))?;
                let mut dst = File::create_new(&out).map_err(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        DataError::BadFile {
                            path: archive.to_path_buf(),
                            message: format!("entry {} appears twice", rel.display()),
                        }
                    } else {
                        DataError::io(&out, e)
                    }
                })?;
                io::copy(&mut entry, &mut dst).map_err(|e| DataError::BadFile {
                    path: archive.to_path_buf(),
                    message: format!("entry {}: {e}", rel.display()),
                })?;
            }
        }
    }
    Ok(tmp)
}

fn bad_zip(archive: &Path, e: zip::result::ZipError) -> DataError {
    DataError::BadFile {
        path: archive.to_path_buf(),
        message: format!("not a readable zip archive: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn make_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(
            safe_relative_path("a/./b//c.txt").unwrap(),
            PathBuf::from("a/b/c.txt")
        );
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "\\\\host\\share",
            "C:/x",
            "a\\..\\b",
            "",
        ] {
            assert!(safe_relative_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn extracts_a_good_archive() {
        let dir = tempfile::tempdir().unwrap();
        let z = dir.path().join("a.zip");
        make_zip(
            &z,
            &[("d/train/pos/0.txt", b"ACGT"), ("d/test/neg/1.txt", b"TT")],
        );
        let tmp = extract_zip(&z, dir.path()).unwrap();
        assert_eq!(
            fs::read(tmp.path().join("d/train/pos/0.txt")).unwrap(),
            b"ACGT"
        );
        assert_eq!(
            fs::read(tmp.path().join("d/test/neg/1.txt")).unwrap(),
            b"TT"
        );
    }

    #[test]
    fn zip_slip_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::create_dir(&target).unwrap();
        let z = dir.path().join("evil.zip");
        make_zip(&z, &[("ok.txt", b"fine"), ("../evil.txt", b"gotcha")]);
        let e = extract_zip(&z, &target).unwrap_err();
        assert!(matches!(e, DataError::UnsafeArchive { ref entry, .. } if entry == "../evil.txt"));
        assert!(!dir.path().join("evil.txt").exists());
        assert_eq!(
            fs::read_dir(&target).unwrap().count(),
            0,
            "something was extracted"
        );
    }

    #[test]
    fn symlinks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let z = dir.path().join("link.zip");
        let mut w = zip::ZipWriter::new(File::create(&z).unwrap());
        w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        w.finish().unwrap();
        let e = extract_zip(&z, dir.path()).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
    }

    #[test]
    fn not_a_zip_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let z = dir.path().join("x.zip");
        fs::write(&z, b"<html>quota exceeded</html>").unwrap();
        let e = extract_zip(&z, dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a readable zip"), "{e}");
    }
}
