//! [`MetricsRegistry`]: the process's metrics beyond the trigger's own,
//! served in the same exposition on `metrics_port`: the connector metrics
//! of docs/protocol.md §5 (*Metrics*) and whatever module code registers.
//!
//! Registering a name that is already registered with the same type gives
//! the same family back (the module's series and the SDK's sit side by
//! side, whatever their labels); with another type it is an error for the
//! caller, and the metric already there keeps working (the Python SDK
//! silently disables its own metric: flaw F17).
//!
//! The exposition follows `prometheus_client` 0.26 (the Python SDK's):
//! counters as `<name>_total` plus `<name>_created`, histograms as
//! `_bucket`/`_sum`/`_count` plus `_created`, values as Python floats
//! (`1.0`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::wire::timestamp::Timestamp;

/// The type of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted in buckets.
    Histogram,
}

impl MetricKind {
    fn name(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// A name registered twice with different types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the metric `{name}` is already registered as a {existing}, not a {wanted}: give your metric another name (the registered one keeps working)"
)]
#[non_exhaustive]
pub struct MetricConflict {
    /// The metric name.
    pub name: String,
    /// The registered type.
    pub existing: &'static str,
    /// The type asked for.
    pub wanted: &'static str,
}

#[derive(Debug, Default)]
struct Series {
    value: f64,
    created: f64,
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    kind: MetricKind,
    label_names: Vec<String>,
    bounds: Vec<f64>,
    series: Mutex<BTreeMap<Vec<String>, Series>>,
}

impl Family {
    fn with<R>(&self, labels: &[&str], change: impl FnOnce(&mut Series) -> R) -> R {
        let key: Vec<String> = labels.iter().map(|label| label.to_string()).collect();
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = series.entry(key).or_insert_with(|| Series {
            created: Timestamp::now().micros_since_epoch() as f64 / 1e6,
            buckets: vec![0; self.bounds.len()],
            ..Series::default()
        });
        change(entry)
    }
}

/// A counter family; `labels` are its label values, in the order of its
/// label names.
#[derive(Debug, Clone)]
pub struct Counter(Arc<Family>);

impl Counter {
    /// Adds `by` to the series of `labels`.
    pub fn inc_by(&self, labels: &[&str], by: f64) {
        self.0.with(labels, |series| series.value += by.max(0.0));
    }

    /// The value of the series of `labels` (0 when absent).
    pub fn get(&self, labels: &[&str]) -> f64 {
        self.0.with(labels, |series| series.value)
    }
}

/// A gauge family.
#[derive(Debug, Clone)]
pub struct Gauge(Arc<Family>);

impl Gauge {
    /// Sets the series of `labels`.
    pub fn set(&self, labels: &[&str], value: f64) {
        self.0.with(labels, |series| series.value = value);
    }

    /// The value of the series of `labels`.
    pub fn get(&self, labels: &[&str]) -> f64 {
        self.0.with(labels, |series| series.value)
    }
}

/// A histogram family.
#[derive(Debug, Clone)]
pub struct Histogram(Arc<Family>);

impl Histogram {
    /// Records one observation in the series of `labels`.
    pub fn observe(&self, labels: &[&str], value: f64) {
        let bounds = &self.0.bounds;
        self.0.with(labels, |series| {
            for (bucket, bound) in series.buckets.iter_mut().zip(bounds) {
                if value <= *bound {
                    *bucket += 1;
                }
            }
            series.sum += value;
            series.count += 1;
        });
    }

    /// The number of observations of the series of `labels`.
    pub fn count(&self, labels: &[&str]) -> u64 {
        self.0.with(labels, |series| series.count)
    }
}

/// The default histogram buckets of `prometheus_client`.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The process's metrics registry, rendered after the trigger's own
/// metrics on `metrics_port`.
///
/// ```
/// use sekoia_automation::metrics::MetricsRegistry;
///
/// let registry = MetricsRegistry::global();
/// let pages = registry.counter("mymodule_pages_fetched", "Pages fetched", &["intake_key"])?;
/// pages.inc_by(&["KEY"], 1.0);
/// assert!(registry.render().contains("mymodule_pages_fetched_total{intake_key=\"KEY\"} 1.0\n"));
/// # Ok::<(), sekoia_automation::metrics::MetricConflict>(())
/// ```
#[derive(Debug, Default)]
pub struct MetricsRegistry {
    families: Mutex<Vec<Arc<Family>>>,
}

impl MetricsRegistry {
    /// The process-wide registry.
    pub fn global() -> &'static MetricsRegistry {
        static GLOBAL: OnceLock<MetricsRegistry> = OnceLock::new();
        GLOBAL.get_or_init(MetricsRegistry::default)
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        kind: MetricKind,
        labels: &[&str],
        bounds: &[f64],
    ) -> Result<Arc<Family>, MetricConflict> {
        let name = name.strip_suffix("_total").unwrap_or(name);
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(family) = families.iter().find(|family| family.name == name) {
            if family.kind != kind {
                return Err(MetricConflict {
                    name: name.to_string(),
                    existing: family.kind.name(),
                    wanted: kind.name(),
                });
            }
            return Ok(Arc::clone(family));
        }
        let family = Arc::new(Family {
            name: name.to_string(),
            help: help.to_string(),
            kind,
            label_names: labels.iter().map(|label| label.to_string()).collect(),
            bounds: bounds.to_vec(),
            series: Mutex::new(BTreeMap::new()),
        });
        families.push(Arc::clone(&family));
        Ok(family)
    }

    /// A counter (exposed as `<name>_total`); the registered one when the
    /// name is already a counter.
    ///
    /// # Errors
    ///
    /// The name is registered with another type.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<Counter, MetricConflict> {
        self.register(name, help, MetricKind::Counter, labels, &[])
            .map(Counter)
    }

    /// A gauge; the registered one when the name is already a gauge.
    ///
    /// # Errors
    ///
    /// The name is registered with another type.
    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> Result<Gauge, MetricConflict> {
        self.register(name, help, MetricKind::Gauge, labels, &[])
            .map(Gauge)
    }

    /// A histogram with these bucket bounds (`+Inf` added); the registered
    /// one when the name is already a histogram.
    ///
    /// # Errors
    ///
    /// The name is registered with another type.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Result<Histogram, MetricConflict> {
        self.register(name, help, MetricKind::Histogram, labels, buckets)
            .map(Histogram)
    }

    /// The text exposition of every family.
    pub fn render(&self) -> String {
        let families: Vec<Arc<Family>> = self
            .families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut text = String::new();
        for family in families {
            render_family(&family, &mut text);
        }
        text
    }
}

/// A float as Python's `repr` prints it in the exposition.
fn float(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value == value.trunc() && value.abs() < 1e16 {
        return format!("{value:.1}");
    }
    crate::connector::event::compact_json(&value).unwrap_or_default()
}

fn labels(names: &[String], values: &[String], extra: Option<(&str, &str)>) -> String {
    let mut pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
        .collect();
    if let Some((name, value)) = extra {
        pairs.push(format!("{name}=\"{value}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('"', "\\\"")
}

fn render_family(family: &Family, text: &mut String) {
    let series = family.series.lock().unwrap_or_else(PoisonError::into_inner);
    let name = &family.name;
    let help = family.help.replace('\\', "\\\\").replace('\n', "\\n");
    let label_names = &family.label_names;
    match family.kind {
        MetricKind::Counter => {
            let _ = writeln!(text, "# HELP {name}_total {help}");
            let _ = writeln!(text, "# TYPE {name}_total counter");
            for (values, series) in series.iter() {
                let labels = labels(label_names, values, None);
                let _ = writeln!(text, "{name}_total{labels} {}", float(series.value));
            }
            let _ = writeln!(text, "# HELP {name}_created {help}");
            let _ = writeln!(text, "# TYPE {name}_created gauge");
            for (values, series) in series.iter() {
                let labels = labels(label_names, values, None);
                let _ = writeln!(text, "{name}_created{labels} {}", float(series.created));
            }
        }
        MetricKind::Gauge => {
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} gauge");
            for (values, series) in series.iter() {
                let labels = labels(label_names, values, None);
                let _ = writeln!(text, "{name}{labels} {}", float(series.value));
            }
        }
        MetricKind::Histogram => {
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} histogram");
            for (values, series) in series.iter() {
                for (bound, count) in family.bounds.iter().zip(&series.buckets) {
                    let labels = labels(label_names, values, Some(("le", &float(*bound))));
                    let _ = writeln!(text, "{name}_bucket{labels} {}", float(*count as f64));
                }
                let labels_inf = labels(label_names, values, Some(("le", "+Inf")));
                let _ = writeln!(
                    text,
                    "{name}_bucket{labels_inf} {}",
                    float(series.count as f64)
                );
                let plain = labels(label_names, values, None);
                let _ = writeln!(text, "{name}_count{plain} {}", float(series.count as f64));
                let _ = writeln!(text, "{name}_sum{plain} {}", float(series.sum));
            }
            let _ = writeln!(text, "# HELP {name}_created {help}");
            let _ = writeln!(text, "# TYPE {name}_created gauge");
            for (values, series) in series.iter() {
                let labels = labels(label_names, values, None);
                let _ = writeln!(text, "{name}_created{labels} {}", float(series.created));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_registered_twice_shares_one_family_and_a_type_clash_disables_nothing() {
        let registry = MetricsRegistry::default();
        let sdk = registry
            .counter(
                "symphony_module_common_forwarded_events",
                "Number of events forwarded to Sekoia.io",
                &["intake_key"],
            )
            .unwrap();
        let module = registry
            .counter(
                "symphony_module_common_forwarded_events",
                "module's help",
                &["intake_key"],
            )
            .unwrap();
        sdk.inc_by(&["K"], 2.0);
        module.inc_by(&["K"], 3.0);
        assert_eq!(sdk.get(&["K"]), 5.0);
        let clash = registry
            .gauge("symphony_module_common_forwarded_events", "x", &[])
            .unwrap_err();
        assert!(
            clash
                .to_string()
                .contains("already registered as a counter")
        );
        sdk.inc_by(&["K"], 1.0);
        let text = registry.render();
        assert!(text.contains("# HELP symphony_module_common_forwarded_events_total Number of events forwarded to Sekoia.io\n# TYPE symphony_module_common_forwarded_events_total counter\nsymphony_module_common_forwarded_events_total{intake_key=\"K\"} 6.0\n"), "{text}");
        assert_eq!(
            text.matches("# TYPE symphony_module_common_forwarded_events_total")
                .count(),
            1
        );
    }

    #[test]
    fn histograms_are_exposed_as_prometheus_client_exposes_them() {
        let registry = MetricsRegistry::default();
        let histogram = registry
            .histogram("d", "Duration", &["intake_key"], DEFAULT_BUCKETS)
            .unwrap();
        histogram.observe(&["K"], 0.3);
        let text = registry.render();
        assert!(
            text.contains("d_bucket{intake_key=\"K\",le=\"0.25\"} 0.0\n"),
            "{text}"
        );
        assert!(text.contains("d_bucket{intake_key=\"K\",le=\"0.5\"} 1.0\n"));
        assert!(text.contains("d_bucket{intake_key=\"K\",le=\"+Inf\"} 1.0\nd_count{intake_key=\"K\"} 1.0\nd_sum{intake_key=\"K\"} 0.3\n"));
    }
}
