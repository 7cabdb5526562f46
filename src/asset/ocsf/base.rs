//! The fields every OCSF asset starts with: [`Product`], [`Metadata`],
//! and [`Severity`] (Python's `sekoia_automation_models.ocsf.base`).

use serde::{Deserialize, Serialize};

use crate::asset::ocsf::enums::str_enum;

/// Python's `Product`: Product model for OCSF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// `name`.
    pub name: String,
    /// `vendor_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    /// `version` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Python's `Metadata`: Metadata model for OCSF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// `product`.
    pub product: Product,
    /// `version`.
    pub version: String,
}

/// Python's `OCSFBaseModel`: Base model for OCSF activities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OCSFBaseModel {
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
}

str_enum! {
    /// The `severity` of every asset (Python's `Literal[...]`).
    Severity {
        /// `Unknown`.
        Unknown = "Unknown",
        /// `Informational`.
        Informational = "Informational",
        /// `Low`.
        Low = "Low",
        /// `Medium`.
        Medium = "Medium",
        /// `High`.
        High = "High",
        /// `Critical`.
        Critical = "Critical",
        /// `Fatal`.
        Fatal = "Fatal",
        /// `Other`.
        Other = "Other",
    }
}
