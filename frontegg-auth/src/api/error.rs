use http::StatusCode;

/// A failed call to the Frontegg API.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiError {
    /// No client id and API key are configured, and the call needs the vendor token.
    #[error("the Frontegg API needs credentials: set FRONTEGG_CLIENT_ID and FRONTEGG_API_KEY")]
    NoCredentials,
    /// `POST /auth/vendor` refused the client id and API key.
    #[error("Frontegg refused the client id and API key (HTTP 401): check FRONTEGG_CLIENT_ID and FRONTEGG_API_KEY")]
    InvalidCredentials,
    /// Frontegg answered with an error status; `messages` are its `errors` (and `message`).
    #[error("Frontegg answered HTTP {status}: {}", messages.join("; "))]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// Frontegg's error messages.
        messages: Vec<String>,
    },
    /// Still rate limited (HTTP 429) after the retries, or the reset is too far away to wait for.
    #[error("Frontegg is rate limiting this client (HTTP 429)")]
    RateLimited {
        /// When Frontegg says the limit resets (`X-Rate-Limit-Reset`), if it said.
        reset: Option<std::time::SystemTime>,
    },
    /// Frontegg could not be reached, or did not answer in time.
    #[error("Frontegg could not be reached: {0}")]
    Transport(String),
    /// An id that would not stay one path segment: empty, `.` or `..`.
    #[error("an id must not be empty, \".\" or \"..\"")]
    InvalidId,
    /// The answer was not what the API documents.
    #[error("Frontegg's answer could not be read: {0}")]
    Decode(String),
}

impl ApiError {
    /// Whether the failure says nothing about the request itself (network, 5xx, 429): such
    /// outcomes are never cached as a verdict.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport(_) | ApiError::RateLimited { .. } => true,
            ApiError::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }

    /// The HTTP status Frontegg answered, if it answered one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::InvalidCredentials => Some(StatusCode::UNAUTHORIZED),
            ApiError::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            _ => None,
        }
    }
}
