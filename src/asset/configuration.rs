//! [`AssetConnectorConfiguration`]: Python's
//! `DefaultAssetConnectorConfiguration`, read from `connector_configuration`
//! (else `trigger_configuration`) beside the connector's own fields, and
//! the environment variables that override it.

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::config::secret::Secret;
use crate::config::source::{ConfigurationError, ConfigurationSource};
use crate::wire::redact;

/// The value read first (as connectors read it).
const CONNECTOR_CONFIGURATION: &str = "connector_configuration";
/// The value read when `connector_configuration` is absent.
const TRIGGER_CONFIGURATION: &str = "trigger_configuration";

/// The platform's API when `sekoia_base_url` is empty or `null` (and
/// `ASSET_CONNECTOR_PRODUCTION_BASE_URL` is not set).
pub(crate) const PRODUCTION_BASE_URL: &str = "https://api.sekoia.io";
/// The file (or variable) holding the uuid of the connector's
/// configuration: the push URL's last segment and the `User-Agent`'s.
pub(crate) const CONNECTOR_CONFIGURATION_UUID: &str = "connector_configuration_uuid";

/// The fields every asset connector's configuration holds, as Python's
/// `DefaultAssetConnectorConfiguration` reads them: `sekoia_base_url` must
/// be there (a `null` is the production API), `sekoia_api_key` is a
/// string, the rest have defaults. `batch_push_interval` and
/// `max_assets_per_cycle` are read (refused when negative, as pydantic's
/// `ge=0` does) but, as in the Python SDK 1.27, not used.
///
/// ```
/// use sekoia_automation::asset::AssetConnectorConfiguration;
///
/// let configuration: AssetConnectorConfiguration = serde_json::from_str(
///     r#"{"sekoia_base_url": null, "sekoia_api_key": "k", "frequency": 60}"#,
/// )?;
/// assert_eq!(configuration.frequency, 60);
/// assert_eq!(configuration.batch_size, 100);
/// assert!(serde_json::from_str::<AssetConnectorConfiguration>(r#"{"sekoia_api_key": "k"}"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct AssetConnectorConfiguration {
    /// The platform's base URL; `None` or empty: the production API.
    #[serde(deserialize_with = "required_nullable")]
    pub sekoia_base_url: Option<String>,
    /// The API key the pushes authenticate with.
    pub sekoia_api_key: Secret<String>,
    /// Seconds between two fetch cycles that found nothing (10800: 3 hours).
    #[serde(default = "default_frequency")]
    pub frequency: i64,
    /// Assets per push (100); `ASSET_CONNECTOR_BATCH_SIZE` overrides it.
    #[serde(default = "default_batch_size")]
    pub batch_size: i64,
    /// Seconds between two pushes (0.0; not used by the Python SDK 1.27).
    #[serde(default, deserialize_with = "non_negative_f64")]
    pub batch_push_interval: f64,
    /// Assets per cycle, 0 unlimited (not used by the Python SDK 1.27).
    #[serde(default, deserialize_with = "non_negative_i64")]
    pub max_assets_per_cycle: i64,
}

fn default_frequency() -> i64 {
    10800
}

fn default_batch_size() -> i64 {
    100
}

fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

fn non_negative_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let value = f64::deserialize(d)?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "batch_push_interval is {value}: it must be greater than or equal to 0"
        )))
    }
}

fn non_negative_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let value = i64::deserialize(d)?;
    if value >= 0 {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "max_assets_per_cycle is {value}: it must be greater than or equal to 0"
        )))
    }
}

impl AssetConnectorConfiguration {
    /// The base of the platform's URLs: `sekoia_base_url` when set and not
    /// empty, else `ASSET_CONNECTOR_PRODUCTION_BASE_URL`, else
    /// `https://api.sekoia.io`; without its trailing slashes.
    pub fn base_url(&self) -> String {
        let base = match self.sekoia_base_url.as_deref() {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => std::env::var("ASSET_CONNECTOR_PRODUCTION_BASE_URL")
                .unwrap_or_else(|_| PRODUCTION_BASE_URL.to_owned()),
        };
        base.trim_end_matches('/').to_owned()
    }

    /// Assets per push: `ASSET_CONNECTOR_BATCH_SIZE` when set and not
    /// empty, else `batch_size`; at least 1 (Python pushes every asset
    /// alone when it is 0 or less).
    ///
    /// # Errors
    ///
    /// When `ASSET_CONNECTOR_BATCH_SIZE` is not an integer (Python's
    /// `int()` fails the cycle).
    pub fn effective_batch_size(&self) -> Result<usize, String> {
        let size = match env_text("ASSET_CONNECTOR_BATCH_SIZE") {
            Some(text) => python_int(&text).ok_or_else(|| {
                format!("ASSET_CONNECTOR_BATCH_SIZE is `{text}`: set it to an integer, or unset it")
            })?,
            None => self.batch_size,
        };
        Ok(usize::try_from(size).unwrap_or(1).max(1))
    }

    /// Seconds between cycles that found nothing: `ASSET_CONNECTOR_FREQUENCY`
    /// when set and not empty, else `frequency`.
    ///
    /// # Errors
    ///
    /// When `ASSET_CONNECTOR_FREQUENCY` is not an integer.
    pub fn effective_frequency(&self) -> Result<i64, String> {
        match env_text("ASSET_CONNECTOR_FREQUENCY") {
            Some(text) => python_int(&text).ok_or_else(|| {
                format!("ASSET_CONNECTOR_FREQUENCY is `{text}`: set it to an integer, or unset it")
            }),
            None => Ok(self.frequency),
        }
    }
}

/// An environment variable's value, `None` when unset or empty (Python's
/// `if value := os.getenv(...)`).
pub(crate) fn env_text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Python's `int(text)`: surrounding whitespace, a sign, `_` between digits.
fn python_int(text: &str) -> Option<i64> {
    let trimmed = text.trim();
    let (sign, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    digits
        .replace('_', "")
        .parse::<i64>()
        .ok()
        .map(|n| sign * n)
}

/// A float from the environment, `default` when unset, empty or not a
/// number (Python's `get_env_float`).
pub(crate) fn env_float(name: &str, default: f64) -> f64 {
    env_text(name)
        .and_then(|text| text.trim().parse::<f64>().ok())
        .unwrap_or(default)
}

/// The configuration as read: the default fields and the connector's own.
#[derive(Debug)]
pub(crate) struct Loaded<C> {
    pub(crate) default: AssetConnectorConfiguration,
    pub(crate) own: C,
}

/// Reads `connector_configuration` (else `trigger_configuration`), as the
/// Python SDK's `AssetConnector.configuration` does.
pub(crate) fn load<C: serde::de::DeserializeOwned + schemars::JsonSchema>(
    source: &ConfigurationSource,
) -> Result<Loaded<C>, ConfigurationError> {
    let (name, raw) = match source.optional_json(CONNECTOR_CONFIGURATION)? {
        Some(raw) => (CONNECTOR_CONFIGURATION, raw),
        None => match source.optional_json(TRIGGER_CONFIGURATION)? {
            Some(raw) => (TRIGGER_CONFIGURATION, raw),
            None => return Err(source.missing(CONNECTOR_CONFIGURATION)),
        },
    };
    if let Some(key) = raw.get("sekoia_api_key") {
        redact::register_value(key);
    }
    for secret in crate::config::secret::secret_properties::<C>() {
        if let Some(value) = raw.get(&secret) {
            redact::register_value(value);
        }
    }
    let mismatch = |expected: &str, detail: String| ConfigurationError::Mismatch {
        name: name.into(),
        expected: expected.into(),
        detail: redact::scrub(&detail).into_owned(),
        file: source.file_for(name),
        variable: ConfigurationSource::variable_for(name),
    };
    let default = AssetConnectorConfiguration::deserialize(&raw).map_err(|error| {
        mismatch(
            "an asset connector configuration with `sekoia_base_url` (a string or null) and a string `sekoia_api_key`",
            error.to_string(),
        )
    })?;
    let own = C::deserialize(&raw).map_err(|error| {
        mismatch(
            &crate::config::documented::author_type_name::<C>(),
            error.to_string(),
        )
    })?;
    Ok(Loaded { default, own })
}

/// The uuid of the connector's configuration.
pub(crate) fn configuration_uuid(
    source: &ConfigurationSource,
) -> Result<String, ConfigurationError> {
    source.text(CONNECTOR_CONFIGURATION_UUID)
}

/// The `arguments` of an asset connector's manifest: the four fields the
/// library's manifests declare (internal to the platform), then the
/// connector's own.
pub(crate) fn schema<C: schemars::JsonSchema>() -> Value {
    let mut schema = crate::item::manifest::configuration_schema::<C>();
    let defaults = json!({
        "sekoia_base_url": {"description": "Sekoia base URL", "type": "string"},
        "frequency": {
            "type": "integer",
            "description": "Batch frequency in seconds",
            "minimum": 1,
            "default": 10800
        },
        "sekoia_api_key": {"description": "API key to use from sekoia.io", "type": "string"},
        "batch_size": {
            "type": "integer",
            "description": "Batch size",
            "minimum": 1,
            "default": 100
        }
    });
    let Value::Object(map) = &mut schema else {
        return schema;
    };
    let mut properties = serde_json::Map::new();
    if let Value::Object(defaults) = defaults {
        properties.extend(defaults);
    }
    if let Some(Value::Object(own)) = map.get("properties") {
        for (key, value) in own {
            properties.insert(key.clone(), value.clone());
        }
    }
    map.insert("properties".into(), Value::Object(properties));
    let mut required = vec![json!("sekoia_api_key")];
    if let Some(Value::Array(own)) = map.get("required") {
        required.extend(own.iter().filter(|name| *name != "sekoia_api_key").cloned());
    }
    map.insert("required".into(), Value::Array(required));
    let mut secrets = vec![json!("sekoia_api_key")];
    if let Some(Value::Array(own)) = map.shift_remove("secrets") {
        secrets.extend(own.into_iter().filter(|name| name != "sekoia_api_key"));
    }
    map.insert("secrets".into(), Value::Array(secrets));
    map.insert(
        "internal".into(),
        json!([
            "sekoia_base_url",
            "sekoia_api_key",
            "frequency",
            "batch_size"
        ]),
    );
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_reads_what_int_reads() {
        assert_eq!(python_int(" 12 "), Some(12));
        assert_eq!(python_int("1_000"), Some(1000));
        assert_eq!(python_int("-3"), Some(-3));
        assert_eq!(python_int("1.5"), None);
        assert_eq!(python_int("_1"), None);
        assert_eq!(python_int(""), None);
    }

    #[test]
    fn the_manifest_arguments_are_the_librarys() {
        #[derive(schemars::JsonSchema, Deserialize)]
        #[allow(dead_code)]
        struct Own {
            tenant: String,
        }
        let schema = schema::<Own>();
        let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "sekoia_base_url",
                "frequency",
                "sekoia_api_key",
                "batch_size",
                "tenant"
            ]
        );
        assert_eq!(schema["required"], json!(["sekoia_api_key", "tenant"]));
        assert_eq!(schema["secrets"], json!(["sekoia_api_key"]));
    }
}
