//! [`AuthRejection`]: why an extractor or a layer of this crate refused a request.

use std::fmt;

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use frontegg_auth::AuthError;

/// The message of [`AuthRejection::MissingLayer`].
const MISSING_LAYER: &str = "The Frontegg authentication layer is not installed in front of this handler: add \
     frontegg_axum::authenticate(..) or frontegg_axum::authenticate_optional(..) with Router::layer, after \
     (outside) the route layers that need it";

/// Why an extractor ([`Identity`](crate::Identity), `Option<Identity>`, [`Require`](crate::Require))
/// or the [tenant layer](crate::require_tenant_from_path) refused a request.
///
/// Its [`IntoResponse`] gives the answers below; a handler that wants to answer its own way takes
/// `Result<Identity, AuthRejection>` and inspects it (see the [crate guide](crate#answering-your-own-way)).
///
/// | variant | status | body |
/// |---|---|---|
/// | [`Auth`](Self::Auth) | the error's: 401, 403 or 503 | the core's RFC 6750 answer, [`AuthError::into_response`] |
/// | [`MissingLayer`](Self::MissingLayer) | 500 | `{"error": "server_error", ...}` |
/// | [`MissingPathParam`](Self::MissingPathParam) | 500 | `{"error": "server_error", ...}` |
/// | [`InvalidPath`](Self::InvalidPath) | 400 | `{"error": "invalid_request", ...}` |
///
/// The 500s are server misconfigurations, never the caller's fault; their messages say what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthRejection {
    /// The caller was refused: no credential where one is needed (401), a right missing (403), or
    /// Frontegg unreachable (503). Answered with the core's RFC 6750 response: status,
    /// `WWW-Authenticate`, JSON body `{"error", "error_description"}`.
    Auth(AuthError),
    /// The request carries neither an identity nor the anonymous marker: no
    /// [`authenticate`](crate::authenticate) or [`authenticate_optional`](crate::authenticate_optional)
    /// layer ran before the handler (it is missing, or was added *before* the route layer that
    /// needs it, which puts it inside). A server misconfiguration: 500.
    MissingLayer,
    /// The [tenant layer](crate::require_tenant_from_path) found no path parameter of this name:
    /// the route has none, or no route matched (the layer was added with `Router::layer`, which
    /// also wraps the fallback, instead of `route_layer`). A server misconfiguration: 500.
    MissingPathParam(String),
    /// Another path parameter of the route is not UTF-8 once decoded, so the [tenant
    /// layer](crate::require_tenant_from_path) cannot read its own: 400, with axum's description.
    InvalidPath(String),
}

impl AuthRejection {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthRejection::Auth(error) => error.status(),
            AuthRejection::MissingLayer | AuthRejection::MissingPathParam(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AuthRejection::InvalidPath(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The core's error, when the caller was refused ([`AuthRejection::Auth`]); `None` for the
    /// misconfigurations and malformed paths.
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
        matches!(self, AuthRejection::MissingLayer | AuthRejection::MissingPathParam(_))
    }

    /// The answer, for any body type that can be made from bytes (what the tower layers need).
    pub(crate) fn to_response<B: From<Bytes>>(&self) -> http::Response<B> {
        match self {
            AuthRejection::Auth(error) => error.into_response(),
            _ => {
                let code = if self.status() == StatusCode::BAD_REQUEST { "invalid_request" } else { "server_error" };
                frontegg_auth::error_response(self.status(), code, &self.to_string())
            }
        }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthRejection::Auth(error) => error.fmt(f),
            AuthRejection::MissingLayer => f.write_str(MISSING_LAYER),
            AuthRejection::MissingPathParam(name) => write!(
                f,
                "The route has no path parameter `{name}` for the Frontegg tenant check: check the \
                 parameter's name, and add the check with route_layer (with layer, it also wraps the \
                 fallback)"
            ),
            AuthRejection::InvalidPath(description) => f.write_str(description),
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

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(AuthRejection::MissingLayer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(AuthRejection::MissingPathParam("t".into()).status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(AuthRejection::InvalidPath("x".into()).status(), StatusCode::BAD_REQUEST);
        assert_eq!(AuthRejection::from(AuthError::MissingCredential).status(), StatusCode::UNAUTHORIZED);
        assert_eq!(AuthRejection::from(AuthError::KeysUnavailable).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(AuthRejection::MissingLayer.is_misconfiguration());
        assert!(AuthRejection::MissingLayer.error().is_none());
        assert_eq!(AuthRejection::from(AuthError::Expired).into_error(), Some(AuthError::Expired));
    }
}
