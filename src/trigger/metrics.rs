//! A trigger's metrics, served in the Prometheus text exposition format
//! (version 0.0.4) on `metrics_port`, whatever the path, as the Python SDK's
//! exporter does.
//!
//! | metric | type | what |
//! | --- | --- | --- |
//! | `symphony_module_trigger_events_sent_total` | counter | events the platform accepted |
//! | `symphony_module_trigger_event_send_failures_total` | counter | events not sent (after the retries) |
//! | `symphony_module_trigger_run_failures_total` | counter | runs of the trigger that failed |
//! | `symphony_module_trigger_consecutive_errors` | gauge | counted errors since the last event |
//! | `symphony_module_trigger_logs_sent_total` | counter | log records the platform accepted |
//! | `symphony_module_trigger_logs_dropped_total{reason}` | counter | log records not sent: `rate_limited`, `overflow` |
//! | `symphony_module_trigger_log_send_failures_total` | counter | log requests that failed |
//! | `process_resident_memory_bytes` | gauge | resident memory (Linux) |
//! | `process_cpu_seconds_total` | counter | user and system CPU time (Linux) |

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::trigger::liveness::{Health, MonitoringServer, Reply};
use crate::trigger::log_shipper::LogShipper;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The prefix of the trigger's metric names.
pub const NAMESPACE: &str = "symphony_module_trigger";

/// The trigger's own counters (the log and health figures are read from
/// the log shipper and the [`Health`]).
#[derive(Debug, Default)]
pub struct TriggerMetrics {
    events_sent: AtomicU64,
    event_send_failures: AtomicU64,
    run_failures: AtomicU64,
}

impl TriggerMetrics {
    /// Counts a sent event.
    pub fn event_sent(&self) {
        self.events_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an event that could not be sent.
    pub fn event_send_failed(&self) {
        self.event_send_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed run of the trigger.
    pub fn run_failed(&self) {
        self.run_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Events sent.
    pub fn events_sent(&self) -> u64 {
        self.events_sent.load(Ordering::Relaxed)
    }

    /// Events that could not be sent.
    pub fn event_send_failures(&self) -> u64 {
        self.event_send_failures.load(Ordering::Relaxed)
    }

    /// Failed runs.
    pub fn run_failures(&self) -> u64 {
        self.run_failures.load(Ordering::Relaxed)
    }
}

/// One sample to render.
struct Sample<'a> {
    name: &'a str,
    kind: &'a str,
    help: &'a str,
    labels: &'a str,
    value: f64,
}

/// Renders the exposition text for a trigger.
pub fn render(
    metrics: &TriggerMetrics,
    health: Option<&Health>,
    logs: Option<&LogShipper>,
) -> String {
    let mut samples = vec![
        Sample {
            name: "events_sent_total",
            kind: "counter",
            help: "Events the platform accepted.",
            labels: "",
            value: metrics.events_sent() as f64,
        },
        Sample {
            name: "event_send_failures_total",
            kind: "counter",
            help: "Events not sent after the retries.",
            labels: "",
            value: metrics.event_send_failures() as f64,
        },
        Sample {
            name: "run_failures_total",
            kind: "counter",
            help: "Runs of the trigger that failed.",
            labels: "",
            value: metrics.run_failures() as f64,
        },
    ];
    if let Some(health) = health {
        samples.push(Sample {
            name: "consecutive_errors",
            kind: "gauge",
            help: "Counted errors since the last event.",
            labels: "",
            value: health.error_count() as f64,
        });
    }
    if let Some(logs) = logs {
        let counters = logs.counters();
        samples.push(Sample {
            name: "logs_sent_total",
            kind: "counter",
            help: "Log records the platform accepted.",
            labels: "",
            value: counters.sent() as f64,
        });
        samples.push(Sample {
            name: "logs_dropped_total",
            kind: "counter",
            help: "Log records not sent.",
            labels: "reason=\"rate_limited\"",
            value: counters.rate_limited() as f64,
        });
        samples.push(Sample {
            name: "logs_dropped_total",
            kind: "counter",
            help: "Log records not sent.",
            labels: "reason=\"overflow\"",
            value: counters.overflowed() as f64,
        });
        samples.push(Sample {
            name: "log_send_failures_total",
            kind: "counter",
            help: "Log requests that failed after the retries.",
            labels: "",
            value: counters.failed_requests() as f64,
        });
    }
    let mut text = String::with_capacity(2048);
    let mut previous = "";
    for sample in &samples {
        if sample.name != previous {
            let _ = writeln!(text, "# HELP {NAMESPACE}_{} {}", sample.name, sample.help);
            let _ = writeln!(text, "# TYPE {NAMESPACE}_{} {}", sample.name, sample.kind);
            previous = sample.name;
        }
        let labels = if sample.labels.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", sample.labels)
        };
        let _ = writeln!(text, "{NAMESPACE}_{}{labels} {}", sample.name, sample.value);
    }
    text.push_str(&crate::connector::MetricsRegistry::global().render());
    render_process(&mut text);
    text
}

/// `process_resident_memory_bytes` and `process_cpu_seconds_total`, from
/// `/proc/self` (nothing elsewhere).
fn render_process(text: &mut String) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the command name (which may hold spaces): state is 3rd.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    let ticks = 100.0; // USER_HZ on Linux
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        let _ = writeln!(
            text,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds."
        );
        let _ = writeln!(text, "# TYPE process_cpu_seconds_total counter");
        let _ = writeln!(
            text,
            "process_cpu_seconds_total {}",
            (utime + stime) / ticks
        );
    }
    if let Some(pages) = field(24) {
        let _ = writeln!(
            text,
            "# HELP process_resident_memory_bytes Resident memory size in bytes."
        );
        let _ = writeln!(text, "# TYPE process_resident_memory_bytes gauge");
        let _ = writeln!(text, "process_resident_memory_bytes {}", pages * 4096.0);
    }
}

/// Starts the metrics endpoint on `port` (all interfaces; 0 picks a free port).
pub(crate) fn start_metrics(
    port: u16,
    metrics: Arc<TriggerMetrics>,
    health: Arc<Health>,
    logs: Arc<LogShipper>,
) -> io::Result<MonitoringServer> {
    MonitoringServer::start("sekoia-metrics", port, move |method, _target| {
        if method != "GET" {
            return Reply::unsupported(method);
        }
        Reply {
            status: 200,
            content_type: CONTENT_TYPE,
            body: render(&metrics, Some(&health), Some(&logs)).into_bytes(),
        }
    })
}

#[cfg(test)]
mod examples {
    #[test]
    fn trigger_metrics_example() {
        use crate::trigger::metrics::TriggerMetrics;
        let metrics = TriggerMetrics::default();
        metrics.event_sent();
        assert_eq!(metrics.events_sent(), 1);
    }

    #[test]
    fn render_example() {
        use crate::trigger::metrics::{TriggerMetrics, render};
        let metrics = TriggerMetrics::default();
        metrics.event_sent();
        let text = render(&metrics, None, None);
        assert!(text.contains("# TYPE symphony_module_trigger_events_sent_total counter\n"));
        assert!(text.contains("\nsymphony_module_trigger_events_sent_total 1\n"));
    }
}
