//! Configuration: where the keys come from, what a token must satisfy, how the Frontegg API is reached.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use jsonwebtoken::Algorithm;
use reqwest::Url;

use crate::clock::Clock;
use crate::keys::{KeySet, KeySetError};
use crate::login::{LoginSettings, LoginSettingsError};
use crate::secret::{ApiKey, JwtSecret};
#[cfg(feature = "redis")]
use crate::shared_cache::{RedisCache, RedisCacheError};

/// A Frontegg API gateway region: the typed alternative to [`ConfigBuilder::gateway_url`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Region {
    /// `https://api.frontegg.com`, the default of every official SDK.
    #[default]
    Eu,
    /// `https://api.us.frontegg.com`.
    Us,
    /// `https://api.ca.frontegg.com`.
    Ca,
    /// `https://api.au.frontegg.com`.
    Au,
}

impl Region {
    /// The gateway URL of the region.
    pub fn gateway_url(self) -> &'static str {
        match self {
            Region::Eu => "https://api.frontegg.com",
            Region::Us => "https://api.us.frontegg.com",
            Region::Ca => "https://api.ca.frontegg.com",
            Region::Au => "https://api.au.frontegg.com",
        }
    }
}

/// Where the signing keys come from.
///
/// Left unset, the builder picks the JWKS of the base URL when one is given, else the vendor
/// configuration when credentials are given.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// A JWKS document at this URL, fetched without credentials and refreshed in the background.
    Jwks(String),
    /// The `publicKey` of `GET {gateway}/identity/resources/configurations/v1`, read with the vendor token.
    VendorConfiguration,
    /// A fixed SPKI PEM (`-----BEGIN PUBLIC KEY-----`): air-gapped setups. Never refreshed.
    StaticPem(String),
    /// A fixed JWKS document (the JSON text): air-gapped setups and tests. Never refreshed.
    StaticJwks(String),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Jwks(url) => f.debug_tuple("Jwks").field(url).finish(),
            KeySource::VendorConfiguration => f.write_str("VendorConfiguration"),
            KeySource::StaticPem(_) => f.write_str("StaticPem(..)"),
            KeySource::StaticJwks(_) => f.write_str("StaticJwks(..)"),
        }
    }
}

/// A configuration that cannot work, reported by [`ConfigBuilder::build`] rather than at the first request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither a base URL, credentials nor a static key: there is nowhere to get signing keys from.
    #[error(
        "no source of signing keys: set the base URL (FRONTEGG_BASE_URL), the credentials \
         (FRONTEGG_CLIENT_ID and FRONTEGG_API_KEY) or a static key"
    )]
    NoKeySource,
    /// A URL that does not parse, or is not absolute.
    #[error("{what} is not a valid absolute URL: {reason}")]
    InvalidUrl {
        /// Which setting.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// Plain `http` to a host other than loopback: tokens and keys would travel in clear text.
    #[error("{what} must use https (plain http is only accepted for loopback addresses)")]
    InsecureUrl {
        /// Which setting.
        what: &'static str,
    },
    /// Only one of the client id and the API key was given.
    #[error("the client id and the API key go together: set both FRONTEGG_CLIENT_ID and FRONTEGG_API_KEY, or neither")]
    IncompleteCredentials,
    /// Something configured needs the vendor credentials: the vendor-configuration key source,
    /// `resolve_user_roles`, entitlements or the shared cache.
    #[error(
        "the vendor configuration key source, resolve_user_roles, entitlements and the shared cache need the client id \
         and the API key (FRONTEGG_CLIENT_ID and FRONTEGG_API_KEY)"
    )]
    CredentialsRequired,
    /// The algorithm list is empty or names one this library does not verify.
    #[error("unsupported algorithm configuration: {0}")]
    Algorithms(String),
    /// The static key cannot serve: the key cache would refuse it (not RSA, broken, shorter
    /// than 2048 bits, a JWKS without a usable key).
    #[error("the static key cannot be used: {0}")]
    StaticKey(KeySetError),
    /// A value out of its range.
    #[error("{what} {reason}")]
    OutOfRange {
        /// Which setting.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be set up (TLS roots, for instance).
    #[error("the HTTP client cannot be built")]
    Http(#[source] Arc<reqwest::Error>),
    /// An environment variable holds something unusable.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The shared cache's settings are unusable.
    #[cfg(feature = "redis")]
    #[error("the shared cache cannot be used")]
    Redis(#[source] RedisCacheError),
    /// The hosted login's settings are unusable.
    #[error("the hosted login cannot be used: {0}")]
    Login(#[source] LoginSettingsError),
    /// The hosted login needs the environment's domain and the credentials it exchanges codes
    /// with.
    #[error(
        "the hosted login needs the base URL (FRONTEGG_BASE_URL) and the credentials (FRONTEGG_CLIENT_ID and FRONTEGG_API_KEY)"
    )]
    LoginNeedsBaseUrlAndCredentials,
    /// The token exchange is served by the environment's domain, which is not configured.
    #[error("the token exchange needs the environment's domain: set the base URL (FRONTEGG_BASE_URL)")]
    ExchangeNeedsBaseUrl,
}

/// A validated configuration; cheap to clone. Build it with [`Config::builder`] or [`Config::from_env`].
///
/// ```
/// use frontegg_auth::{Config, Region};
/// let config = Config::builder()
///     .base_url("https://app-abc.frontegg.com")
///     .credentials("client-id", "api-key")
///     .region(Region::Us)
///     .audiences(["client-id"])
///     .build()?;
/// assert_eq!(config.issuer(), Some("https://app-abc.frontegg.com"));
/// # Ok::<(), frontegg_auth::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) base_url: Option<Url>,
    pub(crate) gateway_url: Url,
    pub(crate) client_id: Option<String>,
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) key_source: KeySource,
    /// The static key source, parsed once by [`ConfigBuilder::build`].
    pub(crate) static_keys: Option<Arc<KeySet>>,
    pub(crate) issuer: Option<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: Duration,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) hs256_secret: Option<JwtSecret>,
    pub(crate) max_token_bytes: usize,
    pub(crate) wildcard_permissions: bool,
    pub(crate) http_timeout: Duration,
    pub(crate) unknown_kid_cooldown: Duration,
    pub(crate) refresh_bounds: (Duration, Duration),
    pub(crate) default_refresh: Duration,
    pub(crate) max_jwks_bytes: usize,
    pub(crate) access_token_ttl: Duration,
    pub(crate) cache_capacity: u64,
    pub(crate) resolve_user_roles: bool,
    pub(crate) api_retries: u32,
    pub(crate) cache_verified_tokens: bool,
    pub(crate) clock: Clock,
    pub(crate) sso_counts_as_mfa: bool,
    /// The entitlements store's settings, when entitlements are on.
    pub(crate) entitlements: Option<EntitlementsSettings>,
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<RedisCache>,
    pub(crate) hosted_login: Option<LoginSettings>,
}

/// How entitlements are loaded; see [`ConfigBuilder::entitlements`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntitlementsSettings {
    pub(crate) poll: Duration,
    pub(crate) first_load_timeout: Duration,
    pub(crate) max_bytes: usize,
    pub(crate) download_timeout: Duration,
}

impl Config {
    /// Starts a configuration.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Reads `FRONTEGG_BASE_URL`, `FRONTEGG_CLIENT_ID`, `FRONTEGG_API_KEY` and `FRONTEGG_API_GATEWAY_URL`
    /// and builds with every other setting at its default. See [`ConfigBuilder::from_env`].
    pub fn from_env() -> Result<Config, ConfigError> {
        ConfigBuilder::from_env()?.build()
    }

    /// The issuer a token must carry, if it is checked.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The environment's domain, if known.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_ref().map(|u| u.as_str().trim_end_matches('/'))
    }

    /// The API gateway.
    pub fn gateway_url(&self) -> &str {
        self.gateway_url.as_str().trim_end_matches('/')
    }

    /// The vendor client id, if credentials were given.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// Where signing keys come from.
    pub fn key_source(&self) -> &KeySource {
        &self.key_source
    }

    /// Only HS256 is allowed: no key set is needed.
    pub(crate) fn hs256_only(&self) -> bool {
        self.algorithms.iter().all(|a| *a == Algorithm::HS256)
    }

    /// Whether entitlements are loaded.
    pub fn has_entitlements(&self) -> bool {
        self.entitlements.is_some()
    }

    /// The hosted login's settings, when it is on.
    pub fn hosted_login(&self) -> Option<&LoginSettings> {
        self.hosted_login.as_ref()
    }

    /// Whether vendor credentials were given (needed for access tokens and the management API).
    pub fn has_credentials(&self) -> bool {
        self.api_key.is_some()
    }
}

/// Builds a [`Config`]; every check happens in [`build`](ConfigBuilder::build).
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    base_url: Option<String>,
    gateway_url: Option<String>,
    client_id: Option<String>,
    api_key: Option<ApiKey>,
    key_source: Option<KeySource>,
    issuer: Option<Option<String>>,
    audiences: Vec<String>,
    leeway: Option<Duration>,
    algorithms: Option<Vec<Algorithm>>,
    hs256_secret: Option<JwtSecret>,
    max_token_bytes: Option<usize>,
    wildcard_permissions: Option<bool>,
    http_timeout: Option<Duration>,
    unknown_kid_cooldown: Option<Duration>,
    refresh_bounds: Option<(Duration, Duration)>,
    default_refresh: Option<Duration>,
    max_jwks_bytes: Option<usize>,
    access_token_ttl: Option<Duration>,
    cache_capacity: Option<u64>,
    resolve_user_roles: Option<bool>,
    api_retries: Option<u32>,
    cache_verified_tokens: Option<bool>,
    clock: Option<Clock>,
    sso_counts_as_mfa: Option<bool>,
    entitlements: Option<bool>,
    entitlements_poll: Option<Duration>,
    entitlements_first_load_timeout: Option<Duration>,
    max_entitlements_bytes: Option<usize>,
    entitlements_download_timeout: Option<Duration>,
    #[cfg(feature = "redis")]
    redis: Option<RedisCache>,
    hosted_login: Option<LoginSettings>,
}

/// Defaults, in one place so that the docs and the code agree.
pub mod defaults {
    use std::time::Duration;
    /// Clock skew tolerated on `exp` and `nbf`.
    pub const LEEWAY: Duration = Duration::from_secs(10);
    /// The largest token accepted, in bytes.
    pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
    /// Timeout of each HTTP attempt to Frontegg.
    pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
    /// After a refetch caused by an unknown `kid`, other unknown `kid`s cause none for this long.
    pub const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(30);
    /// Bounds applied to a JWKS `Cache-Control: max-age`.
    pub const REFRESH_BOUNDS: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(24 * 3600));
    /// Key refresh interval when the answer carries no `max-age`.
    pub const REFRESH_INTERVAL: Duration = Duration::from_secs(15 * 60);
    /// The largest JWKS or configuration answer read, in bytes.
    pub const MAX_JWKS_BYTES: usize = 256 * 1024;
    /// How long an access-token lookup is trusted (the official SDKs' value).
    pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(10);
    /// Entries in the lookup cache (access tokens and users together) and remembered tokens.
    pub const CACHE_CAPACITY: u64 = 10_000;
    /// Retries of an API call on timeouts, connection errors, 5xx and 429.
    pub const API_RETRIES: u32 = 2;
    /// How often the entitlements snapshot's offset is polled.
    pub const ENTITLEMENTS_POLL: Duration = Duration::from_secs(30);
    /// How long a check waits for the first entitlements snapshot before its 503.
    pub const ENTITLEMENTS_FIRST_LOAD_TIMEOUT: Duration = Duration::from_secs(3);
    /// The largest entitlements snapshot read, in bytes (a large vendor's is tens of megabytes).
    pub const MAX_ENTITLEMENTS_BYTES: usize = 64 * 1024 * 1024;
}

impl ConfigBuilder {
    /// A builder filled from the environment: `FRONTEGG_BASE_URL`, `FRONTEGG_CLIENT_ID`,
    /// `FRONTEGG_API_KEY` and `FRONTEGG_API_GATEWAY_URL` (default: the EU gateway), and with the
    /// feature `redis` the shared cache ([`RedisCache::from_env`](crate::RedisCache::from_env):
    /// `FRONTEGG_REDIS_URL`, ...), and when `FRONTEGG_APP_URL` is set, the hosted login
    /// ([`LoginSettings::from_env`]). Unset or empty variables are left unset. Without the feature,
    /// a set `FRONTEGG_REDIS_URL` is an error rather than a cache silently not shared.
    pub fn from_env() -> Result<ConfigBuilder, ConfigError> {
        let var = |name| crate::environment::var(name).map_err(|reason| ConfigError::Env { name, reason });
        #[cfg(not(feature = "redis"))]
        if var("FRONTEGG_REDIS_URL")?.is_some() {
            return Err(ConfigError::Env {
                name: "FRONTEGG_REDIS_URL",
                reason: "is set, but frontegg-auth was built without its `redis` feature",
            });
        }
        Ok(ConfigBuilder {
            base_url: var("FRONTEGG_BASE_URL")?,
            client_id: var("FRONTEGG_CLIENT_ID")?,
            api_key: var("FRONTEGG_API_KEY")?.map(ApiKey::new),
            gateway_url: var("FRONTEGG_API_GATEWAY_URL")?,
            #[cfg(feature = "redis")]
            redis: RedisCache::from_env().map_err(ConfigError::Redis)?,
            hosted_login: LoginSettings::from_env()
                .and_then(|builder| builder.map(|b| b.build()).transpose())
                .map_err(ConfigError::Login)?,
            ..ConfigBuilder::default()
        })
    }

    /// The environment's domain (`https://app-xxxx.frontegg.com` or a custom domain): the expected
    /// issuer and the host of the JWKS.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The vendor credentials: needed for access tokens, the vendor-configuration key source and
    /// the management API.
    pub fn credentials(mut self, client_id: impl Into<String>, api_key: impl Into<ApiKey>) -> Self {
        self.client_id = Some(client_id.into());
        self.api_key = Some(api_key.into());
        self
    }

    /// The API gateway of a region.
    pub fn region(mut self, region: Region) -> Self {
        self.gateway_url = Some(region.gateway_url().to_owned());
        self
    }

    /// The API gateway URL (default: the EU gateway).
    pub fn gateway_url(mut self, url: impl Into<String>) -> Self {
        self.gateway_url = Some(url.into());
        self
    }

    /// Where signing keys come from (default: see [`KeySource`]).
    pub fn key_source(mut self, source: KeySource) -> Self {
        self.key_source = Some(source);
        self
    }

    /// The issuer a token must carry (default: the base URL; a trailing slash is ignored).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(Some(issuer.into()));
        self
    }

    /// Accepts any issuer. Without a base URL and without [`issuer`](Self::issuer), this is what
    /// happens anyway, as the official SDKs do: the signature still binds the token to the
    /// environment's key.
    pub fn skip_issuer_check(mut self) -> Self {
        self.issuer = Some(None);
        self
    }

    /// Audiences accepted in `aud` (default: not checked). Frontegg sets `aud` to the client id.
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 10 s, at most 5 min).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Algorithms accepted (default `[RS256]`). RSA algorithms only (RS256/384/512, PS256/384/512);
    /// `HS256` is added by [`hs256_secret`](Self::hs256_secret) and by nothing else.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Accepts HS256 tokens signed with this secret (environments switched to HS256).
    pub fn hs256_secret(mut self, secret: impl Into<JwtSecret>) -> Self {
        self.hs256_secret = Some(secret.into());
        self
    }

    /// The largest token accepted, in bytes (default 16 KiB).
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = Some(max);
        self
    }

    /// Whether a granted permission containing `*` is a pattern (default `true`, as Frontegg's
    /// entitlements engine does). See [`crate::requirement`].
    pub fn wildcard_permissions(mut self, enabled: bool) -> Self {
        self.wildcard_permissions = Some(enabled);
        self
    }

    /// Timeout of each HTTP attempt to Frontegg (default 5 s). A call makes up to
    /// 1 + [`api_retries`](Self::api_retries) attempts, with backoff between them.
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = Some(timeout);
        self
    }

    /// After a refetch that a token with an unknown `kid` caused, tokens with unknown `kid`s cause
    /// no other refetch for this long (default 30 s). Start-up and background fetches start no
    /// cooldown, so a key rotated just after them is accepted on its first token.
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.unknown_kid_cooldown = Some(cooldown);
        self
    }

    /// Bounds applied to a key answer's `Cache-Control: max-age` (default 60 s to 24 h), and the
    /// interval used when it has none (default 15 min, clamped to the bounds).
    pub fn key_refresh(mut self, min: Duration, default: Duration, max: Duration) -> Self {
        self.refresh_bounds = Some((min, max));
        self.default_refresh = Some(default);
        self
    }

    /// The largest JWKS or configuration answer read, in bytes (default 256 KiB).
    pub fn max_jwks_bytes(mut self, max: usize) -> Self {
        self.max_jwks_bytes = Some(max);
        self
    }

    /// How long an access-token lookup (or a user lookup) is cached (default 10 s, at most an
    /// hour): the longest a revoked access token is still accepted.
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = Some(ttl);
        self
    }

    /// Entries in each lookup cache (default 10 000).
    pub fn cache_capacity(mut self, capacity: u64) -> Self {
        self.cache_capacity = Some(capacity);
        self
    }

    /// When a user token carries neither roles nor permissions, read them through
    /// `vendor-only/users/v1/{userId}` (default `false`; needs credentials).
    pub fn resolve_user_roles(mut self, enabled: bool) -> Self {
        self.resolve_user_roles = Some(enabled);
        self
    }

    /// Retries of a Frontegg API call on timeouts, connection errors, 5xx and 429 (default 2).
    pub fn api_retries(mut self, retries: u32) -> Self {
        self.api_retries = Some(retries);
        self
    }

    /// Whether a token that verified is remembered (by its exact bytes, at most 60 s, never past
    /// its `exp` plus the leeway, forgotten whenever the key set changes) so that the next request
    /// with the same token skips the signature check (default `true`). Each remembered token holds
    /// about 5 times its length in memory, up to [`cache_capacity`](Self::cache_capacity) tokens.
    pub fn cache_verified_tokens(mut self, enabled: bool) -> Self {
        self.cache_verified_tokens = Some(enabled);
        self
    }

    /// Loads Frontegg's entitlements snapshot (plans, features, flags) and keeps it fresh, so
    /// that entitlement requirements are checked locally (default `false`; needs credentials).
    pub fn entitlements(mut self, enabled: bool) -> Self {
        self.entitlements = Some(enabled);
        self
    }

    /// How often the snapshot's offset is polled; the snapshot is downloaded only when it
    /// changed (default 30 s, at least 100 ms).
    pub fn entitlements_poll_interval(mut self, interval: Duration) -> Self {
        self.entitlements_poll = Some(interval);
        self
    }

    /// How long a request waits for the first snapshot before its 503 (default 3 s).
    pub fn entitlements_first_load_timeout(mut self, timeout: Duration) -> Self {
        self.entitlements_first_load_timeout = Some(timeout);
        self
    }

    /// The timeout of the snapshot's download, its body included (default 60 s: a large
    /// vendor's snapshot is tens of megabytes). Other calls keep [`http_timeout`](Self::http_timeout).
    pub fn entitlements_download_timeout(mut self, timeout: Duration) -> Self {
        self.entitlements_download_timeout = Some(timeout);
        self
    }

    /// The largest snapshot read, in bytes (default 64 MiB, at least 1 KiB).
    pub fn max_entitlements_bytes(mut self, max: usize) -> Self {
        self.max_entitlements_bytes = Some(max);
        self
    }

    /// Whether a login whose second factor was an identity provider's (`amr: ["mfa", "sso"]`)
    /// counts as a step-up (default `true`, as Frontegg's Node SDK; its mobile SDKs do not).
    pub fn step_up_accepts_sso(mut self, accepts: bool) -> Self {
        self.sso_counts_as_mfa = Some(accepts);
        self
    }

    /// The clock that requirement checks read the time from (default: the system clock). Tests
    /// set it to check time-dependent requirements without sleeping.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Shares access-token and user lookups with the other instances through Redis: see
    /// [`shared_cache`](crate::shared_cache). Needs the credentials.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, cache: RedisCache) -> Self {
        self.redis = Some(cache);
        self
    }

    /// Turns on the hosted login: [`HostedLogin`](crate::HostedLogin), its routes in the
    /// adapters, and the session cookie as a credential. Needs the base URL and the credentials.
    pub fn hosted_login(mut self, settings: LoginSettings) -> Self {
        self.hosted_login = Some(settings);
        self
    }

    /// Checks everything and builds.
    pub fn build(self) -> Result<Config, ConfigError> {
        let base_url = self.base_url.as_deref().map(|u| parse_url("the base URL", u)).transpose()?;
        let gateway_url =
            parse_url("the API gateway URL", self.gateway_url.as_deref().unwrap_or(Region::Eu.gateway_url()))?;

        let (client_id, api_key) = match (self.client_id, self.api_key) {
            (None, None) => (None, None),
            (Some(id), Some(key)) if !id.trim().is_empty() && !key.is_empty() => (Some(id), Some(key)),
            _ => return Err(ConfigError::IncompleteCredentials),
        };

        let key_source = match (self.key_source, &base_url, &api_key) {
            (Some(source), _, _) => source,
            (None, Some(base), _) => {
                KeySource::Jwks(format!("{}/.well-known/jwks.json", base.as_str().trim_end_matches('/')))
            }
            (None, None, Some(_)) => KeySource::VendorConfiguration,
            (None, None, None) => return Err(ConfigError::NoKeySource),
        };
        // Static keys are parsed here, once, by the parser the key cache uses: a key it would
        // refuse fails the build instead of answering 503 forever.
        let static_keys = match &key_source {
            KeySource::Jwks(url) => {
                parse_url("the JWKS URL", url)?;
                None
            }
            KeySource::VendorConfiguration if api_key.is_none() => {
                return Err(ConfigError::CredentialsRequired);
            }
            KeySource::VendorConfiguration => None,
            KeySource::StaticPem(pem) => Some(Arc::new(KeySet::from_pem(pem).map_err(ConfigError::StaticKey)?)),
            KeySource::StaticJwks(json) => {
                Some(Arc::new(KeySet::from_static_jwks(json.as_bytes()).map_err(ConfigError::StaticKey)?))
            }
        };

        let issuer = match self.issuer {
            Some(explicit) => explicit.map(|i| i.trim_end_matches('/').to_owned()),
            None => base_url.as_ref().map(|u| u.as_str().trim_end_matches('/').to_owned()),
        };

        let mut algorithms = self.algorithms.unwrap_or_else(|| vec![Algorithm::RS256]);
        for alg in &algorithms {
            match alg {
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512 => {}
                Algorithm::HS256 if self.hs256_secret.is_some() => {}
                Algorithm::HS256 => {
                    return Err(ConfigError::Algorithms("HS256 needs an explicit secret: use hs256_secret()".into()));
                }
                other => {
                    return Err(ConfigError::Algorithms(format!(
                        "{other:?} is not supported (Frontegg signs with RS256, or HS256 when switched)"
                    )));
                }
            }
        }
        if let Some(secret) = &self.hs256_secret {
            if secret.is_empty() {
                return Err(ConfigError::Algorithms("the HS256 secret is empty".into()));
            }
            if !algorithms.contains(&Algorithm::HS256) {
                algorithms.push(Algorithm::HS256);
            }
        }
        if algorithms.is_empty() {
            return Err(ConfigError::Algorithms("no algorithm is allowed".into()));
        }
        let mut seen = Vec::with_capacity(algorithms.len());
        algorithms.retain(|a| {
            if seen.contains(a) {
                false
            } else {
                seen.push(*a);
                true
            }
        });

        let leeway = self.leeway.unwrap_or(defaults::LEEWAY);
        if leeway > Duration::from_secs(300) {
            return Err(ConfigError::OutOfRange { what: "the leeway", reason: "must be at most 5 minutes" });
        }
        let max_token_bytes = self.max_token_bytes.unwrap_or(defaults::MAX_TOKEN_BYTES);
        if max_token_bytes < 256 {
            return Err(ConfigError::OutOfRange { what: "max_token_bytes", reason: "must be at least 256" });
        }
        let http_timeout = self.http_timeout.unwrap_or(defaults::HTTP_TIMEOUT);
        if http_timeout.is_zero() {
            return Err(ConfigError::OutOfRange { what: "the HTTP timeout", reason: "must not be zero" });
        }
        let refresh_bounds = self.refresh_bounds.unwrap_or(defaults::REFRESH_BOUNDS);
        if refresh_bounds.0.is_zero() || refresh_bounds.0 > refresh_bounds.1 {
            return Err(ConfigError::OutOfRange { what: "the key refresh bounds", reason: "need 0 < min <= max" });
        }
        let default_refresh =
            self.default_refresh.unwrap_or(defaults::REFRESH_INTERVAL).clamp(refresh_bounds.0, refresh_bounds.1);
        let cache_capacity = self.cache_capacity.unwrap_or(defaults::CACHE_CAPACITY);
        if cache_capacity == 0 {
            return Err(ConfigError::OutOfRange { what: "the cache capacity", reason: "must not be zero" });
        }
        let access_token_ttl = self.access_token_ttl.unwrap_or(defaults::ACCESS_TOKEN_TTL);
        if access_token_ttl.is_zero() || access_token_ttl > Duration::from_secs(3600) {
            return Err(ConfigError::OutOfRange {
                what: "the access-token TTL",
                reason: "must be more than zero and at most an hour (it is how long a revoked token is still accepted)",
            });
        }
        let resolve_user_roles = self.resolve_user_roles.unwrap_or(false);
        if resolve_user_roles && api_key.is_none() {
            return Err(ConfigError::CredentialsRequired);
        }

        let entitlements = if self.entitlements.unwrap_or(false) {
            if api_key.is_none() {
                return Err(ConfigError::CredentialsRequired);
            }
            let poll = self.entitlements_poll.unwrap_or(defaults::ENTITLEMENTS_POLL);
            let first_load_timeout =
                self.entitlements_first_load_timeout.unwrap_or(defaults::ENTITLEMENTS_FIRST_LOAD_TIMEOUT);
            if poll < Duration::from_millis(100) || first_load_timeout.is_zero() {
                return Err(ConfigError::OutOfRange {
                    what: "the entitlements settings",
                    reason: "need a poll interval of at least 100 ms and a first-load timeout above zero",
                });
            }
            Some(EntitlementsSettings {
                poll,
                first_load_timeout,
                max_bytes: self.max_entitlements_bytes.unwrap_or(defaults::MAX_ENTITLEMENTS_BYTES).max(1024),
                download_timeout: self.entitlements_download_timeout.unwrap_or(Duration::from_secs(60)),
            })
        } else {
            None
        };

        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            if api_key.is_none() {
                return Err(ConfigError::CredentialsRequired);
            }
            redis.check().map_err(ConfigError::Redis)?;
        }

        if self.hosted_login.is_some() && (base_url.is_none() || api_key.is_none()) {
            return Err(ConfigError::LoginNeedsBaseUrlAndCredentials);
        }

        Ok(Config {
            base_url,
            gateway_url,
            client_id,
            api_key,
            key_source,
            static_keys,
            issuer,
            audiences: self.audiences,
            leeway,
            algorithms,
            hs256_secret: self.hs256_secret,
            max_token_bytes,
            wildcard_permissions: self.wildcard_permissions.unwrap_or(true),
            http_timeout,
            unknown_kid_cooldown: self.unknown_kid_cooldown.unwrap_or(defaults::UNKNOWN_KID_COOLDOWN),
            refresh_bounds,
            default_refresh,
            max_jwks_bytes: self.max_jwks_bytes.unwrap_or(defaults::MAX_JWKS_BYTES).max(1024),
            access_token_ttl,
            cache_capacity,
            resolve_user_roles,
            api_retries: self.api_retries.unwrap_or(defaults::API_RETRIES),
            cache_verified_tokens: self.cache_verified_tokens.unwrap_or(true),
            clock: self.clock.unwrap_or_default(),
            sso_counts_as_mfa: self.sso_counts_as_mfa.unwrap_or(true),
            entitlements,
            #[cfg(feature = "redis")]
            redis: self.redis,
            hosted_login: self.hosted_login,
        })
    }
}

/// Parses an absolute URL and refuses clear text to anything but loopback.
fn parse_url(what: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim()).map_err(|e| ConfigError::InvalidUrl { what, reason: e.to_string() })?;
    match url.scheme() {
        "https" => {}
        "http" if crate::login::is_loopback(&url) => {}
        "http" => return Err(ConfigError::InsecureUrl { what }),
        _ => {
            return Err(ConfigError::InvalidUrl { what, reason: "the scheme must be https".into() });
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::InvalidUrl { what, reason: "it has no host".into() });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_gives_jwks_and_issuer() {
        let c = Config::builder().base_url("https://app-x.frontegg.com/").build().unwrap();
        assert_eq!(c.issuer(), Some("https://app-x.frontegg.com"));
        assert_eq!(c.key_source(), &KeySource::Jwks("https://app-x.frontegg.com/.well-known/jwks.json".into()));
        assert_eq!(c.gateway_url(), "https://api.frontegg.com");
    }

    #[test]
    fn credentials_alone_use_the_vendor_configuration() {
        let c = Config::builder().credentials("id", "key").region(Region::Au).build().unwrap();
        assert_eq!(c.key_source(), &KeySource::VendorConfiguration);
        assert_eq!(c.issuer(), None);
        assert_eq!(c.gateway_url(), "https://api.au.frontegg.com");
    }

    #[test]
    fn wrong_configurations_fail_at_build() {
        assert!(matches!(Config::builder().build(), Err(ConfigError::NoKeySource)));
        assert!(matches!(
            Config::builder().base_url("http://auth.example.com").build(),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(matches!(Config::builder().base_url("not a url").build(), Err(ConfigError::InvalidUrl { .. })));
        assert!(Config::builder().base_url("http://127.0.0.1:9").build().is_ok());
        assert!(matches!(Config::builder().credentials("id", "").build(), Err(ConfigError::IncompleteCredentials)));
        assert!(matches!(
            Config::builder().base_url("https://a.b").algorithms([Algorithm::HS256]).build(),
            Err(ConfigError::Algorithms(_))
        ));
        assert!(matches!(
            Config::builder().base_url("https://a.b").algorithms([Algorithm::ES256]).build(),
            Err(ConfigError::Algorithms(_))
        ));
        assert!(matches!(
            Config::builder().key_source(KeySource::StaticPem("nope".into())).build(),
            Err(ConfigError::StaticKey(KeySetError::NotRsaPem))
        ));
        assert!(matches!(
            Config::builder().key_source(KeySource::VendorConfiguration).build(),
            Err(ConfigError::CredentialsRequired)
        ));
        for ttl in [Duration::ZERO, Duration::from_secs(3601), Duration::MAX] {
            assert!(matches!(
                Config::builder().base_url("https://a.b").access_token_ttl(ttl).build(),
                Err(ConfigError::OutOfRange { .. })
            ));
        }
    }

    #[test]
    fn a_static_jwks_must_serve_whole() {
        use base64::Engine as _;
        let n = |bytes: usize| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![0xC5u8; bytes]);
        let good = serde_json::json!({"kty": "RSA", "n": n(256), "e": "AQAB", "kid": "good"});
        let weak = serde_json::json!({"kty": "RSA", "n": n(128), "e": "AQAB", "kid": "weak"});
        let whole = serde_json::json!({"keys": [good]}).to_string();
        assert!(Config::builder().key_source(KeySource::StaticJwks(whole)).build().is_ok());
        let partly = serde_json::json!({"keys": [good, weak]}).to_string();
        assert!(matches!(
            Config::builder().key_source(KeySource::StaticJwks(partly)).build(),
            Err(ConfigError::StaticKey(KeySetError::UnusableKey { index: 1, reason: crate::SkippedKey::WeakModulus }))
        ));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Config::builder()
            .base_url("https://a.b")
            .credentials("id", "very-secret-key")
            .hs256_secret("very-secret-hmac")
            .build()
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret"), "{dbg}");
        assert!(c.algorithms.contains(&Algorithm::HS256));
    }
}
