//! Write [Sekoia.io](https://www.sekoia.io) playbook modules in Rust.
//!
//! A module is one binary holding **actions** (short programs that read
//! arguments, do one job and report an [`Outcome`]), **triggers**
//! (long-running watchers that send events which start playbook runs, see
//! [`Trigger`]) and **connectors** (collectors pushing events to a
//! Sekoia.io intake, checkpointed, see [`Connector`]). On the wire it is a drop-in
//! replacement for a module written with the Python SDK: same inputs
//! (`/symphony` files, environment fallback, `argv[1]`), same requests, same
//! bodies.
//!
//! # Architecture
//!
//! The module tree is the design: one folder per concern, one concept per
//! file, and this page re-exports what a module author names.
//!
//! - `module/`: the [`Module`] builder and its [`typestate`] (configured →
//!   registered → running).
//! - `item/`: how items are registered (type-erased) and the manifests that
//!   describe them in the platform's shape.
//! - `config/` ([protocol §1](crate::protocol#1-inputs)): settings, the `/symphony` file / environment
//!   source, `manifest.json`, [`Secret`].
//! - `runtime/`: what every item kind runs in (configuration loading, the
//!   secrets, the platform client).
//! - `action/`: [`Action`], [`ActionContext`], [`Outcome`],
//!   [`AccountValidator`] and the action runner ([protocol §3](crate::protocol#3-actions)).
//! - `trigger/` ([protocol §4](crate::protocol#4-triggers)): [`Trigger`], [`TriggerContext`], the runner
//!   (start, run loop, critical rule), event sending, log shipping, the
//!   `/health` and metrics listener, the stop signal, the clock.
//! - `connector/` (PROTOCOL-connectors §1–3): [`Connector`],
//!   [`ConnectorContext`], the default polling loop, `push_events` (event
//!   encoding, chunking, 4 senders, retries, the per-event [`PushReport`]
//!   and [`Acknowledgement`]), the checkpoints ([`CheckpointDatetime`],
//!   [`CheckpointTimestamp`], [`CheckpointCursor`]) in one shared
//!   [`ContextFile`], and the [`MetricsRegistry`](metrics::MetricsRegistry).
//! - [`asset`] (protocol §8): asset connectors ([`AssetConnector`](asset::AssetConnector)),
//!   their push to the asset-management API, and the OCSF models.
//! - `storage/`: [`DataDirectory`] and [`PersistentJson`].
//! - `wire/` ([protocol §2](crate::protocol#2-requests-to-the-platform)): the HTTP client and its one retry loop (the ureq
//!   agent; the events' keep-alive connection, same deadline rules), every
//!   body the module sends, Python-exact JSON, timestamps, redaction.
//! - [`vendor`]: the client a module uses toward its vendor's API (rate
//!   limits, urllib3-style retries, `Retry-After`, authentication, deadline,
//!   pagination, exact JSON) and [`Api`](vendor::Api), the Python SDK's
//!   `GenericAPIAction` (one value per action).
//! - `tooling/`: the reserved invocations every module binary answers
//!   (`generate-files`, `check-module`, `run-local`,
//!   `generate-documentation`), the manifests they write ([`Identity`]: the
//!   uuid, slug and file an existing item keeps; [`Documented`]: a value
//!   whose schema the manifest documents by hand; existing manifests
//!   rewritten in their own style, only what changed) and the
//!   `sekoia-automation` command's scaffold; reachable through
//!   [`unversioned`], outside the semver promise.
//! - [`testing`]: the embedded local platform, [`Sandbox`](testing::Sandbox)
//!   and the manual clock, for module tests.
//! - [`protocol`]: the wire protocol all of it implements, cited as
//!   "protocol §N" (the repository's `docs/protocol.md`).
//!
//! The folders form layers without loops: `config/` and `storage/` at the
//! bottom, then `wire/`, `runtime/`, `action/` and `trigger/`, `item/`,
//! `tooling/` and `module/` on top.
//! Porting a module from the Python SDK: `docs/migrating.md`.
//!
//! # Errors
//!
//! Error messages say what was wrong, with which file, key or URL, and what
//! to do. They are reported as one line (to the platform, on stderr), so
//! each error prints its cause in its message and does not also return it
//! from `source()`: a reporter that prints the chain never prints a cause
//! twice. The cause is kept typed (`cause` fields: `std::io::Error`,
//! `serde_json::Error`, [`HttpError`]...); where a field holds text instead,
//! the text is composed by the crate or scrubbed of secrets (a serde message
//! may quote a secret value).
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
// Documented exceptions, each a libc call std has no safe form of:
// `run-local` sends SIGTERM to the item it runs (kill(2); std can only
// SIGKILL a child); a trigger keeps SIGTERM and SIGINT off its own thread
// (pthread_sigmask(3): a signal there would cut its socket reads short);
// a `PersistentJson` save locks its temporary file (flock(2): the next open
// tells an abandoned one from a save in progress).
#![deny(unsafe_code)]

mod action;
mod config;
mod connector;
mod item;
mod module;
mod runtime;
mod storage;
mod tooling;
mod trigger;
mod wire;

pub mod vendor;

pub mod asset;

pub mod testing;

/// Metrics a module registers beside the connector metrics of the SDK,
/// served in the same Prometheus exposition on `metrics_port`
/// ([`ConnectorContext::metrics`]). A name the SDK also uses is shared, not
/// refused: registering it disables nothing.
pub mod metrics {
    pub use crate::connector::{
        Counter, Gauge, Histogram, MetricConflict, MetricKind, MetricsRegistry,
    };
}

/// The wire protocol between a module and the platform, as this crate
/// implements it.
#[doc = include_str!("../docs/protocol.md")]
pub mod protocol {}

pub use action::outcome::Outcome;
pub use action::validator::{AccountValidator, NotValid, ValidationError};
pub use action::{Action, ActionContext, ArgumentError};
pub use config::documented::Documented;
pub use config::identity::Identity;
pub use config::secret::Secret;
pub use config::settings::Settings;
pub use config::source::ConfigurationError;
pub use connector::{
    Acknowledgement, Acknowledges, CheckpointCursor, CheckpointDatetime, CheckpointError,
    CheckpointTimestamp, Connector, ConnectorContext, ConnectorOptions, ContextFile, EventError,
    EventOutcome, EventWriter, IntakeEvent, IntakeId, JsonEvent, Page, PushCounts, PushError,
    PushReport, Refusal, TimeStepper, TimeUnit, TimeWindow, TimeWindows,
};
pub use module::Module;
pub use storage::data_directory::{DataDirectory, StorageError};
pub use storage::persistent_json::PersistentJson;
pub use trigger::context::TriggerContext;
pub use trigger::stop_signal::StopSignal;
pub use trigger::{FailureKind, SendEventError, Trigger, TriggerError, TriggerOptions};
pub use wire::http::HttpError;
pub use wire::logging::{Level, LogRecord};
pub use wire::timestamp::Timestamp;

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
/// use sekoia_automation::{Action, ActionContext, Module, Outcome};
///
/// struct Ping;
/// impl Action for Ping {
///     type ModuleConfiguration = ();
///     type Arguments = serde_json::Value;
///     type Results = serde_json::Value;
///     const NAME: &'static str = "Ping";
///     const DESCRIPTION: &'static str = "Answer pong";
///     fn run(&self, _: &ActionContext<'_, ()>, _: serde_json::Value) -> Outcome<serde_json::Value> {
///         Outcome::none()
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
    /// `new-module`.
    #[cfg(feature = "cli")]
    pub mod scaffold {
        pub use crate::tooling::scaffold::*;
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
