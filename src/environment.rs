//! What an item runs in: the settings and the values read from the
//! configuration source that every item kind needs.

use crate::configuration::{ConfigurationError, ConfigurationSource};
use crate::data_directory::DataDirectory;
use crate::http::PlatformClient;
use crate::manifest::Manifest;
use crate::redact;
use crate::secret::Secret;
use crate::settings::Settings;

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
    pub(crate) fn callback(&self) -> Result<Callback, ConfigurationError> {
        let token = self.source.text("token")?;
        redact::register(&token);
        let url = self.source.text("url_callback")?;
        let client =
            PlatformClient::new(Secret::new(token)).with_backoff(self.settings.retry_backoff);
        Ok(Callback { client, url })
    }

    pub(crate) fn manifest(&self) -> Result<Manifest, ConfigurationError> {
        Manifest::load(&self.settings.manifest_path)
    }

    /// The data directory, with `sub_folder` when it is set.
    pub(crate) fn data_directory(&self) -> Result<DataDirectory, String> {
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
