//! Messages that point to the right thing (issue 20, point 5): an argument
//! error names the author's type, not the crate's `Documented` wrapper; a
//! vendor `Json` is changed in place; `generate-files` does not call a
//! connector's legacy `trigger_*.json` pair stale. (The wrong-module
//! registration of a connector is `tests/ui/fail/connector_of_another_module.rs`;
//! an action named by its manifest is the doctest of `Action::NAME`.)

#[path = "support/tooling.rs"]
#[allow(dead_code)]
mod tooling;

use sekoia_automation::config::Documented;
use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::unversioned::check::stale_files;
use sekoia_automation::unversioned::{ModuleItems, generate};
use sekoia_automation::vendor::Json;
use sekoia_automation::{
    Action, ActionContext, ActionError, Connector, ConnectorContext, Module, Outcome, TriggerError,
};
use serde_json::{Value, json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct LookupArguments {
    ip: String,
}

/// Typed arguments under the manifest's own schema.
struct Lookup;

impl Action for Lookup {
    type ModuleConfiguration = ();
    type Arguments = Documented<LookupArguments>;
    type Results = Value;
    const NAME: &'static str = "Lookup";
    const DESCRIPTION: &'static str = "Look an address up";

    fn run(
        &self,
        _: &ActionContext<'_, ()>,
        args: Documented<LookupArguments>,
    ) -> Result<Outcome<Value>, ActionError> {
        Ok(Outcome::success(json!({"ip": args.ip})))
    }
}

#[test]
fn an_argument_error_names_the_authors_type_not_documented() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox.set_json("arguments", &json!({"ip": 3})).unwrap();
    Module::<()>::with_settings(sandbox.settings())
        .register("lookup", Lookup)
        .run_command("lookup");
    let finished: Vec<Value> = platform
        .requests()
        .iter()
        .filter_map(RecordedRequest::json)
        .filter(|body| body["status"] == "finished")
        .collect();
    let error = finished.last().expect("a finished PATCH")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("the arguments do not match `messages::LookupArguments`: invalid type"),
        "{error}"
    );
    assert!(!error.contains("Documented"), "{error}");
}

#[test]
fn a_vendor_json_value_is_changed_in_place() {
    let mut event: Json = r#"{"id": 123456789012345678901234567890, "user": {"name": "ada"}, "tags": ["a"], "drop": 1}"#
        .parse()
        .unwrap();
    event["user"]["domain"] = Json::from("corp");
    event["user"]["name"] = Json::from("𝔄da");
    event["tags"][0] = Json::from(true);
    if let Some(tags) = event.get_mut("tags").and_then(Json::as_array_mut) {
        tags.push(Json::from(7));
    }
    *event.pointer_mut("/id").unwrap() = Json::from("stringified");
    assert_eq!(event.remove("drop"), Some(Json::from(1)));
    assert_eq!(event.insert("new", "value"), Ok(None));
    assert_eq!(
        event.to_python_json(),
        r#"{"id": "stringified", "user": {"name": "\ud835\udd04da", "domain": "corp"}, "tags": [true, 7], "new": "value"}"#
    );
    let mut list = Json::from(vec![Json::Null]);
    assert_eq!(list.insert("key", 1), Err(Json::from(1)), "not an object");
    assert_eq!(list.take(), Json::from(vec![Json::Null]));
    assert!(list.is_null());
}

struct CollectLogs;

impl Connector for CollectLogs {
    type ModuleConfiguration = ();
    type Configuration = Value;
    type Event = String;
    const NAME: &'static str = "Collect logs";
    const DESCRIPTION: &'static str = "Collect the vendor's logs";

    fn run(&mut self, _: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        Ok(())
    }
}

#[test]
fn a_connectors_legacy_trigger_file_is_not_called_stale() {
    let module = Module::<()>::new().register("collect_logs", CollectLogs);
    let directory = tooling::generated(&module);
    let pair = tooling::read(directory.path(), "connector_collect_logs.json");
    std::fs::write(
        directory.path().join("trigger_collect_logs.json"),
        pair.to_string(),
    )
    .unwrap();
    let mut stray = pair.clone();
    stray["docker_parameters"] = json!("gone");
    std::fs::write(
        directory.path().join("trigger_gone.json"),
        stray.to_string(),
    )
    .unwrap();
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    assert_eq!(stale_files(directory.path(), &files), ["trigger_gone.json"]);
}
