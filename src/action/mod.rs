//! [`Action`]: a short program that reads arguments, does one job and reports
//! an [`Outcome`]; [`ActionContext`]: what it can use while it runs.

pub(crate) mod outcome;
pub(crate) mod runner;
pub(crate) mod validator;

use std::cell::{Cell, RefCell};
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::action::outcome::Outcome;
use crate::storage::data_directory::{DataDirectory, StorageError};
use crate::wire::logging::{self, Level, LogRecord, Sink};

/// An action of a module.
///
/// `ModuleConfiguration` ties the action to one module: it can only be
/// registered on a [`Module`](crate::Module) of that configuration type.
/// `Arguments` and `Results` are serde types whose JSON Schemas describe the
/// action in its manifest; use [`serde_json::Value`] for untyped ones and `()`
/// for a module without configuration.
///
/// ```
/// use sekoia_automation::{Action, ActionContext, Level, Outcome};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, schemars::JsonSchema)]
/// struct Arguments { text: String }
///
/// #[derive(Serialize, schemars::JsonSchema)]
/// struct Results { length: usize }
///
/// struct Measure;
///
/// impl Action for Measure {
///     type ModuleConfiguration = ();
///     type Arguments = Arguments;
///     type Results = Results;
///     const NAME: &'static str = "Measure text";
///     const DESCRIPTION: &'static str = "Count the characters of a text";
///
///     fn run(&self, ctx: &ActionContext<'_, ()>, args: Arguments) -> Outcome<Results> {
///         ctx.log(Level::Info, "measuring");
///         let length = args.text.chars().count();
///         let outcome = Outcome::success(Results { length });
///         if length > 100 { outcome.activate("long") } else { outcome.activate("short") }
///     }
/// }
/// ```
pub trait Action: 'static {
    /// The configuration of the module this action belongs to.
    type ModuleConfiguration: DeserializeOwned + JsonSchema + 'static;
    /// The action's arguments (the `arguments` configuration value).
    type Arguments: DeserializeOwned + JsonSchema;
    /// The action's results.
    type Results: Serialize + JsonSchema;
    /// The action's name, as shown in the playbook editor.
    const NAME: &'static str;
    /// What the action does.
    const DESCRIPTION: &'static str;
    /// The output branches the action may activate, listed in its manifest
    /// (`outputs`). Empty (the default) declares none; when some are
    /// declared, activating another one at run time is reported with a
    /// `warning` log (the branch is still sent).
    const OUTPUTS: &'static [&'static str] = &[];

    /// Does the job. A panic is caught and reported as an error.
    fn run(
        &self,
        ctx: &ActionContext<'_, Self::ModuleConfiguration>,
        arguments: Self::Arguments,
    ) -> Outcome<Self::Results>;
}

/// Why an argument or result helper failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArgumentError {
    /// Neither `name` nor `name_path` is in the arguments.
    #[error(
        "the argument `{name}` is missing: give `{name}` or `{name}_path` (a JSON file relative to the data directory)"
    )]
    Missing {
        /// The argument.
        name: String,
    },
    /// `name_path` does not name a file of the data directory.
    #[error("the argument `{name}_path` names `{}`, which is not a file of the data directory", path.display())]
    MissingFile {
        /// The argument.
        name: String,
        /// The resolved path.
        path: PathBuf,
    },
    /// `name_path` is not a string.
    #[error("the argument `{name}_path` must be a string path relative to the data directory")]
    PathNotString {
        /// The argument.
        name: String,
    },
    /// The value does not have the expected type.
    #[error("the argument `{name}` does not match the expected type `{expected}`: {detail}")]
    Invalid {
        /// The argument.
        name: String,
        /// The Rust type.
        expected: &'static str,
        /// Serde's message.
        detail: String,
    },
    /// The file could not be read, written or parsed.
    #[error("cannot {operation} `{}`: {detail}", path.display())]
    File {
        /// What was attempted.
        operation: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The path was refused by the data directory (absolute, `..`, symlink).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The value cannot be serialized to JSON.
    #[error("the result `{name}` cannot be serialized to JSON: {cause}")]
    Serialize {
        /// The result.
        name: String,
        /// Serde's error.
        cause: serde_json::Error,
    },
}

/// What an action (or an account validator) can use while it runs: the typed
/// module configuration, logging, the data directory and the JSON argument
/// and result helpers.
pub struct ActionContext<'a, C> {
    configuration: &'a C,
    arguments: &'a Value,
    data_directory: &'a DataDirectory,
    sink: Sink,
    result_as_file: Cell<bool>,
    updated_secrets: RefCell<Map<String, Value>>,
    secret_names: &'a [String],
}

impl<'a, C> ActionContext<'a, C> {
    /// A context outside any module run, to unit-test an action's `run`
    /// without a platform: logs are kept in the context ([`logs`](Self::logs))
    /// and no secret is declared.
    ///
    /// ```
    /// use sekoia_automation::{ActionContext, DataDirectory, Level};
    /// use serde_json::json;
    ///
    /// let data = DataDirectory::new(std::env::temp_dir());
    /// let arguments = json!({"ips": ["1.2.3.4"]});
    /// let ctx = ActionContext::new(&(), &arguments, &data);
    /// let ips: Vec<String> = ctx.json_argument("ips").unwrap();
    /// ctx.log(Level::Info, format!("{} ips", ips.len()));
    /// assert_eq!(ctx.logs()[0].message, "1 ips");
    /// assert_eq!(ctx.json_result("ips", &ips).unwrap()["ips"], json!(["1.2.3.4"]));
    /// ```
    pub fn new(
        configuration: &'a C,
        arguments: &'a Value,
        data_directory: &'a DataDirectory,
    ) -> Self {
        Self::in_run(
            configuration,
            arguments,
            data_directory,
            Sink::default(),
            &[],
        )
    }

    pub(crate) fn in_run(
        configuration: &'a C,
        arguments: &'a Value,
        data_directory: &'a DataDirectory,
        sink: Sink,
        secret_names: &'a [String],
    ) -> Self {
        ActionContext {
            configuration,
            arguments,
            data_directory,
            sink,
            result_as_file: Cell::new(true),
            updated_secrets: RefCell::default(),
            secret_names,
        }
    }

    /// The records logged through this context so far (in a module run, also
    /// those of the `log` crate's macros).
    pub fn logs(&self) -> Vec<LogRecord> {
        self.sink.borrow().clone()
    }

    /// The module configuration, secrets merged in.
    pub fn configuration(&self) -> &C {
        self.configuration
    }

    /// The arguments as the platform sent them (for [`json_argument`](Self::json_argument)-style lookups).
    pub fn raw_arguments(&self) -> &Value {
        self.arguments
    }

    /// The data directory (`/symphony_data`, plus `sub_folder`).
    pub fn data_directory(&self) -> &DataDirectory {
        self.data_directory
    }

    /// Logs a message to the platform (and to stderr).
    pub fn log(&self, level: Level, message: impl AsRef<str>) {
        self.log_with_context(level, message, Map::new());
    }

    /// Logs a message with context fields, shown after ` - Context: ` in the
    /// platform's logs. Fields that do not serialize to a JSON object are
    /// put under the key `context`.
    ///
    /// ```
    /// # use sekoia_automation::{ActionContext, Level};
    /// # fn example(ctx: &ActionContext<'_, ()>) {
    /// ctx.log_with_context(Level::Warning, "slow answer", serde_json::json!({"ms": 2300}));
    /// # }
    /// ```
    pub fn log_with_context(
        &self,
        level: Level,
        message: impl AsRef<str>,
        context: impl Serialize,
    ) {
        let message = message.as_ref();
        logging::echo_to_stderr(level, message);
        let mut record = LogRecord::new(level, message);
        match serde_json::to_value(context) {
            Ok(Value::Object(map)) => record.context = map,
            Ok(Value::Null) => {}
            Ok(other) => {
                record.context.insert("context".into(), other);
            }
            Err(error) => {
                record
                    .context
                    .insert("context_error".into(), error.to_string().into());
            }
        }
        self.sink.borrow_mut().push(record);
    }

    /// A JSON argument given inline or in a file (PROTOCOL §3): the value of
    /// `name` if present and not null (then [`json_result`](Self::json_result)
    /// answers inline), else the JSON file at `<data>/<name_path>` (then
    /// results go to a file). A path that leaves the data directory is refused.
    ///
    /// ```
    /// # use sekoia_automation::ActionContext;
    /// # fn example(ctx: &ActionContext<'_, ()>) -> Result<(), sekoia_automation::ArgumentError> {
    /// let events: Vec<serde_json::Value> = ctx.json_argument("events")?;
    /// let report = ctx.json_result("report", &events.len())?;
    /// # Ok(()) }
    /// ```
    pub fn json_argument<T: DeserializeOwned>(&self, name: &str) -> Result<T, ArgumentError> {
        self.optional_json_argument(name)?
            .ok_or_else(|| ArgumentError::Missing { name: name.into() })
    }

    /// Like [`json_argument`](Self::json_argument), `None` when neither
    /// `name` nor `name_path` is given.
    pub fn optional_json_argument<T: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ArgumentError> {
        let invalid = |detail: String| ArgumentError::Invalid {
            name: name.into(),
            expected: std::any::type_name::<T>(),
            detail,
        };
        if let Some(value) = self.arguments.get(name).filter(|value| !value.is_null()) {
            self.result_as_file.set(false);
            return T::deserialize(value)
                .map(Some)
                .map_err(|e| invalid(e.to_string()));
        }
        let path_key = format!("{name}_path");
        let Some(relative) = self.arguments.get(&path_key) else {
            return Ok(None);
        };
        self.result_as_file.set(true);
        let relative = relative
            .as_str()
            .ok_or_else(|| ArgumentError::PathNotString { name: name.into() })?;
        let path = self.data_directory.resolve(relative)?;
        if !path.is_file() {
            return Err(ArgumentError::MissingFile {
                name: name.into(),
                path,
            });
        }
        let file = std::fs::File::open(&path).map_err(|e| ArgumentError::File {
            operation: "read",
            path: path.clone(),
            detail: e.to_string(),
        })?;
        serde_json::from_reader(std::io::BufReader::new(file))
            .map(Some)
            .map_err(|e| ArgumentError::File {
                operation: "parse the JSON file",
                path,
                detail: e.to_string(),
            })
    }

    /// A result given inline or in a file (PROTOCOL §3):
    /// `{"<name>_path": "<name>-<uuid4>.json"}` with the file written in the
    /// data directory, or `{"<name>": value}` when the last
    /// [`json_argument`](Self::json_argument) was inline. File is the default.
    /// Flatten the map into the action's results
    /// (`#[serde(flatten)] report: serde_json::Map<String, Value>`).
    pub fn json_result<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<Map<String, Value>, ArgumentError> {
        let mut result = Map::new();
        if !self.result_as_file.get() {
            let value = serde_json::to_value(value).map_err(|cause| ArgumentError::Serialize {
                name: name.into(),
                cause,
            })?;
            result.insert(name.into(), value);
            return Ok(result);
        }
        let filename = format!("{name}-{}.json", uuid::Uuid::new_v4());
        let path = self.data_directory.resolve(&filename)?;
        if let Err(detail) = write_json_file(&path, value) {
            // Never leave a partial result file behind.
            let _ = std::fs::remove_file(&path);
            return Err(ArgumentError::File {
                operation: "write the result file",
                path,
                detail,
            });
        }
        result.insert(format!("{name}_path"), filename.into());
        Ok(result)
    }

    /// Asks the platform to store a new value for one of the module's secrets
    /// (a rotated token, say). The finished report then carries the module's
    /// secret values, this one updated. Only secrets declared in the manifest
    /// can be updated.
    pub fn update_secret(&self, name: &str, value: impl Into<Value>) -> Result<(), ArgumentError> {
        if !self.secret_names.iter().any(|declared| declared == name) {
            return Err(ArgumentError::Invalid {
                name: name.into(),
                expected: "a secret declared in manifest.json",
                detail: format!(
                    "`{name}` is not in `configuration.secrets` of the manifest; declare it there"
                ),
            });
        }
        let value = value.into();
        crate::wire::redact::register_value(&value);
        self.updated_secrets.borrow_mut().insert(name.into(), value);
        Ok(())
    }

    pub(crate) fn take_updated_secrets(&self) -> Map<String, Value> {
        self.updated_secrets.take()
    }
}

fn write_json_file<T: Serialize + ?Sized>(path: &std::path::Path, value: &T) -> Result<(), String> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut writer = std::io::BufWriter::with_capacity(256 * 1024, file);
    serde_json::to_writer(&mut writer, value).map_err(|e| e.to_string())?;
    writer.flush().map_err(|e| e.to_string())
}
