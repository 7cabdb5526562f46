//! The runtime core shared by every item kind (actions, validators,
//! triggers, next connectors): what an item runs in ([`environment`]: the
//! settings, the configuration source, the platform client), configuration
//! loading ([`configuration`]), the secrets fetch ([`secrets`]), panic
//! catching ([`panic`]) and error reporting to Sentry ([`sentry`]).

pub(crate) mod configuration;
pub(crate) mod environment;
pub(crate) mod panic;
pub(crate) mod secrets;
pub(crate) mod sentry;
