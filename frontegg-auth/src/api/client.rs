use super::categories::Categories;
use super::gateway::Gateway;
use super::permissions::Permissions;
use super::roles::Roles;
use crate::config::{Config, ConfigError};

/// A typed, async client of Frontegg's permission-model API.
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
}
