//! An [`AssetConnector`] on the trigger runtime: the trigger it runs as
//! (Python's `AssetConnector.run` and `asset_fetch_cycle`), and the state
//! it starts with.

use std::time::{Duration, Instant};

use crate::asset::configuration::{self, Loaded};
use crate::asset::connector::AssetConnector;
use crate::asset::context::{AssetConnectorContext, Assets};
use crate::asset::push::{AssetPushError, AssetPusher};
use crate::asset::schema::{self, ASSET_SCHEMA_FIELDS_FILE, SchemaCheck};
use crate::connector::ContextFile;
use crate::connector::item::NotRead;
use crate::trigger::context::TriggerContext;
use crate::trigger::{Trigger, TriggerError};
use crate::wire::logging::Level;

/// The longest pause after failed cycles, in backoff units.
const MAX_FAILURE_PAUSE: u32 = 60;

/// The per-process state of a running asset connector.
pub(crate) struct State<K: AssetConnector> {
    pub(crate) configuration: Loaded<K::Configuration>,
    pub(crate) configuration_uuid: String,
    pub(crate) pusher: AssetPusher,
}

/// An asset connector as the trigger runtime runs it.
pub(crate) struct AssetConnectorItem<K: AssetConnector> {
    connector: K,
    state: Option<State<K>>,
    failures: u32,
}

impl<K: AssetConnector> AssetConnectorItem<K> {
    pub(crate) fn new(connector: K) -> Self {
        AssetConnectorItem {
            connector,
            state: None,
            failures: 0,
        }
    }
}

fn start<K: AssetConnector>(
    ctx: &TriggerContext<'_, AssetConnectorItem<K>>,
) -> Result<State<K>, TriggerError> {
    let runtime = ctx.runtime();
    let loaded = configuration::load::<K::Configuration>(&runtime.source)?;
    let uuid = configuration::configuration_uuid(&runtime.source)?;
    let stop = std::sync::Arc::clone(&runtime.stop);
    let pusher = AssetPusher::new(
        &loaded.default.base_url(),
        &uuid,
        &loaded.default.sekoia_api_key,
        runtime.backoff_unit,
        move |duration| stop.sleep(duration),
    );
    Ok(State {
        configuration: loaded,
        configuration_uuid: uuid,
        pusher,
    })
}

/// One fetch cycle (Python's `asset_fetch_cycle`).
fn cycle<K: AssetConnector>(
    connector: &mut K,
    ctx: &AssetConnectorContext<'_, K>,
) -> Result<(), TriggerError> {
    ctx.log(
        Level::Info,
        format!(
            "Starting a new asset fetch cycle for connector {}",
            connector.connector_name()
        ),
    );
    check_schema(connector, ctx)?;
    let started = Instant::now();
    let settings = ctx.asset_configuration();
    let batch_size = settings
        .effective_batch_size()
        .map_err(TriggerError::configuration)?;
    let mut assets = Assets::new(ctx, batch_size);
    connector.get_assets(&mut assets)?;
    let total = assets.finish()?;
    let frequency = settings
        .effective_frequency()
        .map_err(TriggerError::configuration)?;
    let delta = frequency as f64 - started.elapsed().as_secs_f64();
    if total == 0 && delta > 0.0 {
        ctx.log(
            Level::Info,
            format!(
                "Next run in the future. Waiting {} seconds",
                crate::wire::python_json::python_float(delta)
            ),
        );
        ctx.sleep(Duration::from_secs_f64(delta));
    }
    Ok(())
}

/// Python's `_check_schema_and_reset_if_needed`.
fn check_schema<K: AssetConnector>(
    connector: &K,
    ctx: &AssetConnectorContext<'_, K>,
) -> Result<(), TriggerError> {
    let fields = connector.mapped_fields(ctx);
    if fields.is_empty() {
        return Ok(());
    }
    let file = ContextFile::open(ctx.data_directory().root().join(ASSET_SCHEMA_FIELDS_FILE));
    let stored = file.read()?;
    match schema::check(&fields, &stored) {
        SchemaCheck::Unchanged => return Ok(()),
        SchemaCheck::Stored => {}
        SchemaCheck::Changed(change) => {
            ctx.log(Level::Info, change.message());
            ctx.reset_checkpoint()?;
        }
    }
    file.update(|map| schema::store(&fields, map))?;
    Ok(())
}

impl<K: AssetConnector> Trigger for AssetConnectorItem<K> {
    type ModuleConfiguration = K::ModuleConfiguration;
    type Configuration = NotRead;
    type Event = serde_json::Value;
    const NAME: &'static str = K::NAME;
    const DESCRIPTION: &'static str = K::DESCRIPTION;

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        if self.state.is_none() {
            self.state = Some(start::<K>(ctx)?);
        }
        let Some(state) = &self.state else {
            return Ok(());
        };
        let asset_ctx = AssetConnectorContext {
            trigger: ctx,
            state,
        };
        while ctx.running() {
            if self.failures > 0 {
                // Never a busy loop: failing cycles pause 1, 2, 4... up to
                // 60 backoff units (seconds on the platform).
                let units = 1u32
                    .checked_shl(self.failures - 1)
                    .unwrap_or(u32::MAX)
                    .min(MAX_FAILURE_PAUSE);
                if !ctx.sleep(ctx.runtime().backoff_unit.saturating_mul(units)) {
                    break;
                }
            }
            ctx.heartbeat();
            match cycle(&mut self.connector, &asset_ctx) {
                Ok(()) => self.failures = 0,
                Err(error) => match error.downcast_ref::<AssetPushError>() {
                    Some(AssetPushError::RateLimited { retry_after, shown }) => {
                        self.failures = 0;
                        ctx.log(
                            Level::Warning,
                            format!("Rate limit hit, pausing connector for {shown} seconds"),
                        );
                        ctx.sleep(*retry_after);
                    }
                    None => {
                        self.failures = self.failures.saturating_add(1);
                        ctx.log(
                            Level::Error,
                            format!(
                                "Error while running asset connector {}\n{error}",
                                self.connector.connector_name()
                            ),
                        );
                    }
                },
            }
        }
        Ok(())
    }
}
