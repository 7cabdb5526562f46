//! [`Trigger`]: a long-running item that watches something and sends events
//! that start playbook runs; [`TriggerError`]: why one run of it failed;
//! [`SendEventError`]: why an event was not sent (with [`HttpError`] and
//! [`HttpTransportError`], the platform's failures); [`TriggerOptions`]: the
//! runtime's per-trigger settings (liveness thresholds, clock, stop grace);
//! [`StopSignal`]: the stop flag a program can raise from another thread;
//! [`Clock`] and [`SystemClock`]: where the runtime reads the time.
//!
//! The runtime ([protocol §4](crate::protocol#4-triggers)) fetches the secrets, then calls
//! [`Trigger::run`] again whenever it returns or fails, until the trigger is
//! stopped (SIGTERM, SIGINT, or [`TriggerContext::stop`]).

pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod event_sender;
pub(crate) mod liveness;
pub(crate) mod log_shipper;
#[cfg(test)]
mod log_shipper_tests;
pub(crate) mod metrics;
pub(crate) mod restart_backoff;
pub(crate) mod runner;
pub(crate) mod stop_grace;
pub(crate) mod stop_signal;

pub use crate::wire::http::{HttpError, TransportError as HttpTransportError};
pub use clock::{Clock, SystemClock};
pub use context::{AttachedDirectory, TriggerContext};
pub use stop_signal::StopSignal;

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::source::ConfigurationError;
use crate::storage::data_directory::StorageError;

/// A trigger of a module.
///
/// `ModuleConfiguration` ties it to one module (it can only be registered on a
/// [`Module`](crate::Module) of that configuration type), `Configuration` is
/// the trigger's own configuration (`trigger_configuration`; [`Secret`](crate::Secret)
/// fields allowed) and `Event` the type of the events it sends: sending
/// anything else does not compile. Use [`serde_json::Value`] for untyped ones.
///
/// ```no_run
/// use sekoia_automation::{Level, Module, Trigger, TriggerContext, TriggerError};
/// use serde::{Deserialize, Serialize};
/// use std::time::Duration;
///
/// #[derive(Deserialize, schemars::JsonSchema)]
/// struct Configuration { frequency: u64 }
///
/// #[derive(Serialize, schemars::JsonSchema)]
/// struct Tick { count: u64 }
///
/// struct Ticker { count: u64 }
///
/// impl Trigger for Ticker {
///     type ModuleConfiguration = ();
///     type Configuration = Configuration;
///     type Event = Tick;
///     const NAME: &'static str = "Ticker";
///     const DESCRIPTION: &'static str = "Send a tick every `frequency` seconds";
///
///     fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
///         while ctx.running() {
///             self.count += 1;
///             ctx.send_event("tick", &Tick { count: self.count })?;
///             ctx.heartbeat();
///             ctx.sleep(Duration::from_secs(ctx.configuration().frequency));
///         }
///         ctx.log(Level::Info, "stopped");
///         Ok(())
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     Module::<()>::new().register("ticker", Ticker { count: 0 }).run()
/// }
/// ```
///
/// The item is `Send` and its configuration types `Send + Sync`: see
/// [`Module`'s thread safety](crate::Module#thread-safety).
pub trait Trigger: Send + 'static {
    /// The configuration of the module this trigger belongs to.
    type ModuleConfiguration: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The trigger's configuration (the `trigger_configuration` value).
    type Configuration: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The events it sends.
    type Event: Serialize + JsonSchema;
    /// The trigger's name, as shown in the playbook editor.
    const NAME: &'static str;
    /// What the trigger does.
    const DESCRIPTION: &'static str;
    /// What the platform knows the trigger by, when it already exists (a
    /// port of a Python module): its uuid, slug and manifest file name,
    /// kept by `generate-files`. Nothing stated (the default): those of
    /// the manifest file whose `docker_parameters` is the item's command,
    /// else derived from [`NAME`](Self::NAME). See [`Identity`](crate::config::Identity).
    const IDENTITY: crate::config::Identity = crate::config::Identity::new();

    /// Watches and sends events, usually in a loop on
    /// [`ctx.running()`](TriggerContext::running). Called again when it
    /// returns or fails, until the trigger is stopped. A panic is caught and
    /// counted as a failure.
    ///
    /// # Failures
    ///
    /// The Python SDK calls `run` again at once after it fails, so a `run`
    /// that fails early (a vendor answering 401 to a `?`, a refused event,
    /// a panic) hammers the vendor, the platform and the logs thousands of
    /// times a second. Here a failed run (an `Err` or a panic) is started
    /// again at once the first time, then after 1 s, 2 s, 4 s... up to 60 s
    /// while the failures go on; the waits start over once a run sends an
    /// event or lasts 60 s, and a stop ends a wait at once. A run that
    /// returns `Ok(())` is started again at once, as in the Python SDK.
    ///
    /// # Stopping
    ///
    /// Once a stop is requested (SIGTERM, SIGINT,
    /// [`ctx.stop()`](TriggerContext::stop)), the process ends within the
    /// [stop grace](TriggerOptions::stop_grace) (2 s by default) whatever
    /// `run` does. [`send_event`](TriggerContext::send_event) then refuses at
    /// once with [`SendEventError::Stopped`], so a loop that never looks at
    /// `ctx.running()` ends at its next `?`; the logs queued are shipped
    /// until shortly before the end of the grace, and what the platform did
    /// not take by then is written to stderr; a `run` still busy at the end
    /// of the grace (it ignores the stop, or is blocked in its own I/O) is
    /// cut short: the process exits with code 0, as a stopped trigger does,
    /// saying why on stderr. The Python SDK only sets a flag: a loop that
    /// never looks at it runs on until the platform kills the process.
    ///
    /// # Errors
    ///
    /// Why this run failed: the runtime logs it and starts `run` again
    /// after the backoff above; a [configuration
    /// error](TriggerError::configuration) is logged as `critical` and not
    /// counted toward the critical rule (protocol §4).
    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError>;

    /// The runtime's settings for this trigger; the defaults suit most.
    fn options(&self) -> TriggerOptions {
        TriggerOptions::default()
    }
}

/// The runtime's settings for one trigger. Each has a getter named after it
/// and a `with_` setter.
///
/// ```
/// use sekoia_automation::testing::ManualClock;
/// use sekoia_automation::trigger::TriggerOptions;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let options = TriggerOptions::default()
///     .with_seconds_without_events(Duration::from_secs(3600))
///     .with_last_heartbeat_threshold(Duration::from_secs(300))
///     .with_clock(Arc::new(ManualClock::starting_now()));
/// assert_eq!(options.last_heartbeat_threshold(), Some(Duration::from_secs(300)));
/// assert_eq!(TriggerOptions::default().seconds_without_events(), None);
/// ```
#[derive(Debug, Clone)]
pub struct TriggerOptions {
    pub(crate) seconds_without_events: Option<Duration>,
    pub(crate) last_heartbeat_threshold: Option<Duration>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) stop: Option<Arc<StopSignal>>,
    pub(crate) stop_grace: Duration,
}

impl Default for TriggerOptions {
    fn default() -> Self {
        TriggerOptions {
            seconds_without_events: None,
            last_heartbeat_threshold: None,
            clock: Arc::new(SystemClock),
            stop: None,
            stop_grace: crate::trigger::stop_grace::DEFAULT_STOP_GRACE,
        }
    }
}

impl TriggerOptions {
    /// How long without a sent event before `/health` answers 500 (the
    /// Python SDK's `seconds_without_events`); `None` (the default): never.
    pub fn seconds_without_events(&self) -> Option<Duration> {
        self.seconds_without_events
    }

    /// How long without a [`heartbeat`](TriggerContext::heartbeat) before
    /// `/health` answers 500 (the Python SDK's `last_heartbeat_threshold`);
    /// `None` (the default): never.
    pub fn last_heartbeat_threshold(&self) -> Option<Duration> {
        self.last_heartbeat_threshold
    }

    /// Where the runtime reads the time (the system clock by default).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The trigger's stop flag, when the program wants to stop the trigger
    /// from another thread (SIGTERM and SIGINT raise it too); `None` (the
    /// default): a fresh one.
    pub fn stop_signal(&self) -> Option<&Arc<StopSignal>> {
        self.stop.as_ref()
    }

    /// From a stop request to the end of the process, at most (2 s by
    /// default): see [Stopping](Trigger#stopping). The process is only cut
    /// short when the module owns it ([`Module::run`](crate::Module::run));
    /// a trigger run in-process by `run_command` (tests) is reported on
    /// stderr instead.
    pub fn stop_grace(&self) -> Duration {
        self.stop_grace
    }

    /// Sets [`seconds_without_events`](Self::seconds_without_events): a
    /// `Duration`, or `None` for never.
    pub fn with_seconds_without_events(mut self, threshold: impl Into<Option<Duration>>) -> Self {
        self.seconds_without_events = threshold.into();
        self
    }

    /// Sets [`last_heartbeat_threshold`](Self::last_heartbeat_threshold): a
    /// `Duration`, or `None` for never.
    pub fn with_last_heartbeat_threshold(mut self, threshold: impl Into<Option<Duration>>) -> Self {
        self.last_heartbeat_threshold = threshold.into();
        self
    }

    /// Sets the [clock](Self::clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the stop flag: raising it stops the trigger as SIGTERM does.
    ///
    /// ```
    /// use sekoia_automation::trigger::StopSignal;
    /// use sekoia_automation::trigger::TriggerOptions;
    /// use std::sync::Arc;
    ///
    /// let stop = Arc::new(StopSignal::new());
    /// let options = TriggerOptions::default().with_stop_signal(Arc::clone(&stop));
    /// // From another thread: stop.stop();
    /// assert!(options.stop_signal().is_some());
    /// ```
    pub fn with_stop_signal(mut self, stop: Arc<StopSignal>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Sets the [stop grace](Self::stop_grace): the process ends at most
    /// this long after a stop request, whatever the trigger's code does.
    ///
    /// ```
    /// use sekoia_automation::trigger::TriggerOptions;
    /// use std::time::Duration;
    ///
    /// let options = TriggerOptions::default().with_stop_grace(Duration::from_secs(10));
    /// assert_eq!(options.stop_grace(), Duration::from_secs(10));
    /// ```
    pub fn with_stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }
}

/// How the runtime treats a failed run ([protocol §4](crate::protocol#4-triggers)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The configuration is wrong: logged as `critical`, not counted.
    Configuration,
    /// Any other failure: logged and counted toward the critical rule,
    /// except failed event sends with a status of 500 or more and S3 file
    /// backend failures with a 5xx or no answer (the platform's trouble,
    /// not the trigger's).
    Failure,
}

/// Why one run of a trigger failed: any error (`?` converts it), marked as a
/// configuration error or not.
///
/// A [`ConfigurationError`] converts to a configuration error, everything
/// else to a failure; [`TriggerError::configuration`] marks one explicitly.
///
/// ```
/// use sekoia_automation::TriggerError;
/// use sekoia_automation::trigger::FailureKind;
///
/// fn parse(text: &str) -> Result<u32, TriggerError> {
///     Ok(text.parse::<u32>()?)
/// }
/// let error = parse("x").unwrap_err();
/// assert_eq!(error.kind(), FailureKind::Failure);
/// assert!(error.to_string().contains("invalid digit"));
///
/// let error = TriggerError::configuration("`frequency` must be positive: set it in the trigger configuration");
/// assert_eq!(error.kind(), FailureKind::Configuration);
/// ```
pub struct TriggerError {
    kind: FailureKind,
    error: Box<dyn StdError + Send + Sync + 'static>,
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

impl TriggerError {
    /// A configuration error: the runtime logs it as `critical`.
    pub fn configuration(message: impl Into<String>) -> Self {
        TriggerError {
            kind: FailureKind::Configuration,
            error: Box::new(Message(message.into())),
        }
    }

    /// A failure described by a message.
    pub fn msg(message: impl Into<String>) -> Self {
        TriggerError {
            kind: FailureKind::Failure,
            error: Box::new(Message(message.into())),
        }
    }

    /// How the runtime treats it.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The HTTP status of a failed event send, `500` when the platform could
    /// not be reached; `None` for other errors.
    ///
    /// ```
    /// use sekoia_automation::TriggerError;
    /// assert_eq!(TriggerError::msg("boom").status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.error
            .downcast_ref::<SendEventError>()
            .and_then(SendEventError::status)
    }

    /// Whether it counts toward the consecutive errors of the critical rule:
    /// not a configuration error, not a failed send with a status ≥ 500, not
    /// an S3 file backend failure that is the store's (5xx such as
    /// `SlowDown`, no answer: [`S3Error::is_internal`](crate::unversioned::s3::S3Error::is_internal),
    /// as the Python SDK's `_handle_s3_exception`).
    ///
    /// ```
    /// use sekoia_automation::TriggerError;
    /// assert!(TriggerError::msg("boom").counts());
    /// assert!(!TriggerError::configuration("bad").counts());
    /// ```
    pub fn counts(&self) -> bool {
        self.kind == FailureKind::Failure
            && self.status().is_none_or(|status| status < 500)
            && !crate::storage::s3::error::s3_cause(&*self.error).is_some_and(|s3| s3.is_internal())
    }

    /// The underlying error.
    pub fn error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.error
    }

    /// The underlying error, if it is an `E`.
    ///
    /// ```
    /// use sekoia_automation::TriggerError;
    /// use sekoia_automation::trigger::SendEventError;
    /// let error = TriggerError::from(std::io::Error::other("disk full"));
    /// assert!(error.downcast_ref::<std::io::Error>().is_some());
    /// assert!(error.downcast_ref::<SendEventError>().is_none());
    /// ```
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.error.downcast_ref::<E>()
    }

    /// The system's error behind it, if there is one, so that its
    /// [`kind`](std::io::Error::kind) is read without parsing the message:
    /// an [`io::Error`](std::io::Error) itself, the cause of one of the
    /// crate's errors ([`StorageError::Io`], [`SendEventError::io_error`],
    /// [`HttpError::io_error`], [`VendorError::io_error`](crate::vendor::VendorError::io_error)),
    /// else the first `io::Error` in the underlying error's
    /// [`source`](StdError::source) chain.
    ///
    /// ```
    /// use sekoia_automation::TriggerError;
    /// use std::io::ErrorKind;
    ///
    /// let error = TriggerError::from(std::fs::read("/nonexistent/state.json").unwrap_err());
    /// assert_eq!(error.io_error().map(|e| e.kind()), Some(ErrorKind::NotFound));
    /// assert!(TriggerError::msg("boom").io_error().is_none());
    /// ```
    pub fn io_error(&self) -> Option<&std::io::Error> {
        let error: &(dyn StdError + 'static) = &*self.error;
        if let Some(StorageError::Io { cause, .. }) = error.downcast_ref::<StorageError>() {
            return Some(cause);
        }
        let known = error
            .downcast_ref::<SendEventError>()
            .and_then(SendEventError::io_error)
            .or_else(|| {
                error
                    .downcast_ref::<HttpError>()
                    .and_then(HttpError::io_error)
            })
            .or_else(|| {
                error
                    .downcast_ref::<crate::vendor::VendorError>()
                    .and_then(crate::vendor::VendorError::io_error)
            });
        if known.is_some() {
            return known;
        }
        let mut next = Some(error);
        while let Some(current) = next {
            if let Some(io) = current.downcast_ref::<std::io::Error>() {
                return Some(io);
            }
            next = current.source();
        }
        None
    }
}

/// A `TriggerError` in the ecosystem's error box (`?` in a function
/// returning `Result<_, Box<dyn Error + Send + Sync>>`): the underlying
/// error itself, so that `downcast_ref` finds its type. Its
/// [`FailureKind`] is a runtime matter and is not kept.
///
/// ```
/// use sekoia_automation::TriggerError;
/// use std::error::Error;
///
/// fn fetch() -> Result<(), TriggerError> {
///     Err(std::io::Error::other("disk full").into())
/// }
/// fn caller() -> Result<(), Box<dyn Error + Send + Sync>> {
///     fetch()?;
///     Ok(())
/// }
/// let error = caller().unwrap_err();
/// assert!(error.downcast_ref::<std::io::Error>().is_some());
/// ```
impl From<TriggerError> for Box<dyn StdError + Send + Sync + 'static> {
    fn from(error: TriggerError) -> Self {
        error.error
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for TriggerError {
    fn from(error: E) -> Self {
        let error: Box<dyn StdError + Send + Sync + 'static> = Box::new(error);
        let kind = if error.is::<ConfigurationError>() {
            FailureKind::Configuration
        } else {
            FailureKind::Failure
        };
        TriggerError { kind, error }
    }
}

impl fmt::Display for TriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)?;
        let mut source = self.error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // thiserror messages often embed their source already.
            if !self.error.to_string().contains(&text) {
                write!(f, ": {text}")?;
            }
            source = cause.source();
        }
        Ok(())
    }
}

impl fmt::Debug for TriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TriggerError")
            .field("kind", &self.kind)
            .field("error", &self.error)
            .finish()
    }
}

/// Why an event was not sent (or its directory not removed).
///
/// ```
/// use sekoia_automation::trigger::SendEventError;
///
/// fn report(error: &SendEventError) {
///     match error {
///         SendEventError::Stopped { .. } => {} // `?` ends `run`, as the stop asks
///         SendEventError::Http { cause, .. } => eprintln!("the platform: {cause}"),
///         // Non-exhaustive: a new variant is not a breaking change.
///         other => eprintln!("{other}"),
///     }
///     if let Some(io) = error.io_error() {
///         eprintln!("system error: {:?}", io.kind());
///     }
/// }
/// # let _ = report;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendEventError {
    /// The event does not serialize to JSON.
    #[error("the event `{name}` cannot be serialized to JSON: {cause}")]
    #[non_exhaustive]
    Serialize {
        /// The event name.
        name: String,
        /// Serde's error.
        cause: serde_json::Error,
    },
    /// The directory to attach is not a directory of the data directory.
    #[error(
        "cannot attach `{}` to the event `{name}`: it is not a directory under the data directory `{}`; create it there first (e.g. with `ctx.write`)",
        directory.display(),
        data_directory.display()
    )]
    #[non_exhaustive]
    InvalidDirectory {
        /// The event name.
        name: String,
        /// The directory as given.
        directory: PathBuf,
        /// The data directory.
        data_directory: PathBuf,
    },
    /// The directory to attach leaves the data directory (absolute, `..`,
    /// symlink): refused, nothing sent.
    #[error("cannot attach a directory to the event `{name}`: {cause}")]
    #[non_exhaustive]
    Refused {
        /// The event name.
        name: String,
        /// Why the path was refused.
        cause: StorageError,
    },
    /// The platform refused the event (4xx), or could not be reached or kept
    /// failing (network errors, 5xx) through every attempt.
    #[error("the event `{name}` was not sent: {cause}")]
    #[non_exhaustive]
    Http {
        /// The event name.
        name: String,
        /// The last failure.
        cause: HttpError,
    },
    /// The trigger is stopping (SIGTERM, SIGINT, `ctx.stop()`): the event
    /// was not sent. `?` ends `run`, as the stop asks.
    #[error(
        "the event `{name}` was not sent: the trigger is stopping (return from `run`; the runtime ends the process within the stop grace)"
    )]
    #[non_exhaustive]
    Stopped {
        /// The event name.
        name: String,
    },
    /// The directory to remove after the send is the data directory itself.
    #[error(
        "the event `{name}` would remove the whole data directory once sent: attach a sub-directory (e.g. the parent of a file written with `ctx.write`), or do not ask for its removal"
    )]
    #[non_exhaustive]
    RemoveDataDirectory {
        /// The event name.
        name: String,
    },
    /// The event was sent but its directory could not be removed.
    #[error(
        "the event `{name}` was sent but its directory `{}` could not be removed: {cause}",
        directory.display()
    )]
    #[non_exhaustive]
    RemoveDirectory {
        /// The event name.
        name: String,
        /// The directory.
        directory: PathBuf,
        /// What the system said.
        cause: std::io::Error,
    },
}

impl SendEventError {
    /// The system's error behind it, if there is one: the directory's
    /// removal, the refused path's file system check, or the platform's
    /// connection.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            SendEventError::RemoveDirectory { cause, .. } => Some(cause),
            SendEventError::Refused {
                cause: StorageError::Io { cause, .. },
                ..
            } => Some(cause),
            SendEventError::Http { cause, .. } => cause.io_error(),
            _ => None,
        }
    }

    /// The platform's status for a failed send: the answered status, or 500
    /// when it could not be reached (as the Python SDK counts it); `None`
    /// when the event never left.
    ///
    /// ```
    /// use sekoia_automation::trigger::SendEventError;
    ///
    /// /// The platform's trouble, not the trigger's: not counted.
    /// fn platform_trouble(error: &SendEventError) -> bool {
    ///     error.status().is_some_and(|status| status >= 500)
    /// }
    /// # let _ = platform_trouble;
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            SendEventError::Http { cause, .. } => Some(cause.status().unwrap_or(500)),
            _ => None,
        }
    }
}

/// How long the run loop waits for a stop after a critical log before it
/// runs the trigger again ([protocol §4](crate::protocol#4-triggers)).
pub(crate) const CRITICAL_WAIT: Duration = Duration::from_secs(120);
