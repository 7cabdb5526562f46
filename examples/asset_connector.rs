//! An asset connector that pushes the devices of a JSON file to the
//! platform's asset-management API, resuming after the last one pushed.
//!
//! The file holds a JSON array of `DeviceOCSFModel` objects. Each fetch
//! cycle pushes the devices after the checkpoint (the number already
//! pushed), in batches of `batch_size`; with `"cycles": N` the connector
//! stops after N cycles, and `"mapping"` (an object) is its field mapping
//! (a change resets the checkpoint).
//!
//! Run it against the local platform of `run-local`, or as the platform
//! runs the container (configuration in `/symphony` or the environment):
//!
//! ```text
//! CONNECTOR_CONFIGURATION_UUID=6a2d1c3e-0000-4000-8000-000000000001 \
//! CONNECTOR_CONFIGURATION='{"sekoia_base_url": "http://127.0.0.1:8080", "sekoia_api_key": "KEY", "frequency": 0, "devices": "/tmp/devices.json", "cycles": 2}' \
//!   cargo run --example asset_connector devices
//! ```
//!
//! It serves the end-to-end test and the wire comparison with the Python
//! SDK of `tests/asset_connector_python.rs`, and the figures of
//! `examples/asset_figures.rs`.

use std::process::ExitCode;

use schemars::JsonSchema;
use sekoia_automation::asset::{AssetConnector, AssetConnectorContext, Assets, DeviceOCSFModel};
use sekoia_automation::{Module, TriggerError};
use serde::Deserialize;

/// The connector's own configuration.
#[derive(Deserialize, JsonSchema)]
struct FileConfiguration {
    /// The JSON file of devices (an array of OCSF device objects).
    devices: String,
    /// Stop after this many fetch cycles (never when absent).
    #[serde(default)]
    cycles: Option<u64>,
    /// The field mapping (source field to OCSF path).
    #[serde(default)]
    mapping: serde_json::Map<String, serde_json::Value>,
}

/// Pushes the devices of a file.
struct FileDevices {
    cycles: u64,
}

impl AssetConnector for FileDevices {
    type ModuleConfiguration = serde_json::Value;
    type Configuration = FileConfiguration;
    type Checkpoint = usize;
    const NAME: &'static str = "File devices";
    const DESCRIPTION: &'static str = "Push the devices of a JSON file";
    const CAPABILITY: &'static str = "host_detection";
    const CHECKPOINT_KEY: &'static str = "pushed";

    fn get_assets(&mut self, assets: &mut Assets<'_, Self>) -> Result<(), TriggerError> {
        let ctx = assets.context();
        let configuration = ctx.configuration();
        self.cycles += 1;
        if configuration
            .cycles
            .is_some_and(|cycles| self.cycles > cycles)
        {
            ctx.stop();
            return Ok(());
        }
        // Each device is read into its model when it is pushed, as the
        // Python connector builds each model when it yields it.
        let text = std::fs::read(&ctx.configuration().devices)?;
        let devices: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&text)?;
        let pushed = ctx.checkpoint()?.unwrap_or(0);
        for (index, device) in devices.into_iter().enumerate().skip(pushed) {
            let device: DeviceOCSFModel = serde_json::from_str(device.get())?;
            assets.checkpoint(index + 1);
            assets.push(device)?;
        }
        Ok(())
    }

    fn mapped_fields(&self, ctx: &AssetConnectorContext<'_, Self>) -> Vec<(String, String)> {
        ctx.configuration()
            .mapping
            .iter()
            .map(|(field, path)| (field.clone(), path.as_str().unwrap_or_default().to_owned()))
            .collect()
    }
}

fn main() -> ExitCode {
    Module::<serde_json::Value>::new()
        .register("devices", FileDevices { cycles: 0 })
        .run()
}
