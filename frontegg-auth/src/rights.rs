//! Rights: an access token's roles and permissions, and a user's when the JWT leaves them out,
//! looked up through the Frontegg API and cached. The one place a shared cache plugs in.
//!
//! Only verdicts are cached: active with these rights, or refused (revoked, unknown, access
//! tokens disabled). What the network causes (timeouts, 5xx, garbage, 429) is never cached.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use moka::Expiry;
use moka::future::Cache;
use serde::Deserialize;

use crate::api::ApiError;
use crate::api::gateway::{ApiRequest, Gateway};
use crate::api::transport::{Answer, error_messages, status_error};
use crate::error::{AuthError, WrongTokenType};
use crate::identity::{Identity, TokenType};
use crate::lookup::{AccessKind, Question, Verdict};
#[cfg(feature = "redis")]
use crate::shared_cache::{Read, SharedCache};
use crate::telemetry::{self, Endpoint, Level, LookupResult};

/// The rights resolver's own settings.
pub(crate) struct RightsSettings {
    pub(crate) ttl: Duration,
    pub(crate) capacity: u64,
    pub(crate) resolve_user_roles: bool,
    #[cfg(feature = "redis")]
    pub(crate) shared: Option<SharedCache>,
}

/// A verdict in the instance's own cache, and how long it stays there.
struct Cached {
    verdict: Verdict,
    lifetime: Duration,
}

/// Each entry lives its own lifetime: the TTL, or less when it came through the shared cache.
struct ByLifetime;

impl Expiry<Question, Arc<Cached>> for ByLifetime {
    fn expire_after_create(&self, _: &Question, cached: &Arc<Cached>, _: std::time::Instant) -> Option<Duration> {
        Some(cached.lifetime)
    }
}

/// Resolves the rights that a token does not carry itself.
pub(crate) struct Rights {
    gateway: Gateway,
    resolve_user_roles: bool,
    ttl: Duration,
    cache: Cache<Question, Arc<Cached>>,
    #[cfg(feature = "redis")]
    shared: Option<SharedCache>,
}

impl Rights {
    pub(crate) fn new(settings: RightsSettings, gateway: Gateway) -> Rights {
        Rights {
            cache: Cache::builder().max_capacity(settings.capacity).expire_after(ByLifetime).build(),
            resolve_user_roles: settings.resolve_user_roles,
            ttl: settings.ttl,
            #[cfg(feature = "redis")]
            shared: settings.shared,
            gateway,
        }
    }

    /// The shared cache, when one is configured.
    #[cfg(feature = "redis")]
    pub(crate) fn shared(&self) -> Option<&SharedCache> {
        self.shared.as_ref()
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
        let question = Question::AccessToken { kind, id: identity.sub().to_owned() };
        match &self.verdict(question, "access token").await?.verdict {
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
        let question = Question::User { id: user_id, tenant: identity.tenant_id().map(str::to_owned) };
        match &self.verdict(question, "user").await?.verdict {
            Verdict::Refused => Err(AuthError::Revoked),
            Verdict::Rights { roles, permissions, .. } => Ok(identity.with_rights(roles.clone(), permissions.clone())),
        }
    }

    /// The verdict on `question`: from this instance's cache, else the shared cache, else the API.
    /// moka runs one lookup per question and caches only `Ok`: network failures are never a
    /// verdict.
    async fn verdict(&self, question: Question, what: &'static str) -> Result<Arc<Cached>, AuthError> {
        let kind = question.metric();
        if let Some(cached) = self.cache.get(&question).await {
            telemetry::lookup(kind, Level::Local, LookupResult::Hit);
            return Ok(cached);
        }
        telemetry::lookup(kind, Level::Local, LookupResult::Miss);
        let lookup = look_up(
            self.gateway.clone(),
            #[cfg(feature = "redis")]
            self.shared.clone(),
            self.ttl,
            question.clone(),
        );
        self.cache.try_get_with(question, lookup).await.map_err(unavailable(what))
    }
}

/// One lookup through the levels below the instance's cache.
async fn look_up(
    gateway: Gateway,
    #[cfg(feature = "redis")] shared: Option<SharedCache>,
    ttl: Duration,
    question: Question,
) -> Result<Arc<Cached>, ApiError> {
    let kind = question.metric();
    #[cfg(feature = "redis")]
    let shared = match shared {
        Some(shared) => match shared.read(&question).await {
            Read::Hit { verdict, remaining } => {
                telemetry::lookup(kind, Level::Shared, LookupResult::Hit);
                // Never kept longer here than in Redis: a change there reaches this instance
                // within the first-level TTL.
                return Ok(Arc::new(Cached { verdict, lifetime: remaining.min(shared.first_level_ttl()) }));
            }
            Read::Miss => {
                telemetry::lookup(kind, Level::Shared, LookupResult::Miss);
                Some(shared)
            }
            Read::Unavailable => {
                telemetry::lookup(kind, Level::Shared, LookupResult::Error);
                None
            }
        },
        None => None,
    };
    let verdict = match &question {
        Question::AccessToken { kind, id } => access_token(&gateway, *kind, id).await,
        Question::User { id, tenant } => user(&gateway, id, tenant.as_deref()).await,
    };
    let result = if verdict.is_ok() { LookupResult::Hit } else { LookupResult::Error };
    telemetry::lookup(kind, Level::Upstream, result);
    let verdict = verdict?;
    // While Redis is out of use, or refuses writes, the instance keeps what it looked up for
    // the whole TTL, as without a shared cache: an outage must not multiply the calls to
    // Frontegg.
    #[cfg(feature = "redis")]
    if let Some(shared) = shared {
        shared.write(&question, &verdict);
        if !shared.writes_failing() {
            return Ok(Arc::new(Cached { verdict, lifetime: shared.first_level_ttl() }));
        }
    }
    Ok(Arc::new(Cached { verdict, lifetime: ttl }))
}

/// A lookup that failed (network, 5xx, garbage, 429): logged, answered 503, never cached.
fn unavailable(what: &'static str) -> impl Fn(Arc<ApiError>) -> AuthError {
    move |e| {
        tracing::warn!(error = %e, lookup = what, "lookup failed");
        AuthError::ApiUnavailable(e.as_ref().clone())
    }
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
    let answer = gateway.call(ApiRequest::new(Method::GET, url).endpoint(Endpoint::AccessTokenLookup)).await?;
    access_token_verdict(&answer)
}

/// What an access-token lookup's answer says (pure: the fuzz targets read answers with it).
pub(crate) fn access_token_verdict(answer: &Answer) -> Result<Verdict, ApiError> {
    let Answer { status, headers, body } = answer;
    if status.is_success() {
        let token: AccessToken = serde_json::from_slice(body).map_err(ApiError::decode)?;
        return Ok(Verdict::Rights { tenant_id: token.tenant_id, roles: token.roles, permissions: token.permissions });
    }
    if *status == StatusCode::NOT_FOUND || disabled(*status, body) {
        return Ok(Verdict::Refused);
    }
    Err(status_error(*status, headers, body))
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
    let answer = gateway.call(ApiRequest::new(Method::GET, url).endpoint(Endpoint::UserLookup)).await?;
    user_verdict(&answer, tenant_id)
}

/// What a user lookup's answer says about the user's rights in `tenant_id` (pure).
pub(crate) fn user_verdict(answer: &Answer, tenant_id: Option<&str>) -> Result<Verdict, ApiError> {
    let Answer { status, headers, body } = answer;
    if *status == StatusCode::NOT_FOUND {
        return Ok(Verdict::Refused);
    }
    if !status.is_success() {
        return Err(status_error(*status, headers, body));
    }
    let user: User = serde_json::from_slice(body).map_err(ApiError::decode)?;
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
