use http::Method;
use serde::Serialize;

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use crate::telemetry::ApiClient;

const CLIENT: ApiClient = ApiClient::Roles;
use super::models::{NewRole, Role, RoleUpdate, RolesPage, RolesQuery};

const BASE: &str = "/identity/resources/roles/v1";

/// Roles: `{gateway}/identity/resources/roles/v1` and `/v2`. From
/// [`FronteggClient::roles`](super::FronteggClient::roles).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewRole};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let role = client.roles().create(vec![NewRole::new("reader", "Reader", 1)]).await?.remove(0);
/// client.roles().set_permissions(&role.id, &["permission-id"]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Roles<'a> {
    gateway: &'a Gateway,
}

impl<'a> Roles<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Roles { gateway }
    }

    /// Every role; with a tenant, that tenant's view (header `frontegg-tenant-id`).
    pub async fn list(&self, tenant_id: Option<&str>) -> Result<Vec<Role>, ApiError> {
        let mut request = ApiRequest::of(CLIENT, Method::GET, self.gateway.url(BASE, &[])?);
        if let Some(tenant_id) = tenant_id {
            request = request.tenant(tenant_id)?;
        }
        self.gateway.json(request).await
    }

    /// One page of roles (`GET /resources/roles/v2`).
    pub async fn list_page(&self, query: &RolesQuery) -> Result<RolesPage, ApiError> {
        let url = self.gateway.url("/identity/resources/roles/v2", &[])?;
        self.gateway.json(ApiRequest::of(CLIENT, Method::GET, url).query(query.pairs())).await
    }

    /// Creates roles, in one call.
    pub async fn create(&self, roles: Vec<NewRole>) -> Result<Vec<Role>, ApiError> {
        self.gateway.json(ApiRequest::of(CLIENT, Method::POST, self.gateway.url(BASE, &[])?).json(&roles)?).await
    }

    /// Changes a role.
    pub async fn update(&self, role_id: &str, update: &RoleUpdate) -> Result<Role, ApiError> {
        let url = self.gateway.url(BASE, &[role_id])?;
        self.gateway.json(ApiRequest::of(CLIENT, Method::PATCH, url).json(update)?).await
    }

    /// Deletes a role.
    pub async fn delete(&self, role_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(ApiRequest::of(CLIENT, Method::DELETE, self.gateway.url(BASE, &[role_id])?)).await
    }

    /// Replaces the role's permissions (by permission id).
    pub async fn set_permissions(&self, role_id: &str, permission_ids: &[&str]) -> Result<Role, ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            permission_ids: &'b [&'b str],
        }
        let url = self.gateway.url(BASE, &[role_id, "permissions"])?;
        self.gateway.json(ApiRequest::of(CLIENT, Method::PUT, url).json(&Body { permission_ids })?).await
    }
}
