//! The S3 connector figure: a connector that pushes pages of 1,000 events
//! and saves its checkpoint (`CheckpointCursor`, the data directory's
//! `context.json`) after every page, on the S3 file backend, against the
//! Python SDK 1.27's connector doing the same, same S3 server (moto's),
//! same intake (the embedded platform's), same run, alternated.
//!
//! ```text
//! SEKOIA_PYTHON=/tmp/sdk/bin/python SEKOIA_S3_PYTHON=target/s3-venv/bin/python \
//!   cargo run --profile dist --example s3_connector_figures
//! ```
//!
//! Each connector runs in a child process that reports its own peak RSS
//! (VmHWM of `/proc/self/status`) and the time of its pages loop (the
//! pushes and the checkpoint saves); this process also times each child
//! from spawn to exit. Each run gets a fresh `sub_folder`: its first
//! checkpoint finds no object. `S3_FIGURES_PAGES` sets the pages per run
//! (100 by default), `S3_FIGURES_ROUNDS` the runs of each (3).
//!
//! The child branch: `s3_connector_figures push` runs the crate's connector
//! as the platform would.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::time::Instant;

use schemars::JsonSchema;
use sekoia_automation::connector::CheckpointCursor;
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::unversioned::s3::{S3Client, S3Config};
use sekoia_automation::{Connector, ConnectorContext, JsonEvent, Module, Secret, TriggerError};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Events per page, a checkpoint after each.
const PAGE: u64 = 1_000;

#[derive(Deserialize, JsonSchema)]
struct PagesConfiguration {
    pages: u64,
}

/// A small event, as the Python baseline builds it.
#[derive(Serialize)]
struct Small {
    id: u64,
    severity: u64,
    source: &'static str,
    message: &'static str,
}

struct Pages;

impl Connector for Pages {
    type ModuleConfiguration = ();
    type Configuration = PagesConfiguration;
    type Event = String;
    const NAME: &'static str = "Pages";
    const DESCRIPTION: &'static str = "Push pages of events, a checkpoint after each";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let pages = ctx.configuration().pages;
        let mut cursor = CheckpointCursor::<u64>::new(ctx.data_directory().root());
        let started = Instant::now();
        let mut acknowledged_events = 0;
        for page in 0..pages {
            let events = (page * PAGE..(page + 1) * PAGE).map(|id| {
                JsonEvent(Small {
                    id,
                    severity: id * 37 % 101,
                    source: "https://feed",
                    message: "user logged in",
                })
            });
            let acknowledged = ctx.push_events(events)?;
            acknowledged_events += acknowledged.report().ids().count();
            cursor.advance(page + 1, &acknowledged)?;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{seconds} {acknowledged_events} {} {}",
            cursor.offset()?.unwrap_or(0),
            own_max_rss_kib()
        );
        ctx.stop();
        Ok(())
    }
}

/// This process's peak RSS (VmHWM).
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
            .register("push", Pages)
            .run_command("push");
    }
    figures();
    ExitCode::SUCCESS
}

/// moto's S3 server (no authentication: any key), stopped when its
/// standard input closes.
struct Moto {
    endpoint: String,
    _child: Child,
    _stdin: ChildStdin,
}

const LAUNCHER: &str = r#"
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"#;

fn moto() -> Moto {
    let python = std::env::var_os("SEKOIA_S3_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/s3-venv/bin/python"));
    let mut child = Command::new(&python)
        .args(["-c", LAUNCHER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot start {} (SEKOIA_S3_PYTHON: a Python with moto[server]): {error}",
                python.display()
            )
        });
    let stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Moto {
        endpoint: format!("http://127.0.0.1:{}", line.trim()),
        _child: child,
        _stdin: stdin,
    }
}

struct Sample {
    /// The pages loop: the pushes and the checkpoint saves.
    seconds: f64,
    /// The whole process, spawn to exit.
    process_seconds: f64,
    max_rss_kib: i64,
}

/// Runs `command`, parses its `seconds acknowledged cursor max_rss_kib`
/// line and checks every event was acknowledged and the checkpoint is the
/// last page.
fn measure(command: &mut Command, pages: u64) -> Sample {
    let spawned = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut errors = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let _ = errors.read_to_string(&mut stderr);
        stderr
    });
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let process_seconds = spawned.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap_or_default();
    let line = stdout.lines().last().unwrap_or_default();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(
        status.success() && fields.len() == 4,
        "{command:?}: {status}, {line:?}\n{stderr}"
    );
    assert_eq!(
        fields[1],
        (pages * PAGE).to_string(),
        "every event acknowledged"
    );
    assert_eq!(
        fields[2],
        pages.to_string(),
        "the checkpoint is the last page"
    );
    Sample {
        seconds: fields[0].parse().unwrap(),
        process_seconds,
        max_rss_kib: fields[3].parse().unwrap(),
    }
}

const PYTHON: &str = r#"
import sys, time
from sekoia_automation.checkpoint import CheckpointCursor
from sekoia_automation.connector import Connector

PAGE = 1000

class Pages(Connector):
    def run(self):
        pages = int(sys.argv[1])
        cursor = CheckpointCursor(path=self.data_path)
        started = time.perf_counter()
        acknowledged = 0
        for page in range(pages):
            events = [{"id": i, "severity": i * 37 % 101, "source": "https://feed", "message": "user logged in"}
                      for i in range(page * PAGE, (page + 1) * PAGE)]
            acknowledged += len(self.push_events_to_intakes(events))
            cursor.offset = page + 1
        elapsed = time.perf_counter() - started
        hwm = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        print(elapsed, acknowledged, cursor.offset, hwm, flush=True)
        self.stop()

Pages().execute()
"#;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn figures() {
    let pages: u64 = std::env::var("S3_FIGURES_PAGES")
        .ok()
        .and_then(|pages| pages.parse().ok())
        .unwrap_or(100);
    let rounds: usize = std::env::var("S3_FIGURES_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(3);
    let moto = moto();
    let bucket = "figures";
    let (key_id, secret) = ("figures", "figures-secret");
    S3Client::new(S3Config::new(
        moto.endpoint.clone(),
        "us-east-1",
        bucket,
        key_id,
        Secret::new(secret.to_string()),
    ))
    .unwrap()
    .create_bucket()
    .unwrap();
    let platform = LocalPlatform::start().expect("start the platform");
    let sandbox = Sandbox::new(&platform).expect("a sandbox");
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    for (key, value) in [
        ("file_backend", "s3"),
        ("aws_bucket_name", bucket),
        ("aws_access_key_id", key_id),
        ("aws_secret_access_key", secret),
        ("aws_default_region", "us-east-1"),
        ("aws_s3_endpoint_url", moto.endpoint.as_str()),
    ] {
        sandbox.set(key, value).unwrap();
    }
    sandbox
        .set_json(
            "connector_configuration",
            &json!({"intake_key": "FIGURES", "intake_server": platform.intake_url(), "pages": pages}),
        )
        .unwrap();
    let binary = std::env::current_exe().unwrap();
    let python = std::env::var("SEKOIA_PYTHON").ok();
    let mut rust = Vec::new();
    let mut pythons = Vec::new();
    for round in 0..rounds {
        sandbox.set("sub_folder", &format!("rust-{round}")).unwrap();
        rust.push(measure(
            sandbox.command(&binary).arg("push").env("RUST_LOG", "warn"),
            pages,
        ));
        platform.clear();
        if let Some(python) = &python {
            pythons.push(measure(
                Command::new(python)
                    .args(["-c", PYTHON, &pages.to_string()])
                    .env("TOKEN", platform.token())
                    .env("URL_CALLBACK", platform.callback_url())
                    .env("MODULE_CONFIGURATION", "{}")
                    .env(
                        "CONNECTOR_CONFIGURATION",
                        json!({"intake_key": "FIGURES", "intake_server": platform.intake_url()})
                            .to_string(),
                    )
                    .env("FILE_BACKEND", "s3")
                    .env("AWS_BUCKET_NAME", bucket)
                    .env("AWS_ACCESS_KEY_ID", key_id)
                    .env("AWS_SECRET_ACCESS_KEY", secret)
                    .env("AWS_DEFAULT_REGION", "us-east-1")
                    .env("AWS_S3_ENDPOINT_URL", &moto.endpoint)
                    .env("SUB_FOLDER", format!("python-{round}"))
                    .env("LIVENESS_PORT", free_port().to_string())
                    .env("METRICS_PORT", free_port().to_string())
                    .current_dir(sandbox.module_directory()),
                pages,
            ));
            platform.clear();
        }
    }
    let events = (pages * PAGE) as f64;
    let row = |name: &str, samples: &[Sample]| {
        let seconds = median(samples.iter().map(|sample| sample.seconds).collect());
        let process = median(
            samples
                .iter()
                .map(|sample| sample.process_seconds)
                .collect(),
        );
        let rss = samples
            .iter()
            .map(|sample| sample.max_rss_kib)
            .max()
            .unwrap_or(0);
        println!(
            "| {name} | {:.0} | {:.0} | {rss} KiB ({:.1} MiB) |",
            events / seconds,
            events / process,
            rss as f64 / 1024.0
        );
        (events / seconds, rss)
    };
    println!(
        "# S3 connector: {pages} pages of {PAGE} events, a checkpoint saved in moto's S3 after each (medians of {rounds} alternated runs; max RSS: the largest)\n"
    );
    println!("| connector | events/s, pages loop | events/s, whole process | max RSS |");
    println!("| --- | --- | --- | --- |");
    let (rust_rate, rust_rss) = row("crate", &rust);
    if pythons.is_empty() {
        println!("| Python SDK 1.27 | could not run (set SEKOIA_PYTHON) | | |");
    } else {
        let (python_rate, python_rss) = row("Python SDK 1.27", &pythons);
        println!(
            "\ncrate / Python: {:.1}× the events/s, {:.2} of the max RSS",
            rust_rate / python_rate,
            rust_rss as f64 / python_rss as f64
        );
    }
    let _ = std::io::stdout().flush();
}
