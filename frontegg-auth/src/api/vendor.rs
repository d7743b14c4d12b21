//! The vendor (environment) token: `POST /auth/vendor`, shared, renewed at 80 % of its lifetime.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::transport::{Gateway, status_error};
use crate::refresh::{NoValue, RefreshCell, Seen};
use crate::secret::{ApiKey, TokenString};

#[derive(Clone)]
pub(crate) struct VendorToken {
    token: TokenString,
    renew_at: Instant,
    expires_at: Instant,
}

pub(crate) struct VendorAuth {
    client_id: String,
    api_key: ApiKey,
    cell: RefreshCell<VendorToken, ApiError>,
    renewing: AtomicBool,
}

/// After a failed background renewal, the next one waits this long.
const RENEWAL_BACKOFF: Duration = Duration::from_secs(5);

impl From<NoValue> for ApiError {
    fn from(_: NoValue) -> Self {
        ApiError::Transport("the vendor token could not be obtained".into())
    }
}

impl VendorAuth {
    pub(crate) fn new(client_id: String, api_key: ApiKey) -> Self {
        VendorAuth { client_id, api_key, cell: RefreshCell::new(None), renewing: AtomicBool::new(false) }
    }

    /// The current token. From 80 % of its lifetime on, a renewal starts in the background and
    /// requests go on with the current token meanwhile; only a missing or expired token makes a
    /// request wait (all waiting requests share one renewal).
    pub(crate) async fn token(&self, gateway: &Gateway) -> Result<TokenString, ApiError> {
        let (current, seen) = self.cell.get();
        let now = Instant::now();
        match &current {
            Some(t) if now < t.renew_at => return Ok(t.token.clone()),
            Some(t) if now < t.expires_at => {
                self.renew_in_background(gateway, seen);
                return Ok(t.token.clone());
            }
            _ => {}
        }
        self.renew(gateway, seen).await.map(|t| t.token)
    }

    /// One shared renewal, unless another one happened since `seen`. No failure backoff here: the
    /// first request after an outage must succeed, and the gate already keeps it to one request
    /// at a time.
    async fn renew(&self, gateway: &Gateway, seen: Seen) -> Result<VendorToken, ApiError> {
        let gateway = gateway.clone();
        self.cell.refresh(seen, |_| true, move || async move { fetch(&gateway).await }).await
    }

    /// A token other than `rejected`, which the gateway refused (revoked, or expired early).
    pub(crate) async fn replace(&self, gateway: &Gateway, rejected: &TokenString) -> Result<TokenString, ApiError> {
        let (current, seen) = self.cell.get();
        if let Some(t) = current
            && t.token != *rejected
            && Instant::now() < t.expires_at
        {
            // Another request replaced it already.
            return Ok(t.token);
        }
        self.renew(gateway, seen).await.map(|t| t.token)
    }

    /// Starts one renewal in the background, unless one runs or one failed a moment ago.
    fn renew_in_background(&self, gateway: &Gateway, seen: Seen) {
        let failed_recently = self.cell.history().last_failure.is_some_and(|at| at.elapsed() < RENEWAL_BACKOFF);
        if failed_recently || self.cell.is_fetching() || self.renewing.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Clears the flag however the task ends: returned, or dropped with its runtime (before its
        /// first poll included, which is why it is made outside the task).
        struct Renewing(Gateway);
        impl Drop for Renewing {
            fn drop(&mut self) {
                if let Some(vendor) = self.0.vendor() {
                    vendor.renewing.store(false, Ordering::Release);
                }
            }
        }
        let renewing = Renewing(gateway.clone());
        tokio::spawn(async move {
            let renewing = renewing;
            let gateway = &renewing.0;
            let Some(vendor) = gateway.vendor() else { return };
            // `seen` is from when the renewal was decided: if one happened since, none is needed.
            if let Err(e) = vendor.renew(gateway, seen).await {
                tracing::warn!(error = %e, "vendor token renewal failed; the current token stays in use until it expires");
            }
        });
    }
}

/// `POST /auth/vendor`, retried on transient failures like every other call.
#[tracing::instrument(name = "frontegg.vendor_token", skip_all)]
async fn fetch(gateway: &Gateway) -> Result<VendorToken, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Credentials<'a> {
        client_id: &'a str,
        secret: &'a str,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        token: String,
        expires_in: Option<f64>,
    }
    let vendor = gateway.vendor().ok_or(ApiError::NoCredentials)?;
    let url = gateway.url("/auth/vendor", &[])?;
    let body = Credentials { client_id: &vendor.client_id, secret: vendor.api_key.expose() };
    let sent = Instant::now();
    // Asking for a token twice does no harm: retried even once sent.
    let (status, _, bytes) = gateway.send(|| gateway.http().post(url.clone()).json(&body), true).await?;
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        tracing::error!("Frontegg refused the vendor credentials");
        return Err(ApiError::InvalidCredentials);
    }
    if !status.is_success() {
        return Err(status_error(status, &bytes));
    }
    let answer: Answer =
        serde_json::from_slice(&bytes).map_err(|_| ApiError::Decode("the vendor token answer has no token".into()))?;
    // Undocumented lifetime: assume a short one when it is missing or odd.
    let lifetime = answer
        .expires_in
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(300), |s| Duration::from_secs_f64(s.min(30.0 * 86_400.0)));
    tracing::debug!(lifetime_s = lifetime.as_secs(), "vendor token obtained");
    Ok(VendorToken {
        token: TokenString::new(answer.token),
        renew_at: sent + lifetime.mul_f64(0.8),
        expires_at: sent + lifetime,
    })
}
