//! [`Organization`] (Python's `sekoia_automation_models.ocsf.organization`).

use serde::{Deserialize, Serialize};

/// Python's `Organization`: Organization model represents an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// `name`.
    pub name: String,
    /// `ou_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_name: Option<String>,
    /// `ou_uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_uid: Option<String>,
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}
