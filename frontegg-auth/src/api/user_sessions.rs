//! A user's sessions at Frontegg (the fact sheet's §5): listed and revoked with the vendor token
//! and `frontegg-user-id`, on the `/me` routes (there is no vendor-scoped path).

use http::Method;
use serde::Deserialize;

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use super::models::nullable;
use crate::telemetry::ApiClient;

const ME: &str = "/identity/resources/users/sessions/v1/me";

/// One of a user's sessions. Its `id` is, as far as Frontegg's own SDKs show, the `sid` claim
/// of the tokens issued in it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserSession {
    /// Its id.
    pub id: String,
    /// The browser or client.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Where it was opened from.
    #[serde(default)]
    pub ip_address: Option<String>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When it ends.
    #[serde(default)]
    pub expires: Option<String>,
    /// Whether it is the session of the caller (always false with the vendor token).
    #[serde(default, deserialize_with = "nullable")]
    pub current: bool,
    /// Whether someone impersonates the user in it.
    #[serde(default, deserialize_with = "nullable")]
    pub impersonated: bool,
}

/// A user's sessions: `{gateway}/identity/resources/users/sessions/v1/me`. From
/// [`FronteggClient::sessions`](super::FronteggClient::sessions).
///
/// Revoking a session stops its refresh; access tokens already issued in it stay valid until
/// they expire (JWTs cannot be recalled): keep their lifetime short.
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::FronteggClient;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// for session in client.sessions().list("user-id", Some("tenant-id")).await? {
///     println!("{} from {:?}", session.id, session.ip_address);
/// }
/// client.sessions().revoke_all("user-id", Some("tenant-id")).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    gateway: &'a Gateway,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Sessions { gateway }
    }

    /// A call for `user_id`, in `tenant_id` when given (sessions are kept per tenant).
    fn request(
        &self,
        method: Method,
        user_id: &str,
        tenant_id: Option<&str>,
        segments: &[&str],
    ) -> Result<ApiRequest, ApiError> {
        let mut request = ApiRequest::of(ApiClient::Sessions, method, self.gateway.url(ME, segments)?).user(user_id)?;
        if let Some(tenant_id) = tenant_id {
            request = request.tenant(tenant_id)?;
        }
        Ok(request)
    }

    /// The user's active sessions (in one tenant, when given).
    pub async fn list(&self, user_id: &str, tenant_id: Option<&str>) -> Result<Vec<UserSession>, ApiError> {
        self.gateway.json(self.request(Method::GET, user_id, tenant_id, &[])?).await
    }

    /// Revokes one session.
    pub async fn revoke(&self, user_id: &str, tenant_id: Option<&str>, session_id: &str) -> Result<(), ApiError> {
        // `all` is the path of the other call: refused as an id, not sent as one.
        if session_id == "all" {
            return Err(ApiError::InvalidId);
        }
        self.gateway.no_content(self.request(Method::DELETE, user_id, tenant_id, &[session_id])?).await
    }

    /// Revokes all the user's sessions (in one tenant, when given).
    pub async fn revoke_all(&self, user_id: &str, tenant_id: Option<&str>) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::DELETE, user_id, tenant_id, &["all"])?).await
    }
}
