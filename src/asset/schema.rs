//! The field-mapping fingerprint (Python's `_compute_schema_fingerprint`
//! and `_check_schema_and_reset_if_needed`): a SHA-256 over
//! `json.dumps(sorted(fields.items()))`, stored with the fields in
//! `asset_schema_fields.json`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The file in the data directory.
pub const ASSET_SCHEMA_FIELDS_FILE: &str = "asset_schema_fields.json";

/// The fingerprint of a field mapping, as the Python SDK computes it: the
/// lowercase hex SHA-256 of `json.dumps(sorted(fields.items()))` (pairs
/// sorted by source field, then OCSF path; `ensure_ascii`; `", "`
/// separators). A source field given twice keeps its last path, as a dict.
///
/// ```
/// use sekoia_automation::asset::schema_fingerprint;
///
/// // hashlib.sha256(json.dumps(sorted({"b": "y", "a": "x"}.items())).encode()).hexdigest()
/// assert_eq!(
///     schema_fingerprint(&[("b".into(), "y".into()), ("a".into(), "x".into())]),
///     "3c0b5eee5bd3bce6898141bcdfca2af00375730190bae65983c446a678a60014"
/// );
/// ```
pub fn schema_fingerprint(fields: &[(String, String)]) -> String {
    let dict = as_dict(fields);
    let mut pairs: Vec<(&str, &str)> = dict.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort_unstable();
    let bytes = crate::wire::python_json::to_vec(&pairs).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The pairs as a Python dict: in first-insertion order, last value wins.
fn as_dict(fields: &[(String, String)]) -> Vec<(String, String)> {
    let mut dict: Vec<(String, String)> = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        match dict.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.clone(),
            None => dict.push((key.clone(), value.clone())),
        }
    }
    dict
}

/// A change of the field mapping: what the log says (Python's `diff`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaChange {
    /// Fields now mapped that were not.
    pub added: Vec<(String, String)>,
    /// Fields no longer mapped.
    pub removed: Vec<(String, String)>,
    /// Fields mapped to another path: (field, from, to).
    pub changed: Vec<(String, String, String)>,
}

impl SchemaChange {
    /// The log line, as Python prints its dict.
    pub(crate) fn message(&self) -> String {
        fn repr(text: &str) -> String {
            crate::wire::python_json::repr(&Value::String(text.to_owned()))
        }
        let pairs = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", repr(k), repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let changed = self
            .changed
            .iter()
            .map(|(k, from, to)| {
                format!(
                    "{}: {{'from': {}, 'to': {}}}",
                    repr(k),
                    repr(from),
                    repr(to)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "Field mapping change detected \u{2014} {{'added': {{{}}}, 'removed': {{{}}}, 'changed': {{{}}}}}. Resetting checkpoint to re-fetch all assets.",
            pairs(&self.added),
            pairs(&self.removed),
            changed
        )
    }
}

/// What the check decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SchemaCheck {
    /// No mapping declared, or the stored fingerprint is the same.
    Unchanged,
    /// First run: the mapping is stored, no reset.
    Stored,
    /// Changed: reset the checkpoint, then store.
    Changed(SchemaChange),
}

/// Compares the mapping against what `stored` (the file's content) holds.
pub(crate) fn check(current: &[(String, String)], stored: &Map<String, Value>) -> SchemaCheck {
    if current.is_empty() {
        return SchemaCheck::Unchanged;
    }
    let fingerprint = schema_fingerprint(current);
    let stored_fingerprint = stored.get("fingerprint");
    if stored_fingerprint.and_then(Value::as_str) == Some(fingerprint.as_str()) {
        return SchemaCheck::Unchanged;
    }
    if stored_fingerprint.is_none_or(Value::is_null) {
        return SchemaCheck::Stored;
    }
    let current = as_dict(current);
    let stored_fields: Vec<(String, String)> = match stored.get("fields") {
        Some(Value::Object(fields)) => fields
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let stored_map: BTreeMap<&str, &str> = stored_fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let current_map: BTreeMap<&str, &str> = current
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    SchemaCheck::Changed(SchemaChange {
        added: current
            .iter()
            .filter(|(k, _)| !stored_map.contains_key(k.as_str()))
            .cloned()
            .collect(),
        removed: stored_fields
            .iter()
            .filter(|(k, _)| !current_map.contains_key(k.as_str()))
            .cloned()
            .collect(),
        changed: current
            .iter()
            .filter_map(|(k, v)| {
                stored_map
                    .get(k.as_str())
                    .filter(|from| **from != v.as_str())
                    .map(|from| (k.clone(), (*from).to_owned(), v.clone()))
            })
            .collect(),
    })
}

/// The file's new content: `fingerprint` and `fields` set, other keys kept.
pub(crate) fn store(current: &[(String, String)], map: &mut Map<String, Value>) {
    map.insert(
        "fingerprint".into(),
        Value::String(schema_fingerprint(current)),
    );
    let fields: Map<String, Value> = as_dict(current)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    map.insert("fields".into(), Value::Object(fields));
}
