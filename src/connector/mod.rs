//! Connectors: items that collect events from a source and push them to a
//! Sekoia.io intake (PROTOCOL-connectors §1–3), wire-identical to the Python
//! SDK 1.27's `Connector` and free of its ways of losing events.
//!
//! - [`Connector`] (the item kind, registered like actions and triggers),
//!   [`Page`] (the default polling loop's step), [`ConnectorOptions`];
//! - [`ConnectorContext`]: configuration and intake key,
//!   [`push_events`](ConnectorContext::push_events), checkpoints, metrics;
//! - pushing: [`IntakeEvent`]/[`Json`] (what an event becomes),
//!   [`Acknowledgement`] / [`PushError`] / [`PushReport`] (what happened to
//!   each event);
//! - checkpoints: [`CheckpointDatetime`], [`CheckpointTimestamp`],
//!   [`CheckpointCursor`] in one shared [`ContextFile`], advanced only with
//!   an [`Acknowledgement`];
//! - metrics: [`MetricsRegistry`] (the connector's four metrics and the
//!   module's own, in one exposition).
//!
//! # A connector
//!
//! ```no_run
//! use sekoia_automation::connector::{Connector, ConnectorContext};
//! use sekoia_automation::{Module, TriggerError};
//! use std::time::Duration;
//!
//! struct Heartbeats;
//!
//! impl Connector for Heartbeats {
//!     type ModuleConfiguration = ();
//!     type Configuration = serde_json::Value;
//!     type Event = String;
//!     const NAME: &'static str = "Heartbeats";
//!     const DESCRIPTION: &'static str = "Push a line every minute";
//!
//!     fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
//!         let mut cursor = ctx.checkpoint_cursor::<u64>();
//!         let mut next = cursor.offset()?.unwrap_or(0);
//!         while ctx.running() {
//!             let acknowledged = ctx.push_events([format!("beat {next}")])?;
//!             next += 1;
//!             cursor.advance(next, &acknowledged)?;
//!             ctx.sleep(Duration::from_secs(60));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Module::<()>::new().register("heartbeats", Heartbeats).run()
//! }
//! ```

mod acknowledgement;
mod checkpoint;
mod chunk;
mod configuration;
#[allow(clippy::module_inception)]
mod connector;
mod context;
mod context_file;
mod event;
mod iso8601;
pub(crate) mod item;
mod metrics;
mod polling;
mod push;
mod registry;
mod sender;

pub use acknowledgement::{
    Acknowledgement, EventOutcome, IntakeId, PushCounts, PushError, PushReport, Refusal,
};
pub use checkpoint::{
    Acknowledges, CURSOR_KEY, CheckpointCursor, CheckpointDatetime, CheckpointError,
    CheckpointTimestamp, DATE_KEY, TimeUnit,
};
pub use chunk::{MAX_BODY_BYTES, MAX_CHUNK_CHARS, MAX_EVENT_BYTES, MAX_EVENT_CHARS};
pub use configuration::{
    CONNECTOR_CONFIGURATION, DEFAULT_INTAKE_SERVER, INTAKE_URL, IntakeSettings,
};
pub use connector::{
    Connector, ConnectorOptions, DEFAULT_FREQUENCY, DEFAULT_STOP_GRACE, Page,
    SECONDS_WITHOUT_EVENTS,
};
pub use context::ConnectorContext;
pub use context_file::{CONTEXT_FILE, ContextFile};
pub use event::{IntakeEvent, Json, write_compact};
pub use metrics::{DISCARDED_EVENTS, EVENTS_LAGS, FORWARD_EVENTS_DURATION, FORWARDED_EVENTS};
pub use push::MAX_IN_FLIGHT;
pub use registry::{
    Counter, DEFAULT_BUCKETS, Gauge, Histogram, MetricConflict, MetricKind, MetricsRegistry,
};
pub use sender::{RETRY_DEADLINE, backoff_units, batch_url};

pub(crate) use configuration::schema as configuration_schema;
