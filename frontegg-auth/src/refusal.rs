//! [`Refusal`]: every answer of this library that is not the application's own, with its
//! status, headers and JSON body. Adapters render it in their framework's response type and
//! answer nothing else of the kind, so every adapter answers byte for byte alike.
//!
//! # Answers
//!
//! The one table of answers; the adapters link here.
//!
//! | case | status | `WWW-Authenticate` | body `error` |
//! |---|---|---|---|
//! | no credential where one is needed ([`AuthError::MissingCredential`]), or an anonymous caller where an identity is needed | 401 | `Bearer` | `unauthorized` |
//! | a credential that does not verify: malformed, too large, disallowed algorithm, unknown `kid`, bad signature, expired, not yet valid, wrong issuer or audience, claims of the wrong type, wrong header for its type, revoked access token | 401 | `Bearer error="invalid_token", error_description="..."` | `invalid_token` |
//! | a user token that has not stepped up (recently enough) where a step-up is required ([`AuthError::StepUpRequired`], RFC 9470) | 401 | `Bearer error="insufficient_user_authentication", error_description="...", acr_values="<Frontegg's MFA acr>"`, and `max_age="<seconds>"` when an age is required | `insufficient_user_authentication` |
//! | a valid credential without the right: permission, role, tenant ([`AuthError::Forbidden`]); an API or access token where a step-up is required (it can never step up) | 403 | `Bearer error="insufficient_scope", error_description="...", scope="<missing permissions>"` (`scope` only when permissions are missing) | `insufficient_scope` |
//! | an entitlement refused ([`AuthError::Forbidden`] whose [`Denied::justification`](crate::Denied::justification) is set): the description names the justification, `Not entitled: missing-feature`, `missing-permission` or `bundle-expired`, never a plan or bundle id | 403 | `Bearer error="insufficient_scope", error_description="Not entitled: ..."` | `insufficient_scope` |
//! | Frontegg unreachable and nothing cached answers ([`AuthError::KeysUnavailable`], [`AuthError::ApiUnavailable`]), or an entitlement checked with no snapshot ever loaded ([`AuthError::EntitlementsUnavailable`]); also `Retry-After: 5` | 503 | `Bearer` | `temporarily_unavailable` |
//! | a malformed request the check cannot read ([`Refusal::bad_request`]) | 400 | none | `invalid_request` |
//! | a misconfigured server: no authentication ran before a check ([`Refusal::no_authentication`]), a check that cannot work where it is ([`Refusal::misconfigured`]) | 500 | none | `server_error` |
//! | a route that sends the browser elsewhere ([`Refusal::redirect`]): on a page behind [`Admission::redirect_to_login`](crate::Admission::redirect_to_login), a `GET` without a credential (to `{routes}/login?return_to=<path>`), or a browser session without the step-up a requirement needs (the same, with `&step_up=<max age>`) | 303 | none | no body; `Location` |
//! | an unsafe method (POST, PUT, PATCH, DELETE) authenticated by the session cookie alone, not from the app's own origin ([`AuthError::CrossSiteRequest`]) | 403 | none | `access_denied` |
//! | a session cookie whose store cannot answer, or whose expired token Frontegg cannot refresh now ([`AuthError::SessionUnavailable`]); also `Retry-After: 5`, never a logout | 503 | `Bearer` | `temporarily_unavailable` |
//!
//! A session cookie that names no session (unknown, expired, tampered) is no credential: the
//! answer is that of a request without one, with a `Set-Cookie` that clears it. The hosted
//! login's own routes answer with [`LoginAnswer`](crate::LoginAnswer)s: see
//! [`hosted_login`](crate::hosted_login).
//!
//! Every answer with a body carries `Content-Type: application/json` and
//! `Cache-Control: no-store`; the body is `{"error": ..., "error_description": ...}`. No answer
//! ever contains the token or anything read from it: descriptions name the rule that failed and
//! the keys that were required. Nothing a caller sends causes a 500.
//!
//! ```
//! use frontegg_auth::{AuthError, Refusal};
//!
//! let refusal = Refusal::from(AuthError::Expired);
//! let response: http::Response<Vec<u8>> = refusal.to_response();
//! assert_eq!(response.status(), 401);
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     r#"Bearer error="invalid_token", error_description="The token has expired""#
//! );
//! assert_eq!(
//!     response.body().as_slice(),
//!     br#"{"error":"invalid_token","error_description":"The token has expired"}"#
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};

use crate::error::{AuthError, log_misconfiguration};

/// The description of [`Refusal::no_authentication`], the same in every adapter.
const NO_AUTHENTICATION: &str = "No Frontegg authentication ran before this check: install the authentication \
     middleware (frontegg_axum::authenticate or frontegg_actix::authenticate, or the core's AuthenticationLayer) so \
     that it runs before the extractors, guards and requirements that need it";

/// An answer that refuses a request; see the [table of answers](self#answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    kind: Kind,
    /// What few refusals carry besides their kind, boxed so that every `Result` stays small.
    extras: Option<Box<Extras>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Extras {
    /// Extra challenge parameters, after the standard ones (RFC 9470's `acr_values`, `max_age`).
    params: Vec<(&'static str, String)>,
    /// A `Set-Cookie` to send with the answer: the hosted login's cookie cleared when it names no
    /// session.
    cookie: Option<HeaderValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Auth(AuthError),
    BadRequest(String),
    Misconfigured(Cow<'static, str>),
    Redirect(HeaderValue),
}

impl Refusal {
    /// The answer when no authentication ran before a check: a server misconfiguration (500),
    /// never blamed on the caller nor taken for an anonymous caller. Logged at error level the
    /// first time in the process, at debug level after.
    pub fn no_authentication() -> Refusal {
        static LOGGED: AtomicBool = AtomicBool::new(false);
        log_misconfiguration(&LOGGED, &format!("{NO_AUTHENTICATION}; answering 500"));
        Refusal::of(Kind::Misconfigured(Cow::Borrowed(NO_AUTHENTICATION)))
    }

    fn of(kind: Kind) -> Refusal {
        Refusal { kind, extras: None }
    }

    /// The 500 of a tenant check on a route that has no path parameter `param` (or where the
    /// framework does not know it yet). Logged at error level the first time, at debug after.
    pub fn missing_path_param(param: &str) -> Refusal {
        static LOGGED: AtomicBool = AtomicBool::new(false);
        let refusal = Refusal::misconfigured(format!(
            "The route has no path parameter `{param}` for the Frontegg tenant check: check the parameter's name, \
             and put the check where the route declares it (axum: route_layer on that route; actix-web: wrap the \
             resource, or the scope whose own path declares it, not the App)"
        ));
        log_misconfiguration(&LOGGED, &format!("{refusal}; answering 500"));
        refusal
    }

    /// Adds a parameter to the `WWW-Authenticate` challenge, after the standard ones: what RFC
    /// 9470 needs (`acr_values`, `max_age`) for a step-up. The value is quoted; a refusal without
    /// a challenge (a 400, a 500, a redirect) ignores it.
    ///
    /// ```
    /// use frontegg_auth::{AuthError, Refusal};
    /// let refusal = Refusal::from(AuthError::Expired).with_challenge_param("max_age", "300");
    /// assert!(refusal.www_authenticate().unwrap_or_default().ends_with(r#", max_age="300""#));
    /// ```
    pub fn with_challenge_param(mut self, name: &'static str, value: impl Into<String>) -> Refusal {
        self.extras.get_or_insert_with(Box::default).params.push((name, value.into()));
        self
    }

    /// Sends `Set-Cookie: value` with the answer (the session cookie cleared).
    pub(crate) fn with_set_cookie(mut self, value: Option<HeaderValue>) -> Refusal {
        self.extras.get_or_insert_with(Box::default).cookie = value;
        self
    }

    /// A server misconfiguration (500) that `description` names, for whoever reads the answer.
    pub fn misconfigured(description: impl Into<Cow<'static, str>>) -> Refusal {
        Refusal::of(Kind::Misconfigured(description.into()))
    }

    /// A request the check cannot read (400).
    pub fn bad_request(description: impl Into<String>) -> Refusal {
        Refusal::of(Kind::BadRequest(description.into()))
    }

    /// Sends the client to `location` (303 See Other), for routes that log browsers in rather
    /// than answer 401.
    pub fn redirect(location: HeaderValue) -> Refusal {
        Refusal::of(Kind::Redirect(location))
    }

    /// The caller's refusal, when that is what this is; `None` for the server's own answers.
    pub fn error(&self) -> Option<&AuthError> {
        match &self.kind {
            Kind::Auth(error) => Some(error),
            _ => None,
        }
    }

    /// The caller's refusal, by value; see [`error`](Self::error).
    pub fn into_error(self) -> Option<AuthError> {
        match self.kind {
            Kind::Auth(error) => Some(error),
            _ => None,
        }
    }

    /// Whether this is a server misconfiguration (a 500) rather than a verdict on the caller.
    pub fn is_misconfiguration(&self) -> bool {
        matches!(self.kind, Kind::Misconfigured(_))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match &self.kind {
            Kind::Auth(AuthError::Forbidden(_) | AuthError::CrossSiteRequest) => StatusCode::FORBIDDEN,
            Kind::Auth(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Auth(_) => StatusCode::UNAUTHORIZED,
            Kind::BadRequest(_) => StatusCode::BAD_REQUEST,
            Kind::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::Redirect(_) => StatusCode::SEE_OTHER,
        }
    }

    /// The `error` code of the body (and, for 401 and 403, of the challenge).
    pub fn code(&self) -> &'static str {
        match &self.kind {
            Kind::Auth(AuthError::MissingCredential) => "unauthorized",
            Kind::Auth(AuthError::Forbidden(_)) => "insufficient_scope",
            Kind::Auth(AuthError::CrossSiteRequest) => "access_denied",
            Kind::Auth(AuthError::StepUpRequired(_)) => "insufficient_user_authentication",
            Kind::Auth(e) if e.is_unavailable() => "temporarily_unavailable",
            Kind::Auth(_) => "invalid_token",
            Kind::BadRequest(_) => "invalid_request",
            Kind::Misconfigured(_) => "server_error",
            Kind::Redirect(_) => "redirect",
        }
    }

    /// The human-readable description. It never quotes the token.
    pub fn description(&self) -> Cow<'_, str> {
        match &self.kind {
            Kind::Auth(e) => Cow::Owned(e.to_string()),
            Kind::BadRequest(text) => Cow::Borrowed(text),
            Kind::Misconfigured(text) => Cow::Borrowed(text),
            Kind::Redirect(_) => Cow::Borrowed("See Other"),
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3), for the caller's refusals.
    pub fn www_authenticate(&self) -> Option<String> {
        let Kind::Auth(error) = &self.kind else {
            return None;
        };
        if *error == AuthError::CrossSiteRequest {
            // Not a matter of the credential: no challenge.
            return None;
        }
        let mut out = match error {
            // §3.1: a request without credentials gets no error code, nor does an outage.
            AuthError::MissingCredential => "Bearer".to_owned(),
            e if e.is_unavailable() => "Bearer".to_owned(),
            AuthError::Forbidden(denied) => {
                let scope = denied.scope();
                let extra: &[(&str, &str)] = if scope.is_empty() { &[] } else { &[("scope", &scope)] };
                challenge("insufficient_scope", &error.to_string(), extra)
            }
            AuthError::StepUpRequired(step_up) => {
                let age = step_up.max_age().map(|age| age.as_secs().to_string());
                let mut extra = vec![("acr_values", step_up.acr())];
                if let Some(age) = &age {
                    extra.push(("max_age", age));
                }
                challenge("insufficient_user_authentication", &error.to_string(), &extra)
            }
            _ => challenge("invalid_token", &error.to_string(), &[]),
        };
        let params = self.extras.as_ref().map_or(&[][..], |extras| &extras.params[..]);
        for (i, (name, value)) in params.iter().enumerate() {
            // The bare `Bearer` challenge takes its first parameter after a space, the others
            // after a comma.
            let separator = if i == 0 && !out.contains('=') { " " } else { ", " };
            out.push_str(&format!("{separator}{name}=\"{}\"", quoted(value)));
        }
        Some(out)
    }

    /// Every header of the answer, in order.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let cookie =
            self.extras.as_ref().and_then(|extras| extras.cookie.clone()).map(|value| (header::SET_COOKIE, value));
        if let Kind::Redirect(location) = &self.kind {
            let mut headers = vec![
                (header::LOCATION, location.clone()),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ];
            headers.extend(cookie);
            return headers;
        }
        let mut headers = vec![
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ];
        if let Some(value) = self.www_authenticate().and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.push((header::WWW_AUTHENTICATE, value));
        }
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            headers.push((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        headers.extend(cookie);
        headers
    }

    /// The body: `{"error": ..., "error_description": ...}`, or nothing for a redirect.
    pub fn body(&self) -> Bytes {
        if matches!(self.kind, Kind::Redirect(_)) {
            return Bytes::new();
        }
        let body = serde_json::json!({ "error": self.code(), "error_description": self.description() });
        Bytes::from(body.to_string())
    }

    /// The whole answer, for any body type that can be made from bytes.
    pub fn to_response<B: From<Bytes>>(&self) -> http::Response<B> {
        response(self.status(), self.headers(), self.body())
    }
}

/// The one assembly of an answer of this crate (refusals, the hosted login's routes): every
/// header appended, in order (`Set-Cookie` may repeat).
pub(crate) fn response<B: From<Bytes>>(
    status: StatusCode,
    headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
    body: Bytes,
) -> http::Response<B> {
    let mut response = http::Response::new(B::from(body));
    *response.status_mut() = status;
    response.headers_mut().extend(headers);
    response
}

impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        // A browser session on a page that sends to the login steps up through the login.
        if let AuthError::StepUpRequired(step_up) = &error
            && let Some(location) = step_up.login_location().and_then(|l| HeaderValue::from_str(&l).ok())
        {
            return Refusal::redirect(location);
        }
        Refusal::of(Kind::Auth(error))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description())
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|e| e as _)
    }
}

/// `Bearer error="..", error_description=".."` and the extra parameters, each quoted safely.
fn challenge(code: &str, description: &str, extra: &[(&str, &str)]) -> String {
    let mut out = format!("Bearer error=\"{code}\", error_description=\"{}\"", quoted(description));
    for (name, value) in extra {
        out.push_str(&format!(", {name}=\"{}\"", quoted(value)));
    }
    out
}

/// Makes text safe inside an RFC 7230 quoted-string: no quotes, backslashes or control characters.
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_cache::KeyError;

    #[test]
    fn statuses_and_challenges() {
        let missing = Refusal::from(AuthError::MissingCredential);
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(missing.www_authenticate().as_deref(), Some("Bearer"));
        let r: http::Response<Bytes> = Refusal::from(AuthError::KeysUnavailable(KeyError::NotLoaded)).to_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }

    #[test]
    fn the_servers_own_answers() {
        let r: http::Response<Bytes> = Refusal::no_authentication().to_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.headers().get(header::WWW_AUTHENTICATE).is_none());
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["error"], "server_error");
        let r: http::Response<Bytes> = Refusal::bad_request("x").to_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r: http::Response<Bytes> = Refusal::redirect(HeaderValue::from_static("/login")).to_response();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/login");
        assert!(r.body().is_empty());
    }

    #[test]
    fn quoting_removes_what_would_break_the_header() {
        assert_eq!(quoted("a\"b\\c\n"), "a'b'c?");
    }
}
