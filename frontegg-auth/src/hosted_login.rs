//! [`HostedLogin`]: Frontegg's hosted login for server-rendered apps, framework-neutral. Three
//! routes, which the adapters mount (`frontegg_axum::login_router`, `frontegg_actix::login_scope`),
//! and the session behind the cookie, which [`Admission`](crate::Admission) reads as one more
//! credential.
//!
//! # The flow
//!
//! 1. `GET {routes}/login?return_to=/path`: a PKCE verifier, a `state` and a `nonce` (32 random
//!    bytes each, from the operating system), sealed into a short-lived (10 minutes) login
//!    cookie that binds them to this browser; a 303 to Frontegg's `/oauth/authorize`. The
//!    route's `login_hint` (an e-mail to prefill), `organization` (a tenant's custom login, by
//!    alias), `tenantId` and `prompt` (`login`, `none`, `consent`, `select_account`) are passed
//!    on; a value longer than 256 characters, holding a control character, or another `prompt`
//!    is refused (400); any other parameter stays here.
//! 2. `GET {routes}/callback?code=..&state=..`: the `state` must equal the one sealed in this
//!    browser's login cookie (a `state` from another browser, forged, or replayed after its login
//!    ended is refused: login CSRF). The code is exchanged at `/oauth/token` with the PKCE
//!    verifier and the client credentials. Before any session exists:
//!    - the access token is verified by this crate's verifier (signature, algorithm, issuer,
//!      audience, expiry) and must be a user token;
//!    - the ID token, when the answer has one, is verified with the same keys: its issuer, its
//!      audience (the client id, or the application id), its expiry, its subject (the access
//!      token's); its `nonce`, when it carries one, must be the login's. Without an ID token,
//!      PKCE and `state` carry the flow.
//!
//!    Then a new session (a new id at every login: no fixation), its cookie, and a 303 to
//!    `return_to`.
//! 3. `GET {routes}/logout`: the session is deleted and its cookie cleared, whatever the store
//!    answers; a 303 through Frontegg's `/oauth/logout` back to the app.
//!
//! `return_to` is a path of this app only: it must start with a single `/` and hold no
//! backslash, control character or whitespace (so `//evil`, `/\evil`, `https:evil` and absolute
//! URLs are refused with a 400, never followed).
//!
//! # Sessions
//!
//! The cookie holds only the session id: 256 random bits, base64url. `HttpOnly`,
//! `SameSite=Lax`, `Path=/`, and on https `Secure` with the `__Host-` prefix; `Max-Age` is the
//! absolute lifetime. The store keeps the session under the SHA-256 of the id, sealed with
//! AES-256-GCM under the session keys and bound to that place. A request whose cookie names no
//! session (unknown, expired, tampered, sealed with a key no longer configured) is treated as
//! carrying no credential, and the cookie is cleared.
//!
//! The access token is refreshed (`grant_type=refresh_token`) a margin before it expires, one
//! refresh at a time per session: in process behind a gate, across a fleet behind a short lock
//! in Redis, because Frontegg may rotate refresh tokens. A refresh Frontegg refuses (a 400, 401
//! or 403 in OAuth's or Frontegg's error format, or with no body) ends the session, unless the
//! refusal blames the app's own client (`invalid_client` and the like: a configuration
//! problem). One that fails otherwise
//! (the network, a 5xx, 408 or 429, a redirect, another 4xx, a body in neither error format,
//! an unusable answer) or with such a refusal keeps it: the request is served with the current
//! token while it is still valid, and answered 503 once it is not. A session Frontegg gave no
//! refresh token is served until its access token expires, and ends then.
//!
//! A request that has an `Authorization` or `x-api-key` header is judged by that header alone.
//! An unsafe method (anything but GET, HEAD, OPTIONS, TRACE) authenticated by the cookie alone
//! must come from the app's own origin: `Origin` equal to the app URL, else
//! `Sec-Fetch-Site: same-origin`; with neither header it is refused (403).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use cookie::{Cookie, SameSite};
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::credential::{Credential, CredentialKind};
use crate::head::RequestHead;
use crate::identity::TokenType;
use crate::login::{LoginSettings, defaults, is_app_path};
use crate::oauth::{Authorize, StepUpRequest, TokenEndpoint, TokenFault, Tokens};
use crate::sealing::{Pkce, SessionId, random_token};
use crate::secret::{ApiKey, TokenString};
use crate::sessions::{Record, Replaced, Sessions, StoreDown, ms, now_ms};
use crate::telemetry::{Login, Refresh, SessionEvent};
use crate::verify::Verifier;

/// After a refresh failed without ending the session (an outage, an unusable answer, the app's
/// own client refused), the other requests of the session in this process do not try again for
/// this long (they answer 503, or serve the still valid token).
const FAILED_REFRESH_PAUSE: Duration = Duration::from_secs(2);

/// An answer of a login route: status, headers, body, rendered alike by every adapter.
#[derive(Clone)]
pub struct LoginAnswer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl std::fmt::Debug for LoginAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Headers hold cookies: only the status.
        f.debug_struct("LoginAnswer").field("status", &self.status).finish_non_exhaustive()
    }
}

impl LoginAnswer {
    fn redirect(location: &str, cookies: Vec<HeaderValue>) -> LoginAnswer {
        let mut headers = vec![(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
        match HeaderValue::from_str(location) {
            Ok(location) => headers.push((header::LOCATION, location)),
            Err(_) => return LoginAnswer::error(StatusCode::BAD_REQUEST, "invalid_request", "Bad redirect", cookies),
        }
        headers.extend(cookies.into_iter().map(|c| (header::SET_COOKIE, c)));
        LoginAnswer { status: StatusCode::SEE_OTHER, headers, body: Bytes::new() }
    }

    fn error(status: StatusCode, code: &str, description: &str, cookies: Vec<HeaderValue>) -> LoginAnswer {
        let mut headers = vec![
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.push((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        headers.extend(cookies.into_iter().map(|c| (header::SET_COOKIE, c)));
        let body = serde_json::json!({ "error": code, "error_description": description }).to_string();
        LoginAnswer { status, headers, body: Bytes::from(body) }
    }

    /// The status: 303 on the way through, 400 for a refused login, 503 when Frontegg or the
    /// session store cannot answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers, in order (`Set-Cookie` may repeat).
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    /// The body: empty for a redirect, `{"error", "error_description"}` otherwise.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The whole answer.
    pub fn to_response<B: From<Bytes>>(&self) -> http::Response<B> {
        crate::refusal::response(self.status, self.headers.iter().cloned(), self.body.clone())
    }
}

/// What a login under way keeps in its cookie, sealed.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    return_to: String,
    expires: u64,
    /// The login asks for a step-up: if it brings none, the page must not be sent back to it.
    #[serde(default)]
    step_up: bool,
}

/// What the request path finds behind a session cookie.
pub(crate) enum SessionLookup {
    /// A live session: its access token, to be authenticated like a bearer token.
    Active(TokenString),
    /// No session: the cookie is to be cleared.
    Gone,
    /// The store or Frontegg could not answer: 503, the session is kept.
    Unavailable,
}

/// The hosted login; see the [module docs](self). Cheap to clone. Get it from
/// [`Authenticator::hosted_login`](crate::Authenticator::hosted_login).
#[derive(Clone)]
pub struct HostedLogin {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HostedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedLogin").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

struct Inner {
    settings: LoginSettings,
    base: String,
    client_id: String,
    tokens: TokenEndpoint,
    sessions: Sessions,
    verifier: Arc<Verifier>,
    /// One refresh at a time per session in this process.
    gates: moka::future::Cache<String, Arc<tokio::sync::Mutex<()>>>,
    /// Sessions whose refresh just failed: not tried again before [`FAILED_REFRESH_PAUSE`].
    failed: moka::future::Cache<String, ()>,
    /// Refreshed sessions the store could not take (Frontegg rotated the refresh token: losing
    /// it would end the session): served from here, written again by the next request.
    unsaved: moka::future::Cache<String, Record>,
    /// How long a refresh may hold a session's lock in Redis: longer than the longest refresh
    /// (the token request, then the access and ID tokens' verifications, each with its own
    /// deadline), so that no other instance starts a second one with the same refresh token.
    lock_ttl: Duration,
}

impl HostedLogin {
    pub(crate) fn new(
        settings: LoginSettings,
        base: &str,
        client_id: &str,
        api_key: ApiKey,
        http: reqwest::Client,
        timeout: Duration,
        verifier: Arc<Verifier>,
    ) -> Result<HostedLogin, String> {
        let base = base.trim_end_matches('/').to_owned();
        let tokens = TokenEndpoint::new(http, &base, &settings, client_id, api_key, timeout);
        let sessions = Sessions::new(&settings, client_id)?;
        let lock_ttl = timeout + crate::key_cache::LOAD_DEADLINE * 2 + Duration::from_secs(3);
        Ok(HostedLogin {
            inner: Arc::new(Inner {
                tokens,
                sessions,
                verifier,
                base,
                client_id: client_id.to_owned(),
                gates: moka::future::Cache::builder().time_to_idle(Duration::from_secs(60)).build(),
                failed: moka::future::Cache::builder().time_to_live(FAILED_REFRESH_PAUSE).build(),
                unsaved: moka::future::Cache::builder().max_capacity(100_000).time_to_live(lock_ttl * 6).build(),
                lock_ttl,
                settings,
            }),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &LoginSettings {
        &self.inner.settings
    }

    /// Whether sessions are kept in Redis.
    pub fn sessions_shared(&self) -> bool {
        self.inner.sessions.is_shared()
    }

    /// `GET {routes}/login?return_to=/path`: the redirect to Frontegg's hosted login, with the
    /// route's `login_hint`, `organization`, `tenantId` and `prompt` passed on (see the module
    /// docs).
    ///
    /// ```no_run
    /// # async fn demo(auth: frontegg_auth::Authenticator, request: http::Request<()>) {
    /// let login = auth.hosted_login().expect("the hosted login is configured");
    /// let answer = login.login(&request);
    /// assert_eq!(answer.status(), 303);
    /// # }
    /// ```
    pub fn login(&self, head: &impl RequestHead) -> LoginAnswer {
        let return_to = match query_value(head.path_and_query(), "return_to") {
            None => self.inner.settings.default_return_to.clone(),
            Some(path) if is_app_path(&path) => path,
            Some(_) => {
                crate::telemetry::login(Login::BadReturnTo);
                return LoginAnswer::error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "return_to must be a path of this app, such as /app",
                    Vec::new(),
                );
            }
        };
        // `step_up=<max age>`: a page's step-up requirement sent the browser here (0: no age).
        let step_up = match query_value(head.path_and_query(), "step_up").map(|age| age.parse::<u64>()) {
            Some(Ok(age)) => {
                StepUpRequest { acr: Some(crate::identity::MFA_ACR.to_owned()), max_age: Some(age).filter(|a| *a > 0) }
            }
            _ => StepUpRequest::default(),
        };
        let mut forwarded = Vec::new();
        for name in crate::oauth::FORWARDED {
            let Some(value) = query_value(head.path_and_query(), name) else { continue };
            let fits = !value.is_empty() && value.chars().count() <= 256 && !value.chars().any(char::is_control);
            if !fits || (name == "prompt" && !crate::oauth::PROMPTS.contains(&value.as_str())) {
                crate::telemetry::login(Login::BadParameter);
                let description = if name == "prompt" {
                    "prompt must be login, none, consent or select_account".to_owned()
                } else {
                    format!("{name} must be 1 to 256 characters, none of them a control character")
                };
                return LoginAnswer::error(StatusCode::BAD_REQUEST, "invalid_request", &description, Vec::new());
            }
            forwarded.push((name, value));
        }
        self.start(return_to, &step_up, &forwarded)
    }

    /// The URL of the login route that comes back to `return_to`, for browser routes that send
    /// their anonymous callers to the login.
    pub(crate) fn login_location(&self, return_to: &str) -> String {
        let return_to = if is_app_path(return_to) { return_to } else { self.inner.settings.default_return_to.as_str() };
        let query: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("return_to", return_to).finish();
        format!("{}?{query}", self.inner.settings.login_path())
    }

    fn start(&self, return_to: String, step_up: &StepUpRequest, forwarded: &[(&'static str, String)]) -> LoginAnswer {
        let unavailable = || {
            LoginAnswer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Cannot start a login",
                Vec::new(),
            )
        };
        let (Ok(pkce), Ok(state), Ok(nonce)) = (Pkce::new(), random_token(), random_token()) else {
            return unavailable();
        };
        let pending = Pending {
            state,
            nonce,
            verifier: pkce.verifier.clone(),
            return_to,
            expires: now_ms().saturating_add(ms(defaults::LOGIN_TIMEOUT)),
            step_up: step_up.acr.is_some(),
        };
        let settings = &self.inner.settings;
        let sealed = serde_json::to_vec(&pending)
            .ok()
            .and_then(|plain| settings.keys.seal(&plain, LOGIN_AAD).ok())
            .map(|sealed| URL_SAFE_NO_PAD.encode(sealed));
        let Some(sealed) = sealed else { return unavailable() };
        let request =
            Authorize { state: &pending.state, nonce: &pending.nonce, challenge: &pkce.challenge, step_up, forwarded };
        let Ok(url) = crate::oauth::authorize_url(&self.inner.base, settings, &self.inner.client_id, &request) else {
            return unavailable();
        };
        crate::telemetry::login(Login::Started);
        let cookie = self.cookie(&settings.login_cookie_name(), &sealed, Some(defaults::LOGIN_TIMEOUT));
        LoginAnswer::redirect(url.as_str(), cookie.into_iter().collect())
    }

    /// `GET {routes}/callback`: the code exchanged, the tokens verified, the session created.
    pub async fn callback(&self, head: &impl RequestHead) -> LoginAnswer {
        let settings = &self.inner.settings;
        // Whatever happens, this login is over: its cookie goes.
        let mut cookies: Vec<HeaderValue> = self.removal(&settings.login_cookie_name()).into_iter().collect();
        let refuse = |outcome: Login, description: &str, cookies: Vec<HeaderValue>| {
            crate::telemetry::login(outcome);
            tracing::info!(outcome = ?outcome, "hosted login refused");
            let (status, code) = match outcome {
                Login::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"),
                Login::Denied => (StatusCode::UNAUTHORIZED, "access_denied"),
                _ => (StatusCode::BAD_REQUEST, "invalid_request"),
            };
            LoginAnswer::error(status, code, description, cookies)
        };
        let target = head.path_and_query();
        let pending = cookie_value(head, &settings.login_cookie_name())
            .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
            .and_then(|sealed| settings.keys.open(&sealed, LOGIN_AAD))
            .and_then(|plain| serde_json::from_slice::<Pending>(&plain).ok())
            .filter(|pending| pending.expires > now_ms());
        let Some(pending) = pending else {
            return refuse(Login::BadState, "No login is under way in this browser (or it took too long)", cookies);
        };
        let state = query_value(target, "state").unwrap_or_default();
        if !constant_time_eq(state.as_bytes(), pending.state.as_bytes()) {
            return refuse(Login::BadState, "The login's state does not match this browser's login", cookies);
        }
        // Only this browser's own login may be ended by an error (no other site can abort it).
        if query_value(target, "error").is_some() {
            return refuse(Login::Denied, "Frontegg ended the login with an error", cookies);
        }
        let Some(code) = query_value(target, "code").filter(|c| !c.is_empty()) else {
            return refuse(Login::BadState, "The callback carries no code", cookies);
        };
        let tokens = match self.inner.tokens.exchange(&code, &settings.redirect_uri(), &pending.verifier).await {
            Ok(tokens) => tokens,
            Err(fault @ TokenFault::Refused { status, error }) => {
                if fault.blames_the_client() {
                    tracing::error!(
                        status,
                        error,
                        "Frontegg refused the app's client at the token endpoint: check the client credentials"
                    );
                } else {
                    tracing::info!(status, error, "Frontegg refused a login's code");
                }
                return refuse(Login::CodeRefused, "Frontegg refused the login's code", cookies);
            }
            Err(TokenFault::Unavailable | TokenFault::Malformed) => {
                return refuse(Login::Unavailable, "Frontegg could not complete the login; try again", cookies);
            }
        };
        let (record, stepped_up) = match self.checked(&tokens, Some(&pending.nonce), None).await {
            Ok(checked) => checked,
            Err(Checked::Unavailable) => {
                return refuse(Login::Unavailable, "The signing keys cannot be loaded; try again", cookies);
            }
            Err(Checked::Invalid(why)) => return refuse(Login::TokenInvalid, why, cookies),
        };
        // A session this browser had before ends: the new one gets a new id.
        if let Some(old) = cookie_value(head, &settings.cookie_name).and_then(|v| SessionId::parse(&v)) {
            let _ = self.inner.sessions.delete(&old).await;
        }
        let Ok(id) = SessionId::new() else {
            return refuse(Login::Unavailable, "Cannot create a session", cookies);
        };
        let now = now_ms();
        if self.inner.sessions.put(&id, &record, self.ttl(&record, now), self.ends(&record)).await.is_err() {
            crate::telemetry::session(SessionEvent::StoreUnavailable);
            return refuse(Login::Unavailable, "The session store cannot be reached; try again", cookies);
        }
        crate::telemetry::login(Login::Ok);
        crate::telemetry::session(SessionEvent::Created);
        cookies.extend(self.cookie(&settings.cookie_name, &id.cookie_value(), Some(settings.absolute_timeout)));
        if pending.step_up && !stepped_up {
            // Sent back to the page, the browser would come here again and again: the login
            // happened, the step-up did not.
            return LoginAnswer::error(
                StatusCode::UNAUTHORIZED,
                "insufficient_user_authentication",
                "The login did not bring the multi-factor authentication the page requires",
                cookies,
            );
        }
        LoginAnswer::redirect(&pending.return_to, cookies)
    }

    /// The tokens of a grant, verified, as a session record; and whether the access token
    /// carries Frontegg's multi-factor `acr`. A refresh names the session's user: the tokens
    /// must be that user's.
    async fn checked(
        &self,
        tokens: &Tokens,
        nonce: Option<&str>,
        user: Option<&str>,
    ) -> Result<(Record, bool), Checked> {
        let credential = Credential::new(CredentialKind::Bearer, tokens.access.clone());
        let identity = match self.inner.verifier.verify(&credential).await {
            Ok(identity) => identity,
            Err(e) if e.is_unavailable() => return Err(Checked::Unavailable),
            Err(_) => return Err(Checked::Invalid("The access token from Frontegg does not verify")),
        };
        if *identity.token_type() != TokenType::User {
            return Err(Checked::Invalid("The access token from Frontegg is not a user token"));
        }
        if user.is_some_and(|user| user != identity.sub()) {
            return Err(Checked::Invalid("The refreshed token names another user"));
        }
        if let Some(id_token) = &tokens.id {
            let settings = &self.inner.settings;
            let mut audiences = vec![self.inner.client_id.as_str()];
            if let Some(app) = &settings.application_id {
                audiences.push(app);
            }
            let claims =
                match self.inner.verifier.verify_id_token(id_token.expose(), &audiences, &self.inner.base).await {
                    Ok(claims) => claims,
                    Err(e) if e.is_unavailable() => return Err(Checked::Unavailable),
                    Err(_) => return Err(Checked::Invalid("The ID token from Frontegg does not verify")),
                };
            if claims.get("sub").and_then(|s| s.as_str()) != Some(identity.sub()) {
                return Err(Checked::Invalid("The ID token and the access token name different users"));
            }
            if let (Some(expected), Some(carried)) = (nonce, claims.get("nonce"))
                && carried.as_str().is_none_or(|carried| !constant_time_eq(carried.as_bytes(), expected.as_bytes()))
            {
                return Err(Checked::Invalid("The ID token's nonce is not this login's"));
            }
        }
        let now = now_ms();
        let expires =
            identity.expires_at().and_then(|exp| exp.duration_since(std::time::UNIX_EPOCH).ok()).map_or(now, ms);
        let stepped_up = identity.claims().get("acr").and_then(|acr| acr.as_str()) == Some(crate::identity::MFA_ACR);
        let record = Record {
            access: tokens.access.expose().to_owned(),
            refresh: tokens.refresh.as_ref().map(|t| t.expose().to_owned()),
            expires,
            issued: now,
            created: now,
            sub: identity.sub().to_owned(),
        };
        Ok((record, stepped_up))
    }

    /// `GET {routes}/logout`: the session ends here, whatever the store answers, and the browser
    /// goes through Frontegg's logout back to `return_to` (default: the default return path).
    pub async fn logout(&self, head: &impl RequestHead) -> LoginAnswer {
        let settings = &self.inner.settings;
        if let Some(id) = cookie_value(head, &settings.cookie_name).and_then(|v| SessionId::parse(&v)) {
            if self.inner.sessions.delete(&id).await.is_err() {
                tracing::warn!("the session store could not delete a session at logout; its cookie is cleared");
            }
            crate::telemetry::session(SessionEvent::Logout);
        }
        let return_to = query_value(head.path_and_query(), "return_to")
            .filter(|path| is_app_path(path))
            .unwrap_or_else(|| settings.default_return_to.clone());
        let after = format!("{}{return_to}", settings.app_url());
        let cookies = self.removal(&settings.cookie_name).into_iter().collect();
        match crate::oauth::logout_url(&self.inner.base, settings, &after) {
            Ok(url) => LoginAnswer::redirect(url.as_str(), cookies),
            Err(_) => LoginAnswer::redirect(&return_to, cookies),
        }
    }

    /// The session cookie of a request, if it has one.
    pub(crate) fn session_cookie(&self, head: &impl RequestHead) -> Option<String> {
        cookie_value(head, &self.inner.settings.cookie_name)
    }

    /// Whether an unsafe request comes from the app's own origin: `Origin` equal to the app
    /// URL, else `Sec-Fetch-Site: same-origin`; with neither, it does not.
    pub(crate) fn same_origin(&self, head: &impl RequestHead) -> bool {
        let app = self.inner.settings.app_url();
        if let Some(origin) = head.header_values("origin").next() {
            return origin == app.as_bytes();
        }
        head.header_values("sec-fetch-site").next().is_some_and(|site| site == b"same-origin")
    }

    /// The `Set-Cookie` that clears the session cookie.
    pub(crate) fn clear_session_cookie(&self) -> Option<HeaderValue> {
        self.removal(&self.inner.settings.cookie_name)
    }

    /// The session behind a cookie's value, refreshed when its token is about to expire.
    pub(crate) async fn session(&self, cookie: &str) -> SessionLookup {
        let Some(id) = SessionId::parse(cookie) else {
            crate::telemetry::session(SessionEvent::Unknown);
            return SessionLookup::Gone;
        };
        let sessions = &self.inner.sessions;
        let key = id.storage_key().to_owned();
        // A refreshed session the store could not take: written again, served meanwhile.
        if let Some(record) = self.inner.unsaved.get(&key).await {
            let now = now_ms();
            match sessions.replace(&id, &record, self.ttl(&record, now), self.ends(&record)).await {
                Ok(Replaced::Yes) => self.inner.unsaved.invalidate(&key).await,
                Ok(Replaced::Gone) => {
                    self.inner.unsaved.invalidate(&key).await;
                    return SessionLookup::Gone;
                }
                Err(StoreDown) => {}
            }
            if !self.expired(&record, now) && record.expires > now {
                return SessionLookup::Active(record.access_token());
            }
        }
        let (record, from_store) = match sessions.get(&id).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                crate::telemetry::session(SessionEvent::Unknown);
                return SessionLookup::Gone;
            }
            Err(StoreDown) => {
                crate::telemetry::session(SessionEvent::StoreUnavailable);
                return SessionLookup::Unavailable;
            }
        };
        let now = now_ms();
        if self.expired(&record, now) {
            let _ = sessions.delete(&id).await;
            crate::telemetry::session(SessionEvent::Expired);
            return SessionLookup::Gone;
        }
        // Activity restarts the idle lifetime: Redis's expiry, extended whenever this instance
        // reads past its first level (the in-process store extends it on every read).
        if from_store && sessions.touch(&id, self.ttl(&record, now)).await.is_err() {
            tracing::debug!("the session store could not record a session's activity");
        }
        let still_valid = record.expires > now;
        // Without a refresh token (Frontegg need not give one), the token serves until it
        // expires, and the session ends with it.
        if !self.needs_refresh(&record, now) || (still_valid && record.refresh.is_none()) {
            return SessionLookup::Active(record.access_token());
        }
        // Still valid: refresh if nobody is, else serve it. Expired: wait for the refresh.
        match self.refreshed(&id, !still_valid).await {
            Refreshed::Record(record) => SessionLookup::Active(record.access_token()),
            Refreshed::Ended => SessionLookup::Gone,
            Refreshed::Busy | Refreshed::Failed if still_valid => SessionLookup::Active(record.access_token()),
            Refreshed::Busy | Refreshed::Failed => SessionLookup::Unavailable,
        }
    }

    /// Whether the session is past its absolute lifetime (its idle lifetime is the store's).
    fn expired(&self, record: &Record, now: u64) -> bool {
        now >= self.ends(record)
    }

    /// When the session ends at the latest (Unix ms).
    fn ends(&self, record: &Record) -> u64 {
        record.created.saturating_add(ms(self.inner.settings.absolute_timeout))
    }

    /// How long the store keeps a session from `now`: until it would go idle, never past its end.
    fn ttl(&self, record: &Record, now: u64) -> Duration {
        let idle_end = now.saturating_add(ms(self.inner.settings.idle_timeout));
        Duration::from_millis(self.ends(record).min(idle_end).saturating_sub(now).max(1))
    }

    /// Whether the access token is within the refresh margin of its expiry (the margin is at
    /// most a fifth of its lifetime, so that short-lived tokens are not refreshed at once).
    fn needs_refresh(&self, record: &Record, now: u64) -> bool {
        let lifetime = record.expires.saturating_sub(record.issued);
        let margin = ms(self.inner.settings.refresh_margin).min(lifetime / 5);
        now.saturating_add(margin) >= record.expires
    }

    /// The session after a refresh, one at a time per session: in this process behind a gate
    /// (`wait`: wait for it, at most the lock's lifetime; else give up when it is taken), across
    /// a fleet behind a lock in Redis.
    async fn refreshed(&self, id: &SessionId, wait: bool) -> Refreshed {
        let key = id.storage_key().to_owned();
        if self.inner.failed.contains_key(&key) {
            return Refreshed::Failed;
        }
        let gate = self.inner.gates.get_with(key.clone(), async { Arc::new(tokio::sync::Mutex::new(())) }).await;
        let _turn = if wait {
            match tokio::time::timeout(self.inner.lock_ttl, gate.lock()).await {
                Ok(turn) => turn,
                Err(_) => return Refreshed::Failed,
            }
        } else {
            match gate.try_lock() {
                Ok(turn) => turn,
                Err(_) => return Refreshed::Busy,
            }
        };
        // The refresh this request queued behind may have failed.
        if self.inner.failed.contains_key(&key) {
            return Refreshed::Failed;
        }
        let sessions = &self.inner.sessions;
        let deadline = tokio::time::Instant::now() + self.inner.lock_ttl;
        loop {
            // Another request (of this process, or of another instance) may have refreshed it
            // while this one waited.
            let record = match sessions.fresh(id).await {
                Ok(Some(record)) => record,
                Ok(None) => return Refreshed::Ended,
                Err(StoreDown) => {
                    crate::telemetry::session(SessionEvent::StoreUnavailable);
                    return Refreshed::Failed;
                }
            };
            if !self.needs_refresh(&record, now_ms()) {
                return Refreshed::Record(record);
            }
            match sessions.lock(id, self.inner.lock_ttl).await {
                Ok(Some(token)) => {
                    let outcome = self.refresh_now(id, record).await;
                    sessions.unlock(id, &token).await;
                    if matches!(outcome, Refreshed::Failed) {
                        self.inner.failed.insert(key, ()).await;
                    }
                    return outcome;
                }
                Ok(None) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(None) | Err(StoreDown) => return Refreshed::Failed,
            }
        }
    }

    async fn refresh_now(&self, id: &SessionId, record: Record) -> Refreshed {
        let sessions = &self.inner.sessions;
        let end = async |why: &str| {
            crate::telemetry::session_refresh(Refresh::Ended);
            tracing::info!(reason = why, "a session ended at its refresh");
            let _ = sessions.delete(id).await;
            Refreshed::Ended
        };
        let Some(refresh_token) = &record.refresh else {
            return end("no refresh token").await;
        };
        let unavailable = || {
            crate::telemetry::session_refresh(Refresh::Unavailable);
            Refreshed::Failed
        };
        let tokens = match self.inner.tokens.refresh(refresh_token).await {
            Ok(tokens) => tokens,
            Err(fault @ TokenFault::Refused { status, error }) if fault.blames_the_client() => {
                // The app's own credentials are refused: a configuration problem, not the
                // user's; the session stays.
                tracing::error!(
                    status,
                    error,
                    "Frontegg refused a session's refresh request: check the client credentials"
                );
                return unavailable();
            }
            // A refresh token refused in any other shape ends the session too (see
            // `TokenFault::blames_the_client`); said louder, since that shape is unconfirmed.
            Err(TokenFault::Refused { status, error }) => {
                if error != "invalid_grant" {
                    tracing::warn!(status, error, "Frontegg refused a session's refresh other than with invalid_grant");
                }
                return end(error).await;
            }
            Err(TokenFault::Unavailable | TokenFault::Malformed) => {
                tracing::warn!("a session's refresh failed: Frontegg could not be reached or gave no usable answer");
                return unavailable();
            }
        };
        let fresh = match self.checked(&tokens, None, Some(&record.sub)).await {
            Ok((fresh, _)) => fresh,
            Err(Checked::Unavailable) => return unavailable(),
            Err(Checked::Invalid(why)) => return end(why).await,
        };
        let record = Record { refresh: fresh.refresh.or(record.refresh), created: record.created, ..fresh };
        let now = now_ms();
        match sessions.replace(id, &record, self.ttl(&record, now), self.ends(&record)).await {
            Ok(Replaced::Yes) => {}
            // Logged out meanwhile: it stays logged out.
            Ok(Replaced::Gone) => return Refreshed::Ended,
            Err(StoreDown) => {
                // Frontegg rotated the refresh token: keep the new one here until the store
                // takes it, rather than lose it and with it the session.
                crate::telemetry::session(SessionEvent::StoreUnavailable);
                self.inner.unsaved.insert(id.storage_key().to_owned(), record.clone()).await;
            }
        }
        crate::telemetry::session_refresh(Refresh::Ok);
        Refreshed::Record(record)
    }

    /// Closes the session store's connection.
    pub(crate) fn shutdown(&self) {
        self.inner.sessions.close();
    }

    /// A `Set-Cookie` of this app's cookies: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` on
    /// https; living `max_age`, or cleared when there is none.
    fn cookie(&self, name: &str, value: &str, max_age: Option<Duration>) -> Option<HeaderValue> {
        let mut cookie = Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.inner.settings.is_https())
            .build();
        match max_age {
            Some(age) => {
                cookie.set_max_age(cookie::time::Duration::seconds(i64::try_from(age.as_secs()).unwrap_or(i64::MAX)));
            }
            None => cookie.make_removal(),
        }
        HeaderValue::from_str(&cookie.to_string()).ok()
    }

    fn removal(&self, name: &str) -> Option<HeaderValue> {
        self.cookie(name, "", None)
    }
}

/// How a refresh ended.
enum Refreshed {
    /// Refreshed (by this request or another): the session.
    Record(Record),
    /// The session ended (refused refresh token, logged out meanwhile, gone).
    Ended,
    /// Frontegg or the store could not refresh it now; the session stays.
    Failed,
    /// Another request of this process is refreshing it.
    Busy,
}

/// Why a grant's tokens were not taken.
enum Checked {
    Unavailable,
    Invalid(&'static str),
}

/// The additional data of the login cookie's seal: it opens only as a login cookie.
const LOGIN_AAD: &[u8] = b"frontegg-rs:login:v1";

/// The first value of the query parameter `name`, decoded.
fn query_value(path_and_query: &str, name: &str) -> Option<String> {
    let query = path_and_query.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The value of the cookie `name`, from every `Cookie` header of the request.
fn cookie_value(head: &impl RequestHead, name: &str) -> Option<String> {
    head.header_values("cookie")
        .filter_map(|value| std::str::from_utf8(value).ok())
        .flat_map(|value| Cookie::split_parse(value).filter_map(Result::ok))
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// Compares secrets in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}
