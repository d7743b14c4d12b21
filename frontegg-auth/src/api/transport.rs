//! One HTTP client for every call to Frontegg: timeouts, capped bodies, retries, the vendor token.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, StatusCode};
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::vendor::VendorAuth;
use crate::config::{Config, ConfigError};

/// The longest wait for a rate limit to reset before giving up with [`ApiError::RateLimited`].
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(10);
/// Answers of the management API are small; this bounds memory against a misbehaving peer.
pub(crate) const MAX_API_BYTES: usize = 8 * 1024 * 1024;

/// The shared HTTP side: cheap to clone.
#[derive(Clone)]
pub(crate) struct Gateway {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("base", &self.inner.base.as_str()).finish_non_exhaustive()
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    vendor: Option<VendorAuth>,
    retries: u32,
}

impl Gateway {
    pub(crate) fn new(config: &Config) -> Result<Gateway, ConfigError> {
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .connect_timeout(config.http_timeout)
            .user_agent(concat!("frontegg-rs/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry the vendor token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        let vendor = match (&config.client_id, &config.api_key) {
            (Some(id), Some(key)) => Some(VendorAuth::new(id.clone(), key.clone())),
            _ => None,
        };
        Ok(Gateway {
            inner: Arc::new(Inner { http, base: config.gateway_url.clone(), vendor, retries: config.api_retries }),
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn vendor(&self) -> Option<&VendorAuth> {
        self.inner.vendor.as_ref()
    }

    pub(crate) fn has_credentials(&self) -> bool {
        self.inner.vendor.is_some()
    }

    /// `{gateway}` plus `path` (which starts with `/`) plus one percent-encoded segment per item
    /// of `segments`: ids never change the path's shape (`/` is encoded; empty, `.` and `..`
    /// are refused, since URL normalisation would drop them).
    pub(crate) fn url(&self, path: &str, segments: &[&str]) -> Result<Url, ApiError> {
        if segments.iter().any(|s| s.is_empty() || *s == "." || *s == "..") {
            return Err(ApiError::InvalidId);
        }
        let mut url = self.inner.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        if !segments.is_empty()
            && let Ok(mut s) = url.path_segments_mut()
        {
            s.pop_if_empty();
            for segment in segments {
                s.push(segment);
            }
        }
        Ok(url)
    }

    /// A call with the vendor token, retried on transient failures; a 401 replaces the token once.
    #[tracing::instrument(name = "frontegg.api", skip_all, fields(method = %request.method, path = %request.url.path()))]
    pub(crate) async fn call(&self, request: ApiRequest<'_>) -> Result<(StatusCode, HeaderMap, Bytes), ApiError> {
        let vendor = self.inner.vendor.as_ref().ok_or(ApiError::NoCredentials)?;
        // A create sent twice creates twice: only idempotent calls are retried once sent.
        let idempotent = matches!(request.method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE);
        let mut token = vendor.token(self).await?;
        let mut replaced = false;
        loop {
            let build = || {
                let mut builder = self
                    .inner
                    .http
                    .request(request.method.clone(), request.url.clone())
                    .header("x-access-token", token.expose())
                    .header(http::header::ACCEPT, "application/json");
                for (name, value) in request.headers {
                    builder = builder.header(*name, *value);
                }
                if let Some(body) = &request.body {
                    builder = builder.header(http::header::CONTENT_TYPE, "application/json").body(body.clone());
                }
                builder
            };
            let answer = self.send(build, idempotent).await?;
            if answer.0 == StatusCode::UNAUTHORIZED && !replaced {
                // The vendor token may have been revoked or expired early: replace it once.
                replaced = true;
                token = vendor.replace(self, &token).await?;
                continue;
            }
            return Ok(answer);
        }
    }

    /// Sends what `build` makes, retrying timeouts, connection errors, 5xx and 429 with
    /// exponential backoff and jitter (a 429 waits for `X-Rate-Limit-Reset` when it is near).
    /// A request that may have reached Frontegg is sent again only when `retry_sent`.
    pub(crate) async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        retry_sent: bool,
    ) -> Result<(StatusCode, HeaderMap, Bytes), ApiError> {
        let mut attempt = 0;
        loop {
            let last = attempt >= self.inner.retries;
            let retry_in = match build().send().await {
                Err(e) => {
                    // A connection that never opened carried nothing: safe to retry any call.
                    if last || !(retry_sent || e.is_connect()) {
                        return Err(ApiError::Transport(describe_transport(&e)));
                    }
                    backoff(attempt)
                }
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = match read_capped(response, MAX_API_BYTES).await {
                        Ok(body) => body,
                        Err(CappedError::TooLarge) => return Err(ApiError::Decode("the answer is too large".into())),
                        Err(CappedError::Transport(t)) if last || !retry_sent => return Err(ApiError::Transport(t)),
                        Err(CappedError::Transport(_)) => {
                            attempt += 1;
                            tokio::time::sleep(backoff(attempt - 1)).await;
                            continue;
                        }
                    };
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        // A 429 was not processed: any call may be sent again.
                        let reset = rate_limit_reset(&headers);
                        let wait = reset
                            .map(|at| at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
                            .unwrap_or_else(|| backoff(attempt));
                        if last || wait > MAX_RATE_LIMIT_WAIT {
                            return Err(ApiError::RateLimited { reset });
                        }
                        tracing::debug!(
                            wait_ms = wait.as_millis() as u64,
                            "Frontegg rate limit: waiting for the reset"
                        );
                        wait
                    } else if status.is_server_error() {
                        if last || !retry_sent {
                            return Err(status_error(status, &body));
                        }
                        backoff(attempt)
                    } else {
                        return Ok((status, headers, body));
                    }
                }
            };
            attempt += 1;
            tokio::time::sleep(retry_in).await;
        }
    }

    /// A call whose success is a JSON document; any other status is an [`ApiError::Status`].
    pub(crate) async fn json<T: DeserializeOwned>(&self, request: ApiRequest<'_>) -> Result<T, ApiError> {
        let (status, _, body) = self.call(request).await?;
        if !status.is_success() {
            return Err(status_error(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| ApiError::Decode(e.to_string()))
    }

    /// A call whose success carries no document worth reading (204, or an echo we ignore).
    pub(crate) async fn no_content(&self, request: ApiRequest<'_>) -> Result<(), ApiError> {
        let (status, _, body) = self.call(request).await?;
        if !status.is_success() {
            return Err(status_error(status, &body));
        }
        Ok(())
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str, max_bytes: usize) -> Result<T, ApiError> {
        let url = self.url(path, &[])?;
        let (status, _, body) = self.call(ApiRequest::new(Method::GET, url)).await?;
        if !status.is_success() {
            return Err(status_error(status, &body));
        }
        if body.len() > max_bytes {
            return Err(ApiError::Decode("the answer is too large".into()));
        }
        serde_json::from_slice(&body).map_err(|e| ApiError::Decode(e.to_string()))
    }
}

/// One call: method, URL, optional JSON body and extra headers.
pub(crate) struct ApiRequest<'a> {
    method: Method,
    url: Url,
    body: Option<Bytes>,
    headers: &'a [(&'a str, &'a str)],
}

impl<'a> ApiRequest<'a> {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        ApiRequest { method, url, body: None, headers: &[] }
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    pub(crate) fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }
}

/// The error of a non-success answer, with Frontegg's `errors` and `message`.
pub(crate) fn status_error(status: StatusCode, body: &[u8]) -> ApiError {
    ApiError::Status { status, messages: error_messages(body) }
}

pub(crate) fn error_messages(body: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(default)]
        errors: Vec<serde_json::Value>,
        #[serde(default)]
        message: Option<serde_json::Value>,
    }
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        return Vec::new();
    };
    let mut out: Vec<String> = parsed
        .errors
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    if let Some(message) = parsed.message {
        out.push(match message {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
    }
    out
}

/// `X-Rate-Limit-Reset`: an RFC 3339 instant.
fn rate_limit_reset(headers: &HeaderMap) -> Option<SystemTime> {
    let value = headers.get("x-rate-limit-reset")?.to_str().ok()?;
    humantime::parse_rfc3339_weak(value.trim()).ok()
}

/// Exponential backoff with full jitter: 100 ms, 200 ms, 400 ms... capped at 2 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let ceiling = 100u64.saturating_mul(1 << attempt.min(5)).min(2_000);
    Duration::from_millis(ceiling / 2 + fastrand::u64(0..=ceiling / 2))
}

/// A transport error in words, without the URL (which may carry ids) or any header.
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "the answer broke off".into()
    } else {
        "request failed".into()
    }
}

pub(crate) enum CappedError {
    TooLarge,
    Transport(String),
}

/// Reads a body up to `max` bytes, refusing early on a larger `Content-Length`.
pub(crate) async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Bytes, CappedError> {
    if response.content_length().is_some_and(|len| len > max as u64) {
        return Err(CappedError::TooLarge);
    }
    let mut buffer = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| CappedError::Transport(describe_transport(&e)))? {
        if buffer.len() + chunk.len() > max {
            return Err(CappedError::TooLarge);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontegg_error_bodies() {
        assert_eq!(error_messages(br#"{"errors":["a","b"],"message":"m"}"#), vec!["a", "b", "m"]);
        assert!(error_messages(b"<html>").is_empty());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..10 {
            let d = backoff(attempt);
            assert!(d <= Duration::from_secs(2), "{d:?}");
        }
        assert!(backoff(0) <= Duration::from_millis(100));
    }

    #[test]
    fn reset_header() {
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", "2030-01-01T00:00:00.000Z".parse().unwrap());
        assert!(rate_limit_reset(&h).is_some());
        h.insert("x-rate-limit-reset", "soon".parse().unwrap());
        assert!(rate_limit_reset(&h).is_none());
    }
}
