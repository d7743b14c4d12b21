//! The key cache: fetches signing keys through the transport and owns the whole rotation policy.
//!
//! Every verification is served from memory. The cache goes to Frontegg when it is cold, when a
//! token names a `kid` it does not hold (once, shared by every caller, and then not again for a
//! cooldown), and on a background schedule that honours `Cache-Control: max-age` within bounds.
//! A failed fetch keeps the last good key set, so an outage after warm-up loses no request.
//!
//! Only a refetch that an unknown `kid` caused starts the cooldown: a key rotated just after the
//! start-up fetch or a background refresh is accepted on its first token.

use crate::telemetry::{self, Endpoint, KeyFetch};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::api::ApiError;
use crate::api::gateway::{ApiRequest, Gateway};
use crate::api::transport::{Resend, status_error};
use crate::config::KeySource;
use crate::keys::{KeySet, KeySetError};
use crate::refresh::{NoValue, RefreshCell, Snapshot, keep_running};

/// Why no signing key could be had.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The document fetched cannot serve.
    #[error("the key document cannot be used")]
    Document(#[source] KeySetError),
    /// The JWKS endpoint answered an error status.
    #[error("the JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The call failed: transport, size cap, or the API's own error for the vendor configuration.
    #[error("the keys could not be fetched")]
    Fetch(#[source] ApiError),
    /// The vendor configuration names an algorithm that needs an explicitly configured secret.
    #[error("the vendor configuration uses {algorithm}, which needs an explicitly configured secret")]
    NotRsa {
        /// The `jwtAlgorithm` of the vendor configuration.
        algorithm: String,
    },
    /// A load took longer than its deadline.
    #[error("the keys did not arrive within {0:?}")]
    Deadline(Duration),
    /// No key was loaded yet, and none is being fetched.
    #[error("no key was loaded yet")]
    NotLoaded,
}

impl From<NoValue> for KeyError {
    fn from(_: NoValue) -> Self {
        KeyError::NotLoaded
    }
}

/// Why the cache fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FetchReason {
    /// The cache is cold.
    Start,
    /// A token names a `kid` the key set does not hold.
    UnknownKid,
    /// The background schedule.
    Refresh,
}

impl FetchReason {
    fn metric(self) -> KeyFetch {
        match self {
            FetchReason::Start => KeyFetch::Start,
            FetchReason::UnknownKid => KeyFetch::UnknownKid,
            FetchReason::Refresh => KeyFetch::Refresh,
        }
    }
}

/// The key cache's own settings.
pub(crate) struct KeyCacheSettings {
    pub(crate) source: KeySource,
    /// The parsed static key set, when the source is static.
    pub(crate) static_keys: Option<Arc<KeySet>>,
    pub(crate) unknown_kid_cooldown: Duration,
    /// Bounds on the answer's `max-age`.
    pub(crate) refresh_bounds: (Duration, Duration),
    /// The refresh interval when the answer carries no `max-age`.
    pub(crate) default_refresh: Duration,
    pub(crate) max_bytes: usize,
}

/// After a failed fetch, requests wait this long before the next attempt (answering 503
/// meanwhile): an outage costs at most one upstream call per second, however many tokens arrive.
const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// The longest one load may take, retries included, and the longest a request waits for keys
/// in all (queued behind a load, then its own refetch) before its 503: within the example apps'
/// 10 s start bound.
pub(crate) const LOAD_DEADLINE: Duration = Duration::from_secs(8);

/// A fetched key set and how long it may be kept.
struct Fetched {
    set: KeySet,
    max_age: Option<Duration>,
}

/// The shared, refreshing key cache.
pub(crate) struct KeyCache {
    cell: RefreshCell<Arc<KeySet>, KeyError>,
    settings: KeyCacheSettings,
    gateway: Gateway,
    /// When the latest successful refetch caused by an unknown `kid` finished: the cooldown's start.
    unknown_kid_refetched: Mutex<Option<Instant>>,
    next_refresh: Mutex<Duration>,
    refresher_running: AtomicBool,
    /// The [`KeySet::id`] of the current set (0: none): read on every request that reuses a
    /// remembered verification, so an atomic rather than the cell's lock.
    current_id: AtomicU64,
}

impl KeyCache {
    pub(crate) fn new(settings: KeyCacheSettings, gateway: Gateway) -> Arc<KeyCache> {
        Arc::new(KeyCache {
            current_id: AtomicU64::new(settings.static_keys.as_ref().map_or(0, |set| set.id())),
            cell: RefreshCell::new(settings.static_keys.clone()),
            next_refresh: Mutex::new(settings.default_refresh),
            settings,
            gateway,
            unknown_kid_refetched: Mutex::new(None),
            refresher_running: AtomicBool::new(false),
        })
    }

    fn is_static(&self) -> bool {
        self.settings.static_keys.is_some()
    }

    /// The key set, if one is loaded.
    pub(crate) fn loaded(&self) -> Option<Arc<KeySet>> {
        self.cell.get().0
    }

    /// Whether `id` is the current set's [`KeySet::id`]. A new set becomes current here just
    /// before callers can get it, so a verification made with an older set never passes for one
    /// made with the current set.
    pub(crate) fn is_current(&self, id: u64) -> bool {
        self.current_id.load(Ordering::Acquire) == id
    }

    /// The key set, loading it if the cache is cold.
    pub(crate) async fn current(self: &Arc<Self>) -> Result<Arc<KeySet>, KeyError> {
        let (value, seen) = self.cell.get();
        if let Some(set) = value {
            // Cheap when it runs (one atomic load); restarts it when its runtime went away.
            self.start_refresher();
            return Ok(set);
        }
        // Callers that queued behind a load share its outcome: one upstream call at a time, and
        // after a failure none for a second (those requests get that failure: a 503).
        self.load(FetchReason::Start, seen.unchanged_outside_backoff(FAILURE_BACKOFF)).await
    }

    /// Called when a token names a `kid` the set does not hold. Decided once the gate is held:
    ///
    /// - the set holds the `kid` by now (a caller before this one fetched it): that set;
    /// - the latest attempt failed less than a second ago: that failure (Frontegg is
    ///   unreachable, which is no verdict about the token: a 503);
    /// - an unknown-`kid` refetch succeeded less than the cooldown ago: the current set (the
    ///   token's key is unknown: a 401);
    /// - otherwise: one refetch, shared by every caller waiting for it.
    pub(crate) async fn refetch_for_unknown_kid(self: &Arc<Self>, kid: &str) -> Result<Arc<KeySet>, KeyError> {
        if self.is_static() {
            return self.loaded().ok_or(KeyError::NotLoaded);
        }
        let cooldown = self.settings.unknown_kid_cooldown;
        let slot = &self.unknown_kid_refetched;
        let decide = move |s: &Snapshot<'_, Arc<KeySet>>| {
            // Read under the gate: a refetch that finished while this caller queued counts.
            let refetched = slot.lock().map(|at| *at).unwrap_or_default();
            if s.value.is_some_and(|set| set.has_kid(kid)) {
                return false;
            }
            let failed_just_now = s.history.last_failure.is_some_and(|at| at.elapsed() < FAILURE_BACKOFF);
            // The cooldown holds while the latest attempt succeeded: after a failure, tokens are
            // not refused as unknown on the strength of an old answer.
            let cooling = s.history.last_failure.is_none() && refetched.is_some_and(|at| at.elapsed() < cooldown);
            !failed_just_now && !cooling
        };
        tracing::debug!("unknown kid: the signing keys may have rotated");
        match self.load(FetchReason::UnknownKid, decide).await {
            // A later attempt failed, but a fetch before it brought this `kid`: that set answers.
            Err(e) => match self.loaded() {
                Some(set) if set.has_kid(kid) => Ok(set),
                _ => Err(e),
            },
            outcome => outcome,
        }
    }

    async fn load(
        self: &Arc<Self>,
        reason: FetchReason,
        decide: impl FnOnce(&Snapshot<'_, Arc<KeySet>>) -> bool,
    ) -> Result<Arc<KeySet>, KeyError> {
        let this = self.clone();
        let outcome = self
            .cell
            .refresh(decide, move || async move {
                // Logged here, once per attempt, not once per caller that shares it.
                let fetched = match tokio::time::timeout(LOAD_DEADLINE, this.fetch()).await {
                    Ok(fetched) => fetched,
                    Err(_) => Err(KeyError::Deadline(LOAD_DEADLINE)),
                }
                .inspect_err(|e| {
                    telemetry::key_fetch(reason.metric(), false);
                    tracing::warn!(error = %e, ?reason, "signing keys could not be loaded");
                })?;
                telemetry::key_fetch(reason.metric(), true);
                this.schedule(fetched.max_age);
                if reason == FetchReason::UnknownKid
                    && let Ok(mut at) = this.unknown_kid_refetched.lock()
                {
                    // Recorded before the gate opens, so every caller queued behind sees it.
                    *at = Some(Instant::now());
                }
                tracing::info!(keys = fetched.set.len(), ?reason, "signing keys loaded");
                this.current_id.store(fetched.set.id(), Ordering::Release);
                Ok(Arc::new(fetched.set))
            })
            .await;
        self.start_refresher();
        outcome
    }

    fn schedule(&self, max_age: Option<Duration>) {
        let (min, max) = self.settings.refresh_bounds;
        let next = max_age.map_or(self.settings.default_refresh, |age| age.clamp(min, max));
        if let Ok(mut slot) = self.next_refresh.lock() {
            *slot = next;
        }
    }

    /// Keeps the background refresh running (see [`keep_running`]).
    fn start_refresher(self: &Arc<Self>) {
        if self.is_static() {
            return;
        }
        keep_running(
            self,
            |cache| &cache.refresher_running,
            |cache| async move {
                loop {
                    let Some(wait) = cache.upgrade().map(|cache| cache.next_wait()) else { return };
                    tokio::time::sleep(wait).await;
                    let Some(cache) = cache.upgrade() else { return };
                    let (_, seen) = cache.cell.get();
                    // A failure was logged by the attempt; the last good keys stay in use.
                    let _ = cache.load(FetchReason::Refresh, seen.unchanged()).await;
                }
            },
        );
    }

    fn next_wait(&self) -> Duration {
        match self.cell.history().last_failure {
            // After a failure, retry sooner than the regular schedule.
            Some(_) => self.settings.refresh_bounds.0.min(Duration::from_secs(30)),
            _ => self.next_refresh.lock().map(|d| *d).unwrap_or(self.settings.default_refresh),
        }
    }

    #[tracing::instrument(name = "frontegg.keys.fetch", skip_all, fields(source = ?self.settings.source))]
    async fn fetch(&self) -> Result<Fetched, KeyError> {
        let max_bytes = self.settings.max_bytes;
        match &self.settings.source {
            KeySource::Jwks(url) => {
                let transport = self.gateway.transport();
                // The JWKS is public: no vendor token, and idempotent, so retried like any read.
                let build = || transport.http().get(url).header(http::header::ACCEPT, "application/json");
                let answer =
                    transport.send(Endpoint::Jwks, build, Resend::Allowed, max_bytes).await.map_err(KeyError::Fetch)?;
                if !answer.status.is_success() {
                    return Err(KeyError::Status(answer.status.as_u16()));
                }
                let max_age =
                    answer.headers.get(http::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(max_age);
                let set = KeySet::from_jwks(&answer.body).map_err(KeyError::Document)?;
                Ok(Fetched { set, max_age })
            }
            KeySource::VendorConfiguration => {
                // The answer also holds `jwtSecret`: it is parsed into this struct only, never logged.
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct VendorConfiguration {
                    public_key: Option<String>,
                    jwt_algorithm: Option<String>,
                }
                let url = self.gateway.url("/identity/resources/configurations/v1", &[]).map_err(KeyError::Fetch)?;
                let request = ApiRequest::new(http::Method::GET, url)
                    .max_bytes(max_bytes)
                    .endpoint(Endpoint::VendorConfiguration);
                let answer = self.gateway.call(request).await.map_err(KeyError::Fetch)?;
                if !answer.status.is_success() {
                    return Err(KeyError::Fetch(status_error(answer.status, &answer.headers, &answer.body)));
                }
                let conf: VendorConfiguration =
                    serde_json::from_slice(&answer.body).map_err(|e| KeyError::Fetch(ApiError::decode(e)))?;
                if let Some(alg) = conf.jwt_algorithm.as_deref()
                    && !alg.starts_with("RS")
                    && !alg.starts_with("PS")
                {
                    return Err(KeyError::NotRsa { algorithm: alg.to_owned() });
                }
                let pem = conf.public_key.ok_or(KeyError::Document(KeySetError::NotRsaPem))?;
                Ok(Fetched { set: KeySet::from_pem(&pem).map_err(KeyError::Document)?, max_age: None })
            }
            KeySource::StaticPem(_) | KeySource::StaticJwks(_) => Err(KeyError::NotLoaded),
        }
    }
}

/// `max-age` of a `Cache-Control` value; `no-cache`/`no-store` count as zero (then clamped to the
/// minimum interval).
fn max_age(value: &str) -> Option<Duration> {
    for directive in value.split(',') {
        let directive = directive.trim();
        if directive.eq_ignore_ascii_case("no-cache") || directive.eq_ignore_ascii_case("no-store") {
            return Some(Duration::ZERO);
        }
        if let Some((name, seconds)) = directive.split_once('=')
            && name.trim().eq_ignore_ascii_case("max-age")
        {
            return seconds.trim().trim_matches('"').parse::<u64>().ok().map(Duration::from_secs);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        assert_eq!(max_age("public, max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("max-age=abc"), None);
        assert_eq!(max_age("public"), None);
    }
}
