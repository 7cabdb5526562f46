//! [`Action`]: a short program that reads arguments, does one job and reports
//! an [`Outcome`]; [`ActionContext`]: what it can use while it runs.

pub(crate) mod error;
pub(crate) mod outcome;
pub(crate) mod runner;
pub(crate) mod validator;

pub use crate::wire::logging::LogRecord;
pub use error::{ActionError, ActionResult};
pub use outcome::Outcome;
pub use validator::{AccountValidator, NotValid, ValidationError};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::config::settings::Settings;
use crate::storage::data_directory::{DataDirectory, StorageError};
use crate::storage::persistent_json::PersistentJson;
use crate::trigger::stop_signal::{SignalListener, StopSignal};
use crate::vendor::{RetryPolicy, VendorClient, VendorClientBuilder};
use crate::wire::logging::{self, Level, Sink};

/// An action of a module.
///
/// `ModuleConfiguration` ties the action to one module: it can only be
/// registered on a [`Module`](crate::Module) of that configuration type.
/// `Arguments` and `Results` are serde types whose JSON Schemas describe the
/// action in its manifest; use [`serde_json::Value`] for untyped ones and `()`
/// for a module without configuration.
///
/// ```
/// use sekoia_automation::{Action, ActionContext, ActionError, Level, Outcome};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, schemars::JsonSchema)]
/// struct Arguments { text: String }
///
/// #[derive(Serialize, schemars::JsonSchema)]
/// struct Results { length: usize }
///
/// struct Measure;
///
/// impl Action for Measure {
///     type ModuleConfiguration = ();
///     type Arguments = Arguments;
///     type Results = Results;
///     const NAME: &'static str = "Measure text";
///     const DESCRIPTION: &'static str = "Count the characters of a text";
///
///     fn run(&self, ctx: &ActionContext<'_, ()>, args: Arguments) -> Result<Outcome<Results>, ActionError> {
///         ctx.log(Level::Info, "measuring");
///         let length = args.text.chars().count();
///         let outcome = Outcome::success(Results { length });
///         Ok(if length > 100 { outcome.activate("long") } else { outcome.activate("short") })
///     }
/// }
/// ```
///
/// The item is `Send` and its configuration types `Send + Sync`: see
/// [`Module`'s thread safety](crate::Module#thread-safety).
pub trait Action: Send + 'static {
    /// The configuration of the module this action belongs to.
    type ModuleConfiguration: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The action's arguments (the `arguments` configuration value).
    type Arguments: DeserializeOwned + JsonSchema;
    /// The action's results.
    type Results: Serialize + JsonSchema;
    /// The action's name, as shown in the playbook editor.
    ///
    /// **Named by its manifest.** A port whose manifest file already holds
    /// the name and the description (`action_*.json`, copied from the
    /// Python module) leaves both empty: `generate-files`, `check-module`
    /// and the command list then take them from the manifest file whose
    /// `docker_parameters` is the command the action is registered under,
    /// and `generate-files` fails, naming the command, when no file has it.
    ///
    /// ```
    /// use sekoia_automation::{Action, ActionContext, ActionError, Outcome};
    /// use serde_json::Value;
    ///
    /// /// `action_get_host.json` says what it is called and what it does.
    /// struct GetHost;
    ///
    /// impl Action for GetHost {
    ///     type ModuleConfiguration = ();
    ///     type Arguments = Value;
    ///     type Results = Value;
    ///     const NAME: &'static str = "";
    ///     const DESCRIPTION: &'static str = "";
    ///
    ///     fn run(&self, _: &ActionContext<'_, ()>, args: Value) -> Result<Outcome<Value>, ActionError> {
    ///         Ok(Outcome::success(args))
    ///     }
    /// }
    ///
    /// let directory = tempfile::tempdir()?;
    /// std::fs::write(directory.path().join("manifest.json"), r#"{"name": "Hosts", "slug": "hosts", "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "version": "1.0.0"}"#)?;
    /// std::fs::write(
    ///     directory.path().join("action_get_host.json"),
    ///     r#"{"name": "Get host", "description": "Everything known about a host", "uuid": "0b7c1f24-6a9e-4d58-8f3a-51c2e7d9a410", "docker_parameters": "get_host", "arguments": {}, "results": {}}"#,
    /// )?;
    /// let module = sekoia_automation::Module::<()>::new().register("get_host", GetHost);
    /// let items = sekoia_automation::unversioned::ModuleItems::new(module.items());
    /// let files = sekoia_automation::unversioned::generate::generate(directory.path(), &items)?;
    /// assert!(files[1].contents.contains(r#""name": "Get host""#), "{}", files[1].contents);
    /// assert!(files[1].contents.contains(r#""description": "Everything known about a host""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    const NAME: &'static str;
    /// What the action does; empty when the manifest file says it (see
    /// [`NAME`](Self::NAME)).
    const DESCRIPTION: &'static str;
    /// The output branches the action may activate, listed in its manifest
    /// (`outputs`). Empty (the default) declares none; when some are
    /// declared, activating another one at run time is reported with a
    /// `warning` log (the branch is still sent).
    const OUTPUTS: &'static [&'static str] = &[];
    /// What the platform knows the action by, when it already exists (a
    /// port of a Python module): its uuid, slug and manifest file name,
    /// kept by `generate-files`. Nothing stated (the default): those of
    /// the manifest file whose `docker_parameters` is the item's command,
    /// else derived from [`NAME`](Self::NAME). See [`Identity`](crate::config::Identity).
    const IDENTITY: crate::config::Identity = crate::config::Identity::new();

    /// Does the job: `?` works on any error (see [`ActionError`]), and an
    /// `Err` is reported as `Outcome::from(Err(error))` is (the run's
    /// error, and the exception reported to Sentry). A panic is caught and
    /// reported as an error.
    ///
    /// # Errors
    ///
    /// What the action returns as `Err` ends the run as failed: the
    /// error's text is the run's error, sent in the finished PATCH.
    ///
    /// [`ActionError`]: crate::ActionError
    fn run(
        &self,
        ctx: &ActionContext<'_, Self::ModuleConfiguration>,
        arguments: Self::Arguments,
    ) -> Result<Outcome<Self::Results>, crate::ActionError>;
}

/// Why an argument or result helper failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArgumentError {
    /// Neither `name` nor `name_path` is in the arguments.
    #[error(
        "the argument `{name}` is missing: give `{name}` or `{name}_path` (a JSON file relative to the data directory)"
    )]
    #[non_exhaustive]
    Missing {
        /// The argument.
        name: String,
    },
    /// `name_path` does not name a file of the data directory.
    #[error("the argument `{name}_path` names `{}`, which is not a file of the data directory", path.display())]
    #[non_exhaustive]
    MissingFile {
        /// The argument.
        name: String,
        /// The resolved path.
        path: PathBuf,
    },
    /// `name_path` is not a string.
    #[error("the argument `{name}_path` must be a string path relative to the data directory")]
    #[non_exhaustive]
    PathNotString {
        /// The argument.
        name: String,
    },
    /// The value does not have the expected type.
    #[error("the argument `{name}` does not match the expected type `{expected}`: {detail}")]
    #[non_exhaustive]
    Invalid {
        /// The argument.
        name: String,
        /// The Rust type.
        expected: &'static str,
        /// Serde's message.
        detail: String,
    },
    /// The file could not be read, written or parsed.
    #[error("cannot {operation} `{}`: {detail}", path.display())]
    #[non_exhaustive]
    File {
        /// What was attempted.
        operation: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The path was refused by the data directory (absolute, `..`, symlink).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The value cannot be serialized to JSON.
    #[error("the result `{name}` cannot be serialized to JSON: {cause}")]
    #[non_exhaustive]
    Serialize {
        /// The result.
        name: String,
        /// Serde's error.
        cause: serde_json::Error,
    },
}

/// What an action (or an account validator) can use while it runs: the typed
/// module configuration, logging, the data directory, the JSON argument
/// and result helpers, the settings, the stop signal and a vendor client.
///
/// Triggers and connectors have the same surface under the same names
/// ([`TriggerContext`](crate::TriggerContext),
/// [`ConnectorContext`](crate::ConnectorContext)): `settings()`,
/// `stop_signal()`, `vendor()`, `vendor_client()`, `persistent_json()`,
/// `log()`, `data_directory()`, `configuration()`.
///
/// # Thread safety
///
/// `ActionContext<'_, C>` is `Send + Sync` whenever `C` is `Sync` (every
/// configuration deserialized by serde is, unless it holds a `Cell` or an
/// `Rc`): an action that fans its work out with [`std::thread::scope`]
/// hands `&ctx` to its workers, which log, call the vendor and read the
/// arguments. Records logged through [`log`](Self::log) from any thread
/// reach the report; the `log` crate's macros (`log::info!`...) are
/// collected only on the thread that runs the action.
///
/// ```
/// use sekoia_automation::storage::DataDirectory;
/// use sekoia_automation::{ActionContext, Level};
///
/// let data = DataDirectory::new(std::env::temp_dir());
/// let arguments = serde_json::json!({"hosts": ["a", "b", "c"]});
/// let ctx = ActionContext::new(&(), &arguments, &data);
/// let hosts: Vec<String> = ctx.json_argument("hosts").unwrap();
/// std::thread::scope(|scope| {
///     for host in &hosts {
///         let ctx = &ctx;
///         scope.spawn(move || ctx.log(Level::Info, format!("checking {host}")));
///     }
/// });
/// assert_eq!(ctx.logs().len(), 3);
/// ```
///
/// Its `Debug` shows the configuration's type, the arguments' names, the
/// data directory and whether the run is stopping: never a configuration or
/// argument value (they may be secrets).
pub struct ActionContext<'a, C> {
    configuration: &'a C,
    arguments: &'a Value,
    data_directory: &'a DataDirectory,
    sink: Sink,
    result_as_file: AtomicBool,
    updated_secrets: Mutex<Map<String, Value>>,
    secret_names: &'a [String],
    settings: Settings,
    stop: Arc<StopSignal>,
    /// In a module run: SIGTERM and SIGINT raise `stop`, from the first
    /// use of the stop signal on. `None` in a context made with
    /// [`new`](ActionContext::new), which installs no signal handler.
    signals: Option<OnceLock<Option<SignalListener>>>,
    vendor: OnceLock<VendorClient>,
}

impl<C> std::fmt::Debug for ActionContext<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let argument_names: Vec<&str> = self
            .arguments
            .as_object()
            .map(|arguments| arguments.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("ActionContext")
            .field("configuration", &std::any::type_name::<C>())
            .field("arguments", &argument_names)
            .field("data_directory", &self.data_directory.root())
            .field("stopped", &self.stop.is_stopped())
            .finish_non_exhaustive()
    }
}

/// The vendor client builder of an item: [`RetryPolicy::default`] with its
/// waits in units of `settings.retry_backoff` (at most 120 units), every
/// wait ended by `stop`. The one recipe of every context's
/// `vendor_client()`.
pub(crate) fn vendor_client_builder(
    settings: &Settings,
    stop: Arc<StopSignal>,
) -> VendorClientBuilder {
    let unit = settings.retry_backoff;
    let retry = RetryPolicy::default()
        .backoff_factor(unit)
        .backoff_max(unit.saturating_mul(120));
    VendorClient::builder().retry(retry).stop_signal(stop)
}

/// The client [`vendor_client_builder`] builds, with nothing added.
pub(crate) fn default_vendor_client(settings: &Settings, stop: Arc<StopSignal>) -> VendorClient {
    vendor_client_builder(settings, stop)
        .build()
        .expect("a client without base URL, authentication or headers always builds")
}

impl<'a, C> ActionContext<'a, C> {
    /// A context outside any module run, to unit-test an action's `run`
    /// without a platform: logs are kept in the context ([`logs`](Self::logs))
    /// and no secret is declared. Nothing is read from the process: the
    /// settings are [`Settings::default`] (set others with
    /// [`with_settings`](Self::with_settings)), and the stop signal is a
    /// plain [`StopSignal`] no process signal raises (set one with
    /// [`with_stop_signal`](Self::with_stop_signal)); only a module run
    /// listens for SIGTERM and SIGINT.
    ///
    /// ```
    /// use sekoia_automation::{ActionContext, Level};
    /// use sekoia_automation::storage::DataDirectory;
    /// use serde_json::json;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = json!({"ips": ["1.2.3.4"]});
    /// let ctx = ActionContext::new(&(), &arguments, &data);
    /// let ips: Vec<String> = ctx.json_argument("ips").unwrap();
    /// ctx.log(Level::Info, format!("{} ips", ips.len()));
    /// assert_eq!(ctx.logs()[0].message, "1 ips");
    /// assert_eq!(ctx.json_result("ips", &ips).unwrap()["ips"], json!(["1.2.3.4"]));
    /// ```
    pub fn new(
        configuration: &'a C,
        arguments: &'a Value,
        data_directory: &'a DataDirectory,
    ) -> Self {
        Self::in_run(
            configuration,
            arguments,
            data_directory,
            Sink::default(),
            &[],
            Settings::default(),
        )
        .without_signals()
    }

    pub(crate) fn in_run(
        configuration: &'a C,
        arguments: &'a Value,
        data_directory: &'a DataDirectory,
        sink: Sink,
        secret_names: &'a [String],
        settings: Settings,
    ) -> Self {
        ActionContext {
            configuration,
            arguments,
            data_directory,
            sink,
            result_as_file: AtomicBool::new(true),
            updated_secrets: Mutex::default(),
            secret_names,
            settings,
            stop: Arc::new(StopSignal::new()),
            signals: Some(OnceLock::new()),
            vendor: OnceLock::new(),
        }
    }

    fn without_signals(mut self) -> Self {
        self.signals = None;
        self
    }

    /// The context with other settings (a unit test of an action that
    /// reads [`settings`](Self::settings)).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self.vendor = OnceLock::new();
        self
    }

    /// The context with `stop` as its stop signal: a unit test raises it
    /// to end the [`vendor`](Self::vendor) client's requests and waits, as
    /// SIGTERM does in a module run.
    ///
    /// ```
    /// use sekoia_automation::ActionContext;
    /// use sekoia_automation::storage::DataDirectory;
    /// use sekoia_automation::trigger::StopSignal;
    /// use std::sync::Arc;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = serde_json::json!({});
    /// let stop = Arc::new(StopSignal::new());
    /// let ctx = ActionContext::new(&(), &arguments, &data).with_stop_signal(Arc::clone(&stop));
    /// stop.stop();
    /// assert!(ctx.vendor().get("http://127.0.0.1:9/").send().is_err());
    /// ```
    pub fn with_stop_signal(mut self, stop: Arc<StopSignal>) -> Self {
        self.stop = stop;
        self.vendor = OnceLock::new();
        self
    }

    /// The settings the module runs with: the retry backoff unit, the
    /// data directory, the manifest path... as set on the
    /// [`Module`](crate::Module) builder or by the `SEKOIA_AUTOMATION_*`
    /// variables ([`Settings::default`] in a context made with
    /// [`new`](Self::new), unless [`with_settings`](Self::with_settings)). An action that retries a vendor waits in the
    /// same unit as the SDK's own retries, so that a test that shortens
    /// one shortens both.
    ///
    /// ```
    /// use sekoia_automation::ActionContext;
    /// use sekoia_automation::config::Settings;
    /// use sekoia_automation::storage::DataDirectory;
    /// use std::time::Duration;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = serde_json::json!({});
    /// let ctx = ActionContext::new(&(), &arguments, &data)
    ///     .with_settings(Settings::default().with_retry_backoff(Duration::from_millis(5)));
    /// let wait = ctx.settings().retry_backoff() * 2u32.pow(3);
    /// assert_eq!(wait, Duration::from_millis(40));
    /// ```
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The vendor client of this run: built once, from the module's
    /// settings ([`vendor_client`](Self::vendor_client)); no base URL and no
    /// authentication of its own, so requests give full URLs and their
    /// headers. Its retries wait in units of the settings' `retry_backoff`
    /// (a test that shortens the SDK's waits shortens these) and every wait
    /// ends at the context's stop signal (in a module run, SIGTERM/SIGINT).
    ///
    /// ```no_run
    /// use sekoia_automation::vendor::RetryPolicy;
    /// use sekoia_automation::{ActionContext, Secret};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Config { base_url: String, api_key: Secret<String> }
    ///
    /// fn account(ctx: &ActionContext<'_, Config>) -> Result<u16, sekoia_automation::vendor::VendorError> {
    ///     let config = ctx.configuration();
    ///     let bearer = format!("Bearer {}", config.api_key.expose());
    ///     let request = ctx.vendor().get(format!("{}/account", config.base_url));
    ///     let answer = request.header("Authorization", bearer).allow_error_status().send()?;
    ///     Ok(answer.status())
    /// }
    /// ```
    pub fn vendor(&self) -> &VendorClient {
        self.vendor
            .get_or_init(|| default_vendor_client(&self.settings, self.stop_signal()))
    }

    /// The builder [`vendor`](Self::vendor) starts from, to make a client
    /// of one's own (a base URL, authentication, rate limits) that keeps
    /// the module's settings: [`RetryPolicy::default`] with its waits in
    /// units of `retry_backoff` (0, 2, 4, 8, 16 units, at most 120) and
    /// the run's stop signal (SIGTERM/SIGINT end the waits).
    ///
    /// ```
    /// use sekoia_automation::vendor::Auth;
    /// use sekoia_automation::{ActionContext, Secret};
    /// use sekoia_automation::config::Settings;
    /// use sekoia_automation::storage::DataDirectory;
    /// use std::time::Duration;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = serde_json::json!({});
    /// let ctx = ActionContext::new(&(), &arguments, &data)
    ///     .with_settings(Settings::default().with_retry_backoff(Duration::from_millis(5)));
    /// let client = ctx
    ///     .vendor_client()
    ///     .base_url("https://api.example.com/v2")
    ///     .auth(Auth::bearer(Secret::new("key".to_string())))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.retry_policy().backoff(3), Duration::from_millis(20));
    /// ```
    pub fn vendor_client(&self) -> VendorClientBuilder {
        vendor_client_builder(&self.settings, self.stop_signal())
    }

    /// The run's stop signal, for what waits on the action's behalf (a
    /// vendor client of one's own, a worker thread's loop). In a module
    /// run, SIGTERM and SIGINT raise it from the first call on (the
    /// listener lives as long as the context); in a context made with
    /// [`new`](Self::new), only its holder does
    /// ([`with_stop_signal`](Self::with_stop_signal)).
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    /// use sekoia_automation::ActionContext;
    /// use std::time::Duration;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = serde_json::json!({});
    /// let ctx = ActionContext::new(&(), &arguments, &data);
    /// let stop = ctx.stop_signal();
    /// assert!(!stop.is_stopped());
    /// stop.stop();
    /// assert!(!stop.sleep(Duration::from_secs(60)), "a stopped signal's sleep ends at once");
    /// ```
    pub fn stop_signal(&self) -> Arc<StopSignal> {
        if let Some(signals) = &self.signals {
            signals.get_or_init(|| SignalListener::start(Arc::clone(&self.stop)).ok());
        }
        Arc::clone(&self.stop)
    }

    /// Opens a JSON file of the data directory as a [`PersistentJson`]:
    /// a value that survives the run, saved atomically (as on
    /// [`TriggerContext::persistent_json`](crate::TriggerContext::persistent_json)).
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    /// use sekoia_automation::ActionContext;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let data = DataDirectory::new(dir.path());
    /// let arguments = serde_json::json!({});
    /// let ctx = ActionContext::new(&(), &arguments, &data);
    /// let mut seen = ctx.persistent_json::<Vec<String>>("seen.json").unwrap();
    /// seen.push("a".to_string());
    /// seen.close().unwrap();
    /// assert_eq!(*ctx.persistent_json::<Vec<String>>("seen.json").unwrap(), ["a"]);
    /// ```
    ///
    /// # Errors
    ///
    /// The path leaves the data directory, or the file exists and cannot
    /// be read or is not a `V`.
    pub fn persistent_json<V>(
        &self,
        relative: impl AsRef<Path>,
    ) -> Result<PersistentJson<V>, StorageError>
    where
        V: Serialize + DeserializeOwned + Default,
    {
        self.data_directory.persistent_json(relative)
    }

    /// The records logged through this context so far, from any thread (in
    /// a module run, also those of the `log` crate's macros called on the
    /// action's thread).
    pub fn logs(&self) -> Vec<LogRecord> {
        logging::records_of(&self.sink)
    }

    /// The module configuration, secrets merged in.
    pub fn configuration(&self) -> &C {
        self.configuration
    }

    /// The arguments as the platform sent them (for [`json_argument`](Self::json_argument)-style lookups).
    pub fn raw_arguments(&self) -> &Value {
        self.arguments
    }

    /// The data directory (`/symphony_data`, plus `sub_folder`).
    pub fn data_directory(&self) -> &DataDirectory {
        self.data_directory
    }

    /// Logs a message to the platform (and to stderr), from any thread: the
    /// records are in the action's report, in the order they were logged.
    pub fn log(&self, level: Level, message: impl AsRef<str>) {
        self.log_with_context(level, message, Map::new());
    }

    /// Logs a message with context fields, shown after ` - Context: ` in the
    /// platform's logs. Fields that do not serialize to a JSON object are
    /// put under the key `context`.
    ///
    /// ```
    /// # use sekoia_automation::{ActionContext, Level};
    /// # fn example(ctx: &ActionContext<'_, ()>) {
    /// ctx.log_with_context(Level::Warning, "slow answer", serde_json::json!({"ms": 2300}));
    /// # }
    /// ```
    pub fn log_with_context(
        &self,
        level: Level,
        message: impl AsRef<str>,
        context: impl Serialize,
    ) {
        let message = message.as_ref();
        let mut record = LogRecord::new(level, message);
        match serde_json::to_value(context) {
            Ok(Value::Object(map)) => record.context = map,
            Ok(Value::Null) => {}
            Ok(other) => {
                record.context.insert("context".into(), other);
            }
            Err(error) => {
                record
                    .context
                    .insert("context_error".into(), error.to_string().into());
            }
        }
        logging::echo_to_stderr(level, &record.message);
        crate::runtime::sentry::capture_log(level, &record.message);
        logging::push_to(&self.sink, record);
    }

    /// A JSON argument given inline or in a file ([protocol §3](crate::protocol#3-actions)): the value of
    /// `name` if present and not null (then [`json_result`](Self::json_result)
    /// answers inline), else the JSON file at `<data>/<name_path>` (then
    /// results go to a file). A path that leaves the data directory is refused.
    ///
    /// ```
    /// # use sekoia_automation::ActionContext;
    /// # fn example(ctx: &ActionContext<'_, ()>) -> Result<(), sekoia_automation::action::ArgumentError> {
    /// let events: Vec<serde_json::Value> = ctx.json_argument("events")?;
    /// let report = ctx.json_result("report", &events.len())?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ArgumentError::Missing`] when neither `name` nor `name_path` is
    /// given; otherwise those of
    /// [`optional_json_argument`](Self::optional_json_argument).
    pub fn json_argument<T: DeserializeOwned>(&self, name: &str) -> Result<T, ArgumentError> {
        self.optional_json_argument(name)?
            .ok_or_else(|| ArgumentError::Missing { name: name.into() })
    }

    /// Like [`json_argument`](Self::json_argument), `None` when neither
    /// `name` nor `name_path` is given.
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    /// use sekoia_automation::ActionContext;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = serde_json::json!({"limit": 10});
    /// let ctx = ActionContext::new(&(), &arguments, &data);
    /// assert_eq!(ctx.optional_json_argument::<u32>("limit").unwrap(), Some(10));
    /// assert_eq!(ctx.optional_json_argument::<u32>("offset").unwrap(), None);
    /// ```
    ///
    /// # Errors
    ///
    /// - [`ArgumentError::Invalid`]: the value is not a `T`.
    /// - [`ArgumentError::PathNotString`]: `name_path` is not a string.
    /// - [`ArgumentError::Storage`]: `name_path` leaves the data directory
    ///   (absolute, `..`, a symbolic link) or the S3 object cannot be read.
    /// - [`ArgumentError::MissingFile`]: `name_path` names no file.
    /// - [`ArgumentError::File`]: the file cannot be read or is not the JSON
    ///   of a `T`.
    pub fn optional_json_argument<T: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ArgumentError> {
        let invalid = |detail: String| ArgumentError::Invalid {
            name: name.into(),
            expected: std::any::type_name::<T>(),
            detail,
        };
        if let Some(value) = self.arguments.get(name).filter(|value| !value.is_null()) {
            self.result_as_file.store(false, Ordering::Relaxed);
            return T::deserialize(value)
                .map(Some)
                .map_err(|e| invalid(e.to_string()));
        }
        let path_key = format!("{name}_path");
        let Some(relative) = self.arguments.get(&path_key) else {
            return Ok(None);
        };
        self.result_as_file.store(true, Ordering::Relaxed);
        let relative = relative
            .as_str()
            .ok_or_else(|| ArgumentError::PathNotString { name: name.into() })?;
        let path = self.data_directory.resolve(relative)?;
        // S3 file backend (begin): the object, read whole.
        if self.data_directory.is_s3() {
            let Some(bytes) = self.data_directory.read(relative)? else {
                return Err(ArgumentError::MissingFile {
                    name: name.into(),
                    path,
                });
            };
            return serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ArgumentError::File {
                    operation: "parse the JSON file",
                    path,
                    detail: e.to_string(),
                });
        }
        // S3 file backend (end).
        if !path.is_file() {
            return Err(ArgumentError::MissingFile {
                name: name.into(),
                path,
            });
        }
        let file = std::fs::File::open(&path).map_err(|e| ArgumentError::File {
            operation: "read",
            path: path.clone(),
            detail: e.to_string(),
        })?;
        serde_json::from_reader(std::io::BufReader::new(file))
            .map(Some)
            .map_err(|e| ArgumentError::File {
                operation: "parse the JSON file",
                path,
                detail: e.to_string(),
            })
    }

    /// A result given inline or in a file ([protocol §3](crate::protocol#3-actions)):
    /// `{"<name>_path": "<name>-<uuid4>.json"}` with the file written in the
    /// data directory, or `{"<name>": value}` when the last
    /// [`json_argument`](Self::json_argument) was inline. File is the default.
    /// Flatten the map into the action's results
    /// (`#[serde(flatten)] report: serde_json::Map<String, Value>`).
    ///
    /// The mode is the context's, whichever thread read the argument: an
    /// action whose workers read arguments both ways decides by the last
    /// read.
    ///
    /// ```
    /// use sekoia_automation::storage::DataDirectory;
    /// use sekoia_automation::ActionContext;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let data = DataDirectory::new(dir.path());
    /// let arguments = serde_json::json!({});
    /// let ctx = ActionContext::new(&(), &arguments, &data);
    /// let result = ctx.json_result("ips", &["1.2.3.4"]).unwrap();
    /// let file = result["ips_path"].as_str().unwrap();
    /// assert_eq!(std::fs::read_to_string(dir.path().join(file)).unwrap(), r#"["1.2.3.4"]"#);
    /// ```
    ///
    /// # Errors
    ///
    /// - [`ArgumentError::Serialize`]: the value cannot be JSON.
    /// - [`ArgumentError::Storage`]: the data directory refuses the file
    ///   name, or the S3 object cannot be written.
    /// - [`ArgumentError::File`]: the file cannot be written (none is left
    ///   behind).
    pub fn json_result<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<Map<String, Value>, ArgumentError> {
        let mut result = Map::new();
        if !self.result_as_file.load(Ordering::Relaxed) {
            let value = serde_json::to_value(value).map_err(|cause| ArgumentError::Serialize {
                name: name.into(),
                cause,
            })?;
            result.insert(name.into(), value);
            return Ok(result);
        }
        let filename = format!("{name}-{}.json", uuid::Uuid::new_v4());
        let path = self.data_directory.resolve(&filename)?;
        // S3 file backend (begin): one PUT of the whole object.
        if self.data_directory.is_s3() {
            let bytes = serde_json::to_vec(value).map_err(|cause| ArgumentError::Serialize {
                name: name.into(),
                cause,
            })?;
            self.data_directory.write_file(&filename, bytes)?;
            result.insert(format!("{name}_path"), filename.into());
            return Ok(result);
        }
        // S3 file backend (end).
        if let Err(detail) = write_json_file(&path, value) {
            // Never leave a partial result file behind.
            let _ = std::fs::remove_file(&path);
            return Err(ArgumentError::File {
                operation: "write the result file",
                path,
                detail,
            });
        }
        result.insert(format!("{name}_path"), filename.into());
        Ok(result)
    }

    /// Asks the platform to store a new value for one of the module's secrets
    /// (a rotated token, say). The finished report then carries the module's
    /// secret values, this one updated. Only secrets declared in the manifest
    /// can be updated. The value is scrubbed from every log and error from
    /// then on.
    ///
    /// ```
    /// use sekoia_automation::action::ArgumentError;
    /// use sekoia_automation::storage::DataDirectory;
    /// use sekoia_automation::ActionContext;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = serde_json::json!({});
    /// let ctx = ActionContext::new(&(), &arguments, &data);
    /// // A context made with `new` declares no secret.
    /// let refused = ctx.update_secret("api_key", "rotated-key").unwrap_err();
    /// assert!(matches!(refused, ArgumentError::Invalid { .. }));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ArgumentError::Invalid`]: `name` is not in the manifest's
    /// `configuration.secrets`.
    pub fn update_secret(&self, name: &str, value: impl Into<Value>) -> Result<(), ArgumentError> {
        if !self.secret_names.iter().any(|declared| declared == name) {
            return Err(ArgumentError::Invalid {
                name: name.into(),
                expected: "a secret declared in manifest.json",
                detail: format!(
                    "`{name}` is not in `configuration.secrets` of the manifest; declare it there"
                ),
            });
        }
        let value = value.into();
        crate::wire::redact::register_value(&value);
        self.updated_secrets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.into(), value);
        Ok(())
    }

    pub(crate) fn take_updated_secrets(&self) -> Map<String, Value> {
        std::mem::take(
            &mut *self
                .updated_secrets
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

fn write_json_file<T: Serialize + ?Sized>(path: &std::path::Path, value: &T) -> Result<(), String> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut writer = std::io::BufWriter::with_capacity(256 * 1024, file);
    serde_json::to_writer(&mut writer, value).map_err(|e| e.to_string())?;
    writer.flush().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::VendorError;

    #[test]
    fn the_vendor_client_keeps_the_settings_and_stops_with_the_run() {
        let data = DataDirectory::new(std::env::temp_dir());
        let arguments = Value::Null;
        let unit = std::time::Duration::from_millis(7);
        let ctx = ActionContext::new(&(), &arguments, &data)
            .with_settings(Settings::default().with_retry_backoff(unit));
        let policy = ctx.vendor().retry_policy();
        assert_eq!(policy.backoff(2), unit * 2);
        assert_eq!(policy.backoff(30), unit * 120, "capped at 120 units");
        assert!(std::ptr::eq(ctx.vendor(), ctx.vendor()), "built once");
        // A stop (SIGTERM) ends the client's requests and waits.
        ctx.stop_signal().stop();
        let error = ctx.vendor().get("http://127.0.0.1:9/").send().unwrap_err();
        assert!(
            matches!(error, VendorError::Interrupted { attempts: 0, .. }),
            "{error}"
        );
    }

    /// The process's current action for `signal`.
    #[allow(unsafe_code)] // sigaction(2) as a query: std has no equivalent.
    fn handler(signal: libc::c_int) -> libc::sighandler_t {
        // SAFETY: a query (no new action), into a zeroed `sigaction`.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            assert_eq!(libc::sigaction(signal, std::ptr::null(), &mut current), 0);
            current.sa_sigaction
        }
    }

    /// A context made for a test installs no signal handler, however it
    /// is used: checked in a child process (this test binary, running this
    /// test alone), where no other test installs one.
    #[test]
    fn a_test_context_installs_no_signal_handler() {
        const CHILD: &str = "SEKOIA_AUTOMATION_SIGNAL_TEST_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let before = [handler(libc::SIGINT), handler(libc::SIGTERM)];
            let data = DataDirectory::new(std::env::temp_dir());
            let arguments = Value::Null;
            let ctx = ActionContext::new(&(), &arguments, &data);
            let client = ctx.vendor();
            assert_eq!(
                client.retry_policy().backoff(2),
                Settings::default().retry_backoff * 2,
                "the default settings, not the environment's"
            );
            ctx.stop_signal().stop();
            assert_eq!([handler(libc::SIGINT), handler(libc::SIGTERM)], before);
            return;
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "action::tests::a_test_context_installs_no_signal_handler",
                "--test-threads=1",
                "--quiet",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(text.contains("1 passed"), "the child ran the test: {text}");
    }
}
