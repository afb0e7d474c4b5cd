//! The `{code, message}` error shape that crosses every boundary (REST, IPC).

use serde::{Deserialize, Serialize};

use crate::wire::ErrorCode;

/// An error as a peer sees it: a stable machine-readable code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What kind of failure; callers match on this.
    pub code: ErrorCode,
    /// An explanation for people; never parsed.
    pub message: String,
    /// With `rate_limited`: how long to wait before trying again, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u32>,
}

impl ErrorBody {
    /// An error of the given kind.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// A `rate_limited` error asking to wait `retry_after_ms`.
    pub fn rate_limited(message: impl Into<String>, retry_after_ms: u32) -> Self {
        Self {
            retry_after_ms: Some(retry_after_ms),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }
}

impl From<crate::wire::Error> for ErrorBody {
    fn from(error: crate::wire::Error) -> Self {
        Self {
            code: error.code(),
            retry_after_ms: (error.retry_after_ms > 0).then_some(error.retry_after_ms),
            message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_serialises_code_as_snake_case() {
        let body = ErrorBody::new(ErrorCode::InvalidCredentials, "wrong password");
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"code":"invalid_credentials","message":"wrong password"}"#
        );
        assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), body);
        let limited = serde_json::to_string(&ErrorBody::rate_limited("wait", 1500)).unwrap();
        assert_eq!(
            limited,
            r#"{"code":"rate_limited","message":"wait","retry_after_ms":1500}"#
        );
    }
}
