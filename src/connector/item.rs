//! A [`Connector`] on the trigger runtime: the trigger it runs as, and the
//! per-process state (configuration, intake client, metrics) it starts
//! with.

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::connector::configuration::{self, Loaded};
use crate::connector::connector::Connector;
use crate::connector::context::ConnectorContext;
use crate::connector::metrics::ConnectorMetrics;
use crate::connector::push::Pusher;
use crate::connector::registry::MetricsRegistry;
use crate::connector::sender::{IntakeClient, batch_url};
use crate::trigger::context::TriggerContext;
use crate::trigger::{Trigger, TriggerError, TriggerOptions};

/// The longest pause after failed runs, in backoff units.
const MAX_FAILURE_PAUSE: u32 = 60;

/// What the trigger runtime reads as the trigger configuration of a
/// connector: nothing (the connector reads `connector_configuration`
/// itself, without the node-secret overlay). Its schema is `null`, a type
/// that holds nothing, so that the runtime does not require a
/// `trigger_configuration`.
#[derive(Debug, Default)]
pub(crate) struct NotRead;

impl<'de> Deserialize<'de> for NotRead {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| NotRead)
    }
}

impl JsonSchema for NotRead {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NotRead".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "null"})
    }
}

/// The per-process state of a running connector.
pub(crate) struct State<C: Connector> {
    pub(crate) configuration: Loaded<C::Configuration>,
    pub(crate) batch_url: String,
    pub(crate) pusher: Pusher,
    pub(crate) metrics: ConnectorMetrics,
}

/// A connector as the trigger runtime runs it.
pub(crate) struct ConnectorItem<C: Connector> {
    connector: C,
    options: crate::connector::connector::ConnectorOptions,
    state: Option<State<C>>,
    failures: u32,
}

impl<C: Connector> ConnectorItem<C> {
    pub(crate) fn new(connector: C) -> Self {
        let options = connector.options();
        ConnectorItem {
            connector,
            options,
            state: None,
            failures: 0,
        }
    }
}

fn start<C: Connector>(
    ctx: &TriggerContext<'_, ConnectorItem<C>>,
    options: &crate::connector::connector::ConnectorOptions,
) -> Result<State<C>, TriggerError> {
    let runtime = ctx.runtime();
    let loaded = configuration::load::<C::Configuration>(&runtime.source)?;
    let base = configuration::intake_base(&runtime.source, &loaded.intake)?;
    let url = batch_url(&base);
    let intake_key = loaded.intake.intake_key.clone();
    let client = IntakeClient::new(
        url.clone(),
        &intake_key,
        runtime.backoff_unit,
        options.retry_deadline,
        Arc::clone(&runtime.stop),
    );
    let health = Arc::clone(&runtime.health);
    let pusher = Pusher::new(
        client,
        &intake_key,
        options.in_flight_grace,
        Arc::new(move |_events| health.event_sent()),
    );
    let metrics = ConnectorMetrics::register(MetricsRegistry::global(), &intake_key);
    Ok(State {
        configuration: loaded,
        batch_url: url,
        pusher,
        metrics,
    })
}

impl<C: Connector> Trigger for ConnectorItem<C> {
    type ModuleConfiguration = C::ModuleConfiguration;
    type Configuration = NotRead;
    type Event = serde_json::Value;
    const NAME: &'static str = C::NAME;
    const DESCRIPTION: &'static str = C::DESCRIPTION;

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        if self.failures > 0 {
            // Never a busy loop: a failing connector pauses 1, 2, 4... up to
            // 60 backoff units (seconds on the platform) before it runs again.
            let units = 1u32
                .checked_shl(self.failures - 1)
                .unwrap_or(u32::MAX)
                .min(MAX_FAILURE_PAUSE);
            let pause = ctx.runtime().backoff_unit.saturating_mul(units);
            if !ctx.sleep(pause) {
                return Ok(());
            }
        }
        if self.state.is_none() {
            match start::<C>(ctx, &self.options) {
                Ok(state) => self.state = Some(state),
                Err(error) => {
                    self.failures = self.failures.saturating_add(1);
                    return Err(error);
                }
            }
        }
        let Some(state) = &self.state else {
            return Ok(());
        };
        let connector_ctx = ConnectorContext {
            trigger: ctx,
            state,
        };
        let result = self.connector.run(&connector_ctx);
        match &result {
            Ok(()) => self.failures = 0,
            Err(_) => self.failures = self.failures.saturating_add(1),
        }
        result
    }

    fn options(&self) -> TriggerOptions {
        self.options.trigger.clone()
    }
}

/// The pause of the default loop when the source is caught up, at least
/// this long (a zero `frequency` does not make a busy loop).
pub(crate) const MIN_IDLE: Duration = Duration::from_secs(1);
