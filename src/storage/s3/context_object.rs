//! The read-merge-write of a JSON object shared by several writers (the
//! connector's `context.json`) on S3: a conditional PUT on the ETag read
//! (`If-Match`, or `If-None-Match: *` for a new object); when another writer
//! got there first, the object is read again and this writer's changes are
//! applied to it, so neither erases the other's keys.

use std::path::Path;

use serde_json::{Map, Value};

use super::client::{Condition, S3Client};
use super::error::S3Error;
use crate::storage::data_directory::StorageError;

/// Conditional writes tried before giving up on a contended object.
const MAX_CONFLICTS: u32 = 10;

/// The changes from `before` to `after` applied to `fresh`: keys set or
/// changed by this writer take its value, keys it removed are removed, the
/// rest is `fresh`'s.
pub(crate) fn reapply(
    mut fresh: Map<String, Value>,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Map<String, Value> {
    for (key, value) in after {
        if before.get(key) != Some(value) {
            fresh.insert(key.clone(), value.clone());
        }
    }
    for key in before.keys() {
        if !after.contains_key(key) {
            fresh.remove(key);
        }
    }
    fresh
}

/// How the object is read and written: `reload` reads it again with its
/// ETag, `serialize` writes a map as the file's bytes.
pub(crate) struct Access<R, S> {
    /// Reads the object and its ETag (`None`: absent).
    pub(crate) reload: R,
    /// The bytes of a map.
    pub(crate) serialize: S,
}

/// Writes `after` (read as `before` with `etag`) to `key`, conditionally;
/// on a conflict, reads again and re-applies the changes.
pub(crate) fn save<R, S>(
    client: &S3Client,
    key: &str,
    path: &Path,
    (before, after): (&Map<String, Value>, Map<String, Value>),
    mut etag: Option<String>,
    access: Access<R, S>,
) -> Result<(), StorageError>
where
    R: Fn() -> Result<(Map<String, Value>, Option<String>), StorageError>,
    S: Fn(&Map<String, Value>) -> Result<Vec<u8>, StorageError>,
{
    let mut target = after.clone();
    let mut conflicts = 0;
    loop {
        let text = (access.serialize)(&target)?;
        let condition = match etag.take() {
            Some(etag) => Condition::IfMatch(etag),
            None => Condition::IfAbsent,
        };
        match client.put(key, &text, &condition) {
            Ok(_) => return Ok(()),
            Err(S3Error::PreconditionFailed { .. }) if conflicts + 1 < MAX_CONFLICTS => {
                conflicts += 1;
                let (fresh, fresh_etag) = (access.reload)()?;
                target = reapply(fresh, before, &after);
                etag = fresh_etag;
            }
            Err(cause) => return Err(StorageError::s3("write the file", path, cause)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn this_writers_changes_land_on_the_other_writers_object() {
        let before = map(json!({"a": 1, "b": 2, "gone": 0}));
        let after = map(json!({"a": 10, "b": 2, "new": 3}));
        let fresh = map(json!({"a": 1, "b": 20, "gone": 0, "theirs": 4}));
        assert_eq!(
            Value::Object(reapply(fresh, &before, &after)),
            json!({"a": 10, "b": 20, "theirs": 4, "new": 3})
        );
    }
}
