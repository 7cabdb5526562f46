//! Inputs ([protocol §1](crate::protocol#1-inputs)): where things are ([`settings`]), the `/symphony`
//! file / environment source of every value ([`source`]), the module's
//! `manifest.json` ([`manifest`]) and the [`Secret`](secret::Secret) fields
//! of typed configurations ([`secret`]), and what an item's manifests say
//! of it beyond its types: the identity it already has on the platform
//! ([`identity`]) and schemas documented by hand ([`documented`]).

pub(crate) mod documented;
pub(crate) mod identity;
pub(crate) mod manifest;
pub(crate) mod secret;
pub(crate) mod settings;
pub(crate) mod source;
