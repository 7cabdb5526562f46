//! [`Outcome`]: what an action reports when it finishes.

use std::fmt::Display;

/// What an action reports: its results, the output branches it activated or
/// explicitly deactivated, and an error message. Any combination is valid,
/// as on the wire: results with an error is a partial success.
///
/// Build one with [`Outcome::success`], [`Outcome::failure`] or
/// [`Outcome::none`], then chain [`activate`](Outcome::activate),
/// [`deactivate`](Outcome::deactivate) and
/// [`with_error`](Outcome::with_error). A `Result` converts into an
/// `Outcome`, so an action can write its logic with `?` in a helper and
/// convert once:
///
/// ```
/// use sekoia_automation::Outcome;
///
/// fn score(text: &str) -> Result<u32, std::num::ParseIntError> {
///     let value: u32 = text.trim().parse()?;
///     Ok(value * 2)
/// }
///
/// let outcome = Outcome::from(score("21")).activate("scored");
/// assert_eq!(outcome.results(), Some(&42));
/// assert_eq!(outcome.outputs(), [("scored".to_string(), true)]);
///
/// let failed = Outcome::from(score("x"));
/// assert_eq!(failed.error(), Some("invalid digit found in string"));
/// assert!(failed.results().is_none());
/// ```
///
/// A `Result<Outcome<R>, E>` converts too, so branches and `?` mix (name the
/// target type, as the return type of `run` does, since both conversions
/// could apply):
///
/// ```
/// use sekoia_automation::Outcome;
///
/// fn check(ip: &str) -> Result<Outcome<String>, std::net::AddrParseError> {
///     let address: std::net::IpAddr = ip.parse()?;
///     let branch = if address.is_loopback() { "local" } else { "remote" };
///     Ok(Outcome::success(address.to_string()).activate(branch))
/// }
///
/// let local: Outcome<String> = check("127.0.0.1").into();
/// assert_eq!(local.outputs()[0].0, "local");
/// let failed: Outcome<String> = check("nope").into();
/// assert!(failed.error().is_some());
/// ```
#[must_use = "an Outcome is what the action reports: return it from `run`"]
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<R> {
    results: Option<R>,
    error: Option<String>,
    outputs: Vec<(String, bool)>,
}

impl<R> Default for Outcome<R> {
    fn default() -> Self {
        Outcome {
            results: None,
            error: None,
            outputs: Vec::new(),
        }
    }
}

impl<R> Outcome<R> {
    /// Finished with these results.
    pub fn success(results: R) -> Self {
        Outcome {
            results: Some(results),
            ..Outcome::default()
        }
    }

    /// Finished with this error and no results.
    pub fn failure(error: impl Display) -> Self {
        Outcome {
            error: Some(error.to_string()),
            ..Outcome::default()
        }
    }

    /// Finished with neither results nor error (branches may still be set).
    pub fn none() -> Self {
        Outcome::default()
    }

    /// Adds (or replaces) the error message, keeping the results.
    pub fn with_error(mut self, error: impl Display) -> Self {
        self.error = Some(error.to_string());
        self
    }

    /// Activates an output branch (Python's `set_output(name)`).
    pub fn activate(self, branch: impl Into<String>) -> Self {
        self.set_output(branch, true)
    }

    /// Explicitly deactivates an output branch (Python's `set_output(name, False)`).
    pub fn deactivate(self, branch: impl Into<String>) -> Self {
        self.set_output(branch, false)
    }

    /// Sets an output branch; setting the same branch again replaces its state
    /// and keeps its first position.
    pub fn set_output(mut self, branch: impl Into<String>, active: bool) -> Self {
        let branch = branch.into();
        match self.outputs.iter_mut().find(|(name, _)| *name == branch) {
            Some(entry) => entry.1 = active,
            None => self.outputs.push((branch, active)),
        }
        self
    }

    /// The results, if any.
    pub fn results(&self) -> Option<&R> {
        self.results.as_ref()
    }

    /// The error message, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The branches set, in the order they were first set.
    pub fn outputs(&self) -> &[(String, bool)] {
        &self.outputs
    }

    /// Whether there is no error.
    pub fn is_success(&self) -> bool {
        self.error.is_none()
    }

    /// Converts the results, keeping the error and branches.
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Outcome<S> {
        Outcome {
            results: self.results.map(f),
            error: self.error,
            outputs: self.outputs,
        }
    }

    /// Splits into results, error and branches.
    pub fn into_parts(self) -> (Option<R>, Option<String>, Vec<(String, bool)>) {
        (self.results, self.error, self.outputs)
    }
}

impl<R: serde::Serialize> Outcome<R> {
    /// The finished PATCH this outcome reports, with the run's `logs`.
    #[doc(hidden)]
    pub fn into_report(
        self,
        logs: &[crate::wire::logging::LogRecord],
    ) -> crate::wire::report::ActionReport {
        let (results, error, outputs) = self.into_parts();
        crate::wire::report::ActionReport::new(
            results.map(|results| serde_json::to_value(&results)),
            error,
            outputs,
            logs,
        )
    }
}

impl<R, E: Display> From<Result<R, E>> for Outcome<R> {
    fn from(result: Result<R, E>) -> Self {
        match result {
            Ok(results) => Outcome::success(results),
            Err(error) => Outcome::failure(error),
        }
    }
}

impl<R, E: Display> From<Result<Outcome<R>, E>> for Outcome<R> {
    fn from(result: Result<Outcome<R>, E>) -> Self {
        match result {
            Ok(outcome) => outcome,
            Err(error) => Outcome::failure(error),
        }
    }
}
