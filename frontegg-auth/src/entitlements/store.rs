//! The entitlements store: the last good [`Snapshot`], loaded once (shared by every caller that
//! needs it) and kept fresh by polling the snapshot's offset. A poll downloads the snapshot only
//! when the offset changed. Outages and malformed snapshots keep the last good one; polling never
//! stops (it backs off after failures).

use crate::telemetry::{self, Endpoint, Poll};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use http::Method;

use super::snapshot::{Snapshot, SnapshotError, offset_of};
use crate::api::ApiError;
use crate::api::gateway::{ApiRequest, Gateway};
use crate::api::transport::status_error;
use crate::refresh::{NoValue, RefreshCell, keep_running};

const SNAPSHOT_PATH: &str = "/entitlements/api/v1/vendor-entitlements";
const OFFSET_PATH: &str = "/entitlements/api/v1/vendor-entitlements-snapshot-offset";
/// After a failed load, callers get that failure for this long without a new attempt.
const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// Why no snapshot could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntitlementsError {
    /// The call failed (network, status, size cap).
    #[error("the entitlements snapshot could not be fetched")]
    Fetch(#[source] ApiError),
    /// The snapshot does not have the documented shape.
    #[error("the entitlements snapshot was refused")]
    Refused(#[source] SnapshotError),
    /// None arrived within the first-load timeout.
    #[error("no entitlements snapshot arrived within {0:?}")]
    Timeout(Duration),
    /// None was loaded yet.
    #[error("no entitlements snapshot was loaded yet")]
    NotLoaded,
    /// The offset endpoint answered something else than a number.
    #[error("the entitlements snapshot offset is not a number")]
    BadOffset,
}

impl From<NoValue> for EntitlementsError {
    fn from(_: NoValue) -> Self {
        EntitlementsError::NotLoaded
    }
}

/// The store's own settings.
pub(crate) struct StoreSettings {
    pub(crate) poll: Duration,
    pub(crate) first_load_timeout: Duration,
    pub(crate) max_bytes: usize,
    /// The timeout of the snapshot's download, body included (it may be tens of megabytes).
    pub(crate) download_timeout: Duration,
}

/// The shared store: the last good snapshot, loaded once and kept fresh by polling its offset
/// (downloaded only when the offset changed); outages and malformed snapshots keep the last good
/// one, and polling never stops (it backs off after failures).
pub struct EntitlementsStore {
    cell: RefreshCell<Arc<Snapshot>, EntitlementsError>,
    gateway: Gateway,
    settings: StoreSettings,
    poller_running: AtomicBool,
    /// The offset of the last snapshot refused as malformed: logged once, and not downloaded
    /// again until the offset moves.
    refused_offset: AtomicI64,
    /// The polled offset of the snapshot held (its own may be missing).
    held_offset: AtomicI64,
}

impl std::fmt::Debug for EntitlementsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntitlementsStore").field("snapshot", &self.cell.get().0).finish_non_exhaustive()
    }
}

impl EntitlementsStore {
    pub(crate) fn new(settings: StoreSettings, gateway: Gateway) -> Arc<EntitlementsStore> {
        Arc::new(EntitlementsStore {
            cell: RefreshCell::new(None),
            gateway,
            settings,
            poller_running: AtomicBool::new(false),
            refused_offset: AtomicI64::new(i64::MIN),
            held_offset: AtomicI64::new(i64::MIN),
        })
    }

    /// The snapshot held, if any: what every check reads, with no I/O. It also restarts the
    /// poller if its runtime went away (one atomic load when it runs).
    pub fn snapshot(self: &Arc<Self>) -> Option<Arc<Snapshot>> {
        let held = self.cell.get().0;
        if held.is_some() {
            self.start_poller();
        }
        held
    }

    /// The snapshot, waiting (at most the first-load timeout) for the one shared first load
    /// when none is held.
    pub async fn ready(self: &Arc<Self>) -> Result<Arc<Snapshot>, EntitlementsError> {
        let (value, seen) = self.cell.get();
        if let Some(snapshot) = value {
            self.start_poller();
            return Ok(snapshot);
        }
        let decide = seen.unchanged_outside_backoff(FAILURE_BACKOFF);
        let this = self.clone();
        let load = self.cell.refresh(decide, move || async move { this.download(None).await });
        let outcome = match tokio::time::timeout(self.settings.first_load_timeout, load).await {
            Ok(outcome) => outcome,
            Err(_) => Err(EntitlementsError::Timeout(self.settings.first_load_timeout)),
        };
        self.start_poller();
        outcome
    }

    /// One poll: the offset, then the snapshot if the offset changed.
    async fn poll(self: &Arc<Self>) -> Result<(), EntitlementsError> {
        let outcome = self.poll_once().await;
        telemetry::entitlements_poll(match &outcome {
            Ok(true) => Poll::Changed,
            Ok(false) => Poll::Unchanged,
            Err(_) => Poll::Error,
        });
        outcome.map(|_| ())
    }

    /// One poll; `Ok(true)` when a new snapshot was loaded.
    async fn poll_once(self: &Arc<Self>) -> Result<bool, EntitlementsError> {
        let offset = self.offset().await?;
        let held = self.cell.get().0.is_some() && self.held_offset.load(Ordering::Relaxed) == offset;
        // Unchanged, or the same malformed snapshot again: nothing to download.
        if held || self.refused_offset.load(Ordering::Relaxed) == offset {
            return Ok(false);
        }
        let (_, seen) = self.cell.get();
        let this = self.clone();
        self.cell
            .refresh(seen.unchanged(), move || async move { this.download(Some(offset)).await })
            .await
            .map(|_| true)
    }

    async fn offset(&self) -> Result<i64, EntitlementsError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Offset {
            snapshot_offset: serde_json::Value,
        }
        let url = self.gateway.url(OFFSET_PATH, &[]).map_err(EntitlementsError::Fetch)?;
        let answer: Offset = self
            .gateway
            .json(ApiRequest::new(Method::GET, url).endpoint(Endpoint::EntitlementsOffset))
            .await
            .map_err(EntitlementsError::Fetch)?;
        offset_of(&answer.snapshot_offset).ok_or(EntitlementsError::BadOffset)
    }

    /// Downloads and parses the snapshot (logged once per attempt, not per waiting caller).
    #[tracing::instrument(name = "frontegg.entitlements.load", skip_all)]
    async fn download(&self, expected_offset: Option<i64>) -> Result<Arc<Snapshot>, EntitlementsError> {
        let url = self.gateway.url(SNAPSHOT_PATH, &[]).map_err(EntitlementsError::Fetch)?;
        let request = ApiRequest::new(Method::GET, url)
            .endpoint(Endpoint::EntitlementsSnapshot)
            .max_bytes(self.settings.max_bytes)
            .timeout(self.settings.download_timeout);
        let answer = self.gateway.call(request).await.map_err(|e| {
            tracing::warn!(error = %e, "entitlements snapshot could not be fetched; the last good one stays in use");
            EntitlementsError::Fetch(e)
        })?;
        if !answer.status.is_success() {
            let e = status_error(answer.status, &answer.headers, &answer.body);
            tracing::warn!(error = %e, "entitlements snapshot could not be fetched; the last good one stays in use");
            return Err(EntitlementsError::Fetch(e));
        }
        // Parsing tens of megabytes and compiling patterns is blocking work: off the runtime's workers.
        let body = answer.body;
        let parsed = tokio::task::spawn_blocking(move || Snapshot::parse(&body))
            .await
            .unwrap_or(Err(SnapshotError::NotASnapshot));
        match parsed {
            Ok(snapshot) => {
                let offset = expected_offset.unwrap_or(snapshot.offset());
                self.held_offset.store(offset, Ordering::Relaxed);
                // Offsets are counters far below 2^53: exact as a float.
                telemetry::entitlements_loaded(offset as f64);
                tracing::info!(offset, "entitlements snapshot loaded");
                Ok(Arc::new(snapshot))
            }
            Err(e) => {
                let offset = expected_offset.unwrap_or(i64::MIN + 1);
                if self.refused_offset.swap(offset, Ordering::Relaxed) != offset {
                    tracing::warn!(error = %e, offset, "entitlements snapshot refused whole; the last good one stays in use");
                } else {
                    tracing::debug!(error = %e, offset, "entitlements snapshot refused again");
                }
                Err(EntitlementsError::Refused(e))
            }
        }
    }

    /// Keeps the poller running (see [`keep_running`]): measured from the end of the previous
    /// poll; after failures, up to 8 times longer.
    fn start_poller(self: &Arc<Self>) {
        keep_running(
            self,
            |store| &store.poller_running,
            |store| async move {
                let mut failures: u32 = 0;
                loop {
                    let Some(poll) = store.upgrade().map(|store| store.settings.poll) else { return };
                    tokio::time::sleep(poll.saturating_mul(1 << failures.min(3))).await;
                    let Some(store) = store.upgrade() else { return };
                    let started = Instant::now();
                    match store.poll().await {
                        Ok(()) => failures = 0,
                        Err(e) => {
                            failures = failures.saturating_add(1);
                            let elapsed_ms = started.elapsed().as_millis() as u64;
                            tracing::debug!(error = %e, failures, elapsed_ms, "entitlements poll failed");
                        }
                    }
                }
            },
        );
    }
}
