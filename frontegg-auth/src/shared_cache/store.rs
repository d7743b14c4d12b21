//! The shared cache as the rights lookups see it: read a verdict, write one in the background,
//! shut down. Every Redis call is bounded by the timeout and goes through the breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use redis::Value;
use tokio::sync::Notify;

use super::breaker::Breaker;
use super::link::{Fault, Link};
use super::record::{Codec, MAX_VALUE_BYTES};
use super::{RedisCache, RedisCacheError};
use crate::lookup::{Question, Verdict};

/// What Redis holds for a question.
pub(crate) enum Read {
    /// A usable verdict, and how long Redis keeps it still.
    Hit { verdict: Verdict, remaining: Duration },
    /// Nothing usable: look it up, then write it.
    Miss,
    /// Redis is out of use or failed: look it up, write nothing.
    Unavailable,
}

/// The shared cache; cheap to clone.
#[derive(Clone)]
pub(crate) struct SharedCache {
    inner: Arc<Inner>,
}

struct Inner {
    link: Arc<Link>,
    codec: Codec,
    breaker: Breaker,
    timeout: Duration,
    ttl: Duration,
    first_level_ttl: Duration,
    closed: AtomicBool,
    pending: AtomicUsize,
    drained: Notify,
}

impl SharedCache {
    /// `ttl` is how long a verdict is trusted (the access-token TTL): the `PX` of every write.
    pub(crate) fn new(settings: &RedisCache, client_id: &str, ttl: Duration) -> Result<SharedCache, RedisCacheError> {
        let link = Link::new(settings).map_err(|_| RedisCacheError::InvalidUrl("redis-rs refused it"))?;
        Ok(SharedCache {
            inner: Arc::new(Inner {
                link,
                codec: Codec::new(client_id, settings.hmac_key.as_ref()),
                breaker: Breaker::new(settings.breaker_failures, settings.breaker_pause),
                timeout: settings.timeout,
                ttl,
                first_level_ttl: settings.first_level_ttl.min(ttl),
                closed: AtomicBool::new(false),
                pending: AtomicUsize::new(0),
                drained: Notify::new(),
            }),
        })
    }

    /// Starts opening the connection, without waiting for it, so that the first lookups find
    /// it open.
    pub(crate) fn warm_up(&self) {
        if !self.inner.closed.load(Ordering::Acquire) {
            self.inner.link.open();
        }
    }

    /// How long an instance keeps an answer itself while Redis is in use.
    pub(crate) fn first_level_ttl(&self) -> Duration {
        self.inner.first_level_ttl
    }

    /// Whether Redis is in use (the breaker is closed).
    pub(crate) fn in_use(&self) -> bool {
        !self.inner.closed.load(Ordering::Acquire) && self.inner.breaker.is_closed()
    }

    /// What Redis holds for `question`, within the timeout.
    pub(crate) async fn read(&self, question: &Question) -> Read {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return Read::Unavailable;
        }
        let Some(permit) = inner.breaker.admit() else { return Read::Unavailable };
        let key = inner.codec.key(question);
        let mut pipe = redis::pipe();
        // GETRANGE bounds what a planted giant value costs; PTTL says how long the value lives.
        pipe.ignore_errors().cmd("GETRANGE").arg(&key).arg(0).arg(MAX_VALUE_BYTES).cmd("PTTL").arg(&key);
        let answer = match tokio::time::timeout(inner.timeout, inner.link.run(&pipe)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(fault)) => {
                if let Fault::Redis(e) = &fault {
                    tracing::debug!(error = %e, "shared cache read failed");
                }
                permit.failed();
                return Read::Unavailable;
            }
            Err(_) => {
                tracing::debug!("shared cache read timed out");
                permit.failed();
                return Read::Unavailable;
            }
        };
        permit.succeeded();
        let (value, pttl) = match answer.as_slice() {
            [Value::BulkString(value), Value::Int(pttl)] => (value, *pttl),
            // Nothing there, or not a string (WRONGTYPE): a miss, overwritten.
            _ => return Read::Miss,
        };
        if value.is_empty() {
            return Read::Miss;
        }
        // No expiry, or a longer one than ours, was not written by a fleet that shares our TTL.
        let remaining = match u64::try_from(pttl) {
            Ok(ms) if ms > 0 && Duration::from_millis(ms) <= inner.ttl => Duration::from_millis(ms),
            _ => {
                tracing::warn!(pttl, "a shared cache value has no or too long an expiry: ignored and replaced");
                return Read::Miss;
            }
        };
        match inner.codec.open(&key, question, value) {
            Ok(verdict) => Read::Hit { verdict, remaining },
            Err(why) => {
                tracing::warn!(reason = ?why, "a shared cache value is unusable: ignored and replaced");
                Read::Miss
            }
        }
    }

    /// Writes `verdict` in the background: the caller does not wait for Redis.
    pub(crate) fn write(&self, question: &Question, verdict: &Verdict) {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Acquire) || !inner.breaker.is_closed() {
            return;
        }
        let key = inner.codec.key(question);
        let Some(value) = inner.codec.seal(&key, question, verdict) else {
            tracing::debug!("a verdict is too large for the shared cache: not written");
            return;
        };
        let ttl_ms = u64::try_from(inner.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(key).arg(value).arg("PX").arg(ttl_ms);
        inner.pending.fetch_add(1, Ordering::AcqRel);
        let inner = Arc::clone(inner);
        tokio::spawn(async move {
            if let Some(permit) = inner.breaker.admit() {
                match tokio::time::timeout(inner.timeout, inner.link.run(&pipe)).await {
                    Ok(Ok(_)) => permit.succeeded(),
                    Ok(Err(_)) | Err(_) => {
                        tracing::debug!("shared cache write failed");
                        permit.failed();
                    }
                }
            }
            if inner.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
                inner.drained.notify_waiters();
            }
        });
    }

    /// Stops using Redis: no new call starts, the pending writes end (each within the timeout),
    /// then the connection is dropped.
    pub(crate) async fn shutdown(&self) {
        let inner = &self.inner;
        inner.closed.store(true, Ordering::Release);
        loop {
            let drained = inner.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if inner.pending.load(Ordering::Acquire) == 0 {
                break;
            }
            drained.await;
        }
        inner.link.close();
    }
}
