//! Errors of calls to the Frontegg API, with their sources.

use std::fmt;
use std::sync::Arc;

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
    #[error("Frontegg answered HTTP {status}: {}{}", messages.join("; "), trace_suffix(trace_id))]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// Frontegg's error messages.
        messages: Vec<String>,
        /// The `frontegg-trace-id` answer header, which Frontegg's support asks for.
        trace_id: Option<String>,
    },
    /// Still rate limited (HTTP 429) after the retries, or the reset is too far away to wait for.
    #[error("Frontegg is rate limiting this client (HTTP 429)")]
    RateLimited {
        /// When Frontegg says the limit resets (`X-Rate-Limit-Reset`), if it said.
        reset: Option<std::time::SystemTime>,
    },
    /// Frontegg could not be reached, or did not answer in time.
    #[error("Frontegg could not be reached")]
    Transport(#[source] TransportError),
    /// An id that cannot name one thing: empty, only whitespace, `.` or `..` (which URL
    /// normalisation would drop), holding a control character, or, for an id sent in a header,
    /// not a valid header value.
    #[error("an id must not be empty, blank, \".\" or \"..\", nor hold control characters")]
    InvalidId,
    /// The answer is larger than the cap for its kind.
    #[error("Frontegg's answer exceeds {max} bytes")]
    TooLarge {
        /// The cap, in bytes.
        max: usize,
    },
    /// The answer was not what the API documents.
    #[error("Frontegg's answer could not be read")]
    Decode(#[source] DecodeError),
    /// A request this client will not send, and why: an update that changes nothing, roles for
    /// a user's token (which has the user's), more ids than a URL carries.
    #[error("the request cannot be sent: {0}")]
    InvalidRequest(&'static str),
    /// A paged list has more pages than the stream's cap: the items read so far are not all.
    #[error("the list has more than {pages} pages; the stream stopped there")]
    PageCapReached {
        /// The cap, in pages.
        pages: u32,
    },
    /// Frontegg refused to exchange an API token's client id and secret (HTTP 400 or 401): a
    /// wrong secret, or a token deleted or expired.
    #[error("Frontegg refused the API token's client id and secret")]
    ExchangeRefused,
    /// [`Users::set_roles`](super::Users::set_roles) made some of its changes and not others:
    /// what it applied, what it could not, and the first failure.
    #[error("some role changes failed ({} applied, {} failed)", applied.len(), failed.len())]
    RolesPartlySet {
        /// The changes made.
        applied: RoleChanges,
        /// The changes not made.
        failed: RoleChanges,
        /// Why they were not made.
        #[source]
        cause: Box<ApiError>,
    },
}

/// Role changes of a user in a tenant: what [`Users::set_roles`](super::Users::set_roles) did
/// (or, in [`ApiError::RolesPartlySet`], could not do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoleChanges {
    /// Role ids assigned.
    pub assigned: Vec<String>,
    /// Role ids unassigned.
    pub unassigned: Vec<String>,
}

impl RoleChanges {
    /// How many changes.
    pub fn len(&self) -> usize {
        self.assigned.len() + self.unassigned.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn trace_suffix(trace_id: &Option<String>) -> String {
    trace_id.as_deref().map(|t| format!(" (frontegg-trace-id {t})")).unwrap_or_default()
}

impl ApiError {
    /// Whether the failure says nothing about the request itself (network, 5xx, 429): such
    /// outcomes are never cached as a verdict.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::RolesPartlySet { cause, .. } => cause.is_transient(),
            ApiError::Transport(_) | ApiError::RateLimited { .. } => true,
            ApiError::Status { status, .. } => status.is_server_error() || *status == StatusCode::REQUEST_TIMEOUT,
            _ => false,
        }
    }

    /// The HTTP status Frontegg answered, if it answered one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::RolesPartlySet { cause, .. } => cause.status(),
            ApiError::InvalidCredentials => Some(StatusCode::UNAUTHORIZED),
            ApiError::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            _ => None,
        }
    }

    /// The `frontegg-trace-id` of Frontegg's answer, when it sent one: quote it to Frontegg's
    /// support.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            ApiError::Status { trace_id, .. } => trace_id.as_deref(),
            ApiError::RolesPartlySet { cause, .. } => cause.trace_id(),
            _ => None,
        }
    }

    pub(crate) fn decode(source: serde_json::Error) -> ApiError {
        ApiError::Decode(DecodeError::of(&source))
    }
}

/// What went wrong on the way to Frontegg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No answer within the timeout.
    Timeout,
    /// The connection could not be opened.
    Connect,
    /// The answer broke off while it was read.
    Body,
    /// The call was dropped before it finished (its runtime shut down).
    Cancelled,
    /// Any other failure of the HTTP client.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timed out",
            TransportKind::Connect => "connection failed",
            TransportKind::Body => "the answer broke off",
            TransportKind::Cancelled => "the call was cancelled",
            TransportKind::Other => "request failed",
        })
    }
}

/// A transport failure: its kind, and the HTTP client's error as the source, stripped of its URL
/// (which may carry ids). Two transport errors are equal when they are of the same kind.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: TransportKind,
    #[source]
    source: Option<Arc<reqwest::Error>>,
}

impl TransportError {
    pub(crate) fn from_reqwest(error: reqwest::Error) -> TransportError {
        let kind = if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else if error.is_body() || error.is_decode() {
            TransportKind::Body
        } else {
            TransportKind::Other
        };
        TransportError { kind, source: Some(Arc::new(error.without_url())) }
    }

    pub(crate) fn cancelled() -> TransportError {
        TransportError { kind: TransportKind::Cancelled, source: None }
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }
}

impl PartialEq for TransportError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Eq for TransportError {}

/// An answer that is not the documented JSON: where the parser stopped and what kind of error
/// it was. The parser's own message is not kept: it may quote a value of the answer, and some
/// answers hold secrets. Two decode errors are equal when they are of the same kind.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the JSON does not have the documented shape ({} error at line {line}, column {column})", self.kind())]
pub struct DecodeError {
    category: serde_json::error::Category,
    line: usize,
    column: usize,
}

impl DecodeError {
    fn of(error: &serde_json::Error) -> DecodeError {
        DecodeError { category: error.classify(), line: error.line(), column: error.column() }
    }

    fn kind(&self) -> &'static str {
        use serde_json::error::Category;
        match self.category {
            Category::Io => "read",
            Category::Syntax => "syntax",
            Category::Data => "shape",
            Category::Eof => "truncation",
        }
    }
}

impl PartialEq for DecodeError {
    fn eq(&self, other: &Self) -> bool {
        self.category == other.category
    }
}

impl Eq for DecodeError {}
