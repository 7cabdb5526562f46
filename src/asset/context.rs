//! [`AssetConnectorContext`]: what an asset connector reads (its
//! configurations, its checkpoint) and uses (logs, the stop flag); and
//! [`Assets`]: the fetch cycle's batches, pushed as they fill.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::asset::configuration::AssetConnectorConfiguration;
use crate::asset::connector::AssetConnector;
use crate::asset::item::{AssetConnectorItem, State};
use crate::asset::ocsf::list::{AssetItem, AssetList};
use crate::asset::push::{AssetPushError, Pushed};
use crate::config::settings::Settings;
use crate::connector::ContextFile;
use crate::storage::data_directory::DataDirectory;
use crate::trigger::TriggerError;
use crate::trigger::context::TriggerContext;
use crate::trigger::stop_signal::StopSignal;
use crate::vendor::{VendorClient, VendorClientBuilder};
use crate::wire::logging::Level;

/// The checkpoints' file in the data directory (the connectors' one).
const CONTEXT_FILE: &str = "context.json";

/// The OCSF schema version of every push (Python's `OCSF_SCHEMA_VERSION`).
pub const OCSF_SCHEMA_VERSION: i64 = 1;

/// What an [`AssetConnector`] can use while it runs.
///
/// # Thread safety
///
/// `Send + Sync`: `get_assets` may hand `assets.context()` to worker
/// threads ([`std::thread::scope`]) that fetch, log and check the stop;
/// the assets themselves go through [`Assets::push`], which takes `&mut`
/// (gather the workers' results, then push them).
pub struct AssetConnectorContext<'a, K: AssetConnector> {
    pub(crate) trigger: &'a TriggerContext<'a, AssetConnectorItem<K>>,
    pub(crate) state: &'a State<K>,
}

impl<K: AssetConnector> std::fmt::Debug for AssetConnectorContext<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the configuration: it holds the API key.
        f.debug_struct("AssetConnectorContext")
            .field("connector", &K::NAME)
            .field("endpoint", &self.state.pusher.endpoint)
            .field("data_directory", &self.data_directory().root())
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}

impl<K: AssetConnector> std::fmt::Debug for Assets<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assets")
            .field("context", self.ctx)
            .field("batch", &self.batch.len())
            .field("batch_size", &self.batch_size)
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

impl<'a, K: AssetConnector> AssetConnectorContext<'a, K> {
    /// The connector's own configuration fields.
    pub fn configuration(&self) -> &K::Configuration {
        &self.state.configuration.own
    }

    /// The fields every asset connector has (`sekoia_base_url`,
    /// `sekoia_api_key`, `frequency`, `batch_size`...).
    pub fn asset_configuration(&self) -> &AssetConnectorConfiguration {
        &self.state.configuration.default
    }

    /// The module configuration.
    pub fn module_configuration(&self) -> &K::ModuleConfiguration {
        self.trigger.module_configuration()
    }

    /// The uuid of the connector's configuration (the push URL's last
    /// segment).
    pub fn connector_configuration_uuid(&self) -> &str {
        &self.state.configuration_uuid
    }

    /// The URL the assets are pushed to.
    pub fn asset_connector_endpoint(&self) -> &str {
        &self.state.pusher.endpoint
    }

    /// Logs a message to the platform and to stderr.
    pub fn log(&self, level: Level, message: impl AsRef<str>) {
        self.trigger.log(level, message);
    }

    /// Logs a message to stderr only, never to the platform (the Python
    /// module's `structlog`/`loguru`/`logging` lines), scrubbed of secrets
    /// and rate-limited: [`TriggerContext::log_stderr`]. The `log` target
    /// `"stderr"` does the same: `log::info!(target: "stderr", "...")`.
    pub fn log_stderr(&self, level: Level, message: impl AsRef<str>) {
        self.trigger.log_stderr(level, message);
    }

    /// The connector's stop signal: a vendor client given it wakes from its
    /// waits when the connector stops.
    pub fn stop_signal(&self) -> Arc<StopSignal> {
        self.trigger.stop_signal()
    }

    /// The settings the module runs with.
    pub fn settings(&self) -> &Settings {
        self.trigger.settings()
    }

    /// The vendor client of this process, whose waits end when the
    /// connector stops (see [`TriggerContext::vendor`](crate::TriggerContext::vendor)).
    /// A request blocks until the vendor answered, the retries ended or the
    /// connector stopped.
    pub fn vendor(&self) -> &VendorClient {
        self.trigger.vendor()
    }

    /// The builder [`vendor`](Self::vendor) starts from, for a client of
    /// one's own whose waits end when the connector stops (see
    /// [`TriggerContext::vendor_client`](crate::TriggerContext::vendor_client)).
    pub fn vendor_client(&self) -> VendorClientBuilder {
        self.trigger.vendor_client()
    }

    /// Whether the connector should go on (no stop requested).
    pub fn running(&self) -> bool {
        self.trigger.running()
    }

    /// Asks the connector to stop: the current cycle ends at its next push
    /// or wait, and no other starts.
    pub fn stop(&self) {
        self.trigger.stop();
    }

    /// Sleeps, waking at once on a stop; `false` when stopped.
    pub fn sleep(&self, duration: Duration) -> bool {
        self.trigger.sleep(duration)
    }

    /// The data directory.
    pub fn data_directory(&self) -> &DataDirectory {
        self.trigger.data_directory()
    }

    /// The data directory's `context.json`, which holds the checkpoint
    /// under [`AssetConnector::CHECKPOINT_KEY`] beside the connector's own
    /// keys.
    pub fn context_file(&self) -> Arc<ContextFile> {
        ContextFile::open(self.data_directory().root().join(CONTEXT_FILE))
    }

    /// The saved checkpoint; `None` before the first push the platform
    /// accepted, and after a reset.
    ///
    /// # Errors
    ///
    /// `context.json` cannot be read, or the value is not a
    /// `K::Checkpoint`.
    pub fn checkpoint(&self) -> Result<Option<K::Checkpoint>, TriggerError> {
        let file = self.context_file();
        match file.get(K::CHECKPOINT_KEY)? {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value).map(Some).map_err(|error| {
                TriggerError::msg(format!(
                    "the checkpoint `{}` in {} is not a {}: {error}; delete the key to fetch every asset again",
                    K::CHECKPOINT_KEY,
                    file.path().display(),
                    std::any::type_name::<K::Checkpoint>()
                ))
            }),
        }
    }

    /// Saves `value` as the checkpoint.
    pub(crate) fn save_checkpoint(&self, value: Value) -> Result<(), TriggerError> {
        self.context_file().update(|map| {
            map.insert(K::CHECKPOINT_KEY.to_owned(), value);
        })?;
        Ok(())
    }

    /// Forgets the checkpoint (Python's `reset_checkpoint`).
    pub(crate) fn reset_checkpoint(&self) -> Result<(), TriggerError> {
        self.context_file().update(|map| {
            map.shift_remove(K::CHECKPOINT_KEY);
        })?;
        Ok(())
    }
}

/// One fetch cycle's assets: [`push`](Self::push) gathers them in batches
/// of `batch_size` and pushes each batch once full; the cycle pushes the
/// last one when [`AssetConnector::get_assets`] returns.
pub struct Assets<'a, K: AssetConnector> {
    ctx: &'a AssetConnectorContext<'a, K>,
    batch: Vec<AssetItem>,
    batch_size: usize,
    total: u64,
    pending: Option<Result<Value, String>>,
    skip_task_wait: bool,
    /// A 429 ends the cycle even when `get_assets` ignores the error.
    rate_limited: Option<AssetPushError>,
}

impl<'a, K: AssetConnector> Assets<'a, K> {
    pub(crate) fn new(ctx: &'a AssetConnectorContext<'a, K>, batch_size: usize) -> Self {
        Assets {
            ctx,
            batch: Vec::new(),
            batch_size,
            total: 0,
            pending: None,
            skip_task_wait: false,
            rate_limited: None,
        }
    }

    /// The connector's context.
    pub fn context(&self) -> &'a AssetConnectorContext<'a, K> {
        self.ctx
    }

    /// Sets the position reached: saved once the assets given so far are
    /// on the platform (after the next push it accepts).
    pub fn checkpoint(&mut self, position: K::Checkpoint) {
        // A value that cannot be JSON fails the save, not here.
        self.pending = Some(serde_json::to_value(&position).map_err(|error| error.to_string()));
    }

    /// Adds an asset to the batch, and pushes the batch once it holds
    /// `batch_size` assets: that call blocks while the batch is posted
    /// (retries included) and, when the platform answers with a task,
    /// while the task is followed; a stop ends the waits.
    ///
    /// # Errors
    ///
    /// The platform answered 429 ([`AssetPushError::RateLimited`](crate::asset::AssetPushError)):
    /// return it (`?`), the cycle ends and the connector pauses (an error
    /// ignored is given again by every later push, and the cycle ends all
    /// the same, with no other push). Other
    /// failures of a push are logged and do not stop the cycle, as in the
    /// Python SDK; the checkpoint is then not saved.
    pub fn push(&mut self, asset: impl Into<AssetItem>) -> Result<(), TriggerError> {
        if let Some(limited) = &self.rate_limited {
            return Err(limited.clone().into());
        }
        self.batch.push(asset.into());
        self.total += 1;
        if self.batch.len() >= self.batch_size {
            self.push_batch()?;
        }
        Ok(())
    }

    /// The assets given this cycle.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Pushes what is left; the number of assets of the cycle.
    pub(crate) fn finish(mut self) -> Result<u64, TriggerError> {
        if let Some(limited) = self.rate_limited.take() {
            return Err(limited.into());
        }
        if !self.batch.is_empty() {
            self.push_batch()?;
        }
        Ok(self.total)
    }

    fn push_batch(&mut self) -> Result<(), TriggerError> {
        let ctx = self.ctx;
        let pusher = &ctx.state.pusher;
        let list = AssetList {
            version: OCSF_SCHEMA_VERSION,
            items: std::mem::take(&mut self.batch),
        };
        let log = |level: Level, message: String| ctx.log(level, message);
        ctx.log(
            Level::Info,
            format!(
                "Pushing assets to Sekoia.io asset connector API at {}",
                pusher.endpoint
            ),
        );
        let posted = pusher.post(&list, &log).inspect_err(|error| {
            if let Some(limited) = error.downcast_ref::<AssetPushError>() {
                self.rate_limited = Some(limited.clone());
            }
        });
        let answer = match posted? {
            Pushed::Failed => {
                ctx.log(
                    Level::Error,
                    format!(
                        "Failed to push assets to Sekoia.io asset connector API at {}",
                        pusher.endpoint
                    ),
                );
                return Ok(());
            }
            Pushed::Accepted { answer } => answer,
        };
        match self.pending.clone() {
            Some(Ok(position)) => ctx.save_checkpoint(position)?,
            Some(Err(error)) => {
                return Err(TriggerError::msg(format!(
                    "the checkpoint given to `Assets::checkpoint` cannot be saved as JSON: {error}"
                )));
            }
            None => {}
        }
        ctx.trigger.runtime().health.event_sent();
        ctx.log(
            Level::Info,
            format!(
                "Successfully posted {} assets to Sekoia.io asset connector API",
                list.items.len()
            ),
        );
        let task_id = match answer.get("task_id") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(()),
            Some(Value::String(id)) if id.is_empty() => return Ok(()),
            Some(Value::String(id)) => id.clone(),
            Some(other) => crate::wire::python_json::repr(other),
        };
        if self.skip_task_wait {
            return Ok(());
        }
        let keep_waiting =
            pusher.wait_for_task(&task_id, &log, &|| ctx.running(), &|duration| {
                ctx.sleep(duration)
            })?;
        if !keep_waiting {
            self.skip_task_wait = true;
        }
        Ok(())
    }
}
