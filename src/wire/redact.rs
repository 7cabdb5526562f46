//! Keeps secret values out of logs and error messages.
//!
//! The runtime registers the token and every secret configuration value it
//! loads; log records (to the platform and to stderr), error messages sent
//! to the platform, panic messages and the runtime's own stderr lines are
//! scrubbed of them before they leave the process.
//!
//! A secret is scrubbed in every form it takes in text: as is, JSON-escaped
//! (`\"`, `\\`, and `\u00e9` as the platform's bodies escape non-ASCII),
//! Debug-escaped (`{:?}` of a `String`), and URL-encoded (`%22`, `+` for a
//! space in a query).
//!
//! Values shorter than [`MIN_LEN`] bytes (4) are not scrubbed: replacing
//! every `ab` or `123` in the logs would mangle ordinary words and numbers
//! while hiding next to nothing (such a value is guessed in a few thousand
//! tries). The runtime warns once at start, naming (never showing) each
//! declared secret that is that short.

use std::borrow::Cow;
use std::sync::RwLock;

use serde_json::Value;

/// What replaces a secret value in a scrubbed text.
pub const MARKER: &str = crate::config::secret::REDACTED;

/// Shorter values are not scrubbed: they would mangle ordinary words.
pub const MIN_LEN: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value to scrub from now on, process-wide.
pub fn register(secret: &str) {
    if secret.len() < MIN_LEN {
        return;
    }
    let mut secrets = SECRETS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut added = false;
    for form in escaped_forms(secret) {
        if form.len() >= MIN_LEN && !secrets.contains(&form) {
            secrets.push(form);
            added = true;
        }
    }
    if added {
        // Longest first, so a secret that contains another is scrubbed whole.
        secrets.sort_by_key(|known| std::cmp::Reverse(known.len()));
    }
}

/// Registers a declared secret by name; warns once (on stderr and in the
/// item's logs, naming the secret, never its value) when a value in it is
/// too short to be scrubbed.
pub(crate) fn register_declared(name: &str, value: &Value) {
    register_value(value);
    let mut short = false;
    visit_strings(value, &mut |text| {
        short |= !text.is_empty() && text.len() < MIN_LEN;
    });
    if !short {
        return;
    }
    static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if warned.iter().any(|known| known == name) {
        return;
    }
    warned.push(name.to_string());
    drop(warned);
    log::warn!(
        "the secret `{name}` is shorter than {MIN_LEN} bytes: it cannot be scrubbed from logs and error messages (it would mangle ordinary text); use a longer value"
    );
}

fn visit_strings(value: &Value, visit: &mut dyn FnMut(&str)) {
    match value {
        Value::String(text) => visit(text),
        Value::Array(items) => items.iter().for_each(|item| visit_strings(item, visit)),
        Value::Object(map) => map.values().for_each(|item| visit_strings(item, visit)),
        Value::Number(number) => visit(&number.to_string()),
        Value::Null | Value::Bool(_) => {}
    }
}

/// `secret` as is and in the forms it takes in text: JSON-escaped (as
/// serde_json and as the Python SDK's `ensure_ascii` write it),
/// Debug-escaped, URL-encoded (`%20` and `+` for a space, hex digits upper-
/// or lower-case). The vendor client scrubs its own credentials in these
/// forms too.
pub(crate) fn escaped_forms(secret: &str) -> Vec<String> {
    let unquote = |quoted: String| {
        quoted
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .map(str::to_string)
            .unwrap_or(quoted)
    };
    let mut forms = vec![secret.to_string()];
    if let Ok(json) = serde_json::to_string(secret) {
        forms.push(unquote(json));
    }
    if let Ok(python) = crate::wire::python_json::to_string(secret) {
        forms.push(unquote(python));
    }
    forms.push(unquote(format!("{secret:?}")));
    let encoded = percent_encode(secret);
    forms.push(encoded.replace("%20", "+"));
    forms.push(lowercase_hex(&encoded));
    forms.push(encoded);
    forms.dedup();
    forms
}

/// RFC 3986 percent-encoding: every byte but the unreserved ones.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// `%C3%A9` → `%c3%a9`, the rest unchanged.
fn lowercase_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut escape = 0;
    for c in encoded.chars() {
        if c == '%' {
            escape = 2;
            out.push(c);
        } else if escape > 0 {
            escape -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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

    #[test]
    fn escaped_forms_are_scrubbed_too() {
        use crate::wire::redact;
        let secret = "p\"ss wörd";
        redact::register(secret);
        let debug = format!("{secret:?}");
        let json = serde_json::to_string(secret).unwrap();
        let python = crate::wire::python_json::to_string(secret).unwrap();
        for text in [
            debug.as_str(),
            &json,
            &python,
            "?q=p%22ss%20w%C3%B6rd",
            "?q=p%22ss+w%C3%B6rd",
            "?q=p%22ss%20w%c3%b6rd",
        ] {
            assert!(!redact::scrub(text).contains("ss"), "{text}");
        }
    }
}
