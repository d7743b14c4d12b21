//! [`AuthRejection`]: why a middleware or an extractor of this crate refused a request.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use frontegg_auth::AuthError;

/// The message of [`AuthRejection::MissingMiddleware`].
const MISSING_MIDDLEWARE: &str = "The Frontegg authentication middleware is not installed in front of this handler: \
     wrap the App or an enclosing scope with frontegg_actix::Authenticate::new(..) or \
     Authenticate::optional(..), as the last (outermost) wrap";

/// Why a middleware ([`Authenticate`](crate::Authenticate), [`Authorize`](crate::Authorize)) or
/// an extractor ([`Identity`](crate::Identity), [`MaybeIdentity`](crate::MaybeIdentity),
/// [`Require`](crate::Require)) refused a request.
///
/// Its [`ResponseError`] gives the answers below; a handler that wants to answer its own way takes
/// `Result<Identity, AuthRejection>` and inspects it (see the [crate guide](crate#answering-your-own-way)).
///
/// | variant | status | body |
/// |---|---|---|
/// | [`Auth`](Self::Auth) | the error's: 401, 403 or 503 | the core's RFC 6750 answer: [`AuthError::status`], [`AuthError::response_headers`], [`AuthError::body`] |
/// | [`MissingMiddleware`](Self::MissingMiddleware) | 500 | `{"error": "server_error", ...}` |
/// | [`MissingPathParam`](Self::MissingPathParam) | 500 | `{"error": "server_error", ...}` |
///
/// The 500s are server misconfigurations, never the caller's fault; their messages say what to
/// fix. They carry `Content-Type: application/json` and `Cache-Control: no-store`, and no
/// `WWW-Authenticate` challenge.
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
#[non_exhaustive]
pub enum AuthRejection {
    /// The caller was refused: no credential where one is needed, a bad credential (401), a right
    /// missing (403), or Frontegg unreachable (503). Answered with the core's RFC 6750 response:
    /// status, `WWW-Authenticate`, `Cache-Control`, JSON body `{"error", "error_description"}`.
    Auth(AuthError),
    /// The request carries neither an identity nor the core's [`Anonymous`](crate::Anonymous)
    /// marker: no [`Authenticate`](crate::Authenticate) middleware ran before the extractor (it is
    /// missing, or it was registered *before* the middleware that needs it, which makes it the
    /// inner one: in actix-web the last `wrap` runs first). A server misconfiguration: 500.
    MissingMiddleware,
    /// The [tenant check](crate::require_tenant_from_path) found no path parameter of this name:
    /// the route has none, or the check wraps the App or a scope whose own path does not declare
    /// it (match info is only known for the path segments matched so far). A server
    /// misconfiguration: 500.
    MissingPathParam(String),
}

impl AuthRejection {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthRejection::Auth(error) => {
                StatusCode::from_u16(error.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            AuthRejection::MissingMiddleware | AuthRejection::MissingPathParam(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The core's error, when the caller was refused ([`AuthRejection::Auth`]); `None` for the
    /// misconfigurations.
    pub fn error(&self) -> Option<&AuthError> {
        match self {
            AuthRejection::Auth(error) => Some(error),
            _ => None,
        }
    }

    /// The core's error, by value; see [`error`](Self::error).
    pub fn into_error(self) -> Option<AuthError> {
        match self {
            AuthRejection::Auth(error) => Some(error),
            _ => None,
        }
    }

    /// Whether this is a server misconfiguration (a 500) rather than a verdict on the caller.
    pub fn is_misconfiguration(&self) -> bool {
        matches!(self, AuthRejection::MissingMiddleware | AuthRejection::MissingPathParam(_))
    }

    /// Logs a misconfiguration loudly: the 500 it causes says little to whoever reads the logs.
    pub(crate) fn log(&self) {
        if self.is_misconfiguration() {
            tracing::error!(rejection = %self, "frontegg-actix is misconfigured");
        }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthRejection::Auth(error) => error.fmt(f),
            AuthRejection::MissingMiddleware => f.write_str(MISSING_MIDDLEWARE),
            AuthRejection::MissingPathParam(name) => write!(
                f,
                "The route has no path parameter `{name}` for the Frontegg tenant check: check the \
                 parameter's name, and wrap the resource (or the scope whose path declares it), not the App"
            ),
        }
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthRejection::Auth(error) => Some(error),
            _ => None,
        }
    }
}

impl From<AuthError> for AuthRejection {
    fn from(error: AuthError) -> Self {
        AuthRejection::Auth(error)
    }
}

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AuthRejection::Auth(error) => auth_error_response(error),
            _ => {
                let mut response = HttpResponse::build(self.status());
                response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
                response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
                response.body(frontegg_auth::error_body("server_error", &self.to_string()))
            }
        }
    }
}

/// The core's answer to `error`, in actix-web's types: status, every header of
/// [`AuthError::response_headers`] copied by name and bytes, and [`AuthError::body`].
fn auth_error_response(error: &AuthError) -> HttpResponse {
    let status = StatusCode::from_u16(error.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in error.response_headers() {
        // Both conversions accept everything the `http` crate does; a failure is impossible, and
        // would drop that one header rather than panic.
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
        {
            response.append_header((name, value));
        }
    }
    response.body(error.body())
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    fn body_of(response: HttpResponse) -> serde_json::Value {
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[test]
    fn statuses() {
        assert_eq!(AuthRejection::MissingMiddleware.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(AuthRejection::MissingPathParam("t".into()).status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(AuthRejection::from(AuthError::MissingCredential).status(), StatusCode::UNAUTHORIZED);
        assert_eq!(AuthRejection::from(AuthError::KeysUnavailable).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(AuthRejection::MissingMiddleware.is_misconfiguration());
        assert!(AuthRejection::MissingMiddleware.error().is_none());
        assert_eq!(AuthRejection::from(AuthError::Expired).into_error(), Some(AuthError::Expired));
    }

    /// Every header and the body of the core's answer, byte for byte.
    #[test]
    fn auth_errors_are_answered_like_the_core() {
        for error in [
            AuthError::MissingCredential,
            AuthError::Expired,
            AuthError::Malformed("x"),
            AuthError::KeysUnavailable,
            AuthError::ApiUnavailable,
        ] {
            let core = error.into_response::<Vec<u8>>();
            let ours = AuthRejection::from(error.clone()).error_response();
            assert_eq!(ours.status().as_u16(), core.status().as_u16());
            assert_eq!(ours.headers().len(), core.headers().len(), "{error:?}");
            for (name, value) in core.headers() {
                let copied = ours.headers().get(name.as_str()).map(|v| v.as_bytes().to_vec());
                assert_eq!(copied.as_deref(), Some(value.as_bytes()), "{name}");
            }
            let body = ours.into_body().try_into_bytes().unwrap_or_default();
            assert_eq!(&body[..], &core.body()[..]);
        }
    }

    #[test]
    fn misconfigurations_are_json_500s() {
        let response = AuthRejection::MissingMiddleware.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"application/json"[..]));
        assert_eq!(response.headers().get(header::CACHE_CONTROL).map(|v| v.as_bytes()), Some(&b"no-store"[..]));
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
        let body = body_of(response);
        assert_eq!(body["error"], "server_error");
        assert!(body["error_description"].as_str().unwrap_or_default().contains("Authenticate"));
    }
}
