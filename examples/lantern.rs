//! The Lantern module (`tests/fixtures/lantern/main.py`) ported from
//! Python: what `tests/compare.rs` runs `sekoia-automation compare` on.
//!
//! With `LANTERN_VARIANT=query`, `get-lamp` sends `limit` in the query
//! instead of the body; with `LANTERN_VARIANT=auth`, its key in `X-Key`
//! instead of `Authorization`: ports that differ from the original, which
//! `compare` must catch; with `LANTERN_VARIANT=batch`, `collect-lamp-events`
//! turns the last lamp event's `on` to `true` before pushing it.

use std::process::ExitCode;
use std::time::Duration;

use schemars::JsonSchema;
use sekoia_automation::action::ActionResult;
use sekoia_automation::config::Documented;
use sekoia_automation::vendor::{Api, ApiAuthentication, RetryPolicy, VendorClient};
use sekoia_automation::{Action, ActionContext, Level, Module, Outcome};
use sekoia_automation::{Connector, ConnectorContext};
use sekoia_automation::{Secret, Trigger, TriggerContext, TriggerError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The module configuration; `manifest.json` documents it by hand.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Config {
    api_key: Secret<String>,
    base_url: String,
}

type Configuration = Documented<Config>;

#[derive(Deserialize, JsonSchema)]
struct ExportArguments {
    room: String,
}

/// `ExportLamps`: `requests.get(f"{base_url}/lamps", params=..., headers=...)`,
/// then `json_result("lamps", ...)`.
struct ExportLamps;

impl Action for ExportLamps {
    type ModuleConfiguration = Configuration;
    type Arguments = ExportArguments;
    type Results = Map<String, Value>;
    const NAME: &'static str = "Export lamps";
    const DESCRIPTION: &'static str = "Fetch the lamps of a room and hand them over as a file";

    fn run(
        &self,
        ctx: &ActionContext<'_, Configuration>,
        args: ExportArguments,
    ) -> ActionResult<Map<String, Value>> {
        let configuration = ctx.configuration();
        let base = configuration.base_url.trim_end_matches('/');
        let bearer = format!("Bearer {}", configuration.api_key.expose());
        let lamps: Value = ctx
            .vendor()
            .get(format!("{base}/lamps"))
            .query("room", &args.room)
            .header("Accept", "*/*")
            .header("Authorization", bearer)
            .retry(RetryPolicy::never())
            .send_json()?;
        ctx.log_with_context(Level::Info, "exported lamps", json!({"room": args.room}));
        Ok(Outcome::success(ctx.json_result("lamps", &lamps)?))
    }
}

/// `WatchLamps`: the vendor's lamp events sent, then a wait for the stop.
struct WatchLamps;

impl Trigger for WatchLamps {
    type ModuleConfiguration = Configuration;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Watch lamps";
    const DESCRIPTION: &'static str = "Send the vendor's lamp events";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        let configuration = ctx.module_configuration();
        let base = configuration.base_url.trim_end_matches('/');
        let bearer = format!("Bearer {}", configuration.api_key.expose());
        let room = ctx.configuration()["room"].as_str().unwrap_or_default();
        let events: Vec<Value> = VendorClient::builder()
            .build()?
            .get(format!("{base}/lamps/events"))
            .query("room", room)
            .header("Accept", "*/*")
            .header("Authorization", bearer)
            .retry(RetryPolicy::never())
            .send_json()?;
        for event in &events {
            ctx.send_event("lamp switched", event)?;
        }
        while ctx.running() {
            ctx.sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

/// A page of the vendor's lamp history.
#[derive(Deserialize)]
struct History {
    events: Vec<Value>,
    next: String,
}

/// `CollectLampEvents`: the vendor's lamp history polled from the
/// checkpoint, pushed to the intake, the next cursor kept in the data
/// directory (`context.json`), then a wait for the stop.
struct CollectLampEvents {
    variant: String,
}

impl Connector for CollectLampEvents {
    type ModuleConfiguration = Configuration;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Collect lamp events";
    const DESCRIPTION: &'static str = "Push the vendor's lamp history to the intake";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let configuration = ctx.module_configuration();
        let base = configuration.base_url.trim_end_matches('/');
        let bearer = format!("Bearer {}", configuration.api_key.expose());
        let mut cursor = ctx.checkpoint_cursor::<String>();
        let mut request = ctx
            .vendor()
            .get(format!("{base}/lamps/history"))
            .query("room", "all");
        if let Some(after) = cursor.offset()? {
            request = request.query("after", after);
        }
        let mut page: History = request
            .header("Accept", "*/*")
            .header("Authorization", bearer)
            .retry(RetryPolicy::never())
            .send_json()?;
        if self.variant == "batch"
            && let Some(Value::Object(last)) = page.events.last_mut()
        {
            last.insert("on".into(), Value::Bool(true));
        }
        let acknowledged = ctx.push_events(&page.events)?;
        cursor.advance(page.next, &acknowledged)?;
        let pushed = format!("pushed {} lamp events", page.events.len());
        ctx.log(Level::Info, pushed);
        while ctx.running() {
            ctx.sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let variant = std::env::var("LANTERN_VARIANT").unwrap_or_default();
    let query: &[&str] = if variant == "query" {
        &["verbose", "limit"]
    } else {
        &["verbose"]
    };
    let mut get_lamp = Api::get("lamps/{id}").query(query);
    if variant == "auth" {
        get_lamp = get_lamp.authentication(ApiAuthentication::api_key(Some("X-Key"), None));
    }
    Module::<Configuration>::new()
        .register("get-lamp", get_lamp)
        .register("switch-lamp", Api::post("lamps/{id}/switch"))
        .register("export-lamps", ExportLamps)
        .register("watch-lamps", WatchLamps)
        .register("collect-lamp-events", CollectLampEvents { variant })
        .run()
}
