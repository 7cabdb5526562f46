//! `sekoia-automation compare`: a Python module and its Rust port run on
//! the same scenarios against the local platform and a fake vendor; the
//! requests both sent are compared request by request (docs/migrating.md
//! §10).
//!
//! | concern | file |
//! | --- | --- |
//! | the scenario file and its parsing | [`scenario`](Scenario) |
//! | running one side | [`side`](run_side) |
//! | what is not a difference | [`intended`](IGNORED_HEADERS) |
//! | the differences | [`diff`](differences) |
//! | the report | `report` |
//!
//! ```no_run
//! use sekoia_automation::unversioned::compare::{self, Options};
//!
//! let options = Options {
//!     python: "/tmp/sdk/bin/python".into(),
//!     module: "automation-library/Tidewatch".into(),
//!     rust: "target/debug/tidewatch".into(),
//!     scenarios: vec!["scenarios.json".into()],
//! };
//! let code = compare::main(&options); // 0 identical, 1 different, 2 unusable
//! ```

mod diff;
mod intended;
mod report;
mod scenario;
mod side;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub use diff::{Difference, differences};
pub use intended::{IGNORED_HEADERS, USER_AGENT_ROUTES};
pub use scenario::{FaultSpec, ReplySpec, RouteSpec, Scenario, ScenarioError};
pub use side::{Exchange, Program, Run, RunError, run as run_side};

/// What `compare` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A Python with the SDK 1.27 and the module's requirements.
    pub python: PathBuf,
    /// The Python module's directory (`main.py`, `manifest.json`).
    pub module: PathBuf,
    /// The Rust port's binary.
    pub rust: PathBuf,
    /// The scenario files.
    pub scenarios: Vec<PathBuf>,
}

/// Why nothing could be compared: a usage or scenario error (exit 2).
#[derive(Debug)]
pub enum CompareError {
    /// A scenario file cannot be used.
    Scenario(ScenarioError),
    /// A side cannot be run, or an option names nothing usable.
    Usage(String),
}

impl std::fmt::Display for CompareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompareError::Scenario(error) => error.fmt(f),
            CompareError::Usage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for CompareError {}

/// Runs every scenario on both sides, writes the report to `out`; whether
/// every scenario was identical.
///
/// ```no_run
/// use sekoia_automation::unversioned::compare::{compare, Options};
///
/// let options = Options {
///     python: "/tmp/sdk/bin/python".into(),
///     module: "tests/fixtures/lantern".into(),
///     rust: "target/debug/examples/lantern".into(),
///     scenarios: vec!["tests/fixtures/lantern/scenarios.json".into()],
/// };
/// let mut report = Vec::new();
/// let identical = compare(&options, &mut report)?;
/// print!("{}", String::from_utf8_lossy(&report));
/// assert!(identical);
/// # Ok::<(), sekoia_automation::unversioned::compare::CompareError>(())
/// ```
///
/// # Errors
///
/// A [`CompareError`] when an option names nothing usable, a scenario file
/// cannot be used (checked before anything runs), or a side cannot be
/// started.
pub fn compare(options: &Options, out: &mut dyn Write) -> Result<bool, CompareError> {
    let usage = |message: String| Err(CompareError::Usage(message));
    for (file, option) in [("main.py", "--module"), ("manifest.json", "--module")] {
        if !options.module.join(file).is_file() {
            return usage(format!(
                "`{option}` {}: no {file} there: give the Python module's directory",
                options.module.display()
            ));
        }
    }
    if !options.rust.is_file() {
        return usage(format!(
            "`--rust` {}: no such file: give the port's binary (cargo build, then target/debug/NAME)",
            options.rust.display()
        ));
    }
    if options.scenarios.is_empty() {
        return usage("no scenario file given".into());
    }
    let mut scenarios = Vec::new();
    for file in &options.scenarios {
        scenarios.extend(Scenario::read(file).map_err(CompareError::Scenario)?);
    }
    // The sides run in other directories: relative paths are made absolute
    // (a bare interpreter name is looked up in PATH).
    let absolute = |path: &PathBuf| std::path::absolute(path).unwrap_or_else(|_| path.clone());
    let interpreter = if options.python.components().count() > 1 {
        absolute(&options.python)
    } else {
        options.python.clone()
    };
    let python = Program::Python {
        interpreter,
        module: absolute(&options.module),
    };
    let rust = Program::Rust {
        binary: absolute(&options.rust),
        module: absolute(&options.module),
    };
    let (mut identical, mut different) = (0, 0);
    let written =
        |error: std::io::Error| CompareError::Usage(format!("cannot write the report: {error}"));
    for scenario in &scenarios {
        let failed = |program: &Program, error: RunError| {
            CompareError::Usage(format!(
                "scenario `{}` ({}): the {} side: {error}",
                scenario.name,
                scenario.file.display(),
                program.label()
            ))
        };
        let python_run = side::run(&python, scenario).map_err(|error| failed(&python, error))?;
        let rust_run = side::run(&rust, scenario).map_err(|error| failed(&rust, error))?;
        let found = differences(&python_run, &rust_run);
        if found.is_empty() {
            identical += 1;
        } else {
            different += 1;
        }
        report::scenario(out, scenario, [&python_run, &rust_run], &found).map_err(written)?;
    }
    report::summary(out, identical, different).map_err(written)?;
    Ok(different == 0)
}

/// `compare` with the report on stdout and errors on stderr: exit 0 when
/// every scenario is identical, 1 when one differs, 2 on a usage or
/// scenario error.
pub fn main(options: &Options) -> ExitCode {
    let mut stdout = std::io::stdout();
    match compare(options, &mut stdout) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            let _ = stdout.flush();
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
