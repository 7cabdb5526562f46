//! Log records for the platform, and the bridge from the `log` crate.
//!
//! A module logs in two ways, both collected into the finished PATCH of an
//! action: [`ActionContext::log`](crate::ActionContext::log) (with optional
//! context fields) and the `log` crate's macros (`log::info!`...) called on the
//! thread running the item, at level `info` and above, except the HTTP
//! client's own internals. Everything also goes to stderr through
//! `env_logger` (filter with `RUST_LOG`, default `info`). Secret values are
//! scrubbed from both.
//!
//! Records of the target `"stderr"` (`log::info!(target: "stderr",
//! ...)`) go to stderr only, never to the platform: what a Python module
//! wrote with `structlog`, `loguru` or `logging` outside the SDK's
//! `self.log`. They are scrubbed and rate-limited as every stderr line is.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use log::Log as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::wire::redact;
use crate::wire::timestamp::Timestamp;

/// The levels the platform knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `debug`.
    Debug,
    /// `info`.
    Info,
    /// `warning`.
    Warning,
    /// `error`.
    Error,
    /// `critical`: the item cannot work (bad configuration...).
    Critical,
}

impl Level {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    fn to_log_level(self) -> log::Level {
        match self {
            Level::Debug => log::Level::Debug,
            Level::Info => log::Level::Info,
            Level::Warning => log::Level::Warn,
            Level::Error | Level::Critical => log::Level::Error,
        }
    }
}

impl From<log::Level> for Level {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warning,
            log::Level::Info => Level::Info,
            log::Level::Debug | log::Level::Trace => Level::Debug,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One log record for the platform.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LogRecord {
    /// When it was logged.
    pub timestamp: Timestamp,
    /// Its level.
    pub level: Level,
    /// The message, already scrubbed of secrets.
    pub message: String,
    /// Extra fields, shown after ` - Context: ` in action logs.
    pub context: Map<String, Value>,
}

impl LogRecord {
    /// A record stamped now, its message scrubbed of secrets.
    pub fn new(level: Level, message: &str) -> Self {
        LogRecord {
            timestamp: Timestamp::now(),
            level,
            message: redact::scrub(message).into_owned(),
            context: Map::new(),
        }
    }

    /// The line of an action's `logs` string (without the newline):
    /// `<date>: <level>: <message>[ - Context: <json>]`.
    ///
    /// ```
    /// use sekoia_automation::action::LogRecord;
    /// use sekoia_automation::Level;
    /// let mut record = LogRecord::new(Level::Info, "looked up");
    /// record.context.insert("ip".into(), "1.2.3.4".into());
    /// assert!(record.action_line().ends_with(": info: looked up - Context: {\"ip\": \"1.2.3.4\"}"));
    /// ```
    pub fn action_line(&self) -> String {
        let mut line = format!(
            "{}: {}: {}",
            self.timestamp.to_python_string(),
            self.level,
            self.message
        );
        if !self.context.is_empty() {
            let context =
                crate::wire::python_json::to_string(&self.context).unwrap_or_else(|_| "{}".into());
            line.push_str(" - Context: ");
            line.push_str(&redact::scrub(&context));
        }
        line
    }
}

/// The `logs` field of an action's finished PATCH: one line per record, each
/// ending with a newline; `None` when there is no record.
pub fn format_action_logs(records: &[LogRecord]) -> Option<String> {
    if records.is_empty() {
        return None;
    }
    let mut logs = String::new();
    for record in records {
        logs.push_str(&record.action_line());
        logs.push('\n');
    }
    Some(logs)
}

/// Records being collected for one action: from its thread's `log` crate
/// records ([`Capture`]) and from its context, on any thread.
pub(crate) type Sink = Arc<Mutex<Vec<LogRecord>>>;

/// Adds `record` to `sink` (a panic elsewhere while holding the lock leaves
/// a list that is still whole: keep using it).
pub(crate) fn push_to(sink: &Sink, record: LogRecord) {
    sink.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(record);
}

/// The records of `sink` so far.
pub(crate) fn records_of(sink: &Sink) -> Vec<LogRecord> {
    sink.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

thread_local! {
    static CAPTURE: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

/// Collects the `log` crate records emitted on this thread while it lives.
pub(crate) struct Capture {
    sink: Sink,
    previous: Option<Sink>,
}

impl Capture {
    pub(crate) fn start() -> Capture {
        install();
        let sink: Sink = Arc::default();
        let previous = CAPTURE.with(|capture| capture.replace(Some(sink.clone())));
        Capture { sink, previous }
    }

    pub(crate) fn sink(&self) -> &Sink {
        &self.sink
    }

    pub(crate) fn records(&self) -> Vec<LogRecord> {
        records_of(&self.sink)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CAPTURE.with(|capture| *capture.borrow_mut() = previous);
    }
}

/// Where a trigger's thread sends its `log` crate records: the trigger's log
/// shipper, which is `Send` (its flusher thread ships them on time even while
/// the trigger is blocked).
pub(crate) type Forwarder = Arc<dyn Fn(Level, &str) + Send + Sync>;

thread_local! {
    static FORWARD: RefCell<Option<Forwarder>> = const { RefCell::new(None) };
}

/// Forwards the `log` crate records emitted on this thread while it lives.
pub(crate) struct Forward {
    previous: Option<Forwarder>,
}

impl Forward {
    pub(crate) fn start(forwarder: Forwarder) -> Forward {
        install();
        let previous = FORWARD.with(|forward| forward.replace(Some(forwarder)));
        Forward { previous }
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        let previous = self.previous.take();
        FORWARD.with(|forward| *forward.borrow_mut() = previous);
    }
}

/// The `log` target whose records go to stderr only, never to the
/// platform (scrubbed of secrets and rate-limited like every stderr line):
/// what a Python module logged with `structlog`, `loguru` or `logging`
/// rather than the SDK's `self.log`. Also reached with
/// [`TriggerContext::log_stderr`](crate::TriggerContext::log_stderr).
pub(crate) const STDERR_ONLY: &str = "stderr";

/// Whether a record of `target` stays off the platform: [`STDERR_ONLY`]
/// and its sub-targets (`stderr::...`).
fn is_stderr_only(target: &str) -> bool {
    target == STDERR_ONLY || target.starts_with("stderr::")
}

/// Targets whose records never go to the platform: dependencies' internals.
fn is_internal(target: &str) -> bool {
    ["ureq", "rustls", "ureq_proto", "env_logger"]
        .iter()
        .any(|prefix| target == *prefix || target.starts_with(&format!("{prefix}::")))
}

/// Whether stderr may show the record. Dependencies' trace records are
/// never shown: ureq's are hex dumps of the bytes it sends, which split an
/// `Authorization` header across lines where no scrubbing can find it.
fn shown_on_stderr(stderr: &env_logger::Logger, metadata: &log::Metadata<'_>) -> bool {
    stderr.enabled(metadata)
        && !(metadata.level() == log::Level::Trace && is_internal(metadata.target()))
}

struct Bridge {
    stderr: env_logger::Logger,
}

static BRIDGE: OnceLock<Bridge> = OnceLock::new();

/// Installs the bridge as the `log` crate's logger, once per process. When the
/// program already installed another logger, that one stays and only
/// [`ActionContext::log`](crate::ActionContext::log) reaches the platform.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let bridge = BRIDGE.get_or_init(|| Bridge {
            stderr: env_logger::Builder::from_env(
                env_logger::Env::default().default_filter_or("info"),
            )
            // Debug builds (tests, `cargo run`) write through `eprint!`:
            // the same bytes on stderr, captured by the test harness when a
            // module's tests run it in-process (a green run stays quiet).
            // Release builds (what the platform runs) write straight to
            // stderr: `eprint!` would panic on a broken stderr.
            .is_test(cfg!(debug_assertions))
            .format(|out, record| {
                use std::io::Write as _;
                writeln!(
                    out,
                    "[{}Z {} {}] {}",
                    Timestamp::now().to_iso8601(),
                    record.level(),
                    record.target(),
                    record.args()
                )
            })
            .build(),
        });
        if log::set_logger(bridge).is_ok() {
            log::set_max_level(bridge.stderr.filter().max(log::LevelFilter::Info));
        }
    });
}

/// Writes a record to stderr (when `RUST_LOG` lets it through) without
/// collecting it, scrubbed of secrets.
pub(crate) fn echo_to_stderr(level: Level, message: &str) {
    let message = redact::scrub(message);
    if let Some(bridge) = BRIDGE.get() {
        let level = level.to_log_level();
        let metadata = log::Metadata::builder()
            .level(level)
            .target("module")
            .build();
        if bridge.stderr.enabled(&metadata)
            && let Some(suppressed) =
                crate::wire::stderr_limit::admit(&format!("{level} {message}"))
        {
            let message = crate::wire::stderr_limit::with_count(message.into_owned(), suppressed);
            bridge.stderr.log(
                &log::Record::builder()
                    .metadata(metadata)
                    .args(format_args!("{message}"))
                    .build(),
            );
        }
    }
}

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info || shown_on_stderr(&self.stderr, metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        let to_stderr = shown_on_stderr(&self.stderr, record.metadata());
        let forwarder = FORWARD.with(|forward| forward.borrow().clone());
        let to_platform = record.level() <= log::Level::Info
            && !is_internal(record.target())
            && !is_stderr_only(record.target())
            && (forwarder.is_some() || CAPTURE.with(|capture| capture.borrow().is_some()));
        if !to_stderr && !to_platform {
            return;
        }
        let message = record.args().to_string();
        let message = redact::scrub(&message);
        let admitted = if to_stderr {
            crate::wire::stderr_limit::admit(&format!(
                "{} {} {message}",
                record.level(),
                record.target()
            ))
        } else {
            None
        };
        if let Some(suppressed) = admitted {
            let message = crate::wire::stderr_limit::with_count(message.to_string(), suppressed);
            self.stderr.log(
                &log::Record::builder()
                    .metadata(record.metadata().clone())
                    .args(format_args!("{message}"))
                    .module_path(record.module_path())
                    .file(record.file())
                    .line(record.line())
                    .build(),
            );
        }
        if let Some(forwarder) = forwarder.filter(|_| to_platform) {
            forwarder(record.level().into(), &message);
        }
        if to_platform {
            let entry = LogRecord {
                timestamp: Timestamp::now(),
                level: record.level().into(),
                message: message.into_owned(),
                context: Map::new(),
            };
            CAPTURE.with(|capture| {
                if let Some(sink) = capture.borrow().as_ref() {
                    // An action's record (a trigger's is reported by its
                    // log shipper, once the rate limit admitted it).
                    crate::runtime::sentry::capture_log(entry.level, &entry.message);
                    push_to(sink, entry);
                }
            });
        }
    }

    fn flush(&self) {
        self.stderr.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_trace_dumps_never_reach_stderr_even_when_asked_for() {
        let everything = env_logger::Builder::new().parse_filters("trace").build();
        let shown = |target: &str, level| {
            let metadata = log::Metadata::builder().target(target).level(level).build();
            shown_on_stderr(&everything, &metadata)
        };
        assert!(!shown(
            "ureq::unversioned::transport::tcp",
            log::Level::Trace
        ));
        assert!(!shown("ureq_proto::client", log::Level::Trace));
        assert!(!shown("rustls::client", log::Level::Trace));
        assert!(shown("ureq::pool", log::Level::Debug));
        assert!(shown("my_module", log::Level::Trace));
        assert!(shown("sekoia_automation::wire", log::Level::Trace));
    }
}
