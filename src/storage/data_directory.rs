//! The data directory: where actions and triggers exchange files
//! (`/symphony_data` in production, plus `sub_folder` when it is set,
//! [protocol](crate::protocol) §1 and §4).
//!
//! Paths that actions and triggers exchange are relative to it.
//! [`DataDirectory::resolve`] is the security boundary: no path it accepts
//! leaves the data directory, neither lexically (absolute paths, `..`) nor
//! through a symbolic link. The Python SDK reads any path it is given; this
//! crate refuses the ones that escape, with an error that says why.
//!
//! Besides resolving paths, a [`DataDirectory`] writes result files
//! ([`write`](DataDirectory::write), [`write_json`](DataDirectory::write_json)),
//! creates fresh temporary directories
//! ([`temp_directory`](DataDirectory::temp_directory)) and opens
//! [`PersistentJson`] files ([`persistent_json`](DataDirectory::persistent_json)).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::storage::persistent_json::{PersistentJson, write_atomically};
use crate::storage::s3::{Condition, S3Client, S3Error};

/// How many symbolic links [`DataDirectory::resolve`] follows by hand (for
/// links whose target does not exist yet) before giving up, as the kernel's
/// `ELOOP` limit.
const MAX_SYMLINK_HOPS: usize = 40;

/// Why a file of the data directory could not be used.
///
/// Messages name the path involved, the data directory it is relative to
/// when there is one, and what to do. They never quote the content of a file.
///
/// # Example
///
/// ```
/// use sekoia_automation::storage::{DataDirectory, StorageError};
///
/// let data = DataDirectory::new("/symphony_data");
/// let error = data.resolve("../etc/passwd").unwrap_err();
/// assert!(matches!(error, StorageError::Escape { .. }));
/// assert_eq!(
///     error.to_string(),
///     "the path `../etc/passwd` leaves the data directory `/symphony_data`: \
///      give a path relative to it without `..`"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The path is empty.
    #[error(
        "the path is empty: give a path relative to the data directory `{}`, e.g. `results.json`",
        data_directory.display()
    )]
    #[non_exhaustive]
    EmptyPath {
        /// The data directory the path should have been relative to.
        data_directory: PathBuf,
    },
    /// The path is absolute (or has a root or a drive prefix) where a path
    /// relative to the data directory is expected.
    #[error(
        "the path `{}` is absolute: give a path relative to the data directory `{}` instead",
        path.display(),
        data_directory.display()
    )]
    #[non_exhaustive]
    AbsolutePath {
        /// The path as given.
        path: PathBuf,
        /// The data directory it should have been relative to.
        data_directory: PathBuf,
    },
    /// The path climbs above the data directory with `..`.
    #[error(
        "the path `{}` leaves the data directory `{}`: give a path relative to it without `..`",
        path.display(),
        data_directory.display()
    )]
    #[non_exhaustive]
    Escape {
        /// The path as given.
        path: PathBuf,
        /// The data directory it leaves.
        data_directory: PathBuf,
    },
    /// The path leaves the data directory through a symbolic link.
    #[error(
        "the path `{}` leaves the data directory `{}` through a symbolic link (it leads to `{}`): \
         give a path whose symbolic links stay inside the data directory",
        path.display(),
        data_directory.display(),
        resolved.display()
    )]
    #[non_exhaustive]
    SymlinkEscape {
        /// The path as given.
        path: PathBuf,
        /// The data directory it leaves.
        data_directory: PathBuf,
        /// Where the path really leads, symbolic links followed.
        resolved: PathBuf,
    },
    /// The `sub_folder` setting cannot be used as a sub-directory of the data
    /// directory.
    #[error("the `sub_folder` setting `{sub_folder}` cannot be used: {reason}")]
    #[non_exhaustive]
    SubFolder {
        /// The `sub_folder` value.
        sub_folder: String,
        /// Why it was refused (one of the path errors above).
        reason: Box<StorageError>,
    },
    /// A file name is not a single plain name.
    #[error(
        "the file name `{filename}` is not a plain file name: give a name without `/`, other than `.` and `..`, e.g. `results.json`"
    )]
    #[non_exhaustive]
    InvalidFileName {
        /// The file name as given.
        filename: String,
    },
    /// The path does not end with a file name (it is empty, or ends with `..`).
    #[error(
        "the path `{}` does not name a file: give a path ending with a file name, e.g. `state/context.json`",
        path.display()
    )]
    #[non_exhaustive]
    NotAFile {
        /// The path as given.
        path: PathBuf,
    },
    /// The file is not valid JSON (truncated, empty, not UTF-8, a syntax
    /// error). It was left untouched.
    #[error(
        "the file `{}` is not valid JSON ({cause}); it was left untouched: repair it, restore it from a backup, or delete it to start again from the default state",
        path.display()
    )]
    #[non_exhaustive]
    CorruptJson {
        /// The file.
        path: PathBuf,
        /// The parser's error (position only, never content).
        cause: serde_json::Error,
    },
    /// The file is valid JSON but does not have the shape of the expected
    /// type. It was left untouched.
    #[error(
        "the file `{}` does not hold a `{expected}`: {detail}; it was left untouched: repair it, \
         or delete it to start again from the default state",
        path.display()
    )]
    #[non_exhaustive]
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The Rust type it should deserialize into.
        expected: &'static str,
        /// Serde's message, string values quoted from the file redacted.
        detail: String,
    },
    /// A value could not be serialized to JSON (for example a map whose keys
    /// are not strings). Nothing was written: the file on disk is untouched.
    #[error(
        "cannot serialize the value for `{}` to JSON: {cause}; nothing was written",
        path.display()
    )]
    #[non_exhaustive]
    Serialize {
        /// The file the value was for.
        path: PathBuf,
        /// Serde's error.
        cause: serde_json::Error,
    },
    /// The value holds a NaN or infinite float, which JSON cannot hold
    /// (serde_json would write `null`, changing the value and making a
    /// typed file unreadable). Nothing was written.
    #[error(
        "cannot save `{}`: `{at}` is NaN or infinite, which JSON cannot hold; nothing was written (the file keeps its previous content): store a finite number or none",
        path.display()
    )]
    #[non_exhaustive]
    NotFinite {
        /// The file the value was for.
        path: PathBuf,
        /// Where the float is in the value (`rates[2]`, `the value`).
        at: String,
    },
    /// The S3 file backend failed (after its retries for 5xx and network
    /// errors).
    #[error("cannot {operation} `{}` in the S3 file backend: {cause}", path.display())]
    #[non_exhaustive]
    S3 {
        /// What was being done, e.g. `read the file`.
        operation: &'static str,
        /// The path involved, `/<bucket>/<key>` as the Python SDK's `S3Path`.
        path: PathBuf,
        /// What the store answered.
        cause: Box<S3Error>,
    },
    /// A file system operation failed.
    #[error("cannot {operation} `{}`: {cause}", path.display())]
    #[non_exhaustive]
    Io {
        /// What was being done, e.g. `read the file`.
        operation: &'static str,
        /// The path involved.
        path: PathBuf,
        /// What the system said.
        cause: io::Error,
    },
}

impl StorageError {
    pub(crate) fn s3(operation: &'static str, path: impl Into<PathBuf>, cause: S3Error) -> Self {
        StorageError::S3 {
            operation,
            path: path.into(),
            cause: Box::new(cause),
        }
    }

    pub(crate) fn io(operation: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StorageError::Io {
            operation,
            path: path.into(),
            cause: source,
        }
    }
}

/// The data directory: the root of the paths that actions and triggers
/// exchange.
///
/// Every path given to it is relative to it and checked by
/// [`resolve`](DataDirectory::resolve): nothing it accepts leaves it.
///
/// # Example
///
/// ```
/// use sekoia_automation::storage::DataDirectory;
///
/// let root = std::env::temp_dir().join(format!("sekoia-doc-data-{}", std::process::id()));
/// let data = DataDirectory::new(&root);
/// let relative = data.write("hello.txt", "hello")?;
/// assert_eq!(std::fs::read_to_string(data.resolve(&relative)?)?, "hello");
/// # std::fs::remove_dir_all(&root)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirectory {
    root: PathBuf,
    /// The bucket the files are in, under the S3 file backend; `None` on the
    /// local disk.
    s3: Option<S3Client>,
}

impl DataDirectory {
    /// A data directory rooted at `root` (`/symphony_data` in production).
    ///
    /// Nothing is checked or created yet: the directory is created when a
    /// file is first written into it.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let data = DataDirectory::new("/symphony_data");
    /// assert_eq!(data.root(), std::path::Path::new("/symphony_data"));
    /// ```
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDirectory {
            root: root.into(),
            s3: None,
        }
    }

    /// The data directory in an S3 bucket (the S3 file backend,
    /// `docs/storage.md`): `/<bucket>` plus the client's `sub_folder`, as the
    /// Python SDK's `get_data_path`. Every method works on objects of the
    /// bucket, with the keys the Python SDK's `S3Path` gives the same files;
    /// [`root`](Self::root) and [`resolve`](Self::resolve) give those
    /// `/<bucket>/<key>` paths, which are not paths of the local disk: read
    /// and write through [`read`](Self::read), [`write_file`](Self::write_file)
    /// and the other methods, which work on both backends.
    ///
    /// ```no_run
    /// use sekoia_automation::unversioned::s3::{S3Client, S3Config};
    /// use sekoia_automation::Secret;
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let config = S3Config::new("http://127.0.0.1:9000", "us-east-1", "bucket", "AKID", Secret::new("key".into()))
    ///     .with_sub_folder("module");
    /// let data = DataDirectory::s3(S3Client::new(config)?);
    /// assert_eq!(data.root(), std::path::Path::new("/bucket/module"));
    /// data.write_file("state/a.json", b"{}")?; // the object `module/state/a.json`
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn s3(client: S3Client) -> Self {
        let location = client.location();
        let mut root = PathBuf::from("/").join(location.bucket());
        if !location.prefix().is_empty() {
            root.push(location.prefix());
        }
        crate::storage::s3::registry::register(&root, &client);
        DataDirectory {
            root,
            s3: Some(client),
        }
    }

    /// Whether the files are in an S3 bucket.
    pub fn is_s3(&self) -> bool {
        self.s3.is_some()
    }

    /// The data directory narrowed to the `sub_folder` setting ([protocol §1](crate::protocol#1-inputs)):
    /// paths are then relative to `<root>/<sub_folder>`, and may not leave it.
    ///
    /// An empty `sub_folder` means no sub-folder (as in the Python SDK, where
    /// an empty value is ignored): the result is the same data directory. An
    /// absolute `sub_folder` is used as given, as the Python SDK's
    /// `path / sub_folder` does: it is the platform's configuration, not a
    /// path a user chose (paths given as arguments stay refused when
    /// absolute, [`resolve`](Self::resolve)).
    ///
    /// # Errors
    ///
    /// [`StorageError::SubFolder`] when a relative `sub_folder` climbs above
    /// the data directory with `..`, or leaves it through a symbolic link
    /// (the Python SDK would silently use a directory elsewhere).
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let data = DataDirectory::new("/symphony_data").with_sub_folder("tenant-a")?;
    /// assert_eq!(data.root(), std::path::Path::new("/symphony_data/tenant-a"));
    /// let elsewhere = DataDirectory::new("/symphony_data").with_sub_folder("/mnt/tenant-b")?;
    /// assert_eq!(elsewhere.root(), std::path::Path::new("/mnt/tenant-b"));
    /// assert!(DataDirectory::new("/symphony_data").with_sub_folder("../etc").is_err());
    /// # Ok::<(), sekoia_automation::storage::StorageError>(())
    /// ```
    pub fn with_sub_folder(&self, sub_folder: &str) -> Result<DataDirectory, StorageError> {
        if sub_folder.is_empty() {
            return Ok(self.clone());
        }
        if Path::new(sub_folder).is_absolute() {
            return Ok(DataDirectory::new(sub_folder));
        }
        match self.resolve(sub_folder) {
            Ok(root) => match &self.s3 {
                Some(client) => {
                    let relative = root.strip_prefix(&self.root).unwrap_or(&root);
                    Ok(DataDirectory::s3(
                        client.in_sub_folder(&relative.to_string_lossy()),
                    ))
                }
                None => Ok(DataDirectory { root, s3: None }),
            },
            Err(reason) => Err(StorageError::SubFolder {
                sub_folder: sub_folder.to_owned(),
                reason: Box::new(reason),
            }),
        }
    }

    /// The root of the data directory, as given to [`new`](DataDirectory::new)
    /// (plus the sub-folder, if any).
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// assert_eq!(DataDirectory::new("/data").root(), std::path::Path::new("/data"));
    /// ```
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `relative` in the data directory, refusing any path that
    /// would leave it.
    ///
    /// `.` components are dropped and `..` components are applied lexically;
    /// the result is `<root>/<normalized relative path>`, without `..`. The
    /// target does not need to exist (it may be a file about to be written);
    /// its deepest existing ancestor, with symbolic links followed, must be
    /// inside the data directory (symbolic links followed too). Symbolic links
    /// that stay inside are fine; a dangling link is followed to where its
    /// target would be.
    ///
    /// The check is made when `resolve` is called: whoever can create
    /// symbolic links in the data directory concurrently can still race it.
    ///
    /// # Errors
    ///
    /// - [`StorageError::EmptyPath`] for an empty path;
    /// - [`StorageError::AbsolutePath`] for an absolute path (or any root or
    ///   drive prefix component);
    /// - [`StorageError::Escape`] when `..` climbs above the data directory
    ///   (`../x`, `a/../../x`);
    /// - [`StorageError::SymlinkEscape`] when a symbolic link leads outside;
    /// - [`StorageError::Io`] when the links cannot be followed (permissions,
    ///   link loops).
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::{DataDirectory, StorageError};
    ///
    /// let data = DataDirectory::new("/symphony_data");
    /// assert_eq!(
    ///     data.resolve("run/./events.json")?,
    ///     std::path::Path::new("/symphony_data/run/events.json")
    /// );
    /// assert!(matches!(data.resolve("/etc/passwd"), Err(StorageError::AbsolutePath { .. })));
    /// assert!(matches!(data.resolve("a/../../x"), Err(StorageError::Escape { .. })));
    /// # Ok::<(), StorageError>(())
    /// ```
    pub fn resolve(&self, relative: impl AsRef<Path>) -> Result<PathBuf, StorageError> {
        let relative = relative.as_ref();
        let normalized = self.normalize(relative)?;
        let joined = self.root.join(&normalized);
        if normalized.as_os_str().is_empty() || self.s3.is_some() {
            // `.`, `a/..`: the data directory itself; S3 has no links.
            return Ok(joined);
        }
        let real_root = real_location(&self.root, 0)?;
        let real = real_location(&joined, 0)?;
        if !real.starts_with(&real_root) {
            return Err(StorageError::SymlinkEscape {
                path: relative.to_owned(),
                data_directory: self.root.clone(),
                resolved: real,
            });
        }
        Ok(joined)
    }

    /// `relative` with `.` dropped and `..` applied, refused when it is
    /// empty, absolute or climbs above the data directory.
    fn normalize(&self, relative: &Path) -> Result<PathBuf, StorageError> {
        if relative.as_os_str().is_empty() {
            return Err(StorageError::EmptyPath {
                data_directory: self.root.clone(),
            });
        }
        let mut normalized = PathBuf::new();
        for component in relative.components() {
            match component {
                Component::Prefix(_) | Component::RootDir => {
                    return Err(StorageError::AbsolutePath {
                        path: relative.to_owned(),
                        data_directory: self.root.clone(),
                    });
                }
                Component::CurDir => {}
                Component::ParentDir => {
                    if !normalized.pop() {
                        return Err(StorageError::Escape {
                            path: relative.to_owned(),
                            data_directory: self.root.clone(),
                        });
                    }
                }
                Component::Normal(name) => normalized.push(name),
            }
        }
        Ok(normalized)
    }

    /// The object key of a normalized relative path (S3 backend).
    fn key(client: &S3Client, normalized: &Path) -> String {
        client.location().key(&normalized.to_string_lossy())
    }

    /// Writes `content` to a file named `filename` in a fresh temporary
    /// directory of the data directory, and returns its path **relative to
    /// the data directory** (`<uuid4>/<filename>`), as the Python SDK's
    /// `write(filename, content, temp_dir=True)`.
    ///
    /// Each call writes into a new directory, so two calls never collide.
    ///
    /// # Errors
    ///
    /// [`StorageError::InvalidFileName`] when `filename` is not a single plain
    /// name (empty, contains `/`, `.` or `..`); [`StorageError::Io`] when the
    /// directory or the file cannot be created or written.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let root = std::env::temp_dir().join(format!("sekoia-doc-write-{}", std::process::id()));
    /// let data = DataDirectory::new(&root);
    /// let relative = data.write("report.txt", "all good")?;
    /// assert!(relative.is_relative());
    /// assert!(relative.ends_with("report.txt"));
    /// assert_eq!(std::fs::read(root.join(&relative))?, b"all good");
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write(
        &self,
        filename: &str,
        content: impl AsRef<[u8]>,
    ) -> Result<PathBuf, StorageError> {
        check_file_name(filename)?;
        self.write_checked(filename, content.as_ref())
    }

    /// Serializes `value` as compact JSON and writes it as
    /// [`write`](DataDirectory::write) does; returns the path relative to the
    /// data directory (`<uuid4>/<filename>`).
    ///
    /// The value is serialized first: when it cannot be, nothing is created.
    ///
    /// # Errors
    ///
    /// As [`write`](DataDirectory::write), plus [`StorageError::Serialize`]
    /// when `value` cannot be serialized to JSON.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let root = std::env::temp_dir().join(format!("sekoia-doc-write-json-{}", std::process::id()));
    /// let data = DataDirectory::new(&root);
    /// let relative = data.write_json("events.json", &serde_json::json!([{"id": 1}]))?;
    /// assert_eq!(std::fs::read_to_string(root.join(&relative))?, r#"[{"id":1}]"#);
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_json<T: Serialize + ?Sized>(
        &self,
        filename: &str,
        value: &T,
    ) -> Result<PathBuf, StorageError> {
        check_file_name(filename)?;
        let bytes = serde_json::to_vec(value).map_err(|source| StorageError::Serialize {
            path: PathBuf::from(filename),
            cause: source,
        })?;
        self.write_checked(filename, &bytes)
    }

    fn write_checked(&self, filename: &str, content: &[u8]) -> Result<PathBuf, StorageError> {
        let directory = self.temp_directory()?;
        let relative = directory.join(filename);
        if let Some(client) = &self.s3 {
            // One PUT of the whole object: S3 never shows a partial one.
            client
                .put(&Self::key(client, &relative), content, &Condition::None)
                .map_err(|e| StorageError::s3("write the file", self.root.join(&relative), e))?;
            return Ok(relative);
        }
        let path = self.root.join(&relative);
        let written = fs::File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StorageError::io("create the file", &path, e))
            .and_then(|mut file| {
                file.write_all(content)
                    .map_err(|e| StorageError::io("write the file", &path, e))
            });
        if let Err(error) = written {
            // Leave no partial file behind (best effort).
            let _ = fs::remove_dir_all(self.root.join(&directory));
            return Err(error);
        }
        Ok(relative)
    }

    /// Creates a fresh directory `<root>/<uuid4>/` (creating the data
    /// directory itself first if needed) and returns its path **relative to
    /// the data directory**: the uuid, as the Python SDK's `temp_directory()`.
    ///
    /// # Errors
    ///
    /// [`StorageError::Io`] when a directory cannot be created.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let root = std::env::temp_dir().join(format!("sekoia-doc-temp-{}", std::process::id()));
    /// let data = DataDirectory::new(&root);
    /// let directory = data.temp_directory()?;
    /// assert_eq!(directory.components().count(), 1);
    /// assert!(root.join(&directory).is_dir());
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn temp_directory(&self) -> Result<PathBuf, StorageError> {
        if self.s3.is_some() {
            // S3 has no directories: the name is reserved by its uuid, as
            // `S3Path.mkdir` creates no object.
            return Ok(PathBuf::from(uuid::Uuid::new_v4().to_string()));
        }
        fs::create_dir_all(&self.root)
            .map_err(|e| StorageError::io("create the data directory", &self.root, e))?;
        let relative = PathBuf::from(uuid::Uuid::new_v4().to_string());
        let path = self.root.join(&relative);
        fs::create_dir(&path).map_err(|e| StorageError::io("create the directory", &path, e))?;
        Ok(relative)
    }

    /// Opens the JSON file at `relative` in the data directory as a
    /// [`PersistentJson`]: [`resolve`](DataDirectory::resolve), then
    /// [`PersistentJson::open`].
    ///
    /// # Errors
    ///
    /// The errors of [`resolve`](DataDirectory::resolve) and of
    /// [`PersistentJson::open`].
    ///
    /// # Example
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let root = std::env::temp_dir().join(format!("sekoia-doc-persistent-{}", std::process::id()));
    /// let data = DataDirectory::new(&root);
    /// {
    ///     let mut context = data.persistent_json::<BTreeMap<String, String>>("context.json")?;
    ///     context.insert("most_recent_date_seen".into(), "2026-01-02T03:04:05Z".into());
    /// } // saved here
    /// let context = data.persistent_json::<BTreeMap<String, String>>("context.json")?;
    /// assert_eq!(context["most_recent_date_seen"], "2026-01-02T03:04:05Z");
    /// # drop(context);
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn persistent_json<T>(
        &self,
        relative: impl AsRef<Path>,
    ) -> Result<PersistentJson<T>, StorageError>
    where
        T: Serialize + DeserializeOwned + Default,
    {
        match &self.s3 {
            Some(client) => {
                let normalized = self.normalize(relative.as_ref())?;
                PersistentJson::open_s3(
                    client.clone(),
                    Self::key(client, &normalized),
                    self.root.join(&normalized),
                )
            }
            None => PersistentJson::open(self.resolve(relative)?),
        }
    }

    /// The content of the file at `relative`, `None` when there is none.
    ///
    /// # Errors
    ///
    /// The errors of [`resolve`](DataDirectory::resolve);
    /// [`StorageError::Io`] or [`StorageError::S3`] when it cannot be read.
    ///
    /// # Example
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    ///
    /// let root = std::env::temp_dir().join(format!("sekoia-doc-read-{}", std::process::id()));
    /// let data = DataDirectory::new(&root);
    /// assert_eq!(data.read("absent.json")?, None);
    /// data.write_file("dir/present.json", "{}")?;
    /// assert_eq!(data.read("dir/present.json")?.as_deref(), Some(&b"{}"[..]));
    /// # std::fs::remove_dir_all(&root)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&self, relative: impl AsRef<Path>) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.resolve(relative.as_ref())?;
        if let Some(client) = &self.s3 {
            let normalized = self.normalize(relative.as_ref())?;
            return client
                .get(&Self::key(client, &normalized))
                .map(|object| object.map(|object| object.body))
                .map_err(|e| StorageError::s3("read the file", path, e));
        }
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::io("read the file", path, e)),
        }
    }

    /// Writes the whole file at `relative` (its directories created on the
    /// local disk): a reader sees the old content or the new one, never a
    /// part (an atomic rename on disk, one PUT on S3).
    ///
    /// # Errors
    ///
    /// The errors of [`resolve`](DataDirectory::resolve);
    /// [`StorageError::Io`] or [`StorageError::S3`] when it cannot be written.
    pub fn write_file(
        &self,
        relative: impl AsRef<Path>,
        content: impl AsRef<[u8]>,
    ) -> Result<(), StorageError> {
        let path = self.resolve(relative.as_ref())?;
        if let Some(client) = &self.s3 {
            let normalized = self.normalize(relative.as_ref())?;
            return client
                .put(
                    &Self::key(client, &normalized),
                    content.as_ref(),
                    &Condition::None,
                )
                .map(drop)
                .map_err(|e| StorageError::s3("write the file", path, e));
        }
        let directory = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(directory)
            .map_err(|e| StorageError::io("create the directory", directory, e))?;
        write_atomically(&path, content.as_ref())
    }

    /// Whether `relative` is a file or a directory holding files.
    ///
    /// # Errors
    ///
    /// The errors of [`resolve`](DataDirectory::resolve);
    /// [`StorageError::S3`] when the bucket cannot be asked.
    pub fn exists(&self, relative: impl AsRef<Path>) -> Result<bool, StorageError> {
        let path = self.resolve(relative.as_ref())?;
        let Some(client) = &self.s3 else {
            return Ok(path.exists());
        };
        let key = Self::key(client, &self.normalize(relative.as_ref())?);
        let found = match client.head(&key) {
            Ok(Some(_)) => Ok(true),
            Ok(None) => client
                .list_pages(&format!("{key}/"), 1)
                .map(|keys| !keys.is_empty()),
            Err(e) => Err(e),
        };
        found.map_err(|e| StorageError::s3("look for", path, e))
    }

    /// Removes the file at `relative`, or the directory and everything in
    /// it; nothing when there is nothing there.
    ///
    /// # Errors
    ///
    /// The errors of [`resolve`](DataDirectory::resolve);
    /// [`StorageError::Io`] or [`StorageError::S3`] when it cannot be removed.
    pub fn remove(&self, relative: impl AsRef<Path>) -> Result<(), StorageError> {
        let path = self.resolve(relative.as_ref())?;
        if path == self.root {
            return Err(StorageError::Escape {
                path: relative.as_ref().to_owned(),
                data_directory: self.root.clone(),
            });
        }
        if let Some(client) = &self.s3 {
            let key = Self::key(client, &self.normalize(relative.as_ref())?);
            let removed = client.list(&format!("{key}/")).and_then(|keys| {
                keys.iter()
                    .chain(std::iter::once(&key))
                    .try_for_each(|key| client.delete(key))
            });
            return removed.map_err(|e| StorageError::s3("remove", path, e));
        }
        let removed = match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(e) => Err(e),
        };
        match removed {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(StorageError::io("remove", path, e))
            }
            _ => Ok(()),
        }
    }

    /// The files under the directory `relative` (`.` for the whole data
    /// directory), at any depth, as paths relative to the data directory,
    /// sorted.
    ///
    /// # Errors
    ///
    /// The errors of [`resolve`](DataDirectory::resolve);
    /// [`StorageError::Io`] or [`StorageError::S3`] when it cannot be listed.
    pub fn list(&self, relative: impl AsRef<Path>) -> Result<Vec<PathBuf>, StorageError> {
        let path = self.resolve(relative.as_ref())?;
        let normalized = self.normalize(relative.as_ref())?;
        if let Some(client) = &self.s3 {
            let key = Self::key(client, &normalized);
            let prefix = if key.is_empty() {
                key
            } else {
                format!("{key}/")
            };
            let keys = client
                .list(&prefix)
                .map_err(|e| StorageError::s3("list", &path, e))?;
            let mut files: Vec<PathBuf> = keys
                .iter()
                .filter_map(|key| client.location().path_of(key))
                .map(PathBuf::from)
                .collect();
            files.sort();
            return Ok(files);
        }
        let mut files = Vec::new();
        let mut pending = vec![normalized];
        while let Some(directory) = pending.pop() {
            let full = self.root.join(&directory);
            let entries = match fs::read_dir(&full) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StorageError::io("list", full, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| StorageError::io("list", &full, e))?;
                let relative = directory.join(entry.file_name());
                match entry.file_type() {
                    Ok(kind) if kind.is_dir() => pending.push(relative),
                    _ => files.push(relative),
                }
            }
        }
        files.sort();
        Ok(files)
    }
}

/// Refuses anything but a single plain file name.
fn check_file_name(filename: &str) -> Result<(), StorageError> {
    let separator = filename.contains('/') || (cfg!(windows) && filename.contains('\\'));
    let special =
        filename.is_empty() || filename == "." || filename == ".." || filename.contains('\0');
    let plain = !(separator || special);
    if plain {
        Ok(())
    } else {
        Err(StorageError::InvalidFileName {
            filename: filename.to_owned(),
        })
    }
}

/// Where `path` really is, symbolic links followed, even when it does not
/// exist (yet): the canonical path of its deepest existing ancestor, with the
/// remaining components appended. A dangling symbolic link is followed to
/// where its target would be.
pub(crate) fn real_location(path: &Path, hops: usize) -> Result<PathBuf, StorageError> {
    let not_found = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
        )
    };
    let canonicalize_error = match fs::canonicalize(path) {
        Ok(real) => return Ok(real),
        Err(e) if not_found(&e) => e,
        Err(e) => return Err(StorageError::io("follow the symbolic links of", path, e)),
    };
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            // A dangling link (its target does not exist yet): follow it by hand.
            if hops >= MAX_SYMLINK_HOPS {
                return Err(StorageError::io(
                    "follow the symbolic links of",
                    path,
                    io::Error::other("too many levels of symbolic links"),
                ));
            }
            let target = fs::read_link(path)
                .map_err(|e| StorageError::io("read the symbolic link", path, e))?;
            let target = match path.parent() {
                Some(parent) if target.is_relative() => parent.join(target),
                _ => target,
            };
            real_location(&target, hops + 1)
        }
        Ok(_) => Err(StorageError::io(
            "follow the symbolic links of",
            path,
            canonicalize_error,
        )),
        Err(e) if not_found(&e) => {
            // Does not exist: locate the parent, then append the last component.
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            match path.components().next_back() {
                Some(Component::Normal(name)) => Ok(real_location(parent, hops)?.join(name)),
                Some(Component::ParentDir) => {
                    let real = real_location(parent, hops)?;
                    Ok(real.parent().map(Path::to_path_buf).unwrap_or(real))
                }
                Some(Component::CurDir) => real_location(parent, hops),
                // A root or prefix always exists; nothing else can be last.
                _ => Err(StorageError::io(
                    "follow the symbolic links of",
                    path,
                    canonicalize_error,
                )),
            }
        }
        Err(e) => Err(StorageError::io("follow the symbolic links of", path, e)),
    }
}
