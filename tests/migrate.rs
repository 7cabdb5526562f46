//! A module ported from Python keeps what the platform knows it by: the
//! Tidewatch port (`examples/tidewatch.rs`) regenerates the checked-in
//! manifests of the Python module (`tests/fixtures/tidewatch/`: hand-written
//! ones in several styles, and one written by the Python SDK's generator)
//! byte for byte, passes `check-module`, and talks to the platform and to
//! a fake vendor as the Python module does.

#[path = "../examples/tidewatch.rs"]
#[allow(dead_code)]
mod tidewatch;

#[path = "support/child.rs"]
mod child;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use child::Bounded;
use sekoia_automation::Module;
use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::unversioned::ModuleItems;
use sekoia_automation::unversioned::check::{Rules, check};
use sekoia_automation::unversioned::generate;
use sekoia_automation::vendor::Api;
use serde_json::{Value, json};

const FILES: [&str; 5] = [
    "manifest.json",
    "action_get_tidewatch_host.json",
    "action_search_tidewatch_hosts.json",
    "action_tag_tidewatch_host.json",
    "action_resolve_domain.json",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tidewatch")
}

/// A copy of the Python module's checked-in manifests.
fn library_copy() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for name in FILES {
        std::fs::copy(fixtures().join(name), directory.path().join(name)).unwrap();
    }
    directory
}

fn texts(problems: &[sekoia_automation::unversioned::check::Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn generate_files_leaves_the_checked_in_manifests_unchanged() {
    let directory = library_copy();
    let module = tidewatch::register(Module::new());
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    let names: Vec<&str> = files.iter().map(|file| file.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "manifest.json",
            "action_get_tidewatch_host.json",
            "action_search_tidewatch_hosts.json",
            "action_tag_tidewatch_host.json",
            "action_resolve_domain.json",
        ]
    );
    for file in &files {
        let checked_in = std::fs::read_to_string(fixtures().join(&file.file_name)).unwrap();
        assert_eq!(file.contents, checked_in, "{}", file.file_name);
    }
    assert_eq!(
        generate::write(directory.path(), &files).unwrap(),
        [false; 5],
        "nothing rewritten"
    );
    let code = tidewatch::register(Module::new()).run_invocation(
        "generate-files",
        vec![directory.path().display().to_string()],
    );
    assert_eq!(code, ExitCode::SUCCESS);
    for name in FILES {
        assert_eq!(
            std::fs::read(directory.path().join(name)).unwrap(),
            std::fs::read(fixtures().join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn check_module_accepts_the_faithful_port() {
    let directory = library_copy();
    let module = tidewatch::register(Module::new());
    let problems = check(
        directory.path(),
        Some(&ModuleItems::new(module.items())),
        &Rules::default(),
    );
    assert_eq!(texts(&problems), Vec::<String>::new());
    // The manifests alone, too.
    assert_eq!(
        texts(&check(directory.path(), None, &Rules::default())),
        Vec::<String>::new()
    );
    let code = tidewatch::register(Module::new())
        .run_invocation("check-module", vec![directory.path().display().to_string()]);
    assert_eq!(code, ExitCode::SUCCESS);
}

#[test]
fn a_changed_item_is_rewritten_in_its_files_style_keeping_what_the_code_does_not_own() {
    let directory = library_copy();
    // An edited description in the 4-space, sorted-keys file: the port
    // states no description, so the file's is kept as it is.
    let path = directory.path().join("action_get_tidewatch_host.json");
    let original = std::fs::read_to_string(&path).unwrap();
    let edited = original.replace("Get everything Tidewatch knows about a host", "Get a host");
    std::fs::write(&path, &edited).unwrap();
    // A Python-generated file missing a title: rewritten with its escapes
    // and without a final newline, as Python wrote it.
    let path = directory.path().join("action_resolve_domain.json");
    let original_resolve = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        original_resolve.replacen("\"title\": \"Domain\",\n", "", 1),
    )
    .unwrap();
    let module = tidewatch::register(Module::new());
    let items = ModuleItems::new(module.items());
    let problems = texts(&check(directory.path(), Some(&items), &Rules::default()));
    assert_eq!(
        problems,
        [
            "action_resolve_domain.json: is out of date with the code (`arguments` differ): run generate-files"
        ]
    );
    let files = generate::generate(directory.path(), &items).unwrap();
    assert_eq!(files[1].contents, edited, "the file's description, kept");
    assert_eq!(files[4].contents, original_resolve);

    // A description the code states is the code's: written in the file's
    // style (4 spaces, sorted keys), the rest of its bytes kept.
    let module = Module::<tidewatch::Configuration>::new().register(
        "get-host",
        Api::get("host/{ip}")
            .query(&["history", "minify"])
            .description("Get everything Tidewatch knows about a host"),
    );
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    assert_eq!(files[1].file_name, "action_get_tidewatch_host.json");
    assert_eq!(files[1].contents, original, "back to the checked-in bytes");
}

#[test]
fn a_port_without_its_manifests_is_told_what_to_state() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("manifest.json"),
        directory.path().join("manifest.json"),
    )
    .unwrap();
    let module = tidewatch::register(Module::new());
    let items = ModuleItems::new(module.items());
    let error = generate::generate(directory.path(), &items).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(
            "the item registered under `get-host` states no name, and no `action_*.json` of "
        ),
        "{message}"
    );
    assert!(
        message.contains(r#"has `"docker_parameters": "get-host"`: copy the item's manifest file"#)
    );
    assert!(message.contains(r#"state its name (`.name("...")` on an `Api` action)"#));
    let problems = texts(&check(directory.path(), Some(&items), &Rules::default()));
    assert_eq!(problems, [format!("manifest.json: {message}")]);
}

#[test]
fn a_new_module_directory_gets_the_stated_identity() {
    use sekoia_automation::config::Identity;

    let directory = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("manifest.json"),
        directory.path().join("manifest.json"),
    )
    .unwrap();
    const GET_HOST: Identity = Identity::new()
        .uuid("0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52")
        .slug("get_host")
        .file("action_get_tidewatch_host.json");
    let module = Module::<tidewatch::Configuration>::new()
        .register(
            "get-host",
            Api::get("host/{ip}")
                .name("Get host")
                .description("Get everything Tidewatch knows about a host")
                .identity(GET_HOST),
        )
        .register("tag-host", Api::post("host/{ip}/tags").name("Tag host"))
        .register("ResolveDomain", tidewatch::ResolveDomain);
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    let parsed = |name: &str| -> Value {
        let file = files.iter().find(|file| file.file_name == name).unwrap();
        serde_json::from_str(&file.contents).unwrap()
    };
    let host = parsed("action_get_tidewatch_host.json");
    let keys: Vec<&String> = host.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "description",
            "uuid",
            "slug",
            "docker_parameters",
            "arguments",
            "results"
        ]
    );
    assert_eq!(host["uuid"], "0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52");
    assert_eq!(host["slug"], "get_host");
    assert_eq!(host["docker_parameters"], "get-host");
    // Documented by hand, but there is no file yet: what the Python
    // generator writes for an item without a model.
    assert_eq!(host["arguments"], json!({}));
    assert_eq!(host["results"], json!({}));
    // Nothing stated but the name: derived from it.
    let tag = parsed("action_tag_host.json");
    assert_eq!(tag["description"], "Tag host");
    assert!(tag.get("slug").is_none(), "no slug stated, none written");
    // Not stated: derived as the Python generator derives it.
    let resolve = parsed("action_resolve_domain.json");
    let python: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("action_resolve_domain.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        resolve, python,
        "the same content as the Python generator's"
    );
}

#[test]
fn a_stated_file_must_have_its_kind_prefix() {
    use sekoia_automation::config::{Documented, Identity};
    use sekoia_automation::{Action, ActionContext, ActionError, Outcome};

    struct Misnamed;
    impl Action for Misnamed {
        type ModuleConfiguration = ();
        type Arguments = Documented;
        type Results = Documented;
        const NAME: &'static str = "Misnamed";
        const DESCRIPTION: &'static str = "A file without its prefix";
        const IDENTITY: Identity = Identity::new().file("get_host.json");
        fn run(
            &self,
            _: &ActionContext<'_, ()>,
            _: Documented,
        ) -> Result<Outcome<Documented>, ActionError> {
            Ok(Outcome::none())
        }
    }
    let directory = library_copy();
    let module = Module::<()>::new().register("misnamed", Misnamed);
    let error =
        generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the item registered under `misnamed` states the manifest file `get_host.json`, which does not start with `action_`: the tooling finds action manifests by that prefix; state the file name the module has (`action_….json`)"
    );
}

/// Edits a JSON file of `directory` in place.
fn edit(directory: &Path, name: &str, change: impl FnOnce(&mut Value)) {
    let path = directory.join(name);
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut value);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

#[test]
fn the_manifest_only_check_still_finds_the_real_defects() {
    let directory = library_copy();
    edit(directory.path(), "manifest.json", |manifest| {
        manifest["version"] = json!("1.4");
        manifest["configuration"]["secrets"] = json!(["api_key", "password"]);
    });
    edit(
        directory.path(),
        "action_get_tidewatch_host.json",
        |manifest| {
            manifest["results"]["properties"]["data"]["items"]["$ref"] =
                json!("#/definitions/Banners");
        },
    );
    edit(
        directory.path(),
        "action_tag_tidewatch_host.json",
        |manifest| {
            manifest["uuid"] = json!("6a1d4c2e-93b7-4f05-8e61-2c9d0b7a3f58");
        },
    );
    assert_eq!(
        texts(&check(directory.path(), None, &Rules::default())),
        [
            "manifest.json: `version` \"1.4\" is not semver: expected MAJOR.MINOR.PATCH, three numbers without leading zeros (e.g. 1.4.0)",
            "manifest.json: `configuration.secrets` declares `password`, which is not in `configuration.properties`: add the property or remove the secret",
            "action_get_tidewatch_host.json: `results` is not a valid JSON Schema: /properties/data/items/$ref: `#/definitions/Banners` does not resolve in this schema",
            "action_tag_tidewatch_host.json: `uuid` is the module's uuid: each item needs its own",
        ]
    );
}

/// One request the fake vendor received.
#[derive(Debug, Clone, PartialEq)]
struct VendorRequest {
    method: String,
    target: String,
    authorization: Option<String>,
    accept: Option<String>,
    content_type: Option<String>,
    body: String,
}

/// A vendor API on 127.0.0.1 answering every request with one status and
/// body, for at most `limit` requests (each connection closed after its
/// answer); what it received is kept.
struct FakeVendor {
    base_url: String,
    received: Arc<Mutex<Vec<VendorRequest>>>,
}

impl FakeVendor {
    fn start(status: u16, answer: &'static str, limit: usize) -> FakeVendor {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}/v2/", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(limit) {
                let Ok(mut stream) = stream else { return };
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let target = parts.next().unwrap_or_default().to_string();
                let mut length = 0;
                let mut authorization = None;
                let mut accept = None;
                let mut content_type = None;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    let (name, value) = header.split_once(':').unwrap();
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap(),
                        "authorization" => authorization = Some(value.trim().to_string()),
                        "accept" => accept = Some(value.trim().to_string()),
                        "content-type" => content_type = Some(value.trim().to_string()),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                kept.lock().unwrap().push(VendorRequest {
                    method,
                    target,
                    authorization,
                    accept,
                    content_type,
                    body: String::from_utf8(body).unwrap(),
                });
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        FakeVendor { base_url, received }
    }

    fn received(&self) -> Vec<VendorRequest> {
        self.received.lock().unwrap().clone()
    }
}

/// Runs `command` of the port against the embedded platform, configured
/// for `vendor`, with the Tidewatch manifest; the platform's requests.
fn run(vendor: &FakeVendor, command: &str, arguments: Value) -> (ExitCode, Vec<RecordedRequest>) {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": "tw-\"quoted\"-key"}));
    let sandbox = Sandbox::new(&platform).unwrap();
    std::fs::copy(fixtures().join("manifest.json"), sandbox.manifest_path()).unwrap();
    sandbox
        .set_json(
            "module_configuration",
            &json!({"base_url": vendor.base_url}),
        )
        .unwrap();
    sandbox.set_json("arguments", &arguments).unwrap();
    let code = tidewatch::register(Module::with_settings(sandbox.settings())).run_command(command);
    (code, platform.requests())
}

#[test]
fn the_vendors_answer_passes_through_as_the_results() {
    // Floats needing exact parsing, an astral character, a quote.
    const ANSWER: &str = r#"{"ip_str": "198.51.100.7", "ports": [22, 443], "score": 0.30000000000000004, "org": "𝔗idewatch \"labs\"", "data": []}"#;
    let vendor = FakeVendor::start(200, ANSWER, 1);
    let (code, requests) = run(
        &vendor,
        "get-host",
        json!({"ip": "198.51.100.7", "history": true}),
    );
    assert_eq!(code, ExitCode::SUCCESS);
    let received = vendor.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].method, "GET");
    assert_eq!(received[0].target, "/v2/host/198.51.100.7?history=True");
    assert_eq!(
        received[0].body, "{}",
        "GenericAPIAction sends a body on GET"
    );
    assert_eq!(
        received[0].authorization.as_deref(),
        Some("Bearer tw-\"quoted\"-key")
    );
    let finished = requests
        .iter()
        .filter_map(RecordedRequest::json)
        .rfind(|body| body["status"] == "finished")
        .unwrap();
    assert_eq!(
        finished["results"],
        serde_json::from_str::<Value>(ANSWER).unwrap()
    );
    assert!(
        requests.last().unwrap().body_text().contains(
            r#""results": {"ip_str": "198.51.100.7", "ports": [22, 443], "score": 0.30000000000000004"#
        ),
        "{}",
        requests.last().unwrap().body_text()
    );
}

#[test]
fn the_remaining_arguments_are_the_json_body() {
    // A 204: the reference's only answer without results (an empty 200 is
    // not JSON, and fails there as here).
    let vendor = FakeVendor::start(204, "", 1);
    let (code, requests) = run(
        &vendor,
        "tag-host",
        json!({"ip": "198.51.100.7", "tags": ["scanner", "cloud provider"]}),
    );
    assert_eq!(code, ExitCode::SUCCESS);
    let received = vendor.received();
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].target, "/v2/host/198.51.100.7/tags");
    assert_eq!(
        received[0].body,
        r#"{"tags": ["scanner", "cloud provider"]}"#
    );
    assert_eq!(
        requests.last().unwrap().body_text(),
        r#"{"status": "finished"}"#,
        "a 204: no results"
    );
}

#[test]
fn an_account_the_vendor_refuses_is_not_valid_without_an_error() {
    let vendor = FakeVendor::start(401, r#"{"message": "bad key"}"#, 1);
    let (code, requests) = run(&vendor, "validate_module_configuration", json!({}));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(vendor.received()[0].target, "/v2/account");
    assert_eq!(
        requests.last().unwrap().body_text(),
        r#"{"status": "finished", "results": {"success": false}}"#
    );
}

#[test]
fn the_documentation_reads_the_hand_written_manifests() {
    let page = sekoia_automation::unversioned::documentation::from_directory(&fixtures()).unwrap();
    assert!(page.starts_with("# Tidewatch\n"), "{page}");
    assert!(
        page.contains("| `api_key` | `string` | yes |  | Tidewatch API key (secret) |"),
        "{page}"
    );
    assert!(page.contains("Get everything Tidewatch knows about a host"));
    assert!(
        page.contains("| `ip` | `string` | yes |  | The IP address of the host |"),
        "{page}"
    );
}

/// What one run sent: to the platform (method, path, body) and to the
/// vendor.
#[derive(Debug, PartialEq)]
struct Traffic {
    platform: Vec<(String, String, String)>,
    vendor: Vec<VendorRequest>,
}

fn traffic(platform: &LocalPlatform, vendor: &FakeVendor) -> Traffic {
    Traffic {
        platform: platform
            .requests()
            .iter()
            .map(|request| {
                (
                    request.method.clone(),
                    request.path.clone(),
                    request.body_text(),
                )
            })
            .collect(),
        vendor: vendor.received(),
    }
}

/// The module configuration of a parity run. The Python SDK checks the
/// required properties before it merges the secrets, so the secret is
/// there too, replaced by the platform's value.
fn configuration(vendor: &FakeVendor) -> Value {
    json!({"base_url": vendor.base_url, "api_key": "replaced by the secret"})
}

const SECRETS: &str = r#"{"api_key": "tw-\"quoted\"-key"}"#;

/// The Python original (`tests/fixtures/tidewatch/python/main.py`) run as
/// the platform runs it: the values in the environment, the manifest in
/// the working directory.
fn python_run(
    python: &str,
    command: &str,
    arguments: &Value,
    answer: (u16, &'static str),
) -> Traffic {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(serde_json::from_str(SECRETS).unwrap());
    let vendor = FakeVendor::start(answer.0, answer.1, 1);
    let directory = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("manifest.json"),
        directory.path().join("manifest.json"),
    )
    .unwrap();
    let output = std::process::Command::new(python)
        .arg(fixtures().join("python/main.py"))
        .arg(command)
        .current_dir(directory.path())
        .env("TOKEN", platform.token())
        .env("URL_CALLBACK", platform.callback_url())
        .env("MODULE_CONFIGURATION", configuration(&vendor).to_string())
        .env("ARGUMENTS", arguments.to_string())
        .output_bounded();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    traffic(&platform, &vendor)
}

/// The traffic with what differs between two runs taken out: the time of
/// each log line (`2026-11-28 07:53:24.863044: `) and the fake vendor's
/// port (each run has its own vendor).
fn normalized(mut traffic: Traffic) -> Traffic {
    fn scrub(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("127.0.0.1:") {
                let digits =
                    after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                out.push_str("127.0.0.1:PORT");
                rest = &after[digits..];
                continue;
            }
            // `YYYY-MM-DD HH:MM:SS.ffffff`
            let shape = "dddd-dd-dd dd:dd:dd.dddddd";
            if rest.len() >= shape.len()
                && rest
                    .bytes()
                    .zip(shape.bytes())
                    .all(|(byte, expected)| match expected {
                        b'd' => byte.is_ascii_digit(),
                        other => byte == other,
                    })
            {
                out.push_str("DATE");
                rest = &rest[shape.len()..];
                continue;
            }
            let next = rest.chars().next().unwrap();
            out.push(next);
            rest = &rest[next.len_utf8()..];
        }
        out
    }
    for (_, _, body) in &mut traffic.platform {
        *body = scrub(body);
    }
    traffic
}

/// The port, run in process against a sandbox.
fn rust_run(command: &str, arguments: &Value, answer: (u16, &'static str)) -> Traffic {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(serde_json::from_str(SECRETS).unwrap());
    let vendor = FakeVendor::start(answer.0, answer.1, 1);
    let sandbox = Sandbox::new(&platform).unwrap();
    std::fs::copy(fixtures().join("manifest.json"), sandbox.manifest_path()).unwrap();
    sandbox
        .set_json("module_configuration", &configuration(&vendor))
        .unwrap();
    sandbox.set_json("arguments", arguments).unwrap();
    let code = tidewatch::register(Module::with_settings(sandbox.settings())).run_command(command);
    assert_eq!(code, ExitCode::SUCCESS);
    traffic(&platform, &vendor)
}

/// The port against the Python original, request by request (the method
/// of docs/migrating.md §10). Needs a Python with the reference SDK:
///
/// ```sh
/// python3 -m venv /tmp/sdk && /tmp/sdk/bin/pip install sekoia-automation-sdk==1.27.0
/// TIDEWATCH_PYTHON=/tmp/sdk/bin/python cargo test --test migrate -- --ignored
/// ```
#[test]
#[ignore = "runs the Python original: set SEKOIA_PYTHON (or TIDEWATCH_PYTHON) to a python with sekoia-automation-sdk 1.27.0"]
fn the_port_sends_what_the_python_original_sends() {
    let Some(python) = tidewatch_python() else {
        return;
    };
    let cases: [(&str, Value, &'static str); 4] = [
        (
            "get-host",
            json!({"ip": "198.51.100.7", "history": true}),
            r#"{"ip_str": "198.51.100.7", "ports": [22, 443], "score": 0.30000000000000004, "org": "𝔗idewatch \"labs\""}"#,
        ),
        (
            "search-hosts",
            json!({"query": "port:22 country:FR & more", "page": 2}),
            r#"{"total": 1, "matches": [{"ip_str": "198.51.100.7"}]}"#,
        ),
        (
            "tag-host",
            json!({"ip": "198.51.100.7", "tags": ["scanner", "é"]}),
            r#"{"tags": ["scanner", "é"]}"#,
        ),
        (
            "ResolveDomain",
            json!({"domain": "tidewatch.example"}),
            r#"{"domain": "tidewatch.example", "resolutions": [{"address": "198.51.100.7", "first_seen": null}]}"#,
        ),
    ];
    for (command, arguments, answer) in cases {
        let python = python_run(&python, command, &arguments, (200, answer));
        let rust = rust_run(command, &arguments, (200, answer));
        assert_eq!(
            rust, python,
            "{command}: the port (left) and the original (right)"
        );
    }
}

/// The vendor error paths, against the Python original: a 4xx with the
/// vendor's `message` and one without, on a `GenericAPIAction` (the error
/// log with its context, then the finished PATCH with the error) and on
/// the account validator.
#[test]
#[ignore = "runs the Python original: set SEKOIA_PYTHON (or TIDEWATCH_PYTHON) to a python with sekoia-automation-sdk 1.27.0"]
fn the_port_fails_as_the_python_original_fails() {
    let Some(python) = tidewatch_python() else {
        return;
    };
    let host = json!({"ip": "198.51.100.7", "history": true});
    let cases: [(&str, Value, (u16, &'static str)); 4] = [
        (
            "get-host",
            host.clone(),
            (
                404,
                r#"{"message": "No information available for that IP \u00e9 \"x\""}"#,
            ),
        ),
        (
            "tag-host",
            json!({"ip": "198.51.100.7", "tags": ["𝔗"]}),
            (
                403,
                r#"{"error": "forbidden", "score": 0.30000000000000004}"#,
            ),
        ),
        ("search-hosts", json!({"query": "a b"}), (400, "not json")),
        (
            "validate_module_configuration",
            json!({}),
            (401, r#"{"message": "bad key"}"#),
        ),
    ];
    for (command, arguments, answer) in cases {
        let python = normalized(python_run(&python, command, &arguments, answer));
        let rust = normalized(rust_run(command, &arguments, answer));
        assert_eq!(
            rust, python,
            "{command}: the port (left) and the original (right)"
        );
    }
}

#[test]
fn a_trigger_keeps_its_identity_and_documented_configuration() {
    use sekoia_automation::config::{Documented, Identity};
    use sekoia_automation::{Trigger, TriggerContext, TriggerError};

    /// Polls Tidewatch's alerts.
    struct Alerts;
    impl Trigger for Alerts {
        type ModuleConfiguration = tidewatch::Configuration;
        type Configuration = Documented;
        type Event = Documented;
        const NAME: &'static str = "Tidewatch alerts";
        const DESCRIPTION: &'static str = "An event per new alert";
        const IDENTITY: Identity = Identity::new()
            .uuid("9c4e2a71-3b8d-4f60-a5e2-7d1c0b9f8e36")
            .file("trigger_tidewatch_alerts.json");

        fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
            while ctx.running() {
                ctx.sleep(Duration::from_secs(60));
            }
            Ok(())
        }
    }

    let directory = library_copy();
    let text = "{\n  \"uuid\": \"9c4e2a71-3b8d-4f60-a5e2-7d1c0b9f8e36\",\n  \"name\": \"Tidewatch alerts\",\n  \"description\": \"An event per new alert\",\n  \"docker_parameters\": \"alerts\",\n  \"arguments\": {\"type\": \"object\", \"properties\": {\"frequency\": {\"type\": \"integer\", \"default\": 60}}},\n  \"results\": {}\n}\n";
    std::fs::write(directory.path().join("trigger_tidewatch_alerts.json"), text).unwrap();
    let module = tidewatch::register(Module::new()).register("alerts", Alerts);
    let items = ModuleItems::new(module.items());
    let files = generate::generate(directory.path(), &items).unwrap();
    let trigger = files
        .iter()
        .find(|file| file.file_name == "trigger_tidewatch_alerts.json")
        .unwrap();
    assert_eq!(trigger.contents, text, "kept byte for byte");
    assert_eq!(
        texts(&check(directory.path(), Some(&items), &Rules::default())),
        Vec::<String>::new()
    );
}

#[test]
fn a_schema_the_file_does_not_give_is_not_added() {
    let directory = library_copy();
    let path = directory.path().join("action_tag_tidewatch_host.json");
    let original = std::fs::read_to_string(&path).unwrap();
    let without_results = original.replace(",\n  \"results\": {}\n}", "\n}");
    assert_ne!(without_results, original);
    std::fs::write(&path, &without_results).unwrap();
    let mut manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(directory.path().join("manifest.json")).unwrap(),
    )
    .unwrap();
    manifest.as_object_mut().unwrap().remove("configuration");
    let manifest_text = serde_json::to_string_pretty(&manifest).unwrap();
    std::fs::write(directory.path().join("manifest.json"), &manifest_text).unwrap();
    let module = tidewatch::register(Module::new());
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    assert_eq!(files[3].contents, without_results, "no `results` added");
    assert_eq!(files[0].contents, manifest_text, "no `configuration` added");
}

#[test]
fn a_uuid_stated_twice_or_the_modules_is_refused() {
    use sekoia_automation::config::{Documented, Identity};
    use sekoia_automation::{Action, ActionContext, ActionError, Outcome};

    /// States the uuid of `GetHost` (a copied `IDENTITY` line).
    struct Copied;
    impl Action for Copied {
        type ModuleConfiguration = tidewatch::Configuration;
        type Arguments = Documented;
        type Results = Documented;
        const NAME: &'static str = "Copied";
        const DESCRIPTION: &'static str = "A copied identity";
        const IDENTITY: Identity = Identity::new().uuid("0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52");
        fn run(
            &self,
            _: &ActionContext<'_, tidewatch::Configuration>,
            _: Documented,
        ) -> Result<Outcome<Documented>, ActionError> {
            Ok(Outcome::none())
        }
    }
    /// States the module's uuid.
    struct ModuleUuid;
    impl Action for ModuleUuid {
        type ModuleConfiguration = tidewatch::Configuration;
        type Arguments = Documented;
        type Results = Documented;
        const NAME: &'static str = "Module uuid";
        const DESCRIPTION: &'static str = "The module's uuid";
        const IDENTITY: Identity = Identity::new().uuid("6a1d4c2e-93b7-4f05-8e61-2c9d0b7a3f58");
        fn run(
            &self,
            _: &ActionContext<'_, tidewatch::Configuration>,
            _: Documented,
        ) -> Result<Outcome<Documented>, ActionError> {
            Ok(Outcome::none())
        }
    }
    let directory = library_copy();
    let module = tidewatch::register(Module::new()).register("copied", Copied);
    let error =
        generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the items registered under `get-host` and `copied` both have the uuid 0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52: each item needs its own; check the `uuid` of their manifest files, or the uuid they state (`Identity::uuid`)"
    );
    let module = Module::<tidewatch::Configuration>::new().register("module-uuid", ModuleUuid);
    let items = ModuleItems::new(module.items());
    let error = generate::generate(directory.path(), &items).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("the item registered under `module-uuid` states the module's uuid"),
        "{error}"
    );
    // check-module reports it.
    let problems = texts(&check(directory.path(), Some(&items), &Rules::default()));
    assert!(
        problems.last().unwrap().starts_with(
            "manifest.json: the item registered under `module-uuid` states the module's uuid"
        ),
        "{problems:#?}"
    );
}

/// Code lines as cloc counts them: neither blank nor comment lines (`//`
/// and `/* */` in Rust; `#` and docstrings in Python).
fn code_lines(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let python = path.extension().is_some_and(|extension| extension == "py");
    let mut count = 0;
    let mut in_comment: Option<&str> = None;
    for line in text.lines().map(str::trim) {
        if let Some(end) = in_comment {
            if line.contains(end) {
                in_comment = None;
            }
            continue;
        }
        let opener = if python {
            ["\"\"\"", "'''"]
                .into_iter()
                .find(|quote| line.starts_with(quote))
        } else {
            line.starts_with("/*").then_some("/*")
        };
        if let Some(opener) = opener {
            let end = if python { opener } else { "*/" };
            if !line[opener.len()..].contains(end) {
                in_comment = Some(end);
            }
            continue;
        }
        let comment = if python { "#" } else { "//" };
        if !line.is_empty() && !line.starts_with(comment) {
            count += 1;
        }
    }
    count
}

#[test]
fn the_port_is_at_most_one_and_a_half_times_the_python_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rust = code_lines(&root.join("examples/tidewatch.rs"));
    let python_directory = fixtures().join("python");
    let mut python = code_lines(&python_directory.join("main.py"));
    for entry in std::fs::read_dir(python_directory.join("tidewatch_modules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "py") {
            python += code_lines(&path);
        }
    }
    assert!(
        rust * 2 <= python * 3,
        "the port has {rust} code lines against {python} for the Python module: more than 1.5 times"
    );
    // The figure the migration guide states.
    let guide = std::fs::read_to_string(root.join("docs/migrating.md")).unwrap();
    let figure = format!("{rust} code lines against {python}");
    assert!(
        guide.contains(&figure),
        "docs/migrating.md should state `{figure}`"
    );
}

/// The Python with the reference SDK: `TIDEWATCH_PYTHON`, else
/// `SEKOIA_PYTHON` (the other parity tests' variable); `None`, said on
/// stderr, when neither is set.
fn tidewatch_python() -> Option<String> {
    let python = std::env::var("TIDEWATCH_PYTHON")
        .or_else(|_| std::env::var("SEKOIA_PYTHON"))
        .ok();
    if python.is_none() {
        eprintln!(
            "skipped: set SEKOIA_PYTHON (or TIDEWATCH_PYTHON) to a python with sekoia-automation-sdk 1.27.0"
        );
    }
    python
}
