//! The engine's error type. Every error maps to a shared [`ErrorCode`] so front ends match on
//! codes, never on text.

use flint_proto::{ErrorBody, ErrorCode};

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused the request.
    #[error("{message}")]
    Server {
        /// The server's code.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
        /// With `RateLimited`: how long to wait.
        retry_after_ms: u32,
    },
    /// Not connected right now; the operation needs the server.
    #[error("not connected to the server")]
    Offline,
    /// The server did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The connection failed or dropped.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The server answered something this client cannot read.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The input is invalid before it reaches the server.
    #[error("{0}")]
    Invalid(String),
    /// The input is larger than what it is for allows.
    #[error("{0}")]
    TooLarge(String),
    /// The thing asked for does not exist locally.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The local database failed.
    #[error("local database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The local database was written by a newer Flint.
    #[error("local database version {found} is newer than this Flint supports ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: i64,
        /// Newest version known.
        supported: i64,
    },
    /// A file operation failed.
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    /// The user cancelled the operation.
    #[error("cancelled")]
    Cancelled,
    /// The device an action needs (a microphone) is missing or could not be opened.
    #[error("no device: {0}")]
    NoDevice(String),
    /// The client is shut down.
    #[error("the client has shut down")]
    Closed,
    /// The server address is plain `http://` to another machine and insecure connections are
    /// not allowed.
    #[error("the server address is not encrypted (http://); use https:// or allow an insecure connection")]
    InsecureTransport,
}

impl Error {
    /// The shared code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Server { code, .. } => *code,
            Self::Offline | Self::Timeout | Self::Connection(_) | Self::Closed => {
                ErrorCode::Unavailable
            }
            Self::Invalid(_) => ErrorCode::BadRequest,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::InsecureTransport => ErrorCode::InsecureTransport,
            Self::Cancelled => ErrorCode::Cancelled,
            Self::NoDevice(_) => ErrorCode::NoDevice,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Protocol(_) | Self::Database(_) | Self::SchemaTooNew { .. } | Self::Io(_) => {
                ErrorCode::Internal
            }
        }
    }

    /// The `{code, message}` shape for IPC (with the wait, for a rate limit).
    pub fn to_body(&self) -> ErrorBody {
        let mut body = ErrorBody::new(self.code(), self.to_string());
        if let Self::Server { retry_after_ms, .. } = self {
            body.retry_after_ms = (*retry_after_ms > 0).then_some(*retry_after_ms);
        }
        body
    }

    /// True for refusals that will not change on retry (the message must be marked failed).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self.code(),
            ErrorCode::BadRequest
                | ErrorCode::Forbidden
                | ErrorCode::NotFound
                | ErrorCode::TooLarge
                | ErrorCode::QuotaExceeded
                | ErrorCode::TypeNotAllowed
                | ErrorCode::Cancelled
        )
    }

    pub(crate) fn from_wire(error: flint_proto::wire::Error) -> Self {
        Self::Server {
            code: error.code(),
            message: error.message,
            retry_after_ms: error.retry_after_ms,
        }
    }
}

impl From<ErrorBody> for Error {
    fn from(body: ErrorBody) -> Self {
        Self::Server {
            code: body.code,
            message: body.message,
            retry_after_ms: body.retry_after_ms.unwrap_or(0),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
