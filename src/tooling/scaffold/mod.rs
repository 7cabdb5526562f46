//! The new-module scaffold (feature `cli`): writes a working module crate.
//!
//! `sekoia-automation new-module DIR --name NAME --description TEXT` writes
//! into `DIR`:
//! - `Cargo.toml` (depending on this crate, from crates.io or a path),
//!   `src/main.rs` with one action (`greet`) and one trigger (`ticker`), and
//!   `tests/module.rs` running them against the embedded platform;
//! - `manifest.json` (a fresh uuid, `version` 0.1.0, the slug derived from
//!   the name) and the generated item manifests;
//! - `README.md`, `Dockerfile` (a static musl binary alone in a
//!   `FROM scratch` image, user 65534), `.dockerignore`, `.gitignore`.
//!
//! The templates are files under `src/tooling/scaffold/templates/`; `src/main.rs`
//! is compiled into the `sekoia-automation` command too, which generates the
//! item manifests from it ([`write()`] takes its items).
//!
//! ```
//! use sekoia_automation::unversioned::scaffold::{crate_name, slug};
//! assert_eq!(crate_name("My Module 2"), "my-module-2");
//! assert_eq!(slug("My Module 2"), "my-module-2");
//! assert_eq!(slug("42 Things!"), "m42-things");
//! ```

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::tooling::ModuleItems;
use crate::tooling::generate::{self, GenerateError};

/// The module's `src/main.rs` (valid Rust: the command compiles it too).
pub const MAIN_RS: &str = include_str!("templates/src/main.rs");
const CARGO_TOML: &str = include_str!("templates/Cargo.toml.template");
const TESTS: &str = include_str!("templates/tests/module.rs");
const README: &str = include_str!("templates/README.md");
/// The module's `Dockerfile`.
pub const DOCKERFILE: &str = include_str!("templates/Dockerfile");
const DOCKERIGNORE: &str = include_str!("templates/dockerignore");
const GITIGNORE: &str = include_str!("templates/gitignore");

/// Where the module gets `sekoia-automation` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// crates.io, this version requirement.
    Registry(String),
    /// A local checkout of the crate.
    Path(PathBuf),
}

impl Dependency {
    /// This crate's version on crates.io.
    pub fn this_version() -> Self {
        Dependency::Registry(env!("CARGO_PKG_VERSION").into())
    }

    fn toml(&self) -> String {
        match self {
            Dependency::Registry(version) => format!("{{ version = {} }}", toml_string(version)),
            Dependency::Path(path) => {
                format!("{{ path = {} }}", toml_string(&path.display().to_string()))
            }
        }
    }
}

/// What to scaffold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewModule {
    /// The directory to write (created; must be empty if it exists).
    pub directory: PathBuf,
    /// The module's name (`manifest.json` `name`).
    pub name: String,
    /// The module's description.
    pub description: String,
    /// The slug; derived from the name when `None`.
    pub slug: Option<String>,
    /// Where `sekoia-automation` comes from.
    pub dependency: Dependency,
}

impl NewModule {
    /// A module named `name` in `directory`, depending on this crate's
    /// version.
    pub fn new(directory: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        NewModule {
            directory: directory.into(),
            name: name.into(),
            description: String::new(),
            slug: None,
            dependency: Dependency::this_version(),
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the slug.
    pub fn slug(mut self, slug: impl Into<String>) -> Self {
        self.slug = Some(slug.into());
        self
    }

    /// Sets where `sekoia-automation` comes from.
    pub fn dependency(mut self, dependency: Dependency) -> Self {
        self.dependency = dependency;
        self
    }
}

/// Why the module could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// The directory exists and is not empty.
    #[error("{} exists and is not empty: choose a new directory", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// The name gives no usable crate name or slug.
    #[error(
        "the name {name:?} has no letter or digit: give the module a name such as \"My service\""
    )]
    Name {
        /// The name.
        name: String,
    },
    /// The slug does not match the platform's rule.
    #[error(
        "the slug {slug:?} does not match ^[a-z]([a-z_.\\-]|\\d)*$: use lower-case letters, digits, `_`, `.` and `-`, starting with a letter"
    )]
    Slug {
        /// The slug.
        slug: String,
    },
    /// A file could not be written.
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        cause: std::io::Error,
    },
    /// The manifests could not be generated.
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

/// The crate name for a module name: lower-case, runs of other characters
/// as `-`; prefixed with `m` when it would start with a digit.
pub fn crate_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("m{out}")
    } else {
        out
    }
}

/// The slug for a module name: as [`crate_name`] (the Python SDK's
/// template lower-cases and replaces spaces by `-`), so that it matches the
/// platform's slug rule.
pub fn slug(name: &str) -> String {
    crate_name(name)
}

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("{{{{{key}}}}}"), value)
        })
}

/// Writes the module; `items` are those of the template's `src/main.rs`
/// (compiled into the command), from which the item manifests are
/// generated. Returns the files written, relative to the directory.
pub fn write(module: &NewModule, items: &ModuleItems<'_>) -> Result<Vec<PathBuf>, ScaffoldError> {
    let crate_name = crate_name(&module.name);
    if crate_name.is_empty() {
        return Err(ScaffoldError::Name {
            name: module.name.clone(),
        });
    }
    let slug = module.slug.clone().unwrap_or_else(|| slug(&module.name));
    if !crate::tooling::check::is_valid_slug(&slug) {
        return Err(ScaffoldError::Slug { slug });
    }
    let directory = &module.directory;
    if std::fs::read_dir(directory).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(ScaffoldError::NotEmpty {
            path: directory.clone(),
        });
    }
    let description = if module.description.is_empty() {
        module.name.clone()
    } else {
        module.description.clone()
    };
    let description_toml = toml_string(&description);
    let values = [
        ("crate_name", crate_name.as_str()),
        ("name", module.name.as_str()),
        ("description", description.as_str()),
        (
            "description_toml",
            &description_toml[1..description_toml.len() - 1],
        ),
        ("slug", slug.as_str()),
        ("dependency", &module.dependency.toml()),
    ];
    let manifest = json!({
        "name": module.name,
        "description": description,
        "slug": slug,
        "version": "0.1.0",
        "uuid": uuid::Uuid::new_v4().to_string(),
        "categories": [],
        "configuration": {"type": "object", "properties": {}, "required": []},
    });
    let files: Vec<(&str, String)> = vec![
        ("Cargo.toml", fill(CARGO_TOML, &values)),
        ("src/main.rs", MAIN_RS.to_string()),
        ("tests/module.rs", fill(TESTS, &values)),
        ("README.md", fill(README, &values)),
        ("Dockerfile", fill(DOCKERFILE, &values)),
        (".dockerignore", DOCKERIGNORE.to_string()),
        (".gitignore", GITIGNORE.to_string()),
        (generate::MANIFEST_FILE, generate::to_file_text(&manifest)),
    ];
    let mut written = Vec::new();
    for (name, contents) in files {
        write_file(directory, Path::new(name), &contents)?;
        written.push(PathBuf::from(name));
    }
    let generated = generate::generate(directory, items)?;
    generate::write(directory, &generated)?;
    written.extend(
        generated
            .into_iter()
            .filter(|file| file.file_name != generate::MANIFEST_FILE)
            .map(|file| PathBuf::from(file.file_name)),
    );
    Ok(written)
}

fn write_file(directory: &Path, name: &Path, contents: &str) -> Result<(), ScaffoldError> {
    let path = directory.join(name);
    let error = |source| ScaffoldError::Write {
        path: path.clone(),
        cause: source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    std::fs::write(&path, contents).map_err(error)
}
