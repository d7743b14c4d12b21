//! [`AuthRejection`]: the core's [`Refusal`] as an axum rejection, and [`render`], the one place
//! a refusal becomes an axum response.

use std::fmt;
use std::ops::Deref;

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};

use frontegg_auth::{AuthError, Refusal};

/// The rejection of every extractor and layer of this crate: the core's [`Refusal`], whose
/// answers are in the core's [table of answers](frontegg_auth::refusal#answers). It dereferences
/// to the refusal (`rejection.status()`, `rejection.error()`, `rejection.is_misconfiguration()`).
///
/// A handler that wants to answer its own way takes `Result<Identity, AuthRejection>` and
/// inspects it (see the [crate guide](crate#answering-your-own-way)).
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

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        render(&self.0)
    }
}

/// A refusal as a response (axum's, or any body a tower layer needs): the core's status, headers
/// and body, byte for byte.
pub fn render<B: From<Bytes>>(refusal: &Refusal) -> http::Response<B> {
    refusal.to_response()
}
