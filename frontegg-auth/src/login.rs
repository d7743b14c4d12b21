//! The settings of the hosted login: where the app lives, where its login routes are, how the
//! code is exchanged, how sessions are kept. Give them to
//! [`ConfigBuilder::hosted_login`](crate::ConfigBuilder::hosted_login); the login itself is
//! [`HostedLogin`](crate::HostedLogin).
//!
//! ```
//! use std::time::Duration;
//! use frontegg_auth::login::{ClientAuthentication, LoginSettings};
//!
//! let login = LoginSettings::builder("https://app.example.com")
//!     .session_keys("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
//!     .default_return_to("/app")
//!     .client_authentication(ClientAuthentication::Body)
//!     .idle_timeout(Duration::from_secs(8 * 3600))
//!     .build()?;
//! assert_eq!(login.redirect_uri(), "https://app.example.com/auth/callback");
//! assert_eq!(login.cookie_name(), "__Host-frontegg_session");
//! # Ok::<(), frontegg_auth::login::LoginSettingsError>(())
//! ```
//!
//! # Defaults
//!
//! | setting | default | environment |
//! |---|---|---|
//! | the app's public URL | – (required) | `FRONTEGG_APP_URL` |
//! | the login routes | `/auth`: `/auth/login`, `/auth/callback` (the redirect URI to register at Frontegg), `/auth/logout` | `FRONTEGG_LOGIN_ROUTES` |
//! | where a login without `return_to` ends | `/` | – |
//! | scopes | `openid email profile` | `FRONTEGG_LOGIN_SCOPES` (space separated) |
//! | application id (the authorize `client_id`, and `frontegg-requested-application-id` on token requests) | none: the environment's client id | `FRONTEGG_APP_ID` |
//! | client authentication at `/oauth/token` | [`ClientAuthentication::Basic`] | – |
//! | OAuth paths | [`OAuthPaths::Bare`] (`/oauth/...`) | – |
//! | session cookie | `frontegg_session`, `__Host-frontegg_session` on https | – |
//! | session keys | one random key: sessions end when the process does (in-process store only) | `FRONTEGG_SESSION_KEY` |
//! | idle lifetime | 24 hours without a request | – |
//! | absolute lifetime | 7 days after the login | – |
//! | refresh | 30 s before the access token expires (at most a fifth of its lifetime) | – |
//! | store | in process; Redis with [`LoginSettingsBuilder::redis_store`] (feature `redis`) | `FRONTEGG_SESSION_REDIS_URL`, or `FRONTEGG_REDIS_URL` when `FRONTEGG_SESSION_KEY` is set |

use std::fmt;
use std::time::Duration;

use url::Url;

use crate::sealing::SessionKeys;
#[cfg(feature = "redis")]
use crate::shared_cache::RedisCache;

/// How the app authenticates itself at Frontegg's token endpoint, with the environment's client
/// id and API key. Frontegg accepts both (see the repository's fact sheet, §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuthentication {
    /// `Authorization: Basic base64(client_id:api_key)` (RFC 6749 §2.3.1's preferred form).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body, as `@frontegg/nextjs` sends them.
    Body,
}

/// Which spelling of Frontegg's OAuth paths to call; both are served by Frontegg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OAuthPaths {
    /// `/oauth/authorize`, `/oauth/token`, `/oauth/logout`.
    #[default]
    Bare,
    /// `/frontegg/oauth/...`, as Frontegg's browser SDK calls them.
    Prefixed,
}

impl OAuthPaths {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            OAuthPaths::Bare => "/oauth",
            OAuthPaths::Prefixed => "/frontegg/oauth",
        }
    }
}

/// Why login settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginSettingsError {
    /// The app URL does not parse, is not http(s), or carries a path, query or fragment.
    #[error("the app URL (FRONTEGG_APP_URL) must be an absolute http(s) origin such as https://app.example.com: {0}")]
    AppUrl(String),
    /// Plain http to a host other than loopback: the session cookie would travel in clear text.
    #[error("the app URL (FRONTEGG_APP_URL) must use https (plain http is only accepted for loopback addresses)")]
    InsecureAppUrl,
    /// A route prefix or return path that is not an absolute path of this app.
    #[error("{what} must be an absolute path of the app such as /auth (no //, no backslash, no query)")]
    Path {
        /// Which setting.
        what: &'static str,
    },
    /// `FRONTEGG_SESSION_KEY` (or [`session_keys`](LoginSettingsBuilder::session_keys)) is not a
    /// list of 32-byte keys.
    #[error("the session key (FRONTEGG_SESSION_KEY) must be 32 bytes as 64 hex characters or base64; a list rotates")]
    SessionKey,
    /// The Redis session store needs keys that every instance shares.
    #[error("the Redis session store needs the session key (FRONTEGG_SESSION_KEY) that every instance shares")]
    RedisWithoutKey,
    /// The cookie name holds characters a cookie name cannot.
    #[error("the cookie name must be letters, digits, '-' and '_'")]
    CookieName,
    /// A lifetime out of its range.
    #[error("{what} {reason}")]
    OutOfRange {
        /// Which setting.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed")]
    Random,
    /// An environment variable holds something unusable.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The session store cannot be set up (the Redis store's settings).
    #[error("the session store cannot be used: {0}")]
    Store(String),
}

/// Where sessions are kept.
#[derive(Clone)]
pub(crate) enum StoreSettings {
    Memory,
    #[cfg(feature = "redis")]
    Redis(RedisCache),
}

/// The hosted login's settings, checked; see the [module docs](self) for every default.
#[derive(Clone)]
pub struct LoginSettings {
    pub(crate) app_url: Url,
    pub(crate) routes: String,
    pub(crate) default_return_to: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) application_id: Option<String>,
    pub(crate) client_authentication: ClientAuthentication,
    pub(crate) oauth_paths: OAuthPaths,
    pub(crate) cookie_name: String,
    pub(crate) keys: std::sync::Arc<SessionKeys>,
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_timeout: Duration,
    pub(crate) refresh_margin: Duration,
    pub(crate) store: StoreSettings,
}

impl fmt::Debug for LoginSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginSettings")
            .field("app_url", &self.app_url.as_str())
            .field("routes", &self.routes)
            .field("cookie_name", &self.cookie_name)
            .field("keys", &self.keys)
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_timeout", &self.absolute_timeout)
            .finish_non_exhaustive()
    }
}

impl LoginSettings {
    /// Starts the settings of an app served at `app_url` (its public origin, as the browser
    /// sees it: `https://app.example.com`).
    pub fn builder(app_url: impl Into<String>) -> LoginSettingsBuilder {
        LoginSettingsBuilder { app_url: app_url.into(), ..LoginSettingsBuilder::default() }
    }

    /// A builder from the environment, when `FRONTEGG_APP_URL` is set: `FRONTEGG_SESSION_KEY`,
    /// `FRONTEGG_LOGIN_ROUTES`, `FRONTEGG_LOGIN_SCOPES`, `FRONTEGG_APP_ID`, and with the feature
    /// `redis`, `FRONTEGG_SESSION_REDIS_URL` (the session store; the lookup cache's
    /// `FRONTEGG_REDIS_*` settings otherwise apply to it).
    pub fn from_env() -> Result<Option<LoginSettingsBuilder>, LoginSettingsError> {
        let Some(app_url) = env("FRONTEGG_APP_URL")? else { return Ok(None) };
        Self::builder_from_env(app_url).map(Some)
    }

    /// [`from_env`](Self::from_env) with an app URL of the caller's choice when the variable is
    /// unset (the example apps default to their own address).
    pub fn from_env_or(app_url: impl Into<String>) -> Result<LoginSettingsBuilder, LoginSettingsError> {
        Self::builder_from_env(env("FRONTEGG_APP_URL")?.unwrap_or_else(|| app_url.into()))
    }

    fn builder_from_env(app_url: String) -> Result<LoginSettingsBuilder, LoginSettingsError> {
        let mut builder = LoginSettings::builder(app_url);
        if let Some(keys) = env("FRONTEGG_SESSION_KEY")? {
            builder = builder.session_keys(&keys);
        } else if env("FRONTEGG_REDIS_URL")?.is_some() {
            tracing::warn!(
                "FRONTEGG_REDIS_URL is set but FRONTEGG_SESSION_KEY is not: sessions stay in each process, with a \
                 random key; in a fleet, a login started on one instance fails on another"
            );
        }
        if let Some(routes) = env("FRONTEGG_LOGIN_ROUTES")? {
            builder = builder.routes_at(routes);
        }
        if let Some(scopes) = env("FRONTEGG_LOGIN_SCOPES")? {
            builder = builder.scopes(scopes.split_whitespace());
        }
        if let Some(app_id) = env("FRONTEGG_APP_ID")? {
            builder = builder.application_id(app_id);
        }
        // Sessions go to Redis when a Redis is named for them, or when the lookup cache's Redis
        // is configured together with a session key (a fleet sharing its cache shares its
        // sessions); a Redis named for sessions without a key is refused at build.
        #[cfg(feature = "redis")]
        {
            let redis = match env("FRONTEGG_SESSION_REDIS_URL")? {
                Some(url) => Some(RedisCache::new(&url).map_err(|e| LoginSettingsError::Store(e.to_string()))?),
                None if builder.keys.is_some() => {
                    RedisCache::from_env().map_err(|e| LoginSettingsError::Store(e.to_string()))?
                }
                None => None,
            };
            if let Some(redis) = redis {
                builder = builder.redis_store(redis);
            }
        }
        Ok(builder)
    }

    /// The app's public origin.
    pub fn app_url(&self) -> &str {
        self.app_url.as_str().trim_end_matches('/')
    }

    /// `{routes}/login`: where a browser starts a login (`?return_to=/path`).
    pub fn login_path(&self) -> String {
        format!("{}/login", self.routes)
    }

    /// `{routes}/callback`: where Frontegg sends the browser back.
    pub fn callback_path(&self) -> String {
        format!("{}/callback", self.routes)
    }

    /// `{routes}/logout`.
    pub fn logout_path(&self) -> String {
        format!("{}/logout", self.routes)
    }

    /// The prefix of the login routes (default `/auth`): where an adapter's router is nested.
    pub fn routes(&self) -> &str {
        &self.routes
    }

    /// The redirect URI to register in Frontegg's portal: the app URL and the callback path.
    pub fn redirect_uri(&self) -> String {
        format!("{}{}", self.app_url(), self.callback_path())
    }

    /// The session cookie's name (with the `__Host-` prefix on https).
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The name of the short-lived cookie that binds a login under way to its browser.
    pub fn login_cookie_name(&self) -> String {
        format!("{}_login", self.cookie_name)
    }

    /// Whether the app is served over https (cookies are then `Secure`).
    pub fn is_https(&self) -> bool {
        self.app_url.scheme() == "https"
    }

    /// Where a login without `return_to` ends.
    pub fn default_return_to(&self) -> &str {
        &self.default_return_to
    }

    /// How long a session lives without a request.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// How long a session lives at most after its login.
    pub fn absolute_timeout(&self) -> Duration {
        self.absolute_timeout
    }
}

/// Builds [`LoginSettings`]; every check happens in [`build`](Self::build).
#[derive(Default)]
pub struct LoginSettingsBuilder {
    app_url: String,
    routes: Option<String>,
    default_return_to: Option<String>,
    scopes: Option<Vec<String>>,
    application_id: Option<String>,
    client_authentication: ClientAuthentication,
    oauth_paths: OAuthPaths,
    cookie_name: Option<String>,
    keys: Option<Result<SessionKeys, LoginSettingsError>>,
    idle_timeout: Option<Duration>,
    absolute_timeout: Option<Duration>,
    refresh_margin: Option<Duration>,
    #[cfg(feature = "redis")]
    redis: Option<RedisCache>,
}

impl fmt::Debug for LoginSettingsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginSettingsBuilder").field("app_url", &self.app_url).finish_non_exhaustive()
    }
}

/// Defaults of the hosted login, in one place so that the docs and the code agree.
pub mod defaults {
    use std::time::Duration;
    /// The prefix of the login routes.
    pub const ROUTES: &str = "/auth";
    /// The session cookie's name (`__Host-` is prepended on https).
    pub const COOKIE_NAME: &str = "frontegg_session";
    /// The scopes asked for.
    pub const SCOPES: [&str; 3] = ["openid", "email", "profile"];
    /// How long a session lives without a request.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
    /// How long a session lives at most.
    pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
    /// How long before its expiry an access token is refreshed (at most a fifth of its lifetime).
    pub const REFRESH_MARGIN: Duration = Duration::from_secs(30);
    /// How long a login may take, from the redirect to Frontegg to the callback.
    pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(600);
}

impl LoginSettingsBuilder {
    /// The prefix of the login routes (default `/auth`): `{prefix}/login`, `{prefix}/callback`
    /// (so the redirect URI is `{app URL}{prefix}/callback`) and `{prefix}/logout`.
    pub fn routes_at(mut self, prefix: impl Into<String>) -> Self {
        self.routes = Some(prefix.into());
        self
    }

    /// Where a login without `return_to`, and a logout, end (default `/`).
    pub fn default_return_to(mut self, path: impl Into<String>) -> Self {
        self.default_return_to = Some(path.into());
        self
    }

    /// The scopes asked for (default `openid email profile`).
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// An Applications app id: it becomes the authorize request's `client_id`, and token
    /// requests carry it as `frontegg-requested-application-id`.
    pub fn application_id(mut self, id: impl Into<String>) -> Self {
        self.application_id = Some(id.into());
        self
    }

    /// How the client id and API key are sent to the token endpoint (default HTTP Basic).
    pub fn client_authentication(mut self, how: ClientAuthentication) -> Self {
        self.client_authentication = how;
        self
    }

    /// Which spelling of the OAuth paths to call (default bare `/oauth/...`).
    pub fn oauth_paths(mut self, paths: OAuthPaths) -> Self {
        self.oauth_paths = paths;
        self
    }

    /// The session cookie's name (default `frontegg_session`); `__Host-` is prepended on https.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = Some(name.into());
        self
    }

    /// The session keys: 32 bytes each, as 64 hex characters or base64, separated by commas or
    /// spaces. The first seals; every one opens, so a key rotates by putting the new one first
    /// and dropping the old one once its sessions have ended.
    pub fn session_keys(mut self, keys: &str) -> Self {
        self.keys = Some(SessionKeys::parse(keys).map_err(|_| LoginSettingsError::SessionKey));
        self
    }

    /// How long a session lives without a request (default 24 hours).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// How long a session lives at most after its login (default 7 days).
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.absolute_timeout = Some(timeout);
        self
    }

    /// How long before the access token's expiry it is refreshed (default 30 s, at most a fifth
    /// of the token's lifetime).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// Keeps sessions in Redis, so that every instance of a fleet serves every session (no
    /// sticky sessions). Needs [`session_keys`](Self::session_keys).
    #[cfg(feature = "redis")]
    pub fn redis_store(mut self, redis: RedisCache) -> Self {
        self.redis = Some(redis);
        self
    }

    /// Checks everything.
    pub fn build(self) -> Result<LoginSettings, LoginSettingsError> {
        let app_url = Url::parse(self.app_url.trim()).map_err(|e| LoginSettingsError::AppUrl(e.to_string()))?;
        if !matches!(app_url.scheme(), "http" | "https")
            || app_url.host().is_none()
            || app_url.path() != "/"
            || app_url.query().is_some()
            || app_url.fragment().is_some()
            || !app_url.username().is_empty()
        {
            return Err(LoginSettingsError::AppUrl("an origin, with no path, query or credentials".into()));
        }
        if app_url.scheme() == "http" && !is_loopback(&app_url) {
            return Err(LoginSettingsError::InsecureAppUrl);
        }
        let routes = self.routes.unwrap_or_else(|| defaults::ROUTES.to_owned());
        let routes = routes.trim_end_matches('/').to_owned();
        // Plain path characters only: the adapters register routes under it, where `{`, `:` or
        // `*` would mean something else.
        if !is_app_path(&routes) || !routes.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_.-".contains(&b)) {
            return Err(LoginSettingsError::Path { what: "the login routes' prefix" });
        }
        let default_return_to = self.default_return_to.unwrap_or_else(|| "/".to_owned());
        if !is_app_path(&default_return_to) {
            return Err(LoginSettingsError::Path { what: "the default return path" });
        }
        let name = self.cookie_name.unwrap_or_else(|| defaults::COOKIE_NAME.to_owned());
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(LoginSettingsError::CookieName);
        }
        // `__Host-`: the browser keeps the cookie only if Secure, with Path=/ and no Domain, so
        // that no sibling subdomain can plant or overwrite it.
        let cookie_name = if app_url.scheme() == "https" { format!("__Host-{name}") } else { name };
        #[cfg(feature = "redis")]
        let store = match self.redis {
            Some(redis) if self.keys.is_none() => {
                drop(redis);
                return Err(LoginSettingsError::RedisWithoutKey);
            }
            Some(redis) => StoreSettings::Redis(redis),
            None => StoreSettings::Memory,
        };
        #[cfg(not(feature = "redis"))]
        let store = StoreSettings::Memory;
        let keys = match self.keys {
            Some(keys) => keys?,
            None => SessionKeys::random().map_err(|_| LoginSettingsError::Random)?,
        };
        let idle_timeout = self.idle_timeout.unwrap_or(defaults::IDLE_TIMEOUT);
        let absolute_timeout = self.absolute_timeout.unwrap_or(defaults::ABSOLUTE_TIMEOUT);
        if idle_timeout < Duration::from_secs(1) || absolute_timeout < Duration::from_secs(1) {
            return Err(LoginSettingsError::OutOfRange { what: "session lifetimes", reason: "must be at least 1 s" });
        }
        let scopes = self.scopes.unwrap_or_else(|| defaults::SCOPES.iter().map(|s| (*s).to_owned()).collect());
        if scopes.iter().any(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')) {
            return Err(LoginSettingsError::OutOfRange { what: "scopes", reason: "must be printable words" });
        }
        Ok(LoginSettings {
            app_url,
            routes,
            default_return_to,
            scopes,
            application_id: self.application_id.filter(|id| !id.trim().is_empty()),
            client_authentication: self.client_authentication,
            oauth_paths: self.oauth_paths,
            cookie_name,
            keys: std::sync::Arc::new(keys),
            idle_timeout,
            absolute_timeout,
            refresh_margin: self.refresh_margin.unwrap_or(defaults::REFRESH_MARGIN),
            store,
        })
    }
}

/// A `FRONTEGG_*` variable, read by the crate's one rule.
fn env(name: &'static str) -> Result<Option<String>, LoginSettingsError> {
    crate::environment::var(name).map_err(|reason| LoginSettingsError::Env { name, reason })
}

/// Whether a URL names this machine: the one rule for where plain http is accepted (the
/// configuration's URLs use it too).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A path of this app and nothing else: it starts with one `/` (never `//`, which browsers read
/// as another host), holds no backslash (which browsers read as `/`), no control character and
/// no scheme. What `return_to` must be, so that a login never redirects anywhere else.
pub(crate) fn is_app_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        // Visible ASCII only: what a `Location` header carries as is (a non-ASCII path arrives
        // percent-encoded, and stays so).
        && path.bytes().all(|b| b.is_ascii_graphic())
        && !path.contains('#')
        && path.len() <= 2048
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_paths_are_this_apps_only() {
        for good in ["/", "/app", "/reports?id=3", "/a/b%2F"] {
            assert!(is_app_path(good), "{good}");
        }
        for bad in [
            "",
            "//evil.com",
            "/\\evil.com",
            "\\\\evil",
            "https:evil.com",
            "https://evil.com",
            "app",
            "/a\nb",
            "/a b",
            "/café",
        ] {
            assert!(!is_app_path(bad), "{bad}");
        }
    }

    #[test]
    fn settings_are_checked() {
        let ok = LoginSettings::builder("http://127.0.0.1:3000").build().unwrap();
        assert_eq!(ok.cookie_name(), "frontegg_session");
        assert_eq!(ok.redirect_uri(), "http://127.0.0.1:3000/auth/callback");
        assert_eq!(ok.login_path(), "/auth/login");
        assert!(matches!(
            LoginSettings::builder("http://app.example.com").build(),
            Err(LoginSettingsError::InsecureAppUrl)
        ));
        for bad in ["app.example.com", "https://app.example.com/path", "ftp://x", "https://u:p@x.io"] {
            assert!(LoginSettings::builder(bad).build().is_err(), "{bad}");
        }
        for bad in ["//x", "/auth/{x}", "/:x", "/*x", "auth"] {
            assert!(LoginSettings::builder("https://x.io").routes_at(bad).build().is_err(), "{bad}");
        }
        assert!(LoginSettings::builder("https://x.io").session_keys("short").build().is_err());
        assert!(LoginSettings::builder("https://x.io").cookie_name("a;b").build().is_err());
        let settings = LoginSettings::builder("https://x.io").routes_at("/login/").build().unwrap();
        assert_eq!(settings.callback_path(), "/login/callback");
        assert!(!format!("{settings:?}").contains("0001"));
    }
}
