//! The vendor (environment) token: `POST /auth/vendor`, shared, renewed at 80 % of its lifetime.

use crate::telemetry::Endpoint;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, TransportError};
use super::transport::{Resend, Transport, status_error};
use crate::refresh::{NoValue, RefreshCell, Seen};
use crate::secret::{ApiKey, TokenString};

/// Answers of credentials-for-token calls are tiny; this bounds memory against a misbehaving peer.
const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub(crate) struct VendorToken {
    token: TokenString,
    renew_at: Instant,
    expires_at: Instant,
}

/// The vendor token of one set of credentials; cheap to clone, clones share the token.
#[derive(Clone)]
pub(crate) struct VendorAuth {
    inner: Arc<Inner>,
}

struct Inner {
    client_id: String,
    api_key: ApiKey,
    cell: RefreshCell<VendorToken, ApiError>,
    renewing: AtomicBool,
}

impl std::fmt::Debug for VendorAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorAuth").field("client_id", &self.inner.client_id).finish_non_exhaustive()
    }
}

/// After a failed background renewal, the next one waits this long.
const RENEWAL_BACKOFF: Duration = Duration::from_secs(5);

impl From<NoValue> for ApiError {
    fn from(_: NoValue) -> Self {
        ApiError::Transport(TransportError::cancelled())
    }
}

impl VendorAuth {
    pub(crate) fn new(client_id: String, api_key: ApiKey) -> Self {
        VendorAuth {
            inner: Arc::new(Inner {
                client_id,
                api_key,
                cell: RefreshCell::new(None),
                renewing: AtomicBool::new(false),
            }),
        }
    }

    /// The current token. From 80 % of its lifetime on, a renewal starts in the background and
    /// requests go on with the current token meanwhile; only a missing or expired token makes a
    /// request wait (all waiting requests share one renewal).
    pub(crate) async fn token(&self, transport: &Transport) -> Result<TokenString, ApiError> {
        let (current, seen) = self.inner.cell.get();
        let now = Instant::now();
        match &current {
            Some(t) if now < t.renew_at => return Ok(t.token.clone()),
            Some(t) if now < t.expires_at => {
                self.renew_in_background(transport, seen);
                return Ok(t.token.clone());
            }
            _ => {}
        }
        self.renew(transport, seen).await.map(|t| t.token)
    }

    /// One shared renewal, unless another one happened since `seen`. No failure backoff here: the
    /// first request after an outage must succeed, and the gate already keeps it to one request
    /// at a time.
    async fn renew(&self, transport: &Transport, seen: Seen) -> Result<VendorToken, ApiError> {
        let transport = transport.clone();
        let this = self.clone();
        self.inner.cell.refresh(seen.unchanged(), move || async move { this.fetch(&transport).await }).await
    }

    /// A token other than `rejected`, which the gateway refused (revoked, or expired early).
    pub(crate) async fn replace(&self, transport: &Transport, rejected: &TokenString) -> Result<TokenString, ApiError> {
        let (current, seen) = self.inner.cell.get();
        if let Some(t) = current
            && t.token != *rejected
            && Instant::now() < t.expires_at
        {
            // Another request replaced it already.
            return Ok(t.token);
        }
        self.renew(transport, seen).await.map(|t| t.token)
    }

    /// Starts one renewal in the background, unless one runs or one failed a moment ago.
    fn renew_in_background(&self, transport: &Transport, seen: Seen) {
        let inner = &self.inner;
        let failed_recently = inner.cell.history().last_failure.is_some_and(|at| at.elapsed() < RENEWAL_BACKOFF);
        if failed_recently || inner.cell.is_fetching() || inner.renewing.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Clears the flag however the task ends: returned, or dropped with its runtime (before its
        /// first poll included, which is why it is made outside the task).
        struct Renewing(VendorAuth);
        impl Drop for Renewing {
            fn drop(&mut self) {
                self.0.inner.renewing.store(false, Ordering::Release);
            }
        }
        let renewing = Renewing(self.clone());
        let transport = transport.clone();
        tokio::spawn(async move {
            let renewing = renewing;
            // `seen` is from when the renewal was decided: if one happened since, none is needed.
            if let Err(e) = renewing.0.renew(&transport, seen).await {
                tracing::warn!(error = %e, "vendor token renewal failed; the current token stays in use until it expires");
            }
        });
    }

    /// A new vendor token, counted in `frontegg_vendor_token_renewals_total`.
    async fn fetch(&self, transport: &Transport) -> Result<VendorToken, ApiError> {
        let outcome = self.request(transport).await;
        crate::telemetry::vendor_token_renewal(outcome.is_ok());
        outcome
    }

    /// `POST /auth/vendor`, retried on transient failures like every other call.
    #[tracing::instrument(name = "frontegg.vendor_token", skip_all)]
    async fn request(&self, transport: &Transport) -> Result<VendorToken, ApiError> {
        let refused = [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN];
        let sent = Instant::now();
        let parsed: VendorAnswer = match post_credentials(
            transport,
            Endpoint::VendorToken,
            "/auth/vendor",
            (&self.inner.client_id, self.inner.api_key.expose()),
            &refused,
            ApiError::InvalidCredentials,
        )
        .await
        {
            Err(ApiError::InvalidCredentials) => {
                tracing::error!("Frontegg refused the vendor credentials");
                return Err(ApiError::InvalidCredentials);
            }
            other => other?,
        };
        // Undocumented lifetime: assume a short one when it is missing or odd.
        let lifetime = lifetime(parsed.expires_in, Duration::from_secs(300));
        tracing::debug!(lifetime_s = lifetime.as_secs(), "vendor token obtained");
        Ok(VendorToken {
            token: TokenString::new(parsed.token),
            renew_at: sent + lifetime.mul_f64(0.8),
            expires_at: sent + lifetime,
        })
    }
}

/// `POST /auth/vendor`'s answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VendorAnswer {
    pub(crate) token: String,
    pub(crate) expires_in: Option<f64>,
}

/// A credentials-for-token call (the vendor token, an API token's exchange): posts
/// `{clientId, secret}` to `path`, retried like every call (asking twice does no harm); an
/// answer with a status in `refused_on` is `refused`, another failure a status error, a success
/// the JSON of `T`.
pub(crate) async fn post_credentials<T: DeserializeOwned>(
    transport: &Transport,
    endpoint: Endpoint,
    path: &str,
    (client_id, secret): (&str, &str),
    refused_on: &[StatusCode],
    refused: ApiError,
) -> Result<T, ApiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Credentials<'a> {
        client_id: &'a str,
        secret: &'a str,
    }
    let body = Credentials { client_id, secret };
    let url = transport.url(path, &[])?;
    let answer = transport
        .send(endpoint, || transport.http().post(url.clone()).json(&body), Resend::Allowed, MAX_TOKEN_ANSWER_BYTES)
        .await?;
    if refused_on.contains(&answer.status) {
        return Err(refused);
    }
    if !answer.status.is_success() {
        return Err(status_error(answer.status, &answer.headers, &answer.body));
    }
    serde_json::from_slice(&answer.body).map_err(ApiError::decode)
}

/// A token's lifetime from its answer's `expires_in` (seconds): `fallback` when it is missing,
/// not finite or not positive, at most 30 days.
pub(crate) fn lifetime(expires_in: Option<f64>, fallback: Duration) -> Duration {
    expires_in
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(fallback, |s| Duration::from_secs_f64(s.min(30.0 * 86_400.0)))
}
