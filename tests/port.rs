//! `sekoia-automation port` on a small Python module written for these
//! tests with the Python SDK 1.27 (`tests/fixtures/port/acme/`): the crate
//! it writes builds (this crate as a path dependency, offline, in the
//! scaffold test's target directory), its own tests pass, `check-module`
//! passes and `generate-files` leaves every manifest byte for byte; the
//! type generator on schema fixtures (`tests/fixtures/port/schemas/`).
//! With `SEKOIA_PYTHON` set, the plain `GenericAPIAction`s of the Python
//! module and their `Api` ports send the same vendor requests:
//!
//! ```sh
//! SEKOIA_PYTHON=/tmp/sdk/bin/python cargo test --features cli --test port -- --include-ignored
//! ```
//!
//! With `PORT_PARITY_MODULE` set to a module of the automation library as
//! well, its complete `Api` actions are compared with the Python module's
//! the same way, one scenario each (every argument its schema names given
//! a value).

#[path = "support/child.rs"]
mod child;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use child::Bounded as _;
use sekoia_automation::testing::{FakeVendor, LocalPlatform, Reply};
use sekoia_automation::unversioned::port::schema_types::TypeWriter;
use serde_json::{Value, json};

const CLI: &str = env!("CARGO_BIN_EXE_sekoia-automation");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/port")
}

fn python_module() -> PathBuf {
    fixtures().join("acme")
}

/// The scaffold test's nested target: the dependencies are built once for both.
fn nested_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The item manifests and manifest.json of a directory, sorted.
fn json_files(directory: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    files
}

struct Ported {
    directory: PathBuf,
    binary: PathBuf,
}

/// The fixture ported (once per test process) and built.
fn ported() -> &'static Ported {
    static PORTED: OnceLock<Ported> = OnceLock::new();
    PORTED.get_or_init(|| {
        let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("port-acme");
        let _ = std::fs::remove_dir_all(&directory);
        let output = Command::new(CLI)
            .arg("port")
            .arg(python_module())
            .arg(&directory)
            .arg("--sekoia-automation-path")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .output_bounded();
        assert!(output.status.success(), "{}", text(&output));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(&cargo)
            .args(["build", "--offline", "--quiet"])
            .current_dir(&directory)
            .env("CARGO_TARGET_DIR", nested_target())
            .output_within(child::BUILD_DEADLINE);
        assert!(output.status.success(), "{}", text(&output));
        Ported {
            directory,
            binary: nested_target().join("debug").join("acme-port"),
        }
    })
}

#[test]
fn the_python_module_becomes_a_crate_that_keeps_its_manifests_byte_for_byte() {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("port-acme-report");
    let _ = std::fs::remove_dir_all(&directory);
    let output = Command::new(CLI)
        .arg("port")
        .arg(python_module())
        .arg(&directory)
        .arg("--sekoia-automation-path")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    let report = String::from_utf8_lossy(&output.stdout);
    for line in [
        "  count_widgets: Api, overrides not ported: CountWidgets.run\n",
        "  get-widget/{id}: complete (Api)\n",
        // Its get_headers override is one `Api` has (the key in a header).
        "  ping: complete (Api)\n",
        "  RenameWidget: stub: its class is not a GenericAPIAction\n",
        "  search_widgets: complete (Api)\n",
        "  tag-widget: complete (Api)\n",
        "  widget_logs: stub: its class is not a GenericAPIAction\n",
        "  widget_events: stub: its class is not a GenericAPIAction\n",
        "  validate_module_configuration: stub: the account validator\n",
    ] {
        assert!(report.contains(line), "{line:?} not in {report}");
    }
    // Every manifest copied as it is (`trigger_widget_logs.json`, the
    // connector's twin, too).
    let originals = json_files(&python_module());
    assert_eq!(originals.len(), 10);
    for file in &originals {
        assert_eq!(
            std::fs::read(directory.join(file)).unwrap(),
            std::fs::read(python_module().join(file)).unwrap(),
            "{file}"
        );
    }
    // The GenericAPIActions are `Api` values with the class attributes,
    // inherited ones included, and the manifest's identity.
    let main = std::fs::read_to_string(directory.join("src/main.rs")).unwrap();
    let main: String = main.split_whitespace().collect::<Vec<_>>().join(" ");
    for piece in [
        r#"Api::get("widgets/{id}")"#,
        r#".query(&["verbose"])"#,
        ".timeout(std::time::Duration::from_secs(10))",
        r#"ApiAuthentication::api_key(Some("X-Acme-Key"), None)"#,
        r#".uuid("7d0b2f7e-4b53-4a3e-8d0a-1f2e3d4c5b6a")"#,
        r#".slug("get_widget")"#,
        r#".file("action_get_widget.json")"#,
        r#"Api::get("search")"#,
        r#".query(&["query", "page", "tags"])"#,
        r#"Api::post("widgets/{id}/tags")"#,
        ".register_account_validator(items::acme_validator::AcmeValidator)",
    ] {
        assert!(main.contains(piece), "{piece} not in {main}");
    }
    // A stub quotes the Python class it replaces and says so when run.
    let stub = std::fs::read_to_string(directory.join("src/items/rename_widget.rs")).unwrap();
    assert!(
        stub.contains(
            r#"        //         self.log(f"renaming {arguments['id']}", level="info")"#
        ),
        "{stub}"
    );
    assert!(
        stub.contains("`RenameWidget` (acme_module/actions.py:41)"),
        "{stub}"
    );
    // The override of a GenericAPIAction is quoted beside its `Api`.
    let count = std::fs::read_to_string(directory.join("src/items/count_widgets.rs")).unwrap();
    assert!(
        count.contains("// `CountWidgets.run`, not ported:"),
        "{count}"
    );
    assert!(
        count.contains(r#"//         return {"count": len(result or [])}"#),
        "{count}"
    );
    // The configuration: the secret as `Secret`, the enum's default a variant.
    let configuration = std::fs::read_to_string(directory.join("src/configuration.rs")).unwrap();
    assert!(
        configuration.contains("pub api_key: sekoia_automation::Secret<String>,"),
        "{configuration}"
    );
    assert!(
        configuration.contains("ModuleConfigurationRegion::Eu"),
        "{configuration}"
    );
}

#[test]
fn the_ported_crate_builds_passes_check_module_and_its_tests() {
    let ported = ported();
    // generate-files on a copy of the Python module's manifests: not a byte moves.
    let copy = tempfile::tempdir().unwrap();
    for file in json_files(&python_module()) {
        std::fs::copy(python_module().join(&file), copy.path().join(&file)).unwrap();
    }
    let output = Command::new(&ported.binary)
        .arg("generate-files")
        .arg(copy.path())
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(json_files(copy.path()), json_files(&python_module()));
    for file in json_files(&python_module()) {
        assert!(
            std::fs::read(copy.path().join(&file)).unwrap()
                == std::fs::read(python_module().join(&file)).unwrap(),
            "generate-files changed {file}"
        );
    }
    let output = Command::new(&ported.binary)
        .arg("check-module")
        .arg(python_module())
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    // The crate's own tests: the manifests, and each item against the
    // local platform (the Api ones against a fake vendor, the stubs
    // saying they are not ported).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["test", "--offline", "--quiet"])
        .current_dir(&ported.directory)
        .env("CARGO_TARGET_DIR", nested_target())
        .output_within(child::BUILD_DEADLINE);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("10 passed"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_directory_that_is_not_empty_or_not_a_module_is_refused() {
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("keep.txt"), "mine").unwrap();
    let output = Command::new(CLI)
        .arg("port")
        .arg(python_module())
        .arg(out.path())
        .output_bounded();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("exists and is not empty"),
        "{}",
        text(&output)
    );
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new(CLI)
        .arg("port")
        .arg(empty.path())
        .arg(empty.path().join("out"))
        .output_bounded();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("manifest.json"), "{}", text(&output));
}

/// Each `tests/fixtures/port/schemas/NAME.json` gives the Rust of
/// `NAME.rs` (`root`: the type name; `schema`; `secrets`).
#[test]
fn schema_fixtures_give_the_expected_types() {
    let directory = fixtures().join("schemas");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    names.sort();
    assert!(names.len() >= 4);
    for path in names {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let secrets: Vec<String> = fixture["secrets"]
            .as_array()
            .map(|secrets| {
                secrets
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let mut writer = TypeWriter::new();
        let root = writer.root(
            fixture["root"].as_str().unwrap(),
            &fixture["schema"],
            &secrets,
        );
        let got = format!("// root: {root}\n{}", writer.code());
        let expected_path = path.with_extension("rs");
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            // A new fixture: write what the generator gives, for review.
            std::fs::write(&expected_path, &got).unwrap();
            panic!("{} written: review it", expected_path.display());
        };
        assert_eq!(got, expected, "{}", path.display());
    }
}

/// The plain `GenericAPIAction`s of the Python module and their `Api`
/// ports send the same requests to the vendor.
#[test]
#[ignore = "runs the Python module: SEKOIA_PYTHON=/path/to/python with sekoia-automation-sdk 1.27"]
fn the_api_ports_send_what_the_python_module_sends() {
    let python = std::env::var("SEKOIA_PYTHON")
        .expect("SEKOIA_PYTHON: a python with sekoia-automation-sdk==1.27.0");
    let ported = ported();
    let cases = [
        ("get-widget/{id}", json!({"id": "w 1/é", "verbose": true})),
        (
            "search_widgets",
            json!({"query": "size > 2", "page": 3, "tags": ["a", "𝔗"]}),
        ),
        ("ping", json!({"q": "a&b"})),
        (
            "tag-widget",
            json!({"id": "w1", "tags": ["x"], "note": 0.30000000000000004}),
        ),
    ];
    for (command, arguments) in cases {
        let python_run = run(
            Command::new(&python)
                .arg(python_module().join("main.py"))
                .arg(command),
            &arguments,
        );
        let rust_run = run(Command::new(&ported.binary).arg(command), &arguments);
        assert_eq!(python_run, rust_run, "{command}");
        assert_eq!(python_run.len(), 2, "{command}: {python_run:?}");
        assert_eq!(python_run[1], ["error: null"], "{command}");
    }
}

/// A library module's complete `Api` actions send what its Python sends.
#[test]
#[ignore = "runs a library module: SEKOIA_PYTHON and PORT_PARITY_MODULE=/path/to/automation-library/Module"]
fn a_library_modules_api_ports_send_what_its_python_sends() {
    let (Ok(python), Some(module)) = (
        std::env::var("SEKOIA_PYTHON"),
        std::env::var_os("PORT_PARITY_MODULE").map(PathBuf::from),
    ) else {
        eprintln!(
            "skipped: set SEKOIA_PYTHON (sekoia-automation-sdk 1.27) and PORT_PARITY_MODULE=/path/to/automation-library/Module"
        );
        return;
    };
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("port-parity");
    let _ = std::fs::remove_dir_all(&directory);
    let output = Command::new(CLI)
        .arg("port")
        .arg(&module)
        .arg(&directory)
        .arg("--sekoia-automation-path")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(&directory)
        .env("CARGO_TARGET_DIR", nested_target())
        .output_within(child::BUILD_DEADLINE);
    assert!(output.status.success(), "{}", text(&output));
    let toml = std::fs::read_to_string(directory.join("Cargo.toml")).unwrap();
    let crate_name = toml
        .lines()
        .find_map(|line| line.strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap();
    let binary = nested_target().join("debug").join(crate_name);
    let commands: Vec<&str> = report
        .lines()
        .filter_map(|line| line.strip_suffix(": complete (Api)"))
        .map(str::trim)
        .collect();
    assert!(!commands.is_empty(), "{report}");
    let manifests: Vec<Value> = json_files(&module)
        .iter()
        .filter(|file| file.starts_with("action_"))
        .map(|file| {
            serde_json::from_str(&std::fs::read_to_string(module.join(file)).unwrap()).unwrap()
        })
        .collect();
    let mut differences = Vec::new();
    for command in &commands {
        let manifest = manifests
            .iter()
            .find(|manifest| manifest["docker_parameters"] == *command)
            .unwrap();
        // Every argument the schema names, a value of its type.
        let mut arguments = serde_json::Map::new();
        if let Some(properties) = manifest["arguments"]["properties"].as_object() {
            for (name, property) in properties {
                let value = match property["type"].as_str() {
                    Some("integer") => json!(7),
                    Some("number") => json!(0.5),
                    Some("boolean") => json!(true),
                    Some("array") => json!(["a b", "c"]),
                    Some("object") => json!({"k": "v"}),
                    _ => json!("v/1 é"),
                };
                arguments.insert(name.clone(), value);
            }
        }
        let arguments = Value::Object(arguments);
        let python_run = run_in(
            &module,
            Command::new(&python)
                .arg(module.join("main.py"))
                .arg(command),
            &arguments,
        );
        let rust_run = run_in(&module, Command::new(&binary).arg(command), &arguments);
        if python_run.len() < 2 {
            differences.push(format!(
                "{command}: the Python sent nothing: {python_run:?}"
            ));
        } else if python_run != rust_run {
            differences.push(format!(
                "{command}:\n  python {python_run:?}\n  rust   {rust_run:?}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} actions differ:\n{}",
        differences.len(),
        commands.len(),
        differences.join("\n")
    );
}

/// What the vendor received from one run: method, path, query, the headers
/// that carry meaning, body.
fn run(command: &mut Command, arguments: &Value) -> Vec<Vec<String>> {
    run_in(&python_module(), command, arguments)
}

/// [`run`] for the Python module in `module`.
fn run_in(module: &Path, command: &mut Command, arguments: &Value) -> Vec<Vec<String>> {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": "k-\"quoted\"-1"}));
    let vendor = FakeVendor::start().unwrap();
    vendor.otherwise(|_| Reply::json(200, r#"{"ok": true}"#));
    let directory = tempfile::tempdir().unwrap();
    std::fs::copy(
        python_module().join("manifest.json"),
        directory.path().join("manifest.json"),
    )
    .unwrap();
    let configuration =
        json!({"base_url": format!("{}/v1/", vendor.url()), "api_key": "placeholder"});
    let output = command
        .current_dir(directory.path())
        .env("TOKEN", platform.token())
        .env("URL_CALLBACK", platform.callback_url())
        .env("MODULE_CONFIGURATION", configuration.to_string())
        .env("ARGUMENTS", arguments.to_string())
        .env("PYTHONPATH", module)
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    let finished = platform
        .requests()
        .iter()
        .filter_map(|request| request.json())
        .find(|body| body["status"] == "finished")
        .unwrap_or_default();
    let error = vec![format!("error: {}", finished["error"])];
    vendor
        .requests()
        .iter()
        .map(|request| {
            vec![
                request.method.clone(),
                request.path.clone(),
                request.query.clone().unwrap_or_default(),
                request.header("x-acme-key").unwrap_or_default().to_string(),
                request.header("x-key").unwrap_or_default().to_string(),
                request
                    .header("authorization")
                    .unwrap_or_default()
                    .to_string(),
                request.header("accept").unwrap_or_default().to_string(),
                request
                    .header("content-type")
                    .unwrap_or_default()
                    .to_string(),
                request.body_text(),
            ]
        })
        .chain([error])
        .collect()
}
