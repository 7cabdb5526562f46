//! Which file backend the platform asks for, and the S3 keys, read as the
//! Python SDK's `get_data_path` and `get_s3_data_path` read them.
//!
//! Every value comes from the crate's [configuration
//! source](crate::config::source): the file `/symphony/<name>`, else the
//! variable `<NAME>`. `file_backend` selects S3 when it is `s3` in any case;
//! anything else, or nothing, is the local disk.

use crate::config::secret::Secret;
use crate::config::source::{ConfigurationError, ConfigurationSource};
use crate::storage::s3::sigv4::Credentials;

/// Where the data directory lives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileBackend {
    /// The local disk (`/symphony_data`).
    Local,
    /// An S3 bucket.
    S3(Box<S3Config>),
}

/// The S3 keys of the platform's configuration. `Debug` redacts the secret
/// key, the session token and the client key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `aws_bucket_name`: the data directory is `/<bucket>`.
    pub bucket: String,
    /// `sub_folder`, when set: the data directory is `/<bucket>/<sub_folder>`.
    pub sub_folder: Option<String>,
    /// `aws_default_region`: the region requests are signed for.
    pub region: String,
    /// `aws_s3_endpoint_url`: the S3 service (AWS's or a compatible store).
    pub endpoint_url: String,
    /// `ca_cert`: a PEM certificate authority trusted for the endpoint.
    pub ca_cert: Option<String>,
    /// `client_cert` and `client_key`: a PEM client certificate and its key.
    pub client_certificate: Option<(String, Secret<String>)>,
    pub(crate) credentials: Credentials,
}

/// Why the file backend cannot be configured. Names the key; never quotes
/// a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum S3ConfigError {
    /// A key could not be read (missing, unreadable, not UTF-8).
    #[error("the S3 file backend (`file_backend` is `s3`) needs `{key}`: {cause}")]
    Key {
        /// The key.
        key: &'static str,
        /// Why it could not be read.
        cause: Box<ConfigurationError>,
    },
    /// A key is present but unusable.
    #[error("the S3 file backend cannot use `{key}`: {detail}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong with it (never its value when it is secret).
        detail: String,
    },
}

impl FileBackend {
    /// The backend `file_backend` selects under the configuration root
    /// (`/symphony`; the variables `FILE_BACKEND`... otherwise), with its keys
    /// when it is S3.
    ///
    /// ```
    /// use sekoia_automation::unversioned::s3::FileBackend;
    ///
    /// let root = std::env::temp_dir().join(format!("doc-backend-{}", std::process::id()));
    /// std::fs::create_dir_all(&root).unwrap();
    /// std::fs::write(root.join("file_backend"), "local").unwrap();
    /// assert_eq!(FileBackend::from_configuration_root(&root).unwrap(), FileBackend::Local);
    /// std::fs::remove_dir_all(&root).unwrap();
    /// ```
    pub fn from_configuration_root(
        root: impl Into<std::path::PathBuf>,
    ) -> Result<FileBackend, S3ConfigError> {
        Self::from_source(&ConfigurationSource::new(root))
    }

    /// [`from_configuration_root`](Self::from_configuration_root) on a source.
    pub(crate) fn from_source(source: &ConfigurationSource) -> Result<FileBackend, S3ConfigError> {
        let backend = optional(source, "file_backend")?;
        match backend {
            Some(name) if name.eq_ignore_ascii_case("s3") => {
                Ok(FileBackend::S3(Box::new(S3Config::from_source(source)?)))
            }
            _ => Ok(FileBackend::Local),
        }
    }
}

impl S3Config {
    /// Reads the S3 keys under the configuration root (whatever
    /// `file_backend` says).
    pub fn from_configuration_root(
        root: impl Into<std::path::PathBuf>,
    ) -> Result<S3Config, S3ConfigError> {
        Self::from_source(&ConfigurationSource::new(root))
    }

    /// [`from_configuration_root`](Self::from_configuration_root) on a source.
    pub(crate) fn from_source(source: &ConfigurationSource) -> Result<S3Config, S3ConfigError> {
        let bucket = required(source, "aws_bucket_name")?;
        if bucket.is_empty() || bucket.contains('/') {
            return Err(S3ConfigError::Invalid {
                key: "aws_bucket_name",
                detail: "a bucket name is not empty and has no `/`".into(),
            });
        }
        let endpoint_url = required(source, "aws_s3_endpoint_url")?;
        let endpoint = endpoint_url.trim_end_matches('/');
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
            || endpoint.split("://").nth(1).is_none_or(str::is_empty)
        {
            return Err(S3ConfigError::Invalid {
                key: "aws_s3_endpoint_url",
                detail: format!("`{endpoint_url}` is not an http:// or https:// URL"),
            });
        }
        let credentials = Credentials {
            access_key_id: required(source, "aws_access_key_id")?,
            secret_access_key: Secret::new(required(source, "aws_secret_access_key")?),
            session_token: optional(source, "aws_session_token")?.map(Secret::new),
        };
        let client_cert = optional(source, "client_cert")?;
        let client_key = optional(source, "client_key")?;
        let client_certificate = match (client_cert, client_key) {
            (Some(cert), Some(key)) => Some((cert, Secret::new(key))),
            // As Python: a certificate without its key (or the reverse) is ignored.
            _ => None,
        };
        for secret in [
            Some(credentials.secret_access_key.expose()),
            credentials.session_token.as_ref().map(Secret::expose),
            client_certificate.as_ref().map(|(_, key)| key.expose()),
        ]
        .into_iter()
        .flatten()
        {
            crate::wire::redact::register(secret);
        }
        Ok(S3Config {
            bucket,
            sub_folder: optional(source, "sub_folder")?,
            region: required(source, "aws_default_region")?,
            endpoint_url: endpoint.to_string(),
            ca_cert: optional(source, "ca_cert")?,
            client_certificate,
            credentials,
        })
    }

    /// A configuration for a bucket at an endpoint, with static credentials
    /// (tests, `run-local`).
    pub fn new(
        endpoint_url: impl Into<String>,
        region: impl Into<String>,
        bucket: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: Secret<String>,
    ) -> S3Config {
        crate::wire::redact::register(secret_access_key.expose());
        S3Config {
            bucket: bucket.into(),
            sub_folder: None,
            region: region.into(),
            endpoint_url: endpoint_url.into().trim_end_matches('/').to_string(),
            ca_cert: None,
            client_certificate: None,
            credentials: Credentials {
                access_key_id: access_key_id.into(),
                secret_access_key,
                session_token: None,
            },
        }
    }

    /// Sets `sub_folder`.
    pub fn with_sub_folder(mut self, sub_folder: impl Into<String>) -> S3Config {
        self.sub_folder = Some(sub_folder.into());
        self
    }

    /// Sets the session token (temporary credentials).
    pub fn with_session_token(mut self, token: Secret<String>) -> S3Config {
        crate::wire::redact::register(token.expose());
        self.credentials.session_token = Some(token);
        self
    }

    /// The access key id (public: it is in every `Authorization` header).
    pub fn access_key_id(&self) -> &str {
        &self.credentials.access_key_id
    }
}

fn required(source: &ConfigurationSource, key: &'static str) -> Result<String, S3ConfigError> {
    optional(source, key)?.ok_or_else(|| S3ConfigError::Key {
        key,
        cause: Box::new(source.missing(key)),
    })
}

/// A value without the line end a file written by `echo` carries.
fn optional(
    source: &ConfigurationSource,
    key: &'static str,
) -> Result<Option<String>, S3ConfigError> {
    source
        .optional_text(key)
        .map_err(|cause| S3ConfigError::Key {
            key,
            cause: Box::new(cause),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, value) in files {
            std::fs::write(dir.path().join(name), value).unwrap();
        }
        dir
    }

    const FULL: &[(&str, &str)] = &[
        ("file_backend", "S3"),
        ("aws_bucket_name", "bucket"),
        ("aws_access_key_id", "AKID"),
        ("aws_secret_access_key", "sec\"ret'key"),
        ("aws_default_region", "eu-west-3"),
        ("aws_s3_endpoint_url", "http://127.0.0.1:9000/"),
        ("sub_folder", "module/x"),
    ];

    #[test]
    fn s3_in_any_case_selects_the_bucket_with_every_key() {
        for spelling in ["S3", "s3"] {
            let mut files = FULL.to_vec();
            files[0].1 = spelling;
            let dir = root(&files);
            let FileBackend::S3(config) =
                FileBackend::from_source(&ConfigurationSource::new(dir.path())).unwrap()
            else {
                panic!("not S3 for {spelling}");
            };
            assert_eq!(config.bucket, "bucket");
            assert_eq!(config.sub_folder.as_deref(), Some("module/x"));
            assert_eq!(config.region, "eu-west-3");
            assert_eq!(config.endpoint_url, "http://127.0.0.1:9000");
            assert_eq!(
                config.credentials.secret_access_key.expose(),
                "sec\"ret'key"
            );
            assert!(config.credentials.session_token.is_none());
            let shown = format!("{config:?}");
            assert!(!shown.contains("sec\"ret"), "{shown}");
        }
    }

    #[test]
    fn another_value_or_none_is_the_local_disk() {
        for files in [&[("file_backend", "local")][..], &[][..]] {
            let dir = root(files);
            assert_eq!(
                FileBackend::from_source(&ConfigurationSource::new(dir.path())).unwrap(),
                FileBackend::Local
            );
        }
    }

    #[test]
    fn a_missing_key_is_named_and_no_secret_is_quoted() {
        for missing in [
            "aws_bucket_name",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_default_region",
            "aws_s3_endpoint_url",
        ] {
            let files: Vec<_> = FULL
                .iter()
                .copied()
                .filter(|(name, _)| *name != missing)
                .collect();
            let dir = root(&files);
            let error = FileBackend::from_source(&ConfigurationSource::new(dir.path()))
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("`{missing}`")), "{error}");
            assert!(error.contains(&missing.to_uppercase()), "{error}");
            assert!(!error.contains("sec\"ret"), "{error}");
        }
    }

    #[test]
    fn an_endpoint_that_is_not_a_url_is_refused() {
        let mut files = FULL.to_vec();
        files[5].1 = "127.0.0.1:9000";
        let dir = root(&files);
        let error = FileBackend::from_source(&ConfigurationSource::new(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("aws_s3_endpoint_url"), "{error}");
    }

    #[test]
    fn a_session_token_and_a_client_certificate_are_read_when_complete() {
        let mut files = FULL.to_vec();
        files.push(("aws_session_token", "tok"));
        files.push(("client_cert", "CERT"));
        files.push(("ca_cert", "CA"));
        let dir = root(&files);
        let config = S3Config::from_source(&ConfigurationSource::new(dir.path())).unwrap();
        assert_eq!(
            config
                .credentials
                .session_token
                .as_ref()
                .map(|t| t.expose().as_str()),
            Some("tok")
        );
        assert_eq!(config.ca_cert.as_deref(), Some("CA"));
        assert!(
            config.client_certificate.is_none(),
            "no key, no client certificate"
        );
        std::fs::write(dir.path().join("client_key"), "KEY").unwrap();
        let config = S3Config::from_source(&ConfigurationSource::new(dir.path())).unwrap();
        assert_eq!(
            config
                .client_certificate
                .as_ref()
                .map(|(c, k)| (c.as_str(), k.expose().as_str())),
            Some(("CERT", "KEY"))
        );
    }
}
