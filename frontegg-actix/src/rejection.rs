//! [`AuthRejection`]: the core's [`Refusal`] as an actix-web error, and [`render`], the one place
//! a refusal becomes an actix-web response.

use std::fmt;
use std::ops::Deref;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use frontegg_auth::{AuthError, Refusal};

/// The error of every extractor and middleware of this crate: the core's [`Refusal`], whose
/// answers are in the core's [table of answers](frontegg_auth::refusal#answers). It dereferences
/// to the refusal (`rejection.status()`, `rejection.error()`, `rejection.is_misconfiguration()`).
///
/// A handler that wants to answer its own way takes `Result<Identity, AuthRejection>` (see the
/// [crate guide](crate#answering-your-own-way)).
///
/// ```
/// use actix_web::ResponseError;
/// use frontegg_actix::{AuthError, AuthRejection};
///
/// let response = AuthRejection::from(AuthError::MissingCredential).error_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers().get("www-authenticate").unwrap(), "Bearer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRejection(pub Refusal);

impl AuthRejection {
    /// The refusal, by value.
    pub fn into_refusal(self) -> Refusal {
        self.0
    }
}

impl Deref for AuthRejection {
    type Target = Refusal;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<Refusal> for AuthRejection {
    fn from(refusal: Refusal) -> Self {
        AuthRejection(refusal)
    }
}

impl From<AuthError> for AuthRejection {
    fn from(error: AuthError) -> Self {
        AuthRejection(Refusal::from(error))
    }
}

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        render(&self.0)
    }
}

/// A refusal as an actix-web response: the core's status, every header copied by name and
/// bytes, and the body, byte for byte.
pub fn render(refusal: &Refusal) -> HttpResponse {
    render_parts(refusal.status(), &refusal.headers(), refusal.body())
}

/// The one conversion of a core answer (status, headers, body) into an actix-web response.
pub(crate) fn render_parts(
    status: http::StatusCode,
    headers: &[(http::HeaderName, http::HeaderValue)],
    body: bytes::Bytes,
) -> HttpResponse {
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in headers {
        // actix-web has its own `http` types; both accept everything the core's do, so a failure
        // is impossible, and would drop that one header rather than panic.
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
        {
            response.append_header((name, value));
        }
    }
    response.body(body)
}
