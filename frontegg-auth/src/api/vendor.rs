//! The vendor (environment) token: `POST /auth/vendor`, shared, renewed at 80 % of its lifetime.

use std::time::{Duration, Instant};

use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::transport::{Gateway, describe_transport, read_capped, status_error};
use crate::refresh::{NoValue, RefreshCell};
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
}

impl From<NoValue> for ApiError {
    fn from(_: NoValue) -> Self {
        ApiError::Transport("the vendor token could not be obtained".into())
    }
}

impl VendorAuth {
    pub(crate) fn new(client_id: String, api_key: ApiKey) -> Self {
        VendorAuth { client_id, api_key, cell: RefreshCell::new(None) }
    }

    /// The current token; renews it from 80 % of its lifetime on, and keeps using the old one
    /// while a renewal fails and it has not expired.
    pub(crate) async fn token(&self, gateway: &Gateway) -> Result<TokenString, ApiError> {
        let (current, seen) = self.cell.get();
        let now = Instant::now();
        if let Some(t) = &current
            && now < t.renew_at
        {
            return Ok(t.token.clone());
        }
        let outcome = self
            .cell
            // Callers that queued behind a renewal share its outcome; nothing else throttles,
            // so that the first request after an outage succeeds.
            .refresh(seen, |_| true, || self.fetch(gateway))
            .await;
        match outcome {
            Ok(t) if Instant::now() < t.expires_at => Ok(t.token),
            Ok(_) => Err(ApiError::Transport("the vendor token expired and could not be renewed".into())),
            Err(e) => match current {
                Some(old) if Instant::now() < old.expires_at => {
                    tracing::warn!(error = %e, "vendor token renewal failed; the current token stays in use");
                    Ok(old.token)
                }
                _ => Err(e),
            },
        }
    }

    /// Forgets the token's freshness so that the next call renews it.
    pub(crate) fn invalidate(&self) {
        self.cell.update(|t| {
            t.renew_at = Instant::now();
        });
    }

    #[tracing::instrument(name = "frontegg.vendor_token", skip_all)]
    async fn fetch(&self, gateway: &Gateway) -> Result<VendorToken, ApiError> {
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
        let url = gateway.url("/auth/vendor", &[]);
        let body = Credentials { client_id: &self.client_id, secret: self.api_key.expose() };
        let mut attempt = 0u32;
        loop {
            let sent = Instant::now();
            let outcome = gateway.http().post(url.clone()).json(&body).send().await;
            let transient = match outcome {
                Err(e) => ApiError::Transport(describe_transport(&e)),
                Ok(response) => {
                    let status = response.status();
                    let bytes = read_capped(response, 64 * 1024)
                        .await
                        .map_err(|_| ApiError::Decode("the vendor token answer is unreadable".into()))?;
                    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                        tracing::error!("Frontegg refused the vendor credentials");
                        return Err(ApiError::InvalidCredentials);
                    }
                    if status.is_success() {
                        let answer: Answer = serde_json::from_slice(&bytes)
                            .map_err(|_| ApiError::Decode("the vendor token answer has no token".into()))?;
                        // Undocumented lifetime: assume a short one when it is missing or odd.
                        let lifetime = answer
                            .expires_in
                            .filter(|s| s.is_finite() && *s > 0.0)
                            .map_or(Duration::from_secs(300), |s| Duration::from_secs_f64(s.min(30.0 * 86_400.0)));
                        tracing::debug!(lifetime_s = lifetime.as_secs(), "vendor token obtained");
                        return Ok(VendorToken {
                            token: TokenString::new(answer.token),
                            renew_at: sent + lifetime.mul_f64(0.8),
                            expires_at: sent + lifetime,
                        });
                    }
                    let err = status_error(status, &bytes);
                    if !err.is_transient() {
                        return Err(err);
                    }
                    err
                }
            };
            if attempt >= gateway.retries() {
                return Err(transient);
            }
            tokio::time::sleep(super::transport::backoff(attempt)).await;
            attempt += 1;
        }
    }
}
