//! Asset connectors against the local platform, as a real process
//! (`examples/asset_connector.rs`): the push's URL, headers and bodies,
//! batches, checkpoints, the task wait, a 429, a failed task, a platform
//! that stops answering tasks, and a change of the field mapping. Every
//! run stops itself after a fixed number of fetch cycles.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use sekoia_automation::asset::AssetList;
use sekoia_automation::testing::{AssetTasks, Fault, LocalPlatform, RecordedRequest, Sandbox};
use serde_json::{Value, json};
use support::child::Bounded;

const UUID: &str = "6a2d1c3e-0000-4000-8000-00000000beef";
const PUSH: &str = "/api/v2/asset-management/asset-connector/6a2d1c3e-0000-4000-8000-00000000beef";

fn devices(directory: &Path, count: usize) -> PathBuf {
    let devices: Vec<Value> = (0..count)
        .map(|n| {
            json!({
                "activity_id": 2, "activity_name": "Collect", "category_name": "Discovery",
                "category_uid": 5, "class_name": "Device Inventory Info", "class_uid": 5001,
                "type_name": "Device Inventory Info: Collect", "type_uid": 500102,
                "time": 1733200000 + n,
                "metadata": {"product": {"name": "Vendor"}, "version": "1.5.0"},
                "device": {"type_id": 1, "type": "Server", "uid": format!("dev-{n}"), "hostname": format!("h\u{e9}-{n}")}
            })
        })
        .collect();
    let path = directory.join("devices.json");
    std::fs::write(&path, serde_json::to_vec(&devices).unwrap()).unwrap();
    path
}

fn run(
    platform: &LocalPlatform,
    sandbox: &Sandbox,
    file: &Path,
    extra: Value,
    env: &[(&str, &str)],
) {
    let mut configuration = json!({
        "sekoia_base_url": format!("{}/", platform.base_url()),
        "sekoia_api_key": platform.token(),
        "frequency": 0,
        "batch_size": 2,
        "devices": file,
        "cycles": 2,
    });
    for (key, value) in extra.as_object().unwrap() {
        configuration[key] = value.clone();
    }
    // As the platform gives every connector (the Python SDK reads it at start).
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox
        .set_json("connector_configuration", &configuration)
        .unwrap();
    sandbox.set("connector_configuration_uuid", UUID).unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    let mut command = sandbox.command(support::example("asset_connector"));
    command
        .arg("devices")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output_bounded();
    support::assert_success(&output);
}

fn asset_requests(platform: &LocalPlatform) -> Vec<RecordedRequest> {
    platform
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/") || r.path.starts_with("/api/v1/tasks"))
        .collect()
}

fn logs(platform: &LocalPlatform) -> Vec<(String, String)> {
    platform
        .requests()
        .into_iter()
        .filter(|r| r.route() == "logs")
        .flat_map(|r| {
            r.json().unwrap()["logs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|log| {
                    (
                        log["level"].as_str().unwrap().to_owned(),
                        log["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn has_log(platform: &LocalPlatform, level: &str, message: &str) -> bool {
    logs(platform)
        .iter()
        .any(|(l, m)| l == level && m == message)
}

#[test]
fn a_cycle_pushes_batches_with_pythons_url_headers_and_bodies_then_waits_for_each_task() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 5);
    run(&platform, &sandbox, &file, json!({}), &[]);
    let requests = asset_requests(&platform);
    let shape: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let task = |n: usize| format!("/api/v1/tasks/00000000-0000-4000-8000-{n:012}");
    assert_eq!(
        shape,
        [
            ("POST".to_owned(), PUSH.to_owned()),
            ("GET".to_owned(), task(0)),
            ("POST".to_owned(), PUSH.to_owned()),
            ("GET".to_owned(), task(1)),
            ("POST".to_owned(), PUSH.to_owned()),
            ("GET".to_owned(), task(2)),
        ]
    );
    let all: Vec<Value> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    for (n, request) in requests.iter().enumerate() {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {}", platform.token()).as_str())
        );
        assert_eq!(
            request.header("user-agent"),
            Some(format!("sekoiaio-asset-connector-{UUID}").as_str())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        if request.method == "POST" {
            // The body is json.dumps of the AssetList, batches of 2.
            let items: Vec<Value> = all.iter().skip(n / 2 * 2).take(2).cloned().collect();
            let list: AssetList =
                serde_json::from_value(json!({"version": 1, "items": items})).unwrap();
            assert_eq!(
                request.body_text(),
                String::from_utf8(list.to_python_json().unwrap()).unwrap()
            );
            assert!(
                request
                    .body_text()
                    .starts_with(r#"{"version": 1, "items": [{"activity_id": 2, "#)
            );
            assert!(request.body_text().contains(r#""hostname": "h\u00e9-"#));
        }
    }
    assert_eq!(
        std::fs::read_to_string(sandbox.data_directory().join("context.json")).unwrap(),
        r#"{"pushed":5}"#
    );
    let url = format!("{}{PUSH}", platform.base_url());
    assert!(has_log(
        &platform,
        "info",
        "Starting a new asset fetch cycle for connector FileDevices"
    ));
    assert!(has_log(
        &platform,
        "info",
        &format!("Pushing assets to Sekoia.io asset connector API at {url}")
    ));
    assert!(has_log(
        &platform,
        "info",
        "Successfully posted 2 assets to Sekoia.io asset connector API"
    ));
    assert!(has_log(
        &platform,
        "info",
        "Successfully posted 1 assets to Sekoia.io asset connector API"
    ));
    assert!(has_log(
        &platform,
        "info",
        "Asset push task 00000000-0000-4000-8000-000000000002 finished successfully"
    ));
}

#[test]
fn a_429_ends_the_cycle_and_pauses_for_retry_after_without_saving_the_checkpoint() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 3);
    platform.inject(
        Fault::status(429)
            .on_method("POST")
            .on_path_suffix("00000000beef")
            .with_header("Retry-After", "0.2"),
    );
    run(&platform, &sandbox, &file, json!({"cycles": 3}), &[]);
    assert!(has_log(
        &platform,
        "warning",
        "Asset connector push rate limited (HTTP 429). Waiting 0.2 seconds before refetching."
    ));
    assert!(has_log(
        &platform,
        "warning",
        "Rate limit hit, pausing connector for 0.2 seconds"
    ));
    let posts: Vec<Value> = asset_requests(&platform)
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.json().unwrap())
        .collect();
    // The refused batch is pushed again by the next cycle.
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[0], posts[1]);
    assert_eq!(
        std::fs::read_to_string(sandbox.data_directory().join("context.json")).unwrap(),
        r#"{"pushed":3}"#
    );
}

#[test]
fn a_failed_task_is_logged_with_its_error_and_the_checkpoint_stays() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 1);
    platform.set_asset_tasks(AssetTasks::Failed("disk \"full\"".into()));
    run(&platform, &sandbox, &file, json!({}), &[]);
    assert!(has_log(
        &platform,
        "error",
        "Asset push task 00000000-0000-4000-8000-000000000000 ended with the status FAILED - disk \"full\""
    ));
    assert_eq!(
        std::fs::read_to_string(sandbox.data_directory().join("context.json")).unwrap(),
        r#"{"pushed":1}"#
    );
}

#[test]
fn a_task_that_never_ends_is_given_up_and_the_cycle_stops_waiting_for_tasks() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 6);
    platform.set_asset_tasks(AssetTasks::Running);
    run(
        &platform,
        &sandbox,
        &file,
        json!({}),
        &[
            ("ASSET_CONNECTOR_TASK_POLL_TIMEOUT", "0.3"),
            ("ASSET_CONNECTOR_TASK_POLL_INTERVAL", "0.1"),
        ],
    );
    let requests = asset_requests(&platform);
    let gets: Vec<&RecordedRequest> = requests.iter().filter(|r| r.method == "GET").collect();
    assert!(gets.len() >= 2, "{gets:?}");
    assert!(gets.iter().all(|r| r.path.ends_with("-000000000000")));
    assert_eq!(requests.iter().filter(|r| r.method == "POST").count(), 3);
    assert!(has_log(
        &platform,
        "warning",
        "Asset push task 00000000-0000-4000-8000-000000000000 is still RUNNING after 0.3 seconds. Not waiting for the push tasks of the remaining batches of this cycle"
    ));
}

#[test]
fn a_platform_that_stops_answering_tasks_is_not_asked_again_this_cycle() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 4);
    platform.inject(
        Fault::status(503)
            .on_method("GET")
            .on_path_suffix("-000000000000"),
    );
    run(&platform, &sandbox, &file, json!({}), &[]);
    let gets = asset_requests(&platform)
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(gets, 1);
    assert!(has_log(
        &platform,
        "error",
        "Unable to get the status of the asset push task 00000000-0000-4000-8000-000000000000 - Server error - HTTP (503)"
    ));
}

#[test]
fn a_push_refused_is_logged_as_python_logs_it_and_saves_nothing() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 1);
    platform.inject(
        Fault::status(400)
            .on_method("POST")
            .on_path_suffix("00000000beef"),
    );
    run(&platform, &sandbox, &file, json!({"cycles": 1}), &[]);
    let url = format!("{}{PUSH}", platform.base_url());
    assert!(
        logs(&platform)
            .iter()
            .any(|(level, message)| level == "error"
                && message.starts_with(
                    "Error while pushing assets to Sekoia.io - Client error - HTTP (400) : "
                ))
    );
    assert!(has_log(
        &platform,
        "error",
        &format!("Failed to push assets to Sekoia.io asset connector API at {url}")
    ));
    assert!(!sandbox.data_directory().join("context.json").exists());
}

#[test]
fn a_mapping_change_resets_the_checkpoint_and_stores_the_new_fingerprint() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 2);
    let first = json!({"mapping": {"id": "device.uid", "name": "device.hostname"}});
    run(&platform, &sandbox, &file, first, &[]);
    let schema = sandbox.data_directory().join("asset_schema_fields.json");
    // hashlib.sha256(json.dumps(sorted({"id": "device.uid", "name": "device.hostname"}.items())).encode()).hexdigest()
    assert_eq!(
        std::fs::read_to_string(&schema).unwrap(),
        r#"{"fingerprint":"f283dae8cbaf54c6d30ade02fc724e9ca77a77f7c5d8d140e4f4d8743fac1abc","fields":{"id":"device.uid","name":"device.hostname"}}"#
    );
    platform.clear();
    run(
        &platform,
        &sandbox,
        &file,
        json!({"mapping": {"id": "device.uid", "name": "device.hostname"}}),
        &[],
    );
    assert_eq!(
        asset_requests(&platform).len(),
        0,
        "no reset when the mapping is the same"
    );
    platform.clear();
    let second = json!({"mapping": {"id": "device.uid_alt", "ip": "device.ip"}});
    run(&platform, &sandbox, &file, second, &[]);
    assert!(has_log(
        &platform,
        "info",
        "Field mapping change detected \u{2014} {'added': {'ip': 'device.ip'}, 'removed': {'name': 'device.hostname'}, 'changed': {'id': {'from': 'device.uid', 'to': 'device.uid_alt'}}}. Resetting checkpoint to re-fetch all assets."
    ));
    // Every device pushed again.
    assert_eq!(
        asset_requests(&platform)
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );
    assert!(
        std::fs::read_to_string(&schema)
            .unwrap()
            .ends_with(r#""fields":{"id":"device.uid_alt","ip":"device.ip"}}"#)
    );
}

#[test]
fn run_local_runs_an_asset_connector_against_the_local_platform() {
    let directory = tempfile::tempdir().unwrap();
    let file = devices(directory.path(), 3);
    let output = std::process::Command::new(support::example("asset_connector"))
        .args([
            "run-local",
            "devices",
            "cycles=1",
            "frequency=0",
            "batch_size=2",
        ])
        .arg(format!("devices={}", file.display()))
        .current_dir(directory.path())
        .stdin(Stdio::null())
        .output_bounded();
    support::assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("asset push #1: 2 assets, HTTP 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains("asset push #2: 1 assets, HTTP 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains("asset pushes: 2, assets accepted by the platform: 3"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"checkpoint (context.json): {"pushed":3}"#),
        "{stdout}"
    );
}

#[test]
fn the_environment_overrides_the_batch_size_and_gives_the_base_when_the_configuration_has_none() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 4);
    let base = platform.base_url();
    run(
        &platform,
        &sandbox,
        &file,
        json!({"sekoia_base_url": null, "batch_size": 2}),
        &[
            ("ASSET_CONNECTOR_BATCH_SIZE", "3"),
            ("ASSET_CONNECTOR_PRODUCTION_BASE_URL", &base),
        ],
    );
    let sizes: Vec<usize> = asset_requests(&platform)
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.json().unwrap()["items"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [3, 1]);
}

/// Pushes every device of the file, ignoring what the pushes return.
struct Ignoring {
    cycles: u64,
    devices: Vec<sekoia_automation::asset::DeviceOCSFModel>,
}

impl sekoia_automation::asset::AssetConnector for Ignoring {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Checkpoint = u64;
    const NAME: &'static str = "Ignoring";
    const DESCRIPTION: &'static str = "Push, ignoring errors";

    fn get_assets(
        &mut self,
        assets: &mut sekoia_automation::asset::Assets<'_, Self>,
    ) -> Result<(), sekoia_automation::TriggerError> {
        self.cycles += 1;
        if self.cycles > 1 {
            assets.context().stop();
            return Ok(());
        }
        for device in self.devices.clone() {
            let _ignored = assets.push(device);
        }
        Ok(())
    }
}

#[test]
fn a_429_ends_the_cycle_even_when_the_connector_ignores_the_error() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let file = devices(sandbox.path(), 3);
    let list: Vec<Value> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let devices = list
        .into_iter()
        .map(|device| serde_json::from_value(device).unwrap())
        .collect();
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox
        .set_json(
            "connector_configuration",
            &json!({
                "sekoia_base_url": platform.base_url(),
                "sekoia_api_key": platform.token(),
                "frequency": 0,
                "batch_size": 1,
            }),
        )
        .unwrap();
    sandbox.set("connector_configuration_uuid", UUID).unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    platform.inject(
        Fault::status(429)
            .on_method("POST")
            .on_path_suffix("00000000beef")
            .with_header("Retry-After", "0.1"),
    );
    let code = sekoia_automation::Module::<Value>::with_settings(sandbox.settings())
        .register("ignoring", Ignoring { cycles: 0, devices })
        .run_command("ignoring");
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let posts = asset_requests(&platform)
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 1, "no push after the 429 in the same cycle");
    assert!(has_log(
        &platform,
        "warning",
        "Rate limit hit, pausing connector for 0.1 seconds"
    ));
}
