//! The sandbox: a module environment wired to a local platform.

#[path = "support/local_platform.rs"]
mod local_platform_support;

#[path = "support/child.rs"]
mod child;

use child::Bounded;
use local_platform_support::*;

#[test]
fn sandbox_lays_out_a_module_environment() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let root = sandbox.path().to_owned();
    assert!(root.starts_with(std::env::temp_dir()));
    assert!(
        root.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("sekoia-sandbox-")
    );
    assert_eq!(sandbox.configuration_root(), root.join("symphony"));
    assert_eq!(sandbox.data_directory(), root.join("data"));
    assert_eq!(sandbox.module_directory(), root.join("module"));
    assert_eq!(
        sandbox.manifest_path(),
        root.join("module").join("manifest.json")
    );
    assert!(sandbox.data_directory().is_dir());

    let read = |name: &str| std::fs::read_to_string(sandbox.configuration_root().join(name));
    assert_eq!(read("token").unwrap(), platform.token());
    assert_eq!(read("url_callback").unwrap(), platform.callback_url());

    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(sandbox.manifest_path()).unwrap()).unwrap();
    assert_eq!(manifest["slug"], "sandbox");
    assert_eq!(manifest["name"], "sandbox");
    assert_eq!(manifest["version"], "0.1.0");
    assert!(uuid::Uuid::parse_str(manifest["uuid"].as_str().unwrap()).is_ok());
    assert_eq!(
        manifest["configuration"],
        json!({"type": "object", "properties": {}, "required": [], "secrets": []})
    );

    sandbox.set("playbook_uuid", " as-is\n").unwrap();
    assert_eq!(read("playbook_uuid").unwrap(), " as-is\n");
    sandbox
        .set_json("arguments", &json!({"b": 1, "a": [true]}))
        .unwrap();
    assert_eq!(read("arguments").unwrap(), r#"{"b":1,"a":[true]}"#);
    sandbox.remove("arguments").unwrap();
    assert!(read("arguments").is_err());
    sandbox.remove("arguments").unwrap();
    for bad in ["", ".", "..", "../escape", "a/b"] {
        let error = sandbox.set(bad, "x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }

    let custom = json!({"slug": "custom", "configuration": {"secrets": ["api_key"]}});
    sandbox.write_manifest(&custom).unwrap();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(sandbox.manifest_path()).unwrap()).unwrap();
    assert_eq!(written, custom);

    let settings = sandbox.settings();
    assert_eq!(settings.configuration_root(), sandbox.configuration_root());
    assert_eq!(settings.data_directory(), sandbox.data_directory());
    assert_eq!(settings.manifest_path(), sandbox.manifest_path());
    assert_eq!(settings.retry_backoff(), Duration::from_millis(1));

    drop(sandbox);
    assert!(!root.exists());
}

#[test]
fn sandboxes_are_distinct_and_can_be_kept() {
    let platform = LocalPlatform::start().unwrap();
    let one = Sandbox::new(&platform).unwrap();
    let two = Sandbox::new(&platform).unwrap();
    assert_ne!(one.path(), two.path());
    let kept = two.keep();
    assert!(kept.join("symphony").join("token").is_file());
    std::fs::remove_dir_all(&kept).unwrap();
    // The sandbox outlives nothing: it holds no reference to the platform.
    drop(platform);
    assert!(one.path().is_dir());
}

#[cfg(unix)]
#[test]
fn sandbox_commands_run_in_the_module_directory() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let output = sandbox
        .command("sh")
        .arg("-c")
        .arg(
            "pwd; echo \"$SEKOIA_AUTOMATION_ROOT\"; echo \"$SEKOIA_AUTOMATION_DATA\"; \
             echo \"$SEKOIA_AUTOMATION_MANIFEST\"; echo \"$SEKOIA_AUTOMATION_BACKOFF_MS\"",
        )
        .output_bounded();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let canonical = |path: std::path::PathBuf| path.canonicalize().unwrap();
    assert_eq!(
        canonical(lines[0].into()),
        canonical(sandbox.module_directory())
    );
    assert_eq!(lines[1], sandbox.configuration_root().to_str().unwrap());
    assert_eq!(lines[2], sandbox.data_directory().to_str().unwrap());
    assert_eq!(lines[3], sandbox.manifest_path().to_str().unwrap());
    assert_eq!(lines[4], "1");
}
