//! Files generated from the registered items ([protocol §6](crate::protocol#6-files-the-tooling-writes)): one manifest per
//! item (the file the item states, [`Identity::file`](crate::config::Identity::file);
//! else the existing one whose `docker_parameters` is the item's command,
//! as the Python SDK's tooling links them, [`ModuleItems::link`]; else
//! `action_<name>.json`, `trigger_<name>.json`) and `manifest.json`
//! updated with the module configuration's schema.
//!
//! The output is stable: the same bytes on every run. A new file is pretty
//! JSON (two-space indent, as the Python SDK's `json.dumps(indent=2)`)
//! ending with a newline, its keys in the order of
//! [`item_manifest`](crate::item::manifest) (`name`, `description`, `uuid`,
//! `slug`, `docker_parameters`, then the kind's fields).
//!
//! An existing file is the starting point, so that regenerating a module
//! ported from Python changes nothing in git:
//! - the code owns `name`, `description`, `uuid`, `slug` (what it states;
//!   what it does not state comes from the linked file, unchanged),
//!   `docker_parameters` and the kind's fields (`outputs` only when the
//!   action declares branches); in `manifest.json`, `configuration` and
//!   `supports_validation` (`true` when an account validator is
//!   registered; a `true` removed otherwise, a `false` kept). Each is replaced in place, or added at
//!   the end;
//! - a schema the code does not state (its type accepts any value:
//!   `serde_json::Value`, `()`, [`Documented`](crate::config::Documented)) is the
//!   file's: the schema documented by hand stays, and a file without one
//!   gets none (a new file gets `{}`, as the Python generator writes),
//!   except a `manifest.json` without `configuration` for a module
//!   configuration `()`, which gets `{"type": "object", "properties": {}}`
//!   (what `check-module` asks of a module without configuration);
//! - every other key stays as it is, where it is;
//! - a file whose content does not change keeps its bytes; one that changes
//!   is written in its own style ([`TextStyle`]: indent, final newline,
//!   `\uXXXX` escapes as Python's `json.dumps` writes them).
//!
//! ```
//! use sekoia_automation::unversioned::{ModuleItems, generate};
//! use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
//!
//! struct Ping;
//! impl Action for Ping {
//!     type ModuleConfiguration = ();
//!     type Arguments = serde_json::Value;
//!     type Results = serde_json::Value;
//!     const NAME: &'static str = "Ping";
//!     const DESCRIPTION: &'static str = "Answer pong";
//!     fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> {
//!         Ok(Outcome::none())
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

use crate::item::manifest::{file_name, item_uuid, states_nothing};
use crate::item::registration::ItemKind;
pub use crate::tooling::manifest_text::TextStyle;
use crate::tooling::{ItemRef, ModuleItems};

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
        "there is no {}: the module manifest (with `name`, `slug`, `uuid`, `version`) must exist first; the module's `generate-files` starts one, `sekoia-automation new-module` writes one with a new module",
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
    /// Two items have the same uuid (a stated uuid copied twice).
    #[error(
        "the items registered under `{first}` and `{second}` both have the uuid {uuid}: each item needs its own; check the `uuid` of their manifest files, or the uuid they state (`Identity::uuid`)"
    )]
    SameUuid {
        /// The uuid.
        uuid: String,
        /// The first item's command.
        first: String,
        /// The second item's command.
        second: String,
    },
    /// An item states the module's uuid as its own.
    #[error(
        "the item registered under `{command}` states the module's uuid {uuid} as its own: state the `uuid` of the item's manifest file, not the one of manifest.json"
    )]
    ModuleUuidStated {
        /// The uuid.
        uuid: String,
        /// The item's command.
        command: String,
    },
    /// An item states a manifest file name without its kind's prefix.
    #[error(
        "the item registered under `{command}` states the manifest file `{file}`, which does not start with `{prefix}_`: the tooling finds {prefix} manifests by that prefix; state the file name the module has (`{prefix}_….json`)"
    )]
    FilePrefix {
        /// The stated file.
        file: String,
        /// The kind's prefix.
        prefix: &'static str,
        /// The item's command.
        command: String,
    },
    /// An item states no name and no manifest file has its command.
    #[error(
        "the item registered under `{command}` states no name, and no `{prefix}_*.json` of {} has `\"docker_parameters\": \"{command}\"`: copy the item's manifest file into the module directory (a port), or state its name (`.name(\"...\")` on an `Api` action) so that generate-files writes one",
        directory.display()
    )]
    Unnamed {
        /// The item's command.
        command: String,
        /// The kind's prefix.
        prefix: &'static str,
        /// The module directory.
        directory: PathBuf,
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

/// The text of a new generated JSON file: pretty, two-space indent,
/// trailing newline.
///
/// ```
/// use sekoia_automation::unversioned::generate::to_file_text;
/// assert_eq!(to_file_text(&serde_json::json!({"a": [1]})), "{\n  \"a\": [\n    1\n  ]\n}\n");
/// ```
pub fn to_file_text(value: &Value) -> String {
    TextStyle::default().render(value)
}

/// An existing JSON object file: its text and its value.
struct Existing {
    text: String,
    value: Map<String, Value>,
}

/// The file at `path` if it exists and holds a JSON object.
fn read_existing(path: &Path) -> Option<Existing> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(value)) => Some(Existing { text, value }),
        _ => None,
    }
}

/// The generated fields laid over an existing file: owned keys replaced in
/// place (or added at the end), a stated-nothing schema (`{}`) leaving the
/// file as it is (its schema, or no such key), the other keys kept.
fn merge(existing: &Map<String, Value>, generated: Map<String, Value>) -> Map<String, Value> {
    let mut merged = existing.clone();
    for (key, value) in generated {
        // A schema the code does not state is the file's to give, or not.
        if states_nothing(&value) {
            continue;
        }
        merged.insert(key, value);
    }
    merged
}

/// The text of a file whose content is `value`: the existing bytes when
/// the content is unchanged, else the existing text with only the changed
/// top-level values rewritten, in its style (the whole file in its style
/// when the text cannot be followed).
fn file_text(existing: Option<&Existing>, value: Map<String, Value>) -> String {
    match existing {
        Some(existing) if existing.value == value && same_order(&existing.value, &value) => {
            existing.text.clone()
        }
        Some(existing) => {
            crate::tooling::manifest_text::rewrite(&existing.text, &existing.value, &value)
                .unwrap_or_else(|| TextStyle::of(&existing.text).render(&Value::Object(value)))
        }
        None => to_file_text(&Value::Object(value)),
    }
}

fn same_order(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.keys().eq(b.keys())
}

/// A first `manifest.json` for a module that has none: `name` as given,
/// `slug` derived from it (lower-case letters and digits, other runs as
/// `-`, an `m` in front of a leading digit), a fresh UUIDv4, `version`
/// 0.1.0, the name as `description`. `generate-files` writes it when the
/// module directory has no manifest yet; review the name, slug and
/// description, then keep the file: the uuid names the module on the
/// platform and seeds its items' uuids.
///
/// ```
/// let manifest = sekoia_automation::unversioned::generate::starter_manifest("My Service 2");
/// assert_eq!(manifest["name"], "My Service 2");
/// assert_eq!(manifest["slug"], "my-service-2");
/// assert_eq!(manifest["version"], "0.1.0");
/// assert!(uuid::Uuid::parse_str(manifest["uuid"].as_str().unwrap()).is_ok());
/// ```
pub fn starter_manifest(name: &str) -> Map<String, Value> {
    let mut manifest = Map::new();
    manifest.insert("name".into(), name.into());
    manifest.insert("description".into(), name.into());
    manifest.insert("slug".into(), slug(name).into());
    manifest.insert("version".into(), "0.1.0".into());
    manifest.insert("uuid".into(), Uuid::new_v4().to_string().into());
    manifest.insert("categories".into(), Value::Array(Vec::new()));
    manifest
}

/// The slug for a module name: lower-case ASCII letters and digits, every
/// other run of characters as one `-`, prefixed with `m` when it would
/// start with a digit (the platform's slug rule wants a letter first).
///
/// ```
/// use sekoia_automation::unversioned::generate::slug;
/// assert_eq!(slug("My Module 2"), "my-module-2");
/// assert_eq!(slug("42 Things!"), "m42-things");
/// ```
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("m{out}")
    } else {
        out
    }
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
    let items = &items.link(directory)?;
    let manifest_text = read_existing(&directory.join(MANIFEST_FILE));
    let manifest = module_manifest(existing, items);
    let mut files = vec![GeneratedFile {
        file_name: MANIFEST_FILE.into(),
        contents: file_text(manifest_text.as_ref(), manifest),
    }];
    let mut commands: Vec<(String, &str)> = Vec::new();
    let mut uuids: Vec<(String, &str)> = Vec::new();
    for item in items.iter() {
        let Some(file) = manifest_file(item)? else {
            continue;
        };
        if let Some((_, first)) = commands.iter().find(|(name, _)| *name == file) {
            return Err(GenerateError::SameFile {
                file,
                first: first.to_string(),
                second: item.command.to_string(),
            });
        }
        commands.push((file.clone(), item.command));
        let uuid = item_uuid_text(&namespace, item);
        if Uuid::parse_str(&uuid).ok() == Some(namespace) {
            return Err(GenerateError::ModuleUuidStated {
                uuid,
                command: item.command.to_string(),
            });
        }
        if let Some((_, first)) = uuids.iter().find(|(other, _)| *other == uuid) {
            return Err(GenerateError::SameUuid {
                uuid,
                first: first.to_string(),
                second: item.command.to_string(),
            });
        }
        uuids.push((uuid, item.command));
        let existing = read_existing(&directory.join(&file));
        let mut generated = item_manifest(&namespace, item);
        // A description the code does not state is the file's, even an
        // empty one (library manifests have `"description": ""`): the name
        // stands in for it only in a new file.
        if item.description.is_empty()
            && existing
                .as_ref()
                .is_some_and(|existing| existing.value.contains_key("description"))
        {
            generated.shift_remove("description");
        }
        let value = match &existing {
            Some(existing) => merge(&existing.value, generated),
            None => generated,
        };
        files.push(GeneratedFile {
            contents: file_text(existing.as_ref(), value),
            file_name: file,
        });
    }
    Ok(files)
}

/// The manifest file of an item: the one it states, else
/// `<prefix>_<name>.json`; `None` for an item without a manifest kind.
pub fn manifest_file(item: &ItemRef<'_>) -> Result<Option<String>, GenerateError> {
    let Some(kind) = item.manifest.kind() else {
        return Ok(None);
    };
    match item.file.as_deref() {
        None => Ok(Some(file_name(kind.prefix, &item.name))),
        Some(file) => {
            let prefixed = file
                .strip_prefix(kind.prefix)
                .is_some_and(|rest| rest.starts_with('_'));
            if !prefixed {
                return Err(GenerateError::FilePrefix {
                    file: file.to_string(),
                    prefix: kind.prefix,
                    command: item.command.to_string(),
                });
            }
            Ok(Some(file.to_string()))
        }
    }
}

/// The uuid of an item: the one it states, else UUIDv5 of its name in the
/// module's namespace.
pub fn item_uuid_text(namespace: &Uuid, item: &ItemRef<'_>) -> String {
    match item.uuid.as_deref() {
        Some(uuid) => uuid.to_string(),
        None => item_uuid(namespace, &item.name).to_string(),
    }
}

/// The manifest of one item as the code gives it: `name`, `description`,
/// `uuid`, `slug` (when stated), `docker_parameters`, then its kind's
/// fields.
pub fn item_manifest(namespace: &Uuid, item: &ItemRef<'_>) -> Map<String, Value> {
    let mut manifest = Map::new();
    manifest.insert("name".into(), item.name.as_ref().into());
    let description = if item.description.is_empty() {
        &item.name
    } else {
        &item.description
    };
    manifest.insert("description".into(), description.as_ref().into());
    manifest.insert("uuid".into(), item_uuid_text(namespace, item).into());
    if let Some(slug) = item.slug.as_deref() {
        manifest.insert("slug".into(), slug.into());
    }
    manifest.insert("docker_parameters".into(), item.command.into());
    manifest.extend(item.manifest.fields());
    manifest
}

/// `manifest.json`: the existing one, `configuration` replaced by the module
/// configuration's schema (unless the code states none, `{}`) and
/// `supports_validation` set.
pub fn module_manifest(
    mut existing: Map<String, Value>,
    items: &ModuleItems<'_>,
) -> Map<String, Value> {
    let configuration = items
        .iter()
        .next()
        .map(|item| item.manifest.module_configuration())
        .unwrap_or_else(|| Value::Object(Map::new()));
    // A configuration the code does not state is the file's (the Python
    // generator leaves `manifest.json` alone for a module without one).
    let without_configuration = items
        .iter()
        .next()
        .is_some_and(|item| item.manifest.module_without_configuration());
    if !states_nothing(&configuration) {
        existing.insert("configuration".into(), configuration);
    } else if without_configuration && !existing.contains_key("configuration") {
        // A module without configuration (`()`) still declares an empty
        // one, which `check` asks for (the platform reads the key).
        existing.insert(
            "configuration".into(),
            serde_json::json!({"type": "object", "properties": {}}),
        );
    }
    if items
        .iter()
        .any(|item| item.kind == ItemKind::AccountValidator)
    {
        existing.insert(SUPPORTS_VALIDATION.into(), Value::Bool(true));
    } else if existing.get(SUPPORTS_VALIDATION) == Some(&Value::Bool(true)) {
        // The claim is no longer true; a `false` stays as written.
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
