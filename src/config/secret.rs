//! [`Secret<T>`]: a configuration value that is never printed.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What [`Secret`]'s `Debug` and `Display` print instead of the value.
pub const REDACTED: &str = "[REDACTED]";

/// A secret configuration value (API key, password, token).
///
/// On the wire it is its value (serde-transparent). `Debug` and `Display`
/// print `[REDACTED]`, so a secret never reaches a log line or an error message
/// by accident, and its JSON Schema carries `"secret": true`, which the manifest
/// generator turns into the module's `secrets` list. Reading the value is an
/// explicit call to [`Secret::expose`].
///
/// ```
/// use sekoia_automation::Secret;
///
/// let key: Secret<String> = serde_json::from_str(r#""s3cr3t""#).unwrap();
/// assert_eq!(key.expose(), "s3cr3t");
/// assert_eq!(format!("{key} {key:?}"), "[REDACTED] Secret([REDACTED])");
/// assert_eq!(serde_json::to_string(&key).unwrap(), r#""s3cr3t""#);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret value. Handle it with care: do not log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

/// The key that marks a property as secret in a generated JSON Schema.
pub const SECRET_SCHEMA_KEY: &str = "secret";

impl<T: JsonSchema> JsonSchema for Secret<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Secret_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<T>();
        if schema.get("$ref").is_some() {
            // Keep the referenced definition and add the marker beside it.
            schema = schemars::json_schema!({ "allOf": [schema] });
        }
        schema.insert(SECRET_SCHEMA_KEY.into(), true.into());
        schema
    }
}

/// The names of the top-level properties that a configuration type marks as
/// [`Secret`], read from its JSON Schema.
pub fn secret_properties<C: JsonSchema>() -> Vec<String> {
    let schema = schemars::schema_for!(C);
    schema
        .get("properties")
        .and_then(|properties| properties.as_object())
        .map(|properties| {
            properties
                .iter()
                .filter(|(_, property)| {
                    property.get(SECRET_SCHEMA_KEY) == Some(&serde_json::Value::Bool(true))
                })
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(JsonSchema, Deserialize)]
    #[allow(dead_code)]
    struct Config {
        url: String,
        api_key: Secret<String>,
        password: Option<Secret<String>>,
        pin: Secret<u32>,
    }

    #[test]
    fn the_schema_marks_secret_properties() {
        let schema = schemars::schema_for!(Config);
        let properties = &schema.as_value()["properties"];
        assert_eq!(
            properties["api_key"],
            json!({"type": "string", "secret": true})
        );
        assert_eq!(properties["pin"]["secret"], json!(true));
        assert!(properties["url"].get("secret").is_none());
        let mut secrets = secret_properties::<Config>();
        secrets.sort();
        assert_eq!(secrets, ["api_key", "password", "pin"]);
    }

    #[test]
    fn debug_of_a_containing_struct_redacts() {
        let config: Config = serde_json::from_value(
            json!({"url": "u", "api_key": "k-secret", "password": "p-secret", "pin": 1234}),
        )
        .unwrap();
        let shown = format!("{:?} {:?} {}", config.api_key, config.password, config.pin);
        assert!(
            !shown.contains("secret") && !shown.contains("1234"),
            "{shown}"
        );
        assert_eq!(
            config
                .password
                .as_ref()
                .map(Secret::expose)
                .map(String::as_str),
            Some("p-secret")
        );
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn secret_properties_example() {
        use crate::config::secret::{Secret, secret_properties};
        #[allow(dead_code)] // only its schema is read
        #[derive(schemars::JsonSchema)]
        struct Config {
            url: String,
            api_key: Secret<String>,
        }
        assert_eq!(secret_properties::<Config>(), vec!["api_key".to_string()]);
    }
}
