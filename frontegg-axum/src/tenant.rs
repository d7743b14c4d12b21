//! The tenant taken from a path parameter: [`require_tenant_from_path`], [`TenantFromPathLayer`],
//! [`TenantFromPath`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, RawPathParams};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use frontegg_auth::{AuthError, Denied, Requirement};

use crate::extract::identity_from_extensions;
use crate::rejection::AuthRejection;

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
/// | no authentication layer ran first | 500, [`AuthRejection::MissingLayer`] |
/// | the route has no such parameter, or no route matched | 500, [`AuthRejection::MissingPathParam`] |
/// | the tenant parameter is not UTF-8 once decoded (it cannot name the caller's tenant) | 403, as a mismatch |
/// | another parameter of the route is not UTF-8 (axum then keeps none, so the tenant cannot be checked) | 400, [`AuthRejection::InvalidPath`] |
///
/// The comparison is exact, on the percent-decoded value.
pub fn require_tenant_from_path(param: impl Into<String>) -> TenantFromPathLayer {
    TenantFromPathLayer { param: Arc::from(param.into()) }
}

/// Applies [`TenantFromPath`]; made by [`require_tenant_from_path`].
#[derive(Debug, Clone)]
pub struct TenantFromPathLayer {
    param: Arc<str>,
}

impl TenantFromPathLayer {
    /// The name of the path parameter that holds the tenant id.
    pub fn param(&self) -> &str {
        &self.param
    }
}

impl<S> Layer<S> for TenantFromPathLayer {
    type Service = TenantFromPath<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TenantFromPath { inner, param: self.param.clone() }
    }
}

/// Requires the caller's tenant to be a path parameter's value; see [`require_tenant_from_path`].
#[derive(Debug, Clone)]
pub struct TenantFromPath<S> {
    inner: S,
    param: Arc<str>,
}

/// The future of [`TenantFromPath`]: the check, then the inner service.
pub type TenantFromPathFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TenantFromPath<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = TenantFromPathFuture<Self::Response, Self::Error>;

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
                Err(rejection) => Ok(rejection.to_response()),
            }
        })
    }
}

/// The identity first (401, 500), then the path (500), then the tenant (403).
async fn check(parts: &mut http::request::Parts, param: &str) -> Result<(), AuthRejection> {
    let identity =
        identity_from_extensions(&parts.extensions)?.ok_or(AuthRejection::Auth(AuthError::MissingCredential))?.clone();
    let params = match RawPathParams::from_request_parts(parts, &()).await {
        Ok(params) => params,
        // Our parameter is not UTF-8 once decoded: it cannot name the caller's tenant (actix
        // decodes such a segment lossily and finds the same mismatch).
        Err(rejection) if rejection.body_text() == format!("Invalid UTF-8 in `{param}`") => {
            return Err(AuthRejection::Auth(AuthError::Forbidden(Denied::wrong_tenant())));
        }
        // Another parameter is not UTF-8: axum then keeps none of them, so the tenant cannot be
        // checked. Refuse as axum would (400); actix, which decodes lossily, checks the tenant.
        Err(rejection) if rejection.status().is_client_error() => {
            return Err(AuthRejection::InvalidPath(rejection.body_text()));
        }
        Err(_) => return Err(AuthRejection::MissingPathParam(param.to_owned())),
    };
    let tenant = params
        .iter()
        .find(|(key, _)| *key == param)
        .map(|(_, value)| value)
        .ok_or_else(|| AuthRejection::MissingPathParam(param.to_owned()))?;
    Requirement::tenant(tenant).check(&identity).map_err(|denied| AuthRejection::Auth(AuthError::Forbidden(denied)))
}
