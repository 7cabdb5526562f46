//! The schemas the tooling writes compared, keyword by keyword and key by
//! key, with what pydantic writes for the equivalent models (the Python
//! SDK's generator calls `model_json_schema()`). The pydantic output is
//! pinned in `tests/fixtures/pydantic/schemas.json`, produced by
//! `tests/fixtures/pydantic/models.py` (how to regenerate it is written
//! there).

use schemars::JsonSchema;
use sekoia_automation::Secret;
use sekoia_automation::config::Documented;
use sekoia_automation::unversioned::item_manifest::{configuration_schema, item_schema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How bad an indicator is.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Severity {
    /// Nothing known.
    Low,
    /// Suspicious.
    Medium,
    /// Known bad.
    High,
}

/// Where an indicator was seen.
#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Location {
    /// ISO 3166 country code.
    country: String,
    /// City, when known.
    city: Option<String>,
}

/// The arguments of the lookup (a Rust doc comment, for Rust readers: not
/// written; the Python model has no docstring).
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct LookupArguments {
    /// The IP address to look up.
    ip: String,
    verbose: Option<bool>,
    #[serde(default = "ten")]
    limit: i64,
    count: Option<i64>,
    #[serde(default = "half")]
    ratio: f64,
    #[serde(default = "three")]
    retries: u32,
    level: u8,
    /// Tags to attach.
    #[serde(default)]
    tags: Vec<String>,
    /// The severity from which to alert.
    #[serde(default = "high")]
    threshold: Severity,
    location: Option<Location>,
    home: Location,
    #[serde(default)]
    places: Vec<Location>,
    #[serde(default)]
    extra: Map<String, Value>,
    #[serde(default)]
    anything: Value,
    api_key_v2: Option<String>,
}

fn ten() -> i64 {
    10
}
fn half() -> f64 {
    0.5
}
fn three() -> u32 {
    3
}
fn high() -> Severity {
    Severity::High
}

/// The results of the lookup.
#[derive(Serialize, JsonSchema)]
#[allow(dead_code)]
struct LookupResults {
    ip: String,
    ports: Vec<i64>,
    score: Option<f64>,
    location: Location,
    severity: Option<Severity>,
}

/// The module configuration.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct ModuleConfiguration {
    /// Base URL of the API
    #[serde(default = "base_url")]
    base_url: String,
    /// API key
    api_key: Secret<String>,
    #[serde(default = "yes")]
    verify_certificate: bool,
    timeout: Option<i64>,
    proxy_password: Option<Secret<String>>,
}

fn base_url() -> String {
    "https://api.tidewatch.example".into()
}
fn yes() -> bool {
    true
}

/// A model without fields.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Empty {}

fn pydantic(name: &str) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pydantic/schemas.json"
    ))
    .unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all[name].clone()
}

/// The same text: the same keywords, values and key order.
fn assert_same(ours: &Value, theirs: &Value) {
    let ours = serde_json::to_string_pretty(ours).unwrap();
    let theirs = serde_json::to_string_pretty(theirs).unwrap();
    assert_eq!(ours, theirs, "ours (left) and pydantic's (right) differ");
}

#[test]
fn arguments_are_what_pydantic_writes() {
    let ours = item_schema::<LookupArguments>();
    assert_same(&ours, &pydantic("arguments"));
}

#[test]
fn results_are_what_pydantic_writes() {
    assert_same(&item_schema::<LookupResults>(), &pydantic("results"));
}

#[test]
fn the_configuration_is_what_the_python_generator_writes() {
    assert_same(
        &configuration_schema::<ModuleConfiguration>(),
        &pydantic("configuration"),
    );
}

#[test]
fn a_model_without_fields() {
    assert_same(&item_schema::<Empty>(), &pydantic("empty"));
}

#[test]
fn untyped_values_state_no_schema() {
    // The Python generator writes `{}` for an item without a model.
    for schema in [
        item_schema::<Value>(),
        item_schema::<()>(),
        item_schema::<Documented>(),
        item_schema::<Documented<LookupArguments>>(),
    ] {
        assert_eq!(schema, Value::Object(Map::new()));
    }
}
