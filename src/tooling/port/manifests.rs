//! The Python module's manifests, as the port reads them: `manifest.json`
//! and each item manifest found by the crate's own discovery
//! ([`item_files`](crate::tooling::check::item_files)), one item per
//! `docker_parameters` (a connector and its `trigger_*.json` twin are one
//! item, as `check-module` pairs them).

use std::path::Path;

use serde_json::{Map, Value};

use crate::item::manifest::{ACTION, CONNECTOR, TRIGGER};
use crate::tooling::check::item_files;
use crate::tooling::generate::{GenerateError, read_manifest};

/// The kind of an item, from its manifest file's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `action_*.json`.
    Action,
    /// `trigger_*.json`.
    Trigger,
    /// `connector_*.json` (its `trigger_*.json` twin, when there is one, is
    /// left as it is).
    Connector,
}

/// One item of the manifests.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestItem {
    /// Its kind.
    pub kind: Kind,
    /// Its `docker_parameters`: the command it is registered under.
    pub command: String,
    /// Its manifest file.
    pub file: String,
    /// The manifest.
    pub manifest: Map<String, Value>,
}

impl ManifestItem {
    /// A string field of the manifest.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.manifest.get(key).and_then(Value::as_str)
    }
}

/// The module's manifests.
#[derive(Debug, Clone)]
pub struct Manifests {
    /// `manifest.json`.
    pub module: Map<String, Value>,
    /// The items, in file name order.
    pub items: Vec<ManifestItem>,
    /// Item files the port cannot register, and why.
    pub skipped: Vec<(String, String)>,
}

impl Manifests {
    /// Reads `manifest.json` and the item manifests of `directory`.
    pub fn read(directory: &Path) -> Result<Manifests, GenerateError> {
        let module = read_manifest(directory)?;
        let files = item_files(directory);
        let mut items: Vec<ManifestItem> = Vec::new();
        let mut skipped = Vec::new();
        for file in &files {
            let kind = if file.starts_with(&format!("{}_", ACTION.prefix)) {
                Kind::Action
            } else if file.starts_with(&format!("{}_", CONNECTOR.prefix)) {
                Kind::Connector
            } else if let Some(rest) = file.strip_prefix(&format!("{}_", TRIGGER.prefix)) {
                if files.contains(&format!("{}_{rest}", CONNECTOR.prefix)) {
                    // The connector's twin: check-module pairs it with the connector.
                    continue;
                }
                Kind::Trigger
            } else {
                continue;
            };
            let text = match std::fs::read_to_string(directory.join(file)) {
                Ok(text) => text,
                Err(error) => {
                    skipped.push((file.clone(), format!("cannot be read: {error}")));
                    continue;
                }
            };
            let manifest = match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(manifest)) => manifest,
                Ok(_) => {
                    skipped.push((file.clone(), "is not a JSON object".into()));
                    continue;
                }
                Err(error) => {
                    skipped.push((file.clone(), format!("is not JSON: {error}")));
                    continue;
                }
            };
            let Some(command) = manifest.get("docker_parameters").and_then(Value::as_str) else {
                skipped.push((
                    file.clone(),
                    "has no `docker_parameters`: no command runs it".into(),
                ));
                continue;
            };
            if let Some(first) = items.iter().find(|item| item.command == command) {
                skipped.push((
                    file.clone(),
                    format!(
                        "has the `docker_parameters` `{command}` of {} too: one command runs one item",
                        first.file
                    ),
                ));
                continue;
            }
            items.push(ManifestItem {
                kind,
                command: command.to_string(),
                file: file.clone(),
                manifest,
            });
        }
        Ok(Manifests {
            module,
            items,
            skipped,
        })
    }

    /// The module configuration's schema (`{}` when absent).
    pub fn configuration(&self) -> Value {
        self.module
            .get("configuration")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }

    /// Whether `manifest.json` says the module validates its account.
    pub fn supports_validation(&self) -> bool {
        self.module.get("supports_validation") == Some(&Value::Bool(true))
    }
}

/// The names of a schema's `secrets` list.
pub fn secrets(schema: &Value) -> Vec<String> {
    schema
        .get("secrets")
        .and_then(Value::as_array)
        .map(|secrets| {
            secrets
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_by_command_connector_twins_once_and_what_cannot_run_is_named() {
        let directory = tempfile::tempdir().unwrap();
        let write =
            |name: &str, text: &str| std::fs::write(directory.path().join(name), text).unwrap();
        write(
            "manifest.json",
            r#"{"name": "Acme", "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "supports_validation": true}"#,
        );
        write(
            "action_get.json",
            r#"{"name": "Get", "docker_parameters": "get"}"#,
        );
        write(
            "action_get_again.json",
            r#"{"name": "Get again", "docker_parameters": "get"}"#,
        );
        write("action_nothing.json", r#"{"name": "Nothing"}"#);
        write(
            "connector_feed.json",
            r#"{"name": "Feed", "docker_parameters": "feed"}"#,
        );
        write(
            "trigger_feed.json",
            r#"{"name": "Feed", "docker_parameters": "feed"}"#,
        );
        write(
            "trigger_poll.json",
            r#"{"name": "Poll", "docker_parameters": "poll"}"#,
        );
        let manifests = Manifests::read(directory.path()).unwrap();
        let items: Vec<(Kind, &str, &str)> = manifests
            .items
            .iter()
            .map(|item| (item.kind, item.command.as_str(), item.file.as_str()))
            .collect();
        assert_eq!(
            items,
            [
                (Kind::Action, "get", "action_get.json"),
                (Kind::Connector, "feed", "connector_feed.json"),
                (Kind::Trigger, "poll", "trigger_poll.json"),
            ]
        );
        let skipped: Vec<&str> = manifests
            .skipped
            .iter()
            .map(|(file, _)| file.as_str())
            .collect();
        assert_eq!(skipped, ["action_get_again.json", "action_nothing.json"]);
        assert!(manifests.skipped[0].1.contains("action_get.json"));
        assert!(manifests.supports_validation());
    }
}
