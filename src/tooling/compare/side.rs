//! Running one side of a comparison: the Python module or its Rust port,
//! on one scenario, against a fresh [`LocalPlatform`] and [`FakeVendor`].
//!
//! Both sides get the same values: the Rust side as the platform gives
//! them, files of a configuration root (`SEKOIA_AUTOMATION_ROOT`); the
//! Python side as upper-cased environment variables, which the Python SDK
//! reads when `/symphony` is absent (docs/migrating.md §10, step 3). The
//! Python module runs as `PYTHON main.py COMMAND` in its directory, with
//! the SDK's data directory (`sekoia_automation.constants.DATA_STORAGE`,
//! `/symphony_data` on the platform) set to the run's own, as the SDK's
//! module template does in its tests.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;

use crate::testing::{FakeVendor, LocalPlatform, RecordedRequest, Sandbox};

use super::scenario::{Scenario, VALUE_KEYS};

/// The secrets' members, as written.
type Secrets = std::collections::BTreeMap<String, Box<RawValue>>;

/// The variable naming the Python side's data directory for [`BOOTSTRAP`].
const DATA_VARIABLE: &str = "SEKOIA_COMPARE_DATA";

/// Runs `main.py` as `python main.py COMMAND` would, with the SDK's data
/// directory moved to the run's.
const BOOTSTRAP: &str = "\
import os, runpy, sys
import sekoia_automation.constants as constants
constants.DATA_STORAGE = os.environ['SEKOIA_COMPARE_DATA']
sys.argv = ['main.py'] + sys.argv[1:]
runpy.run_path('main.py', run_name='__main__')
";

/// Configuration values that the scenario does not give, taken out of the
/// sides' environment with the scenario's own ([`VALUE_KEYS`]).
const INHERITED: [&str; 6] = [
    "url_logs",
    "url_secrets",
    "sentry_dsn",
    "environment",
    "node_run_uuid",
    "playbook_run_uuid",
];

/// How long a stopped item (SIGTERM) may take to end before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How often the run's progress is looked at.
const POLL: Duration = Duration::from_millis(20);

/// What runs a scenario's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// `INTERPRETER main.py COMMAND` in `module` (the Python module's
    /// directory, holding `main.py` and `manifest.json`).
    Python {
        /// A Python with the SDK 1.27 and the module's requirements.
        interpreter: PathBuf,
        /// The module directory.
        module: PathBuf,
    },
    /// `BINARY COMMAND`, with the module's `manifest.json`.
    Rust {
        /// The port's binary.
        binary: PathBuf,
        /// The module directory whose `manifest.json` it reads.
        module: PathBuf,
    },
}

impl Program {
    /// `python` or `rust`, for the report.
    pub fn label(&self) -> &'static str {
        match self {
            Program::Python { .. } => "python",
            Program::Rust { .. } => "rust",
        }
    }

    fn module(&self) -> &Path {
        match self {
            Program::Python { module, .. } | Program::Rust { module, .. } => module,
        }
    }
}

/// What one side did on one scenario.
#[derive(Debug, Clone)]
pub struct Run {
    /// `python` or `rust`.
    pub side: &'static str,
    /// The exit code; `None` when a signal ended the process.
    pub exit_code: Option<i32>,
    /// Whether the run was stopped (SIGTERM) by the scenario's `stop`.
    pub stopped: bool,
    /// Every request, platform's and vendor's, in arrival order.
    pub requests: Vec<Exchange>,
    /// The files left in the data directory: path relative to it, bytes.
    pub files: Vec<(String, Vec<u8>)>,
    /// The process's standard error, for the report of a failed run.
    pub stderr: String,
    /// What differs between any two runs (the servers' addresses, the
    /// platform's token) and the scenario's secrets, each with the
    /// placeholder that replaces it before the comparison.
    pub volatile: Vec<(String, String)>,
}

/// One request and the server that received it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `platform` or `vendor`.
    pub server: &'static str,
    /// The request as received.
    pub request: RecordedRequest,
}

/// Why a side could not be run (not a difference: a usage error).
#[derive(Debug)]
pub struct RunError(pub String);

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

fn io_error(what: &str, error: io::Error) -> RunError {
    RunError(format!("{what}: {error}"))
}

/// Runs `scenario`'s item with `program` and records what it sent.
///
/// # Errors
///
/// When the platform, the vendor or the process cannot be started, or
/// the module directory has no `manifest.json`.
pub fn run(program: &Program, scenario: &Scenario) -> Result<Run, RunError> {
    let platform = LocalPlatform::start()
        .map_err(|error| io_error("cannot start the local platform", error))?;
    let vendor =
        FakeVendor::start().map_err(|error| io_error("cannot start the fake vendor", error))?;
    let substitute = |text: &str| {
        text.replace("{vendor}", &vendor.url())
            .replace("{platform}", &platform.base_url())
    };
    if let Some(secrets) = &scenario.secrets {
        let secrets = RawValue::from_string(secrets.clone())
            .map_err(|error| RunError(format!("the scenario's `secrets`: {error}")))?;
        platform.set_secrets_raw(secrets);
    }
    for fault in &scenario.platform_faults {
        platform.inject(fault.fault());
    }
    for route in &scenario.vendor_routes {
        vendor.route(&route.method, &route.path, route.reply.reply(&substitute));
    }
    vendor.script(
        scenario
            .vendor_script
            .iter()
            .map(|reply| reply.reply(&substitute)),
    );

    let sandbox =
        Sandbox::new(&platform).map_err(|error| io_error("cannot lay out a sandbox", error))?;
    let manifest = program.module().join("manifest.json");
    std::fs::copy(&manifest, sandbox.manifest_path())
        .map_err(|error| io_error(&format!("cannot read {}", manifest.display()), error))?;
    let mut values = vec![
        ("token".to_string(), platform.token().to_string()),
        ("url_callback".to_string(), platform.callback_url()),
        ("intake_url".to_string(), platform.intake_url()),
        ("liveness_port".to_string(), "0".to_string()),
        ("metrics_port".to_string(), "0".to_string()),
    ];
    for (name, text) in &scenario.values {
        values.push((name.clone(), substitute(text)));
    }
    let output = sandbox.path().join("output");
    let stdout = std::fs::File::create(output.with_extension("stdout"))
        .map_err(|error| io_error("cannot create the output file", error))?;
    let stderr_path = output.with_extension("stderr");
    let stderr = std::fs::File::create(&stderr_path)
        .map_err(|error| io_error("cannot create the output file", error))?;
    let mut command = match program {
        Program::Python {
            interpreter,
            module,
        } => {
            let mut command = Command::new(interpreter);
            command
                .arg("-c")
                .arg(BOOTSTRAP)
                .arg(&scenario.command)
                .current_dir(module)
                .env(DATA_VARIABLE, sandbox.data_directory())
                .env("PYTHONDONTWRITEBYTECODE", "1");
            for (name, value) in &values {
                command.env(name.to_uppercase(), value);
            }
            command
        }
        Program::Rust { binary, .. } => {
            for (name, value) in &values {
                sandbox
                    .set(name, value)
                    .map_err(|error| io_error(&format!("cannot write `{name}`"), error))?;
            }
            let mut command = sandbox.command(binary);
            command.arg(&scenario.command);
            command
        }
    };
    // Values left in the environment of `compare` would reach one side
    // only (the Rust side reads a variable when its file is absent).
    for name in VALUE_KEYS.iter().chain(&INHERITED) {
        if !values.iter().any(|(given, _)| given == name) {
            command.env_remove(name.to_uppercase());
        }
    }
    command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
    let child = command.spawn().map_err(|error| {
        let program = command.get_program().to_string_lossy().into_owned();
        io_error(&format!("cannot run {program}"), error)
    })?;
    let (status, stopped) = wait(child, scenario, &platform)?;

    let mut requests: Vec<Exchange> = platform
        .requests()
        .into_iter()
        .map(|request| Exchange {
            server: "platform",
            request,
        })
        .chain(vendor.requests().into_iter().map(|request| Exchange {
            server: "vendor",
            request,
        }))
        .collect();
    requests.sort_by_key(|exchange| exchange.request.received_at);
    let mut files = Vec::new();
    collect_files(&sandbox.data_directory(), "", &mut files);
    files.sort();
    let stderr = std::fs::read(&stderr_path).unwrap_or_default();
    let mut volatile = vec![
        (platform.base_url(), "{platform}".to_string()),
        (vendor.url(), "{vendor}".to_string()),
        (
            platform.address().to_string(),
            "{platform-address}".to_string(),
        ),
        (
            vendor.url().trim_start_matches("http://").to_string(),
            "{vendor-address}".to_string(),
        ),
        (platform.token().to_string(), "{token}".to_string()),
    ];
    // The secrets are not printed: the same value on both sides is the same placeholder.
    let secrets = scenario
        .secrets
        .as_deref()
        .map(serde_json::from_str::<Secrets>);
    if let Some(Ok(secrets)) = secrets {
        for (name, value) in secrets {
            if let Ok(value) = serde_json::from_str::<String>(value.get())
                && !value.is_empty()
            {
                volatile.push((value, format!("{{secret:{name}}}")));
            }
        }
    }
    Ok(Run {
        side: program.label(),
        exit_code: status,
        stopped,
        requests,
        files,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        volatile,
    })
}

/// Waits for the item's end, stopping it (SIGTERM) once the scenario's
/// events reached the platform or its time is up, killing it when it does
/// not end within [`STOP_GRACE`]. The exit code, and whether it was stopped.
fn wait(
    mut child: Child,
    scenario: &Scenario,
    platform: &LocalPlatform,
) -> Result<(Option<i32>, bool), RunError> {
    let started = Instant::now();
    let limit = Duration::from_secs_f64(scenario.stop_seconds);
    let mut stopped_at: Option<Instant> = None;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|error| io_error("cannot wait for the item", error))?
        {
            return Ok((status.code(), stopped_at.is_some()));
        }
        match stopped_at {
            None => {
                let enough = scenario
                    .stop_events
                    .is_some_and(|wanted| events(&platform.requests()) >= wanted);
                if enough || started.elapsed() >= limit {
                    crate::tooling::local_run::terminate(&child);
                    stopped_at = Some(Instant::now());
                }
            }
            Some(at) if at.elapsed() >= STOP_GRACE => {
                let _ = child.kill();
                let status = child
                    .wait()
                    .map_err(|error| io_error("cannot wait for the item", error))?;
                return Ok((status.code(), true));
            }
            Some(_) => {}
        }
        std::thread::sleep(POLL);
    }
}

/// The events the platform received: trigger events (`POST …/callback`
/// with an `event`) and connector events (each element of a batch's
/// `jsons`).
pub(crate) fn events(requests: &[RecordedRequest]) -> usize {
    requests
        .iter()
        .filter(|request| request.method == "POST" && (200..300).contains(&request.status))
        .map(|request| match (request.route(), request.json()) {
            ("callback", Some(body)) if body.get("event").is_some() => 1,
            ("batch", Some(body)) => body["jsons"].as_array().map_or(0, Vec::len),
            _ => 0,
        })
        .sum()
}

fn collect_files(directory: &Path, prefix: &str, files: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, &format!("{name}/"), files);
        } else {
            files.push((name, std::fs::read(&path).unwrap_or_default()));
        }
    }
}
