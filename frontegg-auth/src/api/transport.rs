//! The HTTP transport to Frontegg: one client, timeouts, capped bodies, retries with backoff,
//! rate limits. It knows nothing of vendor tokens: the [gateway](super::gateway) adds them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use reqwest::Url;

use super::error::{ApiError, TransportError};
use crate::telemetry::{self, Attempt, Endpoint};

/// The longest wait for a rate limit to reset before giving up with [`ApiError::RateLimited`].
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(10);

/// How the transport is set up.
pub(crate) struct TransportSettings {
    pub(crate) base: Url,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
}

/// The shared HTTP side: cheap to clone.
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("base", &self.inner.base.as_str()).finish_non_exhaustive()
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    retries: u32,
}

/// An answer: its status, headers and (capped) body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Whether a request may be sent again once it may have reached Frontegg.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Idempotent: retried after timeouts, connection errors and 5xx.
    Allowed,
    /// A create or an update: retried only when the connection never opened (or on a 429).
    OnlyUnsent,
}

impl Transport {
    pub(crate) fn new(settings: TransportSettings) -> Result<Transport, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("frontegg-rs/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry the vendor token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Transport { inner: Arc::new(Inner { http, base: settings.base, retries: settings.retries }) })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// `{base}` plus `path` (which starts with `/`) plus one percent-encoded segment per item of
    /// `segments`: ids never change the path's shape (`/` is encoded; see [`check_id`] for what
    /// is refused).
    pub(crate) fn url(&self, path: &str, segments: &[&str]) -> Result<Url, ApiError> {
        for segment in segments {
            check_id(segment)?;
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

    /// Sends what `build` makes, retrying timeouts, connection errors, 5xx and 429 with
    /// exponential backoff and jitter (a 429 waits for `X-Rate-Limit-Reset` when it is near). A
    /// body larger than `max_bytes` is refused unread.
    pub(crate) async fn send(
        &self,
        endpoint: Endpoint,
        build: impl Fn() -> reqwest::RequestBuilder,
        resend: Resend,
        max_bytes: usize,
    ) -> Result<Answer, ApiError> {
        let retry_sent = resend == Resend::Allowed;
        let mut attempt = 0;
        loop {
            let last = attempt >= self.inner.retries;
            let started = std::time::Instant::now();
            let sent = build().send().await;
            let retry_in = match sent {
                Err(e) => {
                    let outcome = if e.is_timeout() { Attempt::Timeout } else { Attempt::Error };
                    telemetry::upstream(endpoint, outcome, started.elapsed());
                    // A connection that never opened carried nothing: safe to retry any call.
                    if last || !(retry_sent || e.is_connect()) {
                        return Err(ApiError::Transport(TransportError::from_reqwest(e)));
                    }
                    backoff(attempt)
                }
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = read_capped(response, max_bytes).await;
                    let outcome = match &body {
                        Ok(_) => Attempt::of_status(status),
                        Err(ApiError::Transport(e)) if e.kind() == super::error::TransportKind::Timeout => {
                            Attempt::Timeout
                        }
                        Err(_) => Attempt::Error,
                    };
                    telemetry::upstream(endpoint, outcome, started.elapsed());
                    let body = match body {
                        Ok(body) => body,
                        Err(e @ ApiError::TooLarge { .. }) => return Err(e),
                        Err(e) if last || !retry_sent => return Err(e),
                        Err(_) => {
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
                    } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
                        // A 408 is the server giving up on the request: as transient as a 5xx.
                        if last || !retry_sent {
                            return Err(status_error(status, &headers, &body));
                        }
                        backoff(attempt)
                    } else {
                        return Ok(Answer { status, headers, body });
                    }
                }
            };
            attempt += 1;
            tokio::time::sleep(retry_in).await;
        }
    }
}

/// The one id rule of every client, before any call: an id that is empty, only whitespace, `.`
/// or `..` (URL normalisation would drop them), or holds a control character is refused.
pub(crate) fn check_id(id: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() || id == "." || id == ".." || id.chars().any(char::is_control) {
        return Err(ApiError::InvalidId);
    }
    Ok(())
}

/// An id sent in a header (`frontegg-tenant-id`, `frontegg-user-id`): the id rule, and a header
/// value of visible ASCII (what `http` would also take beyond it, obsolete non-ASCII text, is
/// refused: no proxy is trusted to carry it unchanged), without spaces around it (HTTP strips
/// them, so the header would name another id than the same id in a path).
pub(crate) fn header_id(id: &str) -> Result<http::HeaderValue, ApiError> {
    check_id(id)?;
    if id.trim() != id || !id.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(ApiError::InvalidId);
    }
    http::HeaderValue::from_str(id).map_err(|_| ApiError::InvalidId)
}

/// The error of a non-success answer: its status, Frontegg's `errors` (and `message`), and the
/// `frontegg-trace-id` header Frontegg's support asks for.
pub(crate) fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
    let trace_id = headers
        .get("frontegg-trace-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned);
    ApiError::Status { status, messages: error_messages(body), trace_id }
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

/// Reads a body up to `max` bytes, refusing early on a larger `Content-Length`.
pub(crate) async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Bytes, ApiError> {
    if response.content_length().is_some_and(|len| len > max as u64) {
        return Err(ApiError::TooLarge { max });
    }
    let mut buffer = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| ApiError::Transport(TransportError::from_reqwest(e)))? {
        if buffer.len() + chunk.len() > max {
            return Err(ApiError::TooLarge { max });
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
    fn the_id_rule() {
        for good in ["tenant-1", "a b", "a/b", "é", "a+b@x.io", "%2e"] {
            assert!(check_id(good).is_ok(), "{good:?}");
        }
        for bad in ["", " ", "\t\n", ".", "..", "a\u{0}b", "a\nb", "a\u{7f}"] {
            assert!(matches!(check_id(bad), Err(ApiError::InvalidId)), "{bad:?}");
        }
        assert_eq!(header_id("tenant-1").unwrap(), "tenant-1");
        // Not ASCII: fine in a path (percent-encoded), never in a header.
        assert!(header_id("é").is_err());
        assert!(header_id("a\rb").is_err());
        assert!(header_id(" acme").is_err() && header_id("acme ").is_err());
        assert!(header_id("a b").is_ok());
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
