//! Users: [`UserOCSFModel`] and the objects it holds (Python's
//! `sekoia_automation_models.ocsf.user`).

use crate::asset::ocsf::base::{Metadata, Severity};
use crate::asset::ocsf::enums::{int_enum, str_enum};
use crate::asset::ocsf::group::Group;
use crate::asset::ocsf::organization::Organization;
use crate::asset::ocsf::risk_level::{RiskLevelId, RiskLevelStr};
use serde::{Deserialize, Serialize};

/// Python's `UserDataObject`: DataObject represents some data related to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDataObject {
    /// `is_enabled` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// `last_logon` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_logon: Option<String>,
    /// `bad_password_count` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_password_count: Option<i64>,
    /// `number_of_logons` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_logons: Option<i64>,
    /// `last_time_password_change` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time_password_change: Option<f64>,
    /// `external_device` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_device: Option<String>,
}

/// Python's `UserEnrichmentObject`: Enrichment Object represents additional information about a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserEnrichmentObject {
    /// `name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `value` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `data` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<UserDataObject>,
}

int_enum! {
    /// Python's `AccountTypeId`: serialized as its number.
    AccountTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `LDAP_ACCOUNT`: `1`.
        LdapAccount = 1,
        /// `WINDOWS_ACCOUNT`: `2`.
        WindowsAccount = 2,
        /// `GCP_ACCOUNT`: `5`.
        GcpAccount = 5,
        /// `AZURE_AD_ACCOUNT`: `6`.
        AzureAdAccount = 6,
        /// `MAC_OS_ACCOUNT`: `7`.
        MacOsAccount = 7,
        /// `APPLE_ACCOUNT`: `8`.
        AppleAccount = 8,
        /// `LINUX_ACCOUNT`: `9`.
        LinuxAccount = 9,
        /// `AWS_ACCOUNT`: `10`.
        AwsAccount = 10,
        /// `GCP_PROJECT`: `11`.
        GcpProject = 11,
        /// `OCI_COMPARTMENT`: `12`.
        OciCompartment = 12,
        /// `AZURE_SUBSCRIPTION`: `13`.
        AzureSubscription = 13,
        /// `SALESFORCE_ACCOUNT`: `14`.
        SalesforceAccount = 14,
        /// `GOOGLE_WORKSPACE`: `15`.
        GoogleWorkspace = 15,
        /// `SERVICENOW_INSTANCE`: `16`.
        ServicenowInstance = 16,
        /// `M365_TENANT`: `17`.
        M365Tenant = 17,
        /// `EMAIL_ACCOUNT`: `18`.
        EmailAccount = 18,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `AccountTypeStr`: serialized as its text.
    AccountTypeStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `LDAP_ACCOUNT`: `LDAP Account`.
        LdapAccount = "LDAP Account",
        /// `WINDOWS_ACCOUNT`: `Windows Account`.
        WindowsAccount = "Windows Account",
        /// `GCP_ACCOUNT`: `GCP Account`.
        GcpAccount = "GCP Account",
        /// `AZURE_AD_ACCOUNT`: `Azure AD Account`.
        AzureAdAccount = "Azure AD Account",
        /// `MAC_OS_ACCOUNT`: `Mac OS Account`.
        MacOsAccount = "Mac OS Account",
        /// `APPLE_ACCOUNT`: `Apple Account`.
        AppleAccount = "Apple Account",
        /// `LINUX_ACCOUNT`: `Linux Account`.
        LinuxAccount = "Linux Account",
        /// `AWS_ACCOUNT`: `AWS Account`.
        AwsAccount = "AWS Account",
        /// `GCP_PROJECT`: `GCP Project`.
        GcpProject = "GCP Project",
        /// `OCI_COMPARTMENT`: `OCI Compartment`.
        OciCompartment = "OCI Compartment",
        /// `AZURE_SUBSCRIPTION`: `Azure Subscription`.
        AzureSubscription = "Azure Subscription",
        /// `SALESFORCE_ACCOUNT`: `Salesforce Account`.
        SalesforceAccount = "Salesforce Account",
        /// `GOOGLE_WORKSPACE`: `Google Workspace`.
        GoogleWorkspace = "Google Workspace",
        /// `SERVICENOW_INSTANCE`: `ServiceNow Instance`.
        ServicenowInstance = "ServiceNow Instance",
        /// `M365_TENANT`: `M365 Tenant`.
        M365Tenant = "M365 Tenant",
        /// `EMAIL_ACCOUNT`: `Email Account`.
        EmailAccount = "Email Account",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}

int_enum! {
    /// Python's `UserTypeId`: serialized as its number.
    UserTypeId {
        /// `UNKNOWN`: `0`.
        Unknown = 0,
        /// `USER`: `1`.
        User = 1,
        /// `ADMIN`: `2`.
        Admin = 2,
        /// `SYSTEM`: `3`.
        System = 3,
        /// `SERVICE`: `4`.
        Service = 4,
    }
}

str_enum! {
    /// Python's `UserTypeStr`: serialized as its text.
    UserTypeStr {
        /// `UNKNOWN`: `Unknown`.
        Unknown = "Unknown",
        /// `USER`: `User`.
        User = "User",
        /// `ADMIN`: `Admin`.
        Admin = "Admin",
        /// `SYSTEM`: `System`.
        System = "System",
        /// `SERVICE`: `Service`.
        Service = "Service",
    }
}

/// Python's `Account`: Account model represents a user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// `name`.
    pub name: String,
    /// `type_id`.
    pub type_id: AccountTypeId,
    /// `type`.
    pub r#type: AccountTypeStr,
    /// `uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// Python's `LdapPerson`: LdapPerson model represents the LDAP/directory attributes of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdapPerson {
    /// `job_title` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// `department` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// `employee_uid` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_uid: Option<String>,
    /// `given_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// `surname` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    /// `office_location` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_location: Option<String>,
}

/// Python's `User`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// `has_mfa` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_mfa: Option<bool>,
    /// `name`.
    pub name: String,
    /// `uid`.
    pub uid: String,
    /// `account` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// `groups` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
    /// `full_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `email_addr` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_addr: Option<String>,
    /// `display_name` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `domain` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `forward_addr` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_addr: Option<String>,
    /// `risk_level` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<RiskLevelStr>,
    /// `risk_level_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level_id: Option<RiskLevelId>,
    /// `risk_score` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<i64>,
    /// `type_id` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<UserTypeId>,
    /// `type` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<UserTypeStr>,
    /// `uid_alt` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_alt: Option<String>,
    /// `org` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Organization>,
    /// `ldap_person` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_person: Option<LdapPerson>,
}

/// Python's `UserOCSFModel`: UserOCSFModel represents a user in the OCSF format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserOCSFModel {
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
    /// `user`.
    pub user: User,
    /// `enrichments` (left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichments: Option<Vec<UserEnrichmentObject>>,
}
