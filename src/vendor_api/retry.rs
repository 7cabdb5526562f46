//! [`RetryPolicy`]: which failures are retried and how long to wait, as
//! urllib3's `Retry(total=5, backoff_factor=1)` that most library modules mount.

use std::time::Duration;

use super::client::Method;
use super::error::TransportKind;

/// Which failed attempts are retried, and the wait before the next one.
///
/// The default is the de-facto policy of the library's Python modules,
/// urllib3's `Retry(total=5, backoff_factor=1, status_forcelist=[429, 500,
/// 502, 503, 504])`:
/// - up to 5 retries (6 attempts);
/// - failed connections (nothing sent) retried for every method; other
///   transport failures (dropped connection, timeout) and the statuses of
///   the force list only for idempotent methods (`GET`, `HEAD`, `PUT`,
///   `DELETE`, `OPTIONS`, `TRACE`), never `POST` or `PATCH`;
/// - a `413`, `429` or `503` with a `Retry-After` header retried (idempotent
///   methods) after the wait it asks for, capped by
///   [`retry_after_max`](RetryPolicy::retry_after_max), and never shorter
///   than the backoff ([`wait`](RetryPolicy::wait));
/// - otherwise waits of `backoff_factor × 2^(n−1)` after the n-th
///   consecutive failure, none after the first: 0, 2, 4, 8, 16 s, capped at
///   [`backoff_max`](RetryPolicy::backoff_max) (120 s).
///
/// ```
/// use sekoia_automation::vendor::RetryPolicy;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::default();
/// let waits: Vec<Duration> = (1..=5).map(|failures| policy.backoff(failures)).collect();
/// assert_eq!(waits, [0, 2, 4, 8, 16].map(Duration::from_secs));
///
/// // urllib3's own default: no status is retried unless it carries Retry-After.
/// let bare = RetryPolicy::default().status_forcelist([]);
/// assert!(!bare.retries_status(sekoia_automation::vendor::Method::Get, 500, false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    retries: u32,
    backoff_factor: Duration,
    backoff_max: Duration,
    status_forcelist: Vec<u16>,
    retry_after_max: Duration,
    all_methods: bool,
    wait_after_first: bool,
    respect_retry_after: bool,
    log_retries: bool,
}

/// The statuses whose `Retry-After` header is honoured.
pub const RETRY_AFTER_STATUSES: [u16; 3] = [413, 429, 503];

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            backoff_factor: Duration::from_secs(1),
            backoff_max: Duration::from_secs(120),
            status_forcelist: vec![429, 500, 502, 503, 504],
            retry_after_max: Duration::from_secs(300),
            all_methods: false,
            wait_after_first: false,
            respect_retry_after: true,
            log_retries: true,
        }
    }
}

impl RetryPolicy {
    /// No retry at all: one attempt.
    pub fn never() -> Self {
        RetryPolicy {
            retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of retries after the first attempt (urllib3's `total`).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Sets the backoff factor (urllib3's `backoff_factor`, in seconds there).
    pub fn backoff_factor(mut self, factor: Duration) -> Self {
        self.backoff_factor = factor;
        self
    }

    /// Sets the longest backoff wait (urllib3's `backoff_max`, 120 s).
    pub fn backoff_max(mut self, max: Duration) -> Self {
        self.backoff_max = max;
        self
    }

    /// Sets the statuses retried for idempotent methods (urllib3's `status_forcelist`).
    pub fn status_forcelist(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.status_forcelist = statuses.into_iter().collect();
        self
    }

    /// Sets the longest `Retry-After` wait honoured (default 300 s; urllib3
    /// caps at 6 h, which no action's deadline allows). Longer asks wait this long.
    pub fn retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = max;
        self
    }

    /// Retries statuses and post-send failures of `POST` and `PATCH` too
    /// (urllib3's `allowed_methods=None`): only for vendors whose writes are
    /// idempotent.
    pub fn retry_all_methods(mut self, all: bool) -> Self {
        self.all_methods = all;
        self
    }

    /// Waits after the first failure too: `backoff_factor × 2^(n−1)` from
    /// n = 1 (tenacity's `wait_exponential`), where urllib3 retries the
    /// first failure at once.
    pub fn wait_after_first_failure(mut self, wait: bool) -> Self {
        self.wait_after_first = wait;
        self
    }

    /// Whether `Retry-After` is honoured (default yes, as urllib3; the
    /// Python SDK's `GenericAPIAction` ignores it).
    pub fn respect_retry_after(mut self, respect: bool) -> Self {
        self.respect_retry_after = respect;
        self
    }

    /// Whether each retry is logged as a warning (default yes, as urllib3
    /// does; an action's logs then show them).
    pub fn log_retries(mut self, log: bool) -> Self {
        self.log_retries = log;
        self
    }

    pub(crate) fn logs_retries(&self) -> bool {
        self.log_retries
    }

    pub(crate) fn honours_retry_after(&self) -> bool {
        self.respect_retry_after
    }

    /// The number of retries.
    pub fn max_retries(&self) -> u32 {
        self.retries
    }

    /// The longest `Retry-After` wait honoured.
    pub fn retry_after_cap(&self) -> Duration {
        self.retry_after_max
    }

    /// The wait after `failures` consecutive failed attempts.
    pub fn backoff(&self, failures: u32) -> Duration {
        if failures == 0 || (failures == 1 && !self.wait_after_first) {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(failures - 1).unwrap_or(u32::MAX);
        self.backoff_factor
            .saturating_mul(factor)
            .min(self.backoff_max)
    }

    /// The wait after `failures` consecutive failed attempts when the last
    /// answer asked for `retry_after`: never shorter than the backoff
    /// (a `Retry-After: 0` or a past date does not hurry the client), the
    /// ask capped by [`retry_after_max`](RetryPolicy::retry_after_max).
    /// urllib3 waits the ask instead of the backoff, even when shorter.
    ///
    /// ```
    /// use sekoia_automation::vendor::RetryPolicy;
    /// use std::time::Duration;
    ///
    /// let policy = RetryPolicy::default(); // backoffs 0, 2, 4, 8, 16 s
    /// let secs = Duration::from_secs;
    /// assert_eq!(policy.wait(3, Some(secs(0))), secs(4));
    /// assert_eq!(policy.wait(3, Some(secs(1))), secs(4));
    /// assert_eq!(policy.wait(3, Some(secs(60))), secs(60));
    /// assert_eq!(policy.wait(3, Some(secs(3600))), secs(300));
    /// assert_eq!(policy.wait(3, None), secs(4));
    /// ```
    pub fn wait(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self.backoff(failures);
        match retry_after {
            Some(asked) => backoff.max(asked.min(self.retry_after_max)),
            None => backoff,
        }
    }

    fn method_retryable(&self, method: Method) -> bool {
        self.all_methods || method.is_idempotent()
    }

    /// Whether an answer with `status` is retried (`has_retry_after`: the
    /// answer carries a `Retry-After` header).
    pub fn retries_status(&self, method: Method, status: u16, has_retry_after: bool) -> bool {
        self.method_retryable(method)
            && (self.status_forcelist.contains(&status)
                || (self.respect_retry_after
                    && has_retry_after
                    && RETRY_AFTER_STATUSES.contains(&status)))
    }

    /// Whether a transport failure of this kind is retried.
    pub(crate) fn retries_transport(&self, method: Method, kind: TransportKind) -> bool {
        match kind {
            TransportKind::Connect => true,
            TransportKind::AfterSend | TransportKind::Timeout => self.method_retryable(method),
            TransportKind::Other => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_and_patch_are_not_retried_on_statuses_or_dropped_connections() {
        let policy = RetryPolicy::default();
        for method in [Method::Post, Method::Patch] {
            assert!(!policy.retries_status(method, 503, true));
            assert!(!policy.retries_transport(method, TransportKind::AfterSend));
            assert!(policy.retries_transport(method, TransportKind::Connect));
        }
        assert!(policy.retries_status(Method::Put, 502, false));
        assert!(!policy.retries_status(Method::Get, 404, false));
        assert!(!policy.retries_status(Method::Get, 413, false));
        assert!(
            RetryPolicy::default()
                .status_forcelist([])
                .retries_status(Method::Get, 413, true)
        );
        assert!(
            RetryPolicy::default()
                .retry_all_methods(true)
                .retries_status(Method::Post, 500, false)
        );
    }

    #[test]
    fn tenacity_waits() {
        // wait_exponential(multiplier=2, min=2, max=300) after attempts 1..=9.
        let policy = RetryPolicy::default()
            .backoff_factor(Duration::from_secs(2))
            .backoff_max(Duration::from_secs(300))
            .wait_after_first_failure(true);
        let waits: Vec<u64> = (1..=9).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300]);
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(8), Duration::from_secs(120));
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(120));
    }
}
