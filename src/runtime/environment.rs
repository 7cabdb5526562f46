//! What an item runs in: the settings and the values read from the
//! configuration source that every item kind needs.

use std::sync::Arc;

use crate::config::manifest::Manifest;
use crate::config::secret::Secret;
use crate::config::settings::Settings;
use crate::config::source::{ConfigurationError, ConfigurationSource};
use crate::storage::data_directory::DataDirectory;
use crate::storage::s3::{FileBackend, S3Client};
use crate::trigger::stop_signal::StopSignal;
use crate::wire::http::PlatformClient;
use crate::wire::redact;

/// The settings of a running module, and the readers built on them.
pub(crate) struct Environment {
    pub(crate) settings: Settings,
    pub(crate) source: ConfigurationSource,
}

/// How an item reports to the platform: its client and callback URL.
pub(crate) struct Callback {
    pub(crate) client: PlatformClient,
    pub(crate) url: String,
}

impl Environment {
    pub(crate) fn new(settings: Settings) -> Self {
        let source = ConfigurationSource::new(&settings.configuration_root);
        Environment { settings, source }
    }

    /// The token (registered as a secret to scrub) and `url_callback`.
    ///
    /// One trailing newline is removed from the token, as a mounted secret
    /// file often ends with one; a token that still cannot be sent in an
    /// `Authorization` header is an error naming `token` (never showing it).
    pub(crate) fn callback(&self) -> Result<Callback, ConfigurationError> {
        let mut token = self.source.text("token")?;
        if token.ends_with('\n') {
            token.pop();
            if token.ends_with('\r') {
                token.pop();
            }
        }
        redact::register(&token);
        if let Some(position) = token
            .bytes()
            .position(|byte| !(byte == b' ' || byte.is_ascii_graphic()))
        {
            return Err(ConfigurationError::Mismatch {
                name: "token".into(),
                expected: "a bearer token".into(),
                detail: format!(
                    "byte {position} of {} is a control or non-ASCII character, which an HTTP header cannot carry: check the token file or variable",
                    token.len()
                ),
                file: self.source.file_for("token"),
                variable: ConfigurationSource::variable_for("token"),
            });
        }
        let url = self.source.text("url_callback")?;
        let client = PlatformClient::new(Secret::new(token))
            .with_backoff(self.settings.retry_backoff)
            .with_deadline(self.settings.request_deadline);
        Ok(Callback { client, url })
    }

    /// `url_logs`, else `url_callback` with `/callback` replaced by `/logs`
    /// ([protocol §1](crate::protocol#1-inputs)).
    pub(crate) fn logs_url(&self, callback_url: &str) -> Result<String, ConfigurationError> {
        Ok(self
            .source
            .optional_text("url_logs")?
            .unwrap_or_else(|| callback_url.replace("/callback", "/logs")))
    }

    /// `url_secrets`, else `url_callback` with `/callback` replaced by
    /// `/secrets` ([protocol §1](crate::protocol#1-inputs)).
    pub(crate) fn secrets_url(&self, callback_url: &str) -> Result<String, ConfigurationError> {
        Ok(self
            .source
            .optional_text("url_secrets")?
            .unwrap_or_else(|| callback_url.replace("/callback", "/secrets")))
    }

    /// A TCP port value (`liveness_port`, `metrics_port`), `default` when
    /// absent.
    pub(crate) fn port(&self, name: &str, default: u16) -> Result<u16, ConfigurationError> {
        match self.source.optional_text(name)? {
            None => Ok(default),
            Some(text) => {
                text.trim()
                    .parse::<u16>()
                    .map_err(|error| ConfigurationError::Mismatch {
                        name: name.into(),
                        expected: "a TCP port (0 to 65535)".into(),
                        detail: error.to_string(),
                        file: self.source.file_for(name),
                        variable: ConfigurationSource::variable_for(name),
                    })
            }
        }
    }

    pub(crate) fn manifest(&self) -> Result<Manifest, ConfigurationError> {
        match self.settings.embedded_manifest {
            Some(text) if !self.settings.manifest_path.exists() => Manifest::from_embedded(text),
            _ => Manifest::load(&self.settings.manifest_path),
        }
    }

    /// The data directory, with `sub_folder` when it is set: on the local
    /// disk, or in the S3 bucket when `file_backend` is `s3` (the bucket is
    /// checked, as the Python SDK's `get_s3_data_path` does; `docs/storage.md`).
    pub(crate) fn data_directory(&self) -> Result<DataDirectory, String> {
        self.data_directory_until(None)
    }

    /// As [`data_directory`](Self::data_directory), the waits between the
    /// S3 requests' attempts (the bucket check's first) cut short by `stop`.
    pub(crate) fn data_directory_until(
        &self,
        stop: Option<&Arc<StopSignal>>,
    ) -> Result<DataDirectory, String> {
        if let FileBackend::S3(config) =
            FileBackend::from_source(&self.source).map_err(|e| e.to_string())?
        {
            let mut client = S3Client::new(*config).map_err(|e| e.to_string())?;
            if let Some(stop) = stop {
                client = client.with_stop_signal(Arc::clone(stop));
            }
            let client =
                client.with_retry(self.settings.retry_backoff, crate::wire::http::MAX_ATTEMPTS);
            client.check_bucket().map_err(|e| e.to_string())?;
            return Ok(DataDirectory::s3(client));
        }
        let root = DataDirectory::new(&self.settings.data_directory);
        match self
            .source
            .optional_text("sub_folder")
            .map_err(|e| e.to_string())?
        {
            Some(sub_folder) => root.with_sub_folder(&sub_folder).map_err(|e| e.to_string()),
            None => Ok(root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn configured(files: &[(&str, &str)]) -> (tempfile::TempDir, Environment) {
        let root = tempfile::tempdir().unwrap();
        for (name, value) in files {
            std::fs::write(root.path().join(name), value).unwrap();
        }
        let settings = Settings::default()
            .with_configuration_root(root.path())
            .with_data_directory(root.path().join("data"))
            .with_retry_backoff(Duration::ZERO);
        (root, Environment::new(settings))
    }

    #[test]
    fn file_backend_s3_puts_the_data_directory_in_the_bucket_after_checking_it() {
        // Nothing listens on port 1: the bucket check fails, and says so.
        let (_root, environment) = configured(&[
            ("file_backend", "S3"),
            ("aws_bucket_name", "bucket"),
            ("aws_access_key_id", "AKID"),
            ("aws_secret_access_key", "s3cr3t-value"),
            ("aws_default_region", "us-east-1"),
            ("aws_s3_endpoint_url", "http://127.0.0.1:1"),
        ]);
        let error = environment.data_directory().unwrap_err();
        assert!(error.contains("HeadBucket of `bucket`"), "{error}");
        assert!(!error.contains("s3cr3t"), "{error}");
        let (_root, environment) = environment_without_region();
        let error = environment.data_directory().unwrap_err();
        assert!(error.contains("`aws_default_region`"), "{error}");
        let (root, environment) = configured(&[("file_backend", "local")]);
        let data = environment.data_directory().unwrap();
        assert!(!data.is_s3());
        assert_eq!(data.root(), root.path().join("data"));
    }

    fn environment_without_region() -> (tempfile::TempDir, Environment) {
        configured(&[
            ("file_backend", "s3"),
            ("aws_bucket_name", "bucket"),
            ("aws_access_key_id", "AKID"),
            ("aws_secret_access_key", "s3cr3t-value"),
            ("aws_s3_endpoint_url", "http://127.0.0.1:1"),
        ])
    }
}
