//! Frontegg's OAuth endpoints as the hosted login calls them: the authorize URL the browser is
//! sent to, and the token endpoint (authorization code with PKCE, refresh token).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::login::{ClientAuthentication, LoginSettings};
use crate::secret::{ApiKey, TokenString};

/// The largest token answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The step-up a login asks for (RFC 9470 through OIDC's `acr_values` and `max_age`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct StepUpRequest {
    pub(crate) acr: Option<String>,
    pub(crate) max_age: Option<u64>,
}

/// What the authorize request carries besides the settings.
pub(crate) struct Authorize<'a> {
    pub(crate) state: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) challenge: &'a str,
    pub(crate) step_up: &'a StepUpRequest,
}

/// The URL of the hosted login for one login.
pub(crate) fn authorize_url(
    base: &str,
    settings: &LoginSettings,
    client_id: &str,
    request: &Authorize<'_>,
) -> Result<url::Url, url::ParseError> {
    let mut url = url::Url::parse(&format!("{base}{}/authorize", settings.oauth_paths.prefix()))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", settings.application_id.as_deref().unwrap_or(client_id))
            .append_pair("redirect_uri", &settings.redirect_uri())
            .append_pair("scope", &settings.scopes.join(" "))
            .append_pair("state", request.state)
            .append_pair("nonce", request.nonce)
            .append_pair("code_challenge", request.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(acr) = &request.step_up.acr {
            query.append_pair("acr_values", acr);
        }
        if let Some(age) = request.step_up.max_age {
            query.append_pair("max_age", &age.to_string());
        }
    }
    Ok(url)
}

/// The URL of Frontegg's logout, which sends the browser back to `after`.
pub(crate) fn logout_url(base: &str, settings: &LoginSettings, after: &str) -> Result<url::Url, url::ParseError> {
    let mut url = url::Url::parse(&format!("{base}{}/logout", settings.oauth_paths.prefix()))?;
    url.query_pairs_mut().append_pair("post_logout_redirect_uri", after);
    Ok(url)
}

/// A token answer (§2.2 of the fact sheet).
pub(crate) struct Tokens {
    pub(crate) access: TokenString,
    pub(crate) id: Option<TokenString>,
    pub(crate) refresh: Option<TokenString>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
}

/// Why the token endpoint gave no tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenFault {
    /// Frontegg refused the grant (any other 4xx): the code or the refresh token is no good,
    /// or the app's own credentials are (see [`TokenFault::blames_the_client`]). `error` is
    /// one of OAuth's codes, kept only when it is one, else `refused`.
    Refused { error: &'static str },
    /// Frontegg could not be reached, timed out, answered 5xx, 408 or 429: try again later.
    Unavailable,
    /// A 2xx whose body is not a token answer.
    Malformed,
}

impl TokenFault {
    /// Whether a refusal names the app's own client, credentials or request (RFC 6749 §5.2)
    /// rather than the grant: such a refusal is a configuration problem, not the user's, and
    /// must not end a session. Every other refusal, Frontegg's own error format and bodies
    /// without an OAuth code included, counts against the grant, so that a refresh token
    /// refused in a shape nobody confirmed (Frontegg's Android SDK reads a 401 as "session
    /// invalid") ends the session instead of answering 503 until its absolute lifetime.
    pub(crate) fn blames_the_client(&self) -> bool {
        matches!(
            self,
            TokenFault::Refused {
                error: "invalid_client" | "unauthorized_client" | "unsupported_grant_type" | "invalid_scope"
            }
        )
    }
}

/// The token endpoint, with the client credentials.
pub(crate) struct TokenEndpoint {
    http: reqwest::Client,
    url: String,
    client_id: String,
    api_key: ApiKey,
    how: ClientAuthentication,
    application_id: Option<String>,
    timeout: Duration,
}

impl TokenEndpoint {
    pub(crate) fn new(
        http: reqwest::Client,
        base: &str,
        settings: &LoginSettings,
        client_id: &str,
        api_key: ApiKey,
        timeout: Duration,
    ) -> TokenEndpoint {
        TokenEndpoint {
            http,
            url: format!("{base}{}/token", settings.oauth_paths.prefix()),
            client_id: client_id.to_owned(),
            api_key,
            how: settings.client_authentication,
            application_id: settings.application_id.clone(),
            timeout,
        }
    }

    /// `grant_type=authorization_code`, with the PKCE verifier.
    pub(crate) async fn exchange(&self, code: &str, redirect_uri: &str, verifier: &str) -> Result<Tokens, TokenFault> {
        self.grant(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// `grant_type=refresh_token`.
    pub(crate) async fn refresh(&self, refresh_token: &str) -> Result<Tokens, TokenFault> {
        self.grant(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    async fn grant(&self, fields: &[(&str, &str)]) -> Result<Tokens, TokenFault> {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        let mut request = self.http.post(&self.url).timeout(self.timeout).header("accept", "application/json");
        match self.how {
            ClientAuthentication::Basic => {
                // RFC 6749 §2.3.1: each half form-encoded before the colon.
                let id: String = url::form_urlencoded::byte_serialize(self.client_id.as_bytes()).collect();
                let secret: String = url::form_urlencoded::byte_serialize(self.api_key.expose().as_bytes()).collect();
                request =
                    request.header("authorization", format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))));
            }
            ClientAuthentication::Body => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", self.api_key.expose()));
            }
        }
        if let Some(app) = &self.application_id {
            request = request.header("frontegg-requested-application-id", app.as_str());
        }
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let started = std::time::Instant::now();
        let answer = request.header("content-type", "application/x-www-form-urlencoded").body(body).send().await;
        let response = match answer {
            Ok(response) => response,
            Err(e) => {
                let failure = crate::api::TransportError::from_reqwest(e);
                let outcome = if failure.kind() == crate::api::TransportKind::Timeout {
                    crate::telemetry::Attempt::Timeout
                } else {
                    crate::telemetry::Attempt::Error
                };
                crate::telemetry::upstream(crate::telemetry::Endpoint::OAuthToken, outcome, started.elapsed());
                tracing::warn!(error = %failure.kind(), "the token endpoint could not be reached");
                return Err(TokenFault::Unavailable);
            }
        };
        let status = response.status();
        let body = crate::api::transport::read_capped(response, MAX_ANSWER_BYTES).await.ok();
        crate::telemetry::upstream(
            crate::telemetry::Endpoint::OAuthToken,
            crate::telemetry::Attempt::of_status(status),
            started.elapsed(),
        );
        let Some(body) = body else { return Err(TokenFault::Unavailable) };
        if status.is_success() {
            let answer: Answer = serde_json::from_slice(&body).map_err(|_| TokenFault::Malformed)?;
            if answer.access_token.is_empty() {
                return Err(TokenFault::Malformed);
            }
            return Ok(Tokens {
                access: TokenString::new(answer.access_token),
                id: answer.id_token.filter(|t| !t.is_empty()).map(TokenString::new),
                refresh: answer.refresh_token.filter(|t| !t.is_empty()).map(TokenString::new),
            });
        }
        if status.is_server_error()
            || status == http::StatusCode::TOO_MANY_REQUESTS
            || status == http::StatusCode::REQUEST_TIMEOUT
        {
            return Err(TokenFault::Unavailable);
        }
        // A 4xx: the grant is refused. Only OAuth's own codes are kept (they may be logged).
        let error = serde_json::from_slice::<ErrorAnswer>(&body).map(|e| e.error).unwrap_or_default();
        let error = match error.as_str() {
            "invalid_grant" => "invalid_grant",
            "invalid_client" => "invalid_client",
            "invalid_request" => "invalid_request",
            "unauthorized_client" => "unauthorized_client",
            "unsupported_grant_type" => "unsupported_grant_type",
            "invalid_scope" => "invalid_scope",
            _ => "refused",
        };
        Err(TokenFault::Refused { error })
    }
}
