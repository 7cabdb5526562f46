//! The secrets fetch (PROTOCOL §1, §4): the platform holds the values of
//! the properties `manifest.json` declares secret; every value fetched is
//! registered to be scrubbed from logs and errors.

use serde_json::{Map, Value};

use crate::wire::http::{HttpError, PlatformClient};
use crate::wire::redact;

/// Secret values by property name.
pub(crate) type Secrets = Map<String, Value>;

/// `GET url_secrets` → `value` (the module's secrets) and `node_value` (the
/// trigger's), each `{}` when absent or null. Every value is registered to
/// be scrubbed from logs.
pub(crate) fn fetch_secrets(
    client: &PlatformClient,
    url: &str,
) -> Result<(Secrets, Secrets), HttpError> {
    let response = client.get(url)?;
    let answer: Value = response
        .json()
        .map_err(|error| HttpError::InvalidResponse {
            method: crate::wire::http::Method::Get,
            url: url.to_string(),
            cause: error,
        })?;
    let (secrets, node_secrets) = crate::wire::bodies::trigger_secrets(&answer);
    for value in secrets.values().chain(node_secrets.values()) {
        redact::register_value(value);
    }
    Ok((secrets, node_secrets))
}
