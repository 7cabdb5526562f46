//! [`ConnectorContext`]: what a [`Connector`] can use while it runs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::settings::Settings;
use crate::connector::acknowledgement::{Acknowledgement, PushError};
use crate::connector::checkpoint::{
    CheckpointCursor, CheckpointDatetime, CheckpointTimestamp, TimeUnit,
};
use crate::connector::connector::Connector;
use crate::connector::context_file::{CONTEXT_FILE, ContextFile};
use crate::connector::event::IntakeEvent;
use crate::connector::item::State;
use crate::connector::records::{Chunker, RecordsError, RecordsOptions};
use crate::connector::registry::MetricsRegistry;
use crate::storage::data_directory::{DataDirectory, StorageError};
use crate::storage::persistent_json::PersistentJson;
use crate::trigger::SendEventError;
use crate::trigger::context::TriggerContext;
use crate::trigger::stop_signal::StopSignal;
use crate::vendor::{VendorClient, VendorClientBuilder};
use crate::wire::logging::Level;
use crate::wire::timestamp::Timestamp;

/// What a connector can use while it runs: its configuration and intake
/// key, [`push_events`](Self::push_events), checkpoints in the shared
/// `context.json`, the stop flag and an interruptible sleep, logs,
/// heartbeats, metrics and the data directory; the module's settings and a
/// vendor client whose waits end when the connector stops, as an action's
/// context has them.
///
/// ```no_run
/// use sekoia_automation::vendor::Auth;
/// use sekoia_automation::{Connector, ConnectorContext, Module, Secret, TriggerError};
/// use std::time::Duration;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Configuration { base_url: String, api_key: Secret<String> }
///
/// #[derive(serde::Deserialize)]
/// struct Alerts { items: Vec<serde_json::Value>, next: Option<String> }
///
/// struct Forwarder;
///
/// impl Connector for Forwarder {
///     type ModuleConfiguration = ();
///     type Configuration = Configuration;
///     type Event = serde_json::Value;
///     const NAME: &'static str = "Forward alerts";
///     const DESCRIPTION: &'static str = "Forward the vendor's alerts to the intake";
///
///     fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
///         let config = ctx.configuration();
///         // Retries in the module's backoff unit; a stop ends every wait.
///         let vendor = ctx
///             .vendor_client()
///             .base_url(&config.base_url)
///             .auth(Auth::bearer(config.api_key.clone()))
///             .build()?;
///         let mut cursor = ctx.checkpoint_cursor::<String>();
///         while ctx.running() {
///             let after = cursor.offset()?.unwrap_or_default();
///             let page: Alerts = vendor.get("alerts").query("after", &after).send_json()?;
///             let acknowledged = ctx.push_events(page.items)?;
///             match page.next {
///                 Some(next) => cursor.advance(next, &acknowledged)?,
///                 None => {
///                     ctx.heartbeat();
///                     ctx.sleep(Duration::from_secs(60));
///                 }
///             }
///         }
///         Ok(())
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     Module::<()>::new().register("forward-alerts", Forwarder).run()
/// }
/// ```
///
/// Its `Debug` shows the connector, the intake URL, the data directory and
/// whether it runs: never the configuration nor the intake key.
///
/// # Thread safety
///
/// `Send + Sync`: a connector that fetches or pushes from several threads
/// ([`std::thread::scope`]) hands `&ctx` to its workers. Their pushes run
/// side by side, each with its own [`Acknowledgement`] or [`PushError`];
/// logs, the stop flag, heartbeats and metrics are shared. The `log`
/// crate's macros reach the platform only from the connector's own thread:
/// workers use [`log`](Self::log).
pub struct ConnectorContext<'a, C: Connector> {
    pub(crate) trigger: &'a TriggerContext<'a, crate::connector::item::ConnectorItem<C>>,
    pub(crate) state: &'a State<C>,
}

impl<C: Connector> std::fmt::Debug for ConnectorContext<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the configuration (secrets) nor the intake key.
        f.debug_struct("ConnectorContext")
            .field("connector", &C::NAME)
            .field("intake", &self.state.pusher)
            .field("data_directory", &self.data_directory().root())
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}

impl<'a, C: Connector> ConnectorContext<'a, C> {
    /// The connector's own configuration fields.
    pub fn configuration(&self) -> &C::Configuration {
        &self.state.configuration.own
    }

    /// The configuration as read, every field included.
    pub fn raw_configuration(&self) -> &serde_json::Value {
        &self.state.configuration.raw
    }

    /// The intake key of the configuration.
    pub fn intake_key(&self) -> &str {
        &self.state.configuration.intake.intake_key
    }

    /// The URL batches are posted to.
    pub fn batch_url(&self) -> &str {
        &self.state.batch_url
    }

    /// The configuration's `frequency` field in seconds, when it has one.
    pub fn configured_frequency(&self) -> Option<Duration> {
        crate::connector::configuration::frequency(&self.state.configuration.raw)
    }

    /// The module configuration (module secrets merged in).
    pub fn module_configuration(&self) -> &C::ModuleConfiguration {
        self.trigger.module_configuration()
    }

    /// Pushes events to the intake (the Python SDK's
    /// `push_events_to_intakes`, docs/protocol.md §5), and says what
    /// happened to each.
    ///
    /// The events are taken from the iterator as they are chunked: a push
    /// of a million events holds at most the 4 chunks in flight and the one
    /// being filled (10 MiB each at most). Each event becomes the string of
    /// [`IntakeEvent`]; one over 250,000 characters or 256,000 bytes is
    /// refused (not sent). Chunks are sent 4 at a time, retried on network
    /// errors, 408, 422, 429 and 5xx for up to an hour (every wait ended by
    /// a stop), refused at once on any other 4xx and on a redirect (3xx,
    /// never followed). A refused or given-up chunk is logged as an error,
    /// and a 2xx whose answer does not hold one id per event as a warning,
    /// whether or not the caller looks at the result.
    ///
    /// `Ok` only when the intake acknowledged every event: the
    /// [`Acknowledgement`] is what lets a checkpoint advance. Otherwise a
    /// [`PushError`] whose report says, per event, what happened.
    /// `/health` counts events when the intake acknowledged them.
    ///
    /// Blocks until every chunk is acknowledged, refused or given up (at
    /// most the retry deadline), or the connector stops (then at most the
    /// stop grace). Threads may push at once, each its own events: see
    /// [Thread safety](ConnectorContext#thread-safety).
    ///
    /// # Errors
    ///
    /// Some events are not on the intake: refused, rejected by the intake,
    /// given up after the retry deadline, or the connector is stopping.
    pub fn push_events<I>(&self, events: I) -> Result<Acknowledgement, PushError>
    where
        I: IntoIterator,
        I::Item: IntakeEvent,
    {
        self.push(events, true)
    }

    /// As [`push_events`](Self::push_events), without keeping the intake's
    /// ids (for very large pushes: nothing is held per delivered event).
    ///
    /// # Errors
    ///
    /// As [`push_events`](Self::push_events).
    pub fn push_events_without_ids<I>(&self, events: I) -> Result<Acknowledgement, PushError>
    where
        I: IntoIterator,
        I::Item: IntakeEvent,
    {
        self.push(events, false)
    }

    fn push<I>(&self, events: I, keep_ids: bool) -> Result<Acknowledgement, PushError>
    where
        I: IntoIterator,
        I::Item: IntakeEvent,
    {
        let result = self.state.pusher.push(events, keep_ids);
        let report = match &result {
            Ok(acknowledgement) => acknowledgement.report(),
            Err(error) => error.report(),
        };
        self.state.metrics.discarded(report.counts().refused);
        result
    }

    /// The `context.json` of the data directory, shared by every checkpoint
    /// of the process (for keys kept by hand).
    pub fn context_file(&self) -> Arc<ContextFile> {
        ContextFile::open(self.data_directory().root().join(CONTEXT_FILE))
    }

    /// A [`CheckpointDatetime`] in the data directory's `context.json`, on
    /// the runtime's clock.
    pub fn checkpoint_datetime(&self) -> CheckpointDatetime {
        CheckpointDatetime::new(self.data_directory().root())
            .clock(Arc::clone(&self.trigger.runtime().clock))
    }

    /// A [`CheckpointTimestamp`] in the data directory's `context.json`.
    pub fn checkpoint_timestamp(&self, unit: TimeUnit) -> CheckpointTimestamp {
        CheckpointTimestamp::new(self.data_directory().root(), unit)
            .clock(Arc::clone(&self.trigger.runtime().clock))
    }

    /// A [`CheckpointCursor`] in the data directory's `context.json`.
    pub fn checkpoint_cursor<V: Serialize + DeserializeOwned>(&self) -> CheckpointCursor<V> {
        CheckpointCursor::new(self.data_directory().root())
    }

    /// The process's metrics registry: metrics registered there are served
    /// with the connector's on `metrics_port`.
    pub fn metrics(&self) -> &'static MetricsRegistry {
        MetricsRegistry::global()
    }

    /// Sets `symphony_module_common_events_lags` to the seconds since `date`.
    pub fn set_lag(&self, date: Timestamp) {
        let now = self.now();
        let lag = (now.micros_since_epoch() - date.micros_since_epoch()) as f64 / 1e6;
        self.state.metrics.lag(lag);
    }

    /// Adds to `symphony_module_common_forwarded_events_total` (the default
    /// loop does it; a custom `run` may).
    pub fn count_forwarded(&self, events: u64) {
        self.state.metrics.forwarded(events);
    }

    /// Observes `symphony_module_common_forward_events_duration`.
    pub fn observe_duration(&self, elapsed: Duration) {
        self.state.metrics.duration(elapsed);
    }

    /// Sends a trigger event to `url_callback` (a playbook run), as
    /// triggers do.
    ///
    /// # Errors
    ///
    /// As [`TriggerContext::send_event`].
    pub fn send_event(&self, name: &str, event: &serde_json::Value) -> Result<(), SendEventError> {
        self.trigger.send_event(name, event)
    }

    /// Hands `records` to a playbook run: the Python SDK's
    /// `Connector.send_records(records, event_name, to_file,
    /// records_var_name)`, on the same wire.
    ///
    /// With [`RecordsOptions::to_file`] (the default), `records` are written
    /// as a JSON list of strings (the bytes `orjson.dumps` writes) to
    /// `<item_name>_events/<uuid4>/event.json` in the data directory, and
    /// the trigger event `{"<records_var_name>_path": "event.json"}` is sent
    /// with that directory attached, removed once the platform took the
    /// event ([`AttachedDirectory::Remove`](crate::trigger::AttachedDirectory::Remove)).
    /// Otherwise the event is `{"<records_var_name>": [...records]}`.
    ///
    /// Blocks as [`send_event`](Self::send_event) does.
    ///
    /// ```no_run
    /// # use sekoia_automation::{Connector, ConnectorContext, TriggerError};
    /// use sekoia_automation::connector::RecordsOptions;
    /// # struct Logs;
    /// # impl Connector for Logs {
    /// #     type ModuleConfiguration = ();
    /// #     type Configuration = serde_json::Value;
    /// #     type Event = String;
    /// #     const NAME: &'static str = "Logs";
    /// #     const DESCRIPTION: &'static str = "Logs";
    /// fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
    ///     let options = RecordsOptions::new("aws_s3_logs_trigger");
    ///     ctx.send_records(&["line one", "line two"], "aws_s3_logs_trigger_batch", &options)?;
    ///     Ok(())
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`RecordsError::Write`]: `event.json` could not be written (nothing
    /// sent); [`RecordsError::Send`]: the errors of
    /// [`send_event_with_directory`](TriggerContext::send_event_with_directory).
    pub fn send_records<S: AsRef<str>>(
        &self,
        records: &[S],
        event_name: &str,
        options: &RecordsOptions,
    ) -> Result<(), RecordsError> {
        let records: Vec<&str> = records.iter().map(AsRef::as_ref).collect();
        let name = options.records_var_name();
        if !options.to_file() {
            let event = serde_json::json!({ name: records });
            return Ok(self.trigger.send_event(event_name, &event)?);
        }
        let directory = format!(
            "{}/{}",
            options.events_directory(),
            uuid::Uuid::new_v4().hyphenated()
        );
        let file = format!("{directory}/event.json");
        // orjson.dumps of a list of strings: compact, UTF-8 as is, the
        // same escapes as serde_json's.
        let bytes = serde_json::to_vec(&records).map_err(|cause| RecordsError::Event {
            cause: crate::connector::EventError::new(cause),
        })?;
        let data = self.trigger.data_directory();
        data.write_file(&file, bytes)
            .map_err(|cause| RecordsError::Write {
                path: data.root().join(&file),
                cause,
            })?;
        let event = serde_json::json!({ format!("{name}_path"): "event.json" });
        self.trigger.send_event_with_directory(
            event_name,
            &event,
            &directory,
            crate::trigger::AttachedDirectory::Remove,
        )?;
        Ok(())
    }

    /// Hands events to playbook runs in chunks: the Python SDK's
    /// `Connector.forward_events(events)`. Each event becomes its string
    /// (as [`push_events`](Self::push_events) makes it: a string as it is,
    /// a value as compact JSON); one over [`MAX_EVENT_CHARS`](crate::connector::MAX_EVENT_CHARS)
    /// characters is discarded (counted in
    /// `symphony_module_common_discarded_events` and logged, `N too long
    /// events were discarded (length > 250kb)`); a chunk holds at most
    /// [`MAX_CHUNK_CHARS`](crate::connector::MAX_CHUNK_CHARS) characters.
    /// Each chunk is logged (`Forwarding N records`) and sent with
    /// [`send_records`](Self::send_records) under the event name
    /// `<item name, lower case, spaces as dashes>_00:00:00`: the Python SDK
    /// appends `str(datetime.time())` (midnight), and the name is kept.
    ///
    /// Unlike the Python SDK, which logs the exception and returns, an
    /// error ends the forwarding and is returned: the chunks before it were
    /// sent. The Python SDK always sends to a file under `records`; the
    /// `options` given here are used as they are.
    ///
    /// # Errors
    ///
    /// Those of [`send_records`](Self::send_records), and
    /// [`RecordsError::Event`] for an event that does not serialize.
    pub fn forward_events<I>(&self, events: I, options: &RecordsOptions) -> Result<(), RecordsError>
    where
        I: IntoIterator,
        I::Item: IntakeEvent,
    {
        let event_name = options.forward_event_name();
        let forward = |records: Vec<String>| {
            self.log(Level::Info, format!("Forwarding {} records", records.len()));
            self.send_records(&records, &event_name, options)
        };
        let mut chunker = Chunker::new();
        for event in events {
            if let Some(records) = chunker.add(&event)? {
                forward(records)?;
            }
        }
        if let Some(records) = chunker.finish() {
            forward(records)?;
        }
        if chunker.discarded > 0 {
            self.state.metrics.discarded(chunker.discarded);
            self.log(
                Level::Info,
                format!(
                    "{} too long events were discarded (length > 250kb)",
                    chunker.discarded
                ),
            );
        }
        Ok(())
    }

    /// The connector's stop signal, for what waits on the connector's
    /// behalf: a vendor client given it (as [`vendor`](Self::vendor) and
    /// [`vendor_client`](Self::vendor_client) are) wakes from its retry and
    /// rate-limit waits when the connector stops, and a worker thread's
    /// loop can check it or sleep on it.
    pub fn stop_signal(&self) -> Arc<StopSignal> {
        self.trigger.stop_signal()
    }

    /// The settings the module runs with (the retry backoff unit, the data
    /// directory...).
    pub fn settings(&self) -> &Settings {
        self.trigger.settings()
    }

    /// The vendor client of this process: built once from the module's
    /// settings, no base URL and no authentication of its own; every wait
    /// (retry, `Retry-After`, rate limit) ends when the connector stops, and
    /// the request then fails with
    /// [`VendorError::Interrupted`](crate::vendor::VendorError::Interrupted).
    /// A request blocks until the vendor answered, the retries ended or the
    /// connector stopped. See
    /// [`TriggerContext::vendor`](crate::TriggerContext::vendor).
    pub fn vendor(&self) -> &VendorClient {
        self.trigger.vendor()
    }

    /// The builder [`vendor`](Self::vendor) starts from, for a client of
    /// one's own (a base URL, authentication, rate limits) whose waits end
    /// when the connector stops. See
    /// [`TriggerContext::vendor_client`](crate::TriggerContext::vendor_client).
    pub fn vendor_client(&self) -> VendorClientBuilder {
        self.trigger.vendor_client()
    }

    /// Opens a JSON file of the data directory as a [`PersistentJson`]: a
    /// value that survives restarts, saved atomically (for the checkpoints
    /// shared in `context.json`, prefer
    /// [`checkpoint_cursor`](Self::checkpoint_cursor) and its siblings).
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
        self.trigger.persistent_json(relative)
    }

    /// Whether the connector should go on: false once stopped.
    pub fn running(&self) -> bool {
        self.trigger.running()
    }

    /// Stops the connector.
    pub fn stop(&self) {
        self.trigger.stop();
    }

    /// Sleeps `duration`, or less when stopped: `true` when it all passed.
    pub fn sleep(&self, duration: Duration) -> bool {
        self.trigger.sleep(duration)
    }

    /// Marks the connector as alive (`last_heartbeat_threshold`).
    pub fn heartbeat(&self) {
        self.trigger.heartbeat();
    }

    /// The current time, on the runtime's clock.
    pub fn now(&self) -> Timestamp {
        self.trigger.now()
    }

    /// Logs to the platform and stderr (secrets scrubbed).
    pub fn log(&self, level: Level, message: impl AsRef<str>) {
        self.trigger.log(level, message);
    }

    /// Logs a message to stderr only, never to the platform (the Python
    /// module's `structlog`/`loguru`/`logging` lines), scrubbed of secrets
    /// and rate-limited: [`TriggerContext::log_stderr`]. The `log` target
    /// `"stderr"` does the same: `log::info!(target: "stderr", "...")`.
    pub fn log_stderr(&self, level: Level, message: impl AsRef<str>) {
        self.trigger.log_stderr(level, message);
    }

    /// The uuid of this connector's configuration, as the platform gave it
    /// (the `connector_configuration_uuid` file or variable): the Python
    /// SDK's `self.module.connector_configuration_uuid`, used for index
    /// names or metric labels. `None` when the platform gave none (a local
    /// run).
    ///
    /// ```no_run
    /// # use sekoia_automation::{Connector, ConnectorContext, TriggerError};
    /// # struct Forwarder;
    /// # impl Connector for Forwarder {
    /// #     type ModuleConfiguration = ();
    /// #     type Configuration = serde_json::Value;
    /// #     type Event = String;
    /// #     const NAME: &'static str = "Forwarder";
    /// #     const DESCRIPTION: &'static str = "Forward";
    /// fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
    ///     let label = ctx.connector_configuration_uuid().unwrap_or("local");
    ///     ctx.push_events([format!("collected by {label}")])?;
    ///     Ok(())
    /// }
    /// # }
    /// ```
    pub fn connector_configuration_uuid(&self) -> Option<&'a str> {
        self.trigger.connector_configuration_uuid()
    }

    /// The uuid of the trigger configuration the platform gave (the
    /// `trigger_configuration_uuid` file or variable): the Python SDK's
    /// `self.module.trigger_configuration_uuid`. `None` when the platform
    /// gave none.
    pub fn trigger_configuration_uuid(&self) -> Option<&'a str> {
        self.trigger.trigger_configuration_uuid()
    }

    /// The data directory (`/symphony_data`, plus `sub_folder`).
    pub fn data_directory(&self) -> &DataDirectory {
        self.trigger.data_directory()
    }

    /// A path in the data directory, for files the connector keeps.
    pub fn data_path(&self, relative: impl AsRef<Path>) -> std::path::PathBuf {
        self.data_directory().root().join(relative)
    }
}
