//! The S3 file backend: the platform keeps a module's files in a bucket
//! when its configuration says `file_backend: s3` (`docs/storage.md`).
//!
//! - [`config`]: which backend, and the S3 keys, read as the Python SDK reads them;
//! - [`location`]: the object key of a file of the data directory, as `S3Path` makes it;
//! - [`sigv4`]: the request signature;
//! - [`client`]: GET, PUT (conditional, multipart), HEAD, DELETE, listing;
//! - [`error`]: what failed, and whether a trigger counts it;
//! - [`registry`]: which paths are in a bucket (checkpoints name files by path);
//! - [`context_object`]: `context.json`'s read-merge-write, a conditional PUT;
//! - [`xml`]: the few values read from S3's answers.

pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod context_object;
pub(crate) mod error;
pub(crate) mod location;
pub(crate) mod registry;
pub(crate) mod sigv4;
pub(crate) mod xml;

pub use client::{Condition, MAX_WAIT, MULTIPART_THRESHOLD, Object, S3Client};
pub use config::{FileBackend, S3Config, S3ConfigError};
pub use error::S3Error;
pub use location::S3Location;
