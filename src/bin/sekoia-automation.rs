//! `sekoia-automation`: scaffold a module, check a module directory, write
//! its documentation, serve a local platform (feature `cli`).
//!
//! ```text
//! sekoia-automation new-module DIR --name NAME [--description TEXT] [--slug SLUG] [--sekoia-automation-path PATH]
//! sekoia-automation check DIR
//! sekoia-automation documentation DIR [--output FILE]
//! sekoia-automation local-platform [--secrets JSON] [--until-finished] [--until-events N] [--timeout SECONDS]
//! sekoia-automation compare --python PYTHON --module PYTHON_MODULE_DIR --rust RUST_BINARY SCENARIOS...
//! sekoia-automation port PYTHON_MODULE_DIR [OUT_DIR] [--sekoia-automation-path PATH]
//! ```

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use sekoia_automation::testing::LocalPlatform;
use sekoia_automation::unversioned::ModuleItems;
use sekoia_automation::unversioned::check::{self, Rules};
use sekoia_automation::unversioned::compare;
use sekoia_automation::unversioned::port;
use sekoia_automation::unversioned::scaffold::{self, Dependency, NewModule};
use serde_json::{Value, json};

/// The template's `src/main.rs`, compiled in: its items give the new
/// module's item manifests.
#[path = "../tooling/scaffold/templates/src/main.rs"]
#[allow(dead_code)]
mod template;

#[derive(Parser)]
#[command(
    name = "sekoia-automation",
    version,
    about = "Tooling for Sekoia.io playbook modules written in Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a new module crate: one action, one trigger, their manifests, tests, a Dockerfile.
    NewModule {
        /// The directory to create (it must not exist or be empty).
        directory: PathBuf,
        /// The module's name.
        #[arg(long)]
        name: String,
        /// The module's description (the name when absent).
        #[arg(long, default_value = "")]
        description: String,
        /// The module's slug (derived from the name when absent).
        #[arg(long)]
        slug: Option<String>,
        /// Depend on this checkout of sekoia-automation, written relative to DIRECTORY (the image's
        /// build context is DIRECTORY: put the checkout inside it to build the image). By
        /// default: the crate's git repository, or the crates.io release when this command was
        /// installed from crates.io.
        #[arg(long, value_name = "PATH")]
        sekoia_automation_path: Option<PathBuf>,
    },
    /// Check the manifests of a module directory (strict semver, JSON Schema meta-schema).
    /// The module's own `check-module` also checks them against the code.
    Check {
        /// The module directory.
        directory: PathBuf,
    },
    /// Write the module's Markdown documentation from its manifests.
    Documentation {
        /// The module directory.
        directory: PathBuf,
        /// The file to write (`-`: standard output); DIR/DOCUMENTATION.md by default.
        #[arg(long, short)]
        output: Option<String>,
    },
    /// Write a module crate from a Python module: its manifests kept byte for byte, its
    /// GenericAPIActions as `Api` actions, every other item a stub quoting its Python source.
    Port {
        /// The Python module's directory (manifest.json, main.py, its package).
        python: PathBuf,
        /// The crate's directory (it must not exist or be empty); `<crate name>-rs` by default.
        out: Option<PathBuf>,
        /// Depend on this checkout of sekoia-automation (as for `new-module`).
        #[arg(long, value_name = "PATH")]
        sekoia_automation_path: Option<PathBuf>,
    },
    /// Serve an embedded Sekoia.io platform on 127.0.0.1: print its URLs and token as a
    /// JSON line, then each request it receives as a JSON line.
    LocalPlatform {
        /// The module secrets it answers with (a JSON object).
        #[arg(long, default_value = "{}")]
        secrets: String,
        /// Exit (0) once an action's finished report is received.
        #[arg(long)]
        until_finished: bool,
        /// Exit (0) once this many trigger events are received.
        #[arg(long, value_name = "N")]
        until_events: Option<usize>,
        /// Exit (1) after this many seconds.
        #[arg(long)]
        timeout: Option<f64>,
    },
    /// Run a Python module and its Rust port on the same scenarios against the local platform
    /// and a fake vendor; print their differences request by request (docs/migrating.md §10).
    /// Exit 0 when identical, 1 when they differ, 2 on a usage or scenario error.
    Compare {
        /// A Python with sekoia-automation-sdk 1.27 and the module's requirements.
        #[arg(long)]
        python: PathBuf,
        /// The Python module's directory (main.py, manifest.json).
        #[arg(long)]
        module: PathBuf,
        /// The Rust port's binary.
        #[arg(long)]
        rust: PathBuf,
        /// The scenario files (JSON).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::NewModule {
            directory,
            name,
            description,
            slug,
            sekoia_automation_path,
        } => new_module(directory, name, description, slug, sekoia_automation_path),
        Command::Check { directory } => {
            let rules = Rules {
                version: strict_version,
                schema: strict_schema,
            };
            let problems = check::check(&directory, None, &rules);
            let checked = check::checked(&directory, None);
            check::report("sekoia-automation check", &directory, &checked, &problems)
        }
        Command::Documentation { directory, output } => {
            match sekoia_automation::unversioned::documentation::from_directory(&directory) {
                Ok(page) => write_output(
                    &page,
                    output.as_deref(),
                    &directory.join(sekoia_automation::unversioned::documentation::DEFAULT_FILE),
                ),
                Err(error) => fail(&error.to_string()),
            }
        }
        Command::LocalPlatform {
            secrets,
            until_finished,
            until_events,
            timeout,
        } => local_platform(&secrets, until_finished, until_events, timeout),
        Command::Compare {
            python,
            module,
            rust,
            scenarios,
        } => compare::main(&compare::Options {
            python,
            module,
            rust,
            scenarios,
        }),
        Command::Port {
            python,
            out,
            sekoia_automation_path,
        } => port(python, out, sekoia_automation_path),
    }
}

fn port(python: PathBuf, out: Option<PathBuf>, path: Option<PathBuf>) -> ExitCode {
    let out = out.unwrap_or_else(|| {
        let manifest = std::fs::read_to_string(python.join("manifest.json")).unwrap_or_default();
        let name = serde_json::from_str::<Value>(&manifest)
            .ok()
            .and_then(|manifest| manifest["name"].as_str().map(scaffold::crate_name))
            .unwrap_or_else(|| "ported-module".into());
        PathBuf::from(format!("{name}-rs"))
    });
    let mut request = port::Port::new(&python, &out);
    if let Some(path) = path {
        let path = std::path::absolute(&path).unwrap_or(path);
        request = request.dependency(Dependency::Path(path));
    }
    match port::port(&request) {
        Ok(report) => {
            println!("wrote {} ({} files)", out.display(), report.files.len());
            for item in &report.items {
                println!("  {}: {}", item.command, item.how.describe());
            }
            for note in &report.notes {
                println!("note: {note}");
            }
            println!(
                "\nnext:\n  cd {}\n  cargo build && cargo test",
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn new_module(
    directory: PathBuf,
    name: String,
    description: String,
    slug: Option<String>,
    path: Option<PathBuf>,
) -> ExitCode {
    let mut module = NewModule::new(&directory, name).description(description);
    if let Some(slug) = slug {
        module = module.slug(slug);
    }
    if let Some(path) = path {
        let path = std::path::absolute(&path).unwrap_or(path);
        module = module.dependency(Dependency::Path(path));
    }
    let template = template::module();
    match scaffold::write(&module, &ModuleItems::new(template.items())) {
        Ok(files) => {
            for file in files {
                println!("wrote {}", directory.join(file).display());
            }
            println!(
                "\nnext:\n  cd {}\n  cargo build && cargo test\n  cargo run -- run-local greet name=world -c '{{\"api_key\": \"my-key\"}}'\n  cargo run -- run-local ticker --events 3 -c '{{\"api_key\": \"my-key\"}}'",
                directory.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error.to_string()),
    }
}

/// Semver with the `semver` crate.
fn strict_version(version: &str) -> Result<(), String> {
    semver::Version::parse(version)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// The built-in structural check, then the JSON Schema meta-schema and the
/// `$ref`s resolved by the `jsonschema` crate.
fn strict_schema(schema: &Value) -> Vec<String> {
    let mut problems = check::schema_problems(schema);
    if !problems.is_empty() {
        return problems;
    }
    let meta = std::panic::catch_unwind(|| {
        jsonschema::meta::validate(schema)
            .map_err(|error| format!("{}: {error}", pointer(&error.instance_path().to_string())))
    });
    match meta {
        Ok(Ok(())) => {}
        Ok(Err(problem)) => problems.push(problem),
        Err(_) => problems.push("its `$schema` names no known JSON Schema draft".into()),
    }
    if problems.is_empty()
        && let Err(error) = jsonschema::validator_for(schema)
    {
        problems.push(format!("/: {error}"));
    }
    problems
}

fn pointer(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

fn write_output(text: &str, output: Option<&str>, default: &std::path::Path) -> ExitCode {
    if output == Some("-") {
        print!("{text}");
        return ExitCode::SUCCESS;
    }
    let path = output.map_or_else(|| default.to_path_buf(), PathBuf::from);
    match std::fs::write(&path, text) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("cannot write {}: {error}", path.display())),
    }
}

fn local_platform(
    secrets: &str,
    until_finished: bool,
    until_events: Option<usize>,
    timeout: Option<f64>,
) -> ExitCode {
    let secrets: Value = match serde_json::from_str(secrets) {
        Ok(value @ Value::Object(_)) => value,
        _ => return fail("`--secrets` must be a JSON object"),
    };
    let platform = match LocalPlatform::start() {
        Ok(platform) => platform,
        Err(error) => return fail(&format!("cannot start the local platform: {error}")),
    };
    platform.set_secrets(secrets);
    let mut stdout = std::io::stdout();
    let start = json!({
        "url_callback": platform.callback_url(),
        "url_logs": platform.logs_url(),
        "url_secrets": platform.secrets_url(),
        "intake_url": platform.intake_url(),
        "token": platform.token(),
    });
    let _ = writeln!(stdout, "{start}");
    let _ = stdout.flush();
    let started = Instant::now();
    let mut shown = 0;
    let mut events = 0;
    loop {
        let requests = platform.requests();
        for request in &requests[shown..] {
            let body = request
                .json()
                .unwrap_or_else(|| Value::String(request.body_text()));
            let line = json!({"method": request.method, "path": request.path, "status": request.status, "body": body});
            let _ = writeln!(stdout, "{line}");
            let finished = request.method == "PATCH"
                && request
                    .json()
                    .is_some_and(|body| body["status"] == "finished");
            if request.method == "POST"
                && request
                    .json()
                    .is_some_and(|body| body.get("event").is_some())
            {
                events += 1;
            }
            if (until_finished && finished) || until_events.is_some_and(|wanted| events >= wanted) {
                let _ = stdout.flush();
                return ExitCode::SUCCESS;
            }
        }
        shown = requests.len();
        let _ = stdout.flush();
        if timeout
            .is_some_and(|seconds| started.elapsed() >= Duration::from_secs_f64(seconds.max(0.0)))
        {
            eprintln!("error: timeout");
            return ExitCode::from(1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
