//! Metrics, recorded through the [`metrics`](https://docs.rs/metrics) facade. The library
//! installs no recorder and no exporter: the application chooses one (for instance
//! `metrics-exporter-prometheus`, as the example apps do); without one, recording is the
//! facade's no-op.
//!
//! # The metrics
//!
//! Names follow Prometheus conventions. Every label takes one of the fixed values listed: no
//! label ever holds a token, a tenant, a user, a permission key, an id or a URL, so the number of
//! series is bounded and no personal data leaves through them.
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `frontegg_verifications_total` | counter | `outcome`: `ok`, `missing`, `malformed`, `too_large`, `algorithm_not_allowed`, `unknown_kid`, `bad_signature`, `expired`, `not_yet_valid`, `wrong_issuer`, `wrong_audience`, `invalid_claims`, `wrong_token_type`, `revoked`, `keys_unavailable`, `api_unavailable` | every authentication: its outcome (`missing`: no credential where one is required, or an anonymous caller checked against a requirement) |
//! | `frontegg_verified_token_cache_total` | counter | `result`: `hit`, `miss` | remembered verifications (a hit skips the signature check) |
//! | `frontegg_key_fetches_total` | counter | `outcome`: `ok`, `error`; `reason`: `start`, `unknown_kid`, `refresh` | signing-key fetches |
//! | `frontegg_key_set_last_success_timestamp_seconds` | gauge | – | Unix time of the last successful key fetch (alert on its age) |
//! | `frontegg_lookups_total` | counter | `kind`: `access_token`, `user`; `level`: `local`, `shared`, `upstream`; `result`: `hit`, `miss`, `error` | rights lookups at each level: the instance's cache, the shared cache (feature `redis`), the Frontegg API (`hit`: an answer, `error`: none) |
//! | `frontegg_shared_cache_breaker_open` | gauge | – | 1 while Redis is out of use (its breaker open), 0 once it is back; absent until the first opening (the latest change of any authenticator of the process: one per process is the rule) |
//! | `frontegg_upstream_request_duration_seconds` | histogram | `endpoint`: `jwks`, `vendor_configuration`, `vendor_token`, `access_token_lookup`, `user_lookup`, `entitlements_snapshot`, `entitlements_offset`, `management`, `oauth_token`, `token_exchange`; `outcome`: `ok` (2xx), `client_error` (4xx but 429), `rate_limited` (429), `server_error` (5xx), `timeout`, `error` (no answer, or a redirect, which is never followed) | each HTTP attempt to Frontegg, retries included |
//! | `frontegg_api_calls_total` | counter | `client`: `permissions`, `categories`, `roles`, `users`, `tenants`, `access_tokens`, `api_tokens`, `token_exchange`, `sessions`, `invitations`, `groups`; `outcome`: `ok`, `not_found`, `client_error`, `rate_limited`, `server_error`, `unavailable`, `invalid_answer` | calls of the [management clients](crate::api), once per call whatever its retries (`not_found`: a 404, which a `get` answers as `None`; `unavailable`: Frontegg could not be reached; `invalid_answer`: an answer of the wrong shape or too large); ids refused before any call are not counted |
//! | `frontegg_vendor_token_renewals_total` | counter | `outcome`: `ok`, `error` | vendor-token requests |
//! | `frontegg_authorization_denials_total` | counter | `kind`: `permission`, `role`, `tenant`, `step_up`, `entitlement` | requests refused by a requirement (403, and the step-up 401) in the adapters' extractors and middleware ([`Caller::check`](crate::Caller::check)); not guards, whose failure only chooses another route, nor a handler's own `Identity::satisfies` |
//! | `frontegg_entitlements_snapshot_offset` | gauge | – | the offset of the entitlements snapshot held |
//! | `frontegg_entitlements_last_load_timestamp_seconds` | gauge | – | Unix time of the last successful snapshot load |
//! | `frontegg_entitlements_polls_total` | counter | `outcome`: `unchanged`, `changed`, `error` | polls of the snapshot's offset |
//! | `frontegg_logins_total` | counter | `outcome`: `started`, `ok`, `bad_return_to`, `bad_parameter`, `bad_state`, `denied`, `code_refused`, `token_invalid`, `unavailable` | hosted logins: each redirect to Frontegg (`started`), each login refused before it (`bad_return_to`: not a path of this app; `bad_parameter`: a `login_hint`, `organization`, `tenantId` or `prompt` that cannot be passed on), and each callback's outcome (`bad_state`: no, expired or another browser's login cookie, or a `state` that does not match; `denied`: Frontegg answered with an error; `code_refused`: the token endpoint refused the code; `token_invalid`: an access or ID token that does not verify, or the wrong `nonce`; `unavailable`: Frontegg or the session store could not be reached, or the token endpoint answered neither tokens nor a refusal) |
//! | `frontegg_session_refreshes_total` | counter | `outcome`: `ok`, `ended`, `unavailable` | refreshes of a session's access token (`ended`: Frontegg refused the refresh token, the login gave none, or the refreshed token is another user's or does not verify; the session ends. `unavailable`: Frontegg could not be reached, answered neither tokens nor a refusal (5xx, 408, 429, a redirect, another 4xx, a body in neither error format, an unusable 2xx), refused the app's own client, or the signing keys could not be loaded; the session stays and the request answers 503 once its token has expired) |
//! | `frontegg_sessions_total` | counter | `event`: `created`, `logout`, `expired`, `unknown`, `cross_site_refused`, `store_unavailable` | session events: created at a login, ended by a logout, found past its absolute lifetime, a cookie naming no session (cleared; a session idle for longer than the idle lifetime is gone from the store, so it counts here), an unsafe cookie-only request from another origin (403), the store failing to answer (503) |
//!
//! A histogram's buckets are the recorder's choice (with `metrics-exporter-prometheus`,
//! `PrometheusBuilder::set_buckets`); without buckets that exporter renders a summary.
//!
//! The counters of the hot path (`frontegg_verifications_total{outcome="ok"}`, the remembered
//! token's `hit` and `miss`, the access token's `local` `hit`) keep their handle per thread,
//! registered again when the recorder in use changes. So a recorder that deletes idle series
//! (`metrics-exporter-prometheus`'s `idle_timeout` on counters) would lose those four: do not
//! set an idle timeout on counters. A recorder installed locally, per thread, for a test is
//! recognised by its address: two such recorders living one after the other at the same
//! address would share the handles of the first.

use std::time::{Duration, SystemTime};

use metrics::{counter, gauge, histogram};

/// Increments a counter of the hot path through a handle kept per thread, registered again only
/// when the recorder in use changes (none yet, the global one once installed, a thread's local
/// one in tests). Registering looks the series up in the recorder's registry on every call,
/// which with a real recorder cost more than the rest of a remembered verification; the
/// handle's increment is one atomic addition.
macro_rules! hot_counter {
    ($name:literal $(, $label:literal => $value:literal)*) => {{
        thread_local! {
            static HANDLE: std::cell::RefCell<Option<(usize, metrics::Counter)>> =
                const { std::cell::RefCell::new(None) };
        }
        // The recorder's address tells which recorder is in use; it is compared, never read.
        let recorder = metrics::with_recorder(|r| r as *const dyn metrics::Recorder as *const () as usize);
        let kept = HANDLE.try_with(|handle| match &mut *handle.borrow_mut() {
            Some((at, counter)) if *at == recorder => counter.increment(1),
            slot => {
                let counter = counter!($name $(, $label => $value)*);
                counter.increment(1);
                *slot = Some((recorder, counter));
            }
        });
        // The thread is ending and its handles are gone: the facade directly.
        if kept.is_err() {
            counter!($name $(, $label => $value)*).increment(1);
        }
    }};
}

/// The outcome of an authentication, as its label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verification {
    Ok,
    Missing,
    Malformed,
    TooLarge,
    AlgorithmNotAllowed,
    UnknownKid,
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    InvalidClaims,
    WrongTokenType,
    Revoked,
    KeysUnavailable,
    ApiUnavailable,
}

impl Verification {
    fn as_str(self) -> &'static str {
        match self {
            Verification::Ok => "ok",
            Verification::Missing => "missing",
            Verification::Malformed => "malformed",
            Verification::TooLarge => "too_large",
            Verification::AlgorithmNotAllowed => "algorithm_not_allowed",
            Verification::UnknownKid => "unknown_kid",
            Verification::BadSignature => "bad_signature",
            Verification::Expired => "expired",
            Verification::NotYetValid => "not_yet_valid",
            Verification::WrongIssuer => "wrong_issuer",
            Verification::WrongAudience => "wrong_audience",
            Verification::InvalidClaims => "invalid_claims",
            Verification::WrongTokenType => "wrong_token_type",
            Verification::Revoked => "revoked",
            Verification::KeysUnavailable => "keys_unavailable",
            Verification::ApiUnavailable => "api_unavailable",
        }
    }
}

pub(crate) fn verification(outcome: Verification) {
    // The common outcome through a kept handle.
    if outcome == Verification::Ok {
        hot_counter!("frontegg_verifications_total", "outcome" => "ok");
    } else {
        counter!("frontegg_verifications_total", "outcome" => outcome.as_str()).increment(1);
    }
}

pub(crate) fn verified_token_cache(hit: bool) {
    if hit {
        hot_counter!("frontegg_verified_token_cache_total", "result" => "hit");
    } else {
        hot_counter!("frontegg_verified_token_cache_total", "result" => "miss");
    }
}

/// Why keys were fetched, as its label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFetch {
    Start,
    UnknownKid,
    Refresh,
}

pub(crate) fn key_fetch(reason: KeyFetch, ok: bool) {
    let reason = match reason {
        KeyFetch::Start => "start",
        KeyFetch::UnknownKid => "unknown_kid",
        KeyFetch::Refresh => "refresh",
    };
    let outcome = if ok { "ok" } else { "error" };
    counter!("frontegg_key_fetches_total", "outcome" => outcome, "reason" => reason).increment(1);
    if ok {
        gauge!("frontegg_key_set_last_success_timestamp_seconds").set(unix_now());
    }
}

/// What a rights lookup was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LookupKind {
    AccessToken,
    User,
}

/// Where a rights lookup was answered, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Local,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))] // only the shared cache reads Redis
    Shared,
    Upstream,
}

/// How a level answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LookupResult {
    Hit,
    Miss,
    Error,
}

pub(crate) fn lookup(kind: LookupKind, level: Level, result: LookupResult) {
    // The common case, a local hit, through a kept handle.
    match (kind, level, result) {
        (LookupKind::AccessToken, Level::Local, LookupResult::Hit) => {
            hot_counter!("frontegg_lookups_total", "kind" => "access_token", "level" => "local", "result" => "hit");
        }
        _ => {
            let kind = match kind {
                LookupKind::AccessToken => "access_token",
                LookupKind::User => "user",
            };
            let level = match level {
                Level::Local => "local",
                Level::Shared => "shared",
                Level::Upstream => "upstream",
            };
            let result = match result {
                LookupResult::Hit => "hit",
                LookupResult::Miss => "miss",
                LookupResult::Error => "error",
            };
            counter!("frontegg_lookups_total", "kind" => kind, "level" => level, "result" => result).increment(1);
        }
    }
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))] // only the shared cache has a breaker
pub(crate) fn breaker_open(open: bool) {
    gauge!("frontegg_shared_cache_breaker_open").set(if open { 1.0 } else { 0.0 });
}

/// Which Frontegg endpoint an HTTP attempt went to: a fixed name, never a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Jwks,
    VendorConfiguration,
    VendorToken,
    AccessTokenLookup,
    UserLookup,
    EntitlementsSnapshot,
    EntitlementsOffset,
    Management,
    OAuthToken,
    TokenExchange,
}

/// How an HTTP attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    Ok,
    ClientError,
    RateLimited,
    ServerError,
    Timeout,
    Error,
}

impl Attempt {
    pub(crate) fn of_status(status: http::StatusCode) -> Attempt {
        if status == http::StatusCode::TOO_MANY_REQUESTS {
            Attempt::RateLimited
        } else if status.is_server_error() {
            Attempt::ServerError
        } else if status.is_client_error() {
            Attempt::ClientError
        } else if status.is_success() {
            Attempt::Ok
        } else {
            // A redirect (never followed) or an informational answer: not what was asked.
            Attempt::Error
        }
    }
}

pub(crate) fn upstream(endpoint: Endpoint, outcome: Attempt, took: Duration) {
    let endpoint = match endpoint {
        Endpoint::Jwks => "jwks",
        Endpoint::VendorConfiguration => "vendor_configuration",
        Endpoint::VendorToken => "vendor_token",
        Endpoint::AccessTokenLookup => "access_token_lookup",
        Endpoint::UserLookup => "user_lookup",
        Endpoint::EntitlementsSnapshot => "entitlements_snapshot",
        Endpoint::EntitlementsOffset => "entitlements_offset",
        Endpoint::Management => "management",
        Endpoint::OAuthToken => "oauth_token",
        Endpoint::TokenExchange => "token_exchange",
    };
    let outcome = match outcome {
        Attempt::Ok => "ok",
        Attempt::ClientError => "client_error",
        Attempt::RateLimited => "rate_limited",
        Attempt::ServerError => "server_error",
        Attempt::Timeout => "timeout",
        Attempt::Error => "error",
    };
    histogram!("frontegg_upstream_request_duration_seconds", "endpoint" => endpoint, "outcome" => outcome)
        .record(took.as_secs_f64());
}

/// Which management client made a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiClient {
    Permissions,
    Categories,
    Roles,
    Users,
    Tenants,
    AccessTokens,
    ApiTokens,
    TokenExchange,
    Sessions,
    Invitations,
    Groups,
}

/// How a management call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallOutcome {
    Ok,
    NotFound,
    ClientError,
    RateLimited,
    ServerError,
    Unavailable,
    InvalidAnswer,
}

pub(crate) fn api_call(client: ApiClient, outcome: CallOutcome) {
    let client = match client {
        ApiClient::Permissions => "permissions",
        ApiClient::Categories => "categories",
        ApiClient::Roles => "roles",
        ApiClient::Users => "users",
        ApiClient::Tenants => "tenants",
        ApiClient::AccessTokens => "access_tokens",
        ApiClient::ApiTokens => "api_tokens",
        ApiClient::TokenExchange => "token_exchange",
        ApiClient::Sessions => "sessions",
        ApiClient::Invitations => "invitations",
        ApiClient::Groups => "groups",
    };
    let outcome = match outcome {
        CallOutcome::Ok => "ok",
        CallOutcome::NotFound => "not_found",
        CallOutcome::ClientError => "client_error",
        CallOutcome::RateLimited => "rate_limited",
        CallOutcome::ServerError => "server_error",
        CallOutcome::Unavailable => "unavailable",
        CallOutcome::InvalidAnswer => "invalid_answer",
    };
    counter!("frontegg_api_calls_total", "client" => client, "outcome" => outcome).increment(1);
}

pub(crate) fn vendor_token_renewal(ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    counter!("frontegg_vendor_token_renewals_total", "outcome" => outcome).increment(1);
}

/// Which kind of rule refused a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denial {
    Permission,
    Role,
    Tenant,
    StepUp,
    Entitlement,
}

pub(crate) fn denial(kind: Denial) {
    let kind = match kind {
        Denial::Permission => "permission",
        Denial::Role => "role",
        Denial::Tenant => "tenant",
        Denial::StepUp => "step_up",
        Denial::Entitlement => "entitlement",
    };
    counter!("frontegg_authorization_denials_total", "kind" => kind).increment(1);
}

/// How a poll of the entitlements offset ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Poll {
    Unchanged,
    Changed,
    Error,
}

pub(crate) fn entitlements_poll(outcome: Poll) {
    let outcome = match outcome {
        Poll::Unchanged => "unchanged",
        Poll::Changed => "changed",
        Poll::Error => "error",
    };
    counter!("frontegg_entitlements_polls_total", "outcome" => outcome).increment(1);
}

/// A snapshot was loaded: its offset, and now as the time of the last successful load.
pub(crate) fn entitlements_loaded(offset: f64) {
    gauge!("frontegg_entitlements_snapshot_offset").set(offset);
    gauge!("frontegg_entitlements_last_load_timestamp_seconds").set(unix_now());
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// How a hosted login's step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Login {
    Started,
    Ok,
    BadReturnTo,
    BadParameter,
    BadState,
    Denied,
    CodeRefused,
    TokenInvalid,
    Unavailable,
}

pub(crate) fn login(outcome: Login) {
    let outcome = match outcome {
        Login::Started => "started",
        Login::Ok => "ok",
        Login::BadReturnTo => "bad_return_to",
        Login::BadParameter => "bad_parameter",
        Login::BadState => "bad_state",
        Login::Denied => "denied",
        Login::CodeRefused => "code_refused",
        Login::TokenInvalid => "token_invalid",
        Login::Unavailable => "unavailable",
    };
    counter!("frontegg_logins_total", "outcome" => outcome).increment(1);
}

/// How a session refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    Ok,
    Ended,
    Unavailable,
}

pub(crate) fn session_refresh(outcome: Refresh) {
    let outcome = match outcome {
        Refresh::Ok => "ok",
        Refresh::Ended => "ended",
        Refresh::Unavailable => "unavailable",
    };
    counter!("frontegg_session_refreshes_total", "outcome" => outcome).increment(1);
}

/// What happened to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionEvent {
    Created,
    Logout,
    Expired,
    Unknown,
    CrossSiteRefused,
    StoreUnavailable,
}

pub(crate) fn session(event: SessionEvent) {
    let event = match event {
        SessionEvent::Created => "created",
        SessionEvent::Logout => "logout",
        SessionEvent::Expired => "expired",
        SessionEvent::Unknown => "unknown",
        SessionEvent::CrossSiteRefused => "cross_site_refused",
        SessionEvent::StoreUnavailable => "store_unavailable",
    };
    counter!("frontegg_sessions_total", "event" => event).increment(1);
}

#[cfg(test)]
mod tests {
    use super::Attempt;
    use http::StatusCode;

    #[test]
    fn an_attempt_is_named_by_its_status() {
        for (status, attempt) in [
            (StatusCode::OK, Attempt::Ok),
            (StatusCode::NO_CONTENT, Attempt::Ok),
            (StatusCode::FOUND, Attempt::Error),
            (StatusCode::NOT_MODIFIED, Attempt::Error),
            (StatusCode::NOT_FOUND, Attempt::ClientError),
            (StatusCode::TOO_MANY_REQUESTS, Attempt::RateLimited),
            (StatusCode::BAD_GATEWAY, Attempt::ServerError),
        ] {
            assert_eq!(Attempt::of_status(status), attempt, "{status}");
        }
    }
}
