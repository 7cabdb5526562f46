//! `sekoia-automation new-module`: the scaffolded crate, with no flag beyond
//! the README's, depends on this checkout, builds, passes its own tests,
//! runs its action and its trigger locally as its README says, and passes
//! the checks. One test: the nested build takes a while (its
//! target directory is kept under this crate's, so later runs reuse it).

#[path = "support/child.rs"]
mod child;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use child::Bounded;
use serde_json::Value;

const CLI: &str = env!("CARGO_BIN_EXE_sekoia-automation");

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn nested_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target")
}

#[test]
fn a_new_module_builds_passes_its_tests_and_runs() {
    let parent = tempfile::tempdir().unwrap();
    let directory = parent.path().join("scaffolded");
    // A local checkout, as an author without network access uses one.
    let output = Command::new(CLI)
        .args(["new-module"])
        .arg(&directory)
        .args([
            "--name",
            "Scaffold Test",
            "--description",
            "A module from the scaffold",
            "--sekoia-automation-path",
            env!("CARGO_MANIFEST_DIR"),
        ])
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));

    for file in [
        "Cargo.toml",
        "src/main.rs",
        "tests/module.rs",
        "README.md",
        "Dockerfile",
        ".dockerignore",
        ".gitignore",
        "manifest.json",
        "action_greet.json",
        "action_lookup.json",
        "trigger_ticker.json",
    ] {
        assert!(directory.join(file).is_file(), "{file} missing");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(directory.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["slug"], "scaffold-test");
    assert_eq!(manifest["version"], "0.1.0");
    assert_eq!(
        manifest["configuration"]["secrets"],
        serde_json::json!(["api_key"])
    );
    let uuid = uuid::Uuid::parse_str(manifest["uuid"].as_str().unwrap()).unwrap();
    assert_eq!(uuid.get_version_num(), 4, "a fresh uuid");
    let cargo_toml = std::fs::read_to_string(directory.join("Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains("name = \"scaffold-test\""),
        "{cargo_toml}"
    );
    // The checkout relative to the module: no absolute path to share.
    let dependency = cargo_toml
        .lines()
        .find(|line| line.starts_with("sekoia-automation = "))
        .unwrap();
    let relative = dependency
        .strip_prefix("sekoia-automation = { path = \"")
        .and_then(|rest| rest.strip_suffix("\" }"))
        .unwrap_or_else(|| panic!("{dependency}"));
    assert!(relative.starts_with("../"), "{dependency}");
    assert_eq!(
        std::fs::canonicalize(directory.join(relative)).unwrap(),
        std::fs::canonicalize(env!("CARGO_MANIFEST_DIR")).unwrap()
    );
    // `type Event = serde_json::Value`, as the docs suggest, needs no edit.
    let dependencies = cargo_toml.split("[dependencies]").nth(1).unwrap();
    let dependencies = dependencies.split("\n[").next().unwrap();
    assert!(dependencies.contains("\nserde_json = "), "{cargo_toml}");
    assert!(!cargo_toml.contains("[dev-dependencies]"), "{cargo_toml}");

    // The image, checked as text (no Docker engine here): a static musl
    // build, alone in a scratch image, as a non-root user.
    let dockerfile = std::fs::read_to_string(directory.join("Dockerfile")).unwrap();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect();
    assert!(
        instructions
            .iter()
            .all(|line| !line.contains("x86_64") && !line.contains("aarch64")),
        "no hard-coded target triple:\n{dockerfile}"
    );
    for needle in [
        "AS build",
        "rustup target add \"$(uname -m)-unknown-linux-musl\"",
        "target=\"$(uname -m)-unknown-linux-musl\"",
        "cargo build --release --target \"$target\"",
        "cp \"target/$target/release/scaffold-test\" /module",
        "\nFROM scratch\n",
        "COPY --from=build /module /module\n",
        "USER 65534:65534\n",
        "ENTRYPOINT [\"/module\"]",
    ] {
        assert!(
            dockerfile.contains(needle),
            "{needle:?} not in the Dockerfile:\n{dockerfile}"
        );
    }
    let after_scratch = dockerfile.split("FROM scratch").nth(1).unwrap();
    assert_eq!(
        after_scratch.matches("COPY").count(),
        1,
        "only the binary in the image"
    );
    let dockerignore = std::fs::read_to_string(directory.join(".dockerignore")).unwrap();
    assert!(dockerignore.contains("target/"));
    let readme = std::fs::read_to_string(directory.join("README.md")).unwrap();
    assert!(readme.contains("cargo run -- run-local greet name=world"));
    assert!(
        !readme.contains(r#""api_key": "k""#),
        "secrets of 4 bytes or more"
    );
    assert!(readme.contains("cargo test "));
    assert!(readme.contains("not built by the CI"));

    // The command's strict check passes on the new module.
    let output = Command::new(CLI)
        .arg("check")
        .arg(&directory)
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    // It says what it checked.
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "sekoia-automation check: {}: checked manifest.json, 3 item manifests (action_greet.json, action_lookup.json, trigger_ticker.json) and their JSON Schemas: ok\n",
            directory.display()
        )
    );

    // A non-empty directory is refused.
    let output = Command::new(CLI)
        .arg("new-module")
        .arg(&directory)
        .args(["--name", "Again"])
        .output_bounded();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("exists and is not empty"),
        "{}",
        text(&output)
    );

    // Its tests pass (this crate as a path dependency, offline: the
    // dependencies are this crate's, already fetched).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["test", "--offline", "--quiet"])
        .current_dir(&directory)
        .env("CARGO_TARGET_DIR", nested_target())
        .output_within(child::BUILD_DEADLINE);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("5 passed"),
        "{}",
        text(&output)
    );

    // The README's first command: the action against the local platform.
    let binary = nested_target().join("debug").join("scaffold-test");
    let output = Command::new(&binary)
        .args([
            "run-local",
            "greet",
            "name=world",
            "excitement=1",
            "-c",
            r#"{"api_key": "my-key"}"#,
            "--json",
        ])
        .current_dir(&directory)
        .env_remove("SEKOIA_AUTOMATION_MANIFEST")
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("shorter than"),
        "the README's secret is long enough to be scrubbed: {}",
        text(&output)
    );
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["results"]["message"], "Hello world!");
    assert_eq!(document["outputs"]["excited"], true);

    // The README's trigger command: three ticks with the default interval.
    let output = Command::new(&binary)
        .args([
            "run-local",
            "ticker",
            "--events",
            "3",
            "--json",
            "-c",
            r#"{"api_key": "my-key"}"#,
        ])
        .current_dir(&directory)
        .env_remove("SEKOIA_AUTOMATION_MANIFEST")
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    // A trigger's `--json` prints JSON lines as the run goes (events, logs),
    // the summary document last.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let document: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    let numbers: Vec<&Value> = document["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| &event["event"]["number"])
        .collect();
    assert_eq!(numbers, [1, 2, 3], "{document}");

    // `--help` lists the items and the tooling.
    let output = Command::new(&binary).arg("--help").output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "greet",
        "lookup",
        "ticker",
        "generate-files",
        "run-local COMMAND",
    ] {
        assert!(help.contains(needle), "{needle:?} not in {help}");
    }
}

#[test]
fn by_default_a_new_module_depends_on_the_crates_repository() {
    let parent = tempfile::tempdir().unwrap();
    let directory = parent.path().join("shared");
    let output = Command::new(CLI)
        .arg("new-module")
        .arg(&directory)
        .args(["--name", "Shared"])
        .output_bounded();
    assert!(output.status.success(), "{}", text(&output));
    let cargo_toml = std::fs::read_to_string(directory.join("Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains(&format!(
            "sekoia-automation = {{ git = \"{}\" }}",
            env!("CARGO_PKG_REPOSITORY")
        )),
        "{cargo_toml}"
    );
    assert!(!cargo_toml.contains("path = "), "{cargo_toml}");
}
