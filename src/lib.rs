//! Write [Sekoia.io](https://www.sekoia.io) playbook modules in Rust:
//! actions, triggers and connectors in one binary, a drop-in replacement on
//! the wire for a module written with the Python SDK 1.27.
//!
//! ```no_run
//! use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome, Secret};
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
//!     fn run(&self, _ctx: &ActionContext<'_, Config>, args: Arguments) -> Result<Outcome<Greeting>, ActionError> {
//!         Ok(Outcome::success(Greeting { message: format!("Hello {}", args.name) }))
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Module::<Config>::new().register("greet", Greet).run()
//! }
//! ```
//!
//! # The module binary
//!
//! `argv[1]` selects the item, as the platform runs the container
//! (`my-module greet`). The same binary answers the reserved invocations
//! `generate-files` (the manifests, from the types), `check-module`,
//! `run-local` (one item against an embedded platform) and
//! `generate-documentation`; `my-module --help` lists them with the items.
//!
//! # What an author uses
//!
//! At the root, what every module names:
//!
//! - [`Module`]: the builder, `new()` → `register(...)` → `run()`; its
//!   states in [`typestate`], checked at compile time.
//! - Actions: [`Action`], [`ActionContext`], [`Outcome`], [`ActionError`].
//! - Triggers: [`Trigger`], [`TriggerContext`], [`TriggerError`].
//! - Connectors: [`Connector`] (or [`PollingConnector`] and its [`Page`]),
//!   [`ConnectorContext`], [`JsonEvent`], and what a push gives:
//!   [`Acknowledgement`] or [`PushError`].
//! - [`Secret`] for the configuration's secret fields, [`Level`] for logs.
//!
//! The rest, by concern:
//!
//! - [`action`]: account validators ([`AccountValidator`](action::AccountValidator)),
//!   argument errors, the records of an action's logs.
//! - [`trigger`]: a trigger's runtime options ([`TriggerOptions`](trigger::TriggerOptions)),
//!   why an event was not sent, the stop signal, the clock.
//! - [`connector`]: checkpoints, writing events, the per-event report,
//!   the time stepper, options, [`Timestamp`](connector::Timestamp).
//! - [`asset`]: asset connectors and the OCSF models they push.
//! - [`config`]: [`Settings`](config::Settings) (where the module's files
//!   are), manifest identities, hand-documented schemas.
//! - [`storage`]: the [`DataDirectory`](storage::DataDirectory) and
//!   [`PersistentJson`](storage::PersistentJson) state, on the local disk
//!   or S3 as the platform's `file_backend` says.
//! - [`vendor`]: the HTTP client toward the vendor's API, and
//!   [`Api`](vendor::Api) for the Python SDK's `GenericAPIAction`.
//! - [`testing`]: the local platform on 127.0.0.1 and
//!   [`Sandbox`](testing::Sandbox), for a module's own tests.
//! - [`metrics`]: a module's own Prometheus metrics.
//! - [`protocol`]: the wire protocol the crate implements, cited as
//!   "protocol §N".
//!
//! Guides, in the repository: the
//! [README](https://github.com/SEKOIA-IO/sekoia-automation-rs#readme)
//! (your first module), [porting a Python
//! module](https://github.com/SEKOIA-IO/sekoia-automation-rs/blob/main/docs/migrating.md),
//! and for contributors the
//! [architecture](https://github.com/SEKOIA-IO/sekoia-automation-rs/blob/main/ARCHITECTURE.md).
//!
//! # Errors
//!
//! An error says what was wrong, with which file, key or URL, and what to
//! do, in one line: its `Display` holds its cause, so `source()` does not
//! return it again (a reporter printing the chain never prints a cause
//! twice), and no secret is ever in its text. Error enums and their
//! variants with fields are `#[non_exhaustive]`: match them with a `_` arm
//! and `..`, so that a new variant or field is not a breaking change.
//!
//! Causes are reached by type, not by text: a variant holds its cause as a
//! typed field (`StorageError::Io { cause, .. }`, `SendEventError::Http {
//! cause, .. }`), and where a system error can be behind a failure,
//! `io_error()` returns it ([`TriggerError::io_error`],
//! [`SendEventError::io_error`](trigger::SendEventError::io_error),
//! [`HttpError::io_error`](trigger::HttpError::io_error),
//! [`vendor::VendorError::io_error`], [`vendor::TransportError::io_error`])
//! so that its `kind()` is read directly. [`TriggerError`], what `run`
//! returns, takes any error with `?`, gives it back with
//! [`downcast_ref`](TriggerError::downcast_ref), and converts into
//! `Box<dyn Error + Send + Sync>`; like `anyhow::Error`, it does not
//! implement `Error` itself (that would conflict with taking any error).
//!
//! # Threads
//!
//! Every context ([`ActionContext`], [`TriggerContext`],
//! [`ConnectorContext`], the asset connector's) is `Send + Sync`: the
//! workers of a `std::thread::scope` share `&ctx` to send events, push,
//! log with `ctx.log` and check the stop. Items are `Send`, their
//! configurations `Send + Sync`; a [`Module`] is `Send`. The `log` crate's
//! macros reach the platform from the item's own thread only. Each type
//! says so in its "Thread safety" paragraph.
//!
//! # Public dependencies
//!
//! Types of four crates appear in this crate's API, so their major
//! versions are part of it (a new major version of one of them is a new
//! major version of this crate): [`serde`] (the traits a configuration,
//! arguments, results and events derive), [`serde_json`] (`Value`, `Map`,
//! the JSON of arguments and results), [`schemars`] (`JsonSchema`, the
//! manifests' schemas) and [`log`] ([`Level`] converts from `log::Level`;
//! the `log` macros of a module reach its logs). `serde_json` and
//! `schemars` are re-exported at the root so that a module can name the
//! versions this crate uses (`sekoia_automation::serde_json::Value`). No
//! other dependency's type is in a stable signature: the HTTP client, TLS,
//! signals, UUIDs and hashing stay behind this crate's own types.

#![warn(missing_docs)]
// Documented exceptions, each a libc call std has no safe form of:
// `run-local` sends SIGTERM to the item it runs (kill(2); std can only
// SIGKILL a child); a trigger keeps SIGTERM and SIGINT off its own thread
// (pthread_sigmask(3): a signal there would cut its socket reads short).
#![deny(unsafe_code)]

pub mod action;
pub mod config;
pub mod connector;
mod item;
mod module;
mod runtime;
pub mod storage;
mod tooling;
pub mod trigger;
mod wire;

// The folder is `vendor_api/`: tools and code hosts take a `vendor/`
// folder for third-party code (hidden from diffs and statistics).
#[path = "vendor_api/mod.rs"]
pub mod vendor;

pub mod asset;

pub mod testing;

/// Metrics a module registers beside the connector metrics of the SDK,
/// served in the same Prometheus exposition on `metrics_port`
/// ([`ConnectorContext::metrics`]). A name the SDK also uses is shared, not
/// refused: registering it disables nothing.
///
/// ```
/// use sekoia_automation::metrics::{MetricConflict, MetricsRegistry};
///
/// let registry = MetricsRegistry::global();
/// let fetched = registry.counter("mymodule_alerts_fetched", "Alerts fetched", &["tenant"])?;
/// let backlog = registry.gauge("mymodule_backlog", "Alerts waiting", &[])?;
/// fetched.inc_by(&["acme"], 3.0);
/// backlog.set(&[], 12.0);
/// assert_eq!(fetched.get(&["acme"]), 3.0);
/// // The same name with another type is refused; the first keeps working.
/// assert!(registry.gauge("mymodule_alerts_fetched", "", &[]).is_err());
/// # Ok::<(), MetricConflict>(())
/// ```
pub mod metrics {
    pub use crate::connector::registry::{
        Counter, Gauge, Histogram, MetricConflict, MetricKind, MetricsRegistry,
    };
}

/// The wire protocol between a module and the platform, as this crate
/// implements it.
#[doc = include_str!("../docs/protocol.md")]
pub mod protocol {}

#[doc(inline)]
pub use action::{Action, ActionContext, ActionError, Outcome};
#[doc(inline)]
pub use config::Secret;
#[doc(inline)]
pub use connector::{
    Acknowledgement, Connector, ConnectorContext, JsonEvent, Page, PollingConnector, PushError,
};
pub use module::Module;
#[doc(inline)]
pub use trigger::{Trigger, TriggerContext, TriggerError};
pub use wire::logging::Level;

#[doc(no_inline)]
pub use schemars;
#[doc(no_inline)]
pub use serde_json;

/// The builder's states and the traits that tie them together: what a
/// [`Module`] can do depends on its state, checked at compile time.
///
/// ```text
/// Module::<Config>::new()          Module<Config, Configured>   settings may change
///     .register("cmd", Item)       Module<Config, Registered>   more items may be registered
///     .run()                       ExitCode                     the item selected by argv[1] runs
/// ```
///
/// Misuse does not compile, and the compiler says why in a sentence: `run`
/// on a module without items ([`CanRun`](typestate::CanRun)), changing the settings once an
/// item is registered ([`CanConfigure`](typestate::CanConfigure)), registering an item written for
/// another configuration type ([`Item`](typestate::Item), [`SameAs`](typestate::SameAs)). A function that
/// returns a module ready to run names its state:
///
/// ```
/// use sekoia_automation::typestate::Registered;
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
///         Ok(Outcome::none())
///     }
/// }
///
/// fn module() -> Module<(), Registered> {
///     Module::<()>::new().register("ping", Ping)
/// }
/// # let _ = module();
/// ```
pub mod typestate {
    pub use crate::item::registration::{
        ActionKind, ApiKind, AssetConnectorKind, ConnectorKind, Item, SameAs, TriggerKind,
        ValidatorKind,
    };
    pub use crate::module::{CanConfigure, CanRun, Configured, ModuleState, Registered};
}

/// Entry points of the `sekoia-automation` command and of the benches.
///
/// **Outside the semver promise**: anything here may change or go in any
/// release. Module code never needs it.
#[doc(hidden)]
pub mod unversioned {
    pub use crate::item::registration::{ItemKind, Registration};
    pub use crate::tooling::{ModuleItems, RESERVED_COMMANDS, is_reserved};

    /// `check-module`.
    pub mod check {
        pub use crate::tooling::check::*;
    }
    /// `generate-files`.
    pub mod generate {
        pub use crate::tooling::generate::*;
    }
    /// Manifest kinds and schemas in the platform's (pydantic's) shape.
    pub mod item_manifest {
        pub use crate::item::manifest::*;
    }
    /// `generate-documentation`.
    pub mod documentation {
        pub use crate::tooling::documentation::*;
    }
    /// `compare`: a Python module and its port on the same scenarios.
    #[cfg(feature = "cli")]
    pub mod compare {
        pub use crate::tooling::compare::*;
    }
    /// `new-module`.
    #[cfg(feature = "cli")]
    pub mod scaffold {
        pub use crate::tooling::scaffold::*;
    }
    /// The S3 file backend behind the data directory, chosen by the
    /// platform's `file_backend` (a module never picks it): the client, its
    /// configuration keys and the object keys of the data directory's files.
    ///
    #[doc = include_str!("../docs/storage.md")]
    pub mod s3 {
        pub use crate::storage::s3::*;
    }
    /// `port`: a module crate from a Python module.
    #[cfg(feature = "cli")]
    pub mod port {
        pub use crate::tooling::port::*;
    }
    /// Internals measured by the benches.
    pub mod wire {
        pub use crate::trigger::context::event_body;
        pub use crate::trigger::event_sender::EventSender;
        pub use crate::wire::http::{Method, PlatformClient, Request};
        pub use crate::wire::report::ActionReport;
    }
}

/// The README's examples, compiled as doc-tests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
