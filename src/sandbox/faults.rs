//! Misbehaviour on request: injected error statuses, connections closed
//! without a response, stalls and a rate limit, drawn from a seedable random
//! generator so that a run can be repeated.

use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::ConflictStyle;

/// Default time a stalled request waits before its connection is closed.
const DEFAULT_STALL: Duration = Duration::from_secs(300);

/// One `--fail STATUS=FRACTION` rule: this share of requests gets this
/// status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailRule {
    /// An HTTP error status, `400` to `599`.
    pub status: u16,
    /// Share of requests, `0.0` to `1.0`.
    pub fraction: f64,
}

impl FromStr for FailRule {
    type Err = String;

    /// Parses `STATUS=FRACTION`, such as `500=0.05`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (status, fraction) = text
            .split_once('=')
            .ok_or_else(|| format!("'{text}' is not STATUS=FRACTION, such as 500=0.05"))?;
        let status = status
            .trim()
            .parse()
            .map_err(|_| format!("'{status}' in '{text}' is not an HTTP status"))?;
        let fraction = fraction
            .trim()
            .parse()
            .map_err(|_| format!("'{fraction}' in '{text}' is not a fraction such as 0.05"))?;
        Ok(Self { status, fraction })
    }
}

/// Faults to inject. Fractions are shares of the affected requests and are
/// mutually exclusive: their sum must not exceed 1.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Delay before every customers request is handled.
    pub latency: Duration,
    /// Error statuses to respond with. A `429` carries `Retry-After: 1`.
    /// `502` and `504` have an HTML body and `503` an empty one, as
    /// gateways send them. Other statuses use the JSON:API `errors` body.
    pub fail: Vec<FailRule>,
    /// Share of requests whose connection closes without a response before
    /// the operation runs (nothing is stored).
    pub drop_before_commit: f64,
    /// Share of requests whose connection closes without a response after
    /// the operation ran, whatever its outcome: a valid create without a
    /// conflict has stored the customer.
    pub drop_after_commit: f64,
    /// Share of requests left without a response for `stall_duration`, after
    /// which the connection closes. Nothing is stored.
    pub stall: f64,
    /// How long a stalled request waits before its connection closes.
    pub stall_duration: Duration,
    /// Customers requests per second served; more get `429` with
    /// `Retry-After`. Applies to every operation.
    pub rate_limit: Option<u32>,
    /// Inject the faults into every customers operation, not just creates.
    pub all_operations: bool,
    /// Inject the faults into updates (`PATCH`) as well as creates, so a
    /// merge can lose its response while the reads around it work.
    pub include_updates: bool,
}

/// The kind of customers request a fault is drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operation {
    Create,
    Update,
    /// List, get or delete.
    Other,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            fail: Vec::new(),
            drop_before_commit: 0.0,
            drop_after_commit: 0.0,
            stall: 0.0,
            stall_duration: DEFAULT_STALL,
            rate_limit: None,
            all_operations: false,
            include_updates: false,
        }
    }
}

impl FaultConfig {
    /// Checks statuses and fractions; the error names the bad value.
    pub fn validate(&self) -> Result<(), String> {
        let shares = [
            ("drop before commit", self.drop_before_commit),
            ("drop after commit", self.drop_after_commit),
            ("stall", self.stall),
        ];
        for (name, fraction) in shares {
            check_fraction(name, fraction)?;
        }
        for rule in &self.fail {
            if !(400..=599).contains(&rule.status) {
                return Err(format!(
                    "fail status {} is not between 400 and 599",
                    rule.status
                ));
            }
            check_fraction(&format!("fail {}", rule.status), rule.fraction)?;
        }
        let total = self.total_fraction();
        if total > 1.0 + f64::EPSILON {
            return Err(format!(
                "the fault fractions add up to {total}, more than 1"
            ));
        }
        if self.rate_limit == Some(0) {
            return Err("the rate limit must be at least 1 request per second".to_owned());
        }
        Ok(())
    }

    fn total_fraction(&self) -> f64 {
        let failures: f64 = self.fail.iter().map(|rule| rule.fraction).sum();
        failures + self.drop_before_commit + self.drop_after_commit + self.stall
    }
}

fn check_fraction(name: &str, fraction: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&fraction) {
        Ok(())
    } else {
        Err(format!(
            "the {name} fraction {fraction} is not between 0 and 1"
        ))
    }
}

/// A fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    Fail(u16),
    DropBeforeCommit,
    Stall,
    DropAfterCommit,
}

/// A token bucket holding up to one second of requests.
struct Bucket {
    per_second: f64,
    available: f64,
    refilled_at: Instant,
}

/// The fault generator of one sandbox.
pub(super) struct Faults {
    config: FaultConfig,
    rng: Mutex<StdRng>,
    /// Separate from `rng` so that the forms of conflicts do not shift
    /// which requests get faults.
    style_rng: Mutex<StdRng>,
    bucket: Option<Mutex<Bucket>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values are updated in single steps, so a poisoned lock
    // still holds usable state.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Faults {
    pub fn new(config: FaultConfig, seed: Option<u64>) -> Self {
        let make_rng = |salt: u64| match seed {
            Some(seed) => StdRng::seed_from_u64(seed ^ salt),
            None => StdRng::from_os_rng(),
        };
        let bucket = config.rate_limit.map(|rate| {
            Mutex::new(Bucket {
                per_second: f64::from(rate),
                available: f64::from(rate),
                refilled_at: Instant::now(),
            })
        });
        Self {
            config,
            rng: Mutex::new(make_rng(0x6661_756c_7473)),
            style_rng: Mutex::new(make_rng(0x7374_796c_6573)),
            bucket,
        }
    }

    pub fn latency(&self) -> Duration {
        self.config.latency
    }

    pub fn stall_duration(&self) -> Duration {
        self.config.stall_duration
    }

    /// Draws the fault for one request, if any. Only creates get faults,
    /// and updates with `include_updates`, unless `all_operations` is set.
    /// Other requests do not consume a draw, so the creates of a seeded run
    /// see the same faults.
    pub fn draw(&self, operation: Operation) -> Option<Fault> {
        let affected = match operation {
            Operation::Create => true,
            Operation::Update => self.config.include_updates || self.config.all_operations,
            Operation::Other => self.config.all_operations,
        };
        if !affected {
            return None;
        }
        if self.config.total_fraction() <= 0.0 {
            return None;
        }
        let roll: f64 = lock(&self.rng).random();
        let failures = self
            .config
            .fail
            .iter()
            .map(|rule| (Fault::Fail(rule.status), rule.fraction));
        let others = [
            (Fault::DropBeforeCommit, self.config.drop_before_commit),
            (Fault::Stall, self.config.stall),
            (Fault::DropAfterCommit, self.config.drop_after_commit),
        ];
        let mut threshold = 0.0;
        for (fault, fraction) in failures.chain(others) {
            threshold += fraction;
            if roll < threshold {
                return Some(fault);
            }
        }
        None
    }

    /// Takes one request from the rate limit. Returns the whole seconds to
    /// wait (at least 1) when the limit is reached.
    pub fn take_rate_slot(&self) -> Result<(), u64> {
        self.take_rate_slot_at(Instant::now())
    }

    fn take_rate_slot_at(&self, now: Instant) -> Result<(), u64> {
        let Some(bucket) = &self.bucket else {
            return Ok(());
        };
        let mut bucket = lock(bucket);
        let elapsed = now.duration_since(bucket.refilled_at).as_secs_f64();
        bucket.available = (bucket.available + elapsed * bucket.per_second).min(bucket.per_second);
        bucket.refilled_at = now;
        if bucket.available >= 1.0 {
            bucket.available -= 1.0;
            return Ok(());
        }
        let wait_secs = (1.0 - bucket.available) / bucket.per_second;
        // The value fits: it is at most 1 / per_second, and per_second >= 1.
        Err((wait_secs.ceil() as u64).max(1))
    }

    /// Picks the form of one conflict response.
    pub fn conflict_style(&self, configured: ConflictStyle) -> ConflictStyle {
        match configured {
            ConflictStyle::Mixed if lock(&self.style_rng).random::<bool>() => ConflictStyle::Guide,
            ConflictStyle::Mixed => ConflictStyle::OpenApi,
            fixed => fixed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_rule_parses() {
        let rule: FailRule = "500=0.05".parse().expect("a rule");
        assert_eq!(rule.status, 500);
        assert!((rule.fraction - 0.05).abs() < f64::EPSILON);
        assert!("500".parse::<FailRule>().is_err());
        assert!("abc=0.1".parse::<FailRule>().is_err());
        assert!("500=x".parse::<FailRule>().is_err());
    }

    #[test]
    fn validate_rejects_bad_values() {
        let too_much = FaultConfig {
            drop_after_commit: 0.6,
            stall: 0.6,
            ..FaultConfig::default()
        };
        assert!(too_much.validate().is_err());
        let bad_status = FaultConfig {
            fail: vec![FailRule {
                status: 200,
                fraction: 0.1,
            }],
            ..FaultConfig::default()
        };
        assert!(bad_status.validate().is_err());
        assert!(FaultConfig::default().validate().is_ok());
    }

    #[test]
    fn seeded_draws_repeat_and_match_fractions() {
        let config = FaultConfig {
            fail: vec![FailRule {
                status: 500,
                fraction: 0.25,
            }],
            drop_after_commit: 0.25,
            ..FaultConfig::default()
        };
        let first = Faults::new(config.clone(), Some(42));
        let second = Faults::new(config, Some(42));
        let draws: Vec<_> = (0..1000).map(|_| first.draw(Operation::Create)).collect();
        let again: Vec<_> = (0..1000).map(|_| second.draw(Operation::Create)).collect();
        assert_eq!(draws, again);
        let failures = draws
            .iter()
            .filter(|d| **d == Some(Fault::Fail(500)))
            .count();
        let drops = draws
            .iter()
            .filter(|d| **d == Some(Fault::DropAfterCommit))
            .count();
        assert!(
            (150..350).contains(&failures),
            "{failures} failures of 1000"
        );
        assert!((150..350).contains(&drops), "{drops} drops of 1000");
        assert_eq!(first.draw(Operation::Other), None);
        assert_eq!(first.draw(Operation::Update), None);
    }

    #[test]
    fn updates_get_faults_when_included() {
        let config = FaultConfig {
            drop_after_commit: 1.0,
            include_updates: true,
            ..FaultConfig::default()
        };
        let faults = Faults::new(config, Some(3));
        assert_eq!(faults.draw(Operation::Update), Some(Fault::DropAfterCommit));
        assert_eq!(faults.draw(Operation::Create), Some(Fault::DropAfterCommit));
        assert_eq!(faults.draw(Operation::Other), None);
    }

    #[test]
    fn rate_limit_allows_one_second_of_burst() {
        let faults = Faults::new(
            FaultConfig {
                rate_limit: Some(3),
                ..FaultConfig::default()
            },
            Some(1),
        );
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(faults.take_rate_slot_at(start), Ok(()));
        }
        assert_eq!(faults.take_rate_slot_at(start), Err(1));
        let later = start + Duration::from_millis(400);
        assert_eq!(faults.take_rate_slot_at(later), Ok(()));
        assert_eq!(faults.take_rate_slot_at(later), Err(1));
    }
}
