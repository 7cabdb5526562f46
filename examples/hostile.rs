//! A module that misbehaves on purpose, run as a real process by the
//! hardening tests (`tests/hardening.rs`): triggers that never look at
//! `ctx.running()`, ignore the stop, flood their logs or fail in a loop, and
//! an action and a trigger that log, fail and panic with their secrets in
//! every form a careless author could print them. It shows nothing to copy:
//! it shows what the runtime holds against.
//!
//! `cargo run --example hostile -- <command>` inside a sandbox (the tests
//! lay one out); the trigger's `mode` comes from `trigger_configuration`.

use std::process::ExitCode;
use std::time::Duration;

use schemars::JsonSchema;
use sekoia_automation::{
    Action, ActionContext, ActionError, Level, Module, Outcome, Secret, Trigger, TriggerContext,
    TriggerError,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The module configuration: secrets of several shapes.
#[derive(Deserialize, JsonSchema)]
struct Config {
    /// A plain secret.
    api_key: Secret<String>,
    /// With quotes and backslashes.
    password: Secret<String>,
    /// Non-ASCII, with a space.
    passphrase: Secret<String>,
    /// Too short to be scrubbed (the runtime warns at start); never read.
    #[allow(dead_code)]
    #[serde(default)]
    pin: Option<Secret<String>>,
}

/// What the trigger does.
#[derive(Deserialize, JsonSchema)]
struct Mode {
    /// `tight_loop`, `deaf`, `log_flood`, `failing` or `leaky`.
    mode: String,
    /// `log_flood`: records logged at once.
    #[serde(default)]
    records: u64,
}

struct Misbehaving;

/// RFC 3986 percent-encoding, as a careless author builds a vendor URL.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Every way the secrets get printed: as is, Debug-escaped, JSON-escaped,
/// in a URL.
fn leaks(config: &Config) -> Vec<String> {
    let (key, password, passphrase) = (
        config.api_key.expose(),
        config.password.expose(),
        config.passphrase.expose(),
    );
    vec![
        format!("calling the vendor with key {key}"),
        format!("the password is {password:?}"),
        format!(
            "the configuration is {}",
            json!({"passphrase": passphrase, "password": password})
        ),
        format!(
            "GET https://vendor.example/api?key={}&pass={}",
            url_encode(passphrase),
            url_encode(password)
        ),
    ]
}

impl Trigger for Misbehaving {
    type ModuleConfiguration = Config;
    type Configuration = Mode;
    type Event = Value;
    const NAME: &'static str = "Misbehaving";
    const DESCRIPTION: &'static str = "Misbehave as the trigger configuration says";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        match ctx.configuration().mode.as_str() {
            "tight_loop" => {
                // Never looks at ctx.running(): the `?` ends it.
                for n in 0u64.. {
                    ctx.send_event("tick", &json!({"n": n}))?;
                }
                Ok(())
            }
            "deaf" => {
                // Ignores the stop, blocked in its own sleep.
                ctx.send_event("started", &json!({}))?;
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            "log_flood" => {
                for n in 0..ctx.configuration().records {
                    ctx.log(Level::Info, format!("record {n}"));
                }
                ctx.send_event("flooded", &json!({}))?;
                while ctx.running() {
                    ctx.sleep(Duration::from_secs(3600));
                }
                Ok(())
            }
            "failing" => {
                static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if run.is_multiple_of(2) {
                    panic!("the vendor's answer cannot be parsed (run {run})");
                }
                Err(TriggerError::msg(format!(
                    "the vendor answered 401 (run {run})"
                )))
            }
            "leaky" => {
                let config = ctx.module_configuration();
                for leak in leaks(config) {
                    ctx.log(Level::Info, &leak);
                    log::warn!("{leak}");
                }
                static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                match RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                    0 => Err(TriggerError::msg(format!(
                        "the vendor refused {:?} and {}",
                        config.password.expose(),
                        config.api_key.expose()
                    ))),
                    1 => panic!("the vendor refused {}", config.passphrase.expose()),
                    _ => {
                        ctx.stop();
                        Ok(())
                    }
                }
            }
            other => Err(TriggerError::configuration(format!(
                "unknown mode `{other}`"
            ))),
        }
    }
}

struct LeakyAction;

impl Action for LeakyAction {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Leaky";
    const DESCRIPTION: &'static str = "Log and panic with the secrets";

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        _: Value,
    ) -> Result<Outcome<Value>, ActionError> {
        let config = ctx.configuration();
        for leak in leaks(config) {
            ctx.log(Level::Info, &leak);
            ctx.log_with_context(
                Level::Warning,
                "with context",
                json!({"password": config.password.expose(), "key": config.api_key.expose()}),
            );
            log::error!("{leak}");
        }
        panic!(
            "the vendor refused {:?} for {}",
            config.password.expose(),
            config.passphrase.expose()
        )
    }
}

fn main() -> ExitCode {
    Module::<Config>::new()
        .register("misbehave", Misbehaving)
        .register("leaky_action", LeakyAction)
        .run()
}
