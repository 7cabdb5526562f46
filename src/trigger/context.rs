//! [`TriggerContext`]: what a [`Trigger`] can use while it runs.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::settings::Settings;
use crate::storage::data_directory::{DataDirectory, StorageError};
use crate::storage::persistent_json::PersistentJson;
use crate::trigger::clock::{self, Clock};
use crate::trigger::event_sender::EventSender;
use crate::trigger::liveness::Health;
use crate::trigger::log_shipper::LogShipper;
use crate::trigger::metrics::TriggerMetrics;
use crate::trigger::stop_signal::StopSignal;
use crate::trigger::{SendEventError, Trigger};
use crate::vendor::{VendorClient, VendorClientBuilder};
use crate::wire::logging::{self, Level};
use crate::wire::timestamp::Timestamp;

/// The runtime behind the contexts of one trigger process.
pub(crate) struct Runtime {
    pub(crate) stop: Arc<StopSignal>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) health: Arc<Health>,
    pub(crate) logs: Arc<LogShipper>,
    pub(crate) metrics: Arc<TriggerMetrics>,
    /// Sends the events; its backoff waits end when the trigger stops.
    pub(crate) events: EventSender,
    /// Stop once this many events were sent (`run-local --events N`).
    pub(crate) max_events: Option<u64>,
    /// Where the item's values are read (connectors read their own).
    pub(crate) source: crate::config::source::ConfigurationSource,
    /// The retry backoff unit (1 s on the platform).
    pub(crate) backoff_unit: Duration,
    /// The settings the module runs with.
    pub(crate) settings: Settings,
    /// The items' vendor client, built at its first use.
    pub(crate) vendor: OnceLock<VendorClient>,
    /// `trigger_configuration_uuid`, as the platform gave it.
    pub(crate) trigger_configuration_uuid: Option<String>,
    /// `connector_configuration_uuid`, as the platform gave it.
    pub(crate) connector_configuration_uuid: Option<String>,
}

impl Runtime {
    /// A configuration uuid the platform gives (`trigger_configuration_uuid`,
    /// `connector_configuration_uuid`): its file or variable as given, `None`
    /// when unset or unreadable, as the Python SDK's
    /// `load_config(name, non_exist_ok=True)`.
    pub(crate) fn configuration_uuid(
        source: &crate::config::source::ConfigurationSource,
        name: &str,
    ) -> Option<String> {
        source.optional_text(name).ok().flatten()
    }
}

/// What a trigger can use while it runs: its typed configurations, sending
/// events, the stop flag and an interruptible sleep, heartbeats, logs, and
/// the data directory.
///
/// Logs go to the platform's `url_logs` (batched, rate-limited, [protocol §4](crate::protocol#4-triggers))
/// and to stderr; the `log` crate's macros called on the trigger's thread
/// (`log::info!`...) take the same way. [`log_stderr`](Self::log_stderr)
/// and the `log` target `"stderr"` write to stderr only.
///
/// # Thread safety
///
/// `Send + Sync`: a trigger that fans its work out with
/// [`std::thread::scope`] hands `&ctx` to its workers, which send events,
/// log, beat the heart and check [`running`](Self::running) as `run` does.
/// Events sent from several threads at once each get their own
/// `request_id` (kept across that event's retries) and go out one request
/// at a time on the sender's keep-alive connection. The `log` crate's
/// macros reach the platform only from the trigger's own thread: workers
/// use [`log`](Self::log).
///
/// ```no_run
/// # use sekoia_automation::trigger::AttachedDirectory;
/// # use sekoia_automation::{Trigger, TriggerContext, TriggerError, Level};
/// # struct Poller;
/// # impl Trigger for Poller {
/// #     type ModuleConfiguration = ();
/// #     type Configuration = serde_json::Value;
/// #     type Event = serde_json::Value;
/// #     const NAME: &'static str = "Poller";
/// #     const DESCRIPTION: &'static str = "Poll";
/// fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
///     #[derive(Default, serde::Serialize, serde::Deserialize)]
///     struct Cursor { last_id: u64 }
///     let mut cursor = ctx.persistent_json::<Cursor>("cursor.json")?;
///     while ctx.running() {
///         cursor.last_id += 1;
///         let file = ctx.write("alert.json", format!("{{\"id\": {}}}", cursor.last_id))?;
///         let directory = file.parent().unwrap();
///         let event = serde_json::json!({"id": cursor.last_id});
///         ctx.send_event_with_directory("alert", &event, directory, AttachedDirectory::Remove)?;
///         cursor.save()?;
///         ctx.heartbeat();
///         ctx.sleep(std::time::Duration::from_secs(60));
///     }
///     ctx.log(Level::Info, "stopping");
///     Ok(())
/// }
/// # }
/// ```
pub struct TriggerContext<'a, T: Trigger + ?Sized> {
    module_configuration: &'a T::ModuleConfiguration,
    configuration: &'a T::Configuration,
    data_directory: &'a DataDirectory,
    runtime: &'a Runtime,
}

impl<T: Trigger + ?Sized> std::fmt::Debug for TriggerContext<'_, T> {
    /// The trigger, its data directory and whether it runs: never a
    /// configuration value (they hold secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerContext")
            .field("trigger", &T::NAME)
            .field("data_directory", &self.data_directory.root())
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}

pub use crate::wire::bodies::event_body;

/// What becomes of a directory attached to an event
/// ([`TriggerContext::send_event_with_directory`]) once the event is sent:
/// the Python SDK's `remove_directory` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachedDirectory {
    /// Left in the data directory (`remove_directory=False`).
    Keep,
    /// Deleted once the platform accepted the event, kept when the send
    /// failed, for the next attempt (`remove_directory=True`).
    Remove,
}

impl<'a, T: Trigger + ?Sized> TriggerContext<'a, T> {
    pub(crate) fn new(
        module_configuration: &'a T::ModuleConfiguration,
        configuration: &'a T::Configuration,
        data_directory: &'a DataDirectory,
        runtime: &'a Runtime,
    ) -> Self {
        TriggerContext {
            module_configuration,
            configuration,
            data_directory,
            runtime,
        }
    }

    /// The runtime behind the context.
    pub(crate) fn runtime(&self) -> &'a Runtime {
        self.runtime
    }

    /// The trigger configuration (`trigger_configuration`, node secrets
    /// overlaid).
    pub fn configuration(&self) -> &T::Configuration {
        self.configuration
    }

    /// The module configuration (module secrets merged in).
    pub fn module_configuration(&self) -> &T::ModuleConfiguration {
        self.module_configuration
    }

    /// Sends an event: `POST url_callback` with
    /// `{"name", "event", "request_id"}`. Network errors and 5xx answers are
    /// retried with the same body, so the same `request_id` (the platform
    /// drops duplicates); a 4xx fails at once with its status, and so does a
    /// redirect (3xx, never followed: the event was not sent).
    ///
    /// As in the Python SDK, the consecutive-error count and the last-event
    /// time are reset when the send starts.
    ///
    /// Once the trigger is stopping (SIGTERM, SIGINT, [`stop`](Self::stop)),
    /// the event is not sent and [`SendEventError::Stopped`] comes back at
    /// once (also when the stop cuts a send short), so that `?` ends `run`
    /// within the [stop grace](crate::Trigger#stopping). The Python SDK sends on
    /// until the platform kills the process.
    ///
    /// Blocks until the platform accepted the event, refused it, or the
    /// retries ended (waits of the settings' `retry_backoff` unit, ended by
    /// a stop). Threads may send at once: see
    /// [Thread safety](TriggerContext#thread-safety).
    ///
    /// # Errors
    ///
    /// - [`SendEventError::Stopped`]: the trigger is stopping (before or
    ///   during the send).
    /// - [`SendEventError::Serialize`]: the event cannot be JSON.
    /// - [`SendEventError::Http`]: the platform answered a 4xx or a
    ///   redirect, or the retries were exhausted.
    pub fn send_event(&self, name: &str, event: &T::Event) -> Result<(), SendEventError> {
        self.send(name, event, None)
    }

    /// Sends an event with a directory of the data directory attached (its
    /// files become the run's storage): `directory` is relative to the data
    /// directory (or absolute inside it) and must exist; it is sent relative.
    /// With [`AttachedDirectory::Remove`], it is deleted once the event is
    /// sent (and kept when the send failed, for the next attempt).
    ///
    /// Blocks as [`send_event`](Self::send_event) does.
    ///
    /// # Errors
    ///
    /// Those of [`send_event`](Self::send_event), and before anything is
    /// sent: a missing directory ([`SendEventError::InvalidDirectory`]), one
    /// that leaves the data directory ([`SendEventError::Refused`]), the
    /// whole data directory to remove
    /// ([`SendEventError::RemoveDataDirectory`]); after the event was sent:
    /// a directory that could not be removed
    /// ([`SendEventError::RemoveDirectory`]).
    pub fn send_event_with_directory(
        &self,
        name: &str,
        event: &T::Event,
        directory: impl AsRef<Path>,
        after_send: AttachedDirectory,
    ) -> Result<(), SendEventError> {
        let remove = after_send == AttachedDirectory::Remove;
        self.send(name, event, Some((directory.as_ref(), remove)))
    }

    fn send(
        &self,
        name: &str,
        event: &T::Event,
        directory: Option<(&Path, bool)>,
    ) -> Result<(), SendEventError> {
        let runtime = self.runtime;
        let stopped = || SendEventError::Stopped {
            name: name.to_string(),
        };
        if runtime.stop.is_stopped() {
            return Err(stopped());
        }
        runtime.health.event_sent();
        let attached = match directory {
            Some((directory, remove)) => {
                let (relative, path) = self.attachable(name, directory)?;
                if remove && relative == "." {
                    return Err(SendEventError::RemoveDataDirectory {
                        name: name.to_string(),
                    });
                }
                Some((relative, path, remove))
            }
            None => None,
        };
        let request_id = runtime.events.request_id();
        let mut request_id_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let request_id = request_id.hyphenated().encode_lower(&mut request_id_text);
        let body = event_body(
            name,
            event,
            request_id,
            attached.as_ref().map(|(relative, _, _)| relative.as_str()),
        )
        .map_err(|source| SendEventError::Serialize {
            name: name.to_string(),
            cause: source,
        })?;
        if let Err(source) = runtime.events.send(&body) {
            if runtime.stop.is_stopped() {
                // Cut short by our own stop: not a platform failure.
                return Err(stopped());
            }
            runtime.metrics.event_send_failed();
            return Err(SendEventError::Http {
                name: name.to_string(),
                cause: source,
            });
        }
        runtime.metrics.event_sent();
        if runtime
            .max_events
            .is_some_and(|limit| runtime.metrics.events_sent() >= limit)
        {
            runtime.stop.stop();
        }
        if let Some((relative, path, true)) = attached {
            // S3 file backend (begin): the directory's objects.
            if self.data_directory.is_s3() {
                return self.data_directory.remove(&relative).map_err(|source| {
                    SendEventError::RemoveDirectory {
                        name: name.to_string(),
                        directory: path,
                        // The storage error kept: the runtime reads its S3 cause.
                        cause: std::io::Error::other(source),
                    }
                });
            }
            // S3 file backend (end).
            std::fs::remove_dir_all(&path).map_err(|source| SendEventError::RemoveDirectory {
                name: name.to_string(),
                directory: path,
                cause: source,
            })?;
        }
        Ok(())
    }

    /// The directory to attach, checked to exist inside the data directory:
    /// its relative form (sent) and its path.
    fn attachable(
        &self,
        name: &str,
        directory: &Path,
    ) -> Result<(String, PathBuf), SendEventError> {
        let root = self.data_directory.root();
        // An absolute path inside the data directory is accepted, as the
        // Python SDK does; `resolve` checks the rest (`..`, symbolic links).
        let relative = match directory.strip_prefix(root) {
            Ok(inside) if directory.is_absolute() => inside,
            _ => directory,
        };
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        let path =
            self.data_directory
                .resolve(relative)
                .map_err(|source| SendEventError::Refused {
                    name: name.to_string(),
                    cause: source,
                })?;
        // S3 file backend: a directory is a key prefix holding objects.
        let exists = if self.data_directory.is_s3() {
            self.data_directory
                .exists(relative)
                .map_err(|source| SendEventError::Refused {
                    name: name.to_string(),
                    cause: source,
                })?
        } else {
            path.is_dir()
        };
        if !exists {
            return Err(SendEventError::InvalidDirectory {
                name: name.to_string(),
                directory: directory.to_owned(),
                data_directory: root.to_owned(),
            });
        }
        let sent = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .filter_map(|component| match component {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        // Python's `Path.relative_to(...).as_posix()` of the root itself.
        let sent = if sent.is_empty() {
            ".".to_string()
        } else {
            sent
        };
        Ok((sent, path))
    }

    /// Whether the trigger should go on: false once it is stopped (SIGTERM,
    /// SIGINT or [`stop`](Self::stop)).
    pub fn running(&self) -> bool {
        !self.runtime.stop.is_stopped()
    }

    /// Stops the trigger: [`running`](Self::running) turns false, sleeps
    /// end, and the runtime does not call `run` again.
    pub fn stop(&self) {
        self.runtime.stop.stop();
    }

    /// The trigger's stop signal, for what waits on the trigger's behalf: a
    /// [`VendorClient`] given it wakes from its retry and rate-limit waits
    /// when the trigger stops (SIGTERM, SIGINT, [`stop`](Self::stop)), and
    /// a worker thread's loop can check it or sleep on it.
    pub fn stop_signal(&self) -> Arc<StopSignal> {
        Arc::clone(&self.runtime.stop)
    }

    /// The settings the module runs with (the retry backoff unit, the data
    /// directory...), as set on the [`Module`](crate::Module) builder or by
    /// the `SEKOIA_AUTOMATION_*` variables.
    pub fn settings(&self) -> &Settings {
        &self.runtime.settings
    }

    /// The vendor client of this process: built once, from the module's
    /// settings ([`vendor_client`](Self::vendor_client)); no base URL and
    /// no authentication of its own, so requests give full URLs and their
    /// headers. Its retries wait in units of the settings' `retry_backoff`
    /// and every wait (retry, `Retry-After`, rate limit) ends when the
    /// trigger stops: the request then fails with
    /// [`VendorError::Interrupted`](crate::vendor::VendorError::Interrupted).
    /// A request blocks until the vendor answered, the retries ended or
    /// the trigger stopped.
    pub fn vendor(&self) -> &'a VendorClient {
        let runtime = self.runtime;
        runtime.vendor.get_or_init(|| {
            crate::action::default_vendor_client(&runtime.settings, Arc::clone(&runtime.stop))
        })
    }

    /// The builder [`vendor`](Self::vendor) starts from, to make a client
    /// of one's own (a base URL, authentication, rate limits) that keeps
    /// the module's settings: [`RetryPolicy::default`](crate::vendor::RetryPolicy::default)
    /// with its waits in units of `retry_backoff` (0, 2, 4, 8, 16 units, at
    /// most 120) and the trigger's [`stop_signal`](Self::stop_signal).
    pub fn vendor_client(&self) -> VendorClientBuilder {
        crate::action::vendor_client_builder(&self.runtime.settings, self.stop_signal())
    }

    /// Marks the trigger as alive, for the liveness endpoint's
    /// `last_heartbeat_threshold`.
    pub fn heartbeat(&self) {
        self.runtime.health.heartbeat();
    }

    /// Sleeps `duration`, or less when the trigger is stopped: `true` when
    /// the whole duration passed, `false` when stopped. Blocks the calling
    /// thread only; any thread may sleep on the same context.
    pub fn sleep(&self, duration: Duration) -> bool {
        let runtime = self.runtime;
        let deadline = clock::add(runtime.clock.now(), duration);
        runtime.stop.sleep_until(&*runtime.clock, deadline)
    }

    /// The current time, on the runtime's clock.
    pub fn now(&self) -> Timestamp {
        self.runtime.clock.now()
    }

    /// Logs a message to the platform (batched; `error` and `critical` at
    /// once) and to stderr. Secret values are scrubbed.
    pub fn log(&self, level: Level, message: impl AsRef<str>) {
        let message = message.as_ref();
        logging::echo_to_stderr(level, &crate::wire::redact::scrub(message));
        self.runtime.logs.log_reported(level, message);
    }

    /// The uuid of this trigger's configuration, as the platform gave it
    /// (the `trigger_configuration_uuid` file or variable): the Python
    /// SDK's `self.module.trigger_configuration_uuid`. `None` when the
    /// platform gave none (a local run).
    ///
    /// ```no_run
    /// # use sekoia_automation::{Trigger, TriggerContext, TriggerError};
    /// # struct Indexer;
    /// # impl Trigger for Indexer {
    /// #     type ModuleConfiguration = ();
    /// #     type Configuration = serde_json::Value;
    /// #     type Event = serde_json::Value;
    /// #     const NAME: &'static str = "Indexer";
    /// #     const DESCRIPTION: &'static str = "Index";
    /// fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
    ///     let index = format!("alerts-{}", ctx.trigger_configuration_uuid().unwrap_or("local"));
    ///     ctx.send_event("index", &serde_json::json!({"index": index}))?;
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn trigger_configuration_uuid(&self) -> Option<&'a str> {
        self.runtime.trigger_configuration_uuid.as_deref()
    }

    /// The uuid of the connector configuration the platform gave (the
    /// `connector_configuration_uuid` file or variable): the Python SDK's
    /// `self.module.connector_configuration_uuid`. `None` when the platform
    /// gave none.
    pub fn connector_configuration_uuid(&self) -> Option<&'a str> {
        self.runtime.connector_configuration_uuid.as_deref()
    }

    /// Logs a message to stderr only, never to the platform: what a Python
    /// module wrote with `structlog`, `loguru` or `logging` rather than
    /// `self.log`. Secret values are scrubbed and the line is rate-limited
    /// like every stderr line (the same line at most once a minute, then
    /// with the count of the copies left out); `RUST_LOG` filters it.
    ///
    /// The `log` crate's macros do the same with the target `"stderr"`,
    /// from any thread: `log::info!(target: "stderr", "...")`.
    ///
    /// ```no_run
    /// # use sekoia_automation::{Trigger, TriggerContext, TriggerError, Level};
    /// # struct Poller;
    /// # impl Trigger for Poller {
    /// #     type ModuleConfiguration = ();
    /// #     type Configuration = serde_json::Value;
    /// #     type Event = serde_json::Value;
    /// #     const NAME: &'static str = "Poller";
    /// #     const DESCRIPTION: &'static str = "Poll";
    /// fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
    ///     ctx.log_stderr(Level::Debug, "polling the feed");
    ///     log::info!(target: "stderr", "polled {} alerts", 42);
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn log_stderr(&self, level: Level, message: impl AsRef<str>) {
        logging::install();
        logging::echo_to_stderr(level, message.as_ref());
    }

    /// Consecutive counted errors since the last event.
    pub fn error_count(&self) -> u64 {
        self.runtime.health.error_count()
    }

    /// The data directory (`/symphony_data`, plus `sub_folder`).
    pub fn data_directory(&self) -> &DataDirectory {
        self.data_directory
    }

    /// Writes `content` to `<uuid4>/<filename>` in the data directory and
    /// returns that path, relative to it; attach its directory
    /// (`path.parent()`) to an event with
    /// [`send_event_with_directory`](Self::send_event_with_directory).
    ///
    /// # Errors
    ///
    /// The data directory refuses `filename` (absolute, `..`), or the file
    /// cannot be written.
    pub fn write(
        &self,
        filename: &str,
        content: impl AsRef<[u8]>,
    ) -> Result<PathBuf, StorageError> {
        self.data_directory.write(filename, content)
    }

    /// Opens a JSON file of the data directory as a [`PersistentJson`]: a
    /// cursor that survives restarts, saved atomically.
    ///
    /// # Errors
    ///
    /// The path leaves the data directory, or the file exists and cannot be
    /// read or is not a `V`.
    pub fn persistent_json<V>(
        &self,
        relative: impl AsRef<Path>,
    ) -> Result<PersistentJson<V>, StorageError>
    where
        V: Serialize + DeserializeOwned + Default,
    {
        self.data_directory.persistent_json(relative)
    }
}
