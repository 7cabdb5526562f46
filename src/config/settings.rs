//! Where a module finds its inputs: configuration root, data directory,
//! manifest and retry timing, with the environment variables that override them.

use std::path::{Path, PathBuf};
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
/// Environment variable that stops a trigger once it sent this many events
/// (`run-local --events N`): the next `send_event` is refused as after a stop.
pub const MAX_EVENTS_VARIABLE: &str = "SEKOIA_AUTOMATION_MAX_EVENTS";

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
/// the [`Module`](crate::Module) builder can override each one again. Each
/// value has a getter named after it and a `with_` setter.
///
/// ```
/// use sekoia_automation::config::Settings;
/// use std::time::Duration;
///
/// let settings = Settings::from_env()
///     .with_configuration_root("/tmp/symphony")
///     .with_retry_backoff(Duration::from_millis(1));
/// assert_eq!(settings.configuration_root().to_str(), Some("/tmp/symphony"));
/// assert_eq!(settings.retry_backoff(), Duration::from_millis(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub(crate) configuration_root: PathBuf,
    pub(crate) data_directory: PathBuf,
    pub(crate) manifest_path: PathBuf,
    pub(crate) retry_backoff: Duration,
    pub(crate) request_deadline: Duration,
    pub(crate) embedded_manifest: Option<&'static str>,
    pub(crate) max_events: Option<u64>,
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
            max_events: None,
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
        if let Some(events) = var(MAX_EVENTS_VARIABLE)
            .and_then(|value| value.to_str().and_then(|text| text.parse::<u64>().ok()))
        {
            settings.max_events = Some(events);
        }
        settings
    }

    /// Directory holding one file per configuration value (`/symphony`).
    pub fn configuration_root(&self) -> &Path {
        &self.configuration_root
    }

    /// Directory where data files are exchanged (`/symphony_data`), before
    /// `sub_folder`.
    pub fn data_directory(&self) -> &Path {
        &self.data_directory
    }

    /// Path of the module's `manifest.json`.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// Unit of the exponential backoff: attempt `n` waits `unit × 2^n`.
    pub fn retry_backoff(&self) -> Duration {
        self.retry_backoff
    }

    /// Overall deadline of one request attempt (connection, request and the
    /// whole answer, however slowly it comes): past it the attempt fails as
    /// a network error and is retried. 30 s by default.
    pub fn request_deadline(&self) -> Duration {
        self.request_deadline
    }

    /// The text of `manifest.json` compiled into the binary, used when there
    /// is no file at [`manifest_path`](Self::manifest_path) (a scratch image
    /// holding only the binary); `None` by default.
    pub fn embedded_manifest(&self) -> Option<&'static str> {
        self.embedded_manifest
    }

    /// A trigger stops itself once it sent this many events (`run-local
    /// --events N`); `None` (the default): no limit.
    pub fn max_events(&self) -> Option<u64> {
        self.max_events
    }

    /// Sets [`configuration_root`](Self::configuration_root).
    pub fn with_configuration_root(mut self, path: impl Into<PathBuf>) -> Self {
        self.configuration_root = path.into();
        self
    }

    /// Sets [`data_directory`](Self::data_directory).
    pub fn with_data_directory(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_directory = path.into();
        self
    }

    /// Sets [`manifest_path`](Self::manifest_path).
    pub fn with_manifest_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest_path = path.into();
        self
    }

    /// Sets [`retry_backoff`](Self::retry_backoff).
    pub fn with_retry_backoff(mut self, unit: Duration) -> Self {
        self.retry_backoff = unit;
        self
    }

    /// Sets [`request_deadline`](Self::request_deadline).
    pub fn with_request_deadline(mut self, deadline: Duration) -> Self {
        self.request_deadline = deadline;
        self
    }

    /// Sets [`embedded_manifest`](Self::embedded_manifest).
    pub fn with_embedded_manifest(mut self, text: Option<&'static str>) -> Self {
        self.embedded_manifest = text;
        self
    }

    /// Sets [`max_events`](Self::max_events).
    pub fn with_max_events(mut self, events: Option<u64>) -> Self {
        self.max_events = events;
        self
    }
}
