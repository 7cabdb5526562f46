//! `run-local`: runs one registered item against the embedded
//! [`LocalPlatform`], and shows what it sent.
//!
//! ```text
//! my-module run-local COMMAND [KEY=VALUE ...] [OPTIONS]
//!
//!   KEY=VALUE                        one argument (for a trigger or connector: one configuration value);
//!                                    VALUE is read as JSON when it parses, else as a string
//!   -a, --arguments JSON|FILE        the arguments (trigger or connector configuration), inline JSON or a JSON file
//!   -c, --module-configuration JSON|FILE
//!                                    the module configuration, inline JSON or a JSON file
//!   -m, --module KEY=VALUE           one module configuration value
//!   -n, --events N                   trigger: stop after N events; connector: after N acknowledged events
//!   -t, --timeout SECONDS            stop the item after SECONDS
//!       --root DIR                   use this configuration root (default: a temporary one)
//!       --data DIR                   use this data directory (default: a temporary one)
//!       --json                       print JSON instead of text (a trigger: JSON lines as it goes)
//!       --keep                       keep the temporary directories
//!       --file-backend local|s3      where the module's files go (default: local, the data directory)
//!       --s3-endpoint URL            S3: the store (else AWS_S3_ENDPOINT_URL)
//!       --s3-bucket NAME             S3: the bucket, made when missing (else AWS_BUCKET_NAME)
//!       --s3-region REGION           S3: the region (else AWS_DEFAULT_REGION, else us-east-1)
//!       --s3-access-key-id ID        S3: the access key (else AWS_ACCESS_KEY_ID); its secret
//!                                    only from AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)
//!       --sub-folder PATH            the data directory's sub-folder (else SUB_FOLDER)
//! ```
//!
//! The module binary starts a local platform on 127.0.0.1, writes `token`,
//! `url_callback`, `module_configuration` and `arguments` (or
//! `trigger_configuration`, with `liveness_port` and `metrics_port` 0: any
//! free port) into the configuration root, and runs itself as the platform
//! would run the container (`<binary> COMMAND`, with the
//! `SEKOIA_AUTOMATION_*` variables pointing at those directories and at the
//! module's manifest). The platform answers the running PATCH and the
//! secrets GET with the secret values of the given module configuration.
//!
//! A connector gets `connector_configuration` (the arguments, with
//! `intake_key` `run-local` unless given, and `intake_server` the local
//! intake) and `intake_url`; each batch it posts is shown as it arrives
//! (status, event count, the first events), and at the end its
//! checkpoints (the data directory's `context.json`); with `--json`,
//! `"batches"` and `"context"` too.
//!
//! Every item gets the local platform's `sentry_dsn` (docs/protocol.md §8):
//! each event it would report to Sentry is shown as it arrives
//! (`sentry <level>: <message>`, or `<type>: <value>` for an exception);
//! with `--json`, they are the document's `"sentry"` list.
//!
//! It prints, as they arrive, each event a trigger sends and each log it
//! ships; for an action, the results, branches, error and logs of its
//! finished PATCH. With `--json`, one document at the end:
//! `{"command", "kind", "success", "exit_code", "results", "error",
//! "outputs", "logs", "events", "stderr"}`; for a trigger, it is the last
//! line of JSON lines printed as the run goes, one `{"event": {...}}` or
//! `{"log": {...}}` each. A trigger runs until Ctrl-C, its own stop,
//! `--events` (it stops itself after exactly N events: the next
//! `send_event` is refused as after a stop), `--timeout` (it is then sent
//! SIGTERM and stops as on the platform), or a `critical` log (a
//! configuration error: the run fails). The exit code is 0 when the item
//! succeeded: an action finished without error, a trigger stopped cleanly
//! without a critical log; else 1, and the last line says why (`failure:
//! the action finished with an error`: the module itself exits 0 then, as
//! on the platform).
//!
//! With `--file-backend s3`, the module runs on the S3 file backend
//! (`docs/storage.md`): it is given `file_backend: s3` and the bucket's
//! keys, its files are objects of the bucket (which outlives the run), and
//! the end shows them (`objects in s3://<bucket>/<sub_folder>:`, with
//! `--json` the `"objects"` list) and reads the checkpoints from there. The
//! secret key is read from the environment only, never from the command
//! line (which every user of the machine can list), and is given to the
//! module in its environment, never written to the configuration root.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::config::manifest::Manifest;
use crate::config::secret::Secret;
use crate::config::settings::{
    BACKOFF_VARIABLE, DATA_VARIABLE, MANIFEST_VARIABLE, MAX_EVENTS_VARIABLE, ROOT_VARIABLE,
    Settings,
};
use crate::item::registration::ItemKind;
use crate::storage::s3::{S3Client, S3Config, S3Error};
use crate::testing::{LocalPlatform, RecordedRequest};
use crate::tooling::{ItemRef, ModuleItems, RUN_LOCAL, program_name};

/// How long a stopped item has to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// What `run-local` was asked.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// The item's command.
    pub command: String,
    /// The arguments (a trigger's configuration).
    pub arguments: Map<String, Value>,
    /// The module configuration.
    pub module_configuration: Map<String, Value>,
    /// Stop a trigger after this many events.
    pub events: Option<u64>,
    /// Stop the item after this long.
    pub timeout: Option<Duration>,
    /// The configuration root to use instead of a temporary one.
    pub root: Option<PathBuf>,
    /// The data directory to use instead of a temporary one.
    pub data: Option<PathBuf>,
    /// Print one JSON document.
    pub json: bool,
    /// Keep the temporary directories.
    pub keep: bool,
    /// Show the usage.
    pub help: bool,
    /// `--file-backend s3`: the module's files go to an S3 bucket.
    pub s3: bool,
    /// The S3 flags (each else its variable).
    pub s3_flags: S3Flags,
}

/// `run-local`'s S3 flags; what is not given is read from the environment
/// variable the module itself reads (`AWS_S3_ENDPOINT_URL`...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Flags {
    /// `--s3-endpoint`.
    pub endpoint: Option<String>,
    /// `--s3-bucket`.
    pub bucket: Option<String>,
    /// `--s3-region`.
    pub region: Option<String>,
    /// `--s3-access-key-id`.
    pub access_key_id: Option<String>,
    /// `--sub-folder`.
    pub sub_folder: Option<String>,
}

/// The usage text of `program` (the module binary's name).
pub fn usage(program: &str) -> String {
    format!("usage: {program} run-local COMMAND [KEY=VALUE ...] [OPTIONS]

  KEY=VALUE                        one argument (for a trigger: one configuration value);
                                   VALUE is read as JSON when it parses, else as a string
  -a, --arguments JSON|FILE        the arguments (trigger configuration), inline JSON or a JSON file
  -c, --module-configuration JSON|FILE
                                   the module configuration, inline JSON or a JSON file
  -m, --module KEY=VALUE           one module configuration value
  -n, --events N                   trigger: stop after N events; connector: after N acknowledged events
  -t, --timeout SECONDS            stop the item after SECONDS
      --root DIR                   use this configuration root (default: a temporary one)
      --data DIR                   use this data directory (default: a temporary one)
      --json                       print JSON instead of text (a trigger: JSON lines as it goes)
      --keep                       keep the temporary directories
      --file-backend local|s3      where the module's files go (default: local, the data directory)
      --s3-endpoint URL            S3: the store (else AWS_S3_ENDPOINT_URL)
      --s3-bucket NAME             S3: the bucket, made when missing (else AWS_BUCKET_NAME)
      --s3-region REGION           S3: the region (else AWS_DEFAULT_REGION, else us-east-1)
      --s3-access-key-id ID        S3: the access key (else AWS_ACCESS_KEY_ID); its secret
                                   only from AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)
      --sub-folder PATH            the data directory's sub-folder (else SUB_FOLDER)
")
}

/// Reads `run-local`'s arguments (those after `run-local`).
pub fn parse_options(arguments: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut rest = arguments.iter();
    let mut command = None;
    while let Some(argument) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("`{name}` needs a value"))
        };
        match argument.as_str() {
            "-h" | "--help" => options.help = true,
            "--json" => options.json = true,
            "--keep" => options.keep = true,
            "-a" | "--arguments" | "--trigger-configuration" => {
                let object = read_object(&value(argument)?, argument)?;
                options.arguments.extend(object);
            }
            "-c" | "--module-configuration" => {
                let object = read_object(&value(argument)?, argument)?;
                options.module_configuration.extend(object);
            }
            "-m" | "--module" => {
                let (key, parsed) = pair(&value(argument)?)?;
                options.module_configuration.insert(key, parsed);
            }
            "-n" | "--events" => {
                let text = value(argument)?;
                options.events =
                    Some(text.parse().map_err(|_| {
                        format!("`{argument}` needs a number of events, not `{text}`")
                    })?);
            }
            "-t" | "--timeout" => {
                let text = value(argument)?;
                let seconds: f64 = text
                    .parse()
                    .ok()
                    .filter(|seconds: &f64| seconds.is_finite() && *seconds >= 0.0)
                    .ok_or_else(|| {
                        format!("`{argument}` needs a number of seconds, not `{text}`")
                    })?;
                options.timeout = Some(Duration::from_secs_f64(seconds));
            }
            "--root" => options.root = Some(PathBuf::from(value(argument)?)),
            "--data" => options.data = Some(PathBuf::from(value(argument)?)),
            "--file-backend" => {
                let backend = value(argument)?;
                options.s3 = match backend.to_ascii_lowercase().as_str() {
                    "s3" => true,
                    "local" => false,
                    _ => {
                        return Err(format!("`{argument}` is `local` or `s3`, not `{backend}`"));
                    }
                };
            }
            "--s3-endpoint" => options.s3_flags.endpoint = Some(value(argument)?),
            "--s3-bucket" => options.s3_flags.bucket = Some(value(argument)?),
            "--s3-region" => options.s3_flags.region = Some(value(argument)?),
            "--s3-access-key-id" => options.s3_flags.access_key_id = Some(value(argument)?),
            "--sub-folder" => options.s3_flags.sub_folder = Some(value(argument)?),
            other if other.starts_with('-') && other.len() > 1 => {
                return Err(format!("unknown option `{other}`"));
            }
            other if command.is_none() && !other.contains('=') => command = Some(other.to_string()),
            other => {
                let (key, parsed) = pair(other)?;
                options.arguments.insert(key, parsed);
            }
        }
    }
    let flags = &options.s3_flags;
    if !options.s3
        && (flags.endpoint.is_some()
            || flags.bucket.is_some()
            || flags.region.is_some()
            || flags.access_key_id.is_some())
    {
        return Err("the `--s3-...` options need `--file-backend s3`".into());
    }
    match command {
        Some(command) => options.command = command,
        None if options.help => {}
        None => return Err("which item? give its command first: `run-local COMMAND ...`".into()),
    }
    Ok(options)
}

/// `key=value`, the value read as JSON when it parses, else as a string.
fn pair(text: &str) -> Result<(String, Value), String> {
    let (key, value) = text
        .split_once('=')
        .filter(|(key, _)| !key.is_empty())
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    let parsed = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok((key.to_string(), parsed))
}

/// Inline JSON (starting with `{`) or the path of a JSON file, an object.
fn read_object(text: &str, option: &str) -> Result<Map<String, Value>, String> {
    let (parsed, origin) = if text.trim_start().starts_with('{') {
        (
            serde_json::from_str::<Value>(text),
            "the inline JSON".to_string(),
        )
    } else {
        let contents = std::fs::read_to_string(text)
            .map_err(|error| format!("`{option}`: cannot read the file `{text}`: {error}"))?;
        (
            serde_json::from_str::<Value>(&contents),
            format!("the file `{text}`"),
        )
    };
    match parsed {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(format!("`{option}`: {origin} must hold a JSON object")),
        Err(error) => Err(format!("`{option}`: {origin} is not valid JSON: {error}")),
    }
}

/// What the platform received that `run-local` shows.
#[derive(Debug, Default)]
struct Seen {
    events: Vec<Value>,
    logs: Vec<Value>,
    finished: Option<Value>,
    /// Connector batches: `{"status", "events"}`.
    batches: Vec<Value>,
    /// Events of the batches the intake acknowledged.
    acknowledged: u64,
    /// What the item reported to Sentry (the platform's DSN is given).
    sentry: Vec<Value>,
}

/// `run-local`: parses the options, runs the item, prints.
pub(crate) fn main(items: &ModuleItems<'_>, settings: &Settings, arguments: &[String]) -> ExitCode {
    let options = match parse_options(arguments) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", usage(&program_name()));
            return ExitCode::from(2);
        }
    };
    if options.help {
        print!("{}", usage(&program_name()));
        println!("\ncommands: {}", items.command_list());
        return ExitCode::SUCCESS;
    }
    let Some(item) = items.find(&options.command) else {
        eprintln!(
            "error: no item is registered under `{}`: this module knows {}",
            options.command,
            items.command_list()
        );
        return ExitCode::from(2);
    };
    match run(item, settings, &options) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {RUN_LOCAL}: {message}");
            ExitCode::from(2)
        }
    }
}

/// The directories of a run, removed at the end unless kept or given.
struct Directories {
    root: PathBuf,
    data: PathBuf,
    temporary: Option<PathBuf>,
}

impl Directories {
    fn new(options: &Options) -> Result<Directories, String> {
        let temporary = (options.root.is_none() || options.data.is_none()).then(|| {
            std::env::temp_dir().join(format!("sekoia-run-local-{}", uuid::Uuid::new_v4()))
        });
        let root = options.root.clone().unwrap_or_else(|| {
            temporary
                .as_ref()
                .map(|t| t.join("symphony"))
                .unwrap_or_default()
        });
        let data = options.data.clone().unwrap_or_else(|| {
            temporary
                .as_ref()
                .map(|t| t.join("data"))
                .unwrap_or_default()
        });
        for directory in [&root, &data] {
            std::fs::create_dir_all(directory)
                .map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        }
        Ok(Directories {
            root,
            data,
            temporary,
        })
    }

    fn set(&self, name: &str, value: &str) -> Result<(), String> {
        let path = self.root.join(name);
        std::fs::write(&path, value)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))
    }
}

fn run(item: &ItemRef<'_>, settings: &Settings, options: &Options) -> Result<ExitCode, String> {
    let platform = LocalPlatform::start()
        .map_err(|error| format!("cannot start the local platform: {error}"))?;
    let manifest = Manifest::load(&settings.manifest_path).map_err(|error| error.to_string())?;
    let mut secret_names: Vec<String> = manifest.secrets().to_vec();
    if let Some(names) = item
        .manifest
        .module_configuration()
        .get("secrets")
        .and_then(Value::as_array)
    {
        secret_names.extend(names.iter().filter_map(Value::as_str).map(String::from));
    }
    let secrets: Map<String, Value> = options
        .module_configuration
        .iter()
        .filter(|(name, _)| secret_names.contains(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    platform.set_secrets(Value::Object(secrets));

    let directories = Directories::new(options)?;
    let bucket = if options.s3 {
        Some(LocalBucket::open(&options.s3_flags)?)
    } else {
        None
    };
    if let Some(bucket) = &bucket {
        bucket.configure(&directories)?;
    }
    directories.set("token", platform.token())?;
    directories.set("url_callback", &platform.callback_url())?;
    directories.set("sentry_dsn", &platform.sentry_dsn())?;
    directories.set(
        "module_configuration",
        &Value::Object(options.module_configuration.clone()).to_string(),
    )?;
    let arguments = Value::Object(options.arguments.clone()).to_string();
    match item.kind {
        ItemKind::Trigger => {
            directories.set("trigger_configuration", &arguments)?;
            directories.set("liveness_port", "0")?;
            directories.set("metrics_port", "0")?;
        }
        ItemKind::Connector => {
            let mut configuration = options.arguments.clone();
            configuration
                .entry("intake_key")
                .or_insert_with(|| Value::String("run-local".into()));
            // The local intake, whatever the configuration's default says.
            configuration.insert("intake_server".into(), Value::String(platform.intake_url()));
            directories.set(
                "connector_configuration",
                &Value::Object(configuration).to_string(),
            )?;
            directories.set("intake_url", &platform.intake_url())?;
            directories.set("liveness_port", "0")?;
            directories.set("metrics_port", "0")?;
        }
        ItemKind::AssetConnector => {
            // The local platform's asset API, whatever the configuration
            // says; its token is the API key it expects.
            let mut configuration = options.arguments.clone();
            configuration.insert("sekoia_base_url".into(), Value::String(platform.base_url()));
            configuration.insert(
                "sekoia_api_key".into(),
                Value::String(platform.token().to_owned()),
            );
            directories.set(
                "connector_configuration",
                &Value::Object(configuration).to_string(),
            )?;
            directories.set(
                "connector_configuration_uuid",
                "00000000-0000-4000-8000-0000000a55e7",
            )?;
            directories.set("liveness_port", "0")?;
            directories.set("metrics_port", "0")?;
        }
        _ => directories.set("arguments", &arguments)?,
    }
    let kind = crate::tooling::kind_name(item.kind);
    if !options.json {
        let name = if item.name.is_empty() {
            "named by its manifest file"
        } else {
            &item.name
        };
        println!(
            "run-local: {kind} `{}` ({name}) against the local platform at {}",
            item.command,
            platform.base_url()
        );
        println!("  configuration root {}", directories.root.display());
        match &bucket {
            Some(bucket) => println!(
                "  data directory     {} at {}",
                bucket.url(),
                bucket.endpoint
            ),
            None => println!("  data directory     {}", directories.data.display()),
        }
    }

    let manifest_path = std::path::absolute(&settings.manifest_path)
        .unwrap_or_else(|_| settings.manifest_path.clone());
    let max_events = options.events.filter(|_| item.kind == ItemKind::Trigger);
    let mut child = spawn(
        item.command,
        &directories,
        &manifest_path,
        max_events,
        bucket.as_ref(),
    )?;
    let stderr = collect(child.stderr.take());
    let stdout = collect(child.stdout.take());
    let (status, seen) = watch(&platform, &mut child, item.kind, options);
    let stderr = stderr.join().unwrap_or_default();
    let stdout = stdout.join().unwrap_or_default();

    let exit_code = status.and_then(|status| status.code());
    let finished = seen.finished.clone().unwrap_or(Value::Null);
    let error = finished.get("error").cloned().unwrap_or(Value::Null);
    let failure = failure(item.kind, exit_code, &seen, &error);
    let success = failure.is_none();
    let (context, objects) = match &bucket {
        Some(bucket) => {
            let (context, objects) = bucket.contents();
            (context, Some(objects))
        }
        None => (context_file(&directories.data), None),
    };
    if options.json {
        let logs = match item.kind {
            ItemKind::Trigger | ItemKind::Connector | ItemKind::AssetConnector => {
                Value::Array(seen.logs.clone())
            }
            _ => finished
                .get("logs")
                .and_then(Value::as_str)
                .map(|logs| {
                    logs.lines()
                        .map(|line| Value::String(line.into()))
                        .collect()
                })
                .unwrap_or_else(|| Value::Array(Vec::new())),
        };
        let document = json!({
            "command": item.command,
            "kind": kind,
            "success": success,
            "exit_code": exit_code,
            "results": finished.get("results").cloned().unwrap_or(Value::Null),
            "error": error,
            "outputs": finished.get("outputs").cloned().unwrap_or(Value::Null),
            "logs": logs,
            "events": seen.events,
            "batches": seen.batches,
            "sentry": seen.sentry,
            "context": context,
            "objects": objects.as_ref().map(|objects| match objects {
                Ok(keys) => json!(keys),
                Err(error) => json!({"error": error}),
            }),
            "stdout": stdout,
            "stderr": stderr,
        });
        if item.kind == ItemKind::Trigger {
            // The last of the JSON lines.
            println!("{document}");
        } else {
            println!(
                "{}",
                serde_json::to_string_pretty(&document).unwrap_or_default()
            );
        }
    } else {
        print_summary(
            item.kind,
            &seen,
            &finished,
            &stdout,
            &stderr,
            failure.as_deref(),
        );
        if matches!(item.kind, ItemKind::Connector | ItemKind::AssetConnector) {
            match &context {
                Value::Null => println!("checkpoint: no context.json"),
                context => println!("checkpoint (context.json): {context}"),
            }
        }
        if let (Some(bucket), Some(objects)) = (&bucket, &objects) {
            match objects {
                Ok(keys) => {
                    println!("objects in {}: {}", bucket.url(), keys.len());
                    for key in keys {
                        println!("  {key}");
                    }
                }
                Err(error) => println!("objects in {}: cannot list them: {error}", bucket.url()),
            }
        }
    }
    if let Some(temporary) = &directories.temporary {
        if options.keep {
            if !options.json {
                println!("kept {}", temporary.display());
            }
        } else {
            let _ = std::fs::remove_dir_all(temporary);
        }
    }
    Ok(if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Why the run failed, `None` when it succeeded: the module exited 0 and
/// an action finished without error, a trigger or connector stopped
/// without a critical log. An action that reports an error still exits 0,
/// as on the platform: the reason says so rather than "exit code 0".
fn failure(kind: ItemKind, exit_code: Option<i32>, seen: &Seen, error: &Value) -> Option<String> {
    let kind_name = crate::tooling::kind_name(kind);
    match exit_code {
        None => return Some("the module was killed by a signal".into()),
        Some(0) => {}
        Some(code) => return Some(format!("the module exited with code {code}")),
    }
    match kind {
        ItemKind::Trigger | ItemKind::Connector | ItemKind::AssetConnector => {
            seen.critical().then(|| {
                format!("the {kind_name} logged a critical error and stopped (see its logs above)")
            })
        }
        _ if seen.finished.is_none() => Some(format!(
            "the {kind_name} exited without sending its finished report"
        )),
        _ if !error.is_null() => Some(format!(
            "the {kind_name} finished with an error (see `error:` above)"
        )),
        _ => None,
    }
}

/// The data directory's `context.json` (the connector's checkpoints), or
/// `null`.
fn context_file(data: &Path) -> Value {
    std::fs::read(data.join("context.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// The binary to run: this one.
fn this_binary() -> Result<PathBuf, String> {
    std::env::current_exe()
        .or_else(|error| std::env::args_os().next().map(PathBuf::from).ok_or(error))
        .map_err(|error| format!("cannot find this module's binary: {error}"))
}

fn spawn(
    command: &str,
    directories: &Directories,
    manifest: &Path,
    max_events: Option<u64>,
    bucket: Option<&LocalBucket>,
) -> Result<Child, String> {
    let binary = this_binary()?;
    let mut process = Command::new(&binary);
    if let Some(events) = max_events {
        process.env(MAX_EVENTS_VARIABLE, events.to_string());
    }
    if let Some(bucket) = bucket {
        // The secrets in the environment, never in a file.
        process.env(SECRET_KEY_VARIABLE, bucket.secret_access_key.expose());
        match &bucket.session_token {
            Some(token) => process.env(SESSION_TOKEN_VARIABLE, token.expose()),
            None => process.env_remove(SESSION_TOKEN_VARIABLE),
        };
    }
    process
        .arg(command)
        .env(ROOT_VARIABLE, &directories.root)
        .env(DATA_VARIABLE, &directories.data)
        .env(MANIFEST_VARIABLE, manifest)
        .env(BACKOFF_VARIABLE, "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run {} {command}: {error}", binary.display()))
}

const SECRET_KEY_VARIABLE: &str = "AWS_SECRET_ACCESS_KEY";
const SESSION_TOKEN_VARIABLE: &str = "AWS_SESSION_TOKEN";

/// The S3 bucket of a `--file-backend s3` run: its keys (each from its flag,
/// else its variable), checked, and made when missing.
struct LocalBucket {
    endpoint: String,
    bucket: String,
    region: String,
    access_key_id: String,
    secret_access_key: Secret<String>,
    session_token: Option<Secret<String>>,
    sub_folder: Option<String>,
    client: S3Client,
}

impl LocalBucket {
    fn open(flags: &S3Flags) -> Result<LocalBucket, String> {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let required = |flag: Option<&String>, option: &str, name: &str| {
            flag.cloned().or_else(|| variable(name)).ok_or_else(|| {
                format!("`--file-backend s3` needs `{option}`, or the variable {name}")
            })
        };
        let endpoint = required(
            flags.endpoint.as_ref(),
            "--s3-endpoint URL",
            "AWS_S3_ENDPOINT_URL",
        )?;
        let bucket = required(flags.bucket.as_ref(), "--s3-bucket NAME", "AWS_BUCKET_NAME")?;
        let access_key_id = required(
            flags.access_key_id.as_ref(),
            "--s3-access-key-id ID",
            "AWS_ACCESS_KEY_ID",
        )?;
        let secret_access_key = Secret::new(variable(SECRET_KEY_VARIABLE).ok_or_else(|| {
            format!(
                "`--file-backend s3` needs the secret key in the variable {SECRET_KEY_VARIABLE} (never on the command line)"
            )
        })?);
        let region = flags
            .region
            .clone()
            .or_else(|| variable("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let session_token = variable(SESSION_TOKEN_VARIABLE).map(Secret::new);
        let sub_folder = flags.sub_folder.clone().or_else(|| variable("SUB_FOLDER"));
        let mut config = S3Config::new(
            endpoint.clone(),
            region.clone(),
            bucket.clone(),
            access_key_id.clone(),
            secret_access_key.clone(),
        );
        if let Some(token) = &session_token {
            config = config.with_session_token(token.clone());
        }
        if let Some(sub_folder) = &sub_folder {
            config = config.with_sub_folder(sub_folder.clone());
        }
        let client = S3Client::new(config)
            .map_err(|error| error.to_string())?
            .with_retry(Duration::from_millis(100), 3);
        match client.check_bucket() {
            Ok(()) => {}
            Err(S3Error::MissingBucket { .. }) => client
                .create_bucket()
                .map_err(|error| format!("cannot make the bucket `{bucket}`: {error}"))?,
            Err(error) => return Err(error.to_string()),
        }
        Ok(LocalBucket {
            endpoint,
            bucket,
            region,
            access_key_id,
            secret_access_key,
            session_token,
            sub_folder,
            client,
        })
    }

    /// Writes the keys that are not secret into the configuration root, as
    /// the platform gives them.
    fn configure(&self, directories: &Directories) -> Result<(), String> {
        directories.set("file_backend", "s3")?;
        directories.set("aws_s3_endpoint_url", &self.endpoint)?;
        directories.set("aws_bucket_name", &self.bucket)?;
        directories.set("aws_default_region", &self.region)?;
        directories.set("aws_access_key_id", &self.access_key_id)?;
        if let Some(sub_folder) = &self.sub_folder {
            directories.set("sub_folder", sub_folder)?;
        }
        Ok(())
    }

    /// `s3://<bucket>/<sub_folder>`.
    fn url(&self) -> String {
        let location = self.client.location();
        format!("s3://{}/{}", location.bucket(), location.prefix())
    }

    /// The data directory's `context.json` (or `null`), and its objects'
    /// keys relative to the data directory.
    fn contents(&self) -> (Value, Result<Vec<String>, String>) {
        let location = self.client.location();
        let context = self
            .client
            .get(&location.key("context.json"))
            .ok()
            .flatten()
            .and_then(|object| serde_json::from_slice(&object.body).ok())
            .unwrap_or(Value::Null);
        let prefix = match location.prefix() {
            "" => String::new(),
            prefix => format!("{prefix}/"),
        };
        let objects = self
            .client
            .list(&prefix)
            .map(|keys| {
                keys.iter()
                    .filter_map(|key| location.path_of(key))
                    .collect()
            })
            .map_err(|error| error.to_string());
        (context, objects)
    }
}

fn collect<R: Read + Send + 'static>(stream: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_end(&mut text);
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

/// Sends SIGTERM: the item stops as it does on the platform.
///
/// The crate's one `unsafe` block (see the crate root): std can only
/// SIGKILL a child, and a SIGKILL would not let the item stop as it does on
/// the platform.
#[allow(unsafe_code)]
pub(crate) fn terminate(child: &Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) on the pid of a child we have not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = child;
    }
}

/// Follows the run: prints events and logs as they arrive, stops the item
/// when asked, and returns its exit status and what the platform received.
fn watch(
    platform: &LocalPlatform,
    child: &mut Child,
    kind: ItemKind,
    options: &Options,
) -> (Option<std::process::ExitStatus>, Seen) {
    let interrupted = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(signal, Arc::clone(&interrupted));
    }
    let started = Instant::now();
    let mut seen = Seen::default();
    let mut handled = 0;
    let mut stopped_at: Option<Instant> = None;
    loop {
        let status = child.try_wait().ok().flatten();
        let requests = platform.requests();
        for request in &requests[handled.min(requests.len())..] {
            record(request, &mut seen, options.json, kind);
        }
        handled = requests.len();
        if let Some(status) = status {
            return (Some(status), seen);
        }
        let enough_events = match kind {
            ItemKind::Trigger => options
                .events
                .is_some_and(|wanted| seen.events.len() as u64 >= wanted),
            ItemKind::Connector => options
                .events
                .is_some_and(|wanted| seen.acknowledged >= wanted),
            _ => false,
        };
        let timed_out = options
            .timeout
            .is_some_and(|timeout| started.elapsed() >= timeout);
        let critical = matches!(
            kind,
            ItemKind::Trigger | ItemKind::Connector | ItemKind::AssetConnector
        ) && seen.critical();
        match stopped_at {
            None if enough_events
                || timed_out
                || critical
                || interrupted.load(Ordering::Relaxed) =>
            {
                if !options.json {
                    let why = if enough_events {
                        "enough events"
                    } else if critical {
                        "a critical log: the trigger cannot work"
                    } else if timed_out {
                        "timeout"
                    } else {
                        "interrupted"
                    };
                    println!("stopping ({why}): SIGTERM sent");
                }
                terminate(child);
                stopped_at = Some(Instant::now());
            }
            Some(at) if at.elapsed() > STOP_GRACE => {
                let _ = child.kill();
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Seen {
    /// Whether the trigger logged a `critical` (a configuration error...).
    fn critical(&self) -> bool {
        self.logs
            .iter()
            .any(|log| log.get("level").and_then(Value::as_str) == Some("critical"))
    }
}

/// Records what the platform received; prints it as text, or as JSON lines
/// for a trigger run with `--json`.
fn record(request: &RecordedRequest, seen: &mut Seen, json: bool, kind: ItemKind) {
    let quiet = json;
    let lines = json && kind == ItemKind::Trigger;
    if request.route() == "envelope" {
        for event in crate::wire::sentry::envelope::events_of(&request.body).unwrap_or_default() {
            if !quiet {
                let exception = &event["exception"]["values"][0];
                let what = match event.get("message").and_then(Value::as_str) {
                    Some(message) => message.to_string(),
                    None => format!(
                        "{}: {}",
                        exception["type"].as_str().unwrap_or_default(),
                        exception["value"].as_str().unwrap_or_default()
                    ),
                };
                println!(
                    "sentry {}: {what}",
                    event["level"].as_str().unwrap_or_default()
                );
            }
            seen.sentry.push(event);
        }
        return;
    }
    let Some(body) = request.json() else {
        return;
    };
    match (request.method.as_str(), request.route()) {
        ("POST", _)
            if request
                .path
                .starts_with("/api/v2/asset-management/asset-connector/") =>
        {
            let count = body
                .get("items")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if request.status == 200 {
                seen.acknowledged += count as u64;
            }
            if !quiet {
                println!(
                    "asset push #{}: {count} assets, HTTP {}",
                    seen.batches.len() + 1,
                    request.status
                );
            }
            seen.batches
                .push(json!({"status": request.status, "assets": count}));
        }
        ("POST", "batch") => {
            let events: Vec<Value> = body
                .get("jsons")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if request.status == 200 {
                seen.acknowledged += events.len() as u64;
            }
            if !quiet {
                let status = match request.status {
                    0 => "connection dropped".to_string(),
                    status => format!("HTTP {status}"),
                };
                println!(
                    "batch #{} to {}: {} events, {status}",
                    seen.batches.len() + 1,
                    request.path,
                    events.len()
                );
                const SHOWN: usize = 5;
                for event in events.iter().take(SHOWN) {
                    let text = event.as_str().unwrap_or_default();
                    let short: String = text.chars().take(200).collect();
                    let more = if short.len() < text.len() { "…" } else { "" };
                    println!("  {short}{more}");
                }
                if events.len() > SHOWN {
                    println!("  … and {} more", events.len() - SHOWN);
                }
            }
            seen.batches
                .push(json!({"status": request.status, "events": events}));
        }
        ("PATCH", "callback") if body.get("status").and_then(Value::as_str) == Some("finished") => {
            seen.finished = Some(body);
        }
        ("POST", "callback") if body.get("event").is_some() => {
            let mut event = Map::new();
            for key in ["name", "event", "directory"] {
                if let Some(value) = body.get(key) {
                    event.insert(key.into(), value.clone());
                }
            }
            if lines {
                println!("{}", json!({"event": &event}));
            }
            seen.events.push(Value::Object(event));
            if !quiet {
                let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
                let directory = body
                    .get("directory")
                    .and_then(Value::as_str)
                    .map(|directory| format!(" (directory {directory})"))
                    .unwrap_or_default();
                println!(
                    "event #{} `{name}`{directory}: {}",
                    seen.events.len(),
                    body.get("event").cloned().unwrap_or(Value::Null)
                );
            }
        }
        ("POST", "logs") => {
            for log in body
                .get("logs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                seen.logs.push(log.clone());
                if lines {
                    println!("{}", json!({"log": log}));
                }
                if !quiet {
                    let text = |key: &str| {
                        log.get(key)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    println!(
                        "log {}: {}: {}",
                        text("date"),
                        text("level"),
                        text("message")
                    );
                }
            }
        }
        _ => {}
    }
}

fn print_summary(
    kind: ItemKind,
    seen: &Seen,
    finished: &Value,
    stdout: &str,
    stderr: &str,
    failure: Option<&str>,
) {
    if kind == ItemKind::Trigger {
        println!("events sent: {}", seen.events.len());
    } else if kind == ItemKind::Connector {
        println!(
            "batches sent: {}, events acknowledged by the intake: {}",
            seen.batches.len(),
            seen.acknowledged
        );
    } else if kind == ItemKind::AssetConnector {
        println!(
            "asset pushes: {}, assets accepted by the platform: {}",
            seen.batches.len(),
            seen.acknowledged
        );
    } else if seen.finished.is_none() {
        println!("the item sent no finished report");
    } else {
        if let Some(logs) = finished.get("logs").and_then(Value::as_str) {
            println!("logs:");
            for line in logs.lines() {
                println!("  {line}");
            }
        }
        match finished.get("results") {
            Some(results) => {
                println!("results:");
                let pretty = serde_json::to_string_pretty(results).unwrap_or_default();
                for line in pretty.lines() {
                    println!("  {line}");
                }
            }
            None => println!("results: none"),
        }
        if let Some(outputs) = finished.get("outputs").and_then(Value::as_object) {
            let branches: Vec<String> = outputs
                .iter()
                .map(|(branch, active)| {
                    let state = if active == &Value::Bool(true) {
                        "active"
                    } else {
                        "inactive"
                    };
                    format!("{branch} ({state})")
                })
                .collect();
            println!("branches: {}", branches.join(", "));
        }
        if let Some(error) = finished.get("error").and_then(Value::as_str) {
            println!("error: {error}");
        }
    }
    if !stdout.is_empty() {
        println!("module stdout:");
        print!("{stdout}");
    }
    if failure.is_some() && !stderr.is_empty() {
        println!("module stderr:");
        print!("{stderr}");
    }
    match failure {
        None => println!("success (exit code 0)"),
        Some(reason) => println!("failure: {reason}"),
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn parse_options_example() {
        use crate::tooling::local_run::parse_options;
        use serde_json::json;

        let options = parse_options(&[
            "greet".into(),
            "name=world".into(),
            "times=3".into(),
            "-c".into(),
            r#"{"api_key": "k"}"#.into(),
            "--json".into(),
        ])
        .unwrap();
        assert_eq!(options.command, "greet");
        assert_eq!(
            serde_json::Value::Object(options.arguments),
            json!({"name": "world", "times": 3})
        );
        assert_eq!(options.module_configuration["api_key"], "k");
        assert!(options.json);
        assert!(parse_options(&["greet".into(), "--events".into(), "x".into()]).is_err());
    }

    #[test]
    fn the_s3_flags_need_the_s3_file_backend() {
        use crate::tooling::local_run::parse_options;

        let arguments = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let options = parse_options(&arguments(&[
            "feed",
            "--file-backend",
            "S3",
            "--s3-bucket",
            "b",
            "--sub-folder",
            "t/f",
        ]))
        .unwrap();
        assert!(options.s3);
        assert_eq!(options.s3_flags.bucket.as_deref(), Some("b"));
        assert_eq!(options.s3_flags.sub_folder.as_deref(), Some("t/f"));
        let error = parse_options(&arguments(&["feed", "--s3-bucket", "b"])).unwrap_err();
        assert!(error.contains("--file-backend s3"), "{error}");
        let error = parse_options(&arguments(&["feed", "--file-backend", "disk"])).unwrap_err();
        assert!(error.contains("`local` or `s3`"), "{error}");
    }
}
