//! The Lantern module (`tests/fixtures/lantern/main.py`) ported from
//! Python: what `tests/compare.rs` runs `sekoia-automation compare` on.
//!
//! With `LANTERN_VARIANT=query`, `get-lamp` sends `limit` in the query
//! instead of the body: a port that differs from the original, which
//! `compare` must catch.

use std::process::ExitCode;

use schemars::JsonSchema;
use sekoia_automation::Secret;
use sekoia_automation::vendor::{Api, RetryPolicy};
use sekoia_automation::{Action, ActionContext, ActionResult, Documented, Level, Module, Outcome};
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

fn main() -> ExitCode {
    let query: &[&str] = if std::env::var("LANTERN_VARIANT").as_deref() == Ok("query") {
        &["verbose", "limit"]
    } else {
        &["verbose"]
    };
    Module::<Configuration>::new()
        .register("get-lamp", Api::get("lamps/{id}").query(query))
        .register("switch-lamp", Api::post("lamps/{id}/switch"))
        .register("export-lamps", ExportLamps)
        .run()
}
