//! A connector's configuration (docs/protocol.md §5, *Configuration*): the value
//! `connector_configuration`, falling back to `trigger_configuration`,
//! holding `intake_key`, optional `intake_server`, and the module's own
//! fields beside them.

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::source::{ConfigurationError, ConfigurationSource};
use crate::wire::redact;

/// The value read first.
pub const CONNECTOR_CONFIGURATION: &str = "connector_configuration";
/// The value read when `connector_configuration` is absent.
pub const TRIGGER_CONFIGURATION: &str = "trigger_configuration";
/// The module-level intake base, when `intake_server` is empty.
pub const INTAKE_URL: &str = "intake_url";
/// The `intake_server` default the library's manifests declare.
pub const DEFAULT_INTAKE_SERVER: &str = "https://intake.sekoia.io";

/// The fields every connector configuration holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct IntakeSettings {
    /// The intake key: sent in every batch body, part of the `User-Agent`.
    pub intake_key: String,
    /// The intake's base URL; `None` or empty: the module's `intake_url`.
    #[serde(default)]
    pub intake_server: Option<String>,
}

/// A connector's configuration as read: the intake settings, the
/// connector's own fields (`C`), and the raw value (for `frequency`).
#[derive(Debug)]
pub(crate) struct Loaded<C> {
    pub(crate) intake: IntakeSettings,
    pub(crate) own: C,
    pub(crate) raw: Value,
}

fn mismatch(
    source: &ConfigurationSource,
    name: &str,
    expected: &str,
    detail: String,
) -> ConfigurationError {
    ConfigurationError::Mismatch {
        name: name.into(),
        expected: expected.into(),
        detail: redact::scrub(&detail).into_owned(),
        file: source.file_for(name),
        variable: ConfigurationSource::variable_for(name),
    }
}

/// Reads `connector_configuration` (else `trigger_configuration`), with no
/// node-secret overlay (the Python SDK's connectors ignore them).
pub(crate) fn load<C: DeserializeOwned + JsonSchema>(
    source: &ConfigurationSource,
) -> Result<Loaded<C>, ConfigurationError> {
    let (name, raw) = match source.optional_json(CONNECTOR_CONFIGURATION)? {
        Some(raw) => (CONNECTOR_CONFIGURATION, raw),
        None => match source.optional_json(TRIGGER_CONFIGURATION)? {
            Some(raw) => (TRIGGER_CONFIGURATION, raw),
            None => return Err(source.missing(CONNECTOR_CONFIGURATION)),
        },
    };
    let secrets = crate::config::secret::secret_properties::<C>();
    for secret in &secrets {
        if let Some(value) = raw.get(secret) {
            redact::register_value(value);
        }
    }
    crate::runtime::sentry::set_configuration(
        crate::runtime::sentry::Configuration::Item,
        &raw,
        &secrets,
    );
    let intake = IntakeSettings::deserialize(&raw).map_err(|error| {
        mismatch(
            source,
            name,
            "a connector configuration with a string `intake_key`",
            error.to_string(),
        )
    })?;
    let own = C::deserialize(&raw).map_err(|error| {
        mismatch(
            source,
            name,
            &crate::config::documented::author_type_name::<C>(),
            error.to_string(),
        )
    })?;
    Ok(Loaded { intake, own, raw })
}

/// The intake base: `intake_server` when set and non-empty, else the value
/// `intake_url`; refused when it is not an `http://` or `https://` URL
/// with a host that the HTTP client can send to (a space, an unknown
/// scheme, no scheme): every push would fail for an hour otherwise. The
/// error names the key and shows the value (an address, not a secret).
pub(crate) fn intake_base(
    source: &ConfigurationSource,
    intake: &IntakeSettings,
) -> Result<String, ConfigurationError> {
    match intake.intake_server.as_deref() {
        Some(server) if !server.is_empty() => {
            check_intake_base(server).map_err(|detail| {
                // The value it was read from, as `load` chose it.
                let name = match source.optional_json(CONNECTOR_CONFIGURATION) {
                    Ok(Some(_)) => CONNECTOR_CONFIGURATION,
                    _ => TRIGGER_CONFIGURATION,
                };
                mismatch(
                    source,
                    name,
                    "a connector configuration whose `intake_server` is an http:// or https:// URL",
                    format!("`intake_server` is `{server}`, which {detail}"),
                )
            })?;
            Ok(server.to_string())
        }
        _ => {
            let base = source
                .text(INTAKE_URL)
                .map_err(|_| ConfigurationError::Missing {
                    name: format!(
                        "{INTAKE_URL} (or `intake_server` in the connector configuration)"
                    ),
                    file: source.file_for(INTAKE_URL),
                    variable: ConfigurationSource::variable_for(INTAKE_URL),
                })?;
            check_intake_base(&base).map_err(|detail| {
                mismatch(
                    source,
                    INTAKE_URL,
                    "an http:// or https:// URL",
                    format!("`{base}` {detail}"),
                )
            })?;
            Ok(base)
        }
    }
}

/// Why `base` cannot be the intake's base URL (worded to follow the
/// value), if it cannot: its batch URL must parse as the HTTP client
/// parses it, with an `http` or `https` scheme and a host.
fn check_intake_base(base: &str) -> Result<(), String> {
    if let Some(at) = base.find(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "holds a space or control character (at byte {at}): remove it"
        ));
    }
    let Some((scheme, rest)) = base.split_once("://") else {
        return Err("has no scheme: write `https://` (or `http://`) before the host".into());
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "has the scheme `{scheme}`: the intake is reached over `https://` (or `http://`)"
        ));
    }
    if rest.split(['/', '?', '#']).next().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    let url = crate::connector::sender::batch_url(base);
    let uri = url
        .parse::<ureq::http::Uri>()
        .map_err(|error| format!("is not a URL ({error})"))?;
    // The parser takes any text after the host's `:` as its port.
    let host_and_port = uri
        .authority()
        .map_or("", |authority| authority.as_str())
        .rsplit('@')
        .next()
        .unwrap_or("");
    if let Some((_, port)) = host_and_port.rsplit_once(':')
        && !port.contains(']')
        && port.parse::<u16>().is_err()
    {
        return Err(format!(
            "has the port `{port}`, which is not a number up to 65535"
        ));
    }
    Ok(())
}

/// The `frequency` field of the raw configuration, in seconds, when it is
/// a non-negative number.
pub(crate) fn frequency(raw: &Value) -> Option<std::time::Duration> {
    raw.get("frequency")
        .and_then(Value::as_f64)
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map(std::time::Duration::from_secs_f64)
}

/// The manifest's `arguments` schema: the connector's own configuration
/// with `intake_key` (required) and `intake_server` added when it does not
/// declare them.
pub(crate) fn schema<C: JsonSchema>() -> Value {
    let mut schema = crate::item::manifest::configuration_schema::<C>();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        let mut with_intake = serde_json::Map::new();
        if !properties.contains_key("intake_server") {
            with_intake.insert(
                "intake_server".into(),
                json!({
                    "default": DEFAULT_INTAKE_SERVER,
                    "description": "Server of the intake server (e.g. 'https://intake.sekoia.io')",
                    "type": "string",
                }),
            );
        }
        if !properties.contains_key("intake_key") {
            with_intake.insert(
                "intake_key".into(),
                json!({"description": "Intake key to use when sending events", "type": "string"}),
            );
        }
        for (key, value) in std::mem::take(properties) {
            with_intake.insert(key, value);
        }
        *properties = with_intake;
    }
    if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut)
        && !required.iter().any(|name| name == "intake_key")
    {
        required.insert(0, json!("intake_key"));
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Own {
        #[allow(dead_code)]
        frequency: u64,
    }

    #[test]
    fn connector_configuration_falls_back_to_trigger_configuration() {
        let root = tempfile::tempdir().unwrap();
        let source = ConfigurationSource::new(root.path());
        std::fs::write(
            root.path().join("trigger_configuration"),
            r#"{"intake_key": "T", "frequency": 5}"#,
        )
        .unwrap();
        let loaded = load::<Own>(&source).unwrap();
        assert_eq!(loaded.intake.intake_key, "T");
        assert_eq!(
            frequency(&loaded.raw),
            Some(std::time::Duration::from_secs(5))
        );
        std::fs::write(
            root.path().join("connector_configuration"),
            r#"{"intake_key": "C", "intake_server": "", "frequency": 1}"#,
        )
        .unwrap();
        let loaded = load::<Own>(&source).unwrap();
        assert_eq!(loaded.intake.intake_key, "C");
        let error = intake_base(&source, &loaded.intake)
            .unwrap_err()
            .to_string();
        assert!(error.contains("intake_url"), "{error}");
        std::fs::write(root.path().join("intake_url"), "http://127.0.0.1:1/intake").unwrap();
        assert_eq!(
            intake_base(&source, &loaded.intake).unwrap(),
            "http://127.0.0.1:1/intake"
        );
        std::fs::write(
            root.path().join("connector_configuration"),
            r#"{"frequency": 1}"#,
        )
        .unwrap();
        let error = load::<Own>(&source).unwrap_err().to_string();
        assert!(error.contains("intake_key"), "{error}");
    }

    #[test]
    fn an_unusable_intake_base_is_a_configuration_error_naming_its_key() {
        for good in [
            "https://intake.sekoia.io",
            "HTTPS://intake.sekoia.io/",
            "http://127.0.0.1:8080/intake",
            "https://intake.fra2.sekoia.io/api/v1/intake-http",
            "http://[::1]:9/x",
        ] {
            assert_eq!(check_intake_base(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("https://intake.sekoia .io", "space"),
            ("https://intake.sekoia.io ", "space"),
            ("\thttps://intake.sekoia.io", "space"),
            ("intake.sekoia.io", "no scheme"),
            ("intake.sekoia.io/batch", "no scheme"),
            ("ftp://intake.sekoia.io", "the scheme `ftp`"),
            ("htps://intake.sekoia.io", "the scheme `htps`"),
            ("https://", "no host"),
            ("https:///path", "no host"),
            ("https://intake.sekoia.io:port", "the port `port`"),
            ("https://intake.sekoia.io:65536/x", "the port `65536`"),
        ] {
            let error = check_intake_base(bad).expect_err(bad);
            assert!(error.contains(why), "{bad}: {error}");
        }

        let root = tempfile::tempdir().unwrap();
        let source = ConfigurationSource::new(root.path());
        std::fs::write(
            root.path().join("connector_configuration"),
            r#"{"intake_key": "K", "intake_server": "intake.sekoia.io"}"#,
        )
        .unwrap();
        let loaded = load::<serde_json::Value>(&source).unwrap();
        let error = intake_base(&source, &loaded.intake)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`intake_server` is `intake.sekoia.io`"),
            "{error}"
        );
        assert!(error.contains("Fix `connector_configuration`"), "{error}");
        // The module's `intake_url`, used when `intake_server` is empty.
        std::fs::write(
            root.path().join("connector_configuration"),
            r#"{"intake_key": "K", "intake_server": ""}"#,
        )
        .unwrap();
        std::fs::write(root.path().join("intake_url"), "ftp://127.0.0.1/intake").unwrap();
        let loaded = load::<serde_json::Value>(&source).unwrap();
        let error = intake_base(&source, &loaded.intake)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`intake_url`"), "{error}");
        assert!(error.contains("the scheme `ftp`"), "{error}");
    }

    #[test]
    fn the_schema_declares_the_intake_fields() {
        let schema = schema::<Own>();
        assert_eq!(schema["required"], json!(["intake_key", "frequency"]));
        let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["intake_server", "intake_key", "frequency"]);
    }
}
