//! Asset connectors compared with the Python SDK 1.27's `AssetConnector`
//! on the wire: the same devices pushed by a Python asset connector and by
//! this crate's (`examples/asset_connector.rs`, a real process), each
//! against its own local platform, for the same fetch cycles. The push and
//! task requests must match (method, path, `Authorization`, `User-Agent`,
//! `Content-Type`, every body byte), the asset connector's log lines too
//! (level and text, the platform's address aside), and the files they
//! leave (`context.json`, `asset_schema_fields.json`) byte for byte.
//!
//! Cases: batches of a plain cycle, a 429 with `Retry-After`, a task that
//! fails, a task that never ends (its polls are timing-bound: their number
//! is not compared, only that they all ask about the first task), and a
//! change of the field mapping between two runs on the same data.
//!
//! Ignored by default: they need the Python SDK.
//!
//! ```text
//! SEKOIA_PYTHON=/tmp/sdk/bin/python cargo test --test asset_connector_python -- --ignored
//! ```

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sekoia_automation::testing::{AssetTasks, Fault, LocalPlatform, RecordedRequest, Sandbox};
use serde_json::{Value, json};
use support::child::Bounded;

const UUID: &str = "6a2d1c3e-0000-4000-8000-00000000beef";

/// The Python asset connector: the same as `examples/asset_connector.rs`
/// (a checkpoint `pushed` in `context.json`, `cycles`, `mapping`).
const SCRIPT: &str = r#"
import json, os, sys
from pathlib import Path
from sekoia_automation.asset_connector import AssetConnector
from sekoia_automation.asset_connector.models.connector import DefaultAssetConnectorConfiguration
from sekoia_automation.asset_connector.models.ocsf.device import DeviceOCSFModel


class FileConfiguration(DefaultAssetConnectorConfiguration):
    devices: str
    cycles: int | None = None
    mapping: dict[str, str] = {}


class FileDevices(AssetConnector):
    configuration: FileConfiguration

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cycles = 0
        self._pending = None
        self.context_path = Path(self.data_path) / "context.json"

    def _context(self):
        if self.context_path.is_file():
            return json.loads(self.context_path.read_text())
        return {}

    def _save(self, context):
        import orjson
        self.context_path.write_bytes(orjson.dumps(context))

    def get_assets(self):
        self.cycles += 1
        configuration = self.configuration
        if configuration.cycles is not None and self.cycles > configuration.cycles:
            self.stop()
            return
        devices = json.load(open(configuration.devices, encoding="utf-8"))
        pushed = self._context().get("pushed") or 0
        for index, device in list(enumerate(devices))[pushed:]:
            self._pending = index + 1
            yield DeviceOCSFModel(**device)

    def update_checkpoint(self):
        if self._pending is not None:
            context = self._context()
            context["pushed"] = self._pending
            self._save(context)

    def reset_checkpoint(self):
        context = self._context()
        if "pushed" in context:
            del context["pushed"]
            self._save(context)

    def get_mapped_fields(self):
        return dict(self.configuration.mapping)


FileDevices(data_path=Path(sys.argv[1])).execute()
"#;

fn python() -> String {
    std::env::var("SEKOIA_PYTHON")
        .expect("SEKOIA_PYTHON: a python with sekoia-automation-sdk==1.27.0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn devices(directory: &Path, count: usize) -> PathBuf {
    let devices: Vec<Value> = (0..count)
        .map(|n| {
            json!({
                "activity_id": 2, "activity_name": "Collect", "category_name": "Discovery",
                "category_uid": 5, "class_name": "Device Inventory Info", "class_uid": 5001,
                "type_name": "Device Inventory Info: Collect", "type_uid": 500102,
                "time": 1733200000.25 + n as f64,
                "metadata": {"product": {"name": "Vend\u{f6}r \u{1f600}"}, "version": "1.5.0"},
                "device": {
                    "type_id": 2, "type": "Desktop", "uid": format!("dev-{n}"),
                    "hostname": format!("pc \"{n}\""), "os": {"name": "Windows", "type_id": 100, "type": "windows"},
                    "is_managed": n.is_multiple_of(2), "risk_score": n, "first_seen_time": 1e16
                },
                "enrichments": [{"name": "e", "data": {"Storage_encryption": {"partitions": {"C:": "Enabled", "B:": "Disabled"}}}}]
            })
        })
        .collect();
    let path = directory.join("devices.json");
    std::fs::write(&path, serde_json::to_vec(&devices).unwrap()).unwrap();
    path
}

fn configuration(platform: &LocalPlatform, file: &Path, extra: &Value) -> Value {
    let mut configuration = json!({
        "sekoia_base_url": platform.base_url(),
        "sekoia_api_key": platform.token(),
        "frequency": 0,
        "batch_size": 2,
        "devices": file,
        "cycles": 2,
    });
    for (key, value) in extra.as_object().unwrap() {
        configuration[key] = value.clone();
    }
    configuration
}

/// One side: its platform and sandbox (kept across runs).
struct Side {
    platform: LocalPlatform,
    sandbox: Sandbox,
    python: bool,
}

impl Side {
    fn new(python: bool) -> Side {
        let platform = LocalPlatform::start().unwrap();
        let sandbox = Sandbox::new(&platform).unwrap();
        Side {
            platform,
            sandbox,
            python,
        }
    }

    fn run(&self, file: &Path, extra: &Value, env: &[(&str, &str)]) -> Output {
        let configuration = configuration(&self.platform, file, extra);
        let mut command = if self.python {
            let mut command = Command::new(python());
            command
                .arg("-c")
                .arg(SCRIPT)
                .arg(self.sandbox.data_directory())
                .env("TOKEN", self.platform.token())
                .env("URL_CALLBACK", self.platform.callback_url())
                .env("MODULE_CONFIGURATION", "{}")
                .env("CONNECTOR_CONFIGURATION", configuration.to_string())
                .env("CONNECTOR_CONFIGURATION_UUID", UUID)
                .env("LIVENESS_PORT", free_port().to_string())
                .env("METRICS_PORT", free_port().to_string())
                .current_dir(self.sandbox.module_directory());
            command
        } else {
            // As the platform gives every connector (the Python SDK reads it at start).
            self.sandbox.set("module_configuration", "{}").unwrap();
            self.sandbox
                .set_json("connector_configuration", &configuration)
                .unwrap();
            self.sandbox
                .set("connector_configuration_uuid", UUID)
                .unwrap();
            self.sandbox.set("liveness_port", "0").unwrap();
            self.sandbox.set("metrics_port", "0").unwrap();
            let mut command = self.sandbox.command(support::example("asset_connector"));
            command.arg("devices").env("RUST_LOG", "off");
            command
        };
        command.stdin(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output_bounded();
        support::assert_success(&output);
        output
    }

    /// The push and task requests, as comparable text; the platform's
    /// records are cleared.
    fn requests(&self) -> Vec<String> {
        let requests: Vec<RecordedRequest> = self
            .platform
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/v2/") || r.path.starts_with("/api/v1/tasks"))
            .collect();
        let bearer = format!("Bearer {}", self.platform.token());
        requests
            .iter()
            .map(|r| {
                assert_eq!(
                    r.header("authorization"),
                    Some(bearer.as_str()),
                    "{}",
                    r.path
                );
                format!(
                    "{} {} ua={:?} ct={:?}\n{}",
                    r.method,
                    r.path,
                    r.header("user-agent"),
                    r.header("content-type"),
                    r.body_text()
                )
            })
            .collect()
    }

    /// The asset connector's log lines (`level: message`), the platform's
    /// address replaced by `BASE`.
    fn logs(&self) -> Vec<String> {
        const OURS: &[&str] = &[
            "Starting a new asset fetch cycle",
            "Pushing assets",
            "Successfully posted",
            "Asset push task",
            "Asset connector push rate limited",
            "Rate limit hit",
            "Error while pushing",
            "Failed to push",
            "Unable to get the status",
            "Field mapping change",
            "Error while running asset connector",
        ];
        let base = self.platform.base_url();
        self.platform
            .requests()
            .into_iter()
            .filter(|r| r.route() == "logs")
            .flat_map(|r| r.json().unwrap()["logs"].as_array().cloned().unwrap())
            .filter_map(|log| {
                let message = log["message"].as_str()?.replace(&base, "BASE");
                OURS.iter()
                    .any(|prefix| message.starts_with(prefix))
                    .then(|| format!("{}: {message}", log["level"].as_str().unwrap()))
            })
            .collect()
    }

    fn file(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.sandbox.data_directory().join(name)).ok()
    }
}

/// Runs the same cycles on both sides; `prepare` sets each platform up.
fn compare(
    count: usize,
    runs: &[Value],
    env: &[(&str, &str)],
    prepare: impl Fn(&LocalPlatform),
) -> (Side, Side) {
    let python = Side::new(true);
    let ours = Side::new(false);
    let directory = tempfile::tempdir().unwrap();
    let file = devices(directory.path(), count);
    for extra in runs {
        for side in [&python, &ours] {
            side.platform.clear();
            prepare(&side.platform);
            side.run(&file, extra, env);
        }
        let requests = python.requests();
        let logs = python.logs();
        if std::env::var_os("ASSET_PARITY_SHOW").is_some() {
            eprintln!("{extra}\n{}\n{}", requests.join("\n"), logs.join("\n"));
        }
        assert!(!logs.is_empty(), "Python logged nothing for {extra}");
        assert_eq!(ours.requests(), requests, "requests of {extra}");
        assert_eq!(ours.logs(), logs, "logs of {extra}");
        for name in ["context.json", "asset_schema_fields.json"] {
            assert_eq!(ours.file(name), python.file(name), "{name} after {extra}");
        }
    }
    (python, ours)
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn batches_of_a_cycle_match_pythons() {
    let (python, _) = compare(5, &[json!({})], &[], |_| {});
    assert_eq!(
        python.file("context.json").as_deref(),
        Some(r#"{"pushed":5}"#)
    );
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_429_matches_pythons() {
    compare(3, &[json!({"cycles": 3})], &[], |platform| {
        platform.inject(
            Fault::status(429)
                .on_method("POST")
                .on_path_suffix("00000000beef")
                .with_header("Retry-After", "0.5"),
        );
    });
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_429_without_retry_after_uses_the_rate_limit_wait_as_python() {
    compare(
        1,
        &[json!({"cycles": 2})],
        &[("ASSET_CONNECTOR_RATE_LIMIT_WAIT", "0.25")],
        |platform| {
            platform.inject(
                Fault::status(429)
                    .on_method("POST")
                    .on_path_suffix("00000000beef"),
            );
        },
    );
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_refused_push_matches_pythons() {
    compare(3, &[json!({"cycles": 1})], &[], |platform| {
        platform.inject(
            Fault::status(400)
                .on_method("POST")
                .on_path_suffix("00000000beef"),
        );
    });
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_task_that_cannot_be_read_matches_pythons() {
    compare(6, &[json!({})], &[], |platform| {
        platform.inject(
            Fault::status(404)
                .on_method("GET")
                .on_path_suffix("-000000000001"),
        );
    });
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_failed_task_matches_pythons() {
    compare(3, &[json!({})], &[], |platform| {
        platform.set_asset_tasks(AssetTasks::Failed("disk \"full\" \u{e9}".into()));
    });
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_task_that_never_ends_matches_pythons() {
    let python = Side::new(true);
    let ours = Side::new(false);
    let directory = tempfile::tempdir().unwrap();
    let file = devices(directory.path(), 6);
    let env = [
        ("ASSET_CONNECTOR_TASK_POLL_TIMEOUT", "0.3"),
        ("ASSET_CONNECTOR_TASK_POLL_INTERVAL", "0.1"),
    ];
    let mut seen = Vec::new();
    for side in [&python, &ours] {
        side.platform.set_asset_tasks(AssetTasks::Running);
        side.run(&file, &json!({}), &env);
        let requests = side.requests();
        let posts: Vec<&String> = requests.iter().filter(|r| r.starts_with("POST")).collect();
        let gets: Vec<&String> = requests.iter().filter(|r| r.starts_with("GET")).collect();
        assert!(!gets.is_empty());
        assert!(
            gets.iter()
                .all(|g| g.starts_with("GET /api/v1/tasks/00000000-0000-4000-8000-000000000000 "))
        );
        let mut logs = side.logs();
        logs.dedup();
        seen.push((
            posts.into_iter().cloned().collect::<Vec<_>>(),
            gets[0].clone(),
            logs,
        ));
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_mapping_change_matches_pythons() {
    compare(
        3,
        &[
            json!({"mapping": {"id": "device.uid", "n\u{e4}me": "device.hostname"}}),
            json!({"mapping": {"id": "device.uid", "n\u{e4}me": "device.hostname"}}),
            json!({"mapping": {"id": "device.uid_alt", "ip": "device.ip"}}),
        ],
        &[],
        |_| {},
    );
}

#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn a_fingerprint_stored_by_python_is_accepted_without_a_reset() {
    // Python runs first on the data; ours then runs on the same files.
    let python = Side::new(true);
    let directory = tempfile::tempdir().unwrap();
    let file = devices(directory.path(), 3);
    let mapping = json!({"mapping": {"\u{1f600}": "device.uid", "b\"q": "device.name", "a": "x"}});
    python.run(&file, &mapping, &[]);
    let ours = Side::new(false);
    for name in ["context.json", "asset_schema_fields.json"] {
        std::fs::write(
            ours.sandbox.data_directory().join(name),
            python.file(name).unwrap(),
        )
        .unwrap();
    }
    ours.run(&file, &mapping, &[]);
    assert!(ours.requests().is_empty(), "nothing fetched again");
    assert!(
        !ours
            .logs()
            .iter()
            .any(|l| l.contains("Field mapping change"))
    );
    assert_eq!(
        ours.file("asset_schema_fields.json"),
        python.file("asset_schema_fields.json")
    );
}
