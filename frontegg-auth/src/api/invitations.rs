//! Invitation links to tenants (the fact sheet's §6). Paths under
//! `{gateway}/identity/resources/tenants/invites/v1`.

use http::Method;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use super::models::nullable;
use super::transport::check_id;
use crate::secret::OneTimeToken;
use crate::telemetry::ApiClient;

const INVITES: &str = "/identity/resources/tenants/invites/v1";

/// An invitation: a token that lets whoever holds it join a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Invitation {
    /// Its id.
    pub id: String,
    /// The tenant it invites to.
    pub tenant_id: String,
    /// The user who invites, if one does.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The invitation token (a secret: whoever holds it can join).
    pub token: OneTimeToken,
    /// When it expires.
    #[serde(default)]
    pub expires: Option<String>,
    /// Whether Frontegg e-mails it.
    #[serde(default, deserialize_with = "nullable")]
    pub should_send_email: bool,
    /// Roles given on joining, by id.
    #[serde(default, deserialize_with = "nullable")]
    pub role_ids: Vec<String>,
}

/// An invitation to create.
///
/// ```
/// use frontegg_auth::api::NewInvitation;
/// let invitation = NewInvitation::new("acme").expires_in_minutes(60 * 24).role_ids(["role-id"]);
/// # let _ = invitation;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewInvitation {
    tenant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_minutes: Option<u64>,
    should_send_email: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    role_ids: Vec<String>,
}

impl NewInvitation {
    /// An invitation to `tenant_id`, not e-mailed.
    pub fn new(tenant_id: impl Into<String>) -> Self {
        NewInvitation {
            tenant_id: tenant_id.into(),
            user_id: None,
            expires_in_minutes: None,
            should_send_email: false,
            role_ids: Vec::new(),
        }
    }

    /// Made in the name of this user.
    pub fn inviter(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Expires after this many minutes (0 counts as 1).
    pub fn expires_in_minutes(mut self, minutes: u64) -> Self {
        self.expires_in_minutes = Some(minutes.max(1));
        self
    }

    /// Whether Frontegg e-mails it.
    pub fn send_email(mut self, send: bool) -> Self {
        self.should_send_email = send;
        self
    }

    /// Roles given on joining, by id.
    pub fn role_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, role_ids: I) -> Self {
        self.role_ids = role_ids.into_iter().map(Into::into).collect();
        self
    }
}

/// Invitations: `{gateway}/identity/resources/tenants/invites/v1`. From
/// [`FronteggClient::invitations`](super::FronteggClient::invitations).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewInvitation};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let invitation = client.invitations().create(NewInvitation::new("acme")).await?;
/// // `invitation.token` is a secret: hand it to the person invited, never to a log.
/// client.invitations().delete(&invitation.id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Invitations<'a> {
    gateway: &'a Gateway,
}

impl<'a> Invitations<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Invitations { gateway }
    }

    fn request(&self, method: Method, segments: &[&str]) -> Result<ApiRequest, ApiError> {
        Ok(ApiRequest::of(ApiClient::Invitations, method, self.gateway.url(INVITES, segments)?))
    }

    /// Creates an invitation.
    pub async fn create(&self, invitation: NewInvitation) -> Result<Invitation, ApiError> {
        check_id(&invitation.tenant_id)?;
        if let Some(user_id) = &invitation.user_id {
            check_id(user_id)?;
        }
        self.gateway.json(self.request(Method::POST, &[])?.json(&invitation)?).await
    }

    /// Every invitation, of every tenant.
    pub async fn list(&self) -> Result<Vec<Invitation>, ApiError> {
        self.gateway.json(self.request(Method::GET, &["all"])?).await
    }

    /// Deletes an invitation: its token no longer works.
    pub async fn delete(&self, invitation_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::DELETE, &["token", invitation_id])?).await
    }
}
