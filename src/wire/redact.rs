//! Keeps secret values out of logs and error messages.
//!
//! The runtime registers the token and every secret configuration value it
//! loads; log records (to the platform and to stderr) and error messages sent
//! to the platform are scrubbed of them before they leave the process.

use std::borrow::Cow;
use std::sync::RwLock;

use serde_json::Value;

/// What replaces a secret value in a scrubbed text.
pub const MARKER: &str = crate::config::secret::REDACTED;

/// Shorter values are not scrubbed: they would mangle ordinary words.
const MIN_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value to scrub from now on, process-wide.
pub fn register(secret: &str) {
    if secret.len() < MIN_LEN {
        return;
    }
    let mut secrets = SECRETS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !secrets.iter().any(|known| known == secret) {
        secrets.push(secret.to_string());
        // Longest first, so a secret that contains another is scrubbed whole.
        secrets.sort_by_key(|known| std::cmp::Reverse(known.len()));
    }
}

/// Registers every string inside a JSON value (a secret may be an object).
pub fn register_value(value: &Value) {
    match value {
        Value::String(text) => register(text),
        Value::Array(items) => items.iter().for_each(register_value),
        Value::Object(map) => map.values().for_each(register_value),
        Value::Number(number) => register(&number.to_string()),
        Value::Null | Value::Bool(_) => {}
    }
}

/// `text` with every registered secret replaced by [`MARKER`].
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !secrets.iter().any(|secret| text.contains(secret.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut scrubbed = text.to_string();
    for secret in secrets.iter() {
        if scrubbed.contains(secret.as_str()) {
            scrubbed = scrubbed.replace(secret.as_str(), MARKER);
        }
    }
    Cow::Owned(scrubbed)
}

#[cfg(test)]
mod examples {
    #[test]
    fn register_example() {
        use crate::wire::redact;
        redact::register("hunter22");
        assert_eq!(
            redact::scrub("password is hunter22"),
            "password is [REDACTED]"
        );
    }
}
