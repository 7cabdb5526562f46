//! Advisory whole-file locks (`std::fs::File::lock`: `flock(2)` on Linux), the crate's one lock across
//! processes: a [`PersistentJson`](crate::storage::PersistentJson) save locks its
//! temporary file (a later `open` tells a live writer's file from a killed
//! one's), and a [`ContextFile`](crate::connector::ContextFile) change locks the
//! file's sidecar `.<name>.lock` for its read-merge-write.
//!
//! A lock is held by the open file: closing it (dropping the
//! [`std::fs::File`]), or the death of the process, releases it.

use std::fs;

/// Takes an exclusive lock on `file` (`flock(2)` on Linux, held until it
/// is closed); with `try_only`, without waiting. Whether it was taken:
/// never where locks are not available. A wait interrupted by a signal is
/// resumed.
pub(crate) fn lock(file: &fs::File, try_only: bool) -> bool {
    if try_only {
        return file.try_lock().is_ok();
    }
    loop {
        match file.lock() {
            Ok(()) => return true,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_lock_excludes_another_open_file_until_it_is_closed() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(".x.lock");
        let first = fs::File::create(&path).unwrap();
        assert!(lock(&first, false));
        let second = fs::File::open(&path).unwrap();
        assert!(!lock(&second, true), "two holders of one exclusive lock");
        drop(first);
        assert!(lock(&second, true), "closing the file did not release it");
    }
}
