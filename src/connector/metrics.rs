//! The connector metrics of docs/protocol.md §5 (*Metrics*), with their exact
//! names, types, help texts and label, in the process's
//! [`MetricsRegistry`].

use std::time::Duration;

use crate::connector::registry::{
    Counter, DEFAULT_BUCKETS, Gauge, Histogram, MetricConflict, MetricsRegistry,
};

fn keep<M>(result: Result<M, MetricConflict>) -> Option<M> {
    result
        .map_err(|conflict| log::warn!("connector metric not exposed: {conflict}"))
        .ok()
}

/// `symphony_module_common_forwarded_events` (counter, exposed `_total`).
pub const FORWARDED_EVENTS: &str = "symphony_module_common_forwarded_events";
/// `symphony_module_common_forward_events_duration` (histogram).
pub const FORWARD_EVENTS_DURATION: &str = "symphony_module_common_forward_events_duration";
/// `symphony_module_common_discarded_events` (counter, exposed `_total`).
pub const DISCARDED_EVENTS: &str = "symphony_module_common_discarded_events";
/// `symphony_module_common_events_lags` (gauge).
pub const EVENTS_LAGS: &str = "symphony_module_common_events_lags";

/// The four metrics, for one intake key. A metric whose name module code
/// registered first with another type is skipped (and said so), the others
/// work.
#[derive(Debug, Clone)]
pub(crate) struct ConnectorMetrics {
    intake_key: String,
    forwarded: Option<Counter>,
    duration: Option<Histogram>,
    discarded: Option<Counter>,
    lags: Option<Gauge>,
}

impl ConnectorMetrics {
    pub(crate) fn register(registry: &MetricsRegistry, intake_key: &str) -> Self {
        let label = ["intake_key"];
        ConnectorMetrics {
            intake_key: intake_key.to_string(),
            forwarded: keep(registry.counter(
                FORWARDED_EVENTS,
                "Number of events forwarded to Sekoia.io",
                &label,
            )),
            duration: keep(registry.histogram(
                FORWARD_EVENTS_DURATION,
                "Duration of the forward events",
                &label,
                DEFAULT_BUCKETS,
            )),
            discarded: keep(registry.counter(
                DISCARDED_EVENTS,
                "Number of events discarded from the collect",
                &label,
            )),
            lags: keep(registry.gauge(
                EVENTS_LAGS,
                "The delay (seconds) from the date of the last event",
                &label,
            )),
        }
    }

    pub(crate) fn forwarded(&self, events: u64) {
        if let Some(counter) = &self.forwarded {
            counter.inc_by(&[&self.intake_key], events as f64);
        }
    }

    pub(crate) fn duration(&self, elapsed: Duration) {
        if let Some(histogram) = &self.duration {
            histogram.observe(&[&self.intake_key], elapsed.as_secs_f64());
        }
    }

    pub(crate) fn discarded(&self, events: u64) {
        if events > 0
            && let Some(counter) = &self.discarded
        {
            counter.inc_by(&[&self.intake_key], events as f64);
        }
    }

    pub(crate) fn lag(&self, seconds: f64) {
        if let Some(gauge) = &self.lags {
            gauge.set(&[&self.intake_key], seconds);
        }
    }
}
