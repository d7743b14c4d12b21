//! Middleware that authenticates every request: [`AuthenticationLayer`],
//! [`AuthenticationService`], [`AuthenticationFuture`].
//!
//! The credential is read from `Authorization: Bearer` or `x-api-key` and verified by
//! [`Admission::admit`]; the [`Caller`](crate::Caller) it finds goes into the request extensions for handlers
//! and inner layers. A refusal is answered here, with its [`Refusal`](crate::Refusal).
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use frontegg_auth::{AuthenticationLayer, Authenticator, Caller};
//! use http::{Request, Response};
//! use tower::{ServiceBuilder, service_fn};
//!
//! # fn demo(auth: Authenticator) {
//! let service = ServiceBuilder::new()
//!     .layer(AuthenticationLayer::new(auth))
//!     .service(service_fn(|req: Request<Bytes>| async move {
//!         let who = req.extensions().get::<Caller>().and_then(Caller::identity).map(|i| i.sub().to_owned());
//!         Ok::<_, Infallible>(Response::new(Bytes::from(format!("hello {who:?}"))))
//!     }));
//! # }
//! ```

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::admission::Admission;
use crate::authenticator::Authenticator;
use crate::flow::{Decision, Flow, flow_future};

/// Applies [`AuthenticationService`] to a service.
#[derive(Debug, Clone)]
pub struct AuthenticationLayer {
    admission: Admission,
}

impl AuthenticationLayer {
    /// Every request must carry a valid credential (401 otherwise).
    pub fn new(auth: Authenticator) -> Self {
        AuthenticationLayer { admission: Admission::required(auth) }
    }

    /// A request without a credential passes as [`Caller::Anonymous`](crate::Caller::Anonymous); a credential that is
    /// present must still be valid (401 otherwise).
    pub fn optional(auth: Authenticator) -> Self {
        AuthenticationLayer { admission: Admission::optional(auth) }
    }

    /// The layer of an admission policy.
    pub fn from_admission(admission: Admission) -> Self {
        AuthenticationLayer { admission }
    }

    /// Lets CORS preflights through without a credential, as [`Caller::Anonymous`](crate::Caller::Anonymous); see
    /// [`Admission::allow_cors_preflight`].
    pub fn allow_cors_preflight(self) -> Self {
        AuthenticationLayer { admission: self.admission.allow_cors_preflight() }
    }

    /// For routes meant for browsers: anonymous `GET`s go to the hosted login instead of a 401;
    /// see [`Admission::redirect_to_login`].
    pub fn redirect_to_login(self) -> Self {
        AuthenticationLayer { admission: self.admission.redirect_to_login() }
    }

    /// The admission policy.
    pub fn admission(&self) -> &Admission {
        &self.admission
    }
}

impl<S> Layer<S> for AuthenticationLayer {
    type Service = AuthenticationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthenticationService::new(inner, self.admission.clone())
    }
}

/// Authenticates requests; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct AuthenticationService<S> {
    inner: S,
    admission: Admission,
}

impl<S> AuthenticationService<S> {
    /// Authenticates the requests of `inner` with `admission`.
    pub fn new(inner: S, admission: Admission) -> Self {
        AuthenticationService { inner, admission }
    }

    /// The layer, as `tower` services offer it.
    pub fn layer(admission: Admission) -> AuthenticationLayer {
        AuthenticationLayer::from_admission(admission)
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

flow_future! {
    /// The future of [`AuthenticationService`]: the admission, then the inner service's future.
    AuthenticationFuture
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthenticationService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = AuthenticationFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness is the one to call.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let admitting = self.admission.admit(&request);
        let decision: Decision = Box::pin(async move { admitting.await.map(Some) });
        AuthenticationFuture { flow: Flow::Deciding { decision, inner: Some(inner), request: Some(request) } }
    }
}
