//! The Frontegg emulator: a real HTTP server on 127.0.0.1 that serves what this library calls.

// Handlers return `Result<Answer, Answer>` so that `?` turns a refusal into the answer itself;
// the size of the error variant does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::answer::{self, Answer, error};
use super::directory::{self, AccessGrant, Directory, DirectoryHost, PermissionFacts, RoleFacts};
use super::endpoint::{ENDPOINTS, Endpoint, slot};
use super::hosted_login::{self, LoginHost, LoginState};
use super::keys::{RsaKey, Signer, pooled};
use super::mint::TokenBuilder;
use crate::api::{
    Category, CategoryUpdate, NewCategory, NewPermission, NewRole, Permission, PermissionUpdate, Role, RoleUpdate,
};
use crate::config::ConfigBuilder;
use crate::identity::TokenType;
use crate::{ApiKey, Authenticator, Config};

/// Which part of the emulator a [`Behaviour`] applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    /// `GET /.well-known/jwks.json` (the environment's domain).
    Jwks,
    /// Everything else: the API gateway, `/auth/vendor` included.
    Gateway,
    /// `POST /auth/vendor` alone; while it is [`Behaviour::Normal`] it follows the gateway's.
    VendorAuth,
    /// The entitlements snapshot and its offset alone; while it is [`Behaviour::Normal`] they
    /// follow the gateway's.
    Entitlements,
}

/// How a surface answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// As Frontegg would.
    Normal,
    /// 503 with a JSON error: an outage.
    Unavailable,
    /// Waits this long, then answers normally (longer than the client's timeout: a hang).
    Slow(Duration),
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with this body, JSON of another shape than the one asked for (`{}`, an error body...).
    Json(String),
}

/// An access token registered in the emulator.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// Its id (`sub`).
    pub id: String,
    /// The signed JWT, to send as `x-api-key`.
    pub token: String,
}

struct AccessRecord {
    user: bool,
    tenant_id: String,
    user_id: Option<String>,
    roles: Vec<String>,
    permissions: Vec<String>,
    active: bool,
}

struct UserRecord {
    tenant_id: String,
    roles: Vec<String>,
    permissions: Vec<String>,
}

struct State {
    keys: Vec<(String, Arc<RsaKey>)>,
    signer: usize,
    next_pool: usize,
    extra_jwks: Vec<Value>,
    jwks_max_age: Option<u64>,
    jwks: Behaviour,
    gateway: Behaviour,
    vendor_auth: Behaviour,
    entitlements_behaviour: Behaviour,
    entitlements: Value,
    entitlements_offset: i64,
    rate_limited: usize,
    rate_limit_reset: Duration,
    vendor_lifetime: Duration,
    vendor_tokens: HashMap<String, Instant>,
    access_tokens: HashMap<String, AccessRecord>,
    access_tokens_disabled: bool,
    users: HashMap<String, UserRecord>,
    permissions: Vec<Permission>,
    categories: Vec<Category>,
    roles: Vec<Role>,
    ids: u64,
}

/// What the server and the token builders share.
pub(crate) struct Shared {
    pub(crate) url: String,
    pub(crate) client_id: String,
    pub(super) api_key: String,
    state: Mutex<State>,
    /// The hosted login's state, apart so that its handlers never hold the main lock.
    pub(super) login: Mutex<LoginState>,
    /// The management API's state, apart for the same reason. Its handlers lock it before the
    /// main lock (role lookups, token registration), never after.
    pub(super) directory: Mutex<Directory>,
    counters: [AtomicUsize; ENDPOINTS],
    refused_vendor_tokens: AtomicUsize,
}

impl LoginHost for Shared {
    fn url(&self) -> &str {
        &self.url
    }

    fn client_id(&self) -> &str {
        &self.client_id
    }

    fn api_key(&self) -> &str {
        &self.api_key
    }

    fn login_state(&self) -> &Mutex<LoginState> {
        &self.login
    }

    fn count(&self, endpoint: Endpoint) {
        Shared::count(self, endpoint);
    }
}

impl DirectoryHost for Shared {
    fn environment_url(&self) -> &str {
        &self.url
    }

    fn environment_client_id(&self) -> &str {
        &self.client_id
    }

    fn directory_state(&self) -> &Mutex<Directory> {
        &self.directory
    }

    fn role(&self, role_id: &str) -> Option<RoleFacts> {
        let s = self.state();
        let role = s.roles.iter().find(|r| r.id == role_id)?;
        // Roles hold permission ids; the directory serves the permissions' keys and names too.
        let permissions = role
            .permissions
            .iter()
            .filter_map(|id| s.permissions.iter().find(|p| &p.id == id))
            .map(|p| PermissionFacts { id: p.id.clone(), key: p.key.clone(), name: p.name.clone() })
            .collect();
        Some(RoleFacts {
            id: role.id.clone(),
            key: role.key.clone(),
            name: role.name.clone(),
            description: role.description.clone(),
            is_default: role.is_default,
            level: role.level.unwrap_or(0),
            created_at: role.created_at.clone(),
            permissions,
        })
    }

    fn permission(&self, permission_id: &str) -> Option<PermissionFacts> {
        let s = self.state();
        let p = s.permissions.iter().find(|p| p.id == permission_id)?;
        Some(PermissionFacts { id: p.id.clone(), key: p.key.clone(), name: p.name.clone() })
    }

    fn register_access_token(&self, id: &str, grant: AccessGrant) {
        let record = AccessRecord {
            user: grant.user,
            tenant_id: grant.tenant_id,
            user_id: grant.user_id,
            roles: grant.roles,
            permissions: grant.permissions,
            active: true,
        };
        self.state().access_tokens.insert(id.to_owned(), record);
    }

    fn revoke_access_token(&self, id: &str) {
        if let Some(record) = self.state().access_tokens.get_mut(id) {
            record.active = false;
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn count(&self, endpoint: Endpoint) {
        self.counters[slot(endpoint)].fetch_add(1, Ordering::SeqCst);
    }
}

impl Signer for Shared {
    fn signer(&self) -> (String, Arc<RsaKey>) {
        let s = self.state();
        let (kid, key) = &s.keys[s.signer];
        (kid.clone(), key.clone())
    }
}

/// A Frontegg emulator on 127.0.0.1, for tests and offline demos. It stops when dropped.
///
/// It serves, with real RSA keys and in-memory state: the JWKS, `POST /auth/vendor`, the vendor
/// configuration, `/vendors/base-url`, access-token and user lookups, the permission-model
/// management API, the rest of the management API (users and their tenant memberships and
/// roles, tenants, tenant and user access tokens, client-credentials API tokens and their
/// exchange at `auth/v1|v2/api-token`, user sessions, invitations and groups; see
/// [`Endpoint::Directory`](super::Endpoint::Directory) and knobs such as
/// [`set_tenant_metadata_reading`](Self::set_tenant_metadata_reading)), and Frontegg's hosted
/// login (`/oauth/authorize`, `/oauth/token`, `/oauth/logout`, also under `/frontegg/oauth/...`;
/// see [`LoginUser`](super::LoginUser) and [`add_login_user`](Self::add_login_user)). Every
/// gateway answer carries a fresh `frontegg-trace-id`. Tests can rotate keys, take either
/// surface down, slow it, make it answer garbage or 429, revoke access tokens, fail the token
/// endpoint or role changes, and read how many calls each endpoint served.
///
/// # Management API
///
/// Access tokens it creates are registered for the lookups with their roles' keys and
/// permissions, so the library authenticates them as `x-api-key`; API-token exchanges answer
/// JWTs (`tenantApiToken`, `userApiToken`) signed by the emulator, which the library verifies
/// offline. Paths are decoded segment by segment (`a%2Fb` is one id).
///
/// # Hosted login
///
/// `GET /oauth/authorize` serves a `Sign in` page with, per login user, the buttons
/// `#login-{id}` and `#login-{id}-mfa`; each submits its own form (hidden `request`, `user`,
/// `mfa`) to `POST /oauth/authorize`, which answers 303 to `redirect_uri?code=…&state=…`. The
/// code lives 60 s, is single-use and bound to the client, `redirect_uri`, PKCE challenge
/// (S256), nonce, user and MFA choice. `POST /oauth/token` (form or JSON; client by Basic or
/// `client_id`/`client_secret` in the body, or none for a code issued with PKCE) answers
/// `token_type`, `access_token` (a user token like [`user_token`](Self::user_token)'s, with the
/// user's tenant, rights and a `sid`), `id_token`, `refresh_token` (rotated on every refresh)
/// and `expires_in`. An MFA login adds `acr`, `amr` and `auth_time`; a refresh drops them and
/// answers an `id_token` without `nonce`. The page's forms stay usable for 10 minutes, each
/// submission issuing a new code and a new session (`sid`).
/// `GET /oauth/logout?post_logout_redirect_uri=…` answers 302 there.
///
/// ```no_run
/// # async fn demo() {
/// use frontegg_auth::testing::{Behaviour, Emulator, Endpoint, Surface};
/// use frontegg_auth::{Credential, CredentialKind};
///
/// let emulator = Emulator::start().await;
/// let auth = emulator.authenticator();
/// let token = emulator.user_token().permissions(["reports.read"]).sign();
/// let identity = auth.authenticate(&Credential::new(CredentialKind::Bearer, token)).await.unwrap();
/// assert!(identity.has_permission("reports.read"));
/// assert_eq!(emulator.calls(Endpoint::Jwks), 1);
/// emulator.set_behaviour(Surface::Jwks, Behaviour::Unavailable);
/// # }
/// ```
pub struct Emulator {
    pub(super) shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("url", &self.shared.url).finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Emulator {
    /// Starts an emulator on a free port of 127.0.0.1, on the current Tokio runtime.
    pub async fn start() -> Emulator {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts an emulator on the given loopback address.
    pub async fn start_on(addr: &str) -> Emulator {
        let listener = TcpListener::bind(addr).await.unwrap_or_else(|e| panic!("emulator cannot bind {addr}: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("emulator has no address: {e}"));
        let url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            url,
            client_id: "emulator-client-id".into(),
            api_key: format!("emulator-api-key-{:016x}", fastrand::u64(..)),
            state: Mutex::new(State {
                keys: vec![(kid(1), pooled(1))],
                signer: 0,
                next_pool: 2,
                extra_jwks: Vec::new(),
                jwks_max_age: None,
                jwks: Behaviour::Normal,
                gateway: Behaviour::Normal,
                vendor_auth: Behaviour::Normal,
                entitlements_behaviour: Behaviour::Normal,
                entitlements: default_entitlements(),
                entitlements_offset: 1,
                rate_limited: 0,
                rate_limit_reset: Duration::ZERO,
                vendor_lifetime: Duration::from_secs(3600),
                vendor_tokens: HashMap::new(),
                access_tokens: HashMap::new(),
                access_tokens_disabled: false,
                users: HashMap::new(),
                permissions: Vec::new(),
                categories: Vec::new(),
                roles: Vec::new(),
                ids: 0,
            }),
            login: Mutex::new(LoginState::new()),
            directory: Mutex::new(Directory::new()),
            counters: Default::default(),
            refused_vendor_tokens: AtomicUsize::new(0),
        });
        let (tx, rx) = oneshot::channel();
        tokio::spawn(serve(listener, shared.clone(), rx));
        Emulator { shared, addr, shutdown: Some(tx) }
    }

    /// `http://127.0.0.1:PORT`: the environment's domain (issuer, JWKS host) and the gateway.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The vendor client id it accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The API key it accepts.
    pub fn api_key(&self) -> ApiKey {
        ApiKey::new(self.shared.api_key.clone())
    }

    /// A configuration pointing at the emulator: base URL, gateway, credentials, audience, and
    /// a 2 s HTTP timeout.
    pub fn config(&self) -> ConfigBuilder {
        Config::builder()
            .base_url(self.url())
            .gateway_url(self.url())
            .credentials(self.client_id(), self.api_key())
            .audiences([self.client_id()])
            .http_timeout(Duration::from_secs(2))
    }

    /// An authenticator built from [`config`](Self::config).
    pub fn authenticator(&self) -> Authenticator {
        let config = self.config().build().unwrap_or_else(|e| panic!("emulator configuration: {e}"));
        Authenticator::new(config).unwrap_or_else(|e| panic!("emulator authenticator: {e}"))
    }

    /// A token of any type; `sub` is `user-1` for user tokens, a made-up id otherwise.
    pub fn token(&self, token_type: TokenType) -> TokenBuilder {
        let sub = match token_type {
            TokenType::User => "user-1".to_owned(),
            _ => format!("{}-{:08x}", token_type.as_str(), fastrand::u32(..)),
        };
        TokenBuilder::new(self.shared.clone(), &self.shared.url, &self.shared.client_id, token_type, sub)
    }

    /// A user token (`userToken`) for `user-1` of `tenant-1`, no roles, no permissions.
    pub fn user_token(&self) -> TokenBuilder {
        self.token(TokenType::User)
    }

    /// Registers an access token (`TenantAccess` or `UserAccess`) with these rights and mints
    /// its JWT, whose own roles and permissions are Frontegg's placeholders.
    pub fn create_access_token(
        &self,
        token_type: TokenType,
        tenant_id: &str,
        roles: &[&str],
        permissions: &[&str],
    ) -> AccessToken {
        let user = token_type == TokenType::UserAccess;
        let id = {
            let mut s = self.shared.state();
            let id = next_id(&mut s, "access-token");
            s.access_tokens.insert(
                id.clone(),
                AccessRecord {
                    user,
                    tenant_id: tenant_id.to_owned(),
                    user_id: user.then(|| "user-1".to_owned()),
                    roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                    permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                    active: true,
                },
            );
            id
        };
        let kind = if user { TokenType::UserAccess } else { TokenType::TenantAccess };
        let token = TokenBuilder::new(self.shared.clone(), &self.shared.url, &self.shared.client_id, kind, id.clone())
            .tenant(tenant_id)
            .sign();
        AccessToken { id, token }
    }

    /// Revokes an access token: its lookups answer 404 from now on.
    pub fn revoke_access_token(&self, id: &str) {
        if let Some(record) = self.shared.state().access_tokens.get_mut(id) {
            record.active = false;
        }
    }

    /// Changes an access token's rights.
    pub fn set_access_token_rights(&self, id: &str, roles: &[&str], permissions: &[&str]) {
        if let Some(record) = self.shared.state().access_tokens.get_mut(id) {
            record.roles = roles.iter().map(|r| (*r).to_owned()).collect();
            record.permissions = permissions.iter().map(|p| (*p).to_owned()).collect();
        }
    }

    /// Makes every access-token lookup answer 403 "Api tokens are disabled".
    pub fn set_access_tokens_disabled(&self, disabled: bool) {
        self.shared.state().access_tokens_disabled = disabled;
    }

    /// Registers a user for `vendor-only/users/v1/{id}`.
    pub fn add_user(&self, user_id: &str, tenant_id: &str, roles: &[&str], permissions: &[&str]) {
        self.shared.state().users.insert(
            user_id.to_owned(),
            UserRecord {
                tenant_id: tenant_id.to_owned(),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
            },
        );
    }

    /// Publishes a new key and signs new tokens with it; the old keys stay published. Returns
    /// the new `kid`.
    pub fn rotate_key(&self) -> String {
        let mut s = self.shared.state();
        let index = s.next_pool;
        s.next_pool += 1;
        let new_kid = kid(index);
        s.keys.push((new_kid.clone(), pooled(index)));
        s.signer = s.keys.len() - 1;
        new_kid
    }

    /// Stops publishing every key but the current signer.
    pub fn retire_old_keys(&self) {
        let mut s = self.shared.state();
        let signer = s.keys[s.signer].clone();
        s.keys = vec![signer];
        s.signer = 0;
    }

    /// The `kid` of the current signing key.
    pub fn signing_kid(&self) -> String {
        self.shared.signer().0
    }

    /// Adds entries to the JWKS beside the real keys (EC, `oct`, `enc`, broken...).
    pub fn add_jwks_entries(&self, entries: Vec<Value>) {
        self.shared.state().extra_jwks.extend(entries);
    }

    /// The `Cache-Control: max-age` of the JWKS answer (none by default).
    pub fn set_jwks_max_age(&self, seconds: Option<u64>) {
        self.shared.state().jwks_max_age = seconds;
    }

    /// How a surface answers from now on.
    pub fn set_behaviour(&self, surface: Surface, behaviour: Behaviour) {
        let mut s = self.shared.state();
        match surface {
            Surface::Jwks => s.jwks = behaviour,
            Surface::Gateway => s.gateway = behaviour,
            Surface::VendorAuth => s.vendor_auth = behaviour,
            Surface::Entitlements => s.entitlements_behaviour = behaviour,
        }
    }

    /// Replaces the entitlements snapshot's `data` (features, featureBundles, entitlements,
    /// featureFlags), which bumps its offset. The default grants plan `b-pro` (features
    /// `beta-dashboard`, and `exports` linked to `exports.read`) to `tenant-1` for good and to
    /// `tenant-2` until 2020 (expired); `tenant-3` has nothing.
    pub fn set_entitlements(&self, data: Value) {
        let mut s = self.shared.state();
        s.entitlements = data;
        s.entitlements_offset += 1;
    }

    /// The entitlements snapshot's current offset.
    pub fn entitlements_offset(&self) -> i64 {
        self.shared.state().entitlements_offset
    }

    /// The next `calls` gateway calls answer 429 with `X-Rate-Limit-Reset` `reset_in` ahead.
    pub fn rate_limit(&self, calls: usize, reset_in: Duration) {
        let mut s = self.shared.state();
        s.rate_limited = calls;
        s.rate_limit_reset = reset_in;
    }

    /// The `expiresIn` of vendor tokens issued from now on (default one hour); expired vendor
    /// tokens are refused with 401.
    pub fn set_vendor_token_lifetime(&self, lifetime: Duration) {
        self.shared.state().vendor_lifetime = lifetime;
    }

    /// How many calls an endpoint served (refused ones included).
    pub fn calls(&self, endpoint: Endpoint) -> usize {
        self.shared.counters[slot(endpoint)].load(Ordering::SeqCst)
    }

    /// How many gateway calls were refused for a missing, unknown or expired vendor token.
    pub fn refused_vendor_tokens(&self) -> usize {
        self.shared.refused_vendor_tokens.load(Ordering::SeqCst)
    }

    /// Sets every counter back to zero.
    pub fn reset_calls(&self) {
        for counter in &self.shared.counters {
            counter.store(0, Ordering::SeqCst);
        }
    }

    /// The permissions, categories and roles it holds.
    pub fn permission_model(&self) -> (Vec<Permission>, Vec<Category>, Vec<Role>) {
        let s = self.shared.state();
        (s.permissions.clone(), s.categories.clone(), s.roles.clone())
    }
}

fn kid(index: usize) -> String {
    format!("emulator-key-{index}")
}

fn next_id(s: &mut State, prefix: &str) -> String {
    s.ids += 1;
    format!("{prefix}-{}-{:06x}", s.ids, fastrand::u32(..0xFFFFFF))
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: oneshot::Receiver<()>) {
    // Dropping the set aborts the connections: nothing outlives the emulator.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(shared, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Answer {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return error(StatusCode::BAD_REQUEST, "unreadable body"),
    };
    let path = parts.uri.path().to_owned();
    // The hosted login is the environment's domain, not the gateway: no vendor token, and the
    // surface behaviours do not apply (it has its own failure knob).
    let query = parts.uri.query().unwrap_or_default();
    let delay = hosted_login::delay(&shared, &path);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(response) = hosted_login::handle(&shared, &parts.method, &path, query, &parts.headers, &body) {
        return response;
    }
    let surface = if path == "/.well-known/jwks.json" { Surface::Jwks } else { Surface::Gateway };
    let response = answer_surface(&shared, &parts, &path, &body, surface).await;
    // Frontegg's gateway marks every answer; clients carry the id into their errors.
    if surface == Surface::Gateway { answer::traced(response) } else { response }
}

/// The JWKS or the gateway, after their behaviour, rate limit and vendor-token checks.
async fn answer_surface(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
    path: &str,
    body: &[u8],
    surface: Surface,
) -> Answer {
    let behaviour = {
        let s = shared.state();
        match surface {
            Surface::Jwks => s.jwks.clone(),
            _ if path == "/auth/vendor" && s.vendor_auth != Behaviour::Normal => s.vendor_auth.clone(),
            _ if path.starts_with("/entitlements/") && s.entitlements_behaviour != Behaviour::Normal => {
                s.entitlements_behaviour.clone()
            }
            _ => s.gateway.clone(),
        }
    };
    if let Some(endpoint) = endpoint_of(&parts.method, path) {
        shared.count(endpoint);
    }
    match behaviour {
        Behaviour::Normal => {}
        Behaviour::Unavailable => return error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
        Behaviour::Slow(delay) => tokio::time::sleep(delay).await,
        Behaviour::Garbage => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"<html>502 Bad Gateway</html>")));
            response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/html"));
            return response;
        }
        Behaviour::Json(body) => {
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
            return response;
        }
    }
    if surface == Surface::Jwks {
        return jwks(shared);
    }
    {
        let mut s = shared.state();
        if s.rate_limited > 0 {
            s.rate_limited -= 1;
            let reset = SystemTime::now() + s.rate_limit_reset;
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            if let Ok(value) = humantime::format_rfc3339_millis(reset).to_string().parse() {
                response.headers_mut().insert("x-rate-limit-reset", value);
            }
            return response;
        }
    }
    if parts.method == Method::POST && path == "/auth/vendor" {
        return vendor_auth(shared, body);
    }
    // Each segment decoded on its own, so that an id `a/b` sent as `a%2Fb` stays one segment.
    let decoded: Result<Vec<_>, _> =
        path.trim_matches('/').split('/').map(|segment| percent_decode_str(segment).decode_utf8()).collect();
    let Ok(decoded) = decoded else {
        return error(StatusCode::BAD_REQUEST, "the path is not UTF-8");
    };
    let segments: Vec<&str> = decoded.iter().map(AsRef::as_ref).collect();
    // The token exchange is the environment's domain: clients call it without a vendor token.
    if let Some(response) = directory::exchange(shared, &parts.method, &segments, body) {
        return response;
    }
    if !vendor_token_valid(shared, &parts.headers) {
        shared.refused_vendor_tokens.fetch_add(1, Ordering::SeqCst);
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let query = parts.uri.query().unwrap_or_default();
    route(shared, &parts.method, &segments, body, query, &parts.headers)
}

fn endpoint_of(method: &Method, path: &str) -> Option<Endpoint> {
    if path == "/.well-known/jwks.json" {
        Some(Endpoint::Jwks)
    } else if path == "/auth/vendor" && method == Method::POST {
        Some(Endpoint::VendorAuth)
    } else if path == "/identity/resources/configurations/v1" {
        Some(Endpoint::Configuration)
    } else if path.starts_with("/identity/resources/vendor-only/") && path.contains("/access-tokens/v1/") {
        Some(Endpoint::AccessTokenLookup)
    } else if path.starts_with("/identity/resources/vendor-only/users/v1/") {
        Some(Endpoint::UserLookup)
    } else if path == "/entitlements/api/v1/vendor-entitlements" {
        Some(Endpoint::EntitlementsSnapshot)
    } else if path == "/entitlements/api/v1/vendor-entitlements-snapshot-offset" {
        Some(Endpoint::EntitlementsOffset)
    } else if path.starts_with("/identity/resources/permissions/") || path.starts_with("/identity/resources/roles/") {
        Some(Endpoint::Management)
    } else if directory::is_exchange(&directory::raw_segments(path)) {
        Some(Endpoint::TokenExchange)
    } else if directory::is_directory(&directory::raw_segments(path)) {
        Some(Endpoint::Directory)
    } else {
        None
    }
}

/// The snapshot `data` the emulator starts with; see [`Emulator::set_entitlements`].
fn default_entitlements() -> Value {
    json!({
        "features": [["f-beta", "beta-dashboard", null], ["f-exports", "exports", ["exports.read"]]],
        "featureBundles": [["b-pro", ["f-beta", "f-exports"], "false", []]],
        "entitlements": [["b-pro", "tenant-1", null, null], ["b-pro", "tenant-2", null, "2020-01-01T00:00:00Z"]],
        "featureFlags": []
    })
}

fn jwks(shared: &Shared) -> Answer {
    let s = shared.state();
    let mut keys: Vec<Value> = s
        .keys
        .iter()
        .map(|(kid, key)| json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": key.n, "e": key.e}))
        .collect();
    keys.extend(s.extra_jwks.iter().cloned());
    let mut response = answer::json(StatusCode::OK, json!({ "keys": keys }));
    if let Some(age) = s.jwks_max_age
        && let Ok(value) = format!("public, max-age={age}").parse()
    {
        response.headers_mut().insert(http::header::CACHE_CONTROL, value);
    }
    response
}

fn vendor_auth(shared: &Shared, body: &[u8]) -> Answer {
    let Ok(credentials) = serde_json::from_slice::<Value>(body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid body");
    };
    let valid = credentials["clientId"] == json!(shared.client_id) && credentials["secret"] == json!(shared.api_key);
    if !valid {
        return error(StatusCode::UNAUTHORIZED, "Invalid authentication");
    }
    let mut s = shared.state();
    let lifetime = s.vendor_lifetime;
    let token = format!("vendor-token-{:016x}", fastrand::u64(..));
    s.vendor_tokens.insert(token.clone(), Instant::now() + lifetime);
    answer::json(StatusCode::OK, json!({"token": token, "expiresIn": lifetime.as_secs_f64()}))
}

fn vendor_token_valid(shared: &Shared, headers: &http::HeaderMap) -> bool {
    let token = headers.get("x-access-token").and_then(|v| v.to_str().ok()).or_else(|| {
        headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    });
    let Some(token) = token else { return false };
    shared.state().vendor_tokens.get(token).is_some_and(|expiry| Instant::now() < *expiry)
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    serde_json::from_slice(body).map_err(|e| error(StatusCode::BAD_REQUEST, &format!("Invalid body: {e}")))
}

fn to_json<T: serde::Serialize>(status: StatusCode, value: &T) -> Answer {
    answer::json(status, serde_json::to_value(value).unwrap_or(Value::Null))
}

fn now_text() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn route(
    shared: &Arc<Shared>,
    method: &Method,
    segments: &[&str],
    body: &[u8],
    query: &str,
    headers: &http::HeaderMap,
) -> Answer {
    let tenant = headers.get("frontegg-tenant-id").and_then(|v| v.to_str().ok());
    let result = match (method.as_str(), segments) {
        ("GET", ["vendors", "base-url"]) => Ok(answer::json(StatusCode::OK, json!({"baseURL": shared.url}))),
        ("GET", ["identity", "resources", "configurations", "v1"]) => {
            let (_, key) = shared.signer();
            Ok(answer::json(
                StatusCode::OK,
                json!({"publicKey": key.pem, "jwtAlgorithm": "RS256", "jwtSecret": "emulator-jwt-secret-never-log", "defaultTokenExpiration": 86400}),
            ))
        }
        (
            "GET",
            ["identity", "resources", "vendor-only", owner @ ("tenants" | "users"), "access-tokens", "v1", "active"],
        ) => {
            let s = shared.state();
            let user = *owner == "users";
            let ids: Vec<&String> =
                s.access_tokens.iter().filter(|(_, r)| r.active && r.user == user).map(|(id, _)| id).collect();
            Ok(answer::json(StatusCode::OK, json!(ids)))
        }
        ("GET", ["identity", "resources", "vendor-only", owner @ ("tenants" | "users"), "access-tokens", "v1", id]) => {
            Ok(access_token_lookup(shared, *owner == "users", id))
        }
        ("GET", ["identity", "resources", "vendor-only", "users", "v1", id]) => Ok(user_lookup(shared, id)),
        (_, ["identity", "resources", "permissions", "v1", rest @ ..]) => permissions(shared, method, rest, body),
        (_, ["identity", "resources", "roles", "v1", rest @ ..]) => roles(shared, method, rest, body, tenant),
        ("GET", ["identity", "resources", "roles", "v2"]) => Ok(roles_page(shared, query)),
        ("GET", ["entitlements", "api", "v1", "vendor-entitlements"]) => {
            let s = shared.state();
            Ok(answer::json(StatusCode::OK, json!({"snapshotOffset": s.entitlements_offset, "data": s.entitlements})))
        }
        ("GET", ["entitlements", "api", "v1", "vendor-entitlements-snapshot-offset"]) => {
            Ok(answer::json(StatusCode::OK, json!({"snapshotOffset": shared.state().entitlements_offset})))
        }
        _ => directory::handle(shared, method, segments, query, headers, body)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "Not found")),
    };
    result.unwrap_or_else(|refusal| refusal)
}

fn access_token_lookup(shared: &Shared, user: bool, id: &str) -> Answer {
    let s = shared.state();
    if s.access_tokens_disabled {
        return error(StatusCode::FORBIDDEN, "Api tokens are disabled");
    }
    match s.access_tokens.get(id) {
        Some(r) if r.active && r.user == user => {
            let mut body = json!({"id": id, "tenantId": r.tenant_id, "roles": r.roles, "permissions": r.permissions});
            if let (Some(user_id), Some(obj)) = (&r.user_id, body.as_object_mut()) {
                obj.insert("userId".into(), json!(user_id));
            }
            answer::json(StatusCode::OK, body)
        }
        _ => error(StatusCode::NOT_FOUND, "Access token not found"),
    }
}

fn user_lookup(shared: &Shared, id: &str) -> Answer {
    // A user of the management API first; before the main lock, which the directory takes
    // after its own.
    if let Some(found) = directory::user_lookup(shared, id) {
        return found;
    }
    let s = shared.state();
    match s.users.get(id) {
        Some(u) => {
            let roles: Vec<Value> =
                u.roles.iter().map(|k| json!({"id": format!("role-{k}"), "key": k, "name": k})).collect();
            let permissions: Vec<Value> =
                u.permissions.iter().map(|k| json!({"id": format!("perm-{k}"), "key": k, "name": k})).collect();
            answer::json(
                StatusCode::OK,
                json!({"id": id, "email": format!("{id}@example.com"), "tenantId": u.tenant_id, "roles": roles,
                       "permissions": permissions, "tenants": [{"tenantId": u.tenant_id, "roles": roles}]}),
            )
        }
        None => error(StatusCode::NOT_FOUND, "User not found"),
    }
}

fn permissions(shared: &Shared, method: &Method, rest: &[&str], body: &[u8]) -> Result<Answer, Answer> {
    let mut s = shared.state();
    match (method.as_str(), rest) {
        ("GET", []) => Ok(to_json(StatusCode::OK, &s.permissions)),
        ("POST", []) => {
            let new: Vec<NewPermission> = parse(body)?;
            let mut created = Vec::new();
            for p in new {
                if p.key.is_empty() || p.name.is_empty() {
                    return Err(error(StatusCode::BAD_REQUEST, "key and name are required"));
                }
                if s.permissions.iter().any(|e| e.key == p.key) {
                    return Err(error(StatusCode::CONFLICT, &format!("Permission with key {} already exists", p.key)));
                }
                let id = next_id(&mut s, "permission");
                let permission = Permission {
                    id,
                    key: p.key,
                    name: p.name,
                    description: p.description,
                    created_at: Some(now_text()),
                    updated_at: Some(now_text()),
                    role_ids: Vec::new(),
                    category_id: p.category_id,
                    fe_permission: false,
                };
                s.permissions.push(permission.clone());
                created.push(permission);
            }
            Ok(to_json(StatusCode::CREATED, &created))
        }
        ("GET", ["categories"]) => Ok(to_json(StatusCode::OK, &s.categories)),
        ("POST", ["categories"]) => {
            let new: NewCategory = parse(body)?;
            let id = match new.id {
                Some(id) => id,
                None => next_id(&mut s, "category"),
            };
            if s.categories.iter().any(|c| c.id == id) {
                return Err(error(StatusCode::CONFLICT, "Category already exists"));
            }
            let category = Category {
                id,
                name: new.name,
                description: new.description,
                created_at: Some(now_text()),
                fe_category: false,
            };
            s.categories.push(category.clone());
            Ok(to_json(StatusCode::CREATED, &category))
        }
        ("PATCH", ["categories", id]) => {
            let update: CategoryUpdate = parse(body)?;
            let category = s
                .categories
                .iter_mut()
                .find(|c| c.id == *id)
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Category not found"))?;
            if let Some(name) = update.name {
                category.name = name;
            }
            if update.description.is_some() {
                category.description = update.description;
            }
            Ok(to_json(StatusCode::OK, &*category))
        }
        ("DELETE", ["categories", id]) => {
            let before = s.categories.len();
            s.categories.retain(|c| c.id != *id);
            if s.categories.len() == before {
                return Err(error(StatusCode::NOT_FOUND, "Category not found"));
            }
            Ok(answer::json(StatusCode::OK, json!({})))
        }
        ("PUT", ["classification"]) => {
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Body {
                permission_ids: Vec<String>,
                #[serde(rename = "type")]
                _kind: crate::api::AssignmentType,
            }
            let b: Body = parse(body)?;
            if b.permission_ids.iter().any(|id| !s.permissions.iter().any(|p| &p.id == id)) {
                return Err(error(StatusCode::NOT_FOUND, "Permission not found"));
            }
            Ok(answer::json(StatusCode::OK, json!({})))
        }
        ("PATCH", [id]) => {
            let update: PermissionUpdate = parse(body)?;
            let p = s
                .permissions
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Permission not found"))?;
            if let Some(key) = update.key {
                p.key = key;
            }
            if let Some(name) = update.name {
                p.name = name;
            }
            if update.description.is_some() {
                p.description = update.description;
            }
            if update.category_id.is_some() {
                p.category_id = update.category_id;
            }
            p.updated_at = Some(now_text());
            Ok(to_json(StatusCode::OK, &*p))
        }
        ("DELETE", [id]) => {
            let before = s.permissions.len();
            s.permissions.retain(|p| p.id != *id);
            if s.permissions.len() == before {
                return Err(error(StatusCode::NOT_FOUND, "Permission not found"));
            }
            for role in &mut s.roles {
                role.permissions.retain(|p| p != id);
            }
            Ok(answer::empty(StatusCode::NO_CONTENT))
        }
        ("PUT", [id, "roles"]) => {
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Body {
                role_ids: Vec<String>,
            }
            let b: Body = parse(body)?;
            if !s.permissions.iter().any(|p| p.id == *id) {
                return Err(error(StatusCode::NOT_FOUND, "Permission not found"));
            }
            if b.role_ids.iter().any(|r| !s.roles.iter().any(|role| &role.id == r)) {
                return Err(error(StatusCode::NOT_FOUND, "Role not found"));
            }
            for role in &mut s.roles {
                if b.role_ids.contains(&role.id) && !role.permissions.iter().any(|p| p == id) {
                    role.permissions.push((*id).to_owned());
                }
            }
            let p = s
                .permissions
                .iter_mut()
                .find(|p| p.id == *id)
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Permission not found"))?;
            for r in b.role_ids {
                if !p.role_ids.contains(&r) {
                    p.role_ids.push(r);
                }
            }
            Ok(to_json(StatusCode::OK, &*p))
        }
        _ => Err(error(StatusCode::NOT_FOUND, "Not found")),
    }
}

fn roles(shared: &Shared, method: &Method, rest: &[&str], body: &[u8], tenant: Option<&str>) -> Result<Answer, Answer> {
    let mut s = shared.state();
    match (method.as_str(), rest) {
        ("GET", []) => {
            let visible: Vec<&Role> =
                s.roles.iter().filter(|r| r.tenant_id.is_none() || r.tenant_id.as_deref() == tenant).collect();
            Ok(to_json(StatusCode::OK, &visible))
        }
        ("POST", []) => {
            let new: Vec<NewRole> = parse(body)?;
            let mut created = Vec::new();
            for r in new {
                if s.roles.iter().any(|e| e.key == r.key) {
                    return Err(error(StatusCode::CONFLICT, &format!("Role with key {} already exists", r.key)));
                }
                let role = Role {
                    id: next_id(&mut s, "role"),
                    key: r.key,
                    name: r.name,
                    vendor_id: Some("emulator-vendor".into()),
                    tenant_id: tenant.map(str::to_owned),
                    description: r.description,
                    is_default: r.is_default.unwrap_or(false),
                    first_user_role: false,
                    level: Some(r.level),
                    created_at: Some(now_text()),
                    updated_at: Some(now_text()),
                    permissions: Vec::new(),
                };
                s.roles.push(role.clone());
                created.push(role);
            }
            Ok(to_json(StatusCode::CREATED, &created))
        }
        ("PATCH", [id]) => {
            let update: RoleUpdate = parse(body)?;
            let role = s
                .roles
                .iter_mut()
                .find(|r| r.id == *id)
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Role not found"))?;
            if let Some(key) = update.key {
                role.key = key;
            }
            if let Some(name) = update.name {
                role.name = name;
            }
            if let Some(level) = update.level {
                role.level = Some(level);
            }
            if update.description.is_some() {
                role.description = update.description;
            }
            if let Some(d) = update.is_default {
                role.is_default = d;
            }
            role.updated_at = Some(now_text());
            Ok(to_json(StatusCode::OK, &*role))
        }
        ("DELETE", [id]) => {
            let before = s.roles.len();
            s.roles.retain(|r| r.id != *id);
            if s.roles.len() == before {
                return Err(error(StatusCode::NOT_FOUND, "Role not found"));
            }
            for p in &mut s.permissions {
                p.role_ids.retain(|r| r != id);
            }
            Ok(answer::empty(StatusCode::NO_CONTENT))
        }
        ("PUT", [id, "permissions"]) => {
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Body {
                permission_ids: Vec<String>,
            }
            let b: Body = parse(body)?;
            if b.permission_ids.iter().any(|p| !s.permissions.iter().any(|e| &e.id == p)) {
                return Err(error(StatusCode::NOT_FOUND, "Permission not found"));
            }
            if !s.roles.iter().any(|r| r.id == *id) {
                return Err(error(StatusCode::NOT_FOUND, "Role not found"));
            }
            for p in &mut s.permissions {
                p.role_ids.retain(|r| r != id);
                if b.permission_ids.contains(&p.id) {
                    p.role_ids.push((*id).to_owned());
                }
            }
            let role = s
                .roles
                .iter_mut()
                .find(|r| r.id == *id)
                .ok_or_else(|| error(StatusCode::NOT_FOUND, "Role not found"))?;
            role.permissions = b.permission_ids;
            Ok(to_json(StatusCode::OK, &*role))
        }
        _ => Err(error(StatusCode::NOT_FOUND, "Not found")),
    }
}

fn roles_page(shared: &Shared, query: &str) -> Answer {
    let mut limit = 50usize;
    let mut offset = 0usize;
    let mut filter: Option<String> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "_limit" => limit = value.parse().unwrap_or(limit).max(1),
            "_offset" => offset = value.parse().unwrap_or(0),
            "_filter" => filter = Some(value.replace('+', " ")),
            _ => {}
        }
    }
    let s = shared.state();
    let matching: Vec<&Role> =
        s.roles.iter().filter(|r| filter.as_deref().is_none_or(|f| r.key.contains(f) || r.name.contains(f))).collect();
    let total = matching.len();
    // `_offset` counts pages, as Frontegg's v2 listings do.
    let items: Vec<&Role> = matching.into_iter().skip(offset.saturating_mul(limit)).take(limit).collect();
    answer::json(
        StatusCode::OK,
        json!({"items": items, "_links": {}, "_metadata": {"totalItems": total, "totalPages": total.div_ceil(limit)}}),
    )
}
