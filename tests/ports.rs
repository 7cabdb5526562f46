//! The three ports of `ports/` against their Python originals from the
//! automation library, run with the Python SDK 1.27 on the same fakes (the
//! crate's `LocalPlatform` and `FakeVendor`): the requests of both sides,
//! toward the vendor (method, path, query, body) and the platform (route,
//! body: an action's results and error, a connector's `/batch` bodies and
//! log messages), must be the same, except the differences
//! `docs/migrating.md` lists as intended.
//!
//! Ignored by default: it builds the port crates (standalone, in
//! `target/ports`) and needs the Python SDK and the library's checkout:
//!
//! ```text
//! SEKOIA_PYTHON=/tmp/sdk/bin/python SEKOIA_AUTOMATION_LIBRARY=/path/to/automation-library \
//!     cargo test --test ports -- --ignored
//! ```

#[path = "support/child.rs"]
mod child;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use child::Bounded;
use sekoia_automation::connector::Timestamp;
use sekoia_automation::testing::{FakeVendor, LocalPlatform, RecordedRequest, Reply, Sandbox};
use serde_json::{Value, json};

/// Runs a module of the library as the platform's container runs it
/// (`python main.py COMMAND`), its data directory moved from
/// `/symphony_data` to the sandbox's. `structlog`, which only writes to
/// stderr (Tehtris), is a no-op when the SDK's environment lacks it; the
/// `pydantic.v1` models of modules written for an older SDK (Tehtris,
/// Delinea) get the names of pydantic 2 that the SDK 1.27 calls.
const PYTHON_MAIN: &str = r#"
import os, runpy, sys, types
import pydantic.v1
pydantic.v1.BaseModel.model_validate = classmethod(lambda cls, value: cls.parse_obj(value))
pydantic.v1.BaseModel.model_dump = lambda self, **kwargs: self.dict(**kwargs)
pydantic.v1.BaseModel.model_dump_json = lambda self, **kwargs: self.json(**kwargs)
try:
    import structlog
except ImportError:
    class Anything:
        def __getattr__(self, name): return Anything()
        def __call__(self, *args, **kwargs): return Anything()
    shim = types.ModuleType("structlog")
    shim.__getattr__ = lambda name: Anything()
    sys.modules["structlog"] = shim
import sekoia_automation.constants as constants
constants.DATA_STORAGE = os.environ["PORT_DATA"]
module = sys.argv[1]
sys.path.insert(0, module)
os.chdir(module)
sys.argv = ["main.py", sys.argv[2]]
runpy.run_path("main.py", run_name="__main__")
"#;

/// The Python interpreter and the library's checkout, or `None` (with a
/// line saying how to run the comparison) when they are not given.
fn environment() -> Option<(PathBuf, PathBuf)> {
    let python = std::env::var_os("SEKOIA_PYTHON");
    let library = std::env::var_os("SEKOIA_AUTOMATION_LIBRARY");
    match (python, library) {
        (Some(python), Some(library)) => Some((python.into(), library.into())),
        _ => {
            eprintln!(
                "skipped: set SEKOIA_PYTHON (a python with sekoia-automation-sdk 1.27) and \
                 SEKOIA_AUTOMATION_LIBRARY (a checkout of SEKOIA-IO/automation-library) to compare \
                 the ports with their originals"
            );
            None
        }
    }
}

/// Builds the port crate `ports/<name>` and gives its binary.
fn build_port(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target/ports");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(root.join("ports").join(name).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output_within(child::BUILD_DEADLINE);
    assert!(
        output.status.success(),
        "cargo build of ports/{name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target.join("debug").join(name)
}

/// One side of a comparison: a Python original or its port.
enum Side<'a> {
    Python { python: &'a Path, module: &'a Path },
    Port { binary: &'a Path, module: &'a Path },
}

/// What to run: the command and its configuration values.
struct Run<'a> {
    command: &'a str,
    module_configuration: Value,
    arguments: Option<Value>,
    connector_configuration: Option<Value>,
    /// The `context.json` the data directory starts with.
    context: Option<Value>,
}

impl Side<'_> {
    /// Names the side and the command, for a panic message.
    fn describe(&self, run: &Run<'_>) -> String {
        match self {
            Side::Python { python, module } => {
                format!(
                    "{} ({}) {}",
                    python.display(),
                    module.display(),
                    run.command
                )
            }
            Side::Port { binary, .. } => format!("{} {}", binary.display(), run.command),
        }
    }

    /// Starts `run` against `platform`, in a fresh sandbox (kept alive by
    /// the caller as long as the process runs).
    fn start(&self, platform: &LocalPlatform, run: &Run<'_>) -> (Child, Sandbox) {
        let sandbox = Sandbox::new(platform).unwrap();
        if let Some(context) = &run.context {
            let file = sandbox.data_directory().join("context.json");
            std::fs::write(file, context.to_string()).unwrap();
        }
        let mut values = vec![(
            "module_configuration",
            Some(run.module_configuration.clone()),
        )];
        values.push(("arguments", run.arguments.clone()));
        values.push((
            "connector_configuration",
            run.connector_configuration.clone(),
        ));
        let mut command = match self {
            Side::Python { python, module } => {
                let mut command = Command::new(python);
                command
                    .arg("-c")
                    .arg(PYTHON_MAIN)
                    .arg(module)
                    .arg(run.command)
                    .env("PORT_DATA", sandbox.data_directory())
                    .env("TOKEN", platform.token())
                    .env("URL_CALLBACK", platform.callback_url())
                    .env("INTAKE_URL", platform.intake_url())
                    .env("LOG_LEVEL", "100");
                for (name, value) in &values {
                    if let Some(value) = value {
                        command.env(name.to_uppercase(), value.to_string());
                    }
                }
                command
            }
            Side::Port { binary, module } => {
                let manifest = std::fs::read_to_string(module.join("manifest.json")).unwrap();
                sandbox
                    .write_manifest(&serde_json::from_str(&manifest).unwrap())
                    .unwrap();
                for (name, value) in &values {
                    if let Some(value) = value {
                        sandbox.set_json(name, value).unwrap();
                    }
                }
                let mut command = sandbox.command(binary);
                command.arg(run.command).current_dir(module);
                command
            }
        };
        for variable in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
        ] {
            command.env_remove(variable);
        }
        let child = command
            .env("LIVENESS_PORT", free_port().to_string())
            .env("METRICS_PORT", free_port().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the module");
        (child, sandbox)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A vendor request as compared: method, path, query, JSON body (or text).
fn vendor_request(request: &RecordedRequest) -> Value {
    let body = request.json().unwrap_or_else(|| json!(request.body_text()));
    json!([request.method, request.path, request.query, body])
}

/// The platform requests as compared: for each, the route and the body
/// without what a clock or the SDK's version makes differ (log dates).
fn platform_requests(platform: &LocalPlatform) -> Vec<Value> {
    platform
        .requests()
        .iter()
        .map(|request| {
            let mut body = request.json().unwrap_or_else(|| json!(request.body_text()));
            strip_dates(&mut body);
            json!([request.method, request.route(), body])
        })
        .collect()
}

/// Removes what a clock makes differ (log dates, a `date` member) and
/// writes the secrets as the crate writes them in any text: `[REDACTED]`
/// (intended: the Python SDK writes them as they are).
fn strip_dates(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.remove("date");
            members.values_mut().for_each(strip_dates);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_dates),
        Value::String(text) => {
            let lines: Vec<&str> = text
                .split_inclusive('\n')
                .map(|line| match line.split_once(": ") {
                    // `2026-12-06 07:03:50.514581: error: ...` (action logs).
                    Some((date, rest))
                        if date.len() >= 19
                            && date.as_bytes()[4] == b'-'
                            && date.as_bytes()[13] == b':' =>
                    {
                        rest
                    }
                    _ => line,
                })
                .collect();
            *text = lines.concat();
            for secret in SECRETS {
                *text = text.replace(secret, "[REDACTED]");
            }
        }
        _ => {}
    }
}

/// The secrets of the modules' configurations.
const SECRETS: [&str; 3] = ["k-1234abcd", "tehtris-key-5678", "delinea-secret-90"];

/// Runs an action (or a validator) on both sides and gives, for each side,
/// its vendor requests and its platform requests.
fn compare_action(
    sides: [&Side<'_>; 2],
    vendor: &FakeVendor,
    run: &Run<'_>,
) -> [(Vec<Value>, Vec<Value>); 2] {
    sides.map(|side| {
        let platform = LocalPlatform::start().unwrap();
        let _ = vendor.requests();
        let before = vendor.requests().len();
        let (child, _sandbox) = side.start(&platform, run);
        let output = child::finish(child, &side.describe(run), child::DEADLINE);
        assert!(
            output.status.success(),
            "{}\nstderr:\n{}",
            run.command,
            String::from_utf8_lossy(&output.stderr)
        );
        let vendor_requests = vendor.requests()[before..]
            .iter()
            .map(vendor_request)
            .collect();
        (vendor_requests, platform_requests(&platform))
    })
}

#[test]
#[ignore = "builds ports/shodan and runs the Python original: needs SEKOIA_PYTHON and SEKOIA_AUTOMATION_LIBRARY"]
fn shodan_actions_send_what_the_original_sends() {
    let Some((python, library)) = environment() else {
        return;
    };
    let module = library.join("Shodan");
    let binary = build_port("shodan");
    let vendor = FakeVendor::start().unwrap();
    let host = r#"{"ip_str": "1.2.3.4", "asn": 18446744073709551617, "limit": 18446744073709551615, "ports": [22, 443], "score": 0.30000000000000004}"#;
    vendor.route("GET", "/shodan/host/1.2.3.4", Reply::json(200, host));
    vendor.route(
        "GET",
        "/shodan/host/5.6.7.8",
        Reply::json(200, r#"{"limit": 18446744073709551616}"#),
    );
    vendor.route(
        "GET",
        "/shodan/host/9.9.9.9",
        Reply::json(404, r#"{"error": "No information available for that IP."}"#),
    );
    vendor.route(
        "GET",
        "/dns/resolve",
        Reply::json(200, r#"{"a.example": "1.2.3.4", "b.example": null}"#),
    );
    vendor.route_with("GET", "/shodan/host/search", |request| {
        let page = if request
            .query
            .as_deref()
            .unwrap_or_default()
            .contains("page=2")
        {
            2
        } else {
            1
        };
        Reply::json(
            200,
            format!(r#"{{"total": 150, "matches": [{{"page": {page}}}]}}"#),
        )
    });
    vendor.route(
        "GET",
        "/account/profile",
        Reply::json(200, r#"{"member": true}"#),
    );
    let configuration = json!({"api_key": "k-1234abcd", "base_url": format!("{}/", vendor.url())});
    let python_side = Side::Python {
        python: &python,
        module: &module,
    };
    let port_side = Side::Port {
        binary: &binary,
        module: &module,
    };
    let runs = [
        (
            "get-shodan/host/{ip}",
            json!({"ip": "1.2.3.4", "minify": true, "history": false}),
        ),
        ("get-shodan/host/{ip}", json!({"ip": "9.9.9.9"})),
        ("get-shodan/host/{ip}", json!({"ip": "5.6.7.8"})),
        (
            "get-dns/resolve",
            json!({"hostnames": ["a.example", "b.example"]}),
        ),
        (
            "get-shodan/host/search",
            json!({"query": "apache country:FR", "max_pages": 2}),
        ),
        ("validate_module_configuration", json!({})),
    ];
    for (command, arguments) in runs {
        let run = Run {
            command,
            module_configuration: configuration.clone(),
            arguments: Some(arguments.clone()),
            connector_configuration: None,
            context: None,
        };
        let [
            (python_vendor, python_platform),
            (port_vendor, port_platform),
        ] = compare_action([&python_side, &port_side], &vendor, &run);
        assert!(
            !python_vendor.is_empty(),
            "{command}: the original sent nothing"
        );
        if command == "get-shodan/host/search" {
            // Intended: the original's second page loses the query (its
            // first `super().run` popped it from the arguments).
            assert_eq!(python_vendor[0], port_vendor[0], "{command} {arguments}");
            assert_eq!(
                python_vendor[1][2],
                json!(format!("key={}&page=2", "k-1234abcd")),
                "{command}"
            );
        } else {
            assert_eq!(
                python_vendor, port_vendor,
                "{command} {arguments}: vendor requests"
            );
        }
        if arguments["ip"] == "5.6.7.8" {
            // Intended: 2^64 is not above 2^64, so `sanitize_node` keeps it a
            // number, which `orjson` cannot write: the original reports
            // "Results are invalid"; the port sends it exactly.
            assert_eq!(
                python_platform[1][2]["error"],
                "Results are invalid: '{'limit': 18446744073709551616}'"
            );
            let finished = &port_platform[1][2];
            assert_eq!(
                finished["results"]["limit"].as_f64(),
                Some(18446744073709551616.0)
            );
            continue;
        }
        assert_eq!(
            python_platform, port_platform,
            "{command} {arguments}: platform requests"
        );
    }
}

/// What a connector did, as compared.
#[derive(Debug)]
struct Connected {
    /// Its vendor requests.
    vendor: Vec<Value>,
    /// Its `/batch` bodies.
    batches: Vec<Value>,
    /// Its log messages, `level: message`, in order.
    logs: Vec<String>,
    /// Its `context.json` when it was stopped.
    context: Value,
}

/// Runs a connector until its logs hold `last_log`, then kills it.
fn run_connector(
    side: &Side<'_>,
    vendor: &FakeVendor,
    run: impl Fn(&LocalPlatform) -> Run<'static>,
    last_log: &str,
) -> Connected {
    let platform = LocalPlatform::start().unwrap();
    let before = vendor.requests().len();
    let run = run(&platform);
    let (mut child, sandbox) = side.start(&platform, &run);
    let logged = |requests: &[RecordedRequest]| {
        requests
            .iter()
            .filter(|r| r.route() == "logs")
            .any(|r| r.body_text().contains(last_log))
    };
    let done = platform.wait_for(Duration::from_secs(60), logged);
    child.kill().unwrap();
    let output = child::finish(child, &side.describe(&run), child::DEADLINE);
    assert!(
        done,
        "{}: no log `{last_log}` within 60 s\nstderr:\n{}",
        run.command,
        String::from_utf8_lossy(&output.stderr)
    );
    let requests = platform.requests();
    let batches = requests
        .iter()
        .filter(|r| r.route() == "batch")
        .filter_map(RecordedRequest::json);
    let logs = requests
        .iter()
        .filter(|r| r.route() == "logs")
        .filter_map(RecordedRequest::json)
        .flat_map(|body| body["logs"].as_array().cloned().unwrap_or_default())
        .map(|log| {
            format!(
                "{}: {}",
                log["level"].as_str().unwrap_or_default(),
                log["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let context =
        std::fs::read_to_string(sandbox.data_directory().join("context.json")).unwrap_or_default();
    Connected {
        vendor: vendor.requests()[before..]
            .iter()
            .map(vendor_request)
            .collect(),
        batches: batches.collect(),
        logs,
        context: serde_json::from_str(&context).unwrap_or(Value::Null),
    }
}

/// `datetime.isoformat()` of an aware UTC date, `minutes` from now, to the second.
fn minutes_from_now(minutes: i64) -> String {
    let now = Timestamp::from(SystemTime::now()).micros_since_epoch() / 1_000_000 * 1_000_000;
    let date = SystemTime::UNIX_EPOCH + Duration::from_micros((now + minutes * 60_000_000) as u64);
    format!("{}+00:00", Timestamp::from(date).to_iso8601())
}

#[test]
#[ignore = "builds ports/tehtris and runs the Python original: needs SEKOIA_PYTHON and SEKOIA_AUTOMATION_LIBRARY"]
fn tehtris_connector_sends_what_the_original_sends() {
    let Some((python, library)) = environment() else {
        return;
    };
    let module = library.join("Tehtris");
    let binary = build_port("tehtris");
    let vendor = FakeVendor::start().unwrap();
    let (first, second) = (minutes_from_now(-20), minutes_from_now(-10));
    let events = json!([
        {"id": "a1", "time": second, "message": "user 𝔄da logged in — \"ok\"", "score": 0.1},
        {"id": "a2", "time": first, "message": "é", "nested": {"n": 9007199254740993u64}},
        {"id": "a1", "time": second, "message": "the same id again"},
    ]);
    vendor.route(
        "GET",
        "/api/xdr/v1/event",
        Reply::json(200, events.to_string()),
    );
    let checkpoint = minutes_from_now(-30);
    let run = |platform: &LocalPlatform| Run {
        command: "tehtris_events_trigger",
        module_configuration: json!({
            "apikey": "tehtris-key-5678", "tenant_id": "acme",
            "alternative_url": format!("{}/api/", vendor.url()),
        }),
        arguments: None,
        connector_configuration: Some(json!({
            "intake_key": "intake-key", "intake_server": platform.intake_url(),
            "frequency": 3600, "filter_id": 42,
        })),
        context: Some(json!({"most_recent_date_seen": checkpoint})),
    };
    let last_log = "Next batch in the future";
    let original = run_connector(
        &Side::Python {
            python: &python,
            module: &module,
        },
        &vendor,
        run,
        last_log,
    );
    let port = run_connector(
        &Side::Port {
            binary: &binary,
            module: &module,
        },
        &vendor,
        run,
        last_log,
    );
    assert_eq!(original.vendor.len(), 1, "{original:?}");
    assert_eq!(original.vendor, port.vendor, "vendor requests");
    assert_eq!(original.batches.len(), 1, "{original:?}");
    assert_eq!(original.batches, port.batches, "/batch bodies");
    assert_eq!(original.logs, port.logs, "log messages");
    assert_eq!(original.context, port.context, "context.json");
}

#[test]
#[ignore = "builds ports/delinea and runs the Python original: needs SEKOIA_PYTHON and SEKOIA_AUTOMATION_LIBRARY"]
fn delinea_async_connector_made_blocking_sends_what_the_original_sends() {
    let Some((python, library)) = environment() else {
        return;
    };
    let module = library.join("Delinea");
    let binary = build_port("delinea");
    let vendor = FakeVendor::start().unwrap();
    vendor.route(
        "POST",
        "/identity/api/oauth2/token/xpmplatform",
        Reply::json(200, r#"{"access_token": "token-1", "expires_in": 3600}"#),
    );
    let events = json!({"auditEvents": [
        {"eventMessageId": "m1", "eventDateTime": minutes_from_now(-20).replace("+00:00", ".603+00:00"), "details": "𝔄 — é"},
        {"eventMessageId": "m2", "eventDateTime": minutes_from_now(-10), "n": 1.5},
    ], "totalCount": 2});
    // Per run: the first page of the first poll has the events, every other page none.
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    vendor.route_with("GET", "/audit/api/audit-events", move |_| {
        match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json(200, events.to_string()),
            _ => Reply::json(200, r#"{"auditEvents": [], "totalCount": 2}"#),
        }
    });
    let checkpoint = minutes_from_now(-24 * 60);
    let run = |platform: &LocalPlatform| Run {
        command: "delinea_pra",
        module_configuration: json!({
            "client_id": "client-1", "client_secret": "delinea-secret-90", "base_url": vendor.url(),
        }),
        arguments: None,
        connector_configuration: Some(json!({
            "intake_key": "intake-key", "intake_server": platform.intake_url(), "frequency": 3600,
        })),
        context: Some(json!({"most_recent_date_seen": checkpoint})),
    };
    let last_log = "No new events fetched from Delinea PRA";
    let original = run_connector(
        &Side::Python {
            python: &python,
            module: &module,
        },
        &vendor,
        run,
        last_log,
    );
    calls.store(0, Ordering::SeqCst);
    let port = run_connector(
        &Side::Port {
            binary: &binary,
            module: &module,
        },
        &vendor,
        run,
        last_log,
    );
    // The end of the window is the time of the request: not compared.
    let without_end = |requests: &[Value]| -> Vec<Value> {
        requests
            .iter()
            .map(|request| {
                let mut request = request.clone();
                if let Some(query) = request[2].as_str() {
                    let kept: Vec<&str> = query
                        .split('&')
                        .filter(|p| !p.starts_with("EndDateTime="))
                        .collect();
                    request[2] = json!(kept.join("&"));
                }
                request
            })
            .collect()
    };
    let is_token = |request: &&Value| request[1] == "/identity/api/oauth2/token/xpmplatform";
    let (original_tokens, original_pages): (Vec<Value>, Vec<Value>) = without_end(&original.vendor)
        .into_iter()
        .partition(|r| is_token(&r));
    let (port_tokens, port_pages): (Vec<Value>, Vec<Value>) = without_end(&port.vendor)
        .into_iter()
        .partition(|r| is_token(&r));
    assert_eq!(original_pages.len(), 3, "{original:?}");
    assert_eq!(original_pages, port_pages, "audit event requests");
    // Intended: the port reuses its token until it expires; the original
    // asks for one before each page.
    assert_eq!(original_tokens.len(), 3, "{original:?}");
    assert_eq!(port_tokens, original_tokens[..1], "token requests");
    assert_eq!(original.batches, port.batches, "/batch bodies");
    assert_eq!(original.logs, port.logs, "log messages");
    let checkpoint = |connected: &Connected| connected.context["most_recent_date_seen"].clone();
    assert_eq!(
        checkpoint(&original),
        checkpoint(&port),
        "the checkpoint in context.json"
    );
}
