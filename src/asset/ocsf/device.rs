//! Devices: [`DeviceOCSFModel`] and the objects it holds (Python's
//! `sekoia_automation_models.ocsf.device`).

use crate::asset::ocsf::base::{Metadata, Severity};
use crate::asset::ocsf::enums::{int_enum, str_enum};
use crate::asset::ocsf::group::Group;
use crate::asset::ocsf::organization::Organization;
use crate::asset::ocsf::partitions::Partitions;
use crate::asset::ocsf::risk_level::{RiskLevelId, RiskLevelStr};
use serde::{Deserialize, Serialize};

int_enum! {
    /// Python's `NetworkInterfaceTypeId`: serialized as its number.
    NetworkInterfaceTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `WIRED`: `1`.
        Wired = 1,
        /// `WIRELESS`: `2`.
        Wireless = 2,
        /// `MOBILE`: `3`.
        Mobile = 3,
        /// `TUNNEL`: `4`.
        Tunnel = 4,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `NetworkInterfaceTypeStr`: serialized as its text.
    NetworkInterfaceTypeStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `WIRED`: `Wired`.
        Wired = "Wired",
        /// `WIRELESS`: `Wireless`.
        Wireless = "Wireless",
        /// `MOBILE`: `Mobile`.
        Mobile = "Mobile",
        /// `TUNNEL`: `Tunnel`.
        Tunnel = "Tunnel",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

/// Python's `NetworkInterface`: NetworkInterface model represents a network interface of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkInterface {
    /// `hostname` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `ip` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// `mac` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// `name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `type` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<NetworkInterfaceTypeStr>,
    /// `type_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<NetworkInterfaceTypeId>,
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// Python's `GeoLocation`: GeoLocation model represents the geographical location of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoLocation {
    /// `city` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// `country` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

int_enum! {
    /// Python's `OSTypeId`: serialized as its number.
    OSTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `OTHER`: `99`.
        Other = 99,
        /// `WINDOWS`: `100`.
        Windows = 100,
        /// `WINDOWS_MOBILE`: `101`.
        WindowsMobile = 101,
        /// `LINUX`: `200`.
        Linux = 200,
        /// `ANDROID`: `201`.
        Android = 201,
        /// `MACOS`: `300`.
        Macos = 300,
        /// `IOS`: `301`.
        Ios = 301,
        /// `IPADOS`: `302`.
        Ipados = 302,
        /// `SOLARIS`: `400`.
        Solaris = 400,
        /// `AIX`: `401`.
        Aix = 401,
        /// `HPUX`: `402`.
        Hpux = 402,
    }
}

str_enum! {
    /// Python's `OSTypeStr`: serialized as its text.
    OSTypeStr {
        /// `UNKNOWN`: `unknown`.
        Unknown = "unknown",
        /// `OTHER`: `other`.
        Other = "other",
        /// `WINDOWS`: `windows`.
        Windows = "windows",
        /// `WINDOWS_MOBILE`: `windows mobile`.
        WindowsMobile = "windows mobile",
        /// `LINUX`: `linux`.
        Linux = "linux",
        /// `ANDROID`: `android`.
        Android = "android",
        /// `MACOS`: `macos`.
        Macos = "macos",
        /// `IOS`: `ios`.
        Ios = "ios",
        /// `IPADOS`: `ipados`.
        Ipados = "ipados",
        /// `SOLARIS`: `solaris`.
        Solaris = "solaris",
        /// `AIX`: `aix`.
        Aix = "aix",
        /// `HPUX`: `hp-ux`.
        Hpux = "hp-ux",
    }
}

/// Python's `OperatingSystem`: OperatingSystem model represents the operating system of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatingSystem {
    /// `name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `type` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<OSTypeStr>,
    /// `type_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<OSTypeId>,
}

int_enum! {
    /// Python's `DeviceTypeId`: serialized as its number.
    DeviceTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `SERVER`: `1`.
        Server = 1,
        /// `DESKTOP`: `2`.
        Desktop = 2,
        /// `MOBILE`: `5`.
        Mobile = 5,
        /// `VIRTUAL`: `6`.
        Virtual = 6,
        /// `FIREWALL`: `9`.
        Firewall = 9,
        /// `SWITCH`: `10`.
        Switch = 10,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `DeviceTypeStr`: serialized as its text.
    DeviceTypeStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `SERVER`: `Server`.
        Server = "Server",
        /// `DESKTOP`: `Desktop`.
        Desktop = "Desktop",
        /// `MOBILE`: `Mobile`.
        Mobile = "Mobile",
        /// `VIRTUAL`: `Virtual`.
        Virtual = "Virtual",
        /// `FIREWALL`: `Firewall`.
        Firewall = "Firewall",
        /// `SWITCH`: `Switch`.
        Switch = "Switch",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

/// Python's `Device`: Device model represents a device object in the OCSF format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// `type_id`.
    pub type_id: DeviceTypeId,
    /// `type`.
    pub r#type: DeviceTypeStr,
    /// `uid`.
    pub uid: String,
    /// `location` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoLocation>,
    /// `os` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OperatingSystem>,
    /// `hostname`.
    pub hostname: String,
    /// `autoscale_uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale_uid: Option<String>,
    /// `boot_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_time: Option<f64>,
    /// `boot_uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_uid: Option<String>,
    /// `created_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<f64>,
    /// `desc` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// `domain` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `eid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<String>,
    /// `first_seen_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen_time: Option<f64>,
    /// `groups` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
    /// `hypervisor` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<String>,
    /// `iccid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    /// `imei_list` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei_list: Option<Vec<String>>,
    /// `ip` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// `is_backed_up` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_backed_up: Option<bool>,
    /// `is_compliant` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_compliant: Option<bool>,
    /// `is_managed` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_managed: Option<bool>,
    /// `is_mobile_account_active` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_mobile_account_active: Option<bool>,
    /// `is_personal` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_personal: Option<bool>,
    /// `is_shared` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_shared: Option<bool>,
    /// `is_supervised` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_supervised: Option<bool>,
    /// `is_trusted` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_trusted: Option<bool>,
    /// `last_seen_time` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_time: Option<f64>,
    /// `meid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meid: Option<String>,
    /// `model` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `network_interfaces` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interfaces: Option<Vec<NetworkInterface>>,
    /// `org` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Organization>,
    /// `os_machine_uuid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_machine_uuid: Option<String>,
    /// `region` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `risk_level` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<RiskLevelStr>,
    /// `risk_level_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level_id: Option<RiskLevelId>,
    /// `risk_score` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<i64>,
    /// `subnet` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// `udid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udid: Option<String>,
    /// `uid_alt` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_alt: Option<String>,
    /// `vendor_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
}

/// Python's `EncryptionObject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncryptionObject {
    /// `partitions`.
    pub partitions: Partitions,
}

/// Python's `DeviceDataObject`: DataObject represents some data related to a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceDataObject {
    /// `Firewall_status` (left out when `None`).
    #[serde(rename = "Firewall_status")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall_status: Option<EnablementStatus>,
    /// `Storage_encryption` (left out when `None`).
    #[serde(rename = "Storage_encryption")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_encryption: Option<EncryptionObject>,
    /// `Users` (left out when `None`).
    #[serde(rename = "Users")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// `Full_qualified_domain_name` (left out when `None`).
    #[serde(rename = "Full_qualified_domain_name")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_qualified_domain_name: Option<String>,
}

/// Python's `DeviceEnrichmentObject`: Enrichment Object represents additional information about a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceEnrichmentObject {
    /// `name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `value` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `data` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DeviceDataObject>,
}

/// Python's `DeviceOCSFModel`: DeviceOCSFModel represents a device in the OCSF format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceOCSFModel {
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
    /// `enrichments` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichments: Option<Vec<DeviceEnrichmentObject>>,
}

str_enum! {
    /// `Firewall_status` and the partitions' states (Python's
    /// `Literal["Disabled", "Enabled"]`).
    EnablementStatus {
        /// `Disabled`.
        Disabled = "Disabled",
        /// `Enabled`.
        Enabled = "Enabled",
    }
}
