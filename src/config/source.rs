//! The configuration source: a file under the configuration root, else an
//! environment variable ([protocol §1](crate::protocol#1-inputs)).

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

/// Why a configuration value could not be read.
///
/// Messages name the file and the environment variable involved and never
/// quote the value, which may be secret.
///
/// ```
/// use sekoia_automation::config::ConfigurationError;
///
/// fn explain(error: &ConfigurationError) -> String {
///     match error {
///         ConfigurationError::Missing { name, .. } => format!("set `{name}` in the module configuration"),
///         // Every message names the file or variable, never a value.
///         other => other.to_string(),
///     }
/// }
/// # let _ = explain;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigurationError {
    /// Neither the file nor the environment variable holds the value.
    #[error(
        "the configuration value `{name}` is missing: write it to the file `{}` or set the environment variable `{variable}`",
        file.display()
    )]
    #[non_exhaustive]
    Missing {
        /// Name of the value (`token`, `arguments`...).
        name: String,
        /// The file that was looked for.
        file: PathBuf,
        /// The environment variable that was looked for.
        variable: String,
    },
    /// The file exists but could not be read.
    #[error("cannot read the configuration file `{}`: {cause}", file.display())]
    #[non_exhaustive]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// What the system said.
        cause: std::io::Error,
    },
    /// The value is not valid JSON (nor, in an environment variable, base64 of JSON).
    #[error("the configuration value `{name}` from {origin} is not valid JSON{}: {detail}", if origin.starts_with("the environment") { " (nor base64 of JSON)" } else { "" })]
    #[non_exhaustive]
    InvalidJson {
        /// Name of the value.
        name: String,
        /// Where it came from: the file or the variable.
        origin: String,
        /// The parser's message (position, never content).
        detail: String,
    },
    /// The value does not have the shape the module expects.
    #[error("the configuration value `{name}` does not match the expected type `{expected}`: {detail}. Fix `{name}` (file `{}` or variable `{variable}`)", file.display())]
    #[non_exhaustive]
    Mismatch {
        /// Name of the value.
        name: String,
        /// The Rust type it should deserialize into.
        expected: String,
        /// Serde's message.
        detail: String,
        /// The file it is read from.
        file: PathBuf,
        /// The environment variable it is read from.
        variable: String,
    },
    /// `manifest.json` exists but cannot be read or parsed.
    #[error("cannot use the manifest `{}`: {detail}", path.display())]
    #[non_exhaustive]
    Manifest {
        /// Path of the manifest.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// Properties the manifest requires are absent from the module configuration.
    #[error(
        "the module configuration lacks the properties {names:?} that `manifest.json` requires: add them to `module_configuration`"
    )]
    #[non_exhaustive]
    MissingRequired {
        /// The missing property names.
        names: Vec<String>,
    },
}

/// Reads configuration values by name: first the file `<root>/<name>`, then
/// the environment variable `<NAME>` (upper-cased). An empty variable counts
/// as absent, as in the Python SDK. File contents are used as they are (no
/// trimming).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigurationSource {
    root: PathBuf,
}

impl ConfigurationSource {
    /// A source rooted at `root` (`/symphony` on the platform).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ConfigurationSource { root: root.into() }
    }

    /// The file a value is read from.
    pub fn file_for(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The environment variable a value falls back to.
    pub fn variable_for(name: &str) -> String {
        name.to_uppercase()
    }

    /// A required string value.
    pub fn text(&self, name: &str) -> Result<String, ConfigurationError> {
        self.optional_text(name)?.ok_or_else(|| self.missing(name))
    }

    /// A string value, `None` when neither the file nor the variable is set.
    pub fn optional_text(&self, name: &str) -> Result<Option<String>, ConfigurationError> {
        Ok(self.raw(name)?.map(|(text, _)| text))
    }

    /// A JSON value, `None` when neither the file nor the variable is set.
    /// A variable may hold plain JSON or base64 of JSON.
    pub fn optional_json(&self, name: &str) -> Result<Option<Value>, ConfigurationError> {
        Ok(self.optional_json_and_text(name)?.map(|(value, _)| value))
    }

    /// A JSON value and its text (a variable's base64 decoded), read once:
    /// the text is for a typed reading straight from it, which keeps
    /// integers beyond 64 bits for a `u128` or an exact JSON type where a
    /// [`Value`] without `arbitrary_precision` would round them.
    pub(crate) fn optional_json_and_text(
        &self,
        name: &str,
    ) -> Result<Option<(Value, String)>, ConfigurationError> {
        let Some((text, origin)) = self.raw(name)? else {
            return Ok(None);
        };
        let invalid = |detail: String| ConfigurationError::InvalidJson {
            name: name.to_string(),
            origin: origin.describe(),
            detail,
        };
        // JSON that a `Value` cannot hold (a number beyond `f64` without
        // `exact-numbers`) is refused, with the reason.
        let parse = |text: String| match serde_json::from_str::<Value>(&text) {
            Ok(value) => Ok(Some((value, text))),
            Err(error) => Err(invalid(error.to_string())),
        };
        match serde_json::from_str::<serde::de::IgnoredAny>(&text) {
            Ok(_) => parse(text),
            Err(error) => match origin {
                Origin::File(_) => Err(invalid(error.to_string())),
                Origin::Variable(_) => match decode_base64_json(&text) {
                    Ok(decoded) => parse(decoded),
                    Err(()) => Err(invalid(error.to_string())),
                },
            },
        }
    }

    /// The error for a missing value, naming the file and the variable.
    pub fn missing(&self, name: &str) -> ConfigurationError {
        ConfigurationError::Missing {
            name: name.to_string(),
            file: self.file_for(name),
            variable: Self::variable_for(name),
        }
    }

    fn raw(&self, name: &str) -> Result<Option<(String, Origin)>, ConfigurationError> {
        let file = self.file_for(name);
        if file.is_file() {
            return match std::fs::read_to_string(&file) {
                Ok(text) => Ok(Some((text, Origin::File(file)))),
                Err(source) => Err(ConfigurationError::Unreadable {
                    file,
                    cause: source,
                }),
            };
        }
        let variable = Self::variable_for(name);
        match std::env::var(&variable) {
            Ok(text) if !text.is_empty() => Ok(Some((text, Origin::Variable(variable)))),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(ConfigurationError::InvalidJson {
                name: name.to_string(),
                origin: Origin::Variable(variable).describe(),
                detail: "the variable is not valid UTF-8".into(),
            }),
        }
    }
}

enum Origin {
    File(PathBuf),
    Variable(String),
}

impl Origin {
    fn describe(&self) -> String {
        match self {
            Origin::File(path) => format!("the file `{}`", path.display()),
            Origin::Variable(name) => format!("the environment variable `{name}`"),
        }
    }
}

/// Python's `base64.b64decode` then `json.loads`; padding may be omitted and
/// surrounding whitespace is ignored.
fn decode_base64_json(text: &str) -> Result<String, ()> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = LENIENT.decode(compact).map_err(|_| ())?;
    let text = String::from_utf8(bytes).map_err(|_| ())?;
    serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|_| ())?;
    Ok(text)
}

#[cfg(test)]
mod examples {
    #[test]
    fn configuration_source_example() {
        use crate::config::source::ConfigurationSource;

        let root = std::env::temp_dir().join(format!("doc-config-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("arguments"), r#"{"ip": "1.2.3.4"}"#).unwrap();

        let source = ConfigurationSource::new(&root);
        assert_eq!(
            source.optional_json("arguments").unwrap().unwrap()["ip"],
            "1.2.3.4"
        );
        let error = source.text("doc_surely_absent").unwrap_err();
        assert!(error.to_string().contains("DOC_SURELY_ABSENT"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
