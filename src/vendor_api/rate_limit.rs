//! [`RateLimit`]: how many requests a vendor accepts per period, enforced
//! per host with sliding windows.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most `limit` requests per `period` to one host (`host[:port]`), as
/// `requests_ratelimiter`'s `LimiterAdapter(per_second=…, per_minute=…,
/// per_hour=…)` enforces them: a sliding window, a request blocks until it
/// is allowed, and a `429 Too Many Requests` answer fills the shortest
/// window so that the next request waits for it.
///
/// ```
/// use sekoia_automation::vendor::RateLimit;
/// use std::time::Duration;
///
/// assert_eq!(RateLimit::per_minute(120).period(), Duration::from_secs(60));
/// assert_eq!(RateLimit::per_hour(1000).limit(), 1000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    limit: u32,
    period: Duration,
}

impl RateLimit {
    /// At most `limit` requests per `period`. A `limit` of 0 or a zero
    /// `period` limits nothing: it is [`unlimited`](Self::unlimited) (as
    /// `requests_ratelimiter` ignores a rate of 0), so a limit read from a
    /// configuration where 0 means "none" needs no special case.
    ///
    /// ```
    /// use sekoia_automation::vendor::RateLimit;
    /// use std::time::Duration;
    ///
    /// assert!(RateLimit::new(0, Duration::from_secs(60)).is_unlimited());
    /// assert!(!RateLimit::new(10, Duration::from_secs(60)).is_unlimited());
    /// ```
    pub fn new(limit: u32, period: Duration) -> Self {
        RateLimit { limit, period }
    }

    /// No limit: a client given only this one sends requests as they come.
    ///
    /// ```
    /// use sekoia_automation::vendor::{RateLimit, VendorClient};
    ///
    /// let client = VendorClient::builder()
    ///     .base_url("https://api.example.com")
    ///     .rate_limit(RateLimit::unlimited())
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), sekoia_automation::vendor::VendorError>(())
    /// ```
    pub fn unlimited() -> Self {
        RateLimit {
            limit: 0,
            period: Duration::ZERO,
        }
    }

    /// Whether this limits nothing (a limit of 0 or a zero period).
    pub fn is_unlimited(&self) -> bool {
        self.limit == 0 || self.period.is_zero()
    }

    /// At most `limit` requests per second.
    pub fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    /// At most `limit` requests per minute.
    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// At most `limit` requests per hour.
    pub fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// The number of requests allowed per period.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// The sliding windows of every host.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    /// Shortest period first.
    limits: Vec<RateLimit>,
    /// Per host, per limit: the times of the last `limit` requests, oldest first.
    hosts: Mutex<HashMap<String, Vec<VecDeque<Instant>>>>,
}

impl RateLimiter {
    pub(crate) fn new(mut limits: Vec<RateLimit>) -> Self {
        limits.retain(|limit| !limit.is_unlimited());
        limits.sort_by_key(|limit| limit.period);
        RateLimiter {
            limits,
            hosts: Mutex::default(),
        }
    }

    /// Records a request to `host` at `now` and returns zero when every
    /// window allows it; otherwise records nothing and returns how long to
    /// wait before asking again.
    pub(crate) fn try_acquire(&self, host: &str, now: Instant) -> Duration {
        if self.limits.is_empty() {
            return Duration::ZERO;
        }
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        if !hosts.contains_key(host) {
            hosts.insert(host.to_string(), vec![VecDeque::new(); self.limits.len()]);
        }
        let Some(windows) = hosts.get_mut(host) else {
            return Duration::ZERO;
        };
        let mut wait = Duration::ZERO;
        for (limit, window) in self.limits.iter().zip(windows.iter_mut()) {
            while window
                .front()
                .is_some_and(|oldest| *oldest + limit.period <= now)
            {
                window.pop_front();
            }
            if window.len() >= limit.limit as usize
                && let Some(oldest) = window.front()
            {
                wait = wait.max((*oldest + limit.period).saturating_duration_since(now));
            }
        }
        if wait.is_zero() {
            for window in windows.iter_mut() {
                window.push_back(now);
            }
        }
        wait
    }

    /// The vendor said "too many requests": fill the shortest window of
    /// `host`, so that the next request waits a whole period.
    pub(crate) fn fill(&self, host: &str, now: Instant) {
        let Some(shortest) = self.limits.first() else {
            return;
        };
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        let windows = hosts
            .entry(host.to_string())
            .or_insert_with(|| vec![VecDeque::new(); self.limits.len()]);
        let window = &mut windows[0];
        window.clear();
        window.extend(std::iter::repeat_n(now, shortest.limit as usize));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_waits_for_its_oldest_request() {
        let limiter = RateLimiter::new(vec![RateLimit::per_second(2), RateLimit::per_minute(3)]);
        let start = Instant::now();
        assert!(limiter.try_acquire("h:1", start).is_zero());
        assert!(
            limiter
                .try_acquire("h:1", start + Duration::from_millis(100))
                .is_zero()
        );
        assert_eq!(
            limiter.try_acquire("h:1", start + Duration::from_millis(400)),
            Duration::from_millis(600)
        );
        assert!(
            limiter.try_acquire("other:1", start).is_zero(),
            "hosts are independent"
        );
        // The per-second window has room after 1 s, the per-minute one has one more.
        assert!(
            limiter
                .try_acquire("h:1", start + Duration::from_secs(1))
                .is_zero()
        );
        assert_eq!(
            limiter.try_acquire("h:1", start + Duration::from_secs(2)),
            Duration::from_secs(58)
        );
    }

    #[test]
    fn a_429_fills_the_shortest_window() {
        let limiter = RateLimiter::new(vec![RateLimit::per_minute(100), RateLimit::per_second(5)]);
        let now = Instant::now();
        limiter.fill("h:1", now);
        assert_eq!(limiter.try_acquire("h:1", now), Duration::from_secs(1));
        assert!(
            limiter
                .try_acquire("h:1", now + Duration::from_secs(1))
                .is_zero()
        );
    }

    #[test]
    fn zero_limits_are_dropped() {
        let limiter = RateLimiter::new(vec![RateLimit::per_second(0)]);
        assert!(limiter.limits.is_empty());
        assert!(limiter.try_acquire("h", Instant::now()).is_zero());
    }

    #[test]
    fn an_unlimited_limit_never_waits_beside_a_real_one() {
        let limiter = RateLimiter::new(vec![RateLimit::unlimited(), RateLimit::per_minute(1)]);
        assert_eq!(limiter.limits, [RateLimit::per_minute(1)]);
        let now = Instant::now();
        assert!(limiter.try_acquire("h", now).is_zero());
        assert_eq!(limiter.try_acquire("h", now), Duration::from_secs(60));
    }
}
