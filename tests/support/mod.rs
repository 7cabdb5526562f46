//! Helpers shared by the tests that run real processes.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The path of an example binary of this crate, brought up to date (once
/// per test binary: `cargo test --test x` does not rebuild examples, and a
/// stale one would test old code), in the same profile as the tests.
#[allow(dead_code)]
pub fn example(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // target/<profile>/deps/<test binary> → target/<profile>/examples/<name>
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_directory = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let binary = profile_directory.join("examples").join(name);
    if !built.iter().any(|known| known == name) {
        built.push(name.to_string());
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "--example", name]);
        // The variables `cargo test` sets for the test process: a build
        // script that tracks one (ring's tracks CARGO_MANIFEST_DIR) would
        // otherwise rebuild, here and again at the next `cargo build`.
        for (variable, _) in std::env::vars_os() {
            let name = variable.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&name.as_ref())
            {
                build.env_remove(&variable);
            }
        }
        if profile_directory.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build --example {name} failed");
    }
    binary
}

/// Asserts that a child process succeeded, showing its stdout and stderr if not.
#[allow(dead_code)]
pub fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
