//! Brakes: token buckets (requests per connection, sends per user, sign-ups per address) and
//! growing penalties (wrong passwords per account and per address). Pure rules over a clock
//! passed in, so they are unit-tested without waiting; the maps forget idle keys and are
//! bounded in size: when one is full of keys still in use, a new key is refused, never let
//! through unbraked.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys a keyed brake tracks at most; past that, idle keys are dropped first and new keys are
/// refused (an attacker with many addresses slows down, the server's memory does not grow).
const MAX_KEYS: usize = 100_000;
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Allows `rate` events per second on average and `burst` at once.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: rate.max(f64::MIN_POSITIVE),
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
    }

    /// Takes a token, or says how long until one is free.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.rate;
            Err(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
        }
    }

    /// True when the bucket is full at `now` (it can be forgotten).
    fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.burst
    }
}

/// A token bucket per key (sends per user, sign-ups per address).
pub struct Buckets<K> {
    rate: f64,
    burst: u32,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// `rate` per second and `burst` at once, for each key.
    pub fn new(rate: f64, burst: u32) -> Self {
        Self {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how long to wait.
    pub fn try_take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().map_err(|_| Duration::from_secs(1))?;
        if !buckets.contains_key(key) {
            if buckets.len() >= MAX_KEYS {
                buckets.retain(|_, bucket| !bucket.is_full(now));
            }
            if buckets.len() >= MAX_KEYS {
                return Err(Duration::from_secs(1));
            }
            buckets.insert(key.clone(), TokenBucket::new(self.rate, self.burst, now));
        }
        match buckets.get_mut(key) {
            Some(bucket) => bucket.try_take(now),
            None => Ok(()),
        }
    }
}

/// How failures turn into waits.
#[derive(Debug, Clone, Copy)]
pub struct PenaltyRule {
    /// Failures before the first wait.
    pub free_failures: u32,
    /// The first wait; each further failure doubles it.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl PenaltyRule {
    /// The wait after `failures` failures in a row.
    pub fn wait_after(&self, failures: u32) -> Duration {
        let Some(over) = failures.checked_sub(self.free_failures) else {
            return Duration::ZERO;
        };
        if over == 0 {
            return Duration::ZERO;
        }
        let doublings = (over - 1).min(30);
        self.base.saturating_mul(1u32 << doublings).min(self.max)
    }
}

#[derive(Debug, Clone, Copy)]
struct Penalty {
    failures: u32,
    last_failure: Instant,
    blocked_until: Instant,
}

impl Penalty {
    /// Counts one more failure at `now` under `rule`.
    fn count(&mut self, rule: &PenaltyRule, now: Instant) {
        if now.saturating_duration_since(self.last_failure) >= FORGET_AFTER {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        self.last_failure = now;
        self.blocked_until = later(now, rule.wait_after(self.failures));
    }
}

/// `now + wait`, or a day from now if that overflows.
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(now)
}

/// Attempts per key (an account, an address), each counted as a failure until it is known to
/// have succeeded, with a growing wait after the free ones. Counting before the outcome is
/// known is what keeps parallel attempts from all passing the check together.
pub struct Penalties<K> {
    rule: PenaltyRule,
    entries: Mutex<HashMap<K, Penalty>>,
}

impl<K: Hash + Eq + Clone> Penalties<K> {
    /// An empty record.
    pub fn new(rule: PenaltyRule) -> Self {
        Self {
            rule,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Starts an attempt for `key`: `Err(wait)` while it must wait; otherwise the attempt is
    /// counted as a failure now (see [`Penalties::succeeded`], [`Penalties::forgive`]).
    pub fn attempt(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut entries = self.entries.lock().map_err(|_| self.rule.max)?;
        if !entries.contains_key(key) && entries.len() >= MAX_KEYS {
            entries.retain(|_, p| now.saturating_duration_since(p.last_failure) < FORGET_AFTER);
            if entries.len() >= MAX_KEYS {
                return Err(self.rule.max.max(Duration::from_secs(1)));
            }
        }
        let penalty = entries.entry(key.clone()).or_insert(Penalty {
            failures: 0,
            last_failure: now,
            blocked_until: now,
        });
        if penalty.blocked_until > now {
            return Err(penalty.blocked_until - now);
        }
        penalty.count(&self.rule, now);
        Ok(())
    }

    /// The attempt succeeded and clears the record (a correct password for the account).
    pub fn succeeded(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// The attempt succeeded but the record stands (an address that also failed for other
    /// accounts): only this attempt stops counting.
    pub fn forgive(&self, key: &K) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if let Some(penalty) = entries.get_mut(key) {
            penalty.failures = penalty.failures.saturating_sub(1);
            let wait = self.rule.wait_after(penalty.failures);
            penalty.blocked_until = later(penalty.last_failure, wait);
        }
    }
}

/// The part of a client address that identifies one client: the whole IPv4 address, the
/// /64 prefix of an IPv6 one (one machine usually owns a whole /64).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_serves_the_burst_then_says_how_long_to_wait() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3, start);
        for _ in 0..3 {
            assert!(bucket.try_take(start).is_ok());
        }
        let wait = bucket.try_take(start).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(100));
        assert!(bucket.try_take(start + Duration::from_millis(100)).is_ok());
    }

    #[test]
    fn buckets_are_per_key() {
        let now = Instant::now();
        let buckets = Buckets::new(1.0, 2);
        assert!(buckets.try_take(&1, now).is_ok());
        assert!(buckets.try_take(&1, now).is_ok());
        assert!(buckets.try_take(&1, now).is_err());
        assert!(buckets.try_take(&2, now).is_ok());
    }

    #[test]
    fn waits_grow_after_the_free_failures_and_are_capped() {
        let rule = PenaltyRule {
            free_failures: 2,
            base: Duration::from_secs(1),
            max: Duration::from_secs(5),
        };
        let table = [(1, 0), (2, 0), (3, 1), (4, 2), (5, 4), (6, 5), (60, 5)];
        for (failures, seconds) in table {
            assert_eq!(
                rule.wait_after(failures),
                Duration::from_secs(seconds),
                "{failures}"
            );
        }
    }

    #[test]
    fn attempts_count_before_their_outcome_and_success_clears_them() {
        let rule = PenaltyRule {
            free_failures: 1,
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        let penalties = Penalties::new(rule);
        let t0 = Instant::now();
        // Two attempts at once: the first is free, the second starts the wait, a third in the
        // same instant is refused before it costs anything.
        assert!(penalties.attempt(&"alice", t0).is_ok());
        assert!(penalties.attempt(&"alice", t0).is_ok());
        assert_eq!(penalties.attempt(&"alice", t0), Err(Duration::from_secs(2)));
        let one_later = t0 + Duration::from_secs(1);
        assert_eq!(
            penalties.attempt(&"alice", one_later),
            Err(Duration::from_secs(1))
        );
        assert!(penalties.attempt(&"bob", t0).is_ok());
        penalties.succeeded(&"alice");
        assert!(penalties.attempt(&"alice", t0).is_ok());
    }

    #[test]
    fn forgiving_one_attempt_lifts_only_its_share() {
        let rule = PenaltyRule {
            free_failures: 1,
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        let penalties = Penalties::new(rule);
        let t0 = Instant::now();
        assert!(penalties.attempt(&1, t0).is_ok());
        assert!(penalties.attempt(&1, t0).is_ok());
        penalties.forgive(&1);
        assert!(penalties.attempt(&1, t0).is_ok(), "back to one failure");
        assert!(penalties.attempt(&1, t0).is_err());
    }

    #[test]
    fn old_failures_are_forgotten() {
        let rule = PenaltyRule {
            free_failures: 1,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let penalties = Penalties::new(rule);
        let t0 = Instant::now();
        assert!(penalties.attempt(&1, t0).is_ok());
        assert!(penalties.attempt(&1, t0).is_ok());
        let later = t0 + FORGET_AFTER + Duration::from_secs(1);
        assert!(penalties.attempt(&1, later).is_ok());
        assert!(
            penalties.attempt(&1, later).is_ok(),
            "counting starts again"
        );
    }

    #[test]
    fn a_zero_rate_or_a_huge_wait_does_not_panic() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(0.0, 1, now);
        assert!(bucket.try_take(now).is_ok());
        assert!(bucket.try_take(now).is_err());
        let rule = PenaltyRule {
            free_failures: 0,
            base: Duration::MAX,
            max: Duration::MAX,
        };
        let penalties = Penalties::new(rule);
        assert!(penalties.attempt(&1, now).is_ok());
        assert!(penalties.attempt(&1, now).is_err());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(address_key(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_bucket_never_grants_more_than_its_burst_and_rate(
            rate in 1u32..100,
            burst in 1u32..50,
            gaps in proptest::collection::vec(0u64..200, 1..300),
        ) {
            let start = Instant::now();
            let mut bucket = TokenBucket::new(f64::from(rate), burst, start);
            let mut now = start;
            let mut granted = 0u32;
            for gap in gaps {
                now += Duration::from_millis(gap);
                if bucket.try_take(now).is_ok() {
                    granted += 1;
                }
            }
            let elapsed = now.duration_since(start).as_secs_f64();
            let allowed = f64::from(burst) + f64::from(rate) * elapsed + 1.0;
            prop_assert!(f64::from(granted) <= allowed, "{} > {}", granted, allowed);
        }
    }
}
