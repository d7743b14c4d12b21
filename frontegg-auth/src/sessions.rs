//! Where hosted-login sessions are kept: in process, or in Redis for a fleet. A session is
//! stored under the hash of its id ([`SessionId::storage_key`]) and sealed with the session keys
//! (AES-256-GCM, bound to that key), in both stores: what it holds are tokens.
//!
//! A store that cannot answer is an error, never "no session": the request path answers 503 for
//! it, never a 401 or a logout.
//!
//! The idle lifetime is the store's own expiry, extended by reads (in process: on every read;
//! in Redis: a `PEXPIRE` whenever an instance reads past its first level), so that marking
//! activity never rewrites the record: a write of a stale record could put back a refresh token
//! that a refresh had just rotated.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moka::Expiry;
use moka::future::Cache;
use serde::{Deserialize, Serialize};

use crate::login::{LoginSettings, StoreSettings};
use crate::sealing::{SessionId, SessionKeys};
use crate::secret::TokenString;

/// What a session holds. Times are Unix milliseconds.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The access token: a Frontegg user JWT, verified when it was stored.
    pub(crate) access: String,
    /// The refresh token, rotated by every refresh.
    #[serde(default)]
    pub(crate) refresh: Option<String>,
    /// When the access token expires, and when it was issued.
    pub(crate) expires: u64,
    pub(crate) issued: u64,
    /// The login, for the absolute lifetime.
    pub(crate) created: u64,
    /// The user: a refresh must bring a token of the same one.
    pub(crate) sub: String,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record").field("expires", &self.expires).field("created", &self.created).finish_non_exhaustive()
    }
}

impl Record {
    pub(crate) fn access_token(&self) -> TokenString {
        TokenString::new(self.access.clone())
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Why the store could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreDown;

/// The largest sealed session a store takes: what Redis reads back at most.
const MAX_SEALED_BYTES: usize = 64 * 1024;

/// How a write that must not create a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replaced {
    Yes,
    /// The session is gone (a logout, an expiry): it stays gone.
    Gone,
}

/// The additional data of a sealed session: its place, so that a value moved under another key
/// does not open.
fn aad(key: &str) -> Vec<u8> {
    format!("frontegg-rs:session:v1:{key}").into_bytes()
}

/// A session read back from a store: a value that does not open (tampered, another key's,
/// sealed with a dropped key) or does not parse is no session.
pub(crate) fn open_record(keys: &SessionKeys, key: &str, sealed: &[u8]) -> Option<Record> {
    keys.open(sealed, &aad(key)).and_then(|plain| serde_json::from_slice::<Record>(&plain).ok())
}

/// Sealed bytes and the session's absolute end (Unix ms), for the in-process store.
#[derive(Clone)]
struct Stored {
    sealed: Arc<[u8]>,
    ends: u64,
}

/// The in-process store's expiry: the idle lifetime from the last read or write, never past the
/// absolute end.
struct StoredExpiry {
    idle: Duration,
}

impl StoredExpiry {
    fn left(&self, value: &Stored) -> Option<Duration> {
        Some(self.idle.min(Duration::from_millis(value.ends.saturating_sub(now_ms()))))
    }
}

impl Expiry<String, Stored> for StoredExpiry {
    fn expire_after_create(&self, _: &String, value: &Stored, _: std::time::Instant) -> Option<Duration> {
        self.left(value)
    }

    fn expire_after_read(
        &self,
        _: &String,
        value: &Stored,
        _: std::time::Instant,
        _: Option<Duration>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        self.left(value)
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &Stored,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.left(value)
    }
}

#[cfg(feature = "redis")]
/// The first level in front of Redis: decoded records for a second, so that the common path of
/// a fleet makes no round trip.
const FIRST_LEVEL_TTL: Duration = Duration::from_secs(1);

enum Backend {
    Memory(Cache<String, Stored>),
    #[cfg(feature = "redis")]
    Redis(redis_store::RedisSessions),
}

/// The session store.
pub(crate) struct Sessions {
    backend: Backend,
    keys: Arc<SessionKeys>,
    first_level: Option<Cache<String, Record>>,
}

impl Sessions {
    pub(crate) fn new(settings: &LoginSettings, client_id: &str) -> Result<Sessions, String> {
        let (backend, first_level) = match &settings.store {
            StoreSettings::Memory => (
                Backend::Memory(
                    Cache::builder()
                        // Least recently used goes first: TinyLFU's admission could refuse a new
                        // session while its `put` succeeds, logging the user out at once.
                        .eviction_policy(moka::policy::EvictionPolicy::lru())
                        .max_capacity(1_000_000)
                        .expire_after(StoredExpiry { idle: settings.idle_timeout })
                        .build(),
                ),
                None,
            ),
            #[cfg(feature = "redis")]
            StoreSettings::Redis(redis) => (
                Backend::Redis(redis_store::RedisSessions::new(redis, client_id)?),
                Some(Cache::builder().max_capacity(100_000).time_to_live(FIRST_LEVEL_TTL).build()),
            ),
        };
        #[cfg(not(feature = "redis"))]
        let _ = client_id; // names the Redis keys
        Ok(Sessions { backend, keys: settings.keys.clone(), first_level })
    }

    /// Whether sessions are shared through Redis.
    pub(crate) fn is_shared(&self) -> bool {
        !matches!(self.backend, Backend::Memory(_))
    }

    /// The session, if the store holds one that opens: through the first level. `true` when it
    /// came from the store itself (time to [`touch`](Self::touch) it).
    pub(crate) async fn get(&self, id: &SessionId) -> Result<Option<(Record, bool)>, StoreDown> {
        let key = id.storage_key();
        if let Some(first) = &self.first_level
            && let Some(record) = first.get(key).await
        {
            return Ok(Some((record, false)));
        }
        Ok(self.load(key).await?.map(|record| (record, true)))
    }

    /// The session as the store holds it now, past the first level.
    pub(crate) async fn fresh(&self, id: &SessionId) -> Result<Option<Record>, StoreDown> {
        self.load(id.storage_key()).await
    }

    async fn load(&self, key: &str) -> Result<Option<Record>, StoreDown> {
        let sealed = match &self.backend {
            Backend::Memory(cache) => cache.get(key).await.map(|stored| stored.sealed.to_vec()),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.get(key).await?,
        };
        let record = sealed.and_then(|sealed| open_record(&self.keys, key, &sealed));
        if let (Some(first), Some(record)) = (&self.first_level, &record) {
            first.insert(key.to_owned(), record.clone()).await;
        }
        Ok(record)
    }

    /// Stores a new session for `ttl`, until `ends` (Unix ms) at most.
    pub(crate) async fn put(&self, id: &SessionId, record: &Record, ttl: Duration, ends: u64) -> Result<(), StoreDown> {
        self.write(id, record, ttl, ends, false).await.map(|_| ())
    }

    /// Replaces a session that is still there; one that is gone stays gone (a refresh that ends
    /// after a logout must not bring the session back).
    pub(crate) async fn replace(
        &self,
        id: &SessionId,
        record: &Record,
        ttl: Duration,
        ends: u64,
    ) -> Result<Replaced, StoreDown> {
        self.write(id, record, ttl, ends, true).await
    }

    async fn write(
        &self,
        id: &SessionId,
        record: &Record,
        ttl: Duration,
        ends: u64,
        existing_only: bool,
    ) -> Result<Replaced, StoreDown> {
        let key = id.storage_key().to_owned();
        let plain = serde_json::to_vec(record).map_err(|_| StoreDown)?;
        let sealed = self.keys.seal(&plain, &aad(&key)).map_err(|_| StoreDown)?;
        if sealed.len() > MAX_SEALED_BYTES {
            tracing::warn!(bytes = sealed.len(), "a session is too large to store (tokens over 64 KiB)");
            return Err(StoreDown);
        }
        let written = match &self.backend {
            Backend::Memory(cache) => {
                let stored = Stored { sealed: sealed.into(), ends };
                if existing_only {
                    let entry = cache
                        .entry(key.clone())
                        .and_compute_with(|existing| {
                            let op = match existing {
                                Some(_) => moka::ops::compute::Op::Put(stored),
                                None => moka::ops::compute::Op::Nop,
                            };
                            std::future::ready(op)
                        })
                        .await;
                    if matches!(entry, moka::ops::compute::CompResult::ReplacedWith(_)) {
                        Replaced::Yes
                    } else {
                        Replaced::Gone
                    }
                } else {
                    cache.insert(key.clone(), stored).await;
                    Replaced::Yes
                }
            }
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.put(&key, &sealed, ttl, existing_only).await?,
        };
        let _ = ttl; // the in-process store computes its own
        if let Some(first) = &self.first_level {
            match written {
                Replaced::Yes => first.insert(key, record.clone()).await,
                Replaced::Gone => first.invalidate(&key).await,
            }
        }
        Ok(written)
    }

    /// Extends the idle lifetime of a session read from Redis (the in-process store extends it
    /// on every read by itself).
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))] // the memory store keeps no expiry to extend
    pub(crate) async fn touch(&self, id: &SessionId, ttl: Duration) -> Result<(), StoreDown> {
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.touch(id.storage_key(), ttl).await,
        }
    }

    /// Deletes the session.
    pub(crate) async fn delete(&self, id: &SessionId) -> Result<(), StoreDown> {
        let key = id.storage_key().to_owned();
        if let Some(first) = &self.first_level {
            first.invalidate(&key).await;
        }
        match &self.backend {
            Backend::Memory(cache) => {
                cache.invalidate(&key).await;
                Ok(())
            }
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.delete(&key).await,
        }
    }

    /// Takes the fleet-wide refresh lock of a session for `ttl`: `Ok(Some(token))` when taken,
    /// `Ok(None)` when another instance holds it. In process, the caller's own gate suffices.
    pub(crate) async fn lock(&self, id: &SessionId, ttl: Duration) -> Result<Option<String>, StoreDown> {
        let _ = (id, ttl);
        match &self.backend {
            Backend::Memory(_) => Ok(Some(String::new())),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.lock(id.storage_key(), ttl).await,
        }
    }

    /// Releases a lock taken by [`lock`](Self::lock), if it is still ours (best effort: it
    /// expires anyway).
    pub(crate) async fn unlock(&self, id: &SessionId, token: &str) {
        #[cfg(feature = "redis")]
        if let Backend::Redis(redis) = &self.backend {
            redis.unlock(id.storage_key(), token).await;
        }
        let _ = (id, token);
    }

    /// Stops using Redis: pending calls end, the connection closes.
    pub(crate) fn close(&self) {
        #[cfg(feature = "redis")]
        if let Backend::Redis(redis) = &self.backend {
            redis.close();
        }
    }
}

#[cfg(feature = "redis")]
mod redis_store {
    use std::sync::Arc;
    use std::time::Duration;

    use redis::Value;

    use super::StoreDown;
    use crate::sealing::random_token;
    use crate::shared_cache::RedisCache;
    use crate::shared_cache::link::{Fault, Link};

    /// The most a session value may hold: a planted giant value costs at most this.
    const MAX_VALUE_BYTES: usize = 64 * 1024;

    /// Deletes the lock only if it still holds our token, so that a lock that expired and was
    /// taken by another instance is not released by us.
    const UNLOCK: &str =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

    pub(super) struct RedisSessions {
        link: Arc<Link>,
        prefix: String,
        timeout: Duration,
    }

    impl RedisSessions {
        pub(super) fn new(settings: &RedisCache, client_id: &str) -> Result<RedisSessions, String> {
            let link = Link::new(settings).map_err(|e| format!("{:?}", e.kind()))?;
            link.open();
            let client: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
            Ok(RedisSessions {
                link,
                prefix: format!("frontegg-rs:v1:{client}:session:"),
                // Sessions are worth a longer wait than a lookup, which has the API to fall back on.
                timeout: settings.timeout.max(Duration::from_millis(500)),
            })
        }

        async fn run(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, StoreDown> {
            self.answer(tokio::time::timeout(self.timeout, self.link.run(pipe)).await)
        }

        fn answer(
            &self,
            outcome: Result<Result<Vec<Value>, Fault>, tokio::time::error::Elapsed>,
        ) -> Result<Vec<Value>, StoreDown> {
            match outcome {
                Ok(Ok(values)) => Ok(values),
                Ok(Err(fault)) => {
                    if let Fault::Redis(e) = &fault
                        && !e.is_io_error()
                        && !e.is_timeout()
                    {
                        self.link.reset();
                    }
                    tracing::warn!(error = ?fault_kind(&fault), "the session store (Redis) failed");
                    Err(StoreDown)
                }
                Err(_) => {
                    tracing::warn!("the session store (Redis) did not answer in time");
                    Err(StoreDown)
                }
            }
        }

        pub(super) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreDown> {
            let mut pipe = redis::pipe();
            // Errors come back as values, so that WRONGTYPE can be told from the others.
            pipe.ignore_errors().cmd("GETRANGE").arg(format!("{}{key}", self.prefix)).arg(0).arg(MAX_VALUE_BYTES);
            match self.run(&pipe).await?.as_slice() {
                [Value::BulkString(value)] if !value.is_empty() => Ok(Some(value.clone())),
                // Any error but WRONGTYPE (LOADING after a restart, NOAUTH, NOPERM, ...) is an
                // outage, never a logout.
                [Value::ServerError(e)] if e.code() != "WRONGTYPE" => {
                    tracing::warn!(code = e.code(), "the session store (Redis) answered an error");
                    Err(StoreDown)
                }
                // Nothing, or something that is not a string: no session.
                _ => Ok(None),
            }
        }

        pub(super) async fn put(
            &self,
            key: &str,
            sealed: &[u8],
            ttl: Duration,
            existing_only: bool,
        ) -> Result<super::Replaced, StoreDown> {
            let mut pipe = redis::pipe();
            pipe.cmd("SET").arg(format!("{}{key}", self.prefix)).arg(sealed).arg("PX").arg(super::ms(ttl).max(1));
            if existing_only {
                pipe.arg("XX");
            }
            match self.run(&pipe).await?.as_slice() {
                [Value::Okay] => Ok(super::Replaced::Yes),
                _ => Ok(super::Replaced::Gone),
            }
        }

        pub(super) async fn touch(&self, key: &str, ttl: Duration) -> Result<(), StoreDown> {
            let mut pipe = redis::pipe();
            pipe.cmd("PEXPIRE").arg(format!("{}{key}", self.prefix)).arg(super::ms(ttl).max(1));
            self.run(&pipe).await.map(|_| ())
        }

        pub(super) async fn delete(&self, key: &str) -> Result<(), StoreDown> {
            let mut pipe = redis::pipe();
            pipe.cmd("DEL").arg(format!("{}{key}", self.prefix));
            self.run(&pipe).await.map(|_| ())
        }

        pub(super) async fn lock(&self, key: &str, ttl: Duration) -> Result<Option<String>, StoreDown> {
            let token = random_token().map_err(|_| StoreDown)?;
            let mut pipe = redis::pipe();
            pipe.cmd("SET")
                .arg(format!("{}lock:{key}", self.prefix))
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(super::ms(ttl).max(1));
            match self.run(&pipe).await?.as_slice() {
                [Value::Okay] => Ok(Some(token)),
                _ => Ok(None),
            }
        }

        pub(super) async fn unlock(&self, key: &str, token: &str) {
            let mut pipe = redis::pipe();
            pipe.cmd("EVAL").arg(UNLOCK).arg(1).arg(format!("{}lock:{key}", self.prefix)).arg(token);
            let _ = self.run(&pipe).await;
        }

        pub(super) fn close(&self) {
            self.link.close();
        }
    }

    fn fault_kind(fault: &Fault) -> String {
        match fault {
            Fault::NotConnected => "not connected".to_owned(),
            Fault::Redis(e) => format!("{:?}", e.kind()),
        }
    }
}
