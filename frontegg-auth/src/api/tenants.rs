//! Tenants, Frontegg's accounts (the fact sheet's §3). Paths under
//! `{gateway}/tenants/resources/tenants`.

use std::sync::{Arc, Mutex};

use futures_util::Stream;
use http::Method;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::gateway::{ApiRequest, Gateway};
use super::models::{Metadata, SortOrder, metadata, nullable, option_setters, page_pairs, page_request};
use super::paging::{self, DEFAULT_PAGE_CAP, Page, stream_limit};
use super::transport::check_id;
use crate::telemetry::ApiClient;

const CLIENT: ApiClient = ApiClient::Tenants;
const V1: &str = "/tenants/resources/tenants/v1";

/// A tenant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "TenantWire")]
#[non_exhaustive]
pub struct Tenant {
    /// Its id (`tenantId`; what tokens carry).
    pub tenant_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Metadata (a JSON-encoded string or an object: both are read).
    pub metadata: Metadata,
    /// Who created it.
    pub creator_name: Option<String>,
    /// Their e-mail address.
    pub creator_email: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// The tenant's application URL.
    pub application_url: Option<String>,
    /// Whether it is a reseller (it has sub-accounts).
    pub is_reseller: bool,
    /// Creation time, as Frontegg writes it.
    pub created_at: Option<String>,
    /// Last update, as Frontegg writes it.
    pub updated_at: Option<String>,
}

/// The tenant as Frontegg sends it: `tenantId`, and an `id` whose meaning is unconfirmed (taken
/// only when `tenantId` is missing).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantWire {
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "metadata")]
    metadata: Metadata,
    #[serde(default)]
    creator_name: Option<String>,
    #[serde(default)]
    creator_email: Option<String>,
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    application_url: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    is_reseller: bool,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

impl TryFrom<TenantWire> for Tenant {
    type Error = &'static str;

    fn try_from(w: TenantWire) -> Result<Tenant, Self::Error> {
        let tenant_id = w.tenant_id.or(w.id).filter(|id| !id.is_empty()).ok_or("a tenant without tenantId or id")?;
        Ok(Tenant {
            tenant_id,
            name: w.name,
            metadata: w.metadata,
            creator_name: w.creator_name,
            creator_email: w.creator_email,
            website: w.website,
            application_url: w.application_url,
            is_reseller: w.is_reseller,
            created_at: w.created_at,
            updated_at: w.updated_at,
        })
    }
}

/// A tenant to create.
///
/// ```
/// use frontegg_auth::api::NewTenant;
/// let tenant = NewTenant::new("Acme").tenant_id("acme").website("https://acme.example");
/// # let _ = tenant;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTenant {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    application_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creator_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creator_email: Option<String>,
}

option_setters!(NewTenant {
    /// Its id (re-creating a deleted id reactivates that tenant).
    tenant_id: String,
    /// Website.
    website: String,
    /// The tenant's application URL.
    application_url: String,
});

impl NewTenant {
    /// A tenant named `name`; Frontegg chooses its id unless [`tenant_id`](Self::tenant_id) does.
    pub fn new(name: impl Into<String>) -> Self {
        NewTenant {
            name: name.into(),
            tenant_id: None,
            website: None,
            application_url: None,
            creator_name: None,
            creator_email: None,
        }
    }

    /// Who creates it.
    pub fn creator(mut self, name: impl Into<String>, email: impl Into<String>) -> Self {
        self.creator_name = Some(name.into());
        self.creator_email = Some(email.into());
        self
    }
}

/// Changes to a tenant: only the fields set are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TenantUpdate {
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Website.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// The tenant's application URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_url: Option<String>,
}

option_setters!(TenantUpdate {
    /// Display name.
    name: String,
    /// Website.
    website: String,
    /// The tenant's application URL.
    application_url: String,
});

impl TenantUpdate {
    /// No change yet: add the fields to send.
    ///
    /// ```
    /// use frontegg_auth::api::TenantUpdate;
    /// let update = TenantUpdate::new().name("Acme Corp");
    /// # let _ = update;
    /// ```
    pub fn new() -> Self {
        TenantUpdate::default()
    }
}

/// What tenants are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TenantSort {
    /// Creation time.
    CreatedAt,
    /// Name.
    Name,
    /// Id.
    TenantId,
}

/// A page request of tenants (`GET /tenants/v2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TenantsQuery {
    /// Tenants per page (Frontegg's default 50, at most 200).
    pub limit: Option<u32>,
    /// The page, from 0, sent as `_offset` (see [`Tenants::list_page`]).
    pub page: Option<u32>,
    /// Only tenants whose name or id contains this.
    pub filter: Option<String>,
    /// Sort field.
    pub sort_by: Option<TenantSort>,
    /// Sort direction.
    pub order: Option<SortOrder>,
}

page_request!(TenantsQuery, TenantSort);

impl TenantsQuery {
    /// Only tenants whose name or id contains `text`.
    pub fn filter(mut self, text: impl Into<String>) -> Self {
        self.filter = Some(text.into());
        self
    }

    fn pairs(&self, offset: Option<u32>) -> Vec<(&'static str, String)> {
        let sort_by = self.sort_by.map(|s| match s {
            TenantSort::CreatedAt => "createdAt",
            TenantSort::Name => "name",
            TenantSort::TenantId => "tenantId",
        });
        let mut out = page_pairs(self.limit, offset, sort_by, self.order);
        if let Some(v) = &self.filter {
            out.push(("_filter", v.clone()));
        }
        out
    }
}

/// Tenants: `{gateway}/tenants/resources/tenants/v1` and `/v2`. From
/// [`FronteggClient::tenants`](super::FronteggClient::tenants).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewTenant};
/// use serde_json::json;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let tenant = client.tenants().create(NewTenant::new("Acme").tenant_id("acme")).await?;
/// let plan = json!({"plan": "pro"}).as_object().cloned().unwrap_or_default();
/// let tenant = client.tenants().merge_metadata(&tenant.tenant_id, plan).await?;
/// assert_eq!(tenant.metadata["plan"], "pro");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Tenants<'a> {
    gateway: &'a Gateway,
}

impl<'a> Tenants<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Tenants { gateway }
    }

    fn request(&self, method: Method, path: &str, segments: &[&str]) -> Result<ApiRequest, ApiError> {
        Ok(ApiRequest::of(CLIENT, method, self.gateway.url(path, segments)?))
    }

    /// Every tenant, in one answer (`GET /tenants/v1`, a bare array sorted by id).
    pub async fn list(&self) -> Result<Vec<Tenant>, ApiError> {
        self.gateway.json(self.request(Method::GET, V1, &[])?).await
    }

    /// One page (`GET /tenants/v2`), `query.page` sent as `_offset`. Frontegg reads `_offset` as
    /// a page index on its other paged lists; for tenants that is likely but unconfirmed, and an
    /// environment that reads it as a record offset needs `page` = records to skip.
    /// [`stream`](Self::stream) tells the two apart by itself.
    pub async fn list_page(&self, query: &TenantsQuery) -> Result<Page<Tenant>, ApiError> {
        self.gateway
            .page(self.request(Method::GET, "/tenants/resources/tenants/v2", &[])?.query(query.pairs(query.page)))
            .await
    }

    /// Every tenant the query finds, page after page (pages of 200 unless the query sets a
    /// limit; stops on `totalPages`, an empty page or 10 000 pages).
    ///
    /// Whether Frontegg reads `_offset` as a page index or a record offset here is unconfirmed:
    /// the stream asks for `_offset=1` after the first page, and if that answer starts with the
    /// first page's second tenant, the environment counts records, and the stream goes on by
    /// records (one page is read twice, once).
    pub fn stream(&self, query: TenantsQuery) -> impl Stream<Item = Result<Tenant, ApiError>> + 'a {
        let gateway = self.gateway;
        let limit = stream_limit(query.limit);
        let query = TenantsQuery { limit: Some(limit), ..query };
        let reading = Arc::new(Mutex::new(OffsetReading::default()));
        paging::items(DEFAULT_PAGE_CAP, move |page| {
            let query = query.clone();
            let reading = reading.clone();
            async move {
                let tenants = Tenants { gateway };
                let fetch = |offset: u32| {
                    let request = tenants
                        .request(Method::GET, "/tenants/resources/tenants/v2", &[])
                        .map(|r| r.query(query.pairs(Some(offset))));
                    async move { gateway.page::<Tenant>(request?).await }
                };
                let records = lock(&reading).records;
                if page == 0 || records == Some(false) {
                    let got = fetch(page).await?;
                    if page == 0 {
                        lock(&reading).second = got.items.get(1).map(|t| t.tenant_id.clone());
                    }
                    return Ok(got);
                }
                if records == Some(true) {
                    return fetch(page.saturating_mul(limit)).await;
                }
                // Page 1, reading unknown: `_offset=1` by page index is the second page; by
                // records it starts at the first page's second tenant.
                let got = fetch(1).await?;
                let second = lock(&reading).second.clone();
                let by_records =
                    limit > 1 && second.is_some() && got.items.first().map(|t| &t.tenant_id) == second.as_ref();
                lock(&reading).records = Some(by_records);
                if by_records { fetch(limit).await } else { Ok(got) }
            }
        })
    }

    /// A tenant (`GET /tenants/v1/{id}`, which answers an array of none or one); `None` if
    /// there is none.
    pub async fn get(&self, tenant_id: &str) -> Result<Option<Tenant>, ApiError> {
        let found: Option<OneOrMany> = self.gateway.optional(self.request(Method::GET, V1, &[tenant_id])?).await?;
        Ok(found.and_then(OneOrMany::first))
    }

    /// Creates a tenant (`POST /tenants/v1`).
    pub async fn create(&self, tenant: NewTenant) -> Result<Tenant, ApiError> {
        if let Some(id) = &tenant.tenant_id {
            check_id(id)?;
        }
        self.gateway.json(self.request(Method::POST, V1, &[])?.json(&tenant)?).await
    }

    /// Changes a tenant (`PUT /tenants/v1/{id}`); an update that changes nothing is
    /// [`ApiError::InvalidRequest`].
    pub async fn update(&self, tenant_id: &str, update: &TenantUpdate) -> Result<Tenant, ApiError> {
        let request = self.request(Method::PUT, V1, &[tenant_id])?;
        if *update == TenantUpdate::default() {
            return Err(ApiError::InvalidRequest("the update changes nothing"));
        }
        self.gateway.json(request.json(update)?).await
    }

    /// Deletes a tenant, and with it all its users (`DELETE /tenants/v1/{id}`).
    pub async fn delete(&self, tenant_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::DELETE, V1, &[tenant_id])?).await
    }

    /// Merges `metadata` into the tenant's: its keys are added or overwritten, others stay.
    pub async fn merge_metadata(&self, tenant_id: &str, metadata: Metadata) -> Result<Tenant, ApiError> {
        #[derive(Serialize)]
        struct Body {
            metadata: Metadata,
        }
        let request = self.request(Method::POST, V1, &[tenant_id, "metadata"])?;
        self.gateway.json(request.json(&Body { metadata })?).await
    }

    /// Deletes one key of the tenant's metadata.
    pub async fn delete_metadata(&self, tenant_id: &str, key: &str) -> Result<Tenant, ApiError> {
        self.gateway.json(self.request(Method::DELETE, V1, &[tenant_id, "metadata", key])?).await
    }
}

/// How the environment reads `_offset` on tenants v2, once the stream has seen it.
#[derive(Default)]
struct OffsetReading {
    /// The first page's second tenant.
    second: Option<String>,
    /// `Some(true)`: by records; `Some(false)`: by page index.
    records: Option<bool>,
}

fn lock(reading: &Mutex<OffsetReading>) -> std::sync::MutexGuard<'_, OffsetReading> {
    reading.lock().unwrap_or_else(|p| p.into_inner())
}

/// A tenant answered as an array of none or one (v1), or as an object.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<Tenant>),
    One(Box<Tenant>),
}

impl OneOrMany {
    fn first(self) -> Option<Tenant> {
        match self {
            OneOrMany::Many(tenants) => tenants.into_iter().next(),
            OneOrMany::One(tenant) => Some(*tenant),
        }
    }
}
