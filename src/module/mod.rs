//! [`Module`]: the builder a module's `main` goes through, its states as types.
//!
//! ```text
//! Module::<Config>::new()          Module<Config, Configured>   settings may change
//!     .register("cmd", Item)       Module<Config, Registered>   more items may be registered
//!     .run()                       ExitCode                     the item selected by argv[1] runs
//! ```
//!
//! Misuse does not compile: `run` on a module without items, registering an
//! item written for another configuration type, or changing the settings once
//! an item is registered.

use std::marker::PhantomData;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::action::validator::AccountValidator;
use crate::config::settings::Settings;
use crate::item::registration::{Item, Registration};
use crate::runtime::environment::Environment;

/// The state before any item is registered: settings can still change.
#[derive(Debug)]
pub enum Configured {}

/// The state once at least one item is registered: the module can run.
#[derive(Debug)]
pub enum Registered {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Configured {}
    impl Sealed for super::Registered {}
}

/// A state of [`Module`]: [`Configured`] or [`Registered`]. Sealed.
pub trait ModuleState: sealed::Sealed {}
impl ModuleState for Configured {}
impl ModuleState for Registered {}

/// States in which a module can run: it has items.
#[diagnostic::on_unimplemented(
    message = "this module has no registered item yet, so it cannot run",
    label = "`run` needs at least one item",
    note = "register an item first: `Module::<Config>::new().register(\"command\", MyAction).run()`"
)]
pub trait CanRun: ModuleState {}
impl CanRun for Registered {}

/// States in which the settings can change: before the first item.
#[diagnostic::on_unimplemented(
    message = "the module's settings are fixed once an item is registered",
    label = "this setting comes after `.register(...)`",
    note = "set the configuration root, data directory, manifest path and retry backoff before the first `.register(...)`"
)]
pub trait CanConfigure: ModuleState {}
impl CanConfigure for Configured {}

/// A module: a set of items sharing one binary, selected by `argv[1]`.
///
/// `C` is the module configuration type (secrets as
/// [`Secret`](crate::Secret) fields; `()` when the module has none). See the
/// [`typestate`](crate::typestate) module for the states.
///
/// ```
/// use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
///
/// struct Ping;
/// impl Action for Ping {
///     type ModuleConfiguration = ();
///     type Arguments = serde_json::Value;
///     type Results = serde_json::Value;
///     const NAME: &'static str = "Ping";
///     const DESCRIPTION: &'static str = "Answer pong";
///     fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Result<Outcome<serde_json::Value>, ActionError> {
///         Ok(Outcome::success(serde_json::json!({"answer": "pong"})))
///     }
/// }
///
/// let module = Module::<()>::new()
///     .configuration_root("/tmp/symphony")
///     .register("ping", Ping);
/// assert_eq!(module.commands().collect::<Vec<_>>(), ["ping"]);
/// // fn main() -> ExitCode { module.run() }
/// ```
///
/// # Thread safety
///
/// A module is `Send`: it can be built on one thread and run on another
/// (a test that runs a trigger on its own thread builds the module there or
/// moves it). For that, every item is `Send` (the [`Action`](crate::Action),
/// [`Trigger`](crate::Trigger), [`Connector`](crate::Connector) and
/// [`AssetConnector`](crate::asset::AssetConnector) traits require it) and
/// every configuration type is `Send + Sync`, which serde data types are
/// unless they hold a `Cell` or an `Rc`. It is not `Sync`: nothing in it is
/// meant to be shared, [`run`](Module::run) takes it by value.
///
/// While an item runs, its context (`&ActionContext`, `&TriggerContext`,
/// `&ConnectorContext`, `&AssetConnectorContext`) is `Send + Sync`: the item
/// may hand it to worker threads ([`std::thread::scope`]).
pub struct Module<C, S: ModuleState = Configured> {
    settings: Settings,
    items: Vec<Registration<C>>,
    problems: Vec<String>,
    state: PhantomData<S>,
}

impl<C, S: ModuleState> std::fmt::Debug for Module<C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("configuration", &std::any::type_name::<C>())
            .field("state", &std::any::type_name::<S>())
            .field("settings", &self.settings)
            .field("items", &self.items)
            .finish()
    }
}

impl<C> Module<C, Configured>
where
    C: DeserializeOwned + JsonSchema + 'static,
{
    /// A module with the platform's settings, overridden by the
    /// `SEKOIA_AUTOMATION_*` environment variables ([`Settings::from_env`]).
    pub fn new() -> Self {
        Self::with_settings(Settings::from_env())
    }

    /// A module with these settings.
    pub fn with_settings(settings: Settings) -> Self {
        Module {
            settings,
            items: Vec::new(),
            problems: Vec::new(),
            state: PhantomData,
        }
    }
}

impl<C> Default for Module<C, Configured>
where
    C: DeserializeOwned + JsonSchema + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<C, S: ModuleState> Module<C, S> {
    /// Registers an item under a command (`argv[1]`); the empty command runs
    /// when no argument is given.
    pub fn register<I, Kind>(self, command: &str, item: I) -> Module<C, Registered>
    where
        I: Item<C, Kind>,
    {
        let registration = item.into_registration(command);
        self.push(registration)
    }

    /// Registers the account validator, under `validate_module_configuration`.
    pub fn register_account_validator<V>(self, validator: V) -> Module<C, Registered>
    where
        V: AccountValidator<ModuleConfiguration = C>,
        C: 'static,
    {
        self.push(Registration::validator(validator))
    }

    fn push(mut self, registration: Registration<C>) -> Module<C, Registered> {
        if crate::tooling::is_reserved(registration.command()) {
            self.problems.push(format!(
                "the command `{}` is reserved for the module tooling ({}): register the item under another command",
                registration.command(),
                crate::tooling::RESERVED_COMMANDS.join(", ")
            ));
        }
        if self
            .items
            .iter()
            .any(|item| item.command() == registration.command())
        {
            self.problems.push(format!(
                "the command `{}` is registered twice: give each item its own command",
                registration.command()
            ));
        }
        self.items.push(registration);
        Module {
            settings: self.settings,
            items: self.items,
            problems: self.problems,
            state: PhantomData,
        }
    }

    /// The settings the module runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The registered commands, in registration order.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(Registration::command)
    }

    /// The registered items, for the tooling (`unversioned::ModuleItems`).
    /// Outside the semver promise, as the `unversioned` types it returns:
    /// module code never needs it.
    #[doc(hidden)]
    pub fn items(&self) -> &[Registration<C>] {
        &self.items
    }

    /// Replaces all the settings.
    pub fn settings_from(mut self, settings: Settings) -> Self
    where
        S: CanConfigure,
    {
        self.settings = settings;
        self
    }

    /// Sets the configuration root (default `/symphony`).
    pub fn configuration_root(mut self, path: impl Into<PathBuf>) -> Self
    where
        S: CanConfigure,
    {
        self.settings.configuration_root = path.into();
        self
    }

    /// Sets the data directory (default `/symphony_data`).
    pub fn data_directory(mut self, path: impl Into<PathBuf>) -> Self
    where
        S: CanConfigure,
    {
        self.settings.data_directory = path.into();
        self
    }

    /// Sets the path of `manifest.json` (default: in the working directory).
    pub fn manifest_path(mut self, path: impl Into<PathBuf>) -> Self
    where
        S: CanConfigure,
    {
        self.settings.manifest_path = path.into();
        self
    }

    /// Compiles `manifest.json` into the binary: used when there is no file
    /// at the manifest path, so that an image holding only the binary still
    /// knows the module's secrets. Pass `include_str!("../manifest.json")`.
    pub fn embedded_manifest(mut self, text: &'static str) -> Self
    where
        S: CanConfigure,
    {
        self.settings.embedded_manifest = Some(text);
        self
    }

    /// Sets the retry backoff unit (default 1 s: waits of 2, 4, 8... s).
    pub fn retry_backoff(mut self, unit: Duration) -> Self
    where
        S: CanConfigure,
    {
        self.settings.retry_backoff = unit;
        self
    }

    /// Runs the item selected by `argv[1]` (the empty command when absent)
    /// and returns the process exit code: success when the item reported to
    /// the platform.
    pub fn run(self) -> ExitCode
    where
        S: CanRun,
    {
        crate::trigger::stop_grace::own_process();
        let mut arguments = Vec::new();
        for (position, argument) in std::env::args_os().enumerate().skip(1) {
            match argument.into_string() {
                Ok(argument) => arguments.push(argument),
                Err(argument) => {
                    eprintln!(
                        "error: the command-line argument {position} ({}) is not valid UTF-8: give the item's command and options in UTF-8",
                        argument.to_string_lossy()
                    );
                    return ExitCode::from(2);
                }
            }
        }
        let mut arguments = arguments.into_iter();
        let command = arguments.next().unwrap_or_default();
        self.run_invocation(&command, arguments.collect())
    }

    /// Runs the item registered under `command`, as if it were `argv[1]`
    /// (a [reserved invocation](crate#the-module-binary) runs with no argument).
    /// An unknown command is reported on stderr, listing the known ones, and
    /// fails with exit code 1, as the Python SDK's `CommandNotFoundError`
    /// ends its process.
    pub fn run_command(self, command: &str) -> ExitCode
    where
        S: CanRun,
    {
        self.run_invocation(command, Vec::new())
    }

    /// Runs `command` with the command-line arguments that follow it: one of
    /// the [reserved invocations](crate#the-module-binary) (`generate-files`,
    /// `check-module`, `run-local`...), or the item registered under it
    /// (which ignores the arguments).
    pub fn run_invocation(mut self, command: &str, arguments: Vec<String>) -> ExitCode
    where
        S: CanRun,
    {
        crate::wire::logging::install();
        if !self.problems.is_empty() {
            for problem in &self.problems {
                eprintln!("error: {problem}");
            }
            return ExitCode::from(2);
        }
        if let Some(code) = crate::tooling::help_request(command, &self.items) {
            return code;
        }
        if let Some(code) =
            crate::tooling::dispatch(command, &arguments, &self.settings, &self.items)
        {
            return code;
        }
        let Some(position) = self.items.iter().position(|item| item.command() == command) else {
            crate::runtime::sentry::report_unknown_command(&self.settings, command);
            let known: Vec<String> = self.commands().map(|c| format!("`{c}`")).collect();
            eprintln!(
                "error: unknown command `{command}`: this module knows {}. Give one of them as the first argument (`--help` lists them with the tooling)",
                known.join(", ")
            );
            return ExitCode::FAILURE;
        };
        let item = self.items.swap_remove(position);
        item.execute(&Environment::new(self.settings))
    }
}
