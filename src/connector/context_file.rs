//! [`ContextFile`]: the `context.json` a connector's checkpoints and its own
//! keys share (docs/protocol.md §5, *Checkpoints*; docs/storage.md).
//!
//! - One object per file per process ([`ContextFile::open`] returns the
//!   same one for the same path), holding a lock, and an advisory lock
//!   (`flock`) on the sidecar file `.context.json.lock` across processes:
//!   every change is a read-merge-write under both, so two checkpoints (two
//!   subkeys, or a checkpoint and the module's own keys, in one process or
//!   in two sharing the data directory) never erase each other.
//! - Saves are atomic ([`PersistentJson`](crate::storage::PersistentJson)'s write: a
//!   temporary file renamed over the file, flushed): a crash leaves the old
//!   file or the new one, never a truncated one. The temporary files of a
//!   process killed while saving are removed when the file is first opened
//!   in a process, as [`PersistentJson::open`](crate::storage::PersistentJson::open)
//!   removes them.
//! - Reads never write.
//! - The file is compact JSON, as the Python SDK's `orjson.dumps` writes it
//!   (numbers too: `1E5` read from an API is saved `100000.0`); an empty
//!   (0-byte) file, left by the Python SDK's non-atomic save, reads as `{}`;
//!   any other content that is not a JSON object (whitespace only included)
//!   is an error naming the file, never silently `{}`, and the file is left
//!   as it is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::{Map, Value};

use crate::storage::data_directory::StorageError;
use crate::storage::{file_lock, persistent_json};

/// The name of the file in the data directory.
pub const CONTEXT_FILE: &str = "context.json";

/// A `context.json` shared by the checkpoints and code of one process.
///
/// ```
/// use sekoia_automation::connector::ContextFile;
/// use serde_json::json;
///
/// let directory = tempfile::tempdir()?;
/// let context = ContextFile::open(directory.path().join("context.json"));
/// context.update(|map| { map.insert("most_recent_date_seen".into(), json!("2026-11-28T04:37:29+00:00")); })?;
/// let other = ContextFile::open(directory.path().join("context.json"));
/// other.update(|map| { map.insert("cursor".into(), json!("abc")); })?;
/// assert_eq!(
///     std::fs::read_to_string(directory.path().join("context.json"))?,
///     r#"{"most_recent_date_seen":"2026-11-28T04:37:29+00:00","cursor":"abc"}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ContextFile {
    path: PathBuf,
    lock: Mutex<()>,
    // S3 file backend (begin): the object, when `path` is in an S3 data
    // directory (`docs/storage.md`); `None` on the local disk.
    s3: Option<(crate::storage::s3::S3Client, String)>,
    // S3 file backend (end).
}

impl ContextFile {
    /// The context file at `path`: the same object for the same path in the
    /// whole process. Nothing is read or written yet; the first `open` of a
    /// path in the process removes the temporary files that a process killed
    /// while saving it left (those no live process is writing).
    pub fn open(path: impl Into<PathBuf>) -> Arc<ContextFile> {
        static OPEN: OnceLock<Mutex<HashMap<PathBuf, Arc<ContextFile>>>> = OnceLock::new();
        let path = path.into();
        let key = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        let mut open = OPEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(open.entry(key).or_insert_with(|| {
            let directory = directory_of(&path);
            if let Some(name) = path.file_name()
                && directory.is_dir()
            {
                persistent_json::remove_stale_temporary_files(directory, name);
            }
            Arc::new(ContextFile {
                s3: crate::storage::s3::registry::object_for(&path),
                path,
                lock: Mutex::new(()),
            })
        }))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's content (`{}` when it does not exist or is empty).
    /// Never writes.
    ///
    /// # Errors
    ///
    /// [`StorageError::CorruptJson`] when the file is not JSON,
    /// [`StorageError::WrongShape`] when it is not an object,
    /// [`StorageError::Io`] when it cannot be read.
    pub fn read(&self) -> Result<Map<String, Value>, StorageError> {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.load()
    }

    /// The value under `key` (`None` when absent). Never writes.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn get(&self, key: &str) -> Result<Option<Value>, StorageError> {
        Ok(self.read()?.remove(key))
    }

    /// Reads the file, lets `change` modify its content, and saves it
    /// atomically when it changed, all under the file's lock (in the process
    /// and across processes): keys changed by others in between are kept.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); [`StorageError::Io`] when it cannot be
    /// written, or its lock file cannot be created (the file keeps its
    /// previous content).
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut Map<String, Value>) -> R,
    ) -> Result<R, StorageError> {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // S3 file backend (begin): a conditional write on the ETag read.
        if let Some((client, key)) = &self.s3 {
            let (mut map, etag) = self.load_tagged()?;
            let before = map.clone();
            let result = change(&mut map);
            if map != before || etag.is_none() {
                let serialize = |map: &Map<String, Value>| {
                    crate::connector::event::compact_json(map)
                        .map(String::into_bytes)
                        .map_err(|cause| StorageError::Serialize {
                            path: self.path.clone(),
                            cause,
                        })
                };
                crate::storage::s3::context_object::save(
                    client,
                    key,
                    &self.path,
                    (&before, map),
                    etag,
                    crate::storage::s3::context_object::Access {
                        reload: || self.load_tagged(),
                        serialize,
                    },
                )?;
            }
            return Ok(result);
        }
        // S3 file backend (end).
        let _across_processes = self.lock_across_processes()?;
        let mut map = self.load()?;
        let before = map.clone();
        let result = change(&mut map);
        if map != before || !self.path.exists() {
            // As the Python SDK's `orjson.dumps` writes it, so the same
            // writes make the same bytes.
            let text = crate::connector::event::compact_json(&map).map_err(|source| {
                StorageError::Serialize {
                    path: self.path.clone(),
                    cause: source,
                }
            })?;
            persistent_json::write_atomically(&self.path, &text.into_bytes())?;
        }
        Ok(result)
    }

    /// Creates the directory and takes the exclusive `flock` of the sidecar
    /// `.<name>.lock`, held until the returned file is dropped. Another
    /// process changing the file waits for it.
    fn lock_across_processes(&self) -> Result<std::fs::File, StorageError> {
        let name = self
            .path
            .file_name()
            .ok_or_else(|| StorageError::NotAFile {
                path: self.path.clone(),
            })?;
        let directory = directory_of(&self.path);
        std::fs::create_dir_all(directory)
            .map_err(|e| StorageError::io("create the directory", directory, e))?;
        let mut lock_name = std::ffi::OsString::from(".");
        lock_name.push(name);
        lock_name.push(".lock");
        let lock_path = directory.join(lock_name);
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StorageError::io("create the lock file", &lock_path, e))?;
        if !file_lock::lock(&file, false) {
            log::debug!(
                "`{}` could not be locked: changes to `{}` are locked in this process only",
                lock_path.display(),
                self.path.display()
            );
        }
        Ok(file)
    }

    fn load(&self) -> Result<Map<String, Value>, StorageError> {
        self.load_tagged().map(|(map, _)| map)
    }

    /// The content and, on S3, the ETag of the object read (`None`: absent).
    fn load_tagged(&self) -> Result<(Map<String, Value>, Option<String>), StorageError> {
        // S3 file backend (begin).
        let (bytes, etag) = match &self.s3 {
            Some((client, key)) => match client.get(key) {
                Ok(Some(object)) => (object.body, Some(object.etag)),
                Ok(None) => return Ok((Map::new(), None)),
                Err(cause) => return Err(StorageError::s3("read the file", &self.path, cause)),
            },
            // S3 file backend (end).
            None => match std::fs::read(&self.path) {
                Ok(bytes) => (bytes, None),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    return Ok((Map::new(), None));
                }
                Err(error) => return Err(StorageError::io("read the file", &self.path, error)),
            },
        };
        self.parse(bytes).map(|map| (map, etag))
    }

    fn parse(&self, bytes: Vec<u8>) -> Result<Map<String, Value>, StorageError> {
        if bytes.is_empty() {
            // Left by the Python SDK's non-atomic save, killed between the
            // truncation and the write: what it reads as `{}` too.
            return Ok(Map::new());
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(StorageError::WrongShape {
                path: self.path.clone(),
                expected: "JSON object",
                detail: format!("it holds only whitespace ({} bytes)", bytes.len()),
            });
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(StorageError::WrongShape {
                path: self.path.clone(),
                expected: "JSON object",
                detail: format!("it holds {}", kind(&other)),
            }),
            Err(cause) => Err(StorageError::CorruptJson {
                path: self.path.clone(),
                cause,
            }),
        }
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_saved_as_orjson_saves_the_floats_python_reads() {
        let directory = tempfile::tempdir().unwrap();
        let file = ContextFile::open(directory.path().join(CONTEXT_FILE));
        let parsed: Value = serde_json::from_str(r#"[1E5, 1.50, -0, 1e16, "é😀\u0001"]"#).unwrap();
        file.update(|map| map.insert("k".into(), parsed)).unwrap();
        // `-0` is Python's int 0 when the `Value` keeps its text
        // (`exact-numbers`); serde_json alone reads it as the float -0.0.
        let zero = if cfg!(feature = "exact-numbers") {
            "0"
        } else {
            "-0.0"
        };
        assert_eq!(
            std::fs::read_to_string(file.path()).unwrap(),
            format!("{{\"k\":[100000.0,1.5,{zero},1e+16,\"é😀\\u0001\"]}}")
        );
    }
}
