//! [`ActionError`]: what `?` turns an error into in an action's `run`.

use std::fmt::Display;

use crate::action::outcome::Outcome;
use crate::vendor::ApiFailure;

/// The error of an action's [`run`](crate::Action::run): any error
/// (anything `Display`: a `std::error::Error`, a `String`, a `&str`)
/// converts into it, so `?` works on whatever the action calls. It is
/// reported as [`Outcome::from`] reports an `Err`: as the error of the
/// run, and to the platform's Sentry as the exception a Python action
/// raised. An [`ApiFailure`] (an [`Api`](crate::vendor::Api) request that
/// failed, already logged) stays what it is in Python, a stated
/// `self.error(...)`, and so does [`ActionError::stated`].
///
/// ```
/// use sekoia_automation::{ActionError, Outcome};
///
/// fn double(text: &str) -> Result<Outcome<u32>, ActionError> {
///     let value: u32 = text.trim().parse()?;
///     if value > 1000 {
///         return Err("too large: give a number up to 1000".into());
///     }
///     Ok(Outcome::success(value * 2))
/// }
///
/// let failed: Outcome<u32> = double("x").unwrap_err().into();
/// assert_eq!(failed.error(), Some("invalid digit found in string"));
/// assert_eq!(double("21").unwrap().results(), Some(&42));
/// ```
///
/// It is not itself `Display` (that would make the conversion from any
/// `Display` overlap the conversion of a type into itself): read its
/// [`message`](Self::message).
#[derive(Debug)]
pub struct ActionError {
    message: String,
    /// Reported to Sentry as a raised exception.
    raised: bool,
}

/// What an action's [`run`](crate::Action::run) returns, in a shorter
/// signature: `fn run(&self, ctx: &Ctx, args: Args) -> ActionResult<Results>`.
pub type ActionResult<R> = Result<Outcome<R>, ActionError>;

impl ActionError {
    /// An error stated rather than raised: Python's `self.error(message)`
    /// followed by `return`, reported to the platform only (not to Sentry).
    pub fn stated(message: impl Display) -> Self {
        ActionError {
            message: message.to_string(),
            raised: false,
        }
    }

    /// The error message reported.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether it is reported to Sentry as a raised exception.
    pub fn is_raised(&self) -> bool {
        self.raised
    }
}

impl<E: Display> From<E> for ActionError {
    fn from(error: E) -> Self {
        ActionError {
            message: error.to_string(),
            raised: true,
        }
    }
}

impl From<ApiFailure> for ActionError {
    fn from(failure: ApiFailure) -> Self {
        ActionError::stated(failure.message())
    }
}

impl<R> From<ActionError> for Outcome<R> {
    fn from(error: ActionError) -> Self {
        if error.raised {
            Outcome::from(Err::<R, _>(error.message))
        } else {
            Outcome::failure(error.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_raised_and_a_stated_one_is_not() {
        let raised: Outcome<()> = ActionError::from(std::fmt::Error).into();
        assert!(raised.error_was_raised());
        assert_eq!(
            raised.error(),
            Some("an error occurred when formatting an argument")
        );
        let from_str: Outcome<()> = ActionError::from("no").into();
        assert!(from_str.error_was_raised());
        let stated: Outcome<()> = ActionError::stated("refused").into();
        assert!(!stated.error_was_raised());
        assert_eq!(stated.error(), Some("refused"));
    }
}
