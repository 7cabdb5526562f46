//! [`AssetList`]: the body of a push, and [`AssetItem`]: one asset of it
//! (Python's `sekoia_automation_models.connector`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::asset::ocsf::device::DeviceOCSFModel;
use crate::asset::ocsf::software::SoftwareOCSFModel;
use crate::asset::ocsf::user::UserOCSFModel;
use crate::asset::ocsf::vulnerability::VulnerabilityOCSFModel;

/// One asset: Python's `AssetItem`, the union
/// `VulnerabilityOCSFModel | DeviceOCSFModel | UserOCSFModel | SoftwareOCSFModel`.
///
/// Serialized as the model it holds. Read as pydantic's smart union reads
/// it: of the models the object is valid as, the one with the most of its
/// fields present (a `null` counts), the first in that order on a tie. A
/// device object with a `software` key is a software asset; one with
/// `device` and `user` is a device (the `user` key is ignored, as pydantic
/// ignores unknown keys).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AssetItem {
    /// A vulnerability finding.
    Vulnerability(Box<VulnerabilityOCSFModel>),
    /// A device.
    Device(Box<DeviceOCSFModel>),
    /// A user.
    User(Box<UserOCSFModel>),
    /// Software installed on a device.
    Software(Box<SoftwareOCSFModel>),
}

/// The top-level fields of each model, for the smart union's count.
const VULNERABILITY_FIELDS: &[&str] = &[
    "device",
    "finding_info",
    "vulnerabilities",
    "confidence",
    "confidence_id",
    "confidence_score",
    "risk_score",
    "risk_level",
    "risk_level_id",
    "risk_details",
];
const DEVICE_FIELDS: &[&str] = &["device", "enrichments"];
const USER_FIELDS: &[&str] = &["user", "enrichments"];
const SOFTWARE_FIELDS: &[&str] = &["device", "software", "sbom"];
const BASE_FIELDS: &[&str] = &[
    "activity_id",
    "activity_name",
    "category_name",
    "category_uid",
    "class_name",
    "class_uid",
    "type_name",
    "type_uid",
    "severity",
    "severity_id",
    "time",
    "metadata",
];

fn fields_set(object: &Map<String, Value>, own: &[&str]) -> usize {
    object
        .keys()
        .filter(|key| BASE_FIELDS.contains(&key.as_str()) || own.contains(&key.as_str()))
        .count()
}

impl<'de> Deserialize<'de> for AssetItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Value::Object(object) = &value else {
            return Err(serde::de::Error::custom(
                "an asset is an object (a vulnerability, device, user or software model)",
            ));
        };
        let mut best: Option<(usize, AssetItem)> = None;
        let mut errors = Vec::new();
        let mut consider = |count: usize, item: AssetItem| {
            if best.as_ref().is_none_or(|(most, _)| count > *most) {
                best = Some((count, item));
            }
        };
        match VulnerabilityOCSFModel::deserialize(&value) {
            Ok(model) => consider(
                fields_set(object, VULNERABILITY_FIELDS),
                AssetItem::Vulnerability(Box::new(model)),
            ),
            Err(error) => errors.push(format!("as a vulnerability: {error}")),
        }
        match DeviceOCSFModel::deserialize(&value) {
            Ok(model) => consider(
                fields_set(object, DEVICE_FIELDS),
                AssetItem::Device(Box::new(model)),
            ),
            Err(error) => errors.push(format!("as a device: {error}")),
        }
        match UserOCSFModel::deserialize(&value) {
            Ok(model) => consider(
                fields_set(object, USER_FIELDS),
                AssetItem::User(Box::new(model)),
            ),
            Err(error) => errors.push(format!("as a user: {error}")),
        }
        match SoftwareOCSFModel::deserialize(&value) {
            Ok(model) => consider(
                fields_set(object, SOFTWARE_FIELDS),
                AssetItem::Software(Box::new(model)),
            ),
            Err(error) => errors.push(format!("as a software: {error}")),
        }
        match best {
            Some((_, item)) => Ok(item),
            None => Err(serde::de::Error::custom(format!(
                "the asset is none of the models: {}",
                errors.join("; ")
            ))),
        }
    }
}

impl From<DeviceOCSFModel> for AssetItem {
    fn from(model: DeviceOCSFModel) -> Self {
        AssetItem::Device(Box::new(model))
    }
}

impl From<UserOCSFModel> for AssetItem {
    fn from(model: UserOCSFModel) -> Self {
        AssetItem::User(Box::new(model))
    }
}

impl From<SoftwareOCSFModel> for AssetItem {
    fn from(model: SoftwareOCSFModel) -> Self {
        AssetItem::Software(Box::new(model))
    }
}

impl From<VulnerabilityOCSFModel> for AssetItem {
    fn from(model: VulnerabilityOCSFModel) -> Self {
        AssetItem::Vulnerability(Box::new(model))
    }
}

/// Python's `AssetList`: the OCSF schema version (Sekoia's, `1`) and the
/// assets; the body of one push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetList {
    /// `version`.
    pub version: i64,
    /// `items` (an empty list when absent).
    #[serde(default)]
    pub items: Vec<AssetItem>,
}

impl AssetList {
    /// The body of the push, byte for byte as the Python SDK sends it:
    /// `json.dumps(assets.model_dump(exclude_none=True))` (`", "` and
    /// `": "` separators, non-ASCII escaped, floats as Python prints them).
    ///
    /// ```
    /// use sekoia_automation::asset::AssetList;
    ///
    /// let list = AssetList { version: 1, items: Vec::new() };
    /// assert_eq!(list.to_python_json()?, br#"{"version": 1, "items": []}"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Never for the models' own fields (a serializer error is passed on).
    pub fn to_python_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        crate::wire::python_json::to_vec(self)
    }
}
