//! Write [Sekoia.io](https://www.sekoia.io) playbook modules in Rust.
//!
//! A module is one binary holding **actions** (short programs that read
//! arguments, do one job and report an [`Outcome`]), **triggers**
//! (long-running watchers that send events which start playbook runs, see
//! [`Trigger`]) and, later, connectors. On the wire it is a drop-in
//! replacement for a module written with the Python SDK: same inputs
//! (`/symphony` files, environment fallback, `argv[1]`), same requests, same
//! bodies.
//!
//! # Architecture
//!
//! - Inputs: [`settings`] (where things are), [`configuration`] (the
//!   `/symphony` file / environment source), [`manifest`] (`manifest.json`),
//!   [`secret`] ([`Secret`] fields of typed configurations).
//! - Items: [`action`] ([`Action`], [`ActionContext`]), [`outcome`]
//!   ([`Outcome`]), [`validator`] ([`AccountValidator`]), [`item`] (how items
//!   are registered, type-erased).
//! - Triggers: [`trigger`] ([`Trigger`], [`TriggerError`]),
//!   [`trigger_context`] ([`TriggerContext`]), [`trigger_runner`] (start,
//!   run loop, critical rule), [`event_sender`] (events over a keep-alive
//!   connection, retried), [`log_shipper`] (batched, rate-limited logs
//!   with a background flusher), [`liveness`] (`/health`), [`metrics`]
//!   (Prometheus text), [`stop_signal`] (stop flag, interruptible sleep,
//!   SIGTERM/SIGINT), [`clock`] (injectable time).
//! - The builder: [`module`] ([`Module`] moving through [`Configured`] →
//!   [`Registered`] → running).
//! - The wire: [`http`] (the one agent, bearer token, retries),
//!   [`python_json`] (bodies byte-identical to the Python SDK's), [`report`]
//!   (the finished PATCH), [`logging`] (platform log records and the `log`
//!   crate bridge), [`redact`] (secrets kept out of logs and errors),
//!   [`timestamp`].
//! - Files: [`data_directory`] (paths that never escape it, `write`,
//!   temporary directories), [`persistent_json`] ([`PersistentJson`]).
//! - Testing: [`local_platform`] (an embedded Sekoia.io on 127.0.0.1 and a
//!   [`Sandbox`](local_platform::Sandbox) for module tests).
//! - Tooling: [`tooling`] (the reserved invocations every module binary
//!   answers), [`item_manifest`] (manifest kinds, schemas in the platform's
//!   shape), [`generate`] (`generate-files`), [`check`] (`check-module`),
//!   [`local_run`] (`run-local`), [`documentation`]
//!   (`generate-documentation`); `scaffold` and the `sekoia-automation`
//!   command behind the `cli` feature.
//!
//! # A module
//!
//! ```no_run
//! use sekoia_automation::{Action, ActionContext, Module, Outcome, Secret};
//! use serde::{Deserialize, Serialize};
//! use schemars::JsonSchema;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Config {
//!     api_key: Secret<String>,
//! }
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Arguments {
//!     name: String,
//! }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct Greeting {
//!     message: String,
//! }
//!
//! struct Greet;
//!
//! impl Action for Greet {
//!     type ModuleConfiguration = Config;
//!     type Arguments = Arguments;
//!     type Results = Greeting;
//!     const NAME: &'static str = "Greet";
//!     const DESCRIPTION: &'static str = "Say hello";
//!
//!     fn run(&self, _ctx: &ActionContext<'_, Config>, args: Arguments) -> Outcome<Greeting> {
//!         Outcome::success(Greeting { message: format!("Hello {}", args.name) })
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Module::<Config>::new().register("greet", Greet).run()
//! }
//! ```

#![warn(missing_docs)]

pub mod action;
pub mod check;
pub mod clock;
pub mod configuration;
pub mod connector;
pub mod data_directory;
pub mod documentation;
pub mod event_sender;
pub mod generate;
pub mod http;
pub mod item;
pub mod item_manifest;
pub mod liveness;
pub mod local_platform;
pub mod local_run;
pub mod log_shipper;
pub mod logging;
pub mod manifest;
pub mod metrics;
pub mod module;
pub mod outcome;
pub mod persistent_json;
pub mod python_json;
pub mod redact;
pub mod report;
#[cfg(feature = "cli")]
pub mod scaffold;
pub mod secret;
pub mod settings;
pub mod stop_signal;
pub mod timestamp;
pub mod tooling;
pub mod trigger;
pub mod trigger_context;
pub mod trigger_runner;
pub mod validator;

mod action_runner;
mod environment;

pub use action::{Action, ActionContext};
pub use configuration::{ConfigurationError, ConfigurationSource};
pub use connector::{Acknowledgement, Connector, ConnectorContext, PushError};
pub use data_directory::{DataDirectory, StorageError};
pub use http::{HttpError, PlatformClient};
pub use logging::Level;
pub use manifest::Manifest;
pub use module::{Configured, Module, ModuleState, Registered};
pub use outcome::Outcome;
pub use persistent_json::PersistentJson;
pub use secret::Secret;
pub use settings::Settings;
pub use trigger::{Trigger, TriggerError};
pub use trigger_context::TriggerContext;
pub use validator::AccountValidator;

/// The README's examples, compiled as doc-tests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
