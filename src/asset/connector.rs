//! [`AssetConnector`]: the item kind that collects assets from a vendor
//! and pushes them to the platform's asset-management API.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::asset::context::{AssetConnectorContext, Assets};
use crate::trigger::TriggerError;

/// An asset connector of a module: Python's `AssetConnector`.
///
/// It runs on the trigger runtime (liveness, logs, the stop signal) and
/// loops on fetch cycles, as the Python SDK does: each cycle checks the
/// [field mapping](Self::mapped_fields) (a change resets the checkpoint),
/// calls [`get_assets`](Self::get_assets), which hands each asset to
/// [`Assets::push`]: full batches of `batch_size` are pushed as they fill,
/// the last one when `get_assets` returns. After each batch the platform
/// accepted, the position set with [`Assets::checkpoint`] is saved under
/// [`CHECKPOINT_KEY`](Self::CHECKPOINT_KEY) of `context.json`. A cycle
/// that found nothing is followed by a pause of `frequency` seconds (less
/// the cycle's time); one that found assets by the next at once.
///
/// Its configuration is `connector_configuration` (else
/// `trigger_configuration`): the [`AssetConnectorConfiguration`](crate::asset::AssetConnectorConfiguration)
/// fields and the connector's own (`Configuration`), read from the same
/// object.
///
/// ```no_run
/// use sekoia_automation::asset::{AssetConnector, Assets};
/// use sekoia_automation::{Module, TriggerError};
///
/// struct Devices;
///
/// impl AssetConnector for Devices {
///     type ModuleConfiguration = ();
///     type Configuration = serde_json::Value;
///     type Checkpoint = u64;
///     const NAME: &'static str = "Vendor devices";
///     const DESCRIPTION: &'static str = "Fetch the vendor's devices";
///
///     fn get_assets(&mut self, assets: &mut Assets<'_, Self>) -> Result<(), TriggerError> {
///         let after = assets.context().checkpoint()?.unwrap_or(0);
///         for (id, device) in fetch_devices(after) {
///             assets.checkpoint(id);
///             assets.push(device)?;
///         }
///         Ok(())
///     }
/// }
/// # fn fetch_devices(_: u64) -> Vec<(u64, sekoia_automation::asset::DeviceOCSFModel)> { Vec::new() }
///
/// fn main() -> std::process::ExitCode {
///     Module::<()>::new().register("devices", Devices).run()
/// }
/// ```
///
/// The item is `Send` and its configuration types `Send + Sync`: see
/// [`Module`'s thread safety](crate::Module#thread-safety).
pub trait AssetConnector: Sized + Send + 'static {
    /// The configuration of the module this connector belongs to.
    type ModuleConfiguration: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The connector's own configuration fields (read beside
    /// `sekoia_base_url`, `sekoia_api_key`, `frequency`, `batch_size`).
    type Configuration: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// The position the connector saves after each push (a date, a cursor).
    type Checkpoint: Serialize + DeserializeOwned + 'static;
    /// The connector's name, as shown in the platform.
    const NAME: &'static str;
    /// What the connector does.
    const DESCRIPTION: &'static str;
    /// The manifest's `capability` (`host_detection`,
    /// `account_detection`...); none when empty.
    const CAPABILITY: &'static str = "";
    /// What the platform knows the connector by, when it already exists.
    const IDENTITY: crate::config::Identity = crate::config::Identity::new();
    /// The key of `context.json` the checkpoint is saved under (a port
    /// keeps its Python connector's key, so its checkpoint carries over).
    const CHECKPOINT_KEY: &'static str = "checkpoint";

    /// Collects the assets after the saved position and hands each to
    /// [`Assets::push`]; set the position reached with
    /// [`Assets::checkpoint`] before pushing the asset it follows.
    ///
    /// # Errors
    ///
    /// An error (or a `?` on [`Assets::push`] after a 429) ends the cycle;
    /// it is logged as the Python SDK logs it, and the next cycle starts
    /// after a pause.
    fn get_assets(&mut self, assets: &mut Assets<'_, Self>) -> Result<(), TriggerError>;

    /// The fields the connector maps from the vendor's API to OCSF (source
    /// field, OCSF path), in declaration order: Python's
    /// `get_mapped_fields`. When they change from the ones stored in
    /// `asset_schema_fields.json`, the checkpoint is reset so that every
    /// asset is fetched again with the new mapping. Empty (the default):
    /// no check.
    fn mapped_fields(&self, ctx: &AssetConnectorContext<'_, Self>) -> Vec<(String, String)> {
        let _ = ctx;
        Vec::new()
    }

    /// The name in the cycle's logs: Python's class name, here the type's
    /// name without its path.
    fn connector_name(&self) -> String {
        let name = std::any::type_name::<Self>();
        let name = name.split('<').next().unwrap_or(name);
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }
}
