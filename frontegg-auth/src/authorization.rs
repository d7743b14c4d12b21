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

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::caller::Caller;
use crate::flow::{Decision, Flow, flow_future};
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
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = RequirementFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let caller = match Caller::from_extensions(req.extensions()) {
            Ok(caller) => caller,
            Err(refusal) => return RequirementFuture { flow: Flow::refused(&refusal) },
        };
        // Cold start of an entitlement requirement: wait for the one shared first load.
        if caller.needs_first_snapshot(&self.requirement).is_some() {
            let (caller, requirement) = (caller.clone(), self.requirement.clone());
            let decision: Decision =
                Box::pin(async move { caller.checked(&requirement).await.map(|_| None).map_err(Refusal::from) });
            // The clone that was driven to readiness is the one to call.
            let clone = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, clone);
            return RequirementFuture { flow: Flow::Deciding { decision, inner: Some(inner), request: Some(req) } };
        }
        match caller.check(&self.requirement) {
            Ok(_) => RequirementFuture { flow: Flow::Calling { future: self.inner.call(req), set_cookie: None } },
            Err(e) => RequirementFuture { flow: Flow::refused(&e.into()) },
        }
    }
}

flow_future! {
    /// The future of [`RequirementService`]: an immediate refusal, the inner service's future, or,
    /// on a cold start of an entitlement requirement, the wait for the first snapshot first.
    RequirementFuture
}
