//! The secrets fetch ([protocol](crate::protocol) §1, §4): the platform holds the values of
//! the properties `manifest.json` declares secret; every value fetched is
//! registered to be scrubbed from logs and errors.
//!
//! The fetch is retried on any failure, a 4xx answer included, as the
//! Python SDK's `_get_secrets_from_server` (tenacity's
//! `stop_after_attempt(10)`, `wait_exponential(max=10)`): 10 attempts,
//! waiting 1, 2, 4, 8, then 10 backoff units (seconds) after the failed
//! ones. A platform that answers 404 while the trigger's secrets are being
//! created then starts the trigger instead of ending it.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::wire::http::{HttpError, PlatformClient};
use crate::wire::redact;

/// Secret values by property name.
pub(crate) type Secrets = Map<String, Value>;

/// Attempts of the secrets GET, as the Python SDK's `stop_after_attempt(10)`.
pub(crate) const SECRETS_ATTEMPTS: u32 = 10;

/// The wait after the failed attempt `attempt` (1-based), in backoff units:
/// tenacity's `wait_exponential(max=10)`, `2^(attempt − 1)` capped at 10.
fn wait_after(attempt: u32, unit: Duration) -> Duration {
    unit.saturating_mul((1u32 << (attempt - 1).min(4)).min(10))
}

/// `GET url_secrets` → `value` (the module's secrets) and `node_value` (the
/// trigger's), each `{}` when absent or null. Every value is registered to
/// be scrubbed from logs. Any failure (no answer, any non-2xx status, an
/// answer that is not JSON) is retried up to [`SECRETS_ATTEMPTS`] attempts
/// in all, each wait made with `sleep`, which returns `false` to abandon
/// the fetch (a stopping trigger).
pub(crate) fn fetch_secrets(
    client: &PlatformClient,
    url: &str,
    sleep: impl Fn(Duration) -> bool,
) -> Result<(Secrets, Secrets), HttpError> {
    // One try per attempt: the waits are the ones of this fetch.
    let once = client.clone().with_max_attempts(1);
    let mut attempt = 1;
    loop {
        let error = match fetch_once(&once, url) {
            Ok(secrets) => return Ok(secrets),
            Err(error) => error,
        };
        if attempt >= SECRETS_ATTEMPTS {
            return Err(with_attempts(error, attempt));
        }
        let wait = wait_after(attempt, client.backoff_unit());
        log::warn!("{error}; retrying the secrets GET in {wait:?}");
        if !sleep(wait) {
            return Err(HttpError::Interrupted {
                method: crate::wire::http::Method::Get,
                url: url.to_string(),
                attempts: attempt,
            });
        }
        attempt += 1;
    }
}

fn fetch_once(client: &PlatformClient, url: &str) -> Result<(Secrets, Secrets), HttpError> {
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

/// The error of the last attempt, saying how many were made.
fn with_attempts(error: HttpError, made: u32) -> HttpError {
    match error {
        HttpError::Status {
            method,
            url,
            status,
            message,
            ..
        } => HttpError::Status {
            method,
            url,
            status,
            attempts: made,
            message,
        },
        HttpError::Transport {
            method, url, cause, ..
        } => HttpError::Transport {
            method,
            url,
            attempts: made,
            cause,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waits_are_tenacity_s_wait_exponential_capped_at_ten() {
        let waits: Vec<u64> = (1..SECRETS_ATTEMPTS)
            .map(|attempt| wait_after(attempt, Duration::from_secs(1)).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10, 10, 10, 10]);
    }
}
