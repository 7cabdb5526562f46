//! [`Clock`]: where a trigger's runtime reads the time, so that tests can
//! check its time rules (the critical-error rule, the log rate limit, the
//! liveness thresholds, the wait after a critical log) without waiting.
//!
//! The runtime uses [`SystemClock`] unless the trigger's
//! [`TriggerOptions`](crate::trigger::TriggerOptions) give another one;
//! [`ManualClock`] only moves when told to.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use crate::wire::timestamp::Timestamp;

/// A source of the current UTC time.
///
/// ```
/// use sekoia_automation::testing::ManualClock;
/// use sekoia_automation::trigger::{Clock, SystemClock};
/// use std::time::Duration;
///
/// let manual = ManualClock::new(SystemClock.now());
/// let before = manual.now();
/// manual.advance(Duration::from_secs(90));
/// assert_eq!(manual.now().micros_since_epoch() - before.micros_since_epoch(), 90_000_000);
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;

    /// How long a wait for a deadline `remaining` away (on this clock) may
    /// last in real time before the clock is read again. The system clock
    /// waits the whole time; a manual clock, which moves when a test says
    /// so, asks to be read again soon.
    fn recheck_after(&self, remaining: Duration) -> Duration {
        remaining
    }
}

/// The system's wall clock.
///
/// ```
/// use sekoia_automation::trigger::{Clock, SystemClock};
/// assert!(SystemClock.now().micros_since_epoch() > 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when [`advance`](ManualClock::advance)d or
/// [`set`](ManualClock::set), for tests. Share it with an `Arc`: the test
/// keeps one handle, the trigger's options another.
///
/// ```
/// use sekoia_automation::connector::Timestamp;
/// use sekoia_automation::trigger::Clock;
/// use sekoia_automation::testing::ManualClock;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let clock = ManualClock::new(Timestamp::from(UNIX_EPOCH + Duration::from_secs(1_767_323_045)));
/// assert_eq!(clock.now().to_iso8601(), "2026-01-02T03:04:05");
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.now().to_iso8601(), "2026-01-02T03:04:06.500000");
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// A clock showing the current system time, from then on manual.
    pub fn starting_now() -> Self {
        Self::new(Timestamp::now())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now = add(*now, by);
    }

    /// Sets the clock (it may go backwards).
    pub fn set(&self, to: Timestamp) {
        *self.lock() = to;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        self.now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }

    fn recheck_after(&self, remaining: Duration) -> Duration {
        remaining.min(Duration::from_millis(1))
    }
}

/// `from` plus `by`.
pub fn add(from: Timestamp, by: Duration) -> Timestamp {
    let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
    at_micros(from.micros_since_epoch().saturating_add(by))
}

/// The time from `earlier` to `later`; zero when `later` is not after it.
pub fn elapsed(earlier: Timestamp, later: Timestamp) -> Duration {
    let micros = later
        .micros_since_epoch()
        .saturating_sub(earlier.micros_since_epoch());
    Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}

/// The timestamp `micros` microseconds after the Unix epoch.
pub fn at_micros(micros: i64) -> Timestamp {
    let time = if micros >= 0 {
        UNIX_EPOCH + Duration::from_micros(micros.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_micros(micros.unsigned_abs())
    };
    Timestamp::from(time)
}

/// Python's `timedelta.total_seconds()` as `repr` prints it: `12.5`,
/// `3.0`, `1e-06`.
pub fn python_seconds(duration: Duration) -> String {
    let seconds = duration.as_micros() as f64 / 1e6;
    if seconds != 0.0 && seconds < 1e-4 {
        // Python switches to the exponent form below 1e-4: `1.5e-05`.
        let text = format!("{seconds:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(digits) => ('-', digits),
            None => ('+', exponent),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let text = format!("{seconds}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn add_example() {
        use crate::trigger::clock::{add, at_micros};
        use std::time::Duration;
        assert_eq!(add(at_micros(1), Duration::from_micros(2)), at_micros(3));
    }

    #[test]
    fn at_micros_example() {
        use crate::trigger::clock::at_micros;
        assert_eq!(at_micros(0).to_iso8601(), "1970-01-01T00:00:00");
        assert_eq!(at_micros(-1).micros_since_epoch(), -1);
    }

    #[test]
    fn elapsed_example() {
        use crate::trigger::clock::{at_micros, elapsed};
        use std::time::Duration;
        assert_eq!(
            elapsed(at_micros(5), at_micros(8)),
            Duration::from_micros(3)
        );
        assert_eq!(elapsed(at_micros(8), at_micros(5)), Duration::ZERO);
    }

    #[test]
    fn python_seconds_example() {
        use crate::trigger::clock::python_seconds;
        use std::time::Duration;
        assert_eq!(python_seconds(Duration::from_secs(3)), "3.0");
        assert_eq!(python_seconds(Duration::from_micros(12_500_000)), "12.5");
        assert_eq!(python_seconds(Duration::from_micros(1)), "1e-06");
    }
}
