//! Reconnecting: how long to wait before the next attempt.

use std::time::Duration;

/// A connection that stayed up this long was a success: the next drop starts the backoff
/// afresh. A server that accepts and then drops the socket at once (a response too large for
/// it, a crash loop) keeps the backoff growing instead of being hammered every few hundred ms.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);

/// The attempt number after a connection ended: `online_for` is how long it was up (`None`
/// when it never came up).
pub fn next_attempt(attempt: u32, online_for: Option<Duration>) -> u32 {
    match online_for {
        Some(up) if up >= STABLE_AFTER => 1,
        _ => attempt.saturating_add(1),
    }
}

/// `min · 2^(attempt-1)`, capped at `max`, scaled by `jitter` in [0.5, 1.0] so that clients
/// dropped together do not return together.
pub fn backoff(attempt: u32, min: Duration, max: Duration, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let base = min.saturating_mul(1u32 << exponent).min(max);
    base.mul_f64(jitter.clamp(0.5, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_stable_connection_resets_the_backoff() {
        let table = [
            (0, None, 1),
            (3, None, 4),
            (3, Some(Duration::from_millis(200)), 4),
            (7, Some(STABLE_AFTER), 1),
            (u32::MAX, None, u32::MAX),
        ];
        for (attempt, up, expected) in table {
            assert_eq!(next_attempt(attempt, up), expected, "{attempt} {up:?}");
        }
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        let table = [
            (1, 1.0, 100),
            (2, 1.0, 200),
            (3, 1.0, 400),
            (5, 1.0, 1600),
            (6, 1.0, 2000),
            (40, 1.0, 2000),
            (1, 0.5, 50),
            (40, 0.0, 1000),
        ];
        for (attempt, jitter, ms) in table {
            assert_eq!(
                backoff(attempt, min, max, jitter),
                Duration::from_millis(ms),
                "{attempt} {jitter}"
            );
        }
    }
}
