//! Files: the [`DataDirectory`] (paths that never escape it, atomic
//! writes, temporary directories) and [`PersistentJson`] (state kept
//! between runs), on the local disk or, when the platform's `file_backend`
//! says so, in an S3 bucket (chosen by the runtime: a module never names
//! the backend); [`StorageError`], why a file operation failed.

pub(crate) mod data_directory;
pub(crate) mod file_lock;
pub(crate) mod finite;
pub(crate) mod persistent_json;
pub(crate) mod s3;

pub use data_directory::{DataDirectory, StorageError};
pub use persistent_json::PersistentJson;
