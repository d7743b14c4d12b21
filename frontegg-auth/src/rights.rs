//! Rights: an access token's roles and permissions, and a user's when the JWT leaves them out,
//! looked up through the Frontegg API and cached. The one place a shared cache plugs in.
//!
//! Only verdicts are cached: active with these rights, or refused (revoked, unknown, access
//! tokens disabled). What the network causes (timeouts, 5xx, garbage, 429) is never cached.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use moka::future::Cache;
use serde::Deserialize;

use crate::api::ApiError;
use crate::api::gateway::{ApiRequest, Gateway};
use crate::api::transport::{Answer, error_messages, status_error};
use crate::error::{AuthError, WrongTokenType};
use crate::identity::{Identity, TokenType};

/// The rights resolver's own settings.
pub(crate) struct RightsSettings {
    pub(crate) ttl: Duration,
    pub(crate) capacity: u64,
    pub(crate) resolve_user_roles: bool,
}

/// Resolves the rights that a token does not carry itself.
pub(crate) struct Rights {
    gateway: Gateway,
    resolve_user_roles: bool,
    access_tokens: Cache<(AccessKind, String), Arc<Verdict>>,
    users: Cache<(String, Option<String>), Arc<Verdict>>,
}

impl Rights {
    pub(crate) fn new(settings: RightsSettings, gateway: Gateway) -> Rights {
        fn cache<K, V>(settings: &RightsSettings) -> Cache<K, V>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder().max_capacity(settings.capacity).time_to_live(settings.ttl).build()
        }
        Rights {
            access_tokens: cache(&settings),
            users: cache(&settings),
            resolve_user_roles: settings.resolve_user_roles,
            gateway,
        }
    }

    /// Replaces placeholder rights with the ones Frontegg holds, where the token type needs it.
    pub(crate) async fn resolve(&self, identity: Identity) -> Result<Identity, AuthError> {
        let kind = match identity.token_type() {
            TokenType::TenantAccess => AccessKind::Tenant,
            TokenType::UserAccess => AccessKind::User,
            TokenType::User
                if self.resolve_user_roles && identity.roles().is_empty() && identity.permissions().is_empty() =>
            {
                return self.resolve_user(identity).await;
            }
            _ => return Ok(identity),
        };
        if !self.gateway.has_credentials() {
            return Err(AuthError::WrongTokenType(WrongTokenType::AccessTokensNotAccepted));
        }
        let key = (kind, identity.sub().to_owned());
        let gateway = self.gateway.clone();
        let sub = identity.sub().to_owned();
        // moka runs one lookup per key and caches only `Ok`: network failures are never a verdict.
        let verdict = self
            .access_tokens
            .try_get_with(key, async move { access_token(&gateway, kind, &sub).await.map(Arc::new) })
            .await
            .map_err(unavailable("access token"))?;
        match verdict.as_ref() {
            Verdict::Refused => Err(AuthError::Revoked),
            Verdict::Rights { tenant_id, roles, permissions } => {
                // A lookup that names another tenant than the token is not this token's.
                if tenant_id.is_some() && identity.tenant_id().is_some() && tenant_id.as_deref() != identity.tenant_id()
                {
                    return Err(AuthError::Revoked);
                }
                Ok(identity.with_rights(roles.clone(), permissions.clone()))
            }
        }
    }

    async fn resolve_user(&self, identity: Identity) -> Result<Identity, AuthError> {
        let Some(user_id) = identity.user_id().map(str::to_owned) else {
            return Ok(identity);
        };
        let tenant = identity.tenant_id().map(str::to_owned);
        let gateway = self.gateway.clone();
        let verdict = self
            .users
            .try_get_with((user_id.clone(), tenant.clone()), async move {
                user(&gateway, &user_id, tenant.as_deref()).await.map(Arc::new)
            })
            .await
            .map_err(unavailable("user"))?;
        match verdict.as_ref() {
            Verdict::Refused => Err(AuthError::Revoked),
            Verdict::Rights { roles, permissions, .. } => Ok(identity.with_rights(roles.clone(), permissions.clone())),
        }
    }
}

/// A lookup that failed (network, 5xx, garbage, 429): logged, answered 503, never cached.
fn unavailable(what: &'static str) -> impl Fn(Arc<ApiError>) -> AuthError {
    move |e| {
        tracing::warn!(error = %e, lookup = what, "lookup failed");
        AuthError::ApiUnavailable(e.as_ref().clone())
    }
}

/// What Frontegg says about an access token or a user.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Active, with these rights.
    Rights { tenant_id: Option<String>, roles: Vec<String>, permissions: Vec<String> },
    /// Revoked, unknown, or access tokens are disabled: the caller is not authenticated.
    Refused,
}

/// Which kind of access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AccessKind {
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
async fn access_token(gateway: &Gateway, kind: AccessKind, id: &str) -> Result<Verdict, ApiError> {
    let owner = match kind {
        AccessKind::Tenant => "tenants",
        AccessKind::User => "users",
    };
    // A `sub` that cannot be a path segment names no access token.
    let Ok(url) = gateway.url(&format!("/identity/resources/vendor-only/{owner}/access-tokens/v1"), &[id]) else {
        return Ok(Verdict::Refused);
    };
    let Answer { status, body, .. } = gateway.call(ApiRequest::new(Method::GET, url)).await?;
    if status.is_success() {
        let token: AccessToken = serde_json::from_slice(&body).map_err(ApiError::decode)?;
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
async fn user(gateway: &Gateway, user_id: &str, tenant_id: Option<&str>) -> Result<Verdict, ApiError> {
    let Ok(url) = gateway.url("/identity/resources/vendor-only/users/v1", &[user_id]) else {
        return Ok(Verdict::Refused);
    };
    let Answer { status, body, .. } = gateway.call(ApiRequest::new(Method::GET, url)).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(Verdict::Refused);
    }
    if !status.is_success() {
        return Err(status_error(status, &body));
    }
    let user: User = serde_json::from_slice(&body).map_err(ApiError::decode)?;
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
