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

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sekoia_automation::testing::{FakeVendor, LocalPlatform, RecordedRequest, Reply, Sandbox};
use serde_json::{Value, json};

/// Runs a module of the library as the platform's container runs it
/// (`python main.py COMMAND`), its data directory moved from
/// `/symphony_data` to the sandbox's.
const PYTHON_MAIN: &str = r#"
import os, runpy, sys
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
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(root.join("ports").join(name).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build of ports/{name} failed");
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
}

impl Side<'_> {
    /// Starts `run` against `platform`, in a fresh sandbox (kept alive by
    /// the caller as long as the process runs).
    fn start(&self, platform: &LocalPlatform, run: &Run<'_>) -> (Child, Sandbox) {
        let sandbox = Sandbox::new(platform).unwrap();
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
        let output = child.wait_with_output().unwrap();
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
