//! The shared cache (feature `redis`): access-token and user lookups kept in a Redis or Redis
//! Cluster that every instance of a service reads and writes, so that a fleet makes one lookup
//! per token per TTL instead of one per instance, and a revocation one instance learns reaches
//! the others.
//!
//! # How an answer is found
//!
//! 1. The instance's own cache (the first level), kept short: [`RedisCache::first_level_ttl`]
//!    (1 s by default), and never longer than the entry's remaining time in Redis.
//! 2. Redis: one round trip (`GETRANGE` and `PTTL` of one key), bounded by
//!    [`RedisCache::timeout`] (50 ms by default).
//! 3. The Frontegg API. The answer goes to the caller first; it is written to Redis afterwards
//!    (`SET key value PX ttl`) by a background task, so the write adds nothing to the request.
//!
//! Cold caches under concurrency make one lookup per token per instance: concurrent requests
//! for one token wait for the same lookup.
//!
//! # What is stored
//!
//! Keys live under `frontegg-rs:v1:{client id}:`, so environments can share a Redis. A value is
//! versioned JSON of ids and rights: the kind of lookup, the token or user id, the tenant asked
//! about, and the verdict (active with roles and permissions, or refused: revoked, unknown,
//! disabled). Never a token, a signature, a vendor token or a secret. Failures (timeouts, 5xx,
//! 429) are never stored, here or in process.
//!
//! Whatever is read back is checked: a value that does not parse, names another kind, id or
//! tenant than its key, is larger than 256 KiB, has no expiry or a longer one than the
//! configured TTL is a miss, looked up again and overwritten. It is never a grant and never a
//! 500.
//!
//! # Who can grant rights
//!
//! **Whoever can write to this Redis can grant any rights to any access token** of the
//! environment: the value says which roles and permissions a token has. Keep the Redis private
//! to the service (network, ACL user, TLS). Where that is not enough, set
//! [`RedisCache::hmac_key`]: every value then carries an HMAC-SHA256 tag over its key and its
//! content, and a value without a valid tag is a miss. All instances sharing the keys must use
//! the same HMAC key (or all none): otherwise they overwrite each other's values.
//!
//! # Faults
//!
//! Redis down, slow or answering garbage refuses no request: the instance uses its own cache and
//! asks Frontegg directly, as without the feature, and keeps what it looked up for the whole
//! TTL while Redis is out of use or refuses writes (an outage must not multiply the calls to
//! Frontegg). After [`RedisCache::breaker`] consecutive failures (3) it stops asking Redis for a
//! pause (1 s), then lets one request probe it; the first success puts Redis back in use. A
//! connection that failed otherwise than by I/O (a refused password, say) is dropped and opened
//! anew by the next probe.
//!
//! The connection opens in the background, from the moment the
//! [`Authenticator`](crate::Authenticator) is built inside a Tokio runtime: nothing waits for
//! it at start. A request that finds it still opening waits for it at most the timeout; with
//! Redis down at start, that is the first few requests' lookups, until the breaker opens.
//! Dropping the last clone of the authenticator closes the connections;
//! [`Authenticator::shutdown`](crate::Authenticator::shutdown) also waits for the pending
//! writes, and no connection opens after it.

mod breaker;
pub(crate) mod link;
pub(crate) mod record;
mod store;

use std::fmt;
use std::time::Duration;

pub(crate) use store::{Read, SharedCache};

/// Why a shared-cache setting was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RedisCacheError {
    /// The URL does not parse, or its scheme is neither `redis` nor `rediss`.
    #[error("the Redis URL is not valid: {0}")]
    InvalidUrl(&'static str),
    /// A cluster needs at least one node.
    #[error("a Redis Cluster needs at least one node URL")]
    NoNodes,
    /// The HMAC key is shorter than 32 bytes.
    #[error("the Redis HMAC key must be at least 32 bytes long")]
    ShortHmacKey,
    /// A duration or count out of its range.
    #[error("{what} {reason}")]
    OutOfRange {
        /// Which setting.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// redis-rs refused the settings (an unreadable CA certificate, for instance); the kind of
    /// its error.
    #[error("redis-rs cannot use these settings ({0})")]
    Client(String),
    /// An environment variable holds something unusable.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

crate::secret::secret! {
    /// The key of the HMAC tag over each value in the shared cache (`FRONTEGG_REDIS_HMAC_KEY`):
    /// at least 32 bytes, the same on every instance.
    ///
    /// ```
    /// use frontegg_auth::RedisHmacKey;
    /// assert_eq!(format!("{:?}", RedisHmacKey::new("k")), "RedisHmacKey(<redacted>)");
    /// ```
    RedisHmacKey
}

/// A Redis URL: it may carry a password, so its `Debug` shows only where it points.
#[derive(Clone)]
pub(crate) struct RedisUrl(url::Url);

impl RedisUrl {
    fn parse(raw: &str) -> Result<RedisUrl, RedisCacheError> {
        let url = url::Url::parse(raw.trim()).map_err(|_| RedisCacheError::InvalidUrl("it does not parse"))?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(RedisCacheError::InvalidUrl("the scheme must be redis:// or rediss://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(RedisCacheError::InvalidUrl("it names no host"));
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u16>().is_err() {
            return Err(RedisCacheError::InvalidUrl("the path must be a database number"));
        }
        Ok(RedisUrl(url))
    }

    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.0.scheme() == "rediss"
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.0;
        let password = if url.password().is_some() { ":<redacted>" } else { "" };
        let user = match (url.username(), password) {
            ("", "") => String::new(),
            (user, password) => format!("{user}{password}@"),
        };
        let host = url.host_str().unwrap_or_default();
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        write!(f, "{}://{user}{host}{port}{}", url.scheme(), url.path())
    }
}

/// The shared cache's settings: where the Redis is, how long to wait for it, and how values
/// are protected. Pass it to [`ConfigBuilder::redis`](crate::ConfigBuilder::redis); see the
/// [module docs](self) for what is stored and what happens when Redis fails.
///
/// ```
/// use std::time::Duration;
/// use frontegg_auth::{Config, RedisCache};
///
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let redis = RedisCache::new("rediss://cache-user:pw@redis.internal:6380/2")?
///     .hmac_key("a key of at least thirty-two bytes, from a secret store")?
///     .timeout(Duration::from_millis(30));
/// let config = Config::builder()
///     .base_url("https://app-xxxx.frontegg.com")
///     .credentials("client-id", "api-key")
///     .redis(redis)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisCache {
    pub(crate) nodes: Vec<RedisUrl>,
    pub(crate) cluster: bool,
    pub(crate) hmac_key: Option<RedisHmacKey>,
    pub(crate) timeout: Duration,
    pub(crate) first_level_ttl: Duration,
    pub(crate) breaker_failures: u32,
    pub(crate) breaker_pause: Duration,
    pub(crate) root_certificate: Option<Vec<u8>>,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("nodes", &self.nodes)
            .field("cluster", &self.cluster)
            .field("hmac_key", &self.hmac_key)
            .field("timeout", &self.timeout)
            .field("first_level_ttl", &self.first_level_ttl)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_pause", &self.breaker_pause)
            .field("root_certificate", &self.root_certificate.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The shared cache's defaults.
pub mod defaults {
    use std::time::Duration;
    /// How long one Redis call may take before the instance goes on without it.
    pub const TIMEOUT: Duration = Duration::from_millis(50);
    /// How long an instance keeps an answer itself before asking Redis again.
    pub const FIRST_LEVEL_TTL: Duration = Duration::from_secs(1);
    /// Consecutive failures that put Redis out of use.
    pub const BREAKER_FAILURES: u32 = 3;
    /// How long Redis stays out of use before one request probes it.
    pub const BREAKER_PAUSE: Duration = Duration::from_secs(1);
}

impl RedisCache {
    /// One Redis server: `redis://[user[:password]@]host[:port][/db]`, or `rediss://` for TLS
    /// (rustls; the system's roots unless [`root_certificate_pem`](Self::root_certificate_pem)).
    pub fn new(url: &str) -> Result<RedisCache, RedisCacheError> {
        Ok(RedisCache::with_nodes(vec![RedisUrl::parse(url)?], false))
    }

    /// A Redis Cluster, found through any of these nodes (same URL forms as [`new`](Self::new);
    /// a cluster has no database number).
    pub fn cluster<I, S>(nodes: I) -> Result<RedisCache, RedisCacheError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let nodes = nodes.into_iter().map(|n| RedisUrl::parse(n.as_ref())).collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(RedisCacheError::NoNodes);
        }
        if nodes.iter().any(|n| !n.0.path().trim_start_matches('/').is_empty()) {
            return Err(RedisCacheError::InvalidUrl("a Redis Cluster has no database number"));
        }
        Ok(RedisCache::with_nodes(nodes, true))
    }

    fn with_nodes(nodes: Vec<RedisUrl>, cluster: bool) -> RedisCache {
        RedisCache {
            nodes,
            cluster,
            hmac_key: None,
            timeout: defaults::TIMEOUT,
            first_level_ttl: defaults::FIRST_LEVEL_TTL,
            breaker_failures: defaults::BREAKER_FAILURES,
            breaker_pause: defaults::BREAKER_PAUSE,
            root_certificate: None,
        }
    }

    /// From the environment: `FRONTEGG_REDIS_URL` (one URL; several, comma-separated, name the
    /// nodes of a cluster; `FRONTEGG_REDIS_CLUSTER=true` makes a single URL a cluster's) and
    /// `FRONTEGG_REDIS_HMAC_KEY`. `Ok(None)` when `FRONTEGG_REDIS_URL` is unset or empty.
    pub fn from_env() -> Result<Option<RedisCache>, RedisCacheError> {
        let var = |name| crate::environment::var(name).map_err(|reason| RedisCacheError::Env { name, reason });
        let Some(urls) = var("FRONTEGG_REDIS_URL")? else { return Ok(None) };
        let cluster = match var("FRONTEGG_REDIS_CLUSTER")?.as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => {
                return Err(RedisCacheError::Env { name: "FRONTEGG_REDIS_CLUSTER", reason: "must be true or false" });
            }
        };
        let nodes: Vec<&str> = urls.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
        let mut cache = match nodes.as_slice() {
            [one] if !cluster => RedisCache::new(one)?,
            _ => RedisCache::cluster(nodes)?,
        };
        if let Some(key) = var("FRONTEGG_REDIS_HMAC_KEY")? {
            cache = cache.hmac_key(key)?;
        }
        Ok(Some(cache))
    }

    /// Protects every value with an HMAC-SHA256 tag under this key (at least 32 bytes); values
    /// without a valid tag are misses. See [who can grant rights](self#who-can-grant-rights).
    pub fn hmac_key(mut self, key: impl Into<RedisHmacKey>) -> Result<RedisCache, RedisCacheError> {
        let key = key.into();
        if key.expose().len() < 32 {
            return Err(RedisCacheError::ShortHmacKey);
        }
        self.hmac_key = Some(key);
        Ok(self)
    }

    /// How long one Redis call may take (default 50 ms); beyond it the request goes on without
    /// Redis. At least 1 ms, at most 5 s.
    pub fn timeout(mut self, timeout: Duration) -> RedisCache {
        self.timeout = timeout;
        self
    }

    /// How long an instance keeps an answer itself before asking Redis again (default 1 s; never
    /// longer than the access-token TTL, nor than the entry's remaining time in Redis). A
    /// revocation that another instance learned reaches this one at most this long after the
    /// shared entry changed.
    pub fn first_level_ttl(mut self, ttl: Duration) -> RedisCache {
        self.first_level_ttl = ttl;
        self
    }

    /// After `failures` consecutive failed calls (default 3), Redis is left alone for `pause`
    /// (default 1 s); then one request probes it.
    pub fn breaker(mut self, failures: u32, pause: Duration) -> RedisCache {
        self.breaker_failures = failures;
        self.breaker_pause = pause;
        self
    }

    /// Trusts this CA certificate (PEM) for `rediss://` instead of the system's roots.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> RedisCache {
        self.root_certificate = Some(pem.into());
        self
    }

    /// Checks the settings' ranges (called by the configuration's build).
    pub(crate) fn check(&self) -> Result<(), RedisCacheError> {
        if self.timeout < Duration::from_millis(1) || self.timeout > Duration::from_secs(5) {
            return Err(RedisCacheError::OutOfRange {
                what: "the Redis timeout",
                reason: "must be between 1 ms and 5 s",
            });
        }
        if self.first_level_ttl.is_zero() {
            return Err(RedisCacheError::OutOfRange { what: "the first-level TTL", reason: "must be more than zero" });
        }
        if self.breaker_failures == 0 || self.breaker_pause.is_zero() || self.breaker_pause > Duration::from_secs(3600)
        {
            return Err(RedisCacheError::OutOfRange {
                what: "the Redis breaker",
                reason: "needs at least one failure and a pause above zero and at most an hour",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_never_shown() {
        let cache = RedisCache::new("rediss://user:hunter2-secret@redis.internal:6380/3").unwrap();
        let shown = format!("{cache:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redis.internal:6380/3"), "{shown}");
        assert!(cache.nodes[0].is_tls());
        for bad in ["http://redis:6379", "redis://", "not a url", "redis://host/db"] {
            assert!(RedisCache::new(bad).is_err(), "{bad}");
        }
        assert!(matches!(RedisCache::cluster(Vec::<String>::new()), Err(RedisCacheError::NoNodes)));
        let cluster = RedisCache::cluster(["redis://a:7000", "redis://b:7001"]).unwrap();
        assert!(cluster.cluster && cluster.nodes.len() == 2);
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let cache = || RedisCache::new("redis://127.0.0.1").unwrap();
        assert!(matches!(cache().hmac_key("short"), Err(RedisCacheError::ShortHmacKey)));
        let keyed = cache().hmac_key("k".repeat(32)).unwrap();
        assert!(!format!("{keyed:?}").contains("kkkk"));
        assert!(cache().check().is_ok());
        assert!(cache().timeout(Duration::ZERO).check().is_err());
        assert!(cache().timeout(Duration::from_secs(6)).check().is_err());
        assert!(cache().first_level_ttl(Duration::ZERO).check().is_err());
        assert!(cache().breaker(0, Duration::from_secs(1)).check().is_err());
        assert!(cache().breaker(3, Duration::ZERO).check().is_err());
        assert!(cache().breaker(3, Duration::MAX).check().is_err());
        assert!(RedisCache::cluster(["redis://a:7000/1"]).is_err());
        let builder = || crate::Config::builder().base_url("https://app.example.com");
        let without_credentials = builder().redis(cache()).build();
        assert!(matches!(without_credentials, Err(crate::ConfigError::CredentialsRequired)));
        let out_of_range = builder().credentials("id", "key").redis(cache().timeout(Duration::ZERO)).build();
        assert!(matches!(out_of_range, Err(crate::ConfigError::Redis(_))));
        assert!(builder().credentials("id", "key").redis(cache()).build().is_ok());
    }
}
