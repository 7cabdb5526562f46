//! The runtime core shared by every item kind: the settings and the values
//! read from the configuration source that actions and triggers both need
//! ([`environment`]).

pub(crate) mod environment;
