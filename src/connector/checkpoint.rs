//! Checkpoints: where a connector is in its source, kept in `context.json`
//! (docs/protocol.md §5, *Checkpoints*), advanced only past events the intake
//! acknowledged.
//!
//! | type | file shape (top level, or under its subkey) | position |
//! | --- | --- | --- |
//! | [`CheckpointDatetime`] | `{"most_recent_date_seen": "<ISO 8601>"}` | a [`Timestamp`] |
//! | [`CheckpointTimestamp`] | the same ISO string | an integer: seconds, milliseconds or nanoseconds since the epoch |
//! | [`CheckpointCursor`] | `{"cursor": <any JSON>}` | any serde value |
//!
//! Files written by the Python SDK's checkpoints, and by modules that kept
//! `most_recent_date_seen` by hand, read as they are; what is written is
//! what the Python SDK writes (`2026-11-28T04:37:29.565514+00:00`), so a
//! module moved from Python keeps its position.
//!
//! # Advancing needs the acknowledgement
//!
//! `advance` takes the [`Acknowledgement`] that
//! [`push_events`](crate::ConnectorContext::push_events) returns when the
//! intake has every event, so a checkpoint cannot move past events that
//! were lost (the Python SDK's flaw F1) without saying so:
//!
//! ```compile_fail
//! # use sekoia_automation::*;
//! # fn poll(ctx: &ConnectorContext<'_, impl Connector>, checkpoint: &mut CheckpointCursor<String>, events: Vec<String>) {
//! let pushed = ctx.push_events(events); // a Result: not looked at
//! checkpoint.advance("next-page".to_string(), &pushed); // does not compile
//! # }
//! ```
//!
//! The explicit way out is [`advance_unacknowledged`](CheckpointCursor::advance_unacknowledged).

use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::connector::acknowledgement::Acknowledgement;
use crate::connector::context_file::{CONTEXT_FILE, ContextFile};
use crate::connector::iso8601::{self, Nanos};
use crate::storage::data_directory::StorageError;
use crate::trigger::clock::{Clock, SystemClock};
use crate::wire::timestamp::Timestamp;

/// The key of datetime and timestamp checkpoints.
pub const DATE_KEY: &str = "most_recent_date_seen";
/// The key of cursor checkpoints.
pub const CURSOR_KEY: &str = "cursor";

/// Proof that events were acknowledged by the intake: an
/// [`Acknowledgement`]. Sealed.
#[diagnostic::on_unimplemented(
    message = "a checkpoint advances only past events the intake acknowledged, and `{Self}` is not an acknowledgement",
    label = "expected the `Acknowledgement` that `push_events` returns",
    note = "take it out of the push's result first: `let acknowledged = ctx.push_events(events)?;` then `checkpoint.advance(position, &acknowledged)`",
    note = "to move the checkpoint without an acknowledgement (events lost stay lost), call `advance_unacknowledged(position)`"
)]
pub trait Acknowledges: sealed::Sealed {
    /// Number of acknowledged events.
    fn acknowledged(&self) -> u64;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Acknowledgement {}
}

impl Acknowledges for Acknowledgement {
    fn acknowledged(&self) -> u64 {
        self.covered()
    }
}

/// Why a checkpoint could not be read or saved.
///
/// ```
/// use sekoia_automation::connector::CheckpointError;
///
/// fn explain(error: &CheckpointError) -> String {
///     match error {
///         CheckpointError::Invalid { key, path, .. } => format!("repair `{key}` in {}", path.display()),
///         other => other.to_string(),
///     }
/// }
/// # let _ = explain;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The context file cannot be read or written.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The stored value is not what the checkpoint keeps.
    #[error(
        "the checkpoint `{key}` in `{}` holds {value}, which is not {expected}: repair the file, or remove the key to start again from the default position",
        path.display()
    )]
    #[non_exhaustive]
    Invalid {
        /// The context file.
        path: std::path::PathBuf,
        /// The key (with its subkey: `tenant1.most_recent_date_seen`).
        key: String,
        /// The stored value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// Where a checkpoint's value sits in the file.
#[derive(Debug, Clone)]
struct Slot {
    file: Arc<ContextFile>,
    subkey: Option<String>,
    key: &'static str,
}

impl Slot {
    fn new(directory: &Path, key: &'static str) -> Self {
        Slot {
            file: ContextFile::open(directory.join(CONTEXT_FILE)),
            subkey: None,
            key,
        }
    }

    fn name(&self) -> String {
        match &self.subkey {
            Some(subkey) => format!("{subkey}.{}", self.key),
            None => self.key.to_string(),
        }
    }

    fn read(&self) -> Result<Option<Value>, CheckpointError> {
        let mut map = self.file.read()?;
        let map = match &self.subkey {
            Some(subkey) => match map.remove(subkey) {
                None => return Ok(None),
                Some(Value::Object(inner)) => inner,
                Some(other) => return Err(self.not_an_object(subkey, &other)),
            },
            None => map,
        };
        Ok(map.get(self.key).filter(|value| !value.is_null()).cloned())
    }

    fn write(&self, value: Value) -> Result<(), CheckpointError> {
        self.write_if(|_| Some(value)).map(|_| ())
    }

    /// Under the file's lock: reads the stored value, and writes what
    /// `decide` returns for it (nothing for `None`); whether it wrote. A
    /// subkey that holds something else than an object is an error, and
    /// nothing is written.
    fn write_if(
        &self,
        decide: impl FnOnce(Option<&Value>) -> Option<Value>,
    ) -> Result<bool, CheckpointError> {
        self.file.update(|map| {
            let stored = match &self.subkey {
                Some(subkey) => match map.get(subkey) {
                    None => None,
                    Some(Value::Object(inner)) => inner.get(self.key),
                    Some(other) => return Err(self.not_an_object(subkey, other)),
                },
                None => map.get(self.key),
            };
            let Some(value) = decide(stored.filter(|value| !value.is_null())) else {
                return Ok(false);
            };
            let target = match &self.subkey {
                Some(subkey) => match map
                    .entry(subkey.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    Value::Object(inner) => inner,
                    _ => unreachable!("checked to be an object, or inserted as one"),
                },
                None => map,
            };
            target.insert(self.key.to_string(), value);
            Ok(true)
        })?
    }

    /// The error for a subkey that holds `value`, not an object.
    fn not_an_object(&self, subkey: &str, value: &Value) -> CheckpointError {
        CheckpointError::Invalid {
            path: self.file.path().to_owned(),
            key: subkey.to_string(),
            value: value.to_string(),
            expected: "a JSON object (the subkey holds the checkpoint's keys)",
        }
    }

    fn invalid(&self, value: &Value, expected: &'static str) -> CheckpointError {
        CheckpointError::Invalid {
            path: self.file.path().to_owned(),
            key: self.name(),
            value: value.to_string(),
            expected,
        }
    }
}

/// The date logic shared by datetime and timestamp checkpoints.
#[derive(Clone)]
struct DateCheckpoint {
    slot: Slot,
    start_at: Duration,
    ignore_older_than: Option<Duration>,
    clock: Arc<dyn Clock>,
    cached: Option<Nanos>,
}

impl std::fmt::Debug for DateCheckpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("file", &self.slot.file.path())
            .field("key", &self.slot.name())
            .field("start_at", &self.start_at)
            .field("ignore_older_than", &self.ignore_older_than)
            .field("cached", &self.cached.map(iso8601::format))
            .finish()
    }
}

fn nanos(duration: Duration) -> Nanos {
    i128::try_from(duration.as_nanos()).unwrap_or(i128::MAX)
}

impl DateCheckpoint {
    fn new(directory: &Path) -> Self {
        DateCheckpoint {
            slot: Slot::new(directory, DATE_KEY),
            start_at: Duration::from_secs(5 * 60),
            ignore_older_than: Some(Duration::from_secs(30 * 24 * 3600)),
            clock: Arc::new(SystemClock),
            cached: None,
        }
    }

    fn now(&self) -> Nanos {
        iso8601::from_timestamp(self.clock.now())
    }

    /// The position: the stored date (floored at `now − ignore_older_than`),
    /// else `now − start_at`; read once, then cached.
    fn offset(&mut self) -> Result<Nanos, CheckpointError> {
        if let Some(cached) = self.cached {
            return Ok(cached);
        }
        let now = self.now();
        let value = match self.slot.read()? {
            None => now - nanos(self.start_at),
            Some(stored) => {
                let parsed = self.parse(&stored);
                let parsed =
                    parsed.ok_or_else(|| self.slot.invalid(&stored, "an ISO 8601 date"))?;
                match self.ignore_older_than {
                    Some(limit) => parsed.max(now - nanos(limit)),
                    None => parsed,
                }
            }
        };
        self.cached = Some(value);
        Ok(value)
    }

    /// The stored value, parsed.
    fn parse(&self, stored: &Value) -> Option<Nanos> {
        match stored {
            Value::String(text) => iso8601::parse(text),
            // Modules that kept the key by hand sometimes stored epoch
            // seconds.
            Value::Number(number) => number.as_f64().map(|seconds| (seconds * 1e9) as i128),
            _ => None,
        }
    }

    /// Keeps and writes `to` when it is after the position, and after what
    /// the file holds now (another checkpoint object on the same key may
    /// have moved it since: it never goes back, flaw F11).
    fn advance(&mut self, to: Nanos) -> Result<bool, CheckpointError> {
        let position = self.offset()?;
        if to <= position {
            return Ok(false);
        }
        let written = self.slot.write_if(|stored| {
            let later_on_disk = stored
                .and_then(|stored| self.parse(stored))
                .is_some_and(|stored| stored >= to);
            (!later_on_disk).then(|| Value::String(iso8601::format(to)))
        })?;
        if written {
            self.cached = Some(to);
        } else {
            // The file is ahead: take its position.
            self.cached = None;
        }
        Ok(written)
    }
}

macro_rules! date_settings {
    ($type:ty) => {
        impl $type {
            /// Keeps the value under `subkey` (`{"<subkey>": {"most_recent_date_seen": ...}}`),
            /// beside the other keys of the file.
            pub fn subkey(mut self, subkey: impl Into<String>) -> Self {
                self.inner.slot.subkey = Some(subkey.into());
                self
            }

            /// The position when nothing is stored: this long before now
            /// (default 5 minutes).
            pub fn start_at(mut self, before_now: Duration) -> Self {
                self.inner.start_at = before_now;
                self
            }

            /// A stored position older than this is read as `now − limit`
            /// (default 30 days; `None`: no floor).
            pub fn ignore_older_than(mut self, limit: Option<Duration>) -> Self {
                self.inner.ignore_older_than = limit;
                self
            }

            /// Reads the time from `clock` (tests).
            pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
                self.inner.clock = clock;
                self
            }

            /// Uses this context file (shared with the module's own keys).
            pub fn in_file(mut self, file: Arc<ContextFile>) -> Self {
                self.inner.slot.file = file;
                self
            }
        }
    };
}

/// The date of the most recent event seen, as the Python SDK's
/// `CheckpointDatetime` keeps it.
///
/// # UTC only
///
/// Positions are UTC instants ([`Timestamp`]) and are written with
/// `+00:00` (`2026-11-28T04:37:29.565514+00:00`: microseconds as 6 digits,
/// none when zero, as Python's `isoformat()`). The Python SDK writes the
/// `isoformat()` of the datetime it was given, so `+02:00` when a module
/// passed a local time. Both read any offset (and `Z`) as the same instant
/// and both compare instants, so a connector resumes at the same event
/// whichever SDK wrote the file (checked against the Python SDK in
/// `tests/checkpoint_python.rs`). UTC only is the better choice here:
/// - the offset is not part of the position: `06:37:29+02:00` and
///   `04:37:29+00:00` are the same event, and taking instants makes it
///   impossible to store two spellings of one position;
/// - the file keeps one form whatever the sources, so its values sort as
///   strings and read the same in any tool or dashboard;
/// - the crate has no time-zone type in its public API (no date crate
///   dependency), and a module rarely needs the source's offset back from
///   the checkpoint: it formats its queries in the API's own format.
///
/// Convert an API's dated string with [`Timestamp::parse_iso8601`] first.
///
/// ```
/// use sekoia_automation::connector::CheckpointDatetime;
/// use std::time::Duration;
///
/// let directory = tempfile::tempdir()?;
/// std::fs::write(
///     directory.path().join("context.json"),
///     r#"{"tenant1":{"most_recent_date_seen":"2026-11-28T04:37:29.565514+00:00"}}"#,
/// )?;
/// let mut checkpoint = CheckpointDatetime::new(directory.path())
///     .subkey("tenant1")
///     .ignore_older_than(None);
/// assert_eq!(checkpoint.offset()?.to_iso8601(), "2026-11-28T04:37:29.565514");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CheckpointDatetime {
    inner: DateCheckpoint,
}

date_settings!(CheckpointDatetime);

impl CheckpointDatetime {
    /// The checkpoint kept in `<directory>/context.json` (a connector's data
    /// directory), with the Python SDK's defaults: `start_at` 5 minutes,
    /// `ignore_older_than` 30 days, no subkey.
    pub fn new(directory: impl AsRef<Path>) -> Self {
        CheckpointDatetime {
            inner: DateCheckpoint::new(directory.as_ref()),
        }
    }

    /// The position: the stored date (but not older than
    /// `now − ignore_older_than`), else `now − start_at`. Read from the file
    /// once, then remembered; never writes.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or its value is not a date.
    pub fn offset(&mut self) -> Result<Timestamp, CheckpointError> {
        self.inner.offset().map(iso8601::to_timestamp)
    }

    /// Moves the position to `to` when it is later, and saves it; `true`
    /// when it moved. Needs the acknowledgement of the events up to `to`.
    ///
    /// # Errors
    ///
    /// The file cannot be read or written (it keeps its previous content).
    pub fn advance(
        &mut self,
        to: Timestamp,
        acknowledged: &impl Acknowledges,
    ) -> Result<bool, CheckpointError> {
        let _ = acknowledged.acknowledged();
        self.inner.advance(iso8601::from_timestamp(to))
    }

    /// Moves the position without an acknowledgement: events before `to`
    /// that the intake does not have will not be fetched again.
    ///
    /// # Errors
    ///
    /// As [`advance`](Self::advance).
    pub fn advance_unacknowledged(&mut self, to: Timestamp) -> Result<bool, CheckpointError> {
        self.inner.advance(iso8601::from_timestamp(to))
    }
}

/// The unit of a [`CheckpointTimestamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeUnit {
    /// Seconds since the epoch.
    Second,
    /// Milliseconds since the epoch.
    Millisecond,
    /// Nanoseconds since the epoch (**ours**: the Python SDK's
    /// `NANOSECOND` multiplies by 10^6, giving microseconds, flaw F15).
    Nanosecond,
}

impl TimeUnit {
    fn per_second(self) -> i128 {
        match self {
            TimeUnit::Second => 1,
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Nanosecond => 1_000_000_000,
        }
    }
}

/// The date of the most recent event seen as an integer (an API's epoch
/// timestamps), stored as the ISO date the Python SDK's
/// `CheckpointTimestamp` stores.
///
/// ```
/// use sekoia_automation::connector::CheckpointTimestamp;
/// use sekoia_automation::connector::TimeUnit;
///
/// let directory = tempfile::tempdir()?;
/// std::fs::write(directory.path().join("context.json"), r#"{"most_recent_date_seen":"2026-11-28T04:37:29.5+00:00"}"#)?;
/// let mut checkpoint = CheckpointTimestamp::new(directory.path(), TimeUnit::Millisecond).ignore_older_than(None);
/// assert_eq!(checkpoint.offset()?, 1_795_840_649_500);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CheckpointTimestamp {
    inner: DateCheckpoint,
    unit: TimeUnit,
}

date_settings!(CheckpointTimestamp);

impl CheckpointTimestamp {
    /// The checkpoint kept in `<directory>/context.json`, counting in `unit`;
    /// the Python SDK's defaults otherwise.
    pub fn new(directory: impl AsRef<Path>, unit: TimeUnit) -> Self {
        CheckpointTimestamp {
            inner: DateCheckpoint::new(directory.as_ref()),
            unit,
        }
    }

    /// The position in the checkpoint's unit, rounded half to even as
    /// Python's `round`. See [`CheckpointDatetime::offset`].
    ///
    /// # Errors
    ///
    /// As [`CheckpointDatetime::offset`].
    pub fn offset(&mut self) -> Result<i64, CheckpointError> {
        let nanos = self.inner.offset()?;
        let divisor = 1_000_000_000 / self.unit.per_second();
        let quotient = nanos.div_euclid(divisor);
        let remainder = nanos.rem_euclid(divisor);
        let rounded = match (2 * remainder).cmp(&divisor) {
            std::cmp::Ordering::Less => quotient,
            std::cmp::Ordering::Greater => quotient + 1,
            std::cmp::Ordering::Equal => quotient + (quotient & 1),
        };
        Ok(i64::try_from(rounded).unwrap_or(i64::MAX))
    }

    fn to_nanos(&self, value: i64) -> Nanos {
        i128::from(value) * (1_000_000_000 / self.unit.per_second())
    }

    /// Moves the position to `to` (in the checkpoint's unit) when it is
    /// later, and saves it. See [`CheckpointDatetime::advance`].
    ///
    /// # Errors
    ///
    /// As [`CheckpointDatetime::advance`].
    pub fn advance(
        &mut self,
        to: i64,
        acknowledged: &impl Acknowledges,
    ) -> Result<bool, CheckpointError> {
        let _ = acknowledged.acknowledged();
        self.inner.advance(self.to_nanos(to))
    }

    /// Moves the position without an acknowledgement. See
    /// [`CheckpointDatetime::advance_unacknowledged`].
    ///
    /// # Errors
    ///
    /// As [`CheckpointDatetime::advance`].
    pub fn advance_unacknowledged(&mut self, to: i64) -> Result<bool, CheckpointError> {
        self.inner.advance(self.to_nanos(to))
    }
}

/// An opaque position (a page token, an id), as the Python SDK's
/// `CheckpointCursor` keeps it: `{"cursor": <value>}`.
///
/// ```
/// use sekoia_automation::connector::CheckpointCursor;
///
/// let directory = tempfile::tempdir()?;
/// let mut cursor = CheckpointCursor::<String>::new(directory.path()).subkey("s");
/// assert_eq!(cursor.offset()?, None);
/// cursor.advance_unacknowledged("abc".to_string())?;
/// assert_eq!(std::fs::read_to_string(directory.path().join("context.json"))?, r#"{"s":{"cursor":"abc"}}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CheckpointCursor<V> {
    slot: Slot,
    value: PhantomData<fn() -> V>,
}

impl<V: Serialize + DeserializeOwned> CheckpointCursor<V> {
    /// The cursor kept in `<directory>/context.json`.
    pub fn new(directory: impl AsRef<Path>) -> Self {
        CheckpointCursor {
            slot: Slot::new(directory.as_ref(), CURSOR_KEY),
            value: PhantomData,
        }
    }

    /// Keeps the value under `subkey`.
    pub fn subkey(mut self, subkey: impl Into<String>) -> Self {
        self.slot.subkey = Some(subkey.into());
        self
    }

    /// Uses this context file (shared with the module's own keys).
    pub fn in_file(mut self, file: Arc<ContextFile>) -> Self {
        self.slot.file = file;
        self
    }

    /// The stored cursor (`None` when absent); read from the file each time,
    /// never written.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or the value is not a `V`.
    pub fn offset(&self) -> Result<Option<V>, CheckpointError> {
        match self.slot.read()? {
            None => Ok(None),
            Some(value) => V::deserialize(&value)
                .map(Some)
                .map_err(|_| self.slot.invalid(&value, std::any::type_name::<V>())),
        }
    }

    /// Stores `to` (no ordering check, as the Python SDK). Needs the
    /// acknowledgement of the events before `to`.
    ///
    /// # Errors
    ///
    /// `to` cannot be serialized, or the file cannot be read or written.
    pub fn advance(
        &mut self,
        to: V,
        acknowledged: &impl Acknowledges,
    ) -> Result<(), CheckpointError> {
        let _ = acknowledged.acknowledged();
        self.advance_unacknowledged(to)
    }

    /// Stores `to` without an acknowledgement.
    ///
    /// # Errors
    ///
    /// As [`advance`](Self::advance).
    pub fn advance_unacknowledged(&mut self, to: V) -> Result<(), CheckpointError> {
        let value = serde_json::to_value(&to).map_err(|source| StorageError::Serialize {
            path: self.slot.file.path().to_owned(),
            cause: source,
        })?;
        self.slot.write(value)
    }
}
