//! The stop grace: once a stop is requested (SIGTERM, SIGINT, `ctx.stop()`),
//! a trigger process ends within [`DEFAULT_STOP_GRACE`] (or the trigger's
//! [`TriggerOptions::stop_grace`](crate::trigger::TriggerOptions::stop_grace)),
//! whatever the trigger's code does.
//!
//! The Python SDK sets a flag on SIGTERM and lets the trigger's loop look at
//! it: a loop that never looks (`for ...: self.send_event(...)`) runs on until
//! the platform kills it (on Kubernetes, after the pod's 30 s grace), losing
//! the logs it had queued. Here, three things make the stop deterministic:
//!
//! 1. after a stop, `send_event` refuses at once with
//!    [`SendEventError::Stopped`](crate::trigger::SendEventError::Stopped)
//!    (the event is not sent, and the caller is told), so the author's `?`
//!    ends `run`; every backoff wait of the runtime ends at once;
//! 2. the runtime ships the queued logs until a deadline a little before the
//!    end of the grace, then writes those it could not send to stderr;
//! 3. a watchdog thread ends the process at the end of the grace if the
//!    trigger's code is still running (it ignores the stop and never sends,
//!    or it is blocked in its own I/O): the logs not sent yet go to stderr,
//!    a line says why, and the process exits with code 0, as a stopped
//!    trigger does. The watchdog only ends the process when the module owns
//!    it ([`Module::run`](crate::Module::run)); a trigger run in-process by
//!    `run_command` (tests) is only reported on stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::trigger::log_shipper::LogShipper;
use crate::trigger::stop_signal::StopSignal;

/// From a stop request to the end of the process, at most (by default).
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(2);

/// Whether this process runs one item from `main` ([`Module::run`](crate::Module::run)):
/// only then may the watchdog end it.
static OWNS_PROCESS: AtomicBool = AtomicBool::new(false);

/// Marks the process as running one item from `main`.
pub(crate) fn own_process() {
    OWNS_PROCESS.store(true, Ordering::SeqCst);
}

/// The deadline of the final log flush: a little before the end of the
/// grace, so that the process exits on its own before the watchdog fires.
pub(crate) fn flush_deadline(stop: &StopSignal, grace: Duration) -> Instant {
    let stopped_at = stop.stopped_at().unwrap_or_else(Instant::now);
    let margin = (grace / 4).min(Duration::from_millis(500));
    stopped_at + grace.saturating_sub(margin)
}

/// Ends the process at the end of the grace after a stop, unless it was
/// disarmed (the runtime finished its exit) before.
pub(crate) struct Watchdog {
    stop: Arc<StopSignal>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts the watchdog thread (none if the thread cannot be started: the
    /// stop is then as good as the trigger's code).
    pub(crate) fn arm(stop: Arc<StopSignal>, grace: Duration, logs: Arc<LogShipper>) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("sekoia-stop-grace".into())
            .spawn({
                let stop = Arc::clone(&stop);
                let done = Arc::clone(&done);
                move || watch(&stop, grace, &logs, &done)
            })
            .map_err(|error| {
                crate::wire::logging::echo_to_stderr(
                    crate::Level::Warning,
                    &format!("cannot start the stop grace watchdog: {error}"),
                );
            })
            .ok();
        Watchdog { stop, done, thread }
    }
}

fn watch(stop: &StopSignal, grace: Duration, logs: &LogShipper, done: &AtomicBool) {
    let is_done = || done.load(Ordering::SeqCst);
    // Wait for a stop (or the end of the run).
    if stop.wait_for(|| is_done() || stop.is_stopped(), None) && is_done() {
        return;
    }
    let deadline = stop.stopped_at().unwrap_or_else(Instant::now) + grace;
    if stop.wait_for(is_done, Some(deadline)) {
        return;
    }
    let message = format!(
        "the trigger did not end within the stop grace ({grace:?}) after the stop request: its code neither returned nor sent an event since"
    );
    if OWNS_PROCESS.load(Ordering::SeqCst) {
        logs.abandon_to_stderr();
        eprintln!("warning: {message}; exiting now");
        std::process::exit(0);
    }
    crate::wire::logging::echo_to_stderr(crate::Level::Warning, &message);
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        self.stop.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
