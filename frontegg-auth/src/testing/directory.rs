//! Frontegg's management API in the emulator: users and their tenant memberships, tenants,
//! tenant and user access tokens, client-credentials (API) tokens and their exchange, user
//! sessions, invitations and groups (the fact sheet's §2 to §7).
//!
//! The handlers need nothing of the emulator but its [`DirectoryHost`] side (the emulator
//! depends on this module, never the reverse). Every call but the token exchange sits behind
//! the gateway's vendor-token check, surface behaviours and rate limits; the exchange is on
//! the environment's domain and takes no vendor token.
//!
//! The JSON served keeps Frontegg's quirks that typed clients must survive (§1.4): user and
//! group `metadata` as JSON-encoded strings, tenant `metadata` as a string or an object
//! ([`MetadataReading`]), `null` where Frontegg leaves a field empty, paged lists whose
//! `_offset` is a page index, and bare arrays where Frontegg answers bare arrays.

// Handlers return `Result<Answer, Answer>` so that `?` turns a refusal into the answer itself;
// the size of the error variant does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value, json};

use super::answer::{self, Answer, error};
use super::keys::Signer;
use super::mint::TokenBuilder;
use crate::identity::TokenType;

/// The lifetime of exchanged API-token JWTs until
/// [`Emulator::set_api_token_lifetime`](super::Emulator::set_api_token_lifetime) changes it.
const DEFAULT_API_TOKEN_LIFETIME: Duration = Duration::from_secs(600);
/// The JWT lifetime of an access token created without `expiresInMinutes` (Frontegg's never
/// expire; ten years is never for a test).
const UNEXPIRING: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// The largest `_limit` of Frontegg's paged lists.
const MAX_LIMIT: usize = 200;
/// The `_limit` of a paged list that names none.
const DEFAULT_LIMIT: usize = 50;
/// How long an invitation lives when the request names no `expiresInMinutes`.
const DEFAULT_INVITE_MINUTES: u64 = 7 * 24 * 60;
/// How long a session made by [`Emulator::add_user_session`](super::Emulator::add_user_session) lives.
const SESSION_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// `vendorId` of tenants and invitations.
const VENDOR_ID: &str = "emulator-vendor";

/// How the emulator serves tenants' `metadata`; see
/// [`Emulator::set_tenant_metadata_reading`](super::Emulator::set_tenant_metadata_reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetadataReading {
    /// A JSON-encoded string (`"{\"plan\":\"pro\"}"`), as most sources see it (the default).
    #[default]
    String,
    /// A JSON object, as one community client models it.
    Object,
}

/// What `_offset` of `GET /tenants/resources/tenants/v2` counts; see
/// [`Emulator::set_tenant_offset_reading`](super::Emulator::set_tenant_offset_reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OffsetReading {
    /// Pages: 0 for the first, 1 for the second (the default, as on every other paged list).
    #[default]
    PageIndex,
    /// Records: the number of items to skip.
    Records,
}

/// The name of the id filter of `GET /identity/resources/users/v3`; see
/// [`Emulator::set_user_ids_parameter`](super::Emulator::set_user_ids_parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdsParameter {
    /// `ids`, as the published OpenAPI names it (the default).
    #[default]
    Ids,
    /// `_ids`, as one official tool sends it.
    UnderscoreIds,
}

/// A permission of the emulator's permission model, as the directory serves it.
#[derive(Debug, Clone)]
pub(super) struct PermissionFacts {
    pub(super) id: String,
    pub(super) key: String,
    pub(super) name: String,
}

/// A role of the emulator's permission model, with its permissions resolved.
#[derive(Debug, Clone)]
pub(super) struct RoleFacts {
    pub(super) id: String,
    pub(super) key: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) is_default: bool,
    pub(super) level: i64,
    pub(super) created_at: Option<String>,
    pub(super) permissions: Vec<PermissionFacts>,
}

/// What the access-token lookups answer for a token the directory created.
pub(super) struct AccessGrant {
    /// A user access token (else a tenant one).
    pub(super) user: bool,
    pub(super) tenant_id: String,
    pub(super) user_id: Option<String>,
    /// Role keys.
    pub(super) roles: Vec<String>,
    /// Permission keys.
    pub(super) permissions: Vec<String>,
}

/// What the directory's handlers need of the emulator they run in (its shared state implements
/// it), so that this module needs nothing of the emulator's own.
pub(super) trait DirectoryHost: Signer {
    /// The environment's domain: the issuer of minted tokens and the host of links.
    fn environment_url(&self) -> &str;
    /// The audience of minted tokens.
    fn environment_client_id(&self) -> &str;
    /// The directory's state.
    fn directory_state(&self) -> &Mutex<Directory>;
    /// A role of the permission model by id.
    fn role(&self, role_id: &str) -> Option<RoleFacts>;
    /// A permission of the permission model by id.
    fn permission(&self, permission_id: &str) -> Option<PermissionFacts>;
    /// Makes `vendor-only/{tenants|users}/access-tokens/v1/{id}` answer `grant`.
    fn register_access_token(&self, id: &str, grant: AccessGrant);
    /// Makes the lookups of access token `id` answer 404 from now on.
    fn revoke_access_token(&self, id: &str);

    /// The state, whatever a panicking holder left in it.
    fn directory(&self) -> MutexGuard<'_, Directory> {
        self.directory_state().lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Clone)]
struct Tenant {
    id: String,
    name: String,
    website: Option<String>,
    application_url: Option<String>,
    creator_name: Option<String>,
    creator_email: Option<String>,
    metadata: Map<String, Value>,
    created_at: String,
    updated_at: String,
}

#[derive(Clone)]
struct Membership {
    tenant_id: String,
    role_ids: Vec<String>,
    disabled: bool,
}

#[derive(Clone)]
struct User {
    id: String,
    email: String,
    name: Option<String>,
    username: Option<String>,
    profile_picture_url: Option<String>,
    phone_number: Option<String>,
    external_id: Option<String>,
    verified: bool,
    locked: bool,
    mfa_bypass: bool,
    /// JSON-encoded, as Frontegg stores and serves it.
    metadata: String,
    vendor_metadata: Option<String>,
    active_tenant: String,
    memberships: Vec<Membership>,
    created_at: String,
}

impl User {
    fn membership(&self, tenant_id: &str) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.tenant_id == tenant_id)
    }

    fn membership_mut(&mut self, tenant_id: &str) -> Option<&mut Membership> {
        self.memberships.iter_mut().find(|m| m.tenant_id == tenant_id)
    }
}

struct AccessTokenRow {
    id: String,
    tenant_id: String,
    user_id: Option<String>,
    description: Option<String>,
    created_at: String,
    expires: Option<String>,
    role_ids: Vec<String>,
}

struct ApiTokenRow {
    client_id: String,
    secret: String,
    tenant_id: String,
    user_id: Option<String>,
    description: Option<String>,
    metadata: Map<String, Value>,
    created_at: String,
    role_ids: Vec<String>,
    permission_ids: Vec<String>,
    expires: Option<SystemTime>,
}

struct SessionRow {
    id: String,
    user_id: String,
    tenant_id: String,
    created_at: String,
    expires: String,
}

struct Invite {
    id: String,
    tenant_id: String,
    user_id: Option<String>,
    token: String,
    expires: String,
    should_send_email: bool,
    role_ids: Vec<String>,
}

struct Group {
    id: String,
    tenant_id: String,
    name: String,
    color: Option<String>,
    description: Option<String>,
    metadata: String,
    created_at: String,
    updated_at: String,
}

/// The directory's state: every list in insertion order, so that listings are stable; and
/// its knobs.
pub(super) struct Directory {
    tenants: Vec<Tenant>,
    users: Vec<User>,
    access_tokens: Vec<AccessTokenRow>,
    api_tokens: Vec<ApiTokenRow>,
    sessions: Vec<SessionRow>,
    invites: Vec<Invite>,
    groups: Vec<Group>,
    pub(super) metadata_reading: MetadataReading,
    pub(super) offset_reading: OffsetReading,
    pub(super) ids_parameter: IdsParameter,
    pub(super) application_id: Option<String>,
    pub(super) failing_role_changes: usize,
    /// Role changes that succeed before the failing ones start.
    pub(super) passing_role_changes: usize,
    pub(super) api_token_lifetime: Duration,
}

impl Directory {
    /// An empty directory with the default knobs.
    pub(super) fn new() -> Directory {
        Directory {
            tenants: Vec::new(),
            users: Vec::new(),
            access_tokens: Vec::new(),
            api_tokens: Vec::new(),
            sessions: Vec::new(),
            invites: Vec::new(),
            groups: Vec::new(),
            metadata_reading: MetadataReading::default(),
            offset_reading: OffsetReading::default(),
            ids_parameter: IdsParameter::default(),
            application_id: None,
            failing_role_changes: 0,
            passing_role_changes: 0,
            api_token_lifetime: DEFAULT_API_TOKEN_LIFETIME,
        }
    }

    /// Opens a session of `user_id` in `tenant_id`; its id.
    pub(super) fn add_session(&mut self, user_id: &str, tenant_id: &str) -> String {
        let id = uuid(fastrand::u128(..).to_be_bytes());
        let now = SystemTime::now();
        self.sessions.push(SessionRow {
            id: id.clone(),
            user_id: user_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            created_at: timestamp(now),
            expires: timestamp(now + SESSION_LIFETIME),
        });
        id
    }

    /// The tenant ids, in creation order.
    pub(super) fn tenant_ids(&self) -> Vec<String> {
        self.tenants.iter().map(|t| t.id.clone()).collect()
    }

    /// The user ids, in creation order.
    pub(super) fn user_ids(&self) -> Vec<String> {
        self.users.iter().map(|u| u.id.clone()).collect()
    }

    fn tenant(&self, id: &str) -> Result<&Tenant, Answer> {
        self.tenants.iter().find(|t| t.id == id).ok_or_else(|| not_found("Tenant"))
    }

    fn user(&self, id: &str) -> Result<&User, Answer> {
        self.users.iter().find(|u| u.id == id).ok_or_else(|| not_found("User"))
    }

    fn user_mut(&mut self, id: &str) -> Result<&mut User, Answer> {
        self.users.iter_mut().find(|u| u.id == id).ok_or_else(|| not_found("User"))
    }

    /// Deletes a user with everything that is theirs: access tokens (revoked), API tokens,
    /// sessions and invitations.
    fn delete_user(&mut self, host: &impl DirectoryHost, user_id: &str) {
        self.users.retain(|u| u.id != user_id);
        self.access_tokens.retain(|t| {
            let theirs = t.user_id.as_deref() == Some(user_id);
            if theirs {
                host.revoke_access_token(&t.id);
            }
            !theirs
        });
        self.api_tokens.retain(|t| t.user_id.as_deref() != Some(user_id));
        self.sessions.retain(|s| s.user_id != user_id);
        self.invites.retain(|i| i.user_id.as_deref() != Some(user_id));
    }

    /// Removes a membership with the user's tokens and sessions in that tenant; a user left
    /// with no tenant is deleted, as a Frontegg user always belongs to one.
    fn remove_membership(&mut self, host: &impl DirectoryHost, user_id: &str, tenant_id: &str) {
        let mut orphan = false;
        if let Some(user) = self.users.iter_mut().find(|u| u.id == user_id) {
            user.memberships.retain(|m| m.tenant_id != tenant_id);
            match user.memberships.first() {
                None => orphan = true,
                Some(first) if user.active_tenant == tenant_id => user.active_tenant = first.tenant_id.clone(),
                Some(_) => {}
            }
        }
        if orphan {
            self.delete_user(host, user_id);
            return;
        }
        let in_tenant =
            |token_user: Option<&str>, token_tenant: &str| token_user == Some(user_id) && token_tenant == tenant_id;
        self.access_tokens.retain(|t| {
            let gone = in_tenant(t.user_id.as_deref(), &t.tenant_id);
            if gone {
                host.revoke_access_token(&t.id);
            }
            !gone
        });
        self.api_tokens.retain(|t| !in_tenant(t.user_id.as_deref(), &t.tenant_id));
        self.sessions.retain(|s| !(s.user_id == user_id && s.tenant_id == tenant_id));
    }
}

/// One request, as the handlers read it.
struct Call<'a> {
    headers: &'a HeaderMap,
    query: &'a str,
    body: &'a [u8],
}

impl Call<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        // Not trimmed: an id with spaces around it is another id, as in a path.
        self.headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
    }

    fn required_header(&self, name: &str) -> Result<&str, Answer> {
        self.header(name).ok_or_else(|| bad_request(&format!("{name} header is required")))
    }

    fn tenant_header(&self) -> Result<&str, Answer> {
        self.required_header("frontegg-tenant-id")
    }

    fn user_header(&self) -> Result<&str, Answer> {
        self.required_header("frontegg-user-id")
    }

    fn body(&self) -> Result<Body, Answer> {
        Body::parse(self.body)
    }

    fn query(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }
}

/// A JSON body's fields, with the checks Frontegg's validation makes (400 on a wrong type).
struct Body(Map<String, Value>);

impl Body {
    fn parse(bytes: &[u8]) -> Result<Body, Answer> {
        // Every field of some bodies is optional: no body at all is an empty object.
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Map::new()));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(fields)) => Ok(Body(fields)),
            Ok(_) => Err(bad_request("the body must be a JSON object")),
            Err(e) => Err(bad_request(&format!("Invalid body: {e}"))),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn string(&self, name: &str) -> Result<Option<String>, Answer> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad_request(&format!("{name} must be a string"))),
        }
    }

    fn required_string(&self, name: &str) -> Result<String, Answer> {
        self.string(name)?.filter(|s| !s.trim().is_empty()).ok_or_else(|| bad_request(&format!("{name} is required")))
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, Answer> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(bad_request(&format!("{name} must be a boolean"))),
        }
    }

    fn minutes(&self, name: &str) -> Result<Option<u64>, Answer> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_u64() {
                Some(m) if m >= 1 => Ok(Some(m)),
                _ => Err(bad_request(&format!("{name} must be a whole number of at least 1"))),
            },
        }
    }

    fn ids(&self, name: &str) -> Result<Vec<String>, Answer> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| bad_request(&format!("{name} must be an array of strings"))),
            Some(_) => Err(bad_request(&format!("{name} must be an array of strings"))),
        }
    }

    fn required_ids(&self, name: &str) -> Result<Vec<String>, Answer> {
        if !self.has(name) {
            return Err(bad_request(&format!("{name} is required")));
        }
        self.ids(name)
    }

    /// A JSON-encoded string (user and group `metadata`, `vendorMetadata`).
    fn json_string(&self, name: &str) -> Result<Option<String>, Answer> {
        let text = self.string(name)?;
        if let Some(text) = &text
            && serde_json::from_str::<Value>(text).is_err()
        {
            return Err(bad_request(&format!("{name} must be a JSON-encoded string")));
        }
        Ok(text)
    }

    /// A JSON object (API-token `metadata`).
    fn object(&self, name: &str) -> Result<Option<Map<String, Value>>, Answer> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(fields)) => Ok(Some(fields.clone())),
            Some(_) => Err(bad_request(&format!("{name} must be a JSON object"))),
        }
    }

    /// Tenant `metadata`: an object, or a string that encodes one.
    fn object_or_string(&self, name: &str) -> Result<Option<Map<String, Value>>, Answer> {
        match self.0.get(name) {
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(fields)) => Ok(Some(fields)),
                _ => Err(bad_request(&format!("{name} must be a JSON object or a string that encodes one"))),
            },
            _ => self.object(name),
        }
    }
}

/// Whether `segments` (decoded) name a directory route: what the application-id check and
/// the [`Endpoint::Directory`](super::Endpoint::Directory) counter cover.
pub(super) fn is_directory(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["identity", "resources", "users" | "tenants" | "groups", ..]
            | ["identity", "resources", "vendor-only", "users", "v1"]
            | ["tenants", "resources", "tenants", ..]
    )
}

/// Whether `segments` name the token exchange (`auth/v1|v2/api-token`, bare or under the
/// login domain's `/frontegg` prefix).
pub(super) fn is_exchange(segments: &[&str]) -> bool {
    let segments = segments.strip_prefix(&["frontegg"]).unwrap_or(segments);
    matches!(segments, ["identity", "resources", "auth", "v1" | "v2", "api-token"])
}

/// The raw path's segments, for counting: the route names are plain ASCII, so no decoding.
pub(super) fn raw_segments(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').collect()
}

/// Answers a directory route; `None` for any other path. Call it behind the vendor-token check.
pub(super) fn handle(
    shared: &Arc<impl DirectoryHost + 'static>,
    method: &Method,
    segments: &[&str],
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Answer> {
    if !is_directory(segments) {
        return None;
    }
    let call = Call { headers, query, body };
    let required = shared.directory().application_id.clone();
    if let Some(required) = required
        && call.header("frontegg-application-id") != Some(required.as_str())
    {
        return Some(error(StatusCode::FORBIDDEN, "ER-00008: missing application id"));
    }
    Some(route(shared, method, segments, &call).unwrap_or_else(|refusal| refusal))
}

fn route(
    shared: &Arc<impl DirectoryHost + 'static>,
    method: &Method,
    segments: &[&str],
    call: &Call<'_>,
) -> Result<Answer, Answer> {
    let host = shared.as_ref();
    match (method.as_str(), segments) {
        // Users.
        ("GET", ["identity", "resources", "users", "v1", "email"]) => user_by_email(host, call),
        ("GET", ["identity", "resources", "users", "v3"]) => users_page(host, call),
        ("POST", ["identity", "resources", "vendor-only", "users", "v1"]) => create_user(host, call),
        ("POST", ["identity", "resources", "users", "v2"]) => invite_user(host, call),
        ("GET", ["identity", "resources", "users", "v1", id]) => user_in_tenant(host, id, call),
        ("PUT", ["identity", "resources", "users", "v1", id]) => update_user(host, id, call),
        ("DELETE", ["identity", "resources", "users", "v1", id]) => delete_user(host, id, call),
        ("POST", ["identity", "resources", "users", "v1", id, "tenant"]) => add_to_tenant(host, id, call),
        ("PUT", ["identity", "resources", "users", "v1", id, "tenant"]) => set_active_tenant(host, id, call),
        ("POST", ["identity", "resources", "tenants", "users", "v1", id, action @ ("disable" | "enable")]) => {
            set_disabled(host, id, *action == "disable", call)
        }
        (m @ ("POST" | "DELETE"), ["identity", "resources", "users", "v1", id, "roles"]) => {
            change_roles(host, id, m == "POST", call)
        }
        ("POST", ["identity", "resources", "users", "v1", id, action @ ("lock" | "unlock" | "verify")]) => {
            flag_user(host, id, action)
        }
        (
            "POST",
            [
                "identity",
                "resources",
                "users",
                "v1",
                id,
                "links",
                link @ ("generate-activation-token" | "generate-password-reset-token"),
            ],
        ) => user_link(host, id, *link == "generate-activation-token"),
        // Tenants.
        ("GET", ["tenants", "resources", "tenants", "v1"]) => all_tenants(host),
        ("GET", ["tenants", "resources", "tenants", "v2"]) => tenants_page(host, call),
        ("GET", ["tenants", "resources", "tenants", "v1", id]) => tenant_by_id(host, id),
        ("POST", ["tenants", "resources", "tenants", "v1"]) => create_tenant(host, call),
        ("PUT", ["tenants", "resources", "tenants", "v1", id]) => update_tenant(host, id, call),
        ("DELETE", ["tenants", "resources", "tenants", "v1", id]) => delete_tenant(host, id),
        ("POST", ["tenants", "resources", "tenants", "v1", id, "metadata"]) => merge_metadata(host, id, call),
        ("DELETE", ["tenants", "resources", "tenants", "v1", id, "metadata", key]) => {
            delete_metadata_key(host, id, key)
        }
        // Access tokens.
        ("POST", ["identity", "resources", owner @ ("tenants" | "users"), "access-tokens", "v1"]) => {
            create_access_token(shared, *owner == "users", call)
        }
        ("GET", ["identity", "resources", owner @ ("tenants" | "users"), "access-tokens", "v1"]) => {
            list_access_tokens(host, *owner == "users", call)
        }
        ("DELETE", ["identity", "resources", owner @ ("tenants" | "users"), "access-tokens", "v1", id]) => {
            delete_access_token(host, *owner == "users", id, call)
        }
        // API tokens.
        ("POST", ["identity", "resources", "tenants", "api-tokens", "v2"]) => create_api_token(host, false, call),
        ("POST", ["identity", "resources", "users", "api-tokens", "v1"]) => create_api_token(host, true, call),
        ("GET", ["identity", "resources", owner @ ("tenants" | "users"), "api-tokens", "v1"]) => {
            list_api_tokens(host, *owner == "users", call)
        }
        ("DELETE", ["identity", "resources", owner @ ("tenants" | "users"), "api-tokens", "v1", id]) => {
            delete_api_token(host, *owner == "users", id, call)
        }
        // Sessions.
        ("GET", ["identity", "resources", "users", "sessions", "v1", "me"]) => list_sessions(host, call),
        ("DELETE", ["identity", "resources", "users", "sessions", "v1", "me", "all"]) => {
            delete_sessions(host, None, call)
        }
        ("DELETE", ["identity", "resources", "users", "sessions", "v1", "me", id]) => {
            delete_sessions(host, Some(id), call)
        }
        // Invitations.
        ("POST", ["identity", "resources", "tenants", "invites", "v1"]) => create_invite(host, call),
        ("GET", ["identity", "resources", "tenants", "invites", "v1", "all"]) => all_invites(host),
        ("DELETE", ["identity", "resources", "tenants", "invites", "v1", "token", id]) => delete_invite(host, id),
        // Groups.
        ("POST", ["identity", "resources", "groups", "v1"]) => create_group(host, call),
        ("GET", ["identity", "resources", "groups", "v1"]) => all_groups(host, call),
        ("GET", ["identity", "resources", "groups", "v2"]) => groups_page(host, call),
        ("DELETE", ["identity", "resources", "groups", "v1", id]) => delete_group(host, id, call),
        _ => Err(error(StatusCode::NOT_FOUND, "Not found")),
    }
}

/// `GET /identity/resources/vendor-only/users/v1/{id}` for a directory user; `None` when the
/// directory has no such user (the emulator then serves its own).
pub(super) fn user_lookup(host: &impl DirectoryHost, id: &str) -> Option<Answer> {
    let d = host.directory();
    let user = d.users.iter().find(|u| u.id == id)?;
    Some(answer::json(StatusCode::OK, user_dto(host, user, Shape::Full)))
}

/// Answers the token exchange (`POST …/auth/v1|v2/api-token`); `None` for any other call. It
/// takes no vendor token: call it before the vendor-token check.
pub(super) fn exchange(
    shared: &Arc<impl DirectoryHost + 'static>,
    method: &Method,
    segments: &[&str],
    body: &[u8],
) -> Option<Answer> {
    if method != Method::POST || !is_exchange(segments) {
        return None;
    }
    let v2 = segments.contains(&"v2");
    Some(exchange_credentials(shared, v2, body).unwrap_or_else(|refusal| refusal))
}

fn exchange_credentials(shared: &Arc<impl DirectoryHost + 'static>, v2: bool, body: &[u8]) -> Result<Answer, Answer> {
    let b = Body::parse(body)?;
    let client_id = b.required_string("clientId")?;
    let secret = b.required_string("secret")?;
    let invalid = || error(StatusCode::UNAUTHORIZED, "Invalid credentials");
    let host = shared.as_ref();
    let (token_type, tenant_id, user_id, metadata, role_ids, permission_ids, lifetime) = {
        let d = host.directory();
        let row = d.api_tokens.iter().find(|t| t.client_id == client_id).ok_or_else(invalid)?;
        verify_slices_are_equal(row.secret.as_bytes(), secret.as_bytes()).map_err(|_| invalid())?;
        if row.expires.is_some_and(|expires| expires <= SystemTime::now()) {
            return Err(invalid());
        }
        match &row.user_id {
            // A user token carries the user's rights in that tenant at the time of the exchange.
            Some(user_id) => {
                let membership = d.user(user_id).ok().and_then(|u| u.membership(&row.tenant_id)).ok_or_else(invalid)?;
                (
                    TokenType::UserApi,
                    row.tenant_id.clone(),
                    Some(user_id.clone()),
                    row.metadata.clone(),
                    membership.role_ids.clone(),
                    Vec::new(),
                    d.api_token_lifetime,
                )
            }
            None => (
                TokenType::TenantApi,
                row.tenant_id.clone(),
                None,
                row.metadata.clone(),
                row.role_ids.clone(),
                row.permission_ids.clone(),
                d.api_token_lifetime,
            ),
        }
    };
    let (roles, mut permissions) = rights(host, &role_ids);
    for id in &permission_ids {
        if let Some(p) = host.permission(id)
            && !permissions.contains(&p.key)
        {
            permissions.push(p.key);
        }
    }
    let mut builder = TokenBuilder::new(
        shared.clone(),
        host.environment_url(),
        host.environment_client_id(),
        token_type,
        client_id.clone(),
    )
    .tenant(&tenant_id)
    .roles(roles)
    .permissions(permissions)
    .claim("metadata", Value::Object(metadata))
    .expires_in(lifetime);
    builder = match &user_id {
        Some(user_id) => builder.claim("userId", user_id.as_str()).claim("createdByUserId", user_id.as_str()),
        // Created by the vendor, not by a user.
        None => builder.without("createdByUserId"),
    };
    let access_token = builder.sign();
    let refresh_token = secret_token()?;
    let expires = http_date(SystemTime::now() + lifetime);
    let seconds = lifetime.as_secs();
    let body = if v2 {
        json!({"access_token": access_token, "refresh_token": refresh_token, "expires_in": seconds, "expires": expires})
    } else {
        json!({"accessToken": access_token, "refreshToken": refresh_token, "expiresIn": seconds, "expires": expires})
    };
    Ok(answer::json(StatusCode::OK, body))
}

// ---------------------------------------------------------------------------------------------
// Users.

/// Which variant of Frontegg's user object to serve.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `UserDto`: top-level `roles` and `permissions` of the active tenant.
    Full,
    /// `CoreUserDto` (by e-mail): no top-level `roles`/`permissions`.
    Core,
    /// Items of `users/v3`: no top-level `roles`/`permissions`, no `tenants[].roles`.
    Listed,
}

fn user_dto(host: &impl DirectoryHost, u: &User, shape: Shape) -> Value {
    let tenants: Vec<Value> = u
        .memberships
        .iter()
        .map(|m| {
            let mut t = json!({"tenantId": m.tenant_id, "isDisabled": m.disabled, "temporaryExpirationDate": null});
            if shape != Shape::Listed
                && let Some(fields) = t.as_object_mut()
            {
                fields.insert("roles".into(), Value::Array(roles_of(host, &m.role_ids).iter().map(role_obj).collect()));
            }
            t
        })
        .collect();
    let mut dto = json!({
        "id": u.id,
        "sub": u.id,
        "email": u.email,
        "name": u.name,
        "profilePictureUrl": u.profile_picture_url,
        "verified": u.verified,
        "mfaEnrolled": false,
        "mfaBypass": u.mfa_bypass,
        "isLocked": u.locked,
        "provider": "local",
        "metadata": u.metadata,
        "vendorMetadata": u.vendor_metadata,
        "tenantId": u.active_tenant,
        "tenantIds": u.memberships.iter().map(|m| m.tenant_id.as_str()).collect::<Vec<_>>(),
        "tenants": tenants,
        "createdAt": u.created_at,
        "lastLogin": null,
        "subAccountAccessAllowed": false,
        "activatedForTenant": true,
    });
    if let Some(fields) = dto.as_object_mut() {
        for (name, value) in
            [("username", &u.username), ("phoneNumber", &u.phone_number), ("externalId", &u.external_id)]
        {
            if let Some(value) = value {
                fields.insert(name.into(), json!(value));
            }
        }
        if shape == Shape::Full {
            let role_ids = u.membership(&u.active_tenant).map(|m| m.role_ids.as_slice()).unwrap_or_default();
            let roles = roles_of(host, role_ids);
            fields.insert("roles".into(), Value::Array(roles.iter().map(role_obj).collect()));
            fields.insert("permissions".into(), Value::Array(permissions_of(&roles)));
        }
    }
    dto
}

fn role_obj(r: &RoleFacts) -> Value {
    json!({
        "id": r.id,
        "key": r.key,
        "name": r.name,
        "description": r.description,
        "isDefault": r.is_default,
        "level": r.level,
        "createdAt": r.created_at,
        "permissions": r.permissions.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
    })
}

/// The roles that still exist among `ids` (a role deleted from the model drops out).
fn roles_of(host: &impl DirectoryHost, ids: &[String]) -> Vec<RoleFacts> {
    ids.iter().filter_map(|id| host.role(id)).collect()
}

/// `{id, key, name}` of the roles' permissions, each once.
fn permissions_of(roles: &[RoleFacts]) -> Vec<Value> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for p in roles.iter().flat_map(|r| &r.permissions) {
        if !seen.contains(&p.id.as_str()) {
            seen.push(&p.id);
            out.push(json!({"id": p.id, "key": p.key, "name": p.name}));
        }
    }
    out
}

/// Role keys and the union of their permission keys, as tokens and lookups carry them.
fn rights(host: &impl DirectoryHost, role_ids: &[String]) -> (Vec<String>, Vec<String>) {
    let roles = roles_of(host, role_ids);
    let mut permissions: Vec<String> = Vec::new();
    for p in roles.iter().flat_map(|r| &r.permissions) {
        if !permissions.contains(&p.key) {
            permissions.push(p.key.clone());
        }
    }
    (roles.into_iter().map(|r| r.key).collect(), permissions)
}

/// 400 for the first id that names no role of the model.
fn check_roles(host: &impl DirectoryHost, ids: &[String]) -> Result<(), Answer> {
    match ids.iter().find(|id| host.role(id).is_none()) {
        Some(id) => Err(bad_request(&format!("Role not found: {id}"))),
        None => Ok(()),
    }
}

fn user_by_email(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let email = call
        .query()
        .into_iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v)
        .ok_or_else(|| bad_request("email is required"))?;
    let d = host.directory();
    let user = d.users.iter().find(|u| u.email == email).ok_or_else(|| not_found("User"))?;
    Ok(answer::json(StatusCode::OK, user_dto(host, user, Shape::Core)))
}

fn users_page(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let query = call.query();
    let paging = Paging::read(&query)?;
    let descending = descending(&query)?;
    let sort_by = param(&query, "_sortBy").unwrap_or("createdAt");
    if !matches!(sort_by, "createdAt" | "name" | "email" | "id") {
        return Err(bad_request("_sortBy must be createdAt, name, email or id"));
    }
    let d = host.directory();
    let ids_name = match d.ids_parameter {
        IdsParameter::Ids => "ids",
        IdsParameter::UnderscoreIds => "_ids",
    };
    let ids: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == ids_name)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    let email = param(&query, "_email");
    let tenant = param(&query, "_tenantId");
    let header_tenant = call.header("frontegg-tenant-id");
    let mut users: Vec<&User> = d
        .users
        .iter()
        .filter(|u| ids.is_empty() || ids.contains(&u.id.as_str()))
        .filter(|u| email.is_none_or(|e| u.email == e))
        .filter(|u| tenant.is_none_or(|t| u.membership(t).is_some()))
        .filter(|u| header_tenant.is_none_or(|t| u.membership(t).is_some()))
        .collect();
    // Stable sorts: ties keep creation order.
    match sort_by {
        "name" => users.sort_by(|a, b| a.name.cmp(&b.name)),
        "email" => users.sort_by(|a, b| a.email.cmp(&b.email)),
        "id" => users.sort_by(|a, b| a.id.cmp(&b.id)),
        _ => {}
    }
    if descending {
        users.reverse();
    }
    let items = users.into_iter().map(|u| user_dto(host, u, Shape::Listed)).collect();
    Ok(paging.answer(items, false, &query))
}

fn create_user(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let tenant_id = b.required_string("tenantId")?;
    let email = b.required_string("email")?;
    let role_ids = b.ids("roleIds")?;
    let mut user = new_user(&b, email, &tenant_id, role_ids.clone())?;
    user.vendor_metadata = b.json_string("vendorMetadata")?;
    user.external_id = b.string("externalId")?;
    user.mfa_bypass = b.bool("mfaBypass")?.unwrap_or(false);
    let mut d = host.directory();
    d.tenant(&tenant_id)?;
    check_roles(host, &role_ids)?;
    if d.users.iter().any(|u| u.email == user.email) {
        return Err(error(StatusCode::CONFLICT, "User already exists"));
    }
    let dto = user_dto(host, &user, Shape::Full);
    d.users.push(user);
    Ok(answer::json(StatusCode::CREATED, dto))
}

/// A user of one tenant from the fields that both creation calls share.
fn new_user(b: &Body, email: String, tenant_id: &str, role_ids: Vec<String>) -> Result<User, Answer> {
    Ok(User {
        id: uuid(fastrand::u128(..).to_be_bytes()),
        email,
        name: b.string("name")?,
        username: b.string("username")?,
        profile_picture_url: b.string("profilePictureUrl")?,
        phone_number: b.string("phoneNumber")?,
        external_id: None,
        verified: false,
        locked: false,
        mfa_bypass: false,
        metadata: b.json_string("metadata")?.unwrap_or_else(|| "{}".to_owned()),
        vendor_metadata: None,
        active_tenant: tenant_id.to_owned(),
        memberships: vec![Membership { tenant_id: tenant_id.to_owned(), role_ids, disabled: false }],
        created_at: now(),
    })
}

fn invite_user(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let tenant_id = call.tenant_header()?.to_owned();
    let b = call.body()?;
    let email = b.required_string("email")?;
    let role_ids = b.ids("roleIds")?;
    b.bool("skipInviteEmail")?;
    let mut d = host.directory();
    d.tenant(&tenant_id)?;
    check_roles(host, &role_ids)?;
    // An existing user joins the tenant instead of being created again.
    let index = match d.users.iter().position(|u| u.email == email) {
        Some(index) => {
            let user = &mut d.users[index];
            match user.membership_mut(&tenant_id) {
                Some(m) => {
                    for id in role_ids {
                        if !m.role_ids.contains(&id) {
                            m.role_ids.push(id);
                        }
                    }
                }
                None => user.memberships.push(Membership { tenant_id: tenant_id.clone(), role_ids, disabled: false }),
            }
            index
        }
        None => {
            d.users.push(new_user(&b, email, &tenant_id, role_ids)?);
            d.users.len() - 1
        }
    };
    let user = &d.users[index];
    let role_ids = user.membership(&tenant_id).map(|m| m.role_ids.as_slice()).unwrap_or_default();
    let roles = roles_of(host, role_ids);
    Ok(answer::json(
        StatusCode::CREATED,
        json!({
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "verified": false,
            "profilePictureUrl": null,
            "roles": roles.iter().map(role_obj).collect::<Vec<_>>(),
            "permissions": permissions_of(&roles),
            "metadata": user.metadata,
            "createdAt": user.created_at,
            "lastLogin": null,
            "activatedForTenant": false,
            "temporaryExpirationDate": null,
        }),
    ))
}

/// `GET /users/v1/{id}` with `frontegg-tenant-id`: the user as seen in that tenant (its roles
/// and permissions on top); 404 unless a member.
fn user_in_tenant(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let tenant_id = call.tenant_header()?;
    let d = host.directory();
    let mut user = d.user(id)?.clone();
    if user.membership(tenant_id).is_none() {
        return Err(not_found("User"));
    }
    user.active_tenant = tenant_id.to_owned();
    Ok(answer::json(StatusCode::OK, user_dto(host, &user, Shape::Full)))
}

fn update_user(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let name = b.string("name")?;
    let phone_number = b.string("phoneNumber")?;
    let picture = b.string("profilePictureUrl")?;
    let metadata = b.json_string("metadata")?;
    let vendor_metadata = b.json_string("vendorMetadata")?;
    let external_id = b.string("externalId")?;
    let mfa_bypass = b.bool("mfaBypass")?;
    let mut d = host.directory();
    let user = d.user_mut(id)?;
    if name.is_some() {
        user.name = name;
    }
    if phone_number.is_some() {
        user.phone_number = phone_number;
    }
    // Nullable: an explicit null clears the picture.
    if b.has("profilePictureUrl") {
        user.profile_picture_url = picture;
    }
    if let Some(metadata) = metadata {
        user.metadata = metadata;
    }
    if vendor_metadata.is_some() {
        user.vendor_metadata = vendor_metadata;
    }
    if external_id.is_some() {
        user.external_id = external_id;
    }
    if let Some(bypass) = mfa_bypass {
        user.mfa_bypass = bypass;
    }
    Ok(answer::json(StatusCode::OK, user_dto(host, user, Shape::Full)))
}

fn delete_user(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let mut d = host.directory();
    let user = d.user(id)?;
    match call.header("frontegg-tenant-id") {
        Some(tenant_id) => {
            if user.membership(tenant_id).is_none() {
                return Err(not_found("User in tenant"));
            }
            d.remove_membership(host, id, tenant_id);
        }
        None => d.delete_user(host, id),
    }
    Ok(answer::empty(StatusCode::OK))
}

fn add_to_tenant(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let tenant_id = b.required_string("tenantId")?;
    let validate = b.bool("validateTenantExist")?.unwrap_or(false);
    b.bool("skipInviteEmail")?;
    let mut d = host.directory();
    d.user(id)?;
    if d.tenant(&tenant_id).is_err() {
        if validate {
            return Err(not_found("Tenant"));
        }
        // The spec: an unknown tenant is created unless the call asks for validation.
        d.tenants.push(new_tenant(tenant_id.clone(), tenant_id.clone()));
    }
    let user = d.user_mut(id)?;
    if user.membership(&tenant_id).is_none() {
        user.memberships.push(Membership { tenant_id, role_ids: Vec::new(), disabled: false });
    }
    Ok(answer::json(StatusCode::CREATED, user_dto(host, user, Shape::Full)))
}

fn set_active_tenant(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let tenant_id = b.required_string("tenantId")?;
    let validate = b.bool("validateTenantExist")?.unwrap_or(false);
    let mut d = host.directory();
    if validate {
        d.tenant(&tenant_id)?;
    }
    let user = d.user_mut(id)?;
    if user.membership(&tenant_id).is_none() {
        return Err(bad_request("User is not a member of the tenant"));
    }
    user.active_tenant = tenant_id;
    Ok(answer::json(StatusCode::OK, user_dto(host, user, Shape::Full)))
}

fn set_disabled(host: &impl DirectoryHost, id: &str, disabled: bool, call: &Call<'_>) -> Result<Answer, Answer> {
    let tenant_id = call.tenant_header()?;
    let mut d = host.directory();
    let membership = d.user_mut(id)?.membership_mut(tenant_id).ok_or_else(|| not_found("User in tenant"))?;
    membership.disabled = disabled;
    Ok(answer::json(StatusCode::OK, json!({})))
}

fn change_roles(host: &impl DirectoryHost, id: &str, assign: bool, call: &Call<'_>) -> Result<Answer, Answer> {
    let mut d = host.directory();
    // The forced failure comes first, so that it answers every call and changes nothing.
    if d.passing_role_changes > 0 {
        d.passing_role_changes -= 1;
    } else if d.failing_role_changes > 0 {
        d.failing_role_changes -= 1;
        return Err(error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"));
    }
    let tenant_id = call.tenant_header()?;
    let role_ids = call.body()?.required_ids("roleIds")?;
    check_roles(host, &role_ids)?;
    let membership = d.user_mut(id)?.membership_mut(tenant_id).ok_or_else(|| not_found("User in tenant"))?;
    if assign {
        for role in role_ids {
            if !membership.role_ids.contains(&role) {
                membership.role_ids.push(role);
            }
        }
    } else {
        membership.role_ids.retain(|r| !role_ids.contains(r));
    }
    let roles: Vec<Value> = roles_of(host, &membership.role_ids).iter().map(role_obj).collect();
    let status = if assign { StatusCode::CREATED } else { StatusCode::OK };
    Ok(answer::json(status, json!({"tenantId": tenant_id, "userId": id, "roles": roles})))
}

fn flag_user(host: &impl DirectoryHost, id: &str, action: &str) -> Result<Answer, Answer> {
    let mut d = host.directory();
    let user = d.user_mut(id)?;
    match action {
        "lock" => user.locked = true,
        "unlock" => user.locked = false,
        _ => user.verified = true,
    }
    Ok(answer::json(StatusCode::OK, json!({})))
}

fn user_link(host: &impl DirectoryHost, id: &str, activation: bool) -> Result<Answer, Answer> {
    host.directory().user(id)?;
    let token = secret_token()?;
    let page = if activation { "activate" } else { "reset-password" };
    let mut link = url::Url::parse(host.environment_url())
        .and_then(|base| base.join(page))
        .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "the emulator's URL is not a URL"))?;
    link.query_pairs_mut().append_pair("token", &token);
    Ok(answer::json(StatusCode::CREATED, json!({"link": link.as_str(), "token": token, "userId": id})))
}

// ---------------------------------------------------------------------------------------------
// Tenants.

fn new_tenant(id: String, name: String) -> Tenant {
    let now = now();
    Tenant {
        id,
        name,
        website: None,
        application_url: None,
        creator_name: None,
        creator_email: None,
        metadata: Map::new(),
        created_at: now.clone(),
        updated_at: now,
    }
}

fn tenant_obj(t: &Tenant, reading: MetadataReading) -> Value {
    let metadata = match reading {
        MetadataReading::String => Value::String(Value::Object(t.metadata.clone()).to_string()),
        MetadataReading::Object => Value::Object(t.metadata.clone()),
    };
    let mut obj = json!({
        "id": t.id,
        "tenantId": t.id,
        "name": t.name,
        "vendorId": VENDOR_ID,
        "metadata": metadata,
        "creatorName": t.creator_name,
        "creatorEmail": t.creator_email,
        "isReseller": false,
        "createdAt": t.created_at,
        "updatedAt": t.updated_at,
        "deletedAt": null,
    });
    if let Some(fields) = obj.as_object_mut() {
        for (name, value) in [("website", &t.website), ("applicationUrl", &t.application_url)] {
            if let Some(value) = value {
                fields.insert(name.into(), json!(value));
            }
        }
    }
    obj
}

fn all_tenants(host: &impl DirectoryHost) -> Result<Answer, Answer> {
    let d = host.directory();
    let mut tenants: Vec<&Tenant> = d.tenants.iter().collect();
    tenants.sort_by(|a, b| a.id.cmp(&b.id));
    let items: Vec<Value> = tenants.into_iter().map(|t| tenant_obj(t, d.metadata_reading)).collect();
    Ok(answer::json(StatusCode::OK, Value::Array(items)))
}

fn tenants_page(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let query = call.query();
    let paging = Paging::read(&query)?;
    let descending = descending(&query)?;
    let sort_by = param(&query, "_sortBy").unwrap_or("createdAt");
    if !matches!(sort_by, "createdAt" | "name" | "tenantId") {
        return Err(bad_request("_sortBy must be createdAt, name or tenantId"));
    }
    let filter = param(&query, "_filter");
    let d = host.directory();
    let mut tenants: Vec<&Tenant> =
        d.tenants.iter().filter(|t| filter.is_none_or(|f| t.name.contains(f) || t.id.contains(f))).collect();
    match sort_by {
        "name" => tenants.sort_by(|a, b| a.name.cmp(&b.name)),
        "tenantId" => tenants.sort_by(|a, b| a.id.cmp(&b.id)),
        _ => {}
    }
    if descending {
        tenants.reverse();
    }
    let items = tenants.into_iter().map(|t| tenant_obj(t, d.metadata_reading)).collect();
    Ok(paging.answer(items, d.offset_reading == OffsetReading::Records, &query))
}

fn tenant_by_id(host: &impl DirectoryHost, id: &str) -> Result<Answer, Answer> {
    let d = host.directory();
    // An array of 0 or 1 tenant: a missing tenant is an empty array, not a 404.
    let items: Vec<Value> =
        d.tenants.iter().filter(|t| t.id == id).map(|t| tenant_obj(t, d.metadata_reading)).collect();
    Ok(answer::json(StatusCode::OK, Value::Array(items)))
}

/// The fields that creation and update share; whether any was given.
fn apply_tenant_fields(t: &mut Tenant, b: &Body) -> Result<bool, Answer> {
    let mut any = false;
    if let Some(name) = b.string("name")? {
        t.name = name;
        any = true;
    }
    for (field, slot) in [
        ("website", &mut t.website),
        ("applicationUrl", &mut t.application_url),
        ("creatorName", &mut t.creator_name),
        ("creatorEmail", &mut t.creator_email),
    ] {
        if b.has(field) {
            *slot = b.string(field)?;
            any = true;
        }
    }
    if let Some(metadata) = b.object_or_string("metadata")? {
        t.metadata = metadata;
        any = true;
    }
    Ok(any)
}

fn create_tenant(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let name = b.required_string("name")?;
    let id = match b.string("tenantId")? {
        Some(id) if !id.trim().is_empty() => id,
        _ => uuid(fastrand::u128(..).to_be_bytes()),
    };
    let mut tenant = new_tenant(id, name);
    apply_tenant_fields(&mut tenant, &b)?;
    let mut d = host.directory();
    if d.tenants.iter().any(|t| t.id == tenant.id) {
        return Err(error(StatusCode::CONFLICT, "Tenant already exists"));
    }
    let obj = tenant_obj(&tenant, d.metadata_reading);
    d.tenants.push(tenant);
    Ok(answer::json(StatusCode::CREATED, obj))
}

fn update_tenant(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let mut d = host.directory();
    let reading = d.metadata_reading;
    let tenant = d.tenants.iter_mut().find(|t| t.id == id).ok_or_else(|| not_found("Tenant"))?;
    // Applied to a copy first: a refused update changes nothing.
    let mut updated = tenant.clone();
    if !apply_tenant_fields(&mut updated, &b)? {
        return Err(bad_request("the body names no field to update"));
    }
    updated.updated_at = now();
    *tenant = updated;
    Ok(answer::json(StatusCode::OK, tenant_obj(tenant, reading)))
}

fn delete_tenant(host: &impl DirectoryHost, id: &str) -> Result<Answer, Answer> {
    let mut d = host.directory();
    d.tenant(id)?;
    d.tenants.retain(|t| t.id != id);
    let members: Vec<String> = d.users.iter().filter(|u| u.membership(id).is_some()).map(|u| u.id.clone()).collect();
    for user in members {
        d.remove_membership(host, &user, id);
    }
    d.access_tokens.retain(|t| {
        let theirs = t.tenant_id == id;
        if theirs {
            host.revoke_access_token(&t.id);
        }
        !theirs
    });
    d.api_tokens.retain(|t| t.tenant_id != id);
    d.sessions.retain(|s| s.tenant_id != id);
    d.invites.retain(|i| i.tenant_id != id);
    d.groups.retain(|g| g.tenant_id != id);
    Ok(answer::empty(StatusCode::OK))
}

fn merge_metadata(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let metadata = b.object("metadata")?.ok_or_else(|| bad_request("metadata is required"))?;
    let mut d = host.directory();
    let reading = d.metadata_reading;
    let tenant = d.tenants.iter_mut().find(|t| t.id == id).ok_or_else(|| not_found("Tenant"))?;
    tenant.metadata.extend(metadata);
    tenant.updated_at = now();
    Ok(answer::json(StatusCode::OK, tenant_obj(tenant, reading)))
}

fn delete_metadata_key(host: &impl DirectoryHost, id: &str, key: &str) -> Result<Answer, Answer> {
    let mut d = host.directory();
    let reading = d.metadata_reading;
    let tenant = d.tenants.iter_mut().find(|t| t.id == id).ok_or_else(|| not_found("Tenant"))?;
    tenant.metadata.remove(key);
    tenant.updated_at = now();
    Ok(answer::json(StatusCode::OK, tenant_obj(tenant, reading)))
}

// ---------------------------------------------------------------------------------------------
// Access tokens.

/// The tenant of an owner-scoped call and, for user calls, the user (who must be a member).
fn owner(d: &Directory, user: bool, call: &Call<'_>) -> Result<(String, Option<String>), Answer> {
    let tenant_id = call.tenant_header()?.to_owned();
    let user_id = if user { Some(call.user_header()?.to_owned()) } else { None };
    d.tenant(&tenant_id)?;
    if let Some(user_id) = &user_id
        && d.user(user_id)?.membership(&tenant_id).is_none()
    {
        return Err(not_found("User in tenant"));
    }
    Ok((tenant_id, user_id))
}

fn access_token_obj(t: &AccessTokenRow) -> Value {
    let mut obj = json!({"id": t.id, "description": t.description, "createdAt": t.created_at, "expires": t.expires});
    if t.user_id.is_none()
        && let Some(fields) = obj.as_object_mut()
    {
        fields.insert("roleIds".into(), json!(t.role_ids));
        fields.insert("createdByUserId".into(), Value::Null);
    }
    obj
}

fn create_access_token(
    shared: &Arc<impl DirectoryHost + 'static>,
    user: bool,
    call: &Call<'_>,
) -> Result<Answer, Answer> {
    let host = shared.as_ref();
    let b = call.body()?;
    let description = b.string("description")?;
    let minutes = b.minutes("expiresInMinutes")?;
    // User access tokens take the user's roles in the tenant; only tenant ones name roles.
    let asked_roles = if user { Vec::new() } else { b.ids("roleIds")? };
    check_roles(host, &asked_roles)?;
    let mut d = host.directory();
    let (tenant_id, user_id) = owner(&d, user, call)?;
    let role_ids = match &user_id {
        Some(user_id) => d.user(user_id)?.membership(&tenant_id).map(|m| m.role_ids.clone()).unwrap_or_default(),
        None => asked_roles,
    };
    let (roles, permissions) = rights(host, &role_ids);
    let id = uuid(fastrand::u128(..).to_be_bytes());
    let now_time = SystemTime::now();
    let lifetime = minutes.map_or(UNEXPIRING, |m| Duration::from_secs(m.saturating_mul(60)));
    let row = AccessTokenRow {
        id: id.clone(),
        tenant_id: tenant_id.clone(),
        user_id: user_id.clone(),
        description,
        created_at: timestamp(now_time),
        expires: minutes.map(|_| timestamp(now_time + lifetime)),
        role_ids: if user { Vec::new() } else { role_ids },
    };
    host.register_access_token(
        &id,
        AccessGrant { user, tenant_id: tenant_id.clone(), user_id: user_id.clone(), roles, permissions },
    );
    let kind = if user { TokenType::UserAccess } else { TokenType::TenantAccess };
    let mut builder =
        TokenBuilder::new(shared.clone(), host.environment_url(), host.environment_client_id(), kind, id.clone())
            .tenant(&tenant_id)
            .expires_in(lifetime);
    if let Some(user_id) = &user_id {
        builder = builder.claim("userId", user_id.as_str());
    }
    let mut obj = access_token_obj(&row);
    d.access_tokens.push(row);
    drop(d);
    if let Some(fields) = obj.as_object_mut() {
        fields.insert("secret".into(), json!(builder.sign()));
    }
    Ok(answer::json(StatusCode::CREATED, obj))
}

fn list_access_tokens(host: &impl DirectoryHost, user: bool, call: &Call<'_>) -> Result<Answer, Answer> {
    let d = host.directory();
    let (tenant_id, user_id) = owner(&d, user, call)?;
    let tokens: Vec<Value> = d
        .access_tokens
        .iter()
        .filter(|t| t.tenant_id == tenant_id && t.user_id == user_id)
        .map(access_token_obj)
        .collect();
    Ok(answer::json(StatusCode::OK, json!({ "accessTokens": tokens })))
}

fn delete_access_token(host: &impl DirectoryHost, user: bool, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let mut d = host.directory();
    let (tenant_id, user_id) = owner(&d, user, call)?;
    let index = d
        .access_tokens
        .iter()
        .position(|t| t.id == id && t.tenant_id == tenant_id && t.user_id == user_id)
        .ok_or_else(|| not_found("Access token"))?;
    d.access_tokens.remove(index);
    host.revoke_access_token(id);
    Ok(answer::empty(StatusCode::OK))
}

// ---------------------------------------------------------------------------------------------
// API tokens (client credentials).

fn api_token_obj(t: &ApiTokenRow) -> Value {
    let mut obj = json!({
        "clientId": t.client_id,
        "description": t.description,
        "metadata": t.metadata,
        "createdAt": t.created_at,
        "expires": t.expires.map(timestamp),
    });
    if t.user_id.is_none()
        && let Some(fields) = obj.as_object_mut()
    {
        fields.insert("tenantId".into(), json!(t.tenant_id));
        fields.insert("createdByUserId".into(), Value::Null);
        fields.insert("roleIds".into(), json!(t.role_ids));
        fields.insert("permissionIds".into(), json!(t.permission_ids));
    }
    obj
}

fn create_api_token(host: &impl DirectoryHost, user: bool, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let metadata = b.object("metadata")?.unwrap_or_default();
    let description = b.string("description")?;
    let minutes = b.minutes("expiresInMinutes")?;
    let (role_ids, permission_ids) =
        if user { (Vec::new(), Vec::new()) } else { (b.ids("roleIds")?, b.ids("permissionIds")?) };
    check_roles(host, &role_ids)?;
    if let Some(id) = permission_ids.iter().find(|id| host.permission(id).is_none()) {
        return Err(bad_request(&format!("Permission not found: {id}")));
    }
    let mut d = host.directory();
    let (tenant_id, user_id) = owner(&d, user, call)?;
    let now_time = SystemTime::now();
    let row = ApiTokenRow {
        client_id: uuid(fastrand::u128(..).to_be_bytes()),
        secret: uuid(random_bytes::<16>()?),
        tenant_id,
        user_id,
        description,
        metadata,
        created_at: timestamp(now_time),
        role_ids,
        permission_ids,
        expires: minutes.map(|m| now_time + Duration::from_secs(m.saturating_mul(60))),
    };
    let mut obj = api_token_obj(&row);
    if let Some(fields) = obj.as_object_mut() {
        fields.insert("secret".into(), json!(row.secret));
    }
    d.api_tokens.push(row);
    Ok(answer::json(StatusCode::CREATED, obj))
}

fn list_api_tokens(host: &impl DirectoryHost, user: bool, call: &Call<'_>) -> Result<Answer, Answer> {
    let d = host.directory();
    let (tenant_id, user_id) = owner(&d, user, call)?;
    let tokens: Vec<Value> =
        d.api_tokens.iter().filter(|t| t.tenant_id == tenant_id && t.user_id == user_id).map(api_token_obj).collect();
    Ok(answer::json(StatusCode::OK, Value::Array(tokens)))
}

fn delete_api_token(host: &impl DirectoryHost, user: bool, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let mut d = host.directory();
    let (tenant_id, user_id) = owner(&d, user, call)?;
    let index = d
        .api_tokens
        .iter()
        .position(|t| t.client_id == id && t.tenant_id == tenant_id && t.user_id == user_id)
        .ok_or_else(|| not_found("API token"))?;
    d.api_tokens.remove(index);
    Ok(answer::empty(StatusCode::OK))
}

// ---------------------------------------------------------------------------------------------
// Sessions.

fn list_sessions(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let user_id = call.user_header()?;
    let tenant_id = call.header("frontegg-tenant-id");
    let d = host.directory();
    let sessions: Vec<Value> = d
        .sessions
        .iter()
        .filter(|s| s.user_id == user_id && tenant_id.is_none_or(|t| s.tenant_id == t))
        .map(|s| {
            json!({
                "id": s.id,
                "userAgent": "Mozilla/5.0 (Frontegg emulator)",
                "ipAddress": "127.0.0.1",
                "createdAt": s.created_at,
                "expires": s.expires,
                "current": false,
                "impersonated": null,
            })
        })
        .collect();
    Ok(answer::json(StatusCode::OK, Value::Array(sessions)))
}

/// Deletes one session of the user (`Some(id)`) or all of them, in the tenant of the header
/// when there is one.
fn delete_sessions(host: &impl DirectoryHost, id: Option<&str>, call: &Call<'_>) -> Result<Answer, Answer> {
    let user_id = call.user_header()?;
    let tenant_id = call.header("frontegg-tenant-id");
    let mut d = host.directory();
    let before = d.sessions.len();
    d.sessions.retain(|s| {
        let chosen =
            s.user_id == user_id && tenant_id.is_none_or(|t| s.tenant_id == t) && id.is_none_or(|id| s.id == id);
        !chosen
    });
    if id.is_some() && d.sessions.len() == before {
        return Err(not_found("Session"));
    }
    Ok(answer::empty(StatusCode::OK))
}

// ---------------------------------------------------------------------------------------------
// Invitations.

fn invite_obj(i: &Invite) -> Value {
    json!({
        "id": i.id,
        "vendorId": VENDOR_ID,
        "tenantId": i.tenant_id,
        "userId": i.user_id,
        "token": i.token,
        "expires": i.expires,
        "shouldSendEmail": i.should_send_email,
        "name": null,
        "roleIds": i.role_ids,
    })
}

fn create_invite(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let tenant_id = b.required_string("tenantId")?;
    let user_id = b.string("userId")?;
    let minutes = b.minutes("expiresInMinutes")?.unwrap_or(DEFAULT_INVITE_MINUTES);
    let should_send_email = b.bool("shouldSendEmail")?.unwrap_or(false);
    let role_ids = b.ids("roleIds")?;
    check_roles(host, &role_ids)?;
    let mut d = host.directory();
    d.tenant(&tenant_id)?;
    if let Some(user_id) = &user_id {
        d.user(user_id)?;
    }
    let invite = Invite {
        id: uuid(fastrand::u128(..).to_be_bytes()),
        tenant_id,
        user_id,
        token: secret_token()?,
        expires: timestamp(SystemTime::now() + Duration::from_secs(minutes.saturating_mul(60))),
        should_send_email,
        role_ids,
    };
    let obj = invite_obj(&invite);
    d.invites.push(invite);
    Ok(answer::json(StatusCode::CREATED, obj))
}

fn all_invites(host: &impl DirectoryHost) -> Result<Answer, Answer> {
    let d = host.directory();
    Ok(answer::json(StatusCode::OK, Value::Array(d.invites.iter().map(invite_obj).collect())))
}

fn delete_invite(host: &impl DirectoryHost, id: &str) -> Result<Answer, Answer> {
    let mut d = host.directory();
    let index = d.invites.iter().position(|i| i.id == id).ok_or_else(|| not_found("Invitation"))?;
    d.invites.remove(index);
    Ok(answer::empty(StatusCode::OK))
}

// ---------------------------------------------------------------------------------------------
// Groups.

fn group_obj(g: &Group) -> Value {
    json!({
        "id": g.id,
        "name": g.name,
        "color": g.color,
        "description": g.description,
        "metadata": g.metadata,
        "roles": [],
        "users": [],
        "managedBy": "frontegg",
        "createdAt": g.created_at,
        "updatedAt": g.updated_at,
    })
}

/// The tenant of a group call: the header's, which must name a tenant.
fn group_tenant(d: &Directory, call: &Call<'_>) -> Result<String, Answer> {
    let tenant_id = call.tenant_header()?;
    d.tenant(tenant_id)?;
    Ok(tenant_id.to_owned())
}

fn create_group(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let b = call.body()?;
    let name = b.required_string("name")?;
    let color = b.string("color")?;
    let description = b.string("description")?;
    let metadata = b.json_string("metadata")?.unwrap_or_else(|| "{}".to_owned());
    let mut d = host.directory();
    let tenant_id = group_tenant(&d, call)?;
    let now = now();
    let group = Group {
        id: uuid(fastrand::u128(..).to_be_bytes()),
        tenant_id,
        name,
        color,
        description,
        metadata,
        created_at: now.clone(),
        updated_at: now,
    };
    let obj = group_obj(&group);
    d.groups.push(group);
    Ok(answer::json(StatusCode::CREATED, obj))
}

fn all_groups(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let d = host.directory();
    let tenant_id = group_tenant(&d, call)?;
    let groups: Vec<Value> = d.groups.iter().filter(|g| g.tenant_id == tenant_id).map(group_obj).collect();
    Ok(answer::json(StatusCode::OK, json!({ "groups": groups })))
}

fn groups_page(host: &impl DirectoryHost, call: &Call<'_>) -> Result<Answer, Answer> {
    let query = call.query();
    let paging = Paging::read(&query)?;
    let descending = descending(&query)?;
    let sort_by = param(&query, "_sortBy").unwrap_or("createdAt");
    if !matches!(sort_by, "id" | "name" | "createdAt" | "updatedAt") {
        return Err(bad_request("_sortBy must be id, name, createdAt or updatedAt"));
    }
    let d = host.directory();
    let tenant_id = group_tenant(&d, call)?;
    let mut groups: Vec<&Group> = d.groups.iter().filter(|g| g.tenant_id == tenant_id).collect();
    match sort_by {
        "id" => groups.sort_by(|a, b| a.id.cmp(&b.id)),
        "name" => groups.sort_by(|a, b| a.name.cmp(&b.name)),
        "updatedAt" => groups.sort_by(|a, b| a.updated_at.cmp(&b.updated_at)),
        _ => {}
    }
    if descending {
        groups.reverse();
    }
    let items = groups.into_iter().map(group_obj).collect();
    Ok(paging.answer(items, false, &query))
}

fn delete_group(host: &impl DirectoryHost, id: &str, call: &Call<'_>) -> Result<Answer, Answer> {
    let mut d = host.directory();
    let tenant_id = group_tenant(&d, call)?;
    let index =
        d.groups.iter().position(|g| g.id == id && g.tenant_id == tenant_id).ok_or_else(|| not_found("Group"))?;
    d.groups.remove(index);
    Ok(answer::empty(StatusCode::OK))
}

// ---------------------------------------------------------------------------------------------
// Paged lists, queries, ids, times.

/// `_limit` and `_offset` of a paged list.
struct Paging {
    limit: usize,
    offset: usize,
}

impl Paging {
    fn read(query: &[(String, String)]) -> Result<Paging, Answer> {
        let limit = match param(query, "_limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
                _ => return Err(bad_request(&format!("_limit must be a number from 1 to {MAX_LIMIT}"))),
            },
        };
        let offset = match param(query, "_offset") {
            None => 0,
            Some(text) => text.parse::<usize>().map_err(|_| bad_request("_offset must be a whole number"))?,
        };
        Ok(Paging { limit, offset })
    }

    /// The page of `items` that `_offset` names (a page index, or a record offset when
    /// `records`), in Frontegg's pagination wrapper. The links repeat the other parameters.
    fn answer(&self, items: Vec<Value>, records: bool, query: &[(String, String)]) -> Answer {
        let total = items.len();
        let pages = total.div_ceil(self.limit);
        let (start, page) = if records {
            (self.offset, self.offset / self.limit)
        } else {
            (self.offset.saturating_mul(self.limit), self.offset)
        };
        let link = |page: usize| {
            let offset = if records { page.saturating_mul(self.limit) } else { page };
            let mut text = url::form_urlencoded::Serializer::new(String::new());
            text.append_pair("_limit", &self.limit.to_string()).append_pair("_offset", &offset.to_string());
            for (name, value) in query.iter().filter(|(name, _)| name != "_limit" && name != "_offset") {
                text.append_pair(name, value);
            }
            format!("?{}", text.finish())
        };
        let next = if page + 1 < pages { link(page + 1) } else { String::new() };
        let prev = if page > 0 && pages > 0 { link((page - 1).min(pages - 1)) } else { String::new() };
        let items: Vec<Value> = items.into_iter().skip(start).take(self.limit).collect();
        answer::json(
            StatusCode::OK,
            json!({
                "items": items,
                "_links": {"next": next, "prev": prev, "first": link(0), "last": link(pages.saturating_sub(1))},
                "_metadata": {"totalItems": total, "totalPages": pages},
            }),
        )
    }
}

/// The first value of a query parameter.
fn param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `_order`: whether the list runs `DESC`.
fn descending(query: &[(String, String)]) -> Result<bool, Answer> {
    match param(query, "_order") {
        None => Ok(false),
        Some(order) if order.eq_ignore_ascii_case("ASC") => Ok(false),
        Some(order) if order.eq_ignore_ascii_case("DESC") => Ok(true),
        Some(_) => Err(bad_request("_order must be ASC or DESC")),
    }
}

fn bad_request(message: &str) -> Answer {
    error(StatusCode::BAD_REQUEST, message)
}

fn not_found(what: &str) -> Answer {
    error(StatusCode::NOT_FOUND, &format!("{what} not found"))
}

/// A UUID v4 from 16 random bytes: ids and client ids from `fastrand`, secrets from
/// [`random_bytes`].
fn uuid(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A secret (API-token secret, refresh token, link token) from the operating system's CSPRNG,
/// so that a test of secrecy is not a test of `fastrand`.
fn secret_token() -> Result<String, Answer> {
    Ok(uuid(random_bytes::<16>()?))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Answer> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "the random generator failed"))?;
    Ok(bytes)
}

/// ISO 8601 with milliseconds and `Z`, as Frontegg writes its timestamps.
fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

fn now() -> String {
    timestamp(SystemTime::now())
}

/// An HTTP date (`Mon, 01 Jan 2024 00:00:00 GMT`), as the token exchange writes `expires`.
fn http_date(when: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let seconds = when.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let at = i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(at.weekday().number_days_from_monday())],
        at.day(),
        MONTHS[usize::from(u8::from(at.month())) - 1],
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(UNIX_EPOCH + Duration::from_secs(1_704_067_200)), "Mon, 01 Jan 2024 00:00:00 GMT");
    }
}
