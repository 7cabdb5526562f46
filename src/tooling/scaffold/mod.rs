//! The new-module scaffold (feature `cli`): writes a working module crate.
//!
//! `sekoia-automation new-module DIR --name NAME --description TEXT` writes
//! into `DIR`:
//! - `Cargo.toml` (depending on this crate: by default its git repository
//!   when the command was built from a checkout, or its version on
//!   crates.io when the command was installed from crates.io; never an
//!   absolute path; see [`Dependency`]),
//!   `src/main.rs` with two actions (`greet`, and `lookup` calling the
//!   service's API) and one trigger (`ticker`), and
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
pub(crate) const CARGO_TOML: &str = include_str!("templates/Cargo.toml.template");
const TESTS: &str = include_str!("templates/tests/module.rs");
const README: &str = include_str!("templates/README.md");
/// The module's `Dockerfile`.
pub const DOCKERFILE: &str = include_str!("templates/Dockerfile");
pub(crate) const DOCKERIGNORE: &str = include_str!("templates/dockerignore");
pub(crate) const GITIGNORE: &str = include_str!("templates/gitignore");

/// Where the module gets `sekoia-automation` from. Whichever it is, the
/// module's `Cargo.toml` names no absolute path: the crate can be shared
/// and built in its own `Dockerfile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// crates.io, this version requirement.
    Registry(String),
    /// A local checkout of the crate, written in `Cargo.toml` relative to
    /// the module's directory (`../sekoia-automation`). The image's build
    /// context is the module's directory alone: put the checkout inside
    /// it (`vendor/sekoia-automation`) to build the image, or switch to a
    /// git or crates.io dependency.
    Path(PathBuf),
    /// A git repository of the crate (`{ git = "<url>" }`, its default
    /// branch): what a module built from a checkout depends on by default.
    Git(String),
}

impl Dependency {
    /// This crate's version on crates.io.
    pub fn this_version() -> Self {
        Dependency::Registry(env!("CARGO_PKG_VERSION").into())
    }

    /// This crate's git repository (the `repository` of its `Cargo.toml`).
    pub fn this_repository() -> Self {
        Dependency::Git(env!("CARGO_PKG_REPOSITORY").into())
    }

    /// The crate this code was built from: its git repository, when it was
    /// built from a checkout (the crate is not on crates.io yet); its
    /// version on crates.io when it was built from a published package
    /// (`cargo install sekoia-automation`), which holds a
    /// `Cargo.toml.orig` that a checkout never has. A module that should
    /// build against a local checkout says so ([`Dependency::Path`],
    /// `new-module --sekoia-automation-path`).
    ///
    /// ```
    /// use sekoia_automation::unversioned::scaffold::Dependency;
    /// match Dependency::this_build() {
    ///     Dependency::Git(url) => assert!(url.starts_with("https://")),
    ///     Dependency::Registry(version) => assert_eq!(version, env!("CARGO_PKG_VERSION")),
    ///     Dependency::Path(_) => unreachable!("never an absolute path by default"),
    /// }
    /// ```
    pub fn this_build() -> Self {
        Self::for_source(Path::new(env!("CARGO_MANIFEST_DIR")))
    }

    fn for_source(directory: &Path) -> Self {
        let checkout =
            directory.join("Cargo.toml").is_file() && !directory.join("Cargo.toml.orig").exists();
        if checkout {
            Self::this_repository()
        } else {
            Self::this_version()
        }
    }

    /// The TOML of the dependency, for a module in `module`.
    pub(crate) fn toml(&self, module: &Path) -> String {
        match self {
            Dependency::Registry(version) => format!("{{ version = {} }}", toml_string(version)),
            Dependency::Path(path) => {
                let relative = relative_path(module, path);
                format!(
                    "{{ path = {} }}",
                    toml_string(&relative.to_string_lossy().replace('\\', "/"))
                )
            }
            Dependency::Git(url) => format!("{{ git = {} }}", toml_string(url)),
        }
    }
}

/// `to` relative to the directory `from` (both made absolute first).
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    // Absolute, with `.` and `..` resolved by their names (`../module` from
    // a checkout names the checkout's sibling).
    let absolute = |path: &Path| {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut resolved = PathBuf::new();
        for component in path.components() {
            match component {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    resolved.pop();
                }
                other => resolved.push(other),
            }
        }
        resolved
    };
    let (from, to) = (absolute(from), absolute(to));
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for component in &to[common..] {
        relative.push(component);
    }
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    relative
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
    /// A module named `name` in `directory`, depending on the crate this
    /// code was built from ([`Dependency::this_build`]).
    pub fn new(directory: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        NewModule {
            directory: directory.into(),
            name: name.into(),
            description: String::new(),
            slug: None,
            dependency: Dependency::this_build(),
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
    generate::slug(name)
}

/// The slug for a module name: as [`crate_name`] (the Python SDK's
/// template lower-cases and replaces spaces by `-`), so that it matches the
/// platform's slug rule.
pub fn slug(name: &str) -> String {
    generate::slug(name)
}

pub(crate) fn toml_string(text: &str) -> String {
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

pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
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
        ("dependency", &module.dependency.toml(directory)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_is_a_git_dependency_and_a_published_package_a_version() {
        let checkout = tempfile::tempdir().unwrap();
        std::fs::write(checkout.path().join("Cargo.toml"), "[package]\n").unwrap();
        assert_eq!(
            Dependency::for_source(checkout.path()),
            Dependency::Git(env!("CARGO_PKG_REPOSITORY").into())
        );

        let package = tempfile::tempdir().unwrap();
        std::fs::write(package.path().join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(package.path().join("Cargo.toml.orig"), "[package]\n").unwrap();
        assert_eq!(
            Dependency::for_source(package.path()),
            Dependency::Registry(env!("CARGO_PKG_VERSION").into())
        );

        let gone = checkout.path().join("moved-away");
        assert_eq!(
            Dependency::for_source(&gone),
            Dependency::Registry(env!("CARGO_PKG_VERSION").into())
        );
    }

    #[test]
    fn the_dependency_is_written_as_toml_with_no_absolute_path() {
        let module = Path::new("/work/modules/acme");
        assert_eq!(
            Dependency::Path(PathBuf::from("/work/src/a \"b\"")).toml(module),
            r#"{ path = "../../src/a \"b\"" }"#
        );
        assert_eq!(
            Dependency::Path(PathBuf::from("/work/modules/acme/vendor/sa")).toml(module),
            r#"{ path = "vendor/sa" }"#
        );
        assert_eq!(
            Dependency::Registry("0.1.0".into()).toml(module),
            r#"{ version = "0.1.0" }"#
        );
        assert_eq!(
            Dependency::Git("https://example.com/sa".into()).toml(module),
            r#"{ git = "https://example.com/sa" }"#
        );
    }

    #[test]
    fn dot_and_dot_dot_are_resolved_by_name() {
        // `new-module ../my-module --sekoia-automation-path .` from a checkout.
        assert_eq!(
            relative_path(
                Path::new("/w/checkout/../my-module"),
                Path::new("/w/checkout/.")
            ),
            PathBuf::from("../checkout")
        );
        assert_eq!(
            relative_path(Path::new("/w/a/./b/../m"), Path::new("/w/a")),
            PathBuf::from("..")
        );
    }
}
