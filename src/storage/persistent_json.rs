//! [`PersistentJson`]: a value kept in a JSON file, loaded when opened and
//! saved atomically, at the latest when dropped.
//!
//! It replaces the Python SDK's `PersistentJSON` (used for connector
//! checkpoints such as `context.json`, [protocol §5](crate::protocol#5-connectors)) and fixes its two ways of
//! losing data:
//!
//! - a file that cannot be parsed is an error that names it, never a silent
//!   reset to an empty state;
//! - a save never leaves an empty or partial file, even when the process is
//!   killed in the middle: the new content is written to a temporary file in
//!   the same directory, flushed to disk, renamed over the file, and the
//!   directory is flushed too.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::storage::data_directory::{StorageError, real_location};
use crate::storage::file_lock::lock;
use crate::storage::s3::{Condition, S3Client};

/// Temporary files left by a process killed in the middle of a save are
/// removed by the next [`PersistentJson::open`] once their writer is gone
/// (a save holds an exclusive `flock` on its temporary file until the
/// rename: a file nobody locks has no writer), or once they are this old
/// (where locks are not available).
const STALE_TEMPORARY_FILE: Duration = Duration::from_secs(3600);

/// A value of type `T` kept in a JSON file: an RAII guard that loads the file
/// when opened and saves it when dropped.
///
/// - [`open`](PersistentJson::open) loads the file, or starts from
///   `T::default()` when it does not exist. A file that cannot be read or
///   parsed, or does not hold a `T`, is an error naming the file, which is
///   left untouched: the state is never silently reset.
/// - The value is used through [`Deref`] and [`DerefMut`].
/// - [`save`](PersistentJson::save) writes it now;
///   [`close`](PersistentJson::close) writes it and reports the error;
///   dropping the guard writes it too, logging a failure with
///   [`log::error!`] (a destructor cannot return it): prefer `close` where the
///   error matters. [`discard`](PersistentJson::discard) gives the value back
///   without writing anything.
/// - Writes are atomic and durable: a process killed at any instant leaves
///   the old content or the new one, never an empty or partial file.
/// - A save whose JSON is byte-identical to what was last loaded or saved
///   writes nothing: a read-only use does no write at all. (A missing file is
///   created by the first save, even with the default value, as the Python
///   SDK does.)
///
/// The file is meant to have a single user at a time: there is no locking,
/// and a change made on disk by someone else after `open` is overwritten by
/// the next save (or ignored, when this guard's value did not change since).
/// The guard also saves when it is dropped while unwinding from a panic, as
/// the Python SDK's `with` block saves on an exception.
///
/// The JSON is compact, as the Python SDK writes it. When the file is a
/// symbolic link, a save replaces the file it leads to, as writing through
/// the link would. The permissions of a replaced file are not kept: the new
/// file gets the default ones.
///
/// # Example
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sekoia_automation::storage::PersistentJson;
///
/// #[derive(Default, Serialize, Deserialize)]
/// struct Checkpoint {
///     most_recent_date_seen: Option<String>,
/// }
///
/// let path = std::env::temp_dir()
///     .join(format!("sekoia-doc-persistent-json-{}", std::process::id()))
///     .join("context.json");
/// {
///     let mut checkpoint = PersistentJson::<Checkpoint>::open(&path)?; // missing: the default
///     assert_eq!(checkpoint.most_recent_date_seen, None);
///     checkpoint.most_recent_date_seen = Some("2026-01-02T03:04:05Z".into());
/// } // saved when dropped
/// let checkpoint = PersistentJson::<Checkpoint>::open(&path)?;
/// assert_eq!(checkpoint.most_recent_date_seen.as_deref(), Some("2026-01-02T03:04:05Z"));
/// checkpoint.close()?; // unchanged: nothing written
/// # std::fs::remove_dir_all(path.parent().unwrap())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PersistentJson<T: Serialize + DeserializeOwned + Default> {
    /// The path as given.
    path: PathBuf,
    /// The file really written: `path`, or where it leads when it is a
    /// symbolic link (a save replaces the link's target, not the link).
    target: PathBuf,
    value: T,
    /// The bytes last loaded from or saved to the file; `None` when it did
    /// not exist.
    on_disk: Option<Vec<u8>>,
    /// Whether dropping the guard saves the value.
    armed: bool,
    /// Under the S3 file backend: the bucket and the object's key (`path`
    /// and `target` are then `/<bucket>/<key>`, for messages).
    s3: Option<(S3Client, String)>,
}

impl<T: Serialize + DeserializeOwned + Default> PersistentJson<T> {
    /// Opens the JSON file at `path` (any path: use
    /// [`DataDirectory::persistent_json`](crate::storage::DataDirectory::persistent_json)
    /// for a path relative to the data directory, checked not to leave it).
    ///
    /// A missing file gives `T::default()` (the file is written at the first
    /// save). The parent directory is created if missing. When `path` is a
    /// symbolic link, the file it leads to is read, and replaced by the
    /// saves (the link stays). Temporary files
    /// left by a process killed while saving this file are removed once
    /// their writer is gone (no process holds the lock a save takes on its
    /// temporary file), or after an hour.
    ///
    /// Under the S3 file backend, a path under the data directory's
    /// [`root`](crate::storage::DataDirectory::root) (`/<bucket>/...`) is the object
    /// at that key (`docs/storage.md`): one GET here, one PUT per save.
    ///
    /// # Errors
    ///
    /// The file is never modified when `open` fails:
    /// - [`StorageError::CorruptJson`]: the file is not valid JSON (an empty
    ///   or truncated file included);
    /// - [`StorageError::WrongShape`]: it is valid JSON but not a `T`;
    /// - [`StorageError::NotAFile`]: `path` does not end with a file name;
    /// - [`StorageError::Io`]: the file or its directory cannot be read or
    ///   created.
    ///
    /// # Example
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use sekoia_automation::storage::{PersistentJson, StorageError};
    ///
    /// let directory = std::env::temp_dir().join(format!("sekoia-doc-open-{}", std::process::id()));
    /// std::fs::create_dir_all(&directory)?;
    /// std::fs::write(directory.join("broken.json"), "{\"cursor\": ")?;
    /// let error = PersistentJson::<BTreeMap<String, u64>>::open(directory.join("broken.json")).unwrap_err();
    /// assert!(matches!(error, StorageError::CorruptJson { .. }));
    /// assert_eq!(std::fs::read_to_string(directory.join("broken.json"))?, "{\"cursor\": ");
    /// # std::fs::remove_dir_all(&directory)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let path = path.into();
        if path.file_name().is_none() {
            return Err(StorageError::NotAFile { path });
        }
        // A path under an S3 data directory's root (`/<bucket>/...`) is its object.
        if let Some((client, key)) = crate::storage::s3::registry::object_for(&path) {
            return Self::open_s3(client, key, path);
        }
        let target = match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => real_location(&path, 0)?,
            _ => path.clone(),
        };
        let Some(name) = target.file_name() else {
            return Err(StorageError::NotAFile { path });
        };
        let directory = parent_directory(&target);
        fs::create_dir_all(directory)
            .map_err(|e| StorageError::io("create the directory", directory, e))?;
        remove_stale_temporary_files(directory, name);

        let (value, on_disk) = match fs::read(&target) {
            Ok(bytes) => (parse::<T>(&path, &bytes)?, Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (T::default(), None),
            Err(e) => return Err(StorageError::io("read the file", &path, e)),
        };
        Ok(PersistentJson {
            path,
            target,
            value,
            on_disk,
            armed: true,
            s3: None,
        })
    }

    /// Opens the JSON object at `key` of the S3 file backend (`path` is its
    /// `/<bucket>/<key>`, for messages): one GET, as the Python SDK's
    /// `PersistentJSON.load`; each save is one PUT of the whole object.
    pub(crate) fn open_s3(
        client: S3Client,
        key: String,
        path: PathBuf,
    ) -> Result<Self, StorageError> {
        let object = client
            .get(&key)
            .map_err(|e| StorageError::s3("read the file", &path, e))?;
        let (value, on_disk) = match object {
            Some(object) => (parse::<T>(&path, &object.body)?, Some(object.body)),
            None => (T::default(), None),
        };
        Ok(PersistentJson {
            target: path.clone(),
            path,
            value,
            on_disk,
            armed: true,
            s3: Some((client, key)),
        })
    }

    /// The path of the file.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::PersistentJson;
    ///
    /// let path = std::env::temp_dir().join(format!("sekoia-doc-path-{}.json", std::process::id()));
    /// let state = PersistentJson::<Vec<u32>>::open(&path)?;
    /// assert_eq!(state.path(), path);
    /// state.discard();
    /// # Ok::<(), sekoia_automation::storage::StorageError>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the value to the file now, atomically and durably, unless its
    /// JSON is byte-identical to what was last loaded or saved.
    ///
    /// The value is serialized once, before anything is written: a value
    /// that cannot be serialized leaves the file untouched. Then a temporary
    /// file `.<name>.<uuid4>.tmp` is created next to the file, written,
    /// flushed to disk, renamed over the file, and the directory is flushed.
    ///
    /// # Errors
    ///
    /// [`StorageError::Serialize`] when the value cannot be serialized to
    /// JSON (e.g. a map whose keys are not strings);
    /// [`StorageError::NotFinite`] when it holds a NaN or infinite float
    /// (JSON would turn it into `null`); [`StorageError::Io`] when writing
    /// fails. In every case the file keeps its previous content.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::PersistentJson;
    ///
    /// let path = std::env::temp_dir().join(format!("sekoia-doc-save-{}.json", std::process::id()));
    /// let mut seen = PersistentJson::<Vec<u32>>::open(&path)?;
    /// seen.push(7);
    /// seen.save()?;
    /// assert_eq!(std::fs::read_to_string(&path)?, "[7]");
    /// seen.discard();
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&mut self) -> Result<(), StorageError> {
        if let Some(at) = crate::storage::finite::first_non_finite(&self.value) {
            return Err(StorageError::NotFinite {
                path: self.path.clone(),
                at,
            });
        }
        let bytes = serde_json::to_vec(&self.value).map_err(|source| StorageError::Serialize {
            path: self.path.clone(),
            cause: source,
        })?;
        if self.on_disk.as_deref() == Some(bytes.as_slice()) {
            return Ok(());
        }
        match &self.s3 {
            // One PUT of the whole object: S3 shows the old or the new one.
            Some((client, key)) => client
                .put(key, &bytes, &Condition::None)
                .map(drop)
                .map_err(|e| StorageError::s3("write the file", &self.path, e))?,
            None => write_atomically(&self.target, &bytes)?,
        }
        self.on_disk = Some(bytes);
        Ok(())
    }

    /// Saves the value (as [`save`](PersistentJson::save)) and consumes the
    /// guard, returning the error that dropping it could only log.
    ///
    /// Nothing more is written after `close`, even when it fails.
    ///
    /// # Errors
    ///
    /// As [`save`](PersistentJson::save).
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::PersistentJson;
    ///
    /// let path = std::env::temp_dir().join(format!("sekoia-doc-close-{}.json", std::process::id()));
    /// let mut count = PersistentJson::<u64>::open(&path)?;
    /// *count += 1;
    /// count.close()?;
    /// assert_eq!(std::fs::read_to_string(&path)?, "1");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(mut self) -> Result<(), StorageError> {
        self.armed = false;
        self.save()
    }

    /// Consumes the guard **without saving**: the changes made since the
    /// last save are not written, and the value is given back.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::PersistentJson;
    ///
    /// let path = std::env::temp_dir().join(format!("sekoia-doc-discard-{}.json", std::process::id()));
    /// let mut count = PersistentJson::<u64>::open(&path)?;
    /// *count += 1;
    /// assert_eq!(count.discard(), 1);
    /// assert!(!path.exists()); // nothing was written
    /// # Ok::<(), sekoia_automation::storage::StorageError>(())
    /// ```
    pub fn discard(mut self) -> T {
        self.armed = false;
        std::mem::take(&mut self.value)
    }
}

impl<T: Serialize + DeserializeOwned + Default> Deref for PersistentJson<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Serialize + DeserializeOwned + Default> DerefMut for PersistentJson<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: Serialize + DeserializeOwned + Default + fmt::Debug> fmt::Debug for PersistentJson<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistentJson")
            .field("path", &self.path)
            .field("value", &self.value)
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned + Default> Drop for PersistentJson<T> {
    /// Saves the value, best effort: a failure is logged with
    /// [`log::error!`], never a panic (a panicking `Serialize` implementation
    /// included).
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.armed = false;
        let saved = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.save()));
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                log::error!(
                    "the file `{}` could not be saved when its PersistentJson was dropped: {error}",
                    self.path.display()
                );
            }
            Err(_) => {
                log::error!(
                    "the file `{}` could not be saved when its PersistentJson was dropped: serializing its value panicked",
                    self.path.display()
                );
            }
        }
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_directory(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Parses the bytes of the file, telling a corrupt file from a wrongly-shaped one.
fn parse<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(|error| {
        // Deserializing a `T` stops at the first mismatch, which may come
        // before a syntax error: check the syntax on its own (error path only).
        let source = match error.classify() {
            serde_json::error::Category::Data => {
                match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                    Err(syntax) => syntax,
                    Ok(_) => {
                        return StorageError::WrongShape {
                            path: path.to_owned(),
                            expected: std::any::type_name::<T>(),
                            detail: redact_strings(&error.to_string()),
                        };
                    }
                }
            }
            _ => error,
        };
        StorageError::CorruptJson {
            path: path.to_owned(),
            cause: source,
        }
    })
}

/// Serde's message with the string values it quotes (`invalid type: string
/// "..."`) replaced by `"…"`, so that an error never prints file content.
fn redact_strings(message: &str) -> String {
    let mut redacted = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        redacted.push(c);
        if c == '"' {
            // Skip up to the closing quote (Debug-escaped inside).
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            }
            redacted.push_str("…\"");
        }
    }
    redacted
}

/// The temporary file name for a save of `name`: `.<name>.<uuid4>.tmp`.
fn temporary_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(".");
    temporary.push(uuid::Uuid::new_v4().to_string());
    temporary.push(".tmp");
    temporary
}

/// Whether `candidate` is a temporary file name made by [`temporary_name`] for `name`.
fn is_temporary_name(candidate: &std::ffi::OsStr, name: &std::ffi::OsStr) -> bool {
    let (Some(candidate), Some(name)) = (candidate.to_str(), name.to_str()) else {
        return false;
    };
    candidate
        .strip_prefix('.')
        .and_then(|rest| rest.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .is_some_and(|id| uuid::Uuid::try_parse(id).is_ok())
}

/// Removes the temporary files of `name` in `directory` whose writer is
/// gone or older than [`STALE_TEMPORARY_FILE`], best effort (failures are
/// logged as warnings).
pub(crate) fn remove_stale_temporary_files(directory: &Path, name: &std::ffi::OsStr) {
    let entries = match fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => {
            log::warn!(
                "cannot list `{}` to remove stale temporary files: {error}",
                directory.display()
            );
            return;
        }
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        if !is_temporary_name(&entry.file_name(), name) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .is_ok_and(|modified| {
                now.duration_since(modified)
                    .is_ok_and(|age| age >= STALE_TEMPORARY_FILE)
            });
        let path = entry.path();
        if (stale || writer_gone(&path))
            && let Err(error) = fs::remove_file(&path)
            && error.kind() != io::ErrorKind::NotFound
        {
            log::warn!(
                "cannot remove the stale temporary file `{}`: {error}",
                path.display()
            );
        }
    }
}

/// Replaces the content of `path` with `bytes` so that, whatever instant the
/// process dies at, the file holds either its old content or `bytes`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let name = path.file_name().ok_or_else(|| StorageError::NotAFile {
        path: path.to_owned(),
    })?;
    let directory = parent_directory(path);
    let (temporary, mut file) = create_locked_temporary(directory, name)?;
    let written = file
        .write_all(bytes)
        .map_err(|e| StorageError::io("write the temporary file", &temporary, e))
        .and_then(|()| {
            file.sync_all()
                .map_err(|e| StorageError::io("flush to disk the temporary file", &temporary, e))
        });
    drop(file);
    let replaced = written.and_then(|()| {
        fs::rename(&temporary, path).map_err(|e| {
            StorageError::io(
                "replace (by renaming a temporary file over it) the file",
                path,
                e,
            )
        })
    });
    if let Err(error) = replaced {
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    sync_directory(directory)
}

/// Creates a new temporary file for a save of `name`, locked: the lock, held
/// until the file is closed (after the rename), tells a later `open` that it
/// still has a writer. An `open` that removed it between its creation and
/// the lock (it looked abandoned) is detected, and another one is made.
fn create_locked_temporary(
    directory: &Path,
    name: &std::ffi::OsStr,
) -> Result<(PathBuf, fs::File), StorageError> {
    let mut attempts = 0;
    loop {
        let temporary = directory.join(temporary_name(name));
        let file = fs::File::options()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .map_err(|e| StorageError::io("create the temporary file", &temporary, e))?;
        attempts += 1;
        if !lock(&file, false) || still_linked(&file, &temporary) || attempts >= 3 {
            return Ok((temporary, file));
        }
    }
}

/// Whether `path` still names the file open as `file`.
#[cfg(unix)]
fn still_linked(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_linked(_file: &fs::File, _path: &Path) -> bool {
    true
}

/// Whether the temporary file at `path` has no writer any more: nobody
/// holds the lock its save took (the writer was killed).
fn writer_gone(path: &Path) -> bool {
    fs::File::open(path).is_ok_and(|file| lock(&file, true))
}

/// Flushes the directory entry of a rename to disk.
#[cfg(unix)]
fn sync_directory(directory: &Path) -> Result<(), StorageError> {
    fs::File::open(directory)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("flush to disk the directory", directory, e))
}

/// Directories cannot be opened to be flushed here: the rename is as durable
/// as the file system makes it.
#[cfg(not(unix))]
fn sync_directory(_directory: &Path) -> Result<(), StorageError> {
    Ok(())
}
