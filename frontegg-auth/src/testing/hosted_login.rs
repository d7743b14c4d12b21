//! Frontegg's hosted login in the emulator: the OAuth 2.0 authorization-code flow with PKCE,
//! the refresh grant with rotation, and the logout redirect.
//!
//! Every endpoint answers under both spellings Frontegg serves, bare and `/frontegg`-prefixed:
//!
//! | Endpoint | Answer | Counted as |
//! |---|---|---|
//! | `GET /oauth/authorize` | 200 the `Sign in` page, or 400 JSON for a request that cannot be redirected | [`Endpoint::Authorize`] |
//! | `POST /oauth/authorize` | the page's form: 303 to `redirect_uri?code=…&state=…` | not counted |
//! | `POST /oauth/token` | `authorization_code` and `refresh_token` grants, form or JSON body | [`Endpoint::TokenCode`], [`Endpoint::TokenRefresh`] |
//! | `GET /oauth/logout` | 302 to `post_logout_redirect_uri`, or 200 `Signed out` | [`Endpoint::Logout`] |
//!
//! The sign-in page stands in for Frontegg's login box: one form per login user and per choice
//! of MFA, so that a browser test clicks `#login-user-1` or `#login-user-1-mfa` and a plain HTTP
//! test posts the same form. These endpoints ignore [`Surface`](super::Surface) behaviours, rate
//! limits and vendor tokens (they are the environment's domain, not the gateway); their failure
//! knobs are [`Emulator::set_token_endpoint_failure`](super::Emulator::set_token_endpoint_failure)
//! and [`Emulator::set_token_endpoint_answer`](super::Emulator::set_token_endpoint_answer).

// Handlers return `Result<Answer, Answer>` so that `?` turns a refusal into the answer itself;
// the size of the error variant does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;
use serde_json::{Map, Value, json};

use super::answer::{self, Answer};
use super::endpoint::Endpoint;
use super::keys::Signer;
use super::mint::TokenBuilder;
use crate::identity::TokenType;

/// How long a code lives between the redirect and its exchange.
const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long the sign-in page stays usable after it was served.
const PAGE_LIFETIME: Duration = Duration::from_secs(600);
/// The lifetime of login tokens until [`Emulator::set_login_token_lifetime`](super::Emulator::set_login_token_lifetime) changes it.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// A user who can sign in through the emulator's hosted login page.
///
/// The fields are public: build one with a struct literal or with [`LoginUser::new`] and the
/// builder methods, then register it with [`Emulator::add_login_user`](super::Emulator::add_login_user). The emulator starts
/// with two ([`LoginUser::alice`] and [`LoginUser::admin`]).
///
/// ```
/// use frontegg_auth::testing::LoginUser;
/// let bob = LoginUser::new("user-2", "bob@example.com").name("Bob").tenant("tenant-2").roles(["viewer"]);
/// assert_eq!(bob.permissions, Vec::<String>::new());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUser {
    /// The user id: `sub` of the tokens, and the `{id}` of the page's button ids.
    pub id: String,
    /// `email` of the tokens, shown on the buttons.
    pub email: String,
    /// `name` of the tokens.
    pub name: String,
    /// `tenantId` (and the only entry of `tenantIds`) of the access token.
    pub tenant_id: String,
    /// `roles` of the access token.
    pub roles: Vec<String>,
    /// `permissions` of the access token.
    pub permissions: Vec<String>,
}

impl LoginUser {
    /// A user of `tenant-1` named after the email, with no roles and no permissions.
    pub fn new(id: &str, email: &str) -> LoginUser {
        LoginUser {
            id: id.to_owned(),
            email: email.to_owned(),
            name: email.to_owned(),
            tenant_id: "tenant-1".to_owned(),
            roles: Vec::new(),
            permissions: Vec::new(),
        }
    }

    /// The first default user: `user-1`, `alice@example.com`, `Alice Example`, tenant
    /// `tenant-1`, roles `viewer`, permissions `reports.read` (the `sub` and tenant of
    /// [`Emulator::user_token`](super::Emulator::user_token)).
    pub fn alice() -> LoginUser {
        LoginUser::new("user-1", "alice@example.com")
            .name("Alice Example")
            .roles(["viewer"])
            .permissions(["reports.read"])
    }

    /// The second default user: `admin-1`, `admin@example.com`, `Ada Admin`, tenant `tenant-1`,
    /// roles `admin`, permissions `reports.read` and `reports.write`.
    pub fn admin() -> LoginUser {
        LoginUser::new("admin-1", "admin@example.com")
            .name("Ada Admin")
            .roles(["admin"])
            .permissions(["reports.read", "reports.write"])
    }

    /// Sets the display name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// Sets the tenant.
    pub fn tenant(mut self, tenant_id: &str) -> Self {
        self.tenant_id = tenant_id.to_owned();
        self
    }

    /// Sets the roles.
    pub fn roles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the permissions.
    pub fn permissions<I: IntoIterator<Item = S>, S: Into<String>>(mut self, permissions: I) -> Self {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }
}

/// What the last call to `/oauth/token` with a readable body sent, secrets aside; see
/// [`Emulator::last_token_request`](super::Emulator::last_token_request).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRequest {
    /// The path called: `/oauth/token` or `/frontegg/oauth/token`.
    pub path: String,
    /// The `grant_type` sent, if any.
    pub grant_type: Option<String>,
    /// How the client authenticated.
    pub client_authentication: ClientAuthentication,
    /// The `frontegg-requested-application-id` header, if any.
    pub requested_application_id: Option<String>,
}

/// What the token endpoint does with refresh tokens, since whether Frontegg rotates them is
/// unconfirmed; see [`Emulator::set_refresh_tokens`](super::Emulator::set_refresh_tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RefreshTokens {
    /// Every refresh answers a new refresh token and refuses the used one from then on.
    #[default]
    Rotated,
    /// A refresh answers the refresh token it was given, which stays valid.
    Repeated,
    /// A refresh answers no refresh token; the one it was given stays valid.
    Kept,
    /// No answer carries a refresh token: a session cannot outlive its first access token.
    /// Refresh tokens issued before still refresh, as with [`Kept`](Self::Kept).
    NotIssued,
}

/// How a call to `/oauth/token` authenticated its client; see
/// [`Emulator::last_client_authentication`](super::Emulator::last_client_authentication).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAuthentication {
    /// `Authorization: Basic base64(client_id:api_key)`.
    Basic,
    /// `client_id` and `client_secret` in the body.
    Body,
    /// Neither: a public client, allowed only for a code issued with a PKCE challenge.
    None,
}

/// A served sign-in page waiting for its form, under an opaque `request` id.
struct PendingLogin {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    challenge: Option<String>,
    expires: Instant,
}

/// An issued code and everything it is bound to.
struct IssuedCode {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    nonce: Option<String>,
    user_id: String,
    mfa: bool,
    sid: String,
    expires: Instant,
}

/// What a refresh token stands for: a login session.
#[derive(Clone)]
struct Session {
    user_id: String,
    sid: String,
}

/// The hosted login's state; secrets are map keys or in `secrets`, and it is not `Debug`.
pub(super) struct LoginState {
    pub(super) users: Vec<LoginUser>,
    pub(super) application_id: Option<String>,
    pub(super) token_lifetime: Duration,
    pub(super) id_token_nonce: Option<String>,
    pub(super) id_token_issued: bool,
    pub(super) forced_token_answer: Option<(u16, String)>,
    pub(super) refresh_tokens_mode: RefreshTokens,
    pub(super) token_delay: Duration,
    pub(super) id_token_overrides: Vec<(String, Value)>,
    pub(super) last_token_request: Option<TokenRequest>,
    /// Every refresh token issued and code verifier received, for leak tests.
    pub(super) secrets: Vec<String>,
    pending: HashMap<String, PendingLogin>,
    codes: HashMap<String, IssuedCode>,
    refresh_tokens: HashMap<String, Session>,
}

impl LoginState {
    /// The state a new emulator starts with: the two default users, no codes, no sessions.
    pub(super) fn new() -> LoginState {
        LoginState {
            users: vec![LoginUser::alice(), LoginUser::admin()],
            application_id: None,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            id_token_nonce: None,
            id_token_issued: true,
            forced_token_answer: None,
            refresh_tokens_mode: RefreshTokens::Rotated,
            token_delay: Duration::ZERO,
            id_token_overrides: Vec::new(),
            last_token_request: None,
            secrets: Vec::new(),
            pending: HashMap::new(),
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
        }
    }

    /// Refuses every refresh token issued so far.
    pub(super) fn revoke_refresh_tokens(&mut self) {
        self.refresh_tokens.clear();
    }

    /// Keeps a secret for [`Emulator::token_endpoint_secrets`](super::Emulator::token_endpoint_secrets) (a bounded list).
    fn remember_secret(&mut self, secret: &str) {
        if self.secrets.len() < 10_000 {
            self.secrets.push(secret.to_owned());
        }
    }

    fn user(&self, id: &str) -> Option<&LoginUser> {
        self.users.iter().find(|u| u.id == id)
    }
}

/// What the hosted login's handlers need of the emulator they run in (its shared state
/// implements it), so that this module needs nothing of the emulator's own.
pub(super) trait LoginHost: Signer {
    /// The environment's domain.
    fn url(&self) -> &str;
    /// The client id the token endpoint accepts.
    fn client_id(&self) -> &str;
    /// The API key the token endpoint accepts.
    fn api_key(&self) -> &str;
    /// The hosted login's state.
    fn login_state(&self) -> &Mutex<LoginState>;
    /// Counts a call.
    fn count(&self, endpoint: Endpoint);

    /// The state, whatever a panicking holder left in it.
    fn login(&self) -> MutexGuard<'_, LoginState> {
        self.login_state().lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Answers a hosted-login path (`/oauth/...` or `/frontegg/oauth/...`); `None` for any other path.
pub(super) fn handle(
    shared: &Arc<impl LoginHost + 'static>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Answer> {
    let (prefix, path) = match path.strip_prefix("/frontegg") {
        Some(rest) if rest.starts_with("/oauth/") => ("/frontegg", rest),
        _ => ("", path),
    };
    if !path.starts_with("/oauth/") {
        return None;
    }
    let result = match (method, path) {
        (&Method::GET, "/oauth/authorize") => {
            shared.count(Endpoint::Authorize);
            authorize_page(shared.as_ref(), prefix, query)
        }
        (&Method::POST, "/oauth/authorize") => authorize_submit(shared.as_ref(), body),
        (&Method::POST, "/oauth/token") => token(shared, &format!("{prefix}{path}"), headers, body),
        (&Method::GET, "/oauth/logout") => {
            shared.count(Endpoint::Logout);
            logout(query)
        }
        (_, "/oauth/authorize" | "/oauth/token" | "/oauth/logout") => {
            Err(oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "method not allowed"))
        }
        _ => Err(oauth_error(StatusCode::NOT_FOUND, "not_found", "no such hosted-login endpoint")),
    };
    Some(result.unwrap_or_else(|refusal| refusal))
}

fn authorize_page(shared: &impl LoginHost, prefix: &str, query: &str) -> Result<Answer, Answer> {
    let request = begin(shared, query)?;
    Ok(sign_in_page(&shared.login().users, prefix, &request))
}

/// What `GET /oauth/authorize` checks and keeps: the id of the sign-in request it opens.
fn begin(shared: &impl LoginHost, query: &str) -> Result<String, Answer> {
    let p = params(query.as_bytes())?;
    match p.get("response_type").map(String::as_str) {
        Some("code") => {}
        Some(_) => return Err(bad_request("unsupported_response_type", "only response_type=code is supported")),
        None => return Err(bad_request("invalid_request", "response_type is required")),
    }
    let client_id = p.get("client_id").ok_or_else(|| bad_request("invalid_request", "client_id is required"))?;
    let redirect_uri =
        p.get("redirect_uri").ok_or_else(|| bad_request("invalid_request", "redirect_uri is required"))?;
    if !is_redirect_uri(redirect_uri) {
        return Err(bad_request("invalid_request", "redirect_uri must be an absolute http(s) URL without a fragment"));
    }
    // A challenge without a method is S256: Frontegg's own samples send none and work.
    let challenge = match (p.get("code_challenge"), p.get("code_challenge_method").map(String::as_str)) {
        (Some(challenge), None | Some("S256")) => Some(challenge.clone()),
        (Some(_), Some(_)) => return Err(bad_request("invalid_request", "code_challenge_method must be S256")),
        (None, Some(_)) => return Err(bad_request("invalid_request", "code_challenge_method without code_challenge")),
        (None, None) => None,
    };
    let mut login = shared.login();
    if *client_id != shared.client_id() && login.application_id.as_ref() != Some(client_id) {
        return Err(bad_request("unauthorized_client", "unknown client_id"));
    }
    let now = Instant::now();
    login.pending.retain(|_, pending| pending.expires > now);
    let request = random_token()?;
    login.pending.insert(
        request.clone(),
        PendingLogin {
            client_id: client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            state: p.get("state").cloned(),
            nonce: p.get("nonce").cloned(),
            challenge,
            expires: now + PAGE_LIFETIME,
        },
    );
    Ok(request)
}

/// The whole sign-in page's work without the page: `authorize_query` checked as the page's
/// `GET` would, then `user` chosen: where the browser goes next (`redirect_uri?code=..`).
pub(super) fn sign_in(shared: &impl LoginHost, authorize_query: &str, user: &str, mfa: bool) -> Result<String, String> {
    let refused = |answer: Answer| format!("the emulator refused the sign-in ({})", answer.status());
    let request = begin(shared, authorize_query).map_err(refused)?;
    approve(shared, &request, user, mfa).map_err(refused)
}

/// The page: per user, one form without MFA and one with, each a single submit button.
fn sign_in_page(users: &[LoginUser], prefix: &str, request: &str) -> Answer {
    let action = escape(&format!("{prefix}/oauth/authorize"));
    let request = escape(request);
    let mut page = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Sign in</title></head>\n<body>\n\
         <h1>Sign in</h1>\n<p>Frontegg emulator: choose who signs in.</p>\n",
    );
    for user in users {
        let (id, email) = (escape(&user.id), escape(&user.email));
        for (mfa, suffix, label) in [(false, "", ""), (true, "-mfa", " with MFA")] {
            // Writing to a String cannot fail.
            let _ = writeln!(
                page,
                "<form method=\"post\" action=\"{action}\">\
                 <input type=\"hidden\" name=\"request\" value=\"{request}\">\
                 <input type=\"hidden\" name=\"user\" value=\"{id}\">\
                 <input type=\"hidden\" name=\"mfa\" value=\"{mfa}\">\
                 <button type=\"submit\" id=\"login-{id}{suffix}\">Sign in as {email}{label}</button></form>"
            );
        }
    }
    page.push_str("</body>\n</html>\n");
    html(StatusCode::OK, page)
}

fn authorize_submit(shared: &impl LoginHost, body: &[u8]) -> Result<Answer, Answer> {
    let p = params(body)?;
    let request = p.get("request").ok_or_else(|| bad_request("invalid_request", "request is required"))?;
    let user_id = p.get("user").ok_or_else(|| bad_request("invalid_request", "user is required"))?;
    let mfa = match p.get("mfa").map(String::as_str) {
        None | Some("false" | "0" | "off") => false,
        Some("true" | "1" | "on") => true,
        Some(_) => return Err(bad_request("invalid_request", "mfa must be true or false")),
    };
    Ok(redirect(StatusCode::SEE_OTHER, &approve(shared, request, user_id, mfa)?))
}

/// `user_id` chosen on the sign-in page of `request`: a code issued, and where the browser goes.
fn approve(shared: &impl LoginHost, request: &str, user_id: &str, mfa: bool) -> Result<String, Answer> {
    let mut login = shared.login();
    let now = Instant::now();
    // The page stays usable until it expires: signing in again from it issues another code.
    let pending = login
        .pending
        .get(request)
        .filter(|pending| pending.expires > now)
        .ok_or_else(|| bad_request("invalid_request", "unknown or expired sign-in request"))?;
    if login.user(user_id).is_none() {
        return Err(bad_request("invalid_request", "unknown user"));
    }
    let mut location = url::Url::parse(&pending.redirect_uri)
        .map_err(|_| bad_request("invalid_request", "redirect_uri is not a URL"))?;
    let code = random_token()?;
    location.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = &pending.state {
        location.query_pairs_mut().append_pair("state", state);
    }
    let issued = IssuedCode {
        client_id: pending.client_id.clone(),
        redirect_uri: pending.redirect_uri.clone(),
        challenge: pending.challenge.clone(),
        nonce: pending.nonce.clone(),
        user_id: user_id.to_owned(),
        mfa,
        sid: session_id()?,
        expires: now + CODE_LIFETIME,
    };
    login.codes.retain(|_, code| code.expires > now);
    login.codes.insert(code, issued);
    Ok(location.to_string())
}

/// The client authentication of a token request, as sent.
enum Client {
    Basic(Option<(String, String)>),
    Body(Option<String>, String),
    None(Option<String>),
}

fn token(
    shared: &Arc<impl LoginHost + 'static>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Answer, Answer> {
    let parsed = token_params(headers, body);
    if let Ok(p) = &parsed {
        match p.get("grant_type").map(String::as_str) {
            Some("authorization_code") => shared.count(Endpoint::TokenCode),
            Some("refresh_token") => shared.count(Endpoint::TokenRefresh),
            _ => {}
        }
    }
    let forced = {
        let mut login = shared.login();
        if let Ok(p) = &parsed
            && let Ok(client) = client_of(headers, p)
        {
            login.last_token_request = Some(TokenRequest {
                path: path.to_owned(),
                grant_type: p.get("grant_type").cloned(),
                client_authentication: match client {
                    Client::Basic(_) => ClientAuthentication::Basic,
                    Client::Body(..) => ClientAuthentication::Body,
                    Client::None(_) => ClientAuthentication::None,
                },
                requested_application_id: headers
                    .get("frontegg-requested-application-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            });
            if let Some(verifier) = p.get("code_verifier") {
                login.remember_secret(verifier);
            }
        }
        login.forced_token_answer.clone()
    };
    // The forced answer comes before any check, so that it answers every call, malformed ones
    // included, and consumes nothing.
    if let Some((status, body)) = forced {
        return Err(forced_answer(status, body));
    }
    let p = parsed?;
    let client = client_of(headers, &p)?;
    let grant_type = p.get("grant_type").map(String::as_str);
    authenticate(shared.as_ref(), &client)?;
    match grant_type {
        Some("authorization_code") => code_grant(shared, &client, &p),
        Some("refresh_token") => {
            if let Client::None(_) = client {
                return Err(invalid_client("client authentication is required for refresh_token", false));
            }
            refresh_grant(shared, &p)
        }
        Some(_) => Err(bad_request("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")),
        None => Err(bad_request("invalid_request", "grant_type is required")),
    }
}

/// The body's parameters: JSON when the Content-Type says so, form-urlencoded otherwise.
fn token_params(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Answer> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return params(body);
    }
    let object: Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| bad_request("invalid_request", "the body is not a JSON object"))?;
    let mut p = HashMap::new();
    for (name, value) in object {
        match value {
            // An empty or null value is an omitted one (RFC 6749 §3.1).
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::String(s) => {
                p.insert(name, s);
            }
            _ => return Err(bad_request("invalid_request", &format!("{name} must be a string"))),
        }
    }
    Ok(p)
}

fn client_of(headers: &HeaderMap, p: &HashMap<String, String>) -> Result<Client, Answer> {
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, credentials) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| credentials.trim().to_owned())
    });
    match (basic, p.get("client_secret")) {
        // RFC 6749 §2.3: one authentication method per request.
        (Some(_), Some(_)) => Err(bad_request("invalid_request", "client authenticated both by Basic and in the body")),
        (Some(credentials), None) => {
            let pair = STANDARD
                .decode(credentials)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| text.split_once(':').map(|(id, secret)| (id.to_owned(), secret.to_owned())));
            Ok(Client::Basic(pair))
        }
        (None, Some(secret)) => Ok(Client::Body(p.get("client_id").cloned(), secret.clone())),
        (None, None) => Ok(Client::None(p.get("client_id").cloned())),
    }
}

/// Checks the client's pair (the environment's client id and API key); a public client may
/// only name a client id the emulator knows.
fn authenticate(shared: &impl LoginHost, client: &Client) -> Result<(), Answer> {
    let pair_ok = |id: &str, secret: &str| {
        id == shared.client_id() && verify_slices_are_equal(secret.as_bytes(), shared.api_key().as_bytes()).is_ok()
    };
    match client {
        Client::Basic(Some((id, secret))) if pair_ok(id, secret) => Ok(()),
        Client::Basic(_) => Err(invalid_client("wrong client credentials", true)),
        Client::Body(Some(id), secret) if pair_ok(id, secret) => Ok(()),
        Client::Body(..) => Err(invalid_client("wrong client credentials", false)),
        Client::None(Some(id)) => {
            let known = *id == shared.client_id() || shared.login().application_id.as_ref() == Some(id);
            if known { Ok(()) } else { Err(invalid_client("unknown client_id", false)) }
        }
        Client::None(None) => Ok(()),
    }
}

fn code_grant(
    shared: &Arc<impl LoginHost + 'static>,
    client: &Client,
    p: &HashMap<String, String>,
) -> Result<Answer, Answer> {
    let code = p.get("code").ok_or_else(|| bad_request("invalid_request", "code is required"))?;
    let (user, issued, lifetime, nonce_override, id_token_issued, mode) = {
        let mut login = shared.login();
        // The first use consumes the code, whatever its outcome: a replayed code always fails.
        let issued = login.codes.remove(code).ok_or_else(|| invalid_grant("unknown or already used code"))?;
        let user = login.user(&issued.user_id).cloned();
        (
            user,
            issued,
            login.token_lifetime,
            login.id_token_nonce.clone(),
            login.id_token_issued,
            login.refresh_tokens_mode,
        )
    };
    if issued.expires <= Instant::now() {
        return Err(invalid_grant("expired code"));
    }
    if let Client::None(client_id) = client {
        if issued.challenge.is_none() {
            return Err(invalid_client("client authentication is required for a code issued without PKCE", false));
        }
        if client_id.as_ref().is_some_and(|id| *id != issued.client_id) {
            return Err(invalid_grant("the code was issued to another client"));
        }
    }
    if p.get("redirect_uri") != Some(&issued.redirect_uri) {
        return Err(invalid_grant("redirect_uri does not match the authorize request"));
    }
    match (&issued.challenge, p.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
            if verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_err() {
                return Err(invalid_grant("code_verifier does not match code_challenge"));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
        // A verifier for a code issued without a challenge is a downgrade attempt (OAuth 2.1).
        (None, Some(_)) => return Err(invalid_grant("code_verifier given but the code has no code_challenge")),
        (None, None) => {}
    }
    let user = user.ok_or_else(|| invalid_grant("the user no longer exists"))?;
    let nonce = nonce_override.or(issued.nonce);
    let grant = Grant { user: &user, sid: &issued.sid, mfa: issued.mfa, nonce: nonce.as_deref(), lifetime };
    if mode == RefreshTokens::NotIssued {
        return Ok(token_answer(shared, &grant, id_token_issued, None));
    }
    with_new_refresh_token(
        shared,
        &grant,
        id_token_issued,
        Session { user_id: user.id.clone(), sid: issued.sid.clone() },
    )
}

fn refresh_grant(shared: &Arc<impl LoginHost + 'static>, p: &HashMap<String, String>) -> Result<Answer, Answer> {
    let used = p.get("refresh_token").ok_or_else(|| bad_request("invalid_request", "refresh_token is required"))?;
    let (session, user, lifetime, id_token_issued, mode) = {
        let mut login = shared.login();
        let mode = login.refresh_tokens_mode;
        let session = match mode {
            // Rotation: the used token is gone for good, the answer carries its successor.
            RefreshTokens::Rotated => login.refresh_tokens.remove(used),
            _ => login.refresh_tokens.get(used).cloned(),
        };
        let session = session.ok_or_else(|| invalid_grant("unknown or already used refresh token"))?;
        let user = login.user(&session.user_id).cloned();
        (session, user, login.token_lifetime, login.id_token_issued, mode)
    };
    let user = user.ok_or_else(|| invalid_grant("the user no longer exists"))?;
    // A refresh is no new authentication: no MFA claims, no nonce.
    let grant = Grant { user: &user, sid: &session.sid, mfa: false, nonce: None, lifetime };
    match mode {
        RefreshTokens::Rotated => with_new_refresh_token(shared, &grant, id_token_issued, session.clone()),
        RefreshTokens::Repeated => Ok(token_answer(shared, &grant, id_token_issued, Some(used))),
        RefreshTokens::Kept | RefreshTokens::NotIssued => Ok(token_answer(shared, &grant, id_token_issued, None)),
    }
}

/// A token answer with a new refresh token, which stands for `session` from now on.
fn with_new_refresh_token(
    shared: &Arc<impl LoginHost + 'static>,
    grant: &Grant<'_>,
    id_token_issued: bool,
    session: Session,
) -> Result<Answer, Answer> {
    let refresh_token = random_token()?;
    let answer = token_answer(shared, grant, id_token_issued, Some(&refresh_token));
    let mut login = shared.login();
    login.remember_secret(&refresh_token);
    login.refresh_tokens.insert(refresh_token, session);
    Ok(answer)
}

/// What the tokens of one answer say.
struct Grant<'a> {
    user: &'a LoginUser,
    sid: &'a str,
    mfa: bool,
    nonce: Option<&'a str>,
    lifetime: Duration,
}

fn token_answer(
    shared: &Arc<impl LoginHost + 'static>,
    grant: &Grant<'_>,
    id_token_issued: bool,
    refresh_token: Option<&str>,
) -> Answer {
    let user = grant.user;
    let mut access =
        TokenBuilder::new(shared.clone(), shared.url(), shared.client_id(), TokenType::User, user.id.clone())
            .tenant(&user.tenant_id)
            .roles(user.roles.iter().cloned())
            .permissions(user.permissions.iter().cloned())
            .claim("email", user.email.as_str())
            .claim("name", user.name.as_str())
            .claim("sid", grant.sid)
            .expires_in(grant.lifetime);
    if grant.mfa {
        access = access.stepped_up();
    }
    let mut body = json!({
        "token_type": "Bearer",
        "access_token": access.sign(),
        "expires_in": grant.lifetime.as_secs(),
    });
    if let (Some(token), Some(fields)) = (refresh_token, body.as_object_mut()) {
        fields.insert("refresh_token".to_owned(), Value::from(token));
    }
    if id_token_issued && let Some(fields) = body.as_object_mut() {
        // Same `iat` and `exp` as the access token; no `type`, no tenant, no rights.
        let mut id = TokenBuilder::new(
            shared.clone(),
            shared.url(),
            shared.client_id(),
            TokenType::Unknown(String::new()),
            user.id.clone(),
        )
        .without("type")
        .without("tenantId")
        .claim("email", user.email.as_str())
        .claim("name", user.name.as_str())
        .claim("sid", grant.sid)
        .claim("iat", access.claims().get("iat").cloned().unwrap_or(Value::Null))
        .claim("exp", access.claims().get("exp").cloned().unwrap_or(Value::Null));
        if let Some(nonce) = grant.nonce {
            id = id.claim("nonce", nonce);
        }
        if grant.mfa {
            for name in ["acr", "amr", "auth_time"] {
                id = id.claim(name, access.claims().get(name).cloned().unwrap_or(Value::Null));
            }
        }
        let overrides = shared.login().id_token_overrides.clone();
        for (name, value) in overrides {
            id = if value.is_null() { id.without(&name) } else { id.claim(&name, value) };
        }
        fields.insert("id_token".into(), json!(id.sign()));
    }
    no_store(answer::json(StatusCode::OK, body))
}

fn logout(query: &str) -> Result<Answer, Answer> {
    let p = params(query.as_bytes())?;
    let target = p.get("post_logout_redirect_uri").and_then(|uri| {
        let parsed = url::Url::parse(uri).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())?;
        // As given when it is a valid header value; otherwise its percent-encoded form.
        Some(if HeaderValue::from_str(uri).is_ok() { uri.clone() } else { parsed.to_string() })
    });
    match target {
        Some(uri) => Ok(redirect(StatusCode::FOUND, &uri)),
        None => Ok(html(
            StatusCode::OK,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Signed out</title></head>\n\
             <body><h1>Signed out</h1></body>\n</html>\n"
                .to_owned(),
        )),
    }
}

/// Query or form parameters; an empty value is an omitted one and a repeated one is refused
/// (RFC 6749 §3.1).
fn params(text: &[u8]) -> Result<HashMap<String, String>, Answer> {
    let mut p = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(text) {
        if value.is_empty() {
            continue;
        }
        if p.insert(name.to_string(), value.into_owned()).is_some() {
            return Err(bad_request("invalid_request", &format!("{name} is repeated")));
        }
    }
    Ok(p)
}

/// Where a code may be sent: an absolute http(s) URL without a fragment (RFC 6749 §3.1.2).
fn is_redirect_uri(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host() && u.fragment().is_none())
}

/// 32 bytes from the operating system's CSPRNG, base64url: 43 characters (codes, refresh
/// tokens, sign-in requests), so that a test of secrecy is not a test of `fastrand`.
fn random_token() -> Result<String, Answer> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A random UUID v4, the shape of Frontegg's `sid`.
fn session_id() -> Result<String, Answer> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Answer> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the random generator failed"))?;
    Ok(bytes)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Token answers and their errors must not be cached (RFC 6749 §5.1).
fn no_store(mut response: Answer) -> Answer {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Answer {
    no_store(answer::json(status, oauth_error_body(error, description)))
}

fn oauth_error_body(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

fn bad_request(error: &str, description: &str) -> Answer {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

fn invalid_grant(description: &str) -> Answer {
    bad_request("invalid_grant", description)
}

fn invalid_client(description: &str, basic: bool) -> Answer {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    // RFC 6749 §5.2: a client that tried Basic is told which scheme to use.
    if basic {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"emulator\""));
    }
    response
}

/// The OAuth error body [`Emulator::set_token_endpoint_failure`](super::Emulator::set_token_endpoint_failure) answers with `status`.
pub(super) fn failure_body(status: u16) -> String {
    let error = match status {
        400 => "invalid_grant",
        401 => "invalid_client",
        503 => "temporarily_unavailable",
        _ => "server_error",
    };
    oauth_error_body(error, "failure set by Emulator::set_token_endpoint_failure").to_string()
}

fn forced_answer(status: u16, body: String) -> Answer {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, "application/json", body)
}

fn html(status: StatusCode, page: String) -> Answer {
    text(status, "text/html; charset=utf-8", page)
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    no_store(response)
}

fn redirect(status: StatusCode, location: &str) -> Answer {
    let mut response = answer::empty(status);
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            no_store(response)
        }
        Err(_) => bad_request("invalid_request", "the redirect URL is not a valid header value"),
    }
}

/// How long a request to `path` waits before its answer ([`Emulator::set_token_endpoint_delay`](super::Emulator::set_token_endpoint_delay)).
pub(super) fn delay(shared: &Arc<impl LoginHost + 'static>, path: &str) -> Duration {
    if path.ends_with("/oauth/token") { shared.login().token_delay } else { Duration::ZERO }
}
