//! Item manifests: what the tooling writes for each registered item, the
//! JSON Schemas in them, and the registry of manifest kinds.
//!
//! Each item kind has a [`ManifestKind`] (its file prefix, its documentation
//! sections) and an [`ItemManifest`] implementation that produces its fields
//! from the item's types. [`KINDS`] lists the kinds the tooling knows: adding
//! an item kind (connectors, say) adds one `ManifestKind`, one `ItemManifest`
//! implementation and one entry in `KINDS`, without touching the others.
//!
//! # Files ([protocol §6](crate::protocol#6-files-the-tooling-writes))
//!
//! `<prefix>_<name>.json`, `<name>` being the item name lower-cased with
//! spaces as `_` ([`file_name`]), unless the item states its file
//! ([`Identity::file`]), holds, in this order: `name`,
//! `description` (the name when empty), `uuid` (the stated one
//! ([`Identity::uuid`]), else UUIDv5 of the item name in
//! the module's `uuid` namespace, [`item_uuid`]), `slug` when the item
//! states one ([`Identity::slug`]), `docker_parameters` (the
//! command), then the kind's fields:
//! - actions: `arguments`, `results`, and `outputs` when the action declares
//!   branches ([`Action::OUTPUTS`]): an object with one key per branch, in
//!   declaration order, each an empty object (the shape the platform keeps
//!   for branches; room for per-branch metadata);
//! - triggers: `arguments` (the trigger configuration, its
//!   [`Secret`](crate::Secret) fields listed in `arguments.secrets`) and
//!   `results` (the events).
//!
//! An existing file keeps its key order and the keys the code does not own
//! (see [`generate`](crate::tooling::generate)).
//!
//! # Schemas
//!
//! [`item_schema`] writes what pydantic v2's `model_json_schema()` writes
//! for the equivalent model (as the Python SDK's generator calls it),
//! keyword by keyword; `tests/pydantic.rs` compares both on pinned pydantic
//! output:
//! - the top level: `type: object`, `properties` in field order,
//!   `required` (left out when empty), `title` the type's name;
//! - each property titled from its name as pydantic does (`api_key` →
//!   `Api Key`, [`python_title`]), except one whose value is a nested type
//!   or an enum (a `$ref`, alone or beside `null`);
//! - an `Option<T>` field as `Optional[T] = None`: `{"anyOf": [<T>,
//!   {"type": "null"}], "default": null}`, not required (serde reads a
//!   missing `Option` field as `None`);
//! - nested types in `$defs`, referenced as `{"$ref": "#/$defs/Name"}`, each
//!   definition titled with its name;
//! - an enum as `{"enum": [...], "type": "string"}` (schemars writes a
//!   `oneOf` of constants when the variants have doc comments; their
//!   descriptions are dropped);
//! - integers and floats without schemars' `format` (`int64`, `uint32`,
//!   `double`): pydantic's `int` and `float` have none;
//! - no `$schema` key; a nested `true` schema (any value) as `{}`, but
//!   `additionalProperties: true` (a map of any values, pydantic's `dict`)
//!   as it is;
//! - keys sorted in every schema object (as pydantic's are), except the
//!   property names, kept in field order; data (`default`, `enum`,
//!   `examples`, `const`) left as it is.
//!
//! What remains different, each on purpose:
//! - a type's doc comment (top-level or nested) is not written as its
//!   `description`, where pydantic writes a model's docstring: Rust
//!   documents every public type for its readers (`missing_docs`), where a
//!   Python model rarely has a docstring, and the platform shows the
//!   item's `DESCRIPTION` and the module's description instead. Field doc
//!   comments are the properties' descriptions, as pydantic's
//!   `Field(description=...)`. A port of models with docstrings keeps its
//!   schemas documented by hand ([`Documented`](crate::config::Documented));
//! - integers keep the bounds of their Rust type (`u32`: `minimum: 0`;
//!   `u8`: also `maximum: 255`), real constraints that pydantic writes for
//!   `Field(ge=0, le=255)`; `i64` is pydantic's plain `int`;
//! - a field with `#[serde(default)]` writes its default value (`[]` for a
//!   list), as pydantic does for `tags: list[str] = []`; pydantic writes no
//!   default for `Field(default_factory=list)`;
//! - a type whose schema accepts any value (`serde_json::Value`, `()`,
//!   [`Documented`](crate::config::Documented)) gives `{}`: the schema is then the
//!   manifest's, kept by `generate-files` (the Python generator writes `{}`
//!   for an item without a model, and leaves the configuration alone when
//!   the module has none).

use std::marker::PhantomData;

use schemars::JsonSchema;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::action::Action;
use crate::action::validator::AccountValidator;
use crate::config::identity::Identity;
use crate::config::secret::SECRET_SCHEMA_KEY;
use crate::trigger::Trigger;

/// One kind of item manifest file.
#[derive(Debug)]
#[non_exhaustive]
pub struct ManifestKind {
    /// The file name prefix: files are `<prefix>_<name>.json`.
    pub prefix: &'static str,
    /// The title of the kind's part in the documentation (`Actions`).
    pub title: &'static str,
    /// The documentation sections of one item, in order.
    pub sections: &'static [Section],
}

/// One documentation section of an item: a field of its manifest.
#[derive(Debug)]
#[non_exhaustive]
pub struct Section {
    /// The manifest field (`arguments`, `results`, `outputs`).
    pub field: &'static str,
    /// The section heading (`Arguments`).
    pub heading: &'static str,
    /// How the field is shown.
    pub content: SectionContent,
}

/// How a documentation section shows its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SectionContent {
    /// A JSON Schema, as a table of its properties.
    Schema,
    /// An object whose keys are output branches, as a list.
    Branches,
}

/// The action manifest kind: `action_<name>.json`.
pub const ACTION: ManifestKind = ManifestKind {
    prefix: "action",
    title: "Actions",
    sections: &[
        Section {
            field: "arguments",
            heading: "Arguments",
            content: SectionContent::Schema,
        },
        Section {
            field: "results",
            heading: "Results",
            content: SectionContent::Schema,
        },
        Section {
            field: "outputs",
            heading: "Branches",
            content: SectionContent::Branches,
        },
    ],
};

/// The trigger manifest kind: `trigger_<name>.json`.
pub const TRIGGER: ManifestKind = ManifestKind {
    prefix: "trigger",
    title: "Triggers",
    sections: &[
        Section {
            field: "arguments",
            heading: "Configuration",
            content: SectionContent::Schema,
        },
        Section {
            field: "results",
            heading: "Events",
            content: SectionContent::Schema,
        },
    ],
};

/// The connector manifest kind: `connector_<name>.json`.
pub const CONNECTOR: ManifestKind = ManifestKind {
    prefix: "connector",
    title: "Connectors",
    sections: &[Section {
        field: "arguments",
        heading: "Configuration",
        content: SectionContent::Schema,
    }],
};

/// The manifest kinds the tooling knows, in documentation order.
pub const KINDS: &[&ManifestKind] = &[&ACTION, &TRIGGER, &CONNECTOR];

/// What the tooling needs of a registered item to write its manifest,
/// produced from the item's types when asked (nothing is computed when a
/// module just runs). Every registration holds one
/// ([`Registration::manifest`](crate::item::registration::Registration::manifest)).
///
/// ```
/// use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Arguments { ip: String }
///
/// struct Check;
/// impl Action for Check {
///     type ModuleConfiguration = ();
///     type Arguments = Arguments;
///     type Results = serde_json::Value;
///     const NAME: &'static str = "Check IP";
///     const DESCRIPTION: &'static str = "Ask about an IP";
///     const OUTPUTS: &'static [&'static str] = &["malicious", "benign"];
///     fn run(&self, _: &ActionContext<'_, ()>, _: Arguments) -> Result<Outcome<serde_json::Value>, ActionError> {
///         Ok(Outcome::none())
///     }
/// }
///
/// let module = Module::<()>::new().register("check_ip", Check);
/// let manifest = module.items()[0].manifest();
/// assert_eq!(manifest.kind().unwrap().prefix, "action");
/// let fields = manifest.fields();
/// assert_eq!(fields["arguments"]["required"], serde_json::json!(["ip"]));
/// assert_eq!(fields["outputs"], serde_json::json!({"malicious": {}, "benign": {}}));
/// ```
pub trait ItemManifest {
    /// The kind of manifest file the item has; `None` for items without one
    /// (the account validator, shown as `supports_validation` in
    /// `manifest.json`).
    fn kind(&self) -> Option<&'static ManifestKind>;

    /// The kind's fields, after `name`, `description`, `uuid` and
    /// `docker_parameters`, in file order.
    fn fields(&self) -> Map<String, Value>;

    /// The module configuration's schema, for `manifest.json`: as
    /// [`configuration_schema`] gives it.
    fn module_configuration(&self) -> Value;

    /// Whether the module configuration is `()`: a module without
    /// configuration (whose `manifest.json` still needs a `configuration`).
    fn module_without_configuration(&self) -> bool {
        false
    }

    /// What the item states of its identity (uuid, slug, file name);
    /// nothing by default.
    fn identity(&self) -> Identity {
        Identity::new()
    }
}

/// The manifest of an [`Action`].
pub(crate) struct ActionManifest<A>(PhantomData<fn() -> A>);

impl<A> ActionManifest<A> {
    pub(crate) fn boxed() -> Box<dyn ItemManifest + Send>
    where
        A: Action,
    {
        Box::new(ActionManifest::<A>(PhantomData))
    }
}

impl<A: Action> ItemManifest for ActionManifest<A> {
    fn kind(&self) -> Option<&'static ManifestKind> {
        Some(&ACTION)
    }

    fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("arguments".into(), item_schema::<A::Arguments>());
        fields.insert("results".into(), item_schema::<A::Results>());
        if !A::OUTPUTS.is_empty() {
            let outputs = A::OUTPUTS
                .iter()
                .map(|branch| (branch.to_string(), Value::Object(Map::new())))
                .collect();
            fields.insert("outputs".into(), Value::Object(outputs));
        }
        fields
    }

    fn module_configuration(&self) -> Value {
        configuration_schema::<A::ModuleConfiguration>()
    }

    fn module_without_configuration(&self) -> bool {
        without_configuration::<A::ModuleConfiguration>()
    }

    fn identity(&self) -> Identity {
        A::IDENTITY
    }
}

/// The manifest of a [`Trigger`].
pub(crate) struct TriggerManifest<T>(PhantomData<fn() -> T>);

impl<T> TriggerManifest<T> {
    pub(crate) fn boxed() -> Box<dyn ItemManifest + Send>
    where
        T: Trigger,
    {
        Box::new(TriggerManifest::<T>(PhantomData))
    }
}

impl<T: Trigger> ItemManifest for TriggerManifest<T> {
    fn kind(&self) -> Option<&'static ManifestKind> {
        Some(&TRIGGER)
    }

    fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert(
            "arguments".into(),
            configuration_schema::<T::Configuration>(),
        );
        fields.insert("results".into(), item_schema::<T::Event>());
        fields
    }

    fn module_configuration(&self) -> Value {
        configuration_schema::<T::ModuleConfiguration>()
    }

    fn module_without_configuration(&self) -> bool {
        without_configuration::<T::ModuleConfiguration>()
    }

    fn identity(&self) -> Identity {
        T::IDENTITY
    }
}

/// The manifest of a [`Connector`](crate::Connector): `arguments` (its
/// configuration with `intake_key` and `intake_server`), no `results`.
pub(crate) struct ConnectorManifest<K>(PhantomData<fn() -> K>);

impl<K> ConnectorManifest<K> {
    pub(crate) fn boxed() -> Box<dyn ItemManifest + Send>
    where
        K: crate::connector::Connector,
    {
        Box::new(ConnectorManifest::<K>(PhantomData))
    }
}

impl<K: crate::connector::Connector> ItemManifest for ConnectorManifest<K> {
    fn kind(&self) -> Option<&'static ManifestKind> {
        Some(&CONNECTOR)
    }

    fn fields(&self) -> Map<String, Value> {
        let mut arguments = crate::connector::configuration_schema::<K::Configuration>();
        require_intake_key(&mut arguments);
        let mut fields = Map::new();
        fields.insert("arguments".into(), arguments);
        fields
    }

    fn module_configuration(&self) -> Value {
        configuration_schema::<K::ModuleConfiguration>()
    }

    fn module_without_configuration(&self) -> bool {
        without_configuration::<K::ModuleConfiguration>()
    }
}

/// Puts `intake_key` first in the `required` list of a connector's
/// arguments, the list placed after `properties` when the connector's own
/// fields all have defaults (it has none then), as the Python SDK's
/// `DefaultConnectorConfiguration` makes it required whatever the
/// connector's fields.
fn require_intake_key(arguments: &mut Value) {
    let Value::Object(schema) = arguments else {
        return;
    };
    if schema
        .get("properties")
        .and_then(|properties| properties.get("intake_key"))
        .is_none()
    {
        return;
    }
    match schema.get_mut("required") {
        Some(Value::Array(required)) => {
            if !required.iter().any(|name| name == "intake_key") {
                required.insert(0, Value::from("intake_key"));
            }
        }
        _ => {
            let after_properties = schema
                .keys()
                .position(|key| key == "properties")
                .map_or(schema.len(), |index| index + 1);
            schema.shift_insert(
                after_properties,
                "required".into(),
                Value::Array(vec![Value::from("intake_key")]),
            );
        }
    }
}

/// The account validator has no manifest file of its own.
pub(crate) struct ValidatorManifest<V>(PhantomData<fn() -> V>);

impl<V> ValidatorManifest<V> {
    pub(crate) fn boxed() -> Box<dyn ItemManifest + Send>
    where
        V: AccountValidator,
    {
        Box::new(ValidatorManifest::<V>(PhantomData))
    }
}

impl<V: AccountValidator> ItemManifest for ValidatorManifest<V> {
    fn kind(&self) -> Option<&'static ManifestKind> {
        None
    }

    fn fields(&self) -> Map<String, Value> {
        Map::new()
    }

    fn module_configuration(&self) -> Value {
        configuration_schema::<V::ModuleConfiguration>()
    }

    fn module_without_configuration(&self) -> bool {
        without_configuration::<V::ModuleConfiguration>()
    }
}

/// No manifest: the placeholder of a registration before its kind sets one.
pub(crate) struct NoManifest;

impl ItemManifest for NoManifest {
    fn kind(&self) -> Option<&'static ManifestKind> {
        None
    }

    fn fields(&self) -> Map<String, Value> {
        Map::new()
    }

    fn module_configuration(&self) -> Value {
        normalize_schema(Value::Bool(true))
    }
}

/// The manifest file name of an item: `<prefix>_<name>.json`, the name
/// lower-cased with spaces as `_` (as the Python SDK's generator names it).
pub fn file_name(prefix: &str, item_name: &str) -> String {
    format!(
        "{prefix}_{}.json",
        item_name.to_lowercase().replace(' ', "_")
    )
}

/// The uuid of an item: UUIDv5 of its name in the namespace of the module's
/// uuid, the same on every run (and the same as the Python SDK's
/// `uuid5(module_uuid, name)`).
pub fn item_uuid(module_uuid: &Uuid, item_name: &str) -> Uuid {
    Uuid::new_v5(module_uuid, item_name.as_bytes())
}

/// The JSON Schema of `T` in the manifest shape described in the module
/// documentation: what pydantic writes for the equivalent model.
pub fn item_schema<T: JsonSchema>() -> Value {
    let mut schema = normalize_schema(schemars::schema_for!(T).to_value());
    if let Value::Object(map) = &mut schema
        && map.get("type") == Some(&Value::String("object".into()))
    {
        // The top-level doc comment is for Rust readers (see the module
        // documentation); pydantic's models rarely have a docstring.
        map.shift_remove("description");
        // A struct without fields: pydantic's model without fields.
        if !map.contains_key("properties") && !map.contains_key("additionalProperties") {
            map.insert("properties".into(), Value::Object(Map::new()));
            sort_keys(map);
        }
    }
    schema
}

/// Whether a generated schema states nothing (`{}`: any value), leaving
/// the manifest's documented schema in place.
pub fn states_nothing(schema: &Value) -> bool {
    schema.as_object().is_some_and(Map::is_empty)
}

/// Whether `T` is a configuration that holds nothing (`()`, whose schema
/// is `null`), as opposed to one documented by hand (`{}`).
pub fn without_configuration<T: JsonSchema>() -> bool {
    schemars::schema_for!(T).as_value().get("type") == Some(&Value::String("null".into()))
}

/// The schema of a configuration (module or trigger): [`item_schema`], with
/// its [`Secret`](crate::Secret) properties listed in `secrets` and their
/// `secret` markers removed (as the Python SDK's generator does).
pub fn configuration_schema<T: JsonSchema>() -> Value {
    let mut schema = item_schema::<T>();
    extract_secrets(&mut schema);
    schema
}

/// Moves the `secret` markers of a schema's top-level properties (on the
/// property, or on one of its `anyOf`/`oneOf`/`allOf` members) into a
/// `secrets` list of property names, in property order, the schema's last
/// key (where the Python generator appends it). No secret: no `secrets`
/// key. Returns the names.
pub fn extract_secrets(schema: &mut Value) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if remove_secret_marker(property) {
                secrets.push(name.clone());
            }
        }
    }
    if let Value::Object(map) = schema {
        map.shift_remove("secrets");
        if !secrets.is_empty() {
            // Last, as the Python generator appends it.
            map.insert(
                "secrets".into(),
                secrets.iter().cloned().map(Value::String).collect(),
            );
        }
    }
    secrets
}

fn remove_secret_marker(property: &mut Value) -> bool {
    let Value::Object(map) = property else {
        return false;
    };
    let mut found = map.shift_remove(SECRET_SCHEMA_KEY) == Some(Value::Bool(true));
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(members)) = map.get_mut(combinator) {
            for member in members {
                if let Value::Object(member) = member {
                    found |= member.shift_remove(SECRET_SCHEMA_KEY) == Some(Value::Bool(true));
                }
            }
        }
    }
    found
}

/// Keys that describe a value rather than constrain it: they stay beside an
/// `anyOf` made from a nullable type.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    "$id",
    SECRET_SCHEMA_KEY,
];

/// Normalizes a whole schema (see the module documentation). A
/// schema that accepts any value (`true`, only a `title` or a
/// `description`, the `null` of `()`) becomes `{}`.
pub fn normalize_schema(schema: Value) -> Value {
    let mut schema = normalize(schema);
    let Value::Object(map) = &mut schema else {
        return schema;
    };
    let is_anything = map
        .keys()
        .all(|key| matches!(key.as_str(), "title" | "description"));
    let is_null = map.get("type") == Some(&Value::String("null".into()));
    if is_anything || is_null {
        return Value::Object(Map::new());
    }
    schema
}

/// A property name as pydantic titles it: Python's `name.title()`, `_` as
/// spaces, trimmed (`api_key` → `Api Key`, `ip_v4` → `Ip V4`, `2fa_code`
/// → `2Fa Code`).
pub fn python_title(name: &str) -> String {
    let mut title = String::with_capacity(name.len());
    let mut previous_cased = false;
    for character in name.chars() {
        if previous_cased {
            title.extend(character.to_lowercase());
        } else {
            title.extend(character.to_uppercase());
        }
        previous_cased = character.is_lowercase() || character.is_uppercase();
    }
    title.replace('_', " ").trim().to_string()
}

/// Integer and float formats schemars writes and pydantic does not.
const NUMBER_FORMATS: &[&str] = &[
    "int", "int8", "int16", "int32", "int64", "int128", "uint", "uint8", "uint16", "uint32",
    "uint64", "uint128", "float", "double",
];

/// pydantic's property shape: a title from the name (not for a nested type
/// or an enum), `default: null` for an optional value that is not required.
fn pydantic_properties(map: &mut Map<String, Value>) {
    let required: Vec<String> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(|name| name.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let Some(Value::Object(properties)) = map.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        let Value::Object(property) = property else {
            continue;
        };
        let mut changed = false;
        if !property.contains_key("title") && !is_reference(property) {
            property.insert("title".into(), python_title(name).into());
            changed = true;
        }
        let nullable = property
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|members| {
                members
                    .iter()
                    .any(|member| member.get("type") == Some(&Value::String("null".into())))
            });
        if nullable && !property.contains_key("default") && !required.contains(name) {
            property.insert("default".into(), Value::Null);
            changed = true;
        }
        if changed {
            sort_keys(property);
        }
    }
}

/// A nested type or an enum, alone or as a member of `anyOf`/`allOf`/
/// `oneOf` (pydantic writes no title on such a field).
fn is_reference(property: &Map<String, Value>) -> bool {
    property.contains_key("$ref")
        || ["anyOf", "allOf", "oneOf"].iter().any(|combinator| {
            property
                .get(*combinator)
                .and_then(Value::as_array)
                .is_some_and(|members| members.iter().any(|member| member.get("$ref").is_some()))
        })
}

/// JSON Schema keywords whose value is one subschema (`items` may also be
/// a list): what the normalizer and the checker walk into.
pub(crate) const SUBSCHEMA_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
];

/// JSON Schema keywords whose value is a list of subschemas.
pub(crate) const SUBSCHEMA_LIST_KEYWORDS: &[&str] = &["anyOf", "allOf", "oneOf", "prefixItems"];

fn normalize(schema: Value) -> Value {
    match schema {
        Value::Bool(true) => Value::Object(Map::new()),
        Value::Object(map) => Value::Object(normalize_object(map)),
        other => other,
    }
}

fn normalize_object(mut map: Map<String, Value>) -> Map<String, Value> {
    map.shift_remove("$schema");
    nullable_type_as_any_of(&mut map);
    constants_as_enum(&mut map);
    let is_number = matches!(
        map.get("type").and_then(Value::as_str),
        Some("integer" | "number")
    );
    if is_number
        && map
            .get("format")
            .and_then(Value::as_str)
            .is_some_and(|format| NUMBER_FORMATS.contains(&format))
    {
        map.shift_remove("format");
    }
    if map
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        map.shift_remove("required");
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "dependentSchemas" => {
                if let Value::Object(schemas) = value {
                    for schema in schemas.values_mut() {
                        *schema = normalize(schema.take());
                    }
                }
            }
            "$defs" | "definitions" => {
                if let Value::Object(definitions) = value {
                    for (name, schema) in definitions.iter_mut() {
                        let mut normalized = normalize(schema.take());
                        if let Value::Object(definition) = &mut normalized {
                            // A type's doc comment is for Rust readers (see
                            // the module documentation).
                            definition.shift_remove("description");
                            if !definition.contains_key("title") {
                                definition.insert("title".into(), name.clone().into());
                                sort_keys(definition);
                            }
                        }
                        *schema = normalized;
                    }
                    sort_keys(definitions);
                }
            }
            // pydantic's `dict` keeps `additionalProperties: true`.
            "additionalProperties" if value == &Value::Bool(true) => {}
            keyword if keyword == "items" || SUBSCHEMA_KEYWORDS.contains(&keyword) => match value {
                Value::Array(schemas) => {
                    for schema in schemas {
                        *schema = normalize(schema.take());
                    }
                }
                other => *other = normalize(other.take()),
            },
            keyword if SUBSCHEMA_LIST_KEYWORDS.contains(&keyword) => {
                if let Value::Array(schemas) = value {
                    for schema in schemas {
                        *schema = normalize(schema.take());
                    }
                }
            }
            _ => {}
        }
    }
    pydantic_properties(&mut map);
    sort_keys(&mut map);
    map
}

/// `{"type": ["string", "null"], ...}` → `{"anyOf": [{"type": "string", ...}, {"type": "null"}]}`,
/// the annotations staying beside the `anyOf`.
fn nullable_type_as_any_of(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type") else {
        return;
    };
    let others: Vec<&Value> = types.iter().filter(|kind| *kind != "null").collect();
    if others.len() != 1 || types.len() != 2 {
        return;
    }
    let kind = others[0].clone();
    let mut value = Map::new();
    value.insert("type".into(), kind);
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|value| !value.is_null());
    }
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if key == "type" || ANNOTATIONS.contains(&key.as_str()) {
            continue;
        }
        if let Some(constraint) = map.shift_remove(&key) {
            value.insert(key, constraint);
        }
    }
    map.shift_remove("type");
    let mut null = Map::new();
    null.insert("type".into(), "null".into());
    map.insert(
        "anyOf".into(),
        Value::Array(vec![Value::Object(value), Value::Object(null)]),
    );
}

/// `{"oneOf": [{"const": "a", "type": "string"}, ...]}` (an enum whose
/// variants have doc comments) → `{"enum": ["a", ...], "type": "string"}`,
/// pydantic's shape for enums (the variants' descriptions are dropped).
fn constants_as_enum(map: &mut Map<String, Value>) {
    let Some(Value::Array(members)) = map.get("oneOf") else {
        return;
    };
    if members.is_empty() {
        return;
    }
    let mut values = Vec::new();
    let mut kinds = Vec::new();
    for member in members {
        let Value::Object(member) = member else {
            return;
        };
        let only_constant = member
            .keys()
            .all(|key| matches!(key.as_str(), "const" | "type" | "description" | "title"));
        let Some(constant) = member.get("const").filter(|_| only_constant) else {
            return;
        };
        values.push(constant.clone());
        kinds.push(member.get("type").cloned());
    }
    map.shift_remove("oneOf");
    map.insert("enum".into(), Value::Array(values));
    if let Some(Some(kind)) = kinds.first()
        && kinds.iter().all(|other| other.as_ref() == Some(kind))
        && !map.contains_key("type")
    {
        map.insert("type".into(), kind.clone());
    }
}

/// Sorts a map's keys (serde_json keeps insertion order in this crate).
pub(crate) fn sort_keys(map: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    map.extend(entries);
}

#[cfg(test)]
mod examples {
    #[test]
    fn only_unit_is_a_configuration_without_anything() {
        use crate::item::manifest::without_configuration;
        assert!(without_configuration::<()>());
        assert!(!without_configuration::<crate::config::Documented>());
        assert!(!without_configuration::<serde_json::Value>());
        assert!(!without_configuration::<Option<String>>());
    }

    #[test]
    fn configuration_schema_example() {
        use crate::{Secret, item::manifest::configuration_schema};
        use serde_json::json;

        #[allow(dead_code)] // only its schema is read
        #[derive(schemars::JsonSchema)]
        struct Config {
            url: String,
            api_key: Secret<String>,
        }

        let schema = configuration_schema::<Config>();
        assert_eq!(schema["secrets"], json!(["api_key"]));
        assert_eq!(
            schema["properties"]["api_key"],
            json!({"title": "Api Key", "type": "string"})
        );
    }

    #[test]
    fn file_name_example() {
        use crate::item::manifest::file_name;
        assert_eq!(
            file_name("action", "Get IP Reputation"),
            "action_get_ip_reputation.json"
        );
    }

    #[test]
    fn item_schema_example() {
        use crate::item::manifest::item_schema;
        use serde_json::json;

        /// The arguments (a Rust doc comment: not written).
        #[allow(dead_code)] // only its schema is read
        #[derive(schemars::JsonSchema)]
        struct Arguments {
            /// Who to greet.
            name: String,
            times: Option<u32>,
            verbose: Option<bool>,
        }

        let schema = item_schema::<Arguments>();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["title"], "Arguments");
        assert!(schema.get("description").is_none());
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(
            schema["properties"]["name"],
            json!({"description": "Who to greet.", "title": "Name", "type": "string"})
        );
        // pydantic: `verbose: Optional[bool] = None`
        assert_eq!(
            schema["properties"]["verbose"],
            json!({"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": null, "title": "Verbose"})
        );
        assert_eq!(
            schema["properties"]["times"]["anyOf"],
            json!([{"minimum": 0, "type": "integer"}, {"type": "null"}])
        );
        assert!(schema.get("$schema").is_none());
        assert_eq!(item_schema::<serde_json::Value>(), json!({}));
    }

    #[test]
    fn python_title_example() {
        use crate::item::manifest::python_title;
        assert_eq!(python_title("api_key"), "Api Key");
        assert_eq!(python_title("baseURL"), "Baseurl");
        assert_eq!(python_title("_private_2fa"), "Private 2Fa");
        assert_eq!(python_title("ip_v4"), "Ip V4");
    }

    #[test]
    fn item_uuid_example() {
        use crate::item::manifest::item_uuid;
        use uuid::Uuid;

        let module = Uuid::parse_str("6f0b1a1e-7c39-4a57-9a4e-2c1f3f0f8e61").unwrap();
        assert_eq!(item_uuid(&module, "Greet"), item_uuid(&module, "Greet"));
        assert_eq!(item_uuid(&module, "Greet").get_version_num(), 5);
    }

    #[test]
    fn normalize_schema_example() {
        use crate::item::manifest::normalize_schema;
        use serde_json::json;

        let schema = normalize_schema(json!({"$schema": "x", "type": "null", "title": "null"}));
        assert_eq!(schema, json!({}));
        assert_eq!(
            normalize_schema(
                json!({"type": "object", "properties": {"max_2fa": {"type": "integer", "format": "int64"}}, "required": []})
            ),
            json!({"properties": {"max_2fa": {"title": "Max 2Fa", "type": "integer"}}, "type": "object"})
        );
    }
}
