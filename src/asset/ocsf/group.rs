//! [`Group`]: a user group (Python's `sekoia_automation_models.ocsf.group`).

use serde::{Deserialize, Serialize};

/// Python's `Group`: Group model represents a user group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// `name`.
    pub name: String,
    /// `desc` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// `privileges` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileges: Option<Vec<String>>,
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}
