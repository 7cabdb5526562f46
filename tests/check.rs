//! `check-module`: each rule caught, on the checked-in bad fixture and on the
//! sample module's good files broken one way at a time.

#[path = "../examples/sample_module.rs"]
#[allow(dead_code)]
mod sample_module;
mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sekoia_automation::unversioned::ModuleItems;
use sekoia_automation::unversioned::check::{Problem, Rules, check};
use serde_json::{Value, json};
use support::child::Bounded;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn texts(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn the_bad_fixture_shows_every_file_rule() {
    let problems = texts(&check(
        &fixtures().join("bad_module"),
        None,
        &Rules::default(),
    ));
    let expected = [
        "manifest.json: `slug` \"Bad Module\" does not match ^[a-z]([a-z_.\\-]|\\d)*$: use lower-case letters, digits, `_`, `.` and `-`, starting with a letter",
        "manifest.json: `version` \"1.0\" is not semver: expected MAJOR.MINOR.PATCH, three numbers without leading zeros (e.g. 1.4.0)",
        "manifest.json: `uuid` is missing or not a uuid: set a fresh UUIDv4 once and never change it",
        "manifest.json: `configuration` is not a valid JSON Schema: /properties/timeout/type: `integr` is not a JSON Schema type",
        "manifest.json: `configuration.secrets` declares `api_key`, which is not in `configuration.properties`: add the property or remove the secret",
        "action_first.json: `arguments` is not a valid JSON Schema: /properties/ip/$ref: `#/$defs/Address` does not resolve in this schema",
        "action_first.json: `arguments` is not a valid JSON Schema: /required: must be a list of unique property names",
        "action_second.json: `uuid` 6b0c2f4e-0d55-5d6b-8f0e-0a4f3c2b1a10 is also the uuid of action_first.json: uuids must be unique",
        "action_second.json: `docker_parameters` `run` is also the one of action_first.json: each item needs its own command",
        "action_second.json: `outputs` must be an object with one key per branch",
    ];
    assert_eq!(&problems[..expected.len()], expected, "{problems:#?}");
    let rest = &problems[expected.len()..];
    assert_eq!(rest.len(), 3, "{rest:#?}");
    assert!(
        rest[0].starts_with("trigger_broken.json: is not valid JSON: "),
        "{rest:#?}"
    );
    assert_eq!(rest[1], "trigger_secret.json: `uuid` must be a string");
    assert_eq!(
        rest[2],
        "trigger_secret.json: `arguments.secrets` declares `token`, which is not in `arguments.properties`: add the property or remove the secret"
    );
}

/// A copy of the sample module's expected (good) files.
fn good_directory() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for name in [
        "manifest.json",
        "action_lookup_ip.json",
        "trigger_watch_indicators.json",
    ] {
        std::fs::copy(
            fixtures().join("sample_module").join(name),
            directory.path().join(name),
        )
        .unwrap();
    }
    directory
}

fn check_sample(directory: &Path) -> Vec<String> {
    let module = sample_module::module();
    texts(&check(
        directory,
        Some(&ModuleItems::new(module.items())),
        &Rules::default(),
    ))
}

fn edit(directory: &Path, name: &str, change: impl FnOnce(&mut Value)) {
    let path = directory.join(name);
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut value);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
}

#[test]
fn the_good_files_have_no_problem() {
    let directory = good_directory();
    assert_eq!(check_sample(directory.path()), Vec::<String>::new());
    let code = sample_module::module()
        .run_invocation("check-module", vec![directory.path().display().to_string()]);
    assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::SUCCESS));
}

#[test]
fn an_item_without_its_manifest() {
    let directory = good_directory();
    std::fs::remove_file(directory.path().join("trigger_watch_indicators.json")).unwrap();
    assert_eq!(
        check_sample(directory.path()),
        [
            "trigger_watch_indicators.json: is missing: the item registered under `watch` has no manifest; run generate-files"
        ]
    );
}

#[test]
fn a_manifest_without_its_item() {
    let directory = good_directory();
    std::fs::copy(
        directory.path().join("action_lookup_ip.json"),
        directory.path().join("action_old_lookup.json"),
    )
    .unwrap();
    edit(directory.path(), "action_old_lookup.json", |manifest| {
        manifest["uuid"] = json!("0a0a0a0a-0000-4000-8000-000000000001");
        manifest["docker_parameters"] = json!("old_lookup");
    });
    assert_eq!(
        check_sample(directory.path()),
        [
            "action_old_lookup.json: matches no registered item: register the item, or remove the file if the item is gone"
        ]
    );
}

#[test]
fn docker_parameters_unique_and_equal_to_the_commands() {
    let directory = good_directory();
    edit(
        directory.path(),
        "trigger_watch_indicators.json",
        |manifest| {
            manifest["docker_parameters"] = json!("lookup");
        },
    );
    let problems = check_sample(directory.path());
    assert_eq!(
        problems[0],
        "trigger_watch_indicators.json: `docker_parameters` `lookup` is also the one of action_lookup_ip.json: each item needs its own command"
    );
    assert_eq!(
        problems[1],
        "trigger_watch_indicators.json: `docker_parameters` is `lookup` but the item is registered under `watch`"
    );
    assert!(problems[2].starts_with(
        "trigger_watch_indicators.json: is out of date with the code (`docker_parameters` differ)"
    ));
}

#[test]
fn uuids_unique_and_equal_to_the_generated_ones() {
    let directory = good_directory();
    edit(
        directory.path(),
        "trigger_watch_indicators.json",
        |manifest| {
            manifest["uuid"] = json!("269212e3-9639-58ac-9f87-f87f438ace9b");
        },
    );
    let problems = check_sample(directory.path());
    assert_eq!(
        problems[0],
        "trigger_watch_indicators.json: `uuid` 269212e3-9639-58ac-9f87-f87f438ace9b is also the uuid of action_lookup_ip.json: uuids must be unique"
    );
    // The file is linked to the trigger by its `docker_parameters`, so its
    // uuid is the trigger's: the same as the action's.
    assert_eq!(
        problems[1],
        "manifest.json: the items registered under `lookup` and `watch` both have the uuid 269212e3-9639-58ac-9f87-f87f438ace9b: each item needs its own; check the `uuid` of their manifest files, or the uuid they state (`Identity::uuid`)"
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn slug_and_version() {
    let directory = good_directory();
    edit(directory.path(), "manifest.json", |manifest| {
        manifest["slug"] = json!("9lives");
        manifest["version"] = json!("1.02.0");
    });
    let problems = check_sample(directory.path());
    assert!(
        problems[0].starts_with("manifest.json: `slug` \"9lives\" does not match"),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with("manifest.json: `version` \"1.02.0\" is not semver"),
        "{problems:#?}"
    );
    assert_eq!(
        problems.len(),
        2,
        "generate-files keeps them: {problems:#?}"
    );
}

#[test]
fn a_manifest_that_does_not_parse() {
    let directory = good_directory();
    std::fs::write(
        directory.path().join("action_lookup_ip.json"),
        "{\"name\": ",
    )
    .unwrap();
    let problems = check_sample(directory.path());
    assert!(
        problems[0].starts_with("action_lookup_ip.json: is not valid JSON: "),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with(
            "action_lookup_ip.json: is out of date with the code (its contents differ)"
        ),
        "{problems:#?}"
    );
}

#[test]
fn an_invalid_schema() {
    let directory = good_directory();
    edit(directory.path(), "action_lookup_ip.json", |manifest| {
        manifest["results"]["properties"]["tags"]["items"] = json!(42);
    });
    let problems = check_sample(directory.path());
    assert_eq!(
        problems[0],
        "action_lookup_ip.json: `results` is not a valid JSON Schema: /properties/tags/items: a schema must be an object or a boolean"
    );
}

#[test]
fn declared_secrets_must_be_properties() {
    let directory = good_directory();
    edit(directory.path(), "manifest.json", |manifest| {
        manifest["configuration"]["secrets"] = json!(["api_key", "password"]);
    });
    let problems = check_sample(directory.path());
    assert_eq!(
        problems[0],
        "manifest.json: `configuration.secrets` declares `password`, which is not in `configuration.properties`: add the property or remove the secret"
    );
    assert_eq!(
        problems[1],
        "manifest.json: is out of date with the code (`configuration` differ): run generate-files"
    );
}

#[test]
fn manifests_out_of_date_with_the_code() {
    let directory = good_directory();
    edit(directory.path(), "action_lookup_ip.json", |manifest| {
        manifest["description"] = json!("An older description");
        manifest.as_object_mut().unwrap().remove("outputs");
    });
    assert_eq!(
        check_sample(directory.path()),
        [
            "action_lookup_ip.json: is out of date with the code (`description`, `outputs` differ): run generate-files"
        ]
    );
    // Same values, another layout and key order (a file written by hand or
    // by Python's `json.dumps`): generate-files keeps it, so it is up to date.
    let directory = good_directory();
    let path = directory.path().join("action_lookup_ip.json");
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut reordered: Vec<(String, Value)> =
        value.as_object().unwrap().clone().into_iter().collect();
    reordered.reverse();
    let reordered: serde_json::Map<String, Value> = reordered.into_iter().collect();
    let text = serde_json::to_string_pretty(&reordered)
        .unwrap()
        .replace("\n  ", "\n    ");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(check_sample(directory.path()), Vec::<String>::new());
    let module = sample_module::module();
    let files = sekoia_automation::unversioned::generate::generate(
        directory.path(),
        &ModuleItems::new(module.items()),
    )
    .unwrap();
    assert_eq!(files[1].contents, text, "the bytes are kept");
}

#[test]
fn the_invocation_fails_with_the_list() {
    let directory = good_directory();
    std::fs::remove_file(directory.path().join("trigger_watch_indicators.json")).unwrap();
    let code = sample_module::module()
        .run_invocation("check-module", vec![directory.path().display().to_string()]);
    assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::from(1)));
}

#[test]
fn the_invocation_says_what_it_checked() {
    let directory = good_directory();
    let output = std::process::Command::new(support::example("sample_module"))
        .arg("check-module")
        .arg(directory.path())
        .output_bounded();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        format!(
            "check-module: {}: checked manifest.json, 2 item manifests (action_lookup_ip.json, trigger_watch_indicators.json) and their JSON Schemas, against the 3 items the code registers (`lookup`, `watch`, `validate_module_configuration`): ok\n",
            directory.path().display()
        )
    );

    // With a problem: the same description, then the list, on stderr.
    std::fs::remove_file(directory.path().join("trigger_watch_indicators.json")).unwrap();
    let output = std::process::Command::new(support::example("sample_module"))
        .arg("check-module")
        .arg(directory.path())
        .output_bounded();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "check-module: {}: checked manifest.json, 1 item manifest (action_lookup_ip.json) and their JSON Schemas, against the 3 items",
            directory.path().display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains(": 1 problem\n  - "), "{stderr}");
}

/// `sekoia-automation check`: the files it read, without the code.
#[cfg(feature = "cli")]
#[test]
fn the_command_says_what_it_checked() {
    let directory = good_directory();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sekoia-automation"))
        .arg("check")
        .arg(directory.path())
        .output_bounded();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        format!(
            "sekoia-automation check: {}: checked manifest.json, 2 item manifests (action_lookup_ip.json, trigger_watch_indicators.json) and their JSON Schemas: ok\n",
            directory.path().display()
        )
    );
}
