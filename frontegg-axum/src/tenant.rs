//! The tenant taken from a path parameter: [`require_tenant_from_path`], [`TenantCheckLayer`],
//! [`TenantCheck`], [`TenantCheckFuture`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, RawPathParams};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use frontegg_auth::{Caller, Refusal};

use crate::rejection::render;

/// A route layer that requires the caller's tenant (`tenantId` of the credential,
/// [`Identity::tenant_id`](frontegg_auth::Identity::tenant_id)) to be the value of the path
/// parameter `param`.
///
/// Add it with `route_layer`, on routes whose path has that parameter (with `Router::layer` it
/// would also wrap the fallback, where no route matched and there is no parameter: 500), and add
/// the [`authenticate`](crate::authenticate) layer after it (so that it runs first):
///
/// ```
/// use axum::{Router, routing::get};
/// use frontegg_axum::{Authenticator, Identity, authenticate, require_tenant_from_path};
///
/// async fn reports(identity: Identity) -> String {
///     format!("reports of tenant {:?}", identity.tenant_id())
/// }
///
/// # fn demo(auth: Authenticator) -> Router {
/// Router::new()
///     .route("/tenants/{tenant_id}/reports", get(reports))
///     .route_layer(require_tenant_from_path("tenant_id"))
///     .layer(authenticate(auth))
/// # }
/// ```
///
/// | request | answer |
/// |---|---|
/// | the credential's tenant is the path's | the route's |
/// | another tenant, or none | 403, the core's `insufficient_scope` answer |
/// | an anonymous caller ([`authenticate_optional`](crate::authenticate_optional)) | 401 |
/// | no authentication layer ran first | 500, [`Refusal::no_authentication`] |
/// | the route has no such parameter, or no route matched | 500, naming the parameter |
/// | the tenant parameter is not UTF-8 once decoded (it cannot name the caller's tenant) | 403, as a mismatch |
/// | another parameter of the route is not UTF-8 (axum then keeps none, so the tenant cannot be checked) | 400, axum's description |
///
/// The comparison is exact, on the percent-decoded value.
pub fn require_tenant_from_path(param: impl Into<String>) -> TenantCheckLayer {
    TenantCheckLayer { param: Arc::from(param.into()) }
}

/// Applies [`TenantCheck`]; made by [`require_tenant_from_path`].
#[derive(Debug, Clone)]
pub struct TenantCheckLayer {
    param: Arc<str>,
}

impl TenantCheckLayer {
    /// The name of the path parameter that holds the tenant id.
    pub fn param(&self) -> &str {
        &self.param
    }
}

impl<S> Layer<S> for TenantCheckLayer {
    type Service = TenantCheck<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TenantCheck::new(inner, self.param.to_string())
    }
}

/// Requires the caller's tenant to be a path parameter's value; see [`require_tenant_from_path`].
#[derive(Debug, Clone)]
pub struct TenantCheck<S> {
    inner: S,
    param: Arc<str>,
}

impl<S> TenantCheck<S> {
    /// Checks the tenant of the path parameter `param` in front of `inner`.
    pub fn new(inner: S, param: impl Into<String>) -> Self {
        TenantCheck { inner, param: Arc::from(param.into()) }
    }

    /// The layer, as `tower` services offer it.
    pub fn layer(param: impl Into<String>) -> TenantCheckLayer {
        require_tenant_from_path(param)
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

/// The future of [`TenantCheck`]: the check, then the inner service. Boxed: reading the path
/// parameters is an async extraction in axum.
pub type TenantCheckFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TenantCheck<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = TenantCheckFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The clone that was driven to readiness is the one to call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let param = self.param.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match check(&mut parts, &param).await {
                Ok(()) => inner.call(Request::from_parts(parts, body)).await,
                Err(refusal) => Ok(render(&refusal)),
            }
        })
    }
}

/// The caller first (500, 401), then the path (500, 400), then the tenant (403).
async fn check(parts: &mut http::request::Parts, param: &str) -> Result<(), Refusal> {
    let caller = Caller::from_extensions(&parts.extensions)?.clone();
    caller.identified()?;
    let params = match RawPathParams::from_request_parts(parts, &()).await {
        Ok(params) => params,
        // Our parameter is not UTF-8 once decoded: it cannot name the caller's tenant (actix
        // decodes such a segment lossily and finds the same mismatch).
        Err(rejection) if rejection.body_text() == format!("Invalid UTF-8 in `{param}`") => {
            return caller.check_path_tenant(None).map(|_| ()).map_err(Refusal::from);
        }
        // Another parameter is not UTF-8: axum then keeps none of them, so the tenant cannot be
        // checked. Refuse as axum would (400); actix, which decodes lossily, checks the tenant.
        Err(rejection) if rejection.status().is_client_error() => {
            return Err(Refusal::bad_request(rejection.body_text()));
        }
        Err(_) => return Err(Refusal::missing_path_param(param)),
    };
    let tenant = params
        .iter()
        .find(|(key, _)| *key == param)
        .map(|(_, value)| value)
        .ok_or_else(|| Refusal::missing_path_param(param))?;
    caller.check_path_tenant(Some(tenant)).map(|_| ()).map_err(Refusal::from)
}
