//! The authorization middleware: [`require`], [`require_tenant_from_path`], [`Authorization`]
//! and its service [`AuthorizationMiddleware`].

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpMessage};

use frontegg_auth::{Caller, Refusal, Requirement};

use crate::authentication::LocalBoxFuture;
use crate::rejection::render;

/// Middleware that refuses, with the core's answer, a request whose caller does not satisfy a
/// [`Requirement`]: the safe way to protect a scope or a resource. 401 for an anonymous caller,
/// 403 (`insufficient_scope`) when the requirement fails, 500 when no authentication ran before
/// it, exactly as the core's tower `RequirementLayer` that the other adapter uses. Shorthand for
/// [`Authorization::new`].
///
/// ```
/// use actix_web::{App, web};
/// use frontegg_actix::{Authenticator, Requirement, authenticate, require};
///
/// # fn demo(auth: Authenticator) {
/// let app = App::new()
///     .service(
///         web::scope("/reports")
///             .wrap(require(Requirement::any_permissions(["reports.read", "reports.admin"])))
///             .route("", web::get().to(|| async { "the reports" })),
///     )
///     .wrap(authenticate(auth)); // last wrap: runs first
/// # let _ = app;
/// # }
/// ```
pub fn require(requirement: Requirement) -> Authorization {
    Authorization::new(requirement)
}

/// Middleware that refuses a request whose credential belongs to another tenant than the one
/// named by the path parameter `param` (its `{param}` match info): 401 for an anonymous caller,
/// 403 (`insufficient_scope`, "The credential does not belong to this tenant") on a mismatch or a
/// credential without a tenant, 500 when no authentication ran before it. Shorthand for
/// [`Authorization::tenant_from_path`].
///
/// Match info is filled in while routing, segment by segment: wrap the resource whose path
/// declares `{param}`, or a scope whose *own* path declares it. Wrapped around the App, or around
/// a scope whose inner resources declare it, the parameter is not known yet: every request is
/// answered 500, naming the parameter.
///
/// The value is compared percent-decoded, as `web::Path<String>` gives it to the handler.
///
/// ```
/// use actix_web::{App, web};
/// use frontegg_actix::{Authenticator, authenticate, require_tenant_from_path};
///
/// # fn demo(auth: Authenticator) {
/// let app = App::new()
///     .service(
///         web::scope("/tenants/{tenant_id}")
///             .wrap(require_tenant_from_path("tenant_id"))
///             .route("/reports", web::get().to(|| async { "this tenant's reports" })),
///     )
///     .wrap(authenticate(auth));
/// # let _ = app;
/// # }
/// ```
pub fn require_tenant_from_path(param: impl Into<String>) -> Authorization {
    Authorization::tenant_from_path(param)
}

/// What an [`Authorization`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    Requirement(Requirement),
    TenantFromPath(String),
}

/// Middleware that enforces an authorization check on the [`Caller`] put into the request by
/// [`Authentication`](crate::Authentication), before the wrapped scope, resource or App is
/// called; made by [`require`] and [`require_tenant_from_path`]. Refusals are answered here, with
/// the core's answers (see the [table of answers](frontegg_auth::refusal#answers)), and the
/// wrapped service is not called.
///
/// # Order
///
/// The authentication must run first. In actix-web the last `wrap` is the outermost middleware:
/// put it on the App (or an enclosing scope), or, on the same scope, *after* this one:
/// `.wrap(require(..)).wrap(authenticate(auth))`.
#[derive(Debug, Clone)]
pub struct Authorization {
    check: Arc<Check>,
}

impl Authorization {
    /// Enforces `requirement`; the same as [`require`].
    pub fn new(requirement: Requirement) -> Self {
        Authorization { check: Arc::new(Check::Requirement(requirement)) }
    }

    /// Enforces the tenant named by the path parameter `param`; the same as
    /// [`require_tenant_from_path`].
    pub fn tenant_from_path(param: impl Into<String>) -> Self {
        Authorization { check: Arc::new(Check::TenantFromPath(param.into())) }
    }

    /// The verdict on a request: the caller (500, 401), then for a requirement the requirement
    /// (403, or 503 for an entitlement with no snapshot, after waiting for the first one); for
    /// the tenant, the path parameter (500), then the tenant (403).
    async fn verdict(
        check: Arc<Check>,
        caller: Result<Caller, Refusal>,
        tenant: Option<Option<String>>,
    ) -> Result<(), Refusal> {
        let caller = caller?;
        match check.as_ref() {
            Check::Requirement(requirement) => caller.checked(requirement).await.map(|_| ()).map_err(Refusal::from),
            Check::TenantFromPath(param) => {
                caller.identified()?;
                let value = tenant.flatten().ok_or_else(|| Refusal::missing_path_param(param))?;
                caller.check_path_tenant(Some(&value)).map(|_| ()).map_err(Refusal::from)
            }
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authorization
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthorizationMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthorizationMiddleware { service: Rc::new(service), config: self.clone() }))
    }
}

/// The service of [`Authorization`]; see there.
pub struct AuthorizationMiddleware<S> {
    service: Rc<S>,
    config: Authorization,
}

impl<S> std::fmt::Debug for AuthorizationMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationMiddleware").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for AuthorizationMiddleware<S>
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
        let caller = Caller::from_request(req.extensions().get()).cloned();
        // The tenant's path parameter, percent-decoded as `web::Path<String>` gives it.
        let tenant = match self.config.check.as_ref() {
            Check::TenantFromPath(param) => Some(
                req.match_info()
                    .get(param)
                    .map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()),
            ),
            Check::Requirement(_) => None,
        };
        let service = Rc::clone(&self.service);
        let check = self.config.check.clone();
        Box::pin(async move {
            match Authorization::verdict(check, caller, tenant).await {
                Ok(()) => service.call(req).await.map(ServiceResponse::map_into_left_body),
                Err(refusal) => Ok(req.into_response(render(&refusal)).map_into_right_body()),
            }
        })
    }
}
