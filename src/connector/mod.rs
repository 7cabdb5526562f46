//! Connectors: items that collect events from a source and push them to a
//! Sekoia.io intake (docs/protocol.md §5), wire-identical to the Python
//! SDK 1.27's `Connector` and free of its ways of losing events.
//!
//! - [`Connector`] (the item kind, registered like actions and triggers),
//!   [`PollingConnector`] and [`Page`] (the polling loop and its step,
//!   whose [`Backlog`] says whether to poll again at once),
//!   [`ConnectorOptions`];
//! - [`ConnectorContext`]: configuration and intake key,
//!   [`push_events`](ConnectorContext::push_events), checkpoints, metrics;
//! - pushing: [`IntakeEvent`]/[`JsonEvent`] (what an event becomes, written
//!   by an [`EventWriter`] straight into its request),
//!   [`Acknowledgement`] / [`PushError`] / [`PushReport`] (what happened to
//!   each event);
//! - handing events to playbook runs, as the Python SDK's older
//!   connectors did: [`send_records`](ConnectorContext::send_records),
//!   [`forward_events`](ConnectorContext::forward_events)
//!   ([`RecordsOptions`], [`RecordsError`]);
//! - checkpoints: [`CheckpointDatetime`], [`CheckpointTimestamp`],
//!   [`CheckpointCursor`] in one shared [`ContextFile`], advanced only with
//!   an [`Acknowledgement`];
//! - polling by date range: [`TimeStepper`] (successive [`TimeWindow`]s);
//!   dates as [`Timestamp`]s (ISO 8601 in and out);
//! - size limits: [`MAX_EVENT_CHARS`], [`MAX_EVENT_BYTES`],
//!   [`MAX_CHUNK_CHARS`], [`MAX_BODY_BYTES`] (the Python SDK's
//!   `EVENT_BYTES_MAX_SIZE`, `CHUNK_BYTES_MAX_SIZE`,
//!   `INTAKE_PAYLOAD_BYTES_MAX_SIZE`);
//! - metrics: [`MetricsRegistry`] (the connector's four metrics and the
//!   module's own, in one exposition).
//!
//! # A connector
//!
//! ```no_run
//! use sekoia_automation::{Connector, ConnectorContext};
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
mod records;
pub(crate) mod registry;
mod sender;
mod time_stepper;

pub use acknowledgement::{
    Acknowledgement, EventOutcome, IntakeId, PushCounts, PushError, PushReport, Refusal,
};
// The size limits (the Python SDK's `sekoia_automation.constants`): each
// constant names its Python twin and says where the crate differs.
pub use checkpoint::{
    Acknowledges, CheckpointCursor, CheckpointDatetime, CheckpointError, CheckpointTimestamp,
    TimeUnit,
};
pub use chunk::{MAX_BODY_BYTES, MAX_CHUNK_CHARS, MAX_EVENT_BYTES, MAX_EVENT_CHARS};
pub use connector::{Backlog, Connector, ConnectorOptions, Page, PollingConnector};
pub use context::ConnectorContext;
pub use context_file::ContextFile;
pub use event::{EventError, EventWriter, IntakeEvent, JsonEvent};
// Public as `sekoia_automation::metrics`.
pub use crate::wire::timestamp::Timestamp;
pub use iso8601::TimestampError;
pub use records::{RecordsError, RecordsOptions};
pub(crate) use registry::MetricsRegistry;
pub use time_stepper::{TimeStepper, TimeWindow, TimeWindows};

pub(crate) use configuration::schema as configuration_schema;
