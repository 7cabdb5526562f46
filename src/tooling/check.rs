//! Checks a module directory: its manifests, and, given the registered
//! items, that the manifests match the code.
//!
//! The rules, each reported as a [`Problem`] naming the file:
//! - `manifest.json` exists and is a JSON object with a `name`, a `slug`
//!   matching `^[a-z]([a-z_.\-]|\d)*$` (ASCII digits), a semver `version`
//!   and a `uuid`;
//! - every manifest parses, and its schemas (`configuration`, `arguments`,
//!   `results`) are valid JSON Schema;
//! - declared secrets (`configuration.secrets`, `arguments.secrets`) are
//!   properties of their schema;
//! - item manifests have `name`, `description`, `uuid` and
//!   `docker_parameters`; uuids are unique (and not the module's), and so
//!   are `docker_parameters`;
//! - a `connector_<name>.json` and a `trigger_<name>.json` describe the
//!   same item (the library's legacy pairs): they must share `uuid` and
//!   `docker_parameters`, and the trigger file of a registered connector is
//!   its pair, not a stray file;
//! - with the items: each item has its manifest and each manifest an item,
//!   `docker_parameters` is the command the item is registered under, the
//!   uuid is the one generated (or the one the item states), and every file is what `generate-files`
//!   would write (up to date).
//!
//! Module binaries check versions and schemas with the small hand-written
//! [`Rules::default`]: a semver parser and a structural JSON Schema check
//! (keyword types, subschemas, local `$ref`s resolve). The
//! `sekoia-automation` command (feature `cli`) passes stricter rules: the
//! `semver` crate and validation against the JSON Schema meta-schema.
//!
//! ```
//! use sekoia_automation::unversioned::check::{check, Rules};
//!
//! let directory = tempfile::tempdir()?;
//! std::fs::write(
//!     directory.path().join("manifest.json"),
//!     r#"{"name": "Demo", "slug": "Demo", "uuid": "6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61", "version": "1.0"}"#,
//! )?;
//! let problems = check(directory.path(), None, &Rules::default());
//! let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
//! assert!(text[0].starts_with("manifest.json: `slug` \"Demo\""), "{text:?}");
//! assert!(text[1].starts_with("manifest.json: `version` \"1.0\""), "{text:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::item::manifest::{KINDS, SUBSCHEMA_KEYWORDS, SUBSCHEMA_LIST_KEYWORDS, SectionContent};
use crate::tooling::ModuleItems;
use crate::tooling::generate::{GeneratedFile, MANIFEST_FILE, read_manifest};

/// One problem found in a module directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the module directory.
    pub file: String,
    /// What is wrong, and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// How versions and schemas are checked.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Checks a `version`; the error says why it is not semver.
    pub version: fn(&str) -> Result<(), String>,
    /// Checks a schema; the errors name the place (a JSON pointer).
    pub schema: fn(&Value) -> Vec<String>,
}

impl Default for Rules {
    /// The built-in rules: [`semver_problem`] and [`schema_problems`].
    fn default() -> Self {
        Rules {
            version: semver_problem,
            schema: schema_problems,
        }
    }
}

/// The slug rule of the platform: `^[a-z]([a-z_.\-]|\d)*$`.
///
/// ```
/// use sekoia_automation::unversioned::check::is_valid_slug;
/// assert!(is_valid_slug("sekoia.io-utils_2"));
/// assert!(!is_valid_slug("2fast") && !is_valid_slug("My module") && !is_valid_slug(""));
/// ```
pub fn is_valid_slug(slug: &str) -> bool {
    let mut characters = slug.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_lowercase())
        && characters.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
}

/// Why `version` is not a semantic version (`MAJOR.MINOR.PATCH`, optional
/// `-pre.release` and `+build`, no leading zeros), `Ok` when it is.
///
/// ```
/// use sekoia_automation::unversioned::check::semver_problem;
/// assert!(semver_problem("1.2.3").is_ok());
/// assert!(semver_problem("1.0.0-rc.1+build.5").is_ok());
/// assert!(semver_problem("1.2").is_err());
/// assert!(semver_problem("01.2.3").is_err());
/// ```
pub fn semver_problem(version: &str) -> Result<(), String> {
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numeric = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'))
    };
    let identifier = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|part| numeric(part)) {
        return Err(
            "expected MAJOR.MINOR.PATCH, three numbers without leading zeros (e.g. 1.4.0)".into(),
        );
    }
    if let Some(pre) = pre {
        let valid = pre.split('.').all(|part| {
            identifier(part) && (!part.bytes().all(|b| b.is_ascii_digit()) || numeric(part))
        });
        if !valid {
            return Err(format!(
                "the pre-release `{pre}` must be dot-separated alphanumeric identifiers"
            ));
        }
    }
    if let Some(build) = build
        && !build.split('.').all(identifier)
    {
        return Err(format!(
            "the build metadata `{build}` must be dot-separated alphanumeric identifiers"
        ));
    }
    Ok(())
}

const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "string", "integer",
];

/// Structural problems of a JSON Schema: keyword values of the wrong type,
/// subschemas that are not schemas, local `$ref`s that do not resolve. Each
/// names its place as a JSON pointer. Unknown keywords are allowed.
///
/// ```
/// use sekoia_automation::unversioned::check::schema_problems;
/// use serde_json::json;
///
/// assert!(schema_problems(&json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": {"A": {"type": "string"}}})).is_empty());
/// assert_eq!(
///     schema_problems(&json!({"type": "object", "properties": {"a": {"type": "text"}, "b": {"$ref": "#/$defs/B"}}, "required": "a"})),
///     [
///         "/properties/a/type: `text` is not a JSON Schema type",
///         "/properties/b/$ref: `#/$defs/B` does not resolve in this schema",
///         "/required: must be a list of unique property names",
///     ]
/// );
/// ```
pub fn schema_problems(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    walk_schema(schema, "", schema, &mut problems);
    problems
}

fn walk_schema(schema: &Value, path: &str, root: &Value, problems: &mut Vec<String>) {
    let map = match schema {
        Value::Bool(_) => return,
        Value::Object(map) => map,
        _ => {
            problems.push(format!(
                "{}: a schema must be an object or a boolean",
                or_root(path)
            ));
            return;
        }
    };
    for (key, value) in map {
        let here = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
        if let Some(message) = keyword_problem(key, value, root) {
            problems.push(format!("{here}: {message}"));
            continue;
        }
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                match value {
                    Value::Object(schemas) => {
                        for (name, subschema) in schemas {
                            let name = name.replace('~', "~0").replace('/', "~1");
                            walk_schema(subschema, &format!("{here}/{name}"), root, problems);
                        }
                    }
                    _ => problems.push(format!("{here}: must be an object of schemas")),
                }
            }
            "items" => match value {
                Value::Array(schemas) => walk_list(schemas, &here, root, problems),
                other => walk_schema(other, &here, root, problems),
            },
            keyword if SUBSCHEMA_KEYWORDS.contains(&keyword) => {
                walk_schema(value, &here, root, problems)
            }
            keyword if SUBSCHEMA_LIST_KEYWORDS.contains(&keyword) => match value {
                Value::Array(schemas) if !schemas.is_empty() => {
                    walk_list(schemas, &here, root, problems)
                }
                _ => problems.push(format!("{here}: must be a non-empty list of schemas")),
            },
            _ => {}
        }
    }
}

/// The problem of a keyword whose value is not a schema, if any.
fn keyword_problem(key: &str, value: &Value, root: &Value) -> Option<String> {
    let (valid, expected) = match key {
        "type" => {
            if let Value::String(kind) = value
                && !TYPES.contains(&kind.as_str())
            {
                return Some(format!("`{kind}` is not a JSON Schema type"));
            }
            let valid = match value {
                Value::String(_) => true,
                Value::Array(kinds) => {
                    !kinds.is_empty()
                        && kinds
                            .iter()
                            .all(|kind| kind.as_str().is_some_and(|kind| TYPES.contains(&kind)))
                        && unique(kinds)
                }
                _ => false,
            };
            (valid, "a type name or a list of unique type names")
        }
        "$ref" => match value {
            Value::String(reference) => {
                let resolves = reference
                    .strip_prefix('#')
                    .is_none_or(|pointer| root.pointer(pointer).is_some());
                if !resolves {
                    return Some(format!("`{reference}` does not resolve in this schema"));
                }
                (true, "")
            }
            _ => (false, "a string (a URI reference)"),
        },
        "required" => (
            value
                .as_array()
                .is_some_and(|names| names.iter().all(Value::is_string) && unique(names)),
            "a list of unique property names",
        ),
        "enum" => (
            value.as_array().is_some_and(|values| !values.is_empty()),
            "a non-empty list of values",
        ),
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
            (value.is_number(), "a number")
        }
        "multipleOf" => (
            value.as_f64().is_some_and(|number| number > 0.0),
            "a number greater than 0",
        ),
        "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties"
        | "minContains" | "maxContains" => (value.is_u64(), "a non-negative integer"),
        "pattern" | "title" | "description" | "format" | "$comment" | "$id" | "$schema"
        | "$anchor" => (value.is_string(), "a string"),
        "uniqueItems" | "readOnly" | "writeOnly" | "deprecated" => {
            (value.is_boolean(), "true or false")
        }
        _ => (true, ""),
    };
    (!valid).then(|| format!("must be {expected}"))
}

fn walk_list(schemas: &[Value], path: &str, root: &Value, problems: &mut Vec<String>) {
    for (index, schema) in schemas.iter().enumerate() {
        walk_schema(schema, &format!("{path}/{index}"), root, problems);
    }
}

fn or_root(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

fn unique(values: &[Value]) -> bool {
    values
        .iter()
        .enumerate()
        .all(|(index, value)| !values[..index].contains(value))
}

/// The item manifest files of `directory` (names with a known kind prefix,
/// `<prefix>_*.json`), sorted.
pub fn item_files(directory: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| kind_of(name).is_some())
        .collect();
    files.sort();
    files
}

fn kind_of(file: &str) -> Option<&'static crate::item::manifest::ManifestKind> {
    KINDS.iter().copied().find(|kind| {
        file.strip_prefix(kind.prefix)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|rest| rest.ends_with(".json") && rest.len() > ".json".len())
    })
}

/// The item manifests of `directory` that none of `generated` is, and that
/// are not the legacy pair of one (a `trigger_<name>.json` next to the
/// generated `connector_<name>.json`, with its `docker_parameters`): those
/// describe the same item, and the platform may still read them.
pub fn stale_files(directory: &Path, generated: &[GeneratedFile]) -> Vec<String> {
    let command_of = |text: &str| {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|manifest| {
                manifest
                    .get("docker_parameters")?
                    .as_str()
                    .map(str::to_owned)
            })
    };
    let commands: Vec<String> = generated
        .iter()
        .filter_map(|file| command_of(&file.contents))
        .collect();
    item_files(directory)
        .into_iter()
        .filter(|file| {
            !generated
                .iter()
                .any(|generated| generated.file_name == *file)
        })
        .filter(|file| {
            let text = std::fs::read_to_string(directory.join(file)).unwrap_or_default();
            !command_of(&text).is_some_and(|command| commands.contains(&command))
        })
        .collect()
}

struct Checker<'a> {
    rules: &'a Rules,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn push(&mut self, file: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_string(),
            message: message.into(),
        });
    }

    fn schema(&mut self, file: &str, field: &str, schema: &Value) {
        for problem in (self.rules.schema)(schema) {
            self.push(
                file,
                format!("`{field}` is not a valid JSON Schema: {problem}"),
            );
        }
        let Some(secrets) = schema.get("secrets") else {
            return;
        };
        let Some(secrets) = secrets
            .as_array()
            .filter(|names| names.iter().all(Value::is_string))
        else {
            self.push(
                file,
                format!("`{field}.secrets` must be a list of property names"),
            );
            return;
        };
        let properties = schema.get("properties").and_then(Value::as_object);
        for secret in secrets.iter().filter_map(Value::as_str) {
            if !properties.is_some_and(|properties| properties.contains_key(secret)) {
                self.push(
                    file,
                    format!(
                        "`{field}.secrets` declares `{secret}`, which is not in `{field}.properties`: add the property or remove the secret"
                    ),
                );
            }
        }
    }

    fn module_manifest(&mut self, manifest: &Map<String, Value>) -> Option<Uuid> {
        match manifest.get("name") {
            Some(Value::String(name)) if !name.is_empty() => {}
            _ => self.push(
                MANIFEST_FILE,
                "`name` must be a non-empty string: the module's name in the playbook editor",
            ),
        }
        match manifest.get("slug") {
            Some(Value::String(slug)) if is_valid_slug(slug) => {}
            Some(Value::String(slug)) => self.push(
                MANIFEST_FILE,
                format!("`slug` {slug:?} does not match ^[a-z]([a-z_.\\-]|\\d)*$: use lower-case letters, digits, `_`, `.` and `-`, starting with a letter"),
            ),
            _ => self.push(MANIFEST_FILE, "`slug` is missing: a lower-case identifier such as `my-module`"),
        }
        match manifest.get("version") {
            Some(Value::String(version)) => {
                if let Err(why) = (self.rules.version)(version) {
                    self.push(
                        MANIFEST_FILE,
                        format!("`version` {version:?} is not semver: {why}"),
                    );
                }
            }
            _ => self.push(
                MANIFEST_FILE,
                "`version` is missing: a semantic version such as `0.1.0`",
            ),
        }
        let uuid = manifest
            .get("uuid")
            .and_then(Value::as_str)
            .and_then(|text| Uuid::parse_str(text).ok());
        if uuid.is_none() {
            self.push(
                MANIFEST_FILE,
                "`uuid` is missing or not a uuid: set a fresh UUIDv4 once and never change it",
            );
        }
        match manifest.get("configuration") {
            Some(configuration @ Value::Object(_)) => {
                self.schema(MANIFEST_FILE, "configuration", configuration)
            }
            Some(_) => self.push(
                MANIFEST_FILE,
                "`configuration` must be a JSON Schema object",
            ),
            None => self.push(
                MANIFEST_FILE,
                "`configuration` is missing: run generate-files with a typed module configuration, or write the schema (`{\"type\": \"object\", \"properties\": {}}` for a module without configuration)",
            ),
        }
        uuid
    }

    fn item_manifest(
        &mut self,
        file: &str,
        directory: &Path,
        uuids: &mut HashMap<String, String>,
        commands: &mut HashMap<String, String>,
        module_uuid: Option<Uuid>,
    ) -> Option<Map<String, Value>> {
        let text = match std::fs::read_to_string(directory.join(file)) {
            Ok(text) => text,
            Err(error) => {
                self.push(file, format!("cannot be read: {error}"));
                return None;
            }
        };
        let manifest = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(manifest)) => manifest,
            Ok(_) => {
                self.push(file, "the top level must be a JSON object");
                return None;
            }
            Err(error) => {
                self.push(file, format!("is not valid JSON: {error}"));
                return None;
            }
        };
        for key in ["name", "description", "uuid", "docker_parameters"] {
            if !manifest.get(key).is_some_and(Value::is_string) {
                self.push(file, format!("`{key}` must be a string"));
            }
        }
        if let Some(uuid) = manifest.get("uuid").and_then(Value::as_str) {
            match Uuid::parse_str(uuid) {
                Err(_) => self.push(file, format!("`uuid` {uuid:?} is not a uuid")),
                Ok(parsed) if Some(parsed) == module_uuid => {
                    self.push(file, "`uuid` is the module's uuid: each item needs its own")
                }
                Ok(_) => {
                    if let Some(first) = uuids
                        .insert(uuid.to_string(), file.to_string())
                        .filter(|first| pair_of(file).as_deref() != Some(first.as_str()))
                    {
                        self.push(
                            file,
                            format!(
                                "`uuid` {uuid} is also the uuid of {first}: uuids must be unique"
                            ),
                        );
                    }
                }
            }
        }
        if let Some(command) = manifest.get("docker_parameters").and_then(Value::as_str)
            && let Some(first) = commands
                .insert(command.to_string(), file.to_string())
                .filter(|first| pair_of(file).as_deref() != Some(first.as_str()))
        {
            self.push(
                    file,
                    format!("`docker_parameters` `{command}` is also the one of {first}: each item needs its own command"),
                );
        }
        if let Some(kind) = kind_of(file) {
            for section in kind.sections {
                let Some(value) = manifest.get(section.field) else {
                    continue;
                };
                match section.content {
                    SectionContent::Schema => self.schema(file, section.field, value),
                    SectionContent::Branches => {
                        if !value.is_object() {
                            self.push(
                                file,
                                format!(
                                    "`{}` must be an object with one key per branch",
                                    section.field
                                ),
                            );
                        }
                    }
                }
            }
        }
        Some(manifest)
    }
}

/// Checks the module directory; with `items`, against the code too. An
/// empty list: no problem.
pub fn check(directory: &Path, items: Option<&ModuleItems<'_>>, rules: &Rules) -> Vec<Problem> {
    let mut checker = Checker {
        rules,
        problems: Vec::new(),
    };
    let manifest = match read_manifest(directory) {
        Ok(manifest) => Some(manifest),
        Err(error) => {
            checker.push(MANIFEST_FILE, error.to_string());
            None
        }
    };
    let module_uuid = manifest
        .as_ref()
        .and_then(|manifest| checker.module_manifest(manifest));
    let mut uuids = HashMap::new();
    let mut commands = HashMap::new();
    let mut on_disk = HashMap::new();
    for file in item_files(directory) {
        if let Some(parsed) =
            checker.item_manifest(&file, directory, &mut uuids, &mut commands, module_uuid)
        {
            on_disk.insert(file, parsed);
        }
    }
    check_pairs(&mut checker, &on_disk);
    let (Some(items), Some(_), Some(_)) = (items, &manifest, module_uuid) else {
        return checker.problems;
    };
    let items = &match items.link(directory) {
        Ok(items) => items,
        Err(error) => {
            checker.push(MANIFEST_FILE, error.to_string());
            return checker.problems;
        }
    };
    let generated = match crate::tooling::generate::generate(directory, items) {
        Ok(generated) => generated,
        Err(error) => {
            checker.push(MANIFEST_FILE, error.to_string());
            return checker.problems;
        }
    };
    compare(&mut checker, directory, items, &generated, &on_disk);
    checker.problems
}

/// The other file of a connector/trigger pair: `trigger_<name>.json` for
/// `connector_<name>.json` and the reverse.
fn pair_of(file: &str) -> Option<String> {
    let connector = crate::item::manifest::CONNECTOR.prefix;
    let trigger = crate::item::manifest::TRIGGER.prefix;
    if let Some(rest) = file
        .strip_prefix(connector)
        .and_then(|r| r.strip_prefix('_'))
    {
        Some(format!("{trigger}_{rest}"))
    } else {
        file.strip_prefix(trigger)
            .and_then(|rest| rest.strip_prefix('_'))
            .map(|rest| format!("{connector}_{rest}"))
    }
}

/// Connector/trigger pairs share `uuid` and `docker_parameters`.
fn check_pairs(checker: &mut Checker<'_>, on_disk: &HashMap<String, Map<String, Value>>) {
    let mut files: Vec<&String> = on_disk.keys().collect();
    files.sort();
    for file in files {
        if !file.starts_with(crate::item::manifest::CONNECTOR.prefix) {
            continue;
        }
        let Some(pair) = pair_of(file) else { continue };
        let (Some(connector), Some(trigger)) = (on_disk.get(file), on_disk.get(&pair)) else {
            continue;
        };
        for key in ["uuid", "docker_parameters"] {
            if connector.get(key) != trigger.get(key) {
                checker.push(
                    file,
                    format!(
                        "`{key}` differs from the one of {pair}: a connector and its trigger file describe the same item and must share `uuid` and `docker_parameters`"
                    ),
                );
            }
        }
    }
}

fn compare(
    checker: &mut Checker<'_>,
    directory: &Path,
    items: &ModuleItems<'_>,
    generated: &[GeneratedFile],
    on_disk: &HashMap<String, Map<String, Value>>,
) {
    for file in item_files(directory) {
        let generated_or_pair = |name: &str| {
            generated
                .iter()
                .any(|generated| generated.file_name == name)
        };
        let is_pair_of_connector = file.starts_with(crate::item::manifest::TRIGGER.prefix)
            && pair_of(&file).is_some_and(|pair| generated_or_pair(&pair));
        if !generated_or_pair(&file) && !is_pair_of_connector {
            checker.push(
                &file,
                "matches no registered item: register the item, or remove the file if the item is gone",
            );
        }
    }
    let registered_by_file: HashMap<&str, &str> = items
        .iter()
        .filter_map(|item| {
            let file = crate::tooling::generate::manifest_file(item).ok()??;
            generated
                .iter()
                .find(|generated| generated.file_name == file)
                .map(|generated| (generated.file_name.as_str(), item.command))
        })
        .collect();
    for expected in generated {
        let path = directory.join(&expected.file_name);
        let Ok(current) = std::fs::read_to_string(&path) else {
            let what = match registered_by_file.get(expected.file_name.as_str()) {
                Some(command) => {
                    format!("is missing: the item registered under `{command}` has no manifest")
                }
                None => "is missing".to_string(),
            };
            checker.push(&expected.file_name, format!("{what}; run generate-files"));
            continue;
        };
        if current == expected.contents {
            continue;
        }
        let wanted: Value = serde_json::from_str(&expected.contents).unwrap_or(Value::Null);
        if let (Some(command), Some(found)) = (
            registered_by_file.get(expected.file_name.as_str()),
            on_disk.get(&expected.file_name),
        ) {
            let found_command = found.get("docker_parameters").and_then(Value::as_str);
            if found_command.is_some_and(|found| found != *command) {
                checker.push(
                    &expected.file_name,
                    format!(
                        "`docker_parameters` is `{}` but the item is registered under `{command}`",
                        found_command.unwrap_or_default()
                    ),
                );
            }
            let found_uuid = found.get("uuid").and_then(Value::as_str);
            let wanted_uuid = wanted.get("uuid").and_then(Value::as_str);
            if found_uuid.is_some() && found_uuid != wanted_uuid {
                checker.push(
                    &expected.file_name,
                    format!(
                        "`uuid` is {} but the item's uuid is {} (UUIDv5 of its name in the module's uuid, unless the item states one): if the platform already knows the item by {}, state it (`const IDENTITY: Identity = Identity::new().uuid(\"{}\")`), else run generate-files",
                        found_uuid.unwrap_or_default(),
                        wanted_uuid.unwrap_or_default(),
                        found_uuid.unwrap_or_default(),
                        found_uuid.unwrap_or_default(),
                    ),
                );
            }
        }
        let differing = match (serde_json::from_str::<Value>(&current), &wanted) {
            (Ok(Value::Object(found)), Value::Object(wanted)) => {
                let mut keys: Vec<&str> = wanted
                    .iter()
                    .filter(|(key, value)| found.get(*key) != Some(value))
                    .map(|(key, _)| key.as_str())
                    .collect();
                keys.extend(
                    found
                        .keys()
                        .filter(|key| !wanted.contains_key(*key))
                        .map(String::as_str),
                );
                if keys.is_empty() {
                    "its formatting or key order".to_string()
                } else {
                    keys.iter()
                        .map(|key| format!("`{key}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            }
            _ => "its contents".to_string(),
        };
        checker.push(
            &expected.file_name,
            format!("is out of date with the code ({differing} differ): run generate-files"),
        );
    }
}

/// What a check of `directory` read, for its report: the module manifest,
/// the item manifests by name, and with `items` the code they were checked
/// against.
///
/// ```
/// use sekoia_automation::unversioned::check::checked;
///
/// let directory = tempfile::tempdir()?;
/// std::fs::write(directory.path().join("manifest.json"), "{}")?;
/// std::fs::write(directory.path().join("action_greet.json"), "{}")?;
/// std::fs::write(directory.path().join("trigger_ticker.json"), "{}")?;
/// std::fs::write(directory.path().join("notes.json"), "{}")?;
/// assert_eq!(
///     checked(directory.path(), None),
///     "manifest.json, 2 item manifests (action_greet.json, trigger_ticker.json) and their JSON Schemas"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn checked(directory: &Path, items: Option<&ModuleItems<'_>>) -> String {
    let files = item_files(directory);
    let mut text = MANIFEST_FILE.to_string();
    match files.len() {
        0 => text.push_str(", no item manifest"),
        count => {
            let plural = if count == 1 { "" } else { "s" };
            text.push_str(&format!(
                ", {count} item manifest{plural} ({}) and their JSON Schemas",
                files.join(", ")
            ));
        }
    }
    if let Some(items) = items {
        let count = items.iter().count();
        let plural = if count == 1 { "" } else { "s" };
        text.push_str(&format!(
            ", against the {count} item{plural} the code registers ({})",
            items.command_list()
        ));
    }
    text
}

/// Prints the outcome of a check run by `invocation` (`check-module`,
/// `sekoia-automation check`): what was checked (see [`checked`]) and `ok`,
/// or the problems on stderr; exit code 0 or 1.
pub fn report(invocation: &str, directory: &Path, checked: &str, problems: &[Problem]) -> ExitCode {
    if problems.is_empty() {
        println!(
            "{invocation}: {}: checked {checked}: ok",
            directory.display()
        );
        return ExitCode::SUCCESS;
    }
    let count = problems.len();
    let plural = if count == 1 { "" } else { "s" };
    eprintln!(
        "{invocation}: {}: checked {checked}: {count} problem{plural}",
        directory.display()
    );
    for problem in problems {
        eprintln!("  - {problem}");
    }
    ExitCode::from(1)
}
