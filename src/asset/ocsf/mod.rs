//! The OCSF models of the assets, field for field Python's
//! `sekoia-automation-models` (the `sekoia_automation_models.ocsf` package
//! and `connector.AssetList`): same names, same field order, same JSON.

pub(crate) mod base;
pub(crate) mod device;
pub(crate) mod enums;
pub(crate) mod group;
pub(crate) mod list;
pub(crate) mod organization;
pub(crate) mod partitions;
pub(crate) mod risk_level;
pub(crate) mod software;
pub(crate) mod user;
pub(crate) mod vulnerability;
