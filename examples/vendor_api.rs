//! An action and a trigger calling a vendor's API through
//! [`VendorClient`], run end to end against a fake vendor and the embedded
//! local platform.
//!
//! `cargo run --example vendor_api` starts a fake vendor API on 127.0.0.1
//! (it answers one `503` and one `429` with `Retry-After: 1` on purpose),
//! a local Sekoia.io and a sandbox, then runs this binary as the module
//! twice, as the platform would: `vendor_api get_alert` (one alert by id,
//! retried through the 503) and `vendor_api poll_alerts` (every alert,
//! page by page with a cursor, under a rate limit, then stops). It prints
//! what the vendor and the platform received and exits non-zero if either
//! run failed.

#[path = "../tests/support/fake_vendor.rs"]
mod fake_vendor;

use std::process::ExitCode;
use std::time::Duration;

use fake_vendor::{FakeVendor, Recorded, Reply};
use schemars::JsonSchema;
use sekoia_automation::config::Settings;
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::vendor::{
    Auth, Pagination, RateLimit, VendorClient, VendorClientBuilder, VendorError,
};
use sekoia_automation::{
    Action, ActionContext, ActionError, Level, Module, Outcome, Secret, Trigger, TriggerContext,
    TriggerError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The module configuration: the vendor's API and its key.
#[derive(Deserialize, JsonSchema)]
struct Config {
    /// Base URL of the vendor's API, e.g. `https://api.acme.example/v1`.
    base_url: String,
    /// The API key; the platform stores it as a secret.
    api_key: Secret<String>,
}

/// The client every item of the module uses: the key as a bearer token,
/// the module's `User-Agent`, the vendor's documented limit of 5 requests
/// per second.
fn vendor_client(config: &Config) -> VendorClientBuilder {
    VendorClient::builder()
        .base_url(&config.base_url)
        .user_agent_from_manifest(Settings::from_env().manifest_path())
        .auth(Auth::bearer(config.api_key.clone()))
        .rate_limit(RateLimit::per_second(5))
}

/// An alert as the vendor describes it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Alert {
    /// The vendor's id.
    id: String,
    /// 0 to 100.
    severity: u32,
    /// What happened.
    title: String,
}

#[derive(Deserialize, JsonSchema)]
struct GetAlertArguments {
    /// The alert's id.
    alert_id: String,
}

/// Get one alert by id.
struct GetAlert;

impl Action for GetAlert {
    type ModuleConfiguration = Config;
    type Arguments = GetAlertArguments;
    type Results = Alert;
    const NAME: &'static str = "Get alert";
    const DESCRIPTION: &'static str = "Read one alert of the vendor by its id";
    const OUTPUTS: &'static [&'static str] = &["critical", "other"];

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        args: GetAlertArguments,
    ) -> Result<Outcome<Alert>, ActionError> {
        Ok(Outcome::from(get_alert(ctx, &args.alert_id)))
    }
}

fn get_alert(ctx: &ActionContext<'_, Config>, id: &str) -> Result<Outcome<Alert>, VendorError> {
    let client = vendor_client(ctx.configuration()).build()?;
    let alert: Alert = client.get(format!("alerts/{id}")).send_json()?;
    ctx.log(Level::Info, format!("alert {} read", alert.id));
    let branch = if alert.severity >= 80 {
        "critical"
    } else {
        "other"
    };
    Ok(Outcome::success(alert).activate(branch))
}

#[derive(Deserialize, JsonSchema)]
struct PollConfiguration {
    /// Alerts per page.
    #[serde(default = "default_page_size")]
    page_size: u32,
    /// Stop after this many events (none: poll until stopped).
    #[serde(default)]
    max_events: Option<usize>,
}

fn default_page_size() -> u32 {
    2
}

/// Send an event for every alert of the vendor.
struct PollAlerts;

impl Trigger for PollAlerts {
    type ModuleConfiguration = Config;
    type Configuration = PollConfiguration;
    type Event = Alert;
    const NAME: &'static str = "Poll alerts";
    const DESCRIPTION: &'static str = "Send an event for every alert of the vendor";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        let configuration = ctx.configuration();
        // The trigger's stop wakes the client's retry and rate-limit waits.
        let client = vendor_client(ctx.module_configuration())
            .stop_signal(ctx.stop_signal())
            .build()
            // A base URL that is not one is the account's to fix.
            .map_err(|error| TriggerError::configuration(error.to_string()))?;
        let mut sent = 0;
        let pages = client
            .get("alerts")
            .query("limit", configuration.page_size.to_string())
            .pages(Pagination::cursor("/next_cursor", "cursor"));
        for page in pages {
            let page = page?;
            for item in page["items"].as_array().unwrap_or_default() {
                let alert: Alert = serde_json::from_str(&item.to_string())?;
                ctx.send_event(&format!("alert {}", alert.id), &alert)?;
                sent += 1;
            }
            ctx.heartbeat();
            if configuration.max_events.is_some_and(|max| sent >= max) {
                break;
            }
        }
        ctx.log(Level::Info, format!("done: {sent} alerts sent"));
        ctx.stop();
        Ok(())
    }
}

fn module() -> Module<Config, sekoia_automation::typestate::Registered> {
    Module::<Config>::new()
        .register("get_alert", GetAlert)
        .register("poll_alerts", PollAlerts)
}

fn main() -> ExitCode {
    if std::env::args().nth(1).is_some() {
        return module().run();
    }
    match demo() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("vendor_api demo failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The fake vendor: five alerts, two per page, one 503 and one 429 on the way.
fn vendor(request: &Recorded) -> Reply {
    let alert = |n: u32| json!({"id": format!("A-{n}"), "severity": n * 23 % 101, "title": format!("alert number {n}")});
    if request.header("authorization") != Some("Bearer acme-key-0123") {
        return Reply::json(401, r#"{"message": "bad API key"}"#);
    }
    match request.url.as_str() {
        "/v1/alerts/A-2" => Reply::json(200, alert(2).to_string()),
        "/v1/alerts?limit=2" => Reply::json(
            200,
            json!({"items": [alert(1), alert(2)], "next_cursor": "p2"}).to_string(),
        ),
        "/v1/alerts?limit=2&cursor=p2" => Reply::json(
            200,
            json!({"items": [alert(3), alert(4)], "next_cursor": "p3"}).to_string(),
        ),
        "/v1/alerts?limit=2&cursor=p3" => Reply::json(
            200,
            json!({"items": [alert(5)], "next_cursor": null}).to_string(),
        ),
        other => Reply::json(
            404,
            json!({"message": format!("no route {other}")}).to_string(),
        ),
    }
}

fn demo() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let vendor = FakeVendor::start(vendor);
    let platform = LocalPlatform::start()?;
    platform.set_secrets(json!({"api_key": "acme-key-0123"}));
    let sandbox = Sandbox::new(&platform)?;
    sandbox.write_manifest(&json!({
        "name": "Acme", "slug": "acme", "version": "1.2.0",
        "uuid": "0b7e2f4c-5d1a-4e8b-9c3f-6a2d1e0f9b11",
        "configuration": {
            "type": "object",
            "properties": {"base_url": {"type": "string"}, "api_key": {"type": "string"}},
            "required": ["base_url", "api_key"],
            "secrets": ["api_key"]
        }
    }))?;
    sandbox.set_json(
        "module_configuration",
        &json!({"base_url": format!("{}/v1", vendor.url)}),
    )?;
    sandbox.set_json("arguments", &json!({"alert_id": "A-2"}))?;
    sandbox.set_json("trigger_configuration", &json!({"page_size": 2}))?;
    sandbox.set("liveness_port", "0")?;
    sandbox.set("metrics_port", "0")?;

    let mut all_ok = true;
    // The action: the first answer is a 503, retried at once (urllib3's
    // first backoff is 0 s).
    vendor.script([Reply::status(503)]);
    let status = sandbox
        .command(std::env::current_exe()?)
        .arg("get_alert")
        .status()?;
    println!("module `vendor_api get_alert` exited with {status}");
    all_ok &= status.success();
    // The trigger: its second page is first answered 429 + Retry-After: 1.
    let mut child = sandbox
        .command(std::env::current_exe()?)
        .arg("poll_alerts")
        .spawn()?;
    let started = std::time::Instant::now();
    let mut scripted = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill()?;
            break child.wait()?;
        }
        if !scripted && vendor.requests().len() == 3 {
            // First page answered: make the next one wait.
            vendor.script([Reply::status(429).header("Retry-After", "1")]);
            scripted = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    println!("module `vendor_api poll_alerts` exited with {status}\n");
    all_ok &= status.success();

    println!("the vendor received:");
    for request in vendor.requests() {
        println!(
            "  {} {} (user-agent: {})",
            request.method,
            request.url,
            request.header("user-agent").unwrap_or("-")
        );
    }
    println!("\nthe platform received:");
    let mut events = 0;
    for request in platform.requests() {
        println!(
            "  {} {} -> {}",
            request.method, request.path, request.status
        );
        if let Some(body) = request.json() {
            if body.get("event").is_some() {
                events += 1;
            }
            if body.get("results").is_some() || body.get("event").is_some() {
                println!("    {}", serde_json::to_string(&body)?);
            }
        }
    }
    all_ok &= events == 5;
    println!("\n{events} events sent");
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
