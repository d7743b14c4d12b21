//! The hosted login's knobs on [`Emulator`]: apart from the handlers, which need nothing of
//! the emulator but its [`LoginHost`] side.

use std::time::Duration;

use serde_json::Value;

use super::emulator::Emulator;
use super::hosted_login::{ClientAuthentication, LoginHost, LoginUser, RefreshTokens, TokenRequest};

/// The hosted login's knobs.
impl Emulator {
    /// Adds a user to the sign-in page, or replaces the one with the same id (in place, so the
    /// page keeps its order). A later refresh grant of that user's session carries the new
    /// record's tenant, roles and permissions, as Frontegg's would.
    pub fn add_login_user(&self, user: LoginUser) {
        let mut login = self.shared.login();
        match login.users.iter_mut().find(|u| u.id == user.id) {
            Some(existing) => *existing = user,
            None => login.users.push(user),
        }
    }

    /// The login users in the page's order: the defaults, then the added ones.
    pub fn login_users(&self) -> Vec<LoginUser> {
        self.shared.login().users.clone()
    }

    /// An Applications app id that `/oauth/authorize` accepts as `client_id` besides
    /// [`client_id`](Self::client_id) (none by default). The token endpoint still authenticates
    /// with the environment's client id and API key.
    pub fn set_application_id(&self, application_id: Option<&str>) {
        self.shared.login().application_id = application_id.map(str::to_owned);
    }

    /// `expires_in` of the token endpoint, and `exp - iat` of the tokens it issues from now on
    /// (default 600 s).
    pub fn set_login_token_lifetime(&self, lifetime: Duration) {
        self.shared.login().token_lifetime = lifetime;
    }

    /// When `Some`, the `id_token` of code grants carries this `nonce` instead of the one of
    /// the authorize request: a wrong nonce for the client to refuse. `None` (the default)
    /// restores the honest one.
    pub fn set_id_token_nonce(&self, nonce: Option<&str>) {
        self.shared.login().id_token_nonce = nonce.map(str::to_owned);
    }

    /// Whether token answers carry an `id_token` (default true).
    pub fn set_id_token_issued(&self, issued: bool) {
        self.shared.login().id_token_issued = issued;
    }

    /// When `Some(status)`, every `/oauth/token` call answers that status with a JSON error
    /// (`invalid_grant` for 400, `invalid_client` for 401, `temporarily_unavailable` for 503,
    /// `server_error` otherwise) and consumes no code and no refresh token. The call is still
    /// counted and its client authentication recorded.
    pub fn set_token_endpoint_failure(&self, status: Option<u16>) {
        self.shared.login().forced_token_answer =
            status.map(|status| (status, super::hosted_login::failure_body(status)));
    }

    /// When `Some((status, body))`, every `/oauth/token` call answers that status with that body
    /// (sent as JSON, whatever it holds) and consumes nothing: the shapes of a refusal Frontegg
    /// has not confirmed (a 401 in Frontegg's own error format, an empty body, HTML...). `None`
    /// restores normal answers; it undoes [`set_token_endpoint_failure`](Self::set_token_endpoint_failure) too.
    pub fn set_token_endpoint_answer(&self, answer: Option<(u16, &str)>) {
        self.shared.login().forced_token_answer = answer.map(|(status, body)| (status, body.to_owned()));
    }

    /// What the token endpoint does with refresh tokens from now on (default
    /// [`RefreshTokens::Rotated`]).
    pub fn set_refresh_tokens(&self, mode: RefreshTokens) {
        self.shared.login().refresh_tokens_mode = mode;
    }

    /// Sets claim `name` of every `id_token` from now to `value` (`Value::Null` removes it), after
    /// everything else: an ID token of another audience, issuer or subject, or one expired, for
    /// the client to refuse. [`clear_id_token_claims`](Self::clear_id_token_claims) undoes them.
    pub fn set_id_token_claim(&self, name: &str, value: Value) {
        self.shared.login().id_token_overrides.push((name.to_owned(), value));
    }

    /// Drops every override of [`set_id_token_claim`](Self::set_id_token_claim).
    pub fn clear_id_token_claims(&self) {
        self.shared.login().id_token_overrides.clear();
    }

    /// Every `/oauth/token` call answers only after `delay` (a slow Frontegg: refreshes of two
    /// instances overlap).
    pub fn set_token_endpoint_delay(&self, delay: Duration) {
        self.shared.login().token_delay = delay;
    }

    /// Refuses every refresh token issued so far (`invalid_grant`), as when Frontegg ends the
    /// sessions; later logins get working ones.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.login().revoke_refresh_tokens();
    }

    /// How the last `/oauth/token` call with a readable body authenticated its client, whatever
    /// its outcome; `None` before the first.
    pub fn last_client_authentication(&self) -> Option<ClientAuthentication> {
        self.last_token_request().map(|request| request.client_authentication)
    }

    /// What the last `/oauth/token` call with a readable body sent (path, grant, client
    /// authentication, `frontegg-requested-application-id`), whatever its outcome. A call whose
    /// client authentication cannot be read (Basic and body at once) is not recorded.
    pub fn last_token_request(&self) -> Option<TokenRequest> {
        self.shared.login().last_token_request.clone()
    }

    /// Every refresh token the token endpoint issued and every `code_verifier` it received (the
    /// first 10 000), so that a test can look for them where they must not be (logs, cookies,
    /// the store).
    pub fn token_endpoint_secrets(&self) -> Vec<String> {
        self.shared.login().secrets.clone()
    }

    /// Signs in as `user` (with MFA or not) the way the sign-in page at `authorize_url` would,
    /// without a browser: the URL the page would send the browser back to
    /// (`{redirect_uri}?code=..&state=..`). For tests of an app's login over plain HTTP; the
    /// page's `GET` is not counted ([`Endpoint::Authorize`](super::Endpoint::Authorize)).
    ///
    /// # Panics
    ///
    /// When the page would refuse the authorize request (unknown client, no redirect URI...) or
    /// the user is unknown: the test fails loudly.
    pub fn sign_in(&self, authorize_url: &str, user: &str, mfa: bool) -> String {
        let query = authorize_url.split_once('?').map_or("", |(_, query)| query);
        super::hosted_login::sign_in(self.shared.as_ref(), query, user, mfa).unwrap_or_else(|e| panic!("{e}"))
    }
}
