//! [`StopSignal`]: the flag that ends a trigger, the waits it cuts short, and
//! the SIGTERM/SIGINT listener that raises it.
//!
//! Raising the flag wakes every [`sleep`](StopSignal::sleep) at once (a
//! condition variable, no polling), so a trigger sleeping between two polls
//! stops within microseconds of a SIGTERM.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::trigger::clock::{self, Clock};
use crate::wire::timestamp::Timestamp;

/// A stop flag with interruptible waits.
///
/// ```
/// use sekoia_automation::trigger::StopSignal;
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
///
/// let stop = Arc::new(StopSignal::new());
/// assert!(stop.sleep(Duration::from_millis(1)), "a full sleep");
///
/// let raiser = Arc::clone(&stop);
/// std::thread::spawn(move || raiser.stop());
/// let started = Instant::now();
/// assert!(!stop.sleep(Duration::from_secs(60)), "woken by the stop");
/// assert!(started.elapsed() < Duration::from_secs(10));
/// assert!(stop.is_stopped());
/// ```
#[derive(Debug, Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    /// When the flag was first raised.
    stopped_at: OnceLock<Instant>,
    lock: Mutex<()>,
    changed: Condvar,
}

impl StopSignal {
    /// A flag not raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the flag and wakes every waiter. Raising it again does nothing.
    pub fn stop(&self) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = self.stopped_at.set(Instant::now());
        self.stopped.store(true, Ordering::SeqCst);
        self.changed.notify_all();
    }

    /// When the flag was first raised, `None` while it is not.
    ///
    /// ```
    /// use sekoia_automation::trigger::StopSignal;
    /// let stop = StopSignal::new();
    /// assert!(stop.stopped_at().is_none());
    /// stop.stop();
    /// assert!(stop.stopped_at().is_some());
    /// ```
    pub fn stopped_at(&self) -> Option<Instant> {
        self.stopped_at.get().copied()
    }

    /// Wakes the waiters of [`wait_for`](Self::wait_for) so that they check
    /// their condition again, without raising the flag.
    pub(crate) fn wake(&self) {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.changed.notify_all();
    }

    /// Waits until `done()` holds (checked when [`wake`](Self::wake) or
    /// [`stop`](Self::stop) is called) or `deadline` passes: whether `done()`
    /// holds at the end.
    pub(crate) fn wait_for(&self, done: impl Fn() -> bool, deadline: Option<Instant>) -> bool {
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if done() {
                return true;
            }
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(86_400),
            };
            if remaining.is_zero() {
                return false;
            }
            guard = self
                .changed
                .wait_timeout(guard, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Whether the flag is raised.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Sleeps `duration` of real time, or less when the flag is raised:
    /// `true` when the whole duration passed, `false` when stopped.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now().checked_add(duration);
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.is_stopped() {
                return false;
            }
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(86_400),
            };
            if remaining.is_zero() {
                return true;
            }
            guard = self
                .changed
                .wait_timeout(guard, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Sleeps until `clock` shows `deadline`, or less when the flag is
    /// raised: `true` when the deadline came, `false` when stopped. With a
    /// [`ManualClock`](crate::trigger::clock::ManualClock), the wait ends once a test
    /// moves the clock past the deadline.
    pub fn sleep_until(&self, clock: &dyn Clock, deadline: Timestamp) -> bool {
        loop {
            if self.is_stopped() {
                return false;
            }
            let remaining = clock::elapsed(clock.now(), deadline);
            if remaining.is_zero() {
                return true;
            }
            if !self.sleep(clock.recheck_after(remaining)) {
                return false;
            }
        }
    }
}

/// Raises a [`StopSignal`] on SIGTERM and SIGINT, from a listener thread
/// (through `signal-hook`: the signal handler itself only writes to a pipe).
/// Dropping it closes the listener and joins its thread.
#[derive(Debug)]
pub struct SignalListener {
    handle: signal_hook::iterator::Handle,
    thread: Option<JoinHandle<()>>,
}

impl SignalListener {
    /// Registers the SIGTERM and SIGINT handlers and starts the listener
    /// thread. The handlers stay registered (doing nothing) after the
    /// listener is dropped: the process's default (terminating) action is
    /// not restored.
    pub fn start(stop: Arc<StopSignal>) -> io::Result<SignalListener> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        let handle = signals.handle();
        let thread = std::thread::Builder::new()
            .name("sekoia-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    log::debug!("signal {signal} received: stopping");
                    stop.stop();
                }
            })?;
        Ok(SignalListener {
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for SignalListener {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Keeps SIGTERM and SIGINT from being delivered to the calling thread (and
/// to the threads it starts) while it lives, so that they go to the
/// [`SignalListener`]'s thread: a stop never interrupts the trigger's own
/// system calls (a socket read with a timeout fails with `EINTR` when a
/// signal lands on its thread, which would read as a network failure).
/// Dropping it restores the thread's previous mask.
pub(crate) struct SignalsElsewhere {
    #[cfg(unix)]
    previous: libc::sigset_t,
}

impl SignalsElsewhere {
    /// Blocks SIGTERM and SIGINT on the calling thread.
    #[allow(unsafe_code)] // pthread_sigmask(3): see the crate root.
    pub(crate) fn block() -> SignalsElsewhere {
        #[cfg(unix)]
        {
            // SAFETY: sigset_t is plain data, initialized by sigemptyset
            // before use; pthread_sigmask only reads `set` and writes
            // `previous`.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                let mut previous: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::sigaddset(&mut set, libc::SIGINT);
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut previous);
                SignalsElsewhere { previous }
            }
        }
        #[cfg(not(unix))]
        SignalsElsewhere {}
    }
}

impl Drop for SignalsElsewhere {
    #[allow(unsafe_code)] // pthread_sigmask(3): see the crate root.
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the mask saved by `block` on this thread.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod examples {
    // Compiled, not run (it would need a platform or a signal).
    #[allow(dead_code)]
    fn signal_listener_example() -> Result<(), std::io::Error> {
        use crate::trigger::stop_signal::{SignalListener, StopSignal};
        use std::sync::Arc;

        let stop = Arc::new(StopSignal::new());
        let _listener = SignalListener::start(Arc::clone(&stop))?;
        while stop.sleep(std::time::Duration::from_secs(5)) {
            // poll something
        }
        Ok(())
    }

    #[test]
    fn sleep_until_example() {
        use crate::trigger::StopSignal;
        use crate::trigger::clock::{Clock, ManualClock, add};
        use std::sync::Arc;
        use std::time::Duration;

        let clock = Arc::new(ManualClock::starting_now());
        let deadline = add(clock.now(), Duration::from_secs(120));
        let mover = Arc::clone(&clock);
        std::thread::spawn(move || mover.advance(Duration::from_secs(120)));
        assert!(StopSignal::new().sleep_until(&*clock, deadline));
    }
}
