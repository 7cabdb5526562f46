//! [`Connector`]: the item kind that collects events from a source and
//! pushes them to a Sekoia.io intake; [`PollingConnector`] and [`Page`]:
//! the polling loop and what it asks for; [`ConnectorOptions`]: the runtime's settings.

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::connector::acknowledgement::Acknowledgement;
use crate::connector::context::ConnectorContext;
use crate::connector::event::IntakeEvent;
use crate::connector::sender::RETRY_DEADLINE;
use crate::trigger::clock::Clock;
use crate::trigger::stop_signal::StopSignal;
use crate::trigger::{TriggerError, TriggerOptions};
use crate::wire::timestamp::Timestamp;

/// How long chunks in flight get to be answered once the connector stops.
pub const DEFAULT_IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);
/// The polling loop's pause when the configuration has no `frequency`.
pub const DEFAULT_FREQUENCY: Duration = Duration::from_secs(60);
/// `/health` answers 500 after this long without an acknowledged event.
pub const SECONDS_WITHOUT_EVENTS: Duration = Duration::from_secs(6 * 3600);

/// A connector of a module: it fetches events from a source and pushes them
/// to the intake, keeping its position in checkpoints.
///
/// A connector runs on the trigger runtime (liveness, logs, the run loop
/// and its error accounting: docs/protocol.md §4) with the differences of
/// docs/protocol.md §5: its configuration is `connector_configuration`
/// (else `trigger_configuration`), with `intake_key` and `intake_server`
/// beside its own fields (`Configuration`); `/health` turns unhealthy after
/// 6 hours without an acknowledged event.
///
/// Write [`run`](Self::run): either the polling loop, by implementing
/// [`PollingConnector`] too ([`next_page`](PollingConnector::next_page), and
/// [`delivered`](PollingConnector::delivered) to advance a checkpoint) and
/// calling [`poll`](PollingConnector::poll) — it pushes each page, waits
/// `frequency` seconds once a page says there is nothing more, and pauses
/// after a failure — or a loop of your own with
/// [`push_events`](ConnectorContext::push_events).
///
/// ```no_run
/// use sekoia_automation::{Acknowledgement, Connector, ConnectorContext, Page};
/// use sekoia_automation::connector::CheckpointCursor;
/// use sekoia_automation::{Module, PollingConnector, TriggerError};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Configuration { frequency: u64 }
///
/// #[derive(Default)]
/// struct Pages { next: Option<u64> }
///
/// impl Connector for Pages {
///     type ModuleConfiguration = ();
///     type Configuration = Configuration;
///     type Event = String;
///     const NAME: &'static str = "Fetch pages";
///     const DESCRIPTION: &'static str = "Collect the source's events";
///
///     fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
///         self.poll(ctx)
///     }
/// }
///
/// impl PollingConnector for Pages {
///     fn next_page(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<Page<String>, TriggerError> {
///         let cursor = ctx.checkpoint_cursor::<u64>().offset()?.unwrap_or(0);
///         let events: Vec<String> = (cursor..cursor + 10).map(|n| format!("event {n}")).collect();
///         self.next = Some(cursor + 10);
///         Ok(Page::new(events))
///     }
///
///     fn delivered(&mut self, ctx: &ConnectorContext<'_, Self>, acknowledged: Acknowledgement) -> Result<(), TriggerError> {
///         if let Some(next) = self.next.take() {
///             ctx.checkpoint_cursor::<u64>().advance(next, &acknowledged)?;
///         }
///         Ok(())
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     Module::<()>::new().register("pages", Pages::default()).run()
/// }
/// ```
///
/// The item is `Send` and its configuration types `Send + Sync`: see
/// [`Module`'s thread safety](crate::Module#thread-safety).
pub trait Connector: Sized + Send + 'static {
    /// The configuration of the module this connector belongs to.
    type ModuleConfiguration: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The connector's own configuration fields (`intake_key` and
    /// `intake_server` are read beside them: see
    /// [`ConnectorContext::intake_key`]).
    type Configuration: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The events of a [`Page`] (`String`, `serde_json::Value`,
    /// [`JsonEvent<T>`](crate::JsonEvent)...).
    type Event: IntakeEvent;
    /// The connector's name, as shown in the platform.
    const NAME: &'static str;
    /// What the connector does.
    const DESCRIPTION: &'static str;

    /// Collects and pushes events until the connector stops; called again
    /// when it returns or fails (after a pause when it failed). A polling
    /// connector writes `self.poll(ctx)` (see [`PollingConnector`]).
    ///
    /// # Errors
    ///
    /// An error ends this run: the runtime logs and counts it, and runs the
    /// connector again after a pause (a configuration error is critical).
    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError>;

    /// The runtime's settings for this connector.
    fn options(&self) -> ConnectorOptions {
        ConnectorOptions::default()
    }
}

/// A connector that pages through its source: the polling loop
/// ([`poll`](Self::poll)) asks it for the [`next_page`](Self::next_page),
/// pushes it, and calls [`delivered`](Self::delivered) with the
/// acknowledgement. Its [`Connector::run`] calls `self.poll(ctx)`; the
/// example is on [`Connector`].
pub trait PollingConnector: Connector {
    /// The loop's one step: the next events of the source, from the
    /// connector's position.
    ///
    /// # Errors
    ///
    /// An error ends the loop and the run (see [`Connector::run`]).
    fn next_page(
        &mut self,
        ctx: &ConnectorContext<'_, Self>,
    ) -> Result<Page<Self::Event>, TriggerError>;

    /// The events of the last page are on the intake: advance the
    /// checkpoint with `acknowledged`. Not called when some were not
    /// delivered (the loop fails, and fetches the page again).
    ///
    /// # Errors
    ///
    /// An error ends the loop and the run (see [`Connector::run`]).
    fn delivered(
        &mut self,
        ctx: &ConnectorContext<'_, Self>,
        acknowledged: Acknowledgement,
    ) -> Result<(), TriggerError> {
        let _ = (ctx, acknowledged);
        Ok(())
    }

    /// The loop's pause between polls once the source is caught up: the
    /// configuration's `frequency` (seconds), else 60 s.
    fn frequency(&self, ctx: &ConnectorContext<'_, Self>) -> Duration {
        ctx.configured_frequency().unwrap_or(DEFAULT_FREQUENCY)
    }

    /// The polling loop (PROTOCOL-connectors §1.5), until the connector
    /// stops: each page pushed, the lag, duration and forwarded metrics
    /// updated, `delivered` called with the acknowledgement, an
    /// interruptible pause of [`frequency`](Self::frequency) once a page
    /// says there is nothing more. Blocks until the connector stops or a
    /// step fails.
    ///
    /// # Errors
    ///
    /// The first error of `next_page`, of a push (not one caused by the
    /// stop), or of `delivered`.
    fn poll(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        crate::connector::polling::run(self, ctx)
    }
}

/// One step of the polling loop: events, the date of the most recent one
/// (for the lag metric), and whether more are waiting (poll again at once).
///
/// ```
/// use sekoia_automation::Page;
/// use sekoia_automation::connector::Backlog;
/// let page = Page::new(vec!["a".to_string()]).with_backlog(Backlog::Waiting);
/// assert_eq!(page.backlog(), Backlog::Waiting);
/// assert_eq!(page.events(), ["a"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Page<E> {
    pub(crate) events: Vec<E>,
    pub(crate) most_recent: Option<Timestamp>,
    pub(crate) backlog: Backlog,
}

/// Whether the source has more events once a [`Page`] is taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Backlog {
    /// Nothing more for now (the default): the loop pauses
    /// [`frequency`](crate::PollingConnector::frequency) before the next page.
    #[default]
    CaughtUp,
    /// More events are waiting: the next page is asked for at once.
    Waiting,
}

impl<E> Page<E> {
    /// A page of events, the last one for now.
    pub fn new(events: Vec<E>) -> Self {
        Page {
            events,
            most_recent: None,
            backlog: Backlog::CaughtUp,
        }
    }

    /// An empty page: nothing new.
    pub fn empty() -> Self {
        Self::new(Vec::new())
    }

    /// The events, in order.
    pub fn events(&self) -> &[E] {
        &self.events
    }

    /// The events, taken out of the page.
    pub fn into_events(self) -> Vec<E> {
        self.events
    }

    /// The date of the most recent event, for `events_lags`.
    pub fn most_recent(&self) -> Option<Timestamp> {
        self.most_recent
    }

    /// Whether the source has more events now.
    pub fn backlog(&self) -> Backlog {
        self.backlog
    }

    /// Sets [`most_recent`](Self::most_recent).
    pub fn with_most_recent(mut self, date: Timestamp) -> Self {
        self.most_recent = Some(date);
        self
    }

    /// Sets [`backlog`](Self::backlog).
    pub fn with_backlog(mut self, backlog: Backlog) -> Self {
        self.backlog = backlog;
        self
    }
}

/// The runtime's settings for one connector. Each has a getter named after
/// it and a `with_` setter.
///
/// ```
/// use sekoia_automation::connector::ConnectorOptions;
/// use std::time::Duration;
/// let options = ConnectorOptions::default().with_in_flight_grace(Duration::from_secs(2));
/// assert_eq!(options.in_flight_grace(), Duration::from_secs(2));
/// assert_eq!(options.trigger().seconds_without_events(), Some(Duration::from_secs(6 * 3600)));
/// ```
#[derive(Debug, Clone)]
pub struct ConnectorOptions {
    pub(crate) trigger: TriggerOptions,
    pub(crate) in_flight_grace: Duration,
    pub(crate) retry_deadline: Duration,
}

impl Default for ConnectorOptions {
    fn default() -> Self {
        ConnectorOptions {
            trigger: TriggerOptions::default().with_seconds_without_events(SECONDS_WITHOUT_EVENTS),
            in_flight_grace: DEFAULT_IN_FLIGHT_GRACE,
            retry_deadline: RETRY_DEADLINE,
        }
    }
}

impl ConnectorOptions {
    /// The trigger runtime's settings (`seconds_without_events` 6 hours),
    /// among them the [stop grace](TriggerOptions::stop_grace) of the whole
    /// process.
    pub fn trigger(&self) -> &TriggerOptions {
        &self.trigger
    }

    /// How long chunks in flight get once the connector stops (5 s): those
    /// not acknowledged by then are reported
    /// [`Stopped`](crate::connector::EventOutcome::Stopped).
    pub fn in_flight_grace(&self) -> Duration {
        self.in_flight_grace
    }

    /// How long a chunk is retried (network errors, 408, 422, 429, 5xx)
    /// before it is given up (1 hour).
    pub fn retry_deadline(&self) -> Duration {
        self.retry_deadline
    }

    /// Sets the [trigger runtime's settings](Self::trigger).
    pub fn with_trigger(mut self, trigger: TriggerOptions) -> Self {
        self.trigger = trigger;
        self
    }

    /// Sets [`in_flight_grace`](Self::in_flight_grace).
    pub fn with_in_flight_grace(mut self, grace: Duration) -> Self {
        self.in_flight_grace = grace;
        self
    }

    /// Sets [`retry_deadline`](Self::retry_deadline).
    pub fn with_retry_deadline(mut self, deadline: Duration) -> Self {
        self.retry_deadline = deadline;
        self
    }

    /// Sets how long without acknowledged events before `/health` answers
    /// 500 (6 hours by default): a `Duration`, or `None` for never.
    pub fn with_seconds_without_events(mut self, threshold: impl Into<Option<Duration>>) -> Self {
        self.trigger.seconds_without_events = threshold.into();
        self
    }

    /// Sets the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.trigger.clock = clock;
        self
    }

    /// Sets the stop flag: raising it stops the connector as SIGTERM does.
    pub fn with_stop_signal(mut self, stop: Arc<StopSignal>) -> Self {
        self.trigger.stop = Some(stop);
        self
    }

    /// Sets the [stop grace](TriggerOptions::stop_grace) of the whole
    /// process (2 s).
    pub fn with_stop_grace(mut self, grace: Duration) -> Self {
        self.trigger.stop_grace = grace;
        self
    }
}
