//! The gateway client: calls to Frontegg's API gateway with the vendor token, over the transport.

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::paging::Page;
use super::transport::TransportSettings;
use super::transport::{Answer, Resend, Transport, header_id, status_error};
use super::vendor::VendorAuth;
use crate::config::{Config, ConfigError};
use crate::telemetry::{self, ApiClient, CallOutcome, Endpoint};

/// Answers of the management API are small; this bounds memory against a misbehaving peer.
pub(crate) const MAX_API_BYTES: usize = 8 * 1024 * 1024;

/// The API gateway: the transport and, when credentials are configured, the vendor token.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Gateway {
    transport: Transport,
    vendor: Option<VendorAuth>,
    /// `frontegg-application-id`, sent on every call when set (the fact sheet's §1.1: a
    /// multi-app environment may refuse management calls without it).
    application_id: Option<HeaderValue>,
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
        Ok(Gateway { transport, vendor, application_id: None })
    }

    /// The same gateway (same transport, same vendor token) sending `frontegg-application-id`.
    pub(crate) fn with_application_id(&self, application_id: &str) -> Result<Gateway, ApiError> {
        Ok(Gateway { application_id: Some(header_id(application_id)?), ..self.clone() })
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
    pub(crate) async fn call(&self, request: ApiRequest) -> Result<Answer, ApiError> {
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
                if let Some(application_id) = &self.application_id {
                    builder = builder.header("frontegg-application-id", application_id.clone());
                }
                for (name, value) in &request.headers {
                    builder = builder.header(*name, value.clone());
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
    pub(crate) async fn json<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<T, ApiError> {
        self.read(request, |body| serde_json::from_slice(body)).await
    }

    /// [`json`](Self::json), with a 404 read as `None`.
    pub(crate) async fn optional<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<Option<T>, ApiError> {
        match self.json(request).await {
            Err(ApiError::Status { status: StatusCode::NOT_FOUND, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// One page of a paged list (or a bare array, as one page).
    pub(crate) async fn page<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<Page<T>, ApiError> {
        self.read(request, Page::parse).await
    }

    /// A call whose success carries no document worth reading (204, or an echo we ignore).
    pub(crate) async fn no_content(&self, request: ApiRequest) -> Result<(), ApiError> {
        self.read(request, |_| Ok::<_, serde_json::Error>(())).await
    }

    /// Sends, reads a success with `parse`, and counts the call's outcome for its client.
    async fn read<T>(
        &self,
        request: ApiRequest,
        parse: impl FnOnce(&[u8]) -> Result<T, serde_json::Error>,
    ) -> Result<T, ApiError> {
        let client = request.client;
        let outcome = match self.call(request).await {
            Ok(answer) if answer.status.is_success() => parse(&answer.body).map_err(ApiError::decode),
            Ok(answer) => Err(status_error(answer.status, &answer.headers, &answer.body)),
            Err(e) => Err(e),
        };
        if let Some(client) = client {
            telemetry::api_call(client, call_outcome(&outcome));
        }
        outcome
    }
}

/// The fixed label of a call's outcome.
pub(crate) fn call_outcome<T>(outcome: &Result<T, ApiError>) -> CallOutcome {
    match outcome {
        Ok(_) => CallOutcome::Ok,
        Err(e) => match e.status() {
            Some(StatusCode::NOT_FOUND) => CallOutcome::NotFound,
            Some(StatusCode::TOO_MANY_REQUESTS) => CallOutcome::RateLimited,
            Some(status) if status.is_server_error() => CallOutcome::ServerError,
            Some(_) => CallOutcome::ClientError,
            None if matches!(e, ApiError::Decode(_) | ApiError::TooLarge { .. }) => CallOutcome::InvalidAnswer,
            None if matches!(e, ApiError::ExchangeRefused) => CallOutcome::ClientError,
            None => CallOutcome::Unavailable,
        },
    }
}

/// One call: method, URL, optional JSON body, extra headers and the cap on the answer.
pub(crate) struct ApiRequest {
    method: Method,
    url: Url,
    body: Option<Bytes>,
    headers: Vec<(&'static str, HeaderValue)>,
    max_bytes: usize,
    timeout: Option<std::time::Duration>,
    endpoint: Endpoint,
    client: Option<ApiClient>,
}

impl ApiRequest {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        ApiRequest {
            method,
            url,
            body: None,
            headers: Vec::new(),
            max_bytes: MAX_API_BYTES,
            timeout: None,
            endpoint: Endpoint::Management,
            client: None,
        }
    }

    /// A call of a management client, whose outcome is counted (`frontegg_api_calls_total`).
    pub(crate) fn of(client: ApiClient, method: Method, url: Url) -> Self {
        ApiRequest { client: Some(client), ..ApiRequest::new(method, url) }
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

    /// `frontegg-tenant-id`, checked by the id rule for headers.
    pub(crate) fn tenant(mut self, tenant_id: &str) -> Result<Self, ApiError> {
        self.headers.push(("frontegg-tenant-id", header_id(tenant_id)?));
        Ok(self)
    }

    /// `frontegg-user-id`, checked by the id rule for headers.
    pub(crate) fn user(mut self, user_id: &str) -> Result<Self, ApiError> {
        self.headers.push(("frontegg-user-id", header_id(user_id)?));
        Ok(self)
    }

    /// Query parameters, encoded (`+` in an e-mail address arrives as `+`).
    pub(crate) fn query<'q>(mut self, pairs: impl IntoIterator<Item = (&'q str, String)>) -> Self {
        {
            let mut query = self.url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, &value);
            }
        }
        if self.url.query() == Some("") {
            self.url.set_query(None);
        }
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
