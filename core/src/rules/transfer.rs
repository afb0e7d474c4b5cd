//! What happens to an upload or a download after a failure.

use std::time::Duration;

use flint_proto::ErrorCode;

use super::outbox::RetryPolicy;
use crate::error::Error;

/// What to do with an upload or a download whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Mark the message failed with this reason (the user may retry); with `forget`, the
    /// next attempt starts afresh (the file changed, or the user cancelled).
    Fail {
        /// Why.
        reason: ErrorCode,
        /// Whether to drop where the upload stood.
        forget: bool,
    },
    /// Try again after this wait.
    RetryIn(Duration),
}

/// The decision after a failed attempt; `attempts` counts failed attempts, this one included.
/// A lost connection or a server restart is transient (the upload resumes where the server
/// stopped); a refusal, a local file that cannot be read or a cancel is final.
pub fn after_failure(policy: &RetryPolicy, attempts: u32, error: &Error) -> Decision {
    let code = error.code();
    match error {
        Error::Cancelled => Decision::Fail {
            reason: code,
            forget: true,
        },
        Error::Server {
            code: ErrorCode::ChecksumMismatch,
            ..
        } => Decision::Fail {
            reason: code,
            forget: true,
        },
        Error::Io(_) => Decision::Fail {
            reason: code,
            forget: false,
        },
        error if error.is_permanent() => Decision::Fail {
            reason: code,
            forget: false,
        },
        _ if attempts >= policy.max_attempts => Decision::Fail {
            reason: code,
            forget: false,
        },
        _ => Decision::RetryIn(policy.delay(attempts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: ErrorCode) -> Error {
        Error::Server {
            code,
            message: String::new(),
            retry_after_ms: 0,
        }
    }

    #[test]
    fn failures_are_final_or_retried_as_their_kind_says() {
        let policy = RetryPolicy::default();
        let table = [
            (Error::Cancelled, Some((ErrorCode::Cancelled, true))),
            (
                server(ErrorCode::ChecksumMismatch),
                Some((ErrorCode::ChecksumMismatch, true)),
            ),
            (
                server(ErrorCode::QuotaExceeded),
                Some((ErrorCode::QuotaExceeded, false)),
            ),
            (
                server(ErrorCode::TypeNotAllowed),
                Some((ErrorCode::TypeNotAllowed, false)),
            ),
            (
                server(ErrorCode::TooLarge),
                Some((ErrorCode::TooLarge, false)),
            ),
            (
                Error::Io(std::io::ErrorKind::NotFound.into()),
                Some((ErrorCode::Internal, false)),
            ),
            (Error::Connection("reset".into()), None),
            (server(ErrorCode::Unavailable), None),
            (Error::Timeout, None),
        ];
        for (error, expected) in table {
            let decision = after_failure(&policy, 1, &error);
            match expected {
                Some((reason, forget)) => {
                    assert_eq!(decision, Decision::Fail { reason, forget }, "{error}")
                }
                None => assert_eq!(decision, Decision::RetryIn(policy.delay(1)), "{error}"),
            }
        }
        let last = after_failure(&policy, policy.max_attempts, &Error::Timeout);
        assert!(matches!(last, Decision::Fail { forget: false, .. }));
    }
}
