//! Users (the fact sheet's §2): read, list, create, change, delete, memberships, roles, locks and
//! links. Paths under `{gateway}/identity/resources`.

use futures_util::{Stream, TryStreamExt};
use http::Method;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, RoleChanges};
use super::gateway::{ApiRequest, Gateway};
use super::models::{
    AssignedPermission, AssignedRole, Metadata, SortOrder, metadata, metadata_string, nullable, option_setters,
    page_pairs, page_request,
};
use super::paging::{self, DEFAULT_PAGE_CAP, Page, stream_limit};
use super::transport::check_id;
use crate::secret::{OneTimeToken, SecretLink};
use crate::telemetry::ApiClient;

const CLIENT: ApiClient = ApiClient::Users;

/// A user. One type for every answer: what an answer leaves out (list items carry no top-level
/// roles, and may carry no per-tenant roles) reads as empty.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Its id.
    pub id: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Username, for users who sign in with one.
    #[serde(default)]
    pub username: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// The vendor's own id of the user.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Profile picture.
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    /// Whether the e-mail address is verified.
    #[serde(default, deserialize_with = "nullable")]
    pub verified: bool,
    /// Whether MFA is set up.
    #[serde(default, deserialize_with = "nullable")]
    pub mfa_enrolled: bool,
    /// Whether the user is locked out of every tenant.
    #[serde(default, deserialize_with = "nullable")]
    pub is_locked: bool,
    /// How the user signs in (`local`, `saml`, `google`...).
    #[serde(default)]
    pub provider: Option<String>,
    /// The user's metadata (Frontegg sends a JSON-encoded string; both forms are read).
    #[serde(default, deserialize_with = "metadata")]
    pub metadata: Metadata,
    /// Metadata only the vendor sees.
    #[serde(default, deserialize_with = "metadata")]
    pub vendor_metadata: Metadata,
    /// The active tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Every tenant the user belongs to.
    #[serde(default, deserialize_with = "nullable")]
    pub tenant_ids: Vec<String>,
    /// The memberships.
    #[serde(default, deserialize_with = "nullable")]
    pub tenants: Vec<Membership>,
    /// Roles in the active tenant (single-user answers only).
    #[serde(default, deserialize_with = "nullable")]
    pub roles: Vec<AssignedRole>,
    /// Permissions in the active tenant (single-user answers only).
    #[serde(default, deserialize_with = "nullable")]
    pub permissions: Vec<AssignedPermission>,
    /// Creation time, as Frontegg writes it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last login, `None` for a user who never logged in.
    #[serde(default)]
    pub last_login: Option<String>,
}

/// A user's membership of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Membership {
    /// The tenant.
    pub tenant_id: String,
    /// The user's roles there (absent from some list answers: then empty).
    #[serde(default, deserialize_with = "nullable")]
    pub roles: Vec<AssignedRole>,
    /// Whether the membership is disabled (the user cannot log in to that tenant).
    #[serde(default, deserialize_with = "nullable")]
    pub is_disabled: bool,
    /// When a temporary membership ends.
    #[serde(default)]
    pub temporary_expiration_date: Option<String>,
}

/// A user to create in a tenant (`POST /vendor-only/users/v1`; no invitation e-mail).
///
/// ```
/// use frontegg_auth::api::NewUser;
/// let user = NewUser::new("tenant-1", "ada@example.com").name("Ada").role_ids(["role-id"]);
/// # let _ = user;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    tenant_id: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "metadata_string")]
    metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    role_ids: Vec<String>,
}

option_setters!(NewUser {
    /// Display name.
    name: String,
    /// Phone number.
    phone_number: String,
    /// The vendor's own id of the user.
    external_id: String,
    /// Metadata (sent as the JSON-encoded string Frontegg expects).
    metadata: Metadata,
});

impl NewUser {
    /// A user of `tenant_id` with this e-mail address.
    pub fn new(tenant_id: impl Into<String>, email: impl Into<String>) -> Self {
        NewUser {
            tenant_id: tenant_id.into(),
            email: email.into(),
            name: None,
            phone_number: None,
            external_id: None,
            metadata: None,
            role_ids: Vec::new(),
        }
    }

    /// Roles in the tenant, by role id.
    pub fn role_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, role_ids: I) -> Self {
        self.role_ids = role_ids.into_iter().map(Into::into).collect();
        self
    }
}

/// A user to invite to a tenant (`POST /users/v2`): Frontegg sends the invitation e-mail
/// unless told not to.
///
/// ```
/// use frontegg_auth::api::InvitedUser;
/// let user = InvitedUser::new("grace@example.com").name("Grace").skip_invite_email(true);
/// # let _ = user;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitedUser {
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(serialize_with = "metadata_string")]
    metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    role_ids: Vec<String>,
    skip_invite_email: bool,
}

option_setters!(InvitedUser {
    /// Display name.
    name: String,
    /// Metadata.
    metadata: Metadata,
});

impl InvitedUser {
    /// A user with this e-mail address.
    pub fn new(email: impl Into<String>) -> Self {
        // The v2 call wants `metadata`, if only "{}".
        InvitedUser {
            email: email.into(),
            name: None,
            metadata: Some(Metadata::new()),
            role_ids: Vec::new(),
            skip_invite_email: false,
        }
    }

    /// Roles in the tenant, by role id.
    pub fn role_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, role_ids: I) -> Self {
        self.role_ids = role_ids.into_iter().map(Into::into).collect();
        self
    }

    /// Whether Frontegg skips the invitation e-mail.
    pub fn skip_invite_email(mut self, skip: bool) -> Self {
        self.skip_invite_email = skip;
        self
    }
}

/// Changes to a user (`PUT /users/v1/{id}`): only the fields set are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserUpdate {
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Profile picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_picture_url: Option<String>,
    /// The vendor's own id of the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Metadata (replaces the user's).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "metadata_string")]
    pub metadata: Option<Metadata>,
    /// Metadata only the vendor sees (replaces it).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "metadata_string")]
    pub vendor_metadata: Option<Metadata>,
}

option_setters!(UserUpdate {
    /// Display name.
    name: String,
    /// Phone number.
    phone_number: String,
    /// Profile picture.
    profile_picture_url: String,
    /// The vendor's own id of the user.
    external_id: String,
    /// Metadata (replaces the user's).
    metadata: Metadata,
    /// Metadata only the vendor sees (replaces it).
    vendor_metadata: Metadata,
});

impl UserUpdate {
    /// No change yet: add the fields to send.
    ///
    /// ```
    /// use frontegg_auth::api::UserUpdate;
    /// let update = UserUpdate::new().name("Ada L.").phone_number("+44 20 7946 0000");
    /// # let _ = update;
    /// ```
    pub fn new() -> Self {
        UserUpdate::default()
    }
}

/// What users are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserSort {
    /// Creation time.
    CreatedAt,
    /// Name.
    Name,
    /// E-mail address.
    Email,
    /// Id.
    Id,
}

/// A search of users (`GET /users/v3`).
///
/// ```
/// use frontegg_auth::api::UsersQuery;
/// let query = UsersQuery::default().tenant("tenant-1").email("a+b@x.io");
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UsersQuery {
    /// Users per page (Frontegg's default 50, at most 200).
    pub limit: Option<u32>,
    /// The page, from 0 (Frontegg's `_offset` is a page index).
    pub page: Option<u32>,
    /// Sort field.
    pub sort_by: Option<UserSort>,
    /// Sort direction.
    pub order: Option<SortOrder>,
    /// Only this e-mail address.
    pub email: Option<String>,
    /// Only members of this tenant.
    pub tenant_id: Option<String>,
    /// Only these user ids (at most 100: a longer URL is refused by Frontegg's proxies).
    pub ids: Vec<String>,
}

/// The most ids one search carries: Frontegg's proxies answer 414 to longer URLs.
const MAX_IDS: usize = 100;

page_request!(UsersQuery, UserSort);

impl UsersQuery {
    /// Only members of this tenant.
    pub fn tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Only this e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Only these user ids.
    pub fn ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.ids = ids.into_iter().map(Into::into).collect();
        self
    }

    fn pairs(&self, page: Option<u32>) -> Vec<(&'static str, String)> {
        let sort_by = self.sort_by.map(|s| match s {
            UserSort::CreatedAt => "createdAt",
            UserSort::Name => "name",
            UserSort::Email => "email",
            UserSort::Id => "id",
        });
        let mut out = page_pairs(self.limit, page, sort_by, self.order);
        if let Some(v) = &self.email {
            out.push(("_email", v.clone()));
        }
        if let Some(v) = &self.tenant_id {
            out.push(("_tenantId", v.clone()));
        }
        if !self.ids.is_empty() {
            // The spec says `ids`, Frontegg's own tooling sends `_ids`: which one filters is
            // unconfirmed, and an unknown parameter is ignored, so both go.
            let ids = self.ids.join(",");
            out.push(("ids", ids.clone()));
            out.push(("_ids", ids));
        }
        out
    }
}

/// An activation or password-reset link, made without an e-mail: the link and its token are
/// secrets ([`SecretLink`], [`OneTimeToken`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserLink {
    /// The link to give the user.
    pub link: SecretLink,
    /// Its token.
    pub token: OneTimeToken,
    /// The user.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Users: `{gateway}/identity/resources/users/...`. From
/// [`FronteggClient::users`](super::FronteggClient::users).
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{FronteggClient, NewUser, UsersQuery};
/// use futures_util::TryStreamExt;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = FronteggClient::new(&Config::from_env()?)?;
/// let user = client.users().create(NewUser::new("tenant-1", "ada@example.com").name("Ada")).await?;
/// // Exactly these roles in the tenant: what is missing is assigned, what is extra unassigned.
/// client.users().set_roles(&user.id, "tenant-1", &["role-id"]).await?;
/// let members: Vec<_> = client.users().stream(UsersQuery::default().tenant("tenant-1")).try_collect().await?;
/// println!("{} members", members.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    gateway: &'a Gateway,
}

const USERS_V1: &str = "/identity/resources/users/v1";
const VENDOR_ONLY: &str = "/identity/resources/vendor-only/users/v1";

impl<'a> Users<'a> {
    pub(crate) fn new(gateway: &'a Gateway) -> Self {
        Users { gateway }
    }

    fn request(&self, method: Method, path: &str, segments: &[&str]) -> Result<ApiRequest, ApiError> {
        Ok(ApiRequest::of(CLIENT, method, self.gateway.url(path, segments)?))
    }

    /// A user, whatever their tenants (`GET /vendor-only/users/v1/{id}`); `None` if there is none.
    pub async fn get(&self, user_id: &str) -> Result<Option<User>, ApiError> {
        self.gateway.optional(self.request(Method::GET, VENDOR_ONLY, &[user_id])?).await
    }

    /// A user as seen in one tenant (`GET /users/v1/{id}` with `frontegg-tenant-id`): its
    /// `roles` and `permissions` are that tenant's; `None` if there is none, or not there.
    pub async fn get_in_tenant(&self, user_id: &str, tenant_id: &str) -> Result<Option<User>, ApiError> {
        self.gateway.optional(self.request(Method::GET, USERS_V1, &[user_id])?.tenant(tenant_id)?).await
    }

    /// The user with this e-mail address (`GET /users/v1/email`); `None` if there is none.
    pub async fn get_by_email(&self, email: &str) -> Result<Option<User>, ApiError> {
        let request = self.request(Method::GET, "/identity/resources/users/v1/email", &[])?;
        self.gateway.optional(request.query([("email", email.to_owned())])).await
    }

    /// One page of a search (`GET /users/v3`). With [`ids`](UsersQuery::ids), only those users
    /// are kept even if Frontegg ignored the filter (the totals are then Frontegg's).
    pub async fn list_page(&self, query: &UsersQuery) -> Result<Page<User>, ApiError> {
        let mut page: Page<User> = self.gateway.page(self.search(query, query.page)?).await?;
        if !query.ids.is_empty() {
            page.items.retain(|u| query.ids.contains(&u.id));
        }
        Ok(page)
    }

    /// Every user the search finds, page after page (pages of 200 unless the query sets a
    /// limit; stops on `totalPages`, an empty page or 10 000 pages). The query's `page` is
    /// ignored: the stream starts at the first.
    pub fn stream(&self, query: UsersQuery) -> impl Stream<Item = Result<User, ApiError>> + 'a {
        let gateway = self.gateway;
        let wanted = query.ids.clone();
        let query = UsersQuery { limit: Some(stream_limit(query.limit)), ..query };
        paging::items(DEFAULT_PAGE_CAP, move |page| {
            let request = Users { gateway }.search(&query, Some(page));
            async move { gateway.page(request?).await }
        })
        // Only the users asked for, even if Frontegg ignored the filter (after paging: a page
        // without one of them is no end of the list).
        .try_filter(move |u: &User| std::future::ready(wanted.is_empty() || wanted.contains(&u.id)))
    }

    fn search(&self, query: &UsersQuery, page: Option<u32>) -> Result<ApiRequest, ApiError> {
        if query.ids.len() > MAX_IDS {
            return Err(ApiError::InvalidRequest("more than 100 user ids in one search"));
        }
        for id in &query.ids {
            // A comma would split one id into two in the comma-separated list.
            check_id(id)?;
            if id.contains(',') {
                return Err(ApiError::InvalidId);
            }
        }
        let mut request = self.request(Method::GET, "/identity/resources/users/v3", &[])?.query(query.pairs(page));
        if let Some(tenant_id) = &query.tenant_id {
            request = request.tenant(tenant_id)?;
        }
        Ok(request)
    }

    /// Creates a user in a tenant, without an invitation e-mail (`POST /vendor-only/users/v1`).
    pub async fn create(&self, user: NewUser) -> Result<User, ApiError> {
        check_id(&user.tenant_id)?;
        self.gateway.json(self.request(Method::POST, VENDOR_ONLY, &[])?.json(&user)?).await
    }

    /// Invites a user to a tenant (`POST /users/v2`): an existing user joins it, a new one is
    /// created; Frontegg e-mails the invitation unless told not to.
    pub async fn invite(&self, tenant_id: &str, user: InvitedUser) -> Result<User, ApiError> {
        let request = self.request(Method::POST, "/identity/resources/users/v2", &[])?.tenant(tenant_id)?;
        self.gateway.json(request.json(&user)?).await
    }

    /// Changes a user (`PUT /users/v1/{id}`); an update that changes nothing is
    /// [`ApiError::InvalidRequest`].
    pub async fn update(&self, user_id: &str, update: &UserUpdate) -> Result<User, ApiError> {
        let request = self.request(Method::PUT, USERS_V1, &[user_id])?;
        if *update == UserUpdate::default() {
            return Err(ApiError::InvalidRequest("the update changes nothing"));
        }
        self.gateway.json(request.json(update)?).await
    }

    /// Deletes a user from every tenant (`DELETE /users/v1/{id}` without a tenant).
    pub async fn delete(&self, user_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::DELETE, USERS_V1, &[user_id])?).await
    }

    /// Removes a user from one tenant (`DELETE /users/v1/{id}` with `frontegg-tenant-id`).
    pub async fn remove_from_tenant(&self, user_id: &str, tenant_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::DELETE, USERS_V1, &[user_id])?.tenant(tenant_id)?).await
    }

    /// Adds a user to a tenant, which must exist (`POST /users/v1/{id}/tenant`).
    pub async fn add_to_tenant(
        &self,
        user_id: &str,
        tenant_id: &str,
        skip_invite_email: bool,
    ) -> Result<User, ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            tenant_id: &'b str,
            validate_tenant_exist: bool,
            skip_invite_email: bool,
        }
        check_id(tenant_id)?;
        let body = Body { tenant_id, validate_tenant_exist: true, skip_invite_email };
        self.gateway.json(self.request(Method::POST, USERS_V1, &[user_id, "tenant"])?.json(&body)?).await
    }

    /// Sets the user's active tenant (`PUT /users/v1/{id}/tenant`); the tenant must exist (an
    /// unknown one would otherwise be created).
    pub async fn set_active_tenant(&self, user_id: &str, tenant_id: &str) -> Result<User, ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            tenant_id: &'b str,
            validate_tenant_exist: bool,
        }
        check_id(tenant_id)?;
        let body = Body { tenant_id, validate_tenant_exist: true };
        self.gateway.json(self.request(Method::PUT, USERS_V1, &[user_id, "tenant"])?.json(&body)?).await
    }

    /// Disables the user's membership of a tenant: they cannot log in to it.
    pub async fn disable_in_tenant(&self, user_id: &str, tenant_id: &str) -> Result<(), ApiError> {
        self.membership(user_id, tenant_id, "disable").await
    }

    /// Enables the user's membership of a tenant again.
    pub async fn enable_in_tenant(&self, user_id: &str, tenant_id: &str) -> Result<(), ApiError> {
        self.membership(user_id, tenant_id, "enable").await
    }

    async fn membership(&self, user_id: &str, tenant_id: &str, action: &str) -> Result<(), ApiError> {
        let request = self
            .request(Method::POST, "/identity/resources/tenants/users/v1", &[user_id, action])?
            .tenant(tenant_id)?;
        self.gateway.no_content(request).await
    }

    /// Assigns roles (by id) in a tenant; the user's roles there afterwards.
    pub async fn assign_roles(
        &self,
        user_id: &str,
        tenant_id: &str,
        role_ids: &[&str],
    ) -> Result<Vec<AssignedRole>, ApiError> {
        self.change_roles(Method::POST, user_id, tenant_id, role_ids).await
    }

    /// Unassigns roles (by id) in a tenant; the user's roles there afterwards.
    pub async fn unassign_roles(
        &self,
        user_id: &str,
        tenant_id: &str,
        role_ids: &[&str],
    ) -> Result<Vec<AssignedRole>, ApiError> {
        self.change_roles(Method::DELETE, user_id, tenant_id, role_ids).await
    }

    async fn change_roles(
        &self,
        method: Method,
        user_id: &str,
        tenant_id: &str,
        role_ids: &[&str],
    ) -> Result<Vec<AssignedRole>, ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            role_ids: &'b [&'b str],
        }
        #[derive(Deserialize)]
        struct Answer {
            // Required: a `{}` says nothing of the roles.
            roles: Vec<AssignedRole>,
        }
        let request = self.request(method, USERS_V1, &[user_id, "roles"])?.tenant(tenant_id)?;
        let answer: Answer = self.gateway.json(request.json(&Body { role_ids })?).await?;
        Ok(answer.roles)
    }

    /// Makes the user's roles in a tenant exactly `role_ids`: reads them (the user as seen in
    /// that tenant), assigns what is missing, then unassigns what is extra (Frontegg has no
    /// call that replaces the set). If the assignment fails, nothing is unassigned, so a typo
    /// never leaves the user without roles; any failure is [`ApiError::RolesPartlySet`], which
    /// says what was applied and what was not.
    pub async fn set_roles(&self, user_id: &str, tenant_id: &str, role_ids: &[&str]) -> Result<RoleChanges, ApiError> {
        for id in role_ids {
            check_id(id)?;
        }
        let user = self.get_in_tenant(user_id, tenant_id).await?.ok_or_else(|| not_found("the user in this tenant"))?;
        let current: Vec<&str> = user.roles.iter().map(|r| r.id.as_str()).collect();
        let owned = |ids: Vec<&str>| ids.into_iter().map(str::to_owned).collect::<Vec<_>>();
        let assign = owned(role_ids.iter().copied().filter(|id| !current.contains(id)).collect());
        let unassign = owned(current.iter().copied().filter(|c| !role_ids.contains(c)).collect());
        let mut applied = RoleChanges::default();
        if !assign.is_empty()
            && let Err(cause) = self.assign_roles(user_id, tenant_id, &as_strs(&assign)).await
        {
            let failed = RoleChanges { assigned: assign, unassigned: unassign };
            return Err(ApiError::RolesPartlySet { applied, failed, cause: Box::new(cause) });
        }
        applied.assigned = assign;
        if !unassign.is_empty()
            && let Err(cause) = self.unassign_roles(user_id, tenant_id, &as_strs(&unassign)).await
        {
            let failed = RoleChanges { assigned: Vec::new(), unassigned: unassign };
            return Err(ApiError::RolesPartlySet { applied, failed, cause: Box::new(cause) });
        }
        applied.unassigned = unassign;
        Ok(applied)
    }

    /// Locks the user out of every tenant.
    pub async fn lock(&self, user_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::POST, USERS_V1, &[user_id, "lock"])?).await
    }

    /// Lets a locked user in again.
    pub async fn unlock(&self, user_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::POST, USERS_V1, &[user_id, "unlock"])?).await
    }

    /// Marks the user's e-mail address verified.
    pub async fn verify(&self, user_id: &str) -> Result<(), ApiError> {
        self.gateway.no_content(self.request(Method::POST, USERS_V1, &[user_id, "verify"])?).await
    }

    /// An activation link for the user (no e-mail is sent).
    pub async fn activation_link(&self, user_id: &str) -> Result<UserLink, ApiError> {
        self.link(user_id, "generate-activation-token").await
    }

    /// A password-reset link for the user (no e-mail is sent).
    pub async fn password_reset_link(&self, user_id: &str) -> Result<UserLink, ApiError> {
        self.link(user_id, "generate-password-reset-token").await
    }

    async fn link(&self, user_id: &str, kind: &str) -> Result<UserLink, ApiError> {
        self.gateway.json(self.request(Method::POST, USERS_V1, &[user_id, "links", kind])?).await
    }
}

fn as_strs(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}

/// A 404 of our own making, for a thing a composite call found missing.
fn not_found(what: &str) -> ApiError {
    ApiError::Status {
        status: http::StatusCode::NOT_FOUND,
        messages: vec![format!("{what} not found")],
        trace_id: None,
    }
}
