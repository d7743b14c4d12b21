use http::Method;
use serde::Serialize;

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use crate::telemetry::ApiClient;

const CLIENT: ApiClient = ApiClient::Permissions;
use super::models::{AssignmentType, NewPermission, Permission, PermissionUpdate};

const BASE: &str = "/identity/resources/permissions/v1";

/// Permissions: `{gateway}/identity/resources/permissions/v1`. From [`FronteggClient::permissions`](super::FronteggClient::permissions).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewPermission};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let created = client.permissions().create(vec![NewPermission::new("reports.read", "Read reports")]).await?;
/// let all = client.permissions().list().await?;
/// assert!(all.iter().any(|p| p.id == created[0].id));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Permissions<'a> {
    gateway: &'a Gateway,
}

impl<'a> Permissions<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Permissions { gateway }
    }

    /// Every permission.
    pub async fn list(&self) -> Result<Vec<Permission>, ApiError> {
        self.gateway.json(ApiRequest::of(CLIENT, Method::GET, self.gateway.url(BASE, &[])?)).await
    }

    /// Creates permissions, in one call.
    pub async fn create(&self, permissions: Vec<NewPermission>) -> Result<Vec<Permission>, ApiError> {
        self.gateway.json(ApiRequest::of(CLIENT, Method::POST, self.gateway.url(BASE, &[])?).json(&permissions)?).await
    }

    /// Changes a permission.
    pub async fn update(&self, permission_id: &str, update: &PermissionUpdate) -> Result<Permission, ApiError> {
        let url = self.gateway.url(BASE, &[permission_id])?;
        self.gateway.json(ApiRequest::of(CLIENT, Method::PATCH, url).json(update)?).await
    }

    /// Deletes a permission.
    pub async fn delete(&self, permission_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(ApiRequest::of(CLIENT, Method::DELETE, self.gateway.url(BASE, &[permission_id])?)).await
    }

    /// Gives the permission to these roles (by role id).
    pub async fn set_roles(&self, permission_id: &str, role_ids: &[&str]) -> Result<Permission, ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            role_ids: &'b [&'b str],
        }
        let url = self.gateway.url(BASE, &[permission_id, "roles"])?;
        self.gateway.json(ApiRequest::of(CLIENT, Method::PUT, url).json(&Body { role_ids })?).await
    }

    /// Sets the assignment type of these permissions. The answer's shape is not documented
    /// consistently, so only success is reported.
    pub async fn classify(&self, permission_ids: &[&str], assignment: AssignmentType) -> Result<(), ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            permission_ids: &'b [&'b str],
            #[serde(rename = "type")]
            kind: AssignmentType,
        }
        let url = self.gateway.url(BASE, &["classification"])?;
        let body = Body { permission_ids, kind: assignment };
        self.gateway.no_content(ApiRequest::of(CLIENT, Method::PUT, url).json(&body)?).await
    }
}
