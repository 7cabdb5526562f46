//! [`AccountValidator`]: checks a module configuration (an account) against
//! the service it gives access to.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::action::ActionContext;

/// The error a validator reports: anything that displays, so `?` works on
/// most errors and a plain `"message".into()` too.
pub type ValidationError = Box<dyn std::error::Error + Send + Sync>;

/// Validates the module configuration, e.g. by calling the service with the
/// credentials. Registered with
/// [`Module::register_account_validator`](crate::Module::register_account_validator)
/// under the command `validate_module_configuration`; reports
/// `{"results": {"success": true|false}, "error"?: "..."}` ([protocol §3](crate::protocol#3-actions)):
/// an error is the `error` message, except [`NotValid`], reported without
/// one.
///
/// The context is an [`ActionContext`] without arguments.
///
/// ```
/// use sekoia_automation::{ActionContext, Secret};
/// use sekoia_automation::action::AccountValidator;
/// use sekoia_automation::action::ValidationError;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Config { api_key: Secret<String> }
///
/// struct CheckKey;
///
/// impl AccountValidator for CheckKey {
///     type ModuleConfiguration = Config;
///
///     fn validate(&self, ctx: &ActionContext<'_, Config>) -> Result<(), ValidationError> {
///         if ctx.configuration().api_key.expose().len() != 32 {
///             return Err("the API key must have 32 characters".into());
///         }
///         Ok(())
///     }
/// }
/// ```
///
/// The item is `Send` and its configuration types `Send + Sync`: see
/// [`Module`'s thread safety](crate::Module#thread-safety).
pub trait AccountValidator: Send + 'static {
    /// The configuration of the module this validator belongs to.
    type ModuleConfiguration: DeserializeOwned + JsonSchema + Send + Sync + 'static;

    /// `Ok(())` when the configuration works; the error otherwise.
    ///
    /// # Errors
    ///
    /// Why the configuration does not work (a refused credential, an
    /// unreachable URL): its message is what the platform shows the user,
    /// so say what to fix. [`NotValid`] refuses without a message.
    fn validate(
        &self,
        ctx: &ActionContext<'_, Self::ModuleConfiguration>,
    ) -> Result<(), ValidationError>;
}

/// The account is not valid, and there is nothing more to say: the
/// validator reports `{"success": false}` without an `error`, as a Python
/// validator whose `validate()` returns `False` without calling
/// `self.error(...)`. Any other error is reported as the `error` message.
///
/// ```
/// use sekoia_automation::ActionContext;
/// use sekoia_automation::action::AccountValidator;
/// use sekoia_automation::action::{NotValid, ValidationError};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Config { tenant: String }
///
/// struct CheckTenant;
///
/// impl AccountValidator for CheckTenant {
///     type ModuleConfiguration = Config;
///
///     fn validate(&self, ctx: &ActionContext<'_, Config>) -> Result<(), ValidationError> {
///         if ctx.configuration().tenant.is_empty() {
///             return Err(NotValid.into());
///         }
///         Ok(())
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the module configuration is not valid")]
pub struct NotValid;

/// The command the platform runs to validate an account.
pub const VALIDATE_COMMAND: &str = "validate_module_configuration";
