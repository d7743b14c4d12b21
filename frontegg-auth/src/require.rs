//! Middleware that enforces a [`Requirement`] on the [`Identity`] put there by
//! [`Authenticate`](crate::Authenticate): [`RequireLayer`], [`Require`], [`RequireFuture`].
//!
//! An anonymous caller (the optional layer's [`Anonymous`]): 401. An identity that fails the
//! requirement: 403, with what was missing. Neither an identity nor [`Anonymous`]: no
//! authentication layer ran before this one, a server misconfiguration answered 500 (and logged)
//! rather than blamed on the caller.
//!
//! ```
//! use frontegg_auth::{AuthenticateLayer, Authenticator, RequireLayer, Requirement};
//! use tower::ServiceBuilder;
//! # fn demo(auth: Authenticator) {
//! let stack = ServiceBuilder::new()
//!     .layer(AuthenticateLayer::new(auth))
//!     .layer(RequireLayer::new(Requirement::all_permissions(["reports.read", "reports.write"])));
//! # let _ = stack;
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::authenticate::Anonymous;
use crate::authorize::Requirement;
use crate::claims::Identity;
use crate::error::AuthError;

/// Applies [`Require`] to a service.
#[derive(Debug, Clone)]
pub struct RequireLayer {
    requirement: Arc<Requirement>,
}

impl RequireLayer {
    /// Enforces `requirement`.
    pub fn new(requirement: Requirement) -> Self {
        RequireLayer { requirement: Arc::new(requirement) }
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = Require<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Require { inner, requirement: self.requirement.clone() }
    }
}

/// Enforces a requirement; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Require<S> {
    inner: S,
    requirement: Arc<Requirement>,
}

/// Checks a request's identity against a requirement: what [`Require`] and the adapters share.
pub fn check_request_identity(identity: Option<&Identity>, requirement: &Requirement) -> Result<(), AuthError> {
    let identity = identity.ok_or(AuthError::MissingCredential)?;
    requirement.check(identity).map_err(AuthError::Forbidden)
}

/// The 500 of a requirement with no authentication layer before it.
fn missing_layer_response<B: From<Bytes>>() -> Response<B> {
    crate::error_response(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "No Frontegg authentication layer ran before this requirement: add AuthenticateLayer outside it",
    )
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Require<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = RequireFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let identity = req.extensions().get::<Identity>();
        if identity.is_none() && req.extensions().get::<Anonymous>().is_none() {
            tracing::error!("frontegg: a requirement layer found no authentication layer before it; answering 500");
            return RequireFuture { state: State::Refused { response: Some(missing_layer_response()) } };
        }
        match check_request_identity(identity, &self.requirement) {
            Ok(()) => RequireFuture { state: State::Inner { future: self.inner.call(req) } },
            Err(e) => RequireFuture { state: State::Refused { response: Some(e.into_response()) } },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Require`]: the inner service's, or an immediate refusal.
    pub struct RequireFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Inner { #[pin] future: F },
        Refused { response: Option<Response<B>> },
    }
}

impl<F, B, E> Future for RequireFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after completion: a contract breach of the caller; stay pending
                // rather than panic.
                None => Poll::Pending,
            },
        }
    }
}
