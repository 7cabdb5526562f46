//! Where a file of the data directory is in the bucket: the object key the
//! Python SDK's `S3Path` gives it.
//!
//! Python's data directory under S3 is `S3Path("/<bucket>") / sub_folder`,
//! and a file is `data_path / relative`. `S3Path` is a `PurePosixPath`: the
//! first part is the bucket, the key is the remaining parts joined by `/`
//! (empty and `.` parts dropped, `..` kept as a part). So `sub_folder`
//! `a//b/` and the file `./x.json` are the key `a/b/x.json`.

/// The data directory in a bucket: the bucket and the key prefix of
/// `sub_folder` (empty without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    bucket: String,
    prefix: String,
}

impl S3Location {
    /// `/<bucket>` plus `sub_folder`, as `get_data_path` builds it.
    ///
    /// ```
    /// use sekoia_automation::unversioned::s3::S3Location;
    ///
    /// let data = S3Location::new("bucket", Some("module/"));
    /// assert_eq!(data.key("./state/context.json"), "module/state/context.json");
    /// assert_eq!(data.path_of("module/state/context.json"), Some("state/context.json".into()));
    /// ```
    pub fn new(bucket: impl Into<String>, sub_folder: Option<&str>) -> Self {
        S3Location {
            bucket: bucket.into(),
            prefix: sub_folder.map(parts).unwrap_or_default(),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix (`sub_folder`'s parts joined, no trailing `/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key of a file given relative to the data directory.
    pub fn key(&self, relative: &str) -> String {
        let relative = parts(relative);
        match (self.prefix.is_empty(), relative.is_empty()) {
            (true, _) => relative,
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{relative}", self.prefix),
        }
    }

    /// The path relative to the data directory of a key under it, `None`
    /// for a key outside it.
    pub fn path_of(&self, key: &str) -> Option<String> {
        if self.prefix.is_empty() {
            return Some(key.to_string());
        }
        key.strip_prefix(&self.prefix)?
            .strip_prefix('/')
            .map(str::to_string)
    }
}

/// A POSIX path's parts joined by `/`: no empty part, no `.` part.
fn parts(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_parts_after_the_bucket_as_s3path_joins_them() {
        let root = S3Location::new("bucket", None);
        assert_eq!(root.key("context.json"), "context.json");
        assert_eq!(root.key("/a//b/./c.json"), "a/b/c.json");
        let sub = S3Location::new("bucket", Some("/tenant//module/"));
        assert_eq!(sub.prefix(), "tenant/module");
        assert_eq!(sub.key("x/y.json"), "tenant/module/x/y.json");
        assert_eq!(sub.key(""), "tenant/module");
        assert_eq!(
            sub.path_of("tenant/module/x/y.json").as_deref(),
            Some("x/y.json")
        );
        assert_eq!(sub.path_of("tenant/modules/x"), None);
    }
}
