//! The action figures of the README, measured side by side with their floor.
//!
//! ```text
//! cargo run --profile dist --example action_figures [runs]
//! ```
//!
//! Starts the embedded platform, then runs, interleaved, `runs` times each
//! (default 100): the quickstart action as a separate process (exec to exit,
//! the running PATCH with `need_secrets` and the finished PATCH), the same
//! two requests made by a bare `ureq` program (`benches/floor.rs`) and by
//! `curl`. Prints the median and 90th percentile wall time and the max RSS of
//! each (under GNU time when there is one, see `max_rss_kib`), and the
//! ratios to the floors measured in the same run. With
//! `FIGURES_COMPARE=<another build of the quickstart example>`, that build
//! is run alongside and its figures printed too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sekoia_automation::testing::{LocalPlatform, Sandbox};
use serde_json::json;

struct Sample {
    wall: Duration,
    max_rss_kib: i64,
}

/// Runs `command` and measures its wall time, then runs it again under
/// GNU time for its max RSS ([`max_rss_kib`]).
fn measure(command: &mut Command) -> Sample {
    let (wall, rusage_max_rss_kib) = wait4(command);
    Sample {
        wall,
        max_rss_kib: max_rss_kib(command).unwrap_or(rusage_max_rss_kib),
    }
}

/// The max RSS of `command`, run under `/usr/bin/time -f %M` (a small
/// process that forks it); `None` without GNU time. Not `wait4`'s rusage
/// of a child of this process: std spawns with `vfork`, and a child's max
/// RSS then counts the RSS of the address space its exec replaced, this
/// process's (the platform and the samples: over 4 MiB after a few hundred
/// runs), so that rusage is only an upper bound.
fn max_rss_kib(command: &Command) -> Option<i64> {
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        return None;
    }
    let output = std::env::temp_dir().join(format!("action_figures_rss_{}", std::process::id()));
    let mut timed = Command::new(time);
    timed
        .args(["-f", "%M", "-o"])
        .arg(&output)
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(name, value),
            None => timed.env_remove(name),
        };
    }
    if let Some(directory) = command.get_current_dir() {
        timed.current_dir(directory);
    }
    wait4(&mut timed);
    let text = std::fs::read_to_string(&output).ok()?;
    let _ = std::fs::remove_file(&output);
    text.trim().parse().ok()
}

/// The median of the samples' max RSS: the highest of a few dozen runs
/// moves with what else the machine does, the median much less.
fn median_rss_kib(samples: &[Sample]) -> i64 {
    let mut rss: Vec<i64> = samples.iter().map(|s| s.max_rss_kib).collect();
    rss.sort_unstable();
    rss.get(rss.len() / 2).copied().unwrap_or(0)
}

/// Runs `command` and waits for it with `wait4`: its wall time and the
/// max RSS of its rusage.
#[allow(clippy::zombie_processes)] // wait4 below reaps the child.
fn wait4(command: &mut Command) -> (Duration, i64) {
    let start = Instant::now();
    let child = command.spawn().expect("spawn");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child and fills a zeroed rusage.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed: {status}"
    );
    (wall, usage.ru_maxrss)
}

fn example(name: &str) -> PathBuf {
    let directory = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let binary = directory.join(name);
    if !binary.is_file() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--profile", &profile(), "--example", name])
            .status()
            .expect("cargo build");
        assert!(status.success());
    }
    binary
}

/// The floor program (`benches/floor.rs`), built with this profile: a bench
/// target's binary has a hashed name, which cargo reports.
fn floor() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--profile",
            &profile(),
            "--bench",
            "floor",
            "--message-format=json",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err("cargo build --bench floor failed".into());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "floor")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo reported no executable for the floor bench".into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100);
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: measure a release build: cargo run --profile dist --example action_figures"
        );
    }
    let quickstart = example("quickstart");
    let floor = floor()?;
    let curl = which("curl");

    let platform = LocalPlatform::start()?;
    platform.set_secrets(json!({"api_key": "4f1c-very-secret"}));
    let sandbox = Sandbox::new(&platform)?;
    sandbox.write_manifest(&json!({
        "slug": "quickstart",
        "configuration": {"properties": {"base_url": {}, "api_key": {}}, "required": ["base_url", "api_key"], "secrets": ["api_key"]}
    }))?;
    sandbox.set_json(
        "module_configuration",
        &json!({"base_url": "https://intel.example"}),
    )?;
    std::fs::write(
        sandbox.data_directory().join("alerts.json"),
        json!([{"id": "a1", "score": 12}, {"id": "a2", "score": 91}]).to_string(),
    )?;
    sandbox.set_json(
        "arguments",
        &json!({"alerts_path": "alerts.json", "threshold": 70}),
    )?;

    // One run to capture the exact two bodies for the floors.
    let quickstart_command = || {
        let mut command = sandbox.command(&quickstart);
        command.arg("triage").env("RUST_LOG", "off");
        command
    };
    wait4(&mut quickstart_command());
    let bodies = platform.requests();
    assert_eq!(bodies.len(), 2, "the quickstart action sends two requests");
    let running = sandbox.path().join("running.json");
    let finished = sandbox.path().join("finished.json");
    std::fs::write(&running, &bodies[0].body)?;
    std::fs::write(&finished, &bodies[1].body)?;
    let authorization = format!("Authorization: Bearer {}", platform.token());
    let url = platform.callback_url();

    // Another build of the quickstart example, measured alongside.
    let other = std::env::var_os("FIGURES_COMPARE").map(PathBuf::from);
    let mut other_samples = Vec::new();
    let mut samples: [Vec<Sample>; 3] = Default::default();
    for _ in 0..runs {
        samples[0].push(measure(&mut quickstart_command()));
        if let Some(other) = &other {
            let mut command = sandbox.command(other);
            command.arg("triage").env("RUST_LOG", "off");
            other_samples.push(measure(&mut command));
        }
        samples[1].push(measure(
            Command::new(&floor)
                .env("URL_CALLBACK", &url)
                .env("TOKEN", platform.token())
                .env("FLOOR_RUNNING_BODY", &running)
                .env("FLOOR_FINISHED_BODY", &finished),
        ));
        if let Some(curl) = &curl {
            let mut command = Command::new(curl);
            for (index, body) in [&running, &finished].into_iter().enumerate() {
                if index > 0 {
                    command.arg("--next");
                }
                command.args(["-s", "-o", "/dev/null", "-X", "PATCH", "-H", &authorization]);
                command.args(["-H", "Content-Type: application/json", "--data-binary"]);
                command.arg(format!("@{}", body.display())).arg(&url);
            }
            samples[2].push(measure(&mut command));
        }
        platform.clear();
    }

    println!("{runs} runs each, interleaved, against the embedded platform on 127.0.0.1\n");
    println!(
        "{:<34} {:>12} {:>12} {:>14} {:>14}",
        "", "median wall", "p90 wall", "max RSS", "(median run)"
    );
    let names = [
        "quickstart action (this crate)",
        "floor: bare ureq, same 2 PATCH",
        "floor: curl, same 2 PATCH",
    ];
    let mut medians = Vec::new();
    for (name, samples) in names.iter().zip(&mut samples) {
        if samples.is_empty() {
            println!("{name:<34} (curl not found)");
            continue;
        }
        samples.sort_by_key(|s| s.wall);
        let median = samples[samples.len() / 2].wall;
        let p90 = samples[samples.len() * 9 / 10].wall;
        let rss = samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0);
        medians.push((median, rss));
        println!(
            "{name:<34} {:>9.2} ms {:>9.2} ms {:>10.2} MiB {:>10.2} MiB",
            ms(median),
            ms(p90),
            rss as f64 / 1024.0,
            median_rss_kib(samples) as f64 / 1024.0
        );
    }
    println!();
    let (action_wall, action_rss) = medians[0];
    for (index, (wall, rss)) in medians.iter().enumerate().skip(1) {
        println!(
            "ratio to {}: wall ×{:.2}, max RSS ×{:.2}",
            if index == 1 { "bare ureq" } else { "curl" },
            ms(action_wall) / ms(*wall),
            action_rss as f64 / *rss as f64
        );
    }
    if let Some(other) = &other {
        other_samples.sort_by_key(|s| s.wall);
        let rss = other_samples
            .iter()
            .map(|s| s.max_rss_kib)
            .max()
            .unwrap_or(0);
        println!(
            "FIGURES_COMPARE ({}): median wall {:.2} ms, max RSS {:.2} MiB ({:.2} MiB in the median run)",
            other.display(),
            ms(other_samples[other_samples.len() / 2].wall),
            rss as f64 / 1024.0,
            median_rss_kib(&other_samples) as f64 / 1024.0
        );
    }
    println!("\ntargets: median ≤ 10 ms wall and ≤ 4 MiB max RSS (Python SDK 1.27: 0.76 s, 70 MB)");
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|directory| Path::new(directory).join(program))
        .find(|candidate| candidate.is_file())
}

/// The cargo profile this example was built with (`target/<profile>/examples/`),
/// to build the programs it runs the same way.
fn profile() -> String {
    let exe = std::env::current_exe().unwrap();
    let directory = exe
        .parent()
        .and_then(|examples| examples.parent())
        .and_then(|profile| profile.file_name())
        .and_then(|name| name.to_str())
        .unwrap_or("dist");
    match directory {
        "debug" => "dev".to_string(),
        name => name.to_string(),
    }
}
