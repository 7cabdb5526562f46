//! A complete module, run end to end against the embedded local platform.
//!
//! `cargo run --example quickstart` starts a local Sekoia.io on 127.0.0.1,
//! lays out a configuration root and data directory, runs this same binary
//! as the module (`quickstart triage`, as the platform would run the
//! container) and prints what the platform received.
//!
//! The module: a typed configuration with a secret, an action with typed
//! arguments and results, output branches, and a file result through
//! `json_result`.

use std::process::ExitCode;

use schemars::JsonSchema;
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::{Action, ActionContext, ActionError, Level, Module, Outcome, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The module configuration: what an account holds.
#[derive(Deserialize, JsonSchema)]
struct Config {
    /// Base URL of the threat intelligence service.
    base_url: String,
    /// Its API key; the platform stores it as a secret.
    api_key: Secret<String>,
}

/// The arguments of the triage action.
#[derive(Deserialize, JsonSchema)]
struct TriageArguments {
    /// Alert score from which the `escalate` branch is taken.
    #[serde(default = "default_threshold")]
    threshold: u32,
}

fn default_threshold() -> u32 {
    70
}

/// The results of the triage action.
#[derive(Serialize, JsonSchema)]
struct TriageResults {
    /// Number of alerts read.
    alerts: usize,
    /// Highest score.
    max_score: u32,
    /// The alerts at or above the threshold, inline or in a file (`escalated_path`).
    #[serde(flatten)]
    escalated: Map<String, Value>,
}

#[derive(Deserialize, Serialize)]
struct Alert {
    id: String,
    score: u32,
}

/// Triage alerts: count them, keep the ones to escalate, pick a branch.
struct Triage;

impl Action for Triage {
    type ModuleConfiguration = Config;
    type Arguments = TriageArguments;
    type Results = TriageResults;
    const NAME: &'static str = "Triage alerts";
    const DESCRIPTION: &'static str = "Split alerts into those to escalate and the rest";

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        args: TriageArguments,
    ) -> Result<Outcome<TriageResults>, ActionError> {
        let config = ctx.configuration();
        // `Secret` prints as [REDACTED]: logging it by mistake leaks nothing.
        log::info!("querying {} with key {}", config.base_url, config.api_key);
        Ok(Outcome::from(triage(ctx, args.threshold)))
    }
}

fn triage(
    ctx: &ActionContext<'_, Config>,
    threshold: u32,
) -> Result<Outcome<TriageResults>, Box<dyn std::error::Error>> {
    let alerts: Vec<Alert> = ctx.json_argument("alerts")?;
    let max_score = alerts.iter().map(|alert| alert.score).max().unwrap_or(0);
    let escalated: Vec<&Alert> = alerts
        .iter()
        .filter(|alert| alert.score >= threshold)
        .collect();
    ctx.log_with_context(
        Level::Info,
        "alerts triaged",
        json!({"escalated": escalated.len()}),
    );
    let results = TriageResults {
        alerts: alerts.len(),
        max_score,
        escalated: ctx.json_result("escalated", &escalated)?,
    };
    let outcome = Outcome::success(results);
    Ok(if escalated.is_empty() {
        outcome.activate("quiet").deactivate("escalate")
    } else {
        outcome.activate("escalate").deactivate("quiet")
    })
}

fn module() -> Module<Config, sekoia_automation::typestate::Registered> {
    Module::<Config>::new().register("triage", Triage)
}

fn main() -> ExitCode {
    if std::env::args().nth(1).is_some() {
        // Run as the platform runs the container: `quickstart <command>`.
        return module().run();
    }
    match demo() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Plays the platform's side: a local Sekoia.io, a sandbox, one run.
fn demo() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let platform = LocalPlatform::start()?;
    platform.set_secrets(json!({"api_key": "4f1c-very-secret"}));
    let sandbox = Sandbox::new(&platform)?;
    sandbox.write_manifest(&json!({
        "name": "Quickstart", "slug": "quickstart", "version": "0.1.0",
        "uuid": "8b1d6f3c-2c1e-4a47-9c7a-3f0d2f6a9e01",
        "configuration": {
            "type": "object",
            "properties": {"base_url": {"type": "string"}, "api_key": {"type": "string"}},
            "required": ["base_url", "api_key"],
            "secrets": ["api_key"]
        }
    }))?;
    // The platform keeps secrets out of the configuration file.
    sandbox.set_json(
        "module_configuration",
        &json!({"base_url": "https://intel.example"}),
    )?;
    std::fs::write(
        sandbox.data_directory().join("alerts.json"),
        json!([{"id": "a1", "score": 12}, {"id": "a2", "score": 91}, {"id": "a3", "score": 75}])
            .to_string(),
    )?;
    sandbox.set_json(
        "arguments",
        &json!({"alerts_path": "alerts.json", "threshold": 70}),
    )?;

    let status = sandbox
        .command(std::env::current_exe()?)
        .arg("triage")
        .status()?;
    println!("module `quickstart triage` exited with {status}\n");
    for request in platform.requests() {
        println!("{} {} -> {}", request.method, request.path, request.status);
        if let Some(body) = request.json() {
            println!("{}\n", serde_json::to_string_pretty(&body)?);
        }
    }
    if let Some(path) = platform
        .requests()
        .last()
        .and_then(|request| request.json())
        .and_then(|body| {
            body.pointer("/results/escalated_path")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    {
        let content = std::fs::read_to_string(sandbox.data_directory().join(&path))?;
        println!("the result file {path} holds: {content}");
    }
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
