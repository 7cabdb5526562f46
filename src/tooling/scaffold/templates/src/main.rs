//! A Sekoia.io playbook module: two actions (`greet`, and `lookup`, which
//! calls the service's API) and one trigger (`ticker`), built with the
//! `sekoia-automation` crate.
//!
//! `<binary> --help` lists the items and the tooling: `generate-files`
//! (the manifests, from these types), `check-module`, `run-local` (one item
//! against an embedded local platform) and `generate-documentation`.

use std::process::ExitCode;
use std::time::Duration;

use schemars::JsonSchema;
use sekoia_automation::typestate::Registered;
use sekoia_automation::vendor::Auth;
use sekoia_automation::{
    Action, ActionContext, ActionError, Module, Outcome, Secret, Trigger, TriggerContext,
    TriggerError,
};
use serde::{Deserialize, Serialize};

/// The module configuration: what an account holds.
#[derive(Deserialize, JsonSchema)]
pub struct Configuration {
    /// Base URL of the service.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// API key of the service; the platform keeps it as a secret.
    pub api_key: Secret<String>,
}

fn default_base_url() -> String {
    "https://api.example.com".into()
}

/// The arguments of the greet action.
#[derive(Deserialize, JsonSchema)]
pub struct GreetArguments {
    /// Who to greet.
    pub name: String,
    /// How many exclamation marks.
    #[serde(default)]
    pub excitement: u8,
}

/// The results of the greet action.
#[derive(Serialize, JsonSchema)]
pub struct Greeting {
    /// The greeting.
    pub message: String,
}

/// Greets someone.
pub struct Greet;

impl Action for Greet {
    type ModuleConfiguration = Configuration;
    type Arguments = GreetArguments;
    type Results = Greeting;
    const NAME: &'static str = "Greet";
    const DESCRIPTION: &'static str = "Say hello to someone";
    const OUTPUTS: &'static [&'static str] = &["calm", "excited"];

    fn run(
        &self,
        ctx: &ActionContext<'_, Configuration>,
        args: GreetArguments,
    ) -> Result<Outcome<Greeting>, ActionError> {
        // A `Secret` prints as [REDACTED]: logging it by mistake leaks nothing.
        log::info!(
            "greeting {} for {} ({})",
            args.name,
            ctx.configuration().base_url,
            ctx.configuration().api_key
        );
        let marks = "!".repeat(usize::from(args.excitement.min(10)));
        let outcome = Outcome::success(Greeting {
            message: format!("Hello {}{marks}", args.name),
        });
        Ok(if args.excitement > 0 {
            outcome.activate("excited")
        } else {
            outcome.activate("calm")
        })
    }
}

/// The arguments of the lookup action.
#[derive(Deserialize, JsonSchema)]
pub struct LookupArguments {
    /// What to look up.
    pub query: String,
}

/// Asks the service's API: `GET <base_url>/v1/lookup?q=<query>` with the
/// API key as a bearer token, retried on 5xx and 429.
pub struct Lookup;

impl Action for Lookup {
    type ModuleConfiguration = Configuration;
    type Arguments = LookupArguments;
    type Results = serde_json::Value;
    const NAME: &'static str = "Lookup";
    const DESCRIPTION: &'static str = "Ask the service about something";

    fn run(
        &self,
        ctx: &ActionContext<'_, Configuration>,
        args: LookupArguments,
    ) -> Result<Outcome<serde_json::Value>, ActionError> {
        let configuration = ctx.configuration();
        let client = ctx
            .vendor_client()
            .base_url(&configuration.base_url)
            .auth(Auth::bearer(configuration.api_key.clone()))
            .build()?;
        // `?`: an error (the service refused, unreachable after the
        // retries) ends the run with its message.
        let answer: serde_json::Value = client
            .get("v1/lookup")
            .query("q", &args.query)
            .send_json()?;
        Ok(Outcome::success(answer))
    }
}

/// The configuration of the ticker trigger.
#[derive(Deserialize, JsonSchema)]
pub struct TickerConfiguration {
    /// Seconds between two ticks (1 by default).
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    /// Stop after this many ticks; none: tick until stopped.
    #[serde(default)]
    pub max_ticks: Option<u64>,
}

fn default_interval() -> f64 {
    1.0
}

/// An event: one tick.
#[derive(Serialize, JsonSchema)]
pub struct Tick {
    /// The tick's number, from 1.
    pub number: u64,
}

/// Sends a tick event at a regular interval.
#[derive(Default)]
pub struct Ticker {
    ticks: u64,
}

impl Trigger for Ticker {
    type ModuleConfiguration = Configuration;
    type Configuration = TickerConfiguration;
    type Event = Tick;
    const NAME: &'static str = "Ticker";
    const DESCRIPTION: &'static str = "Send a tick event at a regular interval";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        let configuration = ctx.configuration();
        if !configuration.interval_seconds.is_finite() || configuration.interval_seconds < 0.0 {
            return Err(TriggerError::configuration(
                "`interval_seconds` must be a non-negative number of seconds",
            ));
        }
        let interval = Duration::from_secs_f64(configuration.interval_seconds);
        while ctx.running() {
            if configuration.max_ticks.is_some_and(|max| self.ticks >= max) {
                ctx.stop();
                break;
            }
            self.ticks += 1;
            ctx.send_event("tick", &Tick { number: self.ticks })?;
            ctx.heartbeat();
            ctx.sleep(interval);
        }
        Ok(())
    }
}

/// The module: its items, and its manifest compiled in (a scratch image
/// holds only the binary).
pub fn module() -> Module<Configuration, Registered> {
    Module::<Configuration>::new()
        .embedded_manifest(include_str!("../manifest.json"))
        .register("greet", Greet)
        .register("lookup", Lookup)
        .register("ticker", Ticker::default())
}

#[allow(dead_code)]
fn main() -> ExitCode {
    module().run()
}
