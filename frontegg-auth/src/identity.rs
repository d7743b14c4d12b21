//! What a verified token says: the typed [`Identity`] and the Frontegg token types.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::context::Context;
use crate::wildcard::permission_grants;

/// The `acr` claim of a Frontegg login that passed multi-factor authentication.
pub const MFA_ACR: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/// The `type` claim of a Frontegg token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// A user's session token (`userToken`), sent as `Authorization: Bearer`.
    User,
    /// A client-credentials API token created by a user (`userApiToken`), sent as `Authorization: Bearer`.
    UserApi,
    /// A client-credentials API token of a tenant (`tenantApiToken`), sent as `Authorization: Bearer`.
    TenantApi,
    /// A user's access token (`userAccessToken`), sent as `x-api-key`; its rights come from the API.
    UserAccess,
    /// A tenant's access token (`tenantAccessToken`), sent as `x-api-key`; its rights come from the API.
    TenantAccess,
    /// Any other value, or no `type` claim (empty string). Such tokens are refused.
    Unknown(String),
}

impl TokenType {
    /// Parses the claim's value.
    pub fn parse(value: &str) -> TokenType {
        match value {
            "userToken" => TokenType::User,
            "userApiToken" => TokenType::UserApi,
            "tenantApiToken" => TokenType::TenantApi,
            "userAccessToken" => TokenType::UserAccess,
            "tenantAccessToken" => TokenType::TenantAccess,
            other => TokenType::Unknown(other.to_owned()),
        }
    }

    /// The claim's value.
    pub fn as_str(&self) -> &str {
        match self {
            TokenType::User => "userToken",
            TokenType::UserApi => "userApiToken",
            TokenType::TenantApi => "tenantApiToken",
            TokenType::UserAccess => "userAccessToken",
            TokenType::TenantAccess => "tenantAccessToken",
            TokenType::Unknown(other) => other,
        }
    }

    /// Whether this is an access token, presented in `x-api-key` and resolved through the API.
    pub fn is_access_token(&self) -> bool {
        matches!(self, TokenType::UserAccess | TokenType::TenantAccess)
    }

    /// Whether the token acts for a tenant rather than a user.
    pub fn is_tenant_token(&self) -> bool {
        matches!(self, TokenType::TenantApi | TokenType::TenantAccess)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why verified claims do not make an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShapeError {
    /// A Frontegg claim is missing or has the wrong type.
    WrongShape,
    /// `sub` is empty.
    EmptySubject,
}

/// The claims read from the token; every Frontegg claim but `sub` may be missing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Claims {
    sub: String,
    #[serde(rename = "type", default)]
    token_type: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    tenant_ids: Option<Vec<String>>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    created_by_user_id: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    application_id: Option<String>,
    #[serde(default)]
    exp: Option<f64>,
}

/// A verified caller: who they are, for which tenant, with which roles and permissions.
///
/// Cheap to clone. For access tokens, `roles` and `permissions` are the ones Frontegg's API
/// returned for the token, never the placeholders the token carries.
///
/// ```
/// # fn demo(identity: frontegg_auth::Identity) {
/// if identity.has_permission("reports.read") {
///     println!("{} of tenant {:?} may read reports", identity.sub(), identity.tenant_id());
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

struct Inner {
    sub: String,
    token_type: TokenType,
    tenant_id: Option<String>,
    tenant_ids: Vec<String>,
    user_id: Option<String>,
    roles: Vec<String>,
    permissions: Vec<String>,
    email: Option<String>,
    name: Option<String>,
    metadata: Option<Value>,
    sid: Option<String>,
    application_id: Option<String>,
    expires_at: Option<SystemTime>,
    raw: Arc<Map<String, Value>>,
    wildcards: bool,
    context: Context,
}

impl Identity {
    /// Builds an identity from verified claims.
    pub(crate) fn from_claims(
        raw: Map<String, Value>,
        wildcards: bool,
        context: Context,
    ) -> Result<Identity, ShapeError> {
        // The parser's message may quote a claim's value: it is not logged.
        let claims = Claims::deserialize(&MapDeserializer(&raw)).map_err(|_| ShapeError::WrongShape)?;
        if claims.sub.is_empty() {
            return Err(ShapeError::EmptySubject);
        }
        let token_type = TokenType::parse(claims.token_type.as_deref().unwrap_or_default());
        // Which claim names the user depends on the type (frontegg-api.md §4).
        let user_id = match token_type {
            TokenType::User => Some(claims.sub.clone()),
            TokenType::UserApi => claims.user_id.or(claims.created_by_user_id),
            TokenType::UserAccess => claims.user_id,
            _ => None,
        };
        let expires_at = claims
            .exp
            .filter(|e| e.is_finite() && *e >= 0.0)
            .and_then(|e| UNIX_EPOCH.checked_add(Duration::from_secs_f64(e.min(1e12))));
        Ok(Identity {
            inner: Arc::new(Inner {
                sub: claims.sub,
                token_type,
                tenant_id: claims.tenant_id,
                tenant_ids: claims.tenant_ids.unwrap_or_default(),
                user_id,
                roles: claims.roles.unwrap_or_default(),
                permissions: claims.permissions.unwrap_or_default(),
                email: claims.email,
                name: claims.name,
                metadata: claims.metadata,
                sid: claims.sid,
                application_id: claims.application_id,
                expires_at,
                raw: Arc::new(raw),
                wildcards,
                context,
            }),
        })
    }

    /// The same identity with roles and permissions resolved through the Frontegg API.
    pub(crate) fn with_rights(&self, roles: Vec<String>, permissions: Vec<String>) -> Identity {
        self.rebuilt(roles, permissions, self.inner.context.clone())
    }

    /// The same identity, from a browser session on a page that sends to the login: a missing
    /// step-up is a redirect to `location` (the login route) asking for it.
    pub(crate) fn with_login(&self, location: Arc<String>) -> Identity {
        let i = &self.inner;
        self.rebuilt(i.roles.clone(), i.permissions.clone(), i.context.clone().with_login(location))
    }

    fn rebuilt(&self, roles: Vec<String>, permissions: Vec<String>, context: Context) -> Identity {
        let i = &self.inner;
        Identity {
            inner: Arc::new(Inner {
                sub: i.sub.clone(),
                token_type: i.token_type.clone(),
                tenant_id: i.tenant_id.clone(),
                tenant_ids: i.tenant_ids.clone(),
                user_id: i.user_id.clone(),
                roles,
                permissions,
                email: i.email.clone(),
                name: i.name.clone(),
                metadata: i.metadata.clone(),
                sid: i.sid.clone(),
                application_id: i.application_id.clone(),
                expires_at: i.expires_at,
                raw: i.raw.clone(),
                wildcards: i.wildcards,
                context,
            }),
        }
    }

    /// `sub`: the user id for user tokens, the client id for API tokens, the token id for access tokens.
    pub fn sub(&self) -> &str {
        &self.inner.sub
    }

    /// The token type.
    pub fn token_type(&self) -> &TokenType {
        &self.inner.token_type
    }

    /// `tenantId`: the tenant the credential acts in.
    pub fn tenant_id(&self) -> Option<&str> {
        self.inner.tenant_id.as_deref()
    }

    /// `tenantIds`: every tenant of the user (user tokens only).
    pub fn tenant_ids(&self) -> &[String] {
        &self.inner.tenant_ids
    }

    /// The user behind the credential: `sub` for user tokens, `userId` (else `createdByUserId`)
    /// for user API tokens, `userId` for user access tokens, none for tenant tokens.
    pub fn user_id(&self) -> Option<&str> {
        self.inner.user_id.as_deref()
    }

    /// Role keys.
    pub fn roles(&self) -> &[String] {
        &self.inner.roles
    }

    /// Permission keys as granted; they may be patterns (see [`crate::requirement`]).
    pub fn permissions(&self) -> &[String] {
        &self.inner.permissions
    }

    /// `email`, when the token carries it.
    pub fn email(&self) -> Option<&str> {
        self.inner.email.as_deref()
    }

    /// `name`, when the token carries it.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// `metadata`, when the token carries it.
    pub fn metadata(&self) -> Option<&Value> {
        self.inner.metadata.as_ref()
    }

    /// `sid`: the session id of user tokens.
    pub fn sid(&self) -> Option<&str> {
        self.inner.sid.as_deref()
    }

    /// `applicationId`, when the token carries it.
    pub fn application_id(&self) -> Option<&str> {
        self.inner.application_id.as_deref()
    }

    /// `exp`.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.inner.expires_at
    }

    /// Every claim as it was in the token, unknown ones included.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.inner.raw
    }

    /// The context requirements are checked in: the clock of the authenticator that verified it.
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    /// Whether granted permissions may be patterns.
    pub(crate) fn wildcards(&self) -> bool {
        self.inner.wildcards
    }

    /// Whether a granted permission grants `key` (wildcards as configured).
    pub fn has_permission(&self, key: &str) -> bool {
        self.inner.permissions.iter().any(|granted| permission_grants(granted, key, self.inner.wildcards))
    }

    /// Whether the caller holds the role `key` (exact match).
    pub fn has_role(&self, key: &str) -> bool {
        self.inner.roles.iter().any(|role| role == key)
    }

    /// The identity with these rights, for tests of code that consumes identities.
    #[cfg(feature = "testing")]
    pub fn for_tests(
        sub: &str,
        token_type: TokenType,
        tenant_id: Option<&str>,
        roles: &[&str],
        permissions: &[&str],
    ) -> Identity {
        let mut raw = Map::new();
        raw.insert("sub".into(), Value::from(sub));
        raw.insert("type".into(), Value::from(token_type.as_str()));
        if let Some(t) = tenant_id {
            raw.insert("tenantId".into(), Value::from(t));
        }
        raw.insert("roles".into(), Value::from(roles.to_vec()));
        raw.insert("permissions".into(), Value::from(permissions.to_vec()));
        let user_id = match token_type {
            TokenType::User => Some(sub.to_owned()),
            _ => None,
        };
        Identity {
            inner: Arc::new(Inner {
                sub: sub.to_owned(),
                token_type,
                tenant_id: tenant_id.map(str::to_owned),
                tenant_ids: tenant_id.map(str::to_owned).into_iter().collect(),
                user_id,
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                email: None,
                name: None,
                metadata: None,
                sid: None,
                application_id: None,
                expires_at: None,
                raw: Arc::new(raw),
                wildcards: true,
                context: Context::system(),
            }),
        }
    }
}

/// Names, types and tenant; e-mail and name are personal data and stay out of logs.
impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("sub", &self.inner.sub)
            .field("token_type", &self.inner.token_type)
            .field("tenant_id", &self.inner.tenant_id)
            .field("user_id", &self.inner.user_id)
            .field("roles", &self.inner.roles)
            .field("permissions", &self.inner.permissions)
            .finish_non_exhaustive()
    }
}

/// Deserializes a struct straight from a borrowed map, without cloning it into a `Value`.
struct MapDeserializer<'a>(&'a Map<String, Value>);

impl<'de> serde::Deserializer<'de> for &MapDeserializer<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        use serde::de::value::MapDeserializer as Md;
        let mut map = Md::new(self.0.iter().map(|(k, v)| (k.as_str(), v)));
        let value = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(value)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
