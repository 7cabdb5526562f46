//! Asset connectors: the third kind of connector. An [`AssetConnector`]
//! collects devices, users, software and vulnerabilities from a vendor and
//! pushes them, as OCSF objects, to the platform's asset-management API,
//! wire-identical to the Python SDK 1.27's `AssetConnector`.
//!
//! - [`AssetConnector`] (the item kind, registered like actions, triggers
//!   and connectors) and its [`AssetConnectorContext`];
//! - [`AssetConnectorConfiguration`], Python's
//!   `DefaultAssetConnectorConfiguration` (`sekoia_base_url`,
//!   `sekoia_api_key`, `frequency`, `batch_size`...), beside the
//!   connector's own fields;
//! - the OCSF models of `sekoia-automation-models`, same names, same JSON:
//!   [`AssetList`] and [`AssetItem`], [`DeviceOCSFModel`],
//!   [`UserOCSFModel`], [`SoftwareOCSFModel`], [`VulnerabilityOCSFModel`]
//!   and what they hold.
//!
//! # Reading the models from JSON
//!
//! What pydantic refuses is refused (a value outside an enumeration, a
//! required field missing or `null`, a string where a number is due...),
//! and so is what pydantic's lax mode coerces: a number written as a
//! string, `2.0` for an integer, `1` or `"true"` for a boolean, an
//! integer beyond 64 bits. A connector builds its models from typed
//! values; the fixtures of `tests/asset_models.rs` pin both lists.
//!
//! # The push (docs/protocol.md §9)
//!
//! Each fetch cycle's assets are pushed in batches of `batch_size`
//! (`ASSET_CONNECTOR_BATCH_SIZE` overrides it) to
//! `<sekoia_base_url>/api/v2/asset-management/asset-connector/<connector
//! configuration uuid>`, with `Authorization: Bearer <sekoia_api_key>` and
//! `User-Agent: sekoiaio-asset-connector-<uuid>`. A push answered 200 saves
//! the checkpoint, then the push's task is polled on `/api/v1/tasks/<id>`
//! until it ends (1 s, then twice as long up to 5 s; 300 s at most); once a
//! task cannot be read or does not end in time, the rest of the cycle does
//! not wait for tasks. A 429 ends the cycle and pauses the connector for
//! its `Retry-After` (else an hour).

mod configuration;
#[allow(clippy::module_inception)]
mod connector;
mod context;
pub(crate) mod item;
pub(crate) mod manifest;
mod ocsf;
mod push;
mod schema;

pub use configuration::AssetConnectorConfiguration;
pub use connector::AssetConnector;
pub use context::{AssetConnectorContext, Assets};
pub use push::{AssetPushError, parse_retry_after};
pub use schema::{SchemaChange, schema_fingerprint};

pub use ocsf::base::{Metadata, OCSFBaseModel, Product, Severity};
pub use ocsf::device::{
    Device, DeviceDataObject, DeviceEnrichmentObject, DeviceOCSFModel, DeviceTypeId, DeviceTypeStr,
    EnablementStatus, EncryptionObject, GeoLocation, NetworkInterface, NetworkInterfaceTypeId,
    NetworkInterfaceTypeStr, OSTypeId, OSTypeStr, OperatingSystem,
};
pub use ocsf::group::Group;
pub use ocsf::list::{AssetItem, AssetList};
pub use ocsf::organization::Organization;
pub use ocsf::partitions::Partitions;
pub use ocsf::risk_level::{RiskLevelId, RiskLevelStr};
pub use ocsf::software::{
    ComponentTypeId, ComponentTypeStr, DigitalCertificate, DigitalSignature, Fingerprint,
    FingerprintAlgorithmId, FingerprintAlgorithmStr, PackageTypeId, PackageTypeStr, SBOMTypeId,
    SBOMTypeStr, SignatureAlgorithmId, SignatureAlgorithmStr, SignatureStateId, SignatureStateStr,
    SoftwareBillOfMaterials, SoftwareComponent, SoftwareEnrichmentObject, SoftwareOCSFModel,
    SoftwarePackage,
};
pub use ocsf::user::{
    Account, AccountTypeId, AccountTypeStr, LdapPerson, User, UserDataObject, UserEnrichmentObject,
    UserOCSFModel, UserTypeId, UserTypeStr,
};
pub use ocsf::vulnerability::{
    CVE, CVSS, FindingInformation, KillChain, KillChainPhase, KillChainPhaseID, MITREAttack,
    MITREAttackTactic, MITREAttackTechnique, VulnerabilityDetails, VulnerabilityOCSFModel,
};
