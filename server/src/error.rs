//! The one error type of the server's handlers: it carries an [`ErrorCode`], logs internals
//! and shows peers only a safe message.

use axum::http::{header, HeaderValue, StatusCode};
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
    /// The thing asked for does not exist (or is not the caller's to see).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The server cannot serve now (its store stopped writing, it is shutting down).
    #[error("{0}")]
    Unavailable(&'static str),
    /// Content that does not match the checksum sent with it.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// A file type the server does not accept.
    #[error("{0}")]
    TypeNotAllowed(String),
    /// Not possible in the current state of the thing (a call answered twice, …).
    #[error("{0}")]
    Conflict(&'static str),
    /// The user is already in a call.
    #[error("{0}")]
    Busy(&'static str),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else that went wrong inside.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A `RateLimited` refusal asking to wait `wait` (at least a millisecond).
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        Self::RateLimited {
            retry_after_ms: u32::try_from(wait.as_millis().max(1)).unwrap_or(u32::MAX),
        }
    }

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
            Self::NotFound(_) | Self::Store(StoreError::NotFound(_)) => ErrorCode::NotFound,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Store(StoreError::Forbidden(_)) => ErrorCode::Forbidden,
            Self::Store(StoreError::Conflict(_)) => ErrorCode::Conflict,
            Self::Store(StoreError::Invalid(_)) => ErrorCode::BadRequest,
            Self::Store(StoreError::QuotaExceeded { .. }) => ErrorCode::QuotaExceeded,
            Self::ChecksumMismatch(_) => ErrorCode::ChecksumMismatch,
            Self::TypeNotAllowed(_) => ErrorCode::TypeNotAllowed,
            Self::Busy(_) => ErrorCode::Busy,
            Self::Conflict(_) => ErrorCode::Conflict,
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
            ErrorCode::BadRequest
            | ErrorCode::InsecureTransport
            | ErrorCode::Cancelled
            | ErrorCode::NoDevice => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::RegistrationClosed => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict | ErrorCode::Busy => StatusCode::CONFLICT,
            ErrorCode::TooLarge | ErrorCode::QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TypeNotAllowed => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::ChecksumMismatch => {
                StatusCode::from_u16(flint_proto::files::CHECKSUM_MISMATCH_STATUS)
                    .unwrap_or(StatusCode::BAD_REQUEST)
            }
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

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut body = ErrorBody::new(self.code(), self.public_message());
        if let Self::RateLimited { retry_after_ms } = self {
            body.retry_after_ms = Some(retry_after_ms);
        }
        let retry = body.retry_after_ms;
        let mut response = (self.status(), Json(body)).into_response();
        let seconds = retry.map(|ms| ms.div_ceil(1000).max(1).to_string());
        if let Some(value) = seconds.and_then(|s| HeaderValue::from_str(&s).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// The shared code for an HTTP status the server did not produce as an `AppError` (axum's and
/// tower's own refusals: unknown route, wrong method, body too large, …).
fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE
        | StatusCode::URI_TOO_LONG
        | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ErrorCode::TooLarge,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    }
}

/// Gives every error response the `{code, message}` shape: responses from Flint's handlers
/// have it already; a refusal from the router or a layer (404, 405, 413, a failed upgrade)
/// gets it here, keeping its status.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = status
        .canonical_reason()
        .unwrap_or("request failed")
        .to_lowercase();
    (
        status,
        Json(ErrorBody::new(code_for_status(status), message)),
    )
        .into_response()
}
