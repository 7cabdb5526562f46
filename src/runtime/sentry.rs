//! Errors reported to the platform's Sentry, as a Python module reports
//! them ([protocol §8](crate::protocol#8-sentry)).
//!
//! Nothing happens unless the platform gives a `sentry_dsn` (file or
//! `SENTRY_DSN`, read like every other value): then [`start`] reads it and
//! `environment`, starts the one sender thread
//! ([`Sender`]) and sets the tags every event carries. From then on:
//!
//! - a log at `warning`, `error` or `critical` is a message event at that
//!   level ([`capture_log`]): an action's logs, a trigger's logs once the
//!   log rate limit admitted them;
//! - an item's unexpected failure (an action's preparation error or panic,
//!   a trigger's failed run) is an exception event ([`capture_exception`]);
//!   a panic outside the runtime's catch is reported by the panic hook;
//! - an unknown command is a message event ([`report_unknown_command`]);
//! - the module and item configurations are the contexts
//!   `module_configuration` and `trigger_configuration` (or
//!   `connector_configuration`), every declared secret (and a connector's
//!   `intake_key`) replaced by `[REDACTED]` and every text scrubbed
//!   ([`set_configuration`]).
//!
//! Messages and exception texts are scrubbed of secret values as every
//! other output. Capturing never waits for the network: an event is queued
//! (or dropped when the queue is full) and the [`Session`] drains the queue
//! for at most [`SHUTDOWN_TIMEOUT`] when the item ends (a trigger drains it
//! by its stop grace's flush deadline instead, [`shutdown_by`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::config::settings::Settings;
use crate::item::registration::ItemKind;
use crate::runtime::environment::Environment;
use crate::wire::logging::{self, Level};
use crate::wire::redact;
use crate::wire::sentry::dsn::Dsn;
use crate::wire::sentry::envelope::{self, Payload, Scope};
use crate::wire::sentry::sender::Sender;

/// How long the end of an action (or an unknown command) waits for the
/// queued events, at most: the Python SDK's `shutdown_timeout`.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// The module name when the manifest has none, as the Python SDK says it.
const NAME_MISSING: &str = "name missing from manifest";

struct Hub {
    sender: Sender,
    scope: Scope,
    kind: Option<ItemKind>,
}

/// Whether a hub is set: checked without a lock by every capture.
static ENABLED: AtomicBool = AtomicBool::new(false);
static HUB: Mutex<Option<Hub>> = Mutex::new(None);

fn hub() -> MutexGuard<'static, Option<Hub>> {
    HUB.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reporting for one item run: dropping it sends what is queued, for at
/// most [`SHUTDOWN_TIMEOUT`] (nothing to do without a DSN).
#[derive(Debug)]
#[must_use = "the session drains the queued events when dropped"]
pub(crate) struct Session(());

impl Drop for Session {
    fn drop(&mut self) {
        shutdown_by(Instant::now() + SHUTDOWN_TIMEOUT);
    }
}

/// Starts reporting when the platform gives a `sentry_dsn`: reads it and
/// `environment`, starts the sender thread and sets the tags (`module`,
/// the platform's uuids, and with an item its `name` and `item_type`).
/// Without a DSN nothing is started; a DSN that does not parse is said on
/// stderr (without its keys) and nothing is started either.
pub(crate) fn start(environment: &Environment, item: Option<(ItemKind, &str)>) -> Session {
    let previous = hub().take();
    ENABLED.store(false, Ordering::SeqCst);
    drop(previous);
    let text = |name: &str| {
        environment
            .source
            .optional_text(name)
            .ok()
            .flatten()
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    };
    let Some(dsn) = text("sentry_dsn") else {
        return Session(());
    };
    let dsn = match Dsn::parse(&dsn) {
        Ok(dsn) => dsn,
        Err(error) => {
            logging::echo_to_stderr(
                Level::Warning,
                &format!(
                    "`sentry_dsn` is not a Sentry DSN: {error}. Nothing is reported to Sentry; fix the value or remove it"
                ),
            );
            return Session(());
        }
    };
    if let Some(secret) = dsn.secret_key() {
        redact::register(secret);
    }
    let sender = match Sender::start(&dsn) {
        Ok(sender) => sender,
        Err(error) => {
            logging::echo_to_stderr(
                Level::Warning,
                &format!(
                    "cannot start the Sentry sender thread: {error}; nothing is reported to Sentry"
                ),
            );
            return Session(());
        }
    };
    let mut tags = Map::new();
    let module = environment
        .manifest()
        .ok()
        .and_then(|manifest| manifest.name().map(str::to_string))
        .unwrap_or_else(|| NAME_MISSING.into());
    tags.insert("module".into(), module.into());
    for (tag, name) in [
        ("community", "community_uuid"),
        ("playbook_uuid", "playbook_uuid"),
        ("playbook_run_uuid", "playbook_run_uuid"),
        ("node_run_uuid", "node_run_uuid"),
        ("trigger_configuration_uuid", "trigger_configuration_uuid"),
        (
            "connector_configuration_uuid",
            "connector_configuration_uuid",
        ),
    ] {
        if let Some(value) = text(name) {
            tags.insert(tag.into(), value.into());
        }
    }
    if let Some((kind, command)) = item {
        tags.insert("name".into(), command.into());
        let item_type = match kind {
            ItemKind::Action => Some("action"),
            ItemKind::Trigger | ItemKind::Connector | ItemKind::AssetConnector => Some("trigger"),
            ItemKind::AccountValidator => None,
        };
        if let Some(item_type) = item_type {
            tags.insert("item_type".into(), item_type.into());
        }
    }
    let scope = Scope {
        environment: text("environment"),
        release: std::env::var("SENTRY_RELEASE")
            .ok()
            .filter(|release| !release.is_empty()),
        server_name: host_name(),
        tags,
        contexts: Map::new(),
    };
    *hub() = Some(Hub {
        sender,
        scope,
        kind: item.map(|(kind, _)| kind),
    });
    ENABLED.store(true, Ordering::SeqCst);
    Session(())
}

/// The host name, as the Python SDK's `server_name` (`socket.gethostname()`).
fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

/// Whether events are being reported (a DSN was given).
pub(crate) fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Which configuration a context holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Configuration {
    /// `module_configuration`.
    Module,
    /// The item's own: `trigger_configuration`, or `connector_configuration`
    /// for a connector.
    Item,
}

/// Sets the context of a configuration: `raw` with each top-level key named
/// in `secrets` replaced by `[REDACTED]`, and every text scrubbed of the
/// secret values registered so far (the token, node secrets...).
pub(crate) fn set_configuration(which: Configuration, raw: &Value, secrets: &[String]) {
    if !is_enabled() {
        return;
    }
    let mut hub = hub();
    let Some(hub) = hub.as_mut() else {
        return;
    };
    let name = match (which, hub.kind) {
        (Configuration::Module, _) => "module_configuration",
        (Configuration::Item, Some(ItemKind::Connector)) => "connector_configuration",
        (Configuration::Item, _) => "trigger_configuration",
    };
    let mut value = redacted(raw, secrets);
    if let Value::Object(map) = &mut value
        && name == "connector_configuration"
        && let Some(key) = map.get_mut("intake_key")
    {
        // It lets anyone push events to the intake: not for Sentry's eyes.
        *key = Value::String(redact::MARKER.into());
    }
    hub.scope.contexts.insert(name.into(), value);
}

/// `raw` with the `secrets` keys replaced by the marker and every string
/// scrubbed.
fn redacted(raw: &Value, secrets: &[String]) -> Value {
    fn scrub(value: &mut Value) {
        match value {
            Value::String(text) => {
                if let std::borrow::Cow::Owned(scrubbed) = redact::scrub(text) {
                    *text = scrubbed;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(scrub),
            Value::Object(map) => map.values_mut().for_each(scrub),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    let mut value = raw.clone();
    if let Value::Object(map) = &mut value {
        for (key, field) in map.iter_mut() {
            if secrets.contains(key) {
                *field = Value::String(redact::MARKER.into());
            }
        }
    }
    scrub(&mut value);
    value
}

/// Reports a log record at `warning`, `error` or `critical` as a message
/// event at its level (other levels are not reported).
pub(crate) fn capture_log(level: Level, message: &str) {
    if is_enabled() && level >= Level::Warning {
        capture(level.as_str(), Payload::Message(&redact::scrub(message)));
    }
}

/// Reports an exception: `kind` is its type (`ActionError`, `TriggerError`,
/// `Panic` when `text` is a caught panic's), `text` its value.
pub(crate) fn capture_exception(kind: &str, text: &str) {
    if !is_enabled() {
        return;
    }
    let kind = if crate::runtime::panic::is_panic_text(text) {
        "Panic"
    } else {
        kind
    };
    capture(
        Level::Error.as_str(),
        Payload::Exception {
            kind,
            value: &redact::scrub(text),
        },
    );
}

/// Reports a panic the runtime did not catch (a thread of the item's own),
/// and waits for it to be sent (at most [`SHUTDOWN_TIMEOUT`]): the panic
/// may end the process.
pub(crate) fn capture_panic(text: &str) {
    if !is_enabled() {
        return;
    }
    // `try_lock`: a panic of this module's own code, lock held, is not
    // reported rather than deadlocked on.
    let Ok(hub) = HUB.try_lock() else {
        return;
    };
    if let Some(hub) = hub.as_ref() {
        let value = redact::scrub(text);
        let payload = Payload::Exception {
            kind: "Panic",
            value: &value,
        };
        hub.sender.send(envelope::envelope(
            Level::Error.as_str(),
            payload,
            &hub.scope,
        ));
        hub.sender.flush_by(Instant::now() + SHUTDOWN_TIMEOUT);
    }
}

/// Reports an unknown command as the Python SDK does: an `error` message
/// `Could not find any Action or Trigger matching command '<command>'`, then
/// the `CommandNotFoundError` exception that ends the process (Python's
/// uncaught exception); waits for them to be sent, at most
/// [`SHUTDOWN_TIMEOUT`].
pub(crate) fn report_unknown_command(settings: &Settings, command: &str) {
    let _session = start(&Environment::new(settings.clone()), None);
    let error = format!("Could not find any Action or Trigger matching command '{command}'");
    capture_log(Level::Error, &error);
    capture_exception(
        "CommandNotFoundError",
        &format!("CommandNotFoundError: {error}"),
    );
}

fn capture(level: &str, payload: Payload<'_>) {
    if let Some(hub) = hub().as_ref() {
        hub.sender
            .send(envelope::envelope(level, payload, &hub.scope));
    }
}

/// Stops reporting: sends what is queued until `deadline` (never later),
/// drops the rest (counted in a debug log). Later captures are ignored.
pub(crate) fn shutdown_by(deadline: Instant) {
    ENABLED.store(false, Ordering::SeqCst);
    let taken = hub().take();
    if let Some(hub) = taken {
        hub.sender.close_by(deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_secrets_are_redacted_and_registered_values_scrubbed() {
        redact::register("registered-node-secret");
        let raw = json!({
            "api_key": "k\"é𝄞-value",
            "nested": {"password": "not declared, kept"},
            "url": "https://h/?t=registered-node-secret",
            "count": u64::MAX,
        });
        let value = redacted(&raw, &["api_key".into(), "absent".into()]);
        assert_eq!(
            value,
            json!({
                "api_key": "[REDACTED]",
                "nested": {"password": "not declared, kept"},
                "url": "https://h/?t=[REDACTED]",
                "count": u64::MAX,
            })
        );
        assert_eq!(value["count"].to_string(), "18446744073709551615");
    }

    /// Integers beyond 64 bits in a `Value` need `exact-numbers`; with it
    /// they pass through the redaction exactly.
    #[cfg(feature = "exact-numbers")]
    #[test]
    fn integers_beyond_64_bits_pass_through_exactly() {
        let raw: Value =
            serde_json::from_str(r#"{"count": 123456789012345678901234567890}"#).unwrap();
        let value = redacted(&raw, &[]);
        assert_eq!(value["count"].to_string(), "123456789012345678901234567890");
    }
}
