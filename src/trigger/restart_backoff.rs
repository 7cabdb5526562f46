//! How soon a failed trigger run is started again.
//!
//! The Python SDK calls `run` again at once after it fails: a trigger whose
//! `run` fails early (a vendor API answering 401 to a `?`, a refused event,
//! a panic) hammers the vendor, the platform and its own logs thousands of
//! times per second. Here a run that failed (returned `Err` or panicked) is
//! started again at once the first time, then after 1 s, 2 s, 4 s... up to
//! [`MAX_WAIT`] (60 s) while the failures go on. The wait goes back to none
//! once a run sends an event or lasts [`LONG_RUN`], and a stop ends it at
//! once. A run that returns `Ok(())` is started again at once, as in the
//! Python SDK.

use std::time::Duration;

/// The first wait after the failure that follows an immediate restart.
pub const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between two failed runs.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// A run lasting this long (on the runtime's clock) resets the waits.
pub const LONG_RUN: Duration = Duration::from_secs(60);

/// The waits between failed runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RestartBackoff {
    /// The wait after the next failure; `None`: none (restart at once).
    next: Option<Duration>,
}

impl RestartBackoff {
    /// What to wait before the next run, given how the last one went.
    pub(crate) fn after_run(
        &mut self,
        failed: bool,
        sent_events: bool,
        lasted: Duration,
    ) -> Duration {
        if sent_events || lasted >= LONG_RUN {
            self.next = None;
        }
        if !failed {
            return Duration::ZERO;
        }
        let wait = self.next.unwrap_or(Duration::ZERO);
        self.next = Some(match self.next {
            None => FIRST_WAIT,
            Some(wait) => wait.saturating_mul(2).min(MAX_WAIT),
        });
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(5);

    #[test]
    fn failures_wait_longer_and_longer_up_to_a_minute() {
        let mut backoff = RestartBackoff::default();
        let waits: Vec<u64> = (0..10)
            .map(|_| backoff.after_run(true, false, SHORT).as_secs())
            .collect();
        assert_eq!(waits, [0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn a_sent_event_or_a_long_run_resets_the_waits() {
        let mut backoff = RestartBackoff::default();
        for _ in 0..5 {
            backoff.after_run(true, false, SHORT);
        }
        assert_eq!(backoff.after_run(true, true, SHORT), Duration::ZERO);
        assert_eq!(backoff.after_run(true, false, SHORT), FIRST_WAIT);
        assert_eq!(backoff.after_run(true, false, LONG_RUN), Duration::ZERO);
        assert_eq!(backoff.after_run(true, false, SHORT), FIRST_WAIT);
    }

    #[test]
    fn successful_runs_restart_at_once_and_keep_the_count() {
        let mut backoff = RestartBackoff::default();
        backoff.after_run(true, false, SHORT);
        assert_eq!(backoff.after_run(false, false, SHORT), Duration::ZERO);
        assert_eq!(backoff.after_run(true, false, SHORT), FIRST_WAIT);
    }
}
