//! Files generated from the sample module's types (docs/protocol.md §6), compared
//! with the expected files checked in under `tests/fixtures/sample_module/`;
//! reserved commands; undeclared branches reported at run time.

#[path = "../examples/sample_module.rs"]
#[allow(dead_code)]
mod sample_module;

use std::path::{Path, PathBuf};

use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::unversioned::ModuleItems;
use sekoia_automation::unversioned::documentation;
use sekoia_automation::unversioned::generate::{self, GeneratedFile};
use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample_module")
}

/// A module directory holding the fixture's hand-written manifest.
fn module_directory() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("input/manifest.json"),
        directory.path().join("manifest.json"),
    )
    .unwrap();
    directory
}

fn generate_in(directory: &Path) -> Vec<GeneratedFile> {
    let module = sample_module::module();
    generate::generate(directory, &ModuleItems::new(module.items())).unwrap()
}

const EXPECTED: [&str; 3] = [
    "manifest.json",
    "action_lookup_ip.json",
    "trigger_watch_indicators.json",
];

#[test]
fn generated_files_are_the_expected_ones() {
    let directory = module_directory();
    let files = generate_in(directory.path());
    let names: Vec<&str> = files.iter().map(|file| file.file_name.as_str()).collect();
    assert_eq!(names, EXPECTED);
    for file in &files {
        let expected = std::fs::read_to_string(fixtures().join(&file.file_name)).unwrap();
        assert_eq!(
            file.contents, expected,
            "{} differs from the expected file",
            file.file_name
        );
    }
}

#[test]
fn writing_twice_gives_the_same_bytes() {
    let directory = module_directory();
    let files = generate_in(directory.path());
    assert_eq!(
        generate::write(directory.path(), &files).unwrap(),
        [true, true, true]
    );
    let first: Vec<Vec<u8>> = EXPECTED
        .iter()
        .map(|name| std::fs::read(directory.path().join(name)).unwrap())
        .collect();
    let again = generate_in(directory.path());
    assert_eq!(again, files, "generating from the generated manifest");
    assert_eq!(
        generate::write(directory.path(), &again).unwrap(),
        [false, false, false],
        "nothing rewritten"
    );
    let second: Vec<Vec<u8>> = EXPECTED
        .iter()
        .map(|name| std::fs::read(directory.path().join(name)).unwrap())
        .collect();
    assert_eq!(first, second);
    for bytes in &second {
        assert_eq!(bytes.last(), Some(&b'\n'), "trailing newline");
    }
}

fn parsed(files: &[GeneratedFile], name: &str) -> Value {
    let file = files.iter().find(|file| file.file_name == name).unwrap();
    serde_json::from_str(&file.contents).unwrap()
}

#[test]
fn item_uuids_are_uuid5_of_the_name_in_the_module_namespace() {
    let directory = module_directory();
    let files = generate_in(directory.path());
    // Python: str(uuid5(UUID("2b6d6b4e-3f1c-4c1e-9f43-1d2c5e6a7b80"), name))
    assert_eq!(
        parsed(&files, "action_lookup_ip.json")["uuid"],
        "269212e3-9639-58ac-9f87-f87f438ace9b"
    );
    assert_eq!(
        parsed(&files, "trigger_watch_indicators.json")["uuid"],
        "3ed68a26-8e15-5916-9094-e307f82b5b5d"
    );
}

#[test]
fn manifests_have_the_python_generator_shape() {
    let directory = module_directory();
    let files = generate_in(directory.path());
    let action = parsed(&files, "action_lookup_ip.json");
    let keys: Vec<&String> = action.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "description",
            "uuid",
            "docker_parameters",
            "arguments",
            "results",
            "outputs"
        ]
    );
    assert_eq!(action["docker_parameters"], "lookup");
    assert_eq!(action["outputs"], json!({"malicious": {}, "benign": {}}));
    let arguments = &action["arguments"];
    assert_eq!(arguments["type"], "object");
    assert_eq!(arguments["required"], json!(["ip"]));
    assert_eq!(
        arguments["properties"]["threshold"]["$ref"],
        "#/$defs/Severity"
    );
    assert_eq!(arguments["properties"]["threshold"]["default"], "high");
    assert_eq!(
        arguments["$defs"]["Severity"],
        json!({"enum": ["low", "medium", "high"], "title": "Severity", "type": "string"})
    );
    assert_eq!(
        arguments["properties"]["locations"]["anyOf"],
        json!([{"items": {"$ref": "#/$defs/Location"}, "type": "array"}, {"type": "null"}])
    );
    assert_eq!(arguments["properties"]["tags"]["default"], json!([]));
    assert!(arguments.get("$schema").is_none());

    let trigger = parsed(&files, "trigger_watch_indicators.json");
    assert_eq!(trigger["arguments"]["secrets"], json!(["feed_token"]));
    assert!(
        !trigger.to_string().contains("\"secret\""),
        "no secret marker left"
    );
    assert_eq!(trigger["results"]["title"], "Indicator");

    let manifest = parsed(&files, "manifest.json");
    let keys: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "description",
            "slug",
            "categories",
            "uuid",
            "version",
            "configuration",
            "supports_validation"
        ],
        "the existing fields in their order, configuration in place"
    );
    assert_eq!(
        manifest["configuration"]["secrets"],
        json!(["api_key", "proxy_password"])
    );
    assert_eq!(
        manifest["configuration"]["properties"]["api_key"],
        json!({"description": "API key of the account.", "title": "Api Key", "type": "string"})
    );
    assert_eq!(
        manifest["configuration"]["required"],
        json!(["base_url", "api_key"])
    );
    assert_eq!(manifest["supports_validation"], true);
}

#[test]
fn generate_files_invocation_writes_into_the_module_directory() {
    let directory = module_directory();
    let code = sample_module::module().run_invocation(
        "generate-files",
        vec![directory.path().display().to_string()],
    );
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    for name in EXPECTED {
        assert_eq!(
            std::fs::read_to_string(directory.path().join(name)).unwrap(),
            std::fs::read_to_string(fixtures().join(name)).unwrap(),
            "{name}"
        );
    }
    // The default directory is the manifest's.
    let other = module_directory();
    let code = Module::<sample_module::Config>::new()
        .manifest_path(other.path().join("manifest.json"))
        .register("lookup", sample_module::Lookup)
        .run_invocation("generate-files", Vec::new());
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    assert!(other.path().join("action_lookup_ip.json").is_file());
}

#[test]
fn a_missing_manifest_is_an_error_that_says_what_to_do() {
    let directory = tempfile::tempdir().unwrap();
    let module = sample_module::module();
    let error =
        generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap_err();
    assert!(error.to_string().contains("manifest.json"), "{error}");
    assert!(error.to_string().contains("new-module"), "{error}");
}

#[test]
fn generate_files_starts_a_missing_manifest_and_keeps_it() {
    let directory = tempfile::tempdir().unwrap();
    let run = || {
        sample_module::module().run_invocation(
            "generate-files",
            vec![directory.path().display().to_string()],
        )
    };
    assert_eq!(
        format!("{:?}", run()),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    let read = || -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(directory.path().join("manifest.json")).unwrap(),
        )
        .unwrap()
    };
    let manifest = read();
    let uuid = uuid::Uuid::parse_str(manifest["uuid"].as_str().unwrap()).unwrap();
    assert_eq!(uuid.get_version_num(), 4, "a fresh uuid");
    assert_eq!(manifest["version"], "0.1.0");
    let slug = manifest["slug"].as_str().unwrap();
    assert!(
        sekoia_automation::unversioned::check::is_valid_slug(slug),
        "{slug} breaks the platform's rule"
    );
    assert_eq!(
        manifest["configuration"]["required"],
        json!(["base_url", "api_key"]),
        "the configuration comes from the code"
    );
    for name in &EXPECTED[1..] {
        assert!(directory.path().join(name).is_file(), "{name}");
    }
    // A second run keeps the module's identity.
    run();
    assert_eq!(read()["uuid"], manifest["uuid"]);
}

#[test]
fn the_documentation_is_the_expected_page() {
    let directory = module_directory();
    let files = generate_in(directory.path());
    let page = documentation::from_generated(&files).unwrap();
    let expected = std::fs::read_to_string(fixtures().join("DOCUMENTATION.md")).unwrap();
    assert_eq!(page, expected);
    // From the files on disk, the same page.
    generate::write(directory.path(), &files).unwrap();
    assert_eq!(
        documentation::from_directory(directory.path()).unwrap(),
        expected
    );
    assert!(page.contains("| `api_key` | `string` | yes |  | API key of the account. (secret) |"));
    assert!(page.contains("**Branches**: `malicious`, `benign`"));
}

struct Ping;

impl Action for Ping {
    type ModuleConfiguration = ();
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Ping";
    const DESCRIPTION: &'static str = "";
    const OUTPUTS: &'static [&'static str] = &["pong"];

    fn run(&self, _: &ActionContext<'_, ()>, _: Value) -> Result<Outcome<Value>, ActionError> {
        Ok(Outcome::success(json!({"answer": "pong"}))
            .activate("pong")
            .activate("surprise"))
    }
}

#[test]
fn registering_under_a_reserved_command_is_refused() {
    for reserved in sekoia_automation::unversioned::RESERVED_COMMANDS {
        let code = Module::<()>::new()
            .register(reserved, Ping)
            .run_command("anything");
        assert_eq!(
            format!("{code:?}"),
            format!("{:?}", std::process::ExitCode::from(2))
        );
    }
}

#[test]
fn an_empty_description_is_the_name() {
    let directory = module_directory();
    let module = Module::<()>::new().register("ping", Ping);
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    let action = parsed(&files, "action_ping.json");
    assert_eq!(action["description"], "Ping");
    // Untyped arguments and results: `{}`, as the Python generator writes
    // for an action without a model.
    assert_eq!(action["arguments"], json!({}));
    assert_eq!(action["results"], json!({}));
    // A module without configuration (`()`) leaves the manifest's alone.
    let manifest = parsed(&files, "manifest.json");
    assert_eq!(
        manifest["configuration"],
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "title": "Sample", "type": "object", "properties": {}, "required": []})
    );
    assert!(manifest.get("supports_validation").is_none());
}

#[test]
fn a_description_the_code_does_not_state_is_the_files_even_empty() {
    let directory = module_directory();
    // A library manifest with an empty description (Sekoia.io's
    // action_push_event_to_intake.json has one).
    let file = directory.path().join("action_ping.json");
    std::fs::write(
        &file,
        r#"{"name": "Ping", "description": "", "docker_parameters": "ping"}"#,
    )
    .unwrap();
    let module = Module::<()>::new().register("ping", Ping);
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    let action = parsed(&files, "action_ping.json");
    assert_eq!(action["description"], "");
    // Without the key, the name stands in for it.
    std::fs::write(&file, r#"{"name": "Ping", "docker_parameters": "ping"}"#).unwrap();
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    assert_eq!(parsed(&files, "action_ping.json")["description"], "Ping");
}

#[test]
fn an_undeclared_branch_is_reported_and_still_sent() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox.set_json("arguments", &json!({})).unwrap();
    let code = Module::<()>::with_settings(sandbox.settings())
        .register("ping", Ping)
        .run_command("ping");
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    let finished = platform
        .requests()
        .iter()
        .filter_map(RecordedRequest::json)
        .rfind(|body| body["status"] == "finished")
        .unwrap();
    assert_eq!(finished["outputs"], json!({"pong": true, "surprise": true}));
    let logs = finished["logs"].as_str().unwrap();
    assert!(
        logs.contains(
            ": warning: the branch `surprise` was activated but the action declares only `pong`"
        ),
        "{logs}"
    );
    assert!(!logs.contains("`pong` was activated"), "{logs}");
}

#[test]
fn the_embedded_manifest_is_used_when_there_is_no_file() {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": "from-the-platform"}));
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .set_json(
            "module_configuration",
            &json!({"base_url": "https://intel"}),
        )
        .unwrap();
    sandbox
        .set_json("arguments", &json!({"ip": "10.1.2.3"}))
        .unwrap();
    let missing = sandbox.path().join("no-manifest-here.json");
    let code = Module::<sample_module::Config>::with_settings(sandbox.settings())
        .manifest_path(&missing)
        .embedded_manifest(include_str!("fixtures/sample_module/manifest.json"))
        .register("lookup", sample_module::Lookup)
        .run_command("lookup");
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    let bodies: Vec<Value> = platform
        .requests()
        .iter()
        .filter_map(RecordedRequest::json)
        .collect();
    assert_eq!(
        bodies[0],
        json!({"status": "running", "need_secrets": true}),
        "the embedded manifest declares secrets"
    );
    assert_eq!(bodies.last().unwrap()["results"]["severity"], "high");
}

/// An action renamed in the code.
struct Renamed;

impl Action for Renamed {
    type ModuleConfiguration = ();
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Say hello";
    const DESCRIPTION: &'static str = "Greets";

    fn run(&self, _: &ActionContext<'_, ()>, _: Value) -> Result<Outcome<Value>, ActionError> {
        Ok(Outcome::none())
    }
}

#[test]
fn an_item_keeps_the_manifest_file_and_uuid_its_command_is_linked_to() {
    let directory = module_directory();
    // The file an earlier version of the action wrote, under another name.
    let uuid = "5d1c7f4a-1f0e-4c36-9a0b-3f2e8c9d7b61";
    let earlier = json!({
        "name": "Greet", "description": "Greets", "uuid": uuid, "slug": "greet",
        "docker_parameters": "greet", "arguments": {}, "results": {}
    });
    let text = generate::to_file_text(&earlier);
    std::fs::write(directory.path().join("action_greet.json"), &text).unwrap();
    let module = Module::<()>::new().register("greet", Renamed);
    let files = generate::generate(directory.path(), &ModuleItems::new(module.items())).unwrap();
    assert_eq!(
        files[1].file_name, "action_greet.json",
        "found by docker_parameters"
    );
    let written: Value = serde_json::from_str(&files[1].contents).unwrap();
    assert_eq!(
        written["name"], "Say hello",
        "the code owns the name it states"
    );
    assert_eq!(written["uuid"], uuid, "the platform's uuid, kept");
    assert_eq!(written["slug"], "greet");
    assert_eq!(
        files[1].contents,
        text.replace("\"Greet\"", "\"Say hello\""),
        "only the name rewritten"
    );
}
