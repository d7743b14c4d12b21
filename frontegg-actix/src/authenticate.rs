//! The authentication middleware: [`Authenticate`] and its service [`AuthenticateMiddleware`].

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{Method, header};
use actix_web::{Error, HttpMessage, ResponseError};

use frontegg_auth::{API_KEY_HEADER, Admission, Anonymous, AuthenticateLayer, Authenticator, Credential};

use crate::error::AuthRejection;

/// A boxed future that need not be `Send`: actix-web runs each request on one thread.
pub(crate) type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Middleware that verifies the request's credential and puts the verified
/// [`frontegg_auth::Identity`] into the request extensions, where the [extractors](crate::Identity),
/// [`Authorize`](crate::Authorize) and the [guards](crate::guard) find it.
///
/// The credential is read from `Authorization: Bearer <jwt>` (user and API tokens) or
/// `x-api-key: <jwt>` (access tokens). The semantics are those of the core's tower middleware,
/// [`frontegg_auth::authenticate`]:
///
/// | request | [`new`](Self::new) (required) | [`optional`](Self::optional) |
/// |---|---|---|
/// | valid credential | passes, with the identity | passes, with the identity |
/// | no credential | 401, `WWW-Authenticate: Bearer` | passes, with [`Anonymous`] |
/// | bad credential (malformed, expired, forged, revoked...) | 401 `invalid_token` | 401 `invalid_token` |
/// | Frontegg unreachable and nothing cached answers | 503, `Retry-After` | 503, `Retry-After` |
/// | CORS preflight, with [`allow_cors_preflight`](Self::allow_cors_preflight) | passes, anonymous ([`Anonymous`]) | passes, anonymous ([`Anonymous`]) |
///
/// A refusal is answered here, as a response (not as an actix-web `Error`), with the core's exact
/// status, headers and JSON body; the wrapped service is not called.
///
/// # Where to put it
///
/// Guards run while routing, and extractors and [`Authorize`](crate::Authorize) run after it, so
/// this middleware must run *before* them: wrap the `App` (or a scope enclosing every route that
/// needs it). In actix-web the **last** `wrap` is the **outermost** middleware, the first to run.
///
/// ```
/// use actix_web::{App, web};
/// use frontegg_actix::{Authenticate, Authenticator, Identity};
///
/// async fn me(identity: Identity) -> String {
///     identity.sub().to_owned()
/// }
///
/// # fn demo(auth: Authenticator) {
/// let app = App::new()
///     .route("/me", web::get().to(me))
///     .wrap(Authenticate::new(auth));
/// # let _ = app;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Authenticate {
    // The core's layer holds the settings and makes the decision, so that both adapters decide alike.
    layer: AuthenticateLayer,
}

impl Authenticate {
    /// Every request must carry a valid credential (401 otherwise).
    pub fn new(auth: Authenticator) -> Self {
        Authenticate { layer: AuthenticateLayer::new(auth) }
    }

    /// A request without any credential passes, anonymous: the core's [`Anonymous`] marker is put
    /// into its extensions instead of an identity, so that `Option<Identity>` gives `None` and
    /// `Identity` answers 401. A credential that is present must still be valid (401 otherwise).
    pub fn optional(auth: Authenticator) -> Self {
        Authenticate { layer: AuthenticateLayer::optional(auth) }
    }

    /// Lets CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) through without a
    /// credential, as browsers send them without one; they are marked [`Anonymous`]. Off
    /// by default: a CORS middleware placed outside this one (wrapped after it) answers them
    /// before they get here.
    pub fn allow_cors_preflight(self) -> Self {
        Authenticate { layer: self.layer.allow_cors_preflight() }
    }

    /// Whether requests without a credential pass ([`optional`](Self::optional)).
    pub fn is_optional(&self) -> bool {
        self.layer.is_optional()
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Authenticator {
        self.layer.authenticator()
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authenticate
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthenticateMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthenticateMiddleware { service: Rc::new(service), config: self.clone() }))
    }
}

/// The service of [`Authenticate`]; see there.
pub struct AuthenticateMiddleware<S> {
    service: Rc<S>,
    config: Authenticate,
}

impl<S> std::fmt::Debug for AuthenticateMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticateMiddleware").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for AuthenticateMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let preflight = is_preflight(&req);
        let credential = Credential::from_values(
            req.headers().get_all(header::AUTHORIZATION).map(|v| v.as_bytes()),
            req.headers().get_all(API_KEY_HEADER).map(|v| v.as_bytes()),
        );
        let layer = self.config.layer.clone();
        Box::pin(async move {
            match layer.admit(preflight, credential).await {
                Ok(Admission::Identity(identity)) => {
                    req.extensions_mut().insert::<frontegg_auth::Identity>(identity);
                }
                Ok(Admission::Anonymous | Admission::Preflight) => {
                    req.extensions_mut().insert(Anonymous);
                }
                Err(e) => {
                    let response = AuthRejection::Auth(e).error_response();
                    return Ok(req.into_response(response).map_into_right_body());
                }
            }
            service.call(req).await.map(ServiceResponse::map_into_left_body)
        })
    }
}

fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}
