//! Lookups on the request path: an access token's rights, and a user's rights when the JWT leaves
//! them out. The caching around them lives in [`crate::authenticator`].

use http::{Method, StatusCode};
use serde::Deserialize;

use super::error::ApiError;
use super::transport::{ApiRequest, Gateway, error_messages, status_error};

/// What Frontegg says about an access token or a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Active, with these rights.
    Rights { tenant_id: Option<String>, roles: Vec<String>, permissions: Vec<String> },
    /// Revoked, unknown, or access tokens are disabled: the caller is not authenticated.
    Refused,
}

/// Which kind of access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AccessKind {
    Tenant,
    User,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessToken {
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

/// `GET vendor-only/{tenants,users}/access-tokens/v1/{id}`.
pub(crate) async fn access_token(gateway: &Gateway, kind: AccessKind, id: &str) -> Result<Verdict, ApiError> {
    let owner = match kind {
        AccessKind::Tenant => "tenants",
        AccessKind::User => "users",
    };
    // A `sub` that cannot be a path segment names no access token.
    let Ok(url) = gateway.url(&format!("/identity/resources/vendor-only/{owner}/access-tokens/v1"), &[id]) else {
        return Ok(Verdict::Refused);
    };
    let (status, _, body) = gateway.call(ApiRequest::new(Method::GET, url)).await?;
    if status.is_success() {
        let token: AccessToken = serde_json::from_slice(&body).map_err(|e| ApiError::Decode(e.to_string()))?;
        return Ok(Verdict::Rights { tenant_id: token.tenant_id, roles: token.roles, permissions: token.permissions });
    }
    if status == StatusCode::NOT_FOUND || disabled(status, &body) {
        return Ok(Verdict::Refused);
    }
    Err(status_error(status, &body))
}

/// `{"errors":["Api tokens are disabled"]}` with 403: the environment turned access tokens off.
fn disabled(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::FORBIDDEN
        && error_messages(body).iter().any(|m| m.to_ascii_lowercase().contains("tokens are disabled"))
}

#[derive(Deserialize)]
struct Keyed {
    key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    roles: Vec<Keyed>,
    #[serde(default)]
    permissions: Vec<Keyed>,
    #[serde(default)]
    tenants: Vec<UserTenant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserTenant {
    tenant_id: String,
    #[serde(default)]
    roles: Vec<Keyed>,
}

/// `GET vendor-only/users/v1/{userId}`: the user's roles in `tenant_id` and their permissions.
pub(crate) async fn user(gateway: &Gateway, user_id: &str, tenant_id: Option<&str>) -> Result<Verdict, ApiError> {
    let Ok(url) = gateway.url("/identity/resources/vendor-only/users/v1", &[user_id]) else {
        return Ok(Verdict::Refused);
    };
    let (status, _, body) = gateway.call(ApiRequest::new(Method::GET, url)).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(Verdict::Refused);
    }
    if !status.is_success() {
        return Err(status_error(status, &body));
    }
    let user: User = serde_json::from_slice(&body).map_err(|e| ApiError::Decode(e.to_string()))?;
    // The top-level roles and permissions are those of the user's active tenant: they count only
    // when that is the token's tenant. In another tenant, only that tenant's own roles count, and
    // no permission can be derived; rights never cross from one tenant to another.
    let same_tenant = tenant_id.is_none() || user.tenant_id.as_deref() == tenant_id;
    let tenant_roles = tenant_id.and_then(|t| user.tenants.iter().find(|ut| ut.tenant_id == t));
    let roles = match (tenant_roles, same_tenant) {
        (Some(entry), _) => entry.roles.iter().map(|r| r.key.clone()).collect(),
        (None, true) => user.roles.into_iter().map(|r| r.key).collect(),
        (None, false) => Vec::new(),
    };
    let permissions = if same_tenant { user.permissions.into_iter().map(|p| p.key).collect() } else { Vec::new() };
    Ok(Verdict::Rights { tenant_id: user.tenant_id, roles, permissions })
}
