//! Which paths are in a bucket: the roots of the S3 data directories made
//! in this process (`/<bucket>/<sub_folder>`), so that code that names files
//! by path (the connector's checkpoints, `context.json`) finds their objects
//! without changing its API.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::client::S3Client;

fn roots() -> &'static Mutex<Vec<(PathBuf, S3Client)>> {
    static ROOTS: OnceLock<Mutex<Vec<(PathBuf, S3Client)>>> = OnceLock::new();
    ROOTS.get_or_init(Mutex::default)
}

/// Records that `root` is the data directory `client` reaches.
pub(crate) fn register(root: &Path, client: &S3Client) {
    let mut roots = roots().lock().unwrap_or_else(PoisonError::into_inner);
    if !roots.iter().any(|(known, _)| known == root) {
        roots.push((root.to_path_buf(), client.clone()));
    }
}

/// The client and object key of `path` when it is under a registered S3
/// data directory.
pub(crate) fn object_for(path: &Path) -> Option<(S3Client, String)> {
    let roots = roots().lock().unwrap_or_else(PoisonError::into_inner);
    roots
        .iter()
        .filter_map(|(root, client)| {
            let rest = path.strip_prefix(root).ok()?;
            Some((root.components().count(), client, rest))
        })
        .max_by_key(|(depth, _, _)| *depth)
        .map(|(_, client, rest)| {
            let key = client.location().key(&rest.to_string_lossy());
            (client.clone(), key)
        })
}
