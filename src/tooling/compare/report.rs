//! The report of `sekoia-automation compare`: per scenario, identical or
//! its differences, then a summary line.

use std::io::{self, Write};

use super::diff::Difference;
use super::scenario::Scenario;
use super::side::Run;

/// The most lines of a side's standard error shown with a failed run.
const STDERR_LINES: usize = 15;

/// Writes the outcome of one scenario.
///
/// # Errors
///
/// When `out` cannot be written.
pub fn scenario(
    out: &mut dyn Write,
    scenario: &Scenario,
    runs: [&Run; 2],
    differences: &[Difference],
) -> io::Result<()> {
    let heading = format!(
        "scenario `{}` ({} {}, command `{}`)",
        scenario.name,
        scenario.file.display(),
        scenario.location,
        scenario.command
    );
    if differences.is_empty() {
        let [python, _] = runs;
        let vendor: Vec<String> = python
            .requests
            .iter()
            .filter(|exchange| exchange.server == "vendor")
            .map(|exchange| exchange.request.status.to_string())
            .collect();
        let vendor = if vendor.is_empty() {
            "none to the vendor".to_string()
        } else {
            format!(
                "{} to the vendor, answered {}",
                vendor.len(),
                vendor.join(", ")
            )
        };
        writeln!(
            out,
            "identical: {heading}: {} requests ({vendor}), exit code {}{}",
            python.requests.len(),
            python
                .exit_code
                .map_or_else(|| "none".into(), |code| code.to_string()),
            if python.stopped { " after SIGTERM" } else { "" }
        )?;
        return Ok(());
    }
    let count = differences.len();
    let plural = if count == 1 { "" } else { "s" };
    writeln!(out, "DIFFERENT: {heading}: {count} difference{plural}")?;
    for difference in differences {
        writeln!(out, "  {difference}")?;
    }
    for run in runs {
        if run.exit_code != Some(0) && !run.stopped {
            let lines: Vec<&str> = run.stderr.lines().collect();
            let tail = &lines[lines.len().saturating_sub(STDERR_LINES)..];
            if !tail.is_empty() {
                writeln!(out, "  {}'s stderr (last {} lines):", run.side, tail.len())?;
                for line in tail {
                    writeln!(out, "    {line}")?;
                }
            }
        }
    }
    Ok(())
}

/// Writes the summary line.
///
/// # Errors
///
/// When `out` cannot be written.
pub fn summary(out: &mut dyn Write, identical: usize, different: usize) -> io::Result<()> {
    let total = identical + different;
    let plural = if total == 1 { "" } else { "s" };
    writeln!(
        out,
        "{total} scenario{plural}: {identical} identical, {different} different"
    )
}
