//! The module's documentation page, in Markdown, from its manifests: the
//! configuration (secrets marked), then, for each manifest kind, its items
//! with one table per schema section (an action's arguments and results, a
//! trigger's configuration and events) and its branches.
//!
//! A table has one row per property: name, type, whether it is required,
//! default, description. Types read as `string`, `integer`, `array of
//! Address`, `"low" \| "high"`, `Address` for a nested type, whose
//! properties follow in their own table, and `string or null` for an
//! optional value.
//!
//! ```
//! use sekoia_automation::unversioned::documentation::render;
//! use serde_json::json;
//!
//! let manifest = json!({
//!     "name": "Demo", "description": "A demo", "version": "1.0.0",
//!     "configuration": {
//!         "type": "object",
//!         "properties": {"api_key": {"type": "string", "description": "The key"}},
//!         "required": ["api_key"],
//!         "secrets": ["api_key"]
//!     }
//! });
//! let page = render(&manifest, &[]);
//! assert!(page.starts_with("# Demo\n\nA demo\n"));
//! assert!(page.contains("| `api_key` | `string` | yes |  | The key (secret) |"));
//! ```

use std::path::Path;

use serde_json::{Map, Value};

use crate::item::manifest::{KINDS, ManifestKind, SectionContent};
use crate::tooling::generate::{GeneratedFile, MANIFEST_FILE};

/// Where `generate-documentation` writes the page by default, in the module
/// directory.
pub const DEFAULT_FILE: &str = "DOCUMENTATION.md";

/// Why the page could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentationError {
    /// A manifest cannot be read or parsed.
    #[error("cannot read {file}: {detail}; run generate-files first")]
    Manifest {
        /// The file.
        file: String,
        /// What went wrong.
        detail: String,
    },
}

/// The page for generated files (`manifest.json` and the item manifests).
pub fn from_generated(files: &[GeneratedFile]) -> Result<String, DocumentationError> {
    let parse = |file: &GeneratedFile| {
        serde_json::from_str::<Value>(&file.contents).map_err(|error| {
            DocumentationError::Manifest {
                file: file.file_name.clone(),
                detail: error.to_string(),
            }
        })
    };
    let manifest = files
        .iter()
        .find(|file| file.file_name == MANIFEST_FILE)
        .map(parse)
        .transpose()?
        .unwrap_or(Value::Null);
    let mut items = Vec::new();
    for file in files {
        if let Some(kind) = kind_of(&file.file_name) {
            items.push((kind, parse(file)?));
        }
    }
    Ok(render(&manifest, &items))
}

/// The page for the manifests of a module directory, as they are on disk.
pub fn from_directory(directory: &Path) -> Result<String, DocumentationError> {
    let mut files = Vec::new();
    let mut names = vec![MANIFEST_FILE.to_string()];
    names.extend(crate::tooling::check::item_files(directory));
    for name in names {
        let contents = std::fs::read_to_string(directory.join(&name)).map_err(|error| {
            DocumentationError::Manifest {
                file: name.clone(),
                detail: error.to_string(),
            }
        })?;
        files.push(GeneratedFile {
            file_name: name,
            contents,
        });
    }
    from_generated(&files)
}

fn kind_of(file: &str) -> Option<&'static ManifestKind> {
    KINDS
        .iter()
        .copied()
        .find(|kind| file.starts_with(&format!("{}_", kind.prefix)))
}

/// The page for a module manifest and its item manifests (each with its
/// kind). Items are shown per kind in `KINDS` order, sorted by name within
/// a kind.
pub fn render(manifest: &Value, items: &[(&ManifestKind, Value)]) -> String {
    let text = |key: &str| {
        manifest
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let mut page = String::new();
    let name = text("name");
    page.push_str(&format!(
        "# {}\n\n",
        if name.is_empty() { "Module" } else { name }
    ));
    if !text("description").is_empty() {
        page.push_str(&format!("{}\n\n", text("description")));
    }
    let mut facts = Vec::new();
    for key in ["slug", "version", "uuid"] {
        if !text(key).is_empty() {
            facts.push(format!("{key} `{}`", text(key)));
        }
    }
    if manifest.get("supports_validation") == Some(&Value::Bool(true)) {
        facts.push("validates accounts".to_string());
    }
    if !facts.is_empty() {
        page.push_str(&format!("{}\n\n", facts.join(" · ")));
    }
    page.push_str("## Configuration\n\n");
    match manifest.get("configuration") {
        Some(configuration) if has_properties(configuration) => {
            schema_tables(&mut page, configuration);
        }
        _ => page.push_str("This module accepts no configuration.\n\n"),
    }
    for kind in KINDS {
        let mut of_kind: Vec<&Value> = items
            .iter()
            .filter(|(item_kind, _)| item_kind.prefix == kind.prefix)
            .map(|(_, item)| item)
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        of_kind.sort_by_key(|item| {
            item.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        });
        page.push_str(&format!("## {}\n\n", kind.title));
        for item in of_kind {
            item_section(&mut page, kind, item);
        }
    }
    while page.ends_with("\n\n") {
        page.pop();
    }
    page
}

fn item_section(page: &mut String, kind: &ManifestKind, item: &Value) {
    let text = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or_default();
    page.push_str(&format!("### {}\n\n", text("name")));
    if !text("description").is_empty() {
        page.push_str(&format!("{}\n\n", text("description")));
    }
    page.push_str(&format!("Command: `{}`\n\n", text("docker_parameters")));
    for section in kind.sections {
        let Some(value) = item.get(section.field) else {
            continue;
        };
        match section.content {
            SectionContent::Schema => {
                page.push_str(&format!("**{}**\n\n", section.heading));
                if has_properties(value) {
                    schema_tables(page, value);
                } else if value.get("type").and_then(Value::as_str) == Some("object") {
                    page.push_str("None.\n\n");
                } else {
                    page.push_str(&format!("Type: `{}`\n\n", type_of(value, value)));
                }
            }
            SectionContent::Branches => {
                let branches: Vec<String> = value
                    .as_object()
                    .map(|branches| {
                        branches
                            .keys()
                            .map(|branch| format!("`{branch}`"))
                            .collect()
                    })
                    .unwrap_or_default();
                if !branches.is_empty() {
                    page.push_str(&format!(
                        "**{}**: {}\n\n",
                        section.heading,
                        branches.join(", ")
                    ));
                }
            }
        }
    }
}

fn has_properties(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|properties| !properties.is_empty())
}

/// The table of a schema's properties, then one table per nested type it
/// references (each once), in order of first use.
fn schema_tables(page: &mut String, schema: &Value) {
    let mut pending = vec![(String::new(), schema)];
    let mut shown: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let (title, current) = pending.remove(0);
        if !title.is_empty() {
            page.push_str(&format!("`{title}`:\n\n"));
        }
        let secrets: Vec<&str> = current
            .get("secrets")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let required: Vec<&str> = current
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        page.push_str("| Name | Type | Required | Default | Description |\n");
        page.push_str("| --- | --- | --- | --- | --- |\n");
        let empty = Map::new();
        let properties = current
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, property) in properties {
            let mut description = property
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if secrets.contains(&name.as_str()) {
                description = if description.is_empty() {
                    "(secret)".into()
                } else {
                    format!("{description} (secret)")
                };
            }
            let default = property
                .get("default")
                .map(|value| format!("`{value}`"))
                .unwrap_or_default();
            page.push_str(&format!(
                "| `{name}` | `{}` | {} | {} | {} |\n",
                cell(&type_of(property, schema)),
                if required.contains(&name.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                cell(&default),
                cell(&description),
            ));
            for reference in references(property) {
                if shown.contains(&reference) {
                    continue;
                }
                if let Some(definition) = resolve(schema, &reference) {
                    if has_properties(definition) {
                        shown.push(reference.clone());
                        pending.push((definition_name(&reference).to_string(), definition));
                    }
                }
            }
        }
        page.push('\n');
    }
}

/// Escapes a table cell: `|` and line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", "<br/>")
        .replace('\n', "<br/>")
}

fn definition_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    reference
        .strip_prefix('#')
        .and_then(|pointer| root.pointer(pointer))
}

/// The `$ref`s a property uses, directly or through items and combinators.
fn references(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        found.push(reference.to_string());
    }
    if let Some(items) = schema.get("items") {
        found.extend(references(items));
    }
    if let Some(additional) = schema.get("additionalProperties") {
        found.extend(references(additional));
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(members) = schema.get(combinator).and_then(Value::as_array) {
            for member in members {
                found.extend(references(member));
            }
        }
    }
    found
}

/// A readable type for a schema.
fn type_of(schema: &Value, root: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return match resolve(root, reference) {
            Some(definition) if !has_properties(definition) && definition.get("enum").is_some() => {
                type_of(definition, root)
            }
            _ => definition_name(reference).to_string(),
        };
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    if let Some(value) = schema.get("const") {
        return value.to_string();
    }
    for combinator in ["anyOf", "oneOf"] {
        if let Some(members) = schema.get(combinator).and_then(Value::as_array) {
            return members
                .iter()
                .map(|member| type_of(member, root))
                .collect::<Vec<_>>()
                .join(" or ");
        }
    }
    if let Some(members) = schema.get("allOf").and_then(Value::as_array) {
        if let [single] = members.as_slice() {
            return type_of(single, root);
        }
    }
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "array" => match schema.get("items") {
            Some(items) => format!("array of {}", type_of(items, root)),
            None => "array".into(),
        },
        Some(Value::String(kind)) if kind == "object" => match schema.get("additionalProperties") {
            Some(values) if values.is_object() && !has_properties(schema) => {
                format!("map of {}", type_of(values, root))
            }
            _ => "object".into(),
        },
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    }
}
