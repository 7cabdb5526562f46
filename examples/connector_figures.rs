//! The connector figures of the README, each measured next to a baseline in
//! the same run.
//!
//! ```text
//! cargo run --profile dist --example connector_figures
//! SEKOIA_PYTHON=/path/to/venv/bin/python cargo run --profile dist --example connector_figures
//! ```
//!
//! Starts the embedded platform (its intake) in this process, then runs
//! pushes in child processes, each reporting its own peak RSS (VmHWM of
//! `/proc/self/status`) and its time around the push call alone; this
//! process also times each child from spawn to exit and takes its CPU time
//! (user + system, `wait4`'s rusage of the child):
//!
//! - **100,000 small events**: one `push_events` call (per-event result with
//!   the intake's ids) against the Python SDK 1.27's `push_events_to_intakes`
//!   of the same events (run with `$SEKOIA_PYTHON`, default `python3`, when
//!   it can import `sekoia_automation`): events/s of the push call and of
//!   the whole process (what a connector run costs: start-up, configuration,
//!   the push, the stop), CPU time of the whole process per million events
//!   (what a connector costs on the platform), and max RSS, as ratios;
//! - **per-event result overhead**: the same push with `push_events` (ids
//!   kept) against `push_events_without_ids`, 21 runs each, alternated:
//!   the ratio of the medians and the median of the paired ratios;
//! - **1,000,000 events streamed** from an iterator through
//!   `push_events_without_ids` and `push_events`: max RSS.
//!
//! With `FIGURES_COMPARE=<other builds of this example, :-separated>`
//! (another checkout's `target/dist/examples/connector_figures`), it only
//! runs the 100,000-event push of those builds and of this one, alternated
//! in one run (the machine may be shared: ratios within a run), and the
//! Python SDK's, and prints the CPU time per million events, max RSS and
//! events/s of each.
//!
//! The child branch: `connector_figures push` runs the module's connector as
//! the platform would.

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use schemars::JsonSchema;
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::{Connector, ConnectorContext, JsonEvent, Module, TriggerError};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct PushConfiguration {
    events: u64,
    keep_ids: bool,
}

/// A small event, as the Python baseline builds it.
#[derive(Serialize)]
struct Small {
    id: u64,
    severity: u64,
    source: &'static str,
    message: &'static str,
}

struct Push;

impl Connector for Push {
    type ModuleConfiguration = ();
    type Configuration = PushConfiguration;
    type Event = String;
    const NAME: &'static str = "Push";
    const DESCRIPTION: &'static str = "Push generated events once";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let configuration = ctx.configuration();
        let events = (0..configuration.events).map(|id| {
            JsonEvent(Small {
                id,
                severity: id * 37 % 101,
                source: "https://feed",
                message: "user logged in",
            })
        });
        let started = Instant::now();
        let pushed = if configuration.keep_ids {
            ctx.push_events(events)
        } else {
            ctx.push_events_without_ids(events)
        };
        let wall = started.elapsed();
        let report = match &pushed {
            Ok(acknowledged) => acknowledged.report(),
            Err(error) => error.report(),
        };
        // The ids are decoded when each chunk's answer arrives (16 bytes an
        // id); reading every id and outcome adds the cost of the lookups.
        let ids = report.ids().count();
        let acknowledged = report
            .outcomes()
            .filter(|outcome| outcome.is_acknowledged())
            .count();
        let with_reading = started.elapsed();
        println!(
            "{} {} {} {} {}",
            wall.as_secs_f64(),
            acknowledged,
            ids,
            own_max_rss_kib(),
            with_reading.as_secs_f64()
        );
        ctx.stop();
        Ok(())
    }
}

/// This process's peak RSS (VmHWM). Measured by the process itself: the
/// `ru_maxrss` that `wait4` gives a parent counts the parent's own peak when
/// the child was spawned (the exec inherits the high-water mark of the
/// address space it replaces), and this parent holds the platform's record.
fn own_max_rss_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().collect();
    if arguments.get(1).map(String::as_str) == Some("push") {
        return Module::<()>::new()
            .register("push", Push)
            .run_command("push");
    }
    figures();
    ExitCode::SUCCESS
}

struct Sample {
    /// The push call alone.
    seconds: f64,
    /// The whole process, spawn to exit: start-up, configuration, the
    /// push, the stop.
    process_seconds: f64,
    /// The push and reading every id and outcome of its report.
    read_seconds: f64,
    /// The whole process's CPU time, user and system.
    cpu_seconds: f64,
    acknowledged: u64,
    ids: u64,
    max_rss_kib: i64,
}

/// Runs `command`, waits with `wait4`, parses its `seconds acknowledged ids
/// max_rss_kib` line.
#[allow(clippy::zombie_processes)] // wait4 below reaps the child.
fn measure(command: &mut Command) -> Option<Sample> {
    let spawned = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let mut stderr = child.stderr.take()?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child and fills a zeroed rusage.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let process_seconds = spawned.elapsed().as_secs_f64();
    let seconds_of = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    let cpu_seconds = seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
    let text = reader.join().unwrap_or_default();
    let errors = errors.join().unwrap_or_default();
    if pid != child.id() as libc::pid_t
        || !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0)
    {
        let tail: Vec<&str> = errors.lines().rev().take(3).collect();
        eprintln!("{command:?} failed ({status}): {}", tail.join(" / "));
        return None;
    }
    let line = text.lines().last()?;
    let mut fields = line.split_whitespace();
    Some(Sample {
        process_seconds,
        cpu_seconds,
        seconds: fields.next()?.parse().ok()?,
        acknowledged: fields.next()?.parse().ok()?,
        ids: fields.next()?.parse().ok()?,
        max_rss_kib: fields.next()?.parse().ok()?,
        read_seconds: fields
            .next()
            .and_then(|f| f.parse().ok())
            .unwrap_or(f64::NAN),
    })
}

fn rust_push(sandbox: &Sandbox, platform: &LocalPlatform, events: u64, keep_ids: bool) -> Sample {
    let binary = std::env::current_exe().unwrap();
    push_with(&binary, sandbox, platform, events, keep_ids)
}

/// [`rust_push`] by `binary`, a build of this example.
fn push_with(
    binary: &std::path::Path,
    sandbox: &Sandbox,
    platform: &LocalPlatform,
    events: u64,
    keep_ids: bool,
) -> Sample {
    sandbox
        .set_json(
            "connector_configuration",
            &json!({
                "intake_key": "FIGURES",
                "intake_server": platform.intake_url(),
                "events": events,
                "keep_ids": keep_ids,
            }),
        )
        .unwrap();
    let sample = measure(sandbox.command(binary).arg("push").env("RUST_LOG", "warn"))
        .expect("the Rust push ran");
    platform.clear();
    assert_eq!(sample.acknowledged, events, "every event acknowledged");
    sample
}

fn python_push(sandbox: &Sandbox, platform: &LocalPlatform, events: u64) -> Option<Sample> {
    const SCRIPT: &str = r#"
import sys, time
from pathlib import Path
from sekoia_automation.connector import Connector

class Push(Connector):
    def run(self):
        n = int(sys.argv[1])
        events = [{"id": i, "severity": i * 37 % 101, "source": "https://feed", "message": "user logged in"} for i in range(n)]
        started = time.perf_counter()
        ids = self.push_events_to_intakes(events)
        hwm = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        elapsed = time.perf_counter() - started
        print(elapsed, len(ids), len(ids), hwm, elapsed, flush=True)
        self.stop()

Push(data_path=Path(sys.argv[2])).execute()
"#;
    let python = std::env::var("SEKOIA_PYTHON").unwrap_or_else(|_| "python3".into());
    let sample = measure(
        Command::new(python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(events.to_string())
            .arg(sandbox.data_directory())
            .env("TOKEN", platform.token())
            .env("URL_CALLBACK", platform.callback_url())
            .env("MODULE_CONFIGURATION", "{}")
            .env(
                "CONNECTOR_CONFIGURATION",
                json!({"intake_key": "FIGURES", "intake_server": platform.intake_url()})
                    .to_string(),
            )
            .env("LIVENESS_PORT", free_port().to_string())
            .env("METRICS_PORT", free_port().to_string())
            .current_dir(sandbox.module_directory()),
    );
    platform.clear();
    sample
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(0)
}

/// The floor: this process builds the same bodies (compact events, 10 MiB
/// chunks) and POSTs them one after the other with a bare `ureq` call,
/// reading nothing of the answers.
fn bare_seconds(platform: &LocalPlatform, events: u64) -> f64 {
    let url = format!("{}/batch", platform.intake_url());
    let started = Instant::now();
    let mut body = Vec::with_capacity(10 << 20);
    let flush = |body: &mut Vec<u8>| {
        body.extend_from_slice(b"]}");
        ureq::post(&url)
            .header("Content-Type", "application/json")
            .send(&body[..])
            .expect("the bare POST");
        body.clear();
    };
    for id in 0..events {
        let event = serde_json::to_string(&Small {
            id,
            severity: id * 37 % 101,
            source: "https://feed",
            message: "user logged in",
        })
        .unwrap();
        let literal = serde_json::to_string(&event).unwrap();
        if body.len() + literal.len() + 4 > 10 << 20 {
            flush(&mut body);
        }
        if body.is_empty() {
            body.extend_from_slice(br#"{"intake_key": "FIGURES", "jsons": ["#);
        } else {
            body.extend_from_slice(b", ");
        }
        body.extend_from_slice(literal.as_bytes());
    }
    if !body.is_empty() {
        flush(&mut body);
    }
    let seconds = started.elapsed().as_secs_f64();
    platform.clear();
    seconds
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn figures() {
    let platform = LocalPlatform::start().expect("start the platform");
    let sandbox = Sandbox::new(&platform).expect("a sandbox");
    // The platform gives every connector its module configuration.
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();

    // 100,000 small events: Rust against the Python SDK.
    let small = 100_000;
    if let Some(other) = std::env::var_os("FIGURES_COMPARE") {
        compare(&sandbox, &platform, &other, small);
        return;
    }
    if std::env::var_os("FIGURES_RSS_ONLY").is_some() {
        for events in [100_000, 1_000_000] {
            for keep_ids in [false, true, false, true] {
                let sample = rust_push(&sandbox, &platform, events, keep_ids);
                println!(
                    "{events} ids={keep_ids}: {} KiB, {:.3} s",
                    sample.max_rss_kib, sample.seconds
                );
            }
        }
        return;
    }
    // Every figure is the median of runs alternated with its baseline's,
    // the machine being shared.
    let mut with_ids = Vec::new();
    let mut with_ids_process = Vec::new();
    let mut with_ids_read = Vec::new();
    let mut with_ids_cpu = Vec::new();
    let mut without_ids = Vec::new();
    let mut bare = Vec::new();
    let mut pythons = Vec::new();
    let mut rust = None;
    // The per-event result's overhead is a fraction of a millisecond in
    // 20-35, on a machine whose runs vary by more: 21 pairs, each pair's
    // ratio taken, then their median.
    const ROUNDS: usize = 21;
    let mut paired = Vec::new();
    for round in 0..ROUNDS {
        let sample = rust_push(&sandbox, &platform, small, true);
        with_ids.push(sample.seconds);
        with_ids_process.push(sample.process_seconds);
        with_ids_read.push(sample.read_seconds);
        with_ids_cpu.push(sample.cpu_seconds);
        let plain = rust_push(&sandbox, &platform, small, false).seconds;
        paired.push(sample.seconds / plain);
        rust = Some(sample);
        without_ids.push(plain);
        if round < 5 {
            bare.push(bare_seconds(&platform, small));
        }
        if round < 3 {
            pythons.extend(python_push(&sandbox, &platform, small));
        }
    }
    let mut rust = rust.expect("ROUNDS rounds");
    let paired = median(paired);
    rust.seconds = median(with_ids.clone());
    rust.process_seconds = median(with_ids_process);
    rust.cpu_seconds = median(with_ids_cpu);
    let python = (!pythons.is_empty()).then(|| Sample {
        seconds: median(pythons.iter().map(|sample| sample.seconds).collect()),
        process_seconds: median(
            pythons
                .iter()
                .map(|sample| sample.process_seconds)
                .collect(),
        ),
        read_seconds: f64::NAN,
        cpu_seconds: median(pythons.iter().map(|sample| sample.cpu_seconds).collect()),
        acknowledged: pythons[0].acknowledged,
        ids: pythons[0].ids,
        max_rss_kib: pythons
            .iter()
            .map(|sample| sample.max_rss_kib)
            .max()
            .unwrap_or(0),
    });
    let bare = median(bare);
    let with_ids_read = median(with_ids_read);
    let (with_ids, without_ids) = (median(with_ids), median(without_ids));

    // 1,000,000 events streamed.
    let million = 1_000_000;
    let streamed_plain = rust_push(&sandbox, &platform, million, false);
    let streamed_ids = rust_push(&sandbox, &platform, million, true);

    let rate = |sample: &Sample, events: u64| events as f64 / sample.seconds;
    println!("# Connector figures (dist profile, one run, same machine)\n");
    println!("| figure | Rust | baseline | ratio |");
    println!("| --- | --- | --- | --- |");
    match &python {
        Some(python) => {
            println!(
                "| 100,000 small events, events/s (median of 21; Python: of 3) | {:.0} | Python SDK 1.27: {:.0} | {:.1}× |",
                rate(&rust, small),
                rate(python, small),
                rate(&rust, small) / rate(python, small)
            );
            println!(
                "| 100,000 small events, events/s of the whole process, spawn to exit (median of 21; Python: of 3) | {:.0} | Python SDK 1.27: {:.0} | {:.1}× |",
                small as f64 / rust.process_seconds,
                small as f64 / python.process_seconds,
                python.process_seconds / rust.process_seconds
            );
            println!(
                "| 100,000 small events, CPU time (user + system) of the whole process per million events (median of 21; Python: of 3) | {:.0} ms | Python SDK 1.27: {:.0} ms | {:.3} |",
                cpu_ms_per_million(&rust, small),
                cpu_ms_per_million(python, small),
                rust.cpu_seconds / python.cpu_seconds
            );
            println!(
                "| 100,000 small events, max RSS | {} KiB | Python SDK 1.27: {} KiB | {:.3} |",
                rust.max_rss_kib,
                python.max_rss_kib,
                rust.max_rss_kib as f64 / python.max_rss_kib as f64
            );
        }
        None => {
            println!(
                "| 100,000 small events, events/s | {:.0} | Python SDK: could not run (set SEKOIA_PYTHON) | |",
                rate(&rust, small)
            );
            println!(
                "| 100,000 small events, CPU time (user + system) of the whole process per million events | {:.0} ms | Python SDK: could not run | |",
                cpu_ms_per_million(&rust, small)
            );
            println!(
                "| 100,000 small events, max RSS | {} KiB | Python SDK: could not run | |",
                rust.max_rss_kib
            );
        }
    }
    println!(
        "| 100,000 small events, the push (per-event result, ids kept) against the plain push: bare `ureq` POSTs of the same bodies, sequential, in-process, answers not read, events/s | {:.0} | {:.0} | {:.2} |",
        rate(&rust, small),
        small as f64 / bare,
        rate(&rust, small) * bare / small as f64
    );
    println!(
        "| per-event result (ids kept) over `push_events_without_ids`, median of 21 | {:.3} s | {:.3} s | {:+.1}% (median of the 21 paired ratios: {:+.1}%) |",
        with_ids,
        without_ids,
        (with_ids / without_ids - 1.0) * 100.0,
        (paired - 1.0) * 100.0
    );
    println!(
        "| the same, and every id and outcome of the report read | {:.3} s | {:.3} s | {:+.1}% |",
        with_ids_read,
        without_ids,
        (with_ids_read / without_ids - 1.0) * 100.0
    );
    println!(
        "| 1,000,000 events streamed, `push_events_without_ids`, max RSS | {} KiB ({:.1} MiB) | limit 64 MiB | {:.2} |",
        streamed_plain.max_rss_kib,
        streamed_plain.max_rss_kib as f64 / 1024.0,
        streamed_plain.max_rss_kib as f64 / (64.0 * 1024.0)
    );
    println!(
        "| 1,000,000 events streamed, `push_events` (1,000,000 ids kept and read), max RSS | {} KiB ({:.1} MiB) | limit 64 MiB | {:.2} |",
        streamed_ids.max_rss_kib,
        streamed_ids.max_rss_kib as f64 / 1024.0,
        streamed_ids.max_rss_kib as f64 / (64.0 * 1024.0)
    );
    println!(
        "| 1,000,000 events streamed, events/s | {:.0} (ids: {}) | | |",
        rate(&streamed_plain, million),
        streamed_ids.ids
    );
}

/// CPU time (user + system) of the whole process, in milliseconds per
/// million events.
fn cpu_ms_per_million(sample: &Sample, events: u64) -> f64 {
    sample.cpu_seconds * 1e3 * 1e6 / events as f64
}

/// The push of `events` (ids kept) by each of `others` (builds of this
/// example, `:`-separated) and by this build, alternated (each round in
/// another order), and the Python SDK's: medians of CPU time per million
/// events, max RSS and events/s.
fn compare(sandbox: &Sandbox, platform: &LocalPlatform, others: &std::ffi::OsStr, events: u64) {
    const ROUNDS: usize = 21;
    let mut builds: Vec<std::path::PathBuf> = std::env::split_paths(others).collect();
    builds.push(std::env::current_exe().unwrap());
    let mut samples: Vec<Vec<Sample>> = builds.iter().map(|_| Vec::new()).collect();
    let mut pythons = Vec::new();
    for round in 0..ROUNDS {
        for step in 0..builds.len() {
            let index = (round + step) % builds.len();
            let sample = push_with(&builds[index], sandbox, platform, events, true);
            samples[index].push(sample);
        }
        if round < 3 {
            pythons.extend(python_push(sandbox, platform, events));
        }
    }
    println!(
        "# Connector process, {events} small events, `push_events`: medians of {ROUNDS} alternated runs (Python: of {})\n",
        pythons.len()
    );
    println!(
        "| build | CPU ms per million events (user + system) | CPU time over the last build's, median of paired ratios | max RSS | events/s, push call | events/s, whole process |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let last = samples.last().expect("this build");
    let row = |name: &str, samples: &[Sample]| {
        let of = |field: fn(&Sample) -> f64| median(samples.iter().map(field).collect());
        let paired = median(
            samples
                .iter()
                .zip(last)
                .map(|(sample, last)| sample.cpu_seconds / last.cpu_seconds)
                .collect(),
        );
        println!(
            "| {name} | {:.0} | {paired:.3} | {:.0} KiB | {:.0} | {:.0} |",
            of(|sample| sample.cpu_seconds) * 1e3 * 1e6 / events as f64,
            of(|sample| sample.max_rss_kib as f64),
            events as f64 / of(|sample| sample.seconds),
            events as f64 / of(|sample| sample.process_seconds),
        );
    };
    for (binary, samples) in builds.iter().zip(&samples) {
        row(&binary.display().to_string(), samples);
    }
    if !pythons.is_empty() {
        row("Python SDK 1.27", &pythons);
    }
}
