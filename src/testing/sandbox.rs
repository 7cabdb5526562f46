//! [`Sandbox`]: a throw-away module environment wired to a local platform.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use super::LocalPlatform;
use crate::config::Settings;
use crate::config::settings::{BACKOFF_VARIABLE, DATA_VARIABLE, MANIFEST_VARIABLE, ROOT_VARIABLE};

/// A temporary module environment for tests, removed when dropped.
///
/// [`Sandbox::new`] creates `<temp>/sekoia-sandbox-<uuid>/` holding:
/// - `symphony/`, the configuration root, with `token` and `url_callback`
///   pointing at the [`LocalPlatform`];
/// - `data/`, the data directory;
/// - `module/`, the module's working directory, with a minimal
///   `manifest.json` (no configuration properties, no secrets).
///
/// Run a module in it in-process with [`settings`](Sandbox::settings), or as a
/// child process with [`command`](Sandbox::command).
///
/// ```
/// use sekoia_automation::testing::{LocalPlatform, Sandbox};
/// use serde_json::json;
///
/// let platform = LocalPlatform::start()?;
/// let sandbox = Sandbox::new(&platform)?;
/// sandbox.set_json("arguments", &json!({"name": "world"}))?;
/// let token = std::fs::read_to_string(sandbox.configuration_root().join("token"))?;
/// assert_eq!(token, platform.token());
/// let settings = sandbox.settings();
/// assert_eq!(settings.data_directory(), sandbox.data_directory());
/// let root = sandbox.path().to_owned();
/// drop(sandbox);
/// assert!(!root.exists());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Sandbox {
    root: PathBuf,
    remove_on_drop: bool,
}

impl Sandbox {
    /// Creates the sandbox directories and files for `platform`.
    ///
    /// # Errors
    ///
    /// The I/O error of creating the temporary directory or writing its
    /// files (the configuration values, the manifest).
    pub fn new(platform: &LocalPlatform) -> io::Result<Sandbox> {
        let root = std::env::temp_dir().join(format!("sekoia-sandbox-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&root)?;
        // From here on, a failure removes what was created.
        let sandbox = Sandbox {
            root,
            remove_on_drop: true,
        };
        std::fs::create_dir(sandbox.configuration_root())?;
        std::fs::create_dir(sandbox.data_directory())?;
        std::fs::create_dir(sandbox.module_directory())?;
        sandbox.set("token", platform.token())?;
        sandbox.set("url_callback", &platform.callback_url())?;
        sandbox.set("intake_url", &platform.intake_url())?;
        sandbox.write_manifest(&json!({
            "name": "sandbox",
            "slug": "sandbox",
            "version": "0.1.0",
            "uuid": Uuid::new_v4().to_string(),
            "configuration": {
                "type": "object",
                "properties": {},
                "required": [],
                "secrets": [],
            },
        }))?;
        Ok(sandbox)
    }

    /// The sandbox's root directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The configuration root (`<root>/symphony`), holding one file per value.
    pub fn configuration_root(&self) -> PathBuf {
        self.root.join("symphony")
    }

    /// The data directory (`<root>/data`).
    pub fn data_directory(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The module directory (`<root>/module`): the working directory of child
    /// processes, holding `manifest.json`.
    pub fn module_directory(&self) -> PathBuf {
        self.root.join("module")
    }

    /// The manifest's path (`<root>/module/manifest.json`).
    pub fn manifest_path(&self) -> PathBuf {
        self.module_directory().join("manifest.json")
    }

    /// Writes the configuration value `name` (the file `symphony/<name>`)
    /// as-is, without a trailing newline.
    ///
    /// `name` must be a plain file name (no separator, not `.` or `..`),
    /// else the error is [`InvalidInput`](io::ErrorKind::InvalidInput).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a name that is
    /// not a plain file name; the I/O error of the write.
    pub fn set(&self, name: &str, value: &str) -> io::Result<()> {
        std::fs::write(self.value_path(name)?, value)
    }

    /// Writes the configuration value `name` as compact JSON.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub fn set_json(&self, name: &str, value: &Value) -> io::Result<()> {
        self.set(name, &value.to_string())
    }

    /// Removes the configuration value `name`; removing an absent value is
    /// not an error.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a name that is
    /// not a plain file name; the I/O error of the removal, other than
    /// `NotFound`.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        match std::fs::remove_file(self.value_path(name)?) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            result => result,
        }
    }

    /// Replaces `module/manifest.json` (written as pretty JSON).
    ///
    /// # Errors
    ///
    /// The I/O error of the write.
    pub fn write_manifest(&self, manifest: &Value) -> io::Result<()> {
        let text = serde_json::to_string_pretty(manifest).map_err(io::Error::other)?;
        std::fs::write(self.manifest_path(), text)
    }

    /// Settings pointing at the sandbox: its configuration root, data
    /// directory and manifest, with a 1 ms retry backoff so that retries do
    /// not slow tests down. Environment variables are not read.
    pub fn settings(&self) -> Settings {
        Settings::default()
            .with_configuration_root(self.configuration_root())
            .with_data_directory(self.data_directory())
            .with_manifest_path(self.manifest_path())
            .with_retry_backoff(Duration::from_millis(1))
    }

    /// A command running `program` in the module directory, with the
    /// `SEKOIA_AUTOMATION_ROOT`, `_DATA`, `_MANIFEST` variables pointing at
    /// the sandbox and `SEKOIA_AUTOMATION_BACKOFF_MS=1`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.module_directory())
            .env(ROOT_VARIABLE, self.configuration_root())
            .env(DATA_VARIABLE, self.data_directory())
            .env(MANIFEST_VARIABLE, self.manifest_path())
            .env(BACKOFF_VARIABLE, "1");
        command
    }

    /// Keeps the sandbox on disk (for debugging) and returns its root.
    pub fn keep(mut self) -> PathBuf {
        self.remove_on_drop = false;
        self.root.clone()
    }

    fn value_path(&self, name: &str) -> io::Result<PathBuf> {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['/', '\\'])
            && Path::new(name).file_name() == Some(OsStr::new(name));
        if plain {
            Ok(self.configuration_root().join(name))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a configuration value name"),
            ))
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !self.remove_on_drop {
            return;
        }
        if let Err(error) = std::fs::remove_dir_all(&self.root) {
            log::debug!("sandbox {} not removed: {error}", self.root.display());
        }
    }
}
