//! Files generated from the registered items (PROTOCOL §6): one manifest per
//! item (`action_<name>.json`, `trigger_<name>.json`) and `manifest.json`
//! updated with the module configuration's schema.
//!
//! The output is stable: the same bytes on every run. Files are pretty JSON
//! (two-space indent, as the Python SDK's `json.dumps(indent=2)`) ending with
//! a newline. Key order: an item manifest has `name`, `description`, `uuid`,
//! `docker_parameters`, then its kind's fields (see
//! [`item_manifest`](crate::item::manifest)); schemas have sorted keys but
//! properties in field order; `manifest.json` keeps the order of the
//! existing file, `configuration` replaced in place and
//! `supports_validation` (`true` when an account validator is registered,
//! removed otherwise) kept in place or added at the end.
//!
//! ```
//! use sekoia_automation::unversioned::{ModuleItems, generate};
//! use sekoia_automation::{Action, ActionContext, Module, Outcome};
//!
//! struct Ping;
//! impl Action for Ping {
//!     type ModuleConfiguration = ();
//!     type Arguments = serde_json::Value;
//!     type Results = serde_json::Value;
//!     const NAME: &'static str = "Ping";
//!     const DESCRIPTION: &'static str = "Answer pong";
//!     fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Outcome<serde_json::Value> {
//!         Outcome::none()
//!     }
//! }
//!
//! let directory = tempfile::tempdir()?;
//! std::fs::write(
//!     directory.path().join("manifest.json"),
//!     r#"{"name": "Demo", "slug": "demo", "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "version": "0.1.0"}"#,
//! )?;
//! let module = Module::<()>::new().register("ping", Ping);
//! let files = generate::generate(directory.path(), &ModuleItems::new(module.items()))?;
//! assert_eq!(files[0].file_name, "manifest.json");
//! assert_eq!(files[1].file_name, "action_ping.json");
//! assert!(files[1].contents.contains(r#""docker_parameters": "ping""#));
//! generate::write(directory.path(), &files)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::item::manifest::{file_name, item_uuid, normalize_schema};
use crate::item::registration::ItemKind;
use crate::tooling::ModuleItems;

/// The module manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The key of `manifest.json` telling that the module validates accounts.
pub const SUPPORTS_VALIDATION: &str = "supports_validation";

/// Why the files could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// There is no `manifest.json` to start from.
    #[error(
        "there is no {} : the module manifest (with `name`, `slug`, `uuid`, `version`) must exist before the files are generated; `sekoia-automation new-module` writes one",
        path.display()
    )]
    ManifestMissing {
        /// The expected path.
        path: PathBuf,
    },
    /// `manifest.json` cannot be read or is not a JSON object.
    #[error("{} is not a readable JSON object: {detail}; fix it and generate again", path.display())]
    ManifestInvalid {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The module's `uuid` is missing or is not a uuid.
    #[error(
        "`uuid` of {} is {value}, not a uuid: the item uuids derive from it; set it to a fresh UUIDv4 (e.g. from `uuidgen`) once, and never change it",
        path.display()
    )]
    ModuleUuid {
        /// The manifest.
        path: PathBuf,
        /// The value found (`null` when absent).
        value: String,
    },
    /// Two items would write the same file.
    #[error(
        "the items registered under `{first}` and `{second}` both write {file}: give them different names (`NAME`)"
    )]
    SameFile {
        /// The file.
        file: String,
        /// The first item's command.
        first: String,
        /// The second item's command.
        second: String,
    },
    /// A file could not be written.
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        cause: std::io::Error,
    },
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The file name, in the module directory.
    pub file_name: String,
    /// The file's text.
    pub contents: String,
}

/// The text of a generated JSON file: pretty, two-space indent, trailing
/// newline.
///
/// ```
/// use sekoia_automation::unversioned::generate::to_file_text;
/// assert_eq!(to_file_text(&serde_json::json!({"a": [1]})), "{\n  \"a\": [\n    1\n  ]\n}\n");
/// ```
pub fn to_file_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// Reads `manifest.json` of `directory` as a JSON object.
pub fn read_manifest(directory: &Path) -> Result<Map<String, Value>, GenerateError> {
    let path = directory.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(GenerateError::ManifestMissing { path });
        }
        Err(error) => {
            return Err(GenerateError::ManifestInvalid {
                path,
                detail: error.to_string(),
            });
        }
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(GenerateError::ManifestInvalid {
            path,
            detail: "the top level is not an object".into(),
        }),
        Err(error) => Err(GenerateError::ManifestInvalid {
            path,
            detail: format!("not valid JSON: {error}"),
        }),
    }
}

/// The module's uuid, from its manifest.
pub fn module_uuid(manifest: &Map<String, Value>, directory: &Path) -> Result<Uuid, GenerateError> {
    let value = manifest.get("uuid");
    value
        .and_then(Value::as_str)
        .and_then(|text| Uuid::parse_str(text).ok())
        .ok_or_else(|| GenerateError::ModuleUuid {
            path: directory.join(MANIFEST_FILE),
            value: value.map_or_else(|| "null".to_string(), Value::to_string),
        })
}

/// The files for the module in `directory` (whose `manifest.json` must
/// exist): `manifest.json` first, then one manifest per item that has a
/// manifest kind, in registration order. Nothing is written.
pub fn generate(
    directory: &Path,
    items: &ModuleItems<'_>,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    let existing = read_manifest(directory)?;
    let namespace = module_uuid(&existing, directory)?;
    let mut files = vec![GeneratedFile {
        file_name: MANIFEST_FILE.into(),
        contents: to_file_text(&Value::Object(module_manifest(existing, items))),
    }];
    let mut commands: Vec<(String, &str)> = Vec::new();
    for item in items.iter() {
        let Some(kind) = item.manifest.kind() else {
            continue;
        };
        let file = file_name(kind.prefix, item.name);
        if let Some((_, first)) = commands.iter().find(|(name, _)| *name == file) {
            return Err(GenerateError::SameFile {
                file,
                first: first.to_string(),
                second: item.command.to_string(),
            });
        }
        commands.push((file.clone(), item.command));
        files.push(GeneratedFile {
            file_name: file,
            contents: to_file_text(&Value::Object(item_manifest(&namespace, item))),
        });
    }
    Ok(files)
}

/// The manifest of one item: `name`, `description`, `uuid`,
/// `docker_parameters`, then its kind's fields.
pub fn item_manifest(namespace: &Uuid, item: &crate::tooling::ItemRef<'_>) -> Map<String, Value> {
    let mut manifest = Map::new();
    manifest.insert("name".into(), item.name.into());
    let description = if item.description.is_empty() {
        item.name
    } else {
        item.description
    };
    manifest.insert("description".into(), description.into());
    manifest.insert(
        "uuid".into(),
        item_uuid(namespace, item.name).to_string().into(),
    );
    manifest.insert("docker_parameters".into(), item.command.into());
    manifest.extend(item.manifest.fields());
    manifest
}

/// `manifest.json`: the existing one, `configuration` replaced by the module
/// configuration's schema and `supports_validation` set.
pub fn module_manifest(
    mut existing: Map<String, Value>,
    items: &ModuleItems<'_>,
) -> Map<String, Value> {
    let configuration = items
        .iter()
        .next()
        .map(|item| item.manifest.module_configuration())
        .unwrap_or_else(|| normalize_schema(Value::Bool(true)));
    existing.insert("configuration".into(), configuration);
    if items
        .iter()
        .any(|item| item.kind == ItemKind::AccountValidator)
    {
        existing.insert(SUPPORTS_VALIDATION.into(), Value::Bool(true));
    } else {
        existing.shift_remove(SUPPORTS_VALIDATION);
    }
    existing
}

/// Writes the files into `directory`; returns, for each, whether its
/// contents changed (an unchanged file is not rewritten).
pub fn write(directory: &Path, files: &[GeneratedFile]) -> Result<Vec<bool>, GenerateError> {
    files
        .iter()
        .map(|file| {
            let path = directory.join(&file.file_name);
            if std::fs::read_to_string(&path).is_ok_and(|current| current == file.contents) {
                return Ok(false);
            }
            std::fs::write(&path, &file.contents)
                .map(|()| true)
                .map_err(|source| GenerateError::Write {
                    path,
                    cause: source,
                })
        })
        .collect()
}
