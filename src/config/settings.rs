//! Where a module finds its inputs: configuration root, data directory,
//! manifest and retry timing, with the environment variables that override them.

use std::path::PathBuf;
use std::time::Duration;

/// Environment variable that overrides the configuration root (`/symphony`).
pub const ROOT_VARIABLE: &str = "SEKOIA_AUTOMATION_ROOT";
/// Environment variable that overrides the data directory (`/symphony_data`).
pub const DATA_VARIABLE: &str = "SEKOIA_AUTOMATION_DATA";
/// Environment variable that overrides the path of `manifest.json`.
pub const MANIFEST_VARIABLE: &str = "SEKOIA_AUTOMATION_MANIFEST";
/// Environment variable that overrides the retry backoff unit, in milliseconds
/// (default 1000: the Python SDK waits `2^attempt` seconds).
pub const BACKOFF_VARIABLE: &str = "SEKOIA_AUTOMATION_BACKOFF_MS";

/// Environment variable that overrides the overall deadline of one request
/// attempt, in milliseconds (default 30,000: the Python SDK's timeout).
pub const DEADLINE_VARIABLE: &str = "SEKOIA_AUTOMATION_REQUEST_DEADLINE_MS";
/// Default overall deadline of one request attempt, as the Python SDK's
/// `timeout=30`.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// Default configuration root, as mounted by the platform.
pub const DEFAULT_ROOT: &str = "/symphony";
/// Default data directory, as mounted by the platform.
pub const DEFAULT_DATA: &str = "/symphony_data";
/// Default manifest path, relative to the working directory.
pub const DEFAULT_MANIFEST: &str = "manifest.json";

/// The places and timings a module runs with.
///
/// [`Settings::from_env`] gives the platform defaults, overridden by the
/// `SEKOIA_AUTOMATION_*` environment variables (for local runs and tests);
/// the [`Module`](crate::Module) builder can override each one again.
///
/// ```
/// use sekoia_automation::Settings;
/// use std::time::Duration;
///
/// let settings = Settings::from_env()
///     .configuration_root("/tmp/symphony")
///     .retry_backoff(Duration::from_millis(1));
/// assert_eq!(settings.configuration_root.to_str(), Some("/tmp/symphony"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Directory holding one file per configuration value (`/symphony`).
    pub configuration_root: PathBuf,
    /// Directory where data files are exchanged (`/symphony_data`), before `sub_folder`.
    pub data_directory: PathBuf,
    /// Path of the module's `manifest.json`.
    pub manifest_path: PathBuf,
    /// Unit of the exponential backoff: attempt `n` waits `unit × 2^n`.
    pub retry_backoff: Duration,
    /// Overall deadline of one request attempt (connection, request and the
    /// whole answer, however slowly it comes): past it the attempt fails as
    /// a network error and is retried. 30 s by default.
    pub request_deadline: Duration,
    /// The text of `manifest.json` compiled into the binary, used when there
    /// is no file at `manifest_path` (a scratch image holding only the
    /// binary); `None` by default.
    pub embedded_manifest: Option<&'static str>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            configuration_root: PathBuf::from(DEFAULT_ROOT),
            data_directory: PathBuf::from(DEFAULT_DATA),
            manifest_path: PathBuf::from(DEFAULT_MANIFEST),
            retry_backoff: Duration::from_secs(1),
            request_deadline: DEFAULT_DEADLINE,
            embedded_manifest: None,
        }
    }
}

impl Settings {
    /// The platform defaults, overridden by the `SEKOIA_AUTOMATION_*` variables
    /// that are set and not empty. An unparsable backoff or deadline keeps the
    /// default.
    pub fn from_env() -> Self {
        let mut settings = Settings::default();
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        if let Some(root) = var(ROOT_VARIABLE) {
            settings.configuration_root = root.into();
        }
        if let Some(data) = var(DATA_VARIABLE) {
            settings.data_directory = data.into();
        }
        if let Some(manifest) = var(MANIFEST_VARIABLE) {
            settings.manifest_path = manifest.into();
        }
        if let Some(millis) = var(BACKOFF_VARIABLE)
            .and_then(|value| value.to_str().and_then(|text| text.parse::<u64>().ok()))
        {
            settings.retry_backoff = Duration::from_millis(millis);
        }
        if let Some(millis) = var(DEADLINE_VARIABLE)
            .and_then(|value| value.to_str().and_then(|text| text.parse::<u64>().ok()))
            .filter(|millis| *millis > 0)
        {
            settings.request_deadline = Duration::from_millis(millis);
        }
        settings
    }

    /// Sets the configuration root.
    pub fn configuration_root(mut self, path: impl Into<PathBuf>) -> Self {
        self.configuration_root = path.into();
        self
    }

    /// Sets the data directory.
    pub fn data_directory(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_directory = path.into();
        self
    }

    /// Sets the manifest path.
    pub fn manifest_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest_path = path.into();
        self
    }

    /// Sets the backoff unit.
    pub fn retry_backoff(mut self, unit: Duration) -> Self {
        self.retry_backoff = unit;
        self
    }

    /// Sets the overall deadline of one request attempt.
    pub fn request_deadline(mut self, deadline: Duration) -> Self {
        self.request_deadline = deadline;
        self
    }
}
