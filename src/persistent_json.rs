//! TEMPORARY STUB (replaced by the storage work).
#![allow(missing_docs)]
pub struct PersistentJson<T>(T);
