//! A module's configuration and inputs ([protocol §1](crate::protocol#1-inputs)):
//! [`Secret`] fields of typed configurations, the [`Settings`] a module runs
//! with (where its files are, retry timing), the [`Identity`] an item
//! already has on the platform, schemas [`Documented`] by hand, and
//! [`ConfigurationError`], why a value could not be read.

pub(crate) mod documented;
pub(crate) mod identity;
pub(crate) mod manifest;
pub(crate) mod secret;
pub(crate) mod settings;
pub(crate) mod source;

pub use documented::Documented;
pub use identity::Identity;
pub use secret::Secret;
pub use settings::Settings;
pub use source::ConfigurationError;
