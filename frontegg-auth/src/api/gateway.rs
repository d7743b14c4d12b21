//! The gateway client: calls to Frontegg's API gateway with the vendor token, over the transport.

use crate::telemetry::Endpoint;
use bytes::Bytes;
use http::{Method, StatusCode};
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::transport::TransportSettings;
use super::transport::{Answer, Resend, Transport, status_error};
use super::vendor::VendorAuth;
use crate::config::{Config, ConfigError};

/// Answers of the management API are small; this bounds memory against a misbehaving peer.
pub(crate) const MAX_API_BYTES: usize = 8 * 1024 * 1024;

/// The API gateway: the transport and, when credentials are configured, the vendor token.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Gateway {
    transport: Transport,
    vendor: Option<VendorAuth>,
}

impl Gateway {
    /// The gateway of a configuration: its transport, and its vendor token when it has credentials.
    pub(crate) fn from_config(config: &Config) -> Result<Gateway, ConfigError> {
        let transport = Transport::new(TransportSettings {
            base: config.gateway_url.clone(),
            timeout: config.http_timeout,
            retries: config.api_retries,
        })
        .map_err(|e| ConfigError::Http(std::sync::Arc::new(e)))?;
        let vendor = match (&config.client_id, &config.api_key) {
            (Some(id), Some(key)) => Some(VendorAuth::new(id.clone(), key.clone())),
            _ => None,
        };
        Ok(Gateway { transport, vendor })
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    pub(crate) fn has_credentials(&self) -> bool {
        self.vendor.is_some()
    }

    /// See [`Transport::url`].
    pub(crate) fn url(&self, path: &str, segments: &[&str]) -> Result<Url, ApiError> {
        self.transport.url(path, segments)
    }

    /// A call with the vendor token, retried on transient failures; a 401 replaces the token once.
    // The path is not recorded: it carries ids.
    #[tracing::instrument(name = "frontegg.api", skip_all, fields(method = %request.method))]
    pub(crate) async fn call(&self, request: ApiRequest<'_>) -> Result<Answer, ApiError> {
        let vendor = self.vendor.as_ref().ok_or(ApiError::NoCredentials)?;
        // A create sent twice creates twice: only idempotent calls are retried once sent.
        let resend = if matches!(request.method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE) {
            Resend::Allowed
        } else {
            Resend::OnlyUnsent
        };
        let transport = &self.transport;
        let mut token = vendor.token(transport).await?;
        let mut replaced = false;
        loop {
            let build = || {
                let mut builder = transport
                    .http()
                    .request(request.method.clone(), request.url.clone())
                    .header("x-access-token", token.expose())
                    .header(http::header::ACCEPT, "application/json");
                for (name, value) in request.headers {
                    builder = builder.header(*name, *value);
                }
                if let Some(timeout) = request.timeout {
                    builder = builder.timeout(timeout);
                }
                if let Some(body) = &request.body {
                    builder = builder.header(http::header::CONTENT_TYPE, "application/json").body(body.clone());
                }
                builder
            };
            let answer = transport.send(request.endpoint, build, resend, request.max_bytes).await?;
            if answer.status == StatusCode::UNAUTHORIZED && !replaced {
                // The vendor token may have been revoked or expired early: replace it once.
                replaced = true;
                token = vendor.replace(transport, &token).await?;
                continue;
            }
            return Ok(answer);
        }
    }

    /// A call whose success is a JSON document; any other status is an [`ApiError::Status`].
    pub(crate) async fn json<T: DeserializeOwned>(&self, request: ApiRequest<'_>) -> Result<T, ApiError> {
        let answer = self.call(request).await?;
        if !answer.status.is_success() {
            return Err(status_error(answer.status, &answer.body));
        }
        serde_json::from_slice(&answer.body).map_err(ApiError::decode)
    }

    /// A call whose success carries no document worth reading (204, or an echo we ignore).
    pub(crate) async fn no_content(&self, request: ApiRequest<'_>) -> Result<(), ApiError> {
        let answer = self.call(request).await?;
        if !answer.status.is_success() {
            return Err(status_error(answer.status, &answer.body));
        }
        Ok(())
    }
}

/// One call: method, URL, optional JSON body, extra headers and the cap on the answer.
pub(crate) struct ApiRequest<'a> {
    method: Method,
    url: Url,
    body: Option<Bytes>,
    headers: &'a [(&'a str, &'a str)],
    max_bytes: usize,
    timeout: Option<std::time::Duration>,
    endpoint: Endpoint,
}

impl<'a> ApiRequest<'a> {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        ApiRequest {
            method,
            url,
            body: None,
            headers: &[],
            max_bytes: MAX_API_BYTES,
            timeout: None,
            endpoint: Endpoint::Management,
        }
    }

    /// The endpoint's fixed name in metrics (default: `management`).
    pub(crate) fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(ApiError::decode)?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    pub(crate) fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    /// A timeout of its own instead of the client's (a large answer takes longer to read).
    pub(crate) fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Another cap than the management API's.
    pub(crate) fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }
}
