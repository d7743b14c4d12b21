//! User groups of a tenant (the fact sheet's §7). Paths under
//! `{gateway}/identity/resources/groups`, with `frontegg-tenant-id`.

use futures_util::Stream;
use http::Method;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use super::models::{
    AssignedRole, Metadata, SortOrder, metadata, metadata_string, nullable, option_setters, page_pairs, page_request,
};
use super::paging::{self, DEFAULT_PAGE_CAP, Page, stream_limit};
use crate::telemetry::ApiClient;

/// A group of users in a tenant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Group {
    /// Its id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Display colour.
    #[serde(default)]
    pub color: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Metadata (a JSON-encoded string on the wire; both forms are read).
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
    /// Its roles, when the answer embeds them.
    #[serde(default, deserialize_with = "nullable")]
    pub roles: Vec<AssignedRole>,
    /// Its members, when the answer embeds them.
    #[serde(default, deserialize_with = "nullable")]
    pub users: Vec<GroupMember>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupMember {
    /// The user's id.
    pub id: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A group to create.
///
/// ```
/// use frontegg_auth::api::NewGroup;
/// let group = NewGroup::new("Finance").color("#0a7").description("Approves invoices");
/// # let _ = group;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewGroup {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "metadata_string")]
    metadata: Option<Metadata>,
}

option_setters!(NewGroup {
    /// Display colour.
    color: String,
    /// Description.
    description: String,
    /// Metadata (sent as the JSON-encoded string Frontegg expects).
    metadata: Metadata,
});

impl NewGroup {
    /// A group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        NewGroup { name: name.into(), color: None, description: None, metadata: None }
    }
}

/// What groups are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupSort {
    /// Id.
    Id,
    /// Name.
    Name,
    /// Creation time.
    CreatedAt,
    /// Last update.
    UpdatedAt,
}

/// A page request of groups (`GET /groups/v2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupsQuery {
    /// Groups per page.
    pub limit: Option<u32>,
    /// The page, from 0 (Frontegg's `_offset` is a page index).
    pub page: Option<u32>,
    /// Sort field.
    pub sort_by: Option<GroupSort>,
    /// Sort direction.
    pub order: Option<SortOrder>,
}

page_request!(GroupsQuery, GroupSort);

impl GroupsQuery {
    fn pairs(&self, page: Option<u32>) -> Vec<(&'static str, String)> {
        let sort_by = self.sort_by.map(|s| match s {
            GroupSort::Id => "id",
            GroupSort::Name => "name",
            GroupSort::CreatedAt => "createdAt",
            GroupSort::UpdatedAt => "updatedAt",
        });
        page_pairs(self.limit, page, sort_by, self.order)
    }
}

/// Groups of a tenant: `{gateway}/identity/resources/groups/v1` and `/v2`. From
/// [`FronteggClient::groups`](super::FronteggClient::groups).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, GroupsQuery, NewGroup};
/// use futures_util::TryStreamExt;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let group = client.groups().create("acme", NewGroup::new("Finance")).await?;
/// let all: Vec<_> = client.groups().stream("acme", GroupsQuery::default()).try_collect().await?;
/// assert!(all.iter().any(|g| g.id == group.id));
/// client.groups().delete("acme", &group.id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    gateway: &'a Gateway,
}

impl<'a> Groups<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Groups { gateway }
    }

    fn request(&self, method: Method, tenant_id: &str, path: &str, segments: &[&str]) -> Result<ApiRequest, ApiError> {
        ApiRequest::of(ApiClient::Groups, method, self.gateway.url(path, segments)?).tenant(tenant_id)
    }

    /// Creates a group in a tenant.
    pub async fn create(&self, tenant_id: &str, group: NewGroup) -> Result<Group, ApiError> {
        let request = self.request(Method::POST, tenant_id, "/identity/resources/groups/v1", &[])?;
        self.gateway.json(request.json(&group)?).await
    }

    /// One page of the tenant's groups (`GET /groups/v2`).
    pub async fn list_page(&self, tenant_id: &str, query: &GroupsQuery) -> Result<Page<Group>, ApiError> {
        let request = self.request(Method::GET, tenant_id, "/identity/resources/groups/v2", &[])?;
        self.gateway.page(request.query(query.pairs(query.page))).await
    }

    /// Every group of the tenant, page after page (pages of 200 unless the query sets a limit;
    /// stops on `totalPages`, an empty page or 10 000 pages).
    pub fn stream(&self, tenant_id: &'a str, query: GroupsQuery) -> impl Stream<Item = Result<Group, ApiError>> + 'a {
        let groups = *self;
        let query = GroupsQuery { limit: Some(stream_limit(query.limit)), ..query };
        paging::items(DEFAULT_PAGE_CAP, move |page| {
            let request = groups
                .request(Method::GET, tenant_id, "/identity/resources/groups/v2", &[])
                .map(|r| r.query(query.pairs(Some(page))));
            async move { groups.gateway.page(request?).await }
        })
    }

    /// Deletes a group (its members stay).
    pub async fn delete(&self, tenant_id: &str, group_id: &str) -> Result<(), ApiError> {
        let request = self.request(Method::DELETE, tenant_id, "/identity/resources/groups/v1", &[group_id])?;
        self.gateway.no_content(request).await
    }
}
