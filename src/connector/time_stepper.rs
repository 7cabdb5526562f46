//! [`TimeStepper`]: successive time windows for connectors that poll an API
//! by date range (the Python SDK's `helpers/timestepper.py`;
//! docs/migrating.md), with every wait ended by the connector's stop.

use std::time::Duration;

use crate::connector::connector::Connector;
use crate::connector::context::ConnectorContext;
use crate::connector::registry::Gauge;
use crate::trigger::clock::at_micros;
use crate::wire::logging::Level;
use crate::wire::timestamp::Timestamp;

const MICROS_PER_SECOND: i64 = 1_000_000;
/// The shortest window: waits are whole seconds (as Python's), so a
/// shorter one would poll without pause once caught up.
const MIN_FREQUENCY: Duration = Duration::from_secs(1);

/// One window of time to fetch: events dated from `start` to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TimeWindow {
    /// The window's start (the previous window's end).
    pub start: Timestamp,
    /// The window's end: never later than `now − delay`, plus at most one
    /// `frequency` when the stepper caught up.
    pub end: Timestamp,
}

impl TimeWindow {
    /// The window from `start` to `end` (for a test of a connector's
    /// `next_page`; the [`TimeStepper`] makes them at run time).
    ///
    /// ```
    /// use sekoia_automation::connector::TimeWindow;
    /// use sekoia_automation::connector::Timestamp;
    /// let start = Timestamp::parse_iso8601("2026-01-02T03:04:05Z").unwrap();
    /// let window = TimeWindow::new(start, start);
    /// assert_eq!(window.start, window.end);
    /// ```
    pub fn new(start: Timestamp, end: Timestamp) -> Self {
        TimeWindow { start, end }
    }
}

/// Where the first window is.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// Python's `create`: the first window ends this long before now (zero:
    /// `delay` before now).
    Back(Duration),
    /// Python's `create_from_time`: the first window starts here.
    At(Timestamp),
}

/// Successive time windows for a connector polling an API by date range:
/// the Python SDK's `TimeStepper`, iterated with
/// [`windows`](Self::windows).
///
/// Each window is `frequency` long and starts where the previous one ended.
/// After a window, the next one ends `frequency` later; if that is past
/// `now − delay` (the source's `delay` to make late events available), the
/// stepper logs `Time range in the future. Waiting <d> seconds for next
/// batch.` and waits `d` seconds (at most `frequency`), the next window
/// ending at `now − delay + d`. Before each window but the first it logs
/// `Current lag <n> seconds.` (how far `now − delay` is past the window's
/// end, whole seconds, at least 0) and sets it on the optional
/// [`lag_gauge`](Self::lag_gauge), label `intake_key`. Same windows, same
/// messages as the Python SDK; **ours**: the waits end as soon as the
/// connector stops (then the iteration ends), and durations are
/// [`Duration`]s (Python takes the frequency in seconds, the delay in
/// minutes and the start in hours).
///
/// Time is read from the connector's clock
/// ([`ConnectorOptions::with_clock`](crate::connector::ConnectorOptions::with_clock)), so a
/// test can drive the stepper with a [`ManualClock`](crate::testing::ManualClock).
///
/// ```no_run
/// use sekoia_automation::connector::TimeStepper;
/// use sekoia_automation::{Connector, ConnectorContext, TriggerError};
/// use std::time::Duration;
///
/// struct Alerts;
///
/// impl Connector for Alerts {
///     type ModuleConfiguration = ();
///     type Configuration = serde_json::Value;
///     type Event = String;
///     const NAME: &'static str = "Alerts";
///     const DESCRIPTION: &'static str = "Collect the alerts, minute by minute";
///
///     fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
///         let mut checkpoint = ctx.checkpoint_datetime();
///         // Resume where the last acknowledged window ended.
///         let mut stepper = TimeStepper::create_from_time(
///             checkpoint.offset()?,
///             Duration::from_secs(60),
///             Duration::from_secs(60),
///         );
///         for window in stepper.windows(ctx) {
///             let events = fetch_alerts(window.start, window.end);
///             let acknowledged = ctx.push_events(events)?;
///             checkpoint.advance(window.end, &acknowledged)?;
///         }
///         Ok(()) // stopped
///     }
/// }
/// # fn fetch_alerts(_: sekoia_automation::connector::Timestamp, _: sekoia_automation::connector::Timestamp) -> Vec<String> { Vec::new() }
/// ```
#[derive(Debug, Clone)]
pub struct TimeStepper {
    frequency: Duration,
    delay: Duration,
    start: Start,
    /// The last window given, once the iteration started.
    current: Option<TimeWindow>,
    /// Whether the loop asked for the window after `current`: the loop's
    /// body finished `current`. A window handed out and not finished is
    /// handed out again by the next [`windows`](Self::windows).
    finished: bool,
    gauge: Option<Gauge>,
}

impl Default for TimeStepper {
    /// The Python SDK's `create()` defaults: windows of 60 seconds, a delay
    /// of 1 minute, starting 1 hour ago.
    fn default() -> Self {
        TimeStepper::create(
            Duration::from_secs(60),
            Duration::from_secs(60),
            Duration::from_secs(3600),
        )
    }
}

impl TimeStepper {
    /// Windows of `frequency`, `delay` behind now, the first ending
    /// `start_back` before now, or `delay` before now when `start_back` is
    /// zero (the Python SDK's `create(trigger, frequency, timedelta,
    /// start_time)`). The first window is placed when the iteration starts.
    /// A `frequency` under a second is taken as one second (**ours**: with
    /// Python's whole-second waits, a shorter window would poll without
    /// pause once caught up).
    pub fn create(frequency: Duration, delay: Duration, start_back: Duration) -> Self {
        TimeStepper {
            frequency: frequency.max(MIN_FREQUENCY),
            delay,
            start: Start::Back(start_back),
            current: None,
            finished: false,
            gauge: None,
        }
    }

    /// Windows of `frequency`, `delay` behind now, the first one starting at
    /// `start` (the Python SDK's `create_from_time`): to resume from a
    /// checkpoint. A `frequency` under a second is taken as one second, as
    /// in [`create`](Self::create).
    pub fn create_from_time(start: Timestamp, frequency: Duration, delay: Duration) -> Self {
        TimeStepper {
            frequency: frequency.max(MIN_FREQUENCY),
            delay,
            start: Start::At(start),
            current: None,
            finished: false,
            gauge: None,
        }
    }

    /// Sets the lag in seconds on `gauge`, labelled with the connector's
    /// intake key (a gauge registered with the one label `intake_key`, as
    /// the module's `events_lags` gauges are).
    ///
    /// ```
    /// use sekoia_automation::connector::TimeStepper;
    /// use sekoia_automation::metrics::MetricsRegistry;
    ///
    /// let lags = MetricsRegistry::global().gauge(
    ///     "mymodule_events_lags",
    ///     "The delay (seconds) from the date of the last event",
    ///     &["intake_key"],
    /// )?;
    /// let stepper = TimeStepper::default().lag_gauge(lags);
    /// # Ok::<(), sekoia_automation::metrics::MetricConflict>(())
    /// ```
    pub fn lag_gauge(mut self, gauge: Gauge) -> Self {
        self.gauge = Some(gauge);
        self
    }

    /// The last window given, `None` before the first.
    #[cfg(test)]
    fn current(&self) -> Option<TimeWindow> {
        self.current
    }

    /// The windows, one after the other, for as long as the connector runs:
    /// the iteration ends when it stops (a wait for the next window ends at
    /// once then).
    ///
    /// A window counts as finished when the loop asks for the next one. A
    /// loop left in the middle of a window (an error returned with `?`, a
    /// `break`) leaves it unfinished, and the next `windows` hands it out
    /// again first, as the Python SDK's `ranges()` yields the current range
    /// again: a stepper kept in the connector's struct across runs fetches
    /// the window of a failed run again instead of skipping its events.
    ///
    /// ```
    /// use sekoia_automation::connector::TimeStepper;
    /// use sekoia_automation::{Connector, ConnectorContext, TriggerError};
    /// use std::time::Duration;
    ///
    /// struct Alerts {
    ///     stepper: TimeStepper, // kept between the runs
    /// }
    ///
    /// impl Connector for Alerts {
    ///     type ModuleConfiguration = ();
    ///     type Configuration = serde_json::Value;
    ///     type Event = String;
    ///     const NAME: &'static str = "Alerts";
    ///     const DESCRIPTION: &'static str = "Collect the alerts, minute by minute";
    ///
    ///     fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
    ///         for window in self.stepper.windows(ctx) {
    ///             // A failure here ends this run; the next run fetches
    ///             // the same window again.
    ///             let events = fetch_alerts(window.start, window.end)?;
    ///             ctx.push_events(events)?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # fn fetch_alerts(_: sekoia_automation::connector::Timestamp, _: sekoia_automation::connector::Timestamp) -> Result<Vec<String>, TriggerError> { Ok(Vec::new()) }
    /// # let _ = Alerts { stepper: TimeStepper::default() };
    /// ```
    pub fn windows<'s, 'c, C: Connector>(
        &'s mut self,
        ctx: &'s ConnectorContext<'c, C>,
    ) -> TimeWindows<'s, 'c, C> {
        TimeWindows {
            stepper: self,
            ctx,
            entered: false,
        }
    }

    /// The window to hand out at the start of an iteration: the current one
    /// again when its loop was left before it finished it, else the next.
    fn enter(&mut self, host: &impl Host) -> Option<TimeWindow> {
        match self.current {
            Some(current) if !self.finished => host.running().then_some(current),
            _ => self.step(host),
        }
    }

    /// The next window: the first one, or the one after the current,
    /// waiting for it when it is in the future; `None` when stopped.
    fn step(&mut self, host: &impl Host) -> Option<TimeWindow> {
        if !host.running() {
            return None;
        }
        if self.current.is_some() {
            self.finished = true;
        }
        let Some(current) = self.current else {
            let now = host.now();
            let window = match self.start {
                Start::Back(back) => {
                    let back = if back.is_zero() { self.delay } else { back };
                    let end = minus(now, back);
                    TimeWindow {
                        start: minus(end, self.frequency),
                        end,
                    }
                }
                Start::At(start) => TimeWindow {
                    start,
                    end: plus(start, self.frequency),
                },
            };
            self.current = Some(window);
            self.finished = false;
            return Some(window);
        };
        let mut next_end = plus(current.end, self.frequency);
        let now = minus(host.now(), self.delay);
        // Python's int(timedelta.total_seconds()): truncated toward zero.
        let lag =
            ((now.micros_since_epoch() - next_end.micros_since_epoch()) / MICROS_PER_SECOND).max(0);
        host.log(format!("Current lag {lag} seconds."));
        if let Some(gauge) = &self.gauge {
            gauge.set(&[host.intake_key()], lag as f64);
        }
        if next_end > now {
            let ahead =
                (next_end.micros_since_epoch() - now.micros_since_epoch()) / MICROS_PER_SECOND;
            let frequency = i64::try_from(self.frequency.as_secs()).unwrap_or(i64::MAX);
            let wait = ahead.min(frequency).max(0);
            next_end = at_micros(now.micros_since_epoch() + wait * MICROS_PER_SECOND);
            host.log(format!(
                "Time range in the future. Waiting {wait} seconds for next batch."
            ));
            if !host.wait(Duration::from_secs(wait.unsigned_abs())) {
                return None;
            }
        }
        let window = TimeWindow {
            start: current.end,
            end: next_end,
        };
        self.current = Some(window);
        self.finished = false;
        Some(window)
    }
}

fn plus(at: Timestamp, by: Duration) -> Timestamp {
    crate::trigger::clock::add(at, by)
}

fn minus(at: Timestamp, by: Duration) -> Timestamp {
    let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
    at_micros(at.micros_since_epoch().saturating_sub(by))
}

/// What the stepper needs from the connector: time, logs, stop-aware waits.
trait Host {
    fn now(&self) -> Timestamp;
    fn log(&self, message: String);
    /// Waits `duration`; `false` when the connector stopped.
    fn wait(&self, duration: Duration) -> bool;
    fn running(&self) -> bool;
    fn intake_key(&self) -> &str;
}

impl<C: Connector> Host for ConnectorContext<'_, C> {
    fn now(&self) -> Timestamp {
        ConnectorContext::now(self)
    }

    fn log(&self, message: String) {
        ConnectorContext::log(self, Level::Info, message);
    }

    fn wait(&self, duration: Duration) -> bool {
        self.sleep(duration)
    }

    fn running(&self) -> bool {
        ConnectorContext::running(self)
    }

    fn intake_key(&self) -> &str {
        ConnectorContext::intake_key(self)
    }
}

/// The windows of a [`TimeStepper`] for one connector: see
/// [`TimeStepper::windows`]. Ends when the connector stops.
///
/// `next` blocks: once caught up with `now − delay`, it sleeps (a
/// `frequency` at most) for the next window's end to pass, waking at once
/// when the connector stops (it then returns `None`).
///
/// # Thread safety
///
/// `Send + Sync`, as the [`ConnectorContext`] it borrows: the windows can
/// be walked on a worker thread. Walking them needs `&mut`, so one thread
/// at a time does.
pub struct TimeWindows<'s, 'c, C: Connector> {
    stepper: &'s mut TimeStepper,
    ctx: &'s ConnectorContext<'c, C>,
    /// Whether the first window of this iteration was handed out.
    entered: bool,
}

impl<C: Connector> std::fmt::Debug for TimeWindows<'_, '_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeWindows")
            .field("stepper", &self.stepper)
            .finish_non_exhaustive()
    }
}

impl<C: Connector> Iterator for TimeWindows<'_, '_, C> {
    type Item = TimeWindow;

    fn next(&mut self) -> Option<TimeWindow> {
        if std::mem::replace(&mut self.entered, true) {
            self.stepper.step(self.ctx)
        } else {
            self.stepper.enter(self.ctx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::registry::MetricsRegistry;
    use crate::trigger::clock::{Clock, ManualClock};
    use std::cell::{Cell, RefCell};

    // Expected windows, logs and waits: the Python SDK 1.27.0's
    // TimeStepper run on the same scenarios with `datetime.now` and
    // `time.sleep` patched to a fake clock.

    /// A connector's side with a fake clock: a wait moves the clock on.
    struct Fake {
        clock: ManualClock,
        logs: RefCell<Vec<String>>,
        waits: RefCell<Vec<Duration>>,
        /// Stop during the wait with this index.
        stop_at_wait: Option<usize>,
        stopped: Cell<bool>,
    }

    impl Fake {
        fn at(iso: &str) -> Self {
            Fake {
                clock: ManualClock::new(Timestamp::parse_iso8601(iso).unwrap()),
                logs: RefCell::default(),
                waits: RefCell::default(),
                stop_at_wait: None,
                stopped: Cell::new(false),
            }
        }

        fn take_logs(&self) -> Vec<String> {
            std::mem::take(&mut self.logs.borrow_mut())
        }
    }

    impl Host for Fake {
        fn now(&self) -> Timestamp {
            self.clock.now()
        }
        fn log(&self, message: String) {
            self.logs.borrow_mut().push(message);
        }
        fn wait(&self, duration: Duration) -> bool {
            let mut waits = self.waits.borrow_mut();
            if self.stop_at_wait == Some(waits.len()) {
                self.stopped.set(true);
                waits.push(Duration::ZERO);
                return false;
            }
            waits.push(duration);
            self.clock.advance(duration);
            true
        }
        fn running(&self) -> bool {
            !self.stopped.get()
        }
        fn intake_key(&self) -> &str {
            "KEY"
        }
    }

    fn iso(window: TimeWindow) -> (String, String) {
        (window.start.to_iso8601(), window.end.to_iso8601())
    }

    fn window(start: &str, end: &str) -> (String, String) {
        (start.to_string(), end.to_string())
    }

    #[test]
    fn create_starts_an_hour_back_and_catches_up_without_waiting() {
        let host = Fake::at("2026-11-28T10:00:00Z");
        let mut stepper = TimeStepper::default();
        let first = stepper.step(&host).unwrap();
        assert_eq!(
            iso(first),
            window("2026-11-28T08:59:00", "2026-11-28T09:00:00")
        );
        assert!(
            host.take_logs().is_empty(),
            "no lag before the first window"
        );
        let second = stepper.step(&host).unwrap();
        assert_eq!(
            iso(second),
            window("2026-11-28T09:00:00", "2026-11-28T09:01:00")
        );
        // now − delay = 09:59, next end 09:01: 58 minutes behind.
        assert_eq!(host.take_logs(), ["Current lag 3480 seconds."]);
        assert!(host.waits.borrow().is_empty());
        assert_eq!(stepper.current(), Some(second));
    }

    #[test]
    fn create_with_no_start_begins_one_delay_back() {
        let host = Fake::at("2026-11-28T10:00:00.5Z");
        let mut stepper = TimeStepper::create(
            Duration::from_secs(30),
            Duration::from_secs(120),
            Duration::ZERO,
        );
        let first = stepper.step(&host).unwrap();
        assert_eq!(
            iso(first),
            window("2026-11-28T09:57:30.500000", "2026-11-28T09:58:00.500000")
        );
    }

    #[test]
    fn a_window_in_the_future_is_waited_for_at_most_one_frequency() {
        // Python: next_end = end + frequency; now' = now − delay;
        // wait = max(min(int(next_end − now'), frequency), 0).
        let host = Fake::at("2026-11-28T10:00:00Z");
        let start = Timestamp::parse_iso8601("2026-11-28T09:58:30Z").unwrap();
        let mut stepper =
            TimeStepper::create_from_time(start, Duration::from_secs(60), Duration::from_secs(60));
        let first = stepper.step(&host).unwrap();
        assert_eq!(
            iso(first),
            window("2026-11-28T09:58:30", "2026-11-28T09:59:30")
        );
        // next end 10:00:30, now' 09:59:00: 90 s ahead, waits 60 s.
        let second = stepper.step(&host).unwrap();
        assert_eq!(
            host.take_logs(),
            [
                "Current lag 0 seconds.",
                "Time range in the future. Waiting 60 seconds for next batch."
            ]
        );
        assert_eq!(*host.waits.borrow(), [Duration::from_secs(60)]);
        assert_eq!(
            iso(second),
            window("2026-11-28T09:59:30", "2026-11-28T10:00:00")
        );
        // Then steady: each window a frequency later, a frequency waited.
        let third = stepper.step(&host).unwrap();
        assert_eq!(
            iso(third),
            window("2026-11-28T10:00:00", "2026-11-28T10:01:00")
        );
        assert_eq!(
            host.take_logs(),
            [
                "Current lag 0 seconds.",
                "Time range in the future. Waiting 60 seconds for next batch."
            ]
        );
        assert_eq!(host.clock.now().to_iso8601(), "2026-11-28T10:02:00");
    }

    #[test]
    fn lag_is_truncated_to_whole_seconds_and_set_on_the_gauge() {
        let registry = MetricsRegistry::default();
        let gauge = registry
            .gauge("test_time_stepper_lag", "lag", &["intake_key"])
            .unwrap();
        let host = Fake::at("2026-11-28T10:00:00.999Z");
        let start = Timestamp::parse_iso8601("2026-11-28T09:00:00Z").unwrap();
        let mut stepper =
            TimeStepper::create_from_time(start, Duration::from_secs(600), Duration::from_secs(60))
                .lag_gauge(gauge.clone());
        stepper.step(&host).unwrap();
        stepper.step(&host).unwrap();
        // now' 09:59:00.999, next end 09:20:00: 2340.999 s → 2340.
        assert_eq!(host.take_logs(), ["Current lag 2340 seconds."]);
        assert_eq!(gauge.get(&["KEY"]), 2340.0);
    }

    #[test]
    fn a_stop_during_the_wait_ends_the_iteration_without_a_window() {
        let mut host = Fake::at("2026-11-28T10:00:00Z");
        host.stop_at_wait = Some(0);
        let start = Timestamp::parse_iso8601("2026-11-28T09:59:00Z").unwrap();
        let mut stepper =
            TimeStepper::create_from_time(start, Duration::from_secs(60), Duration::ZERO);
        let first = stepper.step(&host).unwrap();
        assert_eq!(stepper.step(&host), None);
        assert_eq!(
            stepper.current(),
            Some(first),
            "the stopped window is not given"
        );
        assert_eq!(stepper.step(&host), None, "stopped: nothing more");
    }

    #[test]
    fn an_iteration_starts_again_with_the_window_its_loop_did_not_finish() {
        let host = Fake::at("2026-11-28T10:00:00Z");
        let mut stepper = TimeStepper::default();
        let first = stepper.enter(&host).unwrap();
        // The loop was left inside `first`: handed out again, as Python's
        // `ranges()` yields its current range first, without a log.
        assert_eq!(stepper.enter(&host), Some(first));
        assert!(host.take_logs().is_empty());
        let second = stepper.step(&host).unwrap();
        assert_eq!(second.start, first.end);
        assert_eq!(stepper.enter(&host), Some(second));
        // `second` finished (the loop asked for the next one) and the
        // wait for the third stopped: the next iteration goes on after it.
        let mut host = Fake::at("2026-11-28T10:00:00Z");
        host.stop_at_wait = Some(0);
        let start = Timestamp::parse_iso8601("2026-11-28T09:59:00Z").unwrap();
        let mut stepper =
            TimeStepper::create_from_time(start, Duration::from_secs(60), Duration::ZERO);
        let first = stepper.enter(&host).unwrap();
        assert_eq!(stepper.step(&host), None);
        host.stopped.set(false);
        let next = stepper.enter(&host).unwrap();
        assert_eq!(
            next.start, first.end,
            "a finished window is not handed out again"
        );
    }

    #[test]
    fn a_frequency_under_a_second_waits_a_second_once_caught_up() {
        let host = Fake::at("2026-11-28T10:00:00Z");
        let start = Timestamp::parse_iso8601("2026-11-28T09:59:59Z").unwrap();
        let mut stepper = TimeStepper::create_from_time(start, Duration::ZERO, Duration::ZERO);
        assert_eq!(
            iso(stepper.step(&host).unwrap()),
            window("2026-11-28T09:59:59", "2026-11-28T10:00:00")
        );
        assert_eq!(
            iso(stepper.step(&host).unwrap()),
            window("2026-11-28T10:00:00", "2026-11-28T10:00:01")
        );
        assert_eq!(*host.waits.borrow(), [Duration::from_secs(1)]);
    }

    #[test]
    fn a_window_less_than_a_second_ahead_is_not_waited_for() {
        // int() of 0.5 s is 0: Python logs a 0-second wait and moves the
        // end back to now − delay.
        let host = Fake::at("2026-11-28T10:00:00Z");
        let start = Timestamp::parse_iso8601("2026-11-28T09:58:00.5Z").unwrap();
        let mut stepper =
            TimeStepper::create_from_time(start, Duration::from_secs(30), Duration::from_secs(60));
        stepper.step(&host).unwrap();
        let second = stepper.step(&host).unwrap();
        assert_eq!(
            host.take_logs(),
            [
                "Current lag 0 seconds.",
                "Time range in the future. Waiting 0 seconds for next batch."
            ]
        );
        assert_eq!(
            iso(second),
            window("2026-11-28T09:58:30.500000", "2026-11-28T09:59:00")
        );
        assert_eq!(*host.waits.borrow(), [Duration::ZERO]);
    }
}
