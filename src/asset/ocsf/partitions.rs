//! [`Partitions`]: the `dict[str, Literal["Disabled", "Enabled"]]` of an
//! [`EncryptionObject`](crate::asset::EncryptionObject), in the order the
//! partitions were given (a Python dict's order).

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::asset::ocsf::device::EnablementStatus;

/// Each partition's encryption state, in insertion order; a partition
/// given twice keeps its first place and its last state, as a Python dict
/// read from JSON does.
///
/// ```
/// use sekoia_automation::asset::{EnablementStatus, Partitions};
///
/// let mut partitions = Partitions::default();
/// partitions.insert("C:", EnablementStatus::Enabled);
/// partitions.insert("D:", EnablementStatus::Disabled);
/// assert_eq!(serde_json::to_string(&partitions)?, r#"{"C:":"Enabled","D:":"Disabled"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partitions(Vec<(String, EnablementStatus)>);

impl Partitions {
    /// Sets a partition's state (in its place when it is already there).
    pub fn insert(&mut self, partition: impl Into<String>, status: EnablementStatus) {
        let partition = partition.into();
        match self.0.iter_mut().find(|(name, _)| *name == partition) {
            Some(entry) => entry.1 = status,
            None => self.0.push((partition, status)),
        }
    }

    /// The partitions and their states, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, EnablementStatus)> {
        self.0.iter().map(|(name, status)| (name.as_str(), *status))
    }
}

impl Serialize for Partitions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, status) in &self.0 {
            map.serialize_entry(name, status)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Partitions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PartitionsVisitor;
        impl<'de> Visitor<'de> for PartitionsVisitor {
            type Value = Partitions;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of partitions, each \"Disabled\" or \"Enabled\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Partitions, A::Error> {
                let mut partitions = Partitions::default();
                while let Some((name, status)) = access.next_entry::<String, EnablementStatus>()? {
                    partitions.insert(name, status);
                }
                Ok(partitions)
            }
        }
        deserializer.deserialize_map(PartitionsVisitor)
    }
}
