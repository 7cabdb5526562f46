//! A sample module for the tooling: nested types, optional fields, defaults,
//! enums, lists and secrets, an action with declared branches, a trigger and
//! an account validator. Its generated manifests are checked in under
//! `tests/fixtures/sample_module/`.
//!
//! ```sh
//! cargo run --example sample_module -- help-module
//! cargo run --example sample_module -- generate-files /tmp/sample   # with a manifest.json there
//! cargo run --example sample_module -- run-local lookup ip=10.0.0.1 -c '{"base_url": "https://intel", "api_key": "my-key"}'
//! cargo run --example sample_module -- run-local watch --events 2
//! ```

use std::process::ExitCode;
use std::time::Duration;

use schemars::JsonSchema;
use sekoia_automation::action::AccountValidator;
use sekoia_automation::action::ValidationError;
use sekoia_automation::typestate::Registered;
use sekoia_automation::{
    Action, ActionContext, ActionError, Module, Outcome, Secret, Trigger, TriggerContext,
    TriggerError,
};
use serde::{Deserialize, Serialize};

/// The module configuration: an account of the intelligence service.
#[derive(Deserialize, JsonSchema)]
pub struct Config {
    /// Base URL of the service.
    pub base_url: String,
    /// API key of the account.
    pub api_key: Secret<String>,
    /// Proxy password, when a proxy is used.
    #[serde(default)]
    pub proxy_password: Option<Secret<String>>,
    /// Seconds before a request is abandoned.
    #[serde(default = "default_timeout")]
    pub timeout: u32,
}

fn default_timeout() -> u32 {
    30
}

/// How bad an indicator is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing known.
    Low,
    /// Suspicious.
    Medium,
    /// Known bad.
    High,
}

/// Where an indicator was seen.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// ISO 3166 country code.
    pub country: String,
    /// City, when known.
    pub city: Option<String>,
}

/// The arguments of the lookup action.
#[derive(Deserialize, JsonSchema)]
pub struct LookupArguments {
    /// The IP address to look up.
    pub ip: String,
    /// Tags to attach to the answer.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The severity from which the `malicious` branch is taken.
    #[serde(default = "default_threshold")]
    pub threshold: Severity,
    /// Restrict the lookup to these places.
    #[serde(default)]
    pub locations: Option<Vec<Location>>,
}

fn default_threshold() -> Severity {
    Severity::High
}

/// The results of the lookup action.
#[derive(Serialize, JsonSchema)]
pub struct LookupResults {
    /// The IP address looked up.
    pub ip: String,
    /// Its severity.
    pub severity: Severity,
    /// Where it was seen.
    pub location: Location,
    /// The tags given.
    pub tags: Vec<String>,
    /// Reputation score, 0 to 100, when the service has one.
    pub score: Option<u8>,
}

/// Looks an IP address up.
pub struct Lookup;

impl Action for Lookup {
    type ModuleConfiguration = Config;
    type Arguments = LookupArguments;
    type Results = LookupResults;
    const NAME: &'static str = "Lookup IP";
    const DESCRIPTION: &'static str = "Look an IP address up in the intelligence service";
    const OUTPUTS: &'static [&'static str] = &["malicious", "benign"];

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        args: LookupArguments,
    ) -> Result<Outcome<LookupResults>, ActionError> {
        log::info!("looking {} up at {}", args.ip, ctx.configuration().base_url);
        let severity = if args.ip.starts_with("10.") {
            Severity::High
        } else if args.ip.starts_with("192.168.") {
            Severity::Medium
        } else {
            Severity::Low
        };
        let malicious = severity as u8 >= args.threshold as u8;
        let results = LookupResults {
            ip: args.ip,
            severity,
            location: Location {
                country: "FR".into(),
                city: None,
            },
            tags: args.tags,
            score: Some(if malicious { 90 } else { 10 }),
        };
        let outcome = Outcome::success(results);
        Ok(if malicious {
            outcome.activate("malicious")
        } else {
            outcome.activate("benign")
        })
    }
}

/// The configuration of the watch trigger.
#[derive(Deserialize, JsonSchema)]
pub struct WatchConfiguration {
    /// Milliseconds between two polls.
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    /// Only report indicators of these severities.
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// Token of the feed, when it needs one.
    pub feed_token: Option<Secret<String>>,
}

fn default_interval() -> u64 {
    50
}

/// An event: one indicator of the feed.
#[derive(Serialize, JsonSchema)]
pub struct Indicator {
    /// The indicator's value.
    pub value: String,
    /// Its severity.
    pub severity: Severity,
    /// Where it was seen.
    pub locations: Vec<Location>,
}

/// Watches the feed and sends one event per new indicator.
pub struct Watch {
    count: u64,
}

impl Trigger for Watch {
    type ModuleConfiguration = Config;
    type Configuration = WatchConfiguration;
    type Event = Indicator;
    const NAME: &'static str = "Watch indicators";
    const DESCRIPTION: &'static str = "Send an event for each new indicator of the feed";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        let interval = Duration::from_millis(ctx.configuration().interval_ms);
        while ctx.running() {
            self.count += 1;
            let indicator = Indicator {
                value: format!("10.0.0.{}", self.count),
                severity: Severity::High,
                locations: vec![Location {
                    country: "FR".into(),
                    city: Some("Paris".into()),
                }],
            };
            ctx.send_event(&format!("indicator {}", self.count), &indicator)?;
            ctx.sleep(interval);
        }
        Ok(())
    }
}

/// Checks that the API key looks right.
pub struct CheckAccount;

impl AccountValidator for CheckAccount {
    type ModuleConfiguration = Config;

    fn validate(&self, ctx: &ActionContext<'_, Config>) -> Result<(), ValidationError> {
        if ctx.configuration().api_key.expose().is_empty() {
            return Err("the API key is empty".into());
        }
        Ok(())
    }
}

/// The sample module.
pub fn module() -> Module<Config, Registered> {
    Module::<Config>::new()
        .register("lookup", Lookup)
        .register("watch", Watch { count: 0 })
        .register_account_validator(CheckAccount)
}

#[allow(dead_code)]
fn main() -> ExitCode {
    module().run()
}
