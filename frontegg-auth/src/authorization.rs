//! Middleware that enforces a [`Requirement`] on the [`Caller`] that the
//! [authentication](crate::authentication) found: [`RequirementLayer`], [`RequirementService`],
//! [`RequirementFuture`].
//!
//! An anonymous caller: 401. An identity that fails the requirement: 403, with what was missing.
//! No caller at all: no authentication ran before this layer, a server misconfiguration answered
//! 500 ([`Refusal::no_authentication`]) rather than blamed on the caller.
//!
//! ```
//! use frontegg_auth::{AuthenticationLayer, Authenticator, RequirementLayer, Requirement};
//! use tower::ServiceBuilder;
//! # fn demo(auth: Authenticator) {
//! let stack = ServiceBuilder::new()
//!     .layer(AuthenticationLayer::new(auth))
//!     .layer(RequirementLayer::new(Requirement::all_permissions(["reports.read", "reports.write"])));
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

use crate::caller::Caller;
use crate::refusal::Refusal;
use crate::requirement::Requirement;

/// Applies [`RequirementService`] to a service.
#[derive(Debug, Clone)]
pub struct RequirementLayer {
    requirement: Arc<Requirement>,
}

impl RequirementLayer {
    /// Enforces `requirement`.
    pub fn new(requirement: Requirement) -> Self {
        RequirementLayer { requirement: Arc::new(requirement) }
    }

    /// The requirement.
    pub fn requirement(&self) -> &Requirement {
        &self.requirement
    }
}

impl<S> Layer<S> for RequirementLayer {
    type Service = RequirementService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequirementService { inner, requirement: self.requirement.clone() }
    }
}

/// Enforces a requirement; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct RequirementService<S> {
    inner: S,
    requirement: Arc<Requirement>,
}

impl<S> RequirementService<S> {
    /// Enforces `requirement` in front of `inner`.
    pub fn new(inner: S, requirement: Requirement) -> Self {
        RequirementService { inner, requirement: Arc::new(requirement) }
    }

    /// The layer, as `tower` services offer it.
    pub fn layer(requirement: Requirement) -> RequirementLayer {
        RequirementLayer::new(requirement)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, by value.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequirementService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = RequirementFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let verdict = Caller::from_extensions(req.extensions())
            .and_then(|caller| caller.check(&self.requirement).map(|_| ()).map_err(Refusal::from));
        match verdict {
            Ok(()) => RequirementFuture { state: State::Inner { future: self.inner.call(req) } },
            Err(refusal) => RequirementFuture { state: State::Refused { response: Some(refusal.to_response()) } },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RequirementService`]: the inner service's, or an immediate refusal.
    pub struct RequirementFuture<F, B> {
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

impl<F, B> std::fmt::Debug for RequirementFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequirementFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for RequirementFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after completion: a breach of the caller; stay pending rather
                // than panic.
                None => Poll::Pending,
            },
        }
    }
}
