//! The outbox: which queued message goes next, and what a failed send means.
//!
//! Order is kept per conversation (a message never overtakes an older one of its own
//! conversation), so one message waiting out a backoff holds up only its conversation.

use std::time::Duration;

use flint_proto::ErrorCode;

use crate::error::Error;

/// How transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first transient failure; it doubles with each further one.
    pub first: Duration,
    /// The longest wait between attempts.
    pub max: Duration,
    /// Attempts a message gets before it is marked failed (transient failures only; a refusal
    /// fails it at once, a lost link does not count).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 1 s doubling to 60 s, 8 attempts: a message that keeps failing turns failed after about
    /// three minutes.
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: 8,
        }
    }
}

/// The oldest queued message of one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Its local id (local ids grow in the order messages were written).
    pub local_id: i64,
    /// Not before this time (ms since the epoch); 0 when it has not failed.
    pub not_before_ms: i64,
}

/// What the outbox does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Send this message now.
    Send(i64),
    /// Every conversation's next message is waiting out a backoff: sleep until then.
    WaitUntil(i64),
    /// Nothing is queued.
    Idle,
}

/// Picks among the heads of every conversation with queued messages: the oldest one that
/// may go now, else the earliest time one may.
pub fn pick(heads: &[Head], now_ms: i64) -> Pick {
    let ready = heads
        .iter()
        .filter(|head| head.not_before_ms <= now_ms)
        .min_by_key(|head| head.local_id);
    match ready {
        Some(head) => Pick::Send(head.local_id),
        None => heads
            .iter()
            .map(|head| head.not_before_ms)
            .min()
            .map_or(Pick::Idle, Pick::WaitUntil),
    }
}

/// How a send failed, as far as the outbox cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The server refused this message and will refuse it again.
    Refused(ErrorCode),
    /// The server asks every send to wait.
    RateLimited(Duration),
    /// The link went away; the message is fine.
    LinkLost,
    /// Something that may pass (no answer in time, a server error).
    Transient(ErrorCode),
}

impl Failure {
    /// Classifies an engine error.
    pub fn of(error: &Error) -> Self {
        match error {
            Error::Server {
                code: ErrorCode::RateLimited,
                retry_after_ms,
                ..
            } => Self::RateLimited(Duration::from_millis(u64::from(*retry_after_ms).max(10))),
            Error::Server {
                code: ErrorCode::Unauthenticated,
                ..
            }
            | Error::Offline
            | Error::Connection(_)
            | Error::Closed => Self::LinkLost,
            error if error.is_permanent() => Self::Refused(error.code()),
            error => Self::Transient(error.code()),
        }
    }
}

/// What to do with a message whose send failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Mark it failed with this reason and take it off the queue (the user may retry).
    Fail(ErrorCode),
    /// Try it again after this wait (its conversation waits with it).
    RetryIn(Duration),
    /// Hold every send for this long.
    PauseAll(Duration),
    /// Wait for the next link; try again then.
    WaitForLink,
}

/// The decision after a failure; `attempts` counts the failed attempts so far, this one
/// included.
pub fn after_failure(policy: &RetryPolicy, attempts: u32, failure: Failure) -> Decision {
    match failure {
        Failure::Refused(code) => Decision::Fail(code),
        Failure::RateLimited(wait) => Decision::PauseAll(wait),
        Failure::LinkLost => Decision::WaitForLink,
        Failure::Transient(code) if attempts >= policy.max_attempts => Decision::Fail(code),
        Failure::Transient(_) => Decision::RetryIn(policy.delay(attempts)),
    }
}

impl RetryPolicy {
    /// `first · 2^(attempts-1)`, capped at `max`.
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(16);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(local_id: i64, not_before_ms: i64) -> Head {
        Head {
            local_id,
            not_before_ms,
        }
    }

    #[test]
    fn the_oldest_ready_head_goes_and_a_backoff_holds_up_only_its_conversation() {
        let table: [(&[Head], i64, Pick); 5] = [
            (&[], 100, Pick::Idle),
            (&[head(3, 0), head(1, 0)], 100, Pick::Send(1)),
            (&[head(1, 500), head(7, 0)], 100, Pick::Send(7)),
            (&[head(1, 500), head(7, 300)], 100, Pick::WaitUntil(300)),
            (&[head(1, 500), head(7, 300)], 500, Pick::Send(1)),
        ];
        for (heads, now, expected) in table {
            assert_eq!(pick(heads, now), expected, "{heads:?} at {now}");
        }
    }

    #[test]
    fn failures_become_decisions() {
        let policy = RetryPolicy::default();
        let (first, max_attempts) = (policy.first, policy.max_attempts);
        let wait = Duration::from_millis(250);
        let table = [
            (
                1,
                Failure::Refused(ErrorCode::Forbidden),
                Decision::Fail(ErrorCode::Forbidden),
            ),
            (
                1,
                Failure::Refused(ErrorCode::TooLarge),
                Decision::Fail(ErrorCode::TooLarge),
            ),
            (1, Failure::RateLimited(wait), Decision::PauseAll(wait)),
            (5, Failure::LinkLost, Decision::WaitForLink),
            (
                1,
                Failure::Transient(ErrorCode::Internal),
                Decision::RetryIn(first),
            ),
            (
                3,
                Failure::Transient(ErrorCode::Unavailable),
                Decision::RetryIn(Duration::from_secs(4)),
            ),
            (
                max_attempts,
                Failure::Transient(ErrorCode::Internal),
                Decision::Fail(ErrorCode::Internal),
            ),
        ];
        for (attempts, failure, expected) in table {
            assert_eq!(
                after_failure(&policy, attempts, failure),
                expected,
                "{failure:?}"
            );
        }
    }

    #[test]
    fn retries_back_off_to_a_cap() {
        let policy = RetryPolicy::default();
        let seconds: Vec<u64> = (1..=9).map(|a| policy.delay(a).as_secs()).collect();
        assert_eq!(seconds, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn engine_errors_are_classified() {
        let server = |code| Error::Server {
            code,
            message: String::new(),
            retry_after_ms: 40,
        };
        assert_eq!(
            Failure::of(&server(ErrorCode::RateLimited)),
            Failure::RateLimited(Duration::from_millis(40))
        );
        assert_eq!(
            Failure::of(&server(ErrorCode::Forbidden)),
            Failure::Refused(ErrorCode::Forbidden)
        );
        assert_eq!(
            Failure::of(&server(ErrorCode::Internal)),
            Failure::Transient(ErrorCode::Internal)
        );
        assert_eq!(Failure::of(&Error::Offline), Failure::LinkLost);
        assert_eq!(
            Failure::of(&Error::Timeout),
            Failure::Transient(ErrorCode::Unavailable)
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn the_pick_is_the_oldest_ready_head_and_never_a_waiting_one(
            heads in proptest::collection::vec((0i64..1000, 0i64..100), 0..20),
            now in 0i64..100,
        ) {
            let heads: Vec<Head> = heads
                .into_iter()
                .map(|(local_id, not_before_ms)| Head { local_id, not_before_ms })
                .collect();
            match pick(&heads, now) {
                Pick::Idle => prop_assert!(heads.is_empty()),
                Pick::Send(id) => {
                    let oldest_ready = heads.iter().filter(|h| h.not_before_ms <= now).map(|h| h.local_id).min();
                    prop_assert_eq!(Some(id), oldest_ready);
                }
                Pick::WaitUntil(at) => {
                    prop_assert!(heads.iter().all(|h| h.not_before_ms > now));
                    prop_assert_eq!(Some(at), heads.iter().map(|h| h.not_before_ms).min());
                }
            }
        }
    }
}
