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
    /// Parameters of the login route passed on to Frontegg ([`FORWARDED`]).
    pub(crate) forwarded: &'a [(&'static str, String)],
}

/// The login route's parameters passed on to Frontegg's authorize request (§1.3 of the fact
/// sheet): an e-mail to prefill, a tenant's custom login (its alias, or its id), and OIDC's
/// `prompt`. Anything else on the login route stays there.
pub(crate) const FORWARDED: [&str; 4] = ["login_hint", "organization", "tenantId", "prompt"];

/// The values OIDC defines for `prompt`.
pub(crate) const PROMPTS: [&str; 4] = ["login", "none", "consent", "select_account"];

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
        for (name, value) in request.forwarded {
            query.append_pair(name, value);
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

/// OAuth's error codes (RFC 6749 §5.2) that name the grant or the request: with
/// [`CLIENT_ERRORS`], the only codes kept from an answer (they may be logged).
const GRANT_ERRORS: [&str; 2] = ["invalid_grant", "invalid_request"];

/// OAuth's error codes that name the app's own client rather than the grant.
const CLIENT_ERRORS: [&str; 4] = ["invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope"];

/// Why the token endpoint gave no tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenFault {
    /// Frontegg refused the grant: a 400, 401 or 403 whose body is OAuth's error format
    /// (`{"error": ..}`), Frontegg's own (`{"errors": [..]}`) or empty. The code or the refresh
    /// token is no good, or the app's own credentials are (see
    /// [`TokenFault::blames_the_client`]). `error` is one of OAuth's codes, kept only when it is
    /// one, else `refused`.
    Refused { status: u16, error: &'static str },
    /// Frontegg could not be reached or timed out; or something else than its token endpoint
    /// answered: a 5xx, 408, 429, a redirect, any other 4xx (a wrong path, a proxy), or a
    /// refusal in neither error format (a gateway's or a firewall's page, other JSON). Try
    /// again later.
    Unavailable,
    /// A 2xx whose body is not a token answer.
    Malformed,
}

impl TokenFault {
    /// Whether a refusal names the app's own client, credentials or request type (RFC 6749
    /// §5.2; a 401 with a `Basic` challenge is `invalid_client`) rather than the grant: a
    /// configuration problem, not the user's, which must not end a session. Every other refusal
    /// (`invalid_grant`, `invalid_request`, Frontegg's own error format, an empty body) counts
    /// against the grant, so that a refresh token refused in a shape nobody confirmed
    /// (Frontegg's Android SDK reads a 401 as "session invalid") ends the session instead of
    /// answering 503 until its absolute lifetime.
    pub(crate) fn blames_the_client(&self) -> bool {
        matches!(self, TokenFault::Refused { error, .. } if CLIENT_ERRORS.contains(error))
    }
}

/// What a non-2xx answer of the token endpoint means (see [`TokenFault`]); `basic_challenge`:
/// whether it carries `WWW-Authenticate: Basic`, RFC 6749's answer to a client whose
/// authentication failed.
fn refusal(status: http::StatusCode, basic_challenge: bool, body: &[u8]) -> TokenFault {
    use http::StatusCode;
    use serde_json::Value;
    if !matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return TokenFault::Unavailable;
    }
    let parsed = serde_json::from_slice::<Value>(body);
    let code = match &parsed {
        // OAuth's error format, or Frontegg's own (`{"errors": [...]}`).
        Ok(Value::Object(answer))
            if answer.get("error").is_some_and(Value::is_string)
                || answer.get("errors").is_some_and(Value::is_array) =>
        {
            answer.get("error").and_then(Value::as_str)
        }
        Err(_) if body.iter().all(u8::is_ascii_whitespace) => None,
        // Not the token endpoint's own answer: a gateway's or a firewall's.
        _ => return TokenFault::Unavailable,
    };
    let error = if status == StatusCode::UNAUTHORIZED && basic_challenge {
        "invalid_client"
    } else {
        GRANT_ERRORS.into_iter().chain(CLIENT_ERRORS).find(|known| code == Some(*known)).unwrap_or("refused")
    };
    TokenFault::Refused { status: status.as_u16(), error }
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
        let basic_challenge = response.headers().get_all(http::header::WWW_AUTHENTICATE).iter().any(|challenge| {
            let scheme = challenge.to_str().ok().and_then(|c| c.split_whitespace().next());
            scheme.is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic"))
        });
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
        let fault = refusal(status, basic_challenge, &body);
        if fault == TokenFault::Unavailable {
            tracing::warn!(status = status.as_u16(), "the token endpoint answered neither tokens nor a refusal");
        }
        Err(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_from_outages_and_from_the_app_s_own_faults() {
        let judged = |status: u16, basic_challenge: bool, body: &str| {
            let fault = refusal(http::StatusCode::from_u16(status).unwrap(), basic_challenge, body.as_bytes());
            match fault {
                TokenFault::Refused { .. } => Some(!fault.blames_the_client()),
                _ => None,
            }
        };
        let ends = |status: u16, body: &str| judged(status, false, body);
        // The grant refused: the session ends.
        assert_eq!(ends(400, r#"{"error":"invalid_grant"}"#), Some(true));
        assert_eq!(ends(400, r#"{"error":"invalid_request"}"#), Some(true));
        assert_eq!(ends(401, r#"{"errors":["Unauthorized"],"statusCode":401}"#), Some(true));
        assert_eq!(ends(403, r#"{"errors":[],"message":"Forbidden"}"#), Some(true));
        assert_eq!(ends(401, ""), Some(true));
        assert_eq!(ends(403, " \n"), Some(true));
        assert_eq!(ends(400, r#"{"error":"something_new"}"#), Some(true));
        // The app's own client refused: the session stays.
        for code in CLIENT_ERRORS {
            assert_eq!(ends(400, &format!(r#"{{"error":"{code}"}}"#)), Some(false), "{code}");
        }
        assert_eq!(ends(401, r#"{"error":"invalid_client"}"#), Some(false));
        assert_eq!(judged(401, true, ""), Some(false), "a Basic challenge: the client's authentication failed");
        assert_eq!(judged(401, true, r#"{"errors":["Unauthorized"]}"#), Some(false));
        assert_eq!(judged(400, true, r#"{"error":"invalid_grant"}"#), Some(true), "a challenge counts on a 401 only");
        // Not the token endpoint refusing: an outage, the session stays.
        for status in [301, 302, 307, 404, 405, 407, 408, 409, 421, 425, 429, 500, 502, 503] {
            assert_eq!(ends(status, r#"{"error":"invalid_grant"}"#), None, "{status}");
        }
        for body in ["<html>Forbidden</html>", "Unauthorized", r#""Unauthorized""#, "403", "[1]", "null", "{}"] {
            assert_eq!(ends(403, body), None, "{body}");
        }
        assert_eq!(ends(401, r#"{"message":"Forbidden"}"#), None, "a gateway's JSON");
        assert_eq!(ends(400, r#"{"error":42}"#), None);
    }

    #[test]
    fn only_oauth_s_codes_are_kept() {
        let fault = refusal(http::StatusCode::BAD_REQUEST, false, br#"{"error":"eyJhbGciOi.secret"}"#);
        assert_eq!(fault, TokenFault::Refused { status: 400, error: "refused" });
    }
}
