//! The shared cache as the rights lookups see it: read a verdict, write one in the background,
//! shut down. Every Redis call is bounded by the timeout and goes through the breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use redis::Value;
use tokio::sync::Notify;

use super::breaker::{Breaker, Permit};
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
    writes_failing: AtomicBool,
    last_warning: AtomicU64,
}

impl SharedCache {
    /// `ttl` is how long a verdict is trusted (the access-token TTL): the `PX` of every write.
    pub(crate) fn new(settings: &RedisCache, client_id: &str, ttl: Duration) -> Result<SharedCache, RedisCacheError> {
        let link = Link::new(settings).map_err(|e| RedisCacheError::Client(format!("{:?}", e.kind())))?;
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
                writes_failing: AtomicBool::new(false),
                last_warning: AtomicU64::new(0),
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

    /// Whether the last write failed: entries looked up meanwhile are kept for the whole TTL,
    /// since the other instances cannot read them (a Redis that reads but refuses writes must
    /// not multiply the calls to Frontegg).
    pub(crate) fn writes_failing(&self) -> bool {
        self.inner.writes_failing.load(Ordering::Acquire)
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
        let answer = match inner.call(&pipe).await {
            Ok(answer) => answer,
            Err(failure) => {
                inner.failed(permit, &failure, "read");
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
                inner.unusable("the value has no expiry, or a longer one than the TTL");
                return Read::Miss;
            }
        };
        match inner.codec.open(&key, question, value) {
            Ok(verdict) => Read::Hit { verdict, remaining },
            Err(why) => {
                inner.unusable(why.as_str());
                Read::Miss
            }
        }
    }

    /// Writes `verdict` in the background: the caller does not wait for Redis.
    pub(crate) fn write(&self, question: &Question, verdict: &Verdict) {
        let inner = &self.inner;
        if tokio::runtime::Handle::try_current().is_err() || !inner.breaker.is_closed() {
            return;
        }
        let key = inner.codec.key(question);
        let Some(value) = inner.codec.seal(&key, question, verdict) else {
            tracing::debug!("a verdict is too large for the shared cache: not written");
            return;
        };
        let ttl_ms = u64::try_from(inner.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut pipe = redis::pipe();
        pipe.ignore_errors().cmd("SET").arg(key).arg(value).arg("PX").arg(ttl_ms);
        // Counted before the closed check: a shutdown that sees no pending write has closed the
        // door for this one too.
        let pending = Pending::new(inner);
        if inner.closed.load(Ordering::Acquire) {
            return;
        }
        tokio::spawn(async move {
            let inner = &pending.0;
            let Some(permit) = inner.breaker.admit() else { return };
            match inner.call(&pipe).await {
                Ok(answer) if !answer.iter().any(|v| matches!(v, Value::ServerError(_))) => {
                    inner.writes_failing.store(false, Ordering::Release);
                    permit.succeeded();
                }
                // A server that refuses the write (READONLY, OOM, NOPERM) answers: not a fault
                // of the connection, but the value is not shared.
                Ok(_) => {
                    inner.writes_failing.store(true, Ordering::Release);
                    permit.succeeded();
                    inner.unusable("Redis refused a write");
                }
                Err(failure) => {
                    inner.writes_failing.store(true, Ordering::Release);
                    inner.failed(permit, &failure, "write");
                }
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

/// Why a call failed.
enum Failure {
    TimedOut,
    Fault(Fault),
}

impl Inner {
    /// One call, bounded by the timeout.
    async fn call(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, Failure> {
        match tokio::time::timeout(self.timeout, self.link.run(pipe)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(fault)) => Err(Failure::Fault(fault)),
            Err(_) => Err(Failure::TimedOut),
        }
    }

    /// Reports a failed call to the breaker. A connection that failed otherwise than by I/O, or
    /// that put Redis out of use, is dropped: the next call opens a new one.
    fn failed(&self, permit: Permit<'_>, failure: &Failure, call: &'static str) {
        let io = match failure {
            Failure::TimedOut => {
                tracing::debug!(call, "shared cache call timed out");
                true
            }
            Failure::Fault(Fault::NotConnected) => true,
            Failure::Fault(Fault::Redis(e)) => {
                tracing::debug!(call, error = %e, "shared cache call failed");
                e.is_io_error()
            }
        };
        if permit.failed() || !io {
            self.link.reset();
        }
    }

    /// Logs an unusable value or a refused write: at warning level at most once a minute (a
    /// fleet with mixed settings would otherwise log on every read), else at debug level.
    fn unusable(&self, why: &'static str) {
        let now = std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap_or_default().as_secs();
        let last = self.last_warning.load(Ordering::Relaxed);
        if now >= last.saturating_add(60)
            && self.last_warning.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(
                reason = why,
                "shared cache: a value was ignored and is replaced (further ones logged at debug level for a minute)"
            );
        } else {
            tracing::debug!(reason = why, "shared cache: a value was ignored and is replaced");
        }
    }
}

/// A pending write, counted from before its spawn to the end of its task.
struct Pending(Arc<Inner>);

impl Pending {
    fn new(inner: &Arc<Inner>) -> Pending {
        inner.pending.fetch_add(1, Ordering::AcqRel);
        Pending(Arc::clone(inner))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.0.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.drained.notify_waiters();
        }
    }
}
