//! The trigger figures of the README, each measured next to a baseline in
//! the same run.
//!
//! ```text
//! cargo run --profile dist --example trigger_figures [events]
//! ```
//!
//! Starts the embedded platform in this process, then runs the trigger
//! example (`examples/trigger.rs`, built with the same profile if missing) as a child
//! process and measures:
//!
//! - **events/s**: one trigger process sending `events` events (default
//!   50,000) over its keep-alive connection, timed by the platform from the
//!   first event received to the last; baselines: a bare `ureq` loop in this
//!   process POSTing the same bodies to the same platform, and the Python SDK
//!   (`sekoia_automation.trigger.Trigger.send_event`, when `python3` can
//!   import it) sending 2,000 events;
//! - **idle RSS and CPU**: the trigger sleeping between two polls, VmHWM and
//!   VmRSS from `/proc/<pid>/status`, user+system ticks from
//!   `/proc/<pid>/stat` over 2 s; baseline: `sleep 60`;
//! - **SIGTERM → exit**: from `kill` to `waitpid` returning, the median of 5
//!   runs; baseline: `sleep 60`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use serde_json::json;

fn main() {
    let events: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    let trigger = example("trigger");
    let platform = LocalPlatform::start().expect("start the platform");
    let sandbox = sandbox(&platform);

    // Events per second.
    let trigger_rate = trigger_events_per_second(&platform, &sandbox, &trigger, events);
    platform.clear();
    let ureq_rate = ureq_events_per_second(&platform, events);
    platform.clear();
    let python_rate = python_events_per_second(&platform, &sandbox, 2_000);
    platform.clear();

    // Idle.
    let idle = idle_figures(&platform, &sandbox, &trigger);
    let sleep_idle = idle_of(sleep_process(), Duration::from_millis(200));

    // SIGTERM to exit.
    let mut trigger_exits = Vec::new();
    let mut sleep_exits = Vec::new();
    for _ in 0..5 {
        let child = sleeping_trigger(&platform, &sandbox, &trigger);
        trigger_exits.push(terminate(child));
        sleep_exits.push(terminate(sleep_process()));
    }

    println!("# Trigger figures (release build, one run, same machine)\n");
    println!("| figure | trigger (Rust) | baseline |");
    println!("| --- | --- | --- |");
    println!(
        "| events/s, one process, {events} events | {trigger_rate:.0} | bare ureq loop: {ureq_rate:.0}{} |",
        match python_rate {
            Some(rate) => format!("; Python SDK (2,000 events): {rate:.0}"),
            None => "; Python SDK: could not run".into(),
        }
    );
    println!(
        "| idle max RSS (VmHWM) | {} KiB | `sleep 60`: {} KiB |",
        idle.hwm_kib, sleep_idle.hwm_kib
    );
    println!(
        "| idle RSS (VmRSS) | {} KiB | `sleep 60`: {} KiB |",
        idle.rss_kib, sleep_idle.rss_kib
    );
    println!(
        "| idle CPU over 2 s | {} ticks ({:.1} ms) | `sleep 60`: {} ticks |",
        idle.cpu_ticks,
        idle.cpu_ticks as f64 * 10.0,
        sleep_idle.cpu_ticks
    );
    println!(
        "| SIGTERM → exit, median of 5 (max) | {:.1} ms ({:.1} ms) | `sleep 60`: {:.1} ms |",
        millis(median(&mut trigger_exits)),
        millis(*trigger_exits.iter().max().unwrap()),
        millis(median(&mut sleep_exits)),
    );
}

/// A sandbox for the trigger example (its manifest, module configuration
/// and free monitoring ports).
fn sandbox(platform: &LocalPlatform) -> Sandbox {
    platform.set_secrets(json!({"api_key": "figures-secret"}));
    let sandbox = Sandbox::new(platform).expect("sandbox");
    sandbox
        .write_manifest(&json!({
            "slug": "alert-feed",
            "configuration": {
                "properties": {"base_url": {}, "api_key": {}},
                "required": ["base_url", "api_key"],
                "secrets": ["api_key"]
            }
        }))
        .unwrap();
    sandbox
        .set_json("module_configuration", &json!({"base_url": "https://feed"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    sandbox
}

fn trigger_events_per_second(
    platform: &LocalPlatform,
    sandbox: &Sandbox,
    trigger: &PathBuf,
    events: u64,
) -> f64 {
    let _ = std::fs::remove_file(sandbox.data_directory().join("cursor.json"));
    sandbox
        .set_json(
            "trigger_configuration",
            &json!({"interval_ms": 0, "batch_size": events, "max_events": events}),
        )
        .unwrap();
    let status = sandbox
        .command(trigger)
        .arg("poll_alerts")
        .stderr(Stdio::null())
        .status()
        .expect("run the trigger");
    assert!(status.success(), "the trigger failed: {status}");
    rate_of(&platform.requests(), events)
}

/// Events per second between the first and the last accepted event.
fn rate_of(requests: &[RecordedRequest], expected: u64) -> f64 {
    let events: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|request| request.route() == "callback" && request.status == 200)
        .collect();
    assert_eq!(events.len() as u64, expected, "every event arrived");
    let span = events[events.len() - 1].received_at - events[0].received_at;
    (expected - 1) as f64 / span.as_secs_f64()
}

fn ureq_events_per_second(platform: &LocalPlatform, events: u64) -> f64 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = platform.callback_url();
    let authorization = format!("Bearer {}", platform.token());
    for id in 1..=events {
        let body = format!(
            r#"{{"name": "alert", "event": {{"id": {id}, "severity": {}, "source": "https://feed"}}, "request_id": "{}"}}"#,
            id * 37 % 101,
            uuid::Uuid::new_v4()
        );
        let mut response = agent
            .post(&url)
            .header("Authorization", &authorization)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .expect("post");
        let _ = response.body_mut().read_to_vec();
    }
    rate_of(&platform.requests(), events)
}

/// The Python SDK's `Trigger.send_event`, 2,000 times, when importable.
fn python_events_per_second(
    platform: &LocalPlatform,
    sandbox: &Sandbox,
    events: u64,
) -> Option<f64> {
    const SCRIPT: &str = r#"
import sys
from pathlib import Path
from sekoia_automation.trigger import Trigger

class Feed(Trigger):
    def run(self):
        for i in range(int(sys.argv[1])):
            self.send_event("alert", {"id": i, "severity": i * 37 % 101, "source": "https://feed"})
        self.stop()

trigger = Feed(data_path=Path(sys.argv[2]))
trigger.execute()
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(events.to_string())
        .arg(sandbox.data_directory())
        .env("TOKEN", platform.token())
        .env("URL_CALLBACK", platform.callback_url())
        .env(
            "MODULE_CONFIGURATION",
            r#"{"base_url": "https://feed", "api_key": "placeholder"}"#,
        )
        .env("TRIGGER_CONFIGURATION", "{}")
        .current_dir(sandbox.module_directory())
        .output()
        .ok()?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        eprintln!("the Python SDK baseline failed: {}", tail.join(" / "));
        return None;
    }
    Some(rate_of(&platform.requests(), events))
}

struct Idle {
    hwm_kib: u64,
    rss_kib: u64,
    cpu_ticks: u64,
}

fn idle_figures(platform: &LocalPlatform, sandbox: &Sandbox, trigger: &PathBuf) -> Idle {
    let child = sleeping_trigger(platform, sandbox, trigger);
    let idle = idle_of(child, Duration::ZERO);
    platform.clear();
    idle
}

/// Measures a running child (after `settle`), then kills it.
fn idle_of(mut child: Child, settle: Duration) -> Idle {
    std::thread::sleep(settle);
    let pid = child.id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    let (hwm_kib, rss_kib) = (field("VmHWM:"), field("VmRSS:"));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let cpu_ticks = cpu_ticks(pid) - before;
    let _ = child.kill();
    let _ = child.wait();
    Idle {
        hwm_kib,
        rss_kib,
        cpu_ticks,
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `rest` starts at field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The trigger example sleeping between two polls (it sent one event).
fn sleeping_trigger(platform: &LocalPlatform, sandbox: &Sandbox, trigger: &PathBuf) -> Child {
    platform.clear();
    sandbox
        .set_json(
            "trigger_configuration",
            &json!({"interval_ms": 3_600_000, "batch_size": 1}),
        )
        .unwrap();
    let child = sandbox
        .command(trigger)
        .arg("poll_alerts")
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the trigger");
    assert!(platform.wait_for(Duration::from_secs(30), |requests| {
        requests.iter().any(|request| request.route() == "callback")
    }));
    std::thread::sleep(Duration::from_millis(200));
    child
}

fn sleep_process() -> Child {
    Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep")
}

/// Sends SIGTERM and times until the process is reaped.
fn terminate(mut child: Child) -> Duration {
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    // SAFETY: signals our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let _ = child.wait();
    start.elapsed()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The path of an example binary of this profile, built if missing.
fn example(name: &str) -> PathBuf {
    let binary = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join(name);
    if !binary.is_file() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--profile", &profile(), "--example", name])
            .status()
            .expect("cargo build");
        assert!(status.success());
    }
    binary
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
