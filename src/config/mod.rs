//! Inputs (PROTOCOL §1): where things are ([`settings`]), the `/symphony`
//! file / environment source of every value ([`source`]), the module's
//! `manifest.json` ([`manifest`]) and the [`Secret`](secret::Secret) fields
//! of typed configurations ([`secret`]).

pub(crate) mod manifest;
pub(crate) mod secret;
pub(crate) mod settings;
pub(crate) mod source;
