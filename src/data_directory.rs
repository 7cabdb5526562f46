//! TEMPORARY STUB (replaced by the storage work).
#![allow(missing_docs)]
use std::path::{Path, PathBuf};
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDirectory {
    root: PathBuf,
}
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("escape {0}")]
    Escape(PathBuf),
}
impl DataDirectory {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDirectory { root: root.into() }
    }
    pub fn with_sub_folder(&self, s: &str) -> Result<DataDirectory, StorageError> {
        Ok(DataDirectory {
            root: self.root.join(s),
        })
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn resolve(&self, relative: impl AsRef<Path>) -> Result<PathBuf, StorageError> {
        let r = relative.as_ref();
        if r.is_absolute()
            || r.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(StorageError::Escape(r.into()));
        }
        Ok(self.root.join(r))
    }
}
