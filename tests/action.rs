//! Actions in-process against the embedded platform (docs/protocol.md §1–3): real
//! loopback HTTP, real files in a sandbox.

use std::process::ExitCode;
use std::time::Duration;

use schemars::JsonSchema;
use sekoia_automation::action::AccountValidator;
use sekoia_automation::action::ValidationError;
use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::{Action, ActionContext, ActionError, Level, Module, Outcome, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
struct Config {
    url: String,
    api_key: Secret<String>,
}

/// Echoes its arguments and what it saw of the configuration.
struct Echo;

impl Action for Echo {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Echo";
    const DESCRIPTION: &'static str = "Echo the arguments";

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        args: Value,
    ) -> Result<Outcome<Value>, ActionError> {
        let config = ctx.configuration();
        Ok(Outcome::success(
            json!({"args": args, "url": config.url, "api_key": config.api_key.expose()}),
        ))
    }
}

/// Does whatever its `mode` argument says.
struct Scripted;

#[derive(Deserialize, JsonSchema)]
struct ScriptedArguments {
    mode: String,
}

impl Action for Scripted {
    type ModuleConfiguration = ();
    type Arguments = ScriptedArguments;
    type Results = Value;
    const NAME: &'static str = "Scripted";
    const DESCRIPTION: &'static str = "Behave as told";

    fn run(
        &self,
        ctx: &ActionContext<'_, ()>,
        args: ScriptedArguments,
    ) -> Result<Outcome<Value>, ActionError> {
        Ok(match args.mode.as_str() {
            "panic" => panic!("the scripted action was told to panic"),
            "string" => Outcome::success(json!("not an object")),
            "list" => Outcome::success(json!([{"a": 1}, {"b": 2}])),
            "list-of-numbers" => Outcome::success(json!([1, 2])),
            "partial" => Outcome::success(json!({"done": 1})).with_error("one lookup failed"),
            "failure" => Outcome::failure("nothing to do"),
            // `?` on a standard error, and on a message.
            "question-mark" => Outcome::success(json!({"n": "x".parse::<u32>()?})),
            "question-mark-message" => Err("no such host: give a known one")?,
            "branches" => Outcome::none()
                .activate("found")
                .deactivate("missing")
                .deactivate("found"),
            "logs" => {
                ctx.log(Level::Warning, "watch out");
                log::info!("from the log crate");
                log::debug!("debug records stay on stderr");
                ctx.log_with_context(
                    Level::Error,
                    "with context",
                    json!({"ip": "1.2.3.4", "n": 2}),
                );
                Outcome::success(json!({}))
            }
            "json-argument" => Outcome::from(
                ctx.json_argument::<Value>("data")
                    .and_then(|data| ctx.json_result("data", &json!({"seen": data}))),
            )
            .map(Value::Object),
            other => Outcome::failure(format!("unknown mode {other}")),
        })
    }
}

struct Platform {
    platform: LocalPlatform,
    sandbox: Sandbox,
}

impl Platform {
    fn new() -> Self {
        let platform = LocalPlatform::start().expect("start the local platform");
        let sandbox = Sandbox::new(&platform).expect("lay out the sandbox");
        Platform { platform, sandbox }
    }

    /// A platform and sandbox set up for `Config` with `api_key` secret.
    fn with_secrets() -> Self {
        let setup = Platform::new();
        setup
            .sandbox
            .write_manifest(&json!({
                "slug": "test", "configuration": {
                    "properties": {"url": {"type": "string"}, "api_key": {"type": "string"}},
                    "required": ["url", "api_key"], "secrets": ["api_key"]
                }
            }))
            .unwrap();
        setup
            .platform
            .set_secrets(json!({"api_key": "k-123456", "not_declared": "leak"}));
        setup
            .sandbox
            .set_json("module_configuration", &json!({"url": "https://x"}))
            .unwrap();
        setup
    }

    fn arguments(&self, arguments: Value) -> &Self {
        self.sandbox.set_json("arguments", &arguments).unwrap();
        self
    }

    fn run_scripted(&self, mode: &str) -> ExitCode {
        self.arguments(json!({"mode": mode}));
        Module::<()>::with_settings(self.sandbox.settings())
            .register("scripted", Scripted)
            .run_command("scripted")
    }

    fn run_echo(&self) -> ExitCode {
        Module::<Config>::with_settings(self.sandbox.settings())
            .register("echo", Echo)
            .run_command("echo")
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        self.platform.requests()
    }

    fn finished(&self) -> Value {
        let finished: Vec<Value> = self
            .requests()
            .iter()
            .filter_map(RecordedRequest::json)
            .filter(|body| body["status"] == "finished")
            .collect();
        finished.last().cloned().expect("a finished PATCH")
    }
}

#[test]
fn a_run_is_a_running_then_a_finished_patch_with_python_bodies() {
    let setup = Platform::new();
    assert_eq!(setup.run_scripted("branches"), ExitCode::SUCCESS);
    let requests = setup.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for request in &requests {
        assert_eq!(request.method, "PATCH");
        assert!(request.path.ends_with("/callback"));
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {}", setup.platform.token()).as_str())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
    }
    assert_eq!(requests[0].body, br#"{"status": "running"}"#);
    assert_eq!(
        requests[1].body_text(),
        r#"{"status": "finished", "outputs": {"found": false, "missing": false}}"#
    );
}

#[test]
fn a_module_without_configuration_takes_the_empty_object_the_platform_sends() {
    // The platform (and `run-local`) send `{}` to a module whose manifest
    // declares no configuration; a `Module<()>` runs on it.
    let setup = Platform::new();
    setup
        .sandbox
        .set_json("module_configuration", &json!({}))
        .unwrap();
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "results": [{"a": 1}, {"b": 2}]})
    );
}

#[test]
fn results_lists_and_partial_success() {
    let setup = Platform::new();
    setup.run_scripted("list");
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "results": [{"a": 1}, {"b": 2}]})
    );

    let setup = Platform::new();
    setup.run_scripted("partial");
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "results": {"done": 1}, "error": "one lookup failed"})
    );

    let setup = Platform::new();
    setup.run_scripted("failure");
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "error": "nothing to do"})
    );
}

#[test]
fn an_error_returned_with_question_mark_is_the_runs_error() {
    let setup = Platform::new();
    assert_eq!(setup.run_scripted("question-mark"), ExitCode::SUCCESS);
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "error": "invalid digit found in string"})
    );

    let setup = Platform::new();
    setup.run_scripted("question-mark-message");
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "error": "no such host: give a known one"})
    );
}

#[test]
fn invalid_results_are_replaced_by_the_error() {
    let setup = Platform::new();
    assert_eq!(setup.run_scripted("string"), ExitCode::SUCCESS);
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "error": "Results are invalid: 'not an object'"})
    );

    let setup = Platform::new();
    setup.run_scripted("list-of-numbers");
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "error": "Results are invalid: '[1, 2]'"})
    );
}

#[test]
fn a_panicking_action_still_reports_finished_with_the_error() {
    let setup = Platform::new();
    assert_eq!(setup.run_scripted("panic"), ExitCode::SUCCESS);
    let finished = setup.finished();
    let error = finished["error"].as_str().unwrap();
    assert!(
        error.starts_with("An unexpected error occurred: the item panicked at "),
        "{error}"
    );
    assert!(error.contains("tests/action.rs"), "{error}");
    assert!(
        error.ends_with("the scripted action was told to panic"),
        "{error}"
    );
    assert!(finished.get("results").is_none());
}

#[test]
fn logs_from_the_context_and_the_log_crate_are_collected_in_order() {
    let setup = Platform::new();
    setup.run_scripted("logs");
    let logs = setup.finished()["logs"].as_str().unwrap().to_string();
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 3, "{logs}");
    assert!(logs.ends_with('\n'));
    let shape = |line: &str| -> String {
        // `2026-01-02 03:04:05.123456: level: message`: strip the date.
        let (date, rest) = line.split_once(": ").unwrap();
        assert!(date.len() == 19 || date.len() == 26, "{date}");
        assert_eq!(&date[10..11], " ");
        rest.to_string()
    };
    assert_eq!(shape(lines[0]), "warning: watch out");
    assert_eq!(shape(lines[1]), "info: from the log crate");
    assert_eq!(
        shape(lines[2]),
        r#"error: with context - Context: {"ip": "1.2.3.4", "n": 2}"#
    );
}

#[test]
fn secrets_are_requested_and_merged_for_declared_keys_only() {
    let setup = Platform::with_secrets();
    setup.arguments(json!({"x": 1}));
    assert_eq!(setup.run_echo(), ExitCode::SUCCESS);
    let requests = setup.requests();
    assert_eq!(
        requests[0].body_text(),
        r#"{"status": "running", "need_secrets": true}"#
    );
    let results = &setup.finished()["results"];
    assert_eq!(results["api_key"], "k-123456");
    assert_eq!(results["url"], "https://x");
    assert_eq!(results["args"], json!({"x": 1}));
    // `not_declared` was not merged: Config would not show it, so check the
    // raw configuration through an untyped module.
    struct Raw;
    impl Action for Raw {
        type ModuleConfiguration = Value;
        type Arguments = Value;
        type Results = Value;
        const NAME: &'static str = "Raw";
        const DESCRIPTION: &'static str = "Show the configuration";
        fn run(
            &self,
            ctx: &ActionContext<'_, Value>,
            _: Value,
        ) -> Result<Outcome<Value>, ActionError> {
            Ok(Outcome::success(ctx.configuration().clone()))
        }
    }
    let setup = Platform::with_secrets();
    setup.arguments(json!({}));
    Module::<Value>::with_settings(setup.sandbox.settings())
        .register("raw", Raw)
        .run_command("raw");
    assert_eq!(
        setup.finished()["results"],
        json!({"url": "https://x", "api_key": "k-123456"})
    );
}

#[test]
fn a_secret_never_reaches_the_logs_or_the_error() {
    struct Leaky;
    impl Action for Leaky {
        type ModuleConfiguration = Config;
        type Arguments = Value;
        type Results = Value;
        const NAME: &'static str = "Leaky";
        const DESCRIPTION: &'static str = "Logs its secret by mistake";
        fn run(
            &self,
            ctx: &ActionContext<'_, Config>,
            _: Value,
        ) -> Result<Outcome<Value>, ActionError> {
            let key = ctx.configuration().api_key.expose();
            log::warn!("calling with {key}");
            ctx.log(Level::Info, format!("key={key}"));
            Ok(Outcome::failure(format!("refused key {key}")))
        }
    }
    let setup = Platform::with_secrets();
    setup.arguments(json!({}));
    Module::<Config>::with_settings(setup.sandbox.settings())
        .register("leaky", Leaky)
        .run_command("leaky");
    let finished = setup.requests().last().unwrap().body_text().to_string();
    assert!(!finished.contains("k-123456"), "{finished}");
    assert!(!finished.contains(setup.platform.token()), "{finished}");
    assert!(finished.contains("calling with [REDACTED]"), "{finished}");
    assert!(finished.contains("key=[REDACTED]"), "{finished}");
    assert!(
        finished.contains(r#""error": "refused key [REDACTED]""#),
        "{finished}"
    );
}

#[test]
fn missing_required_property_is_a_reported_error() {
    let setup = Platform::with_secrets();
    setup.platform.set_secrets(json!({}));
    setup.arguments(json!({}));
    setup.run_echo();
    let error = setup.finished()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("api_key") && error.contains("requires"),
        "{error}"
    );
}

#[test]
fn missing_configuration_names_the_file_and_the_variable() {
    let setup = Platform::new();
    setup.arguments(json!({}));
    setup.run_echo();
    let error = setup.finished()["error"].as_str().unwrap().to_string();
    let file = setup
        .sandbox
        .configuration_root()
        .join("module_configuration");
    assert!(error.contains(&file.display().to_string()), "{error}");
    assert!(error.contains("MODULE_CONFIGURATION"), "{error}");

    let setup = Platform::new();
    setup.sandbox.remove("arguments").ok();
    Module::<()>::with_settings(setup.sandbox.settings())
        .register("scripted", Scripted)
        .run_command("scripted");
    let error = setup.finished()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("`ARGUMENTS`") && error.contains("arguments`"),
        "{error}"
    );
}

#[test]
fn arguments_of_the_wrong_shape_are_a_clear_error() {
    let setup = Platform::new();
    setup.arguments(json!({"mode": 3}));
    Module::<()>::with_settings(setup.sandbox.settings())
        .register("scripted", Scripted)
        .run_command("scripted");
    let error = setup.finished()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("ScriptedArguments") && error.contains("invalid type"),
        "{error}"
    );
}

#[test]
fn a_503_is_retried_with_the_same_body() {
    let setup = Platform::new();
    setup.platform.inject(
        Fault::status(503)
            .times(2)
            .on_method("PATCH")
            .when_json("status", json!("finished")),
    );
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    let finished: Vec<RecordedRequest> = setup
        .requests()
        .into_iter()
        .filter(|r| r.json().is_some_and(|b| b["status"] == "finished"))
        .collect();
    assert_eq!(finished.len(), 3);
    assert_eq!(
        finished.iter().map(|r| r.status).collect::<Vec<_>>(),
        [503, 503, 200]
    );
    assert!(finished.iter().all(|r| r.body == finished[0].body));
}

#[test]
fn a_dropped_connection_is_retried() {
    let setup = Platform::new();
    setup
        .platform
        .inject(Fault::drop_connection().times(1).on_method("PATCH"));
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    let statuses: Vec<u16> = setup.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 200, 200]);
    assert_eq!(setup.requests()[1].body, setup.requests()[0].body);
}

#[test]
fn results_refused_as_too_large_close_the_run_with_an_error_that_says_so() {
    let setup = Platform::new();
    setup.platform.inject(
        Fault::status(413)
            .times(1)
            .on_method("PATCH")
            .when_json("status", json!("finished")),
    );
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    let requests = setup.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 413, 200], "the 413 was not retried");
    let refused = requests[1].json().unwrap();
    assert_eq!(refused["results"], json!([{"a": 1}, {"b": 2}]));
    let finished = setup.finished();
    assert_eq!(finished["status"], "finished");
    assert!(finished.get("results").is_none(), "{finished}");
    let error = finished["error"].as_str().unwrap();
    assert!(
        error.contains("results are too large") && error.contains("HTTP 413"),
        "{error}"
    );
}

#[test]
fn a_4xx_is_not_retried_and_keeps_its_status() {
    let setup = Platform::new();
    setup.platform.inject(
        Fault::status(400)
            .times(1)
            .on_method("PATCH")
            .when_json("status", json!("running")),
    );
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    let requests = setup.requests();
    assert_eq!(requests.len(), 2, "the running PATCH was not retried");
    let error = setup.finished()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("HTTP 400") && error.contains("1 attempt"),
        "{error}"
    );
    assert!(setup.finished().get("results").is_none());
}

#[test]
fn a_409_on_the_finished_patch_is_ignored() {
    let setup = Platform::new();
    setup.platform.inject(
        Fault::status(409)
            .always()
            .on_method("PATCH")
            .when_json("status", json!("finished")),
    );
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    assert_eq!(setup.requests().len(), 2);
}

#[test]
fn a_409_on_every_patch_closes_the_run_with_the_request_s_error_record_as_python_does() {
    let setup = Platform::new();
    setup
        .platform
        .inject(Fault::status(409).always().on_method("PATCH"));
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    assert_eq!(setup.requests().len(), 2, "no attempt after a 409");
    let finished = setup.finished();
    assert!(finished["error"].as_str().unwrap().contains("HTTP 409"));
    // Python's `_log_request_error` logs the failed running PATCH as an
    // `error` record: `<date>: error: An exception occurred` and the error.
    let logs = finished["logs"].as_str().unwrap_or_default();
    let record = logs
        .lines()
        .find(|line| line.contains(": error: An exception occurred"))
        .unwrap_or_else(|| panic!("no error record in the logs: {finished}"));
    assert!(logs.contains("HTTP 409"), "{logs}");
    assert!(record.len() > ": error: An exception occurred".len());
}

#[test]
fn an_undeliverable_finished_patch_fails_the_process() {
    let setup = Platform::new();
    setup.platform.inject(
        Fault::status(403)
            .always()
            .on_method("PATCH")
            .when_json("status", json!("finished")),
    );
    assert_eq!(setup.run_scripted("list"), ExitCode::FAILURE);

    let setup = Platform::new();
    setup.platform.inject(Fault::status(500).always());
    assert_eq!(setup.run_scripted("list"), ExitCode::FAILURE);
    // 10 attempts for the running PATCH, 10 for the finished one.
    assert_eq!(setup.requests().len(), 20);
}

#[test]
fn json_arguments_inline_answer_inline_and_files_answer_files() {
    let setup = Platform::new();
    setup.arguments(json!({"mode": "json-argument", "data": [1, 2]}));
    Module::<()>::with_settings(setup.sandbox.settings())
        .register("s", Scripted)
        .run_command("s");
    assert_eq!(
        setup.finished()["results"],
        json!({"data": {"seen": [1, 2]}})
    );

    let setup = Platform::new();
    std::fs::create_dir_all(setup.sandbox.data_directory().join("in")).unwrap();
    std::fs::write(
        setup.sandbox.data_directory().join("in/data.json"),
        r#"{"k": "v"}"#,
    )
    .unwrap();
    setup.arguments(json!({"mode": "json-argument", "data": null, "data_path": "in/data.json"}));
    Module::<()>::with_settings(setup.sandbox.settings())
        .register("s", Scripted)
        .run_command("s");
    let results = setup.finished()["results"].clone();
    let file = results["data_path"].as_str().expect("a file result");
    assert!(
        file.starts_with("data-") && file.ends_with(".json"),
        "{file}"
    );
    let content: Value = serde_json::from_str(
        &std::fs::read_to_string(setup.sandbox.data_directory().join(file)).unwrap(),
    )
    .unwrap();
    assert_eq!(content, json!({"seen": {"k": "v"}}));
}

#[test]
fn argument_paths_that_leave_the_data_directory_are_refused() {
    let outside = std::env::temp_dir().join(format!("outside-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&outside, r#"{"stolen": true}"#).unwrap();
    let setup = Platform::new();
    std::os::unix::fs::symlink(&outside, setup.sandbox.data_directory().join("link.json")).unwrap();
    for path in [
        outside.display().to_string(),
        "../symphony/token".to_string(),
        "link.json".to_string(),
    ] {
        setup.platform.clear();
        setup.arguments(json!({"mode": "json-argument", "data_path": path}));
        Module::<()>::with_settings(setup.sandbox.settings())
            .register("s", Scripted)
            .run_command("s");
        let finished = setup.finished();
        assert!(finished.get("results").is_none(), "{path}: {finished}");
        let error = finished["error"].as_str().unwrap();
        assert!(error.contains("data directory"), "{path}: {error}");
        assert!(!error.contains("stolen"));
    }
    std::fs::remove_file(outside).unwrap();
}

#[test]
fn a_missing_argument_file_is_a_clear_error() {
    let setup = Platform::new();
    setup.arguments(json!({"mode": "json-argument", "data_path": "absent.json"}));
    Module::<()>::with_settings(setup.sandbox.settings())
        .register("s", Scripted)
        .run_command("s");
    let error = setup.finished()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("data_path") && error.contains("absent.json"),
        "{error}"
    );
}

#[test]
fn sub_folder_moves_the_data_directory() {
    let setup = Platform::new();
    setup.sandbox.set("sub_folder", "tenant-a").unwrap();
    let folder = setup.sandbox.data_directory().join("tenant-a");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("d.json"), "[3]").unwrap();
    setup.arguments(json!({"mode": "json-argument", "data_path": "d.json"}));
    Module::<()>::with_settings(setup.sandbox.settings())
        .register("s", Scripted)
        .run_command("s");
    let results = setup.finished()["results"].clone();
    let file = results["data_path"].as_str().unwrap();
    assert!(folder.join(file).is_file());
}

#[test]
fn an_absolute_sub_folder_is_the_data_directory_as_python_makes_it() {
    let setup = Platform::new();
    let elsewhere = tempfile::tempdir().unwrap();
    setup
        .sandbox
        .set("sub_folder", elsewhere.path().to_str().unwrap())
        .unwrap();
    std::fs::write(elsewhere.path().join("d.json"), "[3]").unwrap();
    setup.arguments(json!({"mode": "json-argument", "data_path": "d.json"}));
    Module::<()>::with_settings(setup.sandbox.settings())
        .register("s", Scripted)
        .run_command("s");
    let finished = setup.finished();
    assert!(finished.get("error").is_none(), "{finished}");
    let file = finished["results"]["data_path"].as_str().unwrap();
    assert!(elsewhere.path().join(file).is_file(), "{finished}");
}

#[test]
fn updated_secrets_are_sent_with_the_finished_patch() {
    struct Rotate;
    impl Action for Rotate {
        type ModuleConfiguration = Config;
        type Arguments = Value;
        type Results = Value;
        const NAME: &'static str = "Rotate";
        const DESCRIPTION: &'static str = "Rotate the API key";
        fn run(
            &self,
            ctx: &ActionContext<'_, Config>,
            _: Value,
        ) -> Result<Outcome<Value>, ActionError> {
            assert!(ctx.update_secret("url", "not a secret").is_err());
            Ok(Outcome::from(
                ctx.update_secret("api_key", "k-rotated")
                    .map(|()| json!({})),
            ))
        }
    }
    let setup = Platform::with_secrets();
    setup.arguments(json!({}));
    Module::<Config>::with_settings(setup.sandbox.settings())
        .register("rotate", Rotate)
        .run_command("rotate");
    assert_eq!(
        setup.finished(),
        json!({"status": "finished", "results": {}, "secrets": {"api_key": "k-rotated"}})
    );
}

#[test]
fn the_command_selects_the_item_and_unknown_commands_fail() {
    let setup = Platform::new();
    setup.arguments(json!({"mode": "list"}));
    let module = || {
        Module::<()>::with_settings(setup.sandbox.settings())
            .register("", Scripted)
            .register("other", Scripted)
    };
    assert_eq!(module().run_command(""), ExitCode::SUCCESS);
    assert_eq!(setup.requests().len(), 2);
    assert_eq!(module().run_command("nope"), ExitCode::FAILURE);
    assert_eq!(
        setup.requests().len(),
        2,
        "an unknown command sends nothing"
    );

    let twice = Module::<()>::with_settings(setup.sandbox.settings())
        .register("a", Scripted)
        .register("a", Scripted);
    assert_eq!(twice.run_command("a"), ExitCode::from(2));
}

#[test]
fn without_token_the_action_cannot_report_and_fails() {
    let setup = Platform::new();
    setup.sandbox.remove("token").unwrap();
    setup.arguments(json!({"mode": "list"}));
    // The variable TOKEN is not set in the test environment.
    assert_eq!(setup.run_scripted("list"), ExitCode::FAILURE);
    assert!(setup.requests().is_empty());
}

#[derive(Deserialize, JsonSchema, Serialize)]
struct ValidatorConfig {
    api_key: Secret<String>,
}

struct KeyLength;

impl AccountValidator for KeyLength {
    type ModuleConfiguration = ValidatorConfig;
    fn validate(&self, ctx: &ActionContext<'_, ValidatorConfig>) -> Result<(), ValidationError> {
        match ctx.configuration().api_key.expose().len() {
            8 => Ok(()),
            0 => panic!("empty key"),
            4 => Err(sekoia_automation::action::NotValid.into()),
            n => Err(format!("the key has {n} characters, not 8").into()),
        }
    }
}

fn validate(key: &str, secrets: bool) -> (ExitCode, Vec<RecordedRequest>) {
    let setup = Platform::new();
    if secrets {
        setup
            .sandbox
            .write_manifest(
                &json!({"configuration": {"properties": {"api_key": {}}, "secrets": ["api_key"]}}),
            )
            .unwrap();
        setup.platform.set_secrets(json!({"api_key": key}));
        setup
            .sandbox
            .set_json("module_configuration", &json!({}))
            .unwrap();
    } else {
        setup
            .sandbox
            .set_json("module_configuration", &json!({"api_key": key}))
            .unwrap();
    }
    let code = Module::<ValidatorConfig>::with_settings(setup.sandbox.settings())
        .register_account_validator(KeyLength)
        .run_command("validate_module_configuration");
    (code, setup.requests())
}

#[test]
fn account_validation_reports_success_or_the_error() {
    let (code, requests) = validate("12345678", false);
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(requests[0].body_text(), r#"{"status": "running"}"#);
    assert_eq!(
        requests[1].body_text(),
        r#"{"status": "finished", "results": {"success": true}}"#
    );

    let (_, requests) = validate("123", false);
    assert_eq!(
        requests[1].json().unwrap(),
        json!({"status": "finished", "results": {"success": false}, "error": "the key has 3 characters, not 8"})
    );

    // Secrets come from the running PATCH's answer, asked without need_secrets (as Python).
    let (_, requests) = validate("abcdefgh", true);
    assert_eq!(requests[0].body_text(), r#"{"status": "running"}"#);
    assert_eq!(requests[1].json().unwrap()["results"]["success"], true);

    // `validate()` returning False in Python: no `error` key.
    let (code, requests) = validate("1234", false);
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        requests[1].body_text(),
        r#"{"status": "finished", "results": {"success": false}}"#
    );

    let (_, requests) = validate("", false);
    let finished = requests[1].json().unwrap();
    assert_eq!(finished["results"]["success"], false);
    assert!(finished["error"].as_str().unwrap().contains("empty key"));
}

#[test]
fn a_slow_platform_is_waited_for() {
    let setup = Platform::new();
    setup
        .platform
        .inject(Fault::delay(Duration::from_millis(300)).times(1));
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    assert_eq!(setup.requests().len(), 2);
}

/// Answers with the settings it runs with.
struct ReadSettings;

impl Action for ReadSettings {
    type ModuleConfiguration = ();
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Read settings";
    const DESCRIPTION: &'static str = "Answer the retry backoff unit";

    fn run(&self, ctx: &ActionContext<'_, ()>, _: Value) -> Result<Outcome<Value>, ActionError> {
        let settings = ctx.settings();
        Ok(Outcome::success(json!({
            "backoff_ms": settings.retry_backoff().as_millis() as u64,
            "data": settings.data_directory().display().to_string(),
        })))
    }
}

#[test]
fn an_action_reads_the_module_settings_from_its_context() {
    let setup = Platform::new();
    setup.arguments(json!({}));
    let settings = setup
        .sandbox
        .settings()
        .with_retry_backoff(Duration::from_millis(7));
    let data = settings.data_directory().display().to_string();
    let code = Module::<()>::with_settings(settings)
        .register("read", ReadSettings)
        .run_command("read");
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        setup.finished()["results"],
        json!({"backoff_ms": 7, "data": data})
    );
}

/// An action whose module configuration type accepts `{}`.
struct Lenient;

impl Action for Lenient {
    type ModuleConfiguration = Value;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Lenient";
    const DESCRIPTION: &'static str = "Succeed with any configuration";

    fn run(&self, _: &ActionContext<'_, Value>, _: Value) -> Result<Outcome<Value>, ActionError> {
        Ok(Outcome::success(json!({"ran": true})))
    }
}

#[test]
fn a_missing_module_configuration_is_an_error_unless_the_module_takes_none() {
    let setup = Platform::new();
    setup.arguments(json!({}));
    let code = Module::<Value>::with_settings(setup.sandbox.settings())
        .register("lenient", Lenient)
        .run_command("lenient");
    assert_eq!(code, ExitCode::SUCCESS, "the run was reported");
    let finished = setup.finished();
    assert!(finished.get("results").is_none(), "it ran: {finished}");
    let error = finished["error"].as_str().unwrap();
    assert!(error.contains("module_configuration"), "{error}");

    // A module whose configuration type is `()` never reads it, as a
    // Python module without configuration.
    let setup = Platform::new();
    assert_eq!(setup.run_scripted("list"), ExitCode::SUCCESS);
    assert!(
        setup.finished().get("error").is_none(),
        "{}",
        setup.finished()
    );
}
