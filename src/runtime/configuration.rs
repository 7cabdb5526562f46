//! Configuration loading shared by every item kind: the module
//! configuration with the secrets merged in (actions, validators, triggers,
//! connectors) and an item's own configuration with its node secrets
//! overlaid (triggers, connectors).

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::config::manifest::Manifest;
use crate::config::secret::secret_properties;
use crate::config::source::{ConfigurationError, ConfigurationSource};
use crate::item::manifest::without_configuration;
use crate::runtime::environment::Environment;
use crate::runtime::sentry::Configuration::{Item, Module};
use crate::wire::redact;

/// Who reads `module_configuration`, which decides whether it may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModuleReader {
    /// A trigger or connector: the Python SDK's `Trigger.execute` always
    /// reads it (`set_secrets`), so its absence is always an error.
    Trigger,
    /// An action or validator: the Python SDK reads it only when the
    /// manifest declares secrets or the item's code reads it. A module whose
    /// configuration type holds nothing (`()`) cannot read it: absent, it is
    /// `{}` unless the manifest declares secrets.
    Action,
}

/// Loads `module_configuration`, merges the secrets (declared keys only),
/// checks the manifest's required properties and deserializes it.
///
/// An absent `module_configuration` is an error naming the file and the
/// variable, as in the Python SDK, even when `C` would accept `{}`; the
/// one exception is an action of a module whose configuration type holds
/// nothing (see [`ModuleReader::Action`]).
pub(crate) fn load_module_configuration<C: DeserializeOwned + JsonSchema>(
    environment: &Environment,
    manifest: &Manifest,
    secrets: Map<String, Value>,
    reader: ModuleReader,
) -> Result<(C, Value), ConfigurationError> {
    let name = "module_configuration";
    let raw = match environment.source.optional_json(name)? {
        Some(raw) => raw,
        None if reader == ModuleReader::Action
            && !manifest.has_secrets()
            && secrets.is_empty()
            && without_configuration::<C>() =>
        {
            let configuration =
                deserialize::<C>(&json!({})).map_err(|_| environment.source.missing(name))?;
            return Ok((configuration, json!({})));
        }
        None => return Err(environment.source.missing(name)),
    };
    let mut raw = raw;
    if let Value::Object(map) = &mut raw {
        map.extend(secrets);
    }
    let declared: Vec<String> = manifest
        .secrets()
        .iter()
        .cloned()
        .chain(secret_properties::<C>())
        .collect();
    for secret in &declared {
        if let Some(value) = raw.get(secret) {
            redact::register_declared(secret, value);
        }
    }
    crate::runtime::sentry::set_configuration(Module, &raw, &declared);
    manifest.check_required(&raw)?;
    let configuration = deserialize::<C>(&raw).map_err(|error| ConfigurationError::Mismatch {
        name: name.into(),
        expected: crate::config::documented::author_type_name::<C>(),
        detail: redact::scrub(&error.to_string()).into_owned(),
        file: environment.source.file_for(name),
        variable: ConfigurationSource::variable_for(name),
    })?;
    Ok((configuration, raw))
}

/// Loads `trigger_configuration` with the non-null `node_value` secrets
/// overlaid, registers its secret fields to be scrubbed and deserializes it.
///
/// An absent `trigger_configuration` is an error naming the file and the
/// variable, even when `C` would accept `{}`, unless `C` holds nothing
/// (`()`) and there are no node secrets.
pub(crate) fn load_trigger_configuration<C: DeserializeOwned + JsonSchema>(
    environment: &Environment,
    node_secrets: &Map<String, Value>,
) -> Result<C, ConfigurationError> {
    let name = "trigger_configuration";
    let mut raw = match environment.source.optional_json(name)? {
        Some(raw) => raw,
        // A trigger whose configuration type holds nothing (`()`) never
        // reads it: the Python SDK reads it only for the trigger's code and
        // to lay node secrets over it.
        None if node_secrets.is_empty() && without_configuration::<C>() => {
            return deserialize::<C>(&json!({})).map_err(|_| environment.source.missing(name));
        }
        None => return Err(environment.source.missing(name)),
    };
    if let Value::Object(map) = &mut raw {
        for (key, value) in node_secrets {
            if !value.is_null() {
                map.insert(key.clone(), value.clone());
            }
        }
    }
    for value in node_secrets.values() {
        redact::register_value(value);
    }
    let mut declared = secret_properties::<C>();
    for secret in &declared {
        if let Some(value) = raw.get(secret) {
            redact::register_declared(secret, value);
        }
    }
    declared.extend(node_secrets.keys().cloned());
    crate::runtime::sentry::set_configuration(Item, &raw, &declared);
    deserialize::<C>(&raw).map_err(|error| ConfigurationError::Mismatch {
        name: name.into(),
        expected: crate::config::documented::author_type_name::<C>(),
        detail: redact::scrub(&error.to_string()).into_owned(),
        file: environment.source.file_for(name),
        variable: ConfigurationSource::variable_for(name),
    })
}

/// `raw` as a `C`; an empty object (what the platform and `run-local` send a
/// module or trigger without configuration) is also taken by a type that
/// accepts nothing, such as `()`.
fn deserialize<C: DeserializeOwned>(raw: &Value) -> Result<C, serde_json::Error> {
    C::deserialize(raw).or_else(|error| match raw {
        Value::Object(map) if map.is_empty() => C::deserialize(&Value::Null).map_err(|_| error),
        _ => Err(error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Keyed {
        api_key: String,
    }

    #[test]
    fn an_empty_object_configures_a_module_that_takes_nothing() {
        deserialize::<()>(&json!({})).expect("`{}` is a unit configuration");
        deserialize::<()>(&Value::Null).expect("null is a unit configuration");
        assert_eq!(deserialize::<Option<Keyed>>(&json!({})).unwrap(), None);
    }

    #[test]
    fn a_configuration_that_needs_keys_still_reports_what_is_missing() {
        let error = deserialize::<Keyed>(&json!({})).unwrap_err().to_string();
        assert!(error.contains("missing field `api_key`"), "{error}");
        let error = deserialize::<()>(&json!({"api_key": "k"})).unwrap_err();
        assert!(error.to_string().contains("invalid type"), "{error}");
    }
}
