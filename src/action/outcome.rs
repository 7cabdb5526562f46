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
///
/// An error that reaches the outcome through one of these conversions is
/// what a raised exception is in a Python action: it is also reported to
/// the platform's Sentry when one is configured. An error given
/// explicitly ([`failure`](Outcome::failure),
/// [`with_error`](Outcome::with_error)) is Python's `self.error(...)`,
/// reported to the platform only.
#[must_use = "an Outcome is what the action reports: return it from `run`"]
#[derive(Debug, Clone)]
pub struct Outcome<R> {
    results: Option<R>,
    error: Option<String>,
    outputs: Vec<(String, bool)>,
    /// The error came from an `Err` converted into the outcome.
    raised: bool,
}

impl<R> Default for Outcome<R> {
    fn default() -> Self {
        Outcome {
            results: None,
            error: None,
            outputs: Vec::new(),
            raised: false,
        }
    }
}

/// Compares what is reported (results, error, branches), not where the
/// error came from.
impl<R: PartialEq> PartialEq for Outcome<R> {
    fn eq(&self, other: &Self) -> bool {
        self.results == other.results && self.error == other.error && self.outputs == other.outputs
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
        self.raised = false;
        self
    }

    /// The error came from an `Err` converted into this outcome: what the
    /// Python SDK reports to Sentry as the exception its action raised.
    pub(crate) fn error_was_raised(&self) -> bool {
        self.raised && self.error.is_some()
    }

    fn raised(error: impl Display) -> Self {
        Outcome {
            raised: true,
            ..Outcome::failure(error)
        }
    }

    /// Activates an output branch (Python's `set_output(name)`); a branch
    /// set again keeps its first position and takes the last state.
    ///
    /// ```
    /// use sekoia_automation::Outcome;
    ///
    /// let outcome = Outcome::<()>::none().activate("found").deactivate("missing").deactivate("found");
    /// assert_eq!(outcome.outputs(), [("found".to_string(), false), ("missing".to_string(), false)]);
    /// ```
    pub fn activate(self, branch: impl Into<String>) -> Self {
        self.set_output(branch, true)
    }

    /// Explicitly deactivates an output branch (Python's `set_output(name,
    /// False)`); a branch set again keeps its first position and takes the
    /// last state.
    pub fn deactivate(self, branch: impl Into<String>) -> Self {
        self.set_output(branch, false)
    }

    fn set_output(mut self, branch: impl Into<String>, active: bool) -> Self {
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
            raised: self.raised,
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
        let (results, exact) = match results.as_ref().map(crate::wire::report::convert_results) {
            Some((value, exact)) => (Some(value), exact),
            None => (None, None),
        };
        crate::wire::report::ActionReport::new(results, error, outputs, logs)
            .with_results_text(exact)
    }
}

impl<R, E: Display> From<Result<R, E>> for Outcome<R> {
    fn from(result: Result<R, E>) -> Self {
        match result {
            Ok(results) => Outcome::success(results),
            Err(error) => Outcome::raised(error),
        }
    }
}

impl<R, E: Display> From<Result<Outcome<R>, E>> for Outcome<R> {
    fn from(result: Result<Outcome<R>, E>) -> Self {
        match result {
            Ok(outcome) => outcome,
            Err(error) => Outcome::raised(error),
        }
    }
}
