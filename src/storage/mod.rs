//! Files: the [`DataDirectory`](data_directory::DataDirectory) (paths that
//! never escape it, atomic writes, temporary directories) and
//! [`PersistentJson`](persistent_json::PersistentJson) (state kept between
//! runs), on the local disk or, when the platform says so, in an S3
//! bucket ([`s3`]).

pub(crate) mod data_directory;
pub(crate) mod file_lock;
pub(crate) mod finite;
pub(crate) mod persistent_json;
pub(crate) mod s3;
