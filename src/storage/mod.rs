//! Files: the [`DataDirectory`](data_directory::DataDirectory) (paths that
//! never escape it, atomic writes, temporary directories) and
//! [`PersistentJson`](persistent_json::PersistentJson) (state kept between
//! runs).

pub(crate) mod data_directory;
pub(crate) mod file_lock;
pub(crate) mod finite;
pub(crate) mod persistent_json;
