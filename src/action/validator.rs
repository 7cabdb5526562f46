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
/// `{"results": {"success": true|false}, "error"?: "..."}` (PROTOCOL §3).
///
/// The context is an [`ActionContext`] without arguments.
///
/// ```
/// use sekoia_automation::{AccountValidator, ActionContext, Secret};
/// use sekoia_automation::ValidationError;
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
pub trait AccountValidator: 'static {
    /// The configuration of the module this validator belongs to.
    type ModuleConfiguration: DeserializeOwned + JsonSchema + 'static;

    /// `Ok(())` when the configuration works; the error otherwise.
    fn validate(
        &self,
        ctx: &ActionContext<'_, Self::ModuleConfiguration>,
    ) -> Result<(), ValidationError>;
}

/// The command the platform runs to validate an account.
pub const VALIDATE_COMMAND: &str = "validate_module_configuration";
