//! One context surface for every item kind (issue 20.2): a connector has
//! the stop signal, the settings and the vendor clients an action has,
//! and a stop of the process wakes its vendor waits. Real loopback HTTP:
//! the local platform and a fake vendor.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sekoia_automation::connector::ConnectorOptions;
use sekoia_automation::testing::{FakeVendor, LocalPlatform, Reply, Sandbox};
use sekoia_automation::trigger::StopSignal;
use sekoia_automation::vendor::{VendorClient, VendorError};
use sekoia_automation::{Connector, ConnectorContext, Module, TriggerError};
use serde_json::{Value, json};

#[path = "support/trigger.rs"]
mod trigger_support;

/// Secrets as a configuration holds them: quotes, a backslash, an astral
/// character, so that no escaping hides one from the search.
const MODULE_SECRET: &str = "m0dule-\"pass\\word\"-🔑";
const ITEM_SECRET: &str = "it3m-'api'-key-𝄞";

/// What one vendor call of the connector came to.
type Called = Result<u16, VendorError>;

/// Calls the vendor three ways at once, from three scoped threads: through
/// `ctx.vendor()`, a client of `ctx.vendor_client()`, and a client built
/// as docs/vendor.md shows (`.stop_signal(ctx.stop_signal())`).
struct Caller {
    url: String,
    called: Arc<Mutex<Vec<(&'static str, Called)>>>,
    options: ConnectorOptions,
}

impl Connector for Caller {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Caller";
    const DESCRIPTION: &'static str = "Call the vendor";

    fn options(&self) -> ConnectorOptions {
        self.options.clone()
    }

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let own = ctx.vendor_client().base_url(&self.url).build()?;
        let documented = VendorClient::builder()
            .base_url(&self.url)
            .stop_signal(ctx.stop_signal())
            .build()?;
        let url = format!("{}/alerts", self.url);
        std::thread::scope(|scope| {
            let calls = [
                ("vendor", scope.spawn(|| ctx.vendor().get(&url).send())),
                ("vendor_client", scope.spawn(|| own.get("alerts").send())),
                (
                    "stop_signal",
                    scope.spawn(|| documented.get("alerts").send()),
                ),
            ];
            for (way, call) in calls {
                let called = call.join().expect("no panic").map(|answer| answer.status());
                self.called.lock().unwrap().push((way, called));
            }
        });
        ctx.stop();
        Ok(())
    }
}

fn connector_sandbox(platform: &LocalPlatform) -> Sandbox {
    let sandbox = Sandbox::new(platform).unwrap();
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox
        .set_json("connector_configuration", &json!({"intake_key": "KEY123"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    sandbox
}

/// A vendor answering 503 with `Retry-After: 3600` holds every client in a
/// wait of minutes (the 300 s cap); the process's stop wakes all three at
/// once: each call ends `Interrupted` after its one attempt, and the
/// connector returns within the stop grace (else the watchdog would end
/// the test process).
#[test]
fn a_stop_wakes_a_connectors_vendor_clients_from_their_retry_waits() {
    let vendor = FakeVendor::start().unwrap();
    vendor.route(
        "GET",
        "/alerts",
        Reply::status(503).header("Retry-After", "3600"),
    );
    let platform = LocalPlatform::start().unwrap();
    let sandbox = connector_sandbox(&platform);
    let stop = Arc::new(StopSignal::new());
    let called = Arc::new(Mutex::new(Vec::new()));
    let connector = Caller {
        url: vendor.url(),
        called: Arc::clone(&called),
        options: ConnectorOptions::default().with_stop_signal(Arc::clone(&stop)),
    };
    let settings = sandbox.settings();
    let run = std::thread::spawn(move || {
        Module::<Value>::with_settings(settings)
            .register("caller", connector)
            .run_command("caller")
    });
    // Bounded: three first attempts, then the waits.
    let mut polls = 0;
    while vendor.requests().len() < 3 {
        polls += 1;
        assert!(polls < 2_000, "the three calls reached the vendor");
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.stop();
    assert_eq!(run.join().unwrap(), ExitCode::SUCCESS);
    let mut called = std::mem::take(&mut *called.lock().unwrap());
    called.sort_by_key(|(way, _)| *way);
    let ways: Vec<&str> = called.iter().map(|(way, _)| *way).collect();
    assert_eq!(ways, ["stop_signal", "vendor", "vendor_client"]);
    for (way, result) in &called {
        assert!(
            matches!(result, Err(VendorError::Interrupted { attempts: 1, .. })),
            "{way}: {result:?}"
        );
    }
    assert_eq!(vendor.requests().len(), 3, "no attempt after the stop");
}

/// Runs `check` in a connector's run, and hands back what it returned.
struct Checking {
    check: Option<Check>,
    out: Arc<Mutex<Option<Value>>>,
}

type Check = Box<dyn FnOnce(&ConnectorContext<'_, Checking>) -> Value + Send>;

impl Connector for Checking {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Checking";
    const DESCRIPTION: &'static str = "Check the context";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        if let Some(check) = self.check.take() {
            *self.out.lock().unwrap() = Some(check(ctx));
        }
        ctx.stop();
        Ok(())
    }
}

/// The settings a connector reads are the module's; its vendor client
/// waits in their unit; its `persistent_json` is a file of the data
/// directory that outlives the run.
#[test]
fn a_connector_reads_the_modules_settings_and_keeps_json_in_its_data_directory() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = connector_sandbox(&platform);
    let settings = sandbox
        .settings()
        .with_retry_backoff(Duration::from_millis(7));
    let out = Arc::new(Mutex::new(None));
    let connector = Checking {
        check: Some(Box::new(|ctx: &ConnectorContext<'_, Checking>| {
            let mut cursor = ctx.persistent_json::<Value>("cursor.json").unwrap();
            *cursor = json!({"after": 18446744073709551615u64});
            cursor.close().unwrap();
            json!({
                "retry_backoff_ms": ctx.settings().retry_backoff().as_millis() as u64,
                "vendor_wait_ms": ctx.vendor().retry_policy().backoff(3).as_millis() as u64,
                "own_wait_ms": ctx.vendor_client().build().unwrap().retry_policy().backoff(3).as_millis() as u64,
                "data_directory": ctx.settings().data_directory(),
                "stopped": ctx.stop_signal().is_stopped(),
            })
        })),
        out: Arc::clone(&out),
    };
    let code = Module::<Value>::with_settings(settings.clone())
        .register("checking", connector)
        .run_command("checking");
    assert_eq!(code, ExitCode::SUCCESS);
    let seen = out.lock().unwrap().take().expect("the check ran");
    assert_eq!(
        seen,
        json!({
            "retry_backoff_ms": 7,
            "vendor_wait_ms": 28,
            "own_wait_ms": 28,
            "data_directory": settings.data_directory(),
            "stopped": false,
        })
    );
    let saved = std::fs::read_to_string(settings.data_directory().join("cursor.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&saved).unwrap(),
        json!({"after": 18446744073709551615u64})
    );
}

/// What `{:?}` of a context shows holds no configuration value: checked
/// on an action's, a trigger's and a connector's, whose configurations
/// hold secrets.
#[test]
fn no_secret_in_the_debug_of_any_context() {
    use sekoia_automation::storage::DataDirectory;
    use sekoia_automation::{ActionContext, Secret};

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Config {
        #[allow(dead_code)]
        password: Secret<String>,
    }
    let config: Config = serde_json::from_value(json!({"password": MODULE_SECRET})).unwrap();
    let data = DataDirectory::new(std::env::temp_dir());
    let arguments = json!({"api_key": ITEM_SECRET, "ip": "1.2.3.4"});
    let action = format!("{:?}", ActionContext::new(&config, &arguments, &data));
    assert!(action.contains("api_key"), "the argument names: {action}");

    let env = trigger_support::Env::new();
    env.sandbox
        .set_json("module_configuration", &json!({"password": MODULE_SECRET}))
        .unwrap();
    env.sandbox
        .set_json("trigger_configuration", &json!({"api_key": ITEM_SECRET}))
        .unwrap();
    let trigger = Arc::new(Mutex::new(String::new()));
    let code = env.run(trigger_support::Scripted::new({
        let trigger = Arc::clone(&trigger);
        move |ctx, _| {
            assert_eq!(ctx.configuration()["api_key"], ITEM_SECRET);
            *trigger.lock().unwrap() = format!("{ctx:?}");
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let trigger = trigger.lock().unwrap().clone();
    assert!(trigger.contains("Scripted"), "{trigger}");

    let platform = LocalPlatform::start().unwrap();
    let sandbox = connector_sandbox(&platform);
    sandbox
        .set_json("module_configuration", &json!({"password": MODULE_SECRET}))
        .unwrap();
    sandbox
        .set_json(
            "connector_configuration",
            &json!({"intake_key": "KEY-OF-THE-INTAKE", "api_key": ITEM_SECRET}),
        )
        .unwrap();
    let out = Arc::new(Mutex::new(None));
    let connector = Checking {
        check: Some(Box::new(|ctx: &ConnectorContext<'_, Checking>| {
            assert_eq!(ctx.configuration()["api_key"], ITEM_SECRET);
            json!(format!("{ctx:?}"))
        })),
        out: Arc::clone(&out),
    };
    let code = Module::<Value>::with_settings(sandbox.settings())
        .register("checking", connector)
        .run_command("checking");
    assert_eq!(code, ExitCode::SUCCESS);
    let connector = out.lock().unwrap().take().expect("the check ran");
    let connector = connector.as_str().unwrap().to_string();
    assert!(connector.contains("Checking"), "{connector}");

    for shown in [&action, &trigger, &connector] {
        for secret in [MODULE_SECRET, ITEM_SECRET, "KEY-OF-THE-INTAKE"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // Nor escaped as Debug escapes strings.
        for secret in [MODULE_SECRET, ITEM_SECRET] {
            let escaped = format!("{secret:?}");
            assert!(!shown.contains(&escaped[1..escaped.len() - 1]), "{shown}");
        }
    }
}
