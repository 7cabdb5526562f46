//! The tooling with an asset connector: `generate-files` writes
//! `connector_<name>.json` as the automation library's asset connectors
//! have it (`"type": "asset"`, its `capability`, the four platform fields
//! internal, `sekoia_api_key` secret), `check-module` accepts it and flags
//! a change, `generate-documentation` lists it.

#[path = "support/tooling.rs"]
mod tooling;

use std::path::Path;

use tooling::read;

use sekoia_automation::asset::{AssetConnector, Assets};
use sekoia_automation::unversioned::documentation;
use sekoia_automation::{Module, Secret, TriggerError};
use serde_json::json;

/// The connector's own configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Configuration {
    /// The vendor's tenant.
    tenant: String,
    /// The vendor's API key.
    vendor_key: Secret<String>,
}

struct VendorDevices;

impl AssetConnector for VendorDevices {
    type ModuleConfiguration = ();
    type Configuration = Configuration;
    type Checkpoint = String;
    const NAME: &'static str = "Vendor devices";
    const DESCRIPTION: &'static str = "Fetch the vendor's devices";
    const CAPABILITY: &'static str = "host_detection";

    fn get_assets(&mut self, _: &mut Assets<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

fn module() -> Module<(), sekoia_automation::typestate::Registered> {
    Module::<()>::new().register("vendor_device_assets", VendorDevices)
}

fn directory() -> tempfile::TempDir {
    tooling::generated(&module())
}

fn problems(directory: &Path) -> Vec<String> {
    tooling::problems(directory, &module())
}

#[test]
fn generate_files_writes_the_asset_connector_manifest_as_the_librarys() {
    let directory = directory();
    let manifest = read(directory.path(), "connector_vendor_devices.json");
    let keys: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "description",
            "uuid",
            "docker_parameters",
            "type",
            "capability",
            "arguments"
        ]
    );
    assert_eq!(manifest["type"], "asset");
    assert_eq!(manifest["capability"], "host_detection");
    assert_eq!(manifest["docker_parameters"], "vendor_device_assets");
    let arguments = &manifest["arguments"];
    let properties: Vec<&String> = arguments["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        properties,
        [
            "sekoia_base_url",
            "frequency",
            "sekoia_api_key",
            "batch_size",
            "tenant",
            "vendor_key"
        ]
    );
    assert_eq!(
        arguments["required"],
        json!(["sekoia_api_key", "tenant", "vendor_key"])
    );
    assert_eq!(
        arguments["secrets"],
        json!(["sekoia_api_key", "vendor_key"])
    );
    assert_eq!(
        arguments["internal"],
        json!([
            "sekoia_base_url",
            "sekoia_api_key",
            "frequency",
            "batch_size"
        ])
    );
    assert_eq!(arguments["properties"]["batch_size"]["default"], 100);
    assert_eq!(problems(directory.path()), Vec::<String>::new());
}

#[test]
fn check_module_flags_an_asset_connector_manifest_that_drifted() {
    let directory = directory();
    let path = directory.path().join("connector_vendor_devices.json");
    let mut manifest = read(directory.path(), "connector_vendor_devices.json");
    manifest["type"] = json!("connector");
    std::fs::write(&path, manifest.to_string()).unwrap();
    let found = problems(directory.path());
    assert!(!found.is_empty(), "a changed `type` went unnoticed");
    assert!(
        found
            .iter()
            .any(|p| p.contains("connector_vendor_devices.json")),
        "{found:?}"
    );
}

#[test]
fn generate_documentation_lists_the_asset_connector() {
    let directory = directory();
    let page = documentation::from_directory(directory.path()).unwrap();
    assert!(page.contains("Vendor devices"), "{page}");
    assert!(page.contains("sekoia_api_key"), "{page}");
}
