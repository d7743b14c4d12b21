//! The authorization middleware: [`require`], [`require_tenant_from_path`], [`Authorize`] and its
//! service [`AuthorizeMiddleware`].

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpMessage, ResponseError};

use frontegg_auth::require::check_request_identity;
use frontegg_auth::{Anonymous, AuthError, Requirement};

use crate::authenticate::LocalBoxFuture;
use crate::error::AuthRejection;
use crate::extract::identity_from_extensions;

/// Middleware that refuses, with the core's answer, a request whose identity does not satisfy a
/// [`Requirement`]: the safe way to protect a scope or a resource.
///
/// `.wrap(require(Requirement::permission("reports.read")))` on a scope or a resource: 401 for
/// an anonymous caller, 403 (`insufficient_scope`) when the requirement fails; the core's
/// [`check_request_identity`], so 401 as well when no [`Authenticate`](crate::Authenticate) ran
/// before it (logged as an error). Shorthand for [`Authorize::new`].
///
/// ```
/// use actix_web::{App, web};
/// use frontegg_actix::{Authenticate, Authenticator, Requirement, require};
///
/// # fn demo(auth: Authenticator) {
/// let app = App::new()
///     .service(
///         web::scope("/reports")
///             .wrap(require(Requirement::any_permissions(["reports.read", "reports.admin"])))
///             .route("", web::get().to(|| async { "the reports" })),
///     )
///     .wrap(Authenticate::new(auth)); // last wrap: runs first
/// # let _ = app;
/// # }
/// ```
pub fn require(requirement: Requirement) -> Authorize {
    Authorize::new(requirement)
}

/// Middleware that refuses a request whose credential belongs to another tenant than the one
/// named by the path parameter `param` (its `{param}` match info): 401 for an anonymous caller,
/// 403 (`insufficient_scope`, "The credential does not belong to this tenant") on a mismatch or a
/// credential without a tenant, 500 when no [`Authenticate`](crate::Authenticate) ran before it
/// ([`AuthRejection::MissingMiddleware`]). Shorthand for [`Authorize::tenant_from_path`].
///
/// Match info is filled in while routing, segment by segment: wrap the resource whose path
/// declares `{param}`, or a scope whose *own* path declares it. Wrapped around the App, or around
/// a scope whose inner resources declare it, the parameter is not known yet: every request is
/// answered 500 ([`AuthRejection::MissingPathParam`]).
///
/// The value is compared percent-decoded, as `web::Path<String>` gives it to the handler.
///
/// ```
/// use actix_web::{App, web};
/// use frontegg_actix::{Authenticate, Authenticator, require_tenant_from_path};
///
/// # fn demo(auth: Authenticator) {
/// let app = App::new()
///     .service(
///         web::scope("/tenants/{tenant_id}")
///             .wrap(require_tenant_from_path("tenant_id"))
///             .route("/reports", web::get().to(|| async { "this tenant's reports" })),
///     )
///     .wrap(Authenticate::new(auth));
/// # let _ = app;
/// # }
/// ```
pub fn require_tenant_from_path(param: impl Into<String>) -> Authorize {
    Authorize::tenant_from_path(param)
}

/// What an [`Authorize`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    Requirement(Requirement),
    TenantFromPath(String),
}

/// Middleware that enforces an authorization check on the identity put into the request by
/// [`Authenticate`](crate::Authenticate), before the wrapped scope, resource or App is called;
/// made by [`require`] and [`require_tenant_from_path`].
///
/// | request | [`require`] | [`require_tenant_from_path`] |
/// |---|---|---|
/// | an identity that passes | the wrapped service's | the wrapped service's |
/// | an identity that fails | 403, the core's `insufficient_scope` answer | 403, the same |
/// | an anonymous caller ([optional](crate::Authenticate::optional) authentication) | 401, `WWW-Authenticate: Bearer` | 401, the same |
/// | nothing: no [`Authenticate`](crate::Authenticate) ran before it | 500, [`AuthRejection::MissingMiddleware`] | 500, [`AuthRejection::MissingMiddleware`] |
/// | no such path parameter | | 500, [`AuthRejection::MissingPathParam`] |
///
/// [`require`] answers exactly as the core's tower `RequireLayer`, which the axum adapter uses:
/// 401 for an anonymous caller, 500 (logged) when no authentication ran. Both fail closed.
///
/// Refusals are answered here, as responses with the exact status, headers and body of
/// [`AuthRejection`]'s `ResponseError`, and the wrapped service is not called.
///
/// # Order
///
/// [`Authenticate`](crate::Authenticate) must run first. In actix-web the last `wrap` is the
/// outermost middleware: put `Authenticate` on the App (or an enclosing scope), or, on the same
/// scope, *after* this one: `.wrap(require(..)).wrap(Authenticate::new(auth))`.
#[derive(Debug, Clone)]
pub struct Authorize {
    check: Arc<Check>,
}

impl Authorize {
    /// Enforces `requirement`; the same as [`require`].
    pub fn new(requirement: Requirement) -> Self {
        Authorize { check: Arc::new(Check::Requirement(requirement)) }
    }

    /// Enforces the tenant named by the path parameter `param`; the same as
    /// [`require_tenant_from_path`].
    pub fn tenant_from_path(param: impl Into<String>) -> Self {
        Authorize { check: Arc::new(Check::TenantFromPath(param.into())) }
    }

    /// The verdict on a request, in the order of the other adapters: for a requirement, the
    /// core's [`check_request_identity`]; for the tenant, the identity (401, 500), then the path
    /// parameter (500), then the tenant (403).
    fn verdict(&self, req: &ServiceRequest) -> Result<(), AuthRejection> {
        let extensions = req.extensions();
        match self.check.as_ref() {
            Check::Requirement(requirement) => {
                let identity = extensions.get::<frontegg_auth::Identity>();
                if identity.is_none() && extensions.get::<Anonymous>().is_none() {
                    tracing::error!(
                        "frontegg-actix: `require` found neither an identity nor the anonymous marker: no \
                         Authenticate middleware ran before it; answering 500"
                    );
                    return Err(AuthRejection::MissingMiddleware);
                }
                check_request_identity(identity, requirement).map_err(AuthRejection::Auth)
            }
            Check::TenantFromPath(param) => {
                let identity =
                    identity_from_extensions(&extensions)?.ok_or(AuthRejection::Auth(AuthError::MissingCredential))?;
                let value =
                    req.match_info().get(param).ok_or_else(|| AuthRejection::MissingPathParam(param.clone()))?;
                Requirement::tenant(percent_decode(value))
                    .check(identity)
                    .map_err(|denied| AuthRejection::Auth(AuthError::Forbidden(denied)))
            }
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authorize
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthorizeMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthorizeMiddleware { service: Rc::new(service), config: self.clone() }))
    }
}

/// The service of [`Authorize`]; see there.
pub struct AuthorizeMiddleware<S> {
    service: Rc<S>,
    config: Authorize,
}

impl<S> std::fmt::Debug for AuthorizeMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeMiddleware").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for AuthorizeMiddleware<S>
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
        match self.config.verdict(&req) {
            Ok(()) => {
                let call = self.service.call(req);
                Box::pin(async move { call.await.map(ServiceResponse::map_into_left_body) })
            }
            Err(rejection) => {
                rejection.log();
                let response = rejection.error_response();
                Box::pin(ready(Ok(req.into_response(response).map_into_right_body())))
            }
        }
    }
}

/// Decodes every `%XX` sequence, as actix-web's `web::Path<String>` does on top of the partial
/// decoding of the match info (which leaves `%25`, `%2F` and `%2B` encoded); invalid sequences
/// stay as they are and invalid UTF-8 becomes U+FFFD.
fn percent_decode(value: &str) -> String {
    if !value.contains('%') {
        return value.to_owned();
    }
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%'
            && let [high, low, after @ ..] = tail
            && let (Some(high), Some(low)) = (hex(*high), hex(*low))
        {
            out.push(high << 4 | low);
            rest = after;
            continue;
        }
        out.push(first);
        rest = tail;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("tenant-1"), "tenant-1");
        assert_eq!(percent_decode("a%2Fb%2bc%25"), "a/b+c%");
        assert_eq!(percent_decode("%2525"), "%25");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }
}
