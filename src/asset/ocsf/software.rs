//! Software: [`SoftwareOCSFModel`], its SBOM, signatures and
//! fingerprints (Python's `sekoia_automation_models.ocsf.software`).

use crate::asset::ocsf::base::{Metadata, Severity};
use crate::asset::ocsf::device::{Device, OperatingSystem};
use crate::asset::ocsf::enums::{int_enum, str_enum};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

int_enum! {
    /// Python's `SBOMTypeId`: serialized as its number.
    SBOMTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `SPDX`: `1`.
        Spdx = 1,
        /// `CYCLONEDX`: `2`.
        Cyclonedx = 2,
        /// `SWID`: `3`.
        Swid = 3,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `SBOMTypeStr`: serialized as its text.
    SBOMTypeStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `SPDX`: `SPDX`.
        Spdx = "SPDX",
        /// `CYCLONEDX`: `CycloneDX`.
        Cyclonedx = "CycloneDX",
        /// `SWID`: `SWID`.
        Swid = "SWID",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

int_enum! {
    /// Python's `ComponentTypeId`: serialized as its number.
    ComponentTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `FRAMEWORK`: `1`.
        Framework = 1,
        /// `LIBRARY`: `2`.
        Library = 2,
        /// `OPERATINGSYSTEM`: `3`.
        Operatingsystem = 3,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `ComponentTypeStr`: serialized as its text.
    ComponentTypeStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `FRAMEWORK`: `Framework`.
        Framework = "Framework",
        /// `LIBRARY`: `Library`.
        Library = "Library",
        /// `OPERATINGSYSTEM`: `Operating System`.
        Operatingsystem = "Operating System",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

int_enum! {
    /// Python's `PackageTypeId`: serialized as its number.
    PackageTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `APPLICATION`: `1`.
        Application = 1,
        /// `OPERATINGSYSTEM`: `2`.
        Operatingsystem = 2,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `PackageTypeStr`: serialized as its text.
    PackageTypeStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `APPLICATION`: `Application`.
        Application = "Application",
        /// `OPERATINGSYSTEM`: `Operating System`.
        Operatingsystem = "Operating System",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

int_enum! {
    /// Python's `SignatureAlgorithmId`: serialized as its number.
    SignatureAlgorithmId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `DSA`: `1`.
        Dsa = 1,
        /// `RSA`: `2`.
        Rsa = 2,
        /// `ECDSA`: `3`.
        Ecdsa = 3,
        /// `AUTHENTICODE`: `4`.
        Authenticode = 4,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `SignatureAlgorithmStr`: serialized as its text.
    SignatureAlgorithmStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `DSA`: `DSA`.
        Dsa = "DSA",
        /// `RSA`: `RSA`.
        Rsa = "RSA",
        /// `ECDSA`: `ECDSA`.
        Ecdsa = "ECDSA",
        /// `AUTHENTICODE`: `Authenticode`.
        Authenticode = "Authenticode",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

int_enum! {
    /// Python's `SignatureStateId`: serialized as its number.
    SignatureStateId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `VALID`: `1`.
        Valid = 1,
        /// `EXPIRED`: `2`.
        Expired = 2,
        /// `REVOKED`: `3`.
        Revoked = 3,
        /// `SUSPENDED`: `4`.
        Suspended = 4,
        /// `PENDING`: `5`.
        Pending = 5,
        /// `UNTRUSTED`: `6`.
        Untrusted = 6,
        /// `DISTRUSTED`: `7`.
        Distrusted = 7,
        /// `WRONG_USAGE`: `8`.
        WrongUsage = 8,
        /// `BAD`: `9`.
        Bad = 9,
        /// `BROKEN`: `10`.
        Broken = 10,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `SignatureStateStr`: serialized as its text.
    SignatureStateStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `VALID`: `Valid`.
        Valid = "Valid",
        /// `EXPIRED`: `Expired`.
        Expired = "Expired",
        /// `REVOKED`: `Revoked`.
        Revoked = "Revoked",
        /// `SUSPENDED`: `Suspended`.
        Suspended = "Suspended",
        /// `PENDING`: `Pending`.
        Pending = "Pending",
        /// `UNTRUSTED`: `Untrusted`.
        Untrusted = "Untrusted",
        /// `DISTRUSTED`: `Distrusted`.
        Distrusted = "Distrusted",
        /// `WRONG_USAGE`: `WrongUsage`.
        WrongUsage = "WrongUsage",
        /// `BAD`: `Bad`.
        Bad = "Bad",
        /// `BROKEN`: `Broken`.
        Broken = "Broken",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

int_enum! {
    /// Python's `FingerprintAlgorithmId`: serialized as its number.
    FingerprintAlgorithmId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `MD5`: `1`.
        Md5 = 1,
        /// `SHA1`: `2`.
        Sha1 = 2,
        /// `SHA256`: `3`.
        Sha256 = 3,
        /// `SHA512`: `4`.
        Sha512 = 4,
        /// `CTPH`: `5`.
        Ctph = 5,
        /// `TLSH`: `6`.
        Tlsh = 6,
        /// `QUICKXORHASH`: `7`.
        Quickxorhash = 7,
        /// `SHA224`: `8`.
        Sha224 = 8,
        /// `SHA384`: `9`.
        Sha384 = 9,
        /// `SHA512_224`: `10`.
        Sha512224 = 10,
        /// `SHA512_256`: `11`.
        Sha512256 = 11,
        /// `SHA3_224`: `12`.
        Sha3224 = 12,
        /// `SHA3_256`: `13`.
        Sha3256 = 13,
        /// `SHA3_384`: `14`.
        Sha3384 = 14,
        /// `SHA3_512`: `15`.
        Sha3512 = 15,
        /// `XXHASH64`: `16`.
        Xxhash64 = 16,
        /// `XXHASH128`: `17`.
        Xxhash128 = 17,
        /// `IMPHASH`: `18`.
        Imphash = 18,
        /// `NPF`: `19`.
        Npf = 19,
        /// `HASSH`: `20`.
        Hassh = 20,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `FingerprintAlgorithmStr`: serialized as its text.
    FingerprintAlgorithmStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `MD5`: `MD5`.
        Md5 = "MD5",
        /// `SHA1`: `SHA-1`.
        Sha1 = "SHA-1",
        /// `SHA256`: `SHA-256`.
        Sha256 = "SHA-256",
        /// `SHA512`: `SHA-512`.
        Sha512 = "SHA-512",
        /// `CTPH`: `CTPH`.
        Ctph = "CTPH",
        /// `TLSH`: `TLSH`.
        Tlsh = "TLSH",
        /// `QUICKXORHASH`: `quickXorHash`.
        Quickxorhash = "quickXorHash",
        /// `SHA224`: `SHA-224`.
        Sha224 = "SHA-224",
        /// `SHA384`: `SHA-384`.
        Sha384 = "SHA-384",
        /// `SHA512_224`: `SHA-512/224`.
        Sha512224 = "SHA-512/224",
        /// `SHA512_256`: `SHA-512/256`.
        Sha512256 = "SHA-512/256",
        /// `SHA3_224`: `SHA3-224`.
        Sha3224 = "SHA3-224",
        /// `SHA3_256`: `SHA3-256`.
        Sha3256 = "SHA3-256",
        /// `SHA3_384`: `SHA3-384`.
        Sha3384 = "SHA3-384",
        /// `SHA3_512`: `SHA3-512`.
        Sha3512 = "SHA3-512",
        /// `XXHASH64`: `xxHash H3 64-bit`.
        Xxhash64 = "xxHash H3 64-bit",
        /// `XXHASH128`: `xxHash H3 128-bit`.
        Xxhash128 = "xxHash H3 128-bit",
        /// `IMPHASH`: `Imphash`.
        Imphash = "Imphash",
        /// `NPF`: `NPF`.
        Npf = "NPF",
        /// `HASSH`: `HASSH`.
        Hassh = "HASSH",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

/// Python's `Fingerprint`. Serialized as pydantic's validator leaves it:
/// an `algorithm` without `algorithm_id` gets the matching id, and back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Fingerprint {
    /// `algorithm` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<FingerprintAlgorithmStr>,
    /// `algorithm_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm_id: Option<FingerprintAlgorithmId>,
    /// `value`.
    pub value: String,
}

/// Python's `DigitalCertificate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigitalCertificate {
    /// `created_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<f64>,
    /// `expiration_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<f64>,
    /// `fingerprints` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Option<Vec<Fingerprint>>,
    /// `is_self_signed` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_self_signed: Option<bool>,
    /// `issuer`.
    pub issuer: String,
    /// `subject` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `serial_number`.
    pub serial_number: String,
    /// `sans` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sans: Option<Vec<String>>,
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `version` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Python's `DigitalSignature`: a digital signature used to verify the
/// authenticity and integrity of a software. Serialized as pydantic's
/// validator leaves it: `algorithm`/`algorithm_id` and `state`/`state_id`
/// each filled from the other.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DigitalSignature {
    /// `algorithm` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<SignatureAlgorithmStr>,
    /// `algorithm_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm_id: Option<SignatureAlgorithmId>,
    /// `certificate` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<DigitalCertificate>,
    /// `state` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SignatureStateStr>,
    /// `state_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_id: Option<SignatureStateId>,
    /// `created_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<f64>,
    /// `digest` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Fingerprint>,
}

/// Python's `SoftwareEnrichmentObject`: Represents software-related information collected from a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftwareEnrichmentObject {
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `version` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `purl` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// `vendor_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    /// `path` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `install_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_time: Option<f64>,
    /// `last_used_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_time: Option<f64>,
    /// `os` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OperatingSystem>,
    /// `hashes` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Vec<Fingerprint>>,
    /// `signature` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<DigitalSignature>,
    /// `binary_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_name: Option<String>,
    /// `architecture` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// `last_user_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_user_name: Option<String>,
    /// `last_used_file_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_file_name: Option<String>,
}

/// Python's `SoftwarePackage`: Represents a distributable software unit (e.g., application, OS package).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftwarePackage {
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `cpe_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpe_name: Option<String>,
    /// `purl` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// `license` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `license_url` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_url: Option<String>,
    /// `release` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// `type` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<PackageTypeStr>,
    /// `type_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<PackageTypeId>,
}

/// Python's `SoftwareComponent`: Represents an individual component within a software package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftwareComponent {
    /// `version`.
    pub version: String,
    /// `name`.
    pub name: String,
    /// `author` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `type` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<ComponentTypeStr>,
    /// `type_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<ComponentTypeId>,
}

/// Python's `SoftwareBillOfMaterials`: the composition of a software package.
/// Serialized as pydantic's validator leaves it, truthiness included: a
/// `type` sets `type_id` when that is absent or `0` (`Unknown`), a non-zero
/// `type_id` sets an absent `type`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SoftwareBillOfMaterials {
    /// `package`.
    pub package: SoftwarePackage,
    /// `software_components` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_components: Option<Vec<SoftwareComponent>>,
    /// `type` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<SBOMTypeStr>,
    /// `type_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<SBOMTypeId>,
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `version` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Python's `SoftwareOCSFModel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftwareOCSFModel {
    /// `activity_id`.
    pub activity_id: i64,
    /// `activity_name`.
    pub activity_name: String,
    /// `category_name`.
    pub category_name: String,
    /// `category_uid`.
    pub category_uid: i64,
    /// `class_name`.
    pub class_name: String,
    /// `class_uid`.
    pub class_uid: i64,
    /// `type_name`.
    pub type_name: String,
    /// `type_uid`.
    pub type_uid: i64,
    /// `severity` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// `severity_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_id: Option<i64>,
    /// `time`.
    pub time: f64,
    /// `metadata`.
    pub metadata: Metadata,
    /// `device`.
    pub device: Device,
    /// `software` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<SoftwareEnrichmentObject>,
    /// `sbom` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<SoftwareBillOfMaterials>,
}

/// Fills the member of a `…Str`/`…Id` pair that is `None` from the other,
/// as the models' validators do (`is not None` checks).
fn sync_pair<S: Copy, I: Copy>(
    text: Option<S>,
    id: Option<I>,
    text_member: fn(S) -> &'static str,
    id_member: fn(I) -> &'static str,
    text_from: fn(&str) -> Option<S>,
    id_from: fn(&str) -> Option<I>,
) -> (Option<S>, Option<I>) {
    match (text, id) {
        (None, Some(id)) => (text_from(id_member(id)), Some(id)),
        (Some(text), None) => (Some(text), id_from(text_member(text))),
        pair => pair,
    }
}

fn field<S: SerializeStruct, T: Serialize>(
    state: &mut S,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), S::Error> {
    match value {
        Some(value) => state.serialize_field(key, value),
        None => state.skip_field(key),
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (algorithm, algorithm_id) = sync_pair(
            self.algorithm,
            self.algorithm_id,
            FingerprintAlgorithmStr::member,
            FingerprintAlgorithmId::member,
            FingerprintAlgorithmStr::from_member,
            FingerprintAlgorithmId::from_member,
        );
        let mut state = serializer.serialize_struct("Fingerprint", 3)?;
        field(&mut state, "algorithm", &algorithm)?;
        field(&mut state, "algorithm_id", &algorithm_id)?;
        state.serialize_field("value", &self.value)?;
        state.end()
    }
}

impl Serialize for DigitalSignature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (algorithm, algorithm_id) = sync_pair(
            self.algorithm,
            self.algorithm_id,
            SignatureAlgorithmStr::member,
            SignatureAlgorithmId::member,
            SignatureAlgorithmStr::from_member,
            SignatureAlgorithmId::from_member,
        );
        let (state_text, state_id) = sync_pair(
            self.state,
            self.state_id,
            SignatureStateStr::member,
            SignatureStateId::member,
            SignatureStateStr::from_member,
            SignatureStateId::from_member,
        );
        let mut state = serializer.serialize_struct("DigitalSignature", 7)?;
        field(&mut state, "algorithm", &algorithm)?;
        field(&mut state, "algorithm_id", &algorithm_id)?;
        field(&mut state, "certificate", &self.certificate)?;
        field(&mut state, "state", &state_text)?;
        field(&mut state, "state_id", &state_id)?;
        field(&mut state, "created_time", &self.created_time)?;
        field(&mut state, "digest", &self.digest)?;
        state.end()
    }
}

impl Serialize for SoftwareBillOfMaterials {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `if self.type_id and not self.type` / `if self.type and not
        // self.type_id`: an id of 0 is falsy, a text never is.
        let mut sbom_type = self.r#type;
        let mut type_id = self.type_id;
        if let (Some(id), None) = (type_id, sbom_type)
            && id.value() != 0
        {
            sbom_type = SBOMTypeStr::from_member(id.member());
        }
        if let Some(text) = sbom_type
            && type_id.is_none_or(|id| id.value() == 0)
        {
            type_id = SBOMTypeId::from_member(text.member());
        }
        let mut state = serializer.serialize_struct("SoftwareBillOfMaterials", 6)?;
        state.serialize_field("package", &self.package)?;
        field(&mut state, "software_components", &self.software_components)?;
        field(&mut state, "type", &sbom_type)?;
        field(&mut state, "type_id", &type_id)?;
        field(&mut state, "uid", &self.uid)?;
        field(&mut state, "version", &self.version)?;
        state.end()
    }
}
