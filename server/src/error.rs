//! The one error type of the server's handlers: it carries an [`ErrorCode`], logs internals
//! and shows peers only a safe message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use flint_proto::{wire, ErrorBody, ErrorCode};

use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed or invalid input.
    #[error("{0}")]
    BadRequest(String),
    /// Input larger than a limit.
    #[error("{0}")]
    TooLarge(String),
    /// No valid session.
    #[error("not signed in")]
    Unauthenticated,
    /// Wrong username or password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Registration is closed.
    #[error("registration is closed on this server")]
    RegistrationClosed,
    /// Too many requests.
    #[error("too many requests")]
    RateLimited {
        /// When to try again.
        retry_after_ms: u32,
    },
    /// A protocol version the server does not speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u32),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else that went wrong inside.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The shared error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::RegistrationClosed => ErrorCode::RegistrationClosed,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            Self::Store(StoreError::NotFound(_)) => ErrorCode::NotFound,
            Self::Store(StoreError::Forbidden(_)) => ErrorCode::Forbidden,
            Self::Store(StoreError::Conflict(_)) => ErrorCode::Conflict,
            Self::Store(StoreError::Invalid(_)) => ErrorCode::BadRequest,
            Self::Store(StoreError::Closed) => ErrorCode::Unavailable,
            Self::Store(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The message a peer sees: internals are logged here and replaced by a generic text.
    fn public_message(&self) -> String {
        match self.code() {
            ErrorCode::Internal => {
                tracing::error!(error = %self, "internal error");
                "internal server error".to_owned()
            }
            _ => self.to_string(),
        }
    }

    /// The error as a wire frame's `Error`.
    pub fn to_wire(&self) -> wire::Error {
        wire::Error {
            code: self.code() as i32,
            message: self.public_message(),
            retry_after_ms: match self {
                Self::RateLimited { retry_after_ms } => *retry_after_ms,
                _ => 0,
            },
        }
    }

    fn status(&self) -> StatusCode {
        match self.code() {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::RegistrationClosed => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::UnsupportedVersion => StatusCode::UPGRADE_REQUIRED,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal | ErrorCode::Unspecified => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for AppError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::TooLarge("request body is too large".into())
        } else {
            Self::BadRequest(rejection.body_text())
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.code(), self.public_message());
        (self.status(), Json(body)).into_response()
    }
}
