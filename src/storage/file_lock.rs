//! Advisory whole-file locks (`flock(2)`), the crate's one lock across
//! processes: a [`PersistentJson`](crate::storage::PersistentJson) save locks its
//! temporary file (a later `open` tells a live writer's file from a killed
//! one's), and a [`ContextFile`](crate::connector::ContextFile) change locks the
//! file's sidecar `.<name>.lock` for its read-merge-write.
//!
//! A lock is held by the open file: closing it (dropping the
//! [`std::fs::File`]), or the death of the process, releases it.

use std::fs;

/// Takes an exclusive `flock` on `file` (held until it is closed); with
/// `try_only`, without waiting. Whether it was taken: never where locks are
/// not available (not Unix). A wait interrupted by a signal is resumed.
#[cfg(unix)]
#[allow(unsafe_code)] // flock(2): see the crate root.
pub(crate) fn lock(file: &fs::File, try_only: bool) -> bool {
    use std::os::fd::AsRawFd as _;
    let operation = if try_only {
        libc::LOCK_EX | libc::LOCK_NB
    } else {
        libc::LOCK_EX
    };
    loop {
        // SAFETY: flock(2) on a file descriptor owned by `file`.
        if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
            return true;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

/// Locks are not available here: nothing is locked.
#[cfg(not(unix))]
pub(crate) fn lock(_file: &fs::File, _try_only: bool) -> bool {
    false
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
