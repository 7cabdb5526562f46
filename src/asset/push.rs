//! The push of a batch of assets and the wait for its task, as the Python
//! SDK 1.27's `AssetConnector.post_assets_to_api`,
//! `push_assets_to_sekoia` and `wait_for_push_task` do them: same URLs,
//! same headers, same log lines. The requests go through the crate's
//! [`PlatformClient`] and its one retry loop.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::asset::ocsf::list::AssetList;
use crate::config::secret::Secret;
use crate::wire::http::{HttpError, Method, PlatformClient, Request, Response};
use crate::wire::logging::Level;

/// The wait after a 429 without a usable `Retry-After`, and the longest
/// one (seconds).
pub const RATE_LIMIT_DEFAULT_WAIT: i64 = 3600;
/// Seconds between two reads of a task, at most (after 1 s, 2 s, 4 s).
pub const TASK_POLL_INTERVAL_DEFAULT: f64 = 5.0;
/// Seconds a task is waited for, at most.
pub const TASK_POLL_TIMEOUT_DEFAULT: f64 = 300.0;
/// The statuses of a task the platform has not finished.
pub const TASK_PENDING_STATUSES: &[&str] = &["PENDING", "RUNNING"];

/// A number of seconds as Python prints it in the logs: an `int` (the
/// defaults) prints `3600`, a `float` prints `2.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Seconds {
    pub(crate) value: f64,
    pub(crate) integer: bool,
}

impl Seconds {
    fn int(value: i64) -> Self {
        Seconds {
            value: value as f64,
            integer: true,
        }
    }

    fn float(value: f64) -> Self {
        Seconds {
            value,
            integer: false,
        }
    }

    pub(crate) fn duration(self) -> Duration {
        Duration::try_from_secs_f64(self.value.max(0.0)).unwrap_or(Duration::MAX)
    }
}

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.integer {
            write!(f, "{}", self.value as i64)
        } else {
            f.write_str(&crate::wire::python_json::python_float(self.value))
        }
    }
}

/// The wait a 429's `Retry-After` asks for, as the Python SDK's
/// `parse_retry_after` reads it: a number of seconds (`float()`), else an
/// HTTP date; `default` when absent, unreadable, not finite; within
/// `[0, 3600]`.
///
/// ```
/// use sekoia_automation::asset::parse_retry_after;
/// use std::time::Duration;
///
/// assert_eq!(parse_retry_after(Some("2"), 3600.0), Duration::from_secs(2));
/// assert_eq!(parse_retry_after(Some("-5"), 3600.0), Duration::ZERO);
/// assert_eq!(parse_retry_after(Some("99999"), 3600.0), Duration::from_secs(3600));
/// assert_eq!(parse_retry_after(Some("soon"), 10.0), Duration::from_secs(10));
/// assert_eq!(parse_retry_after(None, 10.0), Duration::from_secs(10));
/// ```
pub fn parse_retry_after(header: Option<&str>, default: f64) -> Duration {
    retry_after(header, Seconds::float(default), SystemTime::now()).duration()
}

pub(crate) fn retry_after(header: Option<&str>, default: Seconds, now: SystemTime) -> Seconds {
    let Some(text) = header.filter(|text| !text.is_empty()) else {
        return default;
    };
    let seconds = match python_float(text) {
        Some(seconds) => seconds,
        // An HTTP date: the seconds until then (none once past).
        None => match crate::wire::retry_after::parse_retry_after(text, now) {
            Some(wait) => wait.as_secs_f64(),
            None => return default,
        },
    };
    if !seconds.is_finite() {
        return default;
    }
    // `min(max(seconds, 0.0), 3600)`: Python's min keeps the int 3600.
    let seconds = seconds.max(0.0);
    if seconds > RATE_LIMIT_DEFAULT_WAIT as f64 {
        Seconds::int(RATE_LIMIT_DEFAULT_WAIT)
    } else {
        Seconds::float(seconds)
    }
}

/// Python's `float(text)`: surrounding whitespace, `inf`, `nan`, `_`
/// between digits.
fn python_float(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    let plain = if trimmed.contains('_') {
        let bytes = trimmed.as_bytes();
        let ok = bytes.iter().enumerate().all(|(i, b)| {
            *b != b'_'
                || (i > 0
                    && i + 1 < bytes.len()
                    && bytes[i - 1].is_ascii_digit()
                    && bytes[i + 1].is_ascii_digit())
        });
        if !ok {
            return None;
        }
        trimmed.replace('_', "")
    } else {
        trimmed.to_owned()
    };
    plain.parse::<f64>().ok()
}

/// Why a push did not go through: the platform's 429 (the cycle ends and
/// the connector pauses), surfaced through [`TriggerError`](crate::TriggerError)
/// from [`Assets::push`](crate::asset::Assets::push).
///
/// ```
/// use sekoia_automation::TriggerError;
/// use sekoia_automation::asset::AssetPushError;
///
/// fn pause(error: &TriggerError) -> Option<std::time::Duration> {
///     match error.downcast_ref::<AssetPushError>()? {
///         AssetPushError::RateLimited { retry_after, .. } => Some(*retry_after),
///         _ => None,
///     }
/// }
/// # let _ = pause;
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AssetPushError {
    /// HTTP 429: the platform asks to come back after `retry_after`.
    #[error("Asset connector push rate limit exceeded (HTTP 429)")]
    #[non_exhaustive]
    RateLimited {
        /// How long to pause the connector.
        retry_after: Duration,
        /// As the log prints it.
        #[doc(hidden)]
        shown: String,
    },
}

/// Python's `handle_api_error`.
pub(crate) fn handle_api_error(status: u16) -> String {
    match status {
        400..=499 => format!("Client error - HTTP ({status})"),
        500..=599 => format!("Server error - HTTP ({status})"),
        _ => format!("Unexpected error ({status})"),
    }
}

/// Python's `str()` of a JSON value in an f-string.
fn python_str(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "None".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => crate::wire::python_json::repr(other),
    }
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// What a push came to.
#[derive(Debug)]
pub(crate) enum Pushed {
    /// 200: the checkpoint is to be saved; the task to wait for, if any.
    Accepted {
        /// The answer's JSON.
        answer: Value,
    },
    /// Logged, nothing saved (Python's `None`).
    Failed,
}

/// The platform side of an asset connector: URLs, headers, clients.
pub(crate) struct AssetPusher {
    pub(crate) endpoint: String,
    pub(crate) task_endpoint: String,
    user_agent: String,
    push_client: PlatformClient,
    task_client: PlatformClient,
    rate_limit_default: Seconds,
    rate_limit_env_invalid: bool,
    pub(crate) task_poll_interval: f64,
    pub(crate) task_poll_timeout: f64,
}

impl AssetPusher {
    /// Reads the `ASSET_CONNECTOR_*` variables once.
    pub(crate) fn new(
        base_url: &str,
        configuration_uuid: &str,
        api_key: &Secret<String>,
        backoff_unit: Duration,
        sleeper: impl Fn(Duration) -> bool + Send + Sync + Clone + 'static,
    ) -> Self {
        let (rate_limit_default, rate_limit_env_invalid) =
            match crate::asset::configuration::env_text("ASSET_CONNECTOR_RATE_LIMIT_WAIT") {
                Some(text) => match python_float(&text) {
                    Some(value) => (Seconds::float(value), false),
                    None => (Seconds::int(RATE_LIMIT_DEFAULT_WAIT), true),
                },
                None => (Seconds::int(RATE_LIMIT_DEFAULT_WAIT), false),
            };
        let client = PlatformClient::new(api_key.clone()).with_backoff(backoff_unit);
        AssetPusher {
            endpoint: format!(
                "{base_url}/api/v2/asset-management/asset-connector/{configuration_uuid}"
            ),
            task_endpoint: format!("{base_url}/api/v1/tasks"),
            user_agent: format!("sekoiaio-asset-connector-{configuration_uuid}"),
            push_client: client.clone().with_sleeper(sleeper.clone()),
            // A task is read once per poll, as Python reads it: no retry,
            // so a platform that stops answering is noticed at once.
            task_client: client.with_max_attempts(1).with_sleeper(sleeper),
            rate_limit_default,
            rate_limit_env_invalid,
            task_poll_interval: crate::asset::configuration::env_float(
                "ASSET_CONNECTOR_TASK_POLL_INTERVAL",
                TASK_POLL_INTERVAL_DEFAULT,
            ),
            task_poll_timeout: crate::asset::configuration::env_float(
                "ASSET_CONNECTOR_TASK_POLL_TIMEOUT",
                TASK_POLL_TIMEOUT_DEFAULT,
            ),
        }
    }

    /// `POST` one batch (Python's `post_assets_to_api`, less the checkpoint
    /// and the success log, which the caller writes).
    pub(crate) fn post(
        &self,
        assets: &AssetList,
        log: &dyn Fn(Level, String),
    ) -> Result<Pushed, crate::trigger::TriggerError> {
        let body = crate::wire::python_json::to_vec(assets).map_err(|error| {
            crate::trigger::TriggerError::msg(format!(
                "the assets cannot be serialized as JSON: {error}"
            ))
        })?;
        let headers = [("User-Agent", self.user_agent.as_str())];
        let request = Request {
            headers: &headers,
            ..Request::new(Method::Post, &self.endpoint).body(&body)
        };
        let mut retry_after_header: Option<String> = None;
        // The last refusal's body, whole, as Python logs `res.text`.
        let mut refusal_body: Vec<u8> = Vec::new();
        let result = self.push_client.send_with(&request, |request| {
            let response = self.push_client.attempt(request)?;
            retry_after_header = response.retry_after.clone();
            refusal_body = if response.status >= 300 {
                response.body.clone()
            } else {
                Vec::new()
            };
            Ok(response)
        });
        let response = match result {
            Ok(response) => response,
            Err(HttpError::Status { status: 429, .. }) => {
                if self.rate_limit_env_invalid {
                    log(
                        Level::Info,
                        "Invalid ASSET_CONNECTOR_RATE_LIMIT_WAIT value; falling back to the default wait".to_owned(),
                    );
                }
                let wait = retry_after(
                    retry_after_header.as_deref(),
                    self.rate_limit_default,
                    SystemTime::now(),
                );
                log(
                    Level::Warning,
                    format!(
                        "Asset connector push rate limited (HTTP 429). Waiting {wait} seconds before refetching."
                    ),
                );
                return Err(AssetPushError::RateLimited {
                    retry_after: wait.duration(),
                    shown: wait.to_string(),
                }
                .into());
            }
            Err(HttpError::Status { status, .. }) => {
                // `if res:` is false for 4xx and 5xx: the body's text.
                log(
                    Level::Error,
                    format!(
                        "Error while pushing assets to Sekoia.io - {} : {}",
                        handle_api_error(status),
                        String::from_utf8_lossy(&refusal_body)
                    ),
                );
                return Ok(Pushed::Failed);
            }
            Err(HttpError::Redirected { status, .. }) => {
                log(
                    Level::Error,
                    format!(
                        "Error while pushing assets to Sekoia.io - {} : ",
                        handle_api_error(status)
                    ),
                );
                return Ok(Pushed::Failed);
            }
            Err(error @ (HttpError::Transport { .. } | HttpError::Interrupted { .. })) => {
                log(
                    Level::Error,
                    format!(
                        "Timeout while pushing assets to Sekoia.io asset connector API\n{error}"
                    ),
                );
                return Ok(Pushed::Failed);
            }
            Err(error) => return Err(crate::trigger::TriggerError::msg(error.to_string())),
        };
        let answer = parse_answer(&response, &self.endpoint)?;
        if response.status != 200 {
            // A 2xx that is not 200: `if res:` is true, the body's JSON.
            let message = python_str(answer.get("message"));
            let code = python_str(answer.get("code"));
            let message = if answer.get("message").is_none() {
                String::new()
            } else {
                message
            };
            let code = if answer.get("code").is_none() {
                String::new()
            } else {
                code
            };
            log(
                Level::Error,
                format!(
                    "Error while pushing assets to Sekoia.io - {message} :  - {code} : {message}"
                ),
            );
            return Ok(Pushed::Failed);
        }
        Ok(Pushed::Accepted { answer })
    }

    /// Waits for the push's task (Python's `wait_for_push_task`); returns
    /// `false` when the rest of the cycle is not to wait for tasks.
    pub(crate) fn wait_for_task(
        &self,
        task_id: &str,
        log: &dyn Fn(Level, String),
        running: &dyn Fn() -> bool,
        sleep: &dyn Fn(Duration) -> bool,
    ) -> Result<bool, crate::trigger::TriggerError> {
        let url = format!("{}/{task_id}", self.task_endpoint);
        let deadline = Instant::now() + Seconds::float(self.task_poll_timeout).duration();
        let mut interval = self.task_poll_interval.min(1.0);
        let headers = [
            ("User-Agent", self.user_agent.as_str()),
            ("Content-Type", "application/json"),
        ];
        while running() {
            let request = Request {
                headers: &headers,
                ..Request::new(Method::Get, &url)
            };
            let response = match self.task_client.send(&request) {
                Ok(response) => response,
                Err(HttpError::Status { status, .. } | HttpError::Redirected { status, .. }) => {
                    log(
                        Level::Error,
                        format!(
                            "Unable to get the status of the asset push task {task_id} - {}",
                            handle_api_error(status)
                        ),
                    );
                    return Ok(false);
                }
                Err(error) => {
                    log(
                        Level::Error,
                        format!(
                            "Unable to get the status of the asset push task {task_id}\n{error}"
                        ),
                    );
                    return Ok(false);
                }
            };
            if response.status != 200 {
                log(
                    Level::Error,
                    format!(
                        "Unable to get the status of the asset push task {task_id} - {}",
                        handle_api_error(response.status)
                    ),
                );
                return Ok(false);
            }
            let task = parse_answer(&response, &url)?;
            let status = task.get("status");
            let pending = status
                .and_then(Value::as_str)
                .is_some_and(|s| TASK_PENDING_STATUSES.contains(&s));
            if !pending {
                if status.and_then(Value::as_str) == Some("FINISHED") {
                    log(
                        Level::Info,
                        format!("Asset push task {task_id} finished successfully"),
                    );
                } else {
                    let error = task
                        .get("error")
                        .filter(|error| truthy(error))
                        .map(|error| python_str(Some(error)))
                        .unwrap_or_else(|| "no error reported".to_owned());
                    log(
                        Level::Error,
                        format!(
                            "Asset push task {task_id} ended with the status {} - {error}",
                            python_str(status)
                        ),
                    );
                }
                return Ok(true);
            }
            if Instant::now() >= deadline {
                log(
                    Level::Warning,
                    format!(
                        "Asset push task {task_id} is still {} after {} seconds. Not waiting for the push tasks of the remaining batches of this cycle",
                        python_str(status),
                        crate::wire::python_json::python_float(self.task_poll_timeout)
                    ),
                );
                return Ok(false);
            }
            if !sleep(Seconds::float(interval).duration()) {
                return Ok(true);
            }
            interval = (interval * 2.0).min(self.task_poll_interval);
        }
        Ok(true)
    }
}

fn parse_answer(response: &Response, url: &str) -> Result<Value, crate::trigger::TriggerError> {
    response.json::<Value>().map_err(|error| {
        crate::trigger::TriggerError::msg(format!(
            "the platform's answer from {url} is not JSON: {error}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_prints_as_python() {
        let now = SystemTime::now();
        let default = Seconds::int(RATE_LIMIT_DEFAULT_WAIT);
        assert_eq!(retry_after(None, default, now).to_string(), "3600");
        assert_eq!(retry_after(Some(""), default, now).to_string(), "3600");
        assert_eq!(retry_after(Some("2"), default, now).to_string(), "2.0");
        assert_eq!(retry_after(Some(" 1_0 "), default, now).to_string(), "10.0");
        assert_eq!(retry_after(Some("0.25"), default, now).to_string(), "0.25");
        assert_eq!(retry_after(Some("-3"), default, now).to_string(), "0.0");
        assert_eq!(retry_after(Some("5000"), default, now).to_string(), "3600");
        assert_eq!(retry_after(Some("inf"), default, now).to_string(), "3600");
        assert_eq!(retry_after(Some("nan"), default, now).to_string(), "3600");
        assert_eq!(retry_after(Some("later"), default, now).to_string(), "3600");
        assert_eq!(
            retry_after(Some("Sun, 06 Nov 1994 08:49:37 GMT"), default, now).to_string(),
            "0.0"
        );
    }

    #[test]
    fn api_errors_are_named_as_python_names_them() {
        assert_eq!(handle_api_error(404), "Client error - HTTP (404)");
        assert_eq!(handle_api_error(503), "Server error - HTTP (503)");
        assert_eq!(handle_api_error(302), "Unexpected error (302)");
    }
}
