//! How a trigger's events reach `url_callback`: each body gets its
//! `request_id` and goes through the crate's one client and retry loop
//! ([`PlatformClient::send`]): the same body, so the same `request_id`, for
//! network errors and 5xx, a 4xx at once ([protocol §2](crate::protocol#2-requests-to-the-platform)), a
//! redirect (3xx) at once and never followed, with the per-attempt
//! deadline. Plain `http://` URLs go over a keep-alive
//! connection of the sender's own ([`KeepAlive`], measured twice as fast as
//! the agent per POST), other URLs through the agent.
//!
//! The sender is shared by the threads of a trigger that sends from
//! several ([`TriggerContext`](crate::TriggerContext) is `Sync`): request
//! ids come from one locked source, so they stay distinct, and the
//! keep-alive connection carries one request at a time (each attempt holds
//! it; the waits between attempts do not).

use std::io::Read;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::wire::http::{HttpError, Method, PlatformClient, Request};
use crate::wire::keep_alive::KeepAlive;

/// Sends event bodies to `url_callback` with the §2 retries.
///
/// # Thread safety
///
/// `Send + Sync`: threads may send through one sender at once; their
/// request ids are distinct and the keep-alive connection serves one
/// attempt at a time (others wait for it, or for their own turn).
pub struct EventSender {
    ids: Mutex<RequestIds>,
    url: String,
    fast: Option<Mutex<KeepAlive>>,
    client: PlatformClient,
}

impl std::fmt::Debug for EventSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSender")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl EventSender {
    /// A sender to `url` through `client` (its token, backoff, deadline and
    /// how it waits between attempts).
    pub fn new(url: &str, client: PlatformClient) -> Self {
        EventSender {
            ids: Mutex::new(RequestIds::new()),
            url: url.to_string(),
            fast: KeepAlive::for_url(url, client.authorization()).map(Mutex::new),
            client,
        }
    }

    /// Replaces how the sender waits between attempts: the function sleeps
    /// for the duration and returns `false` to abandon the send (a stopping
    /// trigger).
    pub fn with_sleeper(
        mut self,
        sleeper: impl Fn(Duration) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.client = self.client.with_sleeper(sleeper);
        self
    }

    /// A fresh UUIDv4 for an event's `request_id`.
    pub fn request_id(&self) -> uuid::Uuid {
        locked(&self.ids).next()
    }

    /// `POST url_callback` with `body`, retried as [protocol §2](crate::protocol#2-requests-to-the-platform) says.
    ///
    /// Blocks until the platform accepted the body, refused it, or the
    /// retries ended (their waits end early when the sleeper says so).
    ///
    /// # Errors
    ///
    /// The platform answered a 4xx or a redirect, or the retries were
    /// exhausted or abandoned: the last attempt's [`HttpError`].
    pub fn send(&self, body: &[u8]) -> Result<(), HttpError> {
        let request = Request::new(Method::Post, &self.url).body(body);
        match &self.fast {
            Some(fast) => {
                let deadline = self.client.deadline();
                self.client.send_with(&request, |_| {
                    locked(fast).post(body, deadline).map_err(ureq::Error::Io)
                })
            }
            None => self.client.send(&request),
        }
        .map(drop)
    }
}

/// The value behind `mutex`, even when a thread panicked holding it: a
/// request id source and a connection stay usable ([`KeepAlive`] holds no
/// connection while a request is on it, so one left mid-request is gone).
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// UUIDv4s from the operating system's randomness, read 4 KiB at a time
/// (one system call per 256 ids instead of one per id).
struct RequestIds {
    source: Option<std::fs::File>,
    buffer: Box<[u8; 4096]>,
    used: usize,
}

impl RequestIds {
    fn new() -> Self {
        RequestIds {
            source: std::fs::File::open("/dev/urandom").ok(),
            buffer: Box::new([0; 4096]),
            used: 4096,
        }
    }

    fn next(&mut self) -> uuid::Uuid {
        if self.used == self.buffer.len() {
            let filled = self
                .source
                .as_mut()
                .is_some_and(|source| source.read_exact(&mut self.buffer[..]).is_ok());
            if !filled {
                self.source = None;
                return uuid::Uuid::new_v4();
            }
            self.used = 0;
        }
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&self.buffer[self.used..self.used + 16]);
        self.used += 16;
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let mut ids = RequestIds::new();
        let all: std::collections::HashSet<uuid::Uuid> = (0..1000).map(|_| ids.next()).collect();
        assert_eq!(all.len(), 1000);
        assert!(
            all.iter()
                .all(|id| id.get_version_num() == 4 && id.get_variant() == uuid::Variant::RFC4122)
        );
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn event_sender_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::testing::LocalPlatform;
        use crate::trigger::event_sender::EventSender;
        use crate::{Secret, wire::http::PlatformClient};

        let platform = LocalPlatform::start()?;
        let token = Secret::new(platform.token().to_string());
        let sender = EventSender::new(&platform.callback_url(), PlatformClient::new(token.clone()));
        let request_id = sender.request_id().to_string();
        let body = crate::trigger::context::event_body(
            "alert",
            &serde_json::json!({}),
            &request_id,
            None,
        )?;
        sender.send(&body)?;
        assert_eq!(
            platform.requests()[0].json().unwrap()["request_id"],
            request_id
        );
        Ok(())
    }
}
