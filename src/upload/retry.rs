//! When a failed request is sent again: exponential back-off with full
//! jitter, at least the server's `Retry-After`, within a bound on attempts
//! and on time.

use std::time::Duration;

use rand::Rng as _;

/// Limits and delays for retrying one row's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests per row at most, the first one included.
    pub max_attempts: u32,
    /// Time from a row's first request after which it is not retried again.
    pub max_elapsed: Duration,
    /// Upper bound of the first back-off; it doubles with each retry.
    pub base_delay: Duration,
    /// Upper bound of any back-off computed here. A longer `Retry-After`
    /// from the server is still honoured.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(10 * 60),
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Returns the delay before retry number `retry` (1 for the first
    /// retry): a random duration between zero and
    /// `min(max_delay, base_delay * 2^(retry - 1))` ("full jitter"), or the
    /// server's `retry_after` when that is longer.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let ceiling = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let jittered = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            rand::rng().random_range(Duration::ZERO..=ceiling)
        };
        retry_after.map_or(jittered, |requested| requested.max(jittered))
    }

    /// Returns whether a row may be sent again after `attempts` requests
    /// over `elapsed` since its first, given the wait that would come first.
    pub fn allows_retry(&self, attempts: u32, elapsed: Duration, delay: Duration) -> bool {
        attempts < self.max_attempts && elapsed.saturating_add(delay) <= self.max_elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            max_elapsed: Duration::from_secs(60),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        }
    }

    #[test]
    fn delay_stays_under_doubling_ceiling() {
        let policy = policy();
        for _ in 0..200 {
            assert!(policy.delay(1, None) <= Duration::from_millis(100));
            assert!(policy.delay(3, None) <= Duration::from_millis(400));
            assert!(policy.delay(30, None) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn delay_is_jittered() {
        let policy = policy();
        let delays: std::collections::HashSet<Duration> =
            (0..50).map(|_| policy.delay(4, None)).collect();
        assert!(delays.len() > 1);
    }

    #[test]
    fn retry_after_is_a_minimum() {
        let policy = policy();
        let requested = Duration::from_secs(5);
        for retry in 1..6 {
            assert!(policy.delay(retry, Some(requested)) >= requested);
        }
    }

    #[test]
    fn retries_bounded_by_attempts_and_time() {
        let policy = policy();
        let short = Duration::from_millis(10);
        assert!(policy.allows_retry(4, Duration::from_secs(1), short));
        assert!(!policy.allows_retry(5, Duration::from_secs(1), short));
        assert!(!policy.allows_retry(1, Duration::from_secs(59), Duration::from_secs(2)));
    }
}
