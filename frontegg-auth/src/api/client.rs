use super::categories::Categories;
use super::error::ApiError;
use super::gateway::Gateway;
use super::groups::Groups;
use super::invitations::Invitations;
use super::machine_tokens::{AccessTokens, ApiTokens};
use super::permissions::Permissions;
use super::roles::Roles;
use super::tenants::Tenants;
use super::user_sessions::Sessions;
use super::users::Users;
use crate::config::{Config, ConfigError};

/// A typed, async client of Frontegg's management API: the permission model, users, tenants,
/// machine tokens, sessions, invitations and groups. Every client shares one transport and one
/// vendor token (see [the module](super) for the conventions of them all).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewCategory, NewPermission};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let category = client.categories().create(NewCategory::new("Reports")).await?;
/// let created = client
///     .permissions()
///     .create(vec![NewPermission::new("reports.read", "Read reports").category(&category.id)])
///     .await?;
/// println!("created {}", created[0].key);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FronteggClient {
    gateway: Gateway,
}

impl std::fmt::Debug for FronteggClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FronteggClient").finish_non_exhaustive()
    }
}

impl FronteggClient {
    /// A client of its own (an [`Authenticator`](crate::Authenticator) has one too:
    /// [`Authenticator::client`](crate::Authenticator::client)). Needs credentials.
    pub fn new(config: &Config) -> Result<FronteggClient, ConfigError> {
        if !config.has_credentials() {
            return Err(ConfigError::CredentialsRequired);
        }
        Ok(FronteggClient { gateway: Gateway::from_config(config)? })
    }

    pub(crate) fn from_gateway(gateway: Gateway) -> FronteggClient {
        FronteggClient { gateway }
    }

    /// Permissions.
    pub fn permissions(&self) -> Permissions<'_> {
        Permissions::new(&self.gateway)
    }

    /// Permission categories.
    pub fn categories(&self) -> Categories<'_> {
        Categories::new(&self.gateway)
    }

    /// Roles.
    pub fn roles(&self) -> Roles<'_> {
        Roles::new(&self.gateway)
    }

    /// Users.
    pub fn users(&self) -> Users<'_> {
        Users::new(&self.gateway)
    }

    /// Tenants.
    pub fn tenants(&self) -> Tenants<'_> {
        Tenants::new(&self.gateway)
    }

    /// Access tokens of tenants and users.
    pub fn access_tokens(&self) -> AccessTokens<'_> {
        AccessTokens::new(&self.gateway)
    }

    /// API tokens (client credentials) of tenants and users.
    pub fn api_tokens(&self) -> ApiTokens<'_> {
        ApiTokens::new(&self.gateway)
    }

    /// Users' sessions.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions::new(&self.gateway)
    }

    /// Invitations to tenants.
    pub fn invitations(&self) -> Invitations<'_> {
        Invitations::new(&self.gateway)
    }

    /// Groups of users.
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(&self.gateway)
    }

    /// The same client (same connections, same vendor token) sending `frontegg-application-id`
    /// on every call, as a multi-app environment may require; the id must be a valid header
    /// value ([`ApiError::InvalidId`] otherwise).
    ///
    /// ```no_run
    /// # fn demo(client: frontegg_auth::api::FronteggClient) -> Result<(), frontegg_auth::api::ApiError> {
    /// let client = client.with_application_id("app-id")?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn with_application_id(&self, application_id: &str) -> Result<FronteggClient, ApiError> {
        Ok(FronteggClient { gateway: self.gateway.with_application_id(application_id)? })
    }
}
