//! `sekoia-automation port PYTHON_MODULE_DIR [OUT_DIR]` (feature `cli`):
//! writes a module crate from a Python module of the automation library.
//!
//! - every item of the manifests ([`manifests`]) is registered under its
//!   `docker_parameters`, with the uuid, slug and file its manifest has
//!   (an [`Identity`](crate::config::Identity)), its name and description;
//! - its arguments, results and configurations are Rust types written
//!   from the manifests' JSON Schemas ([`schema_types`]), read through
//!   `Documented<T>` so that the manifests keep their schemas byte for byte;
//! - a `GenericAPIAction` subclass ([`generic_api`], read from the Python
//!   source by [`python`]) is an `Api` value: complete when its classes
//!   only set attributes, with its overrides quoted when they define methods;
//! - every other item (and the account validator) is a compiling stub
//!   whose body quotes the Python class it replaces;
//! - around it, the scaffold's `Cargo.toml`, `Dockerfile`, `.dockerignore`,
//!   `.gitignore` and a test file ([`emit`](self)).
//!
//! The manifests are copied as they are: `generate-files` changes none of
//! them and `check-module` passes on the crate as written.
//!
//! ```no_run
//! use sekoia_automation::unversioned::port::{port, Port};
//!
//! let report = port(&Port::new("automation-library/Shodan", "shodan-rs"))?;
//! for item in &report.items {
//!     println!("{} {}", item.command, item.how.describe());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod emit;
pub mod generic_api;
pub mod manifests;
pub mod python;
pub mod rust_names;
pub mod schema_types;

use std::path::{Path, PathBuf};

use crate::tooling::generate::{GenerateError, MANIFEST_FILE};
use crate::tooling::scaffold::{Dependency, crate_name};

use emit::{CrateOptions, ItemPlan};
use generic_api::api_plan;
use manifests::{Kind, Manifests};
use python::{PyClass, PyMain, PySources, read_main, read_sources};

/// The command the account validator is registered under.
pub const VALIDATE_COMMAND: &str = "validate_module_configuration";

/// What to port.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Port {
    /// The Python module's directory (`manifest.json`, `main.py`, its package).
    pub python: PathBuf,
    /// The crate's directory (created; must be empty if it exists).
    pub out: PathBuf,
    /// Where the crate gets `sekoia-automation` from.
    pub dependency: Dependency,
}

impl Port {
    /// Ports `python` into `out`, depending on the crate this code was
    /// built from ([`Dependency::this_build`]).
    pub fn new(python: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Port {
            python: python.into(),
            out: out.into(),
            dependency: Dependency::this_build(),
        }
    }

    /// Sets where `sekoia-automation` comes from.
    pub fn dependency(mut self, dependency: Dependency) -> Self {
        self.dependency = dependency;
        self
    }
}

/// How an item was ported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum How {
    /// A plain `GenericAPIAction`: a complete `Api` action.
    Api,
    /// A `GenericAPIAction` whose classes define these methods: an `Api`
    /// action whose overrides are quoted, not ported.
    ApiWithOverrides(Vec<String>),
    /// A stub quoting the Python source; the reason it is not an `Api`.
    Stub(String),
}

impl How {
    /// A short description for a report.
    ///
    /// ```
    /// use sekoia_automation::unversioned::port::How;
    /// assert_eq!(How::Api.describe(), "complete (Api)");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            How::Api => "complete (Api)".into(),
            How::ApiWithOverrides(methods) => {
                format!("Api, overrides not ported: {}", methods.join(", "))
            }
            How::Stub(reason) => format!("stub: {reason}"),
        }
    }
}

/// One item of the port.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PortedItem {
    /// Its command.
    pub command: String,
    /// Its manifest file (`None`: the account validator).
    pub file: Option<String>,
    /// The Python class `main.py` registers under the command.
    pub class: Option<String>,
    /// How it was ported.
    pub how: How,
}

/// What [`port`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PortReport {
    /// The files written, relative to the crate's directory.
    pub files: Vec<PathBuf>,
    /// The items, as registered.
    pub items: Vec<PortedItem>,
    /// What the port could not carry over (files skipped, registrations
    /// without a manifest), also written at the top of `src/main.rs`.
    pub notes: Vec<String>,
}

/// Why the port failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortError {
    /// The output directory exists and is not empty.
    #[error("{} exists and is not empty: choose a new directory", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// The Python module's `manifest.json` cannot be read.
    #[error("{0}: give the directory of a Python module (the one holding its manifest.json)")]
    Manifest(#[from] GenerateError),
    /// Neither an item nor an account validator to register.
    #[error(
        "{}: no item manifest (action_*.json, trigger_*.json, connector_*.json) with a `docker_parameters`, and no account validator: nothing to port",
        path.display()
    )]
    NoItems {
        /// The Python module's directory.
        path: PathBuf,
    },
    /// A file could not be written or copied.
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        cause: std::io::Error,
    },
}

/// Ports the Python module `port.python` into the crate `port.out`.
pub fn port(port: &Port) -> Result<PortReport, PortError> {
    if std::fs::read_dir(&port.out).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(PortError::NotEmpty {
            path: port.out.clone(),
        });
    }
    let manifests = Manifests::read(&port.python)?;
    let sources = read_sources(&port.python);
    let main = std::fs::read_to_string(port.python.join("main.py"))
        .map(|text| read_main(&text))
        .unwrap_or_default();
    let mut notes: Vec<String> = manifests
        .skipped
        .iter()
        .map(|(file, why)| format!("{file} is not registered: it {why}."))
        .collect();
    let class_of = |command: &str| -> Option<String> {
        main.registrations
            .iter()
            .find(|registration| registration.command.as_deref().unwrap_or("") == command)
            .map(|registration| registration.class.clone())
    };
    for registration in &main.registrations {
        let command = registration.command.as_deref().unwrap_or("");
        if !manifests.items.iter().any(|item| item.command == command) {
            notes.push(format!(
                "main.py registers `{}` under `{command}`, which no item manifest has as `docker_parameters`: it is not registered (generate-files would write a new manifest).",
                registration.class
            ));
        }
    }
    let mut plans = Vec::new();
    for item in &manifests.items {
        let class_name = class_of(&item.command);
        let class = class_name
            .as_deref()
            .and_then(|name| find_class(&sources, &main, &port.python, name));
        let classes = class
            .map(|class| sources.ancestry(class))
            .unwrap_or_default();
        let api = match (item.kind, class) {
            (Kind::Action, Some(class)) => api_plan(&sources, class),
            _ => None,
        };
        let (how, api) = match api {
            Some(Ok(plan)) if plan.is_plain() => (How::Api, Some(plan)),
            Some(Ok(plan)) => (
                How::ApiWithOverrides(
                    plan.overrides
                        .iter()
                        .map(|(name, _)| name.clone())
                        .collect(),
                ),
                Some(plan),
            ),
            Some(Err(reason)) => (
                How::Stub(format!("a GenericAPIAction, but {}", reason.0)),
                None,
            ),
            None => (
                How::Stub(match (&class_name, class) {
                    (None, _) => "no class of main.py is registered under its command".into(),
                    (Some(name), None) => format!("the class `{name}` was not found in the source"),
                    (Some(_), Some(_)) => "its class is not a GenericAPIAction".into(),
                }),
                None,
            ),
        };
        plans.push(ItemPlan {
            manifest: Some(item),
            classes,
            class_name,
            how,
            api,
        });
    }
    if manifests.supports_validation() {
        let class = main
            .validator
            .as_deref()
            .and_then(|name| find_class(&sources, &main, &port.python, name));
        plans.push(ItemPlan {
            manifest: None,
            classes: class
                .map(|class| sources.ancestry(class))
                .unwrap_or_default(),
            class_name: main.validator.clone(),
            how: How::Stub("the account validator".into()),
            api: None,
        });
    } else if let Some(validator) = &main.validator {
        notes.push(format!(
            "main.py registers the account validator `{validator}`, but manifest.json does not say `\"supports_validation\": true`: it is not registered (generate-files would add the key)."
        ));
    }
    if plans.is_empty() {
        return Err(PortError::NoItems {
            path: port.python.clone(),
        });
    }
    let module_name = manifests
        .module
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            port.python
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    let mut crate_name = crate_name(&module_name);
    if crate_name.is_empty() {
        crate_name = "ported-module".into();
    }
    let (files, items) = emit::crate_files(
        &manifests,
        &plans,
        &CrateOptions {
            crate_name: &crate_name,
            python_directory: &port.python,
            out_directory: &port.out,
            dependency: &port.dependency,
            notes: &notes,
        },
    );
    let mut written = Vec::new();
    for (name, contents) in &files.files {
        write(&port.out.join(name), contents.as_bytes())?;
        written.push(PathBuf::from(name));
    }
    format_sources(&port.out, &files.files);
    let mut copied = vec![MANIFEST_FILE.to_string()];
    copied.extend(crate::tooling::check::item_files(&port.python));
    for extra in ["logo.png", "CHANGELOG.md"] {
        if port.python.join(extra).is_file() {
            copied.push(extra.to_string());
        }
    }
    for name in copied {
        let bytes = std::fs::read(port.python.join(&name)).map_err(|cause| PortError::Write {
            path: port.python.join(&name),
            cause,
        })?;
        write(&port.out.join(&name), &bytes)?;
        written.push(PathBuf::from(name));
    }
    Ok(PortReport {
        files: written,
        items,
        notes,
    })
}

/// Formats the Rust files written with `rustfmt` when it is installed
/// (the code is valid unformatted: a missing `rustfmt` only leaves it so).
fn format_sources(directory: &Path, files: &[(String, String)]) {
    let sources: Vec<PathBuf> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".rs"))
        .map(|(name, _)| directory.join(name))
        .collect();
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(&sources)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// The class `main.py` names `name`: the one defined in the file it is
/// imported from (under its original name: `import A as B`), else the
/// first of that name.
fn find_class<'a>(
    sources: &'a PySources,
    main: &PyMain,
    directory: &Path,
    name: &str,
) -> Option<&'a PyClass> {
    let Some((module, original)) = main.imports.get(name) else {
        return sources.find(name, None);
    };
    let file = module.with_extension("py");
    let file = if directory.join(&file).is_file() {
        file
    } else {
        module.join("__init__.py")
    };
    sources
        .find(original, Some(&file))
        .or_else(|| sources.find(name, None))
}

fn write(path: &Path, contents: &[u8]) -> Result<(), PortError> {
    let error = |cause| PortError::Write {
        path: path.to_path_buf(),
        cause,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    std::fs::write(path, contents).map_err(error)
}
