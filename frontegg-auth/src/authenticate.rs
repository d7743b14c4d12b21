//! Middleware that authenticates every request: [`AuthenticateLayer`], [`Authenticate`], [`ResponseFuture`].
//!
//! The credential is read from `Authorization: Bearer` or `x-api-key`, verified, and the
//! resulting [`Identity`] is put into the request extensions for handlers and inner layers.
//! A refusal is answered here, with [`AuthError::into_response`].
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use frontegg_auth::{AuthenticateLayer, Authenticator, Config, Identity, KeySource};
//! use http::{Request, Response};
//! use tower::{ServiceBuilder, service_fn};
//!
//! # fn demo(auth: Authenticator) {
//! let service = ServiceBuilder::new()
//!     .layer(AuthenticateLayer::new(auth))
//!     .service(service_fn(|req: Request<Bytes>| async move {
//!         let who = req.extensions().get::<Identity>().map(|i| i.sub().to_owned());
//!         Ok::<_, Infallible>(Response::new(Bytes::from(format!("hello {who:?}"))))
//!     }));
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, header};
use tower_layer::Layer;
use tower_service::Service;

use crate::authenticator::Authenticator;
use crate::claims::Identity;
use crate::credential::Credential;
use crate::error::AuthError;

/// Put into the request extensions by an optional [`Authenticate`] when a request carried no
/// credential: it tells extractors "the layer ran, the caller is anonymous" apart from "no layer
/// is installed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anonymous;

/// Whether a request without any credential is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Required,
    Optional,
}

/// Applies [`Authenticate`] to a service.
#[derive(Debug, Clone)]
pub struct AuthenticateLayer {
    auth: Authenticator,
    mode: Mode,
    allow_preflight: bool,
}

impl AuthenticateLayer {
    /// Every request must carry a valid credential (401 otherwise).
    pub fn new(auth: Authenticator) -> Self {
        AuthenticateLayer { auth, mode: Mode::Required, allow_preflight: false }
    }

    /// A request without a credential passes through without an [`Identity`]; a credential that
    /// is present must still be valid (401 otherwise).
    pub fn optional(auth: Authenticator) -> Self {
        AuthenticateLayer { auth, mode: Mode::Optional, allow_preflight: false }
    }

    /// Lets CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) through without a
    /// credential, as browsers send them without one, marked [`Anonymous`]. Off by default: a CORS layer placed outside
    /// this one answers them before they get here.
    pub fn allow_cors_preflight(mut self) -> Self {
        self.allow_preflight = true;
        self
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// Whether a request without a credential passes.
    pub fn is_optional(&self) -> bool {
        self.mode == Mode::Optional
    }

    /// The decision for one request. [`Authenticate`] calls it, and so do the adapters for
    /// frameworks that are not tower-based, so that every adapter decides alike.
    ///
    /// `is_preflight`: the request is a CORS preflight (`OPTIONS` with
    /// `Access-Control-Request-Method`); `credential`: what [`Credential::from_headers`] (or
    /// [`Credential::from_values`]) read from it.
    pub async fn admit(
        &self,
        is_preflight: bool,
        credential: Result<Option<Credential>, AuthError>,
    ) -> Result<Admission, AuthError> {
        if is_preflight && self.allow_preflight {
            return Ok(Admission::Preflight);
        }
        match credential? {
            Some(credential) => self.auth.authenticate(&credential).await.map(Admission::Identity),
            None if self.mode == Mode::Optional => Ok(Admission::Anonymous),
            None => Err(AuthError::MissingCredential),
        }
    }
}

/// What [`AuthenticateLayer::admit`] decided for a request that may go on.
#[derive(Debug, Clone)]
pub enum Admission {
    /// A verified caller: put this identity into the request extensions.
    Identity(Identity),
    /// No credential, in optional mode: put [`Anonymous`] into the request extensions.
    Anonymous,
    /// A CORS preflight, let through without authentication. It is marked [`Anonymous`], so that
    /// an extractor behind it answers 401 rather than "no layer installed"; a handler that
    /// extracts nothing runs, as it would for any unauthenticated route.
    Preflight,
}

impl Admission {
    /// Stores the outcome in a request's extensions.
    pub fn store(self, extensions: &mut http::Extensions) {
        match self {
            Admission::Identity(identity) => {
                extensions.insert(identity);
            }
            Admission::Anonymous | Admission::Preflight => {
                extensions.insert(Anonymous);
            }
        }
    }
}

impl<S> Layer<S> for AuthenticateLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticate { inner, layer: self.clone() }
    }
}

/// Authenticates requests; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Authenticate<S> {
    inner: S,
    layer: AuthenticateLayer,
}

/// The future of [`Authenticate`]: the verification, then the inner service.
pub struct ResponseFuture<T, E> {
    inner: Pin<Box<dyn Future<Output = Result<T, E>> + Send>>,
}

impl<T, E> Future for ResponseFuture<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T, E> std::fmt::Debug for ResponseFuture<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Authenticate<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness is the one to call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        let preflight = is_preflight(&req);
        let credential = Credential::from_headers(req.headers());
        ResponseFuture {
            inner: Box::pin(async move {
                match layer.admit(preflight, credential).await {
                    Ok(admission) => {
                        admission.store(req.extensions_mut());
                        inner.call(req).await
                    }
                    Err(e) => Ok(e.into_response()),
                }
            }),
        }
    }
}

fn is_preflight<B>(req: &Request<B>) -> bool {
    req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}
