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
}

impl ErrorBody {
    /// An error of the given kind.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::wire::Error> for ErrorBody {
    fn from(error: crate::wire::Error) -> Self {
        Self {
            code: error.code(),
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
    }
}
