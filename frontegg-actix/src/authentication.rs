//! The authentication middleware: [`authenticate`], [`authenticate_optional`],
//! [`Authentication`] and its service [`AuthenticationMiddleware`].

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpMessage};

use frontegg_auth::{Admission, Authenticator, RequestHead};

use crate::rejection::render;

pub(crate) type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Middleware that authenticates every request: every request must carry a valid credential,
/// else it is answered 401 (503 when Frontegg cannot be reached and nothing cached answers).
/// Shorthand for [`Authentication::new`].
///
/// ```
/// use actix_web::{App, web};
/// use frontegg_actix::{Authenticator, Identity, authenticate};
///
/// # fn demo(auth: Authenticator) {
/// let app = App::new()
///     .route("/me", web::get().to(|identity: Identity| async move { identity.sub().to_owned() }))
///     .wrap(authenticate(auth));
/// # let _ = app;
/// # }
/// ```
pub fn authenticate(auth: Authenticator) -> Authentication {
    Authentication::new(auth)
}

/// Middleware for routes open to anonymous callers: a request without any credential passes as
/// an anonymous [`Caller`](crate::Caller); a credential that is sent must be valid (401
/// otherwise). Shorthand for [`Authentication::optional`].
pub fn authenticate_optional(auth: Authenticator) -> Authentication {
    Authentication::optional(auth)
}

/// Middleware that verifies `Authorization: Bearer` / `x-api-key` and puts the [`Caller`](crate::Caller)
/// into the request, through the core's [`Admission`], so it decides exactly as the other
/// adapter. Refusals are answered here; see the core's [table of
/// answers](frontegg_auth::refusal#answers).
///
/// In actix-web the last `wrap` runs first: wrap the App (or a scope enclosing every route that
/// needs an identity) with it, after the middleware that needs it.
#[derive(Debug, Clone)]
pub struct Authentication {
    admission: Admission,
}

impl Authentication {
    /// Every request must carry a valid credential (401 otherwise).
    pub fn new(auth: Authenticator) -> Self {
        Authentication { admission: Admission::required(auth) }
    }

    /// A request without any credential passes as an anonymous caller, so that
    /// `Option<Identity>` gives `None` and `Identity` answers 401. A credential that is present
    /// must still be valid (401 otherwise).
    pub fn optional(auth: Authenticator) -> Self {
        Authentication { admission: Admission::optional(auth) }
    }

    /// Lets CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) through without a
    /// credential, as anonymous callers. Off by default: a CORS middleware placed outside this
    /// one (wrapped after it) answers them before they get here.
    pub fn allow_cors_preflight(self) -> Self {
        Authentication { admission: self.admission.allow_cors_preflight() }
    }

    /// For routes meant for browsers: anonymous `GET`s go to the hosted login instead of a 401;
    /// see [`Admission::redirect_to_login`].
    pub fn redirect_to_login(self) -> Self {
        Authentication { admission: self.admission.redirect_to_login() }
    }

    /// The admission policy.
    pub fn admission(&self) -> &Admission {
        &self.admission
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authentication
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthenticationMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthenticationMiddleware { service: Rc::new(service), admission: self.admission.clone() }))
    }
}

/// The service of [`Authentication`]; see there.
pub struct AuthenticationMiddleware<S> {
    service: Rc<S>,
    admission: Admission,
}

impl<S> std::fmt::Debug for AuthenticationMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticationMiddleware").field("admission", &self.admission).finish_non_exhaustive()
    }
}

/// An actix-web request, as the core's admission reads it.
pub(crate) struct Head<'a>(pub(crate) &'a actix_web::dev::RequestHead);

impl RequestHead for Head<'_> {
    fn method(&self) -> &str {
        self.0.method.as_str()
    }

    fn path_and_query(&self) -> &str {
        self.0.uri.path_and_query().map_or("/", |p| p.as_str())
    }

    fn header_values<'a>(&'a self, name: &'static str) -> impl Iterator<Item = &'a [u8]> {
        self.0.headers.get_all(name).map(|v| v.as_bytes())
    }
}

impl<S, B> Service<ServiceRequest> for AuthenticationMiddleware<S>
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
        let admitting = self.admission.admit(&Head(req.head()));
        Box::pin(async move {
            match admitting.await {
                Ok(admitted) => {
                    let (caller, set_cookie) = admitted.into_parts();
                    req.extensions_mut().insert(caller);
                    let mut response = service.call(req).await?;
                    // The session cookie named no session: it is cleared with the answer.
                    if let Some(value) =
                        set_cookie.and_then(|v| actix_web::http::header::HeaderValue::from_bytes(v.as_bytes()).ok())
                    {
                        response.headers_mut().append(actix_web::http::header::SET_COOKIE, value);
                    }
                    Ok(response.map_into_left_body())
                }
                Err(refusal) => Ok(req.into_response(render(&refusal)).map_into_right_body()),
            }
        })
    }
}
