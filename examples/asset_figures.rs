//! The asset connector figure: 100,000 devices pushed in batches by this
//! crate's asset connector and by the Python SDK 1.27's, against the same
//! local platform, in the same run.
//!
//! ```text
//! SEKOIA_PYTHON=/tmp/sdk/bin/python cargo run --release --example asset_figures
//! ```
//!
//! Starts the embedded platform in this process, writes 100,000 OCSF
//! devices to a file, then runs each connector as a child process (the
//! same connector as `examples/asset_connector.rs`: one cycle pushing the
//! devices in batches of `batch_size` (100 by default, or `$BATCH_SIZE`),
//! waiting for each push's task, then a second cycle that finds nothing).
//! Each child reports the time of its first fetch cycle (from the first
//! `get_assets` call to the second) and its peak RSS (`VmHWM`); this
//! process times each child from spawn to exit. Printed: assets/s of the
//! cycle and of the whole process, and max RSS, for both, with the ratios.
//!
//! The child branch: `asset_figures devices` runs the module's connector as
//! the platform would.

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use schemars::JsonSchema;
use sekoia_automation::asset::{AssetConnector, AssetConnectorContext, Assets, DeviceOCSFModel};
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::{Module, TriggerError};
use serde::Deserialize;
use serde_json::{Value, json};

const DEVICES: usize = 100_000;
const UUID: &str = "6a2d1c3e-0000-4000-8000-00000000beef";

/// The Python SDK's side: `examples/asset_connector.rs`'s connector in
/// Python, timing its first cycle.
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
        import time
        self.cycles += 1
        if self.cycles == 1:
            self.started = time.perf_counter()
        elif self.cycles == 2:
            self.cycle_seconds = time.perf_counter() - self.started
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


connector = FileDevices(data_path=Path(sys.argv[1]))
connector.execute()
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
print(json.dumps({"cycle_seconds": connector.cycle_seconds, "max_rss_kib": int(hwm)}), flush=True)
"#;

#[derive(Deserialize, JsonSchema)]
struct FileConfiguration {
    devices: String,
    cycles: Option<u64>,
}

struct FileDevices {
    cycles: u64,
    started: Option<Instant>,
}

impl AssetConnector for FileDevices {
    type ModuleConfiguration = Value;
    type Configuration = FileConfiguration;
    type Checkpoint = usize;
    const NAME: &'static str = "File devices";
    const DESCRIPTION: &'static str = "Push the devices of a JSON file";
    const CHECKPOINT_KEY: &'static str = "pushed";

    fn get_assets(&mut self, assets: &mut Assets<'_, Self>) -> Result<(), TriggerError> {
        let ctx = assets.context();
        self.cycles += 1;
        match self.cycles {
            1 => self.started = Some(Instant::now()),
            2 => {
                let seconds = self.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
                println!("{}", json!({"cycle_seconds": seconds}));
            }
            _ => {}
        }
        if ctx
            .configuration()
            .cycles
            .is_some_and(|cycles| self.cycles > cycles)
        {
            ctx.stop();
            return Ok(());
        }
        // Each device is read into its model when it is pushed, as the
        // Python connector builds each model when it yields it.
        let text = std::fs::read(&ctx.configuration().devices)?;
        let devices: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&text)?;
        let pushed = ctx.checkpoint()?.unwrap_or(0);
        for (index, device) in devices.into_iter().enumerate().skip(pushed) {
            let device: DeviceOCSFModel = serde_json::from_str(device.get())?;
            assets.checkpoint(index + 1);
            assets.push(device)?;
        }
        Ok(())
    }

    fn mapped_fields(&self, _: &AssetConnectorContext<'_, Self>) -> Vec<(String, String)> {
        Vec::new()
    }
}

fn max_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn device(n: usize) -> Value {
    json!({
        "activity_id": 2, "activity_name": "Collect", "category_name": "Discovery",
        "category_uid": 5, "class_name": "Device Inventory Info", "class_uid": 5001,
        "type_name": "Device Inventory Info: Collect", "type_uid": 500102,
        "time": 1733200000.25 + n as f64,
        "metadata": {"product": {"name": "Vendor", "vendor_name": "Vendor Inc."}, "version": "1.5.0"},
        "device": {
            "type_id": 2, "type": "Desktop", "uid": format!("device-{n:08}"),
            "hostname": format!("pc-{n:08}.corp.example"),
            "os": {"name": "Windows 11 Pro", "type": "windows", "type_id": 100},
            "ip": format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256),
            "is_managed": n.is_multiple_of(2), "risk_score": n % 100,
            "last_seen_time": 1733200000.5,
            "network_interfaces": [{"mac": "aa:bb:cc:dd:ee:ff", "name": "eth0", "type": "Wired", "type_id": 1}]
        }
    })
}

struct Sample {
    cycle_seconds: f64,
    process_seconds: f64,
    max_rss_kib: u64,
}

fn measure(command: &mut Command) -> Sample {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run a connector");
    let process_seconds = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let mut sample = Sample {
        cycle_seconds: 0.0,
        process_seconds,
        max_rss_kib: 0,
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Ok(said) = serde_json::from_str::<Value>(line) {
            if let Some(seconds) = said["cycle_seconds"].as_f64() {
                sample.cycle_seconds = seconds;
            }
            if let Some(kib) = said["max_rss_kib"].as_u64() {
                sample.max_rss_kib = kib;
            }
        }
    }
    sample
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("devices") {
        let code = Module::<Value>::new()
            .register(
                "devices",
                FileDevices {
                    cycles: 0,
                    started: None,
                },
            )
            .run();
        println!("{}", json!({"max_rss_kib": max_rss_kib()}));
        return code;
    }
    let platform = LocalPlatform::start().expect("start the local platform");
    let directory = tempfile::tempdir().expect("a temporary directory");
    let file = directory.path().join("devices.json");
    let devices: Vec<Value> = (0..DEVICES).map(device).collect();
    std::fs::write(&file, serde_json::to_vec(&devices).expect("JSON")).expect("write devices");
    drop(devices);
    let batch_size: u64 = std::env::var("BATCH_SIZE")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(100);
    let configuration = json!({
        "sekoia_base_url": platform.base_url(),
        "sekoia_api_key": platform.token(),
        "frequency": 0,
        "batch_size": batch_size,
        "devices": file,
        "cycles": 1,
    });
    let pushes = |platform: &LocalPlatform| {
        platform
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/v2/") && r.status == 200)
            .map(|r| {
                r.json()
                    .map_or(0, |b| b["items"].as_array().map_or(0, Vec::len))
            })
            .sum::<usize>()
    };

    let ours_sandbox = Sandbox::new(&platform).expect("sandbox");
    // As the platform gives every connector (the Python SDK reads it at start).
    ours_sandbox.set("module_configuration", "{}").unwrap();
    ours_sandbox
        .set_json("connector_configuration", &configuration)
        .unwrap();
    ours_sandbox
        .set("connector_configuration_uuid", UUID)
        .unwrap();
    ours_sandbox.set("liveness_port", "0").unwrap();
    ours_sandbox.set("metrics_port", "0").unwrap();
    let exe = std::env::current_exe().expect("this example's path");
    let ours = measure(
        ours_sandbox
            .command(&exe)
            .arg("devices")
            .env("RUST_LOG", "off"),
    );
    let ours_pushed = pushes(&platform);
    platform.clear();

    let python_program = std::env::var("SEKOIA_PYTHON").unwrap_or_else(|_| "python3".into());
    let python_sandbox = Sandbox::new(&platform).expect("sandbox");
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port().to_string())
            .expect("a port")
    };
    let python = measure(
        Command::new(&python_program)
            .arg("-c")
            .arg(SCRIPT)
            .arg(python_sandbox.data_directory())
            .env("TOKEN", platform.token())
            .env("URL_CALLBACK", platform.callback_url())
            .env("MODULE_CONFIGURATION", "{}")
            .env("CONNECTOR_CONFIGURATION", configuration.to_string())
            .env("CONNECTOR_CONFIGURATION_UUID", UUID)
            .env("LIVENESS_PORT", free_port())
            .env("METRICS_PORT", free_port())
            .current_dir(python_sandbox.module_directory()),
    );
    let python_pushed = pushes(&platform);
    assert_eq!(ours_pushed, DEVICES, "ours pushed {ours_pushed}");
    assert_eq!(python_pushed, DEVICES, "Python pushed {python_pushed}");

    let rate = |seconds: f64| DEVICES as f64 / seconds;
    println!("{DEVICES} devices, batches of {batch_size}, each push's task waited for");
    println!(
        "  ours:   cycle {:.3} s ({:.0} assets/s), process {:.3} s ({:.0} assets/s), max RSS {:.1} MiB",
        ours.cycle_seconds,
        rate(ours.cycle_seconds),
        ours.process_seconds,
        rate(ours.process_seconds),
        ours.max_rss_kib as f64 / 1024.0
    );
    println!(
        "  Python: cycle {:.3} s ({:.0} assets/s), process {:.3} s ({:.0} assets/s), max RSS {:.1} MiB",
        python.cycle_seconds,
        rate(python.cycle_seconds),
        python.process_seconds,
        rate(python.process_seconds),
        python.max_rss_kib as f64 / 1024.0
    );
    println!(
        "  ratios: cycle {:.1}x, process {:.1}x, RSS {:.3} of Python's",
        python.cycle_seconds / ours.cycle_seconds,
        python.process_seconds / ours.process_seconds,
        ours.max_rss_kib as f64 / python.max_rss_kib as f64
    );
    ExitCode::SUCCESS
}
