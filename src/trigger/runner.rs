//! The lifecycle of a trigger ([protocol §4](crate::protocol#4-triggers)): start (signals, log shipper,
//! liveness and metrics endpoints, secrets GET), the run loop with its
//! critical rule, and the clean exit (logs flushed, listeners closed).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::secret::Secret;
use crate::config::source::ConfigurationError;
use crate::runtime::environment::Environment;
use crate::storage::data_directory::DataDirectory;
use crate::trigger::clock;
use crate::trigger::context::{Runtime, TriggerContext};
use crate::trigger::event_sender::EventSender;
use crate::trigger::liveness::{Health, start_liveness};
use crate::trigger::log_shipper::LogShipper;
use crate::trigger::metrics::{TriggerMetrics, start_metrics};
use crate::trigger::restart_backoff::RestartBackoff;
use crate::trigger::stop_grace::{self, Watchdog};
use crate::trigger::stop_signal::{SignalListener, SignalsElsewhere, StopSignal};
use crate::trigger::{CRITICAL_WAIT, FailureKind, SendEventError, Trigger, TriggerError};
use crate::wire::http::{HttpError, PlatformClient};
use crate::wire::logging::{self, Forward, Level};
use crate::wire::redact;
use crate::wire::timestamp::Timestamp;

/// Default `liveness_port`.
pub const DEFAULT_LIVENESS_PORT: u16 = 8000;
/// Default `metrics_port`.
pub const DEFAULT_METRICS_PORT: u16 = 8020;
/// Consecutive counted errors from which an error may be critical.
pub const CRITICAL_ERROR_COUNT: u64 = 5;
/// No error is critical during this time after the start.
pub const CRITICAL_GRACE: Duration = Duration::from_secs(30 * 60);
/// Uptime counted by the critical rule, at most.
pub const CRITICAL_UPTIME_CAP: Duration = Duration::from_secs(5 * 24 * 3600);
/// Attempts of one log request (the shipper retries the batch later).
const LOG_ATTEMPTS: u32 = 5;

/// Whether an error is critical ([protocol §4](crate::protocol#4-triggers)): at least 5 consecutive
/// counted errors, no critical log sent yet, the trigger up for 30 minutes,
/// and no event sent for a fifth of its uptime (uptime capped at 5 days).
///
/// A trigger up for 1 hour turns critical after 12 minutes without events;
/// 1 day, after 4.8 hours; 5 days or more, after 24 hours.
pub fn is_error_critical(
    error_count: u64,
    critical_sent: bool,
    startup: Timestamp,
    last_event: Timestamp,
    now: Timestamp,
) -> bool {
    if error_count < CRITICAL_ERROR_COUNT || critical_sent {
        return false;
    }
    let uptime = clock::elapsed(startup, now).min(CRITICAL_UPTIME_CAP);
    if uptime < CRITICAL_GRACE {
        return false;
    }
    let since_event = clock::elapsed(last_event, now);
    uptime.as_secs_f64() / 5.0 <= since_event.as_secs_f64()
}

/// Runs a trigger until it is stopped. Exit code: success after a stop
/// (SIGTERM, SIGINT, `ctx.stop()`), failure when it could not start.
pub(crate) fn run_trigger<T: Trigger>(mut trigger: T, environment: &Environment) -> ExitCode {
    logging::install();
    let options = trigger.options();
    let clock = Arc::clone(&options.clock);
    let started = (|| -> Result<_, ConfigurationError> {
        let callback = environment.callback()?;
        let token = Secret::new(environment.source.text("token")?);
        let logs_url = environment.logs_url(&callback.url)?;
        let secrets_url = environment.secrets_url(&callback.url)?;
        let liveness_port = environment.port("liveness_port", DEFAULT_LIVENESS_PORT)?;
        let metrics_port = environment.port("metrics_port", DEFAULT_METRICS_PORT)?;
        Ok((
            callback,
            token,
            logs_url,
            secrets_url,
            liveness_port,
            metrics_port,
        ))
    })();
    let (callback, token, logs_url, secrets_url, liveness_port, metrics_port) = match started {
        Ok(started) => started,
        Err(error) => return cannot_start(&error.to_string()),
    };

    let stop = options
        .stop
        .clone()
        .unwrap_or_else(|| Arc::new(StopSignal::new()));
    let signals = SignalListener::start(Arc::clone(&stop))
        .map_err(|error| {
            logging::echo_to_stderr(
                Level::Warning,
                &format!("cannot listen for SIGTERM and SIGINT: {error}"),
            );
        })
        .ok();
    // From here on, SIGTERM and SIGINT go to the listener's thread only.
    let signals_elsewhere = signals.as_ref().map(|_| SignalsElsewhere::block());
    let logs = match LogShipper::start(
        callback.client.clone().with_max_attempts(LOG_ATTEMPTS),
        logs_url,
        Arc::clone(&clock),
    ) {
        Ok(logs) => Arc::new(logs),
        Err(error) => {
            return cannot_start(&format!("cannot start the log flusher thread: {error}"));
        }
    };
    let watchdog = Watchdog::arm(Arc::clone(&stop), options.stop_grace, Arc::clone(&logs));
    let forward = Forward::start({
        let logs = Arc::clone(&logs);
        Arc::new(move |level, message: &str| logs.log_reported(level, message))
    });
    let health = Arc::new(Health::new(
        Arc::clone(&clock),
        options.seconds_without_events,
        options.last_heartbeat_threshold,
    ));
    let metrics = Arc::new(TriggerMetrics::default());
    let monitoring_error = |what: &str, port: u16, error: std::io::Error| {
        let message = format!(
            "cannot serve the {what} on port {port}: {error}. Set `{what}_port` to a free port"
        );
        logging::echo_to_stderr(Level::Error, &message);
        logs.log(Level::Error, &message);
    };
    let liveness = start_liveness(liveness_port, Arc::clone(&health), Arc::clone(&logs))
        .map_err(|error| monitoring_error("liveness", liveness_port, error))
        .ok();
    let exporter = start_metrics(
        metrics_port,
        Arc::clone(&metrics),
        Arc::clone(&health),
        Arc::clone(&logs),
    )
    .map_err(|error| monitoring_error("metrics", metrics_port, error))
    .ok();
    if let (Some(liveness), Some(exporter)) = (&liveness, &exporter) {
        log::debug!(
            "liveness on port {}, metrics on port {}",
            liveness.port(),
            exporter.port()
        );
    }

    let client = callback.client.clone().with_sleeper({
        let stop = Arc::clone(&stop);
        move |wait| stop.sleep(wait)
    });
    let events = EventSender::new(&callback.url, client.clone());
    drop(token);
    let runtime = Runtime {
        stop: Arc::clone(&stop),
        clock,
        health,
        logs: Arc::clone(&logs),
        metrics,
        events,
        max_events: environment.settings.max_events,
        source: environment.source.clone(),
        backoff_unit: environment.settings.retry_backoff,
        settings: environment.settings.clone(),
        vendor: std::sync::OnceLock::new(),
        trigger_configuration_uuid: Runtime::configuration_uuid(
            &environment.source,
            "trigger_configuration_uuid",
        ),
        connector_configuration_uuid: Runtime::configuration_uuid(
            &environment.source,
            "connector_configuration_uuid",
        ),
    };
    let code = run_loop(&mut trigger, environment, &runtime, &client, &secrets_url);

    // Exit: logs flushed first (by the end of the stop grace; what the
    // platform did not take by then goes to stderr), then the listeners
    // closed at once.
    drop(forward);
    // The platform's logs first: the Sentry sender has been sending all
    // along, and by the same deadline it drops what is left.
    let deadline = stop_grace::flush_deadline(&stop, options.stop_grace);
    logs.shutdown_by(deadline);
    crate::runtime::sentry::shutdown_by(deadline);
    drop(liveness);
    drop(exporter);
    drop(watchdog);
    drop(signals);
    drop(signals_elsewhere);
    code
}

/// Fetches the secrets, then runs the trigger again and again until it is
/// stopped.
fn run_loop<T: Trigger>(
    trigger: &mut T,
    environment: &Environment,
    runtime: &Runtime,
    client: &PlatformClient,
    secrets_url: &str,
) -> ExitCode {
    let fetched = crate::runtime::secrets::fetch_secrets(client, secrets_url, |wait| {
        runtime.stop.sleep(wait)
    });
    let (secrets, node_secrets) = match fetched {
        Ok(secrets) => secrets,
        Err(_) if runtime.stop.is_stopped() => return ExitCode::SUCCESS,
        Err(error) => {
            let message = format!("cannot fetch the trigger's secrets: {error}");
            logging::echo_to_stderr(Level::Error, &message);
            runtime.logs.log(Level::Error, &message);
            return ExitCode::FAILURE;
        }
    };
    let data_directory = match environment.data_directory_until(Some(&runtime.stop)) {
        Ok(data_directory) => data_directory,
        // A stop during the bucket check's waits: a clean exit.
        Err(_) if runtime.stop.is_stopped() => return ExitCode::SUCCESS,
        Err(error) => {
            log_exception(runtime, &error);
            log(
                runtime,
                Level::Critical,
                "Impossible access the object storage",
            );
            return ExitCode::FAILURE;
        }
    };
    let mut configurations = None;
    let mut backoff = RestartBackoff::default();
    while !runtime.stop.is_stopped() {
        let started = runtime.clock.now();
        let sent_before = runtime.metrics.events_sent();
        let failed = execute_once(
            trigger,
            environment,
            runtime,
            &data_directory,
            &secrets,
            &node_secrets,
            &mut configurations,
        );
        let ended = runtime.clock.now();
        let mut wait = backoff.after_run(
            failed,
            runtime.metrics.events_sent() > sent_before,
            clock::elapsed(started, ended),
        );
        if runtime.logs.critical_sent() {
            // Keep the trigger from producing more errors until it is
            // stopped (or the wait ends).
            wait = wait.max(CRITICAL_WAIT);
        }
        if !wait.is_zero() && !runtime.stop.is_stopped() {
            if !runtime.logs.critical_sent() {
                log::debug!("running the trigger again in {wait:?}");
            }
            runtime
                .stop
                .sleep_until(&*runtime.clock, clock::add(ended, wait));
        }
    }
    ExitCode::SUCCESS
}

type Configurations<T> = (
    <T as Trigger>::ModuleConfiguration,
    <T as Trigger>::Configuration,
);

/// One call of `run`, and how its end is handled: whether it failed (a
/// configuration error, an `Err` or a panic; not a stop).
fn execute_once<T: Trigger>(
    trigger: &mut T,
    environment: &Environment,
    runtime: &Runtime,
    data_directory: &DataDirectory,
    secrets: &Map<String, Value>,
    node_secrets: &Map<String, Value>,
    configurations: &mut Option<Configurations<T>>,
) -> bool {
    let loaded = match configurations {
        Some(loaded) => loaded,
        None => match load_configurations::<T>(environment, secrets, node_secrets) {
            Ok(loaded) => configurations.insert(loaded),
            Err(error) => {
                log_exception(runtime, &error);
                log(runtime, Level::Critical, "Configuration error");
                runtime.metrics.run_failed();
                return true;
            }
        },
    };
    let ctx = TriggerContext::<T>::new(&loaded.0, &loaded.1, data_directory, runtime);
    let error = match crate::runtime::panic::catch_panic(|| trigger.run(&ctx)) {
        Ok(Ok(())) => return false,
        Ok(Err(error)) => error,
        Err(panic) => TriggerError::msg(panic),
    };
    if runtime.stop.is_stopped() && is_interrupted(&error) {
        log::debug!("stopping: {error}");
        return false;
    }
    runtime.metrics.run_failed();
    match error.kind() {
        FailureKind::Configuration => {
            log_exception(runtime, &error);
            log(runtime, Level::Critical, "Configuration error");
        }
        _ if !error.counts() => {
            // The platform's trouble (status ≥ 500): not the trigger's error.
            log_exception(runtime, &error);
        }
        _ => {
            log_exception(runtime, &error);
            let count = runtime.health.count_error();
            let now = runtime.clock.now();
            if is_error_critical(
                count,
                runtime.logs.critical_sent(),
                runtime.health.startup(),
                runtime.health.last_event(),
                now,
            ) {
                log(
                    runtime,
                    Level::Critical,
                    &format!("{count} successive uncatched errors"),
                );
            }
        }
    }
    true
}

/// A send refused or abandoned because the trigger is stopping, or an S3
/// request of the file backend abandoned in a retry wait by the stop.
fn is_interrupted(error: &TriggerError) -> bool {
    matches!(
        error.downcast_ref::<SendEventError>(),
        Some(
            SendEventError::Stopped { .. }
                | SendEventError::Http {
                    cause: HttpError::Interrupted { .. },
                    ..
                }
        )
    ) || matches!(
        crate::storage::s3::error::s3_cause(error.error()),
        Some(crate::storage::s3::S3Error::Request { cause, .. })
            if matches!(**cause, HttpError::Interrupted { .. })
    )
}

/// The Python SDK's `Trigger.log_exception`: an `error` record
/// `"An exception occurred\n<error>"`, and the error reported to Sentry as
/// an exception (not as a message), when the rate limit admitted the record.
fn log_exception(runtime: &Runtime, error: &dyn std::fmt::Display) {
    let message = format!("An exception occurred\n{error}");
    logging::echo_to_stderr(Level::Error, &redact::scrub(&message));
    if runtime.logs.queue(Level::Error, &message).is_some() {
        crate::runtime::sentry::capture_exception("TriggerError", &error.to_string());
    }
}

fn log(runtime: &Runtime, level: Level, message: &str) {
    logging::echo_to_stderr(level, &redact::scrub(message));
    runtime.logs.log_reported(level, message);
}

/// The module configuration (every `value` key merged in, as the Python
/// SDK's `set_secrets`) and the trigger configuration (non-null
/// `node_value` keys overlaid).
fn load_configurations<T: Trigger>(
    environment: &Environment,
    secrets: &Map<String, Value>,
    node_secrets: &Map<String, Value>,
) -> Result<Configurations<T>, ConfigurationError> {
    let manifest = environment.manifest()?;
    let (module, _) =
        crate::runtime::configuration::load_module_configuration::<T::ModuleConfiguration>(
            environment,
            &manifest,
            secrets.clone(),
            crate::runtime::configuration::ModuleReader::Trigger,
        )?;
    let trigger = crate::runtime::configuration::load_trigger_configuration::<T::Configuration>(
        environment,
        node_secrets,
    )?;
    Ok((module, trigger))
}

fn cannot_start(error: &str) -> ExitCode {
    logging::echo_to_stderr(
        Level::Critical,
        &format!("cannot start the trigger: {error}"),
    );
    eprintln!("error: cannot start the trigger: {}", redact::scrub(error));
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::clock::{add, at_micros};

    const HOUR: u64 = 3600;

    fn critical_after(uptime: u64, since_event: u64) -> bool {
        let start = at_micros(1_700_000_000_000_000);
        let now = add(start, Duration::from_secs(uptime));
        let last_event = add(start, Duration::from_secs(uptime - since_event));
        is_error_critical(5, false, start, last_event, now)
    }

    #[test]
    fn the_grace_period_depends_on_the_uptime() {
        // Startup grace: nothing is critical in the first 30 minutes.
        assert!(!critical_after(29 * 60, 29 * 60));
        assert!(critical_after(30 * 60, 6 * 60));
        assert!(!critical_after(30 * 60, 6 * 60 - 1));
        // 1 hour up: 12 minutes; 12 hours: 2.4 hours; 1 day: 4.8 hours.
        assert!(critical_after(HOUR, 12 * 60));
        assert!(!critical_after(HOUR, 12 * 60 - 1));
        assert!(critical_after(12 * HOUR, 144 * 60));
        assert!(!critical_after(12 * HOUR, 144 * 60 - 1));
        assert!(critical_after(24 * HOUR, 288 * 60));
        // The uptime is capped at 5 days: 24 hours, even after 10 days.
        assert!(critical_after(10 * 24 * HOUR, 24 * HOUR));
        assert!(!critical_after(10 * 24 * HOUR, 24 * HOUR - 1));
    }

    #[test]
    fn fewer_than_five_errors_or_a_sent_critical_are_never_critical() {
        let start = at_micros(0);
        let now = add(start, Duration::from_secs(10 * HOUR));
        assert!(!is_error_critical(4, false, start, start, now));
        assert!(is_error_critical(5, false, start, start, now));
        assert!(is_error_critical(50, false, start, start, now));
        assert!(!is_error_critical(50, true, start, start, now));
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn is_error_critical_example() {
        use crate::trigger::clock::{add, at_micros};
        use crate::trigger::runner::is_error_critical;
        use std::time::Duration;

        let start = at_micros(0);
        let now = add(start, Duration::from_secs(3600));
        let last_event = add(start, Duration::from_secs(48 * 60));
        assert!(
            is_error_critical(5, false, start, last_event, now),
            "12 minutes without events"
        );
        assert!(
            !is_error_critical(4, false, start, last_event, now),
            "only 4 errors"
        );
        assert!(
            !is_error_critical(5, true, start, last_event, now),
            "a critical was already sent"
        );
    }
}
