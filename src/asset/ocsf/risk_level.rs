//! Risk levels of devices, users and vulnerabilities (Python's
//! `sekoia_automation_models.ocsf.risk_level`).

use crate::asset::ocsf::enums::{int_enum, str_enum};

int_enum! {
    /// Python's `RiskLevelId`: serialized as its number.
    RiskLevelId {
        /// `INFO`: `0`.
        Info = 0,
        /// `LOW`: `1`.
        Low = 1,
        /// `MEDIUM`: `2`.
        Medium = 2,
        /// `HIGH`: `3`.
        High = 3,
        /// `CRITICAL`: `4`.
        Critical = 4,
        /// `OTHER`: `99`.
        Other = 99,
    }
}

str_enum! {
    /// Python's `RiskLevelStr`: serialized as its text.
    RiskLevelStr {
        /// `INFO`: `Info`.
        Info = "Info",
        /// `LOW`: `Low`.
        Low = "Low",
        /// `MEDIUM`: `Medium`.
        Medium = "Medium",
        /// `HIGH`: `High`.
        High = "High",
        /// `CRITICAL`: `Critical`.
        Critical = "Critical",
        /// `OTHER`: `Other`.
        Other = "Other",
    }
}
