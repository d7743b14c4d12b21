//! Machine-to-machine credentials (the fact sheet's §4.1 to §4.4): access tokens (a JWT sent as
//! `x-api-key`, whose rights Frontegg resolves) and API tokens (a client id and secret,
//! exchanged for a JWT by [`TokenExchange`](super::TokenExchange)), each of a tenant or of a
//! user in a tenant.

use http::Method;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use super::models::{Metadata, metadata, nullable};
use crate::secret::{AccessTokenSecret, ClientSecret};
use crate::telemetry::ApiClient;

/// Whose token: a tenant's, or a user's in a tenant (sent as `frontegg-tenant-id` and
/// `frontegg-user-id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner<'a> {
    /// A tenant's token.
    Tenant(&'a str),
    /// A user's token in a tenant.
    User {
        /// The tenant.
        tenant_id: &'a str,
        /// The user.
        user_id: &'a str,
    },
}

impl TokenOwner<'_> {
    /// The owner's path segment.
    fn kind(self) -> &'static str {
        match self {
            TokenOwner::Tenant(_) => "tenants",
            TokenOwner::User { .. } => "users",
        }
    }

    /// The owner's headers.
    fn headers(self, request: ApiRequest) -> Result<ApiRequest, ApiError> {
        match self {
            TokenOwner::Tenant(tenant_id) => request.tenant(tenant_id),
            TokenOwner::User { tenant_id, user_id } => request.tenant(tenant_id)?.user(user_id),
        }
    }

    /// A call of `client` to `/identity/resources/{tenants|users}/{resource}/{version}[/{id}]`.
    fn request(
        self,
        gateway: &Gateway,
        client: ApiClient,
        method: Method,
        resource: &str,
        id: Option<&str>,
    ) -> Result<ApiRequest, ApiError> {
        let url = gateway.url(&format!("/identity/resources/{}/{resource}", self.kind()), id.as_slice())?;
        self.headers(ApiRequest::of(client, method, url))
    }
}

/// An access token, as listed (without its value).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AccessToken {
    /// Its id (the JWT's `sub`).
    pub id: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When it expires; `None`: never.
    #[serde(default)]
    pub expires: Option<String>,
    /// Its roles, by id (tenant tokens).
    #[serde(default, deserialize_with = "nullable")]
    pub role_ids: Vec<String>,
}

/// An access token just created: the only time Frontegg shows its value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreatedAccessToken {
    /// The token.
    #[serde(flatten)]
    pub token: AccessToken,
    /// Its value, to send as `x-api-key`.
    pub secret: AccessTokenSecret,
}

impl CreatedAccessToken {
    /// The token's id.
    pub fn id(&self) -> &str {
        &self.token.id
    }
}

/// An access token to create.
///
/// ```
/// use frontegg_auth::api::NewAccessToken;
/// let token = NewAccessToken::new("reports exporter").expires_in_minutes(60).role_ids(["role-id"]);
/// # let _ = token;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccessToken {
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_minutes: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    role_ids: Vec<String>,
}

impl NewAccessToken {
    /// A token with this description that never expires and has no roles.
    pub fn new(description: impl Into<String>) -> Self {
        NewAccessToken { description: description.into(), expires_in_minutes: None, role_ids: Vec::new() }
    }

    /// Expires after this many minutes (0 counts as 1).
    pub fn expires_in_minutes(mut self, minutes: u64) -> Self {
        self.expires_in_minutes = Some(minutes.max(1));
        self
    }

    /// Roles, by id (tenant tokens only: a user's token has the user's rights).
    pub fn role_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, role_ids: I) -> Self {
        self.role_ids = role_ids.into_iter().map(Into::into).collect();
        self
    }
}

/// Access tokens of tenants and users: `{gateway}/identity/resources/{tenants|users}/access-tokens/v1`.
/// From [`FronteggClient::access_tokens`](super::FronteggClient::access_tokens).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewAccessToken, TokenOwner};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let owner = TokenOwner::Tenant("acme");
/// let created = client.access_tokens().create(owner, NewAccessToken::new("exporter")).await?;
/// // `created.secret` goes, once, to whoever will send it as `x-api-key`.
/// client.access_tokens().delete(owner, created.id()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AccessTokens<'a> {
    gateway: &'a Gateway,
}

impl<'a> AccessTokens<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        AccessTokens { gateway }
    }

    fn request(&self, method: Method, owner: TokenOwner<'_>, id: Option<&str>) -> Result<ApiRequest, ApiError> {
        owner.request(self.gateway, ApiClient::AccessTokens, method, "access-tokens/v1", id)
    }

    /// Creates a token; its value comes back this once. Roles are for a tenant's token: a user's
    /// has the user's rights ([`ApiError::InvalidRequest`] otherwise).
    pub async fn create(&self, owner: TokenOwner<'_>, token: NewAccessToken) -> Result<CreatedAccessToken, ApiError> {
        if matches!(owner, TokenOwner::User { .. }) && !token.role_ids.is_empty() {
            return Err(ApiError::InvalidRequest("a user's access token has the user's roles: set none"));
        }
        self.gateway.json(self.request(Method::POST, owner, None)?.json(&token)?).await
    }

    /// The owner's tokens (without their values).
    pub async fn list(&self, owner: TokenOwner<'_>) -> Result<Vec<AccessToken>, ApiError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            // Required: a `{}` is no empty list.
            access_tokens: Vec<AccessToken>,
        }
        let answer: Answer = self.gateway.json(self.request(Method::GET, owner, None)?).await?;
        Ok(answer.access_tokens)
    }

    /// Deletes a token. Services that cached its rights refuse it once their cache entry ends
    /// (the lookup TTL).
    pub async fn delete(&self, owner: TokenOwner<'_>, id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::DELETE, owner, Some(id))?).await
    }
}

/// An API token (client credentials), as listed (without its secret).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiToken {
    /// Its client id.
    pub client_id: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The tenant (tenant tokens).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Metadata, which Frontegg puts into the token's JWTs.
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
    /// Its roles, by id (tenant tokens).
    #[serde(default, deserialize_with = "nullable")]
    pub role_ids: Vec<String>,
    /// Its permissions, by id (tenant tokens).
    #[serde(default, deserialize_with = "nullable")]
    pub permission_ids: Vec<String>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When it expires; `None`: never.
    #[serde(default)]
    pub expires: Option<String>,
}

/// An API token just created: the only time Frontegg shows its secret.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CreatedApiToken {
    /// The token.
    #[serde(flatten)]
    pub token: ApiToken,
    /// Its secret, exchanged with the client id for a JWT.
    pub secret: ClientSecret,
}

impl CreatedApiToken {
    /// The token's client id.
    pub fn client_id(&self) -> &str {
        &self.token.client_id
    }
}

/// An API token to create.
///
/// ```
/// use frontegg_auth::api::NewApiToken;
/// let token = NewApiToken::new("billing sync").role_ids(["role-id"]).expires_in_minutes(1440);
/// # let _ = token;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApiToken {
    description: String,
    // An object here, not a string (unlike users' metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    role_ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    permission_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_minutes: Option<u64>,
}

impl NewApiToken {
    /// A token with this description that never expires.
    pub fn new(description: impl Into<String>) -> Self {
        NewApiToken {
            description: description.into(),
            metadata: None,
            role_ids: Vec::new(),
            permission_ids: Vec::new(),
            expires_in_minutes: None,
        }
    }

    /// Metadata, put into the token's JWTs.
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Roles, by id (tenant tokens; Frontegg takes roles or permissions, roles first).
    pub fn role_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, role_ids: I) -> Self {
        self.role_ids = role_ids.into_iter().map(Into::into).collect();
        self
    }

    /// Permissions, by id (tenant tokens, without roles).
    pub fn permission_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, permission_ids: I) -> Self {
        self.permission_ids = permission_ids.into_iter().map(Into::into).collect();
        self
    }

    /// Expires after this many minutes (0 counts as 1).
    pub fn expires_in_minutes(mut self, minutes: u64) -> Self {
        self.expires_in_minutes = Some(minutes.max(1));
        self
    }
}

/// API tokens (client credentials) of tenants and users:
/// `{gateway}/identity/resources/{tenants|users}/api-tokens/...`. From
/// [`FronteggClient::api_tokens`](super::FronteggClient::api_tokens).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewApiToken, TokenExchange, TokenOwner};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::from_env()?;
/// let client = FronteggClient::new(&config)?;
/// let created = client.api_tokens().create(TokenOwner::Tenant("acme"), NewApiToken::new("sync")).await?;
/// let exchange = TokenExchange::new(&config, created.client_id(), created.secret.clone())?;
/// let jwt = exchange.token().await?; // a bearer token for another Frontegg-protected service
/// # let _ = jwt;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ApiTokens<'a> {
    gateway: &'a Gateway,
}

impl<'a> ApiTokens<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        ApiTokens { gateway }
    }

    fn request(
        &self,
        method: Method,
        owner: TokenOwner<'_>,
        version: &str,
        id: Option<&str>,
    ) -> Result<ApiRequest, ApiError> {
        owner.request(self.gateway, ApiClient::ApiTokens, method, &format!("api-tokens/{version}"), id)
    }

    /// Creates a token; its secret comes back this once. Roles and permissions are for a
    /// tenant's token: a user's has the user's rights ([`ApiError::InvalidRequest`] otherwise).
    pub async fn create(&self, owner: TokenOwner<'_>, token: NewApiToken) -> Result<CreatedApiToken, ApiError> {
        if matches!(owner, TokenOwner::User { .. }) && !(token.role_ids.is_empty() && token.permission_ids.is_empty()) {
            return Err(ApiError::InvalidRequest(
                "a user's API token has the user's rights: set no roles or permissions",
            ));
        }
        // Tenant tokens are created on v2 (v1 is deprecated); user tokens only have v1.
        let version = if matches!(owner, TokenOwner::Tenant(_)) { "v2" } else { "v1" };
        self.gateway.json(self.request(Method::POST, owner, version, None)?.json(&token)?).await
    }

    /// The owner's tokens (without their secrets).
    pub async fn list(&self, owner: TokenOwner<'_>) -> Result<Vec<ApiToken>, ApiError> {
        self.gateway.json(self.request(Method::GET, owner, "v1", None)?).await
    }

    /// Deletes a token, by client id: it can no longer be exchanged (JWTs already issued live
    /// until they expire).
    pub async fn delete(&self, owner: TokenOwner<'_>, client_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::DELETE, owner, "v1", Some(client_id))?).await
    }
}
