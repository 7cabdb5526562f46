//! Helpers shared by the tests that run real processes.

pub mod child;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use child::Bounded;

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
        let output = build.output_within(child::BUILD_DEADLINE);
        assert!(
            output.status.success(),
            "cargo build --example {name} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
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

/// `seconds` since the epoch as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37
/// GMT`); the weekday is not read by the parser, written right anyway.
#[allow(dead_code)]
pub fn http_date(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let (hour, minute, second) = (seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{}, {day:02} {} {year} {hour:02}:{minute:02}:{second:02} GMT",
        weekdays[days.rem_euclid(7) as usize],
        months[month as usize - 1]
    )
}
