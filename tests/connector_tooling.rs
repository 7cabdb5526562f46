//! The tooling with a connector: `generate-files` writes
//! `connector_<name>.json`, `check-module` checks it (connector/trigger pairs
//! share `uuid` and `docker_parameters`), `generate-documentation` lists it.

#[path = "support/tooling.rs"]
mod tooling;

use std::path::Path;

use tooling::read;

use sekoia_automation::unversioned::documentation;
use sekoia_automation::unversioned::{ModuleItems, generate};
use sekoia_automation::{Connector, ConnectorContext, Module, Secret, TriggerError};
use serde_json::json;

/// The connector's own configuration.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Configuration {
    /// Seconds between two polls.
    frequency: u64,
    /// The vendor's API key.
    api_key: Secret<String>,
}

struct CollectLogs;

impl Connector for CollectLogs {
    type ModuleConfiguration = ();
    type Configuration = Configuration;
    type Event = String;
    const NAME: &'static str = "Collect logs";
    const DESCRIPTION: &'static str = "Collect the vendor's logs";

    fn run(&mut self, _: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

fn module() -> Module<(), sekoia_automation::typestate::Registered> {
    Module::<()>::new().register("collect_logs", CollectLogs)
}

fn directory() -> tempfile::TempDir {
    tooling::generated(&module())
}

fn problems(directory: &Path) -> Vec<String> {
    tooling::problems(directory, &module())
}

#[test]
fn generate_files_writes_the_connector_manifest_with_the_intake_fields() {
    let directory = directory();
    let manifest = read(directory.path(), "connector_collect_logs.json");
    let keys: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "description",
            "uuid",
            "docker_parameters",
            "arguments"
        ],
        "no `results` for a connector (docs/protocol.md §6)"
    );
    assert_eq!(manifest["docker_parameters"], "collect_logs");
    let arguments = &manifest["arguments"];
    assert_eq!(
        arguments["required"],
        json!(["intake_key", "frequency", "api_key"])
    );
    assert_eq!(
        arguments["properties"]["intake_server"]["default"],
        "https://intake.sekoia.io"
    );
    assert_eq!(arguments["properties"]["intake_key"]["type"], "string");
    assert_eq!(arguments["secrets"], json!(["api_key"]));
    assert!(!directory.path().join("trigger_collect_logs.json").exists());
    assert_eq!(problems(directory.path()), Vec::<String>::new());
}

#[test]
fn check_module_accepts_a_trigger_pair_sharing_uuid_and_command_and_flags_one_that_does_not() {
    let directory = directory();
    let mut pair = read(directory.path(), "connector_collect_logs.json");
    std::fs::write(
        directory.path().join("trigger_collect_logs.json"),
        pair.to_string(),
    )
    .unwrap();
    assert_eq!(problems(directory.path()), Vec::<String>::new());
    pair["uuid"] = json!("0f6c0d3e-5b1e-4b5e-9d1a-2c3b4d5e6f70");
    std::fs::write(
        directory.path().join("trigger_collect_logs.json"),
        pair.to_string(),
    )
    .unwrap();
    let found = problems(directory.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "connector_collect_logs.json: `uuid` differs from the one of trigger_collect_logs.json"
        ),
        "{found:?}"
    );
}

#[test]
fn generate_documentation_lists_the_connector() {
    let directory = directory();
    let page = documentation::from_directory(directory.path()).unwrap();
    assert!(page.contains("## Connectors"), "{page}");
    assert!(page.contains("Collect logs"), "{page}");
    assert!(page.contains("intake_key"), "{page}");
}

/// A connector whose own fields all have defaults.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Defaulted {
    /// Seconds between two polls.
    #[serde(default)]
    frequency: u64,
}

struct Polling;

impl Connector for Polling {
    type ModuleConfiguration = ();
    type Configuration = Defaulted;
    type Event = String;
    const NAME: &'static str = "Polling";
    const DESCRIPTION: &'static str = "Poll with defaults";

    fn run(&mut self, _: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

#[test]
fn intake_key_is_required_even_when_the_connector_s_own_fields_all_have_defaults() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("manifest.json"),
        json!({
            "name": "Vendor", "slug": "vendor", "version": "1.0.0",
            "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "description": "A vendor",
        })
        .to_string(),
    )
    .unwrap();
    let module = Module::<()>::new().register("polling", Polling);
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    generate::write(directory.path(), &files).unwrap();
    let arguments = &read(directory.path(), "connector_polling.json")["arguments"];
    assert_eq!(arguments["required"], json!(["intake_key"]), "{arguments}");
    let keys: Vec<&String> = arguments.as_object().unwrap().keys().collect();
    let properties = keys.iter().position(|key| *key == "properties").unwrap();
    assert_eq!(keys[properties + 1], "required", "{keys:?}");
}
