//! One error type for every refusal, and its HTTP answer (RFC 6750).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};

use crate::authorize::Denied;

/// Why a request was refused. Each variant maps to one HTTP status:
///
/// | status | variants |
/// |---|---|
/// | 401 | a missing, malformed, expired, mis-signed, revoked or misplaced credential |
/// | 403 | [`AuthError::Forbidden`]: a good credential without the right |
/// | 503 | [`AuthError::KeysUnavailable`], [`AuthError::ApiUnavailable`]: Frontegg unreachable, nothing cached |
///
/// [`AuthError::into_response`] renders the answer: the status, a `WWW-Authenticate: Bearer`
/// challenge and a JSON body `{"error", "error_description"}`. Neither ever contains the token or
/// anything read from it.
///
/// ```
/// use frontegg_auth::AuthError;
/// let err = AuthError::Expired;
/// assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
/// assert_eq!(
///     err.www_authenticate(),
///     r#"Bearer error="invalid_token", error_description="The token has expired""#
/// );
/// ```
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// Neither `Authorization: Bearer` nor `x-api-key` was sent.
    #[error("No credential was presented")]
    MissingCredential,
    /// The credential is not a well-formed JWT, or its header is unusable.
    #[error("The credential is malformed: {0}")]
    Malformed(&'static str),
    /// The token exceeds the configured size.
    #[error("The token is too large")]
    TooLarge,
    /// The token's `alg` is not among the allowed algorithms (this includes `none`).
    #[error("The token's algorithm is not accepted")]
    AlgorithmNotAllowed,
    /// No signing key matches the token's `kid`, even after a refetch.
    #[error("No signing key matches the token")]
    UnknownKey,
    /// The signature does not verify.
    #[error("The token's signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past.
    #[error("The token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("The token is not valid yet")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("The token's issuer is not accepted")]
    InvalidIssuer,
    /// `aud` holds none of the accepted audiences.
    #[error("The token's audience is not accepted")]
    InvalidAudience,
    /// A required claim is missing or has the wrong type.
    #[error("The token's claims are invalid: {0}")]
    InvalidClaims(&'static str),
    /// The token type is unknown, or not accepted in the header it came in.
    #[error("{0}")]
    WrongTokenType(&'static str),
    /// The access token is revoked or unknown to Frontegg (or access tokens are disabled).
    #[error("The access token is revoked or unknown")]
    Revoked,
    /// A valid credential without the right.
    #[error("{0}")]
    Forbidden(Denied),
    /// No signing key could be loaded and none is cached.
    #[error("The signing keys cannot be loaded")]
    KeysUnavailable,
    /// The Frontegg API could not answer a lookup and no cached answer stands.
    #[error("The Frontegg API is unavailable")]
    ApiUnavailable,
}

impl AuthError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Forbidden(_) => StatusCode::FORBIDDEN,
            AuthError::KeysUnavailable | AuthError::ApiUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The error code of the JSON body (and, for 401 and 403, of the challenge).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingCredential => "unauthorized",
            AuthError::Forbidden(_) => "insufficient_scope",
            AuthError::KeysUnavailable | AuthError::ApiUnavailable => "temporarily_unavailable",
            _ => "invalid_token",
        }
    }

    /// The human-readable description of the body and the challenge. It never quotes the token.
    pub fn description(&self) -> String {
        self.to_string()
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3).
    pub fn www_authenticate(&self) -> String {
        match self {
            // §3.1: a request without credentials gets no error code.
            AuthError::MissingCredential => "Bearer".to_owned(),
            AuthError::KeysUnavailable | AuthError::ApiUnavailable => "Bearer".to_owned(),
            AuthError::Forbidden(denied) => {
                let mut out = format!(
                    "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
                    quoted(&self.description())
                );
                let scope = denied.scope();
                if !scope.is_empty() {
                    out.push_str(&format!(", scope=\"{}\"", quoted(&scope)));
                }
                out
            }
            _ => format!("Bearer error=\"invalid_token\", error_description=\"{}\"", quoted(&self.description())),
        }
    }

    /// The JSON body `{"error": ..., "error_description": ...}`.
    pub fn body(&self) -> Bytes {
        error_body(self.code(), &self.description())
    }

    /// The headers of the answer: `Content-Type`, `WWW-Authenticate`, `Cache-Control`, and
    /// `Retry-After` on 503. Adapters for frameworks with their own header types copy these, so
    /// that every adapter answers byte for byte the same.
    pub fn response_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        if let Ok(value) = HeaderValue::from_str(&self.www_authenticate()) {
            headers.push((header::WWW_AUTHENTICATE, value));
        }
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            headers.push((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        headers
    }

    /// The whole answer, for any body type that can be made from bytes.
    pub fn into_response<B: From<Bytes>>(&self) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.body()));
        *response.status_mut() = self.status();
        response.headers_mut().extend(self.response_headers());
        response
    }

    /// Whether the answer is 503: the caller may retry.
    pub fn is_unavailable(&self) -> bool {
        self.status() == StatusCode::SERVICE_UNAVAILABLE
    }
}

/// The JSON body of every answer of this library, `{"error": code, "error_description": text}`.
/// Adapters use it for the answers that are theirs alone (a missing layer is a 500), so that
/// every body has one shape.
///
/// ```
/// let body = frontegg_auth::error_body("server_error", "The \"layer\" is missing");
/// assert_eq!(body, r#"{"error":"server_error","error_description":"The \"layer\" is missing"}"#);
/// ```
pub fn error_body(code: &str, description: &str) -> Bytes {
    let body = serde_json::json!({ "error": code, "error_description": description });
    Bytes::from(body.to_string())
}

/// An answer of this library's shape that is not an [`AuthError`]: `status`, the
/// [`error_body`], `Content-Type: application/json` and `Cache-Control: no-store`, no challenge.
/// What a misconfigured server answers (a 500 naming what to fix).
pub fn error_response<B: From<Bytes>>(status: StatusCode, code: &str, description: &str) -> http::Response<B> {
    let mut response = http::Response::new(B::from(error_body(code, description)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Makes text safe inside an RFC 7230 quoted-string: no quotes, backslashes or control characters.
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_challenges() {
        let missing = AuthError::MissingCredential;
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(missing.www_authenticate(), "Bearer");
        let r: http::Response<Bytes> = AuthError::KeysUnavailable.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }

    #[test]
    fn quoting_removes_what_would_break_the_header() {
        assert_eq!(quoted("a\"b\\c\n"), "a'b'c?");
    }
}
