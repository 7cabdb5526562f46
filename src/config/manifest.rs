//! `manifest.json`: what the module declares about its configuration.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::source::ConfigurationError;

/// The module's `manifest.json`, as read at start-up.
///
/// The runtime uses `configuration.required` (checked against the loaded
/// module configuration) and `configuration.secrets` (which keys the platform's
/// secret values may fill in). A missing file is an empty manifest, as in the
/// Python SDK; a file that does not parse is an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    raw: Map<String, Value>,
    path: Option<PathBuf>,
    secrets: Vec<String>,
    required: Vec<String>,
}

impl Manifest {
    /// Reads `path`; a missing file gives an empty manifest.
    pub fn load(path: &Path) -> Result<Manifest, ConfigurationError> {
        let error = |detail: String| ConfigurationError::Manifest {
            path: path.to_path_buf(),
            detail,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                log::debug!(
                    "no manifest at {}: no secrets, no required properties",
                    path.display()
                );
                return Ok(Manifest::default());
            }
            Err(e) => return Err(error(e.to_string())),
        };
        let value: Value =
            serde_json::from_str(&text).map_err(|e| error(format!("not valid JSON: {e}")))?;
        let mut manifest = Manifest::from_value(value).map_err(|e| match e {
            ConfigurationError::Manifest { detail, .. } => error(detail),
            other => other,
        })?;
        manifest.path = Some(path.to_path_buf());
        Ok(manifest)
    }

    /// Builds a manifest from the text of a `manifest.json` compiled into the
    /// binary (see [`Module::embedded_manifest`](crate::Module::embedded_manifest)).
    pub fn from_embedded(text: &str) -> Result<Manifest, ConfigurationError> {
        let error = |detail: String| ConfigurationError::Manifest {
            path: PathBuf::from("manifest.json (embedded)"),
            detail,
        };
        let value: Value =
            serde_json::from_str(text).map_err(|e| error(format!("not valid JSON: {e}")))?;
        Manifest::from_value(value).map_err(|e| match e {
            ConfigurationError::Manifest { detail, .. } => error(detail),
            other => other,
        })
    }

    /// Builds a manifest from its JSON.
    pub fn from_value(value: Value) -> Result<Manifest, ConfigurationError> {
        let error = |detail: &str| ConfigurationError::Manifest {
            path: PathBuf::from("manifest.json"),
            detail: detail.to_string(),
        };
        let Value::Object(raw) = value else {
            return Err(error("the manifest must be a JSON object"));
        };
        let names = |key: &str| -> Result<Vec<String>, ConfigurationError> {
            match raw.get("configuration").and_then(|c| c.get(key)) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_string).ok_or_else(|| {
                            error(&format!(
                                "`configuration.{key}` must be a list of property names"
                            ))
                        })
                    })
                    .collect(),
                Some(_) => Err(error(&format!(
                    "`configuration.{key}` must be a list of property names"
                ))),
            }
        };
        let secrets = names("secrets")?;
        let required = names("required")?;
        Ok(Manifest {
            raw,
            path: None,
            secrets,
            required,
        })
    }

    /// The module's `name`, when the manifest gives one.
    pub fn name(&self) -> Option<&str> {
        self.raw.get("name").and_then(Value::as_str)
    }

    /// `configuration.secrets`: properties whose values the platform holds.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Whether the module declares secrets (actions then ask for them).
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Checks that every required property is present in `configuration`.
    pub fn check_required(&self, configuration: &Value) -> Result<(), ConfigurationError> {
        let missing: Vec<String> = self
            .required
            .iter()
            .filter(|name| configuration.get(name.as_str()).is_none())
            .cloned()
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ConfigurationError::MissingRequired { names: missing })
        }
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn manifest_example() {
        use crate::config::manifest::Manifest;
        use serde_json::json;

        let manifest = Manifest::from_value(json!({
            "slug": "demo",
            "configuration": {"properties": {"api_key": {"type": "string"}}, "required": ["api_key"], "secrets": ["api_key"]}
        })).unwrap();
        assert_eq!(manifest.secrets(), ["api_key"]);
        assert!(manifest.check_required(&json!({})).is_err());
    }

    #[test]
    fn from_embedded_example() {
        use crate::config::manifest::Manifest;
        let manifest =
            Manifest::from_embedded(r#"{"configuration": {"secrets": ["api_key"]}}"#).unwrap();
        assert_eq!(manifest.secrets(), ["api_key"]);
        assert!(Manifest::from_embedded("{").is_err());
    }
}
