//! An API token's client id and secret exchanged for a JWT (the fact sheet's §4.5), on the
//! environment's own domain: what a Rust service sends to another Frontegg-protected service.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use serde::Deserialize;

use super::error::ApiError;
use super::gateway::call_outcome;
use super::transport::{Transport, TransportSettings};
use super::vendor::{lifetime, post_credentials};
use crate::config::{Config, ConfigError};
use crate::refresh::RefreshCell;
use crate::secret::{ClientSecret, TokenString};
use crate::telemetry::{self, ApiClient, Endpoint};

/// Which exchange call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExchangeVersion {
    /// `POST /identity/resources/auth/v1/api-token`: not in Frontegg's published API, but used
    /// in production; camelCase answers.
    V1,
    /// `POST /identity/resources/auth/v2/api-token`, the documented one (the default).
    #[default]
    V2,
}

/// The exchange's answer: v2 writes it in snake_case, v1 in camelCase.
#[derive(Deserialize)]
pub(crate) struct ExchangeAnswer {
    #[serde(alias = "accessToken")]
    pub(crate) access_token: String,
    #[serde(default, alias = "expiresIn")]
    pub(crate) expires_in: Option<f64>,
}

#[derive(Clone)]
struct Exchanged {
    token: TokenString,
    renew_at: Instant,
    expires_at: Instant,
}

/// After a failed exchange, callers get that failure (or the JWT held, while it lasts) for this
/// long before another exchange is tried: an outage does not turn every call into an exchange,
/// each of which would also add a refresh token on Frontegg's side.
const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// Exchanges an API token's client id and secret for a JWT, and keeps it: the JWT is reused
/// until shortly before it expires (a tenth of its lifetime, at most 30 s, before), and callers
/// that need a new one at the same moment share one exchange. A new JWT comes from a new
/// exchange with the client id and secret, never from the refresh token: Frontegg rotates
/// those and keeps at most 100 per API token. Cheap to clone; clones share the JWT.
///
/// ```no_run
/// use frontegg_auth::Config;
/// use frontegg_auth::api::{ClientSecret, ExchangeVersion, TokenExchange};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::from_env()?; // FRONTEGG_BASE_URL: the environment's domain
/// let secret = ClientSecret::new(std::env::var("REPORTS_API_SECRET")?);
/// let exchange = TokenExchange::new(&config, "client-id-of-the-api-token", secret)?.version(ExchangeVersion::V2);
/// let jwt = exchange.token().await?;
/// let answer = reqwest::Client::new()
///     .get("https://reports.internal/reports")
///     .bearer_auth(jwt.expose())
///     .send()
///     .await?;
/// # let _ = answer;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenExchange {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    client_id: String,
    secret: ClientSecret,
    version: ExchangeVersion,
    cell: RefreshCell<Exchanged, ApiError>,
}

impl std::fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchange")
            .field("client_id", &self.inner.client_id)
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

impl TokenExchange {
    /// An exchange of these credentials at the configuration's environment domain (its base
    /// URL, `FRONTEGG_BASE_URL`), with its timeouts and retries.
    pub fn new(
        config: &Config,
        client_id: impl Into<String>,
        secret: ClientSecret,
    ) -> Result<TokenExchange, ConfigError> {
        let base = config.base_url.clone().ok_or(ConfigError::ExchangeNeedsBaseUrl)?;
        let transport =
            Transport::new(TransportSettings { base, timeout: config.http_timeout, retries: config.api_retries })
                .map_err(|e| ConfigError::Http(Arc::new(e)))?;
        Ok(TokenExchange {
            inner: Arc::new(Inner {
                transport,
                client_id: client_id.into(),
                secret,
                version: ExchangeVersion::default(),
                cell: RefreshCell::new(None),
            }),
        })
    }

    /// The exchange call to use (before the first [`token`](Self::token): a JWT obtained
    /// already is dropped).
    pub fn version(self, version: ExchangeVersion) -> TokenExchange {
        let inner = &self.inner;
        TokenExchange {
            inner: Arc::new(Inner {
                transport: inner.transport.clone(),
                client_id: inner.client_id.clone(),
                secret: inner.secret.clone(),
                version,
                cell: RefreshCell::new(None),
            }),
        }
    }

    /// The JWT: the one held while it has time left, else a new one (one exchange for all the
    /// callers waiting). When renewing fails, the JWT held is still given until it expires; a
    /// failure is given only when there is none. After a failure, no exchange is tried for 1 s.
    /// [`ApiError::ExchangeRefused`] when Frontegg refuses the credentials.
    pub async fn token(&self) -> Result<TokenString, ApiError> {
        let (held, seen) = self.inner.cell.get();
        if let Some(held) = &held
            && Instant::now() < held.renew_at
        {
            return Ok(held.token.clone());
        }
        let this = self.clone();
        let decide = seen.unchanged_outside_backoff(FAILURE_BACKOFF);
        match self.inner.cell.refresh(decide, move || async move { this.exchange().await }).await {
            Ok(exchanged) => Ok(exchanged.token),
            Err(e) => match held {
                Some(held) if Instant::now() < held.expires_at => Ok(held.token),
                _ => Err(e),
            },
        }
    }

    #[tracing::instrument(name = "frontegg.token_exchange", skip_all)]
    async fn exchange(&self) -> Result<Exchanged, ApiError> {
        let outcome = self.request().await;
        telemetry::api_call(ApiClient::TokenExchange, call_outcome(&outcome));
        outcome
    }

    async fn request(&self) -> Result<Exchanged, ApiError> {
        let inner = &self.inner;
        let path = match inner.version {
            ExchangeVersion::V1 => "/identity/resources/auth/v1/api-token",
            ExchangeVersion::V2 => "/identity/resources/auth/v2/api-token",
        };
        // A 403 is kept as it is: Frontegg's "Api tokens are disabled" says something else.
        let refused = [StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED];
        let sent = Instant::now();
        let parsed: ExchangeAnswer = post_credentials(
            &inner.transport,
            Endpoint::TokenExchange,
            path,
            (&inner.client_id, inner.secret.expose()),
            &refused,
            ApiError::ExchangeRefused,
        )
        .await?;
        // A missing or odd lifetime: assume a short one.
        let lifetime = lifetime(parsed.expires_in, Duration::from_secs(60));
        let margin = (lifetime / 10).min(Duration::from_secs(30));
        Ok(Exchanged {
            token: TokenString::new(parsed.access_token),
            renew_at: sent + lifetime - margin,
            expires_at: sent + lifetime,
        })
    }
}
